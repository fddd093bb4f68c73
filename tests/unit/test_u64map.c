#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "host_table.h"
#include "u64map.h"

/* Random put/take against a plain array reference, with every live key checked each step. */
Test(u64map, matches_reference_under_random_churn)
{
	enum { KEYS = 4096, STEPS = 200000 };
	static int64_t ref[KEYS]; /* simulated pfn, -1 = absent */
	struct u64map m;
	cr_assert_eq(u64map_init(&m, 16), 0);
	memset(ref, 0xff, sizeof(ref));
	uint64_t x = 12345, live = 0;
	for (int step = 0; step < STEPS; step++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t key = (x >> 33) % KEYS;
		uint64_t val;
		if ((x >> 20) & 1) {
			live += ref[key] < 0;
			cr_assert_eq(u64map_put(&m, key * 1024, (uint64_t)step), 0);
			ref[key] = step;
		} else if ((x >> 21) & 1) {
			bool had = u64map_get(&m, key * 1024, &val);
			cr_assert_eq(had, ref[key] >= 0);
			if (had)
				cr_assert_eq(val, (uint64_t)ref[key]);
		} else {
			bool had = u64map_take(&m, key * 1024, &val);
			cr_assert_eq(had, ref[key] >= 0, "step %d key %llu", step,
				     (unsigned long long)key);
			if (had) {
				cr_assert_eq(val, (uint64_t)ref[key]);
				ref[key] = -1;
				live--;
			}
		}
		cr_assert_eq(m.count, live);
	}
	for (uint64_t k = 0; k < KEYS; k++) {
		uint64_t val;
		cr_assert_eq(u64map_take(&m, k * 1024, &val), ref[k] >= 0);
	}
	cr_assert_eq(m.count, 0);
	u64map_free(&m);
}

/* Dense keys, as the page cache makes them (runs of consecutive page offsets in a few
 * files): neighbours share a home group, so long probe runs and backward shifts across
 * groups and across the table's wrap-around happen. Every step is checked against the
 * reference, every key after each burst. */
Test(u64map, dense_runs_match_reference)
{
	enum { FILES = 6, PAGES = 700, KEYS = FILES * PAGES, STEPS = 120000 };
	static int64_t ref[KEYS];
	struct u64map m;
	cr_assert_eq(u64map_init(&m, 4), 0);
	memset(ref, 0xff, sizeof(ref));
	uint64_t x = 99, live = 0;
	for (int step = 0; step < STEPS; step++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		/* a burst walks a few consecutive pages of one file */
		uint32_t file = (uint32_t)(x >> 40) % FILES;
		uint32_t first = (uint32_t)(x >> 16) % PAGES;
		unsigned op = (x >> 60) % 3, len = 1 + (unsigned)(x >> 8) % 9;
		for (unsigned p = first; p < first + len && p < PAGES; p++) {
			uint32_t idx = file * PAGES + p;
			uint64_t key = (uint64_t)(file + 1) << 40 | p, val;
			if (op == 0) {
				live += ref[idx] < 0;
				cr_assert_eq(u64map_put(&m, key, (uint64_t)step * 7 + p), 0);
				ref[idx] = (int64_t)step * 7 + p;
			} else if (op == 1) {
				bool had = u64map_get(&m, key, &val);
				cr_assert_eq(had, ref[idx] >= 0, "step %d key %u", step, idx);
				if (had)
					cr_assert_eq(val, (uint64_t)ref[idx]);
			} else {
				bool had = u64map_take(&m, key, &val);
				cr_assert_eq(had, ref[idx] >= 0, "step %d key %u", step, idx);
				if (had) {
					cr_assert_eq(val, (uint64_t)ref[idx]);
					ref[idx] = -1;
					live--;
				}
			}
		}
		cr_assert_eq(m.count, live);
		cr_assert_leq(2 * m.count, m.mask + 1, "load stays at most 1/2");
		if (step % 1000 == 0)
			for (uint32_t idx = 0; idx < KEYS; idx++) {
				uint64_t key = (uint64_t)(idx / PAGES + 1) << 40 | idx % PAGES, val;
				bool had = u64map_get(&m, key, &val);
				cr_assert_eq(had, ref[idx] >= 0, "step %d key %u", step, idx);
				if (had)
					cr_assert_eq(val, (uint64_t)ref[idx]);
			}
	}
	u64map_free(&m);
}

/* Key 0 and the largest keys the callers use; the slot array is line-aligned. */
Test(u64map, edge_keys_and_alignment)
{
	struct u64map m;
	uint64_t val;
	cr_assert_eq(u64map_init(&m, 1), 0);
	cr_assert_eq((uintptr_t)m.slots % 64, 0);
	cr_assert_eq(u64map_put(&m, 0, 11), 0);
	cr_assert_eq(u64map_put(&m, UINT64_MAX - 1, 22), 0);
	cr_assert(u64map_get(&m, 0, &val) && val == 11);
	cr_assert(u64map_get(&m, UINT64_MAX - 1, &val) && val == 22);
	cr_assert_not(u64map_get(&m, 1, &val));
	for (uint64_t k = 1; k < 200; k++)
		cr_assert_eq(u64map_put(&m, k, k), 0);
	cr_assert_eq((uintptr_t)m.slots % 64, 0, "still aligned after growing");
	cr_assert(u64map_take(&m, 0, &val) && val == 11);
	cr_assert_not(u64map_take(&m, 0, &val));
	for (uint64_t k = 1; k < 200; k++)
		cr_assert(u64map_get(&m, k, &val) && val == k);
	cr_assert_eq(m.count, 200);
	u64map_free(&m);
}

/* Table memory: zeroed and line-aligned when small, 2 MiB-aligned from 2 MiB on (the
 * transparent-huge-page hint needs whole aligned 2 MiB extents), and a grown map keeps
 * every entry. */
Test(u64map, table_memory_alignment_and_zero)
{
	static const size_t sizes[] = {64, 1000, (2u << 20) - 16, 2u << 20, (5u << 20) + 24};
	for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		void *base = NULL;
		unsigned char *p = host_table_alloc(sizes[k], &base);
		cr_assert_not_null(p);
		cr_assert_not_null(base);
		size_t align = sizes[k] >= (2u << 20) ? (2u << 20) : 64;
		cr_assert_eq((uintptr_t)p % align, 0, "size %zu", sizes[k]);
		for (size_t i = 0; i < sizes[k]; i++)
			cr_assert_eq(p[i], 0, "size %zu byte %zu", sizes[k], i);
		memset(p, 0xa5, sizes[k]);
		free(base);
	}
	struct u64map m;
	cr_assert_eq(u64map_init(&m, 1000), 0);
	for (uint64_t k = 0; k < 150000; k++)
		cr_assert_eq(u64map_put(&m, k * 7, k), 0);
	cr_assert_geq((m.mask + 1) * sizeof(*m.slots), 2u << 20);
	cr_assert_eq((uintptr_t)m.slots % (2u << 20), 0);
	for (uint64_t k = 0; k < 150000; k++) {
		uint64_t v;
		cr_assert(u64map_get(&m, k * 7, &v) && v == k);
	}
	u64map_free(&m);
}

/* Probe runs across lines and across the wrap-around: three groups
 * of four keys whose home is the last line of a 64-slot table run on into the first two
 * lines; taking the first group's keys shifts the others back across the wrap, and every
 * step is checked against the keys still in. */
Test(u64map, wrapping_runs_across_lines)
{
	struct u64map m;
	cr_assert_eq(u64map_init(&m, 12), 0);
	cr_assert_eq(m.mask, 63);
	uint64_t groups[3], n = 0;
	for (uint64_t g = 1; n < 3; g++)
		if (u64map_home(g << 2, m.mask) >> 2 == m.mask >> 2)
			groups[n++] = g;
	for (unsigned k = 0; k < 12; k++)
		cr_assert_eq(u64map_put(&m, groups[k / 4] << 2 | (k % 4), k), 0);
	cr_assert_eq(m.mask, 63, "12 keys stay at most 1/2 of 64 slots");
	for (unsigned k = 0; k < 8; k++)
		cr_assert_eq(m.slots[k].key != 0, true, "the run wrapped into slot %u", k);
	for (unsigned gone = 0; gone <= 12; gone++) {
		for (unsigned k = 0; k < 12; k++) {
			uint64_t v;
			bool in = u64map_get(&m, groups[k / 4] << 2 | (k % 4), &v);
			cr_assert_eq(in, k >= gone, "after %u takes, key %u", gone, k);
			if (in)
				cr_assert_eq(v, k);
		}
		if (gone < 12) {
			uint64_t v;
			cr_assert(u64map_take(&m, groups[gone / 4] << 2 | (gone % 4), &v));
			cr_assert_eq(v, gone);
		}
	}
	cr_assert_eq(m.count, 0);
	u64map_free(&m);
}
