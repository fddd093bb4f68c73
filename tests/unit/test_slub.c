/* SLUB and kmalloc: size classes, slab orders, a randomized run against a reference model
 * with the invariants checked after every step, frees the trace cannot explain, internal
 * fragmentation and the /proc/slabinfo format. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "page_alloc.h"
#include "slub.h"
#include "testlib_machine.h"
#include "vmstat.h"
#include "testlib_rng.h"

struct rig {
	struct machine m;
	struct pglist_data pg;
	struct slub s;
	uint64_t vmstat[NR_VM_STAT_ITEMS];
	uint64_t boot_free;
};

/* i386, 256 MiB: DMA [1, 4096), Normal [4096, 65536). */
static struct rig *rig_boot(unsigned nr_cpus)
{
	struct rig *r = calloc(1, sizeof(*r));
	pfn_t ends[MAX_NR_ZONES] = {4096, 0, 65536, 0};
	test_machine(&r->m, ARCH_I386, 1, ends, 10);
	r->m.cfg.nr_cpus = nr_cpus;
	cr_assert_eq(page_alloc_init(&r->pg, &r->m, r->vmstat), 0);
	cr_assert_eq(slub_init(&r->s, &r->pg, &r->m, r->vmstat), 0);
	r->boot_free = global_free_pages(&r->pg);
	return r;
}

static void rig_free(struct rig *r)
{
	slub_destroy(&r->s);
	page_alloc_destroy(&r->pg);
	free(r);
}

static struct mm_event kev(uint8_t type, uint64_t ptr, uint32_t req, gfp_t gfp, uint64_t site)
{
	struct mm_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.pid = 1;
	ev.u.kmem.ptr = ptr;
	ev.u.kmem.bytes_req = req;
	ev.u.kmem.gfp = gfp;
	ev.u.kmem.call_site = site;
	return ev;
}

/* The kernel's classes written out independently of kmalloc_index. */
static unsigned expected_class(unsigned size)
{
	static const unsigned small[] = {8, 16, 32, 64, 96, 128, 192, 256};
	for (unsigned k = 0; k < 8; k++)
		if (size <= small[k])
			return small[k];
	unsigned c = 512;
	while (c < size)
		c *= 2;
	return c;
}

Test(slub, size_classes_1_to_8193)
{
	struct rig *r = rig_boot(1);
	char name[32];
	for (unsigned size = 1; size <= KMALLOC_MAX_CACHE_SIZE; size++) {
		unsigned want = expected_class(size);
		cr_assert_eq(kmalloc_index_size(kmalloc_index(size)), want, "size %u", size);
		struct slab_obj o;
		cr_assert(slub_kmalloc(&r->s, size, GFP_KERNEL, &o));
		cr_assert_eq(slub_obj_size(&r->s, &o), want);
		if (want >= 1024)
			snprintf(name, sizeof(name), "kmalloc-%uk", want / 1024);
		else
			snprintf(name, sizeof(name), "kmalloc-%u", want);
		cr_assert_str_eq(r->s.caches[o.cache].name, name, "size %u", size);
		slub_free(&r->s, &o);
	}
	cr_assert_eq(kmalloc_index(8193), -1);
	struct slab_obj o;
	uint64_t unrecl = slub_sunreclaim_bytes(&r->s);
	cr_assert(slub_kmalloc(&r->s, 8193, GFP_KERNEL, &o));
	cr_assert_eq(o.cache, SLUB_CACHE_LARGE);
	cr_assert_eq(o.obj, 2, "8193 bytes is get_order 2");
	cr_assert_eq(slub_sunreclaim_bytes(&r->s), unrecl + 16384, "kmalloc_large is SUnreclaim");
	cr_assert_eq(r->s.large_pages, 4);
	slub_free(&r->s, &o);
	cr_assert_eq(r->s.large_pages, 0);
	cr_assert(!slub_kmalloc(&r->s, KMALLOC_MAX_SIZE + 1, GFP_KERNEL, &o));
	cr_assert_null(slub_check(&r->s));
	rig_free(r);
}

Test(slub, kmalloc_types_and_zones)
{
	struct rig *r = rig_boot(1);
	struct slab_obj o;
	cr_assert_eq(kmalloc_type(GFP_KERNEL), KMALLOC_NORMAL);
	cr_assert_eq(kmalloc_type(GFP_KERNEL | __GFP_DMA | __GFP_RECLAIMABLE), KMALLOC_DMA);
	cr_assert_eq(kmalloc_type(GFP_KERNEL | __GFP_RECLAIMABLE | __GFP_ACCOUNT), KMALLOC_RECLAIM);
	cr_assert_eq(kmalloc_type(GFP_KERNEL_ACCOUNT), KMALLOC_CGROUP);

	cr_assert(slub_kmalloc(&r->s, 100, GFP_KERNEL | __GFP_DMA, &o));
	cr_assert_str_eq(r->s.caches[o.cache].name, "dma-kmalloc-128");
	pfn_t pfn = slab_at(&r->s.caches[o.cache], o.slab)->pfn;
	cr_assert_eq(page_zonenum(pfn_to_page(&r->pg, pfn)), ZONE_DMA);
	slub_free(&r->s, &o);

	uint64_t recl = slub_sreclaimable_bytes(&r->s);
	cr_assert(slub_kmalloc(&r->s, 3000, GFP_KERNEL | __GFP_RECLAIMABLE, &o));
	cr_assert_str_eq(r->s.caches[o.cache].name, "kmalloc-rcl-4k");
	cr_assert_eq(slub_sreclaimable_bytes(&r->s), recl + (PAGE_SIZE << 3), "one order-3 slab");
	pfn = slab_at(&r->s.caches[o.cache], o.slab)->pfn;
	cr_assert_lt(page_zonenum(pfn_to_page(&r->pg, pfn)), ZONE_HIGHMEM);
	cr_assert(pfn_to_page(&r->pg, pfn)->flags & PG_slab);
	slub_free(&r->s, &o);

	cr_assert(slub_kmalloc(&r->s, 20, GFP_KERNEL_ACCOUNT | __GFP_HIGHMEM, &o));
	cr_assert_str_eq(r->s.caches[o.cache].name, "kmalloc-cg-32");
	pfn = slab_at(&r->s.caches[o.cache], o.slab)->pfn;
	cr_assert_neq(page_zonenum(pfn_to_page(&r->pg, pfn)), ZONE_HIGHMEM,
		      "slab pages are lowmem");
	slub_free(&r->s, &o);
	cr_assert_null(slub_check(&r->s));
	rig_free(r);
}

struct order_row {
	unsigned size, order, objects;
};

static void check_orders(unsigned cpus, const struct order_row *rows, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		unsigned order = slub_calculate_order(rows[k].size, cpus);
		cr_assert_eq(order, rows[k].order, "%u CPUs, size %u: order %u", cpus, rows[k].size,
			     order);
		cr_assert_eq(slub_order_objects(order, rows[k].size), rows[k].objects,
			     "%u CPUs, size %u", cpus, rows[k].size);
	}
}

/* LINUX-MM-FACTS §6 (the 2-CPU row matches a live /proc/slabinfo). */
Test(slub, calculate_order_table)
{
	static const struct order_row one[] = {
	    {8, 0, 512},  {16, 0, 256}, {32, 0, 128}, {64, 0, 64}, {96, 0, 42},
	    {128, 0, 32}, {192, 0, 21}, {256, 0, 16}, {512, 0, 8}, {1024, 1, 8},
	    {2048, 2, 8}, {4096, 3, 8}, {8192, 3, 4},
	};
	static const struct order_row two[] = {
	    {8, 0, 512},   {16, 0, 256}, {32, 0, 128}, {64, 0, 64},  {96, 0, 42},
	    {128, 0, 32},  {192, 0, 21}, {256, 0, 16}, {512, 1, 16}, {1024, 2, 16},
	    {2048, 3, 16}, {4096, 3, 8}, {8192, 3, 4},
	};
	static const struct order_row eight[] = {
	    {256, 1, 32}, {512, 2, 32}, {1024, 3, 32}, {2048, 3, 16}, {4096, 3, 8}, {8192, 3, 4},
	};
	check_orders(1, one, sizeof(one) / sizeof(one[0]));
	check_orders(2, two, sizeof(two) / sizeof(two[0]));
	check_orders(4, two, sizeof(two) / sizeof(two[0]));
	check_orders(8, eight, sizeof(eight) / sizeof(eight[0]));
	/* live 6.18 x86_64 slabinfo, 2 CPUs: task_struct 5888 → 5 per order-3 slab, mm_struct 1600
	 * → 20 */
	cr_assert_eq(slub_calculate_order(5888, 2), 3);
	cr_assert_eq(slub_calculate_order(1600, 2), 3);
	cr_assert_eq(slub_calculate_order(704, 2), 2, "files_cache: 23 objects, 4 pages");
	cr_assert_eq(slub_calculate_order(2112, 2), 3, "sighand_cache: 15 objects, 8 pages");
}

static uint64_t rng;
static uint64_t rnd(void)
{
	return tl_splitmix64(&rng);
}

struct ref_obj {
	uint64_t ptr;
	uint32_t size;
	bool large;
};

static void random_run(unsigned cpus, uint64_t seed, int steps)
{
	static const gfp_t gfps[] = {GFP_KERNEL,
				     GFP_KERNEL,
				     GFP_ATOMIC,
				     GFP_KERNEL_ACCOUNT,
				     GFP_KERNEL | __GFP_RECLAIMABLE,
				     GFP_KERNEL | __GFP_DMA};
	struct rig *r = rig_boot(cpus);
	struct ref_obj *live = calloc((size_t)steps, sizeof(*live));
	size_t nlive = 0, nlarge = 0;
	uint64_t next_ptr = 0xc1000000u;
	rng = seed;
	for (int step = 0; step < steps; step++) {
		bool grow = (step / 700) % 2 == 0;
		if (nlive && rnd() % 100 < (grow ? 35u : 70u)) {
			size_t k = rnd() % nlive;
			struct mm_event ev = kev(EV_KFREE, live[k].ptr, 0, 0, 0x100);
			slub_kfree_event(&r->s, &ev);
			nlarge -= live[k].large;
			live[k] = live[--nlive];
		} else {
			uint64_t x = rnd();
			uint32_t size = x % 50 == 0
					    ? 8193 + (uint32_t)(x % 30000)
					    : 1 + (uint32_t)((x >> 8) % (x % 4 ? 512 : 8192));
			struct mm_event ev = kev(EV_KMALLOC, next_ptr, size, gfps[(x >> 40) % 6],
						 0x1000 + (x >> 50) % 16);
			ev.cpu = (uint16_t)(x % cpus);
			slub_kmalloc_event(&r->s, &ev);
			live[nlive++] =
			    (struct ref_obj){next_ptr, size, size > KMALLOC_MAX_CACHE_SIZE};
			nlarge += size > KMALLOC_MAX_CACHE_SIZE;
			next_ptr += 64;
		}
		const char *why = slub_check(&r->s);
		cr_assert_null(why, "step %d: %s", step, why);
		cr_assert_eq(slub_live_pointers(&r->s), nlive, "step %d", step);
		uint64_t inuse = 0;
		for (uint32_t c = 0; c < r->s.nr_caches; c++)
			inuse += r->s.caches[c].inuse_objects;
		cr_assert_eq(inuse + r->s.large_allocs - r->s.large_frees, nlive, "step %d", step);
		cr_assert_eq(r->s.large_allocs - r->s.large_frees, nlarge);
	}
	cr_assert_eq(r->vmstat[SLAB_ALLOC_FAIL], 0, "256 MiB never runs out here");
	while (nlive) {
		struct mm_event ev = kev(EV_KFREE, live[--nlive].ptr, 0, 0, 0x100);
		slub_kfree_event(&r->s, &ev);
	}
	cr_assert_null(slub_check(&r->s));
	uint64_t slab_pages = 0;
	for (uint32_t c = 0; c < r->s.nr_caches; c++) {
		const struct kmem_cache *kc = &r->s.caches[c];
		cr_assert_eq(kc->inuse_objects, 0);
		cr_assert_leq(kc->nr_slabs, kc->min_partial, "%s keeps %llu empty slabs", kc->name,
			      (unsigned long long)kc->nr_slabs);
		slab_pages += kc->nr_pages;
	}
	cr_assert_gt(slab_pages, 0, "some empty partial slabs are kept");
	cr_assert_eq(r->s.large_pages, 0);
	cr_assert_eq(slub_sreclaimable_bytes(&r->s) + slub_sunreclaim_bytes(&r->s),
		     slab_pages * PAGE_SIZE);
	drain_all_pages(&r->pg);
	cr_assert_eq(global_free_pages(&r->pg) + slab_pages, r->boot_free);
	free(live);
	rig_free(r);
}

Test(slub, random_run_1cpu) { random_run(1, 42, 3000); }

Test(slub, random_run_2cpu) { random_run(2, 7, 3000); }

Test(slub, min_partial_policy)
{
	struct rig *r = rig_boot(1);
	/* kmalloc-512: 8 per order-0 slab, min_partial = clamp(ilog2(512)/2, 5, 10) = 5 */
	int cache = r->s.kmalloc_caches[KMALLOC_NORMAL][9];
	const struct kmem_cache *kc = &r->s.caches[cache];
	cr_assert_eq(kc->min_partial, 5);
	cr_assert_eq(r->s.caches[r->s.kmalloc_caches[KMALLOC_NORMAL][13]].min_partial, 6);
	struct slab_obj o[80];
	for (int k = 0; k < 80; k++)
		cr_assert(slub_kmalloc(&r->s, 512, GFP_KERNEL, &o[k]));
	cr_assert_eq(kc->nr_slabs, 10);
	cr_assert_eq(kc->nr_partial, 0);
	for (int k = 0; k < 80; k++)
		slub_free(&r->s, &o[k]);
	/* __slab_free compares n->nr_partial, which already counts the emptying slab, with
	 * min_partial: the fifth partial slab is discarded when it empties, so 4 stay */
	cr_assert_eq(kc->nr_slabs, 4, "%llu", (unsigned long long)kc->nr_slabs);
	cr_assert_eq(kc->nr_partial, 4);
	cr_assert_null(slub_check(&r->s));
	rig_free(r);
}

Test(slub, unknown_double_and_missed_frees)
{
	struct rig *r = rig_boot(1);
	struct mm_event a = kev(EV_KMALLOC, 0xc2000000u, 100, GFP_KERNEL, 0x10);
	struct mm_event f = kev(EV_KFREE, 0xc2000000u, 0, 0, 0x10);
	struct mm_event u = kev(EV_KFREE, 0xc3000000u, 0, 0, 0x10);
	struct mm_event z = kev(EV_KFREE, 0x10, 0, 0, 0x10);
	slub_kfree_event(&r->s, &u);
	cr_assert_eq(r->vmstat[SLAB_UNKNOWN_FREE], 1);
	slub_kfree_event(&r->s, &z); /* kfree(ZERO_SIZE_PTR) is a no-op */
	cr_assert_eq(r->vmstat[SLAB_UNKNOWN_FREE], 1);
	slub_kmalloc_event(&r->s, &a);
	slub_kmalloc_event(&r->s, &a);
	cr_assert_eq(r->vmstat[SLAB_MISSED_FREE], 1);
	cr_assert_eq(slub_live_pointers(&r->s), 1);
	slub_kfree_event(&r->s, &f);
	slub_kfree_event(&r->s, &f);
	cr_assert_eq(r->vmstat[SLAB_DOUBLE_FREE], 1);
	cr_assert_eq(r->s.double_frees[0].ptr, 0xc2000000u);
	cr_assert_eq(r->vmstat[SLAB_UNKNOWN_FREE], 1);
	cr_assert_eq(r->vmstat[SLAB_ALLOC], 2);
	cr_assert_eq(r->vmstat[SLAB_FREE], 2);
	/* larger than KMALLOC_MAX_SIZE: fails here as in the kernel; its free is not unknown */
	struct mm_event big = kev(EV_KMALLOC, 0xc7000000u, 5u << 20, GFP_KERNEL, 0x10);
	slub_kmalloc_event(&r->s, &big);
	cr_assert_eq(r->vmstat[SLAB_ALLOC_FAIL], 1);
	struct mm_event bigf = kev(EV_KFREE, 0xc7000000u, 0, 0, 0x10);
	slub_kfree_event(&r->s, &bigf);
	cr_assert_eq(r->vmstat[SLAB_UNKNOWN_FREE], 1);
	cr_assert_eq(r->vmstat[SLAB_DOUBLE_FREE], 1);
	/* the recording kernel's bytes_alloc disagreeing with ours is counted */
	struct mm_event m = kev(EV_KMALLOC, 0xc8000000u, 100, GFP_KERNEL, 0x10);
	m.u.kmem.bytes_alloc = 128;
	slub_kmalloc_event(&r->s, &m);
	cr_assert_eq(r->s.size_mismatch, 0);
	m.u.kmem.ptr += 128;
	m.u.kmem.bytes_alloc = 100;
	slub_kmalloc_event(&r->s, &m);
	cr_assert_eq(r->s.size_mismatch, 1);
	struct strbuf sb;
	strbuf_init(&sb);
	slub_render_callers(&r->s, &sb, 10);
	cr_assert(strstr(sb.buf, "double frees: 1"));
	cr_assert(strstr(sb.buf, "double free: ts=0 pid=1 ptr=0xc2000000 call_site=0x10"));
	strbuf_free(&sb);
	cr_assert_null(slub_check(&r->s));
	/* traced_free takes any slot not PTR_LIVE as not live, an empty one included: the
	 * check rejects an empty slot whose state is not the zero of PTR_FREED */
	uint32_t j = 0;
	while (r->s.ptrs[j].ptr)
		j++;
	r->s.ptrs[j].state = 1;
	cr_assert_str_eq(slub_check(&r->s), "empty pointer slot not in the freed state");
	r->s.ptrs[j].state = 0;
	cr_assert_null(slub_check(&r->s));
	rig_free(r);
}

Test(slub, internal_fragmentation_scripted)
{
	struct rig *r = rig_boot(2);
	static const uint32_t req[] = {1,   7,	 8,   9,    33,	  65,	97,   100,
				       129, 200, 257, 1000, 3000, 5000, 8193, 20000};
	uint64_t sum_req = 0, sum_alloc = 0;
	for (unsigned k = 0; k < sizeof(req) / sizeof(req[0]); k++) {
		struct mm_event ev =
		    kev(EV_KMALLOC, 0xc4000000u + 0x10000u * k, req[k], GFP_KERNEL, 0x20 + k % 2);
		slub_kmalloc_event(&r->s, &ev);
		sum_req += req[k];
		uint64_t alloc =
		    req[k] > 8192 ? (req[k] > 16384 ? 32768 : 16384) : expected_class(req[k]);
		sum_alloc += alloc;
	}
	struct slub_frag f;
	slub_fragmentation(&r->s, -1, &f);
	cr_assert_eq(f.bytes_req, sum_req);
	cr_assert_eq(f.bytes_alloc, sum_alloc);
	cr_assert_eq(f.internal, sum_alloc - sum_req);
	double pct = 100.0 - 100.0 * (double)sum_req / (double)sum_alloc;
	char want[64];
	snprintf(want, sizeof(want), "Internal fragmentation: %f%%", pct);
	struct strbuf sb;
	strbuf_init(&sb);
	slub_render_callers(&r->s, &sb, 10);
	cr_assert(strstr(sb.buf, want), "%s not in\n%s", want, sb.buf);
	cr_assert(strstr(
	    sb.buf, " Callsite                           | Total_alloc/Per | Total_req/Per   |"));
	strbuf_free(&sb);
	/* per cache: kmalloc-128 holds 97 and 100 */
	slub_fragmentation(&r->s, r->s.kmalloc_caches[KMALLOC_NORMAL][7], &f);
	cr_assert_eq(f.bytes_req, 197);
	cr_assert_eq(f.bytes_alloc, 256);
	cr_assert_eq(f.partial_free_bytes, 30 * 128);
	rig_free(r);
}

Test(slub, named_caches_and_slabinfo_format)
{
	struct rig *r = rig_boot(2);
	for (uint64_t k = 0; k < 36; k++) {
		struct mm_event ev =
		    kev(EV_KMALLOC, 0xc5000000u + 0x2000u * k, 8192, GFP_KERNEL, 0x30);
		slub_kmalloc_event(&r->s, &ev);
	}
	struct mm_event c = kev(EV_CACHE_ALLOC, 0xc6000000u, 180, GFP_KERNEL, 0x40);
	c.u.kmem.bytes_alloc = 192;
	c.u.kmem.cache = 5;
	slub_cache_alloc_event(&r->s, &c, "dentry");
	c.u.kmem.ptr += 192;
	slub_cache_alloc_event(&r->s, &c, "dentry");
	c.u.kmem.ptr += 192;
	c.u.kmem.cache = 0;
	slub_cache_alloc_event(&r->s, &c, NULL);
	int dentry = slub_cache_lookup(&r->s, "dentry", 192);
	cr_assert_eq(r->s.caches[dentry].inuse_objects, 2);
	cr_assert(r->s.caches[dentry].flags & SLAB_RECLAIM_ACCOUNT);
	cr_assert_eq(slub_sreclaimable_bytes(&r->s), PAGE_SIZE);
	int anon = slub_cache_lookup(&r->s, ":0000192", 192);
	cr_assert_eq(r->s.caches[anon].inuse_objects, 1);
	struct mm_event f = kev(EV_CACHE_FREE, 0xc6000000u, 0, 0, 0x40);
	slub_cache_free_event(&r->s, &f);
	cr_assert_eq(r->s.caches[dentry].inuse_objects, 1);

	struct strbuf sb;
	strbuf_init(&sb);
	slub_render_slabinfo(&r->s, &sb);
	cr_assert(!strncmp(sb.buf,
			   "slabinfo - version: 2.1\n# name            <active_objs> <num_objs> "
			   "<objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> "
			   "<sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n",
			   180));
	/* the live kernel's line for the same state (LINUX-MM-FACTS §6) */
	cr_assert(
	    strstr(sb.buf,
		   "\nkmalloc-8k            36     36   8192    4    8 : tunables    0    0    0 "
		   ": slabdata      9      9      0\n"),
	    "%s", sb.buf);
	cr_assert(strstr(sb.buf, "\ndentry                 1     21    192   21    1 : tunables"));
	/* newest first, as the kernel's slab_caches list */
	cr_assert_lt(strstr(sb.buf, ":0000192"), strstr(sb.buf, "\ndentry"));
	cr_assert_lt(strstr(sb.buf, "\ndentry"), strstr(sb.buf, "\nkmalloc-8k"));
	strbuf_free(&sb);
	cr_assert_null(slub_check(&r->s));
	rig_free(r);
}

Test(slub, builtin_caches)
{
	struct rig *r = rig_boot(1);
	struct slab_obj o;
	cr_assert(slub_cache_alloc_builtin(&r->s, SLUB_VM_AREA_STRUCT, GFP_KERNEL, &o));
	cr_assert_str_eq(r->s.caches[o.cache].name, "vm_area_struct");
	cr_assert_eq(slub_obj_size(&r->s, &o), slub_builtin_size(ARCH_I386, SLUB_VM_AREA_STRUCT));
	slub_free(&r->s, &o);
	cr_assert(!slub_cache_alloc_builtin(&r->s, SLUB_PGD_CACHE, GFP_KERNEL, &o),
		  "non-PAE i386 pgds are whole pages, not a cache");
	cr_assert_eq(slub_builtin_size(ARCH_I386_PAE, SLUB_PGD_CACHE), 32);
	cr_assert_eq(slub_builtin_size(ARCH_X86_64, SLUB_TASK_STRUCT), 5888);
	rig_free(r);
}

/* The trace-pointer table against a per-pointer reference state: pointers are reused, freed
 * twice, freed without an allocation, allocated while live, and some allocations fail (too
 * large); 40000 distinct pointers make the table grow twice. Every counter the pointer
 * states feed is compared after every step. */
Test(slub, pointer_table_matches_reference)
{
	enum { NPTR = 40000, STEPS = 160000 };
	enum { NEVER, LIVE, FREED, FAILED };
	static uint8_t st[NPTR];
	struct rig *r = rig_boot(2);
	uint64_t unknown = 0, dbl = 0, missed = 0, nulls = 0, live = 0, seen = 0;
	memset(st, NEVER, sizeof(st));
	rng = 2024;
	for (int step = 0; step < STEPS; step++) {
		uint64_t x = rnd();
		/* a hot window slides over the pool so that old pointers come back */
		uint32_t k = (uint32_t)((step / 4 + x % 3000) % NPTR);
		if (x % 97 == 0)
			k = (uint32_t)((x >> 20) % NPTR);
		uint64_t ptr = 0xc1000000u + (uint64_t)k * 64;
		if ((x >> 32) % 100 < 52) {
			uint32_t size = (x >> 40) % 500 == 0 ? (5u << 20) : 1 + (uint32_t)((x >> 40) % 700);
			if ((x >> 12) % 1000 == 0)
				size = 0;
			struct mm_event ev = kev(EV_KMALLOC, ptr, size, GFP_KERNEL, 0x2000 + (x >> 56) % 8);
			ev.cpu = (uint16_t)((x >> 8) & 1);
			slub_kmalloc_event(&r->s, &ev);
			if (!size) {
				nulls++;
				continue;
			}
			seen += st[k] == NEVER;
			missed += st[k] == LIVE;
			live -= st[k] == LIVE;
			st[k] = size > KMALLOC_MAX_SIZE ? FAILED : LIVE;
			live += st[k] == LIVE;
		} else {
			struct mm_event ev = kev(EV_KFREE, ptr, 0, 0, 0x2000);
			slub_kfree_event(&r->s, &ev);
			unknown += st[k] == NEVER;
			dbl += st[k] == FREED;
			live -= st[k] == LIVE;
			if (st[k] != NEVER)
				st[k] = FREED;
		}
		cr_assert_eq(r->vmstat[SLAB_UNKNOWN_FREE], unknown, "step %d", step);
		cr_assert_eq(r->vmstat[SLAB_DOUBLE_FREE], dbl, "step %d", step);
		cr_assert_eq(r->vmstat[SLAB_MISSED_FREE], missed, "step %d", step);
		cr_assert_eq(r->s.null_events, nulls, "step %d", step);
		cr_assert_eq(r->s.ptr_count, seen, "step %d", step);
		uint64_t inuse = r->s.large_allocs - r->s.large_frees;
		for (uint32_t c = 0; c < r->s.nr_caches; c++)
			inuse += r->s.caches[c].inuse_objects;
		cr_assert_eq(inuse, live, "step %d", step);
		if (step % 20000 == 0) {
			cr_assert_eq(slub_live_pointers(&r->s), live, "step %d", step);
			const char *why = slub_check(&r->s);
			cr_assert_null(why, "step %d: %s", step, why);
		}
	}
	cr_assert_gt(r->s.ptr_mask + 1, 65536u, "the table grew");
	cr_assert_gt(unknown, 0);
	cr_assert_gt(dbl, 0);
	cr_assert_gt(missed, 0);
	cr_assert_gt(r->s.large_fail, 0, "some allocations failed");
	cr_assert_null(slub_check(&r->s));
	rig_free(r);
}

/* The call-site table against a reference: per call site (call site 0 included) hits,
 * bytes, frees and ping-pong; the sites after the first SLUB_MAX_SITES sum in the "other"
 * slot. Sites come back in a shuffled order so that probe runs are walked, not only
 * appended to. Freed pointers are allocated again, half the time by the call site that
 * had them before (the slot the pointer's entry remembers), else by any. */
Test(slub, call_sites_match_reference)
{
	enum { NSITES = SLUB_MAX_SITES + 300, STEPS = 40000 };
	struct ref_site {
		uint64_t hits, bytes_req, bytes_alloc, frees, pingpong;
		int order; /* first-seen rank, -1 before */
	};
	static struct ref_site ref[NSITES];
	static struct {
		uint64_t ptr;
		uint32_t site;
		uint16_t cpu;
	} live[STEPS], freed[STEPS];
	struct rig *r = rig_boot(2);
	size_t nlive = 0, nfreed = 0, reused_same = 0;
	int seen = 0;
	uint64_t next_ptr = 0xc1000000u;
	for (int k = 0; k < NSITES; k++)
		ref[k].order = -1;
	rng = 77;
	for (int step = 0; step < STEPS; step++) {
		uint64_t x = rnd();
		if (nlive && x % 3 == 0) {
			size_t k = (x >> 8) % nlive;
			struct mm_event ev = kev(EV_KFREE, live[k].ptr, 0, 0, 0);
			ev.cpu = (uint16_t)((x >> 4) & 1);
			slub_kfree_event(&r->s, &ev);
			struct ref_site *rs = &ref[live[k].site];
			rs->frees++;
			rs->pingpong += ev.cpu != live[k].cpu;
			freed[nfreed++] = live[k];
			live[k] = live[--nlive];
			continue;
		}
		/* call site 0 often, so that pointers of other sites come back to it */
		uint32_t site = (x >> 10) % 64 == 0 ? 0 : (uint32_t)((x >> 16) % NSITES);
		uint32_t size = 1 + (uint32_t)((x >> 40) % 3000);
		uint64_t ptr = next_ptr;
		if (nfreed && (x >> 56) % 2) {
			size_t k = (x >> 24) % nfreed;
			ptr = freed[k].ptr;
			if ((x >> 57) % 2) {
				site = freed[k].site;
				reused_same++;
			}
			freed[k] = freed[--nfreed];
		} else {
			next_ptr += 64;
		}
		/* site k's address; k = 0 is call site 0, the others a kernel text stride */
		uint64_t call_site = site ? 0xc1000000u + (uint64_t)site * 24 : 0;
		struct mm_event ev = kev(EV_KMALLOC, ptr, size, GFP_KERNEL, call_site);
		ev.cpu = (uint16_t)((x >> 5) & 1);
		slub_kmalloc_event(&r->s, &ev);
		struct ref_site *rs = &ref[site];
		if (rs->order < 0)
			rs->order = seen++;
		rs->hits++;
		rs->bytes_req += size;
		rs->bytes_alloc += kmalloc_index_size(kmalloc_index(size));
		live[nlive].ptr = ptr;
		live[nlive].site = site;
		live[nlive++].cpu = ev.cpu;
	}
	cr_assert_gt(seen, SLUB_MAX_SITES, "some sites overflow");
	cr_assert_gt(reused_same, 1000);
	struct ref_site other = {0};
	unsigned in_table = 0;
	for (int k = 0; k < NSITES; k++) {
		const struct ref_site *rs = &ref[k];
		if (rs->order < 0)
			continue;
		if (rs->order >= SLUB_MAX_SITES) {
			other.hits += rs->hits;
			other.bytes_req += rs->bytes_req;
			other.bytes_alloc += rs->bytes_alloc;
			other.frees += rs->frees;
			other.pingpong += rs->pingpong;
			continue;
		}
		uint64_t call_site = k ? 0xc1000000u + (uint64_t)k * 24 : 0;
		const struct slub_site *st = NULL;
		for (uint32_t j = 0; j <= r->s.site_mask; j++)
			if (r->s.sites[j].hits && r->s.sites[j].call_site == call_site) {
				cr_assert_null(st, "site %d twice in the table", k);
				st = &r->s.sites[j];
			}
		cr_assert_not_null(st, "site %d missing", k);
		cr_assert_eq(st->hits, rs->hits, "site %d", k);
		cr_assert_eq(st->bytes_req, rs->bytes_req, "site %d", k);
		cr_assert_eq(st->bytes_alloc, rs->bytes_alloc, "site %d", k);
		cr_assert_eq(st->frees, rs->frees, "site %d", k);
		cr_assert_eq(st->pingpong, rs->pingpong, "site %d", k);
		in_table++;
	}
	cr_assert_eq(in_table, SLUB_MAX_SITES);
	cr_assert_eq(r->s.nr_sites, SLUB_MAX_SITES);
	const struct slub_site *o = &r->s.sites[r->s.site_mask + 1];
	cr_assert_eq(o->hits, other.hits);
	cr_assert_eq(o->bytes_req, other.bytes_req);
	cr_assert_eq(o->bytes_alloc, other.bytes_alloc);
	cr_assert_eq(o->frees, other.frees);
	cr_assert_eq(o->pingpong, other.pingpong);
	struct strbuf sb;
	strbuf_init(&sb);
	slub_render_callers(&r->s, &sb, 5);
	cr_assert_not_null(strstr(sb.buf, "(other call sites)"));
	strbuf_free(&sb);
	rig_free(r);
}

/* The object a slab hands out next against a reference linked freelist per slab (the
 * kernel's in-object LIFO list, initially in address order): random allocations and frees
 * of one cache, slabs created and discarded on the way. */
Test(slub, slab_freelist_order_matches_reference)
{
	enum { MAXSLABS = 256, MAXOBJ = 64, STEPS = 60000 };
	static uint16_t next[MAXSLABS][MAXOBJ], head[MAXSLABS];
	static bool known[MAXSLABS];
	static struct slab_obj live[STEPS];
	struct rig *r = rig_boot(1);
	size_t nlive = 0;
	unsigned created = 0, discarded = 0;
	rng = 99;
	for (int step = 0; step < STEPS; step++) {
		uint64_t x = rnd();
		bool grow = (step / 5000) % 2 == 0;
		if (nlive && x % 100 < (grow ? 40u : 60u)) {
			size_t k = (x >> 8) % nlive;
			struct slab_obj o = live[k];
			live[k] = live[--nlive];
			slub_free(&r->s, &o);
			const struct kmem_cache *c = &r->s.caches[o.cache];
			if (slab_at(c, o.slab)->pfn == PFN_NONE) {
				known[o.slab] = false;
				discarded++;
				continue;
			}
			next[o.slab][o.obj] = head[o.slab];
			head[o.slab] = o.obj;
			continue;
		}
		struct slab_obj o;
		cr_assert(slub_kmalloc(&r->s, 100 + (uint32_t)(x >> 40) % 28, GFP_KERNEL, &o));
		const struct kmem_cache *c = &r->s.caches[o.cache];
		cr_assert_eq(c->size, 128);
		cr_assert_lt(o.slab, MAXSLABS);
		cr_assert_leq(c->oo_objects, MAXOBJ);
		if (!known[o.slab]) {
			unsigned n = slab_at(c, o.slab)->objects;
			for (unsigned k = 0; k < n; k++)
				next[o.slab][k] = k + 1 < n ? (uint16_t)(k + 1) : UINT16_MAX;
			head[o.slab] = 0;
			known[o.slab] = true;
			created++;
		}
		cr_assert_eq(o.obj, head[o.slab], "step %d: slab %u", step, o.slab);
		head[o.slab] = next[o.slab][o.obj];
		live[nlive++] = o;
		if (step % 1000 == 0)
			cr_assert_null(slub_check(&r->s));
	}
	cr_assert_gt(created, 20);
	cr_assert_gt(discarded, 0);
	cr_assert_null(slub_check(&r->s));
	rig_free(r);
}

/* The cache an id's events land in: its name, or the size-named one (all such are 96). */
static const char *id_cache_name(char (*names)[24], int id)
{
	return id && names[id][0] ? names[id] : ":0000096";
}

/* kmem_cache_alloc events by the trace's name id: the first event of an id creates or
 * finds its cache by name (id 0 and empty names by object size, ":0000096"), the later
 * ones find it by id alone. Against a reference of live objects per name, with new ids
 * (the name table grows past 256) arriving all along and pointers reused; small ids take
 * the direct map, large ones the hash. */
Test(slub, cache_events_by_name_id_match_reference)
{
	enum { NIDS = 400, NPTR = 3000, STEPS = 30000 };
	static int32_t live_in[NPTR];	/* reference: the id a pointer is live in, -1 if none */
	static uint64_t ref_live[NIDS + 1];
	static char names[NIDS + 1][24];
	struct rig *r = rig_boot(2);
	uint64_t missed = 0;
	for (int k = 0; k < NPTR; k++)
		live_in[k] = -1;
	for (int id = 1; id <= NIDS; id++)
		snprintf(names[id], sizeof(names[id]), id % 50 ? "cache_%d" : "", id);
	rng = 99;
	for (int step = 0; step < STEPS; step++) {
		uint64_t x = rnd();
		uint32_t k = (uint32_t)(x % NPTR);
		/* ids come into use gradually; id 0 is a 6.1 trace's unnamed cache */
		uint32_t id = (uint32_t)((x >> 16) % (1 + (uint64_t)step * NIDS / STEPS));
		uint32_t size = id && names[id][0] ? 16 + 8 * (id % 40) : 96;
		uint64_t ptr = 0xc2000000u + (uint64_t)k * 128;
		if ((x >> 40) % 100 < 55) {
			struct mm_event ev = kev(EV_CACHE_ALLOC, ptr, size, GFP_KERNEL, 0x50);
			ev.u.kmem.bytes_alloc = size;
			/* the first 200 ids map by index, the others by hash */
			ev.u.kmem.cache = id < 200 ? id : SLUB_NAME_DIRECT_MAX + (id - 200) * 7919;
			slub_cache_alloc_event(&r->s, &ev, id ? names[id] : NULL);
			if (live_in[k] >= 0) {
				ref_live[live_in[k]]--;
				missed++;
			}
			live_in[k] = (int32_t)id;
			ref_live[id]++;
		} else {
			struct mm_event ev = kev(EV_CACHE_FREE, ptr, 0, 0, 0x50);
			slub_cache_free_event(&r->s, &ev);
			if (live_in[k] >= 0)
				ref_live[live_in[k]]--;
			live_in[k] = -1;
		}
		cr_assert_eq(r->vmstat[SLAB_MISSED_FREE], missed, "step %d", step);
		if (step % 500 == 0 || step == STEPS - 1) {
			for (int i = 0; i <= NIDS; i++) {
				const char *name = id_cache_name(names, i);
				uint64_t want = 0;
				for (int j = 0; j <= NIDS; j++)
					if (!strcmp(id_cache_name(names, j), name))
						want += ref_live[j];
				if (!want)
					continue; /* its cache may not exist yet */
				int c = slub_cache_lookup(&r->s, name, 96);
				cr_assert_eq(r->s.caches[c].inuse_objects, want, "step %d: %s", step,
					     name);
			}
			const char *why = slub_check(&r->s);
			cr_assert_null(why, "step %d: %s", step, why);
		}
	}
	cr_assert_gt(r->s.name_mask + 1, 256u, "the name table grew");
	cr_assert_geq(r->s.name_direct_cap, 200u, "the direct map grew");
	cr_assert_gt(missed, 0);
	cr_assert_eq(r->vmstat[SLAB_ALLOC_FAIL], 0);
	rig_free(r);
}
