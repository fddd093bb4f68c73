/* Reverse mapping (mm/rmap.c): from a frame to the ptes that map it. Anonymous frames are
 * found through their anon family — the mms descended by fork from the mm that faulted
 * them in (the kernel's anon_vma chains, coarsened to whole mms) — at the virtual page
 * number kept in page->index. File frames are found through every VMA mapping the file
 * (the kernel's i_mmap tree; here a walk of the live mms). */
#include "mm_internal.h"
#include "vmscan.h"

int anon_family_add(struct sim *s, struct mm_struct *mm, uint32_t anon)
{
	uint64_t head = 0;
	u64map_get(&s->mm.anon_families, anon, &head);
	mm->anon = anon;
	mm->anon_next = (struct mm_struct *)(uintptr_t)head;
	return u64map_put(&s->mm.anon_families, anon, (uint64_t)(uintptr_t)mm);
}

void anon_family_del(struct sim *s, struct mm_struct *mm)
{
	uint64_t head;
	if (!u64map_get(&s->mm.anon_families, mm->anon, &head))
		return;
	struct mm_struct *first = (struct mm_struct *)(uintptr_t)head;
	if (first == mm) {
		if (mm->anon_next)
			u64map_put(&s->mm.anon_families, mm->anon, (uint64_t)(uintptr_t)mm->anon_next);
		else
			u64map_take(&s->mm.anon_families, mm->anon, &head);
		return;
	}
	for (struct mm_struct *m = first; m->anon_next; m = m->anon_next) {
		if (m->anon_next == mm) {
			m->anon_next = mm->anon_next;
			return;
		}
	}
}

/* Call fn on every pte mapping pfn; stops early when fn returns false. */
void rmap_walk(struct sim *s, pfn_t pfn, rmap_fn fn, void *arg)
{
	struct page *p = sim_page(s, pfn);
	if (page_test(p, PG_anon)) {
		uint64_t head;
		if (!u64map_get(&s->mm.anon_families, p->mapping, &head))
			return;
		uint64_t addr = (uint64_t)p->index << PAGE_SHIFT;
		for (struct mm_struct *mm = (struct mm_struct *)(uintptr_t)head; mm;) {
			struct mm_struct *next = mm->anon_next; /* fn may tear mm down */
			pte_t *pte = pte_offset(&s->mm.pt, &mm->pgd, addr, false, 0);
			if (pte && pte_present(*pte) && pte_pfn(*pte) == pfn && !fn(s, mm, pte, addr, arg))
				return;
			mm = next;
		}
		return;
	}
	/* fn changes no VMA and no page's mapping or index: read once */
	uint32_t file = p->mapping, index = p->index;
	for (struct mm_struct *mm = s->mm.all_mms; mm; mm = mm->next) {
		if (!mm->live)
			continue;
		const struct vm_area_struct *v = mm->vma, *vend = v + mm->nr_vma;
		for (; v < vend; v++) {
			if (v->file != file || index < v->vm_pgoff ||
			    index - v->vm_pgoff >= vma_pages(v))
				continue;
			uint64_t addr = v->vm_start + ((uint64_t)(index - v->vm_pgoff) << PAGE_SHIFT);
			pte_t *pte = pte_offset(&s->mm.pt, &mm->pgd, addr, false, 0);
			if (pte && pte_present(*pte) && pte_pfn(*pte) == pfn && !fn(s, mm, pte, addr, arg))
				return;
		}
	}
}
