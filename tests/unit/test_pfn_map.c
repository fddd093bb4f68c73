#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "pfn_map.h"

/* Random put/take against a plain array reference, with every live key checked each step. */
Test(pfn_map, matches_reference_under_random_churn)
{
	enum { KEYS = 4096, STEPS = 200000 };
	static int64_t ref[KEYS]; /* simulated pfn, -1 = absent */
	struct pfn_map m;
	cr_assert_eq(pfn_map_init(&m, 16), 0);
	memset(ref, 0xff, sizeof(ref));
	uint64_t x = 12345, live = 0;
	for (int step = 0; step < STEPS; step++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t key = (x >> 33) % KEYS;
		pfn_t pfn;
		uint32_t order;
		if ((x >> 20) & 1) {
			live += ref[key] < 0;
			cr_assert_eq(pfn_map_put(&m, key * 1024, (pfn_t)step, key % 11), 0);
			ref[key] = step;
		} else {
			bool had = pfn_map_take(&m, key * 1024, &pfn, &order);
			cr_assert_eq(had, ref[key] >= 0, "step %d key %llu", step,
				     (unsigned long long)key);
			if (had) {
				cr_assert_eq(pfn, (pfn_t)ref[key]);
				cr_assert_eq(order, key % 11);
				ref[key] = -1;
				live--;
			}
		}
		cr_assert_eq(m.count, live);
	}
	for (uint64_t k = 0; k < KEYS; k++) {
		pfn_t pfn;
		uint32_t order;
		cr_assert_eq(pfn_map_take(&m, k * 1024, &pfn, &order), ref[k] >= 0);
	}
	cr_assert_eq(m.count, 0);
	pfn_map_free(&m);
}
