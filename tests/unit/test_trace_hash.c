/* The trace identity hash (tools/results.c): the batch form and the unrolled word loop must
 * give exactly the chain the results have always carried. */
#include <criterion/criterion.h>
#include <string.h>

#include "results.h"

/* The definition as first written: six words of the event, in memory order. */
static uint64_t ref_hash(uint64_t h, const struct mm_event *ev)
{
	uint64_t w[sizeof(*ev) / 8];
	memcpy(w, ev, sizeof(w));
	for (size_t i = 0; i < sizeof(w) / 8; i++) {
		h ^= w[i] * 0x9e3779b97f4a7c15ull;
		h = (h << 27 | h >> 37) * 0xbf58476d1ce4e5b9ull;
	}
	return h;
}

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Random bytes everywhere, padding and unused union bytes included: the hash covers them. */
static void fill(struct mm_event *ev, size_t n, uint64_t *seed)
{
	unsigned char *b = (unsigned char *)ev;
	for (size_t i = 0; i < n * sizeof(*ev); i++)
		b[i] = (unsigned char)next_rand(seed);
}

Test(trace_hash, event_matches_reference)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	struct mm_event ev[64];
	fill(ev, 64, &seed);
	uint64_t h = 0x6d6d7265706c6179ull, want = h;
	for (int i = 0; i < 64; i++) {
		h = trace_hash_event(h, &ev[i]);
		want = ref_hash(want, &ev[i]);
		cr_assert_eq(h, want, "event %d", i);
	}
}

Test(trace_hash, batch_is_the_same_chain)
{
	uint64_t seed = 12345;
	static struct mm_event ev[1000];
	fill(ev, 1000, &seed);
	uint64_t one = 7;
	for (int i = 0; i < 1000; i++)
		one = ref_hash(one, &ev[i]);
	/* any split into batches gives the same value; an empty batch changes nothing */
	static const size_t cuts[][4] = {{1000, 0, 0, 0}, {1, 255, 256, 488}, {0, 999, 1, 0}};
	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		uint64_t h = 7;
		size_t at = 0;
		for (int k = 0; k < 4; k++) {
			h = trace_hash_events(h, ev + at, cuts[c][k]);
			at += cuts[c][k];
		}
		cr_assert_eq(at, 1000);
		cr_assert_eq(h, one, "split %zu", c);
	}
	/* and it depends on every byte: flip one bit of the padding */
	ev[500]._pad ^= 1;
	cr_assert_neq(trace_hash_events(7, ev, 1000), one);
}
