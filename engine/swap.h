/* One swap area (mm/swapfile.c) and the swap cache (mm/swap_state.c), kept as simple as is
 * honest: a byte count per slot, cluster allocation, and a map slot -> frame for pages that
 * are swapped in while other ptes still hold the slot (docs/RECLAIM.md). */
#ifndef MM_SWAP_H
#define MM_SWAP_H

#include <stdbool.h>
#include <stdint.h>

#include "page.h"
#include "u64map.h"

/* include/linux/swap.h SWAPFILE_CLUSTER: HPAGE_PMD_NR with THP, else 256 */
#define SWAPFILE_CLUSTER 256
/* include/linux/swap.h SWAP_MAP_MAX: the largest count a swap_map byte holds directly */
#define SWAP_MAP_MAX 0x3e

struct swap_info {
	uint64_t pages;          /* slots; slot 0 is the header page (never used) */
	uint32_t *swap_map;      /* references per slot (the kernel packs a byte + continuations) */
	uint64_t inuse_pages;
	uint64_t peak_inuse;
	uint64_t cluster_next;   /* next slot to try in the current cluster */
	uint64_t lowest_free;    /* no free slot below this */
	struct u64map cache;     /* slot -> pfn of a swapped-in page others still share */
};

int swap_init(struct swap_info *si, uint64_t bytes);
void swap_destroy(struct swap_info *si);
/* get_swap_page: a free slot, 0 when swap is full or absent. Count starts at 1. */
uint64_t get_swap_page(struct swap_info *si);
void swap_duplicate(struct swap_info *si, uint64_t slot);
/* Drop one reference; returns the references left (0 = slot free again). */
uint32_t swap_free(struct swap_info *si, uint64_t slot);

pfn_t swap_cache_lookup(const struct swap_info *si, uint64_t slot);
int swap_cache_add(struct swap_info *si, uint64_t slot, pfn_t pfn);
void swap_cache_del(struct swap_info *si, uint64_t slot);

static inline uint64_t swap_free_pages(const struct swap_info *si)
{
	return si->pages ? si->pages - 1 - si->inuse_pages : 0;
}

#endif
