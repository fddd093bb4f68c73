#include "u64map.h"

#include <stdlib.h>
#include <string.h>

#include "host_table.h"

int u64map_init(struct u64map *m, uint64_t expected)
{
	uint64_t n = 64;
	while (n < expected * 2)
		n <<= 1;
	/* line-aligned, so that a group of four slots never straddles two lines */
	m->slots = host_table_alloc(n * sizeof(*m->slots), &m->mem);
	m->mask = n - 1;
	m->count = 0;
	return m->slots ? 0 : -1;
}

void u64map_free(struct u64map *m)
{
	free(m->mem);
	m->mem = NULL;
	m->slots = NULL;
	m->count = 0;
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
			m->slots[u64map_find(m, old.slots[i].key - 1)] = old.slots[i];
	m->count = old.count;
	free(old.mem);
	return 0;
}

int u64map_put(struct u64map *m, uint64_t key, uint64_t val)
{
	if ((m->count + 1) * 2 > m->mask + 1 && grow(m))
		return -1;
	uint64_t i = u64map_find(m, key);
	m->count += m->slots[i].key == 0;
	m->slots[i] = (struct u64map_slot){key + 1, val};
	return 0;
}

bool u64map_take(struct u64map *m, uint64_t key, uint64_t *val)
{
	if (!m->slots)
		return false;
	uint64_t i = u64map_find(m, key);
	if (!m->slots[i].key)
		return false;
	*val = m->slots[i].val;
	/* Backward shift: pull later entries of the run into the hole when their home does
	 * not lie between the hole and them. */
	for (uint64_t j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
		uint64_t home = u64map_home(m->slots[j].key - 1, m->mask);
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = 0;
	m->count--;
	return true;
}
