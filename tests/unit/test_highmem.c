/* The pkmap window (kmap_high/kunmap_high) against a reference that finds a page's slot by
 * scanning the whole window, as page_address's answer is defined; slot state, the cursor
 * and the wrap flushes are compared after every step. */
#include <criterion/criterion.h>
#include <string.h>

#include "mm_internal.h"
#include "sim.h"
#include "testlib_sim.h"

struct ref_pkmap {
	unsigned last, nr;
	uint16_t count[LAST_PKMAP_MAX];
	pfn_t page[LAST_PKMAP_MAX];
	uint64_t flushes;
};

static int ref_slot_of(const struct ref_pkmap *r, pfn_t pfn)
{
	for (unsigned i = 0; i < r->last; i++)
		if (r->count[i] && r->page[i] == pfn)
			return (int)i;
	return -1;
}

static void ref_flush(struct ref_pkmap *r)
{
	bool any = false;
	for (unsigned i = 0; i < r->last; i++) {
		if (r->count[i] != 1)
			continue;
		r->count[i] = 0;
		r->page[i] = PFN_NONE;
		any = true;
	}
	r->flushes += any;
}

static int ref_kmap(struct ref_pkmap *r, pfn_t pfn)
{
	int slot = ref_slot_of(r, pfn);
	for (unsigned tries = 0; slot < 0 && tries < r->last; tries++) {
		r->nr = (r->nr + 1) & (r->last - 1);
		if (r->nr == 0)
			ref_flush(r);
		if (r->count[r->nr] == 0) {
			r->page[r->nr] = pfn;
			r->count[r->nr] = 1;
			slot = (int)r->nr;
		}
	}
	if (slot < 0)
		return -1;
	r->count[slot]++;
	return 0;
}

static void ref_kunmap(struct ref_pkmap *r, pfn_t pfn)
{
	int slot = ref_slot_of(r, pfn);
	if (slot >= 0 && r->count[slot] > 1)
		r->count[slot]--;
}

static struct sim *boot_i386(struct strtab *strings, enum arch arch, const char *mem)
{
	struct machine_config cfg;
	tl_sim_config(&cfg, arch, mem, NULL);
	strtab_init(strings);
	return tl_sim_create(&cfg, strings);
}

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void expect_same(const struct sim *s, const struct ref_pkmap *r, unsigned step)
{
	const struct pkmap *k = &s->mm.pkmap;
	cr_assert_eq(k->last_pkmap_nr, r->nr, "step %u: cursor", step);
	cr_assert_eq(memcmp(k->count, r->count, sizeof(r->count)), 0, "step %u: counts", step);
	for (unsigned i = 0; i < r->last; i++)
		cr_assert_eq(k->page[i], r->count[i] ? r->page[i] : PFN_NONE, "step %u: slot %u",
			     step, i);
	cr_assert_eq(s->vmstat[KMAP_FLUSH_ALL_ZERO], r->flushes, "step %u: flushes", step);
}

/* Random kmaps and kunmaps over a pool of highmem frames: mostly paired (as the page-cache
 * read does), some held, so slots are reused, wrapped over, and at times all busy. */
static unsigned random_run(enum arch arch, const char *mem, unsigned pool, uint64_t seed,
		       unsigned steps)
{
	struct strtab strings;
	struct sim *s = boot_i386(&strings, arch, mem);
	struct ref_pkmap r = {.last = s->mm.pkmap.last_pkmap};
	cr_assert_gt(r.last, 0);
	for (unsigned i = 0; i < LAST_PKMAP_MAX; i++)
		r.page[i] = PFN_NONE;
	const struct zone *hz = &s->pgdat.node_zones[ZONE_HIGHMEM];
	pfn_t held[2048];
	unsigned nr_held = 0, busy = 0;
	for (unsigned step = 0; step < steps; step++) {
		uint64_t x = rng_next(&seed);
		pfn_t pfn = hz->zone_start_pfn + (pfn_t)(x % pool);
		unsigned op = (unsigned)(x >> 32) % 16;
		/* phases of 10000 steps that only hold, then only release */
		unsigned hold_end = (step / 10000) % 2 ? 12 : 16;
		if (op < 12 || (op < hold_end && nr_held == 2048)) {
			int got = kmap_high(s, pfn);
			cr_assert_eq(got, ref_kmap(&r, pfn), "step %u: kmap result", step);
			if (got == 0) {
				kunmap_high(s, pfn);
				ref_kunmap(&r, pfn);
			}
		} else if (op < hold_end) {
			int got = kmap_high(s, pfn);
			cr_assert_eq(got, ref_kmap(&r, pfn), "step %u: kmap result", step);
			if (got == 0)
				held[nr_held++] = pfn;
			busy += got < 0;
		} else if (nr_held) {
			unsigned i = (unsigned)(x >> 40) % nr_held;
			kunmap_high(s, held[i]);
			ref_kunmap(&r, held[i]);
			held[i] = held[--nr_held];
		}
		expect_same(s, &r, step);
	}
	cr_expect_gt(r.flushes, 0, "the run should wrap the window");
	sim_destroy(s);
	strtab_free(&strings);
	return busy;
}

Test(highmem, pkmap_matches_reference_1024_slots)
{
	random_run(ARCH_I386, "1G", 3000, 0x9e3779b97f4a7c15ull, 60000);
}

Test(highmem, pkmap_matches_reference_pae_512_slots_crowded)
{
	/* a pool near the window's size keeps pages mapped across wraps, and the held ones
	 * fill the window */
	cr_expect_gt(random_run(ARCH_I386_PAE, "2G", 700, 12345, 60000), 0,
		     "the held frames should fill the window at times");
}

Test(highmem, lowmem_frames_are_not_mapped)
{
	struct strtab strings;
	struct sim *s = boot_i386(&strings, ARCH_I386, "1G");
	pfn_t low = s->pgdat.node_zones[ZONE_NORMAL].zone_start_pfn + 10;
	cr_expect_eq(kmap_high(s, low), 0);
	cr_expect_eq(s->vmstat[KMAP], 0);
	for (unsigned i = 0; i < s->mm.pkmap.last_pkmap; i++)
		cr_expect_eq(s->mm.pkmap.count[i], 0);
	sim_destroy(s);
	strtab_free(&strings);
}
