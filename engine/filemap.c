/* The page cache (mm/filemap.c): file pages keyed by (file, page offset). A cached page
 * holds one reference of its own; mappings add theirs. */
#include <stdlib.h>

#include "mm.h"
#include "sim.h"

static uint64_t cache_key(uint32_t file, uint64_t pgoff)
{
	return ((uint64_t)file << 40 | (pgoff & ((1ull << 40) - 1))) + 1;
}

static uint64_t slot_of(uint64_t key, uint64_t mask)
{
	key ^= key >> 31;
	key *= 0x94d049bb133111ebull;
	return (key ^ key >> 29) & mask;
}

int page_cache_init(struct page_cache *c)
{
	c->mask = 4095;
	c->count = 0;
	c->slots = calloc(c->mask + 1, sizeof(*c->slots));
	return c->slots ? 0 : -1;
}

void page_cache_destroy(struct page_cache *c)
{
	free(c->slots);
	c->slots = NULL;
}

pfn_t page_cache_lookup(const struct page_cache *c, uint32_t file, uint64_t pgoff)
{
	uint64_t key = cache_key(file, pgoff);
	for (uint64_t i = slot_of(key, c->mask);; i = (i + 1) & c->mask) {
		if (c->slots[i].key == key)
			return c->slots[i].pfn;
		if (c->slots[i].key == 0)
			return PFN_NONE;
	}
}

static int grow(struct page_cache *c)
{
	struct page_cache old = *c;
	c->mask = old.mask * 2 + 1;
	c->slots = calloc(c->mask + 1, sizeof(*c->slots));
	if (!c->slots) {
		*c = old;
		return -1;
	}
	for (uint64_t i = 0; i <= old.mask; i++) {
		if (!old.slots[i].key)
			continue;
		uint64_t j = slot_of(old.slots[i].key, c->mask);
		while (c->slots[j].key)
			j = (j + 1) & c->mask;
		c->slots[j] = old.slots[i];
	}
	free(old.slots);
	return 0;
}

int page_cache_insert(struct page_cache *c, uint32_t file, uint64_t pgoff, pfn_t pfn)
{
	if ((c->count + 1) * 2 > c->mask + 1 && grow(c))
		return -1;
	uint64_t key = cache_key(file, pgoff);
	uint64_t i = slot_of(key, c->mask);
	while (c->slots[i].key && c->slots[i].key != key)
		i = (i + 1) & c->mask;
	c->count += c->slots[i].key == 0;
	c->slots[i] = (struct page_cache_slot){key, pfn};
	return 0;
}

bool page_cache_delete(struct page_cache *c, uint32_t file, uint64_t pgoff)
{
	uint64_t key = cache_key(file, pgoff);
	uint64_t i = slot_of(key, c->mask);
	while (c->slots[i].key != key) {
		if (!c->slots[i].key)
			return false;
		i = (i + 1) & c->mask;
	}
	for (uint64_t j = (i + 1) & c->mask; c->slots[j].key; j = (j + 1) & c->mask) {
		uint64_t home = slot_of(c->slots[j].key, c->mask);
		if (((j - home) & c->mask) >= ((j - i) & c->mask)) {
			c->slots[i] = c->slots[j];
			i = j;
		}
	}
	c->slots[i].key = 0;
	c->count--;
	return true;
}
