/* vmalloc: the i386 window per mem=, exhaustion and the purge-and-retry, lazy purges and
 * their TLB accounting counted exactly, recorded placement, frees the trace cannot explain,
 * /proc/vmallocinfo, and a randomized run with the window's tiling checked every step. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "page_alloc.h"
#include "slub.h"
#include "testlib_freelist.h"
#include "testlib_machine.h"
#include "vmalloc.h"
#include "vmstat.h"
#include "testlib_rng.h"

struct vrig {
	struct machine m;
	struct pglist_data pg;
	struct slub s;
	struct vmalloc v;
	uint64_t vmstat[NR_VM_STAT_ITEMS];
	uint64_t boot_free;
};

#define MiB (1ull << 20)

/* i386 non-PAE with HIGHMEM: lowmem ends at MAXMEM (pfn 226302, LINUX-MM-FACTS §1.2) for
 * mem=1G; mem=256M is all lowmem. VMALLOC_START = high_memory + 8 MiB, VMALLOC_END =
 * 0xff3fe000. */
static struct vrig *vrig_i386(unsigned mem_mib, unsigned cpus)
{
	struct vrig *r = calloc(1, sizeof(*r));
	pfn_t end = (pfn_t)(mem_mib * (MiB >> PAGE_SHIFT));
	pfn_t low = end > 226302 ? 226302 : end;
	pfn_t ends[MAX_NR_ZONES] = {4096, 0, low, end > low ? end : 0};
	test_machine(&r->m, ARCH_I386, 1, ends, 10);
	r->m.cfg.nr_cpus = cpus;
	r->m.max_low_pfn = low;
	r->m.layout.page_offset = 0xc0000000u;
	r->m.layout.high_memory = 0xc0000000u + ((uint64_t)low << PAGE_SHIFT);
	r->m.layout.vmalloc_start = r->m.layout.high_memory + 8 * MiB;
	r->m.layout.vmalloc_end = 0xff3fe000u;
	cr_assert_eq(page_alloc_init(&r->pg, &r->m, r->vmstat), 0);
	cr_assert_eq(slub_init(&r->s, &r->pg, &r->m, r->vmstat), 0);
	cr_assert_eq(vmalloc_init(&r->v, &r->pg, &r->s, &r->m, r->vmstat), 0);
	r->boot_free = global_free_pages(&r->pg);
	return r;
}

static struct vrig *vrig_x86_64(unsigned cpus)
{
	struct vrig *r = calloc(1, sizeof(*r));
	pfn_t ends[MAX_NR_ZONES] = {4096, 65536, 0, 0};
	test_machine(&r->m, ARCH_X86_64, 1, ends, 9);
	r->m.cfg.nr_cpus = cpus;
	cr_assert_eq(page_alloc_init(&r->pg, &r->m, r->vmstat), 0);
	cr_assert_eq(slub_init(&r->s, &r->pg, &r->m, r->vmstat), 0);
	cr_assert_eq(vmalloc_init(&r->v, &r->pg, &r->s, &r->m, r->vmstat), 0);
	r->boot_free = global_free_pages(&r->pg);
	return r;
}

static void vrig_free(struct vrig *r)
{
	vmalloc_destroy(&r->v);
	slub_destroy(&r->s);
	page_alloc_destroy(&r->pg);
	free(r);
}

static void check(struct vrig *r)
{
	const char *why = vmalloc_check(&r->v);
	cr_assert_null(why, "%s", why);
	why = slub_check(&r->s);
	cr_assert_null(why, "%s", why);
}

Test(vmalloc, window_and_lazy_limit)
{
	struct vrig *r = vrig_i386(1024, 1);
	cr_assert_eq(vmalloc_total_kb(&r->v), 122880, "120 MiB on mem=1G (LINUX-MM-FACTS §7)");
	vrig_free(r);
	r = vrig_i386(256, 1);
	cr_assert_eq(vmalloc_total_kb(&r->v), 765944, "mem=256M non-PAE HIGHMEM");
	vrig_free(r);
	r = vrig_x86_64(2);
	cr_assert_eq(vmalloc_total_kb(&r->v), 34359738367ull, "[live] x86_64 VmallocTotal");
	vrig_free(r);
	cr_assert_eq(lazy_max_pages(1), 8192);
	cr_assert_eq(lazy_max_pages(2), 16384);
	/* fls(3) = 2 and fls(5..7) = 3: LINUX-MM-FACTS §7's "3–4 CPUs 24576, 5–8 CPUs 32768"
	 * does not follow its own formula; the formula is the kernel's */
	cr_assert_eq(lazy_max_pages(3), 16384);
	cr_assert_eq(lazy_max_pages(4), 24576);
	cr_assert_eq(lazy_max_pages(7), 24576);
	cr_assert_eq(lazy_max_pages(8), 32768);
}

Test(vmalloc, exhaustion_1g_vs_256m)
{
	struct vrig *r = vrig_i386(1024, 1);
	uint64_t a[32];
	int n = 0;
	while (n < 32 && (a[n] = vmalloc_alloc(&r->v, 4 * MiB, 0, 0xc0100000u)))
		n++;
	/* 4 MiB + guard = 1025 pages; 30720 pages of window hold 29 */
	cr_assert_eq(n, 29);
	cr_assert_eq(r->vmstat[VMALLOC_FAIL], 1);
	cr_assert_eq(r->v.fail_range, 1);
	cr_assert_eq(r->vmstat[VMALLOC_PURGE], 0, "nothing lazy to purge");
	cr_assert_eq(a[0], 0xf7bfe000u);
	cr_assert_eq(a[1], 0xf7bfe000u + 1025 * PAGE_SIZE);
	cr_assert_eq(vmalloc_used_kb(&r->v), 29 * 4096);
	check(r);
	/* the freed range waits on the lazy list; the next allocation purges and retries */
	cr_assert(vmalloc_vfree(&r->v, a[3]));
	cr_assert_eq(r->v.vmap_lazy_nr, 1025);
	cr_assert_eq(vmalloc_alloc(&r->v, 4 * MiB, 0, 0), a[3]);
	cr_assert_eq(r->vmstat[VMALLOC_PURGE], 1);
	cr_assert_eq(r->vmstat[VMALLOC_FAIL], 1);
	cr_assert_eq(r->vmstat[NR_TLB_REMOTE_FLUSH_RECEIVED], 1);
	check(r);
	vrig_free(r);

	/* one 64 MiB area fits in 120 MiB once; on mem=256M the window takes two */
	r = vrig_i386(1024, 1);
	cr_assert_neq(vmalloc_alloc(&r->v, 64 * MiB, 0, 0), 0);
	cr_assert_eq(vmalloc_alloc(&r->v, 64 * MiB, 0, 0), 0);
	cr_assert_eq(r->vmstat[VMALLOC_FAIL], 1);
	check(r);
	vrig_free(r);
	r = vrig_i386(256, 1);
	cr_assert_neq(vmalloc_alloc(&r->v, 64 * MiB, 0, 0), 0);
	cr_assert_neq(vmalloc_alloc(&r->v, 64 * MiB, 0, 0), 0);
	cr_assert_eq(r->vmstat[VMALLOC_FAIL], 0);
	/* 16384 pages of page array (i386: 4 bytes each) is more than a page: vmalloc'ed */
	cr_assert_eq(r->v.nr_busy, 4);
	check(r);
	vrig_free(r);
}

static void purge_script(unsigned cpus, uint64_t purges)
{
	struct vrig *r = vrig_i386(1024, cpus);
	for (int k = 0; k < 100; k++) {
		uint64_t a = vmalloc_alloc(&r->v, MiB, 0, 0);
		cr_assert_neq(a, 0);
		cr_assert(vmalloc_vfree(&r->v, a));
		check(r);
	}
	/* each free adds 257 pages (guard included); a purge runs when the sum exceeds
	 * lazy_max_pages: after 32 frees on 1 CPU (8224 > 8192), 64 on 2 (16448 > 16384) */
	cr_assert_eq(r->vmstat[VMALLOC_PURGE], purges);
	cr_assert_eq(r->v.tlb_full_flushes, purges);
	cr_assert_eq(r->vmstat[NR_TLB_REMOTE_FLUSH_RECEIVED], purges * cpus);
	cr_assert_eq(r->vmstat[NR_TLB_REMOTE_FLUSH], 0);
	cr_assert_eq(r->vmstat[NR_TLB_LOCAL_FLUSH_ONE], 0);
	cr_assert_eq(r->v.vmap_lazy_nr, (100 % (cpus == 1 ? 32 : 64)) * 257);
	cr_assert(purge_vmap_area_lazy(&r->v));
	cr_assert(!purge_vmap_area_lazy(&r->v), "nothing left");
	/* a 1-page area spans 2 pages with its guard: ≤ 33 pages, a per-page flush on every CPU */
	uint64_t a = vmalloc_alloc(&r->v, 100, 0, 0);
	cr_assert(vmalloc_vfree(&r->v, a));
	cr_assert(purge_vmap_area_lazy(&r->v));
	cr_assert_eq(r->vmstat[NR_TLB_LOCAL_FLUSH_ONE], 2 * cpus);
	cr_assert_eq(r->v.tlb_range_flushes, 1);
	cr_assert_eq(r->vmstat[VMALLOC_PURGE], purges + 2);
	check(r);
	vrig_free(r);
}

Test(vmalloc, purge_count_1cpu) { purge_script(1, 3); }

Test(vmalloc, purge_count_2cpu) { purge_script(2, 1); }

static struct mm_event vev(uint8_t type, uint64_t addr, uint64_t size)
{
	struct mm_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.pid = 1;
	ev.u.vmalloc.addr = addr;
	ev.u.vmalloc.size = size;
	ev.u.vmalloc.caller = 0xc0123456u;
	return ev;
}

Test(vmalloc, recorded_placement_and_unknown_frees)
{
	struct vrig *r = vrig_i386(1024, 1);
	uint64_t at = r->v.vstart + 64 * MiB;
	struct mm_event a = vev(EV_VMALLOC, at, 10000);
	vmalloc_event(&r->v, &a);
	cr_assert_eq(r->v.placed_at_recorded, 1);
	/* the same address again without a vfree in between: the lost vfree is applied; its
	 * range is lazy, not free, so the new area goes where the kernel's policy puts it */
	vmalloc_event(&r->v, &a);
	cr_assert_eq(r->v.missed_free, 1);
	cr_assert_eq(r->v.nr_busy, 1);
	cr_assert_eq(r->v.placed_by_policy, 1);
	/* outside the window (another kernel's layout): placed by the kernel's policy */
	struct mm_event b = vev(EV_VMALLOC, 0xf0000000u, 4096);
	vmalloc_event(&r->v, &b);
	cr_assert_eq(r->v.placed_by_policy, 2);
	struct strbuf sb;
	strbuf_init(&sb);
	vmalloc_render_vmallocinfo(&r->v, &sb);
	cr_assert_str_eq(sb.buf, "0xf7bfe000-0xf7c02000   16384 0xc0123456 pages=3 vmalloc\n"
				 "0xf7c02000-0xf7c04000    8192 0xc0123456 pages=1 vmalloc\n"
				 "0xfbbfe000-0xfbc02000   16384 unpurged vm_area\n");
	strbuf_free(&sb);
	struct mm_event f = vev(EV_VFREE, at, 0);
	vfree_event(&r->v, &f);
	vfree_event(&r->v, &f);
	cr_assert_eq(r->vmstat[VMALLOC_UNKNOWN_FREE], 1);
	struct mm_event g = vev(EV_VFREE, 0xf0000000u, 0);
	vfree_event(&r->v, &g);
	cr_assert_eq(r->vmstat[VMALLOC_UNKNOWN_FREE], 1);
	cr_assert_eq(r->vmstat[VMALLOC_ALLOC], 3);
	cr_assert_eq(r->vmstat[VMALLOC_FREE], 3);
	cr_assert_eq(r->v.nr_busy, 0);
	check(r);
	vrig_free(r);
}

Test(vmalloc, highmem_first_and_page_tables)
{
	struct vrig *r = vrig_i386(1024, 1);
	uint64_t a = vmalloc_alloc(&r->v, 8 * MiB, 0, 0);
	cr_assert_neq(a, 0);
	uint32_t i = 0;
	while (r->v.areas[i].va_start != a)
		i++;
	for (pfn_t p = r->v.areas[i].first_page; p != PFN_NONE; p = pfn_to_page(&r->pg, p)->next)
		cr_assert_eq(page_zonenum(pfn_to_page(&r->pg, p)), ZONE_HIGHMEM);
	/* 8 MiB from 0xf7bfe000 touches the 4 MiB spans 0xf78…, 0xf7c…, 0xf80…; its page array
	 * (2048 * 4 bytes > PAGE_SIZE) is vmalloc'ed right after it, at 0xf83ff000-0xf8401000,
	 * reaching into 0xf84…: 4 PTE pages */
	cr_assert_eq(r->v.areas[r->v.areas[i].pages_area].va_start, 0xf83ff000u);
	cr_assert_eq(r->v.pgtable_pages, 4);
	check(r);
	vrig_free(r);
}

static uint64_t rng;
static uint64_t rnd(void)
{
	return tl_splitmix64(&rng);
}

static void random_run(struct vrig *r, uint64_t seed, int steps)
{
	uint64_t *live = calloc((size_t)steps, sizeof(*live));
	size_t n = 0;
	rng = seed;
	for (int s = 0; s < steps; s++) {
		if (n && rnd() % 100 < 45) {
			size_t k = rnd() % n;
			cr_assert(vmalloc_vfree(&r->v, live[k]));
			live[k] = live[--n];
		} else {
			uint64_t x = rnd();
			uint64_t size =
			    x % 20 == 0 ? (x >> 8) % (6 * MiB) + 1 : (x >> 8) % (64 * 1024) + 1;
			uint64_t a = vmalloc_alloc(&r->v, size, 0, 0);
			if (a)
				live[n++] = a;
		}
		check(r);
	}
	while (n)
		cr_assert(vmalloc_vfree(&r->v, live[--n]));
	purge_vmap_area_lazy(&r->v);
	check(r);
	cr_assert_eq(r->v.free.count, 1, "the whole window is one free range again");
	cr_assert_eq(r->v.nr_vmalloc_pages, 0);
	uint64_t slab_pages = 0;
	for (uint32_t c = 0; c < r->s.nr_caches; c++)
		slab_pages += r->s.caches[c].nr_pages;
	drain_all_pages(&r->pg);
	cr_assert_eq(global_free_pages(&r->pg) + slab_pages + r->v.pgtable_pages, r->boot_free);
	free(live);
}

Test(vmalloc, random_i386)
{
	struct vrig *r = vrig_i386(1024, 2);
	random_run(r, 11, 1500);
	cr_assert_gt(r->vmstat[VMALLOC_PURGE], 0);
	vrig_free(r);
}

Test(vmalloc, random_x86_64)
{
	struct vrig *r = vrig_x86_64(1);
	random_run(r, 12, 1500);
	vrig_free(r);
}

/* The same windows from machine_setup's i386 layout (the hand-built rigs above mirror it). */
Test(vmalloc, window_from_machine_setup)
{
	static const struct {
		uint64_t mem;
		uint64_t total_kb;
	} cases[] = {{1024 * MiB, 122880}, {256 * MiB, 0}};
	for (unsigned k = 0; k < 2; k++) {
		struct vrig *r = calloc(1, sizeof(*r));
		struct machine_config cfg;
		char err[160];
		machine_config_default(&cfg, ARCH_I386);
		cfg.mem_limit = cases[k].mem;
		cfg.ram = cases[k].mem;
		cr_assert_eq(machine_setup(&r->m, &cfg, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(page_alloc_init(&r->pg, &r->m, r->vmstat), 0);
		cr_assert_eq(slub_init(&r->s, &r->pg, &r->m, r->vmstat), 0);
		cr_assert_eq(vmalloc_init(&r->v, &r->pg, &r->s, &r->m, r->vmstat), 0);
		/* mem=256M: whatever machine_setup lays out, far more than mem=1G's 120 MiB */
		uint64_t want = cases[k].total_kb
				    ? cases[k].total_kb
				    : (r->m.layout.vmalloc_end - r->m.layout.vmalloc_start) >> 10;
		cr_assert_gt(want, cases[k].total_kb ? 0 : 700000);
		cr_assert_eq(vmalloc_total_kb(&r->v), want, "mem=%lluM: %llu kB",
			     (unsigned long long)(cases[k].mem / MiB),
			     (unsigned long long)vmalloc_total_kb(&r->v));
		vrig_free(r);
	}
}

/* More than the RAM of mem=256M fits in its window: the pages run out, the partial area is
 * vfreed (lazy) and everything it took goes back. */
Test(vmalloc, out_of_pages)
{
	struct vrig *r = vrig_i386(256, 1);
	uint64_t free0 = global_free_pages(&r->pg);
	cr_assert_eq(vmalloc_alloc(&r->v, 300 * MiB, 0, 0), 0);
	cr_assert_eq(r->v.fail_pages, 1);
	cr_assert_eq(r->v.fail_range, 0);
	cr_assert_eq(r->vmstat[VMALLOC_FAIL], 1);
	cr_assert_eq(r->v.nr_busy, 0);
	cr_assert_eq(r->v.nr_vmalloc_pages, 0);
	cr_assert_gt(r->v.vmap_lazy_nr, 0, "the failed area is freed lazily, as vfree does");
	check(r);
	/* the machine is usable again */
	cr_assert_neq(vmalloc_alloc(&r->v, 64 * MiB, 0, 0), 0);
	drain_all_pages(&r->pg);
	cr_assert_gt(global_free_pages(&r->pg), free0 - 17000);
	check(r);
	vrig_free(r);
}

/* ---- the data pages in bulk against alloc_pages / free_pages one at a time ----------- */

/* Twin b does by hand, through the public allocator calls, what vmalloc_alloc does to the
 * buddy allocator on twin a for an area whose page array is kmalloc'ed (at most 1024
 * pages on i386): the vm_struct, the vmap_area object, the array, then the data pages
 * one alloc_pages at a time, then as many kernel page-table pages as a allocated. */
struct hand_area {
	uint64_t addr;
	pfn_t *pfns;
	uint32_t n;
	struct slab_obj vm, va, arr;
};

static void assert_twins_equal(struct vrig *a, struct vrig *b, const char *what)
{
	cr_assert(test_pages_equal(a->pg.mem_map, b->pg.mem_map, a->pg.node_spanned_pages),
		  "%s: struct pages differ", what);
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct zone *za = &a->pg.node_zones[zi], *zb = &b->pg.node_zones[zi];
		cr_assert_eq(za->nr_free_pages, zb->nr_free_pages, "%s: zone %d", what, zi);
		cr_assert(test_free_areas_equal(za, zb), "%s: free lists of zone %d", what, zi);
		if (za->pcp)
			cr_assert(test_pcp_equal(za->pcp, zb->pcp, a->pg.nr_cpus),
				  "%s: pcp lists of zone %d", what, zi);
	}
}

static uint32_t area_of(const struct vrig *r, uint64_t addr)
{
	uint32_t i = 0;
	while (r->v.areas[i].state != VA_BUSY || r->v.areas[i].va_start != addr)
		i++;
	return i;
}

/* A failed vmalloc_node lets go of what it had in this order: the data pages (newest
 * first), the array, the vm_struct; its vmap_area object waits with the lazy range. */
static bool hand_fail(struct vrig *b, struct hand_area *h, pfn_t chain,
		      bool arr, bool vm)
{
	cr_assert_eq(h->addr, 0, "b ran out where a did not");
	for (pfn_t p = chain, next; p != PFN_NONE; p = next) {
		next = pfn_to_page(&b->pg, p)->next;
		pfn_to_page(&b->pg, p)->flags &= ~PG_vmalloc;
		free_pages(&b->pg, p, 0, 0);
	}
	if (arr)
		slub_free(&b->s, &h->arr);
	if (vm)
		slub_free(&b->s, &h->vm);
	free(h->pfns);
	return false;
}

static bool hand_alloc(struct vrig *a, struct vrig *b, struct hand_area *h, uint32_t pages)
{
	uint64_t pt0 = a->v.pgtable_pages;
	h->addr = vmalloc_alloc(&a->v, (uint64_t)pages << PAGE_SHIFT, 0, 0);
	h->pfns = calloc(pages, sizeof(*h->pfns));
	h->n = 0;
	if (!slub_kmalloc(&b->s, 36, GFP_KERNEL | __GFP_ZERO, &h->vm))
		return hand_fail(b, h, PFN_NONE, false, false);
	if (!slub_cache_alloc_builtin(&b->s, SLUB_VMAP_AREA, GFP_KERNEL, &h->va))
		return hand_fail(b, h, PFN_NONE, false, true);
	if (!slub_kmalloc(&b->s, pages * 4u, GFP_KERNEL | __GFP_ZERO, &h->arr))
		return hand_fail(b, h, PFN_NONE, false, true);
	pfn_t chain = PFN_NONE;
	for (uint32_t k = 0; k < pages; k++) {
		pfn_t p = alloc_pages(&b->pg, GFP_KERNEL | __GFP_HIGHMEM, 0, 0);
		if (p == PFN_NONE)
			return hand_fail(b, h, chain, true, true);
		pfn_to_page(&b->pg, p)->flags |= PG_vmalloc;
		pfn_to_page(&b->pg, p)->next = chain;
		chain = h->pfns[h->n++] = p;
	}
	cr_assert_neq(h->addr, 0, "a ran out where b did not");
	cr_assert_eq(a->v.areas[area_of(a, h->addr)].first_page, chain,
		     "the area's pages, in the order alloc_pages hands them out");
	for (uint64_t k = pt0; k < a->v.pgtable_pages; k++)
		pfn_to_page(&b->pg, alloc_pages(&b->pg, GFP_KERNEL | __GFP_ZERO, 0, 0))->flags |=
		    PG_pgtable;
	return true;
}

/* vfree: the data pages in chain order (newest first), the array, the vm_struct; the range
 * waits lazily (the script stays below lazy_max_pages, so no purge frees vmap_areas). */
static void hand_free(struct vrig *a, struct vrig *b, struct hand_area *h)
{
	cr_assert(vmalloc_vfree(&a->v, h->addr));
	for (uint32_t k = h->n; k-- > 0;) {
		pfn_to_page(&b->pg, h->pfns[k])->flags &= ~PG_vmalloc;
		free_pages(&b->pg, h->pfns[k], 0, 0);
	}
	slub_free(&b->s, &h->arr);
	slub_free(&b->s, &h->vm);
	free(h->pfns);
}

static void bulk_twins(unsigned mem_mib, uint32_t max_live, uint64_t seed, int steps)
{
	struct vrig *a = vrig_i386(mem_mib, 4), *b = vrig_i386(mem_mib, 4);
	struct hand_area live[64];
	unsigned n = 0, failed = 0, done = 0;
	uint32_t live_pages = 0;
	char what[64];
	rng = seed;
	/* every step adds at most 1025 lazy pages: stop before a purge, which b does not mirror */
	for (; (int)done < steps && a->v.vmap_lazy_nr + 1025 <= a->v.lazy_max_pages; done++) {
		uint64_t x = rnd();
		uint32_t pages = (uint32_t)(x % 8 ? (x >> 8) % 160 : (x >> 8) % 1024) + 1;
		bool vfree = n == 64 || live_pages + pages > max_live || (n && rnd() % 100 < 30);
		if (vfree && n) {
			unsigned k = (unsigned)(rnd() % n);
			live_pages -= live[k].n;
			hand_free(a, b, &live[k]);
			live[k] = live[--n];
		} else if (!vfree) {
			if (hand_alloc(a, b, &live[n], pages))
				live_pages += live[n++].n;
			else
				failed++;
		}
		snprintf(what, sizeof(what), "step %u", done);
		assert_twins_equal(a, b, what);
		check(a);
	}
	cr_assert_eq(a->v.purges, 0);
	cr_assert_geq(done, 150, "only %u steps", done);
	if (mem_mib <= 32)
		cr_assert_gt(failed, 0, "the small machine ran out of pages mid-area");
	else
		cr_assert_eq(failed, 0);
	while (n)
		free(live[--n].pfns);
	vrig_free(a);
	vrig_free(b);
}

/* 64 MiB: the pcp list runs dry and refills, and unmovable pageblocks run out, so the bulk
 * allocator stops and alloc_pages steals from another migratetype; 24 MiB: areas fail
 * partway, and give their pages back. */
Test(vmalloc, bulk_pages_match_alloc_pages_one_by_one) { bulk_twins(64, 11000, 21, 400); }

Test(vmalloc, bulk_pages_match_alloc_pages_out_of_memory) { bulk_twins(24, 1u << 20, 22, 400); }
