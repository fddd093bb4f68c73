/* Reserves the allocator sizes at boot and after sysctl changes: min_free_kbytes,
 * watermarks, lowmem_reserve, totalreserve_pages, pcp batch/high, vmstat thresholds
 * (mm/page_alloc.c, mm/khugepaged.c, mm/vmstat.c; Linux 6.1). */
#include "page_alloc.h"
#include "page_alloc_internal.h"

/* include/linux/swap.h SWAP_CLUSTER_MAX */
#define SWAP_CLUSTER_MAX 32u

static bool is_highmem_idx(int zi) { return zi == ZONE_HIGHMEM; }

/* lib/math/int_sqrt.c: floor of the square root */
static uint64_t int_sqrt(uint64_t x)
{
	uint64_t r = 0, bit = 1ull << 62;
	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

/* mult_frac(x, n, d) without overflow of x * n */
static uint64_t mult_frac(uint64_t x, uint64_t n, uint64_t d)
{
	return (x / d) * n + (x % d) * n / d;
}

/* nr_free_buffer_pages → nr_free_zone_pages(gfp_zone(GFP_USER)): managed above the high
 * watermark, over the zones up to Normal. */
static uint64_t nr_free_buffer_pages(const struct pglist_data *pgdat)
{
	uint64_t sum = 0;
	for (int zi = 0; zi <= ZONE_NORMAL; zi++) {
		const struct zone *z = &pgdat->node_zones[zi];
		uint64_t high = wmark_pages(z, WMARK_HIGH);
		if (z->managed_pages > high)
			sum += z->managed_pages - high;
	}
	return sum;
}

/* calculate_totalreserve_pages */
static void calculate_totalreserve_pages(struct pglist_data *pgdat)
{
	uint64_t total = 0;
	for (int i = 0; i < MAX_NR_ZONES; i++) {
		const struct zone *z = &pgdat->node_zones[i];
		int64_t max = 0;
		for (int j = i; j < MAX_NR_ZONES; j++)
			if (z->lowmem_reserve[j] > max)
				max = z->lowmem_reserve[j];
		uint64_t r = (uint64_t)max + wmark_pages(z, WMARK_HIGH);
		total += r > z->managed_pages ? z->managed_pages : r;
	}
	pgdat->totalreserve_pages = total;
}

/* setup_per_zone_lowmem_reserve */
static void setup_per_zone_lowmem_reserve(struct pglist_data *pgdat)
{
	for (int i = 0; i < MAX_NR_ZONES; i++) {
		struct zone *z = &pgdat->node_zones[i];
		int ratio = pgdat->vm.lowmem_reserve_ratio[i];
		bool clear = ratio <= 0 || !z->managed_pages;
		uint64_t upper = 0;
		for (int j = 0; j <= i; j++)
			z->lowmem_reserve[j] = 0;
		for (int j = i + 1; j < MAX_NR_ZONES; j++) {
			upper += pgdat->node_zones[j].managed_pages;
			z->lowmem_reserve[j] = clear ? 0 : (int64_t)(upper / (uint64_t)ratio);
		}
		zone_update_fast_mark(z);
	}
	calculate_totalreserve_pages(pgdat);
}

/* __setup_per_zone_wmarks */
static void setup_wmarks(struct pglist_data *pgdat)
{
	uint64_t pages_min = pgdat->min_free_kbytes >> (PAGE_SHIFT - 10);
	uint64_t lowmem_pages = 0;
	for (int zi = 0; zi < MAX_NR_ZONES; zi++)
		if (!is_highmem_idx(zi))
			lowmem_pages += pgdat->node_zones[zi].managed_pages;
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct zone *z = &pgdat->node_zones[zi];
		if (!zone_configured(pgdat, (enum zone_type)zi))
			continue;
		uint64_t tmp = lowmem_pages ? pages_min * z->managed_pages / lowmem_pages : 0;
		if (is_highmem_idx(zi)) {
			/* highmem: a small min, capped, since __GFP_HIGH users rarely need it */
			uint64_t min_pages = z->managed_pages / 1024;
			if (min_pages < SWAP_CLUSTER_MAX)
				min_pages = SWAP_CLUSTER_MAX;
			if (min_pages > 128)
				min_pages = 128;
			z->watermark[WMARK_MIN] = min_pages;
		} else {
			z->watermark[WMARK_MIN] = tmp;
		}
		uint64_t scale =
		    mult_frac(z->managed_pages, (uint64_t)pgdat->vm.watermark_scale_factor, 10000);
		uint64_t delta = tmp >> 2 > scale ? tmp >> 2 : scale;
		z->watermark_boost = 0;
		z->watermark[WMARK_LOW] = z->watermark[WMARK_MIN] + delta;
		z->watermark[WMARK_HIGH] = z->watermark[WMARK_LOW] + delta;
		z->watermark[WMARK_PROMO] = z->watermark[WMARK_HIGH] + delta;
		zone_update_fast_mark(z);
	}
	calculate_totalreserve_pages(pgdat);
}

/* zone_batchsize (CONFIG_MMU) */
static int zone_batchsize(const struct zone *z)
{
	uint64_t batch = z->managed_pages >> 10;
	if (batch > (1u << 20) / PAGE_SIZE)
		batch = (1u << 20) / PAGE_SIZE;
	batch /= 4;
	if (batch < 1)
		batch = 1;
	uint64_t x = batch + batch / 2; /* rounddown_pow_of_two(x) - 1 */
	uint64_t p = 1;
	while (p * 2 <= x)
		p *= 2;
	return (int)(p - 1);
}

/* zone_highsize (6.1): the low watermark (or managed/fraction) split over the CPUs */
static int zone_highsize(const struct pglist_data *pgdat, const struct zone *z, int batch)
{
	uint64_t total = pgdat->vm.percpu_pagelist_high_fraction
			     ? z->managed_pages / (uint64_t)pgdat->vm.percpu_pagelist_high_fraction
			     : wmark_pages(z, WMARK_LOW);
	uint64_t high = total / pgdat->nr_cpus;
	if (high < (uint64_t)batch << 2)
		high = (uint64_t)batch << 2;
	return (int)high;
}

/* mm/vmstat.c calculate_normal_threshold */
static int calculate_normal_threshold(const struct pglist_data *pgdat, const struct zone *z)
{
	uint64_t mem = z->managed_pages >> (27 - PAGE_SHIFT);
	int fls_cpus = 32 - __builtin_clz(pgdat->nr_cpus);
	int fls_mem = mem ? 64 - __builtin_clzll(mem) : 0;
	int t = 2 * fls_cpus * (1 + fls_mem);
	return t < 125 ? t : 125;
}

/* zone_pcp_update → zone_set_pageset_high_and_batch; false when the host has no memory
 * for the lists' rings */
static bool zone_pcp_update(struct pglist_data *pgdat, struct zone *z)
{
	int batch = zone_batchsize(z);
	if (batch < 1)
		batch = 1;
	int high = zone_highsize(pgdat, z, batch);
	z->stat_threshold = calculate_normal_threshold(pgdat, z);
	bool ok = true;
	for (unsigned c = 0; z->pcp && c < pgdat->nr_cpus; c++) {
		z->pcp[c].batch = batch;
		z->pcp[c].high = high;
		ok &= pcp_lists_reserve(pgdat, &z->pcp[c]);
	}
	return ok;
}

static int setup_per_zone_wmarks_now(struct pglist_data *pgdat)
{
	setup_wmarks(pgdat);
	bool ok = true;
	for (int zi = 0; zi < MAX_NR_ZONES; zi++)
		ok &= zone_pcp_update(pgdat, &pgdat->node_zones[zi]);
	return ok ? 0 : -1;
}

/* calculate_min_free_kbytes: int_sqrt(lowmem_kbytes * 16) clamped to [128, 262144] */
static uint64_t calculate_min_free_kbytes(const struct pglist_data *pgdat)
{
	uint64_t lowmem_kbytes = nr_free_buffer_pages(pgdat) * (PAGE_SIZE >> 10);
	uint64_t v = int_sqrt(lowmem_kbytes * 16);
	return v < 128 ? 128 : v > 262144 ? 262144 : v;
}

/* mm/khugepaged.c set_recommended_min_free_kbytes */
static uint64_t recommended_min_free_kbytes(const struct pglist_data *pgdat)
{
	uint64_t nr_zones = 0;
	for (int zi = 0; zi <= ZONE_NORMAL; zi++)
		if (pgdat->node_zones[zi].populated)
			nr_zones++;
	uint64_t pb = pageblock_nr_pages(pgdat);
	uint64_t rec = pb * nr_zones * 2 + pb * nr_zones * MIGRATE_PCPTYPES * MIGRATE_PCPTYPES;
	uint64_t cap = nr_free_buffer_pages(pgdat) / 20;
	if (rec > cap)
		rec = cap;
	return rec << (PAGE_SHIFT - 10);
}

int init_per_zone_wmark_min(struct pglist_data *pgdat, bool thp)
{
	/* boot: init_per_zone_wmark_min (postcore_initcall), then khugepaged's start raises
	 * min_free_kbytes for THP (subsys_initcall hugepage_init); a user value set through
	 * the sysctl afterwards replaces both. */
	pgdat->min_free_kbytes = calculate_min_free_kbytes(pgdat);
	int err = setup_per_zone_wmarks_now(pgdat);
	setup_per_zone_lowmem_reserve(pgdat);
	if (thp) {
		uint64_t rec = recommended_min_free_kbytes(pgdat);
		if (rec > pgdat->min_free_kbytes) {
			pgdat->min_free_kbytes = rec;
			err |= setup_per_zone_wmarks_now(pgdat);
		}
	}
	if (pgdat->vm.min_free_kbytes) {
		pgdat->min_free_kbytes = pgdat->vm.min_free_kbytes;
		err |= setup_per_zone_wmarks_now(pgdat);
	}
	return err;
}

int setup_per_zone_wmarks(struct pglist_data *pgdat, const struct vm_sysctl *vm)
{
	pgdat->vm = *vm;
	if (vm->min_free_kbytes)
		pgdat->min_free_kbytes = vm->min_free_kbytes;
	int err = setup_per_zone_wmarks_now(pgdat);
	setup_per_zone_lowmem_reserve(pgdat);
	return err;
}
