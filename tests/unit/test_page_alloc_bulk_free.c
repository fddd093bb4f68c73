/* free_pcppages_bulk when it frees part of the per-CPU lists (count below pcp->count):
 * against a machine without pcp lists that frees, block by block, exactly the blocks the
 * bulk took, in the bulk's order (list by list from the list just added to, each from its
 * oldest block). Small high and batch make every few frees a bulk that ends inside a list,
 * inside a buddy pair or an ascending run, across the ring's end, or on a list of order-1
 * or order-2 blocks whose last block takes the count below zero. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "page_alloc.h"
#include "page_alloc_internal.h"
#include "testlib_freelist.h"
#include "testlib_machine.h"
#include "testlib_rng.h"
#include "vmstat.h"

struct bf_machine {
	struct machine m;
	struct pglist_data pg;
	uint64_t vmstat[NR_VM_STAT_ITEMS];
};

/* x86_64-like, DMA [1, dma_end), DMA32 [dma_end, dma32_end); 2 MiB pageblocks */
static void bf_boot(struct bf_machine *t, pfn_t dma_end, pfn_t dma32_end)
{
	memset(t, 0, sizeof(*t));
	pfn_t ends[MAX_NR_ZONES] = {dma_end, dma32_end, 0, 0};
	test_machine(&t->m, ARCH_X86_64, 1, ends, 9);
	t->m.cfg.nr_cpus = 1;
	cr_assert_eq(page_alloc_init(&t->pg, &t->m, t->vmstat), 0);
}

struct bf_block {
	pfn_t pfn;
	unsigned order;
};

/* Frees on b what the bulk free of a took, as free_pages and the pcp commit left each
 * block: flags cleared but the zone, refcount 0, private the order, index the type the
 * pcp list recorded. */
static void bf_free_on_b(struct bf_machine *a, struct bf_machine *b, pfn_t pfn, unsigned order)
{
	struct page *pb = pfn_to_page(&b->pg, pfn);
	unsigned mt = pfn_to_page(&a->pg, pfn)->index;
	for (unsigned i = 0; i < (1u << order); i++)
		pb[i].flags &= PAGE_ZONE_MASK;
	pb->refcount = 0;
	pb->private = order;
	pb->index = mt;
	free_one_page(&b->pg, &b->pg.node_zones[page_zonenum(pb)], pfn, order, (enum migratetype)mt,
		      false);
}

/* The pages the bulk after a commit frees (nr_pcp_free, 6.1), 0 when the commit does
 * not trim: from the pcp state before the commit of a block of order. */
static int bf_expected_count(int count, int high, int batch, int free_factor, unsigned order)
{
	count += 1 << order;
	bool free_high = free_factor && order && order <= PAGE_ALLOC_COSTLY_ORDER;
	if (free_high)
		high = 0;
	if (count < high)
		return 0;
	if (free_high)
		return count;
	if (high < batch)
		return 1;
	int nr = batch << free_factor;
	if (nr < batch)
		nr = batch;
	if (nr > high - batch)
		nr = high - batch;
	return nr < count ? nr : count;
}

/* After one free_pages on a: the blocks that left a's lists must be the ones the kernel's
 * round robin takes for count pages (list by list from the one just added to, each from
 * its oldest block until count is used up or the list is empty); they are freed on b in
 * that order. before[] and blocks[] are the lists' tails and block counts before the
 * call (with the added block), added the list it went to. */
static void bf_replay_bulk(struct bf_machine *a, struct bf_machine *b, const uint32_t *before,
			   uint32_t *blocks, unsigned added, int count, uint64_t *freed)
{
	struct per_cpu_pages *pcp = &a->pg.node_zones[ZONE_DMA32].pcp[0];
	uint32_t take[NR_PCP_LISTS] = {0};
	for (unsigned li = added + NR_PCP_LISTS - 1; count > 0;) {
		do
			li = (li + 1) % NR_PCP_LISTS;
		while (!blocks[li]);
		unsigned order = pcp_list_order(&a->pg, li);
		uint32_t want = (uint32_t)(count + (1 << order) - 1) >> order;
		take[li] = want < blocks[li] ? want : blocks[li];
		blocks[li] -= take[li];
		count -= (int)(take[li] << order);
	}
	for (unsigned k = 0; k < NR_PCP_LISTS; k++) {
		unsigned li = (added + k) % NR_PCP_LISTS;
		const struct pcp_list *l = &pcp->lists[li];
		cr_assert_eq(before[li] - l->tail, take[li], "list %u: %u blocks taken, not %u", li,
			     before[li] - l->tail, take[li]);
		for (uint32_t t = before[li]; t != l->tail; t--) {
			bf_free_on_b(a, b, l->ring[(t - 1) & l->mask], pcp_list_order(&a->pg, li));
			(*freed)++;
		}
	}
}

/* Every struct page of DMA32 but those on a's pcp lists, and the free areas. */
static void bf_expect_same(struct bf_machine *a, struct bf_machine *b, uint8_t *on_pcp, int step)
{
	const struct zone *za = &a->pg.node_zones[ZONE_DMA32], *zb = &b->pg.node_zones[ZONE_DMA32];
	cr_assert_eq(za->nr_free_pages, zb->nr_free_pages, "step %d", step);
	cr_assert(test_free_areas_equal(za, zb), "step %d", step);
	pfn_t start = za->zone_start_pfn;
	memset(on_pcp, 0, za->spanned_pages);
	const struct per_cpu_pages *pcp = &za->pcp[0];
	for (unsigned li = 0; li < NR_PCP_LISTS; li++) {
		const struct pcp_list *l = &pcp->lists[li];
		for (uint32_t i = 0; i < pcp_list_count(l); i++)
			memset(&on_pcp[pcp_list_nth(l, i) - start], 1,
			       1u << pcp_list_order(&a->pg, li));
	}
	for (pfn_t x = start; x < zone_end_pfn(za); x++)
		if (!on_pcp[x - start])
			cr_assert(
			    test_pages_equal(pfn_to_page(&a->pg, x), pfn_to_page(&b->pg, x), 1),
			    "struct page %u differs at step %d", (unsigned)x, step);
}

/* The blocks of blk[0, n) that lie in a block of MAX_PAGE_ORDER the zone z does not hold
 * whole (the bulk free merges them with the span tests). */
static size_t bf_at_edges(const struct zone *z, const struct bf_block *blk, size_t n)
{
	pfn_t max = 1u << MAX_PAGE_ORDER, lo = (z->zone_start_pfn + max - 1) & ~(max - 1);
	pfn_t hi = zone_end_pfn(z) & ~(max - 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += blk[i].pfn < lo || blk[i].pfn >= hi;
	return k;
}

/* DMA32 ends at dma32_end (at most 16384); min_edges: blocks that must be freed at the
 * zone's unaligned ends */
static void bf_run(uint64_t seed, pfn_t dma_end, pfn_t dma32_end, size_t min_edges)
{
	static struct bf_machine a, b;
	static struct bf_block blk[3000];
	static uint8_t on_pcp[16384];
	bf_boot(&a, dma_end, dma32_end);
	bf_boot(&b, dma_end, dma32_end);
	page_alloc_set_pcp(&a.pg, false);
	page_alloc_set_pcp(&b.pg, false);
	uint64_t rng = seed;
	size_t n = 0;
	while (n < 1500) {
		unsigned r = (unsigned)(tl_splitmix64(&rng) % 10);
		unsigned order = r < 5 ? 0 : r < 8 ? 1 : 2;
		gfp_t gfp = GFP_DMA32 | GFP_KERNEL | (tl_splitmix64(&rng) % 3 ? __GFP_MOVABLE : 0);
		pfn_t pfn = alloc_pages(&a.pg, gfp, order, 0);
		cr_assert_neq(pfn, PFN_NONE);
		cr_assert_eq(pfn, alloc_pages(&b.pg, gfp, order, 0));
		blk[n++] = (struct bf_block){pfn, order};
	}
	/* mostly in allocation order (ascending runs and pairs), some blocks swapped */
	for (size_t i = 0; i < n; i++) {
		size_t j = i + tl_splitmix64(&rng) % 6;
		if (j < n && tl_splitmix64(&rng) % 4 == 0) {
			struct bf_block t = blk[i];
			blk[i] = blk[j];
			blk[j] = t;
		}
	}
	page_alloc_set_pcp(&a.pg, true);
	struct per_cpu_pages *pcp = &a.pg.node_zones[ZONE_DMA32].pcp[0];
	/* the empty lists start a few slots above the ring's slot 0 (their free-running
	 * indexes about to pass 0 too): the bulks soon take blocks on both sides of it */
	for (unsigned li = 0; li < NR_PCP_LISTS; li++) {
		cr_assert(pcp_list_empty(&pcp->lists[li]));
		pcp->lists[li].head = pcp->lists[li].tail = (uint32_t)(tl_splitmix64(&rng) % 8);
	}
	uint64_t blocks = 0;
	for (size_t i = 0; i < n; i++) {
		if (i % 200 == 0) {
			/* below the boot values: the rings keep their size */
			pcp->batch = 1 + (int)(tl_splitmix64(&rng) % 6);
			pcp->high = 4 * pcp->batch + (int)(tl_splitmix64(&rng) % 24);
		}
		if (tl_splitmix64(&rng) % 8 == 0)
			set_pageblock_migratetype(
			    &a.pg, blk[i].pfn,
			    (unsigned)(tl_splitmix64(&rng) % (MIGRATE_HIGHATOMIC + 1)));
		for (pfn_t x = a.pg.node_start_pfn;
		     x < a.pg.node_start_pfn + a.pg.node_spanned_pages; x += 1u << 9)
			set_pageblock_migratetype(&b.pg, x, get_pageblock_migratetype(&a.pg, x));
		uint32_t before[NR_PCP_LISTS], heads[NR_PCP_LISTS], nblocks[NR_PCP_LISTS];
		for (unsigned li = 0; li < NR_PCP_LISTS; li++) {
			before[li] = pcp->lists[li].tail;
			heads[li] = pcp->lists[li].head;
			nblocks[li] = pcp_list_count(&pcp->lists[li]);
		}
		int count = bf_expected_count(pcp->count, pcp->high, pcp->batch, pcp->free_factor,
					      blk[i].order);
		free_pages(&a.pg, blk[i].pfn, blk[i].order, 0);
		unsigned added = NR_PCP_LISTS;
		for (unsigned li = 0; li < NR_PCP_LISTS; li++)
			if (pcp->lists[li].head == heads[li] - 1)
				added = li;
		cr_assert_lt(added, NR_PCP_LISTS, "the free went to no pcp list");
		nblocks[added]++;
		bf_replay_bulk(&a, &b, before, nblocks, added, count, &blocks);
		bf_expect_same(&a, &b, on_pcp, (int)i);
	}
	cr_assert_gt(blocks, n / 2, "too few bulk frees: %lu blocks", (unsigned long)blocks);
	size_t edges = bf_at_edges(&a.pg.node_zones[ZONE_DMA32], blk, n);
	cr_assert_geq(edges, min_edges, "%zu blocks at the zone's ends", edges);
	page_alloc_destroy(&a.pg);
	page_alloc_destroy(&b.pg);
}

Test(page_alloc_bulk_free, partial_bulks_match_block_by_block)
{
	for (uint64_t seed = 1; seed <= 8; seed++)
		bf_run(seed * 0x9e3779b97f4a7c15ull, 4096, 16384, 0);
}

/* Zone ends inside blocks of MAX_PAGE_ORDER: the bulk free merges the blocks there with
 * the span tests, the others without (free_pcp_list_tail); both must match. */
Test(page_alloc_bulk_free, partial_bulks_match_at_unaligned_zone_ends)
{
	for (uint64_t seed = 1; seed <= 4; seed++)
		bf_run(seed * 0xbf58476d1ce4e5b9ull, 3584, 6656, 50);
}
