/* Unmapping a range of user pages (mm/memory.c zap_pte_range) and the mmu_gather that
 * frees the frames zap dropped in batches (mm/mmu_gather.c). memory.c has the faults,
 * which build what this takes down; put_page and swap_cache_release_if_unused are its. */
#include <stddef.h>
#include <string.h>

#include "mm_internal.h"
#include "page_alloc_internal.h"

/* The mmu_gather of one zap (mm/mmu_gather.c) frees the frames whose last reference zap
 * dropped in batches, in the order zap dropped them (tlb_flush_mmu ->
 * free_pages_and_swap_cache -> release_pages -> free_unref_page_list in 6.1). Here each
 * frame is committed to the pcp list as zap drops it, through a pcp_free_run held open
 * across the zap (page_alloc_internal.h): the same commits in the same order, since
 * nothing but zap's frees runs in between, without gathering the pfns and reading every
 * struct page a second time. The run is closed before anything else frees a page or
 * reads the pcp lists (zap_flush). */

/* What zap changes besides the pages, summed as zap_pte_range sums rss[] (add_mm_rss_vec)
 * and applied when it returns: nothing reads them before. Only ever passed to inlined
 * functions or copied (zap_pte_table), so that it stays in registers across the stores
 * through struct page. */
struct zap_state {
	uint64_t anon, file, shmem, swapents; /* rss: pages and swap entries unmapped */
	uint64_t nr_anon, nr_file;	      /* frames freed */
	uint64_t nr_mapped;		      /* file frames no longer mapped anywhere */
	uint64_t first_va, last_va;	      /* the present ptes cleared (flush range) */
	struct lru_run lru;
};

/* Before anything else frees a page or reads the LRU: the frees so far on the books. */
static inline __attribute__((always_inline)) void
zap_flush(struct sim *s, struct page *map, struct pcp_free_run *run, struct zap_state *st)
{
	lru_run_close(&s->lru, map, &st->lru);
	pcp_free_run_close(&s->pgdat, run);
}

/* The flags of the frame zap_present_page takes the short way: plain anonymous, on the
 * LRU, and what pcp_free_run_add's flag test wants (good, in the run's zone). */
#define ZAP_PLAIN_FLAGS (PG_anon | PG_file | PG_lru | PCP_RUN_FLAGS)

/* A plain frame the run takes ends as the LRU unlink and pcp_free_run_take leave it, and
 * mapping 0: (flags, next, prev, private) and (mapping, index) are the same for every such
 * frame of the run, stored at once (refcount 0 apart: mapcount, between, is the frame's). */
typedef uint32_t zap_page_head __attribute__((vector_size(16)));
typedef uint32_t zap_page_pair __attribute__((vector_size(8)));
_Static_assert(offsetof(struct page, next) == 4 && offsetof(struct page, prev) == 8 &&
		   offsetof(struct page, private) == 12 &&
		   offsetof(struct page, index) == offsetof(struct page, mapping) + 4,
	       "zap_take_plain stores (flags .. private) and (mapping, index) at once");

/* What zap_pte_table's loop holds of the pcp run: its hot part, the flags of the plain
 * frame for its zone (flags & ZAP_PLAIN_FLAGS), one test a page, and what zap_take_plain
 * stores. */
struct zap_run {
	struct pcp_free_run_hot h;
	uint32_t plain_flags;
	uintptr_t pb_base; /* the run's, in a local: the stores through struct page would make */
	unsigned pb_order; /* the compiler reload them from it (-fno-strict-aliasing) */
	zap_page_head head;
	zap_page_pair tail;
};

static inline __attribute__((always_inline)) void zap_run_load(struct zap_run *run,
							       const struct pcp_free_run *runp)
{
	pcp_free_run_hot_load(&run->h, runp);
	run->plain_flags = runp->zone_flags | PG_anon | PG_lru;
	run->pb_base = runp->pb_base;
	run->pb_order = runp->pb_order;
	run->head = (zap_page_head){runp->pcp_flags, PFN_NONE, PFN_NONE, 0};
	run->tail = (zap_page_pair){0, run->h.mt};
}

/* zap_flush from zap_pte_table, whose loop holds the run's hot part in run */
static inline __attribute__((always_inline)) void
zap_flush_hot(struct sim *s, struct page *map, struct zap_run *run,
	      struct pcp_free_run *runp, struct zap_state *st)
{
	pcp_free_run_hot_store(&run->h, runp);
	zap_flush(s, map, runp, st);
	zap_run_load(run, runp);
}

static inline __attribute__((always_inline)) void
zap_finish(struct sim *s, struct mm_struct *mm, const struct zap_state *st, struct flush_range *fr)
{
	mm->rss[MM_ANONPAGES] -= st->anon;
	mm->rss[MM_FILEPAGES] -= st->file;
	mm->rss[MM_SHMEMPAGES] -= st->shmem;
	mm->rss[MM_SWAPENTS] -= st->swapents;
	s->mm.nr_anon_pages -= st->nr_anon;
	s->mm.nr_file_pages -= st->nr_file;
	s->mm.nr_mapped -= st->nr_mapped;
	if (st->first_va != UINT64_MAX) {
		note_flush(fr, st->first_va);
		note_flush(fr, st->last_va);
	}
}

/* pcp_free_run_page from zap_pte_table, whose loop holds the run's hot part in run */
static inline __attribute__((always_inline)) void
zap_run_page(struct sim *s, struct zap_run *run, struct pcp_free_run *runp, pfn_t pfn)
{
	pcp_free_run_hot_store(&run->h, runp);
	pcp_free_run_page(&s->pgdat, runp, pfn);
	zap_run_load(run, runp);
}

/* zap_free's end for a frame the open run does not take. */
static inline __attribute__((always_inline)) void
zap_free_other(struct sim *s, struct zap_run *run, struct pcp_free_run *runp, struct page *p,
	       pfn_t pfn, uint32_t flags)
{
	p->flags = flags & ~PG_USER_STATE; /* PG_USER_STATE covers what lru_del clears */
	p->index = 0;
	p->refcount = 0; /* the put's (zap_present_page leaves it to the free) */
	zap_run_page(s, run, runp, pfn);
}

/* The frame's last reference is gone: off the LRU, onto the pcp list (free_pages). The
 * LRU run stays open across the commits: the pcp and buddy lists never touch the links of
 * a page on the LRU, and the run's pages have left it. A pte maps a frame inside the node
 * (pte_page has been read): pcp_free_run_add needs no range check. run is zap_pte_table's
 * copy of *runp. */
static inline __attribute__((always_inline)) void
zap_free(struct sim *s, struct page *map, struct zap_run *run, struct pcp_free_run *runp,
	 struct zap_state *st, struct page *p, pfn_t pfn, uint32_t flags)
{
	if (__builtin_expect(flags & PG_lru, 1))
		lru_run_del_page(&s->lru, map, &st->lru, p, pfn);
	p->mapping = 0;
	/* pcp_free_run_add */
	if (__builtin_expect((flags & PCP_RUN_FLAGS) == runp->zone_flags &&
				 pcp_free_run_take(&run->h, runp, p, pfn),
			     1))
		return; /* it set flags, index, refcount and the rest free_pages_prepare resets */
	zap_free_other(s, run, runp, p, pfn, flags);
}

/* What zap_rmap_other counts, apart from zap_state so that its call leaves zap_state in
 * registers. */
struct zap_other {
	uint64_t anon, file, shmem, nr_mapped, nr_anon, nr_file;
};

/* page_remove_rmap and the put of a frame that is not plain anonymous (page cache, shmem):
 * true when that was its last reference. */
static __attribute__((noinline)) bool zap_rmap_other(struct page *p, struct zap_other *c)
{
	uint32_t flags = p->flags;
	if (flags & PG_anon)
		c->anon++;
	else if (is_shmem_file(p->mapping))
		c->shmem++;
	else
		c->file++;
	if (--p->mapcount == 0 && (flags & PG_file))
		c->nr_mapped++;
	if (--p->refcount > 0)
		return false;
	if (p->refcount == 0) {
		if (flags & PG_anon)
			c->nr_anon++;
		else if (flags & PG_file)
			c->nr_file++;
	}
	return true;
}

/* zap_pte_table counts every pte it visits ahead as a plain anonymous frame freed (rss
 * anon and nr_anon): a pte that is not gives its counts back. */
static inline __attribute__((always_inline)) void zap_not_anon(struct zap_state *st)
{
	st->anon--;
	st->nr_anon--;
}

/* page_remove_rmap and folio_put for a present pte, the free through the pcp run (zap_free). */
static inline __attribute__((always_inline)) void
zap_present_page(struct sim *s, struct page *map, struct zap_run *run,
		 struct pcp_free_run *runp, struct zap_state *st, struct zap_other *other, pte_t val,
		 unsigned cpu)
{
	struct page *p = pte_page(map, val);
	pfn_t pfn = pte_pfn(val);
	uint32_t flags = p->flags;
	if (__builtin_expect((flags & ZAP_PLAIN_FLAGS) == run->plain_flags, 1)) {
		/* the anonymous case below, and zap_free with its flag tests known to pass: one
		 * test instead of three on most frames */
		p->mapcount--;
		if (__builtin_expect(p->refcount == 1, 1)) {
			lru_run_join(&s->lru, map, &st->lru, p, pfn);
			if (__builtin_expect(pcp_free_run_fits(&run->h, run->pb_base, run->pb_order,
							       val >> PTE_PFN_SHIFT),
					     1)) {
				/* pcp_free_run_take, with the links and mapping */
				*--run->h.slot = pfn;
				memcpy(p, &run->head, sizeof(run->head));
				p->refcount = 0;
				memcpy(&p->mapping, &run->tail, sizeof(run->tail));
				return;
			}
			p->next = PFN_NONE;
			p->prev = PFN_NONE;
			p->mapping = 0;
			zap_free_other(s, run, runp, p, pfn, flags);
			return;
		}
		/* anon_put below, apart: a ref shared with it over the jump went through the stack */
		int32_t put = p->refcount - 1;
		st->nr_anon--;
		p->refcount = put;
		if (__builtin_expect(put > 0, 1))
			return;
		goto freed_already;
	}
	if ((flags & (PG_anon | PG_file)) == PG_anon) {
		p->mapcount--; /* an anonymous frame adds nothing to nr_mapped */
		int32_t ref = p->refcount - 1;
		if (ref == 0) {
			/* the last put: refcount 0 is stored by the free (zap_free), which
			 * writes the word anyway */
			zap_free(s, map, run, runp, st, p, pfn, flags);
			return;
		}
		st->nr_anon--; /* not freed here */
		p->refcount = ref;
		if (__builtin_expect(ref > 0, 1))
			return;
		goto freed_already;
	}
	zap_not_anon(st);
	if (!zap_rmap_other(p, other))
		return;
	if (__builtin_expect(p->refcount < 0, 0))
		goto freed_already;
	zap_free(s, map, run, runp, st, p, pfn, flags);
	return;
freed_already:
	/* a frame freed already (a model bug): its free must find it where the unbatched
	 * one did, on the pcp list, and count as UNKNOWN_PAGE_FREE */
	zap_flush_hot(s, map, run, runp, st);
	p->refcount++;
	put_page(s, pfn, cpu);
}

/* zap_pte for *pte, mapping va. The present pte is tested first: it is most of them.
 * (val & (_PAGE_PRESENT | _PAGE_SPECIAL)) == _PAGE_PRESENT in one test less: val - 1 clears
 * bit 0 when it is set, leaving bit 9, and sets it when it is clear. */
_Static_assert(_PAGE_PRESENT == 1, "zap_pte's present test subtracts _PAGE_PRESENT");
static inline __attribute__((always_inline)) void
zap_pte(struct sim *s, struct page *map, struct zap_run *run, struct pcp_free_run *runp,
	struct zap_state *st, struct zap_other *other, pte_t *pte, unsigned cpu)
{
	pte_t val = *pte;
	if (__builtin_expect(((val - 1) & (_PAGE_PRESENT | _PAGE_SPECIAL)) == 0, 1)) {
		*pte = 0;
		zap_present_page(s, map, run, runp, st, other, val, cpu);
		return;
	}
	zap_not_anon(st);
	if (pte_none(val))
		return;
	*pte = 0;
	if (!pte_present(val)) {
		st->swapents++;
		swap_free(&s->swap, pte_swp_offset(val));
		/* it may put the last reference to a swap-cache frame */
		zap_flush_hot(s, map, run, runp, st);
		swap_cache_release_if_unused(s, pte_swp_offset(val), cpu);
	}
}

/* The flush range's part in pte[0, n), mapping from va: from the first present pte zap
 * clears to the last (__tlb_adjust_range per pte). Returns how many of the ptes zap must
 * visit: those after are none (zap_pte would pass them by). */
static inline uint64_t zap_flush_range(struct zap_state *st, const pte_t *pte, uint64_t n,
				       uint64_t va)
{
	const pte_t *end = pte + n;
	/* four at a time over the none tail (often long: a table's last mappings end before
	 * it does) */
	while (end - pte >= 4 && pte_none(end[-1] | end[-2] | end[-3] | end[-4]))
		end -= 4;
	while (end > pte && pte_none(end[-1]))
		end--;
	const pte_t *last = end; /* before it, swap entries at most */
	while (last > pte && !pte_present(last[-1]))
		last--;
	if (last == pte)
		return (uint64_t)(end - pte);
	if (st->first_va == UINT64_MAX) {
		const pte_t *first = pte;
		while (!pte_present(*first))
			first++;
		st->first_va = va + ((uint64_t)(first - pte) << PAGE_SHIFT);
	}
	st->last_va = va + ((uint64_t)(last - 1 - pte) << PAGE_SHIFT);
	return (uint64_t)(end - pte);
}

/* The struct page of the present pte v is loaded ahead (a hint only). Any pte is taken,
 * without the presence test (two instructions a pte, and a branch that follows the
 * pattern of holes): a prefetch never faults, so a none pte fetches mem_map[0] and a swap
 * entry an address the hint drops. The pte's flag bits below the pfn are shifted in
 * with it: v >> (PTE_PFN_SHIFT - 5) is &map[pfn] plus less than 32 bytes, inside that
 * struct page (mem_map is 64-byte aligned, mm_init.c), one instruction less than clearing
 * them. Integer arithmetic: no pointer outside mem_map is formed. */
_Static_assert(sizeof(struct page) == 1u << 5, "prefetch_pte_frame scales the pfn by 32");
static inline __attribute__((always_inline)) void prefetch_pte_frame(struct page *map, pte_t v)
{
	__builtin_prefetch((const void *)((uintptr_t)map + (uintptr_t)(v >> (PTE_PFN_SHIFT - 5))),
			   1);
}

/* zap_pte_range over pte[0, n), mapping from va; next[0, next_n) are the ptes the zap walks
 * after these (next_n 0: none). Out of line with zap_state and the pcp run copied in and
 * out: the loop gets the registers to itself, and the copies, whose addresses are never
 * taken (the run is written back around pcp_free_run_page), stay in them across the stores
 * through struct page. */
static __attribute__((noinline)) void zap_pte_table(struct sim *s, struct pcp_free_run *runp,
						    struct zap_state *stp, struct zap_other *other,
						    pte_t *pte, uint64_t n, uint64_t va,
						    const pte_t *next, uint64_t next_n,
						    unsigned cpu)
{
	struct zap_state copy = *stp, *st = &copy;
	struct zap_run run_copy, *run = &run_copy; /* the same, for the run */
	zap_run_load(run, runp);
	struct page *map = s->pgdat.memmap_base;
	pte_t *p = pte, *end = pte + zap_flush_range(st, pte, n, va);
	/* and from its first pte that is not none: four at a time over a none head */
	while (end - p >= 4 && pte_none(p[0] | p[1] | p[2] | p[3]))
		p += 4;
	while (p < end && pte_none(*p))
		p++;
	/* every pte from here to end counted ahead (zap_not_anon) */
	st->anon += (uint64_t)(end - p);
	st->nr_anon += (uint64_t)(end - p);
	/* the next table is another host page, which the hardware prefetcher does not reach:
	 * its first ptes are loaded now, their frames while the last ones here are zapped */
	if (next_n) {
		__builtin_prefetch(next);
		__builtin_prefetch(next + 8);
	}
	/* prefetch_pte_page with mem_map in a register, while there are ptes ahead */
	for (; p + PTE_PREFETCH_AHEAD < end; p++) {
		prefetch_pte_frame(map, p[PTE_PREFETCH_AHEAD]);
		zap_pte(s, map, run, runp, st, other, p, cpu);
	}
	uint64_t k = 0;
	for (; p < end; p++, k++) {
		if (k < next_n)
			prefetch_pte_frame(map, next[k]);
		zap_pte(s, map, run, runp, st, other, p, cpu);
	}
	/* where the none tail was cut off: the next table's first frames all the same */
	for (; k < next_n && k < PTE_PREFETCH_AHEAD; k++)
		prefetch_pte_frame(map, next[k]);
	*stp = copy;
	pcp_free_run_hot_store(&run->h, runp);
}

void zap_page_range(struct sim *s, struct mm_struct *mm, uint64_t start, uint64_t end, unsigned cpu,
		    struct flush_range *fr)
{
	struct pcp_free_run run;
	struct zap_state st = {.first_va = UINT64_MAX, .lru = LRU_RUN_INIT};
	struct zap_other other = {0};
	struct page *map = s->pgdat.memmap_base;
	uint64_t n = 0;
	pcp_free_run_init(&s->pgdat, &run, cpu);
	pte_t *pte = start < end ? pte_range(&s->mm.pt, &mm->pgd, start, end, &n) : NULL;
	/* the first frames: the table's own loop loads them from PTE_PREFETCH_AHEAD on */
	for (uint64_t k = 0; pte && k < n && k < PTE_PREFETCH_AHEAD; k++)
		prefetch_pte_frame(map, pte[k]);
	/* the tables are looked up one ahead (zap neither allocates nor frees one) */
	for (uint64_t a = start; a < end;) {
		uint64_t next_a = a + (n << PAGE_SHIFT), next_n = 0;
		pte_t *next =
		    next_a < end ? pte_range(&s->mm.pt, &mm->pgd, next_a, end, &next_n) : NULL;
		if (pte)
			zap_pte_table(s, &run, &st, &other, pte, n, a, next, next ? next_n : 0,
				      cpu);
		a = next_a;
		pte = next;
		n = next_n;
	}
	zap_flush(s, map, &run, &st);
	st.anon += other.anon;
	st.file += other.file;
	st.shmem += other.shmem;
	st.nr_mapped += other.nr_mapped;
	st.nr_anon += other.nr_anon;
	st.nr_file += other.nr_file;
	zap_finish(s, mm, &st, fr);
}
