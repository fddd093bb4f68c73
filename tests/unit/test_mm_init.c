/* page_alloc_init's memmap and boot frees (engine/mm_init.c) against the per-pfn rule
 * machine_pfn_free_at_boot: boot works on ranges, the rule asks page by page, and both
 * must give the same frames, flags, refcounts, zones and free counts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "page_alloc.h"
#include "testlib_machine.h"
#include "vmstat.h"
#include "testlib_rng.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)

static unsigned zone_of(const struct pglist_data *pg, pfn_t pfn)
{
	for (unsigned z = 0; z < MAX_NR_ZONES; z++) {
		const struct zone *zn = &pg->node_zones[z];
		if (zn->spanned_pages && zn->zone_start_pfn <= pfn &&
		    pfn - zn->zone_start_pfn < zn->spanned_pages)
			return z;
	}
	return 0;
}

/* Every struct page of the node as the page-by-page boot left it; free counts per zone. */
static void check_boot(const struct machine *m, const char *what)
{
	static uint64_t vmstat[NR_VM_STAT_ITEMS];
	struct pglist_data *pg = malloc(sizeof(*pg));
	cr_assert_not_null(pg);
	memset(vmstat, 0, sizeof(vmstat));
	cr_assert_eq(page_alloc_init(pg, m, vmstat), 0, "%s", what);
	uint64_t free_in[MAX_NR_ZONES] = {0}, total = 0;
	for (uint64_t i = 0; i < pg->node_spanned_pages; i++) {
		pfn_t pfn = pg->node_start_pfn + (pfn_t)i;
		const struct page *p = &pg->mem_map[i];
		unsigned z = zone_of(pg, pfn);
		bool is_free = machine_pfn_free_at_boot(m, pfn);
		cr_assert_eq(!page_test(p, PG_reserved), is_free, "%s: pfn %u reserved flag", what,
			     pfn);
		cr_assert_eq(p->refcount, is_free ? 0 : 1, "%s: pfn %u refcount", what, pfn);
		cr_assert_eq(page_zonenum(p), z, "%s: pfn %u zone", what, pfn);
		cr_assert_eq(p->mapcount | (int32_t)p->mapping, 0, "%s: pfn %u", what, pfn);
		/* buddy heads carry links, order (private) and migratetype (index) */
		if (!page_test(p, PG_buddy))
			cr_assert(p->next == PFN_NONE && p->prev == PFN_NONE && p->private == 0 &&
				      p->index == 0,
				  "%s: pfn %u has buddy fields but is no buddy head", what, pfn);
		free_in[z] += is_free;
		total += is_free;
	}
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		const struct zone *zn = &pg->node_zones[z];
		cr_assert_eq(zn->managed_pages, free_in[z], "%s: zone %d managed", what, z);
		cr_assert_eq(zn->nr_free_pages, free_in[z], "%s: zone %d free", what, z);
		uint64_t listed = 0;
		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			listed += zn->free_area[o].nr_free << o;
		cr_assert_eq(listed, free_in[z], "%s: zone %d free lists", what, z);
	}
	cr_assert_eq(vmstat[PGFREE], total, "%s: pgfree", what);
	page_alloc_destroy(pg);
	free(pg);
}

Test(mm_init, real_boots_free_what_the_pfn_rule_frees)
{
	static const struct {
		enum arch arch;
		uint64_t mem;
	} boots[] = {
	    {ARCH_I386, 48 * MiB},
	    {ARCH_I386, 256 * MiB},
	    {ARCH_I386, 895 * MiB},
	    {ARCH_I386, 1 * GiB},
	    {ARCH_I386, 5 * GiB},
	    {ARCH_I386_PAE, 3 * GiB},
	    {ARCH_I386_PAE, 5 * GiB},
	    {ARCH_X86_64, 96 * MiB},
	    {ARCH_X86_64, 1 * GiB},
	    {ARCH_X86_64, 3583 * MiB},
	    {ARCH_X86_64, 4 * GiB},
	    {ARCH_X86_64, 5 * GiB},
	    {ARCH_X86_64, 4097 * MiB + 512},
	};
	struct machine *m = malloc(sizeof(*m));
	cr_assert_not_null(m);
	for (size_t i = 0; i < sizeof(boots) / sizeof(boots[0]); i++) {
		struct machine_config cfg;
		char err[256] = "", what[64];
		machine_config_default(&cfg, boots[i].arch);
		cfg.mem_limit = cfg.ram = boots[i].mem;
		cr_assert_eq(machine_setup(m, &cfg, err, sizeof(err)), 0, "%s", err);
		snprintf(what, sizeof(what), "%s mem=%lluK", arch_names[boots[i].arch],
			 (unsigned long long)(boots[i].mem >> 10));
		check_boot(m, what);
	}
	free(m);
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
	return tl_splitmix64(&rng_state);
}

/* A byte address near a, now and then mid-page, so page rounding matters. */
static uint64_t near(uint64_t a)
{
	switch (rnd() % 4) {
	case 0:
		return a + rnd() % PAGE_SIZE;
	case 1:
		return a + PAGE_SIZE * (rnd() % 3);
	default:
		return a;
	}
}

/* Random RAM maps (several e820 ranges, unaligned, touching or with holes) and random
 * reservations (unaligned, sharing pages, nested, empty, outside RAM), over 2 or 3 zones. */
Test(mm_init, random_maps_free_what_the_pfn_rule_frees)
{
	rng_state = 0x6d6d5f696e6974ull;
	struct machine *m = malloc(sizeof(*m));
	cr_assert_not_null(m);
	for (int round = 0; round < 300; round++) {
		/* x86_64: DMA, DMA32, maybe Normal; i386: DMA, Normal, maybe HighMem */
		bool x86_64 = rnd() % 2;
		pfn_t ends[MAX_NR_ZONES] = {4096, 0, 0, 0};
		int z1 = x86_64 ? ZONE_DMA32 : ZONE_NORMAL;
		ends[z1] = 4096 + 1 + (pfn_t)(rnd() % 20000);
		if (rnd() % 2)
			ends[z1 + 1] = ends[z1] + 1 + (pfn_t)(rnd() % 9000);
		pfn_t start = (pfn_t)(rnd() % 3);
		test_machine(m, x86_64 ? ARCH_X86_64 : ARCH_I386, start, ends, 9 + rnd() % 2);
		uint64_t top = (uint64_t)m->max_pfn << PAGE_SHIFT;
		if (rnd() % 3 == 0) /* RAM beyond max_pfn is not handed out */
			m->max_pfn -= (pfn_t)(rnd() % 100);
		uint64_t a = near((uint64_t)start << PAGE_SHIFT);
		m->nr_e820 = 0;
		while (a < top && m->nr_e820 < 8) {
			uint64_t b = near(a + (rnd() % 6000 + 1) * PAGE_SIZE);
			b = b > top || m->nr_e820 == 7 ? top : b;
			m->e820[m->nr_e820++] = (struct phys_range){a, b, "usable"};
			a = rnd() % 2 ? b : near(b + PAGE_SIZE * (rnd() % 50));
		}
		uint64_t r = 0;
		m->nr_reserved = 0;
		while (m->nr_reserved < MACHINE_MAX_RANGES && r < top) {
			r = near(r + PAGE_SIZE * (rnd() % 4000));
			uint64_t e = rnd() % 8 ? near(r + PAGE_SIZE * (rnd() % 40)) : r;
			m->reserved[m->nr_reserved++] = (struct phys_range){r, e, "test"};
			/* one reservation inside another (the low 1 MiB and the EBDA) */
			if (e - r > 2 * PAGE_SIZE && rnd() % 4 == 0 &&
			    m->nr_reserved < MACHINE_MAX_RANGES)
				m->reserved[m->nr_reserved++] = (struct phys_range){
				    r + PAGE_SIZE, r + PAGE_SIZE + 100, "nested"};
			r = e;
		}
		char what[32];
		snprintf(what, sizeof(what), "round %d", round);
		check_boot(m, what);
	}
	free(m);
}
