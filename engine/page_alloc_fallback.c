/* Migratetype fallback and the highatomic reserve (mm/page_alloc.c, Linux 6.1):
 * __rmqueue_fallback and its stealing rules, watermark boosting, move_freepages_block,
 * reserve/unreserve_highatomic_pageblock. */
#include "page_alloc.h"
#include "page_alloc_internal.h"
#include "vmstat.h"

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

/* find_suitable_fallback (6.1, only_stealable = false) at an order where one of mt's
 * fallback types has a free block: the first such type in fallbacks[] order. */
static unsigned find_suitable_fallback(const struct zone *z, unsigned order, unsigned mt)
{
	unsigned first = fallbacks[mt][0];
	return (z->free_orders[first] >> order) & 1 ? first : fallbacks[mt][1];
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
	struct page *map = pgdat->memmap_base;
	for (pfn_t p = start; p <= end;) {
		struct page *pg = &map[p];
		if (!(pg->flags & PG_buddy)) {
			if (movable && (pg->flags & PG_lru))
				(*movable)++;
			p++;
			continue;
		}
		unsigned o = pg->private;
		move_to_free_list(map, z, p, o, mt);
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
	z->watermark_boost =
	    z->watermark_boost + pb < max_boost ? z->watermark_boost + pb : max_boost;
	zone_update_fast_mark(z);
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
	move_to_free_list(pgdat->memmap_base, z, pfn, order, start_mt);
}

/* Orders where one of start_mt's fallback types has a free block. */
static inline unsigned fallback_orders(const struct zone *z, unsigned start_mt)
{
	return (unsigned)z->free_orders[fallbacks[start_mt][0]] |
	       z->free_orders[fallbacks[start_mt][1]];
}

static inline unsigned fallback_min_order(const struct pglist_data *pgdat, unsigned order,
					  unsigned alloc_flags)
{
	return (alloc_flags & ALLOC_NOFRAGMENT) ? pgdat->pageblock_order : order;
}

bool rmqueue_fails(const struct pglist_data *pgdat, const struct zone *z, unsigned order,
		   unsigned start_mt, unsigned alloc_flags)
{
	return !(z->free_orders[start_mt] >> order) &&
	       !(fallback_orders(z, start_mt) >> fallback_min_order(pgdat, order, alloc_flags));
}

/* __rmqueue_fallback (6.1): largest block first; a movable request that may not steal the
 * whole pageblock takes the smallest suitable block instead. */
bool rmqueue_fallback(struct pglist_data *pgdat, struct zone *z, unsigned order, unsigned start_mt,
		      unsigned alloc_flags)
{
	unsigned min_order = fallback_min_order(pgdat, order, alloc_flags);
	/* orders where a fallback type has a free block (the kernel walks the lists) */
	unsigned avail = fallback_orders(z, start_mt);
	unsigned from_min = avail >> min_order << min_order;
	if (!from_min)
		return false;
	/* the largest order first */
	unsigned o = 31u - (unsigned)__builtin_clz(from_min);
	bool can_steal = can_steal_fallback(pgdat, o, start_mt);
	if (!can_steal && start_mt == MIGRATE_MOVABLE && o > order) {
		/* find_smallest: some order in [order, o] has one */
		o = order + (unsigned)__builtin_ctz(avail >> order);
		can_steal = can_steal_fallback(pgdat, o, start_mt);
	}
	unsigned fmt = find_suitable_fallback(z, o, start_mt);
	pfn_t pfn = free_list_first(z, o, fmt);
	steal_suitable_fallback(pgdat, z, pfn, alloc_flags, start_mt, can_steal);
	/* kmem:mm_page_alloc_extfrag; "fragmenting" = fallback_order < pageblock_order */
	count_vm_event(pgdat->vmstat, EXTFRAG_FALLBACK);
	if (o < pgdat->pageblock_order)
		count_vm_event(pgdat->vmstat, EXTFRAG_FRAGMENTING);
	return true;
}

/* reserve_highatomic_pageblock (6.1): at most 1 % of the zone plus one pageblock */
void reserve_highatomic_pageblock(struct pglist_data *pgdat, struct zone *z, pfn_t pfn)
{
	uint64_t max_managed = z->managed_pages / 100 + pageblock_nr_pages(pgdat);
	if (z->nr_reserved_highatomic >= max_managed)
		return;
	unsigned mt = get_pageblock_migratetype(pgdat, pfn);
	if (!mt_mergeable(mt))
		return;
	z->nr_reserved_highatomic += pageblock_nr_pages(pgdat);
	zone_update_fast_mark(z);
	set_pageblock_migratetype(pgdat, pfn, MIGRATE_HIGHATOMIC);
	move_freepages_block(pgdat, z, pfn, MIGRATE_HIGHATOMIC, NULL);
}

/* unreserve_highatomic_pageblock (6.1): give a reserved pageblock back to mt; keeps one
 * pageblock per zone unless forced (just before OOM) */
bool unreserve_highatomic_pageblock(struct pglist_data *pgdat, int highest, unsigned mt, bool force)
{
	uint64_t pb = pageblock_nr_pages(pgdat);
	for (int zi = highest; zi >= 0; zi--) {
		struct zone *z = &pgdat->node_zones[zi];
		if (!z->populated || (!force && z->nr_reserved_highatomic <= pb))
			continue;
		for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
			pfn_t pfn = free_list_first(z, o, MIGRATE_HIGHATOMIC);
			if (pfn == PFN_NONE)
				continue;
			if (get_pageblock_migratetype(pgdat, pfn) == MIGRATE_HIGHATOMIC) {
				z->nr_reserved_highatomic -=
				    pb < z->nr_reserved_highatomic ? pb : z->nr_reserved_highatomic;
				zone_update_fast_mark(z);
			}
			set_pageblock_migratetype(pgdat, pfn, mt);
			if (move_freepages_block(pgdat, z, pfn, mt, NULL))
				return true;
		}
	}
	return false;
}
