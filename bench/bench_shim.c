/* The cost of the cbench shim itself: empty timing loops in every loop form, to compare
 * with the same loops written against Google Benchmark's C++ API in bench_shim_native.cc.
 * The body is an empty volatile asm: it cannot be deleted or merged, so the loop really
 * runs its iterations, yet it touches no memory and no register. The difference
 * shim/cbench/X - shim/native/Y is the per-iteration overhead of the shim. */
#include "cbench.h"

#define EMPTY_BODY() __asm__ volatile("")

/* The recommended form: inline test of a counter kept in the state. */
static void bm_empty_keep_running(struct cbench_state *st)
{
	while (cbench_keep_running(st))
		EMPTY_BODY();
}
CBENCH_NAMED(bm_empty_keep_running, "shim/cbench/keep_running") {}

/* With a memory clobber in the body the counter in st must be reloaded each iteration. */
static void bm_empty_keep_running_clobber(struct cbench_state *st)
{
	while (cbench_keep_running(st))
		cbench_clobber_memory();
}
CBENCH_NAMED(bm_empty_keep_running_clobber, "shim/cbench/keep_running+clobber") {}

static void bm_empty_loop_macro(struct cbench_state *st)
{
	CBENCH_LOOP(st) { EMPTY_BODY(); }
}
CBENCH_NAMED(bm_empty_loop_macro, "shim/cbench/CBENCH_LOOP") {}

static void bm_empty_loop_macro_clobber(struct cbench_state *st)
{
	CBENCH_LOOP(st) { cbench_clobber_memory(); }
}
CBENCH_NAMED(bm_empty_loop_macro_clobber, "shim/cbench/CBENCH_LOOP+clobber") {}

/* The rejected design: one out-of-line call into the C++ side per iteration. */
static void bm_empty_call_per_iter(struct cbench_state *st)
{
	while (cbench_keep_running_batch(st, 1))
		EMPTY_BODY();
}
CBENCH_NAMED(bm_empty_call_per_iter, "shim/cbench/call_per_iteration") {}

/* Batches of 64 iterations per call. */
static void bm_empty_batch64(struct cbench_state *st)
{
	while (cbench_keep_running_batch(st, 64))
		for (int i = 0; i < 64; i++)
			EMPTY_BODY();
}
CBENCH_NAMED(bm_empty_batch64, "shim/cbench/batch64") {}
