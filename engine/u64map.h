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

/* How many lines of a group's probe run u64map_get_group looks at. */
#define U64MAP_GROUP_LINES 4

/* The values of the four keys of key's group (key with its low bits cleared, and the next
 * three), in key order, when all four sit in one line in that order: their home line, or
 * one of the next U64MAP_GROUP_LINES - 1 lines of their probe run. A group inserted in
 * order whose home line another group holds lands whole a line or more on (on the mix
 * replay two page-cache hits in three were a line or more from home, four or more probes
 * each). false: not found so, look the keys up one by one. A slot holds its key only, so
 * a line that matches is the answer; the look stops at a line with an empty slot, past
 * which the group's first key cannot be (its probe run has no hole). */
static inline bool u64map_get_group(const struct u64map *m, uint64_t key,
				    uint64_t val[U64MAP_GROUP_MASK + 1])
{
	_Static_assert(U64MAP_GROUP_MASK == 3, "a group is four slots");
	uint64_t k = (key & ~(uint64_t)U64MAP_GROUP_MASK) + 1; /* as its slot stores it */
	if (!m->slots)
		return false;
	uint64_t i = u64map_home(k - 1, m->mask); /* the first slot of a line */
	for (unsigned d = 0; d < U64MAP_GROUP_LINES; d++, i = (i + 4) & m->mask) {
		const struct u64map_slot *e = &m->slots[i];
		if (e[0].key == k && e[1].key == k + 1 && e[2].key == k + 2 && e[3].key == k + 3) {
			val[0] = e[0].val;
			val[1] = e[1].val;
			val[2] = e[2].val;
			val[3] = e[3].val;
			return true;
		}
		if (!e[0].key || !e[1].key || !e[2].key || !e[3].key)
			return false;
	}
	return false;
}

#endif
