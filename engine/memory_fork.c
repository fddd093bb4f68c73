/* The ptes a fork copies (mm/memory.c: copy_page_range, copy_pte_range, copy_present_pte):
 * the parent's frames are shared, a COW mapping write-protected on both sides. */
#include "mm_internal.h"

/* One table's rss counts, kept in registers while it is copied (nearly all are anon). */
struct copy_rss {
	uint64_t anon, file, shmem, swap;
};

/* copy_present_pte: share the frame; a COW mapping write-protects both sides. The rss
 * counts go to rss (summed per table, as copy_pte_range does). */
static inline __attribute__((always_inline)) pte_t
copy_one_pte(struct sim *s, struct page *map, struct copy_rss *rss, pte_t *src, bool cow)
{
	pte_t val = *src;
	if (!pte_present(val)) {
		rss->swap++;
		swap_duplicate(&s->swap, pte_swp_offset(val));
		return val;
	}
	if (!(val & _PAGE_SPECIAL)) {
		struct page *p = pte_page(map, val);
		uint32_t flags = p->flags;
		p->refcount++;
		p->mapcount++;
		p->flags = flags & ~PG_anon_exclusive; /* folio_try_dup_anon_rmap */
		if (flags & PG_anon)
			rss->anon++;
		else if (is_shmem_file(p->mapping))
			rss->shmem++;
		else
			rss->file++;
	}
	if (cow && pte_write(val)) {
		*src &= ~_PAGE_RW;
		val &= ~_PAGE_RW;
	}
	return val & ~_PAGE_ACCESSED; /* the child's ptes start old */
}

/* The ptes sp[0, n) into d, with cow a constant in each copy of the loop; one index
 * steps both tables. */
static inline __attribute__((always_inline)) void
copy_ptes(struct sim *s, struct page *map, struct copy_rss *rss, pte_t *d, pte_t *sp,
	  uint64_t n, bool cow)
{
	uint64_t i = 0;
	/* prefetch_pte_page with mem_map in a register, while there are ptes ahead */
	for (; i + PTE_PREFETCH_AHEAD < n; i++) {
		pte_t ahead = sp[i + PTE_PREFETCH_AHEAD];
		if (pte_present(ahead))
			__builtin_prefetch(pte_page(map, ahead), 1);
		if (!pte_none(sp[i]))
			d[i] = copy_one_pte(s, map, rss, &sp[i], cow);
	}
	for (; i < n; i++)
		if (!pte_none(sp[i]))
			d[i] = copy_one_pte(s, map, rss, &sp[i], cow);
}

/* copy_pte_range: the ptes sp[0, n) into d[0, n). Out of line, with mem_map and the rss
 * counts in locals that stores through struct page cannot reach. */
static __attribute__((noinline)) void copy_pte_table(struct sim *s, struct mm_struct *dst,
						     pte_t *d, pte_t *sp, uint64_t n, bool cow)
{
	struct page *map = s->pgdat.memmap_base;
	struct copy_rss rss = {0, 0, 0, 0};
	if (cow)
		copy_ptes(s, map, &rss, d, sp, n, true);
	else
		copy_ptes(s, map, &rss, d, sp, n, false);
	dst->rss[MM_ANONPAGES] += rss.anon;
	dst->rss[MM_FILEPAGES] += rss.file;
	dst->rss[MM_SHMEMPAGES] += rss.shmem;
	dst->rss[MM_SWAPENTS] += rss.swap;
}

/* vma_needs_copy: only private VMAs with anonymous pages get their ptes copied; the child
 * refaults everything else (file pages from the page cache, shmem through its file). */
int copy_page_range(struct sim *s, struct mm_struct *dst, struct mm_struct *src,
		    const struct vm_area_struct *vma, unsigned cpu)
{
	if ((vma->vm_flags & VM_SHARED) || !(vma->vm_flags & VM_ANON_VMA))
		return 0;
	bool cow = vma->vm_flags & VM_MAYWRITE;
	for (uint64_t a = vma->vm_start; a < vma->vm_end;) {
		uint64_t n;
		if (!pte_range(&s->mm.pt, &src->pgd, a, vma->vm_end, &n)) {
			a += n << PAGE_SHIFT;
			continue;
		}
		/* allocate the child's table first: it may move the arena under src */
		pte_t *d = pte_offset(&s->mm.pt, &dst->pgd, a, true, cpu);
		if (!d || !src->live)
			return -1; /* no memory, or the OOM killer took the parent meanwhile */
		pte_t *sp = pte_range(&s->mm.pt, &src->pgd, a, vma->vm_end, &n);
		copy_pte_table(s, dst, d, sp, n, cow);
		a += n << PAGE_SHIFT;
	}
	return 0;
}
