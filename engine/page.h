/* struct page: one per simulated page frame, 32 bytes (the kernel's is 64).
 * List links are 32-bit pfns, not pointers, so mem=64G (16 M frames) costs 512 MiB. */
#ifndef MM_PAGE_H
#define MM_PAGE_H

#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1u << PAGE_SHIFT)

typedef uint32_t pfn_t;
#define PFN_NONE UINT32_MAX

/* Page flags, named after the kernel's PG_* (include/linux/page-flags.h) where one exists. */
enum pageflags {
	PG_buddy = 1u << 0,      /* on a buddy free list; order in page->private */
	PG_reserved = 1u << 1,   /* memblock-reserved at boot, never given to buddy */
	PG_slab = 1u << 2,       /* first page of a slab */
	PG_anon = 1u << 3,       /* anonymous (PageAnon) */
	PG_file = 1u << 4,       /* page-cache page of a file */
	PG_swapcache = 1u << 5,  /* in the swap cache; swap entry in page->private */
	PG_lru = 1u << 6,        /* on an LRU list (lru_next/lru_prev) */
	PG_active = 1u << 7,     /* on the active LRU */
	PG_referenced = 1u << 8, /* referenced since last scan */
	PG_dirty = 1u << 9,
	PG_pgtable = 1u << 10,   /* page-table page (PageTable) */
	PG_vmalloc = 1u << 11,   /* backs a vmalloc area */
	PG_head = 1u << 12,      /* head of a compound (__GFP_COMP) allocation */
	PG_kernel = 1u << 13,    /* other kernel allocation (kmalloc_large, stacks, raw pages) */
	PG_pcp = 1u << 14,       /* sitting on a per-CPU page list */
	PG_zero = 1u << 15,      /* the shared zero page */
	PG_writeback = 1u << 16,
	PG_unevictable = 1u << 17,
	PG_anon_exclusive = 1u << 18, /* PageAnonExclusive: may be reused on write fault */
};

/* Bits 24..27: buddy/compound order; bits 28..30: zone index. */
#define PAGE_ORDER_SHIFT 24
#define PAGE_ORDER_MASK (0xfu << PAGE_ORDER_SHIFT)
#define PAGE_ZONE_SHIFT 28
#define PAGE_ZONE_MASK (0x7u << PAGE_ZONE_SHIFT)
#define PAGE_FLAGS_MASK 0x00ffffffu

struct page {
	uint32_t flags;   /* enum pageflags | order | zone */
	pfn_t next;       /* free list, LRU or slab list link */
	pfn_t prev;
	uint32_t private; /* buddy: order; swapcache: swap entry; slab: cache id */
	int32_t refcount; /* _refcount */
	int32_t mapcount; /* number of ptes mapping the page (kernel's _mapcount + 1) */
	uint32_t mapping; /* anon: owning anon id; file: file id; slab: objects in use */
	uint32_t index;   /* file: page offset; anon: virtual page number */
};

_Static_assert(sizeof(struct page) == 32, "struct page must stay 32 bytes");

static inline unsigned page_zonenum(const struct page *p)
{
	return (p->flags & PAGE_ZONE_MASK) >> PAGE_ZONE_SHIFT;
}

static inline unsigned page_order(const struct page *p)
{
	return (p->flags & PAGE_ORDER_MASK) >> PAGE_ORDER_SHIFT;
}

static inline void set_page_order(struct page *p, unsigned order)
{
	p->flags = (p->flags & ~PAGE_ORDER_MASK) | (order << PAGE_ORDER_SHIFT);
}

static inline int page_test(const struct page *p, uint32_t flag)
{
	return (p->flags & flag) != 0;
}

#endif
