/* The refill of the per-CPU lists from the buddy lists (mm/page_alloc.c, Linux 6.1:
 * rmqueue_bulk), split out of page_alloc.c. */
#include "page_alloc_refill.h"

/* The part [pfn + (n << order), pfn + 2^o) of a block of order o that a refill leaves
 * after taking its first n blocks of the requested order: what expand would have left,
 * one aligned block per order, each alone on its list (the lists below o were empty). */
static void expand_rest(struct page *map, struct zone *z, pfn_t pfn, unsigned n, unsigned order,
			unsigned o, unsigned mt)
{
	for (unsigned x = n << order; x < (1u << o); x += x & -x)
		add_to_empty_free_list(map, z, pfn + x, (unsigned)__builtin_ctz(x), mt);
}

/* Where rmqueue_bulk puts the blocks it takes: the tail of a pcp list's ring, in
 * registers (the stores through struct page would make the compiler reload it from the
 * list), after the first `direct` blocks, which go to out as the takes right after the
 * refill would hand them out (alloc_pages_bulk): fresh struct pages (lo, hi), instead of
 * onto the list and off it again; with prep false (alloc_pages_bulk_raw) their struct
 * pages are left to the caller. */
struct ring_tail {
	pfn_t *ring;
	uint32_t mask, tail;
	uint32_t direct;
	bool prep;
	pfn_t *out;
	page_half lo, hi;
};

/* What a page that rmqueue_bulk puts on a pcp list keeps in its first half: PG_pcp,
 * no links, private = order (the index, migratetype, is the other half's). PG_buddy
 * goes: the head of a free block had it, and so would every half expand put on a list. */
struct pcp_mark {
	page_half keep, set;
	uint32_t mt;
};

static inline struct pcp_mark pcp_mark(unsigned order, unsigned mt)
{
	return (struct pcp_mark){.keep = {~(uint32_t)PG_buddy, 0, 0, 0},
				 .set = {PG_pcp, PFN_NONE, PFN_NONE, order},
				 .mt = mt};
}

static inline void pcp_mark_page(struct page *p, const struct pcp_mark *m)
{
	page_half lo;
	memcpy(&lo, p, sizeof(lo));
	lo = (lo & m->keep) | m->set;
	memcpy(p, &lo, sizeof(lo));
	p->index = m->mt;
}

/* Block pfn onto the ring's tail (pcp_list_add_tail), its page marked. */
static inline void pcp_add_block(struct page *map, struct ring_tail *r, pfn_t pfn,
				 const struct pcp_mark *m)
{
	pcp_mark_page(&map[pfn], m);
	r->ring[r->tail++ & r->mask] = pfn;
}

/* 2k blocks step pages apart from pfn on, two a round */
static inline void pcp_add_pairs(struct page *map, struct ring_tail *r, pfn_t pfn, unsigned k,
				 unsigned step, const struct pcp_mark *m)
{
	struct page *p = &map[pfn];
	pfn_t *ring = r->ring;
	uint32_t mask = r->mask, t = r->tail;
	for (; k; k--, p += 2 * step, pfn += 2 * step, t += 2) {
		pcp_mark_page(p, m);
		pcp_mark_page(p + step, m);
		ring[t & mask] = pfn;
		ring[(t + 1) & mask] = pfn + step;
	}
	r->tail = t;
}

/* The first d of the blocks step pages apart from pfn on (order 0 only) into out */
static inline void refill_hand_out(struct page *map, struct ring_tail *r, pfn_t pfn, unsigned d,
				   unsigned step)
{
	if (r->prep) {
		for (unsigned k = 0; k < d; k++, pfn += step) {
			page_store(&map[pfn], r->lo, r->hi);
			r->out[k] = pfn;
		}
	} else {
		for (unsigned k = 0; k < d; k++, pfn += step)
			r->out[k] = pfn;
	}
	r->out += d;
	r->direct -= d;
}

/* n blocks step pages apart from pfn on: the first r->direct of them out, the rest onto
 * the ring */
static inline __attribute__((always_inline)) void refill_add_blocks(struct page *map,
								    struct ring_tail *r, pfn_t pfn,
								    unsigned n, unsigned step,
								    const struct pcp_mark *m)
{
	if (r->direct) { /* every block of a touch run's refills (alloc_pages_bulk) */
		unsigned d = r->direct < n ? r->direct : n;
		refill_hand_out(map, r, pfn, d, step);
		pfn += d * step;
		n -= d;
		if (!n)
			return;
	}
	pcp_add_pairs(map, r, pfn, n / 2, step, m);
	if (n & 1)
		pcp_add_block(map, r, pfn + (n - 1) * step, m);
}

/* How far ahead, in slots of a free list's ring, take_free_list_blocks fetches the struct
 * pages of the blocks to come: the ring names them, so their misses overlap. 8 blocks
 * taken whole, 2 blocks that are split (each is several pages of work); perf samples in
 * rmqueue_bulk on mixfull: 1 and 16 ahead did no better. */
#define FREE_LIST_PREFETCH 8
#define FREE_LIST_PREFETCH_SPLIT 2

/* pfn, pfn + 1, .. pfn + n - 1 into out, four a store */
static inline void hand_out_run(pfn_t *out, pfn_t pfn, unsigned n)
{
	typedef pfn_t pfn4 __attribute__((vector_size(16)));
	unsigned k = 0;
	if (n >= 4) {
		pfn4 v = (pfn4){0, 1, 2, 3} + pfn;
		for (; k + 4 <= n; k += 4, v += 4)
			memcpy(&out[k], &v, sizeof(v));
	}
	for (; k < n; k++)
		out[k] = pfn + k;
}

/* The next block on a free list's ring from slot *h (past tombstones), the struct page
 * dist slots on fetched while there is one (the ring names the blocks to come). */
static inline __attribute__((always_inline)) pfn_t ring_take(struct page *map, const pfn_t *ring,
							     uint32_t mask, uint32_t *h,
							     uint32_t end, uint32_t dist)
{
	uint32_t i = free_list_skip(ring, mask, *h);
	pfn_t pfn = ring[i++ & mask];
	if (end - i > dist)
		__builtin_prefetch(&map[ring[(i + dist) & mask]], 1);
	*h = i;
	return pfn;
}

/* take_free_list_blocks for order 0 when every page goes straight out as it is
 * (alloc_pages_bulk_raw, the whole count handed out): the same blocks in the same order,
 * each split block's pages as one run of pfns into out, no struct page written. h and
 * left as there; returns the pages taken. */
static inline __attribute__((always_inline)) unsigned
take_raw_out(struct page *map, struct zone *z, const pfn_t *ring, uint32_t mask, uint32_t *hp,
	     uint32_t end, uint64_t *leftp, unsigned o, unsigned mt, unsigned want, pfn_t *out)
{
	uint32_t h = *hp;
	uint64_t left = *leftp;
	unsigned got = 0;
	if (!o) {
		got = want < left ? want : (unsigned)left;
		for (unsigned i = 0; i < got; i++) {
			out[i] = ring_take(map, ring, mask, &h, end, FREE_LIST_PREFETCH);
		}
		left -= got;
	} else {
		unsigned per = 1u << o;
		do {
			pfn_t pfn = ring_take(map, ring, mask, &h, end, FREE_LIST_PREFETCH_SPLIT);
			left--;
			if (want - got < per) { /* the last block, in part */
				unsigned n = want - got;
				expand_rest(map, z, pfn, n, 0, o, mt);
				hand_out_run(out + got, pfn, n);
				got = want;
				break;
			}
			hand_out_run(out + got, pfn, per);
			got += per;
		} while (got < want && left);
	}
	*hp = h;
	*leftp = left;
	return got;
}

/* The blocks of order o >= order that rmqueue_bulk takes one after the other from the
 * head of mt's list at o while the lists between order and o are empty: each block,
 * split whole, gives its 2^(o - order) blocks of the requested order in pfn order (expand
 * puts the halves at the heads of the empty lists below o, and the next takes are those
 * halves), until want blocks are taken or the list ends; of the last block only what is
 * wanted, its rest going back to the lists below o. One pass over the list's ring: its
 * head, counts and free_orders are written once, and the struct pages of the blocks a
 * few slots ahead are fetched while the current one is written (the ring names them: no
 * chain of dependent loads through struct page). Returns how many blocks of the
 * requested order were taken. Inlined twice, for order 0 (the refills of the fast path)
 * and any order, so that the loops know their step. */
static inline __attribute__((always_inline)) unsigned
take_free_list_blocks(struct page *map, struct zone *z, unsigned o, unsigned order, unsigned mt,
		      unsigned want, struct ring_tail *rt)
{
	struct ring_tail r = *rt;
	struct free_area *area = &z->free_area[o];
	struct free_list *l = &area->free_list[mt];
	const pfn_t *ring = z->free_ring[o][mt];
	uint32_t h = l->head, mask = l->mask, end = l->tail;
	uint64_t left = area->nr_free_mt[mt];
	const struct pcp_mark m = pcp_mark(order, mt);
	unsigned got = 0, split = o - order;
	if (!order && !r.prep && r.direct >= want) {
		got = take_raw_out(map, z, ring, mask, &h, end, &left, o, mt, want, r.out);
		r.out += got;
		r.direct -= got;
	} else if (!split) {
		got = want < left ? want : (unsigned)left;
		for (unsigned i = 0; i < got; i++) {
			pfn_t pfn = ring_take(map, ring, mask, &h, end, FREE_LIST_PREFETCH);
			if (r.direct)
				refill_hand_out(map, &r, pfn, 1, 1);
			else
				pcp_add_block(map, &r, pfn, &m);
		}
		left -= got;
	} else {
		unsigned per = 1u << split, step = 1u << order;
		do {
			pfn_t pfn = ring_take(map, ring, mask, &h, end, FREE_LIST_PREFETCH_SPLIT);
			left--;
			if (want - got < per) {
				/* the last block, in part */
				unsigned n = want - got;
				expand_rest(map, z, pfn, n, order, o, mt);
				refill_add_blocks(map, &r, pfn, n, step, &m);
				got = want;
				break;
			}
			if (r.direct)
				refill_add_blocks(map, &r, pfn, per, step, &m);
			else
				pcp_add_pairs(map, &r, pfn, per / 2, step, &m);
			got += per;
		} while (got < want && left);
	}
	/* the blocks of order o taken, the last maybe in part */
	unsigned blocks = (got + (1u << split) - 1) >> split;
	if (left) {
		l->head = h;
	} else {
		l->head = l->tail = 0;
		z->free_orders[mt] &= (uint16_t) ~(1u << o);
	}
	area->nr_free_mt[mt] = left;
	area->nr_free -= blocks;
	rt->tail = r.tail;
	rt->direct = r.direct;
	rt->out = r.out;
	return got;
}

static __attribute__((noinline)) unsigned
take_free_list_blocks_any(struct page *map, struct zone *z, unsigned o, unsigned order, unsigned mt,
			  unsigned want, struct ring_tail *rt)
{
	return take_free_list_blocks(map, z, o, order, mt, want, rt);
}

/* rmqueue_bulk: count blocks from the buddy lists onto the tail of a pcp list. The kernel
 * takes them one by one, each from the smallest non-empty list of mt, and expand puts the
 * halves of a split block at the heads of the lists below its order, which were empty:
 * so the next blocks taken are the rest of that block, in pfn order, and after it the
 * next block of the same list. The loop hands out such runs at once and puts on the free
 * lists only what the batch leaves of its last block. Same pages, same order, same free
 * lists as block by block. */
/* rmqueue_bulk's loop over the free lists, count blocks of the order into r. Inlined
 * twice: for order 0, whose r lives in registers (nothing takes its address out of
 * line), and for any order, whose r take_free_list_blocks_any reads and writes. */
static inline __attribute__((always_inline)) unsigned
refill_blocks(struct pglist_data *pgdat, struct zone *z, unsigned order, int count, unsigned mt,
	      unsigned alloc_flags, struct ring_tail *r)
{
	struct page *map = pgdat->memmap_base;
	unsigned got = 0;
	while (got < (unsigned)count) {
		unsigned avail = free_orders_from(z, mt, order);
		if (unlikely(!avail)) {
			if (!rmqueue_fallback(pgdat, z, order, mt, alloc_flags))
				break;
			continue;
		}
		unsigned o = order + (unsigned)__builtin_ctz(avail);
		unsigned want = (unsigned)count - got;
		got += order ? take_free_list_blocks_any(map, z, o, order, mt, want, r)
			     : take_free_list_blocks(map, z, o, 0, mt, want, r);
	}
	return got;
}

/* The ring stretch a refill of l fills (direct blocks handed out to out first). */
static inline __attribute__((always_inline)) struct ring_tail
refill_ring(const struct zone *z, const struct pcp_list *l, unsigned direct, bool prep, pfn_t *out)
{
	struct ring_tail r = {.ring = l->ring,
			      .mask = l->mask,
			      .tail = l->tail + direct,
			      .direct = direct,
			      .prep = prep,
			      .out = out};
	fresh_page_halves(z, &r.lo, &r.hi);
	return r;
}

int rmqueue_bulk(struct pglist_data *pgdat, struct zone *z, unsigned order, int count,
		 struct per_cpu_pages *pcp, unsigned pindex, unsigned mt, unsigned alloc_flags,
		 pfn_t *out, unsigned direct, bool prep)
{
	struct pcp_list *l = &pcp->lists[pindex];
	unsigned got;
	uint32_t tail, left;
	if (unlikely(l->cap - pcp_list_count(l) < (uint32_t)count))
		pcp_list_make_room(pgdat, pcp, l, (uint32_t)count);
	/* the blocks handed out would have had the ring's first slots, and been taken off */
	if (likely(!order)) {
		struct ring_tail r = refill_ring(z, l, direct, prep, out);
		got = refill_blocks(pgdat, z, 0, count, mt, alloc_flags, &r);
		tail = r.tail;
		left = r.direct;
	} else {
		struct ring_tail r = refill_ring(z, l, direct, prep, out);
		got = refill_blocks(pgdat, z, order, count, mt, alloc_flags, &r);
		tail = r.tail;
		left = r.direct;
	}
	l->tail = tail;
	l->head += direct - left;
	z->nr_free_pages -= (uint64_t)got << order;
	return (int)got;
}
