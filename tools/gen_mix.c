/* mix: every workload at once, time-ordered on one clock with distinct pids — the default
 * benchmark workload. The parts share the scheduler, so the merge is exact, not a sort. */
#include <stdlib.h>

#include "gen_common.h"

static const struct gen_workload *const parts[] = {
    &gen_wl_shell, &gen_wl_build,   &gen_wl_db,	  &gen_wl_forkcow,
    &gen_wl_slab,  &gen_wl_vmalloc, &gen_wl_leak,
};
#define NR_PARTS (sizeof(parts) / sizeof(parts[0]))

static const struct gen_param_def mix_params[] = {
    {"shell", 1, 0, 1, GP_INT, "include shell (0: leave it out)"},
    {"build", 1, 0, 1, GP_INT, "include build"},
    {"db", 1, 0, 1, GP_INT, "include db"},
    {"forkcow", 1, 0, 1, GP_INT, "include forkcow"},
    {"slab", 1, 0, 1, GP_INT, "include slab"},
    {"vmalloc", 1, 0, 1, GP_INT, "include vmalloc"},
    {"leak", 1, 0, 1, GP_INT, "include leak"},
    {"leak_delay_s", 20, 0, 1e6, GP_SCALED, "trace time before the leak starts"},
    {"forkcow_delay_s", 5, 0, 1e6, GP_SCALED, "trace time before forkcow starts"},
    {NULL, 0, 0, 0, 0, NULL},
};

struct mix {
	struct gen_actor a;
	uint32_t id_start;
	void *state[NR_PARTS];
};

static void mix_step(struct gen *g, struct gen_actor *a)
{
	struct mix *m = gen_container_of(a, struct mix, a);
	gen_mark(g, NULL, m->id_start);
}

static void mix_stop(void *state)
{
	struct mix *m = state;
	for (size_t i = 0; i < NR_PARTS; i++)
		if (m->state[i])
			parts[i]->stop(m->state[i]);
	free(m);
}

static void *mix_start(struct gen *g, const double *pv, uint64_t seed, uint64_t t0)
{
	struct mix *m = calloc(1, sizeof(*m));
	if (!m)
		return gen_fail(g, "out of memory"), NULL;
	m->id_start = gen_intern(g, "mix-start");
	m->a.step = mix_step;
	gen_wake(g, &m->a, t0);
	for (size_t i = 0; i < NR_PARTS && !g->failed; i++) {
		if (!pv[i])
			continue;
		double ppv[GEN_MAX_PARAMS];
		if (gen_resolve_params(parts[i], parts[i]->info.name, g->params, ppv, g->err,
				       g->errlen)) {
			g->failed = true;
			break;
		}
		uint64_t delay = 0;
		if (parts[i] == &gen_wl_leak)
			delay = (uint64_t)(pv[7] * 1e9);
		else if (parts[i] == &gen_wl_forkcow)
			delay = (uint64_t)(pv[8] * 1e9);
		m->state[i] = parts[i]->start(g, ppv, seed ^ gen_hash_str(parts[i]->info.name),
					      t0 + delay + i * 50 * US);
	}
	if (g->failed) {
		mix_stop(m);
		return NULL;
	}
	return m;
}

const struct gen_workload gen_wl_mix = {
    .info = {.name = "mix",
	     .summary =
		 "all workloads interleaved on one timeline (the default benchmark workload)"},
    .params = mix_params,
    .start = mix_start,
    .stop = mix_stop,
};
