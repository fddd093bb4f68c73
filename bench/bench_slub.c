/* SLUB and vmalloc on a booted x86_64 machine (engine/slub.c, engine/slab_common.c,
 * engine/vmalloc.c):
 *   slub/kmalloc_kfree_event   a kmem:kmalloc + kmem:kfree event pair through the trace
 *                              pointer map, mixed sizes, 64 Ki objects live (target: median
 *                              <= 30 ns per pair)
 *   slub/kmalloc_free_obj      the same pair without the pointer map (engine-side API)
 *   vmalloc/pair_16k           vmalloc(16 KiB) + vfree, lazy purges included */
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "cbench.h"
#include "slub.h"
#include "vmalloc.h"

#define LIVE_OBJECTS (1u << 16)
#define SIZES 1024u

struct slub_fixture {
	struct bench_node node;
	struct slub s;
	struct vmalloc v;
	uint32_t sizes[SIZES];
};

static void fixture_setup(struct cbench_state *st)
{
	struct machine_config cfg;
	char err[256];
	struct slub_fixture *f = calloc(1, sizeof(*f));
	st->data = f;
	if (!f) {
		cbench_skip_with_error(st, "out of memory");
		return;
	}
	bench_config_x86_64(&cfg, 4096);
	if (bench_node_boot(&f->node, &cfg, err, sizeof(err))) {
		free(f);
		st->data = NULL;
		cbench_skip_with_error(st, err);
		return;
	}
	if (slub_init(&f->s, &f->node.pgdat, &f->node.m, f->node.vmstat) ||
	    vmalloc_init(&f->v, &f->node.pgdat, &f->s, &f->node.m, f->node.vmstat)) {
		cbench_skip_with_error(st, "slub/vmalloc init failed");
		return;
	}
	/* kernel-like size mix: mostly small, some up to 4 KiB */
	uint64_t seed = 1;
	for (unsigned k = 0; k < SIZES; k++) {
		uint64_t x = bench_rand(&seed);
		f->sizes[k] = 1 + (uint32_t)(x % (x % 8 ? 256 : 4096));
	}
	/* a populated pointer map, as in the middle of a trace */
	struct mm_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = EV_KMALLOC;
	ev.pid = 1;
	ev.u.kmem.gfp = GFP_KERNEL;
	for (unsigned k = 0; k < LIVE_OBJECTS; k++) {
		ev.u.kmem.ptr = 0xffff888100000000ull + 64ull * k;
		ev.u.kmem.bytes_req = f->sizes[k % SIZES];
		ev.u.kmem.call_site = 0xffffffff81000000ull + k % 64;
		slub_kmalloc_event(&f->s, &ev);
	}
}

static void fixture_teardown(struct cbench_state *st)
{
	struct slub_fixture *f = st->data;
	if (!f)
		return;
	vmalloc_destroy(&f->v);
	slub_destroy(&f->s);
	bench_node_destroy(&f->node);
	free(f);
}

static void bm_kmalloc_kfree_event(struct cbench_state *st)
{
	struct slub_fixture *f = st->data;
	struct mm_event a, fr;
	memset(&a, 0, sizeof(a));
	a.type = EV_KMALLOC;
	a.pid = 1;
	a.u.kmem.gfp = GFP_KERNEL;
	fr = a;
	fr.type = EV_KFREE;
	uint64_t i = 0;
	while (cbench_keep_running(st)) {
		uint64_t ptr = 0xffff888200000000ull + 64ull * (i & 4095);
		a.u.kmem.ptr = fr.u.kmem.ptr = ptr;
		a.u.kmem.bytes_req = f->sizes[i & (SIZES - 1)];
		a.u.kmem.call_site = 0xffffffff81000000ull + (i & 63);
		slub_kmalloc_event(&f->s, &a);
		slub_kfree_event(&f->s, &fr);
		i++;
	}
	if (f->s.double_free || f->s.unknown_free)
		cbench_skip_with_error(st, "unexpected unknown/double frees");
	cbench_set_items_processed(st, cbench_iterations(st));
}
CBENCH_NAMED(bm_kmalloc_kfree_event, "slub/kmalloc_kfree_event")
{
	cbench_setup(b, fixture_setup);
	cbench_teardown(b, fixture_teardown);
}

static void bm_kmalloc_free_obj(struct cbench_state *st)
{
	struct slub_fixture *f = st->data;
	struct slab_obj o;
	uint64_t i = 0;
	while (cbench_keep_running(st)) {
		if (slub_kmalloc(&f->s, f->sizes[i & (SIZES - 1)], GFP_KERNEL, &o))
			slub_free(&f->s, &o);
		i++;
	}
	cbench_set_items_processed(st, cbench_iterations(st));
}
CBENCH_NAMED(bm_kmalloc_free_obj, "slub/kmalloc_free_obj")
{
	cbench_setup(b, fixture_setup);
	cbench_teardown(b, fixture_teardown);
}

static void bm_vmalloc_pair_16k(struct cbench_state *st)
{
	struct slub_fixture *f = st->data;
	while (cbench_keep_running(st)) {
		uint64_t a = vmalloc_alloc(&f->v, 16384, 0, 0xffffffff81234567ull);
		if (!a) {
			cbench_skip_with_error(st, "vmalloc failed on an idle machine");
			continue;
		}
		vmalloc_vfree(&f->v, a);
	}
	cbench_set_items_processed(st, cbench_iterations(st));
}
CBENCH_NAMED(bm_vmalloc_pair_16k, "vmalloc/pair_16k")
{
	cbench_setup(b, fixture_setup);
	cbench_teardown(b, fixture_teardown);
}
