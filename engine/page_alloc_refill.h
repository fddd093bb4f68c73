/* What page_alloc.c and page_alloc_refill.c (the refill of the per-CPU lists) share. */
#ifndef MM_PAGE_ALLOC_REFILL_H
#define MM_PAGE_ALLOC_REFILL_H

#include <string.h>

#include "page_alloc_internal.h"

/* A struct page as two 16-byte halves (flags, next, prev, private | refcount, mapcount,
 * mapping, index): the hot loops that write whole pages, or the first half of one, do so
 * in one vector store per half instead of a store per field. */
typedef uint32_t page_half __attribute__((vector_size(16)));
_Static_assert(sizeof(struct page) == 2 * sizeof(page_half), "a struct page is two halves");

static inline void page_store(struct page *p, page_half lo, page_half hi)
{
	memcpy(p, &lo, sizeof(lo));
	memcpy((char *)p + sizeof(lo), &hi, sizeof(hi));
}

/* A fresh order-0 page of z as prep_new_page leaves it, in two halves */
static inline void fresh_page_halves(const struct zone *z, page_half *lo, page_half *hi)
{
	*lo = (page_half){(uint32_t)z->type << PAGE_ZONE_SHIFT, PFN_NONE, PFN_NONE, 0};
	*hi = (page_half){1, 0, 0, 0}; /* refcount 1; mapcount, mapping, index 0 */
}

/* rmqueue_bulk (mm/page_alloc.c, 6.1): count blocks of the order from z's free lists of
 * mt onto the tail of pcp's list pindex; the first `direct` of them go to out instead, as
 * the takes right after the refill would hand them out (prep: as fresh pages; else their
 * struct pages are left to the caller). Returns the blocks taken. */
int rmqueue_bulk(struct pglist_data *pgdat, struct zone *z, unsigned order, int count,
		 struct per_cpu_pages *pcp, unsigned pindex, unsigned mt, unsigned alloc_flags,
		 pfn_t *out, unsigned direct, bool prep);

#endif
