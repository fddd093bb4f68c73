/* The buddy allocator's allocation side: splitting, watermark checks and the fast
 * allocation paths (mm/page_alloc.c, Linux 6.1); the refill of the per-CPU lists is in
 * page_alloc_refill.c, freeing and merging in page_alloc_free.c, fallback stealing in
 * page_alloc_fallback.c, the slow path in page_alloc_slowpath.c. docs/BUDDY.md lists what
 * the model leaves out (compaction, CMA, isolation, NUMA). */
#include "page_alloc.h"

#include <string.h>

#include "page_alloc_internal.h"
#include "page_alloc_refill.h"
#include "vmstat.h"

/* ---- allocating from the free lists (__rmqueue_smallest, expand) --------------------- */

static inline void expand(struct page *map, struct zone *z, pfn_t pfn, unsigned low, unsigned high,
			  unsigned mt)
{
	while (high > low) {
		high--;
		add_to_empty_free_list(map, z, pfn + (1u << high), high, mt);
	}
}

/* The first non-empty list of mt from order up, found in zone->free_orders. */
static inline pfn_t rmqueue_smallest(struct pglist_data *pgdat, struct zone *z, unsigned order,
				     unsigned mt)
{
	unsigned avail = free_orders_from(z, mt, order);
	if (!avail)
		return PFN_NONE;
	struct page *map = pgdat->memmap_base;
	unsigned o = order + (unsigned)__builtin_ctz(avail);
	pfn_t pfn = take_free_list_head(map, z, o, mt);
	expand(map, z, pfn, order, o, mt);
	return pfn;
}

/* __rmqueue (6.1, no CMA): own type first, then fallback and retry */
static pfn_t rmqueue_one(struct pglist_data *pgdat, struct zone *z, unsigned order, unsigned mt,
			 unsigned alloc_flags)
{
	for (;;) {
		pfn_t pfn = rmqueue_smallest(pgdat, z, order, mt);
		if (likely(pfn != PFN_NONE))
			return pfn;
		if (!rmqueue_fallback(pgdat, z, order, mt, alloc_flags))
			return PFN_NONE;
	}
}

/* ---- per-CPU lists: take (6.1 rmqueue_pcplist; the refill is page_alloc_refill.c) ------ */

static inline pfn_t rmqueue_pcplist(struct pglist_data *pgdat, struct zone *z, unsigned order,
				    unsigned mt, unsigned alloc_flags, unsigned cpu)
{
	struct per_cpu_pages *pcp = &z->pcp[cpu];
	unsigned pindex = order_to_pindex(mt, order);
	struct pcp_list *l = &pcp->lists[pindex];
	pcp->free_factor >>= 1;
	if (unlikely(pcp_list_empty(l))) {
		int batch = pcp->batch;
		/* scale the refill to the order, but never below 2 unless batch is 1 */
		if (batch > 1) {
			batch >>= order;
			if (batch < 2)
				batch = 2;
		}
		pcp->count += rmqueue_bulk(pgdat, z, order, batch, pcp, pindex, mt, alloc_flags,
					   NULL, 0, true)
			      << order;
		if (pcp_list_empty(l))
			return PFN_NONE;
	}
	pfn_t pfn = pcp_list_take_head(l);
	pfn_to_page(pgdat, pfn)->flags &= ~PG_pcp;
	pcp->count -= 1 << order;
	return pfn;
}

/* ---- watermarks (__zone_watermark_ok, zone_watermark_fast) ----------------------------- */

bool zone_watermark_ok(const struct zone *z, unsigned order, uint64_t mark, int highest_zoneidx,
		       unsigned alloc_flags)
{
	return wmark_ok(z, order, (int64_t)mark, highest_zoneidx, alloc_flags,
			(int64_t)z->nr_free_pages);
}

static inline bool zone_watermark_fast(const struct zone *z, unsigned order, uint64_t mark,
				       int highest, unsigned alloc_flags, gfp_t gfp)
{
	int64_t free = (int64_t)z->nr_free_pages;
	if (likely(!order)) {
		int64_t reserved = (alloc_flags & (ALLOC_HARDER | ALLOC_OOM))
				       ? 0
				       : (int64_t)z->nr_reserved_highatomic;
		int64_t usable = free - (reserved < free ? reserved : free);
		if (usable > (int64_t)mark + z->lowmem_reserve[highest])
			return true;
	}
	if (wmark_ok(z, order, (int64_t)mark, highest, alloc_flags, free))
		return true;
	/* GFP_ATOMIC order-0 ignores the boost when checking the min watermark */
	if (unlikely(!order && gfp_is_atomic(gfp) && z->watermark_boost &&
		     (alloc_flags & ALLOC_WMARK_MASK) == WMARK_MIN))
		return wmark_ok(z, order, (int64_t)z->watermark[WMARK_MIN], highest, alloc_flags,
				free);
	return false;
}

/* ---- rmqueue and get_page_from_freelist ------------------------------------------------ */

static void prep_new_page(struct pglist_data *pgdat, struct zone *z, pfn_t pfn, unsigned order,
			  gfp_t gfp)
{
	uint32_t flags = (uint32_t)z->type << PAGE_ZONE_SHIFT;
	if (order && (gfp & __GFP_COMP))
		flags |= PG_head | (order << PAGE_ORDER_SHIFT);
	*pfn_to_page(pgdat, pfn) =
	    (struct page){.flags = flags, .next = PFN_NONE, .prev = PFN_NONE, .refcount = 1};
}

static pfn_t rmqueue(struct pglist_data *pgdat, struct zone *z, unsigned order, unsigned mt,
		     unsigned alloc_flags, unsigned cpu)
{
	pfn_t pfn = PFN_NONE;
	if (likely(pgdat->pcp_enabled && pcp_allowed_order(pgdat, order)))
		pfn = rmqueue_pcplist(pgdat, z, order, mt, alloc_flags, cpu);
	if (pfn == PFN_NONE) {
		/* rmqueue_buddy */
		if (order > 0 && (alloc_flags & ALLOC_HARDER))
			pfn = rmqueue_smallest(pgdat, z, order, MIGRATE_HIGHATOMIC);
		if (pfn == PFN_NONE)
			pfn = rmqueue_one(pgdat, z, order, mt, alloc_flags);
		if (pfn == PFN_NONE)
			return PFN_NONE;
		z->nr_free_pages -= 1ull << order;
	}
	if (unlikely(z->boost_pending)) {
		z->boost_pending = false;
		if (pgdat->hooks.wakeup_kswapd)
			pgdat->hooks.wakeup_kswapd(pgdat->hooks.ctx, (int)z->type, 0, 0);
	}
	/* __count_zid_vm_events(PGALLOC, ...) */
	pgdat->vmstat[PGALLOC_DMA + z->type] += 1ull << order;
	pgdat->nr_alloc[order]++;
	return pfn;
}


pfn_t get_page_from_freelist(struct pglist_data *pgdat, gfp_t gfp, unsigned order,
			     unsigned alloc_flags, const struct alloc_context *ac, unsigned cpu)
{
	for (;;) {
		for (int zi = ac->highest_zoneidx; zi >= 0; zi--) {
			struct zone *z = &pgdat->node_zones[zi];
			if (!z->populated)
				continue;
			uint64_t mark = wmark_pages(z, alloc_flags & ALLOC_WMARK_MASK);
			if (!zone_watermark_fast(z, order, mark, ac->highest_zoneidx, alloc_flags,
						 gfp) &&
			    !(alloc_flags & ALLOC_NO_WATERMARKS))
				continue;
			pfn_t pfn = rmqueue(pgdat, z, order, ac->migratetype, alloc_flags, cpu);
			if (pfn != PFN_NONE) {
				prep_new_page(pgdat, z, pfn, order, gfp);
				if (unlikely(order && (alloc_flags & ALLOC_HARDER)))
					reserve_highatomic_pageblock(pgdat, z, pfn);
				return pfn;
			}
		}
		/* a single node can be fragmented everywhere: retry allowing fallbacks */
		if (!(alloc_flags & ALLOC_NOFRAGMENT))
			return PFN_NONE;
		alloc_flags &= ~ALLOC_NOFRAGMENT;
	}
}

/* ---- gfp → alloc_flags (gfp → zone and migratetype: gfp.c) ------------------------------ */

/* alloc_flags_nofragment (6.1): with ZONE_DMA32 configured, a Normal-first allocation
 * first avoids fragmenting fallbacks below pageblock order. */
static unsigned alloc_flags_nofragment(const struct pglist_data *pgdat, int highest, gfp_t gfp)
{
	unsigned flags = (gfp & __GFP_KSWAPD_RECLAIM) ? ALLOC_KSWAPD : 0;
	return flags | pgdat->nofragment[highest];
}

/* The alloc_flags of __alloc_pages' first get_page_from_freelist pass (6.1). */
static unsigned first_pass_alloc_flags(const struct pglist_data *pgdat, int highest, gfp_t gfp)
{
	return ALLOC_WMARK_LOW | alloc_flags_nofragment(pgdat, highest, gfp);
}

static inline struct alloc_context gfp_alloc_context(const struct pglist_data *pgdat, gfp_t gfp)
{
	unsigned zm = pgdat->gfp_zone_mt[gfp & GFP_ZONE_MT_BITS];
	return (struct alloc_context){.highest_zoneidx = (int)(zm & 0xf), .migratetype = zm >> 4};
}

/* Everything but the order-0 pcp fast path's hits (cpu already in range). */
static __attribute__((noinline)) pfn_t alloc_pages_general(struct pglist_data *pgdat, gfp_t gfp,
							   unsigned order, unsigned cpu)
{
	if (unlikely(order > MAX_PAGE_ORDER)) {
		count_vm_event(pgdat->vmstat, ALLOC_FAIL);
		return PFN_NONE;
	}
	struct alloc_context ac = gfp_alloc_context(pgdat, gfp);
	unsigned alloc_flags = first_pass_alloc_flags(pgdat, ac.highest_zoneidx, gfp);
	pfn_t pfn = get_page_from_freelist(pgdat, gfp, order, alloc_flags, &ac, cpu);
	if (likely(pfn != PFN_NONE))
		return pfn;
	return alloc_pages_slowpath(pgdat, gfp, order, &ac, cpu);
}

/* The common case of get_page_from_freelist for order 0 with pcp lists, spelled out:
 * walking the zonelist down from the highest zone, the first populated zone that passes
 * the order-0 fast watermark test (at the low mark, without ALLOC_HIGH/HARDER, the test is
 * free - highatomic reserve > mark + lowmem_reserve) has a page on its pcp list. Zones
 * that fail the test are skipped as get_page_from_freelist skips them (on i386 with a
 * small HighMem zone that is most user allocations). A zone that passes with an empty list
 * goes to pcp_fast_pass_over, which passes over it or refills it in place. Anything else
 * (pending boost, slow path) goes to the general path, which decides with the same result
 * it would have had: nothing was changed. The misses are tail calls, so the hit path
 * saves no registers. */

static inline bool pcp_fast_wmark_ok(const struct zone *z, int highest)
{
	return (int64_t)z->nr_free_pages > z->fast_mark[highest];
}

static inline pfn_t pcp_fast_take(struct pglist_data *pgdat, struct zone *z,
				  struct per_cpu_pages *pcp, unsigned pindex, gfp_t gfp)
{
	struct pcp_list *l = &pcp->lists[pindex];
	pfn_t pfn = pcp_list_take_head(l);
	/* the next allocation writes the new head's struct page: the ring names it now */
	if (likely(!pcp_list_empty(l)))
		__builtin_prefetch(&pgdat->memmap_base[pcp_list_nth(l, 0)], 1);
	pcp->free_factor >>= 1;
	pcp->count--;
	prep_new_page(pgdat, z, pfn, 0, gfp);
	pgdat->vmstat[PGALLOC_DMA + z->type]++;
	pgdat->nr_alloc[0]++;
	return pfn;
}

/* get_page_from_freelist's first pass has come to z, which passed its watermark, with an
 * empty pcp list its free lists can refill: rmqueue refills and takes the page there, the
 * walk is not done again (the zones before it were left as that walk leaves them). */
static pfn_t pcp_fast_refill(struct pglist_data *pgdat, struct zone *z, gfp_t gfp, int highest,
			     unsigned mt, unsigned cpu)
{
	unsigned alloc_flags = first_pass_alloc_flags(pgdat, highest, gfp);
	pfn_t pfn = rmqueue(pgdat, z, 0, mt, alloc_flags, cpu);
	prep_new_page(pgdat, z, pfn, 0, gfp);
	return pfn;
}

/* Zone zi passed the watermark but its pcp list is empty. When its free lists cannot
 * refill it under the first pass's ALLOC_NOFRAGMENT, get_page_from_freelist passes over
 * it: rmqueue_pcplist halves its free_factor, rmqueue_bulk and rmqueue_buddy find nothing
 * and change nothing else (x86_64 with Normal short of movable pages: every allocation
 * comes from DMA32's pcp list this way). The walk from zi down returns the zone that hands
 * out the page, *refill when its list must be refilled first, NULL when the general path
 * decides (a pending boost, no zone left); the zones passed over are left in *passed, to
 * be halved once the caller knows how many pages it takes. */
static inline struct zone *pcp_fast_zone(struct pglist_data *pgdat, int highest, unsigned mt,
					 unsigned cpu, int zi, unsigned *passed, bool *refill)
{
	unsigned pindex = order_to_pindex(mt, 0);
	unsigned nofragment = pgdat->nofragment[highest];
	*passed = 0;
	for (; zi >= 0; zi--) {
		struct zone *z = &pgdat->node_zones[zi];
		if (!pcp_fast_wmark_ok(z, highest))
			continue;
		if (z->boost_pending)
			return NULL;
		*refill = pcp_list_empty(&z->pcp[cpu].lists[pindex]);
		if (!*refill || !rmqueue_fails(pgdat, z, 0, mt, nofragment))
			return z;
		*passed |= 1u << zi;
	}
	return NULL;
}

/* The halvings of the zones passed over, once per page taken (rmqueue_pcplist). */
static inline void pcp_pass_over_done(struct pglist_data *pgdat, unsigned passed, unsigned cpu,
				      unsigned pages)
{
	for (; passed; passed &= passed - 1)
		pgdat->node_zones[__builtin_ctz(passed)].pcp[cpu].free_factor >>=
		    pages < 31 ? pages : 31;
}

static __attribute__((noinline)) pfn_t pcp_fast_pass_over(struct pglist_data *pgdat, gfp_t gfp,
							  int highest, unsigned mt, unsigned cpu,
							  int zi)
{
	unsigned passed;
	bool refill;
	struct zone *z = pcp_fast_zone(pgdat, highest, mt, cpu, zi, &passed, &refill);
	if (!z)
		return alloc_pages_general(pgdat, gfp, 0, cpu);
	pcp_pass_over_done(pgdat, passed, cpu, 1);
	if (refill)
		return pcp_fast_refill(pgdat, z, gfp, highest, mt, cpu);
	return pcp_fast_take(pgdat, z, &z->pcp[cpu], order_to_pindex(mt, 0), gfp);
}

static inline pfn_t alloc_pcp_fast(struct pglist_data *pgdat, gfp_t gfp, unsigned cpu)
{
	struct alloc_context ac = gfp_alloc_context(pgdat, gfp);
	for (int zi = ac.highest_zoneidx; zi >= 0; zi--) {
		struct zone *z = &pgdat->node_zones[zi];
		if (!pcp_fast_wmark_ok(z, ac.highest_zoneidx))
			continue;
		if (z->boost_pending)
			break;
		struct per_cpu_pages *pcp = &z->pcp[cpu];
		unsigned pindex = order_to_pindex(ac.migratetype, 0);
		if (unlikely(pcp_list_empty(&pcp->lists[pindex])))
			return pcp_fast_pass_over(pgdat, gfp, ac.highest_zoneidx, ac.migratetype,
						  cpu, zi);
		return pcp_fast_take(pgdat, z, pcp, pindex, gfp);
	}
	return alloc_pages_general(pgdat, gfp, 0, cpu);
}

pfn_t alloc_pages(struct pglist_data *pgdat, gfp_t gfp, unsigned order, unsigned cpu)
{
	if (unlikely(cpu >= pgdat->nr_cpus))
		cpu %= pgdat->nr_cpus;
	if (likely(!order && pgdat->pcp_enabled))
		return alloc_pcp_fast(pgdat, gfp, cpu);
	return alloc_pages_general(pgdat, gfp, order, cpu);
}

/* What n takes of an order-0 pcp list's head count (rmqueue_pcplist, rmqueue) */
static inline void pcp_bulk_took(struct pglist_data *pgdat, const struct zone *z,
				 struct per_cpu_pages *pcp, unsigned n)
{
	pcp->count -= (int)n;
	/* halved once per allocation (rmqueue_pcplist); it is far below 2^31 */
	pcp->free_factor >>= n < 31 ? n : 31;
	pgdat->vmstat[PGALLOC_DMA + z->type] += n;
	pgdat->nr_alloc[0] += n;
}

/* n pfns from slots on into out, each struct page fetched for writing; two a round (the
 * loop's own instructions were a third of it) */
static inline void take_slots(const struct page *map, pfn_t *out, const pfn_t *slots, unsigned n)
{
	unsigned i = 0;
	for (; i + 1 < n; i += 2) {
		pfn_t a = slots[i], b = slots[i + 1];
		out[i] = a;
		out[i + 1] = b;
		__builtin_prefetch(&map[a], 1);
		__builtin_prefetch(&map[b], 1);
	}
	if (i < n) {
		out[i] = slots[i];
		__builtin_prefetch(&map[out[i]], 1);
	}
}

/* The bulk's part of pcp_fast_take: what nr takes of the head leave. The ring names the
 * pages before any is touched, so their struct pages (cold: freed a while ago) are all
 * fetched at once and written after, instead of one miss after another. A fresh struct
 * page is written as its two 16-byte halves; without prep, not at all (the caller
 * writes it whole). */
static inline __attribute__((always_inline)) unsigned
pcp_bulk_take(struct pglist_data *pgdat, struct zone *z, struct per_cpu_pages *pcp,
	      unsigned pindex, unsigned nr, pfn_t *out, bool prep)
{
	struct page *map = pgdat->memmap_base;
	struct pcp_list *l = &pcp->lists[pindex];
	uint32_t avail = pcp_list_count(l);
	unsigned n = nr < avail ? nr : (unsigned)avail;
	/* pcp_list_take_head n times: the slots as they lie, in at most two runs (the ring
	 * may wrap) */
	uint32_t head = l->head, slot = head & l->mask;
	unsigned run = l->cap - slot < n ? l->cap - slot : n;
	take_slots(map, out, &l->ring[slot], run);
	take_slots(map, out + run, l->ring, n - run);
	l->head = head + n;
	/* prep_new_page, order 0 */
	if (prep) {
		page_half lo, hi;
		fresh_page_halves(z, &lo, &hi);
		for (unsigned i = 0; i < n; i++)
			page_store(&map[out[i]], lo, hi);
	}
	pcp_bulk_took(pgdat, z, pcp, n);
	return n;
}

/* The pages on z's free lists of mt, counted up to limit at least (from the smallest
 * order up) */
static inline uint64_t mt_free_pages_upto(const struct zone *z, unsigned mt, uint64_t limit)
{
	uint64_t pages = 0;
	for (unsigned avail = z->free_orders[mt]; avail && pages < limit; avail &= avail - 1) {
		unsigned o = (unsigned)__builtin_ctz(avail);
		pages += z->free_area[o].nr_free_mt[mt] << o;
	}
	return pages;
}

/* Would rmqueue_bulk fill count order-0 blocks of mt from z's own free lists? Then it
 * never falls back: no pageblock changes type, no boost, no kswapd to wake. */
static inline bool refill_is_quiet(const struct zone *z, unsigned mt, int count)
{
	return mt_free_pages_upto(z, mt, (uint64_t)count) >= (uint64_t)count;
}

/* How many refills of z's empty list l (the first, whose batch all goes straight out,
 * included) the bulk makes one after the other, each of them handing its whole batch
 * straight out (at most max pages in all): after one, the walk comes back to z, which
 * still passes its fast test, with the same zones passed over; the next takes the next
 * batch from the same free lists, where the one before left off. Each must be quiet, keep
 * the zone above its mark without its batch, and fit the ring as it is (as the first,
 * whose room rmqueue_bulk makes). Block by block, these refills take the pages one
 * refill of all their batches takes (see rmqueue_bulk), so they are made as one. */
static inline unsigned direct_refills(const struct zone *z, const struct pcp_list *l, unsigned mt,
				      int64_t mark, unsigned batch, unsigned max)
{
	/* all of them: m * batch pages within each of these limits */
	uint64_t limit = max < l->cap ? max : l->cap;
	int64_t above = (int64_t)z->nr_free_pages - mark - 1;
	if (above < (int64_t)limit)
		limit = above > 0 ? (uint64_t)above : 0;
	uint64_t quiet = mt_free_pages_upto(z, mt, limit);
	if (quiet < limit)
		limit = quiet;
	unsigned m = (unsigned)(limit / batch);
	return m ? m : 1;
}

/* alloc_pages_bulk (6.1 __alloc_pages_bulk) for order 0, limited to the pcp fast path:
 * one zonelist walk and one watermark test for the pages one pcp list holds. A page
 * taken from a pcp list leaves zone->nr_free_pages (and so every zone's fast test), the
 * boost, the free lists and the other pcp lists as they were, so alloc_pages would take
 * each of these pages from the same list, in list order, passing over the same zones
 * (pcp_fast_pass_over: each passed zone's free_factor halves once per page). When the
 * list runs dry, alloc_pages would refill it (rmqueue_pcplist): that is done here too, as
 * its first page taken, when the zone's own free lists hold the batch; then the walk is
 * done again, as the refill lowered the zone's free pages. Where alloc_pages
 * would do anything else (a refill that falls back to another migratetype, which may
 * boost the watermark and wake kswapd; a pending boost; the slow path) this stops and the
 * caller calls it. prep false: alloc_pages_bulk_raw, which leaves the struct pages to the
 * caller, counts those of ZONE_HIGHMEM into *highmem and stops where the walk would go on
 * to another zone (a short return; the caller's next call or alloc_pages takes the page
 * there as the walk would), so the caller learns all the pages' zone from the first. */
static inline __attribute__((always_inline)) unsigned
bulk_alloc(struct pglist_data *pgdat, gfp_t gfp, unsigned cpu, unsigned nr, pfn_t *out, bool prep,
	   unsigned *highmem)
{
	if (unlikely(cpu >= pgdat->nr_cpus))
		cpu %= pgdat->nr_cpus;
	if (highmem)
		*highmem = 0;
	if (unlikely(!pgdat->pcp_enabled))
		return 0;
	struct alloc_context ac = gfp_alloc_context(pgdat, gfp);
	unsigned pindex = order_to_pindex(ac.migratetype, 0);
	unsigned got = 0, high = 0;
	const struct zone *first = NULL;
	while (got < nr) {
		unsigned passed;
		bool refill;
		struct zone *z = pcp_fast_zone(pgdat, ac.highest_zoneidx, ac.migratetype, cpu,
					       ac.highest_zoneidx, &passed, &refill);
		/* raw: the pages of one zone (pcp_fast_zone has changed nothing yet) */
		if (!z || (!prep && first && z != first))
			break;
		first = z;
		struct per_cpu_pages *pcp = &z->pcp[cpu];
		if (refill) {
			/* rmqueue_pcplist's refill of an order-0 list: the batch as it is */
			int batch = pcp->batch;
			if (!refill_is_quiet(z, ac.migratetype, batch))
				break;
			unsigned alloc_flags =
			    first_pass_alloc_flags(pgdat, ac.highest_zoneidx, gfp);
			/* The takes right after it: the page alloc_pages takes with the refill;
			 * then, while the zone passes its fast test without the batch (the next
			 * walk stops there again, passing over the same zones), the pages after
			 * it on the list. They leave the refill as fresh pages. */
			unsigned k = 1;
			int64_t mark = z->fast_mark[ac.highest_zoneidx];
			if ((int64_t)z->nr_free_pages - batch > mark)
				k = (unsigned)batch < nr - got ? (unsigned)batch : nr - got;
			int count = batch;
			if (k == (unsigned)batch && batch > 0) {
				k *= direct_refills(z, &pcp->lists[pindex], ac.migratetype, mark,
						    (unsigned)batch, nr - got);
				count = (int)k;
			}
			pcp->count += rmqueue_bulk(pgdat, z, 0, count, pcp, pindex, ac.migratetype,
						   alloc_flags, out + got, k, prep);
			pcp_bulk_took(pgdat, z, pcp, k);
			pcp_pass_over_done(pgdat, passed, cpu, k);
			got += k;
			high += z->type == ZONE_HIGHMEM ? k : 0;
			continue;
		}
		unsigned n = pcp_bulk_take(pgdat, z, pcp, pindex, nr - got, out + got, prep);
		pcp_pass_over_done(pgdat, passed, cpu, n);
		got += n;
		high += z->type == ZONE_HIGHMEM ? n : 0;
		if (!n)
			break;
	}
	if (highmem)
		*highmem = high;
	return got;
}

unsigned alloc_pages_bulk(struct pglist_data *pgdat, gfp_t gfp, unsigned cpu, unsigned nr,
			  pfn_t *out)
{
	return bulk_alloc(pgdat, gfp, cpu, nr, out, true, NULL);
}

/* The pages of alloc_pages_bulk without prep_new_page's stores: every struct page the
 * caller writes anyway (touch_map_frames) is written once instead of twice. All from one
 * zone: touch_map_frames writes the first one's zone into every flags without loading
 * them (mix: -21.7 M instructions, 2,487.0 -> 2,465.3 M). */
unsigned alloc_pages_bulk_raw(struct pglist_data *pgdat, gfp_t gfp, unsigned cpu, unsigned nr,
			      pfn_t *out, unsigned *highmem)
{
	return bulk_alloc(pgdat, gfp, cpu, nr, out, false, highmem);
}

uint64_t global_free_pages(const struct pglist_data *pgdat)
{
	uint64_t n = 0;
	for (int zi = 0; zi < MAX_NR_ZONES; zi++)
		n += pgdat->node_zones[zi].nr_free_pages;
	return n;
}

uint64_t zone_pcp_pages(const struct zone *z, unsigned nr_cpus)
{
	uint64_t n = 0;
	if (z->pcp)
		for (unsigned c = 0; c < nr_cpus; c++)
			n += (uint64_t)z->pcp[c].count;
	return n;
}
