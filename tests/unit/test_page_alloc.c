/* The buddy allocator against a reference model, plus exact small cases. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "page_alloc.h"
#include "page_alloc_internal.h"
#include "testlib_freelist.h"
#include "testlib_machine.h"
#include "vmstat.h"
#include "testlib_rng.h"

enum frame_state { F_UNSEEN, F_FREE, F_PCP, F_ALLOC, F_RESERVED };

struct live {
	pfn_t pfn;
	unsigned order;
};

struct model {
	struct machine m;
	struct pglist_data pg;
	uint64_t vmstat[NR_VM_STAT_ITEMS];
	uint8_t *alloc; /* reference: frame allocated? */
	uint8_t *state; /* scratch for the invariant check */
	struct live *live;
	size_t nlive, cap;
};

static uint64_t rng_state;
static uint64_t rnd(void)
{
	return tl_splitmix64(&rng_state);
}

static void model_boot(struct model *md)
{
	cr_assert_eq(page_alloc_init(&md->pg, &md->m, md->vmstat), 0);
	size_t n = md->pg.node_spanned_pages;
	md->alloc = calloc(n, 1);
	md->state = calloc(n, 1);
	md->cap = 1024;
	md->live = malloc(md->cap * sizeof(*md->live));
	md->nlive = 0;
}

static void model_free_all(struct model *md)
{
	page_alloc_destroy(&md->pg);
	free(md->alloc);
	free(md->state);
	free(md->live);
}

/* Twins a (batched) and b (page by page): DMA32's free pages, free areas and free-order
 * masks, and every struct page, are the same after step `what` number n. */
static void expect_same_dma32(const struct model *a, const struct model *b, const char *what,
			      int n)
{
	const struct zone *za = &a->pg.node_zones[ZONE_DMA32], *zb = &b->pg.node_zones[ZONE_DMA32];
	cr_assert_eq(za->nr_free_pages, zb->nr_free_pages, "%s %d", what, n);
	cr_assert(test_free_areas_equal(za, zb), "%s %d", what, n);
	cr_assert(test_pages_equal(a->pg.mem_map, b->pg.mem_map, a->pg.node_spanned_pages),
		  "struct pages differ, %s %d", what, n);
}

/* x86_64-like 64 MiB: DMA [1, 4096), DMA32 [4096, 16384), a reserved hole in DMA32. */
static void small_x86_64(struct model *md, bool hole)
{
	memset(md, 0, sizeof(*md));
	pfn_t ends[MAX_NR_ZONES] = {4096, 16384, 0, 0};
	test_machine(&md->m, ARCH_X86_64, 1, ends, 9);
	md->m.cfg.nr_cpus = 2;
	if (hole)
		test_machine_reserve(&md->m, 5000, 5100);
	model_boot(md);
}

static void mark(struct model *md, pfn_t pfn, uint64_t n, enum frame_state s)
{
	for (uint64_t i = 0; i < n; i++) {
		uint8_t *st = &md->state[pfn + i - md->pg.node_start_pfn];
		cr_assert_eq(*st, F_UNSEEN, "pfn %lu in two states (%d and %d)",
			     (unsigned long)(pfn + i), *st, s);
		*st = (uint8_t)s;
	}
}

static void check_invariants(struct model *md)
{
	struct pglist_data *pg = &md->pg;
	memset(md->state, 0, pg->node_spanned_pages);
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct zone *z = &pg->node_zones[zi];
		uint64_t pages = 0;
		for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
			uint64_t blocks = 0;
			for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
				uint64_t n = 0;
				const struct free_list *fl = &z->free_area[o].free_list[mt];
				pfn_t p;
				/* free_orders mirrors the emptiness of every list */
				cr_assert_eq((z->free_orders[mt] >> o) & 1,
					     free_list_first(z, o, mt) != PFN_NONE,
					     "free_orders zone %d order %u mt %d", zi, o, mt);
				cr_assert(fl->tail - fl->head <= fl->cap, "ring overrun");
				for_each_free_block(z, o, mt, p, pos) {
					struct page *pp = pfn_to_page(pg, p);
					cr_assert(pp->flags & PG_buddy);
					cr_assert_eq(pp->private, o);
					cr_assert_eq(pp->index, (uint32_t)mt);
					cr_assert_eq(p & ((1u << o) - 1), 0, "misaligned block");
					cr_assert(p >= z->zone_start_pfn &&
						  p + (1u << o) <= zone_end_pfn(z));
					cr_assert_eq(pp->next, pos, "slot not in struct page");
					cr_assert_eq(pp->prev, PFN_NONE);
					mark(md, p, 1ull << o, F_FREE);
					/* no two free buddies left unmerged */
					pfn_t b = p ^ (1u << o);
					if (o < MAX_PAGE_ORDER && b >= z->zone_start_pfn &&
					    b < zone_end_pfn(z)) {
						struct page *bp = pfn_to_page(pg, b);
						bool both =
						    (bp->flags & PG_buddy) && bp->private == o;
						if (both)
							cr_assert(
							    o >= pg->pageblock_order &&
								(get_pageblock_migratetype(pg, p) ==
								     MIGRATE_HIGHATOMIC ||
								 get_pageblock_migratetype(pg, b) ==
								     MIGRATE_HIGHATOMIC),
							    "unmerged buddies %u/%u order %u", p, b,
							    o);
					}
					n++;
				}
				if (!n)
					cr_assert_eq(fl->head, fl->tail, "tombstones on an empty list");
				cr_assert_eq(n, z->free_area[o].nr_free_mt[mt]);
				blocks += n;
			}
			cr_assert_eq(blocks, z->free_area[o].nr_free);
			pages += blocks << o;
		}
		cr_assert_eq(pages, z->nr_free_pages, "zone %d free %lu vs lists %lu", zi,
			     (unsigned long)z->nr_free_pages, (unsigned long)pages);
		if (!z->pcp)
			continue;
		for (unsigned c = 0; c < pg->nr_cpus; c++) {
			int count = 0;
			for (int l = 0; l < NR_PCP_LISTS; l++) {
				const struct pcp_list *pl = &z->pcp[c].lists[l];
				unsigned o = pcp_list_order(pg, (unsigned)l);
				/* a ring: a power of two holding every block, and room for one
				 * more while count is below ring_pages */
				cr_assert(pl->cap && !(pl->cap & (pl->cap - 1)), "sized at boot");
				cr_assert_eq(pl->mask, pl->cap - 1);
				cr_assert_leq(pcp_list_count(pl), pl->cap);
				cr_assert_leq((uint64_t)z->pcp[c].ring_pages,
					      (uint64_t)pl->cap << o);
				for (uint32_t i = 0; i < pcp_list_count(pl); i++) {
					pfn_t p = pcp_list_nth(pl, i);
					struct page *pp = pfn_to_page(pg, p);
					cr_assert(pp->flags & PG_pcp);
					cr_assert_eq(page_zonenum(pp), (unsigned)zi);
					cr_assert_eq(pp->private, o, "pcp block order");
					cr_assert_eq(p & ((1u << o) - 1), 0,
						     "misaligned pcp block");
					/* mark() fails on a frame seen twice: no block is on two
					 * lists, or twice on one */
					mark(md, p, 1ull << o, F_PCP);
					count += 1 << o;
				}
			}
			/* a refill may leave count above high (rmqueue_bulk ignores it); the
			 * next free trims it */
			cr_assert_eq(count, z->pcp[c].count);
		}
		/* the fast path's order-0 low-mark test, kept in step with its terms */
		for (int h = 0; h < MAX_NR_ZONES; h++) {
			int64_t want =
			    z->populated
				? (int64_t)(wmark_pages(z, WMARK_LOW) + z->nr_reserved_highatomic) +
				      z->lowmem_reserve[h]
				: INT64_MAX;
			cr_assert_eq(z->fast_mark[h], want, "zone %d fast_mark[%d]", zi, h);
		}
		/* watermark arithmetic (__setup_per_zone_wmarks) */
		if (z->populated) {
			uint64_t d = z->watermark[WMARK_LOW] - z->watermark[WMARK_MIN];
			cr_assert_eq(z->watermark[WMARK_HIGH] - z->watermark[WMARK_LOW], d);
			cr_assert(d >= z->managed_pages * 10 / 10000);
		}
	}
	for (size_t i = 0; i < md->nlive; i++)
		mark(md, md->live[i].pfn, 1ull << md->live[i].order, F_ALLOC);
	for (uint64_t i = 0; i < pg->node_spanned_pages; i++) {
		struct page *pp = &pg->mem_map[i];
		if (pp->flags & PG_reserved) {
			cr_assert_eq(md->state[i], F_UNSEEN);
			md->state[i] = F_RESERVED;
		}
		cr_assert_neq(md->state[i], F_UNSEEN, "pfn %lu in no state",
			      (unsigned long)(i + pg->node_start_pfn));
		cr_assert_eq(md->state[i] == F_ALLOC, md->alloc[i] != 0);
	}
}

static void buddyinfo(const struct pglist_data *pg, uint64_t out[MAX_NR_ZONES][NR_PAGE_ORDERS])
{
	for (int zi = 0; zi < MAX_NR_ZONES; zi++)
		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			out[zi][o] = pg->node_zones[zi].free_area[o].nr_free;
}

static bool model_alloc(struct model *md, gfp_t gfp, unsigned order, unsigned cpu)
{
	pfn_t pfn = alloc_pages(&md->pg, gfp, order, cpu);
	if (pfn == PFN_NONE)
		return false;
	cr_assert_eq(pfn & ((1u << order) - 1), 0);
	enum zone_type zt = (enum zone_type)page_zonenum(pfn_to_page(&md->pg, pfn));
	cr_assert(zt <= gfp_zone(&md->pg, gfp), "zone %d above gfp_zone", zt);
	for (uint32_t i = 0; i < (1u << order); i++) {
		uint8_t *a = &md->alloc[pfn + i - md->pg.node_start_pfn];
		cr_assert_eq(*a, 0, "pfn %u handed out twice", pfn + i);
		*a = 1;
	}
	if (md->nlive == md->cap) {
		md->cap *= 2;
		md->live = realloc(md->live, md->cap * sizeof(*md->live));
	}
	md->live[md->nlive++] = (struct live){pfn, order};
	return true;
}

static void model_free(struct model *md, size_t i, unsigned cpu)
{
	struct live l = md->live[i];
	md->live[i] = md->live[--md->nlive];
	for (uint32_t k = 0; k < (1u << l.order); k++)
		md->alloc[l.pfn + k - md->pg.node_start_pfn] = 0;
	free_pages(&md->pg, l.pfn, l.order, cpu);
}

static const gfp_t gfp_of[] = {
    GFP_KERNEL, GFP_HIGHUSER_MOVABLE,	  GFP_KERNEL | __GFP_RECLAIMABLE, GFP_HIGHUSER, GFP_DMA,
    GFP_NOWAIT, GFP_USER | __GFP_MOVABLE, GFP_DMA32 | GFP_KERNEL,	  GFP_ATOMIC};

static unsigned random_order(void)
{
	uint64_t r = rnd() % 100;
	return r < 60 ? 0 : r < 75 ? 1 : r < 85 ? 2 : r < 90 ? 3 : (unsigned)(4 + rnd() % 7);
}

/* Three zones: x86_64 DMA/DMA32/Normal (ALLOC_NOFRAGMENT applies) or i386
 * DMA/Normal/HighMem with 4 MiB pageblocks; 64 MiB in all, two holes. */
static void three_zones(struct model *md, enum arch arch)
{
	memset(md, 0, sizeof(*md));
	bool i386 = arch == ARCH_I386;
	pfn_t ends[MAX_NR_ZONES] = {4096, i386 ? 0 : 10240, 13312, i386 ? 16384 : 0};
	if (i386)
		ends[ZONE_NORMAL] = 10240;
	test_machine(&md->m, arch, 1, ends, i386 ? 10 : 9);
	md->m.cfg.nr_cpus = 2;
	test_machine_reserve(&md->m, 1, 256);
	test_machine_reserve(&md->m, 9000, 9100);
	model_boot(md);
}

static void random_run(bool pcp, uint64_t seed, int steps, int machine)
{
	struct model md;
	if (machine == 0)
		small_x86_64(&md, true);
	else
		three_zones(&md, machine == 1 ? ARCH_X86_64 : ARCH_I386);
	page_alloc_set_pcp(&md.pg, pcp);
	rng_state = seed;
	uint64_t boot[MAX_NR_ZONES][NR_PAGE_ORDERS], after[MAX_NR_ZONES][NR_PAGE_ORDERS];
	buddyinfo(&md.pg, boot);
	uint64_t boot_free = global_free_pages(&md.pg);
	check_invariants(&md);
	for (int s = 0; s < steps; s++) {
		/* phases: grow to pressure, shrink, grow again */
		bool grow = (s / 1500) % 2 == 0;
		if (md.nlive && (!grow ? rnd() % 100 < 75 : rnd() % 100 < 30)) {
			model_free(&md, rnd() % md.nlive, (unsigned)(rnd() % 2));
		} else {
			gfp_t gfp = gfp_of[rnd() % (sizeof(gfp_of) / sizeof(gfp_of[0]))];
			unsigned order = random_order();
			/* no high-order GFP_ATOMIC here: its highatomic reserve would keep
			 * pageblocks from merging back (tested in test_page_alloc_rules.c) */
			if (gfp == GFP_ATOMIC)
				order = 0;
			model_alloc(&md, gfp, order, (unsigned)(rnd() % 2));
		}
		check_invariants(&md);
	}
	cr_assert_gt(md.vmstat[EXTFRAG_FALLBACK], 0, "the run never exercised fallback");
	cr_assert_gt(md.vmstat[ALLOC_FAIL], 0, "the run never reached exhaustion");
	cr_assert_gt(md.vmstat[ALLOC_FAIL_FRAGMENTED], 0, "nor a fragmented failure");
	while (md.nlive)
		model_free(&md, md.nlive - 1, 0);
	drain_all_pages(&md.pg);
	check_invariants(&md);
	buddyinfo(&md.pg, after);
	cr_assert_eq(global_free_pages(&md.pg), boot_free);
	cr_assert_arr_eq(boot, after, sizeof(boot),
			 "freeing everything must restore boot buddyinfo");
	model_free_all(&md);
}

Test(page_alloc, random_against_reference_pcp) { random_run(true, 42, 6000, 0); }

Test(page_alloc, random_three_zones_x86_64) { random_run(true, 1234, 4000, 1); }

Test(page_alloc, random_three_zones_i386_highmem) { random_run(true, 99, 4000, 2); }

Test(page_alloc, random_against_reference_no_pcp) { random_run(false, 7, 6000, 0); }

Test(page_alloc, boot_hands_free_pfns_in_largest_aligned_blocks)
{
	struct model md;
	small_x86_64(&md, true);
	struct pglist_data *pg = &md.pg;
	struct zone *dma = &pg->node_zones[ZONE_DMA], *d32 = &pg->node_zones[ZONE_DMA32];
	cr_assert_eq(dma->managed_pages, 4095);
	cr_assert_eq(d32->managed_pages, 12288 - 100);
	cr_assert_eq(dma->managed_pages, md.m.zones[ZONE_DMA].managed);
	cr_assert_eq(d32->managed_pages, md.m.zones[ZONE_DMA32].managed);
	/* DMA [1, 4096): [1,2), [2,4), ..., [512,1024) are one block each of orders 0..9;
	 * [1024, 4096) is three order-10 blocks (4095 pages in all). */
	for (int o = 0; o < 10; o++)
		cr_assert_eq(dma->free_area[o].nr_free, 1, "DMA order %d", o);
	cr_assert_eq(dma->free_area[10].nr_free, 3);
	/* DMA32 [4096, 5000) + [5100, 16384) */
	uint64_t pages = 0;
	for (int o = 0; o <= 10; o++)
		pages += d32->free_area[o].nr_free << o;
	cr_assert_eq(pages, 12188);
	cr_assert_eq(d32->free_area[10].nr_free, 11); /* 5120..16384 = 11 × 1024 */
	for (int o = 0; o <= 10; o++)
		cr_assert_eq(d32->free_area[o].nr_free_mt[MIGRATE_MOVABLE],
			     d32->free_area[o].nr_free);
	cr_assert_eq(md.vmstat[PGFREE], 4095 + 12188);
	check_invariants(&md);
	model_free_all(&md);
}

Test(page_alloc, split_and_merge_exact)
{
	struct model md;
	small_x86_64(&md, false);
	page_alloc_set_pcp(&md.pg, false);
	struct zone *z = &md.pg.node_zones[ZONE_DMA32];
	/* DMA32 [4096, 16384): 12 order-10 blocks */
	cr_assert_eq(z->free_area[10].nr_free, 12);
	pfn_t a = alloc_pages(&md.pg, GFP_DMA32 | GFP_KERNEL | __GFP_MOVABLE, 0, 0);
	/* one order-10 block split: 1 each of orders 0..9 left */
	cr_assert_eq(z->free_area[10].nr_free, 11);
	for (int o = 0; o < 10; o++)
		cr_assert_eq(z->free_area[o].nr_free, 1, "order %d", o);
	pfn_t b = alloc_pages(&md.pg, GFP_DMA32 | GFP_KERNEL | __GFP_MOVABLE, 0, 0);
	cr_assert_eq(b, a ^ 1, "the order-0 remainder is the buddy");
	cr_assert_eq(z->free_area[0].nr_free, 0);
	free_pages(&md.pg, a, 0, 0);
	cr_assert_eq(z->free_area[0].nr_free, 1);
	free_pages(&md.pg, b, 0, 0);
	cr_assert_eq(z->free_area[10].nr_free, 12, "everything merged back");
	for (int o = 0; o < 10; o++)
		cr_assert_eq(z->free_area[o].nr_free, 0);
	model_free_all(&md);
}

Test(page_alloc, pcp_batch_refill_and_drain)
{
	struct model md;
	small_x86_64(&md, false);
	struct zone *z = &md.pg.node_zones[ZONE_DMA32];
	/* zone_batchsize: 12288 >> 10 = 12, / 4 = 3, rounddown_pow_of_two(3 + 1) - 1 = 3 */
	cr_assert_eq(z->pcp[0].batch, 3);
	/* zone_highsize: low watermark / 2 CPUs, at least 4 × batch */
	uint64_t want = z->watermark[WMARK_LOW] / 2;
	cr_assert_eq((uint64_t)z->pcp[0].high, want > 12 ? want : 12);
	uint64_t before = z->nr_free_pages;
	gfp_t gfp = GFP_DMA32 | GFP_KERNEL | __GFP_MOVABLE;
	cr_assert(model_alloc(&md, gfp, 0, 0));
	cr_assert_eq(z->nr_free_pages, before - 3, "refill takes one batch from the buddy lists");
	cr_assert_eq(z->pcp[0].count, 2);
	cr_assert_eq(zone_pcp_pages(z, 2), 2);
	cr_assert_eq(md.vmstat[PGALLOC_DMA32], 1);
	/* order 1: batch 3 >> 1 = 1, raised to 2 */
	cr_assert(model_alloc(&md, gfp, 1, 1));
	cr_assert_eq(z->pcp[1].count, 2);
	check_invariants(&md);
	while (md.nlive)
		model_free(&md, 0, 0);
	drain_all_pages(&md.pg);
	cr_assert_eq(z->nr_free_pages, before);
	cr_assert_eq(md.vmstat[PGFREE], before + 4095 + 1 + 2);
	check_invariants(&md);
	model_free_all(&md);
}

Test(page_alloc, exhaustion_fails_and_counts)
{
	struct model md;
	small_x86_64(&md, false);
	int n = 0;
	while (model_alloc(&md, GFP_KERNEL, 0, 0))
		n++;
	cr_assert_gt(n, 10000);
	cr_assert_eq(md.vmstat[ALLOC_FAIL], 1);
	cr_assert_eq(md.pg.nr_alloc_fail[0], 1);
	cr_assert_eq(md.vmstat[ALLOC_FAIL_FRAGMENTED], 0);
	for (int zi = ZONE_DMA; zi <= ZONE_DMA32; zi++) {
		struct zone *z = &md.pg.node_zones[zi];
		cr_assert(!zone_watermark_ok(z, 0, wmark_pages(z, WMARK_MIN), ZONE_DMA32, 0),
			  "zone %d still above min after a failure", zi);
	}
	check_invariants(&md);
	model_free_all(&md);
}

Test(page_alloc, double_free_and_foreign_free_are_counted_not_applied)
{
	struct model md;
	small_x86_64(&md, true);
	pfn_t p = alloc_pages(&md.pg, GFP_KERNEL, 2, 0);
	cr_assert_neq(p, PFN_NONE);
	free_pages(&md.pg, p, 2, 0);
	uint64_t free =
	    global_free_pages(&md.pg) + zone_pcp_pages(&md.pg.node_zones[ZONE_DMA32], 2);
	free_pages(&md.pg, p, 2, 0);	 /* on a pcp list now */
	free_pages(&md.pg, 5050, 0, 0);	 /* reserved hole */
	free_pages(&md.pg, 0, 0, 0);	 /* below the node */
	free_pages(&md.pg, 16384, 0, 0); /* above it */
	free_pages(&md.pg, 16380, 3, 0); /* runs past the end */
	cr_assert_eq(md.vmstat[UNKNOWN_PAGE_FREE], 5);
	page_alloc_set_pcp(&md.pg, false); /* drains */
	cr_assert_eq(zone_pcp_pages(&md.pg.node_zones[ZONE_DMA32], 2), 0);
	cr_assert_eq(global_free_pages(&md.pg), free);
	free_pages(&md.pg, p, 2, 0); /* now a buddy block */
	cr_assert_eq(md.vmstat[UNKNOWN_PAGE_FREE], 6);
	check_invariants(&md);
	model_free_all(&md);
}

Test(page_alloc, compound_head_and_order_above_max)
{
	struct model md;
	small_x86_64(&md, false);
	pfn_t p = alloc_pages(&md.pg, GFP_KERNEL | __GFP_COMP, 3, 0);
	struct page *pg = pfn_to_page(&md.pg, p);
	cr_assert(page_test(pg, PG_head));
	cr_assert_eq(page_order(pg), 3);
	cr_assert_eq(pg->refcount, 1);
	cr_assert_eq(alloc_pages(&md.pg, GFP_KERNEL, 11, 0), PFN_NONE);
	cr_assert_eq(md.vmstat[ALLOC_FAIL], 1);
	free_pages(&md.pg, p, 3, 0);
	cr_assert(!page_test(pg, PG_head));
	model_free_all(&md);
}

Test(page_alloc, thp_order_uses_its_pcp_list)
{
	struct model md;
	small_x86_64(&md, false);
	cr_assert(md.pg.pcp_thp, "x86_64 default build has CONFIG_TRANSPARENT_HUGEPAGE");
	struct zone *z = &md.pg.node_zones[ZONE_DMA32];
	uint64_t before = z->nr_free_pages;
	/* batch 3 >> 9 = 0, raised to 2: two order-9 blocks come over, one is handed out */
	cr_assert(model_alloc(&md, GFP_HIGHUSER_MOVABLE, 9, 0));
	cr_assert_eq(z->nr_free_pages, before - 1024);
	cr_assert_eq(z->pcp[0].count, 512);
	cr_assert_eq(pcp_list_count(&z->pcp[0].lists[NR_LOWORDER_PCP_LISTS]), 1);
	check_invariants(&md);
	cr_assert_lt(z->pcp[0].high, 1024);
	model_free(&md, 0, 0);
	/* count 1024 >= high: nr_pcp_free gives batch 3, which frees one whole THP block */
	cr_assert_eq(z->pcp[0].count, 512);
	cr_assert_eq(z->pcp[0].free_factor, 1);
	check_invariants(&md);
	/* order 8 is neither low order nor THP: straight to the buddy lists */
	cr_assert(model_alloc(&md, GFP_HIGHUSER_MOVABLE, 8, 0));
	cr_assert_eq(z->pcp[0].count, 512);
	check_invariants(&md);
	model_free_all(&md);
}

/* The per-CPU list order the identity of every replay depends on: a refill appends the
 * buddy's blocks in the order it hands them out, an allocation takes the head, a free
 * puts the page at the head (LIFO) and a bulk free returns the oldest (the tail) first. */
Test(page_alloc, pcp_list_order_is_lifo_and_bulk_free_takes_the_oldest)
{
	struct model md;
	small_x86_64(&md, false);
	struct zone *z = &md.pg.node_zones[ZONE_DMA32];
	struct per_cpu_pages *pcp = &z->pcp[0];
	unsigned pindex = 0 * MIGRATE_PCPTYPES + MIGRATE_MOVABLE;
	gfp_t gfp = GFP_DMA32 | GFP_KERNEL | __GFP_MOVABLE;
	/* batch 3: the refill splits one block, so the three pfns are consecutive */
	cr_assert(model_alloc(&md, gfp, 0, 0));
	pfn_t a = md.live[0].pfn;
	struct pcp_list *l = &pcp->lists[pindex];
	cr_assert_eq(pcp_list_count(l), 2);
	cr_assert_eq(pcp_list_nth(l, 0), a + 1, "refill appended in order, head taken");
	cr_assert_eq(pcp_list_nth(l, 1), a + 2);
	cr_assert(model_alloc(&md, gfp, 0, 0));
	cr_assert(model_alloc(&md, gfp, 0, 0));
	cr_assert_eq(md.live[1].pfn, a + 1);
	cr_assert_eq(md.live[2].pfn, a + 2);
	cr_assert(pcp_list_empty(l));
	/* free a, a+1, a+2 (in that order): a+2 is the head, a the tail */
	model_free(&md, 0, 0); /* live[0] = a; the last entry moves into slot 0 */
	model_free(&md, 1, 0); /* a + 1 */
	model_free(&md, 0, 0); /* a + 2 */
	cr_assert_eq(pcp_list_count(l), 3);
	cr_assert_eq(pcp_list_nth(l, 0), a + 2);
	cr_assert_eq(pcp_list_nth(l, 1), a + 1);
	cr_assert_eq(pcp_list_nth(l, 2), a);
	check_invariants(&md);
	/* high < batch: nr_pcp_free frees one block on the next free, the oldest */
	pcp->high = 2;
	pfn_t b = alloc_pages(&md.pg, gfp, 0, 0);
	cr_assert_eq(b, a + 2, "LIFO");
	cr_assert_eq(pcp->count, 2);
	free_pages(&md.pg, b, 0, 0); /* count 3 >= high 2: one block back to the buddy */
	cr_assert_eq(pcp->count, 2);
	cr_assert_eq(pcp_list_count(l), 2);
	cr_assert_eq(pcp_list_nth(l, 0), a + 2);
	cr_assert_eq(pcp_list_nth(l, 1), a + 1, "the oldest (a) went back first");
	cr_assert(pfn_to_page(&md.pg, a)->flags & PG_buddy);
	check_invariants(&md);
	model_free_all(&md);
}

/* zone->free_orders follows the lists through a split down to order 0 and the merge back. */
Test(page_alloc, free_orders_mask_follows_split_and_merge)
{
	struct model md;
	small_x86_64(&md, false);
	page_alloc_set_pcp(&md.pg, false);
	struct zone *z = &md.pg.node_zones[ZONE_DMA32];
	uint16_t boot = z->free_orders[MIGRATE_MOVABLE];
	cr_assert_eq(boot, 1u << MAX_PAGE_ORDER, "boot leaves only order-10 blocks");
	cr_assert(model_alloc(&md, GFP_DMA32 | GFP_KERNEL | __GFP_MOVABLE, 0, 0));
	/* the order-10 block split: one free buddy at each order 0..9 (plus the other
	 * order-10 blocks) */
	cr_assert_eq(z->free_orders[MIGRATE_MOVABLE], (1u << NR_PAGE_ORDERS) - 1);
	check_invariants(&md);
	model_free(&md, 0, 0);
	cr_assert_eq(z->free_orders[MIGRATE_MOVABLE], boot, "merged back");
	check_invariants(&md);
	model_free_all(&md);
}

/* The boot-time gfp table the allocation fast path reads agrees with gfp_zone and
 * gfp_migratetype for every zone/mobility bit combination, on both zone layouts. */
Test(page_alloc, gfp_zone_mt_table_matches_gfp_zone_and_migratetype)
{
	for (int layout = 0; layout < 2; layout++) {
		struct model md;
		three_zones(&md, layout ? ARCH_I386 : ARCH_X86_64);
		cr_assert_not(md.pg.page_group_by_mobility_disabled);
		for (gfp_t g = 0; g <= GFP_ZONE_MT_BITS; g++) {
			unsigned zm = md.pg.gfp_zone_mt[g];
			cr_assert_eq(zm & 0xf, (unsigned)gfp_zone(&md.pg, g | GFP_KERNEL),
				     "gfp %#x", g);
			cr_assert_eq(zm >> 4, (unsigned)gfp_migratetype(g | GFP_KERNEL), "gfp %#x",
				     g);
		}
		cr_assert_eq(md.pg.gfp_zone_mt[__GFP_HIGHMEM] & 0xf,
			     layout ? ZONE_HIGHMEM : ZONE_NORMAL);
		model_free_all(&md);
	}
}

/* x86_64, Normal short of movable pages: Normal passes the low watermark but holds only
 * scattered unmovable order-0 blocks, so under ALLOC_NOFRAGMENT its empty movable pcp list
 * cannot be refilled and the movable page comes from DMA32. get_page_from_freelist tries
 * Normal first (rmqueue_pcplist halves its free_factor, finds nothing) and the fast path
 * that passes over it must leave the same state. */
Test(page_alloc, fast_path_passes_over_a_zone_that_cannot_refill_as_the_kernel_does)
{
	struct model md;
	three_zones(&md, ARCH_X86_64);
	struct pglist_data *pg = &md.pg;
	struct zone *normal = &pg->node_zones[ZONE_NORMAL];
	struct zone *dma32 = &pg->node_zones[ZONE_DMA32];
	cr_assert_eq(pg->nofragment[ZONE_NORMAL], ALLOC_NOFRAGMENT);
	/* Normal down to its low watermark with unmovable pages */
	for (;;) {
		cr_assert(model_alloc(&md, GFP_KERNEL, 0, 0));
		if (page_zonenum(pfn_to_page(pg, md.live[md.nlive - 1].pfn)) != ZONE_NORMAL)
			break;
	}
	/* every other Normal page back: order-0 unmovable blocks that cannot merge */
	for (size_t i = md.nlive; i-- > 0;) {
		pfn_t pfn = md.live[i].pfn;
		if (page_zonenum(pfn_to_page(pg, pfn)) == ZONE_NORMAL && (pfn & 1))
			model_free(&md, i, 0);
	}
	drain_all_pages(pg);
	check_invariants(&md);
	cr_assert_eq(normal->free_orders[MIGRATE_MOVABLE], 0, "no movable block in Normal");
	cr_assert_eq(
	    (normal->free_orders[MIGRATE_UNMOVABLE] | normal->free_orders[MIGRATE_RECLAIMABLE]) >>
		pg->pageblock_order,
	    0, "no pageblock-sized block to steal without fragmenting");
	cr_assert(zone_watermark_ok(normal, 0, wmark_pages(normal, WMARK_LOW), ZONE_NORMAL, 0),
		  "Normal passes the low watermark");
	/* a movable page from DMA32, freed again onto cpu 1's DMA32 list */
	cr_assert(model_alloc(&md, GFP_HIGHUSER_MOVABLE, 0, 1));
	cr_assert_eq(page_zonenum(pfn_to_page(pg, md.live[md.nlive - 1].pfn)), ZONE_DMA32);
	model_free(&md, md.nlive - 1, 1);
	cr_assert(!pcp_list_empty(&dma32->pcp[1].lists[MIGRATE_MOVABLE]));
	cr_assert(pcp_list_empty(&normal->pcp[1].lists[MIGRATE_MOVABLE]));
	uint64_t normal_free = normal->nr_free_pages;
	normal->pcp[1].free_factor = 4;
	dma32->pcp[1].free_factor = 4;
	pfn_t head = pcp_list_nth(&dma32->pcp[1].lists[MIGRATE_MOVABLE], 0);
	cr_assert(model_alloc(&md, GFP_HIGHUSER_MOVABLE, 0, 1));
	cr_assert_eq(md.live[md.nlive - 1].pfn, head, "the head of DMA32's list");
	cr_assert_eq(normal->pcp[1].free_factor, 2, "Normal was tried: free_factor halved");
	cr_assert_eq(dma32->pcp[1].free_factor, 2);
	cr_assert_eq(normal->nr_free_pages, normal_free, "and nothing else changed in Normal");
	check_invariants(&md);
	model_free_all(&md);
}

/* rmqueue_bulk hands out the rest of a split block as one run and puts on the free lists
 * only what the batch leaves: the same pages in the same order, and the same free lists
 * and struct pages, as taking them one by one from the buddy lists (a machine without
 * pcp lists), over batch sizes 1..70, both mobility types (fallback stealing included)
 * and random frees in between. */
Test(page_alloc, refill_runs_match_block_by_block_allocation)
{
	static struct model a, b;
	static pfn_t live[4096];
	small_x86_64(&a, false);
	small_x86_64(&b, false);
	page_alloc_set_pcp(&b.pg, false);
	struct zone *za = &a.pg.node_zones[ZONE_DMA32];
	size_t n = 0;
	rng_state = 2024;
	for (int round = 0; round < 400; round++) {
		if (n > 1500 || (n && rnd() % 3 == 0)) {
			page_alloc_set_pcp(&a.pg, false);
			for (uint64_t f = 1 + rnd() % 60; f && n; f--) {
				size_t i = rnd() % n;
				free_pages(&a.pg, live[i], 0, 0);
				free_pages(&b.pg, live[i], 0, 0);
				live[i] = live[--n];
			}
			page_alloc_set_pcp(&a.pg, true);
		}
		int k = 1 + (int)(rnd() % 70);
		gfp_t gfp = GFP_DMA32 | GFP_KERNEL | (rnd() % 4 ? __GFP_MOVABLE : 0);
		unsigned pindex = gfp_migratetype(gfp);
		za->pcp[0].batch = k;
		for (int j = 0; j < k; j++) {
			pfn_t pa = alloc_pages(&a.pg, gfp, 0, 0);
			pfn_t pb = alloc_pages(&b.pg, gfp, 0, 0);
			cr_assert_eq(pa, pb, "round %d page %d of %d", round, j, k);
			cr_assert_neq(pa, PFN_NONE);
			live[n++] = pa;
		}
		cr_assert(pcp_list_empty(&za->pcp[0].lists[pindex]), "one refill of %d pages", k);
		expect_same_dma32(&a, &b, "round", round);
	}
	model_free_all(&a);
	model_free_all(&b);
}

/* The same for the pcp lists of orders 1 to 3 as well as 0: a refill takes batch >> order
 * blocks (at least 2) off the buddy lists, split whole or, the last, in part; while they
 * wait on the list each page of the run is marked as the pcp keeps it (PG_pcp, no links,
 * private = order, index = migratetype), and they come off it as a machine without pcp
 * lists hands them out one by one. */
Test(page_alloc, refill_runs_of_every_pcp_order_match_block_by_block_allocation)
{
	static struct model a, b;
	static pfn_t live[4096];
	static unsigned live_order[4096];
	small_x86_64(&a, false);
	small_x86_64(&b, false);
	page_alloc_set_pcp(&b.pg, false);
	struct zone *za = &a.pg.node_zones[ZONE_DMA32];
	size_t n = 0;
	uint64_t pages = 0;
	unsigned seen[PAGE_ALLOC_COSTLY_ORDER + 1] = {0};
	rng_state = 77;
	for (int round = 0; round < 600; round++) {
		if (pages > 6000 || n > 1500 || (n && rnd() % 3 == 0)) {
			page_alloc_set_pcp(&a.pg, false);
			for (uint64_t f = 1 + rnd() % 40; f && n; f--) {
				size_t i = rnd() % n;
				free_pages(&a.pg, live[i], live_order[i], 0);
				free_pages(&b.pg, live[i], live_order[i], 0);
				pages -= 1u << live_order[i];
				live[i] = live[--n];
				live_order[i] = live_order[n];
			}
			page_alloc_set_pcp(&a.pg, true);
		}
		unsigned order = (unsigned)(rnd() % (PAGE_ALLOC_COSTLY_ORDER + 1));
		int batch = 1 + (int)(rnd() % 70);
		gfp_t gfp = GFP_DMA32 | GFP_KERNEL | (rnd() % 4 ? __GFP_MOVABLE : 0);
		unsigned mt = gfp_migratetype(gfp);
		struct pcp_list *l = &za->pcp[0].lists[order * MIGRATE_PCPTYPES + mt];
		za->pcp[0].batch = batch;
		/* rmqueue_pcplist's refill size */
		int k = batch > 1 ? (batch >> order < 2 ? 2 : batch >> order) : 1;
		for (int j = 0; j < k; j++) {
			pfn_t pa = alloc_pages(&a.pg, gfp, order, 0);
			if (j == 0 && pa != PFN_NONE) {
				cr_assert_eq(pcp_list_count(l), (uint32_t)(k - 1), "round %d", round);
				for (uint32_t i = 0; i < pcp_list_count(l); i++) {
					const struct page *p = pfn_to_page(&a.pg, pcp_list_nth(l, i));
					cr_assert_eq(p->flags & (PG_pcp | PG_buddy), PG_pcp);
					cr_assert_eq(p->next, PFN_NONE);
					cr_assert_eq(p->prev, PFN_NONE);
					cr_assert_eq(p->private, order);
					cr_assert_eq(p->index, mt);
				}
				seen[order]++;
			}
			pfn_t pb = alloc_pages(&b.pg, gfp, order, 0);
			cr_assert_eq(pa, pb, "round %d order %u block %d of %d", round, order, j, k);
			cr_assert_neq(pa, PFN_NONE);
			live_order[n] = order;
			live[n++] = pa;
			pages += 1u << order;
		}
		cr_assert(pcp_list_empty(l), "one refill of %d blocks", k);
		expect_same_dma32(&a, &b, "round", round);
	}
	for (unsigned o = 0; o <= PAGE_ALLOC_COSTLY_ORDER; o++)
		cr_assert_gt(seen[o], 50, "order %u refilled %u times", o, seen[o]);
	cr_assert_gt(a.vmstat[EXTFRAG_FALLBACK], 0, "no refill fell back to another type");
	model_free_all(&a);
	model_free_all(&b);
}

/* free_pcppages_bulk frees a page and its buddy that is next on the list as one order-1
 * block: the free lists and struct pages come out as freeing every page alone, oldest
 * first (a machine without pcp lists, freeing in the order a drain does: list by list,
 * oldest first). The free orders are ascending runs (munmap), reversed runs and random
 * picks, so pairs, odd-first pairs, aligned ascending runs of 4 and 8 and lone pages all
 * occur. */
Test(page_alloc, bulk_free_of_buddy_pairs_matches_page_by_page)
{
	static struct model a, b;
	static pfn_t pages[1200], order_b[1200];
	static gfp_t page_gfp[1200];
	for (int seed = 1; seed <= 40; seed++) {
		small_x86_64(&a, false);
		small_x86_64(&b, false);
		page_alloc_set_pcp(&a.pg, false);
		page_alloc_set_pcp(&b.pg, false);
		rng_state = (uint64_t)seed;
		size_t n = 600 + rnd() % 600;
		for (size_t i = 0; i < n; i++) {
			page_gfp[i] = GFP_DMA32 | GFP_KERNEL | (rnd() % 3 ? __GFP_MOVABLE : 0);
			pages[i] = alloc_pages(&a.pg, page_gfp[i], 0, 0);
			cr_assert_eq(pages[i], alloc_pages(&b.pg, page_gfp[i], 0, 0));
		}
		/* shuffle whole runs of 1..16 pages, some reversed */
		for (size_t i = 0; i < n;) {
			size_t len = 1 + rnd() % 16, j = i + rnd() % (n - i);
			if (len > n - j)
				len = n - j;
			if (len > n - i)
				len = n - i;
			if (j < i + len)
				j = i;
			for (size_t k = 0; k < len; k++) {
				pfn_t t = pages[i + k];
				pages[i + k] = pages[j + k];
				pages[j + k] = t;
			}
			if (rnd() % 4 == 0)
				for (size_t k = 0; k < len / 2; k++) {
					pfn_t t = pages[i + k];
					pages[i + k] = pages[i + len - 1 - k];
					pages[i + len - 1 - k] = t;
				}
			i += len;
		}
		page_alloc_set_pcp(&a.pg, true);
		a.pg.node_zones[ZONE_DMA32].pcp[0].high = 1 << 30;
		/* the pageblocks change type now and then (as stealing and the highatomic
		 * reserve do), so one pcp list can hold pages of different types */
		for (size_t i = 0; i < n; i++) {
			if (rnd() % 4 == 0)
				set_pageblock_migratetype(&a.pg, pages[i],
							  (unsigned)(rnd() % (MIGRATE_HIGHATOMIC + 1)));
			free_pages(&a.pg, pages[i], 0, 0);
		}
		/* the drain's order: list by list, oldest first; each page freed with the
		 * type its pcp list recorded and with what free_pages and the pcp commit
		 * write besides the links, against the pageblock types the drain sees */
		for (pfn_t x = a.pg.node_start_pfn; x < a.pg.node_start_pfn + a.pg.node_spanned_pages;
		     x++)
			set_pageblock_migratetype(&b.pg, x, get_pageblock_migratetype(&a.pg, x));
		struct per_cpu_pages *pcp = &a.pg.node_zones[ZONE_DMA32].pcp[0];
		size_t nb = 0;
		for (unsigned l = 0; l < MIGRATE_PCPTYPES; l++)
			for (uint32_t i = pcp_list_count(&pcp->lists[l]); i-- > 0;)
				order_b[nb++] = pcp_list_nth(&pcp->lists[l], i);
		cr_assert_eq(nb, n);
		for (size_t i = 0; i < n; i++) {
			struct page *pb = pfn_to_page(&b.pg, order_b[i]);
			unsigned mt = pfn_to_page(&a.pg, order_b[i])->index;
			pb->flags &= PAGE_ZONE_MASK;
			pb->refcount = 0;
			pb->private = 0;
			pb->index = mt;
			free_one_page(&b.pg, &b.pg.node_zones[page_zonenum(pb)], order_b[i], 0,
				      (enum migratetype)mt, false);
		}
		drain_all_pages(&a.pg);
		expect_same_dma32(&a, &b, "seed", seed);
		model_free_all(&a);
		model_free_all(&b);
	}
}

/* struct pcp_list against a plain deque: adds and takes at both ends in random order,
 * wrapping around a 64-slot ring many times (and its free-running indexes around 2^32),
 * keep every block in its place. */
Test(page_alloc, pcp_list_ring_matches_a_deque)
{
	enum { CAP = 64, REF = 4096 };
	static pfn_t ref[REF];
	pfn_t ring[CAP];
	for (int seed = 1; seed <= 20; seed++) {
		rng_state = (uint64_t)seed;
		/* start near the wrap of the indexes */
		uint32_t start = seed % 2 ? UINT32_MAX - 40 : 0;
		struct pcp_list l = {
		    .ring = ring, .head = start, .tail = start, .mask = CAP - 1, .cap = CAP};
		size_t lo = REF / 2, hi = REF / 2; /* ref[lo, hi): head first */
		pfn_t next = 0;
		for (int step = 0; step < 20000; step++) {
			unsigned op = (unsigned)(rnd() % 4);
			bool adding = (step / 500) % 2 == 0 ? op < 3 : op < 1;
			if (adding && hi - lo < CAP) {
				if (rnd() % 2) {
					pcp_list_add_tail(&l, next);
					ref[hi++] = next++;
				} else {
					pcp_list_add_head(&l, next);
					ref[--lo] = next++;
				}
			} else if (hi > lo) {
				bool tail = rnd() % 2;
				pfn_t want = tail ? ref[--hi] : ref[lo++];
				cr_assert_eq(tail ? pcp_list_take_tail(&l) : pcp_list_take_head(&l),
					     want, "seed %d step %d", seed, step);
			}
			if (lo < CAP || hi > REF - CAP) { /* recentre the reference */
				size_t n = hi - lo, c = REF / 2 - n / 2;
				memmove(&ref[c], &ref[lo], n * sizeof(ref[0]));
				lo = c;
				hi = c + n;
			}
			cr_assert_eq(pcp_list_count(&l), hi - lo);
			cr_assert_eq(pcp_list_last(&l), hi > lo ? ref[hi - 1] : PFN_NONE);
			for (uint32_t i = 0; step % 31 == 0 && i < pcp_list_count(&l); i++) {
				cr_assert_eq(pcp_list_nth(&l, i), ref[lo + i]);
				cr_assert_eq(pcp_list_nth_oldest(&l, i), ref[hi - 1 - i]);
			}
		}
	}
}

/* The rings are sized at boot for high and batch; a list pushed past that (high raised by
 * hand) grows, keeping its blocks in order, and count stays below ring_pages or the
 * commit finds room anyway. */
Test(page_alloc, pcp_ring_grows_past_its_boot_size_in_order)
{
	struct model md;
	small_x86_64(&md, false);
	struct zone *z = &md.pg.node_zones[ZONE_DMA32];
	struct per_cpu_pages *pcp = &z->pcp[0];
	struct pcp_list *l = &pcp->lists[MIGRATE_MOVABLE];
	uint32_t boot_cap = l->cap;
	/* sized for what the list can hold: high pages plus a refill, plus one */
	cr_assert_geq(boot_cap, (uint32_t)(pcp->high + pcp->batch + 1));
	cr_assert_geq(pcp->ring_pages, pcp->high + pcp->batch + 1);
	gfp_t gfp = GFP_DMA32 | GFP_KERNEL | __GFP_MOVABLE;
	size_t n = 3 * (size_t)boot_cap;
	for (size_t i = 0; i < n; i++)
		cr_assert(model_alloc(&md, gfp, 0, 0));
	check_invariants(&md);
	pcp->high = 1 << 30;
	pfn_t *freed = malloc(n * sizeof(*freed));
	cr_assert(freed);
	int before = pcp->count;
	for (size_t i = 0; i < n; i++) {
		freed[i] = md.live[md.nlive - 1].pfn;
		model_free(&md, md.nlive - 1, 0);
	}
	cr_assert_eq(pcp->count, before + (int)n, "nothing went back to the buddy");
	cr_assert_gt(l->cap, boot_cap, "the ring grew");
	cr_assert_geq(pcp_list_count(l), n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(pcp_list_nth(l, (uint32_t)i), freed[n - 1 - i], "LIFO at %zu", i);
	check_invariants(&md);
	free(freed);
	drain_all_pages(&md.pg);
	check_invariants(&md);
	model_free_all(&md);
}
