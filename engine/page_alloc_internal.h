/* Shared between the buddy core (page_alloc.c), fallback stealing (page_alloc_fallback.c),
 * boot (mm_init.c) and the setup of watermarks, reserves and pcp sizes
 * (page_alloc_setup.c); the kernel's mm/internal.h. */
#ifndef MM_PAGE_ALLOC_INTERNAL_H
#define MM_PAGE_ALLOC_INTERNAL_H

#include "page_alloc.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

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

static inline void move_to_free_list(struct pglist_data *pgdat, struct zone *z, pfn_t pfn,
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

/* migratetype_is_mergeable (mm/page_alloc.c): only the PCP types merge across pageblocks */
static inline bool mt_mergeable(unsigned mt) { return mt < MIGRATE_PCPTYPES; }

/* page_alloc_fallback.c: __rmqueue_fallback (6.1); true when blocks were moved to
 * start_mt's lists so that __rmqueue_smallest can retry. */
bool rmqueue_fallback(struct pglist_data *pgdat, struct zone *z, unsigned order, unsigned start_mt,
		      unsigned alloc_flags);
void reserve_highatomic_pageblock(struct pglist_data *pgdat, struct zone *z, pfn_t pfn);
bool unreserve_highatomic_pageblock(struct pglist_data *pgdat, int highest, unsigned mt,
				    bool force);

/* Free a block into the buddy free lists, merging with its buddies (__free_one_page).
 * to_tail: FPI_TO_TAIL, used at boot by __free_pages_core. */
void free_one_page(struct pglist_data *pgdat, struct zone *z, pfn_t pfn, unsigned order,
		   enum migratetype mt, bool to_tail);

/* Is zone index configured in the modeled kernel (CONFIG_ZONE_DMA32, CONFIG_HIGHMEM)? */
static inline bool zone_configured(const struct pglist_data *pgdat, enum zone_type t)
{
	if (t == ZONE_DMA32)
		return pgdat->has_dma32;
	if (t == ZONE_HIGHMEM)
		return pgdat->has_highmem;
	return true;
}

/* calculate_min_free_kbytes (+ set_recommended_min_free_kbytes with THP) at boot. */
void init_per_zone_wmark_min(struct pglist_data *pgdat, bool thp);

#endif
