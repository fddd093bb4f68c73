/* Page faults and copy-on-write (mm/memory.c); the pte copy at fork is memory_fork.c, zap
 * at unmap mmu_gather.c, the faults' look-ahead memory_prefetch.c.
 * Refcounts: an anon page holds one reference per pte; a page-cache page holds one for the
 * cache plus one per pte. mapcount counts ptes. The zero page is never counted. */
#include <stddef.h>
#include <string.h>

#include "mm_internal.h"
#include "vmscan.h"

/* Default RLIMIT_STACK and stack_guard_gap (mm/mmap.c: 256 pages). */
#define STACK_RLIMIT (8ull << 20)
#define STACK_GUARD_GAP (256ull << PAGE_SHIFT)
/* A fault in a real trace outside every known VMA creates one of this size (aligned). */
#define IMPLICIT_VMA_SIZE (1ull << 20)

static int rss_member(const struct page *p)
{
	if (page_test(p, PG_anon))
		return MM_ANONPAGES;
	return is_shmem_file(p->mapping) ? MM_SHMEMPAGES : MM_FILEPAGES;
}

/* folio_put: the last reference frees the frame (zap keeps its frees for its gather:
 * mmu_gather.c). */
static inline void folio_put(struct sim *s, struct page *p, pfn_t pfn, unsigned cpu)
{
	if (--p->refcount > 0)
		return;
	if (page_test(p, PG_lru))
		lru_del(s, pfn);
	if (page_test(p, PG_anon))
		s->mm.nr_anon_pages--;
	else if (page_test(p, PG_file))
		s->mm.nr_file_pages--;
	p->flags &= ~PG_USER_STATE;
	p->mapping = 0;
	p->index = 0;
	p->refcount = 0;
	free_pages(&s->pgdat, pfn, 0, cpu);
}

void put_page(struct sim *s, pfn_t pfn, unsigned cpu)
{
	folio_put(s, sim_page(s, pfn), pfn, cpu);
}

static inline void page_remove_rmap(struct sim *s, struct mm_struct *mm, struct page *p)
{
	mm->rss[rss_member(p)]--;
	if (--p->mapcount == 0 && page_test(p, PG_file))
		s->mm.nr_mapped--;
}

static void page_add_file_rmap(struct sim *s, struct mm_struct *mm, struct page *p)
{
	mm->rss[rss_member(p)]++;
	p->refcount++;
	if (p->mapcount++ == 0)
		s->mm.nr_mapped++;
}

static pfn_t alloc_user_page(struct sim *s, unsigned cpu)
{
	return alloc_pages(&s->pgdat, GFP_HIGHUSER_MOVABLE, 0, cpu);
}

static void page_add_new_anon(struct sim *s, struct mm_struct *mm, pfn_t pfn, uint64_t addr)
{
	struct page *p = sim_page(s, pfn);
	p->flags |= PG_anon | PG_anon_exclusive | PG_dirty;
	p->refcount = 1;
	p->mapcount = 1;
	p->mapping = mm->anon;
	p->index = (uint32_t)(addr >> PAGE_SHIFT);
	mm->rss[MM_ANONPAGES]++;
	s->mm.nr_anon_pages++;
	lru_cache_add(s, pfn);
}

#define PTE_USER_RW (_PAGE_PRESENT | _PAGE_USER | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED)
#define PTE_USER_RO (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)

struct fault {
	struct task_struct *t;
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	uint64_t addr;
	uint32_t access;
	unsigned cpu;
};

/* After an allocation the OOM killer may have run: is the faulting task still alive? */
static bool fault_survived(struct sim *s, const struct fault *f, pfn_t pfn)
{
	if (pfn == PFN_NONE) {
		s->vmstat[FAULT_OOM]++; /* VM_FAULT_OOM: pagefault_out_of_memory */
		return false;
	}
	if (f->t->killed) {
		put_page(s, pfn, f->cpu);
		return false;
	}
	return true;
}

/* wp_page_copy: a private copy replaces the shared (or zero, or page-cache) frame. */
static bool wp_page_copy(struct sim *s, struct fault *f, pte_t *pte)
{
	pte_t old = *pte;
	bool zero = old & _PAGE_SPECIAL;
	pfn_t pfn = alloc_user_page(s, f->cpu);
	if (pfn != PFN_NONE)
		sim_page(s, pfn)->refcount = 1;
	if (!fault_survived(s, f, pfn))
		return false;
	if (*pte != old) { /* reclaim changed the pte meanwhile: pte_same fails, retry later */
		put_page(s, pfn, f->cpu);
		return true;
	}
	if (!zero)
		kmap_local_use(s, pte_pfn(old)); /* copy_user_highpage maps source and target */
	kmap_local_use(s, pfn);
	page_add_new_anon(s, f->mm, pfn, f->addr);
	f->vma->vm_flags |= VM_ANON_VMA;
	*pte = pfn_pte(pfn, PTE_USER_RW);
	/* ptep_clear_flush: the old translation may be cached on any CPU running the mm */
	flush_tlb_mm_range(&s->mm.tlb, s->vmstat, f->mm->cpumask, f->cpu, f->addr,
			   f->addr + PAGE_SIZE, TLB_COW);
	if (!zero) {
		page_remove_rmap(s, f->mm, sim_page(s, pte_pfn(old)));
		put_page(s, pte_pfn(old), f->cpu);
	}
	s->vmstat[COW_FAULT]++;
	return true;
}

/* do_wp_page: shared mappings become writable in place; an anonymous page nobody else
 * references is reused (wp_can_reuse_anon_folio); anything else is copied. */
static bool do_wp_page(struct sim *s, struct fault *f, pte_t *pte)
{
	if (f->vma->vm_flags & VM_SHARED) {
		*pte |= _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
		sim_page(s, pte_pfn(*pte))->flags |= PG_dirty;
		return true;
	}
	if (!(*pte & _PAGE_SPECIAL)) {
		struct page *p = sim_page(s, pte_pfn(*pte));
		if (page_test(p, PG_anon) &&
		    (page_test(p, PG_anon_exclusive) || p->refcount == 1)) {
			p->flags |= PG_anon_exclusive;
			*pte |= _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
			s->vmstat[COW_REUSE]++;
			return true;
		}
	}
	return wp_page_copy(s, f, pte);
}

static bool do_anonymous_page(struct sim *s, struct fault *f, pte_t *pte)
{
	if (!(f->access & FAULT_WRITE)) {
		*pte = pfn_pte(s->mm.zero_pfn, PTE_USER_RO | _PAGE_SPECIAL);
		s->vmstat[ZERO_PAGE_MAP]++;
		return true;
	}
	pfn_t pfn = alloc_user_page(s, f->cpu);
	if (pfn != PFN_NONE)
		sim_page(s, pfn)->refcount = 1;
	if (!fault_survived(s, f, pfn))
		return false;
	kmap_local_use(s, pfn); /* clear_user_highpage */
	page_add_new_anon(s, f->mm, pfn, f->addr);
	f->vma->vm_flags |= VM_ANON_VMA;
	*pte = pfn_pte(pfn, PTE_USER_RW);
	return true;
}

/* Touch runs fault consecutive offsets of a file, whose home groups of four slots (one
 * line each, u64map.h) are scattered. Entering a group, start loading the group
 * FILEMAP_AHEAD groups on, and the struct pages of the group FILEMAP_PAGES_AHEAD on, whose
 * line was loaded that many groups ago (mixfull: the miss on the home slot and on the
 * page were 80 % of do_fault's samples). Hints only. */
#define FILEMAP_AHEAD 4
#define FILEMAP_PAGES_AHEAD 2
/* At pgoff, the first of its group: the look-ahead; next[] gets what page_cache_peek_group
 * found of the group FILEMAP_PAGES_AHEAD on, how many returned. */
static inline unsigned filemap_prefetch_group(struct sim *s, uint32_t file, uint64_t pgoff,
					      pfn_t next[4])
{
	page_cache_prefetch_group(&s->mm.cache, file, pgoff + (FILEMAP_AHEAD << U64MAP_GROUP_SHIFT));
	unsigned n = page_cache_peek_group(&s->mm.cache, file,
					   pgoff + (FILEMAP_PAGES_AHEAD << U64MAP_GROUP_SHIFT), next);
	for (unsigned j = 0; j < n; j++)
		__builtin_prefetch(sim_page(s, next[j]));
	return n;
}

/* filemap_fault: find or read the page. A miss on a regular file is a major fault (I/O);
 * shmem pages start zeroed. */
static pfn_t filemap_fault(struct sim *s, struct fault *f)
{
	const struct vm_area_struct *v = f->vma;
	uint64_t pgoff = v->vm_pgoff + ((f->addr - v->vm_start) >> PAGE_SHIFT);
	pfn_t next[4];
	if (!(pgoff & U64MAP_GROUP_MASK))
		(void)filemap_prefetch_group(s, v->file, pgoff, next);
	pfn_t pfn = page_cache_lookup(&s->mm.cache, v->file, pgoff);
	if (pfn != PFN_NONE)
		return pfn;
	pfn = alloc_pages(&s->pgdat, GFP_HIGHUSER_MOVABLE, 0, f->cpu);
	if (pfn != PFN_NONE)
		sim_page(s, pfn)->refcount = 1; /* the page cache's own reference */
	if (!fault_survived(s, f, pfn))
		return PFN_NONE;
	struct page *p = sim_page(s, pfn);
	p->flags |= PG_file;
	p->mapping = v->file;
	p->index = (uint32_t)pgoff;
	p->mapcount = 0;
	if (page_cache_insert(&s->mm.cache, v->file, pgoff, pfn)) {
		put_page(s, pfn, f->cpu);
		return PFN_NONE;
	}
	s->mm.nr_file_pages++;
	lru_cache_add(s, pfn);
	if (is_shmem_file(v->file)) {
		kmap_local_use(s, pfn);
	} else {
		s->vmstat[PGMAJFAULT]++;
		/* the read copies through a pkmap mapping (see docs/MM.md on kmap) */
		if (kmap_high(s, pfn) == 0)
			kunmap_high(s, pfn);
	}
	return pfn;
}

static bool do_fault(struct sim *s, struct fault *f, pte_t *pte)
{
	pfn_t pfn = filemap_fault(s, f);
	if (pfn == PFN_NONE)
		return false;
	bool shared = f->vma->vm_flags & VM_SHARED;
	if ((f->access & FAULT_WRITE) && !shared) { /* do_cow_fault */
		*pte = pfn_pte(pfn, PTE_USER_RO);
		page_add_file_rmap(s, f->mm, sim_page(s, pfn));
		return wp_page_copy(s, f, pte);
	}
	page_add_file_rmap(s, f->mm, sim_page(s, pfn));
	/* shared file mappings are write-notified: writable only on a write fault; shmem
	 * maps writable at once */
	bool rw = (f->vma->vm_flags & VM_WRITE) && shared &&
		  ((f->access & FAULT_WRITE) || is_shmem_file(f->vma->file));
	*pte = pfn_pte(pfn, rw ? PTE_USER_RW : PTE_USER_RO);
	return true;
}

/* expand_stack: a fault just below a grows-down VMA extends it, within RLIMIT_STACK and
 * keeping stack_guard_gap above the previous VMA; the growth is charged. */
static struct vm_area_struct *expand_stack(struct sim *s, struct mm_struct *mm, uint64_t addr)
{
	uint32_t i = vma_lower_bound(mm, addr);
	if (i >= mm->nr_vma || !(mm->vma[i].vm_flags & VM_GROWSDOWN))
		return NULL;
	struct vm_area_struct *v = &mm->vma[i];
	uint64_t start = addr & ~(uint64_t)(PAGE_SIZE - 1);
	if (v->vm_end - start > STACK_RLIMIT)
		return NULL;
	if (i > 0 && mm->vma[i - 1].vm_end + STACK_GUARD_GAP > start)
		return NULL;
	uint64_t grow = (v->vm_start - start) >> PAGE_SHIFT;
	if (v->vm_flags & VM_ACCOUNT) {
		if (!vm_enough_memory(&s->commit, grow, mm->total_vm)) {
			mm_charge_refused(s, COMMIT_REFUSED_MMAP);
			return NULL;
		}
		mm->committed += grow;
	}
	mm->total_vm += grow;
	v->vm_start = start;
	return v;
}

/* A real trace starts mid-life: its first touch of a region mapped before the recording
 * (or by exec's ELF loader, which issues no mmap) defines an implicit anonymous VMA. */
static struct vm_area_struct *implicit_vma(struct sim *s, struct mm_struct *mm, uint64_t addr)
{
	uint64_t start = addr & ~(IMPLICIT_VMA_SIZE - 1), end = start + IMPLICIT_VMA_SIZE;
	uint32_t i = vma_lower_bound(mm, addr);
	if (i > 0 && mm->vma[i - 1].vm_end > start)
		start = mm->vma[i - 1].vm_end;
	if (i < mm->nr_vma && mm->vma[i].vm_start < end)
		end = mm->vma[i].vm_start;
	if (start < PAGE_SIZE)
		start = PAGE_SIZE;
	struct vm_area_struct v = {start, end, 0,
				   VM_READ | VM_WRITE | VM_EXEC | VM_MAYWRITE | VM_IMPLICIT, 0};
	if (start >= end || vma_insert(mm, &v))
		return NULL;
	mm->total_vm += vma_pages(&v);
	s->vmstat[IMPLICIT_VMA]++;
	return find_vma(mm, addr);
}

void swap_cache_release_if_unused(struct sim *s, uint64_t slot, unsigned cpu)
{
	if (s->swap.swap_map[slot] != 1)
		return;
	pfn_t pfn = swap_cache_lookup(&s->swap, slot);
	if (pfn == PFN_NONE)
		return;
	swap_cache_del(&s->swap, slot);
	swap_free(&s->swap, slot);
	struct page *p = sim_page(s, pfn);
	p->flags &= ~PG_swapcache;
	if (p->mapcount == 1)
		p->flags |= PG_anon_exclusive;
	put_page(s, pfn, cpu);
}

/* do_swap_page: find the frame in the swap cache or read it (a major fault, pswpin); a
 * slot other ptes still hold keeps the frame in the swap cache so they find it too. */
bool do_swap_page(struct sim *s, struct task_struct *t, struct mm_struct *mm,
		  struct vm_area_struct *vma, uint64_t addr, pte_t *pte, unsigned cpu)
{
	uint64_t slot = pte_swp_offset(*pte);
	pfn_t pfn = swap_cache_lookup(&s->swap, slot);
	if (pfn == PFN_NONE) {
		pfn = alloc_user_page(s, cpu);
		if (pfn == PFN_NONE) {
			s->vmstat[FAULT_OOM]++;
			return false;
		}
		if (t->killed) {
			free_pages(&s->pgdat, pfn, 0, cpu);
			return false;
		}
		s->vmstat[PGMAJFAULT]++;
		s->vmstat[PSWPIN]++;
		struct page *p = sim_page(s, pfn);
		p->refcount = 0; /* the mapping below takes the first reference */
		p->flags |= PG_anon;
		p->mapping = mm->anon;
		p->index = (uint32_t)(addr >> PAGE_SHIFT);
		p->mapcount = 0;
		s->mm.nr_anon_pages++;
		lru_cache_add(s, pfn);
		if (s->swap.swap_map[slot] > 1 && !swap_cache_add(&s->swap, slot, pfn)) {
			p->flags |= PG_swapcache;
			p->private = (uint32_t)slot;
			p->refcount++;
			swap_duplicate(&s->swap, slot); /* the cache's reference */
		}
	}
	struct page *p = sim_page(s, pfn);
	p->refcount++;
	p->mapcount++;
	mm->rss[MM_ANONPAGES]++;
	mm->rss[MM_SWAPENTS]--;
	vma->vm_flags |= VM_ANON_VMA;
	swap_free(&s->swap, slot);
	swap_cache_release_if_unused(s, slot, cpu);
	bool exclusive = p->refcount == 1;
	if (exclusive)
		p->flags |= PG_anon_exclusive;
	*pte = pfn_pte(pfn, exclusive && (vma->vm_flags & VM_WRITE) ? PTE_USER_RW : PTE_USER_RO);
	return true;
}

static bool access_permitted(const struct sim *s, uint32_t vm_flags, uint32_t access)
{
	if (access & FAULT_WRITE)
		return vm_flags & VM_WRITE;
	/* non-PAE i386 has no NX bit: any readable page is executable */
	if ((access & FAULT_EXEC) && s->machine.cfg.arch != ARCH_I386)
		return vm_flags & VM_EXEC;
	return vm_flags & (VM_READ | VM_WRITE | VM_EXEC);
}

static bool segv(struct sim *s, struct task_struct *t)
{
	s->vmstat[FAULT_SIGSEGV]++;
	task_kill(s, t);
	return false;
}

/* find_vma for faults, which come in runs through one VMA: the VMA of the previous fault
 * is tried first. VMAs do not overlap, so a hit is the VMA find_vma would return. */
static struct vm_area_struct *find_vma_hinted(struct mm_struct *mm, uint64_t addr)
{
	uint32_t i = mm->vma_hint;
	if (i < mm->nr_vma && mm->vma[i].vm_start <= addr && addr < mm->vma[i].vm_end)
		return &mm->vma[i];
	struct vm_area_struct *v = find_vma(mm, addr);
	if (v)
		mm->vma_hint = (uint32_t)(v - mm->vma);
	return v;
}

/* The VMA a fault at addr is handled in (find_vma, expand_stack, an implicit region),
 * NULL when the access gets SIGSEGV. */
static __attribute__((noinline)) struct vm_area_struct *
fault_vma_slow(struct sim *s, struct mm_struct *mm, uint64_t addr, uint32_t access)
{
	if (addr >= s->mm.pt.geo.task_size)
		return NULL;
	struct vm_area_struct *v = find_vma_hinted(mm, addr);
	if (!v)
		v = expand_stack(s, mm, addr);
	if (!v && s->mm.implicit_regions)
		v = implicit_vma(s, mm, addr);
	if (!v || !access_permitted(s, v->vm_flags, access))
		return NULL;
	return v;
}

/* fault_vma_slow, with the common case inline: the hinted VMA covers addr and allows the
 * access (then find_vma would return it, and nothing else applies). */
static inline __attribute__((always_inline)) struct vm_area_struct *
fault_vma(struct sim *s, struct mm_struct *mm, uint64_t addr, uint32_t access)
{
	uint32_t i = mm->vma_hint;
	if (i < mm->nr_vma && addr < s->mm.pt.geo.task_size) {
		struct vm_area_struct *v = &mm->vma[i];
		if (v->vm_start <= addr && addr < v->vm_end &&
		    access_permitted(s, v->vm_flags, access))
			return v;
	}
	return fault_vma_slow(s, mm, addr, access);
}

/* handle_pte_fault: f->vma covers f->addr and allows the access; pte is its slot. */
static inline __attribute__((always_inline)) bool handle_pte_fault(struct sim *s, struct fault *f,
							    pte_t *pte)
{
	if (f->t->killed)
		return false; /* the page-table allocation ran the OOM killer on us */
	if (pte_none(*pte))
		return f->vma->file ? do_fault(s, f, pte) : do_anonymous_page(s, f, pte);
	if (!pte_present(*pte))
		return do_swap_page(s, f->t, f->mm, f->vma, f->addr, pte, f->cpu);
	if ((f->access & FAULT_WRITE) && !pte_write(*pte))
		return do_wp_page(s, f, pte);
	*pte |= _PAGE_ACCESSED; /* spurious: the pte already allows it */
	return true;
}

/* handle_mm_fault, inlined into the fault event's handler (one call less per fault). */
static inline __attribute__((always_inline)) bool
fault_one(struct sim *s, struct task_struct *t, struct mm_struct *mm, uint64_t addr,
	  uint32_t access, unsigned cpu)
{
	s->vmstat[PGFAULT]++;
	struct vm_area_struct *vma = fault_vma(s, mm, addr, access);
	if (!vma)
		return segv(s, t);
	uint64_t page = addr & ~(uint64_t)(PAGE_SIZE - 1);
	pte_t *pte = pte_offset(&s->mm.pt, &mm->pgd, page, true, cpu);
	if (!pte) {
		s->vmstat[FAULT_OOM]++;
		return false;
	}
	/* handle_pte_fault's last case, the most common one (a spurious fault: the pte
	 * already allows the access), before the fault's state is gathered for the others */
	pte_t v = *pte;
	if (!t->killed && pte_present(v) && (!(access & FAULT_WRITE) || pte_write(v))) {
		*pte = v | _PAGE_ACCESSED;
		return true;
	}
	struct fault f = {t, mm, vma, page, access, cpu};
	return handle_pte_fault(s, &f, pte);
}

bool handle_mm_fault(struct sim *s, struct task_struct *t, struct mm_struct *mm, uint64_t addr,
		     uint32_t access, unsigned cpu)
{
	return fault_one(s, t, mm, addr, access, cpu);
}

void mm_fault(struct sim *s, const struct mm_event *ev)
{
	struct task_struct *t;
	struct mm_struct *mm = event_mm(s, ev, &t);
	if (!mm)
		return;
	unsigned cpu = sim_cpu(s, ev);
	/* a kernel-mode fault on a kernel address (vmalloc sync) has no user-space effect */
	if ((ev->u.fault.access & FAULT_KERNEL) && ev->u.fault.addr >= s->mm.pt.geo.task_size)
		return;
	fault_one(s, t, mm, ev->u.fault.addr, ev->u.fault.access & ~FAULT_KERNEL, cpu);
}

/* four 32-bit fields of a struct page written with one store (touch_map_frames) */
typedef uint32_t u32x4 __attribute__((vector_size(16)));
_Static_assert(offsetof(struct page, private) == offsetof(struct page, prev) + 4 &&
		   offsetof(struct page, index) == offsetof(struct page, refcount) + 12,
	       "touch_map_frames stores (prev, private) and (refcount .. index) at once");

/* Up to this many frames per alloc_pages_bulk call: a quarter of an i386 pte table. 256
 * rather than 64: the refills of HighMem's batch of 7 are made as one up to the call's
 * size (mixfull 3.587 -> 3.534 G instructions; wall time pinned the same within noise,
 * cachegrind's D1 and LL misses the same within 0.4 %). */
#define TOUCH_BULK 256

/* One frame of touch_map_frames: flags (the run's zone and the mapping's bits), LRU
 * links, private 0, then (refcount, mapcount, mapping, index) in one store. */
static inline void map_frame(struct page *p, uint32_t flags, pfn_t next, uint64_t prev,
			     u32x4 tail)
{
	p->flags = flags;
	p->next = next;
	memcpy(&p->prev, &prev, sizeof(prev)); /* prev and private (0) in one store */
	memcpy(&p->refcount, &tail, sizeof(tail));
}

/* prep_new_page, page_add_new_anon and the pte of do_anonymous_page for the frames
 * pfns[0, nr) of alloc_pages_bulk_raw (pfns[-1] and pfns[nr] writable), mapped at
 * pte[0, nr) from page index idx, but for the counters, which the caller sums for the run:
 * rss and nr_anon_pages (one each per frame), and kmap_local_use's for the HighMem frames
 * (alloc_pages_bulk_raw counts them). Each struct page is written whole, once: the zone (the
 * call's frames share the first's), prep_new_page's private 0 and the mapping's fields. A new
 * frame's flags hold its zone only, so each goes to the head of the inactive anon list:
 * linked to its neighbours in pfns as it is mapped (next: the frame before, prev: the one
 * after, PFN_NONE at both ends), the run to the list at the end. noinline: inlined into
 * the event switch, its loop spilled half its registers. Two frames a step with both links
 * read from pfns, and no SLP vectorizing (GCC 12 built a frame's flags and next in a
 * vector register for one store): ~17.5 instructions a frame instead of ~20. */
#ifdef __clang__
#define NO_SLP_VECTORIZE /* clang has no such switch per function (nor builds it that way) */
#else
#define NO_SLP_VECTORIZE optimize("no-tree-slp-vectorize")
#endif
static __attribute__((noinline, NO_SLP_VECTORIZE)) void
touch_map_frames(struct page *map, struct lruvec *lru, pfn_t *pfns, unsigned nr, pte_t *pte,
		 uint32_t anon, uint32_t idx)
{
	/* (refcount, mapcount, mapping, index) of the frames at i and i + 1 */
	u32x4 tail0 = {1, 1, anon, idx}, tail1 = {1, 1, anon, idx + 1};
	const u32x4 next_pair = {0, 0, 0, 2};
	if (!nr)
		return;
	const uint32_t flags = (map[pfns[0]].flags & PAGE_ZONE_MASK) | PG_anon | PG_anon_exclusive |
			       PG_dirty | PG_lru;
	pfns[-1] = pfns[nr] = PFN_NONE;
	uint64_t i = 0;
	for (; i + 1 < nr; i += 2) {
		pfn_t a = pfns[i], b = pfns[i + 1];
		map_frame(&map[a], flags, pfns[i - 1], b, tail0);
		map_frame(&map[b], flags, a, pfns[i + 2], tail1);
		tail0 += next_pair;
		tail1 += next_pair;
		pte[i] = pfn_pte(a, PTE_USER_RW);
		pte[i + 1] = pfn_pte(b, PTE_USER_RW);
	}
	if (i < nr) { /* the last frame of an odd run */
		map_frame(&map[pfns[i]], flags, pfns[i - 1], PFN_NONE, tail0);
		pte[i] = pfn_pte(pfns[i], PTE_USER_RW);
	}
	lru_list_add_chain(lru, map, page_lru_of(PG_anon, anon), pfns[0], pfns[nr - 1], nr);
}

/* How many of pte[0, max) are empty before the first that is not: eight, then four at a
 * time, then one at a time from the four a non-empty pte is among (the walk is ~5 % of a
 * touch run). */
static inline uint64_t count_none(const pte_t *pte, uint64_t max)
{
	const pte_t *q = pte, *end = pte + max;
	while (q + 7 < end &&
	       pte_none(q[0] | q[1] | q[2] | q[3] | q[4] | q[5] | q[6] | q[7]))
		q += 8;
	while (q + 3 < end && pte_none(q[0] | q[1] | q[2] | q[3]))
		q += 4;
	while (q < end && pte_none(*q))
		q++;
	return (uint64_t)(q - pte);
}

/* The write faults of touch on the empty ptes from pte[0] (at most n) of an anonymous VMA
 * (PGFAULT of the first already counted), with the frames from alloc_pages_bulk_raw: per page
 * what handle_pte_fault -> do_anonymous_page does, in the same order. The allocator and
 * this share no state but the frames' own struct pages, each of which leaves the pcp list
 * before it goes on the LRU; the bulk path calls no hook, so the task cannot be OOM-killed
 * within the run, and no page table is allocated. Returns the pages faulted in (0: none,
 * the first page needs alloc_pages). */
static uint64_t touch_anon_run(struct sim *s, struct fault *f, pte_t *pte, uint64_t n)
{
	pfn_t slots[TOUCH_BULK + 2], *pfns = slots + 1; /* touch_map_frames's sentinels */
	uint32_t anon = f->mm->anon;
	uint64_t left = (f->vma->vm_end - f->addr) >> PAGE_SHIFT;
	if (n > left)
		n = left;
	/* the empty ptes are counted TOUCH_BULK at a time: alloc_pages_bulk refills an empty
	 * pcp list itself, so it falls short only where alloc_pages must take over */
	uint64_t done = 0;
	while (done < n) {
		uint64_t max = n - done < TOUCH_BULK ? n - done : TOUCH_BULK;
		uint64_t r = count_none(&pte[done], max);
		if (!r)
			break;
		unsigned highmem;
		unsigned got = alloc_pages_bulk_raw(&s->pgdat, GFP_HIGHUSER_MOVABLE, f->cpu,
						    (unsigned)r, pfns, &highmem);
		touch_map_frames(s->pgdat.memmap_base, &s->lru, pfns, got, &pte[done], anon,
				 (uint32_t)((f->addr >> PAGE_SHIFT) + done));
		if (highmem) { /* kmap_local_use of each: clear_user_highpage */
			s->vmstat[KMAP_ATOMIC] += highmem;
			flush_tlb_one_kernel_n(&s->mm.tlb, s->vmstat, TLB_KMAP_ATOMIC, highmem);
		}
		done += got;
		if (got < r)
			break;
	}
	if (done) {
		s->vmstat[PGFAULT] += done - 1;
		f->mm->rss[MM_ANONPAGES] += done;
		s->mm.nr_anon_pages += done;
		f->vma->vm_flags |= VM_ANON_VMA;
	}
	return done;
}

/* The ptes from pte[0] (at most n) that let the access through (allow: the bits it
 * needs), each marked young as the MMU does, up to the first that faults: how many.
 * Two at a time while both allow it (most of a touch over mapped pages). */
static inline uint64_t touch_allowed(pte_t *pte, uint64_t n, pte_t allow)
{
	uint64_t k = 0;
	for (; k + 1 < n; k += 2) {
		pte_t v0 = pte[k], v1 = pte[k + 1];
		if (~(v0 & v1) & allow)
			break;
		pte[k] = v0 | _PAGE_ACCESSED;
		pte[k + 1] = v1 | _PAGE_ACCESSED;
	}
	for (; k < n; k++) {
		pte_t v = pte[k];
		if (~v & allow) /* not present, or a write to a read-only pte */
			break;
		pte[k] = v | _PAGE_ACCESSED;
	}
	return k;
}

/* The faults of touch on the empty ptes from pte[0] (at most n) of a file VMA whose pages
 * are in the page cache and are mapped as they are (no COW: a read, or a shared
 * mapping), PGFAULT of the first already counted: per page what handle_pte_fault ->
 * do_fault does on a page cache hit, in the same order, until a pte is not empty or a
 * page is not cached (left to do_fault, which reads it). A hit allocates nothing and
 * calls no hook, so the task cannot be OOM-killed within the run, and the pte table
 * stays. Returns the pages faulted in. Page-cache pages are PG_file with mapping = their
 * file (filemap_fault), so rss_member is one for the run: the rss is added once. A group
 * of four offsets found whole by page_cache_peek_group (in offset order) is four lookups
 * for one hash and no probing (~45 instructions a lookup); otherwise each is looked up. */
static uint64_t touch_file_run(struct sim *s, struct fault *f, pte_t *pte, uint64_t n)
{
	const struct vm_area_struct *v = f->vma;
	struct mm_struct *mm = f->mm;
	struct page *map = s->pgdat.memmap_base;
	const struct page_cache *cache = &s->mm.cache;
	uint64_t left = (v->vm_end - f->addr) >> PAGE_SHIFT;
	uint64_t pgoff = v->vm_pgoff + ((f->addr - v->vm_start) >> PAGE_SHIFT);
	uint32_t file = v->file;
	/* do_fault's choice for a shared mapping; read faults of a private one map RO */
	bool shared = v->vm_flags & VM_SHARED;
	bool rw = (v->vm_flags & VM_WRITE) && shared &&
		  ((f->access & FAULT_WRITE) || is_shmem_file(file));
	pte_t prot = rw ? PTE_USER_RW : PTE_USER_RO;
	uint64_t done = 0, mapped = 0;
	/* what page_cache_peek_group found of group g (offsets g * 4 ..), by g % 4: the
	 * look-ahead's peek of a group serves as its lookups two groups later */
	struct { uint64_t g; unsigned n; pfn_t pfn[U64MAP_GROUP_MASK + 1]; } peeked[4];
	_Static_assert(FILEMAP_PAGES_AHEAD < 4, "the group peeked ahead has its own entry");
	for (unsigned j = 0; j < 4; j++)
		peeked[j].g = UINT64_MAX;
	const pfn_t *group = NULL; /* the pages of pgoff's group in offset order, if found so */
	if (n > left)
		n = left;
	for (; done < n && pte_none(pte[done]); done++, pgoff++) {
		if (!(pgoff & U64MAP_GROUP_MASK) || !done) {
			uint64_t g = pgoff >> U64MAP_GROUP_SHIFT;
			if (!(pgoff & U64MAP_GROUP_MASK)) {
				uint64_t ga = g + FILEMAP_PAGES_AHEAD;
				peeked[ga & 3].g = ga;
				peeked[ga & 3].n =
				    filemap_prefetch_group(s, file, pgoff, peeked[ga & 3].pfn);
			}
			if (peeked[g & 3].g != g) {
				peeked[g & 3].g = g;
				peeked[g & 3].n =
				    page_cache_peek_group(cache, file, pgoff, peeked[g & 3].pfn);
			}
			group = peeked[g & 3].n == U64MAP_GROUP_MASK + 1 ? peeked[g & 3].pfn : NULL;
		}
		pfn_t pfn = group ? group[pgoff & U64MAP_GROUP_MASK]
				  : page_cache_lookup(cache, file, pgoff);
		if (pfn == PFN_NONE)
			break;
		struct page *p = &map[pfn];
		p->refcount++; /* page_add_file_rmap */
		mapped += p->mapcount++ == 0;
		pte[done] = pfn_pte(pfn, prot);
	}
	if (done) {
		mm->rss[is_shmem_file(file) ? MM_SHMEMPAGES : MM_FILEPAGES] += done;
		s->vmstat[PGFAULT] += done - 1;
		s->mm.nr_mapped += mapped;
	}
	return done;
}

/* A run of empty ptes from pte[0] (of n) faulted in at once: anonymous write faults
 * (touch_anon_run) or file faults that map the page cache's pages as they are (reads, or
 * shared mappings: touch_file_run). 0: fault the first one alone. */
static inline uint64_t touch_empty_run(struct sim *s, struct fault *f, pte_t *pte, uint64_t n)
{
	if (!f->vma->file)
		return f->access & FAULT_WRITE ? touch_anon_run(s, f, pte, n) : 0;
	if (!(f->access & FAULT_WRITE) || (f->vma->vm_flags & VM_SHARED))
		return touch_file_run(s, f, pte, n);
	return 0;
}

/* TOUCH: the program accesses every page of the range in order; the MMU faults only where
 * the pte does not already allow the access. */
void mm_touch(struct sim *s, const struct mm_event *ev)
{
	struct task_struct *t;
	struct mm_struct *mm = event_mm(s, ev, &t);
	if (!mm)
		return;
	unsigned cpu = sim_cpu(s, ev);
	uint32_t access = ev->u.touch.access & ~FAULT_KERNEL;
	uint64_t a = ev->u.touch.addr & ~(uint64_t)(PAGE_SIZE - 1);
	uint64_t end = (ev->u.touch.addr + ev->u.touch.len + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
	if (end < a || end > s->mm.pt.geo.task_size)
		end = s->mm.pt.geo.task_size;
	/* [pte, pte + n): the rest of the current pte table (n = 0: walk again). A fault that
	 * found its table allocates none and frees none (the same pointer is already relied on
	 * across the allocation in do_wp_page), so the walk carries on after it unless the
	 * arena moved. f.vma: the VMA of the last fault; a fault changes no VMA but the one
	 * fault_vma creates or grows, so it stays valid while a stays inside it. */
	struct fault f = {t, mm, NULL, 0, access, cpu};
	/* the pte bits that let the access through without a fault */
	const pte_t allow = _PAGE_PRESENT | (access & FAULT_WRITE ? _PAGE_RW : 0);
	uint64_t n = 0;
	pte_t *pte = NULL;
	const uint64_t *arena = NULL;
	while (a < end) {
		if (!n) {
			pte = pte_range(&s->mm.pt, &mm->pgd, a, end, &n);
			arena = s->mm.pt.arena;
		}
		uint64_t k = pte ? touch_allowed(pte, n, allow) : 0;
		a += k << PAGE_SHIFT;
		if (pte && k == n) {
			n = 0;
			continue;
		}
		s->vmstat[PGFAULT]++;
		f.addr = a;
		if (!f.vma || a < f.vma->vm_start || a >= f.vma->vm_end) {
			f.vma = fault_vma(s, mm, a, access);
			if (!f.vma) {
				segv(s, t);
				return;
			}
		}
		uint64_t done = pte && pte_none(pte[k]) && !t->killed
				    ? touch_empty_run(s, &f, &pte[k], n - k)
				    : 0;
		if (done) {
			a += done << PAGE_SHIFT;
			pte += k + done;
			n -= k + done;
			continue;
		}
		if (pte)
			prefetch_pte_page(s, pte, k, n); /* a COW run reads every old frame */
		pte_t *slot = pte ? &pte[k] : pte_offset(&s->mm.pt, &mm->pgd, a, true, cpu);
		if (!slot) {
			s->vmstat[FAULT_OOM]++;
			return;
		}
		if (!handle_pte_fault(s, &f, slot))
			return;
		a += PAGE_SIZE;
		if (pte && s->mm.pt.arena == arena) {
			pte += k + 1;
			n -= k + 1;
		} else {
			n = 0;
		}
	}
}
