#include "vmalloc.h"

#include <stdlib.h>
#include <string.h>

#include "vmstat.h"

struct vmalloc_key {
	uint64_t key;
	uint32_t area1; /* area index + 1; 0 = empty slot */
	uint32_t traced;
};

#define AREA_NONE UINT32_MAX

static unsigned fls_u(unsigned x) { return x ? 32u - (unsigned)__builtin_clz(x) : 0; }

uint64_t lazy_max_pages(unsigned nr_cpus)
{
	/* mm/vmalloc.c:lazy_max_pages: fls(num_online_cpus()) * (32 MiB / PAGE_SIZE) */
	return (uint64_t)fls_u(nr_cpus ? nr_cpus : 1) * ((32u << 20) / PAGE_SIZE);
}

/* sizeof(struct vm_struct) of the modeled kernel (include/linux/vmalloc.h [6.1]): seven
 * pointer/long fields, page_order and nr_pages (unsigned int), phys_addr_t phys_addr. */
static uint32_t vm_struct_size(enum arch a)
{
	return a == ARCH_X86_64 ? 64 : a == ARCH_I386_PAE ? 40 : 36;
}

int vmalloc_init(struct vmalloc *v, struct pglist_data *pgdat, struct slub *slub,
		 const struct machine *m, uint64_t *vmstat)
{
	memset(v, 0, sizeof(*v));
	v->pgdat = pgdat;
	v->slub = slub;
	v->vmstat = vmstat;
	v->arch = m->cfg.arch;
	v->nr_cpus = m->cfg.nr_cpus ? m->cfg.nr_cpus : 1;
	v->tlb = &v->own_tlb;
	if (v->arch == ARCH_X86_64) {
		/* VMALLOC_END is inclusive on x86_64 (start + size - 1): VmallocTotal shows
		 * 34359738367 kB, one short of 32 TiB [live] */
		v->vstart = X86_64_VMALLOC_START;
		v->vend = X86_64_VMALLOC_START + X86_64_VMALLOC_SIZE - 1;
	} else {
		v->vstart = m->layout.vmalloc_start;
		v->vend = m->layout.vmalloc_end;
	}
	v->lazy_max_pages = lazy_max_pages(v->nr_cpus);
	v->lazy_head = AREA_NONE;
	v->unused_areas = AREA_NONE;
	v->key_mask = 1023;
	v->keys = calloc(v->key_mask + 1, sizeof(*v->keys));
	v->ptl_mask = 255;
	v->ptl = calloc(v->ptl_mask + 1, sizeof(*v->ptl));
	if (!v->keys || !v->ptl || vt_init(&v->free, v->vstart, v->vend)) {
		vmalloc_destroy(v);
		return -1;
	}
	return 0;
}

void vmalloc_destroy(struct vmalloc *v)
{
	vt_destroy(&v->free);
	free(v->areas);
	free(v->keys);
	free(v->ptl);
	memset(v, 0, sizeof(*v));
}

/* A mixer: area addresses are page-aligned arithmetic sequences. */
static inline uint32_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 29;
	return (uint32_t)x;
}

static uint32_t key_find(const struct vmalloc *v, uint64_t key, bool traced)
{
	for (uint32_t j = hash64(key) & v->key_mask; v->keys[j].area1; j = (j + 1) & v->key_mask)
		if (v->keys[j].key == key && v->keys[j].traced == traced)
			return j;
	return AREA_NONE;
}

static bool key_grow(struct vmalloc *v)
{
	uint32_t nmask = 2 * v->key_mask + 1;
	struct vmalloc_key *n = calloc((size_t)nmask + 1, sizeof(*n));
	if (!n)
		return false;
	for (uint32_t k = 0; k <= v->key_mask; k++) {
		if (!v->keys[k].area1)
			continue;
		uint32_t j = hash64(v->keys[k].key) & nmask;
		while (n[j].area1)
			j = (j + 1) & nmask;
		n[j] = v->keys[k];
	}
	free(v->keys);
	v->keys = n;
	v->key_mask = nmask;
	return true;
}

static bool key_insert(struct vmalloc *v, uint64_t key, bool traced, uint32_t area)
{
	if (2 * (v->key_count + 1) > v->key_mask + 1 && !key_grow(v))
		return false;
	uint32_t j = hash64(key) & v->key_mask;
	while (v->keys[j].area1)
		j = (j + 1) & v->key_mask;
	v->keys[j] = (struct vmalloc_key){key, area + 1, traced};
	v->key_count++;
	return true;
}

/* Linear probing deletion by backward shift: no tombstones. */
static void key_delete(struct vmalloc *v, uint32_t j)
{
	uint32_t i = j;
	for (;;) {
		v->keys[i].area1 = 0;
		uint32_t k = i;
		for (;;) {
			k = (k + 1) & v->key_mask;
			if (!v->keys[k].area1) {
				v->key_count--;
				return;
			}
			uint32_t home = hash64(v->keys[k].key) & v->key_mask;
			/* k's entry may move to i if its home is not in (i, k] cyclically */
			if (i <= k ? (home <= i || home > k) : (home <= i && home > k))
				break;
		}
		v->keys[i] = v->keys[k];
		i = k;
	}
}

static uint32_t get_area(struct vmalloc *v)
{
	uint32_t i = v->unused_areas;
	if (i != AREA_NONE) {
		v->unused_areas = v->areas[i].next;
	} else {
		if (v->nr_areas == v->cap_areas) {
			uint32_t cap = v->cap_areas ? 2 * v->cap_areas : 64;
			struct vmap_area *a = realloc(v->areas, cap * sizeof(*a));
			if (!a)
				return AREA_NONE;
			v->areas = a;
			v->cap_areas = cap;
		}
		i = v->nr_areas++;
	}
	memset(&v->areas[i], 0, sizeof(v->areas[i]));
	v->areas[i].first_page = PFN_NONE;
	v->areas[i].pages_area = AREA_NONE;
	v->areas[i].next = AREA_NONE;
	return i;
}

static void put_area(struct vmalloc *v, uint32_t i)
{
	v->areas[i].state = VA_UNUSED;
	v->areas[i].next = v->unused_areas;
	v->unused_areas = i;
}

/* The purge's one kernel-range flush (engine/tlb.c counts it by the kernel's rules). */
static void purge_flush(struct vmalloc *v, uint64_t start, uint64_t end)
{
	if (end - start > (uint64_t)TLB_SINGLE_PAGE_FLUSH_CEILING << PAGE_SHIFT)
		v->tlb_full_flushes++;
	else
		v->tlb_range_flushes++;
	flush_tlb_kernel_range(v->tlb, v->vmstat, v->nr_cpus, start, end, TLB_VMALLOC_PURGE);
}

/* mm/vmalloc.c:__purge_vmap_area_lazy: one flush over [min va_start, max va_end) of every
 * lazy area, then the ranges go back to the free tree and the vmap_area objects to their
 * cache. */
bool purge_vmap_area_lazy(struct vmalloc *v)
{
	if (v->lazy_head == AREA_NONE)
		return false;
	uint64_t start = UINT64_MAX, end = 0;
	for (uint32_t i = v->lazy_head; i != AREA_NONE; i = v->areas[i].next) {
		if (v->areas[i].va_start < start)
			start = v->areas[i].va_start;
		if (v->areas[i].va_end > end)
			end = v->areas[i].va_end;
	}
	purge_flush(v, start, end);
	for (uint32_t i = v->lazy_head, next; i != AREA_NONE; i = next) {
		struct vmap_area *va = &v->areas[i];
		next = va->next;
		/* host OOM here would only lose free space; the window stays consistent */
		(void)vt_free(&v->free, va->va_start, va->va_end - va->va_start);
		if (va->has_va_obj)
			slub_free(v->slub, &va->va_obj);
		v->purged_areas++;
		put_area(v, i);
	}
	v->purged_pages += v->vmap_lazy_nr;
	v->vmap_lazy_nr = 0;
	v->lazy_head = AREA_NONE;
	v->purges++;
	count_vm_event(v->vmstat, VMALLOC_PURGE);
	return true;
}

/* mm/vmalloc.c:free_vmap_area_noflush: the range (guard included) waits on the lazy list;
 * past lazy_max_pages the purge work runs (here at once: the model has no workqueues). */
static void free_vmap_area_noflush(struct vmalloc *v, uint32_t i)
{
	struct vmap_area *va = &v->areas[i];
	uint64_t pages = (va->va_end - va->va_start) >> PAGE_SHIFT;
	va->state = VA_LAZY;
	va->next = v->lazy_head;
	v->lazy_head = i;
	v->vmap_lazy_nr += pages;
	count_vm_events(v->vmstat, VMALLOC_LAZY_PAGES, pages);
	if (v->vmap_lazy_nr > v->lazy_max_pages)
		purge_vmap_area_lazy(v);
}

/* mm/vmalloc.c:alloc_vmap_area: at the wanted address if free, else lowest fit; on
 * failure purge the lazy areas once and retry, then fail. */
static bool alloc_vmap_range(struct vmalloc *v, uint64_t size, uint64_t want, uint64_t *addr)
{
	bool purged = false;
	if (want && !(want & (PAGE_SIZE - 1)) && want >= v->vstart && want < v->vend &&
	    size <= v->vend - want && vt_alloc_at(&v->free, want, size)) {
		*addr = want;
		v->placed_at_recorded++;
		return true;
	}
	for (;;) {
		if (vt_alloc_lowest(&v->free, size, addr)) {
			v->placed_by_policy++;
			return true;
		}
		if (purged || !purge_vmap_area_lazy(v))
			return false;
		purged = true;
	}
}

static bool set_insert(struct vmalloc *v, uint64_t key)
{
	uint32_t j = hash64(key) & v->ptl_mask;
	for (; v->ptl[j]; j = (j + 1) & v->ptl_mask)
		if (v->ptl[j] == key)
			return false;
	if (2 * (v->ptl_count + 1) > v->ptl_mask + 1) {
		uint32_t nmask = 2 * v->ptl_mask + 1;
		uint64_t *n = calloc((size_t)nmask + 1, sizeof(*n));
		if (!n)
			return false;
		for (uint32_t k = 0; k <= v->ptl_mask; k++) {
			if (!v->ptl[k])
				continue;
			uint32_t h = hash64(v->ptl[k]) & nmask;
			while (n[h])
				h = (h + 1) & nmask;
			n[h] = v->ptl[k];
		}
		free(v->ptl);
		v->ptl = n;
		v->ptl_mask = nmask;
		j = hash64(key) & nmask;
		while (v->ptl[j])
			j = (j + 1) & nmask;
	}
	v->ptl[j] = key;
	v->ptl_count++;
	return true;
}

/* mm/memory.c:__pte_alloc_kernel (and pmd on x86_64) via vmap_pages_range: a kernel
 * page-table page per PMD span of the window the first time something maps there
 * (GFP_PGTABLE_KERNEL: lowmem). Never freed: vunmap leaves kernel page tables in place.
 * i386 PAE keeps the kernel PMD shared and x86_64 preallocates the PUD level
 * (preallocate_vmalloc_pages), so only PTE pages (and x86_64 PMD pages) appear here. */
static bool map_kernel_range(struct vmalloc *v, uint64_t start, uint64_t end)
{
	unsigned pmd_shift = v->arch == ARCH_I386 ? 22 : 21;
	for (int level = 0; level < (v->arch == ARCH_X86_64 ? 2 : 1); level++) {
		unsigned shift = level ? 30 : pmd_shift;
		for (uint64_t c = start >> shift; c <= (end - 1) >> shift; c++) {
			uint64_t key = ((uint64_t)(level + 1) << 56) | (c & ((1ull << 56) - 1));
			uint32_t j = hash64(key) & v->ptl_mask;
			bool present = false;
			for (; v->ptl[j]; j = (j + 1) & v->ptl_mask)
				present |= v->ptl[j] == key;
			if (present)
				continue;
			pfn_t pfn = alloc_pages(v->pgdat, GFP_KERNEL | __GFP_ZERO, 0, 0);
			if (pfn == PFN_NONE)
				return false;
			if (!set_insert(v, key)) {
				free_pages(v->pgdat, pfn, 0, 0);
				return false;
			}
			pfn_to_page(v->pgdat, pfn)->flags |= PG_pgtable;
			v->pgtable_pages++;
		}
	}
	return true;
}

/* The data pages move to and from the buddy allocator this many at a time. */
#define VMALLOC_PAGE_BATCH 64

/* __vunmap's frees, in chain order: free_unref_folios has the effects of as many
 * free_pages calls. A batch's links are all read before any of its pages is freed, and
 * the freeing reads no flags of the pages it has not freed yet. */
static void free_area_pages(struct vmalloc *v, struct vmap_area *va)
{
	pfn_t batch[VMALLOC_PAGE_BATCH];
	unsigned n = 0;
	for (pfn_t p = va->first_page; p != PFN_NONE;) {
		struct page *pg = pfn_to_page(v->pgdat, p);
		batch[n++] = p;
		p = pg->next;
		pg->flags &= ~PG_vmalloc;
		if (n == VMALLOC_PAGE_BATCH) {
			free_unref_folios(v->pgdat, batch, n, 0);
			n = 0;
		}
	}
	if (n)
		free_unref_folios(v->pgdat, batch, n, 0);
	va->first_page = PFN_NONE;
	v->nr_vmalloc_pages -= va->nr_pages;
}

/* The area's next data pages, chained at its head as they come. */
static void add_area_pages(struct vmalloc *v, struct vmap_area *va, const pfn_t *pfns, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		struct page *pg = pfn_to_page(v->pgdat, pfns[k]);
		pg->flags |= PG_vmalloc;
		pg->next = va->first_page;
		va->first_page = pfns[k];
	}
	va->nr_pages += n;
	v->nr_vmalloc_pages += n;
}

static void release_area(struct vmalloc *v, uint32_t i, bool counted);
static uint32_t vmalloc_node(struct vmalloc *v, uint64_t size, uint64_t want_addr, uint64_t caller);

/* __vmalloc_area_node: the page array (kmalloc up to a page, else vmalloc), then the data
 * pages one at a time with __GFP_HIGHMEM, then the kernel mapping. */
static bool vmalloc_area_node(struct vmalloc *v, uint32_t i, uint32_t nr_pages)
{
	uint64_t array_size = (uint64_t)nr_pages * (v->arch == ARCH_X86_64 ? 8 : 4);
	gfp_t nested = GFP_KERNEL | __GFP_ZERO;
	if (array_size > PAGE_SIZE) {
		uint32_t k = vmalloc_node(v, array_size, 0, v->areas[i].caller);
		if (k == AREA_NONE)
			return false;
		v->areas[i].pages_area = k;
		v->areas[i].flags |= VM_VPAGES;
	} else {
		if (!slub_kmalloc(v->slub, array_size, nested, &v->areas[i].pages_obj))
			return false;
		v->areas[i].has_pages_obj = true;
	}
	/* mm/vmalloc.c:vm_area_alloc_pages takes order-0 pages in bulk (up to 100 a call)
	 * and one by one where the bulk allocator stops. Here alloc_pages_bulk hands out
	 * exactly what as many alloc_pages calls would, and stops before anything it cannot
	 * do alike (a hook, a fallback); alloc_pages then takes the next page, after every
	 * page before it is in the area, as in a page-by-page loop. */
	pfn_t pfns[VMALLOC_PAGE_BATCH];
	for (uint32_t n = 0; n < nr_pages;) {
		uint32_t want = nr_pages - n < VMALLOC_PAGE_BATCH ? nr_pages - n : VMALLOC_PAGE_BATCH;
		unsigned got = alloc_pages_bulk(v->pgdat, GFP_KERNEL | __GFP_HIGHMEM, 0, want, pfns);
		if (!got) {
			pfns[0] = alloc_pages(v->pgdat, GFP_KERNEL | __GFP_HIGHMEM, 0, 0);
			if (pfns[0] == PFN_NONE)
				return false;
			got = 1;
		}
		add_area_pages(v, &v->areas[i], pfns, got);
		n += got;
	}
	return map_kernel_range(v, v->areas[i].va_start, v->areas[i].va_end - PAGE_SIZE);
}

/* mm/vmalloc.c:__vmalloc_node_range. Returns the busy area or AREA_NONE (counted). */
static uint32_t vmalloc_node(struct vmalloc *v, uint64_t size, uint64_t want_addr, uint64_t caller)
{
	uint64_t pages = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;
	uint32_t i = pages && pages < UINT32_MAX / 2 ? get_area(v) : AREA_NONE;
	if (i == AREA_NONE)
		goto fail;
	struct vmap_area *va = &v->areas[i];
	va->caller = caller;
	va->flags = VM_ALLOC;
	/* __get_vm_area_node: the vm_struct, then the vmap_area object and its range, with one
	 * guard page unless VM_NO_GUARD (include/linux/vmalloc.h) */
	if (!slub_kmalloc(v->slub, vm_struct_size(v->arch), GFP_KERNEL | __GFP_ZERO, &va->vm_obj)) {
		put_area(v, i);
		goto fail;
	}
	va->has_va_obj = slub_cache_alloc_builtin(v->slub, SLUB_VMAP_AREA, GFP_KERNEL, &va->va_obj);
	uint64_t addr;
	if (!va->has_va_obj || !alloc_vmap_range(v, (pages + 1) << PAGE_SHIFT, want_addr, &addr)) {
		va = &v->areas[i];
		if (va->has_va_obj)
			slub_free(v->slub, &va->va_obj);
		slub_free(v->slub, &va->vm_obj);
		put_area(v, i);
		v->fail_range++;
		goto fail;
	}
	va = &v->areas[i];
	va->va_start = addr;
	va->va_end = addr + ((pages + 1) << PAGE_SHIFT);
	va->key = addr;
	va->state = VA_BUSY;
	v->nr_busy++;
	if (!vmalloc_area_node(v, i, (uint32_t)pages)) {
		/* "vmalloc error: size %lu, failed to allocate pages": vfree the partial area */
		release_area(v, i, false);
		v->fail_pages++;
		goto fail;
	}
	v->nr_allocs++;
	count_vm_event(v->vmstat, VMALLOC_ALLOC);
	return i;
fail:
	count_vm_event(v->vmstat, VMALLOC_FAIL);
	return AREA_NONE;
}

uint64_t vmalloc_alloc(struct vmalloc *v, uint64_t size, uint64_t want_addr, uint64_t caller)
{
	uint32_t i = vmalloc_node(v, size, want_addr, caller);
	if (i == AREA_NONE)
		return 0;
	if (!key_insert(v, v->areas[i].va_start, false, i)) {
		release_area(v, i, true);
		count_vm_event(v->vmstat, VMALLOC_FAIL);
		return 0;
	}
	return v->areas[i].va_start;
}

/* vfree → __vunmap [6.1]: the range goes lazy, the pages and the arrays are freed now. */
static void release_area(struct vmalloc *v, uint32_t i, bool counted)
{
	struct vmap_area *va = &v->areas[i];
	free_area_pages(v, va);
	if (va->has_pages_obj)
		slub_free(v->slub, &va->pages_obj);
	va->has_pages_obj = false;
	slub_free(v->slub, &va->vm_obj);
	uint32_t pa = va->pages_area;
	va->pages_area = AREA_NONE;
	v->nr_busy--;
	if (counted) {
		v->nr_frees++;
		count_vm_event(v->vmstat, VMALLOC_FREE);
	}
	free_vmap_area_noflush(v, i);
	if (pa != AREA_NONE)
		release_area(v, pa, true);
}

static void unknown_vfree(struct vmalloc *v)
{
	v->unknown_free++;
	count_vm_event(v->vmstat, VMALLOC_UNKNOWN_FREE);
}

bool vmalloc_vfree(struct vmalloc *v, uint64_t addr)
{
	uint32_t j = key_find(v, addr, false);
	if (j == AREA_NONE) {
		unknown_vfree(v);
		return false;
	}
	uint32_t i = v->keys[j].area1 - 1;
	key_delete(v, j);
	release_area(v, i, true);
	return true;
}

void vmalloc_event(struct vmalloc *v, const struct mm_event *ev)
{
	uint64_t rec = ev->u.vmalloc.addr;
	uint32_t j = rec ? key_find(v, rec, true) : AREA_NONE;
	if (j != AREA_NONE) {
		/* the recording lost the vfree of this address */
		uint32_t old = v->keys[j].area1 - 1;
		key_delete(v, j);
		release_area(v, old, true);
		v->missed_free++;
	}
	uint32_t i = vmalloc_node(v, ev->u.vmalloc.size, rec, ev->u.vmalloc.caller);
	if (i == AREA_NONE)
		return;
	uint64_t key = rec ? rec : v->areas[i].va_start;
	if (!key_insert(v, key, rec != 0, i)) {
		release_area(v, i, true);
		count_vm_event(v->vmstat, VMALLOC_FAIL);
		return;
	}
	v->areas[i].key = key;
	v->areas[i].traced = rec != 0;
}

void vfree_event(struct vmalloc *v, const struct mm_event *ev)
{
	uint32_t j = ev->u.vmalloc.addr ? key_find(v, ev->u.vmalloc.addr, true) : AREA_NONE;
	if (j == AREA_NONE) {
		unknown_vfree(v);
		return;
	}
	uint32_t i = v->keys[j].area1 - 1;
	key_delete(v, j);
	release_area(v, i, true);
}

struct range_ref {
	uint64_t start, end;
	uint32_t idx; /* area index, AREA_NONE for a free range */
};

static int range_cmp(const void *a, const void *b)
{
	const struct range_ref *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

/* Areas in state (or every used area when state is VA_UNUSED), sorted by address. */
static uint32_t collect_areas(const struct vmalloc *v, struct range_ref *r, int state)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < v->nr_areas; i++) {
		const struct vmap_area *va = &v->areas[i];
		if (va->state == VA_UNUSED || (state != VA_UNUSED && va->state != state))
			continue;
		r[n++] = (struct range_ref){va->va_start, va->va_end, i};
	}
	qsort(r, n, sizeof(*r), range_cmp);
	return n;
}

/* mm/vmalloc.c:s_show [6.1]: "0x%pK-0x%pK %7ld" (size with the guard page), " %pS" caller
 * (an address here: no symbols), " pages=%d", flag markers, " vpages" when the page array
 * is vmalloc'ed; then show_purge_info's "unpurged vm_area" lines for the lazy areas. */
void vmalloc_render_vmallocinfo(const struct vmalloc *v, struct strbuf *sb)
{
	struct range_ref *r = malloc(((size_t)v->nr_areas + 1) * sizeof(*r));
	int w = v->arch == ARCH_X86_64 ? 16 : 8;
	if (!r) {
		sb->oom = true;
		return;
	}
	uint32_t n = collect_areas(v, r, VA_BUSY);
	for (uint32_t k = 0; k < n; k++) {
		const struct vmap_area *va = &v->areas[r[k].idx];
		strbuf_printf(sb, "0x%0*llx-0x%0*llx %7lld", w, (unsigned long long)va->va_start, w,
			      (unsigned long long)va->va_end,
			      (long long)(va->va_end - va->va_start));
		if (va->caller)
			strbuf_printf(sb, " %#llx", (unsigned long long)va->caller);
		if (va->nr_pages)
			strbuf_printf(sb, " pages=%u", va->nr_pages);
		if (va->flags & VM_ALLOC)
			strbuf_printf(sb, "%s", " vmalloc");
		if (va->flags & VM_VPAGES)
			strbuf_printf(sb, "%s", " vpages");
		strbuf_printf(sb, "%s", "\n");
	}
	n = collect_areas(v, r, VA_LAZY);
	for (uint32_t k = 0; k < n; k++)
		strbuf_printf(sb, "0x%0*llx-0x%0*llx %7lld unpurged vm_area\n", w,
			      (unsigned long long)r[k].start, w, (unsigned long long)r[k].end,
			      (long long)(r[k].end - r[k].start));
	free(r);
}

struct walk_ctx {
	struct range_ref *r;
	uint32_t n, cap;
};

static bool collect_free(void *p, uint64_t start, uint64_t size)
{
	struct walk_ctx *c = p;
	if (c->n == c->cap)
		return false;
	c->r[c->n++] = (struct range_ref){start, start + size, AREA_NONE};
	return true;
}

static const char *check_tiling(const struct vmalloc *v, struct range_ref *r, uint32_t n)
{
	uint64_t at = v->vstart;
	qsort(r, n, sizeof(*r), range_cmp);
	for (uint32_t k = 0; k < n; k++) {
		if (r[k].start != at || r[k].end <= r[k].start)
			return "free ranges and areas do not tile the window";
		if (k && r[k].idx == AREA_NONE && r[k - 1].idx == AREA_NONE)
			return "two adjacent free ranges were not merged";
		at = r[k].end;
	}
	return at == v->vend ? NULL : "the window's end is not covered";
}

const char *vmalloc_check(const struct vmalloc *v)
{
	size_t cap = (size_t)v->nr_areas + v->free.count + 1;
	struct range_ref *r = malloc(cap * sizeof(*r));
	if (!r)
		return "out of host memory";
	uint32_t n = collect_areas(v, r, VA_UNUSED);
	uint64_t lazy = 0, pages = 0, busy = 0;
	for (uint32_t k = 0; k < n; k++) {
		const struct vmap_area *va = &v->areas[r[k].idx];
		if (va->state == VA_LAZY)
			lazy += (va->va_end - va->va_start) >> PAGE_SHIFT;
		else
			busy++, pages += va->nr_pages;
	}
	struct walk_ctx c = {r + n, 0, (uint32_t)(cap - n)};
	vt_walk(&v->free, collect_free, &c);
	const char *why =
	    c.n != v->free.count ? "free tree count disagrees" : check_tiling(v, r, n + c.n);
	free(r);
	if (why)
		return why;
	if (lazy != v->vmap_lazy_nr)
		return "vmap_lazy_nr disagrees with the lazy areas";
	if (pages != v->nr_vmalloc_pages || busy != v->nr_busy)
		return "busy areas disagree with VmallocUsed / nr_busy";
	if (v->vmap_lazy_nr > v->lazy_max_pages)
		return "lazy pages above lazy_max_pages after a free";
	return NULL;
}
