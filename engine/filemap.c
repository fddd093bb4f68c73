/* The page cache (mm/filemap.c): file pages keyed by (file, page offset). A cached page
 * holds one reference of its own; mappings add theirs. */
#include <stdlib.h>

#include "mm.h"
#include "sim.h"

/* The file id takes the high half: shmem ids start at 2^31 and must not alias regular
 * files. The index is 32 bits, as pgoff_t (unsigned long) is on i386 and as page->index. */
static uint64_t cache_key(uint32_t file, uint64_t pgoff)
{
	return (uint64_t)file << 32 | (uint32_t)pgoff;
}

int page_cache_init(struct page_cache *c)
{
	return u64map_init(&c->map, 4096);
}

void page_cache_destroy(struct page_cache *c)
{
	u64map_free(&c->map);
}

pfn_t page_cache_lookup(const struct page_cache *c, uint32_t file, uint64_t pgoff)
{
	uint64_t pfn;
	return u64map_get(&c->map, cache_key(file, pgoff), &pfn) ? (pfn_t)pfn : PFN_NONE;
}

/* The offsets of a group differ in their two low bits only: their home slots are the
 * four slots of one line, from the group's first offset's home on (u64map.h). */
void page_cache_prefetch_group(const struct page_cache *c, uint32_t file, uint64_t pgoff)
{
	uint64_t key = cache_key(file, pgoff) & ~(uint64_t)U64MAP_GROUP_MASK;
	if (c->map.slots)
		__builtin_prefetch(&c->map.slots[u64map_home(key, c->map.mask)]);
}

/* A group found whole in one line of its probe run (u64map_get_group) is handed out in
 * offset order, n == 4, which touch_file_run uses as four lookups; otherwise the pages at
 * their home slots. */
unsigned page_cache_peek_group(const struct page_cache *c, uint32_t file, uint64_t pgoff,
			       pfn_t out[4])
{
	uint64_t key = cache_key(file, pgoff) & ~(uint64_t)U64MAP_GROUP_MASK;
	uint64_t val[U64MAP_GROUP_MASK + 1];
	unsigned n = 0;
	if (!c->map.slots)
		return 0;
	if (u64map_get_group(&c->map, key, val)) {
		for (unsigned j = 0; j <= U64MAP_GROUP_MASK; j++)
			out[j] = (pfn_t)val[j];
		return U64MAP_GROUP_MASK + 1;
	}
	const struct u64map_slot *e = &c->map.slots[u64map_home(key, c->map.mask)];
	for (unsigned j = 0; j <= U64MAP_GROUP_MASK; j++)
		if (e[j].key == key + j + 1)
			out[n++] = (pfn_t)e[j].val;
	return n;
}

int page_cache_insert(struct page_cache *c, uint32_t file, uint64_t pgoff, pfn_t pfn)
{
	return u64map_put(&c->map, cache_key(file, pgoff), pfn);
}

bool page_cache_delete(struct page_cache *c, uint32_t file, uint64_t pgoff)
{
	uint64_t pfn;
	return u64map_take(&c->map, cache_key(file, pgoff), &pfn);
}

static int by_index(const void *a, const void *b)
{
	uint32_t x = ((const struct file_page *)a)->index, y = ((const struct file_page *)b)->index;
	return (x > y) - (x < y);
}

struct file_page *page_cache_file_pages(const struct page_cache *c, uint32_t file, uint64_t *nr)
{
	const struct u64map *m = &c->map;
	uint64_t n = 0;
	for (uint64_t i = 0; i <= m->mask; i++)
		n += m->slots[i].key && (m->slots[i].key - 1) >> 32 == file;
	*nr = 0;
	struct file_page *pages = n ? malloc(n * sizeof(*pages)) : NULL;
	if (!pages)
		return NULL;
	for (uint64_t i = 0; i <= m->mask; i++) {
		uint64_t key = m->slots[i].key - 1;
		if (m->slots[i].key && key >> 32 == file)
			pages[(*nr)++] = (struct file_page){(uint32_t)key, (pfn_t)m->slots[i].val};
	}
	qsort(pages, n, sizeof(*pages), by_index);
	return pages;
}
