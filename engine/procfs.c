/* /proc/buddyinfo, /proc/pagetypeinfo, /proc/zoneinfo and the debugfs extfrag files of the
 * simulated node, printed with mm/vmstat.c's formats (6.1). */
#include "procfs.h"

#include <inttypes.h>

#include "page_alloc_internal.h"

/* The zones a 6.1 kernel of the modeled build has, in index order. ZONE_MOVABLE is always
 * configured; ZONE_DEVICE on x86_64 (Debian: CONFIG_ZONE_DEVICE=y). Both stay empty in the
 * model; they appear in zoneinfo and in every protection array. */
enum { RZ_REAL, RZ_MOVABLE, RZ_DEVICE };
struct rzone {
	int kind;
	const struct zone *z; /* RZ_REAL only */
	const char *name;
};

static int rendered_zones(const struct pglist_data *pgdat, struct rzone out[MAX_NR_ZONES + 2])
{
	int n = 0;
	for (int zi = 0; zi < MAX_NR_ZONES; zi++)
		if (zone_configured(pgdat, (enum zone_type)zi))
			out[n++] = (struct rzone){RZ_REAL, &pgdat->node_zones[zi], zone_names[zi]};
	out[n++] = (struct rzone){RZ_MOVABLE, NULL, "Movable"};
	if (pgdat->has_dma32)
		out[n++] = (struct rzone){RZ_DEVICE, NULL, "Device"};
	return n;
}

static void zone_header(struct strbuf *sb, const char *name)
{
	strbuf_printf(sb, "Node %d, zone %8s ", 0, name);
}

/* frag_show_print, over populated zones */
void procfs_buddyinfo(struct strbuf *sb, const struct pglist_data *pgdat)
{
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		const struct zone *z = &pgdat->node_zones[zi];
		if (!z->populated)
			continue;
		zone_header(sb, zone_names[zi]);
		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			strbuf_printf(sb, "%6" PRIu64 " ", z->free_area[o].nr_free);
		strbuf_putc(sb, '\n');
	}
}

/* pagetypeinfo_showfree: list lengths, capped at 100000 as the kernel counts them */
static void pagetypeinfo_showfree(struct strbuf *sb, const struct pglist_data *pgdat)
{
	strbuf_printf(sb, "%-43s ", "Free pages count per migrate type at order");
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		strbuf_printf(sb, "%6d ", o);
	strbuf_putc(sb, '\n');
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		const struct zone *z = &pgdat->node_zones[zi];
		if (!z->populated)
			continue;
		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			strbuf_printf(sb, "Node %4d, zone %8s, type %12s ", 0, zone_names[zi],
				      migratetype_names[mt]);
			for (int o = 0; o < NR_PAGE_ORDERS; o++) {
				uint64_t n = z->free_area[o].nr_free_mt[mt];
				bool overflow = n >= 100000;
				strbuf_printf(sb, "%s%6" PRIu64 " ", overflow ? ">" : "",
					      overflow ? (uint64_t)100000 : n);
			}
			strbuf_putc(sb, '\n');
		}
	}
}

/* pagetypeinfo_showblockcount: pageblocks whose first pfn lies in the zone */
static void pagetypeinfo_showblockcount(struct strbuf *sb, const struct pglist_data *pgdat)
{
	strbuf_printf(sb, "\n%-23s", "Number of blocks type ");
	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		strbuf_printf(sb, "%12s ", migratetype_names[mt]);
	strbuf_putc(sb, '\n');
	uint64_t pb = pageblock_nr_pages(pgdat);
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		const struct zone *z = &pgdat->node_zones[zi];
		if (!z->populated)
			continue;
		uint64_t count[MIGRATE_TYPES] = {0};
		for (uint64_t pfn = z->zone_start_pfn; pfn < zone_end_pfn(z); pfn += pb)
			count[get_pageblock_migratetype(pgdat, (pfn_t)pfn)]++;
		zone_header(sb, zone_names[zi]);
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			strbuf_printf(sb, "%12" PRIu64 " ", count[mt]);
		strbuf_putc(sb, '\n');
	}
}

void procfs_pagetypeinfo(struct strbuf *sb, const struct pglist_data *pgdat)
{
	strbuf_printf(sb, "Page block order: %u\n", pgdat->pageblock_order);
	strbuf_printf(sb, "Pages per block:  %" PRIu64 "\n", pageblock_nr_pages(pgdat));
	strbuf_putc(sb, '\n');
	pagetypeinfo_showfree(sb, pgdat);
	pagetypeinfo_showblockcount(sb, pgdat);
}

/* One line per populated zone, one index (x1000) per order, as "%d.%03d" (unusable_show_print)
 * or "%2d.%03d" (extfrag_show_print, where -1000 prints as "-1.000"). */
static void index_table(struct strbuf *sb, const struct pglist_data *pgdat,
			int (*index)(const struct zone *, unsigned), bool wide)
{
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		const struct zone *z = &pgdat->node_zones[zi];
		if (!z->populated)
			continue;
		zone_header(sb, zone_names[zi]);
		for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
			int idx = index(z, o);
			strbuf_printf(sb, wide ? "%2d.%03d " : "%d.%03d ", idx / 1000, idx % 1000);
		}
		strbuf_putc(sb, '\n');
	}
}

void procfs_unusable_index(struct strbuf *sb, const struct pglist_data *pgdat)
{
	index_table(sb, pgdat, unusable_free_index, false);
}

void procfs_extfrag_index(struct strbuf *sb, const struct pglist_data *pgdat)
{
	index_table(sb, pgdat, fragmentation_index, true);
}

void procfs_zoneinfo_item(struct strbuf *sb, const char *name, uint64_t value)
{
	strbuf_printf(sb, "\n      %-12s %" PRIu64, name, value);
}

/* protection: lowmem_reserve over every configured zone; the empty Movable/Device zones
 * add no pages, so their entries repeat the highest real zone's. z is NULL for those. */
static void zoneinfo_protection(struct strbuf *sb, const struct zone *z, const struct rzone *all,
				int n)
{
	int last_real = ZONE_DMA;
	for (int i = 0; i < n; i++) {
		int64_t v = 0;
		if (all[i].kind == RZ_REAL)
			last_real = (int)all[i].z->type;
		if (z)
			v = z->lowmem_reserve[last_real];
		strbuf_printf(sb, i ? ", %" PRId64 : "\n        protection: (%" PRId64, v);
	}
	strbuf_putc(sb, ')');
}

/* min watermark of the empty zones: Movable gets the highmem clamp (SWAP_CLUSTER_MAX),
 * Device the lowmem share of zero pages (__setup_per_zone_wmarks) */
static uint64_t virtual_zone_min(int kind) { return kind == RZ_MOVABLE ? 32 : 0; }

static void zoneinfo_zone(struct strbuf *sb, const struct pglist_data *pgdat,
			  const struct rzone *rz, const struct rzone *all, int n,
			  bool first_populated, const struct zoneinfo_source *src)
{
	const struct zone *z = rz->z;
	strbuf_printf(sb, "Node %d, zone %8s", 0, rz->name);
	if (first_populated) {
		strbuf_printf(sb, "\n  per-node stats");
		if (src && src->node_stats)
			src->node_stats(src->ctx, sb);
	}
	uint64_t vmin = virtual_zone_min(rz->kind);
	strbuf_printf(sb,
		      "\n  pages free     %" PRIu64 "\n        boost    %" PRIu64
		      "\n        min      %" PRIu64 "\n        low      %" PRIu64
		      "\n        high     %" PRIu64 "\n        spanned  %" PRIu64
		      "\n        present  %" PRIu64 "\n        managed  %" PRIu64
		      "\n        cma      %d",
		      z ? z->nr_free_pages : 0, z ? z->watermark_boost : 0,
		      z ? wmark_pages(z, WMARK_MIN) : vmin, z ? wmark_pages(z, WMARK_LOW) : vmin,
		      z ? wmark_pages(z, WMARK_HIGH) : vmin, z ? z->spanned_pages : 0,
		      z ? z->present_pages : 0, z ? z->managed_pages : 0, 0);
	zoneinfo_protection(sb, z, all, n);
	if (!z || !z->populated) {
		strbuf_putc(sb, '\n');
		return;
	}
	procfs_zoneinfo_item(sb, "nr_free_pages", z->nr_free_pages);
	if (src && src->zone_stats)
		src->zone_stats(src->ctx, z, sb);
	strbuf_printf(sb, "\n  pagesets");
	for (unsigned c = 0; c < pgdat->nr_cpus; c++) {
		const struct per_cpu_pages *pcp = &z->pcp[c];
		strbuf_printf(sb,
			      "\n    cpu: %u\n              count: %d\n              high:  %d"
			      "\n              batch: %d",
			      c, pcp->count, pcp->high, pcp->batch);
		strbuf_printf(sb, "\n  vm stats threshold: %d", z->stat_threshold);
	}
	strbuf_printf(sb, "\n  node_unreclaimable:  %u\n  start_pfn:           %" PRIu32,
		      pgdat->kswapd_failures >= 16 ? 1u : 0u, z->zone_start_pfn);
	strbuf_putc(sb, '\n');
}

/* zoneinfo_show_print over every configured zone, populated or not */
void procfs_zoneinfo(struct strbuf *sb, const struct pglist_data *pgdat,
		     const struct zoneinfo_source *src)
{
	struct rzone rz[MAX_NR_ZONES + 2];
	int n = rendered_zones(pgdat, rz);
	bool seen_populated = false;
	for (int i = 0; i < n; i++) {
		bool first = rz[i].kind == RZ_REAL && rz[i].z->populated && !seen_populated;
		seen_populated |= first;
		zoneinfo_zone(sb, pgdat, &rz[i], rz, n, first, src);
	}
}
