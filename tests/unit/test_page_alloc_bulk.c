/* alloc_pages_bulk against alloc_pages: two machines booted alike, one taking its pages in
 * bulk (alloc_pages for the page after a 0), the other page by page; the pfns, every
 * struct page, the free areas, the pcp lists and counters and vmstat must agree after
 * every call. The same against the kernel's general path (get_page_from_freelist, then
 * the slow path) page by page: the fast path's hits, pass-overs and in-place refills must
 * leave what that walk leaves. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "page_alloc.h"
#include "page_alloc_internal.h"
#include "testlib_freelist.h"
#include "testlib_machine.h"
#include "vmstat.h"
#include "testlib_rng.h"

struct mach {
	struct machine m;
	struct pglist_data pg;
	uint64_t vmstat[NR_VM_STAT_ITEMS];
};

static uint64_t rng;
static uint64_t rnd(void)
{
	return tl_splitmix64(&rng);
}

enum layout { X86_64_TWO_ZONES, X86_64_THREE_ZONES, I386_HIGHMEM };

/* 64 MiB with reserved holes: x86_64 DMA/DMA32 (pageblock order 9), x86_64
 * DMA/DMA32/Normal (ALLOC_NOFRAGMENT on Normal-first requests), i386 DMA/Normal/HighMem
 * (pageblock order 10). */
static void boot(struct mach *x, enum layout l)
{
	memset(x, 0, sizeof(*x));
	pfn_t two[MAX_NR_ZONES] = {4096, 16384, 0, 0};
	pfn_t three[MAX_NR_ZONES] = {4096, 10240, 13312, 0};
	pfn_t i386[MAX_NR_ZONES] = {4096, 0, 10240, 16384};
	if (l == X86_64_TWO_ZONES)
		test_machine(&x->m, ARCH_X86_64, 1, two, 9);
	else if (l == X86_64_THREE_ZONES)
		test_machine(&x->m, ARCH_X86_64, 1, three, 9);
	else
		test_machine(&x->m, ARCH_I386, 1, i386, 10);
	x->m.cfg.nr_cpus = 2;
	test_machine_reserve(&x->m, 1, 256);
	test_machine_reserve(&x->m, 9000, 9100);
	cr_assert_eq(page_alloc_init(&x->pg, &x->m, x->vmstat), 0);
}

static void same_state(const struct mach *a, const struct mach *b, const char *when)
{
	const struct pglist_data *pa = &a->pg, *pb = &b->pg;
	cr_assert_eq(memcmp(pa->mem_map, pb->mem_map, pa->node_spanned_pages * sizeof(struct page)),
		     0, "struct pages differ %s", when);
	uint64_t nblocks = (pa->node_start_pfn + pa->node_spanned_pages - pa->pageblock_base +
			    pageblock_nr_pages(pa) - 1) >>
			   pa->pageblock_order;
	cr_assert_eq(memcmp(pa->pageblock_mt, pb->pageblock_mt, nblocks), 0, "%s", when);
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		const struct zone *za = &pa->node_zones[zi], *zb = &pb->node_zones[zi];
		cr_assert_eq(za->nr_free_pages, zb->nr_free_pages, "zone %d %s", zi, when);
		cr_assert_eq(za->boost_pending, zb->boost_pending, "zone %d %s", zi, when);
		cr_assert_eq(za->watermark_boost, zb->watermark_boost, "zone %d %s", zi, when);
		/* block by block: refills that alloc_pages_bulk makes as one leave the lists
		 * the single refills passed through (expand's halves) without a ring */
		cr_assert(test_free_areas_equal(za, zb), "zone %d free areas %s", zi, when);
		cr_assert_eq(memcmp(za->free_orders, zb->free_orders, sizeof(za->free_orders)), 0);
		cr_assert_eq(memcmp(za->fast_mark, zb->fast_mark, sizeof(za->fast_mark)), 0);
		if (za->pcp)
			cr_assert(test_pcp_equal(za->pcp, zb->pcp, pa->nr_cpus),
				     "zone %d pcp (lists, count, free_factor) %s", zi, when);
	}
	cr_assert_eq(memcmp(a->vmstat, b->vmstat, sizeof(a->vmstat)), 0, "vmstat %s", when);
	cr_assert_eq(memcmp(pa->nr_alloc, pb->nr_alloc, sizeof(pa->nr_alloc)), 0, "%s", when);
	cr_assert_eq(memcmp(pa->nr_alloc_fail, pb->nr_alloc_fail, sizeof(pa->nr_alloc_fail)), 0);
}

struct coverage {
	unsigned full, short_of_list, zero, single_failed, lower_zone, boosted, passed_over,
	    refilled, refilled_in_bulk, highmem;
};

static pfn_t alloc_order0(struct pglist_data *pg, gfp_t gfp, unsigned cpu)
{
	return alloc_pages(pg, gfp, 0, cpu);
}

/* __alloc_pages for order 0 without the fast paths: the first get_page_from_freelist at
 * the low watermark (ALLOC_NOFRAGMENT where the zonelist asks for it), then the slow path. */
static pfn_t alloc_general(struct pglist_data *pg, gfp_t gfp, unsigned cpu)
{
	cpu %= pg->nr_cpus;
	int highest = (int)gfp_zone(pg, gfp);
	struct alloc_context ac = {.highest_zoneidx = highest, .migratetype = gfp_migratetype(gfp)};
	unsigned flags = ALLOC_WMARK_LOW | pg->nofragment[highest] |
			 ((gfp & __GFP_KSWAPD_RECLAIM) ? ALLOC_KSWAPD : 0);
	pfn_t pfn = get_page_from_freelist(pg, gfp, 0, flags, &ac, cpu);
	return pfn != PFN_NONE ? pfn : alloc_pages_slowpath(pg, gfp, 0, &ac, cpu);
}

/* Machine a takes its bulks with alloc_pages_bulk_raw, then writes what prep_new_page
 * would from the zone the raw pages keep. */
static bool raw_bulk;

static void prep_raw(struct pglist_data *pg, const pfn_t *pfns, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct page *p = pfn_to_page(pg, pfns[i]);
		*p = (struct page){.flags = p->flags & PAGE_ZONE_MASK,
				   .next = PFN_NONE,
				   .prev = PFN_NONE,
				   .refcount = 1};
	}
}

/* how machine b takes its pages one by one */
static pfn_t (*alloc_b)(struct pglist_data *pg, gfp_t gfp, unsigned cpu) = alloc_order0;

/* Would the fast path pass over gfp's first zone: populated, above its fast mark, no
 * pending boost, but nothing on its order-0 pcp list for cpu? */
static bool first_zone_passable(const struct mach *x, gfp_t gfp, unsigned cpu)
{
	int zi = (int)gfp_zone(&x->pg, gfp);
	const struct zone *z = &x->pg.node_zones[zi];
	return z->populated && !z->boost_pending &&
	       (int64_t)z->nr_free_pages > z->fast_mark[zi] &&
	       pcp_list_empty(&z->pcp[cpu % x->pg.nr_cpus].lists[gfp_migratetype(gfp)]);
}

#define MAX_RUN 160
#define MAX_LIVE 20000

static pfn_t live[MAX_LIVE];
static size_t nlive;

/* nr pages of gfp on cpu: machine a in bulk, b page by page, compared after every call. */
static void run(struct mach *a, struct mach *b, gfp_t gfp, unsigned cpu, unsigned nr,
		struct coverage *cov)
{
	pfn_t out[MAX_RUN];
	char when[96];
	for (unsigned i = 0; i < nr && nlive < MAX_LIVE;) {
		unsigned want = nr - i;
		if (want > MAX_LIVE - nlive)
			want = (unsigned)(MAX_LIVE - nlive);
		bool passable = first_zone_passable(a, gfp, cpu);
		uint64_t free_before = global_free_pages(&a->pg);
		unsigned highmem = 0;
		unsigned got = raw_bulk ? alloc_pages_bulk_raw(&a->pg, gfp, cpu, want, out, &highmem)
					: alloc_pages_bulk(&a->pg, gfp, cpu, want, out);
		if (raw_bulk) {
			unsigned n = 0;
			for (unsigned j = 0; j < got; j++) {
				n += page_zonenum(pfn_to_page(&a->pg, out[j])) == ZONE_HIGHMEM;
				/* touch_map_frames takes the first page's zone for all */
				cr_assert_eq(page_zonenum(pfn_to_page(&a->pg, out[j])),
					     page_zonenum(pfn_to_page(&a->pg, out[0])),
					     "alloc_pages_bulk_raw's pages are of one zone");
			}
			cr_assert_eq(highmem, n, "HighMem pages counted by alloc_pages_bulk_raw");
			cov->highmem += n;
			prep_raw(&a->pg, out, got);
		}
		cov->refilled_in_bulk += got && global_free_pages(&a->pg) < free_before;
		cr_assert_leq(got, want);
		if (got == 0) {
			cov->zero++;
			uint64_t before = global_free_pages(&a->pg);
			out[0] = alloc_pages(&a->pg, gfp, 0, cpu);
			cov->refilled += global_free_pages(&a->pg) < before;
			if (out[0] == PFN_NONE) {
				cr_assert_eq(alloc_b(&b->pg, gfp, cpu), PFN_NONE);
				cov->single_failed++;
				same_state(a, b, "after a failed allocation");
				return;
			}
			got = 1;
		} else {
			if (got == want)
				cov->full++;
			else
				cov->short_of_list++;
			if (page_zonenum(pfn_to_page(&a->pg, out[0])) < gfp_zone(&a->pg, gfp)) {
				cov->lower_zone++;
				cov->passed_over += passable;
			}
		}
		for (unsigned j = 0; j < got; j++) {
			pfn_t pb = alloc_b(&b->pg, gfp, cpu);
			cr_assert_eq(out[j], pb, "page %u of %u (gfp %#x cpu %u)", i + j, nr, gfp,
				     cpu);
			live[nlive++] = out[j];
		}
		i += got;
		snprintf(when, sizeof(when), "after %u of %u pages (gfp %#x cpu %u)", i, nr, gfp,
			 cpu);
		same_state(a, b, when);
	}
}

static void free_some(struct mach *a, struct mach *b, uint64_t k)
{
	for (; k && nlive; k--) {
		size_t i = rnd() % nlive;
		unsigned cpu = (unsigned)(rnd() % 2);
		free_pages(&a->pg, live[i], 0, cpu);
		free_pages(&b->pg, live[i], 0, cpu);
		live[i] = live[--nlive];
	}
}

/* Both machines get the same change of a term of the fast test, or of the boost flag. */
static void poke(struct mach *a, struct mach *b, struct coverage *cov)
{
	int zi = (int)(rnd() % MAX_NR_ZONES);
	if (!a->pg.node_zones[zi].populated)
		return;
	struct mach *x[2] = {a, b};
	uint64_t r = rnd() % 3, ff = rnd() % 8, boost = rnd() % 64;
	for (int i = 0; i < 2; i++) {
		struct zone *z = &x[i]->pg.node_zones[zi];
		if (r == 0) {
			z->boost_pending = true;
		} else if (r == 1) {
			z->watermark_boost = boost;
			zone_update_fast_mark(z);
		} else {
			/* free_factor stays small: nr_pcp_free stops raising it once
			 * batch << free_factor reaches high - batch */
			z->pcp[0].free_factor = (int)ff;
			z->pcp[1].free_factor = (int)(ff / 2);
		}
	}
	if (r == 0)
		cov->boosted++;
}

static const gfp_t gfps[] = {GFP_HIGHUSER_MOVABLE, GFP_HIGHUSER_MOVABLE, GFP_KERNEL,
			     GFP_USER | __GFP_MOVABLE, GFP_ATOMIC, GFP_KERNEL | __GFP_DMA32,
			     GFP_NOWAIT | __GFP_RECLAIMABLE};

static void random_bulk(enum layout l, uint64_t seed, int steps)
{
	static struct mach a, b;
	boot(&a, l);
	boot(&b, l);
	same_state(&a, &b, "at boot");
	rng = seed;
	nlive = 0;
	struct coverage cov = {0};
	for (int s = 0; s < steps; s++) {
		/* phases: towards exhaustion, back down, again */
		bool grow = (s / 400) % 2 == 0;
		uint64_t r = rnd() % 100;
		if (r < 5) {
			poke(&a, &b, &cov);
		} else if (nlive && (grow ? r < 30 : r < 75)) {
			free_some(&a, &b, 1 + rnd() % 80);
		} else {
			gfp_t gfp = gfps[rnd() % (sizeof(gfps) / sizeof(gfps[0]))];
			/* cpu 2 of 2 is taken modulo, as alloc_pages does */
			run(&a, &b, gfp, (unsigned)(rnd() % 3), 1 + (unsigned)(rnd() % MAX_RUN),
			    &cov);
		}
		same_state(&a, &b, "after a step");
	}
	cr_assert_gt(cov.full, 0, "no bulk call was served whole");
	cr_assert_gt(cov.short_of_list, 0, "no bulk call ran to the end of a pcp list");
	cr_assert_gt(cov.zero, 0, "no bulk call left a page to alloc_pages");
	cr_assert_gt(cov.single_failed, 0, "the run never reached exhaustion");
	cr_assert_gt(cov.lower_zone, 0, "no bulk call fell back to a lower zone");
	cr_assert_gt(cov.boosted, 0);
	cr_assert_gt(a.vmstat[EXTFRAG_FALLBACK], 0, "no refill fell back to another type");
	cr_assert_gt(cov.refilled, 0, "no alloc_pages took from the free lists");
	cr_assert_gt(cov.refilled_in_bulk, 0, "no bulk call refilled a pcp list");
	if (l == X86_64_THREE_ZONES)
		cr_assert_gt(cov.passed_over, 0, "no bulk call passed over an empty Normal list");
	if (l == I386_HIGHMEM && raw_bulk)
		cr_assert_gt(cov.highmem, 0, "no raw bulk call took HighMem pages");
	page_alloc_destroy(&a.pg);
	page_alloc_destroy(&b.pg);
}

Test(alloc_pages_bulk, matches_alloc_pages_x86_64_two_zones) { random_bulk(X86_64_TWO_ZONES, 5, 2400); }

Test(alloc_pages_bulk, matches_alloc_pages_x86_64_three_zones)
{
	random_bulk(X86_64_THREE_ZONES, 77, 2400);
}

Test(alloc_pages_bulk, matches_alloc_pages_i386_highmem) { random_bulk(I386_HIGHMEM, 31, 2400); }

/* random_bulk on the three layouts, seeds seed, seed + 1, seed + 2 */
static void random_bulk_layouts(uint64_t seed)
{
	random_bulk(X86_64_TWO_ZONES, seed, 2400);
	random_bulk(X86_64_THREE_ZONES, seed + 1, 2400);
	random_bulk(I386_HIGHMEM, seed + 2, 2400);
}

Test(alloc_pages_bulk, fast_paths_match_the_general_path)
{
	alloc_b = alloc_general;
	random_bulk_layouts(11);
	alloc_b = alloc_order0;
}

/* alloc_pages_bulk_raw leaves the struct pages it hands out to the caller but for their
 * zone: with the caller's prep_new_page, everything as alloc_pages leaves it. */
Test(alloc_pages_bulk, raw_pages_with_the_callers_prep_match_alloc_pages)
{
	raw_bulk = true;
	random_bulk_layouts(21);
	raw_bulk = false;
}

/* The fast watermark test at its edge: with HighMem's nr_free_pages equal to its fast mark
 * the pages come from Normal's list, one page above it from HighMem's; a pending boost
 * leaves the page to alloc_pages (which wakes kswapd); pcp lists off: nothing in bulk. */
Test(alloc_pages_bulk, watermark_edge_boost_and_no_pcp)
{
	static struct mach a, b;
	boot(&a, I386_HIGHMEM);
	boot(&b, I386_HIGHMEM);
	struct coverage cov = {0};
	nlive = 0;
	/* refill HighMem's and Normal's movable lists of cpu 0 (batch 1 on zones this small) */
	for (int zi = ZONE_NORMAL; zi <= ZONE_HIGHMEM; zi++)
		a.pg.node_zones[zi].pcp[0].batch = b.pg.node_zones[zi].pcp[0].batch = 16;
	run(&a, &b, GFP_HIGHUSER_MOVABLE, 0, 1, &cov);
	run(&a, &b, GFP_KERNEL | __GFP_MOVABLE, 0, 1, &cov);
	struct mach *x[2] = {&a, &b};
	pfn_t out[8];
	for (int edge = 0; edge < 2; edge++) {
		for (int i = 0; i < 2; i++) {
			struct zone *h = &x[i]->pg.node_zones[ZONE_HIGHMEM];
			int64_t base = h->fast_mark[ZONE_HIGHMEM] - (int64_t)h->watermark_boost;
			h->watermark_boost = (uint64_t)((int64_t)h->nr_free_pages - base - 1 + edge);
			zone_update_fast_mark(h);
		}
		enum zone_type want = edge ? ZONE_NORMAL : ZONE_HIGHMEM;
		unsigned got = alloc_pages_bulk(&a.pg, GFP_HIGHUSER_MOVABLE, 0, 4, out);
		cr_assert_eq(got, 4, "edge %d", edge);
		for (unsigned j = 0; j < got; j++) {
			cr_assert_eq(page_zonenum(pfn_to_page(&a.pg, out[j])), want, "edge %d", edge);
			cr_assert_eq(alloc_pages(&b.pg, GFP_HIGHUSER_MOVABLE, 0, 0), out[j]);
		}
		same_state(&a, &b, "at the watermark edge");
	}
	a.pg.node_zones[ZONE_NORMAL].boost_pending = b.pg.node_zones[ZONE_NORMAL].boost_pending =
	    true;
	cr_assert_eq(alloc_pages_bulk(&a.pg, GFP_HIGHUSER_MOVABLE, 0, 4, out), 0);
	run(&a, &b, GFP_HIGHUSER_MOVABLE, 0, 5, &cov);
	cr_assert_not(a.pg.node_zones[ZONE_NORMAL].boost_pending);
	page_alloc_set_pcp(&a.pg, false);
	page_alloc_set_pcp(&b.pg, false);
	cr_assert_eq(alloc_pages_bulk(&a.pg, GFP_HIGHUSER_MOVABLE, 0, 4, out), 0);
	run(&a, &b, GFP_HIGHUSER_MOVABLE, 0, 5, &cov);
	page_alloc_destroy(&a.pg);
	page_alloc_destroy(&b.pg);
}

/* A refill in bulk takes the zone's free pages below its fast mark: the page taken with
 * the refill comes from HighMem, as alloc_pages takes it, and the pages after it from
 * Normal (refilled in turn), as the next alloc_pages calls walk the zonelist again. */
Test(alloc_pages_bulk, refill_that_crosses_the_watermark_walks_again)
{
	static struct mach a, b;
	boot(&a, I386_HIGHMEM);
	boot(&b, I386_HIGHMEM);
	struct mach *x[2] = {&a, &b};
	for (int i = 0; i < 2; i++) {
		for (int zi = ZONE_NORMAL; zi <= ZONE_HIGHMEM; zi++)
			x[i]->pg.node_zones[zi].pcp[0].batch = 16;
		/* HighMem passes its fast test by 5 pages: a refill of 16 fails it */
		struct zone *h = &x[i]->pg.node_zones[ZONE_HIGHMEM];
		int64_t base = h->fast_mark[ZONE_HIGHMEM] - (int64_t)h->watermark_boost;
		h->watermark_boost = (uint64_t)((int64_t)h->nr_free_pages - 5 - base);
		zone_update_fast_mark(h);
	}
	pfn_t out[8];
	cr_assert(first_zone_passable(&a, GFP_HIGHUSER_MOVABLE, 0));
	unsigned got = alloc_pages_bulk(&a.pg, GFP_HIGHUSER_MOVABLE, 0, 8, out);
	cr_assert_eq(got, 8, "both refills are quiet");
	for (unsigned j = 0; j < got; j++) {
		enum zone_type want = j ? ZONE_NORMAL : ZONE_HIGHMEM;
		cr_assert_eq(page_zonenum(pfn_to_page(&a.pg, out[j])), want, "page %u", j);
		cr_assert_eq(alloc_pages(&b.pg, GFP_HIGHUSER_MOVABLE, 0, 0), out[j]);
	}
	same_state(&a, &b, "after the refills");
	page_alloc_destroy(&a.pg);
	page_alloc_destroy(&b.pg);
}
