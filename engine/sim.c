/* The simulator: boot a machine from its config, then apply events one at a time.
 * Model level hands each event to the subsystem that owns it; page level replays a
 * recorded mm_page_alloc/mm_page_free stream straight into the buddy allocator. */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const sim_event_handler *level_handlers(enum replay_level level);

struct sim *sim_create(const struct machine_config *cfg, const struct strtab *strings,
		       enum replay_level level, char *err, size_t errlen)
{
	struct sim *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->strings = strings;
	s->level = level;
	s->apply = level_handlers(level);
	if (machine_setup(&s->machine, cfg, err, errlen))
		goto fail;
	unsigned ncpu = s->machine.cfg.nr_cpus; /* at least 1: machine_setup refuses 0 */
	s->cpu_fold_mask = ncpu & (ncpu - 1) ? ~0u : ncpu - 1;
	if (page_alloc_init(&s->pgdat, &s->machine, s->vmstat)) {
		snprintf(err, errlen, "out of memory building the memory map");
		goto fail;
	}
	if (slub_init(&s->slub, &s->pgdat, &s->machine, s->vmstat) ||
	    vmalloc_init(&s->vmalloc, &s->pgdat, &s->slub, &s->machine, s->vmstat)) {
		snprintf(err, errlen, "out of memory setting up the kernel allocators");
		goto fail;
	}
	s->kernel_allocators = true;
	lruvec_init(&s->lru);
	if (swap_init(&s->swap, cfg->swap_bytes)) {
		snprintf(err, errlen, "out of memory for the swap map");
		goto fail;
	}
	if (level == REPLAY_MODEL)
		s->pgdat.hooks = (struct alloc_hooks){s, vmscan_wakeup_kswapd,
						      vmscan_direct_reclaim, oom_kill_hook};
	commit_init(&s->commit, &s->machine.cfg.vm, s->machine.totalram_pages,
		    swap_free_pages(&s->swap), global_free_pages(&s->pgdat));
	if (mm_world_init(s)) {
		snprintf(err, errlen, "out of memory setting up address spaces");
		goto fail;
	}
	s->vmalloc.tlb = &s->mm.tlb; /* purges count with every other flush, by cause */
	if (level == REPLAY_PAGE) {
		if (u64map_init(&s->page_level, 1 << 16)) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	return s;
fail:
	sim_destroy(s);
	return NULL;
}

void sim_destroy(struct sim *s)
{
	if (!s)
		return;
	u64map_free(&s->page_level);
	mm_world_destroy(s);
	if (s->kernel_allocators) {
		vmalloc_destroy(&s->vmalloc);
		slub_destroy(&s->slub);
	}
	swap_destroy(&s->swap);
	page_alloc_destroy(&s->pgdat);
	free(s);
}

static unsigned event_cpu(const struct sim *s, const struct mm_event *ev)
{
	return sim_fold_cpu(s, ev->cpu);
}

/* A recorded allocation gets a simulated block of the same order and gfp; the recorded pfn
 * is only a key, since the simulated machine's layout differs from the recording one's. */
static void page_level_alloc(struct sim *s, const struct mm_event *ev)
{
	unsigned order = ev->u.page.order;
	if (order > MAX_PAGE_ORDER) {
		s->unhandled[ev->type]++;
		return;
	}
	pfn_t pfn = alloc_pages(&s->pgdat, ev->u.page.gfp, order, event_cpu(s, ev));
	if (pfn == PFN_NONE)
		return; /* counted by the allocator */
	uint64_t old;
	/* the recording freed it without us seeing the free: release the stale block first */
	if (u64map_take(&s->page_level, ev->u.page.pfn, &old)) {
		free_pages(&s->pgdat, (pfn_t)old, (unsigned)(old >> 32), event_cpu(s, ev));
		s->vmstat[UNKNOWN_PAGE_FREE]++;
	}
	if (u64map_put(&s->page_level, ev->u.page.pfn, pfn | (uint64_t)order << 32))
		free_pages(&s->pgdat, pfn, order, event_cpu(s, ev));
}

static void page_level_free(struct sim *s, const struct mm_event *ev)
{
	uint64_t v;
	if (!u64map_take(&s->page_level, ev->u.page.pfn, &v)) {
		s->vmstat[UNKNOWN_PAGE_FREE]++; /* allocated before the recording began */
		return;
	}
	free_pages(&s->pgdat, (pfn_t)v, (unsigned)(v >> 32), event_cpu(s, ev));
}

/* One handler per event type, called through a table rather than a switch over inlined
 * handlers. Inlined, the biggest of them made every event save and restore six registers;
 * apart, each saves what it uses. */

static void kmalloc_event(struct sim *s, const struct mm_event *ev)
{
	slub_kmalloc_event(&s->slub, ev);
}

static void kfree_event(struct sim *s, const struct mm_event *ev)
{
	slub_kfree_event(&s->slub, ev);
}

static void cache_alloc_event(struct sim *s, const struct mm_event *ev)
{
	slub_cache_alloc_event(&s->slub, ev, strtab_get(s->strings, ev->u.kmem.cache));
}

static void cache_free_event(struct sim *s, const struct mm_event *ev)
{
	slub_cache_free_event(&s->slub, ev);
}

static void vmalloc_ev(struct sim *s, const struct mm_event *ev)
{
	vmalloc_event(&s->vmalloc, ev);
}

static void vfree_ev(struct sim *s, const struct mm_event *ev)
{
	vfree_event(&s->vmalloc, ev);
}

/* marks are for the replay driver (snapshots); page-level events never come mixed with
 * model level: the model decides every page itself */
static void ignored_event(struct sim *s, const struct mm_event *ev)
{
	(void)s, (void)ev;
}

static void unhandled_event(struct sim *s, const struct mm_event *ev)
{
	s->unhandled[ev->type]++;
	s->vmstat[UNHANDLED]++;
}

/* A type the engine does not know (the trace readers reject them): counted with the
 * unhandled events, not by type, since unhandled[] has a slot per known type only. */
static void invalid_event(struct sim *s, const struct mm_event *ev)
{
	(void)ev;
	s->vmstat[UNHANDLED]++;
}

/* every type has its entry: a new type must be added here */
_Static_assert(EV_NR_TYPES == EV_MARK + 1, "model_level[] needs an entry per event type");

/* Indexed by the type byte itself, so that sim_apply needs no range check. */
static const sim_event_handler model_level[SIM_NR_TYPE_CODES] = {
	[0] = unhandled_event,
	[EV_FORK] = mm_fork,
	[EV_EXEC] = mm_exec,
	[EV_EXIT] = mm_exit,
	[EV_MMAP] = mm_mmap,
	[EV_MUNMAP] = mm_munmap,
	[EV_MPROTECT] = mm_mprotect,
	[EV_MREMAP] = mm_mremap,
	[EV_BRK] = mm_brk,
	[EV_FAULT] = mm_fault,
	[EV_TOUCH] = mm_touch,
	[EV_KMALLOC] = kmalloc_event,
	[EV_KFREE] = kfree_event,
	[EV_CACHE_ALLOC] = cache_alloc_event,
	[EV_CACHE_FREE] = cache_free_event,
	[EV_VMALLOC] = vmalloc_ev,
	[EV_VFREE] = vfree_ev,
	[EV_PAGE_ALLOC] = ignored_event,
	[EV_PAGE_FREE] = ignored_event,
	[EV_SET_OOM_SCORE_ADJ] = mm_set_oom_score_adj,
	[EV_COMM] = mm_comm,
	[EV_MARK] = ignored_event,
	[EV_NR_TYPES ... SIM_NR_TYPE_CODES - 1] = invalid_event,
};

/* page level ignores the model-level events by design */
static const sim_event_handler page_level[SIM_NR_TYPE_CODES] = {
	[0 ... EV_PAGE_ALLOC - 1] = ignored_event,
	[EV_PAGE_ALLOC] = page_level_alloc,
	[EV_PAGE_FREE] = page_level_free,
	[EV_PAGE_FREE + 1 ... SIM_NR_TYPE_CODES - 1] = ignored_event,
};

static const sim_event_handler *level_handlers(enum replay_level level)
{
	return level == REPLAY_PAGE ? page_level : model_level;
}

void sim_apply(struct sim *s, const struct mm_event *ev) { sim_apply_inline(s, ev); }

uint64_t sim_page_level_live_pages(const struct sim *s)
{
	uint64_t n = 0;
	if (!s->page_level.slots)
		return 0;
	for (uint64_t i = 0; i <= s->page_level.mask; i++)
		if (s->page_level.slots[i].key)
			n += 1ull << (s->page_level.slots[i].val >> 32);
	return n;
}

/* sim_prefetch's inline test of a slab event is a range of types; a live sim always has
 * its kernel allocators (sim_create fails without them), so it needs no check either. */
_Static_assert(EV_KFREE == EV_KMALLOC + 1 && EV_CACHE_ALLOC == EV_KMALLOC + 2 &&
		   EV_CACHE_FREE == EV_KMALLOC + 3,
	       "sim_prefetch tests the slab events as one range");

void sim_prefetch_event(struct sim *s, const struct mm_event *ev)
{
	if ((ev->type == EV_FAULT || ev->type == EV_TOUCH) && s->level == REPLAY_MODEL)
		mm_prefetch(s, ev);
}
