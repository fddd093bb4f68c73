/* db: a long-lived database server with a big buffer pool and skewed random access. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gen_common.h"
#include "gfp.h"

static const struct gbinary db_bin = {"/usr/sbin/mariadbd", 20480, 1024, 2048};

#define MAX_THREADS 64
#define PRELOAD_CHUNK (4ull << 20)

struct db;
struct worker {
	struct gen_actor a;
	struct db *st;
	struct gproc *p;
	uint32_t idx;
	uint64_t left;
	bool started;
};

struct db {
	struct gen_rng rng;
	struct gen_actor ma;
	struct gproc *main;
	struct worker w[MAX_THREADS];
	uint32_t nthreads, running;
	uint64_t pool, pool_len, npages, preload_next, preload_end;
	double write_frac, zipf_s, think;
	uint32_t batch;
	int phase;
	uint32_t id_bin, id_start, id_end, id_comm[MAX_THREADS];
};

static const struct gen_param_def db_params[] = {
    {"size_mb", 768, 1, 2048, GP_INT, "buffer pool: one anonymous mapping"},
    {"faults", 500000, 0, 1e12, GP_INT | GP_SCALED, "random page accesses in total"},
    {"write_pct", 30, 0, 100, 0, "share of accesses that write"},
    {"zipf", 0.99, 0, 4, 0, "Zipf exponent of page popularity (0: uniform)"},
    {"threads", 4, 1, MAX_THREADS, GP_INT, "worker threads sharing the mm"},
    {"preload_pct", 25, 0, 100, 0, "share of the pool written sequentially at start"},
    {"batch", 64, 1, 1e6, GP_INT, "accesses per query (one network round trip)"},
    {"think_ms", 30, 0, 1e6, 0, "mean pause of a worker between queries"},
    {NULL, 0, 0, 0, 0, NULL},
};

/* Rank from a bounded continuous power law (inverse CDF), then scattered over the pool by
 * a multiplicative permutation so hot pages are not all adjacent. */
static uint64_t zipf_page(struct db *st)
{
	double u = gen_rng_unit(&st->rng), n = (double)st->npages, s = st->zipf_s, x;
	if (fabs(s - 1.0) < 1e-9)
		x = exp(u * log(n + 1.0));
	else
		x = pow((pow(n + 1.0, 1.0 - s) - 1.0) * u + 1.0, 1.0 / (1.0 - s));
	uint64_t rank = (uint64_t)x - 1;
	if (rank >= st->npages)
		rank = st->npages - 1;
	return (rank * 2654435761ull) % st->npages;
}

static void worker_step(struct gen *g, struct gen_actor *a)
{
	struct worker *w = gen_container_of(a, struct worker, a);
	struct db *st = w->st;
	struct gen_rng *r = &st->rng;
	if (!w->started) {
		w->started = true;
		w->p = gproc_fork(g, r, st->main, true);
		gen_comm(g, w->p, st->id_comm[w->idx]);
		/* pthread_create: an 8 MiB stack with a guard page at its low end */
		uint64_t stk = gproc_mmap(g, w->p, 8 << 20, MM_PROT_READ | MM_PROT_WRITE,
					  MM_MAP_PRIVATE | MM_MAP_ANON | MM_MAP_STACK, 0, 0);
		if (!stk)
			return;
		gproc_mprotect(g, w->p, stk, PAGE_SZ, 0);
		gproc_touch(g, w->p, stk + (8 << 20) - 4 * PAGE_SZ, 4 * PAGE_SZ, FAULT_WRITE);
		gen_wake(g, a, gen_rng_exp(r, st->think));
		return;
	}
	if (w->left == 0) {
		gproc_exit(g, w->p);
		if (--st->running == 0)
			gen_wake(g, &st->ma, 1 * MS);
		return;
	}
	gproc_maybe_migrate(g, r, w->p);
	/* the query arrives: socket buffer in, pages touched, reply out */
	uint64_t skb = gen_cache_alloc(g, w->p, KC_SKBUFF_HEAD, GFP_ATOMIC);
	uint32_t len = (uint32_t)gen_rng_range(r, 200, 1600);
	uint64_t data = gen_kmalloc(g, w->p, len, GFP_ATOMIC, 0xc1500000ull);
	uint64_t n = w->left < st->batch ? w->left : st->batch;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t addr = st->pool + zipf_page(st) * PAGE_SZ + gen_rng_below(r, PAGE_SZ);
		gproc_fault(g, w->p, addr,
			    gen_rng_chance(r, st->write_frac) ? FAULT_WRITE : FAULT_READ);
	}
	w->left -= n;
	gen_kfree(g, w->p, data, len, 0xc1500040ull);
	gen_cache_free(g, w->p, KC_SKBUFF_HEAD, skb);
	gen_wake(g, a, gen_rng_exp(r, st->think));
}

static void main_step(struct gen *g, struct gen_actor *a)
{
	struct db *st = gen_container_of(a, struct db, ma);
	struct gen_rng *r = &st->rng;
	switch (st->phase) {
	case 0:
		gen_mark(g, NULL, st->id_start);
		st->main = gproc_fork(g, r, NULL, false);
		gproc_exec(g, st->main, &db_bin, st->id_bin);
		gen_oom_adj(g, st->main, -500);
		gproc_touch(g, st->main, GEN_TEXT_START, 6 << 20, FAULT_EXEC);
		gproc_brk(g, st->main, st->main->mm->brk + (16 << 20));
		gproc_touch(g, st->main, st->main->mm->start_brk, 16 << 20, FAULT_WRITE);
		st->pool = gproc_mmap(g, st->main, st->pool_len, MM_PROT_READ | MM_PROT_WRITE,
				      MM_MAP_PRIVATE | MM_MAP_ANON, 0, 0);
		st->preload_next = st->pool;
		st->preload_end += st->pool;
		st->phase = 1;
		gen_wake(g, a, 10 * MS);
		return;
	case 1:
		for (int i = 0; i < 8 && st->preload_next < st->preload_end; i++) {
			uint64_t len = st->preload_end - st->preload_next;
			if (len > PRELOAD_CHUNK)
				len = PRELOAD_CHUNK;
			gproc_touch(g, st->main, st->preload_next, len, FAULT_WRITE);
			st->preload_next += len;
		}
		if (st->preload_next >= st->preload_end) {
			st->phase = 2;
			for (uint32_t i = 0; i < st->nthreads; i++)
				gen_wake(g, &st->w[i].a, (i + 1) * 300 * US);
			return;
		}
		gen_wake(g, a, 20 * MS);
		return;
	case 2:
		/* all workers are gone: shutdown */
		gproc_munmap(g, st->main, st->pool);
		gproc_exit(g, st->main);
		gen_mark(g, NULL, st->id_end);
		return;
	}
}

static void *db_start(struct gen *g, const double *pv, uint64_t seed, uint64_t t0)
{
	struct db *st = calloc(1, sizeof(*st));
	if (!st)
		return gen_fail(g, "out of memory"), NULL;
	gen_rng_seed(&st->rng, seed);
	st->pool_len = (uint64_t)pv[0] << 20;
	st->npages = st->pool_len / PAGE_SZ;
	uint64_t faults = (uint64_t)pv[1];
	st->write_frac = pv[2] / 100.0;
	st->zipf_s = pv[3];
	st->nthreads = st->running = (uint32_t)pv[4];
	st->preload_end = 0;
	st->batch = (uint32_t)pv[6];
	st->think = pv[7] * MS;
	st->id_bin = gen_intern(g, db_bin.path);
	st->id_start = gen_intern(g, "db-start");
	st->id_end = gen_intern(g, "db-end");
	for (uint32_t i = 0; i < st->nthreads; i++) {
		char name[32];
		snprintf(name, sizeof(name), "db-worker-%u", i);
		st->id_comm[i] = gen_intern(g, name);
		st->w[i].st = st;
		st->w[i].idx = i;
		st->w[i].a.step = worker_step;
		st->w[i].left = faults / st->nthreads + (i < faults % st->nthreads);
	}
	st->ma.step = main_step;
	/* preload_end is relative until the pool is placed */
	st->preload_end = (uint64_t)(pv[5] / 100.0 * (double)st->npages) * PAGE_SZ;
	gen_wake(g, &st->ma, t0);
	return st;
}

static void db_stop(void *state) { free(state); }

const struct gen_workload gen_wl_db = {
    .info = {.name = "db",
	     .summary =
		 "database server: big anonymous buffer pool, Zipf-skewed random faults, threads"},
    .params = db_params,
    .start = db_start,
    .stop = db_stop,
};
