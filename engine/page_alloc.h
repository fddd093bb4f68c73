/* The buddy allocator: per-zone free areas by order and migratetype, pageblocks,
 * fallback stealing, watermarks, lowmem_reserve, zonelists, optional per-CPU lists
 * (mm/page_alloc.c). One node. */
#ifndef MM_PAGE_ALLOC_H
#define MM_PAGE_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "gfp.h"
#include "machine.h"
#include "mmzone.h"
#include "page.h"

struct free_area {
	pfn_t free_list[MIGRATE_TYPES];     /* heads of doubly linked lists through struct page */
	uint64_t nr_free_mt[MIGRATE_TYPES]; /* blocks per migratetype (the kernel walks the lists) */
	uint64_t nr_free;                   /* blocks of this order, all types */
};

struct per_cpu_pages {
	int count, high, batch;
	pfn_t lists[MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1)];
};

struct zone {
	enum zone_type type;
	bool populated;
	pfn_t zone_start_pfn;
	uint64_t spanned_pages, present_pages, managed_pages;
	uint64_t watermark[NR_WMARK];
	uint64_t watermark_boost;
	int64_t lowmem_reserve[MAX_NR_ZONES];
	uint64_t nr_free_pages;             /* NR_FREE_PAGES: buddy only, pcp excluded */
	uint64_t nr_reserved_highatomic;
	struct free_area free_area[NR_PAGE_ORDERS];
	struct per_cpu_pages *pcp;          /* [nr_cpus], NULL when pcp lists are off */
};

/* Called by the allocator's slow path; set by the simulator to vmscan/oom_kill. */
struct alloc_hooks {
	void *ctx;
	/* Wake kswapd for the zone; the hook may reclaim synchronously (the model has no threads). */
	void (*wakeup_kswapd)(void *ctx, int zone_idx, unsigned order, gfp_t gfp);
	/* Direct reclaim; returns pages reclaimed. */
	uint64_t (*direct_reclaim)(void *ctx, unsigned order, gfp_t gfp);
	/* OOM kill; returns true if a victim was killed (then the allocation retries). */
	bool (*out_of_memory)(void *ctx, unsigned order, gfp_t gfp);
};

struct page_alloc_stats; /* in vmstat.h */

struct pglist_data {
	struct zone node_zones[MAX_NR_ZONES];
	int nr_zones;                      /* highest populated zone index + 1 */
	pfn_t node_start_pfn;
	uint64_t node_spanned_pages;
	struct page *mem_map;              /* [node_spanned_pages], indexed by pfn - node_start_pfn */
	uint8_t *pageblock_mt;             /* migratetype of each pageblock */
	unsigned pageblock_order;
	bool page_group_by_mobility_disabled;
	unsigned nr_cpus;
	uint64_t min_free_kbytes, totalreserve_pages;
	struct alloc_hooks hooks;
	uint64_t *vmstat;                  /* the simulator's counters, enum vm_stat_item (vmstat.h) */
};

static inline struct page *pfn_to_page(struct pglist_data *pgdat, pfn_t pfn)
{
	return &pgdat->mem_map[pfn - pgdat->node_start_pfn];
}

static inline pfn_t page_to_pfn(const struct pglist_data *pgdat, const struct page *p)
{
	return (pfn_t)(p - pgdat->mem_map) + pgdat->node_start_pfn;
}

/* Boot: build zones from the machine, hand every free pfn to the buddy allocator
 * (memblock_free_all), compute min_free_kbytes, watermarks, lowmem_reserve, pcp high/batch.
 * vmstat points at the caller's counter array. Returns 0 or -1 (out of host memory). */
int page_alloc_init(struct pglist_data *pgdat, const struct machine *m, uint64_t *vmstat);
void page_alloc_destroy(struct pglist_data *pgdat);

/* Allocate 2^order pages; returns the first pfn, or PFN_NONE on failure (counted). */
pfn_t alloc_pages(struct pglist_data *pgdat, gfp_t gfp, unsigned order, unsigned cpu);
void free_pages(struct pglist_data *pgdat, pfn_t pfn, unsigned order, unsigned cpu);

/* Recompute watermarks / lowmem_reserve after a sysctl change (setup_per_zone_wmarks). */
void setup_per_zone_wmarks(struct pglist_data *pgdat, const struct vm_sysctl *vm);

bool zone_watermark_ok(const struct zone *z, unsigned order, uint64_t mark, int highest_zoneidx,
		       unsigned alloc_flags);

/* gfp → first zone of the zonelist (gfp_zone) and migratetype (gfp_migratetype). */
enum zone_type gfp_zone(const struct pglist_data *pgdat, gfp_t gfp);
enum migratetype gfp_migratetype(gfp_t gfp);

/* Fragmentation (mm/vmstat.c): values ×1000 as the kernel computes them. */
int unusable_free_index(const struct zone *z, unsigned order);
int fragmentation_index(const struct zone *z, unsigned order);

uint64_t global_free_pages(const struct pglist_data *pgdat);

#endif
