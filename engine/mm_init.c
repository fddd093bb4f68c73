/* Boot of the page allocator: zones from the machine, the memmap, pageblocks, and
 * memblock_free_all handing every free pfn to the buddy lists (mm/mm_init.c, mm/memblock.c,
 * mm/page_alloc.c in 6.1). */
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#include "page_alloc.h"
#include "page_alloc_internal.h"
#include "vmstat.h"

static void zone_init_free_lists(struct zone *z)
{
	/* empty deques without rings: a ring is allocated by the first block on its list */
	memset(z->free_area, 0, sizeof(z->free_area));
	memset(z->free_ring, 0, sizeof(z->free_ring));
	memset(z->free_orders, 0, sizeof(z->free_orders));
}

/* A run of pfns memblock_free_all hands to the buddy allocator: [start, end). */
struct boot_run {
	pfn_t start, end;
};

/* Runs: each e820 range cut by the reservations; a reservation blocks every page it
 * touches, an e820 range gives only its whole pages. At most one run per e820 range plus
 * one per reservation. */
#define MAX_BOOT_RUNS (2 * MACHINE_MAX_RANGES + 1)
#define PFN_UP(x) ((uint64_t)(((x) + PAGE_SIZE - 1) >> PAGE_SHIFT))
#define PFN_DOWN(x) ((uint64_t)((x) >> PAGE_SHIFT))

static void add_run(struct boot_run *runs, int *n, uint64_t start, uint64_t end)
{
	if (start >= end)
		return;
	if (*n && runs[*n - 1].end == start) {
		runs[*n - 1].end = (pfn_t)end; /* touching runs free as one, like the pfn walk */
		return;
	}
	runs[(*n)++] = (struct boot_run){(pfn_t)start, (pfn_t)end};
}

/* __free_memory_core over for_each_free_mem_range: the pfns machine_pfn_free_at_boot
 * accepts, as ascending maximal runs, without asking page by page. The e820 ranges are
 * memblock's, sorted and disjoint; reservations are sorted by start, and one inside
 * another cuts nothing more. */
static int boot_free_runs(const struct machine *m, struct boot_run *runs)
{
	uint64_t lo = m->zones[ZONE_DMA].start_pfn, hi = m->max_pfn;
	const struct phys_range *rv = m->reserved;
	int n = 0, b = 0;
	for (int i = 0; i < m->nr_e820; i++) {
		uint64_t s = PFN_UP(m->e820[i].start), e = PFN_DOWN(m->e820[i].end);
		s = s < lo ? lo : s;
		e = e > hi ? hi : e;
		while (b < m->nr_reserved && PFN_UP(rv[b].end) <= s)
			b++;
		for (int j = b; j < m->nr_reserved && PFN_DOWN(rv[j].start) < e && s < e; j++) {
			uint64_t rs = PFN_DOWN(rv[j].start), re = PFN_UP(rv[j].end);
			add_run(runs, &n, s, rs < s ? s : rs);
			s = re > s ? re : s;
		}
		add_run(runs, &n, s, e);
	}
	return n;
}

/* __free_pages_core: the block leaves memblock (its struct pages were initialised free by
 * init_memmap), joins the zone's managed pages and is freed to the tail of the free list
 * (FPI_TO_TAIL), counted in pgfree as the kernel does. */
static void free_pages_core(struct pglist_data *pgdat, struct zone *z, pfn_t pfn, unsigned order)
{
	z->managed_pages += 1ull << order;
	pgdat->vmstat[PGFREE] += 1ull << order;
	free_one_page(pgdat, z, pfn, order, get_pageblock_migratetype(pgdat, pfn), true);
}

/* __free_pages_memory: the largest naturally aligned blocks covering [start, end). */
static void free_pages_memory(struct pglist_data *pgdat, struct zone *z, pfn_t start, pfn_t end)
{
	while (start < end) {
		unsigned order = start ? (unsigned)__builtin_ctz(start) : MAX_PAGE_ORDER;
		if (order > MAX_PAGE_ORDER)
			order = MAX_PAGE_ORDER;
		while ((uint64_t)start + (1u << order) > end)
			order--;
		free_pages_core(pgdat, z, start, order);
		start += 1u << order;
	}
}

/* memblock_free_all (lowmem) and set_highmem_pages_init (highmem) over one zone: the runs
 * inside it. The kernel frees highmem page by page; the buddy merges them into the same
 * blocks, only the list order can differ. */
static void zone_free_boot_pages(struct pglist_data *pgdat, struct zone *z,
				 const struct boot_run *runs, int nr_runs)
{
	pfn_t zs = z->zone_start_pfn, ze = zone_end_pfn(z);
	for (int i = 0; i < nr_runs; i++) {
		pfn_t s = runs[i].start > zs ? runs[i].start : zs;
		pfn_t e = runs[i].end < ze ? runs[i].end : ze;
		if (s < e)
			free_pages_memory(pgdat, z, s, e);
	}
}

static int setup_zones(struct pglist_data *pgdat, const struct machine *m)
{
	pfn_t lo = PFN_NONE, hi = 0;
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		const struct zone_span *s = &m->zones[zi];
		struct zone *z = &pgdat->node_zones[zi];
		z->type = (enum zone_type)zi;
		zone_init_free_lists(z);
		if (s->end_pfn <= s->start_pfn || !zone_configured(pgdat, (enum zone_type)zi))
			continue;
		z->zone_start_pfn = s->start_pfn;
		z->spanned_pages = s->end_pfn - s->start_pfn;
		z->present_pages = s->present;
		/* populated_zone() is present_pages != 0 */
		z->populated = s->present != 0;
		if (z->populated)
			pgdat->nr_zones = zi + 1;
		if (s->start_pfn < lo)
			lo = s->start_pfn;
		if (s->end_pfn > hi)
			hi = s->end_pfn;
	}
	if (lo == PFN_NONE)
		return -1;
	pgdat->node_start_pfn = lo;
	pgdat->node_spanned_pages = hi - lo;
	return 0;
}

/* Fill n struct pages with one value: flags, no list links, refcount; the rest zero. */
static void memmap_fill(struct page *p, uint64_t n, uint32_t flags, int32_t refcount)
{
	const struct page v = {
	    .flags = flags, .next = PFN_NONE, .prev = PFN_NONE, .refcount = refcount};
	for (uint64_t i = 0; i < n; i++)
		p[i] = v;
}

/* One zone's pages: the run pfns free (refcount 0), the others reserved (refcount 1).
 * *r is the first run not yet behind the zone start. */
static void memmap_init_zone(struct page *map, pfn_t pfn, pfn_t end, uint32_t zbits,
			     const struct boot_run *runs, int nr_runs, int *r)
{
	while (pfn < end) {
		while (*r < nr_runs && runs[*r].end <= pfn)
			(*r)++;
		pfn_t fs = end, fe = end; /* the free pages [fs, fe) next after pfn */
		if (*r < nr_runs && runs[*r].start < end) {
			fs = runs[*r].start > pfn ? runs[*r].start : pfn;
			fe = runs[*r].end < end ? runs[*r].end : end;
		}
		memmap_fill(&map[pfn], fs - pfn, zbits | PG_reserved, 1);
		memmap_fill(&map[fs], fe - fs, zbits, 0);
		pfn = fe;
	}
}

/* memmap_init_range: every page reserved (refcount 1) with its zone bits, except that the
 * pages memblock_free_all will free get their freed state (PG_reserved clear, refcount
 * 0) here, so each struct page is written once, in pfn order. Pages outside every zone
 * carry zone bits 0. Zones never overlap and come in pfn order. */
static void memmap_init(struct pglist_data *pgdat, const struct boot_run *runs, int nr_runs)
{
	pfn_t pfn = pgdat->node_start_pfn, node_end = pfn + (pfn_t)pgdat->node_spanned_pages;
	struct page *map = pgdat->memmap_base;
	int r = 0;
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		const struct zone *z = &pgdat->node_zones[zi];
		if (!z->spanned_pages)
			continue;
		memmap_fill(&map[pfn], z->zone_start_pfn - pfn, PG_reserved, 1);
		memmap_init_zone(map, z->zone_start_pfn, zone_end_pfn(z),
				 (uint32_t)zi << PAGE_ZONE_SHIFT, runs, nr_runs, &r);
		pfn = zone_end_pfn(z);
	}
	memmap_fill(&map[pfn], node_end - pfn, PG_reserved, 1);
}

/* The memmap is the simulator's largest allocation (32 B a frame: 192 MiB at mem=24G) and
 * is written end to end at once: back it with the host's transparent huge pages where
 * they are on request (THP "madvise"), so filling it takes one host fault per 2 MiB
 * instead of one per 4 KiB. A host hint only; the contents are the same either way. */
#define MEMMAP_HUGE_ALIGN (2ull << 20)

static struct page *memmap_alloc(uint64_t nr_pages)
{
	uint64_t bytes = nr_pages * sizeof(struct page);
	if (bytes < MEMMAP_HUGE_ALIGN) /* whole host cache lines (see memmap_skew) */
		return aligned_alloc(64, (bytes + 63) & ~(uint64_t)63);
	bytes = (bytes + MEMMAP_HUGE_ALIGN - 1) & ~(MEMMAP_HUGE_ALIGN - 1);
	struct page *map = aligned_alloc(MEMMAP_HUGE_ALIGN, bytes);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
	if (map)
		(void)madvise(map, bytes, MADV_HUGEPAGE); /* refused or unsupported: 4 KiB pages */
#endif
	return map;
}

/* Struct pages left unused before node_start_pfn's, so that an even pfn's struct page
 * starts a host cache line (two struct pages a line). */
static uint64_t memmap_skew(const struct pglist_data *pgdat) { return pgdat->node_start_pfn & 1; }

static int init_memmap(struct pglist_data *pgdat, const struct boot_run *runs, int nr_runs)
{
	uint64_t n = pgdat->node_spanned_pages;
	pgdat->pageblock_base = pgdat->node_start_pfn & ~(pfn_t)(pageblock_nr_pages(pgdat) - 1);
	uint64_t nblocks =
	    (pgdat->node_start_pfn + n - pgdat->pageblock_base + pageblock_nr_pages(pgdat) - 1) >>
	    pgdat->pageblock_order;
	/* every field of every struct page is written by memmap_init: no zeroing first.
	 * The array starts at an even pfn (the kernel's FLATMEM mem_map starts at pfn 0):
	 * a buddy pair then shares one host cache line, which the merges test together. */
	struct page *map = memmap_alloc(n + memmap_skew(pgdat));
	pgdat->mem_map = map ? map + memmap_skew(pgdat) : NULL;
	pgdat->pageblock_mt = malloc(nblocks);
	if (!pgdat->mem_map || !pgdat->pageblock_mt)
		return -1;
	pgdat->memmap_base = pgdat->mem_map - pgdat->node_start_pfn;
	memset(pgdat->pageblock_mt, MIGRATE_MOVABLE, nblocks);
	memmap_init(pgdat, runs, nr_runs);
	return 0;
}

static int alloc_pcp(struct pglist_data *pgdat)
{
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct zone *z = &pgdat->node_zones[zi];
		if (!zone_configured(pgdat, (enum zone_type)zi))
			continue;
		z->pcp = calloc(pgdat->nr_cpus, sizeof(*z->pcp));
		if (!z->pcp) /* the rings come with high and batch (zone_pcp_update) */
			return -1;
	}
	return 0;
}

int page_alloc_init(struct pglist_data *pgdat, const struct machine *m, uint64_t *vmstat)
{
	memset(pgdat, 0, sizeof(*pgdat));
	pgdat->vmstat = vmstat;
	pgdat->pageblock_order = m->pageblock_order ? m->pageblock_order : MAX_PAGE_ORDER;
	pgdat->nr_cpus = m->cfg.nr_cpus ? m->cfg.nr_cpus : 1;
	pgdat->has_dma32 = m->cfg.arch == ARCH_X86_64;
	pgdat->has_highmem = m->cfg.arch != ARCH_X86_64 && m->cfg.kernel.highmem;
	pgdat->pcp_enabled = true;
	pgdat->pcp_thp = m->cfg.kernel.thp;
	pgdat->vm = m->cfg.vm;
	struct boot_run runs[MAX_BOOT_RUNS];
	int nr_runs = boot_free_runs(m, runs);
	if (setup_zones(pgdat, m) < 0 || init_memmap(pgdat, runs, nr_runs) < 0 ||
	    alloc_pcp(pgdat) < 0) {
		page_alloc_destroy(pgdat);
		return -1;
	}
	for (int zi = 0; zi < MAX_NR_ZONES; zi++)
		if (pgdat->node_zones[zi].spanned_pages)
			zone_free_boot_pages(pgdat, &pgdat->node_zones[zi], runs, nr_runs);
	/* build_all_zonelists: mobility grouping is off when there are too few pages to
	 * make pageblocks meaningful (vm_total_pages < pageblock_nr_pages * MIGRATE_TYPES) */
	uint64_t total = 0;
	for (int zi = 0; zi < MAX_NR_ZONES; zi++)
		total += pgdat->node_zones[zi].managed_pages;
	pgdat->page_group_by_mobility_disabled = total < pageblock_nr_pages(pgdat) * MIGRATE_TYPES;
	/* alloc_flags_nofragment (6.1): with ZONE_DMA32 configured, an allocation whose
	 * preferred zone (the first populated one of its zonelist) is Normal first avoids
	 * fragmenting fallbacks below pageblock order */
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		int preferred = zi;
		while (preferred > 0 && !pgdat->node_zones[preferred].populated)
			preferred--;
		pgdat->nofragment[zi] =
		    pgdat->has_dma32 && preferred == ZONE_NORMAL ? ALLOC_NOFRAGMENT : 0;
	}
	for (gfp_t g = 0; g <= GFP_ZONE_MT_BITS; g++) {
		unsigned mt =
		    pgdat->page_group_by_mobility_disabled ? MIGRATE_UNMOVABLE : gfp_migratetype(g);
		pgdat->gfp_zone_mt[g] = (uint8_t)(gfp_zone(pgdat, g) | mt << 4);
	}
	/* the pcp lists' rings are allocated with high and batch */
	return init_per_zone_wmark_min(pgdat, m->cfg.kernel.thp);
}

void page_alloc_destroy(struct pglist_data *pgdat)
{
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct zone *z = &pgdat->node_zones[zi];
		for (unsigned c = 0; z->pcp && c < pgdat->nr_cpus; c++)
			pcp_lists_free(&z->pcp[c]);
		free(z->pcp);
		z->pcp = NULL;
		free_lists_free(z);
	}
	free(pgdat->mem_map ? pgdat->mem_map - memmap_skew(pgdat) : NULL);
	free(pgdat->pageblock_mt);
	pgdat->mem_map = pgdat->memmap_base = NULL;
	pgdat->pageblock_mt = NULL;
}
