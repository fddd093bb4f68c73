/* Boot of the page allocator: zones from the machine, the memmap, pageblocks, and
 * memblock_free_all handing every free pfn to the buddy lists (mm/mm_init.c, mm/memblock.c,
 * mm/page_alloc.c in 6.1). */
#include <stdlib.h>
#include <string.h>

#include "page_alloc.h"
#include "page_alloc_internal.h"
#include "vmstat.h"

static void zone_init_free_lists(struct zone *z)
{
	for (int o = 0; o < NR_PAGE_ORDERS; o++) {
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			z->free_area[o].free_list[mt] = PFN_NONE;
		memset(z->free_area[o].nr_free_mt, 0, sizeof(z->free_area[o].nr_free_mt));
		z->free_area[o].nr_free = 0;
	}
}

/* __free_pages_core: the block leaves memblock, joins the zone's managed pages and is freed
 * to the tail of the free list (FPI_TO_TAIL), counted in pgfree as the kernel does. */
static void free_pages_core(struct pglist_data *pgdat, struct zone *z, pfn_t pfn, unsigned order)
{
	struct page *p = pfn_to_page(pgdat, pfn);
	for (uint32_t i = 0; i < (1u << order); i++) {
		p[i].flags &= ~PG_reserved;
		p[i].refcount = 0;
	}
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

/* memblock_free_all (lowmem) and set_highmem_pages_init (highmem) over one zone: runs of
 * pfns free at boot. The kernel frees highmem page by page; the buddy merges them into the
 * same blocks, only the list order can differ. */
static void zone_free_boot_pages(struct pglist_data *pgdat, const struct machine *m, struct zone *z)
{
	pfn_t end = zone_end_pfn(z);
	pfn_t pfn = z->zone_start_pfn;
	while (pfn < end) {
		while (pfn < end && !machine_pfn_free_at_boot(m, pfn))
			pfn++;
		pfn_t run = pfn;
		while (pfn < end && machine_pfn_free_at_boot(m, pfn))
			pfn++;
		if (pfn > run)
			free_pages_memory(pgdat, z, run, pfn);
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

/* memmap_init_range: every page reserved until memblock frees it, zone bits set, and each
 * pageblock MOVABLE. */
static int init_memmap(struct pglist_data *pgdat)
{
	uint64_t n = pgdat->node_spanned_pages;
	pgdat->pageblock_base = pgdat->node_start_pfn & ~(pfn_t)(pageblock_nr_pages(pgdat) - 1);
	uint64_t nblocks =
	    (pgdat->node_start_pfn + n - pgdat->pageblock_base + pageblock_nr_pages(pgdat) - 1) >>
	    pgdat->pageblock_order;
	pgdat->mem_map = calloc(n, sizeof(struct page));
	pgdat->pageblock_mt = malloc(nblocks);
	if (!pgdat->mem_map || !pgdat->pageblock_mt)
		return -1;
	memset(pgdat->pageblock_mt, MIGRATE_MOVABLE, nblocks);
	for (uint64_t i = 0; i < n; i++) {
		struct page *p = &pgdat->mem_map[i];
		p->flags = PG_reserved;
		p->next = p->prev = PFN_NONE;
		p->refcount = 1;
	}
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct zone *z = &pgdat->node_zones[zi];
		for (pfn_t pfn = z->zone_start_pfn; pfn < zone_end_pfn(z); pfn++)
			pfn_to_page(pgdat, pfn)->flags |= (uint32_t)zi << PAGE_ZONE_SHIFT;
	}
	return 0;
}

static int alloc_pcp(struct pglist_data *pgdat)
{
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct zone *z = &pgdat->node_zones[zi];
		if (!zone_configured(pgdat, (enum zone_type)zi))
			continue;
		z->pcp = calloc(pgdat->nr_cpus, sizeof(*z->pcp));
		if (!z->pcp)
			return -1;
		for (unsigned c = 0; c < pgdat->nr_cpus; c++)
			for (int l = 0; l < NR_PCP_LISTS; l++)
				z->pcp[c].lists[l] = PFN_NONE;
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
	if (setup_zones(pgdat, m) < 0 || init_memmap(pgdat) < 0 || alloc_pcp(pgdat) < 0) {
		page_alloc_destroy(pgdat);
		return -1;
	}
	for (int zi = 0; zi < MAX_NR_ZONES; zi++)
		if (pgdat->node_zones[zi].spanned_pages)
			zone_free_boot_pages(pgdat, m, &pgdat->node_zones[zi]);
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
	init_per_zone_wmark_min(pgdat, m->cfg.kernel.thp);
	return 0;
}

void page_alloc_destroy(struct pglist_data *pgdat)
{
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		free(pgdat->node_zones[zi].pcp);
		pgdat->node_zones[zi].pcp = NULL;
	}
	free(pgdat->mem_map);
	free(pgdat->pageblock_mt);
	pgdat->mem_map = NULL;
	pgdat->pageblock_mt = NULL;
}
