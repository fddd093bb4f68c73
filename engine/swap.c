#include "swap.h"

#include <stdlib.h>
#include <string.h>

int swap_init(struct swap_info *si, uint64_t bytes)
{
	memset(si, 0, sizeof(*si));
	si->pages = bytes >> PAGE_SHIFT;
	if (si->pages < 2) { /* no swap: slot 0 alone is the header */
		si->pages = 0;
		return 0;
	}
	si->swap_map = calloc(si->pages, sizeof(*si->swap_map));
	si->cluster_next = 1;
	si->lowest_free = 1;
	return si->swap_map && !u64map_init(&si->cache, 1024) ? 0 : -1;
}

void swap_destroy(struct swap_info *si)
{
	free(si->swap_map);
	u64map_free(&si->cache);
	memset(si, 0, sizeof(*si));
}

/* Simplified scan_swap_map_slots: keep filling the current cluster; when it is used up,
 * start at the lowest free slot's cluster. Slots of a cluster are written together, so
 * neighbouring swap-outs land together, as with the kernel's per-CPU clusters. */
uint64_t get_swap_page(struct swap_info *si)
{
	if (!si->pages || si->inuse_pages + 1 >= si->pages)
		return 0;
	uint64_t s = si->cluster_next;
	uint64_t cluster_end = (s / SWAPFILE_CLUSTER + 1) * SWAPFILE_CLUSTER;
	while (s < cluster_end && s < si->pages && si->swap_map[s])
		s++;
	if (s >= cluster_end || s >= si->pages) {
		s = si->lowest_free;
		while (si->swap_map[s])
			s++;
	}
	si->swap_map[s] = 1;
	si->inuse_pages++;
	if (si->inuse_pages > si->peak_inuse)
		si->peak_inuse = si->inuse_pages;
	si->cluster_next = s + 1 < si->pages ? s + 1 : 1;
	if (s == si->lowest_free)
		while (si->lowest_free < si->pages && si->swap_map[si->lowest_free])
			si->lowest_free++;
	return s;
}

void swap_duplicate(struct swap_info *si, uint64_t slot)
{
	si->swap_map[slot]++;
}

uint32_t swap_free(struct swap_info *si, uint64_t slot)
{
	uint32_t left = --si->swap_map[slot];
	if (!left) {
		si->inuse_pages--;
		if (slot < si->lowest_free)
			si->lowest_free = slot;
	}
	return left;
}

pfn_t swap_cache_lookup(const struct swap_info *si, uint64_t slot)
{
	uint64_t pfn;
	return u64map_get(&si->cache, slot, &pfn) ? (pfn_t)pfn : PFN_NONE;
}

int swap_cache_add(struct swap_info *si, uint64_t slot, pfn_t pfn)
{
	return u64map_put(&si->cache, slot, pfn);
}

void swap_cache_del(struct swap_info *si, uint64_t slot)
{
	uint64_t pfn;
	u64map_take(&si->cache, slot, &pfn);
}
