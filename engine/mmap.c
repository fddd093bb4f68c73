/* VMAs and the mapping syscalls: mmap, munmap, mprotect, mremap, brk (mm/mmap.c,
 * mm/vma.c, mm/mprotect.c, mm/mremap.c). VMAs are a sorted array per mm: lookup is a
 * binary search, insert and split move the tail (the kernel uses a maple tree). */
#include <stdlib.h>
#include <string.h>

#include "mm_internal.h"

static uint64_t page_align(uint64_t x)
{
	return (x + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
}

uint64_t vma_pages(const struct vm_area_struct *v)
{
	return (v->vm_end - v->vm_start) >> PAGE_SHIFT;
}

uint32_t vma_lower_bound(const struct mm_struct *mm, uint64_t addr)
{
	uint32_t lo = 0, hi = mm->nr_vma;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (mm->vma[mid].vm_end > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

struct vm_area_struct *find_vma(const struct mm_struct *mm, uint64_t addr)
{
	uint32_t i = vma_lower_bound(mm, addr);
	if (i < mm->nr_vma && mm->vma[i].vm_start <= addr)
		return &mm->vma[i];
	return NULL;
}

static int vma_reserve(struct mm_struct *mm)
{
	if (mm->nr_vma < mm->cap_vma)
		return 0;
	uint32_t cap = mm->cap_vma ? mm->cap_vma * 2 : 16;
	struct vm_area_struct *v = realloc(mm->vma, cap * sizeof(*v));
	if (!v)
		return -1;
	mm->vma = v;
	mm->cap_vma = cap;
	return 0;
}

int vma_insert(struct mm_struct *mm, const struct vm_area_struct *v)
{
	if (vma_reserve(mm))
		return -1;
	uint32_t i = vma_lower_bound(mm, v->vm_start);
	memmove(&mm->vma[i + 1], &mm->vma[i], (mm->nr_vma - i) * sizeof(*v));
	mm->vma[i] = *v;
	mm->nr_vma++;
	return 0;
}

void vma_remove(struct mm_struct *mm, uint32_t idx)
{
	memmove(&mm->vma[idx], &mm->vma[idx + 1], (mm->nr_vma - idx - 1) * sizeof(mm->vma[0]));
	mm->nr_vma--;
}

/* __split_vma: vma[idx] becomes [start, addr) and a new vma[idx + 1] is [addr, end). */
int vma_split(struct mm_struct *mm, uint32_t idx, uint64_t addr)
{
	if (vma_reserve(mm))
		return -1;
	struct vm_area_struct *v = &mm->vma[idx];
	memmove(&mm->vma[idx + 1], v, (mm->nr_vma - idx) * sizeof(*v));
	mm->nr_vma++;
	struct vm_area_struct *hi = &mm->vma[idx + 1];
	v->vm_end = addr;
	if (hi->file)
		hi->vm_pgoff += (addr - hi->vm_start) >> PAGE_SHIFT;
	hi->vm_start = addr;
	return 0;
}

static bool can_merge(const struct vm_area_struct *a, const struct vm_area_struct *b)
{
	if (a->vm_end != b->vm_start || a->file != b->file)
		return false;
	if (((a->vm_flags ^ b->vm_flags) & VM_MERGE_MASK) || (a->vm_flags & VM_IMPLICIT))
		return false;
	return !a->file || a->vm_pgoff + vma_pages(a) == b->vm_pgoff;
}

/* vma_merge: join vma[idx] with compatible neighbours. */
void vma_try_merge(struct mm_struct *mm, uint32_t idx)
{
	if (idx + 1 < mm->nr_vma && can_merge(&mm->vma[idx], &mm->vma[idx + 1])) {
		mm->vma[idx].vm_end = mm->vma[idx + 1].vm_end;
		mm->vma[idx].vm_flags |= mm->vma[idx + 1].vm_flags;
		vma_remove(mm, idx + 1);
	}
	if (idx > 0 && can_merge(&mm->vma[idx - 1], &mm->vma[idx])) {
		mm->vma[idx - 1].vm_end = mm->vma[idx].vm_end;
		mm->vma[idx - 1].vm_flags |= mm->vma[idx].vm_flags;
		vma_remove(mm, idx);
	}
}

/* Split so that no VMA straddles start or end; returns the first index inside. */
static int split_range(struct mm_struct *mm, uint64_t start, uint64_t end, uint32_t *first)
{
	uint32_t i = vma_lower_bound(mm, start);
	if (i < mm->nr_vma && mm->vma[i].vm_start < start) {
		if (vma_split(mm, i, start))
			return -1;
		i++;
	}
	uint32_t j = vma_lower_bound(mm, end);
	if (j < mm->nr_vma && mm->vma[j].vm_start < end && vma_split(mm, j, end))
		return -1;
	*first = i;
	return 0;
}

static void flush_user_range(struct sim *s, struct mm_struct *mm, const struct flush_range *fr,
			     unsigned cpu, enum tlb_cause cause)
{
	if (fr->end)
		flush_tlb_mm_range(&s->mm.tlb, s->vmstat, mm->cpumask, cpu, fr->start, fr->end,
				   cause);
}

int do_munmap(struct sim *s, struct mm_struct *mm, uint64_t start, uint64_t end, unsigned cpu)
{
	uint32_t i;
	if (split_range(mm, start, end, &i))
		return -1;
	uint64_t floor = i > 0 ? mm->vma[i - 1].vm_end : 0;
	struct flush_range fr = {0, 0};
	while (i < mm->nr_vma && mm->vma[i].vm_start < end) {
		struct vm_area_struct *v = &mm->vma[i];
		zap_page_range(s, mm, v->vm_start, v->vm_end, cpu, &fr);
		if (v->vm_flags & VM_ACCOUNT) {
			vm_unacct_memory(&s->commit, vma_pages(v));
			mm->committed -= vma_pages(v);
		}
		mm->total_vm -= vma_pages(v);
		uint32_t file = v->file;
		vma_remove(mm, i);
		shmem_release_if_unmapped(s, file, cpu);
	}
	uint64_t ceiling = i < mm->nr_vma ? mm->vma[i].vm_start : s->mm.pt.geo.task_size;
	uint64_t tables = mm->pgd.nr_pages;
	free_pgtables(&s->mm.pt, &mm->pgd, start, end, floor, ceiling, cpu);
	if (!fr.end && mm->pgd.nr_pages != tables) /* freed tables alone need a flush too */
		fr = (struct flush_range){start, start + PAGE_SIZE};
	flush_user_range(s, mm, &fr, cpu, TLB_MUNMAP);
	return 0;
}

static uint32_t vm_flags_for(const struct mm_event *ev)
{
	uint32_t f = 0, prot = ev->u.map.prot, flags = ev->u.map.flags;
	f |= prot & MM_PROT_READ ? VM_READ : 0;
	f |= prot & MM_PROT_WRITE ? VM_WRITE : 0;
	f |= prot & MM_PROT_EXEC ? VM_EXEC : 0;
	if (flags & MM_MAP_SHARED) {
		f |= VM_SHARED;
		f |= prot & MM_PROT_WRITE ? VM_MAYWRITE : 0;
	} else {
		f |= VM_MAYWRITE;
	}
	f |= flags & MM_MAP_GROWSDOWN ? VM_GROWSDOWN : 0;
	f |= flags & MM_MAP_NORESERVE ? VM_NORESERVE : 0;
	return f;
}

/* accountable_mapping (mm/vma.c): private writable, not NORESERVE (ignored in mode 2).
 * Shared anonymous memory is charged once for its file instead (shmem_zero_setup). */
static bool accountable(const struct sim *s, uint32_t vm_flags)
{
	if ((vm_flags & VM_NORESERVE) && s->machine.cfg.vm.overcommit_memory != 2)
		return false;
	return !(vm_flags & VM_SHARED) && (vm_flags & VM_WRITE);
}

/* get_unmapped_area, top-down (mm/mmap.c vm_unmapped_area with VM_UNMAPPED_AREA_TOPDOWN):
 * the highest gap below mmap_base that fits. 0 when none. */
static uint64_t get_unmapped_area(const struct mm_struct *mm, uint64_t len)
{
	uint64_t high = mm->mmap_base;
	for (uint32_t i = vma_lower_bound(mm, high);; high = mm->vma[--i].vm_start) {
		uint64_t gap_end = high;
		if (i < mm->nr_vma && mm->vma[i].vm_start < gap_end)
			gap_end = mm->vma[i].vm_start;
		/* vm.mmap_min_addr = 4096: page 0 is never mapped */
		uint64_t gap_start = i > 0 ? mm->vma[i - 1].vm_end : PAGE_SIZE;
		if (gap_end > gap_start && gap_end - gap_start >= len)
			return gap_end - len;
		if (i == 0)
			return 0;
	}
}

static int map_region(struct sim *s, struct mm_struct *mm, struct vm_area_struct *v, unsigned cpu)
{
	if (do_munmap(s, mm, v->vm_start, v->vm_end, cpu)) /* MAP_FIXED replaces */
		return -1;
	uint64_t pages = vma_pages(v);
	if (v->vm_flags & VM_ACCOUNT) {
		if (!vm_enough_memory(&s->commit, pages, mm->total_vm))
			return 1;
		mm->committed += pages;
	}
	if (vma_insert(mm, v)) {
		if (v->vm_flags & VM_ACCOUNT) {
			vm_unacct_memory(&s->commit, pages);
			mm->committed -= pages;
		}
		return -1;
	}
	mm->total_vm += pages;
	vma_try_merge(mm, vma_lower_bound(mm, v->vm_start));
	return 0;
}

static void populate(struct sim *s, struct task_struct *t, struct mm_struct *mm,
		     uint64_t start, uint64_t end, uint32_t vm_flags, unsigned cpu)
{
	uint32_t access = vm_flags & VM_WRITE ? FAULT_WRITE : FAULT_READ;
	for (uint64_t a = start; a < end; a += PAGE_SIZE)
		if (!handle_mm_fault(s, t, mm, a, access, cpu))
			return;
}

void mm_mmap(struct sim *s, const struct mm_event *ev)
{
	if (ev->u.map.flags & MM_MAP_FAILED)
		return; /* the recording kernel refused it: nothing was mapped */
	unsigned cpu = sim_cpu(s, ev);
	struct task_struct *t;
	struct mm_struct *mm = event_mm(s, ev, &t);
	if (!mm)
		return;
	uint64_t len = page_align(ev->u.map.len);
	struct vm_area_struct v = {.vm_flags = vm_flags_for(ev), .file = ev->u.map.file,
				   .vm_pgoff = ev->u.map.pgoff};
	if ((ev->u.map.flags & (MM_MAP_SHARED | MM_MAP_ANON)) == (MM_MAP_SHARED | MM_MAP_ANON))
		v.file = s->mm.next_shmem++; /* shmem: its own pseudo file, shared across fork */
	if (accountable(s, v.vm_flags))
		v.vm_flags |= VM_ACCOUNT;
	uint64_t addr = ev->u.map.addr & ~(uint64_t)(PAGE_SIZE - 1);
	if (ev->u.map.flags & MM_MAP_ADDR_UNKNOWN)
		addr = get_unmapped_area(mm, len);
	if (!len || !addr || addr + len > s->mm.pt.geo.task_size || addr + len < addr) {
		s->unhandled[ev->type]++; /* no room, or an address this arch cannot map */
		return;
	}
	v.vm_start = addr;
	v.vm_end = addr + len;
	int r = map_region(s, mm, &v, cpu);
	if (r == 0 && is_shmem_file(v.file) && !shmem_zero_setup(s, mm, &v)) {
		do_munmap(s, mm, v.vm_start, v.vm_end, cpu); /* the mmap fails after all */
		r = 1;
	}
	if (r > 0)
		mm_charge_refused(s, COMMIT_REFUSED_MMAP);
	else if (r == 0 && (ev->u.map.flags & MM_MAP_POPULATE))
		populate(s, t, mm, v.vm_start, v.vm_end, v.vm_flags, cpu);
}

void mm_munmap(struct sim *s, const struct mm_event *ev)
{
	struct task_struct *t;
	struct mm_struct *mm = event_mm(s, ev, &t);
	if (!mm)
		return;
	uint64_t start = ev->u.range.addr & ~(uint64_t)(PAGE_SIZE - 1);
	uint64_t end = page_align(ev->u.range.addr + ev->u.range.len);
	uint32_t i = vma_lower_bound(mm, start);
	if (i >= mm->nr_vma || mm->vma[i].vm_start >= end)
		s->vmstat[UNKNOWN_UNMAP]++; /* mapped before the trace began, or never */
	do_munmap(s, mm, start, end, sim_cpu(s, ev));
}

/* change_protection over one VMA: write-protect present ptes when write is removed. */
static void wrprotect_range(struct sim *s, struct mm_struct *mm, uint64_t start, uint64_t end,
			    struct flush_range *fr)
{
	for (uint64_t a = start; a < end;) {
		uint64_t n;
		pte_t *pte = pte_range(&s->mm.pt, &mm->pgd, a, end, &n);
		for (uint64_t k = 0; pte && k < n; k++) {
			if (!pte_present(pte[k]) || !pte_write(pte[k]))
				continue;
			pte[k] &= ~_PAGE_RW;
			note_flush(fr, a + (k << PAGE_SHIFT));
		}
		a += n << PAGE_SHIFT;
	}
}

void mm_mprotect(struct sim *s, const struct mm_event *ev)
{
	unsigned cpu = sim_cpu(s, ev);
	struct task_struct *t;
	struct mm_struct *mm = event_mm(s, ev, &t);
	if (!mm)
		return;
	uint64_t start = ev->u.range.addr & ~(uint64_t)(PAGE_SIZE - 1);
	uint64_t end = page_align(ev->u.range.addr + ev->u.range.len);
	uint32_t i;
	if (split_range(mm, start, end, &i))
		return;
	uint32_t prot = ev->u.range.prot;
	struct flush_range fr = {0, 0};
	for (; i < mm->nr_vma && mm->vma[i].vm_start < end; i++) {
		struct vm_area_struct *v = &mm->vma[i];
		uint32_t nf = v->vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC);
		nf |= prot & MM_PROT_READ ? VM_READ : 0;
		nf |= prot & MM_PROT_WRITE ? VM_WRITE : 0;
		nf |= prot & MM_PROT_EXEC ? VM_EXEC : 0;
		/* mprotect_fixup charges a private mapping that becomes writable */
		if (!(v->vm_flags & VM_ACCOUNT) && accountable(s, nf)) {
			if (!vm_enough_memory(&s->commit, vma_pages(v), mm->total_vm)) {
				mm_charge_refused(s, COMMIT_REFUSED_MMAP);
				break;
			}
			mm->committed += vma_pages(v);
			nf |= VM_ACCOUNT;
		}
		if ((v->vm_flags & VM_WRITE) && !(nf & VM_WRITE))
			wrprotect_range(s, mm, v->vm_start, v->vm_end, &fr);
		v->vm_flags = nf;
	}
	flush_user_range(s, mm, &fr, cpu, TLB_MPROTECT);
	vma_try_merge(mm, vma_lower_bound(mm, start));
}

/* The ptes src[j, e) of one source table whose destinations lie in one table, from the
 * first present one, j, whose slot is dst (dst_va its address); none stay none. Returns
 * the index of the last pte moved. */
static uint64_t move_pte_run(struct sim *s, pte_t *src, pte_t *dst, uint64_t j, uint64_t e,
			     uint64_t dst_va)
{
	struct page *map = s->pgdat.memmap_base;
	uint32_t vpn = (uint32_t)(dst_va >> PAGE_SHIFT) - (uint32_t)j; /* of src[0]'s move */
	uint64_t last = j;
	for (uint64_t k = j; k < e; k++) {
		pte_t val = src[k];
		if (pte_none(val))
			continue;
		src[k] = 0;
		dst[k - j] = val;
		last = k;
		/* page->index is the rmap's address: only a frame nobody else maps can move */
		if ((val & (_PAGE_PRESENT | _PAGE_SPECIAL)) == _PAGE_PRESENT) {
			struct page *p = pte_page(map, val);
			if ((p->flags & PG_anon) && p->mapcount == 1)
				p->index = vpn + (uint32_t)k;
		}
	}
	return last;
}

/* move_page_tables: ptes move to the new range; the old range is flushed. The source is
 * walked a table at a time, and each table's ptes in runs that land in one destination
 * table; a run's destination slot is looked up (its table allocated) at its first pte that
 * is not none, as a walk per page would at the first pte moved into each table (a second
 * walk to a table that exists changes nothing). */
int move_ptes(struct sim *s, struct mm_struct *mm, uint64_t old, uint64_t new_addr, uint64_t len,
	      unsigned cpu, struct flush_range *fr)
{
	struct pgtable_ctx *c = &s->mm.pt;
	const uint64_t table_span = 1ull << c->geo.shift[c->geo.levels - 2];
	for (uint64_t off = 0; off < len;) {
		uint64_t n;
		pte_t *src = pte_range(c, &mm->pgd, old + off, old + len, &n);
		if (!src) {
			off += n << PAGE_SHIFT;
			continue;
		}
		for (uint64_t k = 0; k < n;) {
			uint64_t to = new_addr + off + (k << PAGE_SHIFT);
			uint64_t room = ((to | (table_span - 1)) + 1 - to) >> PAGE_SHIFT;
			uint64_t e = n - k < room ? n : k + room;
			uint64_t j = k;
			while (j < e && pte_none(src[j]))
				j++;
			k = e;
			if (j == e)
				continue;
			uint64_t dst_va = new_addr + off + (j << PAGE_SHIFT);
			const uint64_t *arena = c->arena;
			pte_t *dst = pte_offset(c, &mm->pgd, dst_va, true, cpu);
			if (!dst)
				return -1;
			if (c->arena != arena) /* the source's table moved with it */
				src = pte_offset(c, &mm->pgd, old + off + (j << PAGE_SHIFT), false, cpu) - j;
			uint64_t last = move_pte_run(s, src, dst, j, e, dst_va);
			/* note_flush of every pte moved, in order: the first sets start, the last end */
			note_flush(fr, old + off + (j << PAGE_SHIFT));
			note_flush(fr, old + off + (last << PAGE_SHIFT));
		}
		off += n << PAGE_SHIFT;
	}
	return 0;
}

/* mremap: shrink in place, grow in place, or move to where the trace says it went. */
void mm_mremap(struct sim *s, const struct mm_event *ev)
{
	unsigned cpu = sim_cpu(s, ev);
	struct task_struct *t;
	struct mm_struct *mm = event_mm(s, ev, &t);
	if (!mm)
		return;
	uint64_t old = ev->u.remap.old_addr & ~(uint64_t)(PAGE_SIZE - 1);
	uint64_t old_len = page_align(ev->u.remap.old_len);
	uint64_t new_addr = ev->u.remap.new_addr & ~(uint64_t)(PAGE_SIZE - 1);
	uint64_t new_len = page_align(ev->u.remap.new_len);
	struct vm_area_struct *v = find_vma(mm, old);
	if (!v || !new_len || v->vm_end < old + old_len) {
		s->vmstat[UNKNOWN_UNMAP]++;
		return;
	}
	if (new_len < old_len)
		do_munmap(s, mm, old + new_len, old + old_len, cpu);
	uint64_t keep = new_len < old_len ? new_len : old_len;
	if (new_addr != old) {
		uint32_t i;
		if (split_range(mm, old, old + keep, &i))
			return;
		struct vm_area_struct moved = mm->vma[i];
		struct flush_range fr = {0, 0};
		do_munmap(s, mm, new_addr, new_addr + keep, cpu);
		if (move_ptes(s, mm, old, new_addr, keep, cpu, &fr))
			return;
		flush_user_range(s, mm, &fr, cpu, TLB_MREMAP);
		i = vma_lower_bound(mm, old);
		vma_remove(mm, i);
		moved.vm_start = new_addr;
		moved.vm_end = new_addr + keep;
		if (vma_insert(mm, &moved))
			return;
		free_pgtables(&s->mm.pt, &mm->pgd, old, old + keep, i > 0 ? mm->vma[i - 1].vm_end : 0,
			      i < mm->nr_vma ? mm->vma[i].vm_start : s->mm.pt.geo.task_size, cpu);
	}
	if (new_len > old_len) {
		struct vm_area_struct grow = *find_vma(mm, new_addr);
		grow.vm_pgoff += (new_addr + keep - grow.vm_start) >> PAGE_SHIFT;
		grow.vm_start = new_addr + keep;
		grow.vm_end = new_addr + new_len;
		grow.vm_flags &= ~VM_ANON_VMA;
		if (map_region(s, mm, &grow, cpu) > 0)
			mm_charge_refused(s, COMMIT_REFUSED_MMAP);
	}
}

/* brk: the heap VMA [start_brk, brk) grows (charged: do_brk_flags) or shrinks (munmap). */
void mm_brk(struct sim *s, const struct mm_event *ev)
{
	unsigned cpu = sim_cpu(s, ev);
	struct task_struct *t;
	struct mm_struct *mm = event_mm(s, ev, &t);
	if (!mm)
		return;
	uint64_t newbrk = ev->u.brk.addr;
	if (!mm->start_brk) { /* first sight of this heap */
		mm->start_brk = ev->u.brk.old ? ev->u.brk.old : newbrk;
		mm->brk = mm->start_brk;
	}
	uint64_t oldend = page_align(mm->brk), newend = page_align(newbrk);
	if (newbrk < mm->start_brk)
		return; /* the kernel refuses to go below the start */
	if (newend < oldend) {
		do_munmap(s, mm, newend, oldend, cpu);
	} else if (newend > oldend) {
		struct vm_area_struct v = {oldend, newend, 0,
					   VM_READ | VM_WRITE | VM_MAYWRITE | VM_ACCOUNT, 0};
		int r = map_region(s, mm, &v, cpu);
		if (r) {
			if (r > 0)
				mm_charge_refused(s, COMMIT_REFUSED_BRK);
			return; /* brk stays where it was */
		}
	}
	mm->brk = newbrk;
}
