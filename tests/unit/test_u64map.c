#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

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
