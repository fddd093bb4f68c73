#include <criterion/criterion.h>

#include "mm.h"
#include "u64map.h"

/* u64map_get_group stands for four lookups (touch_file_run maps what it returns): a group
 * it reports must be, in key order, what u64map_get finds. Dense keys in a small table
 * (runs of offsets in a few files, as the page cache makes them), random puts and takes,
 * every group checked after each step. */
Test(u64map_group, agrees_with_get_under_churn)
{
	enum { FILES = 3, OFFS = 96, STEPS = 6000 };
	struct u64map m;
	cr_assert_eq(u64map_init(&m, 16), 0);
	uint64_t x = 7, found = 0;
	for (int step = 0; step < STEPS; step++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t key = (1 + (x >> 40) % FILES) << 32 | (x >> 20) % OFFS;
		uint64_t val;
		if ((x >> 60) & 3)
			cr_assert_eq(u64map_put(&m, key, (uint64_t)step), 0);
		else
			(void)u64map_take(&m, key, &val);
		for (uint64_t f = 1; f <= FILES; f++) {
			for (uint64_t g = 0; g < OFFS; g += 4) {
				uint64_t got[4];
				if (!u64map_get_group(&m, f << 32 | (g + (x & 3)), got))
					continue;
				found++;
				for (uint64_t j = 0; j < 4; j++) {
					cr_assert(u64map_get(&m, f << 32 | (g + j), &val));
					cr_assert_eq(got[j], val, "step %d group %llu", step,
						     (unsigned long long)g);
				}
			}
		}
	}
	cr_assert_gt(found, 0);
	u64map_free(&m);
}

/* A whole group inserted after another group that holds its home line lands a line on, in
 * order: found there, as is the group at home. */
Test(u64map_group, finds_a_group_a_line_from_home)
{
	struct u64map m;
	cr_assert_eq(u64map_init(&m, 16), 0); /* 64 slots, 16 lines */
	uint64_t a = 0, b = 4;
	while (u64map_home(b, m.mask) != u64map_home(a, m.mask))
		b += 4;
	for (uint64_t j = 0; j < 4; j++)
		cr_assert_eq(u64map_put(&m, a + j, 100 + j), 0);
	for (uint64_t j = 0; j < 4; j++)
		cr_assert_eq(u64map_put(&m, b + j, 200 + j), 0);
	uint64_t got[4];
	cr_assert(u64map_get_group(&m, a + 2, got));
	for (uint64_t j = 0; j < 4; j++)
		cr_assert_eq(got[j], 100 + j);
	cr_assert(u64map_get_group(&m, b + 1, got));
	for (uint64_t j = 0; j < 4; j++)
		cr_assert_eq(got[j], 200 + j);
	/* a group with a key missing is not reported */
	uint64_t val;
	cr_assert(u64map_take(&m, b + 3, &val));
	cr_assert_not(u64map_get_group(&m, b, got));
	cr_assert_not(u64map_get_group(&m, b + 8, got));
	u64map_free(&m);
}

/* page_cache_peek_group's four: the group's pages in offset order (touch_file_run maps
 * out[j] at offset j of the group). */
Test(u64map_group, peek_of_a_whole_group_is_in_offset_order)
{
	enum { FILES = 3, OFFS = 64, STEPS = 3000 };
	struct page_cache c;
	cr_assert_eq(page_cache_init(&c), 0);
	uint64_t x = 5, whole = 0;
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
				if (page_cache_peek_group(&c, f, g + (x & 3), out) != 4)
					continue;
				whole++;
				for (uint64_t j = 0; j < 4; j++)
					cr_assert_eq(out[j], page_cache_lookup(&c, f, g + j));
			}
		}
	}
	cr_assert_gt(whole, 0);
	page_cache_destroy(&c);
}
