/* leak: memory that only grows — mmap'ed, written, never freed — until the machine runs
 * out. A process stops at per_proc_mb (its address space is 3 GiB on i386) and a new one
 * takes over; all of them stay alive until the end. */
#include <stdlib.h>

#include "gen_common.h"
#include "gfp.h"

static const struct gbinary leak_bin = {"/usr/local/bin/leaky", 64, 8, 8};

struct leak {
	struct gen_rng rng;
	struct gen_actor a;
	struct gproc **procs;
	uint32_t nprocs, cap;
	uint64_t left, chunk, per_proc, in_proc;
	double interval;
	int32_t adj;
	bool started;
	uint32_t id_bin, id_start, id_end;
};

static const struct gen_param_def leak_params[] = {
    {"total_mb", 4096, 1, 1e9, GP_INT | GP_SCALED, "memory leaked in total"},
    {"chunk_kb", 1024, 4, 1048576, GP_INT, "size of one leaked mmap"},
    {"rate_mb_s", 64, 0.001, 1e6, 0, "leak rate (trace time)"},
    {"per_proc_mb", 1536, 1, 2048, GP_INT, "leaked by one process before the next starts"},
    {"oom_adj", 500, -1000, 1000, GP_INT, "oom_score_adj of the leaking processes"},
    {NULL, 0, 0, 0, 0, NULL},
};

static struct gproc *new_leaker(struct gen *g, struct leak *st)
{
	if (st->nprocs == st->cap) {
		uint32_t cap = st->cap ? st->cap * 2 : 8;
		struct gproc **v = realloc(st->procs, cap * sizeof(*v));
		if (!v)
			return gen_fail(g, "out of memory"), NULL;
		st->procs = v;
		st->cap = cap;
	}
	struct gproc *p = gproc_fork(g, &st->rng, NULL, false);
	gproc_exec(g, p, &leak_bin, st->id_bin);
	gen_oom_adj(g, p, st->adj);
	st->procs[st->nprocs++] = p;
	st->in_proc = 0;
	return p;
}

static void leak_step(struct gen *g, struct gen_actor *a)
{
	struct leak *st = gen_container_of(a, struct leak, a);
	struct gen_rng *r = &st->rng;
	if (!st->started) {
		st->started = true;
		gen_mark(g, NULL, st->id_start);
	}
	if (!st->left) {
		for (uint32_t i = st->nprocs; i-- > 0;)
			gproc_exit(g, st->procs[i]);
		gen_mark(g, NULL, st->id_end);
		return;
	}
	struct gproc *p = st->nprocs ? st->procs[st->nprocs - 1] : NULL;
	if (!p || st->in_proc + st->chunk > st->per_proc)
		p = new_leaker(g, st);
	if (!p)
		return;
	gproc_maybe_migrate(g, r, p);
	uint64_t len = st->chunk < st->left ? st->chunk : st->left;
	uint64_t at =
	    gproc_mmap(g, p, len, MM_PROT_READ | MM_PROT_WRITE, MM_MAP_PRIVATE | MM_MAP_ANON, 0, 0);
	if (!at)
		return;
	gproc_touch(g, p, at, page_up(len), FAULT_WRITE);
	/* the bookkeeping for it leaks too, on the heap and in the kernel */
	uint64_t old = p->mm->brk;
	gproc_brk(g, p, old + PAGE_SZ);
	gproc_touch(g, p, old, PAGE_SZ, FAULT_WRITE);
	gen_kmalloc(g, p, 200, GFP_KERNEL_ACCOUNT, 0xc1800000ull);
	st->in_proc += page_up(len) + PAGE_SZ;
	st->left -= len;
	gen_wake(g, a, gen_rng_exp(r, st->interval * (double)len / (double)st->chunk));
}

static void *leak_start(struct gen *g, const double *pv, uint64_t seed, uint64_t t0)
{
	struct leak *st = calloc(1, sizeof(*st));
	if (!st)
		return gen_fail(g, "out of memory"), NULL;
	gen_rng_seed(&st->rng, seed);
	st->left = (uint64_t)pv[0] << 20;
	st->chunk = page_up((uint64_t)pv[1] << 10);
	st->interval = (double)st->chunk / (pv[2] * 1048576.0) * 1e9;
	st->per_proc = (uint64_t)pv[3] << 20;
	if (st->per_proc < st->chunk + PAGE_SZ)
		st->per_proc = st->chunk + PAGE_SZ;
	st->adj = (int32_t)pv[4];
	st->id_bin = gen_intern(g, leak_bin.path);
	st->id_start = gen_intern(g, "leak-start");
	st->id_end = gen_intern(g, "leak-end");
	st->a.step = leak_step;
	gen_wake(g, &st->a, t0);
	return st;
}

static void leak_stop(void *state)
{
	struct leak *st = state;
	free(st->procs);
	free(st);
}

const struct gen_workload gen_wl_leak = {
    .info = {.name = "leak",
	     .summary = "steady growth: anonymous memory mapped, written and never freed"},
    .params = leak_params,
    .start = leak_start,
    .stop = leak_stop,
};
