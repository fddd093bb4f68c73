/* The ptes a fork copies (mm/memory.c: copy_page_range, copy_pte_range, copy_present_pte):
 * the parent's frames are shared, a COW mapping write-protected on both sides. */
#include <stddef.h>
#include <string.h>

#include "mm_internal.h"

/* One table's rss counts but the anon one, which the loop keeps in a register (nearly all
 * are anon); these are counted out of line, through a pointer. */
struct copy_rss {
	uint64_t file, shmem, swap;
};

/* refcount and mapcount are adjacent int32s: one 64-bit add bumps both (little-endian,
 * refcount the low half; it is >= 1 for a mapped frame, so its +1 never carries). */
_Static_assert(offsetof(struct page, mapcount) == offsetof(struct page, refcount) + 4 &&
		       offsetof(struct page, refcount) % 8 == 0,
	       "refcount and mapcount must share an aligned 8-byte word");
#define REF_MAP_ONE (1ull << 32 | 1)

/* A swap or special (zero page) pte: copy_nonpresent_pte, or a present pte without a
 * struct page to count. */
static __attribute__((noinline)) pte_t copy_other_pte(struct sim *s, struct copy_rss *rss,
						      pte_t *src, bool cow)
{
	pte_t val = *src;
	if (!pte_present(val)) {
		rss->swap++;
		swap_duplicate(&s->swap, pte_swp_offset(val));
		return val;
	}
	if (cow && pte_write(val)) {
		*src &= ~_PAGE_RW;
		val &= ~_PAGE_RW;
	}
	return val & ~_PAGE_ACCESSED; /* the child's ptes start old */
}

/* The frame of a present, non-special pte is not anonymous: a file or shmem page. */
static __attribute__((noinline)) void count_file_rss(struct copy_rss *rss, const struct page *p)
{
	if (is_shmem_file(p->mapping))
		rss->shmem++;
	else
		rss->file++;
}

/* copy_present_pte for a present pte with a struct page: share the frame; a COW mapping
 * write-protects both sides. The rss counts go to rss (summed per table, as
 * copy_pte_range does). */
static inline __attribute__((always_inline)) pte_t
copy_page_pte(struct page *map, uint64_t *anon, struct copy_rss *rss, pte_t *src, pte_t val,
	      bool cow)
{
	struct page *p = pte_page(map, val);
	uint32_t flags = p->flags;
	uint64_t refmap;
	memcpy(&refmap, &p->refcount, sizeof(refmap));
	refmap += REF_MAP_ONE; /* refcount++, mapcount++ */
	memcpy(&p->refcount, &refmap, sizeof(refmap));
	p->flags = flags & ~PG_anon_exclusive; /* folio_try_dup_anon_rmap */
	if (__builtin_expect(flags & PG_anon, 1))
		(*anon)++;
	else
		count_file_rss(rss, p);
	if (cow && pte_write(val)) {
		*src = val & ~_PAGE_RW;
		val &= ~_PAGE_RW;
	}
	return val & ~_PAGE_ACCESSED; /* the child's ptes start old */
}

/* One pte: none stays none (the child's table is zeroed). */
static inline __attribute__((always_inline)) void
copy_one_pte(struct sim *s, struct page *map, uint64_t *anon, struct copy_rss *rss, pte_t *d,
	     pte_t *src, bool cow)
{
	pte_t val = *src;
	if (__builtin_expect((val & (_PAGE_PRESENT | _PAGE_SPECIAL)) == _PAGE_PRESENT, 1))
		*d = copy_page_pte(map, anon, rss, src, val, cow);
	else if (!pte_none(val))
		*d = copy_other_pte(s, rss, src, cow);
}

/* The ptes sp[0, n) into d, with cow a constant in each copy of the loop; one index
 * steps both tables. */
static inline __attribute__((always_inline)) uint64_t
copy_ptes(struct sim *s, struct page *map, struct copy_rss *rss, pte_t *d, pte_t *sp,
	  uint64_t n, bool cow)
{
	uint64_t i = 0, anon = 0;
	/* prefetch_pte_page with mem_map in a register, while there are ptes ahead. Not
	 * tested for present: the frame of a none or swap pte is a harmless address to
	 * prefetch (a prefetch never faults), and the test cost two instructions a pte. */
	for (; i + PTE_PREFETCH_AHEAD < n; i++) {
		__builtin_prefetch((const void *)((uintptr_t)map + (sp[i + PTE_PREFETCH_AHEAD] >>
								    PTE_PFN_SHIFT) *
								   sizeof(struct page)),
				   1);
		copy_one_pte(s, map, &anon, rss, &d[i], &sp[i], cow);
	}
	for (; i < n; i++)
		copy_one_pte(s, map, &anon, rss, &d[i], &sp[i], cow);
	return anon;
}

/* copy_pte_range: the ptes sp[0, n) into d[0, n). Out of line, with mem_map and the rss
 * counts in locals that stores through struct page cannot reach. */
static __attribute__((noinline)) void copy_pte_table(struct sim *s, struct mm_struct *dst,
						     pte_t *d, pte_t *sp, uint64_t n, bool cow)
{
	struct page *map = s->pgdat.memmap_base;
	struct copy_rss rss = {0, 0, 0};
	uint64_t anon = cow ? copy_ptes(s, map, &rss, d, sp, n, true)
			    : copy_ptes(s, map, &rss, d, sp, n, false);
	dst->rss[MM_ANONPAGES] += anon;
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
