/* build: make -jN running gcc -> cc1 -> as for every compilation unit. */
#include <stdlib.h>

#include "gen_common.h"
#include "gfp.h"

static const struct gbinary make_bin = {"/usr/bin/make", 236, 12, 8};
static const struct gbinary gcc_bin = {"/usr/bin/gcc", 1020, 24, 8};
static const struct gbinary cc1_bin = {"/usr/lib/gcc/i686-linux-gnu/12/cc1", 24576, 640, 960};
static const struct gbinary as_bin = {"/usr/bin/as", 1400, 40, 16};

enum { ID_MAKE, ID_GCC, ID_CC1, ID_AS, ID_START, ID_END, ID_NR };
enum { J_GCC, J_CC1, J_CC1_WORK, J_CC1_DONE, J_AS, J_AS_DONE, J_DONE };

#define MAX_BIG 16

struct build;
struct job {
	struct gen_actor a;
	struct build *st;
	struct gproc *gcc, *tool;
	int phase;
	uint32_t steps, heap_target;
	uint64_t big[MAX_BIG];
	uint32_t nbig;
	uint64_t vec, vec_len; /* a growing array, realloc'ed with mremap */
};

struct build {
	struct gen_rng rng;
	struct gen_actor ma; /* make */
	struct gproc *make;
	struct job *jobs;
	uint32_t njobs, idle, units_left, running;
	double heap_mb, unit_ms;
	struct gen_dcache dc;
	uint32_t id[ID_NR];
	int phase;
};

static const struct gen_param_def build_params[] = {
    {"units", 400, 0, 1e9, GP_INT | GP_SCALED, "compilation units"},
    {"jobs", 4, 1, 256, GP_INT, "make -j: compilations running at once"},
    {"heap_mb", 48, 1, 1024, 0, "mean peak heap of one cc1 (brk + anonymous mmaps)"},
    {"unit_ms", 450, 1, 1e6, 0, "mean duration of one cc1 run"},
    {"dcache", 20000, 1, 1e7, GP_INT, "dentry/inode pairs kept before the oldest is pruned"},
    {NULL, 0, 0, 0, 0, NULL},
};

/* Parsing and optimizing: the heap grows by brk and by big anonymous chunks (GC pages,
 * obstacks), all written; headers are opened; the symbol table vector is realloc'ed. */
static void cc1_work(struct gen *g, struct job *j)
{
	struct build *st = j->st;
	struct gen_rng *r = &st->rng;
	struct gproc *p = j->tool;
	uint64_t step_bytes = ((uint64_t)j->heap_target << 20) / 24;
	if (gen_rng_chance(r, 0.6) || j->nbig == MAX_BIG || p->mm->brk == p->mm->start_brk) {
		uint64_t grow = page_up(step_bytes / 2 + gen_rng_below(r, step_bytes));
		uint64_t old = p->mm->brk;
		gproc_brk(g, p, old + grow);
		gproc_touch(g, p, old, grow, FAULT_WRITE);
	} else {
		uint64_t len = page_up((1ull << 20) + gen_rng_below(r, 3ull << 20));
		uint64_t at = gproc_mmap(g, p, len, MM_PROT_READ | MM_PROT_WRITE,
					 MM_MAP_PRIVATE | MM_MAP_ANON, 0, 0);
		if (!at)
			return;
		gproc_touch(g, p, at, len, FAULT_WRITE);
		j->big[j->nbig++] = at;
	}
	if (!j->vec) {
		j->vec_len = 256 << 10;
		j->vec = gproc_mmap(g, p, j->vec_len, MM_PROT_READ | MM_PROT_WRITE,
				    MM_MAP_PRIVATE | MM_MAP_ANON, 0, 0);
		gproc_touch(g, p, j->vec, j->vec_len, FAULT_WRITE);
	} else if (gen_rng_chance(r, 0.15) && j->vec_len < (32u << 20)) {
		uint64_t old = j->vec_len;
		j->vec_len *= 2;
		j->vec = gproc_mremap(g, p, j->vec, j->vec_len);
		gproc_touch(g, p, j->vec + old, j->vec_len - old, FAULT_WRITE);
	}
	/* lookups wander over the heap and the big chunks */
	struct gmm *m = p->mm;
	for (int i = 0; i < 12; i++) {
		uint64_t a;
		if (j->nbig && gen_rng_chance(r, 0.4)) {
			const struct gvma *v = gproc_find_vma(p, j->big[gen_rng_below(r, j->nbig)]);
			a = v->start + gen_rng_below(r, v->end - v->start);
		} else {
			a = m->start_brk + gen_rng_below(r, m->brk - m->start_brk);
		}
		gproc_fault(g, p, a, gen_rng_chance(r, 0.5) ? FAULT_WRITE : FAULT_READ);
	}
	for (int i = 0; i < 4; i++)
		gen_file_io(g, r, &st->dc, p, 0.15);
	for (int i = 0; i < 3; i++) {
		uint32_t sz = gen_kmalloc_size(r);
		uint64_t k = gen_kmalloc(g, p, sz, GFP_KERNEL, 0xc1400000ull + (uint64_t)i * 16);
		gen_kfree(g, p, k, sz, 0xc1400100ull);
	}
}

static void job_step(struct gen *g, struct gen_actor *a)
{
	struct job *j = gen_container_of(a, struct job, a);
	struct build *st = j->st;
	struct gen_rng *r = &st->rng;
	switch (j->phase) {
	case J_GCC:
		j->gcc = gproc_fork(g, r, st->make, false);
		gproc_exec(g, j->gcc, &gcc_bin, st->id[ID_GCC]);
		gproc_touch(g, j->gcc, GEN_TEXT_START, 128 << 10, FAULT_EXEC);
		gproc_brk(g, j->gcc, j->gcc->mm->brk + (132 << 10));
		gproc_touch(g, j->gcc, j->gcc->mm->start_brk, 132 << 10, FAULT_WRITE);
		j->phase = J_CC1;
		gen_wake(g, a, 2 * MS);
		return;
	case J_CC1:
		j->tool = gproc_fork(g, r, j->gcc, false);
		gproc_exec(g, j->tool, &cc1_bin, st->id[ID_CC1]);
		gproc_touch(g, j->tool, GEN_TEXT_START, 4 << 20, FAULT_EXEC);
		j->heap_target = (uint32_t)(st->heap_mb * (0.25 + 1.75 * gen_rng_unit(r))) + 1;
		j->steps = 24;
		j->nbig = 0;
		j->vec = 0;
		j->phase = J_CC1_WORK;
		gen_wake(g, a, 3 * MS);
		return;
	case J_CC1_WORK:
		gproc_maybe_migrate(g, r, j->tool);
		cc1_work(g, j);
		if (--j->steps == 0)
			j->phase = J_CC1_DONE;
		gen_wake(g, a, gen_rng_exp(r, st->unit_ms * MS / 24));
		return;
	case J_CC1_DONE:
		/* GC frees some chunks before exit; the rest goes with the mm */
		for (uint32_t i = 0; i < j->nbig; i += 2)
			gproc_munmap(g, j->tool, j->big[i]);
		gproc_exit(g, j->tool);
		j->phase = J_AS;
		gen_wake(g, a, 1 * MS);
		return;
	case J_AS:
		j->tool = gproc_fork(g, r, j->gcc, false);
		gproc_exec(g, j->tool, &as_bin, st->id[ID_AS]);
		gproc_brk(g, j->tool, j->tool->mm->brk + (1536 << 10));
		gproc_touch(g, j->tool, j->tool->mm->start_brk, 1536 << 10, FAULT_WRITE);
		gen_file_io(g, r, &st->dc, j->tool, 1.0);
		j->phase = J_AS_DONE;
		gen_wake(g, a, gen_rng_exp(r, 20 * MS));
		return;
	case J_AS_DONE:
		gproc_exit(g, j->tool);
		gproc_exit(g, j->gcc);
		j->phase = J_DONE;
		st->idle++;
		gen_wake(g, &st->ma, 200 * US);
		return;
	}
}

static void make_step(struct gen *g, struct gen_actor *a)
{
	struct build *st = gen_container_of(a, struct build, ma);
	struct gen_rng *r = &st->rng;
	if (st->phase == 0) {
		gen_mark(g, NULL, st->id[ID_START]);
		st->make = gproc_fork(g, r, NULL, false);
		gproc_exec(g, st->make, &make_bin, st->id[ID_MAKE]);
		gproc_brk(g, st->make, st->make->mm->brk + (2 << 20));
		gproc_touch(g, st->make, st->make->mm->start_brk, 2 << 20, FAULT_WRITE);
		/* reading the makefiles and stat'ing every target */
		for (int i = 0; i < 64; i++)
			gen_file_io(g, r, &st->dc, st->make, 0.8);
		st->phase = 1;
	}
	for (uint32_t i = 0; i < st->njobs && st->units_left; i++) {
		struct job *j = &st->jobs[i];
		if (j->phase != J_DONE)
			continue;
		st->units_left--;
		st->idle--;
		j->phase = J_GCC;
		gen_wake(g, &j->a, (i + 1) * 100 * US);
	}
	if (st->idle == st->njobs && !st->units_left) {
		gproc_exit(g, st->make);
		gen_mark(g, NULL, st->id[ID_END]);
	}
}

static void *build_start(struct gen *g, const double *pv, uint64_t seed, uint64_t t0)
{
	struct build *st = calloc(1, sizeof(*st));
	if (!st)
		return gen_fail(g, "out of memory"), NULL;
	gen_rng_seed(&st->rng, seed);
	st->units_left = (uint32_t)pv[0];
	st->njobs = st->idle = (uint32_t)pv[1];
	st->heap_mb = pv[2];
	st->unit_ms = pv[3];
	st->jobs = calloc(st->njobs, sizeof(*st->jobs));
	if (!st->jobs || gen_dcache_init(&st->dc, (uint32_t)pv[4])) {
		free(st->jobs);
		free(st);
		return gen_fail(g, "out of memory"), NULL;
	}
	for (uint32_t i = 0; i < st->njobs; i++) {
		st->jobs[i].st = st;
		st->jobs[i].a.step = job_step;
		st->jobs[i].phase = J_DONE;
	}
	const char *names[ID_NR] = {make_bin.path, gcc_bin.path,  cc1_bin.path,
				    as_bin.path,   "build-start", "build-end"};
	for (int i = 0; i < ID_NR; i++)
		st->id[i] = gen_intern(g, names[i]);
	st->ma.step = make_step;
	gen_wake(g, &st->ma, t0);
	return st;
}

static void build_stop(void *state)
{
	struct build *st = state;
	gen_dcache_destroy(&st->dc);
	free(st->jobs);
	free(st);
}

const struct gen_workload gen_wl_build = {
    .info = {.name = "build",
	     .summary = "parallel compile: make -jN, gcc -> cc1 (big heaps) -> as, VFS slab churn"},
    .params = build_params,
    .start = build_start,
    .stop = build_stop,
};
