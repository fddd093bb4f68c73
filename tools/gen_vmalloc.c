/* vmalloc: module loading and unloading plus large temporary vmalloc buffers. */
#include <math.h>
#include <stdlib.h>

#include "gen_common.h"
#include "gfp.h"

static const struct gbinary udevd_bin = {"/lib/systemd/systemd-udevd", 380, 16, 8};
static const struct gbinary modprobe_bin = {"/sbin/modprobe", 160, 8, 4};

struct module {
	uint64_t core, mod; /* vmalloc'ed core, kmalloc'ed struct module */
	uint64_t size;
	bool keep;
};

struct vm {
	struct gen_rng rng;
	struct gen_actor ua, ma; /* udevd, the current modprobe */
	struct gproc *udevd, *modprobe;
	struct module *mods; /* FIFO of loaded modules */
	uint32_t nmods, cap, head;
	uint64_t live_bytes, max_live, buf;
	uint32_t loads_left;
	double keep_frac, interval;
	int phase, mphase;
	uint64_t image, init;
	uint32_t id_udevd, id_modprobe, id_start, id_end;
};

static const struct gen_param_def vmalloc_params[] = {
    {"loads", 300, 0, 1e9, GP_INT | GP_SCALED, "module loads in total"},
    {"keep_pct", 30, 0, 100, 0, "modules never unloaded"},
    {"max_live_mb", 48, 1, 4096, GP_INT, "module core bytes kept loaded before unloading"},
    {"interval_ms", 200, 0, 1e7, 0, "mean time between module loads"},
    {NULL, 0, 0, 0, 0, NULL},
};

/* Log-uniform in [lo, hi]: module and buffer sizes span three decades. */
static uint64_t log_uniform(struct gen_rng *r, double lo, double hi)
{
	return (uint64_t)exp(log(lo) + gen_rng_unit(r) * (log(hi) - log(lo)));
}

static bool unload_oldest(struct gen *g, struct vm *st, bool only_unkept)
{
	for (uint32_t k = 0; k < st->nmods; k++) {
		struct module *m = &st->mods[(st->head + k) % st->cap];
		if (m->keep && only_unkept)
			continue;
		gen_vfree(g, st->udevd, m->core);
		gen_kfree(g, st->udevd, m->mod, 1024, 0xc1700080ull);
		st->live_bytes -= m->size;
		/* close the hole in the FIFO by moving the head entry into it */
		*m = st->mods[st->head];
		st->head = (st->head + 1) % st->cap;
		st->nmods--;
		return true;
	}
	return false;
}

/* load_module: the .ko image copied into a vmalloc buffer, core and init sections laid out,
 * init run and its section freed, the image freed. */
static void modprobe_step(struct gen *g, struct gen_actor *a)
{
	struct vm *st = gen_container_of(a, struct vm, ma);
	struct gen_rng *r = &st->rng;
	struct gproc *p = st->modprobe;
	if (st->mphase == 0) {
		gproc_exec(g, p, &modprobe_bin, st->id_modprobe);
		gproc_brk(g, p, p->mm->brk + (264 << 10));
		gproc_touch(g, p, p->mm->start_brk, 264 << 10, FAULT_WRITE);
		uint64_t size = log_uniform(r, 16 << 10, 6 << 20);
		st->image = gen_vmalloc(g, p, size + size / 2, 0xc1700010ull);
		struct module m = {.size = page_up(size), .keep = gen_rng_chance(r, st->keep_frac)};
		m.mod = gen_kmalloc(g, p, 1024, GFP_KERNEL, 0xc1700020ull);
		m.core = gen_vmalloc(g, p, size, 0xc1700030ull);
		st->init = gen_vmalloc(g, p, size / 8 + 4096, 0xc1700040ull);
		while (st->nmods == st->cap || st->live_bytes + m.size > st->max_live) {
			if (!st->nmods)
				break;
			if (!unload_oldest(g, st, true))
				unload_oldest(g, st, false);
		}
		st->mods[(st->head + st->nmods) % st->cap] = m;
		st->nmods++;
		st->live_bytes += m.size;
		st->mphase = 1;
		gen_wake(g, a, gen_rng_exp(r, 5 * MS));
		return;
	}
	gen_vfree(g, p, st->init);
	gen_vfree(g, p, st->image);
	gproc_exit(g, p);
	st->modprobe = NULL;
}

static void udevd_step(struct gen *g, struct gen_actor *a)
{
	struct vm *st = gen_container_of(a, struct vm, ua);
	struct gen_rng *r = &st->rng;
	if (st->phase == 0) {
		gen_mark(g, NULL, st->id_start);
		st->udevd = gproc_fork(g, r, NULL, false);
		gproc_exec(g, st->udevd, &udevd_bin, st->id_udevd);
		st->phase = 1;
		gen_wake(g, a, 10 * MS);
		return;
	}
	if (st->buf) {
		gen_vfree(g, st->udevd, st->buf);
		st->buf = 0;
	}
	if (!st->loads_left && !st->modprobe) {
		while (unload_oldest(g, st, true))
			;
		gproc_exit(g, st->udevd);
		gen_mark(g, NULL, st->id_end);
		return;
	}
	if (st->loads_left && !st->modprobe) {
		st->loads_left--;
		st->modprobe = gproc_fork(g, r, st->udevd, false);
		st->mphase = 0;
		gen_wake(g, &st->ma, 1 * MS);
	}
	if (gen_rng_chance(r, 0.3))
		unload_oldest(g, st, true);
	/* firmware and relay buffers: big, short-lived */
	if (gen_rng_chance(r, 0.4))
		st->buf =
		    gen_vmalloc(g, st->udevd, log_uniform(r, 64 << 10, 8 << 20), 0xc1700050ull);
	gen_wake(g, a, gen_rng_exp(r, st->interval));
}

static void *vmalloc_start(struct gen *g, const double *pv, uint64_t seed, uint64_t t0)
{
	struct vm *st = calloc(1, sizeof(*st));
	if (!st)
		return gen_fail(g, "out of memory"), NULL;
	gen_rng_seed(&st->rng, seed);
	st->loads_left = (uint32_t)pv[0];
	st->keep_frac = pv[1] / 100.0;
	st->max_live = (uint64_t)pv[2] << 20;
	st->interval = pv[3] * MS;
	st->cap = 4096;
	st->mods = calloc(st->cap, sizeof(*st->mods));
	if (!st->mods) {
		free(st);
		return gen_fail(g, "out of memory"), NULL;
	}
	st->id_udevd = gen_intern(g, udevd_bin.path);
	st->id_modprobe = gen_intern(g, modprobe_bin.path);
	st->id_start = gen_intern(g, "vmalloc-start");
	st->id_end = gen_intern(g, "vmalloc-end");
	st->ua.step = udevd_step;
	st->ma.step = modprobe_step;
	gen_wake(g, &st->ua, t0);
	return st;
}

static void vmalloc_stop(void *state)
{
	struct vm *st = state;
	free(st->mods);
	free(st);
}

const struct gen_workload gen_wl_vmalloc = {
    .info = {.name = "vmalloc",
	     .summary =
		 "module loads/unloads (vmalloc 16K..6M, some kept) and big temporary buffers"},
    .params = vmalloc_params,
    .start = vmalloc_start,
    .stop = vmalloc_stop,
};
