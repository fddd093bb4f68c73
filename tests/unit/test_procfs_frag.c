/* Fragmentation indexes and the /proc renderers against the facts sheet's numbers. */
#include <criterion/criterion.h>
#include <string.h>

#include "page_alloc.h"
#include "procfs.h"
#include "testlib_machine.h"
#include "vmstat.h"

static void zone_with_buddyinfo(struct zone *z, const uint64_t nr[NR_PAGE_ORDERS])
{
	memset(z, 0, sizeof(*z));
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		z->free_area[o].nr_free = nr[o];
}

/* facts §5 [live]: DMA 0 0 0 0 0 0 0 0 1 1 3 → unusable 0.066 at order 9, 0.200 at 10 */
Test(frag, unusable_index_live_dma_example)
{
	static const uint64_t nr[NR_PAGE_ORDERS] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3};
	struct zone z;
	zone_with_buddyinfo(&z, nr);
	struct contig_page_info info;
	fill_contig_page_info(&z, 9, &info);
	cr_assert_eq(info.free_pages, 3840);
	cr_assert_eq(info.free_blocks_total, 5);
	cr_assert_eq(info.free_blocks_suitable, 7);
	cr_assert_eq(unusable_free_index(&z, 9), 66);
	cr_assert_eq(unusable_free_index(&z, 10), 200);
	cr_assert_eq(unusable_free_index(&z, 0), 0);
	cr_assert_eq(unusable_free_index(&z, 8), 0);
	cr_assert_eq(fragmentation_index(&z, 10), -1000, "a suitable block exists");
}

Test(frag, empty_zone_and_fragmentation_index)
{
	static const uint64_t none[NR_PAGE_ORDERS] = {0};
	struct zone z;
	zone_with_buddyinfo(&z, none);
	cr_assert_eq(unusable_free_index(&z, 3), 1000);
	cr_assert_eq(fragmentation_index(&z, 3), 0);
	/* 100 single pages, order 1 wanted: 1000 - (1000 + 100*1000/2) / 100 = 490 */
	static const uint64_t singles[NR_PAGE_ORDERS] = {100};
	zone_with_buddyinfo(&z, singles);
	cr_assert_eq(fragmentation_index(&z, 1), 490);
	/* order 10: 1000 - (1000 + 100000/1024) / 100 = 1000 - 10 = 990 */
	cr_assert_eq(fragmentation_index(&z, 10), 990);
	cr_assert_eq(unusable_free_index(&z, 1), 1000);
}

/* x86_64 [live] zones: DMA managed 3840, DMA32 772915, Normal 524288, THP on. */
static void live_x86_64(struct machine *m)
{
	pfn_t ends[MAX_NR_ZONES] = {4096, 1u << 20, (1u << 20) + 524288, 0};
	test_machine(m, ARCH_X86_64, 1, ends, 9);
	m->cfg.nr_cpus = 2;
	test_machine_reserve(m, 1, 256);
	test_machine_reserve(m, 4096 + 772915, 1u << 20);
}

Test(procfs, live_x86_64_watermarks_protection_and_zoneinfo)
{
	static struct machine m;
	static struct pglist_data pg;
	static uint64_t vmstat[NR_VM_STAT_ITEMS];
	live_x86_64(&m);
	cr_assert_eq(page_alloc_init(&pg, &m, vmstat), 0);
	struct zone *d32 = &pg.node_zones[ZONE_DMA32];
	cr_assert_eq(pg.node_zones[ZONE_DMA].managed_pages, 3840);
	cr_assert_eq(d32->managed_pages, 772915);
	/* facts §4.5: THP raise 512 × 3 × 11 pages = 67584 KB; DMA32 10037 / 12546 / 15055 */
	cr_assert_eq(pg.min_free_kbytes, 67584);
	cr_assert_eq(d32->watermark[WMARK_MIN], 10037);
	cr_assert_eq(d32->watermark[WMARK_LOW], 12546);
	cr_assert_eq(d32->watermark[WMARK_HIGH], 15055);
	/* facts §4.4: DMA protection (0, 3019, 5067, 5067, 5067) */
	struct strbuf sb;
	strbuf_init(&sb);
	procfs_zoneinfo(&sb, &pg, NULL);
	const char *t = strbuf_str(&sb);
	cr_assert(strstr(t, "Node 0, zone      DMA\n  per-node stats\n  pages free     ") == t,
		  "%s", t);
	cr_assert_not_null(strstr(t, "        protection: (0, 3019, 5067, 5067, 5067)\n"));
	cr_assert_not_null(strstr(t, "Node 0, zone    DMA32\n  pages free     "));
	cr_assert_not_null(
	    strstr(t, "\n        min      10037\n        low      12546\n"
		      "        high     15055\n        spanned  1044480\n"
		      "        present  1044480\n        managed  772915\n"
		      "        cma      0\n        protection: (0, 0, 2048, 2048, 2048)\n"
		      "      nr_free_pages 772915\n  pagesets\n    cpu: 0\n"
		      "              count: 0\n              high:  6273\n"
		      "              batch: 63\n  vm stats threshold: "));
	cr_assert_not_null(strstr(t,
				  "Node 0, zone  Movable\n  pages free     0\n        boost    0\n"
				  "        min      32\n"));
	cr_assert_not_null(strstr(t, "Node 0, zone   Device\n"));
	cr_assert_not_null(strstr(t, "  node_unreclaimable:  0\n  start_pfn:           4096\n"));
	/* zone_highsize: Normal low 8510 per facts §4.3 [live] → high 4255 with 2 CPUs */
	cr_assert_eq(pg.node_zones[ZONE_NORMAL].watermark[WMARK_LOW], 8510);
	cr_assert_eq(pg.node_zones[ZONE_NORMAL].pcp[0].high, 4255);
	strbuf_free(&sb);
	page_alloc_destroy(&pg);
}

/* i386 1G, hand-built: DMA 3840 + Normal 211968 managed (843 MiB lowmem), 35840 highmem. */
Test(procfs, i386_1g_watermarks_by_hand)
{
	static struct machine m;
	static struct pglist_data pg;
	static uint64_t vmstat[NR_VM_STAT_ITEMS];
	pfn_t ends[MAX_NR_ZONES] = {4096, 0, 226304, 262144};
	test_machine(&m, ARCH_I386, 1, ends, 10);
	/* the Debian 686 build has THP (branch machine); this test is about the base formula */
	m.cfg.kernel.thp = false;
	test_machine_reserve(&m, 1, 256);
	test_machine_reserve(&m, 4096, 4096 + 10240);
	cr_assert_eq(page_alloc_init(&pg, &m, vmstat), 0);
	struct zone *dma = &pg.node_zones[ZONE_DMA], *nrm = &pg.node_zones[ZONE_NORMAL],
		    *hi = &pg.node_zones[ZONE_HIGHMEM];
	cr_assert_eq(nrm->managed_pages, 211968);
	cr_assert_eq(hi->managed_pages, 35840);
	/* int_sqrt(215808 × 4 × 16) = int_sqrt(13811712) = 3716 (facts §4.5 "≈ 3716 KB") */
	cr_assert_eq(pg.min_free_kbytes, 3716);
	/* pages_min 929: DMA 929·3840/215808 = 16, delta max(4, 3) = 4 */
	cr_assert_eq(dma->watermark[WMARK_MIN], 16);
	cr_assert_eq(dma->watermark[WMARK_LOW], 20);
	cr_assert_eq(dma->watermark[WMARK_HIGH], 24);
	/* Normal 929·211968/215808 = 912, delta max(228, 211) = 228 */
	cr_assert_eq(nrm->watermark[WMARK_MIN], 912);
	cr_assert_eq(nrm->watermark[WMARK_LOW], 1140);
	cr_assert_eq(nrm->watermark[WMARK_HIGH], 1368);
	/* HighMem: min clamp(35, 32, 128) = 35; share 154 → delta max(38, 35) = 38 */
	cr_assert_eq(hi->watermark[WMARK_MIN], 35);
	cr_assert_eq(hi->watermark[WMARK_LOW], 73);
	cr_assert_eq(hi->watermark[WMARK_HIGH], 111);
	/* lowmem_reserve: DMA 211968/256 = 828, 247808/256 = 968; Normal 35840/32 = 1120 */
	cr_assert_eq(dma->lowmem_reserve[ZONE_NORMAL], 828);
	cr_assert_eq(dma->lowmem_reserve[ZONE_HIGHMEM], 968);
	cr_assert_eq(nrm->lowmem_reserve[ZONE_HIGHMEM], 1120);
	cr_assert_eq(hi->lowmem_reserve[ZONE_HIGHMEM], 0);
	/* totalreserve: min(3840, 968+24) + min(211968, 1120+1368) + min(35840, 111) */
	cr_assert_eq(pg.totalreserve_pages, 992 + 2488 + 111);
	/* pcp: Normal batch 63, high = low (1 CPU); DMA batch 1, high 4·1 vs 20; HighMem 7 */
	cr_assert_eq(nrm->pcp[0].batch, 63);
	cr_assert_eq(nrm->pcp[0].high, 1140);
	cr_assert_eq(dma->pcp[0].batch, 1);
	cr_assert_eq(dma->pcp[0].high, 20);
	cr_assert_eq(hi->pcp[0].batch, 7);
	cr_assert_eq(hi->pcp[0].high, 73);
	/* i386 zoneinfo: DMA, Normal, HighMem, Movable */
	struct strbuf sb;
	strbuf_init(&sb);
	procfs_zoneinfo(&sb, &pg, NULL);
	const char *t = strbuf_str(&sb);
	cr_assert_not_null(strstr(t, "        protection: (0, 828, 968, 968)\n"));
	cr_assert_not_null(strstr(t, "        protection: (0, 0, 1120, 1120)\n"));
	cr_assert_null(strstr(t, "DMA32"));
	cr_assert_not_null(strstr(t, "Node 0, zone  HighMem\n  pages free     35840\n"));
	/* gfp → zones on i386: DMA32 means Normal, HIGHUSER means HighMem */
	cr_assert_eq(gfp_zone(&pg, GFP_DMA32), ZONE_NORMAL);
	cr_assert_eq(gfp_zone(&pg, GFP_HIGHUSER_MOVABLE), ZONE_HIGHMEM);
	cr_assert_eq(gfp_zone(&pg, GFP_KERNEL), ZONE_NORMAL);
	cr_assert_eq(gfp_zone(&pg, GFP_DMA | __GFP_MOVABLE), ZONE_DMA);
	cr_assert_eq(gfp_migratetype(GFP_HIGHUSER_MOVABLE), MIGRATE_MOVABLE);
	cr_assert_eq(gfp_migratetype(GFP_KERNEL | __GFP_RECLAIMABLE), MIGRATE_RECLAIMABLE);
	cr_assert_eq(gfp_migratetype(GFP_KERNEL), MIGRATE_UNMOVABLE);
	/* user pages come from HighMem first */
	pfn_t p = alloc_pages(&pg, GFP_HIGHUSER_MOVABLE, 0, 0);
	cr_assert_geq(p, 226304);
	cr_assert_eq(vmstat[PGALLOC_HIGH], 1);
	strbuf_free(&sb);
	page_alloc_destroy(&pg);
}

Test(procfs, buddyinfo_pagetypeinfo_extfrag_formats)
{
	static struct machine m;
	static struct pglist_data pg;
	static uint64_t vmstat[NR_VM_STAT_ITEMS];
	pfn_t ends[MAX_NR_ZONES] = {4096, 16384, 0, 0};
	test_machine(&m, ARCH_X86_64, 1, ends, 9);
	/* DMA as in the facts sheet: free 0 0 0 0 0 0 0 0 1 1 3 = [256,512) + [512,1024) +
	 * [1024,4096) */
	test_machine_reserve(&m, 1, 256);
	cr_assert_eq(page_alloc_init(&pg, &m, vmstat), 0);
	struct strbuf sb;
	strbuf_init(&sb);
	procfs_buddyinfo(&sb, &pg);
	cr_assert_str_eq(strbuf_str(&sb),
			 "Node 0, zone      DMA      0      0      0      0      0      0      0"
			 "      0      1      1      3 \n"
			 "Node 0, zone    DMA32      0      0      0      0      0      0      0"
			 "      0      0      0     12 \n");
	strbuf_reset(&sb);
	procfs_unusable_index(&sb, &pg);
	cr_assert_str_eq(strbuf_str(&sb),
			 "Node 0, zone      DMA 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 "
			 "0.000 0.066 0.200 \n"
			 "Node 0, zone    DMA32 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 "
			 "0.000 0.000 0.000 \n");
	strbuf_reset(&sb);
	procfs_extfrag_index(&sb, &pg);
	cr_assert_str_eq(strbuf_str(&sb),
			 "Node 0, zone      DMA -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 "
			 "-1.000 -1.000 -1.000 -1.000 \n"
			 "Node 0, zone    DMA32 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 "
			 "-1.000 -1.000 -1.000 -1.000 \n");
	strbuf_reset(&sb);
	procfs_pagetypeinfo(&sb, &pg);
	const char *t = strbuf_str(&sb);
	cr_assert(strstr(t,
			 "Page block order: 9\nPages per block:  512\n\n"
			 "Free pages count per migrate type at order       0      1      2      3"
			 "      4      5      6      7      8      9     10 \n"
			 "Node    0, zone      DMA, type    Unmovable      0      0") == t,
		  "%s", t);
	cr_assert_not_null(strstr(t,
				  "Node    0, zone    DMA32, type      Movable      0      0      0"
				  "      0      0      0      0      0      0      0     12 \n"));
	cr_assert_not_null(
	    strstr(t, "\n\nNumber of blocks type     Unmovable      Movable  Reclaimable"
		      "   HighAtomic \nNode 0, zone      DMA            0            8"
		      "            0            0 \nNode 0, zone    DMA32            0"
		      "           24            0            0 \n"));
	strbuf_free(&sb);
	page_alloc_destroy(&pg);
}

Test(strbuf, grows_and_formats)
{
	struct strbuf sb;
	strbuf_init(&sb);
	cr_assert_str_eq(strbuf_str(&sb), "");
	for (int i = 0; i < 1000; i++)
		strbuf_printf(&sb, "%d,", i);
	cr_assert_eq(strncmp(strbuf_str(&sb), "0,1,2,", 6), 0);
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	strbuf_reset(&sb);
	strbuf_printf(&sb, "[%s]", big);
	cr_assert_eq(sb.len, 601);
	cr_assert_eq(strbuf_str(&sb)[600], ']');
	strbuf_free(&sb);
}
