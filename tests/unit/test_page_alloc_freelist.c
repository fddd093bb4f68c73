/* The buddy free lists as deques of pfns in rings (struct free_list): random adds at the
 * head and the tail, deletions from anywhere, takes of the head and moves between lists,
 * against plain arrays kept in list order with memmove; after every step the lists read
 * through the iteration API equal the arrays (expand's add to a list known to be empty
 * included), every block's struct page names its slot,
 * the counts and free_orders agree, and an empty list keeps no tombstones. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "page_alloc.h"
#include "page_alloc_internal.h"
#include "testlib_rng.h"

#define FL_PAGES 4096u
#define FL_ORDERS 2u
#define FL_TYPES 2u

struct ref_list {
	pfn_t pfn[FL_PAGES];
	uint32_t n;
};

struct fl_model {
	struct zone z;
	struct page *map;
	struct ref_list ref[FL_ORDERS][FL_TYPES];
	/* which list a pfn is on (order * FL_TYPES + mt), or -1 */
	int where[FL_PAGES];
	unsigned compactions, growths;
};

/* An empty zone's lists over FL_PAGES struct pages, no pfn on any list. */
static void fl_model_init(struct fl_model *md)
{
	memset(md, 0, sizeof(*md));
	md->map = calloc(FL_PAGES, sizeof(struct page));
	cr_assert_not_null(md->map);
	for (unsigned i = 0; i < FL_PAGES; i++)
		md->where[i] = -1;
}

static void fl_model_free(struct fl_model *md)
{
	free_lists_free(&md->z);
	free(md->map);
}

static void ref_insert(struct ref_list *r, uint32_t at, pfn_t pfn)
{
	memmove(&r->pfn[at + 1], &r->pfn[at], (r->n - at) * sizeof(pfn_t));
	r->pfn[at] = pfn;
	r->n++;
}

static void ref_remove(struct ref_list *r, uint32_t at)
{
	memmove(&r->pfn[at], &r->pfn[at + 1], (r->n - at - 1) * sizeof(pfn_t));
	r->n--;
}

static void check_lists(const struct fl_model *md, int step)
{
	const struct zone *z = &md->z;
	for (unsigned o = 0; o < FL_ORDERS; o++) {
		uint64_t all = 0;
		for (unsigned mt = 0; mt < FL_TYPES; mt++) {
			const struct ref_list *r = &md->ref[o][mt];
			const struct free_list *l = &z->free_area[o].free_list[mt];
			uint32_t i = 0;
			pfn_t pfn;
			cr_assert(l->tail - l->head <= l->cap, "step %d: span past the ring", step);
			for_each_free_block(z, o, mt, pfn, pos)
			{
				cr_assert_lt(i, r->n, "step %d: list %u/%u longer", step, o, mt);
				cr_assert_eq(pfn, r->pfn[i], "step %d: list %u/%u entry %u", step,
					     o, mt, i);
				const struct page *p = &md->map[pfn];
				cr_assert_eq(p->next, pos, "step %d: slot of %u", step,
					     (unsigned)pfn);
				cr_assert_eq(p->prev, PFN_NONE);
				cr_assert(p->flags & PG_buddy);
				cr_assert_eq(p->private, o);
				cr_assert_eq(p->index, mt);
				i++;
			}
			cr_assert_eq(i, r->n, "step %d: list %u/%u shorter", step, o, mt);
			cr_assert_eq(z->free_area[o].nr_free_mt[mt], r->n, "step %d", step);
			cr_assert_eq((z->free_orders[mt] >> o) & 1, r->n != 0, "step %d", step);
			cr_assert_eq(free_list_first(z, o, mt), r->n ? r->pfn[0] : PFN_NONE,
				     "step %d", step);
			if (!r->n)
				cr_assert_eq(l->head, l->tail, "step %d: tombstones left", step);
			all += r->n;
		}
		cr_assert_eq(z->free_area[o].nr_free, all, "step %d", step);
	}
}

/* A pfn not on any list, or PFN_NONE after a few tries */
static pfn_t pick_off_list(const struct fl_model *md, uint64_t *rng)
{
	for (int t = 0; t < 16; t++) {
		pfn_t pfn = (pfn_t)(tl_splitmix64(rng) % FL_PAGES);
		if (md->where[pfn] < 0)
			return pfn;
	}
	return PFN_NONE;
}

/* A random block on list (o, mt), its index in the reference in *at */
static pfn_t pick_on_list(const struct fl_model *md, unsigned o, unsigned mt, uint64_t *rng,
			  uint32_t *at)
{
	const struct ref_list *r = &md->ref[o][mt];
	if (!r->n)
		return PFN_NONE;
	*at = (uint32_t)(tl_splitmix64(rng) % r->n);
	return r->pfn[*at];
}

static void step_once(struct fl_model *md, uint64_t *rng, unsigned grow_bias)
{
	unsigned o = (unsigned)(tl_splitmix64(rng) % FL_ORDERS);
	unsigned mt = (unsigned)(tl_splitmix64(rng) % FL_TYPES);
	struct ref_list *r = &md->ref[o][mt];
	const struct free_list *l = &md->z.free_area[o].free_list[mt];
	uint32_t cap = l->cap, span = l->tail - l->head;
	unsigned op = (unsigned)(tl_splitmix64(rng) % (8 + grow_bias));
	uint32_t at;
	pfn_t pfn;
	if (op >= 8 || op < 2) {
		/* add at the head or (buddy_merge_likely, FPI_TO_TAIL) the tail */
		bool tail = op == 1 || (op >= 8 && (tl_splitmix64(rng) & 1));
		pfn = pick_off_list(md, rng);
		if (pfn == PFN_NONE)
			return;
		if (!r->n && !tail && (tl_splitmix64(rng) & 1))
			add_to_empty_free_list(md->map, &md->z, pfn, o, mt); /* expand's */
		else
			add_to_free_list(md->map, &md->z, pfn, o, mt, tail);
		ref_insert(r, tail ? r->n : 0, pfn);
		md->where[pfn] = (int)(o * FL_TYPES + mt);
		if (l->cap > cap)
			md->growths++;
		else if (l->tail - l->head < span + 1 && span == cap)
			md->compactions++;
	} else if (op < 5) {
		/* a merged buddy: anywhere on the list */
		pfn = pick_on_list(md, o, mt, rng, &at);
		if (pfn == PFN_NONE)
			return;
		del_from_free_list(md->map, &md->z, pfn, o);
		ref_remove(r, at);
		md->where[pfn] = -1;
	} else if (op < 7) {
		if (!r->n)
			return;
		pfn = take_free_list_head(md->map, &md->z, o, mt);
		cr_assert_eq(pfn, r->pfn[0]);
		cr_assert_eq(md->map[pfn].next, PFN_NONE);
		cr_assert_not(md->map[pfn].flags & PG_buddy);
		ref_remove(r, 0);
		md->where[pfn] = -1;
	} else {
		/* move_freepages_block: to the head of another type's list */
		pfn = pick_on_list(md, o, mt, rng, &at);
		if (pfn == PFN_NONE)
			return;
		unsigned to = (mt + 1) % FL_TYPES;
		move_to_free_list(md->map, &md->z, pfn, o, to);
		ref_remove(r, at);
		ref_insert(&md->ref[o][to], 0, pfn);
		md->where[pfn] = (int)(o * FL_TYPES + to);
	}
}

static void run_deque(uint64_t seed, int steps)
{
	static struct fl_model md;
	fl_model_init(&md);
	uint64_t rng = seed;
	for (int s = 0; s < steps; s++) {
		/* phases that grow the lists and phases that shrink them */
		unsigned bias = (s / 2000) % 2 ? 0 : 6;
		step_once(&md, &rng, bias);
		check_lists(&md, s);
	}
	cr_assert_gt(md.growths, 0, "no ring grew");
	cr_assert_gt(md.compactions, 0, "no ring was compacted");
	fl_model_free(&md);
}

Test(page_alloc_freelist, deque_matches_reference_lists)
{
	for (uint64_t seed = 1; seed <= 4; seed++)
		run_deque(seed, 12000);
}

/* A list that never runs empty while blocks come and go in the middle: its tombstones
 * are dropped only by compaction, and the ring stays within four times its blocks. */
Test(page_alloc_freelist, tombstones_are_compacted_in_order)
{
	static struct fl_model md;
	fl_model_init(&md);
	struct ref_list *r = &md.ref[0][0];
	const struct free_list *l = &md.z.free_area[0].free_list[0];
	/* 64 blocks, then 20000 rounds of: delete one from the middle, add one at the head */
	for (pfn_t p = 0; p < 64; p++) {
		add_to_free_list(md.map, &md.z, p, 0, 0, true);
		ref_insert(r, r->n, p);
		md.where[p] = 0;
	}
	uint64_t rng = 99;
	pfn_t next = 64;
	for (int s = 0; s < 20000; s++) {
		uint32_t at = 1 + (uint32_t)(tl_splitmix64(&rng) % (r->n - 2));
		pfn_t victim = r->pfn[at];
		del_from_free_list(md.map, &md.z, victim, 0);
		ref_remove(r, at);
		md.where[victim] = -1;
		pfn_t pfn = next;
		next = (next + 1) % FL_PAGES;
		while (md.where[pfn] >= 0) {
			pfn = next;
			next = (next + 1) % FL_PAGES;
		}
		add_to_free_list(md.map, &md.z, pfn, 0, 0, false);
		ref_insert(r, 0, pfn);
		md.where[pfn] = 0;
		check_lists(&md, s);
		cr_assert_leq(l->cap, 4 * 64u, "ring of %u slots for 64 blocks", l->cap);
	}
	fl_model_free(&md);
}
