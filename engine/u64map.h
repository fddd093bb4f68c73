/* Open-addressing hash map from a 64-bit key to a 64-bit value: linear probing with
 * backward-shift deletion (no tombstones, so long replays never degrade). Used for the
 * page cache, the swap cache and page-level replay's pfn map. Not on any per-event path
 * that could allocate: it grows by doubling at 1/2 load. */
#ifndef MM_U64MAP_H
#define MM_U64MAP_H

#include <stdbool.h>
#include <stdint.h>

struct u64map_slot {
	uint64_t key; /* key + 1; 0 = empty */
	uint64_t val;
};

struct u64map {
	struct u64map_slot *slots;
	uint64_t mask, count;
};

int u64map_init(struct u64map *m, uint64_t expected);
void u64map_free(struct u64map *m);
/* Insert or replace; -1 only when the host is out of memory. */
int u64map_put(struct u64map *m, uint64_t key, uint64_t val);
bool u64map_get(const struct u64map *m, uint64_t key, uint64_t *val);
/* Remove; false when absent. */
bool u64map_take(struct u64map *m, uint64_t key, uint64_t *val);

#endif
