/* Workload generators (tools/gen*.c): events generated per second, the sink only counting
 * (and hashing, so nothing is optimized away). One iteration is a whole gen_run at scale
 * 0.25; items/s is events/s. */
#include <string.h>

#include "cbench.h"
#include "gen.h"

struct count_sink {
	uint64_t n, h;
	uint32_t next_id;
};

static uint32_t cs_intern(void *ctx, const char *s)
{
	struct count_sink *c = ctx;
	(void)s;
	return ++c->next_id;
}

static int cs_put(void *ctx, const struct mm_event *ev)
{
	struct count_sink *c = ctx;
	c->n++;
	c->h = (c->h ^ ev->ts ^ ev->u.map.addr) * 0x100000001b3ull;
	return 0;
}

static void bm_gen(struct cbench_state *st)
{
	const char *wl = st->udata;
	struct gen_params p = {.seed = 1, .scale = 0.25, .kv = NULL, .nkv = 0};
	struct count_sink c;
	memset(&c, 0, sizeof(c));
	struct event_sink sink = {&c, cs_intern, cs_put};
	char err[256];
	while (cbench_keep_running(st)) {
		if (gen_run(wl, &p, &sink, err, sizeof(err)))
			cbench_skip_with_error(st, err); /* the loop ends at the next test */
		c.next_id = 0;
	}
	cbench_do_not_optimize_u64(c.h);
	cbench_set_items_processed(st, (int64_t)c.n);
}

#define GEN_BENCH(name)                                                                            \
	CBENCH_NAMED_AS(name, bm_gen, "gen/" #name)                                                \
	{                                                                                          \
		cbench_set_udata(b, #name);                                                        \
		cbench_unit(b, CBENCH_MS);                                                         \
	}

GEN_BENCH(mix)
GEN_BENCH(shell)
GEN_BENCH(build)
GEN_BENCH(db)
GEN_BENCH(forkcow)
GEN_BENCH(slab)
GEN_BENCH(vmalloc)
GEN_BENCH(leak)
