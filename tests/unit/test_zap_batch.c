/* The batched free of zap (free_unref_folios and zap, both through a pcp_free_run) against
 * page-by-page freeing on an identical twin: every struct page, pcp list, free list and
 * counter must come out the same. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mm_internal.h"
#include "page_alloc_internal.h"
#include "testlib_freelist.h"
#include "testlib_machine.h"
#include "testlib_sim.h"
#include "vmstat.h"

static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void assert_pgdat_equal(struct pglist_data *a, struct pglist_data *b, const char *what)
{
	/* the free blocks' ring slots may differ between two histories with the same lists */
	cr_assert(test_pages_equal(a->mem_map, b->mem_map, a->node_spanned_pages),
		  "%s: struct pages differ", what);
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct zone *za = &a->node_zones[zi], *zb = &b->node_zones[zi];
		cr_assert_eq(za->nr_free_pages, zb->nr_free_pages, "%s: zone %d", what, zi);
		cr_assert(test_free_areas_equal(za, zb), "%s: free lists of zone %d differ", what,
			  zi);
		cr_assert_eq(memcmp(za->free_orders, zb->free_orders, sizeof(za->free_orders)), 0);
		if (za->pcp)
			cr_assert(test_pcp_equal(za->pcp, zb->pcp, a->nr_cpus),
				  "%s: pcp lists of zone %d differ", what, zi);
	}
	cr_assert_eq(memcmp(a->vmstat, b->vmstat, NR_VM_STAT_ITEMS * sizeof(uint64_t)), 0,
		     "%s: vmstat differs", what);
}

/* ---- free_unref_folios against free_pages ------------------------------------------- */

struct twin {
	struct machine m;
	struct pglist_data pg;
	uint64_t vmstat[NR_VM_STAT_ITEMS];
};

/* i386 DMA [1, 4096), Normal [4096, 10240), HighMem [10240, 16384); pageblocks of
 * 2^pb_order pages. */
static void twin_boot(struct twin *t, unsigned pb_order)
{
	memset(t, 0, sizeof(*t));
	pfn_t ends[MAX_NR_ZONES] = {4096, 0, 10240, 16384};
	test_machine(&t->m, ARCH_I386, 1, ends, pb_order);
	t->m.cfg.nr_cpus = 2;
	test_machine_reserve(&t->m, 1, 256);
	cr_assert_eq(page_alloc_init(&t->pg, &t->m, t->vmstat), 0);
}

static const gfp_t zone_gfp[] = {GFP_HIGHUSER_MOVABLE, GFP_KERNEL, GFP_DMA, GFP_USER};

/* Every pageblock of both twins a random type (as stealing and the highatomic reserve
 * leave them): the pages of one zone go to different lists, and those of a
 * MIGRATE_HIGHATOMIC block to the movable list remembering their type. */
static void mix_pageblock_types(struct twin *a, struct twin *b)
{
	pfn_t end = a->pg.node_start_pfn + (pfn_t)a->pg.node_spanned_pages;
	for (pfn_t pfn = a->pg.pageblock_base; pfn < end; pfn += 1u << a->pg.pageblock_order) {
		unsigned mt = (unsigned)(rnd() % MIGRATE_TYPES);
		set_pageblock_migratetype(&a->pg, pfn, mt);
		set_pageblock_migratetype(&b->pg, pfn, mt);
	}
}

static void batch_run(uint64_t seed, bool pcp, unsigned pb_order, bool mixed)
{
	static struct twin a, b;
	static pfn_t pages[6000], order[6200];
	twin_boot(&a, pb_order);
	twin_boot(&b, pb_order);
	page_alloc_set_pcp(&a.pg, pcp);
	page_alloc_set_pcp(&b.pg, pcp);
	rng = seed;
	/* runs of pages from one zone, the zone changing between runs */
	size_t n = 0;
	while (n < 5000) {
		gfp_t gfp = zone_gfp[rnd() % 4];
		for (size_t len = 1 + rnd() % 40; len && n < 5000; len--, n++) {
			unsigned cpu = (unsigned)(rnd() % 2);
			pages[n] = alloc_pages(&a.pg, gfp, 0, cpu);
			cr_assert_neq(pages[n], PFN_NONE);
			cr_assert_eq(pages[n], alloc_pages(&b.pg, gfp, 0, cpu));
		}
	}
	if (mixed)
		mix_pageblock_types(&a, &b);
	/* freed mostly in allocation order (zone runs), some runs swapped; plus frees the
	 * allocator must count and ignore: below and past the node, reserved, twice */
	size_t m = 0, bad = 0;
	for (size_t i = 0; i < n; i++) {
		size_t j = i + rnd() % 8;
		if (j < n && rnd() % 3 == 0) {
			pfn_t t = pages[i];
			pages[i] = pages[j];
			pages[j] = t;
		}
		order[m++] = pages[i];
		if (rnd() % 50 == 0) {
			pfn_t odd[] = {0, (pfn_t)(a.pg.node_start_pfn + a.pg.node_spanned_pages),
				       PFN_NONE, 100, pages[i]};
			/* without pcp lists a page freed twice may have merged already, no
			 * longer PG_buddy: then the allocator cannot tell (either way) */
			order[m++] = odd[rnd() % (pcp ? 5 : 4)];
			bad++;
		}
	}
	uint64_t buddy_before = global_free_pages(&a.pg);
	uint64_t unknown = a.vmstat[UNKNOWN_PAGE_FREE], pgfree = a.vmstat[PGFREE];
	for (size_t i = 0; i < m;) {
		unsigned len = 1 + (unsigned)(rnd() % 100), cpu = (unsigned)(rnd() % 3);
		if (len > m - i)
			len = (unsigned)(m - i);
		free_unref_folios(&a.pg, &order[i], len, cpu);
		for (unsigned k = 0; k < len; k++)
			free_pages(&b.pg, order[i + k], 0, cpu);
		i += len;
		assert_pgdat_equal(&a.pg, &b.pg, pcp ? "pcp" : "no pcp");
	}
	cr_assert_eq(a.vmstat[UNKNOWN_PAGE_FREE] - unknown, bad);
	cr_assert_eq(a.vmstat[PGFREE] - pgfree, n);
	if (pcp)
		cr_assert_gt(global_free_pages(&a.pg) - buddy_before, 0,
			     "no free_pcppages_bulk happened");
	free_unref_folios(&a.pg, order, 0, 0); /* an empty batch changes nothing */
	assert_pgdat_equal(&a.pg, &b.pg, "empty batch");
	page_alloc_destroy(&a.pg);
	page_alloc_destroy(&b.pg);
}

Test(zap_batch, free_unref_folios_matches_free_pages_across_zones)
{
	for (uint64_t seed = 1; seed <= 6; seed++)
		batch_run(seed * 0x9e3779b97f4a7c15ull, true, 10, false);
}

/* Runs of one zone cross pageblocks of other types every few pages: each change of type
 * must end the run (pcp_free_run_add's type test). */
Test(zap_batch, free_unref_folios_matches_free_pages_across_pageblock_types)
{
	for (uint64_t seed = 1; seed <= 4; seed++)
		batch_run(seed * 0xd1b54a32d192ed03ull, true, 3, true);
}

Test(zap_batch, free_unref_folios_without_pcp_lists_matches_free_pages)
{
	batch_run(77, false, 10, false);
}

/* ---- zap_page_range against the page-by-page zap -------------------------------------- */

static struct strtab strings;
static uint64_t ts;

static struct sim *boot(void)
{
	struct machine_config cfg;
	tl_sim_config(&cfg, ARCH_I386, "64M", "64M");
	cfg.vm.overcommit_memory = 1;
	return tl_sim_create(&cfg, &strings);
}

static void apply(struct sim *s, uint32_t pid, enum mm_event_type type, uint64_t a, uint64_t len,
		  uint32_t arg)
{
	struct mm_event e;
	memset(&e, 0, sizeof(e));
	e.ts = ++ts;
	e.pid = pid;
	e.type = (uint8_t)type;
	if (type == EV_EXEC) {
		e.u.exec.filename = strtab_intern(&strings, "/bin/p", 6);
	} else if (type == EV_MMAP) {
		e.u.map.addr = a;
		e.u.map.len = len;
		e.u.map.prot = MM_PROT_READ | MM_PROT_WRITE;
		e.u.map.flags = MM_MAP_PRIVATE | MM_MAP_ANON;
	} else if (type == EV_TOUCH) {
		e.u.touch.addr = a;
		e.u.touch.len = len;
		e.u.touch.access = arg;
	} else if (type == EV_FORK) {
		e.u.fork.child = (uint32_t)a;
	}
	sim_apply(s, &e);
}

/* What the reference zap saw. */
struct ref_seen {
	uint64_t swap_ptes, shared, freed, special;
	uint64_t swapcache_frees; /* frames freed at a swap pte after frames freed at ptes */
};

/* zap_page_range as it was before the gather: every frame freed at its pte. */
static void zap_reference(struct sim *s, struct mm_struct *mm, uint64_t start, uint64_t end,
			  unsigned cpu, struct flush_range *fr, struct ref_seen *seen)
{
	bool freed = false;
	for (uint64_t a = start; a < end;) {
		uint64_t n;
		pte_t *pte = pte_range(&s->mm.pt, &mm->pgd, a, end, &n);
		for (uint64_t k = 0; pte && k < n; k++) {
			pte_t val = pte[k];
			if (pte_none(val))
				continue;
			pte[k] = 0;
			if (!pte_present(val)) {
				uint64_t slot = pte_swp_offset(val);
				mm->rss[MM_SWAPENTS]--;
				swap_free(&s->swap, slot);
				seen->swap_ptes++;
				pfn_t cached = s->swap.swap_map[slot] == 1
						   ? swap_cache_lookup(&s->swap, slot)
						   : PFN_NONE;
				seen->swapcache_frees += freed && cached != PFN_NONE &&
							 sim_page(s, cached)->refcount == 1;
				swap_cache_release_if_unused(s, slot, cpu);
				continue;
			}
			note_flush(fr, a + (k << PAGE_SHIFT));
			if (val & _PAGE_SPECIAL) {
				seen->special++;
				continue;
			}
			struct page *p = sim_page(s, pte_pfn(val));
			mm->rss[page_test(p, PG_anon)	   ? MM_ANONPAGES
				: p->mapping >= (1u << 31) ? MM_SHMEMPAGES
							   : MM_FILEPAGES]--;
			if (--p->mapcount == 0 && page_test(p, PG_file))
				s->mm.nr_mapped--;
			seen->shared += p->refcount > 1;
			seen->freed += p->refcount <= 1;
			freed |= p->refcount <= 1;
			put_page(s, pte_pfn(val), cpu);
		}
		a += n << PAGE_SHIFT;
	}
}

static void assert_sims_equal(struct sim *a, struct sim *b, const char *what)
{
	assert_pgdat_equal(&a->pgdat, &b->pgdat, what);
	cr_assert_eq(memcmp(&a->lru, &b->lru, sizeof(a->lru)), 0, "%s: LRU lists differ", what);
	cr_assert_eq(a->mm.nr_anon_pages, b->mm.nr_anon_pages);
	cr_assert_eq(a->mm.nr_file_pages, b->mm.nr_file_pages);
	cr_assert_eq(a->mm.nr_mapped, b->mm.nr_mapped);
	cr_assert_eq(
	    memcmp(a->swap.swap_map, b->swap.swap_map, a->swap.pages * sizeof(*a->swap.swap_map)),
	    0, "%s: swap map differs", what);
	cr_assert_eq(a->swap.inuse_pages, b->swap.inuse_pages);
}

#define BASE 0x10000000ull
#define ARENA (32ull << 20)

/* Parents and forked children share frames (refcount 2), pressure swaps some out (swap
 * entries, swap-cache frames shared by two ptes), then both sims zap the same ranges. */
static void build_world(struct sim *s)
{
	apply(s, 1, EV_EXEC, 0, 0, 0);
	for (uint32_t pid = 10; pid < 13; pid++) {
		apply(s, pid, EV_EXEC, 0, 0, 0);
		apply(s, pid, EV_MMAP, BASE, ARENA, 0);
		apply(s, pid, EV_TOUCH, BASE, ARENA / 2, FAULT_WRITE);
		apply(s, pid, EV_FORK, pid + 10, 0, 0);
		apply(s, pid, EV_TOUCH, BASE + ARENA / 4, ARENA / 2, FAULT_WRITE);
	}
	/* the children read part of what was swapped: swap-cache frames */
	for (uint32_t pid = 20; pid < 23; pid++)
		apply(s, pid, EV_TOUCH, BASE, ARENA / 8, FAULT_READ);
	/* and the parents write the start of it: their own copies, ahead of swap ptes whose
	 * frames only the swap cache will hold once the children are gone */
	for (uint32_t pid = 10; pid < 13; pid++)
		apply(s, pid, EV_TOUCH, BASE, ARENA / 64, FAULT_WRITE);
	/* zero-page (special) ptes read from untouched memory, some written over since:
	 * special ptes before, between and after plain ones */
	for (uint32_t pid = 10; pid < 13; pid++) {
		uint64_t zero = BASE + ARENA * 3 / 4 + pid * PAGE_SIZE;
		apply(s, pid, EV_TOUCH, zero, ARENA / 16, FAULT_READ);
		for (uint64_t off = 3 * PAGE_SIZE; off < ARENA / 16; off += 37 * PAGE_SIZE)
			apply(s, pid, EV_TOUCH, zero + off, (pid - 9) * 5 * PAGE_SIZE, FAULT_WRITE);
	}
}

Test(zap_batch, zap_matches_page_by_page_with_swap_and_shared_frames)
{
	strtab_init(&strings);
	struct sim *a = boot(), *b = boot();
	build_world(a);
	build_world(b);
	assert_sims_equal(a, b, "setup");
	cr_assert_gt(a->vmstat[PSWPOUT], 0, "the setup must swap");
	/* a frame mapped by two ptes with one reference (a model bug): the second zap of it
	 * must meet it on the pcp list and be counted, batched or not */
	for (uint32_t pid = 10; pid < 23; pid += pid == 12 ? 8 : 1)
		cr_assert(find_task(a, pid) && find_task(a, pid)->mm && !find_task(a, pid)->killed,
			  "task %u died in the setup", pid);
	cr_assert_eq(a->vmstat[OOM_KILL], 0);
	struct mm_struct *m11a = find_task(a, 11)->mm, *m11b = find_task(b, 11)->mm;
	bool doubled = false;
	for (uint64_t addr = BASE; !doubled && addr < BASE + ARENA;) {
		uint64_t n;
		pte_t *pa = pte_range(&a->mm.pt, &m11a->pgd, addr, BASE + ARENA, &n);
		pte_t *pb = pte_range(&b->mm.pt, &m11b->pgd, addr, BASE + ARENA, &n);
		for (uint64_t k = 0; pa && k + 50 < n; k++) {
			if (pte_present(pa[k]) && sim_page(a, pte_pfn(pa[k]))->refcount == 1) {
				pa[k + 50] = pa[k];
				pb[k + 50] = pb[k];
				doubled = true;
				break;
			}
		}
		addr += n << PAGE_SHIFT;
	}
	cr_assert(doubled, "no frame with a single reference");
	struct ref_seen seen = {0};
	uint64_t unknown = a->vmstat[UNKNOWN_PAGE_FREE];
	/* munmap-like pieces of every task, then whole address spaces as exit does; the
	 * children first, so that the swap ptes of the parents free swap-cache frames */
	rng = 5;
	for (uint32_t i = 0; i < 6; i++) {
		uint32_t pid = i < 3 ? 20 + i : 10 + i - 3;
		struct mm_struct *ma = find_task(a, pid)->mm, *mb = find_task(b, pid)->mm;
		for (int piece = 0; piece < 3; piece++) {
			uint64_t start = BASE + (rnd() % (ARENA >> PAGE_SHIFT)) * PAGE_SIZE;
			uint64_t end = start + (1 + rnd() % 3000) * PAGE_SIZE;
			if (end > BASE + ARENA)
				end = BASE + ARENA;
			unsigned cpu = (unsigned)(rnd() % 2);
			struct flush_range fa = {0, 0}, fb = {0, 0};
			zap_page_range(a, ma, start, end, cpu, &fa);
			zap_reference(b, mb, start, end, cpu, &fb, &seen);
			cr_assert_eq(fa.start, fb.start);
			cr_assert_eq(fa.end, fb.end);
			cr_assert_eq(memcmp(ma->rss, mb->rss, sizeof(ma->rss)), 0);
			assert_sims_equal(a, b, "piece");
		}
		struct flush_range fa = {0, 0}, fb = {0, 0};
		for (uint32_t v = 0; v < ma->nr_vma; v++) {
			zap_page_range(a, ma, ma->vma[v].vm_start, ma->vma[v].vm_end, 1, &fa);
			zap_reference(b, mb, mb->vma[v].vm_start, mb->vma[v].vm_end, 1, &fb, &seen);
		}
		cr_assert_eq(memcmp(&fa, &fb, sizeof(fa)), 0);
		cr_assert_eq(memcmp(ma->rss, mb->rss, sizeof(ma->rss)), 0);
		assert_sims_equal(a, b, "whole mm");
	}
	cr_assert_gt(seen.swap_ptes, 0, "no swap entry was zapped");
	cr_assert_gt(seen.swapcache_frees, 0, "no swap-cache frame was freed by a zap");
	cr_assert_gt(seen.shared, 0, "no shared frame was zapped");
	cr_assert_gt(seen.special, 0, "no zero-page pte was zapped");
	cr_assert_gt(seen.freed, 2 * 64, "too few frames for several pcp runs");
	cr_assert_gt(a->vmstat[UNKNOWN_PAGE_FREE], unknown, "the double put was not counted");
	sim_destroy(a);
	sim_destroy(b);
	strtab_free(&strings);
}

/* Anonymous frames off the LRU (as isolation leaves them) among those zap frees: its one
 * flags test for the plain frame must send them the long way, with no LRU delete. */
Test(zap_batch, zap_matches_page_by_page_with_frames_off_the_lru)
{
	strtab_init(&strings);
	struct sim *a = boot(), *b = boot();
	build_world(a);
	build_world(b);
	uint64_t off = 0;
	for (uint32_t pid = 10; pid < 23; pid += pid == 12 ? 8 : 1) {
		struct mm_struct *ma = find_task(a, pid)->mm, *mb = find_task(b, pid)->mm;
		for (uint64_t addr = BASE; addr < BASE + ARENA;) {
			uint64_t n;
			pte_t *pa = pte_range(&a->mm.pt, &ma->pgd, addr, BASE + ARENA, &n);
			pte_t *pb = pte_range(&b->mm.pt, &mb->pgd, addr, BASE + ARENA, &n);
			for (uint64_t k = 0; pa && k < n; k += 7) {
				if (!pte_present(pa[k]) || (pa[k] & _PAGE_SPECIAL))
					continue;
				pfn_t pfn = pte_pfn(pa[k]);
				cr_assert_eq(pfn, pte_pfn(pb[k]));
				if (page_test(sim_page(a, pfn), PG_anon) &&
				    page_test(sim_page(a, pfn), PG_lru)) {
					lru_del(a, pfn);
					lru_del(b, pfn);
					off++;
				}
			}
			addr += n << PAGE_SHIFT;
		}
	}
	cr_assert_gt(off, 64, "too few frames taken off the LRU");
	assert_sims_equal(a, b, "setup");
	struct ref_seen seen = {0};
	/* the children first, as the other test */
	for (uint32_t i = 0; i < 6; i++) {
		uint32_t pid = i < 3 ? 20 + i : 10 + i - 3;
		struct mm_struct *ma = find_task(a, pid)->mm, *mb = find_task(b, pid)->mm;
		struct flush_range fa = {0, 0}, fb = {0, 0};
		for (uint32_t v = 0; v < ma->nr_vma; v++) {
			zap_page_range(a, ma, ma->vma[v].vm_start, ma->vma[v].vm_end, 1, &fa);
			zap_reference(b, mb, mb->vma[v].vm_start, mb->vma[v].vm_end, 1, &fb, &seen);
		}
		cr_assert_eq(memcmp(&fa, &fb, sizeof(fa)), 0);
		cr_assert_eq(memcmp(ma->rss, mb->rss, sizeof(ma->rss)), 0);
		assert_sims_equal(a, b, "whole mm");
	}
	cr_assert_gt(seen.freed, 2 * 64, "too few frames for several pcp runs");
	sim_destroy(a);
	sim_destroy(b);
	strtab_free(&strings);
}

/* ---- lru_run_del against one lru_list_del per page ------------------------------------ */

#define LRU_PAGES 600

/* Two lists (active and inactive anon) of pages in a random order. */
static void lru_build(struct lruvec *lru, struct page *map)
{
	memset(lru, 0, sizeof(*lru));
	for (int l = 0; l < NR_LRU_LISTS; l++)
		lru->head[l] = lru->tail[l] = PFN_NONE;
	static pfn_t perm[LRU_PAGES];
	for (pfn_t i = 0; i < LRU_PAGES; i++)
		perm[i] = i;
	for (pfn_t i = LRU_PAGES - 1; i > 0; i--) {
		pfn_t j = (pfn_t)(rnd() % (i + 1)), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (pfn_t i = 0; i < LRU_PAGES; i++) {
		pfn_t pfn = perm[i];
		struct page *p = &map[pfn];
		p->flags = PG_anon | PG_lru | (pfn % 3 ? 0 : PG_active);
		enum lru_list l = page_lru(p);
		p->prev = PFN_NONE;
		p->next = lru->head[l];
		if (lru->head[l] == PFN_NONE)
			lru->tail[l] = pfn;
		else
			map[lru->head[l]].prev = pfn;
		lru->head[l] = pfn;
		lru->nr[l]++;
	}
}

static void lru_del_reference(struct lruvec *lru, struct page *map, pfn_t pfn)
{
	struct page *p = &map[pfn];
	enum lru_list l = page_lru(p);
	if (p->prev == PFN_NONE)
		lru->head[l] = p->next;
	else
		map[p->prev].next = p->next;
	if (p->next == PFN_NONE)
		lru->tail[l] = p->prev;
	else
		map[p->next].prev = p->prev;
	p->next = p->prev = PFN_NONE;
	lru->nr[l]--;
}

Test(zap_batch, lru_run_del_matches_lru_list_del)
{
	static struct page ma[LRU_PAGES], mb[LRU_PAGES];
	static bool gone[LRU_PAGES];
	for (uint64_t seed = 1; seed <= 30; seed++) {
		rng = seed * 0x2545f4914f6cdd1dull;
		struct lruvec la, lb;
		lru_build(&la, ma);
		memcpy(mb, ma, sizeof(ma));
		lb = la;
		memset(gone, 0, sizeof(gone));
		struct lru_run run = LRU_RUN_INIT;
		/* mostly walks towards the head (zap's order), some towards the tail, some
		 * jumps, across both lists, the run closed now and then */
		pfn_t pfn = (pfn_t)(rnd() % LRU_PAGES);
		for (int step = 0; step < LRU_PAGES * 3 / 4; step++) {
			while (gone[pfn])
				pfn = (pfn_t)(rnd() % LRU_PAGES);
			pfn_t toward_head = mb[pfn].prev, toward_tail = mb[pfn].next;
			lru_run_del(&la, ma, &run, pfn);
			lru_del_reference(&lb, mb, pfn);
			gone[pfn] = true;
			if (rnd() % 16 == 0) {
				lru_run_close(&la, ma, &run);
				cr_assert_eq(memcmp(ma, mb, sizeof(ma)), 0, "seed %llu step %d",
					     (unsigned long long)seed, step);
				cr_assert_eq(memcmp(&la, &lb, sizeof(la)), 0);
			}
			uint64_t r = rnd() % 10;
			pfn = r < 7 && toward_head != PFN_NONE	 ? toward_head
			      : r < 8 && toward_tail != PFN_NONE ? toward_tail
								 : (pfn_t)(rnd() % LRU_PAGES);
		}
		lru_run_close(&la, ma, &run);
		cr_assert_eq(memcmp(ma, mb, sizeof(ma)), 0, "seed %llu", (unsigned long long)seed);
		cr_assert_eq(memcmp(&la, &lb, sizeof(la)), 0);
	}
}
