/* The buddy allocator: per-zone free areas by order and migratetype, pageblocks,
 * fallback stealing, watermarks, lowmem_reserve, zonelists, per-CPU lists
 * (mm/page_alloc.c, modeled on Linux 6.1; docs/BUDDY.md says what is simplified). One node.
 *
 * Contract extensions over the skeleton (all additive, struct page unchanged):
 * - ALLOC_* flags (mm/internal.h) so callers can use zone_watermark_ok as the kernel does;
 * - struct per_cpu_pages.free_factor (6.1 nr_pcp_free); its lists are rings of pfns
 *   (struct pcp_list) instead of links through struct page;
 * - struct zone.boost_pending (ZONE_BOOSTED_WATERMARK), .stat_threshold, .free_orders,
 *   .fast_mark, .free_ring; the buddy free lists (struct free_list) are deques of pfns
 *   in rings instead of links through struct page;
 * - struct pglist_data: the configured zones (has_dma32, has_highmem), pcp_enabled,
 *   the sysctls the allocator reads at run time, per-order failure counters,
 *   kswapd_failures (owned by reclaim, shown in zoneinfo). */
#ifndef MM_PAGE_ALLOC_H
#define MM_PAGE_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "gfp.h"
#include "machine.h"
#include "mmzone.h"
#include "page.h"

/* A buddy free list is a deque of first pfns, in the kernel's list_head order, in a ring
 * of host memory (zone->free_ring[order][mt]) indexed by free-running 32-bit slot numbers:
 * head is the slot of the first entry, tail one past the last. A block taken off the
 * middle (a merged buddy, a moved block) leaves a tombstone (PFN_NONE) in its slot instead
 * of touching its neighbours' struct pages; walks skip tombstones, and when the ring is
 * full with at least as many tombstones as blocks it is compacted in order (see
 * page_alloc_freelist.c). While PG_buddy: page->next = the block's slot, page->prev =
 * PFN_NONE, page->private = order, page->index = the migratetype of the list it is on.
 * The blocks on the list are free_area.nr_free_mt[mt]; tombstones are the rest of
 * [head, tail). */
struct free_list {
	uint32_t head; /* slot of the first entry (free-running) */
	uint32_t tail; /* one past the last entry (free-running) */
	uint32_t mask; /* cap - 1, or 0 while cap is 0 */
	uint32_t cap;  /* slots in the ring: a power of two, or 0 (no ring yet) */
};

struct free_area {
	struct free_list free_list[MIGRATE_TYPES];
	uint64_t
	    nr_free_mt[MIGRATE_TYPES]; /* blocks per migratetype (the kernel walks the lists) */
	uint64_t nr_free;	       /* blocks of this order, all types */
};

/* include/linux/mmzone.h (6.1): a list per (order <= PAGE_ALLOC_COSTLY_ORDER, pcp type),
 * plus one list for pageblock_order with CONFIG_TRANSPARENT_HUGEPAGE (NR_PCP_THP). */
#define NR_LOWORDER_PCP_LISTS (MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1))
#define NR_PCP_LISTS (NR_LOWORDER_PCP_LISTS + 1)

/* A per-CPU list is only ever added to and taken from at its ends: a free puts the block
 * at the head, an allocation takes the head, a refill appends at the tail and a bulk free
 * takes the tail (the oldest). So it is a ring of first pfns in the kernel's list_head
 * order, owned by the pcp: the bulk paths know the next blocks without reading their
 * struct pages (and can fetch many at once), and taking the head does not write the next
 * block's struct page, as unlinking it through the pages would. The pages keep PG_pcp,
 * private = order and index = migratetype; their next/prev are not read. The ring is sized
 * when pcp->high and batch are set (pcp_lists_reserve) to what the list can hold. */
struct pcp_list {
	pfn_t *ring;   /* [cap]; NULL while cap is 0 */
	uint32_t head; /* slot of the newest block, modulo cap (free-running) */
	uint32_t tail; /* one past the oldest, modulo cap (free-running) */
	uint32_t mask; /* cap - 1 */
	uint32_t cap;  /* a power of two, or 0 */
};

/* Blocks on the list. */
static inline uint32_t pcp_list_count(const struct pcp_list *l) { return l->tail - l->head; }

static inline bool pcp_list_empty(const struct pcp_list *l) { return l->tail == l->head; }

/* Block i of the list, 0 the newest (the head), count - 1 the oldest (the tail). */
static inline pfn_t pcp_list_nth(const struct pcp_list *l, uint32_t i)
{
	return l->ring[(l->head + i) & l->mask];
}

struct per_cpu_pages {
	int count, high, batch;
	int free_factor; /* 6.1: doubles the bulk-free size while only freeing */
	/* While count is below it, every list has room for one more block: a list of order o
	 * holds at most count >> o blocks, and its ring 2^o * ring_pages. */
	int ring_pages;
	/* order * MIGRATE_PCPTYPES + mt, then the THP list */
	struct pcp_list lists[NR_PCP_LISTS];
};

struct zone {
	enum zone_type type;
	bool populated;
	bool boost_pending; /* ZONE_BOOSTED_WATERMARK: wake kswapd on next rmqueue */
	pfn_t zone_start_pfn;
	uint64_t spanned_pages, present_pages, managed_pages;
	uint64_t watermark[NR_WMARK];
	uint64_t watermark_boost;
	int64_t lowmem_reserve[MAX_NR_ZONES];
	uint64_t nr_free_pages; /* NR_FREE_PAGES: buddy only, pcp excluded */
	uint64_t nr_reserved_highatomic;
	int stat_threshold; /* vmstat.c calculate_normal_threshold, for zoneinfo */
	struct free_area free_area[NR_PAGE_ORDERS];
	uint16_t free_orders[MIGRATE_TYPES]; /* bit o: free_area[o].free_list[mt] not empty */
	/* The free lists' rings, [cap] each (NULL while cap is 0): host memory, kept apart
	 * from free_area so that free areas of two zones with the same history compare
	 * equal byte for byte. */
	pfn_t *free_ring[NR_PAGE_ORDERS][MIGRATE_TYPES];
	/* The order-0 test at the low mark for a zonelist starting at highest: it passes when
	 * nr_free_pages > fast_mark[highest] = low + boost + lowmem_reserve[highest] +
	 * nr_reserved_highatomic; INT64_MAX when the zone is not populated. Kept by whoever
	 * changes a term (zone_update_fast_mark). */
	int64_t fast_mark[MAX_NR_ZONES];
	struct per_cpu_pages *pcp; /* [nr_cpus] (high/batch always set; lists used
				      only when pgdat->pcp_enabled) */
};

_Static_assert(NR_PAGE_ORDERS <= 16, "zone->free_orders holds one bit per order");

/* Called by the allocator's slow path; set by the simulator to vmscan/oom_kill. */
struct alloc_hooks {
	void *ctx;
	/* Wake kswapd for the zone; the hook may reclaim synchronously (the model has no threads).
	 */
	void (*wakeup_kswapd)(void *ctx, int zone_idx, unsigned order, gfp_t gfp);
	/* Direct reclaim; returns pages reclaimed. */
	uint64_t (*direct_reclaim)(void *ctx, unsigned order, gfp_t gfp);
	/* OOM kill; returns true if a victim was killed (then the allocation retries). */
	bool (*out_of_memory)(void *ctx, unsigned order, gfp_t gfp);
};

/* mm/internal.h ALLOC_* (6.1). The low bits select the watermark. */
#define ALLOC_WMARK_MIN WMARK_MIN
#define ALLOC_WMARK_LOW WMARK_LOW
#define ALLOC_WMARK_HIGH WMARK_HIGH
#define ALLOC_NO_WATERMARKS 0x04
#define ALLOC_WMARK_MASK (ALLOC_NO_WATERMARKS - 1)
#define ALLOC_OOM 0x08
#define ALLOC_HARDER 0x10
#define ALLOC_HIGH 0x20
#define ALLOC_NOFRAGMENT 0x100
#define ALLOC_KSWAPD 0x800

/* __GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE | __GFP_RECLAIMABLE */
#define GFP_ZONE_MT_BITS 0x1fu
_Static_assert((__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE | __GFP_RECLAIMABLE) ==
		   GFP_ZONE_MT_BITS,
	       "gfp_zone_mt is indexed by the low five gfp bits");

struct pglist_data {
	struct zone node_zones[MAX_NR_ZONES];
	int nr_zones; /* highest populated zone index + 1 */
	pfn_t node_start_pfn;
	uint64_t node_spanned_pages;
	struct page *mem_map;	  /* [node_spanned_pages], indexed by pfn - node_start_pfn */
	struct page *memmap_base; /* mem_map - node_start_pfn: indexed by pfn (the kernel's
				     FLATMEM mem_map - ARCH_PFN_OFFSET), one load per lookup */
	uint8_t *pageblock_mt;	  /* migratetype of each pageblock (from node_start_pfn
				     rounded down to a pageblock) */
	pfn_t pageblock_base;	  /* node_start_pfn rounded down to pageblock_order */
	unsigned pageblock_order;
	bool page_group_by_mobility_disabled;
	bool pcp_enabled;	     /* per-CPU lists on (default) */
	bool pcp_thp;		     /* CONFIG_TRANSPARENT_HUGEPAGE: pcp list for pageblock_order */
	bool has_dma32, has_highmem; /* CONFIG_ZONE_DMA32 (x86_64), CONFIG_HIGHMEM (i386) */
	uint16_t nofragment[MAX_NR_ZONES]; /* ALLOC_NOFRAGMENT by gfp_zone, set at boot */
	/* gfp_zone | the allocation's migratetype << 4, by the gfp's zone and mobility bits
	 * (GFP_ZONEMASK | GFP_MOVABLE_MASK); set at boot, like the kernel's GFP_ZONE_TABLE */
	uint8_t gfp_zone_mt[GFP_ZONE_MT_BITS + 1];
	unsigned nr_cpus;
	uint64_t min_free_kbytes, totalreserve_pages;
	struct vm_sysctl vm;		   /* the sysctls in force (watermark factors, ratios) */
	uint64_t nr_alloc[NR_PAGE_ORDERS]; /* successful allocations by order: the
					      model's mm_page_alloc events (fidelity) */
	uint64_t nr_alloc_fail[NR_PAGE_ORDERS];		   /* failed allocations by order */
	uint64_t nr_alloc_fail_fragmented[NR_PAGE_ORDERS]; /* ...with enough free pages */
	unsigned kswapd_failures; /* maintained by reclaim; zoneinfo node_unreclaimable */
	struct alloc_hooks hooks;
	uint64_t *vmstat; /* the simulator's counters, enum vm_stat_item (vmstat.h) */
};

static inline struct page *pfn_to_page(struct pglist_data *pgdat, pfn_t pfn)
{
	return pgdat->memmap_base + pfn;
}

static inline pfn_t page_to_pfn(const struct pglist_data *pgdat, const struct page *p)
{
	return (pfn_t)(p - pgdat->memmap_base);
}

/* pindex_to_order (6.1) */
static inline unsigned pcp_list_order(const struct pglist_data *pgdat, unsigned pindex)
{
	return pindex < NR_LOWORDER_PCP_LISTS ? pindex / MIGRATE_PCPTYPES : pgdat->pageblock_order;
}

static inline pfn_t zone_end_pfn(const struct zone *z)
{
	return z->zone_start_pfn + (pfn_t)z->spanned_pages;
}

static inline uint64_t pageblock_nr_pages(const struct pglist_data *pgdat)
{
	return 1ull << pgdat->pageblock_order;
}

static inline enum migratetype get_pageblock_migratetype(const struct pglist_data *pgdat, pfn_t pfn)
{
	return (enum migratetype)
	    pgdat->pageblock_mt[(pfn - pgdat->pageblock_base) >> pgdat->pageblock_order];
}

/* Boot: build zones from the machine, hand every free pfn to the buddy allocator
 * (memblock_free_all), compute min_free_kbytes, watermarks, lowmem_reserve, pcp high/batch.
 * vmstat points at the caller's counter array. Returns 0 or -1 (out of host memory). */
int page_alloc_init(struct pglist_data *pgdat, const struct machine *m, uint64_t *vmstat);
void page_alloc_destroy(struct pglist_data *pgdat);

/* Allocate 2^order pages; returns the first pfn, or PFN_NONE on failure (counted). */
pfn_t alloc_pages(struct pglist_data *pgdat, gfp_t gfp, unsigned order, unsigned cpu);
void free_pages(struct pglist_data *pgdat, pfn_t pfn, unsigned order, unsigned cpu);
/* Up to nr order-0 pages into out, exactly as that many alloc_pages calls would hand them
 * out, while they come from a pcp list, refilled if need be from the zone's own free
 * lists (no fallback, so no hook is called); returns how many (0: call alloc_pages for the
 * next page). */
unsigned alloc_pages_bulk(struct pglist_data *pgdat, gfp_t gfp, unsigned cpu, unsigned nr,
			  pfn_t *out);
/* alloc_pages_bulk, but the pages' struct pages are not prepared: each keeps its zone in
 * flags (PAGE_ZONE_MASK) and the rest is stale, to be written whole by the caller
 * (private, too) before anything reads it. The pages of one call come from one zone: it
 * returns short where the zonelist walk would go on to another (the next call, or
 * alloc_pages, takes that page as the walk would), so the caller may read the zone of the
 * first only. *highmem: how many are HighMem pages. */
unsigned alloc_pages_bulk_raw(struct pglist_data *pgdat, gfp_t gfp, unsigned cpu, unsigned nr,
			      pfn_t *out, unsigned *highmem);
/* free_pages(pfns[i], 0, cpu) for i = 0 .. n - 1, in that order, with the same effects. */
void free_unref_folios(struct pglist_data *pgdat, const pfn_t *pfns, unsigned n, unsigned cpu);

/* Return every page on the per-CPU lists to the buddy allocator (drain_all_pages). */
void drain_all_pages(struct pglist_data *pgdat);
/* Turn the per-CPU lists on or off (off drains them first). */
void page_alloc_set_pcp(struct pglist_data *pgdat, bool enabled);

/* Recompute min_free_kbytes (when vm->min_free_kbytes is 0), watermarks, lowmem_reserve,
 * totalreserve_pages and pcp high after a sysctl change (init_per_zone_wmark_min); -1 when
 * the host has no memory for the pcp lists' rings. */
int setup_per_zone_wmarks(struct pglist_data *pgdat, const struct vm_sysctl *vm);

/* __zone_watermark_ok against the zone's current free pages. */
bool zone_watermark_ok(const struct zone *z, unsigned order, uint64_t mark, int highest_zoneidx,
		       unsigned alloc_flags);
static inline uint64_t wmark_pages(const struct zone *z, enum zone_watermarks w)
{
	return z->watermark[w] + z->watermark_boost;
}

/* gfp → first zone of the zonelist (gfp_zone) and migratetype (gfp_migratetype). */
enum zone_type gfp_zone(const struct pglist_data *pgdat, gfp_t gfp);
enum migratetype gfp_migratetype(gfp_t gfp);

/* Fragmentation (mm/vmstat.c): values ×1000 as the kernel computes them. */
struct contig_page_info {
	uint64_t free_pages, free_blocks_total, free_blocks_suitable;
};
void fill_contig_page_info(const struct zone *z, unsigned order, struct contig_page_info *info);
int unusable_free_index(const struct zone *z, unsigned order);
int fragmentation_index(const struct zone *z, unsigned order);

uint64_t global_free_pages(const struct pglist_data *pgdat);
/* Pages sitting on per-CPU lists of a zone (not counted as free, as in the kernel). */
uint64_t zone_pcp_pages(const struct zone *z, unsigned nr_cpus);

#endif
