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
	void *mem; /* the allocation holding slots (host_table_alloc) */
};

int u64map_init(struct u64map *m, uint64_t expected);
void u64map_free(struct u64map *m);
/* Insert or replace; -1 only when the host is out of memory. */
int u64map_put(struct u64map *m, uint64_t key, uint64_t val);
static inline bool u64map_get(const struct u64map *m, uint64_t key, uint64_t *val);
/* Remove; false when absent. */
bool u64map_take(struct u64map *m, uint64_t key, uint64_t *val);

/* ---- the lookup, inline: the page cache probes once per file fault ---- */

/* Keys that differ only in their two low bits (consecutive page offsets of a file,
 * consecutive swap slots) share a home group of four slots, one 64-byte line, so a run
 * of neighbouring lookups misses the cache once instead of four times; the groups
 * themselves are scattered by the murmur3 finalizer's first steps. */
#define U64MAP_GROUP_SHIFT 2
#define U64MAP_GROUP_MASK ((1u << U64MAP_GROUP_SHIFT) - 1)

static inline uint64_t u64map_home(uint64_t key, uint64_t mask)
{
	uint64_t g = key >> U64MAP_GROUP_SHIFT;
	g ^= g >> 33;
	g *= 0xff51afd7ed558ccdull;
	g ^= g >> 33;
	return (g << U64MAP_GROUP_SHIFT | (key & U64MAP_GROUP_MASK)) & mask;
}

/* The slot holding key, or the empty slot ending its probe run (slots must exist). */
static inline uint64_t u64map_find(const struct u64map *m, uint64_t key)
{
	uint64_t i = u64map_home(key, m->mask);
	while (m->slots[i].key != key + 1 && m->slots[i].key)
		i = (i + 1) & m->mask;
	return i;
}

static inline bool u64map_get(const struct u64map *m, uint64_t key, uint64_t *val)
{
	if (!m->slots)
		return false;
	const struct u64map_slot *e = &m->slots[u64map_find(m, key)];
	if (!e->key)
		return false;
	*val = e->val;
	return true;
}

#endif
