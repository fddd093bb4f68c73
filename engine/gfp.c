/* A gfp mask's first zone and migratetype (include/linux/gfp.h: gfp_zone, gfp_migratetype).
 * The allocator reads both from a table made at boot from these (page_alloc.h gfp_zone_mt). */
#include "page_alloc.h"

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
