/* Freeing (mm/page_alloc.c, Linux 6.1; free_unref_folios from 6.10): free_pages and the
 * batched free_unref_folios onto the per-CPU lists, free_pcppages_bulk from them into the
 * buddy free lists, and the merging there (__free_one_page). The allocation side and the
 * refill of the per-CPU lists are in page_alloc.c. */
#include <stddef.h>

#include "page_alloc.h"

#include "page_alloc_internal.h"
#include "vmstat.h"

/* ---- freeing (__free_one_page) -------------------------------------------------------- */

/* include/linux/mmzone.h MAX_ORDER_NR_PAGES: the pages of a block of MAX_PAGE_ORDER */
#define MAX_ORDER_NR_PAGES (1u << MAX_PAGE_ORDER)

/* page_is_buddy, without the span test when the caller knows that pfn's block of
 * MAX_PAGE_ORDER lies wholly inside the zone (inside, a constant where it is inlined):
 * every buddy the merge tests, up to buddy_merge_likely's, is in that block. */
static inline __attribute__((always_inline)) bool
merge_is_buddy(const struct page *map, pfn_t zone_start, uint64_t spanned, bool inside, pfn_t buddy,
	       unsigned order)
{
	if (inside)
		return page_is_buddy_inside(map, buddy, order);
	return page_is_buddy(map, zone_start, spanned, buddy, order);
}

/* One step of __free_one_page's merge: is pfn's buddy at order a free block it merges
 * with? Then the buddy leaves its free list. */
static inline __attribute__((always_inline)) bool
merge_buddy(struct pglist_data *pgdat, struct page *map, struct zone *z, pfn_t zone_start,
	    uint64_t spanned, bool inside, unsigned pb_order, pfn_t pfn, unsigned order, unsigned mt)
{
	pfn_t buddy = pfn ^ (1u << order);
	if (!merge_is_buddy(map, zone_start, spanned, inside, buddy, order))
		return false;
	if (unlikely(order >= pb_order)) {
		unsigned bmt = get_pageblock_migratetype(pgdat, buddy);
		if (bmt != mt && (!mt_mergeable(mt) || !mt_mergeable(bmt)))
			return false;
	}
	del_from_free_list(map, z, buddy, order);
	return true;
}

/* The end of __free_one_page for the block pfn of order, merged as far as it goes. */
static inline __attribute__((always_inline)) void
free_one_page_add(struct page *map, struct zone *z, pfn_t zone_start, uint64_t spanned, bool inside,
		  pfn_t pfn, unsigned order, unsigned mt, bool to_tail, uint32_t clear)
{
	/* buddy_merge_likely (6.1): queue at the tail when the next-higher buddy is free, so
	 * the block is less likely to be split again before it can merge. The merge stopped
	 * at order: its buddy there is pfn ^ (1 << order). */
	if (!to_tail && order < MAX_PAGE_ORDER - 1) {
		pfn_t higher = pfn & ~(1u << order);
		to_tail = merge_is_buddy(map, zone_start, spanned, inside,
					 higher ^ (1u << (order + 1)), order + 1);
	}
	/* after the test, which reads another page: the order and PG_buddy (add_to_free_list)
	 * in one write of the flags */
	map[pfn].flags &= ~clear;
	set_page_order(&map[pfn], 0);
	add_to_free_list(map, z, pfn, order, mt, to_tail);
}

/* __free_one_page, without the zone's free page count (the callers add it), and the flags
 * clear cleared on the block's first page: a caller that has them to clear (PG_pcp, off
 * the pcp list) leaves it to the merge, which never reads that page, so that they go with
 * its own write of the flags when the block does not merge (most of them). The zone's
 * span and the pageblock order are read once by the caller: every store through struct
 * page would otherwise make the compiler reload them (-fno-strict-aliasing). inside: see
 * merge_is_buddy. The first merge step is apart: a block that does not merge (most of
 * them) is added at the order the caller gives, a constant where that is one, so that its
 * free area's address is one too. */
static inline __attribute__((always_inline)) void
free_one_page_core(struct pglist_data *pgdat, struct page *map, struct zone *z, pfn_t zone_start,
		   uint64_t spanned, bool inside, unsigned pb_order, pfn_t pfn, unsigned order,
		   unsigned mt, bool to_tail, uint32_t clear)
{
	if (order >= MAX_PAGE_ORDER || !merge_buddy(pgdat, map, z, zone_start, spanned, inside,
						     pb_order, pfn, order, mt)) {
		free_one_page_add(map, z, zone_start, spanned, inside, pfn, order, mt, to_tail,
				  clear);
		return;
	}
	map[pfn].flags &= ~clear;
	do {
		pfn &= ~(1u << order);
		order++;
	} while (order < MAX_PAGE_ORDER &&
		 merge_buddy(pgdat, map, z, zone_start, spanned, inside, pb_order, pfn, order, mt));
	free_one_page_add(map, z, zone_start, spanned, inside, pfn, order, mt, to_tail, 0);
}

void free_one_page(struct pglist_data *pgdat, struct zone *z, pfn_t pfn, unsigned order,
		   enum migratetype mt, bool to_tail)
{
	z->nr_free_pages += 1ull << order;
	free_one_page_core(pgdat, pgdat->memmap_base, z, z->zone_start_pfn, z->spanned_pages, false,
			   pgdat->pageblock_order, pfn, order, mt, to_tail, 0);
}

/* ---- per-CPU lists to the free lists (free_pcppages_bulk) -------------------------- */

/* free_pcppages_bulk's merge of a block whose MAX_PAGE_ORDER block is not wholly inside
 * the zone (a few hundred of the millions of blocks on mix): out of line, once. */
static __attribute__((noinline, cold)) void free_one_page_edge(struct pglist_data *pgdat,
							       struct zone *z, pfn_t pfn,
							       unsigned order, unsigned mt,
							       uint32_t clear)
{
	free_one_page_core(pgdat, pgdat->memmap_base, z, z->zone_start_pfn, z->spanned_pages, false,
			   pgdat->pageblock_order, pfn, order, mt, false, clear);
}

/* The struct pages the merge of pfn will test at orders 1 and 2 (order 0's buddy shares
 * pfn's cache line), fetched while the page before it is merged: the merge's buddy tests
 * are a chain of dependent misses otherwise. A hint only. always_inline: as a plain
 * static inline GCC 12 takes a prefetch-only helper for pure and drops it. */
static inline __attribute__((always_inline)) void prefetch_buddies(const struct page *map,
								   pfn_t pfn)
{
	/* pfn ^ 2 shares its cache line with the order-1 buddy's head (pfn & ~1) ^ 2: a buddy
	 * pair shares one (init_memmap). Byte offsets into mem_map, from the one of pfn's own
	 * struct page (the caller fetches it too): the same lines in fewer instructions. */
	_Static_assert(sizeof(struct page) == 32, "prefetch_buddies scales the pfn by 32");
	uintptr_t off = (uintptr_t)pfn * sizeof(struct page);
	__builtin_prefetch((const char *)map + off, 1);
	__builtin_prefetch((const char *)map + (off ^ 2 * sizeof(struct page)));
	__builtin_prefetch((const char *)map + ((off & ~(uintptr_t)(4 * sizeof(struct page) - 1)) ^
						4 * sizeof(struct page)));
}

/* Longest run of ascending pages freed as one block by free_pcppages_bulk, as an order
 * (pageblock_order bounds it too). Callgrind on the mix replay, instructions by value:
 * 3: 3.8445 G, 4: 3.8317 G, 5: 3.8263 G, 6: 3.8247 G, 8: 3.8242 G, 10: 3.8275 G. */
#define PCP_RUN_MAX_ORDER 8

/* A stretch of a pcp list's ring that free_pcppages_bulk takes, where the ring does not
 * wrap: the blocks in [lo, hi), the oldest at hi - 1. Two pointers rather than ring, mask
 * and indexes: the loop keeps them in registers (the stores through struct page would
 * otherwise make the compiler reload them, -fno-strict-aliasing). */
struct ring_tail {
	const pfn_t *lo, *hi;
};

/* Block i from the tail, 0 the oldest (i < hi - lo). */
static inline pfn_t ring_tail_nth(const struct ring_tail *r, uint32_t i)
{
	return r->hi[-1 - (ptrdiff_t)i];
}

/* Blocks left in the stretch. */
static inline uint32_t ring_tail_left(const struct ring_tail *r)
{
	return (uint32_t)(r->hi - r->lo);
}

/* free_pcppages_bulk has taken the ascending pair [pfn, pfn + 2) off the pcp list. While
 * the next 2^o oldest pages continue it as pfn + 2^o, pfn + 2^o + 1, ... and the run stays
 * aligned, they are taken too: freed one by one, the pages would merge into the same block
 * of order o + 1, every smaller block on the way going on a free list and off it again.
 * Returns the run's order. What those trips leave on the pages (order bits and PG_buddy
 * cleared on the even ones; private and index on the heads of blocks of order >= 1 that
 * waited for their upper half) is written here. */
static inline __attribute__((always_inline)) unsigned
pcp_take_run(struct page *map, struct ring_tail *r, pfn_t pfn, unsigned pb_order)
{
	unsigned o = 1;
	while (o < PCP_RUN_MAX_ORDER && o < pb_order && !(pfn & ((2u << o) - 1)) &&
	       ring_tail_left(r) >= (1u << o)) {
		/* the 2^o oldest, oldest first, must be first, first + 1, ..., last */
		pfn_t first = pfn + (1u << o);
		uint32_t i = 0;
		while (i < (1u << o) && ring_tail_nth(r, i) == first + i)
			i++;
		if (i < (1u << o))
			break;
		r->hi -= 1u << o;
		/* first is even, the run is whole pairs */
		for (pfn_t x = first; x < first + (1u << o); x += 2) {
			map[x].flags &= ~(PG_pcp | PG_buddy | PAGE_ORDER_MASK);
			map[x + 1].flags &= ~PG_pcp;
		}
		o++;
	}
	/* the head at offset i of the block of order m = ctz(i) (o at 0) went on the order
	 * m - 1 list last, put there by the free of its last page */
	for (unsigned i = 0; o > 1 && i < (1u << o); i += 4) {
		unsigned m = i ? (unsigned)__builtin_ctz(i) : o;
		map[pfn + i].private = m - 1;
		map[pfn + i].index = map[pfn + i + (1u << (m - 1)) - 1].index;
	}
	return o;
}

/* How far ahead free_pcppages_bulk fetches, in blocks: at 4 the struct pages often had
 * not arrived (perf: the loads of the page and of its buddies were the loop's stalls);
 * 12 to 24 measured alike. */
#define PCP_BULK_PREFETCH 16

/* free_pcppages_bulk's loop over one stretch of a list of blocks of order: the blocks,
 * oldest first, into the buddy free lists (without the zone's free count). A stretch
 * ends where the ring wraps: a pair or run across that end is freed block by block
 * instead, with the same result. Inlined for the order-0 lists and for the others, and
 * each kind of block (alone, a pair, a run) merged by its own copy of the merge, so that
 * the order is a constant where it is one. */
static inline __attribute__((always_inline)) void
free_pcp_blocks(struct pglist_data *pgdat, struct zone *z, struct ring_tail r, unsigned order)
{
	struct page *map = pgdat->memmap_base;
	pfn_t zone_start = z->zone_start_pfn;
	uint64_t spanned = z->spanned_pages;
	unsigned pb_order = pgdat->pageblock_order;
	/* pairs only on order-0 lists (and with pageblocks above order 0): above pair_lo
	 * there is a next oldest; on other lists pair_lo is where hi starts */
	const pfn_t *pair_lo = order == 0 && pb_order ? r.lo : r.hi;
	/* the zone's blocks of MAX_PAGE_ORDER that lie wholly inside its span, from
	 * whole_lo on: a block freed there merges without the span tests */
	pfn_t whole_lo = (zone_start + MAX_ORDER_NR_PAGES - 1) & ~(pfn_t)(MAX_ORDER_NR_PAGES - 1);
	pfn_t whole_hi = (pfn_t)(zone_start + spanned) & ~(pfn_t)(MAX_ORDER_NR_PAGES - 1);
	uint32_t whole_n = whole_hi > whole_lo ? whole_hi - whole_lo : 0;
	/* while hi is above it, there is a block PCP_BULK_PREFETCH on to fetch */
	const pfn_t *prefetch_lo = r.hi - r.lo > PCP_BULK_PREFETCH ? r.lo + PCP_BULK_PREFETCH : r.hi;
#define FREE_PCP_BLOCK(pfn, o, mt, clear)                                                          \
	do {                                                                                       \
		if (likely((pfn) - whole_lo < whole_n))                                            \
			free_one_page_core(pgdat, map, z, zone_start, spanned, true, pb_order,     \
					   (pfn), (o), (mt), false, (clear));                      \
		else                                                                               \
			free_one_page_edge(pgdat, z, (pfn), (o), (mt), (clear));                   \
	} while (0)
	do {
		pfn_t pfn = *--r.hi; /* the oldest page */
		struct page *p = &map[pfn];
		/* the ring names the pages to come: their struct pages and buddies are
		 * fetched a few pages ahead, not found one miss at a time */
		if (r.hi > prefetch_lo) {
			pfn_t ahead = ring_tail_nth(&r, PCP_BULK_PREFETCH);
			prefetch_buddies(map, ahead);
		}
		if (r.hi > pair_lo && ring_tail_nth(&r, 0) == (pfn ^ 1)) {
			/* The next oldest is its buddy: freed alone, the first page would
			 * go on the order-0 list (its buddy is not free yet) and come off it
			 * again as the second merges with it. What that leaves on the first
			 * page (order bits cleared, private and index as on the pcp list) is
			 * written here, and the pair is freed as one order-1 block. */
			pfn_t older = pfn ^ 1;
			struct page *q = &map[older];
			p->flags &= ~(PG_pcp | PG_buddy | PAGE_ORDER_MASK);
			r.hi--;
			q->flags &= ~PG_pcp;
			if (older == pfn + 1 && !(pfn & 3)) {
				unsigned o = pcp_take_run(map, &r, pfn, pb_order);
				FREE_PCP_BLOCK(pfn, o, map[pfn + (1u << o) - 1].index, 0);
			} else {
				FREE_PCP_BLOCK(pfn & older, 1, q->index, 0);
			}
		} else {
			FREE_PCP_BLOCK(pfn, order, p->index, PG_pcp);
		}
	} while (r.hi != r.lo);
#undef FREE_PCP_BLOCK
}

/* noinline: on its own the loop keeps what it reads in registers */
static __attribute__((noinline)) void free_pcp_list_tail(struct pglist_data *pgdat, struct zone *z,
							 struct ring_tail r, unsigned order)
{
	if (likely(order == 0))
		free_pcp_blocks(pgdat, z, r, 0);
	else
		free_pcp_blocks(pgdat, z, r, order);
}

static void free_pcppages_bulk(struct pglist_data *pgdat, struct zone *z, struct per_cpu_pages *pcp,
			       int count, unsigned pindex)
{
	if (count > pcp->count)
		count = pcp->count;
	int taken = 0;
	pindex = pindex == 0 ? NR_PCP_LISTS - 1 : pindex - 1;
	while (count > 0) {
		do {
			if (++pindex >= NR_PCP_LISTS)
				pindex = 0;
		} while (pcp_list_empty(&pcp->lists[pindex]));
		struct pcp_list *l = &pcp->lists[pindex];
		unsigned order = pcp_list_order(pgdat, pindex);
		/* blocks until count is used up (the last may take it below 0) or the
		 * list is empty */
		uint32_t nr = (uint32_t)(count + (1 << order) - 1) >> order;
		if (nr > pcp_list_count(l))
			nr = pcp_list_count(l);
		/* the oldest at slot (tail - 1) & mask, the ring running down to slot 0 */
		const pfn_t *hi = l->ring + ((l->tail - 1) & l->mask) + 1;
		uint32_t first = (uint32_t)(hi - l->ring) < nr ? (uint32_t)(hi - l->ring) : nr;
		free_pcp_list_tail(pgdat, z, (struct ring_tail){hi - first, hi}, order);
		if (first < nr) /* on from the ring's last slot */
			free_pcp_list_tail(
			    pgdat, z,
			    (struct ring_tail){l->ring + l->cap - (nr - first), l->ring + l->cap},
			    order);
		l->tail -= nr;
		count -= (int)(nr << order);
		taken += (int)(nr << order);
	}
	pcp->count -= taken;
	z->nr_free_pages += (uint64_t)taken; /* every page freed left the pcp count */
}

static void drain_zone_pcp(struct pglist_data *pgdat, struct zone *z, struct per_cpu_pages *pcp)
{
	if (pcp->count)
		free_pcppages_bulk(pgdat, z, pcp, pcp->count, 0);
}

void drain_all_pages(struct pglist_data *pgdat)
{
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct zone *z = &pgdat->node_zones[zi];
		if (!z->pcp)
			continue;
		for (unsigned c = 0; c < pgdat->nr_cpus; c++)
			drain_zone_pcp(pgdat, z, &z->pcp[c]);
	}
}

void page_alloc_set_pcp(struct pglist_data *pgdat, bool enabled)
{
	if (!enabled)
		drain_all_pages(pgdat);
	pgdat->pcp_enabled = enabled;
}

/* ---- onto the per-CPU lists (free_unref_page_commit, free_unref_folios) ------------- */

/* nr_pcp_free (6.1) */
static int nr_pcp_free(struct per_cpu_pages *pcp, int high, int batch, bool free_high)
{
	if (unlikely(free_high))
		return pcp->count;
	if (unlikely(high < batch))
		return 1;
	int min_nr = batch, max_nr = high - batch;
	batch <<= pcp->free_factor;
	if (batch < max_nr)
		pcp->free_factor++;
	if (batch < min_nr)
		batch = min_nr;
	if (batch > max_nr)
		batch = max_nr;
	return batch;
}

/* map is pgdat->memmap_base (see the pfn lists in page_alloc_internal.h) */
static inline void free_unref_page_commit(struct pglist_data *pgdat, struct page *map,
					  struct zone *z, struct per_cpu_pages *pcp, pfn_t pfn,
					  unsigned order, unsigned block_mt)
{
	unsigned mt = block_mt < MIGRATE_PCPTYPES ? block_mt : MIGRATE_MOVABLE;
	unsigned pindex = order_to_pindex(mt, order);
	struct pcp_list *l = &pcp->lists[pindex];
	int count = pcp->count;
	if (unlikely(count >= pcp->ring_pages))
		pcp_list_make_room(pgdat, pcp, l, 1);
	/* the ring first: the stores through struct page would make the compiler reload l */
	pcp_list_add_head(l, pfn);
	struct page *p = &map[pfn];
	p->flags |= PG_pcp;
	p->private = order;
	p->index = block_mt; /* get_pcppage_migratetype: where it goes back to */
	count += 1 << order;
	pcp->count = count;
	bool free_high = pcp->free_factor && order && order <= PAGE_ALLOC_COSTLY_ORDER;
	/* nr_pcp_high without ZONE_RECLAIM_ACTIVE (not modeled) */
	int high = free_high ? 0 : pcp->high;
	if (count >= high)
		free_pcppages_bulk(pgdat, z, pcp, nr_pcp_free(pcp, high, pcp->batch, free_high),
				   pindex);
}

static inline __attribute__((always_inline)) void
free_pages_order(struct pglist_data *pgdat, pfn_t pfn, unsigned order, unsigned cpu)
{
	if (unlikely(order > MAX_PAGE_ORDER ||
		     (uint64_t)(pfn - pgdat->node_start_pfn) + (1ull << order) >
			 pgdat->node_spanned_pages)) {
		count_vm_event(pgdat->vmstat, UNKNOWN_PAGE_FREE);
		return;
	}
	struct page *p = pfn_to_page(pgdat, pfn);
	/* a double free or a free of memory the allocator never owned is counted, not applied */
	if (unlikely(p->flags & (PG_buddy | PG_pcp | PG_reserved))) {
		count_vm_event(pgdat->vmstat, UNKNOWN_PAGE_FREE);
		return;
	}
	/* free_pages_prepare: page flags are reset, the zone bits stay */
	for (uint32_t i = 0; i < (1u << order); i++)
		p[i].flags &= PAGE_ZONE_MASK;
	p->refcount = 0;
	struct zone *z = &pgdat->node_zones[page_zonenum(p)];
	unsigned mt = get_pageblock_migratetype(pgdat, pfn);
	pgdat->vmstat[PGFREE] += 1ull << order;
	if (unlikely(cpu >= pgdat->nr_cpus))
		cpu %= pgdat->nr_cpus;
	if (likely(pgdat->pcp_enabled && pcp_allowed_order(pgdat, order)))
		free_unref_page_commit(pgdat, pgdat->memmap_base, z, &z->pcp[cpu], pfn, order, mt);
	else
		free_one_page(pgdat, z, pfn, order, (enum migratetype)mt, false);
}

void free_pages(struct pglist_data *pgdat, pfn_t pfn, unsigned order, unsigned cpu)
{
	/* most frees are order 0: that case compiled with the order as a constant */
	if (likely(order == 0))
		free_pages_order(pgdat, pfn, 0, cpu);
	else
		free_pages_order(pgdat, pfn, order, cpu);
}

/* The order-0 list a page of pageblock type mt is freed to (free_unref_page_commit). */
static inline struct pcp_list *pcp_list_of(struct per_cpu_pages *pcp, unsigned mt)
{
	return &pcp->lists[mt < MIGRATE_PCPTYPES ? mt : MIGRATE_MOVABLE];
}

/* The pcp count from which an order-0 commit needs room (ring_pages, before the add) or
 * trims (high, after it). */
static inline int pcp_commit_limit(const struct per_cpu_pages *pcp)
{
	return pcp->high - 1 < pcp->ring_pages ? pcp->high - 1 : pcp->ring_pages;
}

void pcp_free_run_init(const struct pglist_data *pgdat, struct pcp_free_run *r, unsigned cpu)
{
	*r = (struct pcp_free_run){.pb_base = (uintptr_t)pgdat->pageblock_mt -
					      (pgdat->pageblock_base >> pgdat->pageblock_order),
				   .pb_order = pgdat->pageblock_order,
				   .cpu = cpu < pgdat->nr_cpus ? cpu : cpu % pgdat->nr_cpus};
}

/* Opens a run on l at the head, taking no more than room pages: the slots as far as the
 * ring runs on without wrapping. */
static void pcp_free_run_open(struct pcp_free_run *r, struct per_cpu_pages *pcp, struct pcp_list *l,
			      uint32_t zone_flags, unsigned mt, int room)
{
	uint32_t h = (l->head - 1) & l->mask; /* the first slot, the ring run down to 0 */
	uint32_t n = (uint32_t)room < h + 1 ? (uint32_t)room : h + 1;
	r->top = r->slot = l->ring + h + 1;
	r->floor = r->top - n;
	r->l = l;
	r->pcp = pcp;
	r->zone_flags = zone_flags;
	r->pcp_flags = zone_flags | PG_pcp;
	r->mt = mt;
}

void pcp_free_run_page(struct pglist_data *pgdat, struct pcp_free_run *r, pfn_t pfn)
{
	pcp_free_run_close(pgdat, r);
	if (unlikely(!pgdat->pcp_enabled)) {
		free_pages_order(pgdat, pfn, 0, r->cpu);
		return;
	}
	/* the checks of free_pages_order: counted, not applied */
	if (unlikely((uint64_t)(pfn - pgdat->node_start_pfn) >= pgdat->node_spanned_pages ||
		     (pgdat->memmap_base[pfn].flags & (PG_buddy | PG_pcp | PG_reserved)))) {
		count_vm_event(pgdat->vmstat, UNKNOWN_PAGE_FREE);
		return;
	}
	struct page *p = &pgdat->memmap_base[pfn];
	uint32_t flags = p->flags & PAGE_ZONE_MASK;
	unsigned mt = get_pageblock_migratetype(pgdat, pfn);
	struct zone *z = &pgdat->node_zones[flags >> PAGE_ZONE_SHIFT];
	struct per_cpu_pages *pcp = &z->pcp[r->cpu];
	int room = pcp_commit_limit(pcp) - pcp->count;
	if (room <= 0) { /* the commit trims the lists or grows the rings */
		pgdat->vmstat[PGFREE]++;
		p->flags = flags;
		p->refcount = 0;
		free_unref_page_commit(pgdat, pgdat->memmap_base, z, pcp, pfn, 0, mt);
		return;
	}
	pcp_free_run_open(r, pcp, pcp_list_of(pcp, mt), flags, mt, room);
	pcp_free_run_add(r, p, pfn, p->flags);
}

/* free_unref_folios (6.10; free_unref_page_list in 6.1, which also takes the zone's pcp
 * once per run of one zone) for order-0 pages: free_pages(pfns[i], 0, cpu) for each i in
 * turn, with what every call repeats done once per run of pages of one pageblock (see
 * struct pcp_free_run). The commits stay one by one: each may start a free_pcppages_bulk
 * whose merges depend on what went before; a commit that may trim or grow the lists (count
 * at high or at ring_pages) goes through free_unref_page_commit. */
void free_unref_folios(struct pglist_data *pgdat, const pfn_t *pfns, unsigned n, unsigned cpu)
{
	struct pcp_free_run r;
	struct page *map = pgdat->memmap_base;
	pfn_t node_start = pgdat->node_start_pfn;
	uint64_t spanned = pgdat->node_spanned_pages;
	pcp_free_run_init(pgdat, &r, cpu);
	for (unsigned i = 0; i < n; i++) {
		pfn_t pfn = pfns[i];
		/* flags are read only for a pfn inside the node */
		if ((uint64_t)(pfn - node_start) >= spanned ||
		    !pcp_free_run_add(&r, &map[pfn], pfn, map[pfn].flags))
			pcp_free_run_page(pgdat, &r, pfn);
	}
	pcp_free_run_close(pgdat, &r);
}
