// cbench: the C API of cbench.h over Google Benchmark 1.7. Everything timing-related is
// delegated to benchmark::State; this file only translates calls.
#include "cbench.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

struct cbench_bench {
	std::string name;
	cbench_fn fn = nullptr, setup = nullptr, teardown = nullptr;
	const void *udata = nullptr;
	benchmark::internal::Benchmark *gb = nullptr;
};

namespace
{

// Owns the families for the life of the process (registration happens from C constructors,
// so this is a function-local static: constructed on first use, whatever the init order).
std::vector<std::unique_ptr<cbench_bench>> &families()
{
	static std::vector<std::unique_ptr<cbench_bench>> all;
	return all;
}

inline benchmark::State &gs(const cbench_state *st)
{
	return *static_cast<benchmark::State *>(st->gb);
}

void run_family(const cbench_bench *b, benchmark::State &state)
{
	cbench_state st;
	st.left = 0;
	st.gb = &state;
	st.udata = b->udata;
	st.data = nullptr;
	st.finished = false;
	if (b->setup)
		b->setup(&st);
	if (!state.error_occurred())
		b->fn(&st);
	if (b->teardown)
		b->teardown(&st);
}

// --cbench_display=median: the console shows one line per benchmark (the median of the
// repetitions, or the single run when there are none) while the file reporter still gets
// what --benchmark_report_aggregates_only says.
class MedianConsoleReporter : public benchmark::ConsoleReporter
{
      public:
	MedianConsoleReporter()
		: ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular)
	{
	}

	void ReportRuns(const std::vector<Run> &runs) override
	{
		std::vector<Run> keep;
		bool has_median = false;
		for (const Run &r : runs)
			has_median |= r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
		for (const Run &r : runs) {
			if (r.error_occurred || !has_median ||
			    (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median"))
				keep.push_back(r);
		}
		if (!keep.empty())
			ConsoleReporter::ReportRuns(keep);
	}
};

} // namespace

extern "C" {

bool cbench_keep_running_slow(cbench_state *st)
{
	benchmark::State &s = gs(st);
	// The first call takes the whole budget at once, so that every other iteration is the
	// inline decrement of st->left; the second finds the budget spent and stops the timer.
	if (!st->finished && s.KeepRunningBatch(s.max_iterations)) {
		st->left = s.max_iterations - 1;
		return true;
	}
	st->left = 0;
	st->finished = true;
	return false;
}

bool cbench_keep_running_batch(cbench_state *st, int64_t n)
{
	if (st->finished)
		return false;
	if (gs(st).KeepRunningBatch(n))
		return true;
	st->finished = true;
	return false;
}

int64_t cbench_loop_begin(cbench_state *st)
{
	benchmark::State &s = gs(st);
	if (s.KeepRunningBatch(s.max_iterations))
		return s.max_iterations;
	st->finished = true;
	return 0;
}

bool cbench_loop_end(cbench_state *st)
{
	if (!st->finished) {
		benchmark::State &s = gs(st);
		// The budget is spent: this call only stops the timer.
		bool more = s.KeepRunningBatch(s.max_iterations);
		(void)more;
		st->finished = true;
	}
	return false;
}

int64_t cbench_iterations(const cbench_state *st)
{
	return gs(st).iterations();
}

int64_t cbench_max_iterations(const cbench_state *st)
{
	return gs(st).max_iterations;
}

void cbench_pause_timing(cbench_state *st)
{
	gs(st).PauseTiming();
}

void cbench_resume_timing(cbench_state *st)
{
	gs(st).ResumeTiming();
}

void cbench_skip_with_error(cbench_state *st, const char *msg)
{
	gs(st).SkipWithError(msg);
	st->left = 0; // the inline loop test falls to the slow path, which ends the loop
}

bool cbench_error_occurred(const cbench_state *st)
{
	return gs(st).error_occurred();
}

int64_t cbench_arg_value(const cbench_state *st, unsigned i)
{
	return gs(st).range(i);
}

void cbench_set_items_processed(cbench_state *st, int64_t items)
{
	gs(st).SetItemsProcessed(items);
}

void cbench_set_bytes_processed(cbench_state *st, int64_t bytes)
{
	gs(st).SetBytesProcessed(bytes);
}

void cbench_counter(cbench_state *st, const char *name, double value, unsigned flags)
{
	using C = benchmark::Counter;
	int f = C::kDefaults;
	if (flags & CBENCH_COUNTER_RATE)
		f |= C::kIsRate;
	if (flags & CBENCH_COUNTER_AVG_ITERS)
		f |= C::kAvgIterations;
	if (flags & CBENCH_COUNTER_ITER_INVARIANT)
		f |= C::kIsIterationInvariant;
	C::OneK k = (flags & CBENCH_COUNTER_BASE_1024) ? C::kIs1024 : C::kIs1000;
	gs(st).counters[std::string(name, strnlen(name, 63))] =
		C(value, static_cast<C::Flags>(f), k);
}

void cbench_set_label(cbench_state *st, const char *label)
{
	gs(st).SetLabel(label);
}

cbench_bench *cbench_register(const char *name, cbench_fn fn)
{
	auto b = std::make_unique<cbench_bench>();
	b->name = name;
	b->fn = fn;
	const cbench_bench *self = b.get();
	b->gb = benchmark::RegisterBenchmark(
		name, [self](benchmark::State &state) { run_family(self, state); });
	families().push_back(std::move(b));
	return families().back().get();
}

void cbench_arg(cbench_bench *b, int64_t x)
{
	b->gb->Arg(x);
}

void cbench_args2(cbench_bench *b, int64_t x, int64_t y)
{
	b->gb->Args({x, y});
}

void cbench_range(cbench_bench *b, int64_t lo, int64_t hi)
{
	b->gb->Range(lo, hi);
}

void cbench_range_multiplier(cbench_bench *b, int mult)
{
	b->gb->RangeMultiplier(mult);
}

void cbench_dense_range(cbench_bench *b, int64_t lo, int64_t hi, int step)
{
	b->gb->DenseRange(lo, hi, step);
}

void cbench_arg_name(cbench_bench *b, const char *name)
{
	b->gb->ArgName(name);
}

void cbench_setup(cbench_bench *b, cbench_fn setup)
{
	b->setup = setup;
}

void cbench_teardown(cbench_bench *b, cbench_fn teardown)
{
	b->teardown = teardown;
}

void cbench_set_udata(cbench_bench *b, const void *udata)
{
	b->udata = udata;
}

void cbench_iterations_fixed(cbench_bench *b, int64_t n)
{
	b->gb->Iterations(n);
}

void cbench_min_time(cbench_bench *b, double seconds)
{
	b->gb->MinTime(seconds);
}

void cbench_repetitions(cbench_bench *b, int n)
{
	b->gb->Repetitions(n);
}

void cbench_report_aggregates_only(cbench_bench *b, bool only)
{
	b->gb->ReportAggregatesOnly(only);
}

void cbench_use_real_time(cbench_bench *b)
{
	b->gb->UseRealTime();
}

void cbench_unit(cbench_bench *b, enum cbench_unit unit)
{
	static const benchmark::TimeUnit units[] = {benchmark::kNanosecond,
						    benchmark::kMicrosecond,
						    benchmark::kMillisecond, benchmark::kSecond};
	b->gb->Unit(units[unit]);
}

static void print_help()
{
	std::printf("mmbench: mmreplay's microbenchmarks (Google Benchmark through bench/cbench.h)\n"
		    "\n"
		    "  --cbench_display=median   console: one line per benchmark, the median of the\n"
		    "                            repetitions (the --benchmark_out file is unchanged)\n"
		    "\n");
	benchmark::PrintDefaultHelp();
}

int cbench_main(int argc, char **argv)
{
	bool median_only = false;
	int n = 1;
	for (int i = 1; i < argc; i++) {
		if (std::strcmp(argv[i], "--cbench_display=median") == 0)
			median_only = true;
		else if (std::strcmp(argv[i], "--cbench_display=all") == 0)
			median_only = false;
		else
			argv[n++] = argv[i];
	}
	argc = n;
	argv[argc] = nullptr;
	benchmark::Initialize(&argc, argv, print_help);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 2;
	if (median_only) {
		MedianConsoleReporter display;
		benchmark::RunSpecifiedBenchmarks(&display);
	} else {
		benchmark::RunSpecifiedBenchmarks();
	}
	benchmark::Shutdown();
	return 0;
}

} // extern "C"

int main(int argc, char **argv)
{
	return cbench_main(argc, argv);
}
