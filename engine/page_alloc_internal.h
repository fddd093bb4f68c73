/* Shared between the buddy core (page_alloc.c), boot (mm_init.c) and the setup of
 * watermarks, reserves and pcp sizes (page_alloc_setup.c); the kernel's mm/internal.h. */
#ifndef MM_PAGE_ALLOC_INTERNAL_H
#define MM_PAGE_ALLOC_INTERNAL_H

#include "page_alloc.h"

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
