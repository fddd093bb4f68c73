/* The page cache (mm/filemap.c): file pages keyed by (file, page offset). A cached page
 * holds one reference of its own; mappings add theirs. */
#include "mm.h"
#include "sim.h"

static uint64_t cache_key(uint32_t file, uint64_t pgoff)
{
	return (uint64_t)file << 40 | (pgoff & ((1ull << 40) - 1));
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

int page_cache_insert(struct page_cache *c, uint32_t file, uint64_t pgoff, pfn_t pfn)
{
	return u64map_put(&c->map, cache_key(file, pgoff), pfn);
}

bool page_cache_delete(struct page_cache *c, uint32_t file, uint64_t pgoff)
{
	uint64_t pfn;
	return u64map_take(&c->map, cache_key(file, pgoff), &pfn);
}
