/* Page reclaim (mm/vmscan.c, 6.1 classic LRU, not MGLRU): LRU lists, aging, scan balance
 * by swappiness, unmapping through the rmap, anonymous pages to swap, clean file pages
 * dropped and dirty ones written back first; kswapd to the high watermark and direct
 * reclaim of SWAP_CLUSTER_MAX pages. */
#include "vmscan.h"

#include "mm_internal.h"

#define SWAP_CLUSTER_MAX 32u   /* include/linux/swap.h */
#define DEF_PRIORITY 12        /* mm/vmscan.c: scan 1/4096 of a list first */
#define MAX_RECLAIM_RETRIES 16 /* mm/internal.h */
#define KSWAPD_MAX_ROUNDS 64   /* model bound on one balance_pgdat run */

const char *const lru_list_names[NR_LRU_LISTS] = {"inactive_anon", "active_anon",
						  "inactive_file", "active_file", "unevictable"};

struct scan_control {
	uint64_t nr_to_reclaim, nr_reclaimed, nr_scanned;
	int reclaim_idx;      /* highest zone whose pages may be reclaimed */
	bool kswapd;
	unsigned cpu;
	cpumask_t flush_mask; /* CPUs of the mms unmapped from since the last batch flush */
};

void lruvec_init(struct lruvec *l)
{
	for (int i = 0; i < NR_LRU_LISTS; i++) {
		l->head[i] = l->tail[i] = PFN_NONE;
		l->nr[i] = 0;
	}
	l->kswapd_failures = 0;
	l->in_reclaim = false;
}

static void lru_move(struct sim *s, pfn_t pfn, bool active)
{
	lru_del(s, pfn);
	struct page *p = sim_page(s, pfn);
	if (active)
		p->flags |= PG_active;
	lru_cache_add(s, pfn);
}

/* Rotate to the head of its list: looked at, kept for now. */
static void lru_rotate(struct sim *s, pfn_t pfn)
{
	uint32_t keep = sim_page(s, pfn)->flags & (PG_active | PG_referenced);
	lru_del(s, pfn);
	sim_page(s, pfn)->flags |= keep;
	lru_cache_add(s, pfn);
}

static bool referenced_one(struct sim *s, struct mm_struct *mm, pte_t *pte, uint64_t addr,
			   void *arg)
{
	(void)s, (void)mm, (void)addr;
	if (*pte & _PAGE_ACCESSED) {
		*pte &= ~_PAGE_ACCESSED; /* ptep_clear_flush_young: x86 does not flush for it */
		(*(unsigned *)arg)++;
	}
	return true;
}

struct unmap_arg {
	struct scan_control *sc;
	uint64_t slot; /* anon: the swap slot the ptes now point at */
};

/* try_to_unmap_one: the pte goes (file) or becomes a swap entry (anon). */
static bool unmap_one(struct sim *s, struct mm_struct *mm, pte_t *pte, uint64_t addr, void *arg)
{
	struct unmap_arg *u = arg;
	struct page *p = sim_page(s, pte_pfn(*pte));
	(void)addr;
	if (page_test(p, PG_anon)) {
		*pte = swp_entry_to_pte(0, u->slot);
		swap_duplicate(&s->swap, u->slot);
		mm->rss[MM_ANONPAGES]--;
		mm->rss[MM_SWAPENTS]++;
	} else {
		if (*pte & _PAGE_DIRTY)
			p->flags |= PG_dirty;
		*pte = 0;
		mm->rss[MM_FILEPAGES]--;
		if (p->mapcount == 1)
			s->mm.nr_mapped--;
	}
	p->mapcount--;
	p->refcount--;
	u->sc->flush_mask |= mm->cpumask;
	return true;
}

/* Put an anonymous page in the swap cache (add_to_swap) if it is not there yet. */
static bool add_to_swap(struct sim *s, pfn_t pfn)
{
	struct page *p = sim_page(s, pfn);
	if (page_test(p, PG_swapcache))
		return true;
	uint64_t slot = get_swap_page(&s->swap);
	if (!slot)
		return false;
	if (swap_cache_add(&s->swap, slot, pfn)) {
		swap_free(&s->swap, slot);
		return false;
	}
	p->flags |= PG_swapcache | PG_dirty; /* never written yet */
	p->private = (uint32_t)slot;
	p->refcount++;
	return true;
}

/* shrink_folio_list for one page already chosen for reclaim. */
static bool reclaim_page(struct sim *s, struct scan_control *sc, pfn_t pfn)
{
	struct page *p = sim_page(s, pfn);
	bool anon = page_test(p, PG_anon);
	if (anon && !add_to_swap(s, pfn))
		return false; /* swap full: activate */
	struct unmap_arg u = {sc, anon ? p->private : 0};
	if (p->mapcount)
		rmap_walk(s, pfn, unmap_one, &u);
	if (p->mapcount)
		return false; /* a mapping the rmap could not reach: keep the page */
	if (anon) {
		if (page_test(p, PG_dirty))
			s->vmstat[PSWPOUT]++; /* swap_writepage */
		swap_cache_del(&s->swap, u.slot);
		swap_free(&s->swap, u.slot);
		p->flags &= ~(PG_swapcache | PG_dirty);
	} else {
		if (page_test(p, PG_dirty))
			s->vmstat[NR_VMSCAN_WRITE]++; /* pageout() before the page can go */
		page_cache_delete(&s->mm.cache, p->mapping, p->index);
	}
	put_page(s, pfn, sc->cpu); /* the last reference: the cache's */
	return true;
}

static void flush_batch(struct sim *s, struct scan_control *sc)
{
	/* arch_tlbbatch_flush: one full flush on every CPU that ran an unmapped mm */
	if (sc->flush_mask)
		flush_tlb_mm_range(&s->mm.tlb, s->vmstat, sc->flush_mask, sc->cpu, 0, 0, TLB_RECLAIM);
	sc->flush_mask = 0;
}

static void count_scan(struct sim *s, const struct scan_control *sc, bool anon, bool steal)
{
	if (steal) {
		s->vmstat[sc->kswapd ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT]++;
		s->vmstat[anon ? PGSTEAL_ANON : PGSTEAL_FILE]++;
	} else {
		s->vmstat[sc->kswapd ? PGSCAN_KSWAPD : PGSCAN_DIRECT]++;
		s->vmstat[anon ? PGSCAN_ANON : PGSCAN_FILE]++;
	}
}

/* shrink_inactive_list + folio_check_references: pages referenced through a pte twice (or
 * once after being marked) go active; once, they get a second chance; else reclaim. */
static void shrink_inactive_list(struct sim *s, struct scan_control *sc, bool anon,
				 uint64_t nr_to_scan)
{
	enum lru_list l = anon ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
	for (uint64_t i = 0; i < nr_to_scan && s->lru.head[l] != PFN_NONE; i++) {
		pfn_t pfn = s->lru.tail[l]; /* the oldest */
		struct page *p = sim_page(s, pfn);
		if ((int)page_zonenum(p) > sc->reclaim_idx) {
			lru_rotate(s, pfn);
			continue;
		}
		sc->nr_scanned++;
		count_scan(s, sc, anon, false);
		unsigned refs = 0;
		if (p->mapcount)
			rmap_walk(s, pfn, referenced_one, &refs);
		bool was_referenced = page_test(p, PG_referenced);
		if (refs && (was_referenced || refs > 1)) {
			lru_move(s, pfn, true);
			s->vmstat[PGACTIVATE]++;
			continue;
		}
		if (refs) {
			p->flags |= PG_referenced;
			lru_rotate(s, pfn);
			continue;
		}
		if (!reclaim_page(s, sc, pfn)) {
			lru_move(s, pfn, true);
			s->vmstat[PGACTIVATE]++;
			continue;
		}
		sc->nr_reclaimed++;
		count_scan(s, sc, anon, true);
		if (sc->nr_reclaimed >= sc->nr_to_reclaim)
			break;
	}
	flush_batch(s, sc);
}

/* shrink_active_list: age the oldest active pages onto the inactive list. */
static void shrink_active_list(struct sim *s, struct scan_control *sc, bool anon, uint64_t nr)
{
	enum lru_list l = anon ? LRU_ACTIVE_ANON : LRU_ACTIVE_FILE;
	for (uint64_t i = 0; i < nr && s->lru.head[l] != PFN_NONE; i++) {
		pfn_t pfn = s->lru.tail[l];
		if ((int)page_zonenum(sim_page(s, pfn)) > sc->reclaim_idx) {
			lru_rotate(s, pfn);
			continue;
		}
		s->vmstat[PGREFILL]++;
		s->vmstat[PGDEACTIVATE]++;
		lru_move(s, pfn, false);
	}
}

static uint64_t int_sqrt(uint64_t x)
{
	uint64_t r = 0;
	while ((r + 1) * (r + 1) <= x)
		r++;
	return r;
}

/* inactive_is_low: inactive × int_sqrt(10 × GiB of the type) < active (1 below 1 GiB). */
static bool inactive_is_low(const struct lruvec *lv, bool anon)
{
	uint64_t inactive = lv->nr[anon ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE];
	uint64_t active = lv->nr[anon ? LRU_ACTIVE_ANON : LRU_ACTIVE_FILE];
	uint64_t gb = (inactive + active) >> (30 - PAGE_SHIFT);
	uint64_t ratio = gb ? int_sqrt(10 * gb) : 1;
	return inactive * ratio < active;
}

/* get_scan_count, simplified to the swappiness split: anon gets swappiness/200 of the
 * pressure, file the rest; no free swap means file only. */
static uint64_t scan_target(const struct sim *s, bool anon, int priority, bool can_swap)
{
	const struct lruvec *lv = &s->lru;
	uint64_t size = anon ? lv->nr[LRU_INACTIVE_ANON] + lv->nr[LRU_ACTIVE_ANON]
			     : lv->nr[LRU_INACTIVE_FILE] + lv->nr[LRU_ACTIVE_FILE];
	uint64_t weight = 200;
	if (can_swap) {
		uint64_t swappiness = (uint64_t)s->machine.cfg.vm.swappiness;
		weight = anon ? swappiness : 200 - swappiness;
	} else if (anon) {
		return 0;
	}
	uint64_t scan = (size >> priority) * weight / 200;
	if (!scan && size && weight && priority < DEF_PRIORITY / 2)
		scan = size < SWAP_CLUSTER_MAX ? size : SWAP_CLUSTER_MAX;
	return scan;
}

static void shrink_node(struct sim *s, struct scan_control *sc)
{
	s->lru.in_reclaim = true;
	bool can_swap = swap_free_pages(&s->swap) > 0;
	for (int prio = DEF_PRIORITY; prio >= 0 && sc->nr_reclaimed < sc->nr_to_reclaim; prio--) {
		for (int anon = 0; anon <= 1; anon++) {
			uint64_t scan = scan_target(s, anon, prio, can_swap);
			if (!scan)
				continue;
			if (inactive_is_low(&s->lru, anon))
				shrink_active_list(s, sc, anon, scan);
			shrink_inactive_list(s, sc, anon, scan);
			if (sc->nr_reclaimed >= sc->nr_to_reclaim)
				break;
		}
	}
	s->lru.in_reclaim = false;
}

/* pgdat_balanced: some eligible zone meets its high watermark for the order. */
static bool pgdat_balanced(struct sim *s, unsigned order, int highest_zoneidx)
{
	for (int z = 0; z <= highest_zoneidx; z++) {
		const struct zone *zone = &s->pgdat.node_zones[z];
		if (zone->populated &&
		    zone_watermark_ok(zone, order, zone->watermark[WMARK_HIGH] + zone->watermark_boost,
				      highest_zoneidx, 0))
			return true;
	}
	return false;
}

void vmscan_wakeup_kswapd(void *ctx, int zone_idx, unsigned order, gfp_t gfp)
{
	struct sim *s = ctx;
	(void)gfp;
	if (s->lru.in_reclaim || s->lru.kswapd_failures >= MAX_RECLAIM_RETRIES ||
	    pgdat_balanced(s, order, zone_idx))
		return;
	s->vmstat[KSWAPD_WAKEUP]++;
	for (int round = 0; round < KSWAPD_MAX_ROUNDS && !pgdat_balanced(s, order, zone_idx);
	     round++) {
		struct scan_control sc = {.nr_to_reclaim = SWAP_CLUSTER_MAX, .reclaim_idx = zone_idx,
					  .kswapd = true, .cpu = s->cur_cpu};
		shrink_node(s, &sc);
		if (!sc.nr_reclaimed) {
			s->lru.kswapd_failures++;
			return;
		}
		s->lru.kswapd_failures = 0;
	}
}

uint64_t vmscan_direct_reclaim(void *ctx, unsigned order, gfp_t gfp)
{
	struct sim *s = ctx;
	(void)order;
	if (s->lru.in_reclaim)
		return 0;
	int zone_idx = gfp_zone(&s->pgdat, gfp);
	s->vmstat[ALLOCSTALL_DMA + zone_idx]++; /* allocstall_<zone> of the preferred zone */
	struct scan_control sc = {.nr_to_reclaim = SWAP_CLUSTER_MAX, .reclaim_idx = zone_idx,
				  .cpu = s->cur_cpu};
	shrink_node(s, &sc);
	if (sc.nr_reclaimed)
		s->lru.kswapd_failures = 0; /* direct progress lets kswapd try again */
	return sc.nr_reclaimed;
}
