/* The conditions of the inline trace-allocation path (slab_common.c traced_alloc): a
 * pointer never seen is entered inline only while the pointer table has room, a call site
 * is taken from its home slot only when that slot is its own, and call site 0 always takes
 * the search. Each case against what the slow path (or the search) gives. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "page_alloc.h"
#include "slub.h"
#include "testlib_machine.h"
#include "vmstat.h"

struct rig {
	struct machine m;
	struct pglist_data pg;
	struct slub s;
	uint64_t vmstat[NR_VM_STAT_ITEMS];
};

/* x86_64, 1 GiB: room for the slabs of tens of thousands of objects. */
static struct rig *rig_boot(void)
{
	struct rig *r = calloc(1, sizeof(*r));
	pfn_t ends[MAX_NR_ZONES] = {4096, 131072, 262144, 0};
	test_machine(&r->m, ARCH_X86_64, 1, ends, 10);
	cr_assert_eq(page_alloc_init(&r->pg, &r->m, r->vmstat), 0);
	cr_assert_eq(slub_init(&r->s, &r->pg, &r->m, r->vmstat), 0);
	return r;
}

static void rig_free(struct rig *r)
{
	slub_destroy(&r->s);
	page_alloc_destroy(&r->pg);
	free(r);
}

static struct mm_event kev(uint8_t type, uint64_t ptr, uint32_t req, uint64_t site)
{
	struct mm_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.pid = 1;
	ev.u.kmem.ptr = ptr;
	ev.u.kmem.bytes_req = req;
	ev.u.kmem.gfp = GFP_KERNEL;
	ev.u.kmem.call_site = site;
	return ev;
}

/* The slot holding call_site with hits, or NULL. */
static const struct slub_site *find_site(const struct slub *s, uint64_t call_site)
{
	for (uint32_t j = 0; j <= s->site_mask; j++)
		if (s->sites[j].hits && s->sites[j].call_site == call_site)
			return &s->sites[j];
	return NULL;
}

/* Across the doublings of the pointer table (2^16 slots at boot, load 1/2): every new
 * pointer is counted once, the load never passes 1/2, and each pointer stays findable.
 * kmalloc-96 (42 objects a slab): the pointers that cross a doubling do not start a slab,
 * which goes to the slow path anyway. */
Test(slub_fast, new_pointers_across_table_growth)
{
	struct rig *r = rig_boot();
	const uint32_t n = 3 * (1u << 15) + 7; /* past two doublings */
	for (uint32_t k = 0; k < n; k++) {
		struct mm_event a =
		    kev(EV_KMALLOC, 0xffff888000000000ull + (uint64_t)k * 96, 90, 0x100);
		slub_kmalloc_event(&r->s, &a);
		cr_assert_eq(r->s.ptr_count, k + 1, "pointer %u", k);
		cr_assert_leq(2ull * r->s.ptr_count, r->s.ptr_mask + 1ull, "pointer %u", k);
	}
	cr_assert_eq(slub_live_pointers(&r->s), n);
	cr_assert_eq(r->vmstat[SLAB_ALLOC], n);
	for (uint32_t k = 0; k < n; k++) {
		struct mm_event f =
		    kev(EV_KFREE, 0xffff888000000000ull + (uint64_t)k * 96, 0, 0x100);
		slub_kfree_event(&r->s, &f);
	}
	cr_assert_eq(r->vmstat[SLAB_FREE], n);
	cr_assert_eq(r->vmstat[SLAB_UNKNOWN_FREE], 0);
	cr_assert_eq(r->vmstat[SLAB_DOUBLE_FREE], 0);
	cr_assert_eq(slub_live_pointers(&r->s), 0);
	cr_assert_null(slub_check(&r->s));
	rig_free(r);
}

/* Call site 0 is a site of its own, found by the search even though its home slot (0)
 * reads call site 0 while still unused; a pointer that moves between sites is counted at
 * each. */
Test(slub_fast, call_site_zero_and_moves)
{
	struct rig *r = rig_boot();
	const uint64_t p = 0xffff888000100000ull, a = 0xffffffff81234560ull;
	struct mm_event ev = kev(EV_KMALLOC, p, 100, a);
	struct mm_event fr = kev(EV_KFREE, p, 0, 0);
	slub_kmalloc_event(&r->s, &ev);
	slub_kfree_event(&r->s, &fr);
	cr_assert_eq(r->s.nr_sites, 1);
	ev.u.kmem.call_site = 0;
	slub_kmalloc_event(&r->s, &ev);
	slub_kfree_event(&r->s, &fr);
	cr_assert_eq(r->s.nr_sites, 2, "call site 0 is a new site");
	ev.u.kmem.call_site = 0;
	slub_kmalloc_event(&r->s, &ev);
	slub_kfree_event(&r->s, &fr);
	ev.u.kmem.call_site = a;
	slub_kmalloc_event(&r->s, &ev);
	cr_assert_eq(r->s.nr_sites, 2);
	const struct slub_site *sa = find_site(&r->s, a), *s0 = find_site(&r->s, 0);
	cr_assert_not_null(sa);
	cr_assert_not_null(s0);
	cr_assert_eq(sa->hits, 2);
	cr_assert_eq(sa->frees, 1);
	cr_assert_eq(s0->hits, 2);
	cr_assert_eq(s0->frees, 2);
	cr_assert_eq(s0->bytes_alloc, 2 * 128);
	rig_free(r);
}

/* Call sites that share a home slot: the second lives further along the probe run, and a
 * pointer coming to it from another site must find it there, not take the home slot. */
Test(slub_fast, colliding_call_sites)
{
	struct rig *r = rig_boot();
	const uint64_t a = 0xffffffff81000000ull;
	const uint32_t home = slub_hash_64(a, r->s.site_shift);
	uint64_t b = a + 8;
	while (slub_hash_64(b, r->s.site_shift) != home)
		b += 8;
	const uint64_t p = 0xffff888000200000ull, q = p + 4096;
	struct mm_event ea = kev(EV_KMALLOC, p, 64, a), eb = kev(EV_KMALLOC, q, 64, b);
	slub_kmalloc_event(&r->s, &ea);
	slub_kmalloc_event(&r->s, &eb);
	cr_assert_eq(r->s.nr_sites, 2);
	cr_assert_eq(r->s.sites[home].call_site, a);
	/* p moves from a to b, q from b to a, then each back */
	for (int round = 0; round < 2; round++) {
		struct mm_event fp = kev(EV_KFREE, p, 0, 0), fq = kev(EV_KFREE, q, 0, 0);
		slub_kfree_event(&r->s, &fp);
		slub_kfree_event(&r->s, &fq);
		uint64_t t = ea.u.kmem.call_site;
		ea.u.kmem.call_site = eb.u.kmem.call_site;
		eb.u.kmem.call_site = t;
		slub_kmalloc_event(&r->s, &ea);
		slub_kmalloc_event(&r->s, &eb);
	}
	cr_assert_eq(r->s.nr_sites, 2);
	const struct slub_site *sa = find_site(&r->s, a), *sb = find_site(&r->s, b);
	cr_assert_eq(sa, &r->s.sites[home]);
	cr_assert_not_null(sb);
	cr_assert_neq(sb, sa);
	cr_assert_eq(sa->hits, 3);
	cr_assert_eq(sb->hits, 3);
	cr_assert_eq(sa->frees + sb->frees, 4);
	rig_free(r);
}
