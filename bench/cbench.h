/* cbench: a small C API over Google Benchmark (libbenchmark 1.7), so that the project's
 * microbenchmarks are written in C. The runner, the statistics, the reporters and every
 * --benchmark_* flag are Google Benchmark's own; this header only lets C code register a
 * benchmark, drive the timing loop and report counters.
 *
 * A benchmark is a C function taking a state handle. Code before the loop is setup, code
 * after it teardown; only the loop is timed:
 *
 *	static void bm_intern(struct cbench_state *st)
 *	{
 *		struct strtab t;
 *		strtab_init(&t);                       // not timed
 *		while (cbench_keep_running(st))        // timed
 *			cbench_do_not_optimize_u64(strtab_intern(&t, "x", 1));
 *		cbench_set_items_processed(st, cbench_iterations(st));
 *		strtab_free(&t);                       // not timed
 *	}
 *	CBENCH(bm_intern)
 *	{
 *		cbench_range(b, 8, 1 << 16);           // configuration, run at registration
 *	}
 *
 * CBENCH(fn) at file scope registers fn under the name "fn" from a constructor, so a
 * bench/NAME.c file registers itself by being linked into bin/mmbench; the braces after it
 * are the body of a configuration function whose parameter is `struct cbench_bench *b`
 * (leave them empty for the defaults). CBENCH_NAMED(fn, "name") registers under another
 * name (use '/' to group: "page_alloc/order0_pair"). The same fn may be registered several
 * times under different names with CBENCH_NAMED_AS(tag, fn, "name") (tag: any identifier
 * unique in the file).
 *
 * Timing semantics are exactly Google Benchmark's: the runner calls the function several
 * times with a growing iteration budget until the loop took --benchmark_min_time (0.5 s by
 * default), and reports time per iteration; --benchmark_repetitions=N repeats that N times
 * and adds mean/median/stddev/cv aggregates.
 *
 * Rules (the same as Google Benchmark's State):
 * - The function must run the loop until it returns false, exactly once, and use one loop
 *   form per function: either cbench_keep_running() or cbench_keep_running_batch(), or the
 *   CBENCH_LOOP() macro. No `break` out of the loop.
 * - To give up (e.g. out of host memory): cbench_skip_with_error(st, "why"); then either
 *   `return` at once or let cbench_keep_running() end the loop (it returns false next).
 * - Counters, labels and cbench_iterations() are meant for after the loop.
 */
#ifndef MM_CBENCH_H
#define MM_CBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The state of one run of a benchmark function. Fields are public only so that the loop
 * test can be inlined; use the functions below, except for `data` and `udata`. */
struct cbench_state {
	/* Iterations granted by Google Benchmark and not yet consumed by
	 * cbench_keep_running(): the fast path is one compare and one decrement, as in
	 * Google Benchmark's own range-for loop. */
	int64_t left;
	void *gb;	   /* benchmark::State * */
	const void *udata; /* the pointer given with cbench_set_udata() at registration */
	void *data;	   /* free for the benchmark: setup stores a fixture, fn reads it */
	bool finished;	   /* the loop has ended (the timer is stopped) */
};

typedef void (*cbench_fn)(struct cbench_state *st);

/* ---- the timing loop ---------------------------------------------------------------- */

/* Slow path of cbench_keep_running(): starts the timer on the first call and takes the
 * whole iteration budget; on the last call stops the timer and returns false. */
bool cbench_keep_running_slow(struct cbench_state *st);

/* while (cbench_keep_running(st)) { body } runs body cbench_iterations(st) times, timed. */
static inline __attribute__((always_inline)) bool cbench_keep_running(struct cbench_state *st)
{
	if (__builtin_expect(st->left > 0, 1)) {
		st->left--;
		return true;
	}
	return cbench_keep_running_slow(st);
}

/* while (cbench_keep_running_batch(st, n)) { n iterations' worth of work }: for bodies
 * that naturally process n items at a time. May overshoot the budget by up to n - 1
 * iterations; the overshoot is counted (Google Benchmark's KeepRunningBatch). */
bool cbench_keep_running_batch(struct cbench_state *st, int64_t n);

/* Start the loop and return the whole iteration budget (0 if the benchmark was skipped),
 * then cbench_loop_end() stops the timer. CBENCH_LOOP is built on these; they are public
 * for loops whose counter must live in a register even across opaque calls. */
int64_t cbench_loop_begin(struct cbench_state *st);
bool cbench_loop_end(struct cbench_state *st); /* always returns false */

/* CBENCH_LOOP(st) { body }: same as while (cbench_keep_running(st)) but the counter is a
 * local variable (cannot be clobbered by cbench_clobber_memory() or an opaque call, so it
 * stays in a register). After cbench_skip_with_error() inside it, `return` at once. */
#define CBENCH_LOOP(st)                                                                            \
	for (int64_t cbench_n_ = cbench_loop_begin(st); cbench_n_ > 0 || cbench_loop_end(st);      \
	     cbench_n_--)

/* Iterations the loop ran (valid after the loop; 0 before it starts). */
int64_t cbench_iterations(const struct cbench_state *st);
/* The iteration budget of this run (valid anywhere in the function). */
int64_t cbench_max_iterations(const struct cbench_state *st);

/* Exclude part of the loop body from timing. Each pair costs about a microsecond (two
 * clock reads of CPU time and wall time): use them around work that is much longer, or
 * batch the excluded work. */
void cbench_pause_timing(struct cbench_state *st);
void cbench_resume_timing(struct cbench_state *st);

/* Mark this run failed: it is reported with the message and no timings. */
void cbench_skip_with_error(struct cbench_state *st, const char *msg);
bool cbench_error_occurred(const struct cbench_state *st);

/* ---- arguments ---------------------------------------------------------------------- */

/* The i-th argument of this run (from cbench_arg / cbench_range / ... at registration). */
int64_t cbench_arg_value(const struct cbench_state *st, unsigned i);
static inline int64_t cbench_range0(const struct cbench_state *st)
{
	return cbench_arg_value(st, 0);
}

/* ---- counters ----------------------------------------------------------------------- */

/* items_per_second = items / time (the column "items_per_second"). */
void cbench_set_items_processed(struct cbench_state *st, int64_t items);
/* bytes_per_second = bytes / time, printed in binary units (B/s, KiB/s, MiB/s...). */
void cbench_set_bytes_processed(struct cbench_state *st, int64_t bytes);

/* Flags of a custom counter; they combine as Google Benchmark's Counter::Flags. */
enum cbench_counter_flags {
	CBENCH_COUNTER_DEFAULT = 0,		/* the value as given */
	CBENCH_COUNTER_RATE = 1 << 0,		/* value / seconds */
	CBENCH_COUNTER_AVG_ITERS = 1 << 1,	/* value / iterations */
	CBENCH_COUNTER_ITER_INVARIANT = 1 << 2, /* value * iterations */
	CBENCH_COUNTER_BASE_1024 = 1 << 3,	/* print with Ki/Mi/Gi prefixes */
};
/* A named column of the report (name up to 63 bytes). Setting it again replaces it.
 * With repetitions, the aggregates (median...) are computed per counter too. */
void cbench_counter(struct cbench_state *st, const char *name, double value, unsigned flags);
/* A free-text label printed at the end of the report line. */
void cbench_set_label(struct cbench_state *st, const char *label);

/* ---- keeping the compiler honest ------------------------------------------------------ */

/* Forces the value to be computed (into a register or memory) without otherwise using it;
 * the equivalents of benchmark::DoNotOptimize for the scalar types C benchmarks produce. */
static inline __attribute__((always_inline)) void cbench_do_not_optimize_u64(uint64_t v)
{
	__asm__ volatile("" : : "r,m"(v) : "memory");
}
static inline __attribute__((always_inline)) void cbench_do_not_optimize_ptr(const void *p)
{
	__asm__ volatile("" : : "r,m"(p) : "memory");
}
static inline __attribute__((always_inline)) void cbench_do_not_optimize_double(double v)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("" : : "x,m"(v) : "memory"); /* stays in an SSE register */
#else
	__asm__ volatile("" : : "r,m"(v) : "memory");
#endif
}
/* Any integer, floating or void-pointer expression (other pointers: use the _ptr form). */
#define cbench_do_not_optimize(x)                                                                  \
	_Generic((x), double: cbench_do_not_optimize_double,                               \
		 float: cbench_do_not_optimize_double,                                     \
		 void *: cbench_do_not_optimize_ptr,                                       \
		 const void *: cbench_do_not_optimize_ptr,                                 \
		 default: cbench_do_not_optimize_u64)(x)
/* The object the pointer designates counts as read and written: its stores cannot be
 * dropped and its loads not hoisted out of the loop. */
static inline __attribute__((always_inline)) void cbench_escape(void *p)
{
	__asm__ volatile("" : : "g"(p) : "memory");
}
/* All memory counts as read and written here (benchmark::ClobberMemory). */
static inline __attribute__((always_inline)) void cbench_clobber_memory(void)
{
	__asm__ volatile("" : : : "memory");
}

/* ---- registration ------------------------------------------------------------------- */

/* A registered benchmark family, configured by the functions below (each applies to this
 * family only and overrides the matching --benchmark_* flag where one exists). */
struct cbench_bench;

struct cbench_bench *cbench_register(const char *name, cbench_fn fn);

/* Arguments: each call adds runs; a run's arguments are read with cbench_arg_value(). */
void cbench_arg(struct cbench_bench *b, int64_t x);		   /* one run with x */
void cbench_args2(struct cbench_bench *b, int64_t x, int64_t y);   /* one run with (x, y) */
void cbench_range(struct cbench_bench *b, int64_t lo, int64_t hi); /* lo, lo*8, ..., hi */
void cbench_range_multiplier(struct cbench_bench *b, int mult);	   /* before cbench_range */
void cbench_dense_range(struct cbench_bench *b, int64_t lo, int64_t hi, int step);
/* Names the arguments in the benchmark's name: "bm/order:3" instead of "bm/3". */
void cbench_arg_name(struct cbench_bench *b, const char *name);

/* Setup and teardown run once per run of the function (that is: for every iteration-
 * budget probe and every repetition), outside the timing; setup typically stores a
 * fixture in st->data. If setup calls cbench_skip_with_error(), the function is not run
 * but teardown is (it must cope with a partial fixture). */
void cbench_setup(struct cbench_bench *b, cbench_fn setup);
void cbench_teardown(struct cbench_bench *b, cbench_fn teardown);
/* An opaque pointer handed to every run as st->udata (e.g. a configuration table row). */
void cbench_set_udata(struct cbench_bench *b, const void *udata);

/* Exact iteration count per run instead of a --benchmark_min_time budget. */
void cbench_iterations_fixed(struct cbench_bench *b, int64_t n);
void cbench_min_time(struct cbench_bench *b, double seconds);
void cbench_repetitions(struct cbench_bench *b, int n);
/* Report only the aggregates of repetitions (mean, median, stddev, cv). */
void cbench_report_aggregates_only(struct cbench_bench *b, bool only);
/* Wall time rather than this thread's CPU time drives the budget and the rates. */
void cbench_use_real_time(struct cbench_bench *b);

enum cbench_unit { CBENCH_NS, CBENCH_US, CBENCH_MS, CBENCH_S };
void cbench_unit(struct cbench_bench *b, enum cbench_unit unit);

/* Registration from file scope; see the top of this file. */
#define CBENCH_NAMED_AS(tag, fn, name)                                                             \
	static void fn(struct cbench_state *);                                                     \
	static void cbench_config_##tag(struct cbench_bench *b);                                   \
	__attribute__((constructor)) static void cbench_register_##tag(void)                       \
	{                                                                                          \
		cbench_config_##tag(cbench_register(name, fn));                                    \
	}                                                                                          \
	static void cbench_config_##tag(__attribute__((unused)) struct cbench_bench *b)
#define CBENCH_NAMED(fn, name) CBENCH_NAMED_AS(fn, fn, name)
#define CBENCH(fn) CBENCH_NAMED_AS(fn, fn, #fn)

/* The main of bin/mmbench (in cbench.cc): all Google Benchmark flags, plus --help. */
int cbench_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
