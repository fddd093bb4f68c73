/* The simulator: a machine_config turned into a booted machine, and events applied to it.
 * No I/O, no globals, no wall clock: the same events, config and seed give the same state. */
#ifndef MM_SIM_H
#define MM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "commit.h"
#include "machine.h"
#include "mm.h"
#include "page_alloc.h"
#include "slub.h"
#include "strtab.h"
#include "swap.h"
#include "u64map.h"
#include "vmalloc.h"
#include "vmscan.h"
#include "vmstat.h"

enum replay_level { REPLAY_MODEL, REPLAY_PAGE };

struct sim;
typedef void (*sim_event_handler)(struct sim *s, const struct mm_event *ev);
#define SIM_NR_TYPE_CODES 256 /* every value of mm_event.type, known or not */

struct sim {
	struct machine machine;
	struct pglist_data pgdat;
	const struct strtab *strings; /* the trace's, owned by the reader */
	enum replay_level level;
	const sim_event_handler *apply; /* the level's handler of each type code */
	uint64_t vmstat[NR_VM_STAT_ITEMS];
	uint64_t unhandled[EV_NR_TYPES]; /* events whose handler does not exist yet, by type */
	uint64_t last_ts;
	struct u64map page_level;        /* page level: recorded pfn -> simulated pfn | order << 32 */
	struct swap_info swap;
	struct slub slub;
	struct vmalloc vmalloc;
	struct lruvec lru;
	struct oom_state oom;
	bool kernel_allocators;         /* slub and vmalloc were set up (teardown) */
	unsigned cur_cpu;                /* CPU of the event being applied (for allocator hooks) */
	unsigned cpu_fold_mask;          /* nr_cpus - 1 for a power of two, else ~0 (sim_apply) */
	struct mm_world mm;              /* tasks, address spaces, page tables, page cache */
	struct commit_state commit;      /* overcommit accounting */
};

/* NULL with a one-line reason in err if the machine cannot boot or host memory runs out. */
struct sim *sim_create(const struct machine_config *cfg, const struct strtab *strings,
		       enum replay_level level, char *err, size_t errlen);
void sim_destroy(struct sim *s);
void sim_apply(struct sim *s, const struct mm_event *ev);

/* How far ahead of the event being applied its data is prefetched: far enough for a miss
 * to land before its turn (events take ~100 ns to ~1 us). */
#define SIM_PREFETCH_AHEAD 8

/* What a fault or touch event will read first, its pte (sim_prefetch takes the slab events
 * itself). A hint: nothing changes. */
void sim_prefetch_event(struct sim *s, const struct mm_event *ev);

/* The recorded CPU folded onto the simulated ones (cpu % nr_cpus). A recording with more
 * CPUs than the machine (the default machine has one) would divide on half its events, ~20
 * cycles each on the replay's path: a power of two folds with a mask. */
static inline unsigned sim_fold_cpu(const struct sim *s, unsigned cpu)
{
	unsigned n = s->machine.cfg.nr_cpus;
	if (__builtin_expect(cpu < n, 1))
		return cpu;
	return n & (n - 1) ? cpu % n : cpu & (n - 1);
}

/* The look-ahead for ev, an event SIM_PREFETCH_AHEAD after the one about to be applied.
 * The slab events' (60 % of the mix) entry is found inline: a call, a switch and two
 * checks per event were a third of what the look-ahead cost them. */
static inline void sim_prefetch_at(struct sim *s, const struct mm_event *ev)
{
	if ((unsigned)(ev->type - EV_KMALLOC) <= EV_CACHE_FREE - EV_KMALLOC)
		slub_prefetch(&s->slub, ev->u.kmem.ptr);
	else
		sim_prefetch_event(s, ev);
}

/* Call before sim_apply(s, &batch[i]) in a loop over batch[0, n). A replay loop that runs
 * its first n - SIM_PREFETCH_AHEAD events apart calls sim_prefetch_at without the test. */
static inline void sim_prefetch(struct sim *s, const struct mm_event *batch, size_t i, size_t n)
{
	if (i + SIM_PREFETCH_AHEAD >= n)
		return;
	sim_prefetch_at(s, &batch[i + SIM_PREFETCH_AHEAD]);
}

/* sim_apply, inline in a replay loop (no call and return per event; sim_apply itself is
 * this). The CPU is folded as sim_fold_cpu folds it, with the mask sim_create computed:
 * for a power of two cpu & (nr_cpus - 1) is cpu below nr_cpus and the fold above, so
 * the remainder is left for other counts (mix, recorded on two CPUs, took the fold's
 * branch on half its events on the default one-CPU machine). */
static inline __attribute__((always_inline)) void sim_apply_inline(struct sim *s,
								   const struct mm_event *ev)
{
	s->vmstat[EVENTS]++;
	s->last_ts = ev->ts;
	unsigned cpu = ev->cpu & s->cpu_fold_mask;
	if (__builtin_expect(cpu >= s->machine.cfg.nr_cpus, 0))
		cpu %= s->machine.cfg.nr_cpus;
	s->cur_cpu = cpu;
	s->apply[ev->type](s, ev);
}

/* Page level: pages held for recorded allocations not yet freed (the recording's live set
 * as far as the trace shows it). */
uint64_t sim_page_level_live_pages(const struct sim *s);

#endif
