/* Exact cases of the 6.1 rules: fallback stealing and the half-pageblock rule, the slow
 * path's hooks and when OOM is skipped, fragmented high-order failures, highatomic. */
#include <criterion/criterion.h>
#include <string.h>

#include "page_alloc.h"
#include "page_alloc_internal.h"
#include "testlib_machine.h"
#include "vmstat.h"

static struct machine m;
static struct pglist_data pg;
static uint64_t vs[NR_VM_STAT_ITEMS];

/* DMA32 only, [4096, 6144): four pageblocks of 512 (the smallest zone with mobility
 * grouping on: vm_total_pages >= pageblock_nr_pages * MIGRATE_TYPES). */
static void four_pageblocks(bool boost)
{
	pfn_t ends[MAX_NR_ZONES] = {0, 6144, 0, 0};
	test_machine(&m, ARCH_X86_64, 4096, ends, 9);
	memset(vs, 0, sizeof(vs));
	cr_assert_eq(page_alloc_init(&pg, &m, vs), 0);
	cr_assert(!pg.page_group_by_mobility_disabled);
	page_alloc_set_pcp(&pg, false);
	/* tiny watermarks (min 1, low 3, high 5) so they do not get in the way */
	struct vm_sysctl vm = pg.vm;
	vm.min_free_kbytes = 4;
	if (!boost)
		vm.watermark_boost_factor = 0;
	cr_assert_eq(setup_per_zone_wmarks(&pg, &vm), 0);
	cr_assert_eq(pg.node_zones[ZONE_DMA32].watermark[WMARK_LOW], 3);
}

#define MOVABLE (GFP_KERNEL | __GFP_MOVABLE)

struct hook_log {
	int kswapd, reclaim, oom;
	pfn_t stash[64];
	int nstash;
};

static struct hook_log hl;

static void h_kswapd(void *ctx, int zone_idx, unsigned order, gfp_t gfp)
{
	(void)ctx, (void)zone_idx, (void)order, (void)gfp;
	hl.kswapd++;
}

/* Leave pageblock D = [5632, 6144) with its upper half free, everything else allocated. */
static void fill_all_but_half_of_d(pfn_t *d_low_half)
{
	cr_assert_eq(alloc_pages(&pg, MOVABLE, 10, 0), 4096);
	cr_assert_eq(alloc_pages(&pg, MOVABLE, 8, 0), 5120);
	cr_assert_eq(alloc_pages(&pg, MOVABLE, 8, 0), 5376);
	*d_low_half = alloc_pages(&pg, MOVABLE, 8, 0);
	cr_assert_eq(*d_low_half, 5632);
}

Test(fallback, unmovable_claims_pageblock_when_half_is_free_or_alike)
{
	four_pageblocks(true);
	pfn_t half;
	fill_all_but_half_of_d(&half);
	memset(&hl, 0, sizeof(hl));
	pg.hooks.wakeup_kswapd = h_kswapd;
	pfn_t p = alloc_pages(&pg, GFP_KERNEL, 0, 0);
	cr_assert_eq(p, 5888, "smallest-address piece of the stolen order-8 block");
	/* free 256 + alike (neither free nor movable) 256 >= 256: relabelled */
	cr_assert_eq(get_pageblock_migratetype(&pg, 5632), MIGRATE_UNMOVABLE);
	cr_assert_eq(get_pageblock_migratetype(&pg, 5120), MIGRATE_MOVABLE);
	cr_assert_eq(vs[EXTFRAG_FALLBACK], 1);
	cr_assert_eq(vs[EXTFRAG_FRAGMENTING], 1, "fallback order 8 < pageblock order 9");
	struct zone *z = &pg.node_zones[ZONE_DMA32];
	for (int o = 0; o < 8; o++)
		cr_assert_eq(z->free_area[o].nr_free_mt[MIGRATE_UNMOVABLE], 1, "order %d", o);
	/* boost_watermark: the zone has exactly 4 pageblocks (enough); max_boost =
	 * max(pageblock, high 5 × 15000/10000 = 7) = 512 */
	cr_assert_eq(z->watermark_boost, 512, "boost_watermark adds one pageblock");
	cr_assert_eq(z->fast_mark[ZONE_DMA32],
		     (int64_t)(z->watermark[WMARK_LOW] + 512 + z->nr_reserved_highatomic),
		     "the fast path's low mark follows the boost");
	cr_assert_eq(hl.kswapd, 1, "ZONE_BOOSTED_WATERMARK: rmqueue wakes kswapd");
	cr_assert(!z->boost_pending);
	page_alloc_destroy(&pg);
}

Test(fallback, movable_steals_free_pages_but_not_the_block_without_lru_pages)
{
	four_pageblocks(false);
	pfn_t half;
	fill_all_but_half_of_d(&half);
	cr_assert_neq(alloc_pages(&pg, GFP_KERNEL, 0, 0), PFN_NONE); /* D becomes unmovable */
	/* a movable request now falls back into D: order 7 >= pageblock_order/2, so it may
	 * steal; D has 255 free pages and no LRU pages: 255 < 256, D stays unmovable */
	cr_assert_neq(alloc_pages(&pg, MOVABLE, 0, 0), PFN_NONE);
	cr_assert_eq(get_pageblock_migratetype(&pg, 5632), MIGRATE_UNMOVABLE);
	struct zone *z = &pg.node_zones[ZONE_DMA32];
	cr_assert_eq(z->free_area[7].nr_free_mt[MIGRATE_MOVABLE], 1, "free pages moved");
	cr_assert_eq(z->free_area[7].nr_free_mt[MIGRATE_UNMOVABLE], 0);
	page_alloc_destroy(&pg);
}

Test(fallback, movable_claims_block_counting_lru_pages_as_alike)
{
	four_pageblocks(false);
	pfn_t half;
	fill_all_but_half_of_d(&half);
	cr_assert_neq(alloc_pages(&pg, GFP_KERNEL, 0, 0), PFN_NONE);
	for (pfn_t p = half; p < half + 256; p++)
		pfn_to_page(&pg, p)->flags |= PG_lru;
	cr_assert_neq(alloc_pages(&pg, MOVABLE, 0, 0), PFN_NONE);
	/* 255 free + 256 movable >= 256 */
	cr_assert_eq(get_pageblock_migratetype(&pg, 5632), MIGRATE_MOVABLE);
	page_alloc_destroy(&pg);
}

Test(fallback, movable_takes_smallest_block_when_it_cannot_steal)
{
	four_pageblocks(false);
	pfn_t half;
	fill_all_but_half_of_d(&half);
	/* make D unmovable with free pieces of orders 0..7, then use up orders 4..7 of them
	 * with unmovable allocations so only orders 0..3 (< pageblock_order/2) remain */
	cr_assert_neq(alloc_pages(&pg, GFP_KERNEL, 0, 0), PFN_NONE);
	for (unsigned o = 4; o <= 7; o++)
		cr_assert_neq(alloc_pages(&pg, GFP_KERNEL, o, 0), PFN_NONE);
	struct zone *z = &pg.node_zones[ZONE_DMA32];
	pfn_t smallest = free_list_first(z, 0, MIGRATE_UNMOVABLE);
	cr_assert_neq(smallest, PFN_NONE);
	uint64_t fb = vs[EXTFRAG_FALLBACK];
	cr_assert_eq(alloc_pages(&pg, MOVABLE, 0, 0), smallest,
		     "largest-first found order 3, cannot steal: take the smallest instead");
	cr_assert_eq(vs[EXTFRAG_FALLBACK], fb + 1);
	cr_assert_eq(z->free_area[3].nr_free_mt[MIGRATE_UNMOVABLE], 1, "order 3 untouched");
	page_alloc_destroy(&pg);
}

Test(fallback, whole_free_pageblocks_are_relabelled)
{
	four_pageblocks(false);
	cr_assert_eq(alloc_pages(&pg, GFP_KERNEL | __GFP_RECLAIMABLE, 0, 0), 4096);
	/* the order-10 block [4096, 5120) changed owner: two pageblocks */
	cr_assert_eq(get_pageblock_migratetype(&pg, 4096), MIGRATE_RECLAIMABLE);
	cr_assert_eq(get_pageblock_migratetype(&pg, 4608), MIGRATE_RECLAIMABLE);
	cr_assert_eq(get_pageblock_migratetype(&pg, 5120), MIGRATE_MOVABLE);
	cr_assert_eq(vs[EXTFRAG_FALLBACK], 1);
	cr_assert_eq(vs[EXTFRAG_FRAGMENTING], 0);
	cr_assert_eq(pg.node_zones[ZONE_DMA32].watermark_boost, 0, "no boost for whole blocks");
	page_alloc_destroy(&pg);
}

/* ---- slow path ------------------------------------------------------------------------ */

/* "reclaim": give back pages the test set aside */
static uint64_t h_reclaim(void *ctx, unsigned order, gfp_t gfp)
{
	(void)ctx, (void)order, (void)gfp;
	hl.reclaim++;
	uint64_t n = 0;
	while (hl.nstash) {
		free_pages(&pg, hl.stash[--hl.nstash], 0, 0);
		n++;
	}
	return n;
}

static bool h_oom(void *ctx, unsigned order, gfp_t gfp)
{
	(void)ctx, (void)order, (void)gfp;
	hl.oom++;
	return h_reclaim(ctx, 0, 0) > 0;
}

static void boot_with_hooks(void)
{
	pfn_t ends[MAX_NR_ZONES] = {4096, 16384, 0, 0};
	test_machine(&m, ARCH_X86_64, 1, ends, 9);
	memset(vs, 0, sizeof(vs));
	memset(&hl, 0, sizeof(hl));
	cr_assert_eq(page_alloc_init(&pg, &m, vs), 0);
	pg.hooks = (struct alloc_hooks){NULL, h_kswapd, h_reclaim, h_oom};
}

static void exhaust(gfp_t gfp)
{
	while (alloc_pages(&pg, gfp, 0, 0) != PFN_NONE)
		;
}

Test(slowpath, direct_reclaim_makes_the_allocation_succeed)
{
	boot_with_hooks();
	pg.hooks = (struct alloc_hooks){0};
	while (hl.nstash < 64)
		hl.stash[hl.nstash++] = alloc_pages(&pg, GFP_KERNEL, 0, 0);
	exhaust(GFP_KERNEL);
	cr_assert_eq(vs[ALLOC_FAIL], 1);
	pfn_t a = alloc_pages(&pg, GFP_ATOMIC, 0, 0);
	cr_assert_neq(a, PFN_NONE, "GFP_ATOMIC digs below min");
	free_pages(&pg, a, 0, 0);
	pg.hooks = (struct alloc_hooks){NULL, h_kswapd, h_reclaim, h_oom};
	/* reclaim frees 64 pages onto the pcp list; the retry drains them and succeeds */
	cr_assert_neq(alloc_pages(&pg, GFP_KERNEL, 0, 0), PFN_NONE);
	cr_assert_eq(hl.reclaim, 1);
	cr_assert_eq(hl.kswapd, 2, "woken before the MIN attempt and again in the retry loop");
	cr_assert_eq(hl.oom, 0);
	cr_assert_eq(vs[ALLOC_FAIL], 1);
	page_alloc_destroy(&pg);
}

Test(slowpath, oom_is_skipped_where_the_kernel_skips_it)
{
	boot_with_hooks();
	exhaust(GFP_KERNEL);
	int oom = hl.oom;
	cr_assert_eq(alloc_pages(&pg, GFP_KERNEL | __GFP_NORETRY, 0, 0), PFN_NONE);
	cr_assert_eq(alloc_pages(&pg, GFP_KERNEL | __GFP_RETRY_MAYFAIL, 0, 0), PFN_NONE);
	cr_assert_eq(alloc_pages(&pg, GFP_KERNEL, 4, 0), PFN_NONE);
	cr_assert_eq(alloc_pages(&pg, GFP_KERNEL | GFP_DMA, 0, 0), PFN_NONE);
	cr_assert_eq(alloc_pages(&pg, GFP_KERNEL | GFP_DMA32, 0, 0), PFN_NONE,
		     "x86_64 DMA32 is below Normal");
	cr_assert_eq(alloc_pages(&pg, GFP_NOFS, 0, 0), PFN_NONE);
	cr_assert_eq(alloc_pages(&pg, GFP_NOWAIT, 0, 0), PFN_NONE);
	cr_assert_eq(hl.oom, oom, "none of these may invoke the OOM killer");
	cr_assert_eq(alloc_pages(&pg, GFP_KERNEL, 3, 0), PFN_NONE);
	cr_assert_eq(hl.oom, oom + 1, "order 3 is not costly: OOM is tried");
	cr_assert_geq(vs[ALLOC_FAIL_ATOMIC], 1);
	page_alloc_destroy(&pg);
}

Test(slowpath, oom_kill_that_frees_memory_lets_the_allocation_succeed)
{
	boot_with_hooks();
	page_alloc_set_pcp(&pg, false);
	pg.hooks = (struct alloc_hooks){0};
	while (hl.nstash < 40)
		hl.stash[hl.nstash++] = alloc_pages(&pg, GFP_KERNEL, 0, 0);
	exhaust(GFP_KERNEL);
	pg.hooks = (struct alloc_hooks){NULL, h_kswapd, NULL, h_oom};
	cr_assert_neq(alloc_pages(&pg, GFP_KERNEL, 0, 0), PFN_NONE);
	cr_assert_eq(hl.oom, 1, "one kill freed enough");
	page_alloc_destroy(&pg);
}

Test(slowpath, high_order_failure_with_free_memory_is_fragmented)
{
	boot_with_hooks();
	pg.hooks = (struct alloc_hooks){0};
	static pfn_t all[20000];
	int n = 0;
	pfn_t p;
	/* __GFP_MEMALLOC ignores the watermarks: every free page gets allocated */
	while ((p = alloc_pages(&pg, MOVABLE | __GFP_MEMALLOC, 0, 0)) != PFN_NONE)
		all[n++] = p;
	cr_assert_eq(global_free_pages(&pg), 0);
	for (int i = 0; i < n; i++)
		if (all[i] & 1)
			free_pages(&pg, all[i], 0, 0);
	drain_all_pages(&pg);
	struct zone *z = &pg.node_zones[ZONE_DMA32];
	cr_assert_gt(z->nr_free_pages, 5000);
	cr_assert_eq(z->free_area[1].nr_free, 0);
	uint64_t fails = vs[ALLOC_FAIL];
	cr_assert_eq(alloc_pages(&pg, GFP_KERNEL | __GFP_NORETRY, 3, 0), PFN_NONE);
	cr_assert_eq(vs[ALLOC_FAIL], fails + 1);
	cr_assert_eq(vs[ALLOC_FAIL_FRAGMENTED], 1);
	cr_assert_eq(pg.nr_alloc_fail_fragmented[3], 1);
	cr_assert_eq(unusable_free_index(z, 3), 1000);
	cr_assert_gt(fragmentation_index(z, 3), 800);
	cr_assert_eq(fragmentation_index(z, 0), -1000);
	page_alloc_destroy(&pg);
}

Test(highatomic, atomic_high_order_reserves_a_pageblock)
{
	boot_with_hooks();
	page_alloc_set_pcp(&pg, false);
	pfn_t p = alloc_pages(&pg, GFP_ATOMIC, 2, 0);
	cr_assert_neq(p, PFN_NONE);
	/* the fast path has no ALLOC_HARDER: reserve only when the slow path served it */
	cr_assert_eq(pg.node_zones[ZONE_DMA32].nr_reserved_highatomic, 0);
	exhaust(GFP_KERNEL);
	p = alloc_pages(&pg, GFP_ATOMIC, 1, 0);
	cr_assert_neq(p, PFN_NONE);
	struct zone *z = &pg.node_zones[page_zonenum(pfn_to_page(&pg, p))];
	cr_assert_eq(z->nr_reserved_highatomic, 512);
	cr_assert_eq(get_pageblock_migratetype(&pg, p), MIGRATE_HIGHATOMIC);
	cr_assert_eq(z->fast_mark[z->type],
		     (int64_t)(wmark_pages(z, WMARK_LOW) + 512) + z->lowmem_reserve[z->type],
		     "the fast path's low mark counts the reserve");
	/* the reserve is not usable free memory, except for ALLOC_HARDER requests */
	uint64_t free = z->nr_free_pages;
	cr_assert_leq(free, 1024);
	cr_assert(!zone_watermark_ok(z, 0, free / 2, z->type, 0));
	cr_assert(zone_watermark_ok(z, 0, free / 2, z->type, ALLOC_HARDER));
	page_alloc_destroy(&pg);
}
