/* The ptes a fork copies (mm/memory.c: copy_page_range, copy_pte_range, copy_present_pte):
 * the parent's frames are shared, a COW mapping write-protected on both sides. */
#include <stddef.h>
#include <string.h>

#include "mm_internal.h"

/* One table's rss counts but the anon one, counted out of line through a pointer. The anon
 * count (nearly all of them) is what is left: the ptes with a struct page, less these. */
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
copy_page_pte(struct page *map, struct copy_rss *rss, pte_t *src, pte_t val, bool cow)
{
	struct page *p = pte_page(map, val);
	uint32_t flags = p->flags & ~PG_anon_exclusive; /* folio_try_dup_anon_rmap */
	uint64_t refmap;
	memcpy(&refmap, &p->refcount, sizeof(refmap));
	refmap += REF_MAP_ONE; /* refcount++, mapcount++ */
	memcpy(&p->refcount, &refmap, sizeof(refmap));
	p->flags = flags;
	if (__builtin_expect(!(flags & PG_anon), 0))
		count_file_rss(rss, p);
	if (cow && pte_write(val)) {
		*src = val & ~_PAGE_RW;
		val &= ~_PAGE_RW;
	}
	return val & ~_PAGE_ACCESSED; /* the child's ptes start old */
}

/* One pte: none stays none (the child's table is zeroed). A pte without a struct page
 * (none, swap, zero page) counts in *other. */
static inline __attribute__((always_inline)) void
copy_one_pte(struct sim *s, struct page *map, uint64_t *other, struct copy_rss *rss, pte_t *d,
	     pte_t *src, bool cow)
{
	pte_t val = *src;
	if (__builtin_expect((val & (_PAGE_PRESENT | _PAGE_SPECIAL)) == _PAGE_PRESENT, 1)) {
		*d = copy_page_pte(map, rss, src, val, cow);
	} else {
		(*other)++;
		if (!pte_none(val))
			*d = copy_other_pte(s, rss, src, cow);
	}
}

/* prefetch_pte_page with mem_map in a register. Not tested for present: the frame of a
 * none or swap pte is a harmless address to prefetch (a prefetch never faults), and the
 * test cost two instructions a pte. */
static inline __attribute__((always_inline)) void prefetch_frame(struct page *map, pte_t val)
{
	__builtin_prefetch((const void *)((uintptr_t)map + (val >> PTE_PFN_SHIFT) * sizeof(struct page)),
			   1);
}

/* The ptes sp[0, n) into d, with cow a constant in each copy of the loop. Returns the anon
 * rss count. */
static inline __attribute__((always_inline)) uint64_t
copy_ptes(struct sim *s, struct page *map, struct copy_rss *rss, pte_t *d, pte_t *sp,
	  uint64_t n, bool cow)
{
	uint64_t other = 0;
	pte_t *p = sp, *end = sp + n;
	/* both tables are in the arena: one pointer steps both */
	ptrdiff_t to_d = d - sp;
	/* frames prefetched while there are ptes ahead, two ptes an iteration (the loop's
	 * own step and test were a tenth of its cost) */
	if (n > PTE_PREFETCH_AHEAD + 1)
		for (; p < end - PTE_PREFETCH_AHEAD - 1; p += 2) {
			prefetch_frame(map, p[PTE_PREFETCH_AHEAD]);
			copy_one_pte(s, map, &other, rss, p + to_d, p, cow);
			prefetch_frame(map, p[PTE_PREFETCH_AHEAD + 1]);
			copy_one_pte(s, map, &other, rss, p + 1 + to_d, p + 1, cow);
		}
	for (; p < end; p++)
		copy_one_pte(s, map, &other, rss, p + to_d, p, cow);
	return n - other - rss->file - rss->shmem;
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
