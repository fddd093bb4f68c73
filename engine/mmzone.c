#include "mmzone.h"

/* mm/page_alloc.c zone_names */
const char *const zone_names[MAX_NR_ZONES] = {"DMA", "DMA32", "Normal", "HighMem"};
/* mm/vmstat.c migratetype_names */
const char *const migratetype_names[MIGRATE_TYPES] = {"Unmovable", "Movable", "Reclaimable",
						      "HighAtomic"};
