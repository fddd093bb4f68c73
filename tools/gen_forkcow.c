/* forkcow: a server with a large written heap forks snapshot children (Redis BGSAVE style);
 * each child reads the heap and writes a fraction of it, the parent keeps writing too. */
#include <stdlib.h>

#include "gen_common.h"
#include "gfp.h"

static const struct gbinary srv_bin = {"/usr/bin/redis-server", 1536, 64, 128};

#define MAX_CONC 64
#define FAULTS_PER_STEP 256

struct forkcow;
struct child {
	struct gen_actor a;
	struct forkcow *st;
	struct gproc *p;
	uint64_t left;
	bool busy;
};

struct forkcow {
	struct gen_rng rng;
	struct gen_actor pa;
	struct gproc *parent;
	struct child c[MAX_CONC];
	uint32_t conc, running, children_left;
	uint64_t heap, heap_len, npages, touched, per_child;
	double parent_write_frac, gap;
	int phase;
	uint32_t id_bin, id_comm, id_start, id_end;
};

static const struct gen_param_def forkcow_params[] = {
    {"heap_mb", 256, 1, 2048, GP_INT, "parent's heap, written in full before the first fork"},
    {"children", 40, 0, 1e9, GP_INT | GP_SCALED, "children forked in total"},
    {"write_pct", 10, 0, 100, 0, "share of the heap's pages each child writes (random)"},
    {"concurrent", 2, 1, MAX_CONC, GP_INT, "children alive at once"},
    {"parent_write_pct", 1, 0, 100, 0, "heap pages the parent writes every 640 ms"},
    {"gap_ms", 1000, 0, 1e7, 0, "mean pause before a free slot forks the next child"},
    {NULL, 0, 0, 0, 0, NULL},
};

static void child_step(struct gen *g, struct gen_actor *a)
{
	struct child *c = gen_container_of(a, struct child, a);
	struct forkcow *st = c->st;
	struct gen_rng *r = &st->rng;
	if (!c->p) {
		c->p = gproc_fork(g, r, st->parent, false);
		gen_comm(g, c->p, st->id_comm);
		/* serializing reads everything once */
		gproc_touch(g, c->p, st->heap, st->heap_len, FAULT_READ);
		c->left = st->per_child;
		gen_wake(g, a, 2 * MS);
		return;
	}
	if (c->left == 0) {
		gproc_exit(g, c->p);
		c->p = NULL;
		c->busy = false;
		st->running--;
		gen_wake(g, &st->pa, 1 * MS);
		return;
	}
	uint64_t n = c->left < FAULTS_PER_STEP ? c->left : FAULTS_PER_STEP;
	for (uint64_t i = 0; i < n; i++)
		gproc_fault(g, c->p, st->heap + gen_rng_below(r, st->npages) * PAGE_SZ,
			    FAULT_WRITE);
	c->left -= n;
	gen_wake(g, a, gen_rng_exp(r, 30 * MS));
}

static void parent_step(struct gen *g, struct gen_actor *a)
{
	struct forkcow *st = gen_container_of(a, struct forkcow, pa);
	struct gen_rng *r = &st->rng;
	if (st->phase == 0) {
		gen_mark(g, NULL, st->id_start);
		st->parent = gproc_fork(g, r, NULL, false);
		gproc_exec(g, st->parent, &srv_bin, st->id_bin);
		st->heap = gproc_mmap(g, st->parent, st->heap_len, MM_PROT_READ | MM_PROT_WRITE,
				      MM_MAP_PRIVATE | MM_MAP_ANON, 0, 0);
		st->phase = 1;
	}
	if (st->phase == 1) {
		uint64_t chunk = 16ull << 20;
		if (chunk > st->heap_len - st->touched)
			chunk = st->heap_len - st->touched;
		gproc_touch(g, st->parent, st->heap + st->touched, chunk, FAULT_WRITE);
		st->touched += chunk;
		if (st->touched == st->heap_len)
			st->phase = 2;
		gen_wake(g, a, 5 * MS);
		return;
	}
	/* the parent serves writes; while children live these break COW sharing */
	uint64_t w = (uint64_t)(st->parent_write_frac * (double)st->npages / 64) + 1;
	for (uint64_t i = 0; i < w; i++)
		gproc_fault(g, st->parent, st->heap + gen_rng_below(r, st->npages) * PAGE_SZ,
			    FAULT_WRITE);
	for (uint32_t i = 0; i < st->conc && st->children_left; i++) {
		if (st->c[i].busy)
			continue;
		st->c[i].busy = true;
		st->children_left--;
		st->running++;
		gen_wake(g, &st->c[i].a, gen_rng_exp(r, st->gap));
	}
	if (!st->running) {
		gproc_munmap(g, st->parent, st->heap);
		gproc_exit(g, st->parent);
		gen_mark(g, NULL, st->id_end);
		return;
	}
	gen_wake(g, a, gen_rng_exp(r, 10 * MS));
}

static void *forkcow_start(struct gen *g, const double *pv, uint64_t seed, uint64_t t0)
{
	struct forkcow *st = calloc(1, sizeof(*st));
	if (!st)
		return gen_fail(g, "out of memory"), NULL;
	gen_rng_seed(&st->rng, seed);
	st->heap_len = (uint64_t)pv[0] << 20;
	st->npages = st->heap_len / PAGE_SZ;
	st->children_left = (uint32_t)pv[1];
	st->per_child = (uint64_t)(pv[2] / 100.0 * (double)st->npages);
	st->conc = (uint32_t)pv[3];
	st->parent_write_frac = pv[4] / 100.0;
	st->gap = pv[5] * MS;
	for (uint32_t i = 0; i < st->conc; i++) {
		st->c[i].st = st;
		st->c[i].a.step = child_step;
	}
	st->id_bin = gen_intern(g, srv_bin.path);
	st->id_comm = gen_intern(g, "redis-rdb-bgsave");
	st->id_start = gen_intern(g, "forkcow-start");
	st->id_end = gen_intern(g, "forkcow-end");
	st->pa.step = parent_step;
	gen_wake(g, &st->pa, t0);
	return st;
}

static void forkcow_stop(void *state) { free(state); }

const struct gen_workload gen_wl_forkcow = {
    .info = {.name = "forkcow",
	     .summary =
		 "server with a big written heap forking snapshot children that write part of it"},
    .params = forkcow_params,
    .start = forkcow_start,
    .stop = forkcow_stop,
};
