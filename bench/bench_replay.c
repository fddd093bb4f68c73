/* Whole-run replay throughput of the default benchmark workload: `mmreplay gen mix` (seed 1,
 * scale 1, ~2.9 M events) replayed on the default machine (i386, mem=1G) as
 * `mmreplay replay mix.mmt --mem=1G` does it. One iteration is a whole trace; items/s is
 * events/s.
 *
 *   replay/mix_events           decode (.mmt file) + trace hash + apply: the replay
 *                               command's loop, same batch size
 *   replay/mix_events/cpu0      the same with the process pinned to CPU 0 (the inflate
 *                               thread too): the official "one core" figure; 5 runs,
 *                               median reported
 *   replay/mix_events_apply     apply only, from an array decoded during setup
 *   replay/mix_events_decode    decode only (.mmt file → event batches)
 *
 * Counters of the whole-run benchmarks: ns_per_event (the timed region / events) and
 * pgfault_per_s (simulated page faults per second, for context: most of the engine's work
 * is in them).
 *
 * The trace is generated once per process into a temporary file (not timed). Booting the
 * simulated machine (sim_create) and tearing it down are not timed either. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cbench.h"
#include "gen.h"
#include "results.h"
#include "sim.h"
#include "trace_io.h"

#define BATCH 8192
#define REPLAY_BATCH 256 /* as tools/cmd_replay.c */

struct writer_sink {
	struct trace_writer *w;
	char err[256];
};

static uint32_t ws_intern(void *ctx, const char *s)
{
	struct writer_sink *ws = ctx;
	return trace_writer_intern(ws->w, s);
}

static int ws_put(void *ctx, const struct mm_event *ev)
{
	struct writer_sink *ws = ctx;
	return trace_writer_put(ws->w, ev, ws->err, sizeof(ws->err));
}

static char mix_path[64];

static void remove_mix(void)
{
	if (mix_path[0])
		unlink(mix_path);
}

/* The path of the generated trace, or NULL with err. */
static const char *mix_trace(char *err, size_t errlen)
{
	if (mix_path[0])
		return mix_path;
	snprintf(mix_path, sizeof(mix_path), "/tmp/mmbench-mix-%d.mmt", (int)getpid());
	struct trace_origin origin;
	memset(&origin, 0, sizeof(origin));
	trace_origin_set(&origin, "generator", "mix");
	struct writer_sink ws = {.err = ""};
	ws.w = trace_writer_open(mix_path, TRACE_MMT, &origin, err, errlen);
	if (!ws.w) {
		mix_path[0] = 0;
		return NULL;
	}
	struct gen_params p = {.seed = 1, .scale = 1, .kv = NULL, .nkv = 0};
	struct event_sink sink = {&ws, ws_intern, ws_put};
	if (gen_run("mix", &p, &sink, err, errlen)) {
		trace_writer_abort(ws.w);
		mix_path[0] = 0;
		return NULL;
	}
	if (trace_writer_close(ws.w, err, errlen)) {
		mix_path[0] = 0;
		return NULL;
	}
	atexit(remove_mix);
	return mix_path;
}

/* `mmreplay replay --mem=1G`: the default machine (i386) with mem=1G. */
static struct sim *boot_1g(const struct strtab *strings, char *err, size_t errlen)
{
	struct machine_config cfg;
	machine_config_default(&cfg, ARCH_I386);
	cfg.mem_limit = 1ull << 30;
	return sim_create(&cfg, strings, REPLAY_MODEL, err, errlen);
}

static double mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One whole replay as the replay command's loop does it: decode a batch, then hash and
 * apply event by event.
 * Returns the events replayed, -1 with err; *pgfault gets the simulated faults. */
static int64_t replay_once(struct cbench_state *st, const char *path, uint64_t *hash,
			   uint64_t *pgfault, double *ns, char *err, size_t errlen)
{
	static struct mm_event batch[REPLAY_BATCH];
	cbench_pause_timing(st);
	struct trace_reader *r = trace_reader_open(path, err, errlen);
	struct sim *s = r ? boot_1g(trace_reader_strings(r), err, errlen) : NULL;
	if (!s) {
		trace_reader_close(r);
		cbench_resume_timing(st);
		return -1;
	}
	cbench_resume_timing(st);
	double t0 = mono_ns();
	int64_t events = 0;
	uint64_t h = *hash;
	ssize_t n;
	while ((n = trace_reader_next(r, batch, REPLAY_BATCH, err, errlen)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			h = trace_hash_event(h, &batch[i]);
			sim_prefetch(s, batch, (size_t)i, (size_t)n);
			sim_apply(s, &batch[i]);
		}
		events += n;
	}
	*ns += mono_ns() - t0;
	cbench_pause_timing(st);
	*hash = h;
	*pgfault += s->vmstat[PGFAULT];
	sim_destroy(s);
	trace_reader_close(r);
	cbench_resume_timing(st);
	return n < 0 ? -1 : events;
}

/* Pins the calling thread, and the threads it starts (the reader's inflate thread), to
 * CPU 0; *old gets the mask to restore. False when it cannot (the run is then unpinned,
 * and the benchmark says so). */
static bool pin_cpu0(cpu_set_t *old)
{
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	return sched_getaffinity(0, sizeof(*old), old) == 0 &&
	       sched_setaffinity(0, sizeof(one), &one) == 0;
}

static void bm_mix_events(struct cbench_state *st)
{
	char err[512];
	const char *path = mix_trace(err, sizeof(err));
	if (!path) {
		cbench_skip_with_error(st, err);
		return;
	}
	cpu_set_t old;
	bool pinned = st->udata && pin_cpu0(&old);
	if (st->udata && !pinned)
		cbench_set_label(st, "not pinned: sched_setaffinity failed");
	uint64_t events = 0, h = 0, faults = 0;
	double ns = 0;
	while (cbench_keep_running(st)) {
		int64_t k = replay_once(st, path, &h, &faults, &ns, err, sizeof(err));
		if (k < 0)
			cbench_skip_with_error(st, err);
		else
			events += (uint64_t)k;
	}
	if (pinned)
		sched_setaffinity(0, sizeof(old), &old);
	cbench_do_not_optimize_u64(h);
	cbench_set_items_processed(st, (int64_t)events);
	if (events && ns > 0) {
		cbench_counter(st, "ns_per_event", ns / (double)events, CBENCH_COUNTER_DEFAULT);
		cbench_counter(st, "pgfault_per_s", (double)faults * 1e9 / ns,
			       CBENCH_COUNTER_DEFAULT);
	}
}

static void bm_mix_events_apply(struct cbench_state *st)
{
	char err[512];
	const char *path = mix_trace(err, sizeof(err));
	struct trace_reader *r = path ? trace_reader_open(path, err, sizeof(err)) : NULL;
	if (!r) {
		cbench_skip_with_error(st, err);
		return;
	}
	size_t cap = 1u << 22, len = 0;
	struct mm_event *evs = malloc(cap * sizeof(*evs));
	ssize_t n = 0;
	while (evs && (n = trace_reader_next(r, evs + len, cap - len < BATCH ? cap - len : BATCH,
					     err, sizeof(err))) > 0) {
		len += (size_t)n;
		if (cap - len < BATCH) {
			struct mm_event *bigger = realloc(evs, 2 * cap * sizeof(*evs));
			if (!bigger) {
				free(evs);
				evs = NULL;
				break;
			}
			evs = bigger;
			cap *= 2;
		}
	}
	if (!evs || n < 0) {
		cbench_skip_with_error(st, evs ? err : "out of host memory");
		free(evs);
		trace_reader_close(r);
		return;
	}
	uint64_t events = 0, h = 0;
	while (cbench_keep_running(st)) {
		cbench_pause_timing(st);
		struct sim *s = boot_1g(trace_reader_strings(r), err, sizeof(err));
		if (!s) {
			cbench_skip_with_error(st, err);
			continue;
		}
		cbench_resume_timing(st);
		for (size_t i = 0; i < len; i++) {
			sim_prefetch(s, evs, i, len);
			sim_apply(s, &evs[i]);
		}
		events += len;
		cbench_pause_timing(st);
		h ^= s->vmstat[PGFAULT];
		sim_destroy(s);
		cbench_resume_timing(st);
	}
	cbench_do_not_optimize_u64(h);
	cbench_set_items_processed(st, (int64_t)events);
	free(evs);
	trace_reader_close(r);
}

static void bm_mix_events_decode(struct cbench_state *st)
{
	static struct mm_event batch[BATCH];
	char err[512];
	const char *path = mix_trace(err, sizeof(err));
	if (!path) {
		cbench_skip_with_error(st, err);
		return;
	}
	uint64_t events = 0, h = 0;
	while (cbench_keep_running(st)) {
		struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
		if (!r) {
			cbench_skip_with_error(st, err);
			continue;
		}
		ssize_t n;
		while ((n = trace_reader_next(r, batch, BATCH, err, sizeof(err))) > 0) {
			events += (uint64_t)n;
			h ^= batch[n - 1].ts;
		}
		trace_reader_close(r);
		if (n < 0)
			cbench_skip_with_error(st, err);
	}
	cbench_do_not_optimize_u64(h);
	cbench_set_items_processed(st, (int64_t)events);
}

CBENCH_NAMED(bm_mix_events, "replay/mix_events")
{
	cbench_unit(b, CBENCH_MS);
	cbench_iterations_fixed(b, 1);
	cbench_use_real_time(b); /* events/s from wall time: the inflate thread counts too */
}

static const int pin_cpu0_flag = 1;

CBENCH_NAMED_AS(mix_cpu0, bm_mix_events, "replay/mix_events/cpu0")
{
	cbench_unit(b, CBENCH_MS);
	cbench_iterations_fixed(b, 1);
	cbench_use_real_time(b);
	cbench_set_udata(b, &pin_cpu0_flag);
	cbench_repetitions(b, 5);
	cbench_report_aggregates_only(b, true);
}

CBENCH_NAMED(bm_mix_events_apply, "replay/mix_events_apply")
{
	cbench_unit(b, CBENCH_MS);
	cbench_iterations_fixed(b, 1);
}

CBENCH_NAMED(bm_mix_events_decode, "replay/mix_events_decode") { cbench_unit(b, CBENCH_MS); }
