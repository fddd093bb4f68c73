/* vmalloc (mm/vmalloc.c): vmap areas with a guard page placed lowest-address first fit in
 * the vmalloc window, data pages one by one from the buddy allocator (highmem first), the
 * page-pointer array from kmalloc (or vmalloc), kernel page tables for the window, and the
 * lazy free with one TLB flush per purge. See docs/VMALLOC.md. */
#ifndef MM_VMALLOC_H
#define MM_VMALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "machine.h"
#include "page_alloc.h"
#include "tlb.h"
#include "slub.h"
#include "strbuf.h"
#include "vmap_tree.h"

/* arch/x86/include/asm/pgtable_64_types.h (4-level): VMALLOC_START, VMALLOC_SIZE_TB 32 */
#define X86_64_VMALLOC_START 0xffffc90000000000ull
#define X86_64_VMALLOC_SIZE (32ull << 40)

/* include/linux/vmalloc.h VM_* (the bits are the engine's) */
#define VM_ALLOC 0x2u
#define VM_VPAGES 0x100u /* the page array is itself vmalloc'ed ("vpages" in vmallocinfo) */

enum vmap_state { VA_UNUSED, VA_BUSY, VA_LAZY };

struct vmap_area {
	uint64_t va_start, va_end; /* va_end includes the guard page */
	uint64_t key;		   /* what vfree names it by: the trace's address or va_start */
	uint64_t caller;
	uint32_t nr_pages;
	pfn_t first_page;    /* data pages chained through struct page.next */
	uint32_t next;	     /* lazy list / unused descriptor list */
	uint32_t pages_area; /* the vmalloc'ed page array's area, or UINT32_MAX */
	uint32_t flags;	     /* VM_* */
	uint8_t state, traced;
	struct slab_obj va_obj;	   /* struct vmap_area from the vmap_area cache */
	struct slab_obj vm_obj;	   /* struct vm_struct from kmalloc */
	struct slab_obj pages_obj; /* the kmalloc'ed page array (when !VM_VPAGES) */
	bool has_va_obj, has_pages_obj;
};

struct vmalloc_key; /* in vmalloc.c */

struct vmalloc {
	struct pglist_data *pgdat;
	struct slub *slub;
	uint64_t *vmstat;
	enum arch arch;
	unsigned nr_cpus;
	uint64_t vstart, vend; /* the window [VMALLOC_START, VMALLOC_END) */
	uint64_t lazy_max_pages;
	struct vmap_tree free;
	struct vmap_area *areas;
	uint32_t nr_areas, cap_areas, unused_areas;
	struct vmalloc_key *keys; /* key → area, linear probing, backward-shift delete */
	uint32_t key_mask, key_count;
	uint32_t lazy_head;    /* lazily freed areas */
	uint64_t vmap_lazy_nr; /* pages (incl. guard) waiting for a purge */
	uint64_t *ptl;	       /* kernel page-table pages already allocated (set) */
	uint32_t ptl_mask, ptl_count;
	/* statistics */
	uint64_t nr_vmalloc_pages; /* VmallocUsed */
	uint64_t nr_busy, nr_allocs, nr_frees, purges, purged_areas, purged_pages;
	uint64_t tlb_full_flushes, tlb_range_flushes;
	struct tlb_stats *tlb;     /* where purge flushes are counted by cause (own_tlb unless set) */
	struct tlb_stats own_tlb;
	uint64_t fail_range, fail_pages, unknown_free, missed_free;
	uint64_t placed_at_recorded, placed_by_policy;
	uint64_t pgtable_pages; /* kernel page-table pages for the window (never freed) */
};

/* The window from m: i386 layout.vmalloc_start/end, x86_64 the fixed 32 TiB. */
int vmalloc_init(struct vmalloc *v, struct pglist_data *pgdat, struct slub *slub,
		 const struct machine *m, uint64_t *vmstat);
void vmalloc_destroy(struct vmalloc *v);

/* mm/vmalloc.c:lazy_max_pages: fls(num_online_cpus) * 32 MiB / PAGE_SIZE */
uint64_t lazy_max_pages(unsigned nr_cpus);

/* vmalloc(size) by caller; at want_addr when that is page aligned, inside the window and
 * free, else lowest fit. Returns the address or 0 on failure (counted). */
uint64_t vmalloc_alloc(struct vmalloc *v, uint64_t size, uint64_t want_addr, uint64_t caller);
/* vfree by the address vmalloc_alloc returned; false if unknown (counted). */
bool vmalloc_vfree(struct vmalloc *v, uint64_t addr);
/* Purge the lazy areas now (mm/vmalloc.c:__purge_vmap_area_lazy). false if none. */
bool purge_vmap_area_lazy(struct vmalloc *v);

/* Trace events: vmalloc.addr (0 = unknown), vmalloc.size, vmalloc.caller. */
void vmalloc_event(struct vmalloc *v, const struct mm_event *ev);
void vfree_event(struct vmalloc *v, const struct mm_event *ev);

/* /proc/meminfo (fs/proc/meminfo.c), kB. VmallocChunk is always 0 since 5.3. */
static inline uint64_t vmalloc_total_kb(const struct vmalloc *v)
{
	return (v->vend - v->vstart) >> 10;
}
static inline uint64_t vmalloc_used_kb(const struct vmalloc *v)
{
	return v->nr_vmalloc_pages * (PAGE_SIZE / 1024);
}
/* Largest free range of the window, bytes (the value VmallocChunk used to show). */
static inline uint64_t vmalloc_largest_free(const struct vmalloc *v)
{
	return vt_largest(&v->free);
}

/* /proc/vmallocinfo (mm/vmalloc.c:s_show, show_purge_info). */
void vmalloc_render_vmallocinfo(const struct vmalloc *v, struct strbuf *sb);

/* Free ranges, busy and lazy areas tile the window exactly; counters agree. NULL if sound. */
const char *vmalloc_check(const struct vmalloc *v);

#endif
