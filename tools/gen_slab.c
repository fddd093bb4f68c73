/* slab: kmalloc/kmem_cache churn with mixed lifetimes and sizes — the classic fragmenter.
 * Cycles of grow (mostly long-lived objects), churn (mostly short-lived, random frees of
 * long-lived ones) and shrink (most long-lived objects freed at random, leaving partially
 * used slabs behind). */
#include <stdlib.h>

#include "gen_common.h"
#include "gfp.h"

static const struct gbinary fss_bin = {"/usr/bin/fsstress", 180, 8, 16};

#define MAX_WORKERS 64
#define BATCH 64

struct kobj {
	uint64_t ptr;
	uint32_t size;
	uint16_t cache; /* enum gen_cache; KC_KMALLOC_8 for kmalloc (size tells the class) */
};

enum { PH_GROW, PH_CHURN, PH_SHRINK, PH_DONE };

struct slab;
struct sworker {
	struct gen_actor a;
	struct slab *st;
	struct gproc *p;
};

struct slab {
	struct gen_rng rng;
	struct sworker w[MAX_WORKERS];
	uint32_t nworkers, running;
	struct kobj *live, *ring;
	uint32_t nlive, max_live, nring, ring_cap, ring_head;
	uint64_t ops_per_cycle, ops_in_cycle;
	uint32_t cycles, cycle, shrink_target;
	double long_frac;
	int phase;
	uint32_t id_bin, id_ph[3], id_end;
};

static const struct gen_param_def slab_params[] = {
    {"ops", 500000, 0, 1e12, GP_INT | GP_SCALED, "allocations in total"},
    {"workers", 2, 1, MAX_WORKERS, GP_INT, "processes doing the allocations"},
    {"long_pct", 15, 0, 100, 0, "long-lived share of allocations while churning (x3 growing)"},
    {"max_live", 60000, 1, 1e8, GP_INT, "long-lived objects kept at most (then random frees)"},
    {"short_life", 512, 1, 1e7, GP_INT, "short-lived objects outstanding (FIFO) at most"},
    {"cycles", 4, 1, 1000, GP_INT, "grow/churn/shrink cycles"},
    {NULL, 0, 0, 0, 0, NULL},
};

static const enum gen_cache named[] = {KC_DENTRY,      KC_INODE_CACHE,	   KC_FILP,
				       KC_BUFFER_HEAD, KC_RADIX_TREE_NODE, KC_SOCK_INODE,
				       KC_SKBUFF_HEAD, KC_ANON_VMA,	   KC_EXT4_INODE};
#define NR_NAMED (sizeof(named) / sizeof(named[0]))

static void obj_free(struct gen *g, const struct gproc *p, const struct kobj *o)
{
	if (o->cache == KC_KMALLOC_8)
		gen_kfree(g, p, o->ptr, o->size, 0xc1600080ull);
	else
		gen_cache_free(g, p, (enum gen_cache)o->cache, o->ptr);
}

static struct kobj obj_alloc(struct gen *g, struct slab *st, const struct gproc *p)
{
	struct gen_rng *r = &st->rng;
	struct kobj o = {0};
	if (gen_rng_chance(r, 0.5)) {
		/* each cycle favours other sizes, so freed slabs do not simply refill */
		static const double bias[4] = {1.0, 2.5, 0.5, 1.6};
		double s = gen_kmalloc_size(r) * bias[st->cycle % 4];
		o.size = s < 8 ? 8 : s > 65536 ? 65536 : (uint32_t)s;
		o.cache = KC_KMALLOC_8;
		o.ptr =
		    gen_kmalloc(g, p, o.size, GFP_KERNEL, 0xc1600000ull + gen_rng_below(r, 8) * 32);
	} else {
		o.cache = (uint16_t)named[gen_rng_below(r, NR_NAMED)];
		o.ptr = gen_cache_alloc(g, p, (enum gen_cache)o.cache, GFP_KERNEL);
	}
	return o;
}

static void alloc_one(struct gen *g, struct slab *st, const struct gproc *p, double long_frac)
{
	struct gen_rng *r = &st->rng;
	struct kobj o = obj_alloc(g, st, p);
	if (gen_rng_chance(r, long_frac)) {
		if (st->nlive == st->max_live) {
			uint32_t v = (uint32_t)gen_rng_below(r, st->nlive);
			obj_free(g, p, &st->live[v]);
			st->live[v] = st->live[--st->nlive];
		}
		st->live[st->nlive++] = o;
		return;
	}
	if (st->nring == st->ring_cap) {
		obj_free(g, p, &st->ring[st->ring_head]);
		st->ring_head = (st->ring_head + 1) % st->ring_cap;
		st->nring--;
	}
	st->ring[(st->ring_head + st->nring) % st->ring_cap] = o;
	st->nring++;
}

static void set_phase(struct gen *g, struct slab *st, const struct gproc *p, int ph)
{
	st->phase = ph;
	if (ph == PH_SHRINK)
		st->shrink_target = st->nlive / 5;
	if (ph != PH_DONE)
		gen_mark(g, p, st->id_ph[ph]);
}

static void worker_step(struct gen *g, struct gen_actor *a)
{
	struct sworker *w = gen_container_of(a, struct sworker, a);
	struct slab *st = w->st;
	struct gen_rng *r = &st->rng;
	if (!w->p) {
		w->p = gproc_fork(g, r, NULL, false);
		gproc_exec(g, w->p, &fss_bin, st->id_bin);
		if (w == st->w)
			set_phase(g, st, w->p, PH_GROW);
		gen_wake(g, a, gen_rng_exp(r, 2 * MS));
		return;
	}
	gproc_maybe_migrate(g, r, w->p);
	switch (st->phase) {
	case PH_GROW:
	case PH_CHURN: {
		double lf = st->phase == PH_GROW ? st->long_frac * 3 : st->long_frac;
		for (int i = 0; i < BATCH && st->ops_in_cycle < st->ops_per_cycle; i++) {
			alloc_one(g, st, w->p, lf > 0.95 ? 0.95 : lf);
			st->ops_in_cycle++;
		}
		if (st->phase == PH_GROW && st->ops_in_cycle * 10 >= st->ops_per_cycle * 4)
			set_phase(g, st, w->p, PH_CHURN);
		else if (st->ops_in_cycle >= st->ops_per_cycle)
			set_phase(g, st, w->p, PH_SHRINK);
		break;
	}
	case PH_SHRINK:
		/* a shrinker: random victims, so survivors pin slabs all over */
		for (int i = 0; i < 4 * BATCH && st->nlive > st->shrink_target; i++) {
			uint32_t v = (uint32_t)gen_rng_below(r, st->nlive);
			obj_free(g, w->p, &st->live[v]);
			st->live[v] = st->live[--st->nlive];
		}
		if (st->nlive <= st->shrink_target) {
			st->ops_in_cycle = 0;
			if (++st->cycle == st->cycles)
				set_phase(g, st, w->p, PH_DONE);
			else
				set_phase(g, st, w->p, PH_GROW);
		}
		break;
	case PH_DONE:
		gproc_exit(g, w->p);
		if (--st->running == 0)
			gen_mark(g, NULL, st->id_end);
		return;
	}
	gen_wake(g, a, gen_rng_exp(r, 15 * MS));
}

static void *slab_start(struct gen *g, const double *pv, uint64_t seed, uint64_t t0)
{
	struct slab *st = calloc(1, sizeof(*st));
	if (!st)
		return gen_fail(g, "out of memory"), NULL;
	gen_rng_seed(&st->rng, seed);
	st->nworkers = st->running = (uint32_t)pv[1];
	st->long_frac = pv[2] / 100.0;
	st->max_live = (uint32_t)pv[3];
	st->ring_cap = (uint32_t)pv[4];
	st->cycles = (uint32_t)pv[5];
	st->ops_per_cycle = (uint64_t)pv[0] / st->cycles + 1;
	st->live = malloc(st->max_live * sizeof(*st->live));
	st->ring = malloc(st->ring_cap * sizeof(*st->ring));
	if (!st->live || !st->ring) {
		free(st->live);
		free(st->ring);
		free(st);
		return gen_fail(g, "out of memory"), NULL;
	}
	st->id_bin = gen_intern(g, fss_bin.path);
	st->id_ph[PH_GROW] = gen_intern(g, "slab-grow");
	st->id_ph[PH_CHURN] = gen_intern(g, "slab-churn");
	st->id_ph[PH_SHRINK] = gen_intern(g, "slab-shrink");
	st->id_end = gen_intern(g, "slab-end");
	for (uint32_t i = 0; i < st->nworkers; i++) {
		st->w[i].st = st;
		st->w[i].a.step = worker_step;
		gen_wake(g, &st->w[i].a, t0 + i * MS);
	}
	return st;
}

static void slab_stop(void *state)
{
	struct slab *st = state;
	free(st->live);
	free(st->ring);
	free(st);
}

const struct gen_workload gen_wl_slab = {
    .info = {.name = "slab",
	     .summary = "kmalloc/kmem_cache churn, short- and long-lived objects of mixed sizes"},
    .params = slab_params,
    .start = slab_start,
    .stop = slab_stop,
};
