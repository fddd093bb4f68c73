/* The buddy allocator (engine/page_alloc.c) on a booted x86_64 machine:
 *   page_alloc/order0_pair    alloc_pages(order 0) + free_pages: the replay's commonest
 *                             operation (target: median <= 20 ns per pair)
 *   page_alloc/order3_pair    the same at order 3 (PAGE_ALLOC_COSTLY_ORDER, kernel stacks)
 *   page_alloc/churn90        seeded random-order churn with 90% of memory allocated
 * Hooks do nothing (no reclaim, no OOM kill): a request that cannot be served fails. */
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "cbench.h"

/* Unmovable kernel request without reclaim: the fast path, never the slow path's hooks. */
#define GFP_BENCH_KERNEL (GFP_KERNEL & ~__GFP_RECLAIM)

static void node_setup(struct cbench_state *st)
{
	struct machine_config cfg;
	char err[256];
	struct bench_node *n = malloc(sizeof(*n));
	st->data = n;
	if (!n) {
		cbench_skip_with_error(st, "out of memory");
		return;
	}
	bench_config_x86_64(&cfg, (uint64_t)cbench_range0(st));
	if (bench_node_boot(n, &cfg, err, sizeof(err))) {
		free(n);
		st->data = NULL;
		cbench_skip_with_error(st, err);
	}
}

static void node_teardown(struct cbench_state *st)
{
	struct bench_node *n = st->data;
	if (n) {
		bench_node_destroy(n);
		free(n);
	}
}

static void alloc_free_pair(struct cbench_state *st, unsigned order)
{
	struct bench_node *n = st->data;
	while (cbench_keep_running(st)) {
		pfn_t pfn = alloc_pages(&n->pgdat, GFP_BENCH_KERNEL, order, 0);
		if (pfn == PFN_NONE) {
			cbench_skip_with_error(st, "alloc_pages failed on an idle machine");
			continue;
		}
		free_pages(&n->pgdat, pfn, order, 0);
	}
	cbench_set_items_processed(st, cbench_iterations(st));
}

static void bm_order0_pair(struct cbench_state *st) { alloc_free_pair(st, 0); }
CBENCH_NAMED(bm_order0_pair, "page_alloc/order0_pair")
{
	cbench_setup(b, node_setup);
	cbench_teardown(b, node_teardown);
	cbench_arg_name(b, "mem_MiB");
	cbench_arg(b, 5 << 10);
}

static void bm_order3_pair(struct cbench_state *st) { alloc_free_pair(st, 3); }
CBENCH_NAMED(bm_order3_pair, "page_alloc/order3_pair")
{
	cbench_setup(b, node_setup);
	cbench_teardown(b, node_teardown);
	cbench_arg_name(b, "mem_MiB");
	cbench_arg(b, 5 << 10);
}

/* ---- churn at 90% ---------------------------------------------------------------------- */

struct block {
	pfn_t pfn;
	uint8_t order;
	uint8_t gfp_class;
};

struct churn {
	struct bench_node node;
	struct block *blocks; /* allocated blocks, unordered */
	uint64_t nr_blocks, cap;
	uint64_t used_pages, target_pages;
	uint64_t rng;
	uint64_t failures;
};

static const gfp_t churn_gfp[] = {
    GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM,	       /* user pages */
    GFP_KERNEL & ~__GFP_RECLAIM,		       /* unmovable kernel */
    (GFP_KERNEL | __GFP_RECLAIMABLE) & ~__GFP_RECLAIM, /* slab-reclaimable */
};

/* Order and migratetype mix, loosely a desktop's: mostly order-0 user pages, some kernel
 * pages, a few high orders (which fail more and more as memory fragments). */
static unsigned churn_order(uint64_t r)
{
	unsigned x = (unsigned)(r % 100);
	if (x < 60)
		return 0;
	if (x < 75)
		return 1;
	if (x < 85)
		return 2;
	if (x < 95)
		return 3;
	return 4 + (unsigned)((r >> 32) % (MAX_PAGE_ORDER - 3)); /* 4..10 */
}

static unsigned churn_class(uint64_t r)
{
	unsigned x = (unsigned)((r >> 16) % 10);
	return x < 7 ? 0 : x < 9 ? 1 : 2;
}

/* One operation: above the target free a random block, else allocate a random one. */
static void churn_step(struct churn *c)
{
	uint64_t r = bench_rand(&c->rng);
	if (c->used_pages >= c->target_pages && c->nr_blocks) {
		uint64_t i = r % c->nr_blocks;
		struct block b = c->blocks[i];
		c->blocks[i] = c->blocks[--c->nr_blocks];
		free_pages(&c->node.pgdat, b.pfn, b.order, 0);
		c->used_pages -= 1ull << b.order;
		return;
	}
	unsigned order = churn_order(r), cls = churn_class(r);
	pfn_t pfn = alloc_pages(&c->node.pgdat, churn_gfp[cls], order, 0);
	if (pfn == PFN_NONE) {
		c->failures++;
		return;
	}
	c->blocks[c->nr_blocks++] = (struct block){pfn, (uint8_t)order, (uint8_t)cls};
	c->used_pages += 1ull << order;
}

static void churn_teardown(struct cbench_state *st)
{
	struct churn *c = st->data;
	if (c) {
		if (c->blocks)
			bench_node_destroy(&c->node);
		free(c->blocks);
		free(c);
	}
}

static void churn_setup(struct cbench_state *st)
{
	struct machine_config cfg;
	char err[256];
	struct churn *c = calloc(1, sizeof(*c));
	st->data = c;
	if (!c) {
		cbench_skip_with_error(st, "out of memory");
		return;
	}
	bench_config_x86_64(&cfg, (uint64_t)cbench_range0(st));
	if (bench_node_boot(&c->node, &cfg, err, sizeof(err))) {
		cbench_skip_with_error(st, err);
		return;
	}
	uint64_t free0 = global_free_pages(&c->node.pgdat);
	c->cap = free0 + 1; /* every block is at least one page */
	c->blocks = malloc(c->cap * sizeof(*c->blocks));
	if (!c->blocks) {
		bench_node_destroy(&c->node);
		cbench_skip_with_error(st, "out of memory");
		return;
	}
	c->target_pages = free0 / 10 * 9;
	c->rng = 0x6d6d7265706c6179ull; /* fixed seed: every run churns the same way */
	/* Fill to the target; the failures of the fill are not the steady state's. */
	while (c->used_pages < c->target_pages)
		churn_step(c);
	c->failures = 0;
}

static void bm_churn90(struct cbench_state *st)
{
	struct churn *c = st->data;
	while (cbench_keep_running(st))
		churn_step(c);
	int64_t ops = cbench_iterations(st);
	cbench_set_items_processed(st, ops);
	/* Share of the operations that were allocations that failed (fragmentation). */
	cbench_counter(st, "fail_pct", ops ? 100.0 * (double)c->failures / (double)ops : 0,
		       CBENCH_COUNTER_DEFAULT);
	cbench_counter(st, "used_pct",
		       100.0 * (double)c->used_pages / (double)(c->target_pages / 9 * 10),
		       CBENCH_COUNTER_DEFAULT);
}
CBENCH_NAMED(bm_churn90, "page_alloc/churn90")
{
	cbench_setup(b, churn_setup);
	cbench_teardown(b, churn_teardown);
	cbench_arg_name(b, "mem_MiB");
	cbench_arg(b, 1 << 10);
}
