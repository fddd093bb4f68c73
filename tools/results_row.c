/* The sweep table's row of one run and the frame map: the run-level outputs a sweep collects
 * from each cell (schema in docs/RESULTS.md). */
#include <inttypes.h>
#include <string.h>

#include "results.h"

/* Zones in column order; a column exists for every zone of every arch so that rows of an
 * i386 cell and an x86_64 cell share one header. */
static const enum zone_type row_zones[] = {ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, ZONE_HIGHMEM};
#define NR_ROW_ZONES (sizeof(row_zones) / sizeof(row_zones[0]))

/* "256M", "5G", "0": sizes as the command line takes them. */
static void put_size(FILE *f, uint64_t bytes)
{
	if (bytes && bytes % (1ull << 30) == 0)
		fprintf(f, ",%" PRIu64 "G", bytes >> 30);
	else if (bytes && bytes % (1ull << 20) == 0)
		fprintf(f, ",%" PRIu64 "M", bytes >> 20);
	else if (bytes && bytes % (1ull << 10) == 0)
		fprintf(f, ",%" PRIu64 "K", bytes >> 10);
	else
		fprintf(f, ",%" PRIu64, bytes);
}

void results_row_header(FILE *f)
{
	fputs("label,trace,trace_hash,events,arch,mem,mem_mib,swap,swap_mib,cpus,seed,"
	      "overcommit_memory,overcommit_ratio,swappiness,min_free_kbytes,"
	      "watermark_scale_factor,nr_free_pages",
	      f);
	fprintf(f, ",unusable_o%d,unusable_o%d", RESULTS_FRAG_ORDER_LOW, RESULTS_FRAG_ORDER_HIGH);
	for (size_t k = 0; k < NR_ROW_ZONES; k++) {
		const char *z = zone_names[row_zones[k]];
		fprintf(f, ",managed_%s,free_%s,unusable_o%d_%s,unusable_o%d_%s,fragindex_o%d_%s",
			z, z, RESULTS_FRAG_ORDER_LOW, z, RESULTS_FRAG_ORDER_HIGH, z,
			RESULTS_FRAG_ORDER_HIGH, z);
	}
	fputs(",oom_kills,oom_no_killable,enomem,alloc_fails,swap_in_pages,swap_out_pages,"
	      "swap_peak_pages,tlb_flushes",
	      f);
	for (int c = 0; c < NR_TLB_CAUSES; c++)
		fprintf(f, ",tlb_%s", tlb_cause_names[c]);
	for (int i = 0; i < NR_VM_STAT_ITEMS; i++)
		fprintf(f, ",%s", vm_stat_names[i]);
	fputs(",wall_s,events_per_s\n", f);
}

static void put_zone(FILE *f, const struct zone *z)
{
	if (!z->populated) {
		fputs(",,,,,", f);
		return;
	}
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%.3f,%.3f,%.3f", z->managed_pages, z->nr_free_pages,
		unusable_free_index(z, RESULTS_FRAG_ORDER_LOW) / 1000.0,
		unusable_free_index(z, RESULTS_FRAG_ORDER_HIGH) / 1000.0,
		fragmentation_index(z, RESULTS_FRAG_ORDER_HIGH) / 1000.0);
}

void results_row(FILE *f, const struct sim *s, const struct run_info *run)
{
	const struct machine_config *c = &s->machine.cfg;
	const char *trace = run->origin ? trace_origin_get(run->origin, "generator") : NULL;
	fprintf(f, "%s,%s,%016" PRIx64 ",%" PRIu64 ",%s", run->label ? run->label : "",
		trace ? trace : run->trace_path, run->trace_hash, run->events, arch_names[c->arch]);
	put_size(f, c->mem_limit);
	fprintf(f, ",%" PRIu64, c->mem_limit >> 20);
	put_size(f, c->swap_bytes);
	fprintf(f, ",%" PRIu64 ",%u,%" PRIu64 ",%d,%d,%d,%" PRIu64 ",%d,%" PRIu64,
		c->swap_bytes >> 20, c->nr_cpus, c->seed, c->vm.overcommit_memory,
		c->vm.overcommit_ratio, c->vm.swappiness, c->vm.min_free_kbytes,
		c->vm.watermark_scale_factor, global_free_pages(&s->pgdat));
	fprintf(f, ",%.3f,%.3f", results_node_unusable_index(s, RESULTS_FRAG_ORDER_LOW) / 1000.0,
		results_node_unusable_index(s, RESULTS_FRAG_ORDER_HIGH) / 1000.0);
	for (size_t k = 0; k < NR_ROW_ZONES; k++)
		put_zone(f, &s->pgdat.node_zones[row_zones[k]]);
	fprintf(f,
		",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		",%" PRIu64,
		s->vmstat[OOM_KILL], s->oom.no_killable, s->vmstat[COMMIT_REFUSED],
		s->vmstat[ALLOC_FAIL], s->vmstat[PSWPIN], s->vmstat[PSWPOUT], s->swap.peak_inuse,
		tlb_total_flushes(&s->mm.tlb));
	for (int i = 0; i < NR_TLB_CAUSES; i++)
		fprintf(f, ",%" PRIu64, s->mm.tlb.flushes[i]);
	for (int i = 0; i < NR_VM_STAT_ITEMS; i++)
		fprintf(f, ",%" PRIu64, s->vmstat[i]);
	if (run->timing)
		fprintf(f, ",%.6f,%.0f\n", run->wall_s,
			run->wall_s > 0 ? run->events / run->wall_s : 0);
	else
		fputs(",,\n", f);
}

/* What a frame holds, from its struct page flags; the first matching flag wins, in the
 * order the plot's legend lists them. */
enum frame_state {
	FS_HOLE,
	FS_RESERVED,
	FS_FREE,
	FS_PCP,
	FS_ANON,
	FS_FILE,
	FS_SLAB,
	FS_PGTABLE,
	FS_VMALLOC,
	FS_KERNEL,
	FS_OTHER,
	NR_FRAME_STATES
};
static const char *const frame_state_names[NR_FRAME_STATES] = {
    "hole", "reserved",	 "free",    "pcp",    "anon",  "file",
    "slab", "pagetable", "vmalloc", "kernel", "other",
};

static enum frame_state page_state(const struct page *p)
{
	static const struct {
		uint32_t flag;
		enum frame_state st;
	} order[] = {
	    {PG_buddy, FS_FREE},      {PG_pcp, FS_PCP},	      {PG_reserved, FS_RESERVED},
	    {PG_zero, FS_RESERVED},   {PG_slab, FS_SLAB},     {PG_pgtable, FS_PGTABLE},
	    {PG_vmalloc, FS_VMALLOC}, {PG_anon, FS_ANON},     {PG_file, FS_FILE},
	    {PG_swapcache, FS_ANON},  {PG_kernel, FS_KERNEL},
	};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (p->flags & order[i].flag)
			return order[i].st;
	return FS_OTHER;
}

static int zone_of_pfn(const struct pglist_data *pgdat, pfn_t pfn)
{
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		const struct zone *z = &pgdat->node_zones[zi];
		if (z->populated && pfn >= z->zone_start_pfn && pfn < zone_end_pfn(z))
			return zi;
	}
	return -1;
}

struct frame_run {
	FILE *f;
	pfn_t start;
	int zone;
	enum frame_state st;
};

static void run_flush(struct frame_run *r, pfn_t end)
{
	if (end > r->start)
		fprintf(r->f, "frames,%u,%u,%s,%s\n", r->start, end,
			r->zone < 0 ? "-" : zone_names[r->zone], frame_state_names[r->st]);
}

void results_frame_map(FILE *f, const struct sim *s)
{
	struct pglist_data *pgdat = (struct pglist_data *)&s->pgdat;
	pfn_t first = pgdat->node_start_pfn;
	pfn_t last = first + (pfn_t)pgdat->node_spanned_pages;
	fprintf(f, "# mmreplay frame map: arch=%s mem=%" PRIu64 "M pageblock_order=%u\n",
		arch_names[s->machine.cfg.arch], s->machine.cfg.mem_limit >> 20,
		pgdat->pageblock_order);
	fputs("kind,start_pfn,end_pfn,zone,state\n", f);
	struct frame_run r = {.f = f, .start = first, .zone = -2, .st = FS_HOLE};
	for (pfn_t pfn = first; pfn < last;) {
		int zone = zone_of_pfn(pgdat, pfn);
		const struct page *p = pfn_to_page(pgdat, pfn);
		enum frame_state st = zone < 0 ? FS_HOLE : page_state(p);
		pfn_t n = 1;
		/* a free block (buddy list or pcp list: order in page->private) or a compound
		 * allocation (order in the flags) covers 2^order frames from its head */
		if (zone >= 0 && (page_test(p, PG_buddy) || page_test(p, PG_pcp)) &&
		    p->private <= MAX_PAGE_ORDER)
			n = (pfn_t)1 << p->private;
		else if (zone >= 0 && page_test(p, PG_head))
			n = (pfn_t)1 << page_order(p);
		if (pfn + n > last)
			n = last - pfn;
		if (zone != r.zone || st != r.st) {
			run_flush(&r, pfn);
			r.start = pfn;
			r.zone = zone;
			r.st = st;
		}
		pfn += n;
	}
	run_flush(&r, last);
	/* pageblocks, consecutive ones of the same zone and migratetype as one range */
	pfn_t nr = (pfn_t)pageblock_nr_pages(pgdat);
	pfn_t run_start = 0;
	int run_zone = -1, run_mt = -1;
	for (pfn_t start = pgdat->pageblock_base; start < last; start += nr) {
		pfn_t from = start < first ? first : start;
		int zone = zone_of_pfn(pgdat, from);
		int mt = zone < 0 ? -1 : (int)get_pageblock_migratetype(pgdat, from);
		if (zone == run_zone && mt == run_mt)
			continue;
		if (run_zone >= 0)
			fprintf(f, "pageblock,%u,%u,%s,%s\n", run_start, from, zone_names[run_zone],
				migratetype_names[run_mt]);
		run_start = from;
		run_zone = zone;
		run_mt = mt;
	}
	if (run_zone >= 0)
		fprintf(f, "pageblock,%u,%u,%s,%s\n", run_start, last, zone_names[run_zone],
			migratetype_names[run_mt]);
}
