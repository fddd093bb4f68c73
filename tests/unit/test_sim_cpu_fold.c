/* sim_apply's CPU fold (sim_apply_inline, with the mask sim_create computes) gives every
 * recorded CPU the CPU sim_fold_cpu gives it, on machines of one to six CPUs: powers of two
 * by the mask, the others by the remainder. */
#include <criterion/criterion.h>
#include <string.h>

#include "sim.h"
#include "testlib_sim.h"

Test(sim_cpu_fold, every_recorded_cpu_on_1_to_6_cpus)
{
	for (unsigned n = 1; n <= 6; n++) {
		struct machine_config cfg;
		struct strtab t;
		char err[256];
		tl_sim_config(&cfg, ARCH_I386, "256M", NULL);
		cfg.nr_cpus = n;
		strtab_init(&t);
		struct sim *s = sim_create(&cfg, &t, REPLAY_MODEL, err, sizeof(err));
		cr_assert_not_null(s, "%s", err);
		for (unsigned cpu = 0; cpu <= UINT16_MAX; cpu += cpu < 40 ? 1 : 997) {
			struct mm_event ev;
			memset(&ev, 0, sizeof(ev));
			ev.ts = cpu;
			ev.pid = 1;
			ev.cpu = (uint16_t)cpu;
			ev.type = EV_PAGE_FREE; /* ignored at model level: only the fold runs */
			s->cur_cpu = ~0u;
			sim_apply(s, &ev);
			cr_assert_eq(s->cur_cpu, cpu % n, "cpu %u on %u CPUs: %u", cpu, n,
				     s->cur_cpu);
			cr_assert_eq(s->cur_cpu, sim_fold_cpu(s, cpu));
		}
		cr_assert_eq(s->vmstat[EVENTS], 40 + (UINT16_MAX - 40) / 997 + 1);
		sim_destroy(s);
		strtab_free(&t);
	}
}
