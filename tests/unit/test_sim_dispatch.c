/* sim_apply's dispatch (a handler table per replay level, indexed by the type byte) and
 * sim_prefetch's inline look-ahead: each known type reaches its handler at model level,
 * page level handles only page events, type codes the engine does not know are counted
 * without touching memory past unhandled[], and the look-ahead changes nothing. */
#include <criterion/criterion.h>
#include <string.h>

#include "sim.h"
#include "testlib_rng.h"
#include "testlib_sim.h"

static struct strtab strings, strings_b;

static struct sim *boot(enum replay_level level, struct strtab *t)
{
	struct machine_config cfg;
	char err[256];
	tl_sim_config(&cfg, ARCH_I386, "256M", NULL);
	strtab_init(t);
	struct sim *s = sim_create(&cfg, t, level, err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	return s;
}

static struct mm_event kmem(uint8_t type, uint64_t ts, uint64_t ptr, uint32_t bytes)
{
	struct mm_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.ts = ts;
	ev.pid = 1;
	ev.type = type;
	ev.u.kmem.ptr = ptr;
	ev.u.kmem.call_site = 0xc0100000u + (ptr & 0xf0);
	ev.u.kmem.bytes_req = bytes;
	ev.u.kmem.gfp = GFP_KERNEL;
	return ev;
}

Test(sim_dispatch, unknown_type_codes_count_as_unhandled_only)
{
	struct sim *s = boot(REPLAY_MODEL, &strings);
	static const uint8_t codes[] = {0, EV_NR_TYPES, 200, 255};
	uint64_t ts = 0;
	for (unsigned k = 0; k < sizeof(codes); k++) {
		struct mm_event ev = kmem(codes[k], ts += 10, 0, 0);
		sim_apply(s, &ev);
		cr_assert_eq(s->vmstat[UNHANDLED], k + 1, "type %u", codes[k]);
		cr_assert_eq(s->last_ts, ts, "type %u", codes[k]);
	}
	cr_assert_eq(s->vmstat[EVENTS], sizeof(codes));
	cr_assert_eq(s->unhandled[0], 1); /* type 0 is a known slot of unhandled[] */
	for (int t = 1; t < EV_NR_TYPES; t++)
		cr_assert_eq(s->unhandled[t], 0, "unhandled[%d]", t);
	cr_assert_null(slub_check(&s->slub));
	sim_destroy(s);
	strtab_free(&strings);
}

Test(sim_dispatch, model_level_slab_events_reach_the_allocator)
{
	struct sim *s = boot(REPLAY_MODEL, &strings);
	uint32_t dentry = strtab_intern(&strings, "dentry", 6);
	struct mm_event ev = kmem(EV_KMALLOC, 1, 0xc1000040u, 100);
	sim_apply(s, &ev);
	cr_assert_eq(slub_live_pointers(&s->slub), 1);
	ev = kmem(EV_CACHE_ALLOC, 2, 0xc1000080u, 192);
	ev.u.kmem.cache = dentry;
	sim_apply(s, &ev);
	cr_assert_eq(slub_live_pointers(&s->slub), 2);
	ev = kmem(EV_KFREE, 3, 0xc1000040u, 0);
	sim_apply(s, &ev);
	cr_assert_eq(slub_live_pointers(&s->slub), 1);
	ev = kmem(EV_CACHE_FREE, 4, 0xc1000080u, 0);
	ev.u.kmem.cache = dentry;
	sim_apply(s, &ev);
	cr_assert_eq(slub_live_pointers(&s->slub), 0);
	cr_assert_eq(s->slub.cum_bytes_req, 100 + 192);
	ev = kmem(EV_PAGE_ALLOC, 5, 0, 0);
	ev.u.page.pfn = 1234;
	sim_apply(s, &ev); /* a page-level event: ignored at model level, not unhandled */
	cr_assert_eq(s->vmstat[UNHANDLED], 0);
	cr_assert_eq(s->vmstat[EVENTS], 5);
	cr_assert_null(slub_check(&s->slub));
	sim_destroy(s);
	strtab_free(&strings);
}

Test(sim_dispatch, page_level_handles_page_events_only)
{
	struct sim *s = boot(REPLAY_PAGE, &strings);
	struct mm_event ev = kmem(EV_KMALLOC, 1, 0xc1000040u, 100);
	sim_apply(s, &ev);
	cr_assert_eq(slub_live_pointers(&s->slub), 0);
	ev = kmem(EV_PAGE_ALLOC, 2, 0, 0);
	ev.u.page.pfn = 4096;
	ev.u.page.order = 2;
	ev.u.page.gfp = GFP_KERNEL;
	sim_apply(s, &ev);
	cr_assert_eq(sim_page_level_live_pages(s), 4);
	ev = kmem(EV_PAGE_FREE, 3, 0, 0);
	ev.u.page.pfn = 4096;
	ev.u.page.order = 2;
	sim_apply(s, &ev);
	cr_assert_eq(sim_page_level_live_pages(s), 0);
	ev = kmem(200, 4, 0, 0);
	sim_apply(s, &ev);
	cr_assert_eq(s->vmstat[UNHANDLED], 0); /* page level ignores what it does not replay */
	cr_assert_eq(s->vmstat[EVENTS], 4);
	sim_destroy(s);
	strtab_free(&strings);
}

/* Random slab events over a pool of pointers large enough that the pointer table doubles
 * mid-run, so hints land on tables that are then replaced; with and without the
 * look-ahead the allocator must end in the same state. */
static void run_slab_events(struct sim *s, struct strtab *t, bool lookahead)
{
	enum { N = 150016, BATCH = 256, POOL = 60000 };
	static struct mm_event batch[BATCH];
	uint32_t dentry = strtab_intern(t, "dentry", 6);
	uint64_t rng = 42, ts = 0;
	for (int done = 0; done < N; done += BATCH) {
		for (int i = 0; i < BATCH; i++) {
			uint64_t r = tl_splitmix64(&rng);
			uint64_t ptr = 0xc1000000u + (r % POOL) * 64;
			uint8_t type = (uint8_t)(EV_KMALLOC + (r >> 32) % 4);
			batch[i] = kmem(type, ++ts, ptr, (uint32_t)(8 + (r >> 40) % 3000));
			if (type == EV_CACHE_ALLOC || type == EV_CACHE_FREE)
				batch[i].u.kmem.cache = dentry;
			if (type == EV_CACHE_ALLOC)
				batch[i].u.kmem.bytes_req = 192;
			batch[i].cpu = (uint16_t)(r >> 60 & 1);
		}
		for (size_t i = 0; i < BATCH; i++) {
			if (lookahead)
				sim_prefetch(s, batch, i, BATCH);
			sim_apply(s, &batch[i]);
		}
	}
}

Test(sim_dispatch, lookahead_changes_nothing)
{
	struct sim *a = boot(REPLAY_MODEL, &strings);
	run_slab_events(a, &strings, true);
	struct sim *b = boot(REPLAY_MODEL, &strings_b);
	run_slab_events(b, &strings_b, false);
	cr_assert_gt(a->slub.ptr_mask, 1u << 16, "the pointer table did not grow");
	cr_assert_eq(memcmp(a->vmstat, b->vmstat, sizeof(a->vmstat)), 0);
	cr_assert_eq(a->slub.ptr_count, b->slub.ptr_count);
	cr_assert_eq(a->slub.ptr_mask, b->slub.ptr_mask);
	cr_assert_eq(memcmp(a->slub.ptrs, b->slub.ptrs,
			    (a->slub.ptr_mask + 1ull) * sizeof(*a->slub.ptrs)),
		     0, "the pointer tables differ");
	cr_assert_eq(memcmp(a->slub.sites, b->slub.sites,
			    (a->slub.site_mask + 2ull) * sizeof(*a->slub.sites)),
		     0, "the call-site tables differ");
	cr_assert_eq(slub_live_pointers(&a->slub), slub_live_pointers(&b->slub));
	cr_assert_eq(a->slub.cum_bytes_freed, b->slub.cum_bytes_freed);
	cr_assert_eq(a->slub.double_free, b->slub.double_free);
	cr_assert_null(slub_check(&a->slub));
	sim_destroy(a);
	sim_destroy(b);
	strtab_free(&strings);
	strtab_free(&strings_b);
}
