/* The buddy allocator's free lists, splitting, merging, migratetype fallback, per-CPU lists
 * and the allocation paths (mm/page_alloc.c, Linux 6.1). docs/BUDDY.md lists what the model
 * leaves out (compaction, CMA, isolation, NUMA). */
#include "page_alloc.h"

#include "page_alloc_internal.h"
#include "vmstat.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* mm/internal.h MAX_RECLAIM_RETRIES */
#define MAX_RECLAIM_RETRIES 16

/* ---- circular pfn lists ------------------------------------------------------------ */

static inline void list_insert(struct pglist_data *pgdat, pfn_t *head, pfn_t pfn, bool tail)
{
	struct page *p = pfn_to_page(pgdat, pfn);
	pfn_t h = *head;
	if (h == PFN_NONE) {
		p->next = p->prev = pfn;
		*head = pfn;
		return;
	}
	struct page *hp = pfn_to_page(pgdat, h);
	pfn_t t = hp->prev;
	p->next = h;
	p->prev = t;
	pfn_to_page(pgdat, t)->next = pfn;
	hp->prev = pfn;
	if (!tail)
		*head = pfn;
}

static inline void list_remove(struct pglist_data *pgdat, pfn_t *head, pfn_t pfn)
{
	struct page *p = pfn_to_page(pgdat, pfn);
	if (p->next == pfn) {
		*head = PFN_NONE;
	} else {
		pfn_to_page(pgdat, p->prev)->next = p->next;
		pfn_to_page(pgdat, p->next)->prev = p->prev;
		if (*head == pfn)
			*head = p->next;
	}
	p->next = p->prev = PFN_NONE;
}

/* ---- free areas (add_to_free_list, del_page_from_free_list, move_to_free_list) ------ */

static inline void add_to_free_list(struct pglist_data *pgdat, struct zone *z, pfn_t pfn,
				    unsigned order, unsigned mt, bool tail)
{
	struct page *p = pfn_to_page(pgdat, pfn);
	struct free_area *area = &z->free_area[order];
	p->flags |= PG_buddy;
	p->private = order;
	p->index = mt;
	list_insert(pgdat, &area->free_list[mt], pfn, tail);
	area->nr_free_mt[mt]++;
	area->nr_free++;
}

static inline void del_from_free_list(struct pglist_data *pgdat, struct zone *z, pfn_t pfn,
				      unsigned order)
{
	struct page *p = pfn_to_page(pgdat, pfn);
	struct free_area *area = &z->free_area[order];
	unsigned mt = p->index;
	list_remove(pgdat, &area->free_list[mt], pfn);
	p->flags &= ~PG_buddy;
	area->nr_free_mt[mt]--;
	area->nr_free--;
}

static void move_to_free_list(struct pglist_data *pgdat, struct zone *z, pfn_t pfn,
			      unsigned order, unsigned mt)
{
	del_from_free_list(pgdat, z, pfn, order);
	add_to_free_list(pgdat, z, pfn, order, mt, false);
}

static inline void set_pageblock_migratetype(struct pglist_data *pgdat, pfn_t pfn, unsigned mt)
{
	pgdat->pageblock_mt[(pfn - pgdat->pageblock_base) >> pgdat->pageblock_order] = (uint8_t)mt;
}

/* page_is_buddy: free, same order, same zone (the zone span test also keeps the buddy
 * inside mem_map). */
static inline bool page_is_buddy(struct pglist_data *pgdat, const struct zone *z, pfn_t buddy,
				 unsigned order)
{
	if ((uint64_t)(buddy - z->zone_start_pfn) >= z->spanned_pages)
		return false;
	const struct page *b = pfn_to_page(pgdat, buddy);
	return (b->flags & PG_buddy) && b->private == order;
}

/* ---- freeing (__free_one_page) -------------------------------------------------------- */

/* migratetype_is_mergeable (mm/page_alloc.c): only the PCP types merge across pageblocks */
static inline bool mt_mergeable(unsigned mt)
{
	return mt < MIGRATE_PCPTYPES;
}

void free_one_page(struct pglist_data *pgdat, struct zone *z, pfn_t pfn, unsigned order,
		   enum migratetype mt, bool to_tail)
{
	pfn_t buddy = PFN_NONE;
	z->nr_free_pages += 1ull << order;
	while (order < MAX_PAGE_ORDER) {
		buddy = pfn ^ (1u << order);
		if (!page_is_buddy(pgdat, z, buddy, order))
			break;
		if (unlikely(order >= pgdat->pageblock_order)) {
			unsigned bmt = get_pageblock_migratetype(pgdat, buddy);
			if (bmt != (unsigned)mt && (!mt_mergeable(mt) || !mt_mergeable(bmt)))
				break;
		}
		del_from_free_list(pgdat, z, buddy, order);
		pfn &= buddy;
		order++;
	}
	set_page_order(pfn_to_page(pgdat, pfn), 0);
	/* buddy_merge_likely (6.1): queue at the tail when the next-higher buddy is free, so
	 * the block is less likely to be split again before it can merge. */
	if (!to_tail && order < MAX_PAGE_ORDER - 1 && buddy != PFN_NONE) {
		pfn_t higher = buddy & pfn;
		to_tail = page_is_buddy(pgdat, z, higher ^ (1u << (order + 1)), order + 1);
	}
	add_to_free_list(pgdat, z, pfn, order, mt, to_tail);
}

/* ---- allocating from the free lists (__rmqueue_smallest, expand) --------------------- */

static inline void expand(struct pglist_data *pgdat, struct zone *z, pfn_t pfn, unsigned low,
			  unsigned high, unsigned mt)
{
	while (high > low) {
		high--;
		add_to_free_list(pgdat, z, pfn + (1u << high), high, mt, false);
	}
}

static inline pfn_t rmqueue_smallest(struct pglist_data *pgdat, struct zone *z, unsigned order,
				     unsigned mt)
{
	for (unsigned o = order; o < NR_PAGE_ORDERS; o++) {
		pfn_t pfn = z->free_area[o].free_list[mt];
		if (pfn == PFN_NONE)
			continue;
		del_from_free_list(pgdat, z, pfn, o);
		expand(pgdat, z, pfn, order, o, mt);
		return pfn;
	}
	return PFN_NONE;
}

/* ---- migratetype fallback (6.1 __rmqueue_fallback and helpers) ------------------------ */

/* mm/page_alloc.c fallbacks[] */
static const uint8_t fallbacks[MIGRATE_PCPTYPES][2] = {
	[MIGRATE_UNMOVABLE] = {MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE},
	[MIGRATE_MOVABLE] = {MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE},
	[MIGRATE_RECLAIMABLE] = {MIGRATE_UNMOVABLE, MIGRATE_MOVABLE},
};

/* can_steal_fallback (6.1) */
static bool can_steal_fallback(const struct pglist_data *pgdat, unsigned order, unsigned start_mt)
{
	if (order >= pgdat->pageblock_order)
		return true;
	return order >= pgdat->pageblock_order / 2 || start_mt == MIGRATE_RECLAIMABLE ||
	       start_mt == MIGRATE_UNMOVABLE || pgdat->page_group_by_mobility_disabled;
}

/* find_suitable_fallback (6.1, only_stealable = false) */
static int find_suitable_fallback(const struct pglist_data *pgdat, const struct free_area *area,
				  unsigned order, unsigned mt, bool *can_steal)
{
	*can_steal = false;
	if (!area->nr_free)
		return -1;
	for (int i = 0; i < 2; i++) {
		unsigned fmt = fallbacks[mt][i];
		if (area->free_list[fmt] == PFN_NONE)
			continue;
		*can_steal = can_steal_fallback(pgdat, order, mt);
		return (int)fmt;
	}
	return -1;
}

/* move_freepages_block (6.1): move the free blocks of pfn's pageblock to mt's lists.
 * Returns pages moved; *movable counts in-use pages that look movable (PageLRU). */
static uint64_t move_freepages_block(struct pglist_data *pgdat, struct zone *z, pfn_t pfn,
				     unsigned mt, uint64_t *movable)
{
	pfn_t start = pfn & ~(pfn_t)(pageblock_nr_pages(pgdat) - 1);
	pfn_t end = start + (pfn_t)pageblock_nr_pages(pgdat) - 1;
	if (start < z->zone_start_pfn)
		start = pfn;
	if (end >= zone_end_pfn(z))
		return 0;
	uint64_t moved = 0;
	if (movable)
		*movable = 0;
	for (pfn_t p = start; p <= end;) {
		struct page *pg = pfn_to_page(pgdat, p);
		if (!(pg->flags & PG_buddy)) {
			if (movable && (pg->flags & PG_lru))
				(*movable)++;
			p++;
			continue;
		}
		unsigned o = pg->private;
		move_to_free_list(pgdat, z, p, o, mt);
		p += 1u << o;
		moved += 1ull << o;
	}
	return moved;
}

/* boost_watermark (6.1) */
static bool boost_watermark(struct pglist_data *pgdat, struct zone *z)
{
	uint64_t pb = pageblock_nr_pages(pgdat);
	uint64_t factor = (uint64_t)pgdat->vm.watermark_boost_factor;
	if (!factor || pb * 4 > z->managed_pages)
		return false;
	uint64_t high = z->watermark[WMARK_HIGH];
	/* mult_frac(high, factor, 10000) */
	uint64_t max_boost = (high / 10000) * factor + (high % 10000) * factor / 10000;
	if (!max_boost)
		return false;
	if (max_boost < pb)
		max_boost = pb;
	z->watermark_boost = z->watermark_boost + pb < max_boost ? z->watermark_boost + pb : max_boost;
	return true;
}

/* steal_suitable_fallback (6.1) */
static void steal_suitable_fallback(struct pglist_data *pgdat, struct zone *z, pfn_t pfn,
				    unsigned alloc_flags, unsigned start_mt, bool whole_block)
{
	unsigned order = pfn_to_page(pgdat, pfn)->private;
	unsigned old_mt = get_pageblock_migratetype(pgdat, pfn);
	uint64_t pb = pageblock_nr_pages(pgdat);
	if (old_mt == MIGRATE_HIGHATOMIC)
		goto single_page;
	if (order >= pgdat->pageblock_order) {
		/* change_pageblock_range */
		for (uint64_t i = 0; i < (1ull << order); i += pb)
			set_pageblock_migratetype(pgdat, pfn + (pfn_t)i, start_mt);
		goto single_page;
	}
	if (boost_watermark(pgdat, z) && (alloc_flags & ALLOC_KSWAPD))
		z->boost_pending = true;
	if (!whole_block)
		goto single_page;
	uint64_t movable;
	uint64_t free = move_freepages_block(pgdat, z, pfn, start_mt, &movable);
	uint64_t alike;
	if (start_mt == MIGRATE_MOVABLE)
		alike = movable;
	else if (old_mt == MIGRATE_MOVABLE)
		alike = pb - (free + movable);
	else
		alike = 0;
	if (!free)
		goto single_page;
	/* the half-pageblock rule */
	if (free + alike >= (pb >> 1) || pgdat->page_group_by_mobility_disabled)
		set_pageblock_migratetype(pgdat, pfn, start_mt);
	return;
single_page:
	move_to_free_list(pgdat, z, pfn, order, start_mt);
}

/* __rmqueue_fallback (6.1): largest block first; a movable request that may not steal the
 * whole pageblock takes the smallest suitable block instead. */
static bool rmqueue_fallback(struct pglist_data *pgdat, struct zone *z, unsigned order,
			     unsigned start_mt, unsigned alloc_flags)
{
	unsigned min_order = order;
	bool can_steal = false;
	int fmt = -1;
	int o;
	if (alloc_flags & ALLOC_NOFRAGMENT)
		min_order = pgdat->pageblock_order;
	for (o = MAX_PAGE_ORDER; o >= (int)min_order; o--) {
		fmt = find_suitable_fallback(pgdat, &z->free_area[o], (unsigned)o, start_mt,
					     &can_steal);
		if (fmt < 0)
			continue;
		if (!can_steal && start_mt == MIGRATE_MOVABLE && (unsigned)o > order)
			goto find_smallest;
		goto do_steal;
	}
	return false;
find_smallest:
	for (o = (int)order; o < NR_PAGE_ORDERS; o++) {
		fmt = find_suitable_fallback(pgdat, &z->free_area[o], (unsigned)o, start_mt,
					     &can_steal);
		if (fmt >= 0)
			break;
	}
do_steal:;
	pfn_t pfn = z->free_area[o].free_list[fmt];
	steal_suitable_fallback(pgdat, z, pfn, alloc_flags, start_mt, can_steal);
	/* kmem:mm_page_alloc_extfrag; "fragmenting" = fallback_order < pageblock_order */
	count_vm_event(pgdat->vmstat, EXTFRAG_FALLBACK);
	if ((unsigned)o < pgdat->pageblock_order)
		count_vm_event(pgdat->vmstat, EXTFRAG_FRAGMENTING);
	return true;
}

/* __rmqueue (6.1, no CMA) */
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

/* ---- highatomic reserve (6.1 reserve_highatomic_pageblock / unreserve_...) ------------ */

static void reserve_highatomic_pageblock(struct pglist_data *pgdat, struct zone *z, pfn_t pfn)
{
	uint64_t max_managed = z->managed_pages / 100 + pageblock_nr_pages(pgdat);
	if (z->nr_reserved_highatomic >= max_managed)
		return;
	unsigned mt = get_pageblock_migratetype(pgdat, pfn);
	if (!mt_mergeable(mt))
		return;
	z->nr_reserved_highatomic += pageblock_nr_pages(pgdat);
	set_pageblock_migratetype(pgdat, pfn, MIGRATE_HIGHATOMIC);
	move_freepages_block(pgdat, z, pfn, MIGRATE_HIGHATOMIC, NULL);
}

static bool unreserve_highatomic_pageblock(struct pglist_data *pgdat, int highest, unsigned mt,
					   bool force)
{
	uint64_t pb = pageblock_nr_pages(pgdat);
	for (int zi = highest; zi >= 0; zi--) {
		struct zone *z = &pgdat->node_zones[zi];
		if (!z->populated || (!force && z->nr_reserved_highatomic <= pb))
			continue;
		for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
			pfn_t pfn = z->free_area[o].free_list[MIGRATE_HIGHATOMIC];
			if (pfn == PFN_NONE)
				continue;
			if (get_pageblock_migratetype(pgdat, pfn) == MIGRATE_HIGHATOMIC)
				z->nr_reserved_highatomic -=
					pb < z->nr_reserved_highatomic ? pb : z->nr_reserved_highatomic;
			set_pageblock_migratetype(pgdat, pfn, mt);
			if (move_freepages_block(pgdat, z, pfn, mt, NULL))
				return true;
		}
	}
	return false;
}

/* ---- per-CPU lists (6.1 rmqueue_pcplist, free_unref_page_commit, free_pcppages_bulk) -- */

static inline bool pcp_allowed_order(unsigned order)
{
	return order <= PAGE_ALLOC_COSTLY_ORDER;
}

static inline unsigned order_to_pindex(unsigned mt, unsigned order)
{
	return order * MIGRATE_PCPTYPES + mt;
}

static void free_pcppages_bulk(struct pglist_data *pgdat, struct zone *z, struct per_cpu_pages *pcp,
			       int count, unsigned pindex)
{
	if (count > pcp->count)
		count = pcp->count;
	pindex = pindex == 0 ? NR_PCP_LISTS - 1 : pindex - 1;
	while (count > 0) {
		do {
			if (++pindex >= NR_PCP_LISTS)
				pindex = 0;
		} while (pcp->lists[pindex] == PFN_NONE);
		unsigned order = pindex / MIGRATE_PCPTYPES;
		do {
			pfn_t head = pcp->lists[pindex];
			pfn_t pfn = pfn_to_page(pgdat, head)->prev; /* the tail: oldest page */
			struct page *p = pfn_to_page(pgdat, pfn);
			list_remove(pgdat, &pcp->lists[pindex], pfn);
			p->flags &= ~PG_pcp;
			count -= 1 << order;
			pcp->count -= 1 << order;
			free_one_page(pgdat, z, pfn, order, (enum migratetype)p->index, false);
		} while (count > 0 && pcp->lists[pindex] != PFN_NONE);
	}
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

/* rmqueue_bulk: batch blocks from the buddy lists onto a pcp list, in order. */
static int rmqueue_bulk(struct pglist_data *pgdat, struct zone *z, unsigned order, int count,
			pfn_t *list, unsigned mt, unsigned alloc_flags)
{
	int i;
	for (i = 0; i < count; i++) {
		pfn_t pfn = rmqueue_one(pgdat, z, order, mt, alloc_flags);
		if (pfn == PFN_NONE)
			break;
		struct page *p = pfn_to_page(pgdat, pfn);
		p->flags |= PG_pcp;
		p->private = order;
		p->index = mt;
		list_insert(pgdat, list, pfn, true);
	}
	z->nr_free_pages -= (uint64_t)i << order;
	return i;
}

static inline pfn_t rmqueue_pcplist(struct pglist_data *pgdat, struct zone *z, unsigned order,
				    unsigned mt, unsigned alloc_flags, unsigned cpu)
{
	struct per_cpu_pages *pcp = &z->pcp[cpu];
	pfn_t *list = &pcp->lists[order_to_pindex(mt, order)];
	pcp->free_factor >>= 1;
	if (unlikely(*list == PFN_NONE)) {
		int batch = pcp->batch;
		/* scale the refill to the order, but never below 2 unless batch is 1 */
		if (batch > 1) {
			batch >>= order;
			if (batch < 2)
				batch = 2;
		}
		pcp->count += rmqueue_bulk(pgdat, z, order, batch, list, mt, alloc_flags) << order;
		if (*list == PFN_NONE)
			return PFN_NONE;
	}
	pfn_t pfn = *list;
	list_remove(pgdat, list, pfn);
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

static inline void free_unref_page_commit(struct pglist_data *pgdat, struct zone *z,
					  struct per_cpu_pages *pcp, pfn_t pfn, unsigned order,
					  unsigned block_mt)
{
	unsigned mt = block_mt < MIGRATE_PCPTYPES ? block_mt : MIGRATE_MOVABLE;
	unsigned pindex = order_to_pindex(mt, order);
	struct page *p = pfn_to_page(pgdat, pfn);
	p->flags |= PG_pcp;
	p->private = order;
	p->index = block_mt; /* get_pcppage_migratetype: where it goes back to */
	list_insert(pgdat, &pcp->lists[pindex], pfn, false);
	pcp->count += 1 << order;
	bool free_high = pcp->free_factor && order && order <= PAGE_ALLOC_COSTLY_ORDER;
	/* nr_pcp_high without ZONE_RECLAIM_ACTIVE (not modeled) */
	int high = free_high ? 0 : pcp->high;
	if (pcp->count >= high)
		free_pcppages_bulk(pgdat, z, pcp, nr_pcp_free(pcp, high, pcp->batch, free_high),
				   pindex);
}

/* ---- watermarks (__zone_watermark_ok, zone_watermark_fast) ----------------------------- */

static inline bool wmark_ok(const struct zone *z, unsigned order, int64_t mark, int highest,
			    unsigned alloc_flags, int64_t free)
{
	bool harder = alloc_flags & (ALLOC_HARDER | ALLOC_OOM);
	/* __zone_watermark_unusable_free */
	free -= (int64_t)(1u << order) - 1;
	if (!harder)
		free -= (int64_t)z->nr_reserved_highatomic;
	if (alloc_flags & ALLOC_HIGH)
		mark -= mark / 2;
	if (unlikely(harder))
		mark -= (alloc_flags & ALLOC_OOM) ? mark / 2 : mark / 4;
	if (free <= mark + z->lowmem_reserve[highest])
		return false;
	if (!order)
		return true;
	for (unsigned o = order; o < NR_PAGE_ORDERS; o++) {
		const struct free_area *area = &z->free_area[o];
		if (!area->nr_free)
			continue;
		for (unsigned mt = 0; mt < MIGRATE_PCPTYPES; mt++)
			if (area->free_list[mt] != PFN_NONE)
				return true;
		if (harder && area->free_list[MIGRATE_HIGHATOMIC] != PFN_NONE)
			return true;
	}
	return false;
}

bool zone_watermark_ok(const struct zone *z, unsigned order, uint64_t mark, int highest_zoneidx,
		       unsigned alloc_flags)
{
	return wmark_ok(z, order, (int64_t)mark, highest_zoneidx, alloc_flags,
			(int64_t)z->nr_free_pages);
}

static inline bool gfp_is_atomic(gfp_t gfp)
{
	/* 6.1's __GFP_ATOMIC is set by GFP_ATOMIC only: high priority, cannot sleep */
	return (gfp & __GFP_HIGH) && !(gfp & __GFP_DIRECT_RECLAIM);
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
	struct page *p = pfn_to_page(pgdat, pfn);
	p->flags = (uint32_t)z->type << PAGE_ZONE_SHIFT;
	if (order && (gfp & __GFP_COMP))
		p->flags |= PG_head | (order << PAGE_ORDER_SHIFT);
	p->next = p->prev = PFN_NONE;
	p->private = 0;
	p->refcount = 1;
	p->mapcount = 0;
	p->mapping = 0;
	p->index = 0;
}

static pfn_t rmqueue(struct pglist_data *pgdat, struct zone *z, unsigned order, unsigned mt,
		     unsigned alloc_flags, unsigned cpu)
{
	pfn_t pfn = PFN_NONE;
	if (likely(pgdat->pcp_enabled && pcp_allowed_order(order)))
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
	return pfn;
}

struct alloc_context {
	int highest_zoneidx;
	unsigned migratetype;
};

static pfn_t get_page_from_freelist(struct pglist_data *pgdat, gfp_t gfp, unsigned order,
				    unsigned alloc_flags, const struct alloc_context *ac,
				    unsigned cpu)
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
	int preferred = highest;
	while (preferred > 0 && !pgdat->node_zones[preferred].populated)
		preferred--;
	if (pgdat->has_dma32 && preferred == ZONE_NORMAL)
		flags |= ALLOC_NOFRAGMENT;
	return flags;
}

/* gfp_to_alloc_flags (6.1) */
static unsigned gfp_to_alloc_flags(gfp_t gfp)
{
	unsigned flags = ALLOC_WMARK_MIN;
	if (gfp & __GFP_HIGH)
		flags |= ALLOC_HIGH;
	if (gfp & __GFP_KSWAPD_RECLAIM)
		flags |= ALLOC_KSWAPD;
	if (gfp_is_atomic(gfp) && !(gfp & __GFP_NOMEMALLOC))
		flags |= ALLOC_HARDER;
	return flags;
}

/* ---- the slow path (6.1 __alloc_pages_slowpath, without compaction) ------------------- */

static void wake_all_kswapds(struct pglist_data *pgdat, unsigned order, gfp_t gfp,
			     const struct alloc_context *ac)
{
	/* one node: wakeup_kswapd once, for the preferred zone's node */
	if (pgdat->hooks.wakeup_kswapd)
		pgdat->hooks.wakeup_kswapd(pgdat->hooks.ctx, ac->highest_zoneidx, order, gfp);
}

static bool alloc_fragmented(const struct pglist_data *pgdat, unsigned order,
			     unsigned alloc_flags, const struct alloc_context *ac)
{
	if (!order)
		return false;
	for (int zi = ac->highest_zoneidx; zi >= 0; zi--) {
		const struct zone *z = &pgdat->node_zones[zi];
		if (z->populated && wmark_ok(z, 0, (int64_t)wmark_pages(z, WMARK_MIN) ,
					     ac->highest_zoneidx, alloc_flags,
					     (int64_t)z->nr_free_pages - ((1 << order) - 1)))
			return true;
	}
	return false;
}

static pfn_t alloc_failed(struct pglist_data *pgdat, gfp_t gfp, unsigned order,
			  unsigned alloc_flags, const struct alloc_context *ac)
{
	count_vm_event(pgdat->vmstat, ALLOC_FAIL);
	pgdat->nr_alloc_fail[order]++;
	if (!(gfp & __GFP_DIRECT_RECLAIM))
		count_vm_event(pgdat->vmstat, ALLOC_FAIL_ATOMIC);
	if (alloc_fragmented(pgdat, order, alloc_flags, ac)) {
		count_vm_event(pgdat->vmstat, ALLOC_FAIL_FRAGMENTED);
		pgdat->nr_alloc_fail_fragmented[order]++;
	}
	return PFN_NONE;
}

/* __alloc_pages_may_oom: last try at HIGH, then the OOM killer unless the request
 * is one the kernel lets fail. Returns the page or PFN_NONE; *killed when a victim died. */
static pfn_t alloc_pages_may_oom(struct pglist_data *pgdat, gfp_t gfp, unsigned order,
				 const struct alloc_context *ac, unsigned cpu, bool *killed)
{
	*killed = false;
	pfn_t pfn = get_page_from_freelist(pgdat, gfp & ~__GFP_DIRECT_RECLAIM, order,
					   ALLOC_WMARK_HIGH, ac, cpu);
	if (pfn != PFN_NONE)
		return pfn;
	if (order > PAGE_ALLOC_COSTLY_ORDER || (gfp & (__GFP_RETRY_MAYFAIL | __GFP_THISNODE)) ||
	    ac->highest_zoneidx < ZONE_NORMAL)
		return PFN_NONE;
	/* out_of_memory does not kill for !__GFP_FS; the kernel then retries forever,
	 * which a deterministic model cannot do: the allocation fails (docs/BUDDY.md). */
	if (!(gfp & __GFP_FS) || !pgdat->hooks.out_of_memory)
		return PFN_NONE;
	*killed = pgdat->hooks.out_of_memory(pgdat->hooks.ctx, order, gfp);
	return PFN_NONE;
}

static pfn_t alloc_pages_slowpath(struct pglist_data *pgdat, gfp_t gfp, unsigned order,
				  const struct alloc_context *ac, unsigned cpu)
{
	unsigned alloc_flags = gfp_to_alloc_flags(gfp);
	bool can_reclaim = gfp & __GFP_DIRECT_RECLAIM;
	bool costly = order > PAGE_ALLOC_COSTLY_ORDER;
	int no_progress_loops = 0, rounds = 0;
	pfn_t pfn;

	if (alloc_flags & ALLOC_KSWAPD)
		wake_all_kswapds(pgdat, order, gfp, ac);
	pfn = get_page_from_freelist(pgdat, gfp, order, alloc_flags, ac, cpu);
	if (pfn != PFN_NONE)
		return pfn;
	for (;;) {
		if (alloc_flags & ALLOC_KSWAPD)
			wake_all_kswapds(pgdat, order, gfp, ac);
		/* __gfp_pfmemalloc_flags: __GFP_MEMALLOC ignores the watermarks */
		if ((gfp & __GFP_MEMALLOC) && !(gfp & __GFP_NOMEMALLOC))
			alloc_flags = ALLOC_NO_WATERMARKS | (alloc_flags & ALLOC_KSWAPD);
		pfn = get_page_from_freelist(pgdat, gfp, order, alloc_flags, ac, cpu);
		if (pfn != PFN_NONE)
			return pfn;
		if (!can_reclaim)
			break;
		/* __alloc_pages_direct_reclaim */
		uint64_t progress = 0;
		if (pgdat->hooks.direct_reclaim)
			progress = pgdat->hooks.direct_reclaim(pgdat->hooks.ctx, order, gfp);
		if (progress) {
			pfn = get_page_from_freelist(pgdat, gfp, order, alloc_flags, ac, cpu);
			if (pfn == PFN_NONE) {
				unreserve_highatomic_pageblock(pgdat, ac->highest_zoneidx,
							       ac->migratetype, false);
				drain_all_pages(pgdat);
				pfn = get_page_from_freelist(pgdat, gfp, order, alloc_flags, ac,
							     cpu);
			}
			if (pfn != PFN_NONE)
				return pfn;
		}
		if (gfp & __GFP_NORETRY)
			break;
		if (costly && !(gfp & __GFP_RETRY_MAYFAIL))
			break;
		/* should_reclaim_retry, without zone_reclaimable_pages: only reclaim that
		 * made progress can change the outcome of a deterministic retry. */
		if (progress && !costly)
			no_progress_loops = 0;
		else
			no_progress_loops++;
		if (no_progress_loops > MAX_RECLAIM_RETRIES &&
		    unreserve_highatomic_pageblock(pgdat, ac->highest_zoneidx, ac->migratetype,
						   true))
			continue;
		if (progress && no_progress_loops <= MAX_RECLAIM_RETRIES &&
		    ++rounds <= MAX_RECLAIM_RETRIES)
			continue;
		bool killed;
		pfn = alloc_pages_may_oom(pgdat, gfp, order, ac, cpu, &killed);
		if (pfn != PFN_NONE)
			return pfn;
		if (!killed)
			break;
		no_progress_loops = 0;
		rounds = 0;
	}
	return alloc_failed(pgdat, gfp, order, alloc_flags, ac);
}

pfn_t alloc_pages(struct pglist_data *pgdat, gfp_t gfp, unsigned order, unsigned cpu)
{
	if (unlikely(order > MAX_PAGE_ORDER)) {
		count_vm_event(pgdat->vmstat, ALLOC_FAIL);
		return PFN_NONE;
	}
	struct alloc_context ac = {
		.highest_zoneidx = (int)gfp_zone(pgdat, gfp),
		.migratetype = pgdat->page_group_by_mobility_disabled ? MIGRATE_UNMOVABLE
								      : gfp_migratetype(gfp),
	};
	cpu %= pgdat->nr_cpus;
	unsigned alloc_flags = ALLOC_WMARK_LOW | alloc_flags_nofragment(pgdat, ac.highest_zoneidx, gfp);
	pfn_t pfn = get_page_from_freelist(pgdat, gfp, order, alloc_flags, &ac, cpu);
	if (likely(pfn != PFN_NONE))
		return pfn;
	return alloc_pages_slowpath(pgdat, gfp, order, &ac, cpu);
}

void free_pages(struct pglist_data *pgdat, pfn_t pfn, unsigned order, unsigned cpu)
{
	if (unlikely(order > MAX_PAGE_ORDER || pfn < pgdat->node_start_pfn ||
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
	if (likely(pgdat->pcp_enabled && pcp_allowed_order(order)))
		free_unref_page_commit(pgdat, z, &z->pcp[cpu % pgdat->nr_cpus], pfn, order, mt);
	else
		free_one_page(pgdat, z, pfn, order, (enum migratetype)mt, false);
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
