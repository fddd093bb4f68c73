/* /proc/meminfo, /proc/vmstat, /proc/zoneinfo and /proc/swaps of the live simulator
 * (fs/proc/meminfo.c, mm/vmstat.c, mm/swapfile.c [6.1]). Counters the engine keeps are read
 * directly; page states no counter keeps come from one pass over the memory map. */
#include "sim_proc.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mm_internal.h"
#include "page_alloc_internal.h"
#include "procfs.h"

void page_census(const struct sim *s, struct page_census *c)
{
	const struct pglist_data *pgdat = &s->pgdat;
	memset(c, 0, sizeof(*c));
	for (uint64_t i = 0; i < pgdat->node_spanned_pages; i++) {
		const struct page *p = &pgdat->mem_map[i];
		uint32_t f = p->flags;
		unsigned z = page_zonenum(p);
		if (f & PG_lru)
			c->zone_lru[z][page_lru(p)]++;
		if (f & PG_swapcache)
			c->swapcache++;
		if (!(f & PG_file))
			continue;
		if (is_shmem_file(p->mapping))
			c->shmem++;
		if (f & PG_dirty)
			c->file_dirty++;
		if (f & PG_writeback)
			c->writeback++;
		if (f & (PG_dirty | PG_writeback))
			c->zone_write_pending[z]++;
	}
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		const struct zone *zone = &pgdat->node_zones[z];
		if (!zone->populated || !zone->pcp)
			continue;
		for (unsigned cpu = 0; cpu < pgdat->nr_cpus; cpu++)
			c->pcp += (uint64_t)zone->pcp[cpu].count;
	}
}

void sim_meminfo_pages(const struct sim *s, const struct page_census *c, struct meminfo_pages *p)
{
	memset(p, 0, sizeof(*p));
	p->inactive_anon = s->lru.nr[LRU_INACTIVE_ANON];
	p->active_anon = s->lru.nr[LRU_ACTIVE_ANON];
	p->inactive_file = s->lru.nr[LRU_INACTIVE_FILE];
	p->active_file = s->lru.nr[LRU_ACTIVE_FILE];
	p->unevictable = s->lru.nr[LRU_UNEVICTABLE];
	/* NR_FILE_PAGES counts the swap cache too; meminfo subtracts it again for Cached */
	p->file_pages = s->mm.nr_file_pages + c->swapcache;
	p->swapcache = c->swapcache;
	p->dirty = c->file_dirty;
	p->writeback = c->writeback;
	p->anon_mapped = s->mm.nr_anon_pages;
	p->file_mapped = s->mm.nr_mapped;
	p->shmem = c->shmem;
	/* NR_SLAB_*_B are bytes, always whole slab pages (mm/slub.c account_slab) */
	p->slab_reclaimable = slub_sreclaimable_bytes(&s->slub) >> PAGE_SHIFT;
	p->slab_unreclaimable = slub_sunreclaim_bytes(&s->slub) >> PAGE_SHIFT;
	p->page_tables = s->mm.pt.nr_pagetable;
	p->vmalloc_used = s->vmalloc.nr_vmalloc_pages;
	p->committed_as = s->commit.committed_as;
	p->swap_used = s->swap.inuse_pages;
}

void sim_meminfo(const struct sim *s, struct meminfo *mi, struct meminfo_pages *p)
{
	struct page_census c;
	page_census(s, &c);
	sim_meminfo_pages(s, &c, p);
	meminfo_read(mi, &s->machine, &s->pgdat, p);
	/* total_swap_pages leaves out the header page (mm/swapfile.c setup_swap_extents) */
	uint64_t swap_pages = s->swap.pages ? s->swap.pages - 1 : 0;
	mi->swap_total = swap_pages << 2;
	mi->swap_free = swap_free_pages(&s->swap) << 2;
	mi->commit_limit = vm_commit_limit(&s->commit) << 2;
}

void sim_proc_meminfo(struct strbuf *sb, const struct sim *s)
{
	struct meminfo mi;
	struct meminfo_pages p;
	char buf[4096];
	sim_meminfo(s, &mi, &p);
	meminfo_render(buf, sizeof(buf), &mi); /* ~1.6 kB: every field, 8-digit values */
	strbuf_printf(sb, "%s", buf);
}

/* Gauges (enum zone_stat_item and enum node_stat_item of 6.1, in their order). */
enum gauge {
	G_FREE,
	G_ZONE_INACTIVE_ANON,
	G_ZONE_ACTIVE_ANON,
	G_ZONE_INACTIVE_FILE,
	G_ZONE_ACTIVE_FILE,
	G_ZONE_UNEVICTABLE,
	G_ZONE_WRITE_PENDING,
	G_NR_ZONE_ITEMS,
	G_INACTIVE_ANON = G_NR_ZONE_ITEMS,
	G_ACTIVE_ANON,
	G_INACTIVE_FILE,
	G_ACTIVE_FILE,
	G_UNEVICTABLE,
	G_SLAB_RECLAIMABLE,
	G_SLAB_UNRECLAIMABLE,
	G_ANON_PAGES,
	G_MAPPED,
	G_FILE_PAGES,
	G_DIRTY,
	G_WRITEBACK,
	G_SHMEM,
	G_VMSCAN_WRITE,
	G_KERNEL_STACK,
	G_PAGE_TABLE_PAGES,
	G_SWAPCACHED,
	G_ZERO,	     /* a state the model never has (see docs/PROC.md) */
	G_ZERO_NUMA, /* CONFIG_NUMA_BALANCING items: x86_64 only, 0 on one node */
};

struct gauge_name {
	const char *name;
	enum gauge g;
};

/* zone items, zoneinfo and /proc/vmstat order */
static const struct gauge_name zone_items[] = {
    {"nr_free_pages", G_FREE},
    {"nr_zone_inactive_anon", G_ZONE_INACTIVE_ANON},
    {"nr_zone_active_anon", G_ZONE_ACTIVE_ANON},
    {"nr_zone_inactive_file", G_ZONE_INACTIVE_FILE},
    {"nr_zone_active_file", G_ZONE_ACTIVE_FILE},
    {"nr_zone_unevictable", G_ZONE_UNEVICTABLE},
    {"nr_zone_write_pending", G_ZONE_WRITE_PENDING},
    {"nr_mlock", G_ZERO},
    {"nr_bounce", G_ZERO},
    {"nr_zspages", G_ZERO},
    {"nr_free_cma", G_ZERO},
};

/* node items */
static const struct gauge_name node_items[] = {
    {"nr_inactive_anon", G_INACTIVE_ANON},
    {"nr_active_anon", G_ACTIVE_ANON},
    {"nr_inactive_file", G_INACTIVE_FILE},
    {"nr_active_file", G_ACTIVE_FILE},
    {"nr_unevictable", G_UNEVICTABLE},
    {"nr_slab_reclaimable", G_SLAB_RECLAIMABLE},
    {"nr_slab_unreclaimable", G_SLAB_UNRECLAIMABLE},
    {"nr_isolated_anon", G_ZERO},
    {"nr_isolated_file", G_ZERO},
    {"workingset_nodes", G_ZERO},
    {"workingset_refault_anon", G_ZERO},
    {"workingset_refault_file", G_ZERO},
    {"workingset_activate_anon", G_ZERO},
    {"workingset_activate_file", G_ZERO},
    {"workingset_restore_anon", G_ZERO},
    {"workingset_restore_file", G_ZERO},
    {"workingset_nodereclaim", G_ZERO},
    {"nr_anon_pages", G_ANON_PAGES},
    {"nr_mapped", G_MAPPED},
    {"nr_file_pages", G_FILE_PAGES},
    {"nr_dirty", G_DIRTY},
    {"nr_writeback", G_WRITEBACK},
    {"nr_writeback_temp", G_ZERO},
    {"nr_shmem", G_SHMEM},
    {"nr_shmem_hugepages", G_ZERO},
    {"nr_shmem_pmdmapped", G_ZERO},
    {"nr_file_hugepages", G_ZERO},
    {"nr_file_pmdmapped", G_ZERO},
    {"nr_anon_transparent_hugepages", G_ZERO},
    {"nr_vmscan_write", G_VMSCAN_WRITE},
    {"nr_vmscan_immediate_reclaim", G_ZERO},
    {"nr_dirtied", G_ZERO},
    {"nr_written", G_ZERO},
    {"nr_throttled_written", G_ZERO},
    {"nr_kernel_misc_reclaimable", G_ZERO},
    {"nr_foll_pin_acquired", G_ZERO},
    {"nr_foll_pin_released", G_ZERO},
    {"nr_kernel_stack", G_KERNEL_STACK},
    {"nr_page_table_pages", G_PAGE_TABLE_PAGES},
    {"nr_sec_page_table_pages", G_ZERO},
    {"nr_swapcached", G_SWAPCACHED},
    {"pgpromote_success", G_ZERO_NUMA},
    {"pgpromote_candidate", G_ZERO_NUMA},
};

/* Debian's x86_64 6.1 has CONFIG_NUMA_BALANCING, its i386 kernels do not. */
static bool node_item_shown(const struct sim *s, enum gauge g)
{
	return g != G_ZERO_NUMA || s->machine.cfg.arch == ARCH_X86_64;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct gauge_ctx {
	const struct sim *s;
	struct page_census c;
	struct meminfo_pages p;
};

static void gauge_ctx_init(struct gauge_ctx *g, const struct sim *s)
{
	g->s = s;
	page_census(s, &g->c);
	sim_meminfo_pages(s, &g->c, &g->p);
}

/* Zone items for one zone (zi >= 0) or summed over the node (zi = -1). */
static uint64_t zone_gauge(const struct gauge_ctx *g, enum gauge item, int zi)
{
	uint64_t v = 0;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		if (zi >= 0 && z != zi)
			continue;
		const struct zone *zone = &g->s->pgdat.node_zones[z];
		switch (item) {
		case G_FREE:
			v += zone->nr_free_pages;
			break;
		case G_ZONE_INACTIVE_ANON:
			v += g->c.zone_lru[z][LRU_INACTIVE_ANON];
			break;
		case G_ZONE_ACTIVE_ANON:
			v += g->c.zone_lru[z][LRU_ACTIVE_ANON];
			break;
		case G_ZONE_INACTIVE_FILE:
			v += g->c.zone_lru[z][LRU_INACTIVE_FILE];
			break;
		case G_ZONE_ACTIVE_FILE:
			v += g->c.zone_lru[z][LRU_ACTIVE_FILE];
			break;
		case G_ZONE_UNEVICTABLE:
			v += g->c.zone_lru[z][LRU_UNEVICTABLE];
			break;
		case G_ZONE_WRITE_PENDING:
			v += g->c.zone_write_pending[z];
			break;
		default:
			break;
		}
	}
	return v;
}

static uint64_t node_gauge(const struct gauge_ctx *g, enum gauge item)
{
	const struct meminfo_pages *p = &g->p;
	switch (item) {
	case G_INACTIVE_ANON:
		return p->inactive_anon;
	case G_ACTIVE_ANON:
		return p->active_anon;
	case G_INACTIVE_FILE:
		return p->inactive_file;
	case G_ACTIVE_FILE:
		return p->active_file;
	case G_UNEVICTABLE:
		return p->unevictable;
	case G_SLAB_RECLAIMABLE:
		return p->slab_reclaimable;
	case G_SLAB_UNRECLAIMABLE:
		return p->slab_unreclaimable;
	case G_ANON_PAGES:
		return p->anon_mapped;
	case G_MAPPED:
		return p->file_mapped;
	case G_FILE_PAGES:
		return p->file_pages;
	case G_DIRTY:
		return p->dirty;
	case G_WRITEBACK:
		return p->writeback;
	case G_SHMEM:
		return p->shmem;
	case G_VMSCAN_WRITE:
		return g->s->vmstat[NR_VMSCAN_WRITE];
	case G_KERNEL_STACK:
		return p->kernel_stack_kb; /* NR_KERNEL_STACK_KB is in kB */
	case G_PAGE_TABLE_PAGES:
		return p->page_tables;
	case G_SWAPCACHED:
		return p->swapcache;
	default:
		return 0;
	}
}

/* mm/page-writeback.c defaults: vm_dirty_ratio 20, dirty_background_ratio 10 (percent) */
#define VM_DIRTY_RATIO 20
#define DIRTY_BACKGROUND_RATIO 10

/* highmem_dirtyable_memory before its min(x, total): HighMem's free pages above its high
 * watermark plus its file LRU (vm_highmem_is_dirtyable is 0 by default) */
static uint64_t highmem_dirtyable(const struct gauge_ctx *g)
{
	const struct zone *z = &g->s->pgdat.node_zones[ZONE_HIGHMEM];
	if (!z->populated)
		return 0;
	uint64_t high = wmark_pages(z, WMARK_HIGH);
	uint64_t x = z->nr_free_pages - (z->nr_free_pages < high ? z->nr_free_pages : high);
	return x + g->c.zone_lru[ZONE_HIGHMEM][LRU_INACTIVE_FILE] +
	       g->c.zone_lru[ZONE_HIGHMEM][LRU_ACTIVE_FILE];
}

void global_dirty_limits(uint64_t free, uint64_t totalreserve, uint64_t file_lru, uint64_t highmem,
			 uint64_t *bg, uint64_t *thresh)
{
	/* global_dirtyable_memory: free above the reserve, plus the file LRU, minus highmem's
	 * share (never more than the total), plus one so it is never 0 */
	uint64_t avail = free - (free < totalreserve ? free : totalreserve) + file_lru;
	avail -= highmem < avail ? highmem : avail;
	avail += 1;
	/* domain_dirty_limits: the ratios are scaled to PAGE_SIZE first */
	uint64_t ratio = VM_DIRTY_RATIO * PAGE_SIZE / 100;
	uint64_t bg_ratio = DIRTY_BACKGROUND_RATIO * PAGE_SIZE / 100;
	*thresh = ratio * avail / PAGE_SIZE;
	*bg = bg_ratio * avail / PAGE_SIZE;
	if (*bg >= *thresh)
		*bg = *thresh / 2;
}

/* The event part of mm/vmstat.c vmstat_text (6.1, x86, CONFIG_DEBUG_TLBFLUSH where the
 * model counts it). Names the model does not count are skipped; "*" marks a per-zone
 * family (TEXTS_FOR_ZONES): one line per configured zone. */
static const char *const event_order[] = {
    "pgpgin",
    "pgpgout",
    "pswpin",
    "pswpout",
    "*pgalloc",
    "*allocstall",
    "*pgskip",
    "pgfree",
    "pgactivate",
    "pgdeactivate",
    "pglazyfree",
    "pgfault",
    "pgmajfault",
    "pglazyfreed",
    "pgrefill",
    "pgreuse",
    "pgsteal_kswapd",
    "pgsteal_direct",
    "pgdemote_kswapd",
    "pgdemote_direct",
    "pgscan_kswapd",
    "pgscan_direct",
    "pgscan_direct_throttle",
    "pgscan_anon",
    "pgscan_file",
    "pgsteal_anon",
    "pgsteal_file",
    "pginodesteal",
    "slabs_scanned",
    "kswapd_inodesteal",
    "kswapd_low_wmark_hit_quickly",
    "kswapd_high_wmark_hit_quickly",
    "pageoutrun",
    "pgrotated",
    "drop_pagecache",
    "drop_slab",
    "oom_kill",
    "nr_tlb_remote_flush",
    "nr_tlb_remote_flush_received",
    "nr_tlb_local_flush_all",
    "nr_tlb_local_flush_one",
    "swap_ra",
    "swap_ra_hit",
};

static int vm_stat_find(const char *name)
{
	for (int i = 0; i < NR_VM_STAT_ITEMS; i++)
		if (strcmp(vm_stat_names[i], name) == 0)
			return i;
	return -1;
}

static void vmstat_line(struct strbuf *sb, const char *name, uint64_t v)
{
	strbuf_printf(sb, "%s %" PRIu64 "\n", name, v);
}

/* vmstat_text's zone names are lower case: pgalloc_dma, pgalloc_dma32, ... */
static void vmstat_zone_family(struct strbuf *sb, const struct sim *s, const char *family,
			       bool printed[NR_VM_STAT_ITEMS])
{
	static const char *const lower[MAX_NR_ZONES] = {"dma", "dma32", "normal", "high"};
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		char name[64];
		snprintf(name, sizeof(name), "%s_%s", family, lower[z]);
		int i = vm_stat_find(name);
		if (i < 0)
			continue;
		printed[i] = true; /* an unconfigured zone's counter is not a line */
		if (zone_configured(&s->pgdat, (enum zone_type)z))
			vmstat_line(sb, name, s->vmstat[i]);
	}
}

/* vmstat_show: zone items, node items, then events; the model's own counters last. */
void sim_proc_vmstat(struct strbuf *sb, const struct sim *s)
{
	struct gauge_ctx g;
	bool printed[NR_VM_STAT_ITEMS] = {false};
	gauge_ctx_init(&g, s);
	for (size_t i = 0; i < ARRAY_SIZE(zone_items); i++)
		vmstat_line(sb, zone_items[i].name, zone_gauge(&g, zone_items[i].g, -1));
	for (size_t i = 0; i < ARRAY_SIZE(node_items); i++)
		if (node_item_shown(s, node_items[i].g))
			vmstat_line(sb, node_items[i].name, node_gauge(&g, node_items[i].g));
	printed[NR_VMSCAN_WRITE] = true; /* a node item in the kernel */
	uint64_t bg, thresh;
	global_dirty_limits(global_free_pages(&s->pgdat), s->pgdat.totalreserve_pages,
			    g.p.inactive_file + g.p.active_file, highmem_dirtyable(&g), &bg,
			    &thresh);
	vmstat_line(sb, "nr_dirty_threshold", thresh);
	vmstat_line(sb, "nr_dirty_background_threshold", bg);
	for (size_t i = 0; i < ARRAY_SIZE(event_order); i++) {
		const char *name = event_order[i];
		if (name[0] == '*') {
			vmstat_zone_family(sb, s, name + 1, printed);
			continue;
		}
		int k = vm_stat_find(name);
		if (k < 0 || printed[k])
			continue;
		printed[k] = true;
		vmstat_line(sb, name, s->vmstat[k]);
	}
	for (int k = 0; k < NR_VM_STAT_ITEMS; k++)
		if (!printed[k])
			vmstat_line(sb, vm_stat_names[k], s->vmstat[k]);
}

static void zoneinfo_node_stats(void *ctx, struct strbuf *sb)
{
	const struct gauge_ctx *g = ctx;
	for (size_t i = 0; i < ARRAY_SIZE(node_items); i++)
		if (node_item_shown(g->s, node_items[i].g))
			procfs_zoneinfo_item(sb, node_items[i].name,
					     node_gauge(g, node_items[i].g));
}

/* after nr_free_pages, which procfs_zoneinfo prints itself */
static void zoneinfo_zone_stats(void *ctx, const struct zone *z, struct strbuf *sb)
{
	const struct gauge_ctx *g = ctx;
	for (size_t i = 1; i < ARRAY_SIZE(zone_items); i++)
		procfs_zoneinfo_item(sb, zone_items[i].name,
				     zone_gauge(g, zone_items[i].g, (int)z->type));
}

void sim_proc_zoneinfo(struct strbuf *sb, const struct sim *s)
{
	struct gauge_ctx g;
	gauge_ctx_init(&g, s);
	struct zoneinfo_source src = {&g, zoneinfo_node_stats, zoneinfo_zone_stats};
	procfs_zoneinfo(sb, &s->pgdat, &src);
}

/* mm/swapfile.c swap_show: the path padded to 40 columns, sizes in kB with a second tab
 * below 10000000; the first swapon without a priority gets -2 (--least_priority from -1). */
#define SWAP_NAME "/dev/mmreplay-swap"
void sim_proc_swaps(struct strbuf *sb, const struct sim *s)
{
	strbuf_printf(sb, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
	if (!s->swap.pages)
		return;
	uint64_t size = (s->swap.pages - 1) << 2, used = s->swap.inuse_pages << 2;
	int len = (int)strlen(SWAP_NAME);
	strbuf_printf(sb, "%s%*s%s\t%" PRIu64 "\t%s%" PRIu64 "\t%s%d\n", SWAP_NAME,
		      len < 40 ? 40 - len : 1, " ", "partition", size, size < 10000000 ? "\t" : "",
		      used, used < 10000000 ? "\t" : "", -2);
}
