// Reference loops for bench_shim.c, written against Google Benchmark's own C++ API in the
// same binary and with the same empty body, so that the difference is the shim's cost.
#include <benchmark/benchmark.h>

namespace
{

#define EMPTY_BODY() __asm__ volatile("")

void bm_native_range_for(benchmark::State &state)
{
	for (auto _ : state)
		EMPTY_BODY();
}
BENCHMARK(bm_native_range_for)->Name("shim/native/range_for");

void bm_native_range_for_clobber(benchmark::State &state)
{
	for (auto _ : state)
		benchmark::ClobberMemory();
}
BENCHMARK(bm_native_range_for_clobber)->Name("shim/native/range_for+clobber");

void bm_native_keep_running(benchmark::State &state)
{
	while (state.KeepRunning())
		EMPTY_BODY();
}
BENCHMARK(bm_native_keep_running)->Name("shim/native/KeepRunning");

void bm_native_batch64(benchmark::State &state)
{
	while (state.KeepRunningBatch(64))
		for (int i = 0; i < 64; i++)
			EMPTY_BODY();
}
BENCHMARK(bm_native_batch64)->Name("shim/native/KeepRunningBatch64");

} // namespace
