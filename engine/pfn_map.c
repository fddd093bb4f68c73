#include "pfn_map.h"

#include <stdlib.h>

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

int pfn_map_init(struct pfn_map *m, uint64_t expected)
{
	uint64_t n = 1024;
	while (n < expected * 2)
		n <<= 1;
	m->slots = calloc(n, sizeof(*m->slots));
	m->mask = n - 1;
	m->count = 0;
	return m->slots ? 0 : -1;
}

void pfn_map_free(struct pfn_map *m)
{
	free(m->slots);
	m->slots = NULL;
}

static int grow(struct pfn_map *m)
{
	struct pfn_map old = *m;
	if (pfn_map_init(m, (old.mask + 1)))
		return *m = old, -1;
	for (uint64_t i = 0; i <= old.mask; i++)
		if (old.slots[i].key)
			pfn_map_put(m, old.slots[i].key - 1, old.slots[i].pfn, old.slots[i].order);
	free(old.slots);
	return 0;
}

int pfn_map_put(struct pfn_map *m, uint64_t key, pfn_t pfn, uint32_t order)
{
	if ((m->count + 1) * 4 > (m->mask + 1) * 3 && grow(m))
		return -1;
	uint64_t k = key + 1;
	for (uint64_t i = mix64(k) & m->mask;; i = (i + 1) & m->mask) {
		struct pfn_map_entry *e = &m->slots[i];
		if (e->key == 0 || e->key == k) {
			m->count += e->key == 0;
			*e = (struct pfn_map_entry){k, pfn, order};
			return 0;
		}
	}
}

bool pfn_map_take(struct pfn_map *m, uint64_t key, pfn_t *pfn, uint32_t *order)
{
	uint64_t k = key + 1;
	uint64_t i = mix64(k) & m->mask;
	while (m->slots[i].key != k) {
		if (m->slots[i].key == 0)
			return false;
		i = (i + 1) & m->mask;
	}
	*pfn = m->slots[i].pfn;
	*order = m->slots[i].order;
	/* backward-shift: move later members of the probe run into the hole */
	for (uint64_t j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
		uint64_t home = mix64(m->slots[j].key) & m->mask;
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = 0;
	m->count--;
	return true;
}
