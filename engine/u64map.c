#include "u64map.h"

#include <stdlib.h>
#include <string.h>

/* Keys that differ only in their two low bits (consecutive page offsets of a file,
 * consecutive swap slots) share a home group of four slots, one 64-byte line, so a run
 * of neighbouring lookups misses the cache once instead of four times; the groups
 * themselves are scattered by the murmur3 finalizer's first steps. */
#define GROUP_SHIFT 2
#define GROUP_MASK ((1u << GROUP_SHIFT) - 1)
/* Slot arrays start on a cache line so that a group never straddles two. */
#define SLOT_ALIGN 64

static inline uint64_t home_of(uint64_t key, uint64_t mask)
{
	uint64_t g = key >> GROUP_SHIFT;
	g ^= g >> 33;
	g *= 0xff51afd7ed558ccdull;
	g ^= g >> 33;
	return (g << GROUP_SHIFT | (key & GROUP_MASK)) & mask;
}

int u64map_init(struct u64map *m, uint64_t expected)
{
	uint64_t n = 64;
	while (n < expected * 2)
		n <<= 1;
	m->slots = aligned_alloc(SLOT_ALIGN, n * sizeof(*m->slots));
	if (m->slots)
		memset(m->slots, 0, n * sizeof(*m->slots));
	m->mask = n - 1;
	m->count = 0;
	return m->slots ? 0 : -1;
}

void u64map_free(struct u64map *m)
{
	free(m->slots);
	m->slots = NULL;
	m->count = 0;
}

/* The slot holding key, or the empty slot ending its probe run. */
static inline uint64_t find(const struct u64map *m, uint64_t key)
{
	uint64_t i = home_of(key, m->mask);
	while (m->slots[i].key && m->slots[i].key != key + 1)
		i = (i + 1) & m->mask;
	return i;
}

static int grow(struct u64map *m)
{
	struct u64map old = *m;
	if (u64map_init(m, old.mask + 1)) {
		*m = old;
		return -1;
	}
	for (uint64_t i = 0; i <= old.mask; i++)
		if (old.slots[i].key)
			m->slots[find(m, old.slots[i].key - 1)] = old.slots[i];
	m->count = old.count;
	free(old.slots);
	return 0;
}

int u64map_put(struct u64map *m, uint64_t key, uint64_t val)
{
	if ((m->count + 1) * 2 > m->mask + 1 && grow(m))
		return -1;
	uint64_t i = find(m, key);
	m->count += m->slots[i].key == 0;
	m->slots[i] = (struct u64map_slot){key + 1, val};
	return 0;
}

bool u64map_get(const struct u64map *m, uint64_t key, uint64_t *val)
{
	if (!m->slots)
		return false;
	uint64_t i = find(m, key);
	if (!m->slots[i].key)
		return false;
	*val = m->slots[i].val;
	return true;
}

bool u64map_take(struct u64map *m, uint64_t key, uint64_t *val)
{
	if (!m->slots)
		return false;
	uint64_t i = find(m, key);
	if (!m->slots[i].key)
		return false;
	*val = m->slots[i].val;
	/* Backward shift: pull later entries of the run into the hole when their home does
	 * not lie between the hole and them. */
	for (uint64_t j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
		uint64_t home = home_of(m->slots[j].key - 1, m->mask);
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = 0;
	m->count--;
	return true;
}
