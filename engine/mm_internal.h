/* Shared between the mm files (mm_task.c, mmap.c, memory.c); not part of the API. */
#ifndef MM_MM_INTERNAL_H
#define MM_MM_INTERNAL_H

#include "mm.h"
#include "sim.h"

#define VM_ANON_VMA 0x40000000u /* the VMA has had anonymous pages (vma->anon_vma set) */
/* flags that must agree for two adjacent VMAs to merge (mm/vma.c is_mergeable_vma) */
#define VM_MERGE_MASK (~VM_ANON_VMA)

/* The page flags owned by the mm while a frame is mapped; cleared before it is freed. */
#define PG_USER_STATE (PG_anon | PG_file | PG_anon_exclusive | PG_dirty | PG_referenced | \
		       PG_active | PG_lru | PG_swapcache)

/* Shared anonymous mappings get pseudo files from 2^31 up (mm_mmap). */
#define SHMEM_FILE_FIRST (1u << 31)

static inline bool is_shmem_file(uint32_t file)
{
	return file >= SHMEM_FILE_FIRST;
}

static inline struct page *sim_page(struct sim *s, pfn_t pfn)
{
	return pfn_to_page(&s->pgdat, pfn);
}

static inline unsigned sim_cpu(const struct sim *s, const struct mm_event *ev)
{
	return sim_fold_cpu(s, ev->cpu);
}

/* kmap_local_page + kunmap_local around a clear or copy (mm/highmem.c): lowmem needs no
 * mapping; a highmem frame costs one flush_tlb_one_kernel (kunmap_local_indexed). */
static inline void kmap_local_use(struct sim *s, pfn_t pfn)
{
	if (page_zonenum(sim_page(s, pfn)) != ZONE_HIGHMEM)
		return;
	s->vmstat[KMAP_ATOMIC]++;
	flush_tlb_one_kernel(&s->mm.tlb, s->vmstat, TLB_KMAP_ATOMIC);
}

/* ---- LRU lists (mm/swap.c folio_add_lru, lruvec_del_folio), on every fault and free ---- */

/* struct lruvec's lists: add at the head, delete anywhere. */
static inline void lru_list_add(struct sim *s, enum lru_list l, pfn_t pfn)
{
	struct page *p = sim_page(s, pfn);
	pfn_t first = s->lru.head[l];
	p->next = first;
	p->prev = PFN_NONE;
	if (first == PFN_NONE)
		s->lru.tail[l] = pfn;
	else
		sim_page(s, first)->prev = pfn;
	s->lru.head[l] = pfn;
}

static inline void lru_list_del(struct sim *s, enum lru_list l, pfn_t pfn)
{
	struct page *p = sim_page(s, pfn);
	if (p->prev == PFN_NONE)
		s->lru.head[l] = p->next;
	else
		sim_page(s, p->prev)->next = p->next;
	if (p->next == PFN_NONE)
		s->lru.tail[l] = p->prev;
	else
		sim_page(s, p->next)->prev = p->prev;
	p->next = p->prev = PFN_NONE;
}

/* The list of a page with these flags and mapping (page_lru). */
static inline enum lru_list page_lru_of(uint32_t flags, uint32_t mapping)
{
	if (!(flags & PG_anon) && is_shmem_file(mapping))
		return LRU_UNEVICTABLE; /* shmem: not swapped by the model */
	int base = flags & PG_anon ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
	return (enum lru_list)(base + ((flags & PG_active) != 0));
}

static inline enum lru_list page_lru(const struct page *p)
{
	return page_lru_of(p->flags, p->mapping);
}

/* folio_add_lru: new anon -> inactive anon (6.x), page cache -> inactive file, shmem ->
 * unevictable (the model does not swap shmem). */
static inline void lru_cache_add(struct sim *s, pfn_t pfn)
{
	struct page *p = sim_page(s, pfn);
	p->flags |= PG_lru;
	enum lru_list l = page_lru(p);
	lru_list_add(s, l, pfn);
	s->lru.nr[l]++;
}

static inline void lru_del(struct sim *s, pfn_t pfn)
{
	struct page *p = sim_page(s, pfn);
	enum lru_list l = page_lru(p);
	lru_list_del(s, l, pfn);
	s->lru.nr[l]--;
	p->flags &= ~(PG_lru | PG_active | PG_referenced);
}

/* Unlinking a run of pages that follow each other towards the head of one LRU list, as
 * zap meets them (pages faulted in address order went to the head one after the other).
 * A page joins the run as it is deleted; its links are cleared at once, its prev link kept
 * in the run (the page the run expects next, and when it closes the page before it). The
 * pages around the run are linked to each other once, when it closes; in between the list
 * must not be read: lru_run_close first. The result is that of lru_list_del on each page
 * in turn. */
struct lru_run {
	pfn_t expect; /* prev of the page deleted last, PFN_NONE when no run is open */
	pfn_t after;  /* the page on the tail side of the run */
	enum lru_list l;
	uint32_t n;   /* 0: no run open */
};

#define LRU_RUN_INIT ((struct lru_run){.expect = PFN_NONE})

static inline void lru_run_close(struct lruvec *lru, struct page *map, struct lru_run *r)
{
	if (!r->n)
		return;
	pfn_t before = r->expect;
	if (before == PFN_NONE)
		lru->head[r->l] = r->after;
	else
		map[before].next = r->after;
	if (r->after == PFN_NONE)
		lru->tail[r->l] = before;
	else
		map[r->after].prev = before;
	lru->nr[r->l] -= r->n;
	r->n = 0;
	r->expect = PFN_NONE;
}

/* lru_run_del_page but for the page's links, which the caller sets to PFN_NONE (zap: in
 * one store with the fields its free writes) before anything reads them. */
static inline __attribute__((always_inline)) void
lru_run_join(struct lruvec *lru, struct page *map, struct lru_run *r, const struct page *p,
	     pfn_t pfn)
{
	if (__builtin_expect(r->expect == pfn, 1)) { /* 94 % of zap's on the mix replay */
		r->n++;
	} else {
		lru_run_close(lru, map, r);
		r->after = p->next;
		r->l = page_lru(p);
		r->n = 1;
	}
	r->expect = p->prev;
}

/* lru_del of the page p = &map[pfn] (on an LRU list) but for its flags, which the caller clears;
 * map is mem_map (stores through struct page would make s->pgdat.memmap_base reload). A page linked
 * to the run's last one is on the same list: its list is looked up only when it starts a run. */
static inline void lru_run_del_page(struct lruvec *lru, struct page *map, struct lru_run *r,
				    struct page *p, pfn_t pfn)
{
	lru_run_join(lru, map, r, p, pfn);
	p->next = PFN_NONE;
	p->prev = PFN_NONE;
}

/* lru_run_del_page for p = &map[pfn]. */
static inline void lru_run_del(struct lruvec *lru, struct page *map, struct lru_run *r, pfn_t pfn)
{
	lru_run_del_page(lru, map, r, &map[pfn], pfn);
}

/* lru_list_add of the pages first, ..., last (n of them) in turn, already linked to each
 * other as that leaves them (each page's next is the one added before it): only the ends
 * are linked to the list. */
static inline void lru_list_add_chain(struct lruvec *lru, struct page *map, enum lru_list l,
				      pfn_t first, pfn_t last, uint32_t n)
{
	pfn_t old = lru->head[l];
	map[first].next = old;
	if (old == PFN_NONE)
		lru->tail[l] = first;
	else
		map[old].prev = first;
	map[last].prev = PFN_NONE;
	lru->head[l] = last;
	lru->nr[l] += n;
}

/* Zap, fork and touch walk ptes in order but their frames are scattered over mem_map:
 * start loading the struct page of the pte `ahead` entries on, so that the miss overlaps
 * the work on this one (16 measured ~2 % faster than 8 on the mix replay; 32 no better).
 * A hint only: no effect on the simulation. always_inline: as a plain static inline, GCC
 * 12 found the function free of side effects (pure) and deleted every call, so no
 * prefetch was ever emitted. */
#define PTE_PREFETCH_AHEAD 16
__attribute__((always_inline)) static inline void prefetch_pte_page(struct sim *s,
								    const pte_t *pte,
								    uint64_t k, uint64_t n)
{
	if (k + PTE_PREFETCH_AHEAD < n) {
		pte_t v = pte[k + PTE_PREFETCH_AHEAD];
		if (pte_present(v))
			__builtin_prefetch(sim_page(s, pte_pfn(v)), 1);
	}
}

/* mmap.c: VMA array */
uint32_t vma_lower_bound(const struct mm_struct *mm, uint64_t addr); /* first with end > addr */
int vma_insert(struct mm_struct *mm, const struct vm_area_struct *v);
int vma_split(struct mm_struct *mm, uint32_t idx, uint64_t addr);
void vma_remove(struct mm_struct *mm, uint32_t idx);
void vma_try_merge(struct mm_struct *mm, uint32_t idx);
/* Unmap [start, end): split, zap, free page tables, flush, uncharge. */
int do_munmap(struct sim *s, struct mm_struct *mm, uint64_t start, uint64_t end, unsigned cpu);
uint64_t vma_pages(const struct vm_area_struct *v);

/* the TLB flush an unmap leaves (mmu_gather.c, mmap.c) */
struct flush_range {
	uint64_t start, end; /* end == 0: nothing to flush */
};

/* mmap.c: mremap's move of the ptes of [old, old + len) to new_addr (move_page_tables);
 * -1 when a table could not be allocated. */
int move_ptes(struct sim *s, struct mm_struct *mm, uint64_t old, uint64_t new_addr, uint64_t len,
	      unsigned cpu, struct flush_range *fr);

/* Widen the pending flush to cover the page at va (__tlb_adjust_range). */
static inline void note_flush(struct flush_range *fr, uint64_t va)
{
	if (!fr->end)
		fr->start = va;
	fr->end = va + PAGE_SIZE;
}
/* mmu_gather.c */
void zap_page_range(struct sim *s, struct mm_struct *mm, uint64_t start, uint64_t end,
		    unsigned cpu, struct flush_range *fr);
/* memory.c */
int copy_page_range(struct sim *s, struct mm_struct *dst, struct mm_struct *src,
		    const struct vm_area_struct *vma, unsigned cpu);
/* handle_mm_fault for one page; false when the task must die (SIGSEGV or no memory). */
bool handle_mm_fault(struct sim *s, struct task_struct *t, struct mm_struct *mm,
		     uint64_t addr, uint32_t access, unsigned cpu);
void put_page(struct sim *s, pfn_t pfn, unsigned cpu);

/* rmap.c: fn returns false to stop the walk */
typedef bool (*rmap_fn)(struct sim *s, struct mm_struct *mm, pte_t *pte, uint64_t addr, void *arg);
void rmap_walk(struct sim *s, pfn_t pfn, rmap_fn fn, void *arg);

/* shmem.c: after a VMA of file was removed, free the file's pages and its charge if no
 * VMA maps it. */
void shmem_release_if_unmapped(struct sim *s, uint32_t file, unsigned cpu);
/* The charge for v's new shmem file; false when the overcommit policy refuses it. */
bool shmem_zero_setup(struct sim *s, const struct mm_struct *mm, const struct vm_area_struct *v);

/* memory.c: swap */
bool do_swap_page(struct sim *s, struct task_struct *t, struct mm_struct *mm,
		  struct vm_area_struct *vma, uint64_t addr, pte_t *pte, unsigned cpu);
/* Drop the swap cache's hold on slot (and its frame) once only the cache holds it. */
void swap_cache_release_if_unused(struct sim *s, uint64_t slot, unsigned cpu);

/* mm_task.c */
/* The event's live task (*tp) and its mm; NULL when there is nothing to do. */
struct mm_struct *event_mm(struct sim *s, const struct mm_event *ev, struct task_struct **tp);
struct mm_struct *mm_alloc(struct sim *s, unsigned cpu);
void mmput(struct sim *s, struct mm_struct *mm, unsigned cpu);
void mm_charge_refused(struct sim *s, enum vm_stat_item cause);

#endif
