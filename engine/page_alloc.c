/* The buddy allocator's splitting and merging, per-CPU lists, watermark checks and the
 * fast allocation paths (mm/page_alloc.c, Linux 6.1); fallback stealing is in
 * page_alloc_fallback.c, the slow path in page_alloc_slowpath.c. docs/BUDDY.md lists
 * what the model leaves out (compaction, CMA, isolation, NUMA). */
#include "page_alloc.h"

#include "page_alloc_internal.h"
#include "vmstat.h"

/* ---- freeing (__free_one_page) -------------------------------------------------------- */

/* __free_one_page, without the zone's free page count (the callers add it). The zone's
 * span and the pageblock order are read once by the caller: every store through struct
 * page would otherwise make the compiler reload them (-fno-strict-aliasing). */
static inline __attribute__((always_inline)) void
free_one_page_core(struct pglist_data *pgdat, struct page *map, struct zone *z, pfn_t zone_start,
		   uint64_t spanned, unsigned pb_order, pfn_t pfn, unsigned order, unsigned mt,
		   bool to_tail)
{
	pfn_t buddy = PFN_NONE;
	while (order < MAX_PAGE_ORDER) {
		buddy = pfn ^ (1u << order);
		if (!page_is_buddy(map, zone_start, spanned, buddy, order))
			break;
		if (unlikely(order >= pb_order)) {
			unsigned bmt = get_pageblock_migratetype(pgdat, buddy);
			if (bmt != mt && (!mt_mergeable(mt) || !mt_mergeable(bmt)))
				break;
		}
		del_from_free_list(map, z, buddy, order);
		pfn &= buddy;
		order++;
	}
	set_page_order(&map[pfn], 0);
	/* buddy_merge_likely (6.1): queue at the tail when the next-higher buddy is free, so
	 * the block is less likely to be split again before it can merge. */
	if (!to_tail && order < MAX_PAGE_ORDER - 1 && buddy != PFN_NONE) {
		pfn_t higher = buddy & pfn;
		to_tail = page_is_buddy(map, zone_start, spanned, higher ^ (1u << (order + 1)),
					order + 1);
	}
	add_to_free_list(map, z, pfn, order, mt, to_tail);
}

void free_one_page(struct pglist_data *pgdat, struct zone *z, pfn_t pfn, unsigned order,
		   enum migratetype mt, bool to_tail)
{
	z->nr_free_pages += 1ull << order;
	free_one_page_core(pgdat, pgdat->memmap_base, z, z->zone_start_pfn, z->spanned_pages,
			   pgdat->pageblock_order, pfn, order, mt, to_tail);
}

/* ---- allocating from the free lists (__rmqueue_smallest, expand) --------------------- */

static inline void expand(struct page *map, struct zone *z, pfn_t pfn, unsigned low, unsigned high,
			  unsigned mt)
{
	while (high > low) {
		high--;
		add_to_free_list(map, z, pfn + (1u << high), high, mt, false);
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

/* ---- per-CPU lists (6.1 rmqueue_pcplist, free_unref_page_commit, free_pcppages_bulk) -- */

/* pcp_allowed_order (6.1) */
static inline bool pcp_allowed_order(const struct pglist_data *pgdat, unsigned order)
{
	return order <= PAGE_ALLOC_COSTLY_ORDER ||
	       (pgdat->pcp_thp && order == pgdat->pageblock_order);
}

/* order_to_pindex (6.1): the THP list is shared by all migratetypes */
static inline unsigned order_to_pindex(unsigned mt, unsigned order)
{
	if (order > PAGE_ALLOC_COSTLY_ORDER)
		return NR_LOWORDER_PCP_LISTS;
	return order * MIGRATE_PCPTYPES + mt;
}

/* The struct pages the merge of pfn will test at orders 1 and 2 (order 0's buddy shares
 * pfn's cache line), fetched while the page before it is merged: the merge's buddy tests
 * are a chain of dependent misses otherwise. A hint only. always_inline: as a plain
 * static inline GCC 12 takes a prefetch-only helper for pure and drops it. */
static inline __attribute__((always_inline)) void prefetch_buddies(const struct page *map,
								   pfn_t pfn)
{
	__builtin_prefetch(&map[(pfn & ~1u) ^ 2u]);
	__builtin_prefetch(&map[(pfn & ~3u) ^ 4u]);
}

/* Longest run of ascending pages freed as one block by free_pcppages_bulk. */
#define PCP_RUN_MAX_ORDER 3

/* A pcp list's ring held in registers while free_pcppages_bulk takes its tail: the stores
 * through struct page would otherwise make the compiler reload it (-fno-strict-aliasing). */
struct ring_tail {
	const pfn_t *ring;
	uint32_t mask, head, tail;
};

/* Block i from the tail, 0 the oldest. */
static inline pfn_t ring_tail_nth(const struct ring_tail *r, uint32_t i)
{
	return r->ring[(r->tail - 1 - i) & r->mask];
}

/* free_pcppages_bulk has taken the ascending pair [pfn, pfn + 2) off the pcp list. While
 * the next 2^o oldest pages continue it as pfn + 2^o, pfn + 2^o + 1, ... and the run stays
 * aligned, they are taken too: freed one by one, the pages would merge into the same block
 * of order o + 1, every smaller block on the way going on a free list and off it again.
 * Returns the run's order. What those trips leave on the pages (order bits and PG_buddy
 * cleared on the even ones; private and index on the heads of blocks of order >= 1 that
 * waited for their upper half) is written here. */
static unsigned pcp_take_run(struct page *map, struct per_cpu_pages *pcp, struct ring_tail *r,
			     pfn_t pfn, int *count, unsigned pb_order)
{
	unsigned o = 1;
	while (o < PCP_RUN_MAX_ORDER && o < pb_order && !(pfn & ((2u << o) - 1)) &&
	       *count >= (1 << o) && r->tail - r->head >= (1u << o)) {
		/* the 2^o oldest, oldest first, must be first, first + 1, ..., last */
		pfn_t first = pfn + (1u << o);
		uint32_t i = 0;
		while (i < (1u << o) && ring_tail_nth(r, i) == first + i)
			i++;
		if (i < (1u << o))
			break;
		r->tail -= 1u << o;
		for (pfn_t x = first; x < first + (1u << o); x++) {
			uint32_t clear = PG_pcp;
			if (!(x & 1))
				clear |= PG_buddy | PAGE_ORDER_MASK;
			map[x].flags &= ~clear;
		}
		*count -= 1 << o;
		pcp->count -= 1 << o;
		o++;
	}
	/* the head at offset i of the block of order m = ctz(i) (o at 0) went on the order
	 * m - 1 list last, put there by the free of its last page */
	for (unsigned i = 0; o > 1 && i < (1u << o); i += 4) {
		unsigned m = i ? (unsigned)__builtin_ctz(i) : o;
		map[pfn + i].private = m - 1;
		map[pfn + i].index = map[pfn + i + (1u << (m - 1)) - 1].index;
	}
	return o;
}

/* How far ahead free_pcppages_bulk fetches. */
#define PCP_BULK_PREFETCH 4

static void free_pcppages_bulk(struct pglist_data *pgdat, struct zone *z, struct per_cpu_pages *pcp,
			       int count, unsigned pindex)
{
	if (count > pcp->count)
		count = pcp->count;
	struct page *map = pgdat->memmap_base;
	pfn_t zone_start = z->zone_start_pfn;
	uint64_t spanned = z->spanned_pages;
	unsigned pb_order = pgdat->pageblock_order;
	int pcp_count = pcp->count;
	pindex = pindex == 0 ? NR_PCP_LISTS - 1 : pindex - 1;
	while (count > 0) {
		do {
			if (++pindex >= NR_PCP_LISTS)
				pindex = 0;
		} while (pcp_list_empty(&pcp->lists[pindex]));
		struct pcp_list *l = &pcp->lists[pindex];
		struct ring_tail r = {l->ring, l->mask, l->head, l->tail};
		unsigned order = pcp_list_order(pgdat, pindex);
		do {
			pfn_t pfn = ring_tail_nth(&r, 0); /* the oldest page */
			r.tail--;
			struct page *p = &map[pfn];
			pfn_t older = r.tail != r.head ? ring_tail_nth(&r, 0) : PFN_NONE;
			/* the ring names the pages to come: their struct pages and buddies
			 * are fetched a few pages ahead, not found one miss at a time */
			if (r.tail - r.head > PCP_BULK_PREFETCH) {
				pfn_t ahead = ring_tail_nth(&r, PCP_BULK_PREFETCH);
				__builtin_prefetch(&map[ahead], 1);
				prefetch_buddies(map, ahead);
			}
			p->flags &= ~PG_pcp;
			count -= 1 << order;
			pcp->count -= 1 << order;
			unsigned mt = p->index, o = order;
			if (order == 0 && older == (pfn ^ 1) && count > 0 && pb_order) {
				/* The next oldest is its buddy: freed alone, the first page
				 * would go on the order-0 list (its buddy is not free yet) and
				 * come off it again as the second merges with it. What that
				 * leaves on the first page (order bits cleared, private and
				 * index as on the pcp list) is written here, and the pair is
				 * freed as one order-1 block. */
				struct page *q = &map[older];
				p->flags &= ~(PG_buddy | PAGE_ORDER_MASK);
				r.tail--;
				q->flags &= ~PG_pcp;
				count--;
				pcp->count--;
				mt = q->index;
				if (older == pfn + 1 && !(pfn & 3)) {
					o = pcp_take_run(map, pcp, &r, pfn, &count, pb_order);
					mt = map[pfn + (1u << o) - 1].index;
				} else {
					pfn &= older;
					o = 1;
				}
			}
			free_one_page_core(pgdat, map, z, zone_start, spanned, pb_order, pfn, o, mt,
					   false);
		} while (count > 0 && r.tail != r.head);
		l->tail = r.tail;
	}
	/* every page freed left the pcp count */
	z->nr_free_pages += (uint64_t)(pcp_count - pcp->count);
}

static void drain_zone_pcp(struct pglist_data *pgdat, struct zone *z, struct per_cpu_pages *pcp)
{
	if (pcp->count)
		free_pcppages_bulk(pgdat, z, pcp, pcp->count, 0);
}

void drain_all_pages(struct pglist_data *pgdat)
{
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct zone *z = &pgdat->node_zones[zi];
		if (!z->pcp)
			continue;
		for (unsigned c = 0; c < pgdat->nr_cpus; c++)
			drain_zone_pcp(pgdat, z, &z->pcp[c]);
	}
}

void page_alloc_set_pcp(struct pglist_data *pgdat, bool enabled)
{
	if (!enabled)
		drain_all_pages(pgdat);
	pgdat->pcp_enabled = enabled;
}

/* The part [pfn + (n << order), pfn + 2^o) of a block of order o that a refill leaves
 * after taking its first n blocks of the requested order: what expand would have left,
 * one aligned block per order, each alone on its list (the lists below o were empty). */
static void expand_rest(struct page *map, struct zone *z, pfn_t pfn, unsigned n, unsigned order,
			unsigned o, unsigned mt)
{
	for (unsigned x = n << order; x < (1u << o); x += x & -x)
		add_to_free_list(map, z, pfn + x, (unsigned)__builtin_ctz(x), mt, false);
}

/* The blocks rmqueue_bulk takes one by one from the head of mt's list at order, the
 * requested order (no split), up to want or the list's end, in one pass: the list's head,
 * counts and free_orders are written once, and the prev links of the pages taken are not
 * fixed on the way (the pcp pages have none). Adds the blocks taken to *i. */
static inline uint32_t take_free_list_run(struct page *map, struct zone *z, unsigned order,
					  unsigned mt, unsigned want, pfn_t *ring, uint32_t mask,
					  uint32_t tail, int *i)
{
	struct free_area *area = &z->free_area[order];
	pfn_t pfn = area->free_list[mt];
	unsigned k = 0;
	do {
		struct page *p = &map[pfn];
		pfn_t next = p->next;
		p->flags = (p->flags & ~PG_buddy) | PG_pcp;
		p->next = p->prev = PFN_NONE;
		p->private = order;
		p->index = mt;
		ring[tail++ & mask] = pfn; /* pcp_list_add_tail */
		pfn = next;
	} while (++k < want && pfn != PFN_NONE);
	area->free_list[mt] = pfn;
	if (pfn == PFN_NONE) {
		area->free_tail[mt] = PFN_NONE;
		z->free_orders[mt] &= (uint16_t) ~(1u << order);
	} else {
		map[pfn].prev = PFN_NONE;
	}
	area->nr_free_mt[mt] -= k;
	area->nr_free -= k;
	*i += (int)k;
	return tail;
}

/* rmqueue_bulk: count blocks from the buddy lists onto the tail of a pcp list. The kernel
 * takes them one by one, each from the smallest non-empty list of mt, and expand puts the
 * halves of a split block at the heads of the lists below its order, which were empty:
 * so the next blocks taken are the rest of that block, in pfn order. The loop hands out
 * such a run at once and puts on the free lists only what the batch leaves of its last
 * block. Same pages, same order, same free lists as block by block. */
static int rmqueue_bulk(struct pglist_data *pgdat, struct zone *z, unsigned order, int count,
			struct per_cpu_pages *pcp, unsigned pindex, unsigned mt,
			unsigned alloc_flags)
{
	struct page *map = pgdat->memmap_base;
	struct pcp_list *l = &pcp->lists[pindex];
	unsigned step = 1u << order;
	int i = 0;
	if (unlikely(l->cap - pcp_list_count(l) < (uint32_t)count))
		pcp_list_make_room(pgdat, pcp, l, (uint32_t)count);
	/* the ring's tail in registers: the stores through struct page would reload it */
	pfn_t *ring = l->ring;
	uint32_t mask = l->mask, tail = l->tail;
	while (i < count) {
		unsigned avail = free_orders_from(z, mt, order);
		if (unlikely(!avail)) {
			if (!rmqueue_fallback(pgdat, z, order, mt, alloc_flags))
				break;
			continue;
		}
		unsigned o = order + (unsigned)__builtin_ctz(avail);
		if (o == order) {
			tail = take_free_list_run(map, z, order, mt, (unsigned)(count - i), ring,
						  mask, tail, &i);
			continue;
		}
		pfn_t pfn = take_free_list_head(map, z, o, mt);
		unsigned n = 1u << (o - order);
		if (n > (unsigned)(count - i)) {
			n = (unsigned)(count - i);
			expand_rest(map, z, pfn, n, order, o, mt);
		}
		/* PG_buddy: the halves expand would have put on the lists lose it again */
		for (unsigned k = 0; k < n; k++, pfn += step) {
			struct page *p = &map[pfn];
			p->flags = (p->flags & ~PG_buddy) | PG_pcp;
			p->next = p->prev = PFN_NONE;
			p->private = order;
			p->index = mt;
			ring[tail++ & mask] = pfn; /* pcp_list_add_tail */
		}
		i += (int)n;
	}
	l->tail = tail;
	z->nr_free_pages -= (uint64_t)i << order;
	return i;
}

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
		pcp->count += rmqueue_bulk(pgdat, z, order, batch, pcp, pindex, mt, alloc_flags)
			      << order;
		if (pcp_list_empty(l))
			return PFN_NONE;
	}
	pfn_t pfn = pcp_list_take_head(l);
	pfn_to_page(pgdat, pfn)->flags &= ~PG_pcp;
	pcp->count -= 1 << order;
	return pfn;
}

/* nr_pcp_free (6.1) */
static int nr_pcp_free(struct per_cpu_pages *pcp, int high, int batch, bool free_high)
{
	if (unlikely(free_high))
		return pcp->count;
	if (unlikely(high < batch))
		return 1;
	int min_nr = batch, max_nr = high - batch;
	batch <<= pcp->free_factor;
	if (batch < max_nr)
		pcp->free_factor++;
	if (batch < min_nr)
		batch = min_nr;
	if (batch > max_nr)
		batch = max_nr;
	return batch;
}

/* map is pgdat->memmap_base (see the pfn lists in page_alloc_internal.h) */
static inline void free_unref_page_commit(struct pglist_data *pgdat, struct page *map,
					  struct zone *z, struct per_cpu_pages *pcp, pfn_t pfn,
					  unsigned order, unsigned block_mt)
{
	unsigned mt = block_mt < MIGRATE_PCPTYPES ? block_mt : MIGRATE_MOVABLE;
	unsigned pindex = order_to_pindex(mt, order);
	struct pcp_list *l = &pcp->lists[pindex];
	int count = pcp->count;
	if (unlikely(count >= pcp->ring_pages))
		pcp_list_make_room(pgdat, pcp, l, 1);
	/* the ring first: the stores through struct page would make the compiler reload l */
	pcp_list_add_head(l, pfn);
	struct page *p = &map[pfn];
	p->flags |= PG_pcp;
	p->private = order;
	p->index = block_mt; /* get_pcppage_migratetype: where it goes back to */
	count += 1 << order;
	pcp->count = count;
	bool free_high = pcp->free_factor && order && order <= PAGE_ALLOC_COSTLY_ORDER;
	/* nr_pcp_high without ZONE_RECLAIM_ACTIVE (not modeled) */
	int high = free_high ? 0 : pcp->high;
	if (count >= high)
		free_pcppages_bulk(pgdat, z, pcp, nr_pcp_free(pcp, high, pcp->batch, free_high),
				   pindex);
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

/* ---- gfp → zone, migratetype, alloc_flags ------------------------------------------------ */

enum zone_type gfp_zone(const struct pglist_data *pgdat, gfp_t gfp)
{
	/* GFP_ZONE_TABLE (include/linux/gfp.h): DMA wins over DMA32 over HIGHMEM; MOVABLE
	 * alone is Normal, MOVABLE|HIGHMEM is ZONE_MOVABLE (modeled as HighMem/Normal, the
	 * zone below an empty Movable zone). Invalid combinations (a kernel BUG) pick the
	 * lowest zone named. */
	if (gfp & __GFP_DMA)
		return ZONE_DMA;
	if (gfp & __GFP_DMA32)
		return pgdat->has_dma32 ? ZONE_DMA32 : ZONE_NORMAL;
	if (gfp & __GFP_HIGHMEM)
		return pgdat->has_highmem ? ZONE_HIGHMEM : ZONE_NORMAL;
	return ZONE_NORMAL;
}

enum migratetype gfp_migratetype(gfp_t gfp)
{
	/* include/linux/gfp.h gfp_migratetype; MOVABLE|RECLAIMABLE is invalid, taken as movable */
	if (gfp & __GFP_MOVABLE)
		return MIGRATE_MOVABLE;
	if (gfp & __GFP_RECLAIMABLE)
		return MIGRATE_RECLAIMABLE;
	return MIGRATE_UNMOVABLE;
}

/* alloc_flags_nofragment (6.1): with ZONE_DMA32 configured, a Normal-first allocation
 * first avoids fragmenting fallbacks below pageblock order. */
static unsigned alloc_flags_nofragment(const struct pglist_data *pgdat, int highest, gfp_t gfp)
{
	unsigned flags = (gfp & __GFP_KSWAPD_RECLAIM) ? ALLOC_KSWAPD : 0;
	return flags | pgdat->nofragment[highest];
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
	unsigned alloc_flags =
	    ALLOC_WMARK_LOW | alloc_flags_nofragment(pgdat, ac.highest_zoneidx, gfp);
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
 * goes to pcp_fast_pass_over. Anything else (refill, pending boost, slow path) goes to
 * the general path, which decides with the same result it would have had: nothing was
 * changed. The misses are tail calls, so the hit path saves no registers. */

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
	unsigned alloc_flags = ALLOC_WMARK_LOW | alloc_flags_nofragment(pgdat, highest, gfp);
	pfn_t pfn = rmqueue(pgdat, z, 0, mt, alloc_flags, cpu);
	prep_new_page(pgdat, z, pfn, 0, gfp);
	return pfn;
}

/* Zone zi passed the watermark but its pcp list is empty. When its free lists cannot
 * refill it under the first pass's ALLOC_NOFRAGMENT, get_page_from_freelist passes over
 * it: rmqueue_pcplist halves its free_factor, rmqueue_bulk and rmqueue_buddy find nothing
 * and change nothing else (x86_64 with Normal short of movable pages: every allocation
 * comes from DMA32's pcp list this way). The walk goes on here, and the halvings are
 * applied only when a later zone hands out the page. */
static __attribute__((noinline)) pfn_t pcp_fast_pass_over(struct pglist_data *pgdat, gfp_t gfp,
							  int highest, unsigned mt, unsigned cpu,
							  int zi)
{
	unsigned pindex = order_to_pindex(mt, 0);
	unsigned nofragment = pgdat->nofragment[highest];
	unsigned passed = 0;
	for (; zi >= 0; zi--) {
		struct zone *z = &pgdat->node_zones[zi];
		if (!pcp_fast_wmark_ok(z, highest))
			continue;
		if (z->boost_pending)
			break;
		struct per_cpu_pages *pcp = &z->pcp[cpu];
		if (!pcp_list_empty(&pcp->lists[pindex])) {
			for (; passed; passed &= passed - 1)
				pgdat->node_zones[__builtin_ctz(passed)].pcp[cpu].free_factor >>= 1;
			return pcp_fast_take(pgdat, z, pcp, pindex, gfp);
		}
		if (!rmqueue_fails(pgdat, z, 0, mt, nofragment)) {
			for (; passed; passed &= passed - 1)
				pgdat->node_zones[__builtin_ctz(passed)].pcp[cpu].free_factor >>= 1;
			return pcp_fast_refill(pgdat, z, gfp, highest, mt, cpu);
		}
		passed |= 1u << zi;
	}
	return alloc_pages_general(pgdat, gfp, 0, cpu);
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

/* The bulk's part of pcp_fast_take: what nr takes of the head leave. The ring names the
 * pages before any is touched, so their struct pages (cold: freed a while ago) are all
 * fetched at once and written after, instead of one miss after another. */
static unsigned pcp_bulk_take(struct pglist_data *pgdat, struct zone *z, struct per_cpu_pages *pcp,
			      unsigned pindex, unsigned nr, pfn_t *out)
{
	struct page *map = pgdat->memmap_base;
	const struct page fresh = {.flags = (uint32_t)z->type << PAGE_ZONE_SHIFT,
				   .next = PFN_NONE, .prev = PFN_NONE, .refcount = 1};
	struct pcp_list *l = &pcp->lists[pindex];
	uint32_t avail = pcp_list_count(l);
	unsigned n = nr < avail ? nr : (unsigned)avail;
	/* pcp_list_take_head n times, the ring in registers (out may alias it) */
	const pfn_t *ring = l->ring;
	uint32_t mask = l->mask, head = l->head;
	for (unsigned i = 0; i < n; i++) {
		out[i] = ring[(head + i) & mask];
		__builtin_prefetch(&map[out[i]], 1);
	}
	l->head = head + n;
	for (unsigned i = 0; i < n; i++)
		map[out[i]] = fresh; /* prep_new_page, order 0 */
	pcp->count -= (int)n;
	/* halved once per allocation (rmqueue_pcplist); it is far below 2^31 */
	pcp->free_factor >>= n < 31 ? n : 31;
	pgdat->vmstat[PGALLOC_DMA + z->type] += n;
	pgdat->nr_alloc[0] += n;
	return n;
}

/* alloc_pages_bulk (6.1 __alloc_pages_bulk) for order 0, limited to the pcp fast path's
 * hits: one zonelist walk and one watermark test for the lot. A page taken from a pcp list
 * leaves zone->nr_free_pages (and so every zone's fast test), the boost, the free lists
 * and the other pcp lists as they were, so alloc_pages would take each of these pages from
 * the same list, in list order, passing over the same zones (pcp_fast_pass_over: each
 * passed zone's free_factor halves once per page). Where alloc_pages would do anything
 * else (refill, wake kswapd for a boost, the slow path) this returns 0 and the caller
 * calls it. */
unsigned alloc_pages_bulk(struct pglist_data *pgdat, gfp_t gfp, unsigned cpu, unsigned nr,
			  pfn_t *out)
{
	if (unlikely(cpu >= pgdat->nr_cpus))
		cpu %= pgdat->nr_cpus;
	if (unlikely(!pgdat->pcp_enabled))
		return 0;
	struct alloc_context ac = gfp_alloc_context(pgdat, gfp);
	unsigned pindex = order_to_pindex(ac.migratetype, 0);
	unsigned passed = 0;
	for (int zi = ac.highest_zoneidx; zi >= 0; zi--) {
		struct zone *z = &pgdat->node_zones[zi];
		if (!pcp_fast_wmark_ok(z, ac.highest_zoneidx))
			continue;
		if (z->boost_pending)
			return 0;
		struct per_cpu_pages *pcp = &z->pcp[cpu];
		if (!pcp_list_empty(&pcp->lists[pindex])) {
			unsigned got = pcp_bulk_take(pgdat, z, pcp, pindex, nr, out);
			for (; passed; passed &= passed - 1)
				pgdat->node_zones[__builtin_ctz(passed)].pcp[cpu].free_factor >>=
				    got < 31 ? got : 31;
			return got;
		}
		if (!rmqueue_fails(pgdat, z, 0, ac.migratetype,
				   pgdat->nofragment[ac.highest_zoneidx]))
			return 0;
		passed |= 1u << zi;
	}
	return 0;
}

static inline __attribute__((always_inline)) void
free_pages_order(struct pglist_data *pgdat, pfn_t pfn, unsigned order, unsigned cpu)
{
	if (unlikely(order > MAX_PAGE_ORDER ||
		     (uint64_t)(pfn - pgdat->node_start_pfn) + (1ull << order) >
			 pgdat->node_spanned_pages)) {
		count_vm_event(pgdat->vmstat, UNKNOWN_PAGE_FREE);
		return;
	}
	struct page *p = pfn_to_page(pgdat, pfn);
	/* a double free or a free of memory the allocator never owned is counted, not applied */
	if (unlikely(p->flags & (PG_buddy | PG_pcp | PG_reserved))) {
		count_vm_event(pgdat->vmstat, UNKNOWN_PAGE_FREE);
		return;
	}
	/* free_pages_prepare: page flags are reset, the zone bits stay */
	for (uint32_t i = 0; i < (1u << order); i++)
		p[i].flags &= PAGE_ZONE_MASK;
	p->refcount = 0;
	struct zone *z = &pgdat->node_zones[page_zonenum(p)];
	unsigned mt = get_pageblock_migratetype(pgdat, pfn);
	pgdat->vmstat[PGFREE] += 1ull << order;
	if (unlikely(cpu >= pgdat->nr_cpus))
		cpu %= pgdat->nr_cpus;
	if (likely(pgdat->pcp_enabled && pcp_allowed_order(pgdat, order)))
		free_unref_page_commit(pgdat, pgdat->memmap_base, z, &z->pcp[cpu], pfn, order, mt);
	else
		free_one_page(pgdat, z, pfn, order, (enum migratetype)mt, false);
}

void free_pages(struct pglist_data *pgdat, pfn_t pfn, unsigned order, unsigned cpu)
{
	/* most frees are order 0: that case compiled with the order as a constant */
	if (likely(order == 0))
		free_pages_order(pgdat, pfn, 0, cpu);
	else
		free_pages_order(pgdat, pfn, order, cpu);
}

/* free_unref_folios (6.10; free_unref_page_list in 6.1, which also takes the zone's pcp
 * once per run of one zone) for order-0 pages: free_pages(pfns[i], 0, cpu) for each i in
 * turn, with what every call repeats done once (the cpu, pcp_enabled, the PGFREE count,
 * the zone's pcp while the zone repeats). The commits stay one by one: each may start a
 * free_pcppages_bulk whose merges depend on what went before. Between those, the list
 * being added to (its ring and head) and the pcp's count live in registers: the stores
 * through struct page would make the compiler reload them for every page
 * (-fno-strict-aliasing). A commit that may trim or grow the lists (count at high or at
 * ring_pages) writes them back and goes through free_unref_page_commit. */
/* The order-0 list a page of pageblock type mt is freed to (free_unref_page_commit). */
static inline struct pcp_list *pcp_list_of(struct per_cpu_pages *pcp, unsigned mt)
{
	return &pcp->lists[mt < MIGRATE_PCPTYPES ? mt : MIGRATE_MOVABLE];
}

/* The pcp count from which an order-0 commit needs room (ring_pages, before the add) or
 * trims (high, after it). */
static inline int pcp_commit_limit(const struct per_cpu_pages *pcp)
{
	return pcp->high - 1 < pcp->ring_pages ? pcp->high - 1 : pcp->ring_pages;
}

void free_unref_folios(struct pglist_data *pgdat, const pfn_t *pfns, unsigned n, unsigned cpu)
{
	if (unlikely(cpu >= pgdat->nr_cpus))
		cpu %= pgdat->nr_cpus;
	if (unlikely(!pgdat->pcp_enabled)) {
		for (unsigned i = 0; i < n; i++)
			free_pages_order(pgdat, pfns[i], 0, cpu);
		return;
	}
	count_vm_events(pgdat->vmstat, PGFREE, n); /* less the unknown ones */
	struct page *map = pgdat->memmap_base;
	pfn_t node_start = pgdat->node_start_pfn;
	uint64_t spanned = pgdat->node_spanned_pages;
	const uint8_t *pageblock_mt = pgdat->pageblock_mt;
	pfn_t pageblock_base = pgdat->pageblock_base;
	unsigned pb_order = pgdat->pageblock_order;
	struct per_cpu_pages *pcp = NULL;
	/* The list in registers: pcp->lists[key & 7] of zone key >> PAGE_ZONE_SHIFT, the page
	 * flags' zone bits or'ed with the pageblock type (UINT32_MAX: none). */
	_Static_assert(MIGRATE_TYPES <= 8 && !(PAGE_ZONE_MASK & 7), "key packs zone and type");
	uint32_t key = UINT32_MAX;
	pfn_t *ring = NULL;
	uint32_t mask = 0, head = 0;
	/* commits left before pcp_commit_limit: count is limit - room */
	int room = 0, limit = 0;
	for (const pfn_t *pp = pfns, *end = pfns + n; pp != end; pp++) {
		pfn_t pfn = *pp;
		struct page *p = &map[pfn];
		/* the checks of free_pages_order: counted, not applied */
		if (unlikely((uint64_t)(pfn - node_start) >= spanned ||
			     (p->flags & (PG_buddy | PG_pcp | PG_reserved)))) {
			count_vm_event(pgdat->vmstat, UNKNOWN_PAGE_FREE);
			pgdat->vmstat[PGFREE]--;
			continue;
		}
		uint32_t flags = p->flags & PAGE_ZONE_MASK;
		p->refcount = 0;
		/* get_pageblock_migratetype, its fields read once */
		unsigned mt = pageblock_mt[(pfn - pageblock_base) >> pb_order];
		if (unlikely((flags | mt) != key || room <= 0)) {
			if (key != UINT32_MAX) {
				pcp_list_of(pcp, key & 7)->head = head;
				pcp->count = limit - room;
			}
			key = UINT32_MAX;
			pcp = &pgdat->node_zones[flags >> PAGE_ZONE_SHIFT].pcp[cpu];
			limit = pcp_commit_limit(pcp);
			room = limit - pcp->count;
			if (room <= 0) {
				p->flags = flags;
				free_unref_page_commit(pgdat, map,
						       &pgdat->node_zones[flags >> PAGE_ZONE_SHIFT],
						       pcp, pfn, 0, mt);
				continue;
			}
			struct pcp_list *l = pcp_list_of(pcp, mt);
			key = flags | mt;
			ring = l->ring;
			mask = l->mask;
			head = l->head;
		}
		ring[--head & mask] = pfn; /* pcp_list_add_head */
		p->flags = flags | PG_pcp;
		p->private = 0;
		p->index = mt; /* get_pcppage_migratetype: where it goes back to */
		room--;
	}
	if (key != UINT32_MAX) {
		pcp_list_of(pcp, key & 7)->head = head;
		pcp->count = limit - room;
	}
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
