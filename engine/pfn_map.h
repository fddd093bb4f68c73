/* Open-addressing map from a recorded pfn (page-level replay) to the simulated block the
 * engine allocated for it. Linear probing with backward-shift deletion: no tombstones, so a
 * long replay never degrades. */
#ifndef MM_PFN_MAP_H
#define MM_PFN_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include "page.h"

struct pfn_map_entry {
	uint64_t key;   /* recorded pfn + 1 (0 = empty slot) */
	pfn_t pfn;      /* simulated pfn */
	uint32_t order;
};

struct pfn_map {
	struct pfn_map_entry *slots;
	uint64_t mask, count;
};

int pfn_map_init(struct pfn_map *m, uint64_t expected);
void pfn_map_free(struct pfn_map *m);
/* Insert or replace. Returns -1 only when the host is out of memory. */
int pfn_map_put(struct pfn_map *m, uint64_t key, pfn_t pfn, uint32_t order);
/* Remove and return the entry; false when absent. */
bool pfn_map_take(struct pfn_map *m, uint64_t key, pfn_t *pfn, uint32_t *order);

#endif
