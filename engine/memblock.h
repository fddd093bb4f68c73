/* Boot-time physical memory bookkeeping (mm/memblock.c): the memory and reserved region
 * lists, top-down allocation and the free ranges memblock_free_all() hands to the buddy
 * allocator. Fixed-size arrays, no allocation. */
#ifndef MM_MEMBLOCK_H
#define MM_MEMBLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define MEMBLOCK_MAX_REGIONS 64

struct memblock_region {
	uint64_t base, size;
	const char *what; /* reserved regions: what the first reservation there holds */
};

struct memblock_type {
	int cnt;
	struct memblock_region regions[MEMBLOCK_MAX_REGIONS];
};

struct memblock {
	struct memblock_type memory, reserved;
	uint64_t current_limit; /* memblock_set_current_limit: allocations stay below */
};

void memblock_init(struct memblock *mb);
/* Both return -1 only when the fixed region array is full. */
int memblock_add(struct memblock *mb, uint64_t base, uint64_t size);
int memblock_reserve(struct memblock *mb, uint64_t base, uint64_t size, const char *what);
/* memblock_alloc_range_nid, top-down: the highest free aligned range of size bytes inside
 * [min, max) and below current_limit. Returns its base, or UINT64_MAX when none fits. */
uint64_t memblock_alloc(struct memblock *mb, uint64_t size, uint64_t align, uint64_t min,
			uint64_t max, const char *what);
/* Pages of [spfn, epfn) inside memory regions (PFN_UP(base)..PFN_DOWN(end)). */
uint64_t memblock_present_pages(const struct memblock *mb, uint64_t spfn, uint64_t epfn);
/* Pages of [spfn, epfn) that memblock_free_all() frees: whole pages of memory not
 * touched by any reservation (__free_memory_core: PFN_UP(start)..PFN_DOWN(end)). */
uint64_t memblock_free_pages(const struct memblock *mb, uint64_t spfn, uint64_t epfn);
bool memblock_pfn_is_free(const struct memblock *mb, uint64_t pfn);

#endif
