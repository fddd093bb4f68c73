#include <criterion/criterion.h>

#include "mm.h"

/* page_cache_peek_group is a prefetch hint: whatever it reports must be what the lookup
 * finds, for offsets of the asked group only, and never more than four. Random inserts and
 * deletes over a few files, every group checked after each step. */
Test(filemap_peek, group_peek_agrees_with_lookup)
{
	enum { FILES = 3, OFFS = 64, STEPS = 4000 };
	struct page_cache c;
	cr_assert_eq(page_cache_init(&c), 0);
	uint64_t x = 99, seen = 0, all = 0;
	for (int step = 0; step < STEPS; step++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t file = 1 + (uint32_t)((x >> 40) % FILES);
		uint64_t off = (x >> 20) % OFFS;
		if ((x >> 60) & 3)
			cr_assert_eq(page_cache_insert(&c, file, off, (pfn_t)(step + 1)), 0);
		else
			(void)page_cache_delete(&c, file, off);
		for (uint32_t f = 1; f <= FILES; f++) {
			for (uint64_t g = 0; g < OFFS; g += 4) {
				pfn_t out[4];
				unsigned n = page_cache_peek_group(&c, f, g + (x & 3), out);
				unsigned cached = 0;
				for (uint64_t j = 0; j < 4; j++)
					cached += page_cache_lookup(&c, f, g + j) != PFN_NONE;
				cr_assert_leq(n, cached);
				seen += n;
				all += cached;
				for (unsigned k = 0; k < n; k++) {
					bool found = false;
					for (uint64_t j = 0; j < 4; j++)
						found |= page_cache_lookup(&c, f, g + j) == out[k];
					cr_assert(found, "step %d file %u group %llu", step, f,
						  (unsigned long long)g);
				}
			}
		}
	}
	/* few keys in a 4096-slot table: nearly every page sits at its home slot, so a
	 * peek that never finds anything is a broken one */
	cr_assert_geq(2 * seen, all, "%llu of %llu", (unsigned long long)seen,
		      (unsigned long long)all);
	pfn_t out[4];
	cr_assert_eq(page_cache_peek_group(&c, FILES + 1, 0, out), 0);
	page_cache_destroy(&c);
}
