/* Zones, free areas, pageblocks and the node: the kernel's include/linux/mmzone.h, modeled. */
#ifndef MM_MMZONE_H
#define MM_MMZONE_H

#include <stdbool.h>
#include <stdint.h>

#include "page.h"

/* Orders 0..10 (include/linux/mmzone.h MAX_PAGE_ORDER / NR_PAGE_ORDERS, [6.8+]; 6.1 calls
 * the exclusive bound MAX_ORDER = 11). */
#define MAX_PAGE_ORDER 10
#define NR_PAGE_ORDERS (MAX_PAGE_ORDER + 1)
/* include/linux/mmzone.h PAGE_ALLOC_COSTLY_ORDER */
#define PAGE_ALLOC_COSTLY_ORDER 3

enum migratetype {
	MIGRATE_UNMOVABLE,
	MIGRATE_MOVABLE,
	MIGRATE_RECLAIMABLE,
	MIGRATE_HIGHATOMIC,
	MIGRATE_TYPES
};
#define MIGRATE_PCPTYPES 3 /* include/linux/mmzone.h */

enum zone_type { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, ZONE_HIGHMEM, MAX_NR_ZONES };

enum zone_watermarks { WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO, NR_WMARK };

extern const char *const zone_names[MAX_NR_ZONES];           /* "DMA", "DMA32", ... */
extern const char *const migratetype_names[MIGRATE_TYPES];   /* "Unmovable", ... */

#endif
