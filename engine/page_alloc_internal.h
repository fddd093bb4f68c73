/* Shared between the buddy core (page_alloc.c, page_alloc_free.c), fallback stealing
 * (page_alloc_fallback.c), boot (mm_init.c) and the setup of watermarks, reserves and pcp sizes
 * (page_alloc_setup.c); the kernel's mm/internal.h. */
#ifndef MM_PAGE_ALLOC_INTERNAL_H
#define MM_PAGE_ALLOC_INTERNAL_H

#include "page_alloc.h"
#include "vmstat.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- buddy free lists (struct free_list, a deque of pfns in a ring) -----------------
 * The order of the live entries is the kernel's list_head order; tombstones (PFN_NONE)
 * are invisible to every reader. map is pgdat->memmap_base, passed in so that stores
 * through struct page (the build has -fno-strict-aliasing) do not force it to be reloaded
 * from pgdat. */

/* page_alloc_freelist.c: room for one more entry on a full list (compaction in order, or
 * a ring twice the size; a trap when the host has no memory for it). Cold. */
void free_list_make_room(struct page *map, struct zone *z, unsigned order, unsigned mt);
/* page_alloc_freelist.c: the rings' memory (page_alloc_destroy) */
void free_lists_free(struct zone *z);

/* The entry in slot pos: a pfn or a tombstone. */
static inline pfn_t free_list_slot(const struct zone *z, unsigned order, unsigned mt, uint32_t pos)
{
	return z->free_ring[order][mt][pos & z->free_area[order].free_list[mt].mask];
}

/* pfn into the slot at the deque's head (at_tail false) or tail, the list having room. */
static inline __attribute__((always_inline)) void
free_list_put(struct page *map, struct zone *z, struct free_list *l, unsigned order, unsigned mt,
	      pfn_t pfn, bool at_tail)
{
	uint32_t pos = at_tail ? l->tail++ : --l->head;
	z->free_ring[order][mt][pos & l->mask] = pfn;
	map[pfn].next = pos;
}

/* free_list_add onto a full list: room first. Out of line so that the add's common path
 * does not merge with a call (GCC then computes the list's address again after it, on
 * both paths). */
static __attribute__((noinline, cold, unused)) void free_list_add_full(struct page *map,
								       struct zone *z,
								       unsigned order, unsigned mt,
								       pfn_t pfn, bool at_tail)
{
	free_list_make_room(map, z, order, mt);
	free_list_put(map, z, &z->free_area[order].free_list[mt], order, mt, pfn, at_tail);
}

/* at_tail is a constant at every call (free_list_add_head, free_list_add_tail) */
static inline __attribute__((always_inline)) void
free_list_add(struct page *map, struct zone *z, unsigned order, unsigned mt, pfn_t pfn,
	      bool at_tail)
{
	struct free_list *l = &z->free_area[order].free_list[mt];
	if (unlikely(l->tail - l->head == l->cap))
		free_list_add_full(map, z, order, mt, pfn, at_tail);
	else
		free_list_put(map, z, l, order, mt, pfn, at_tail);
}

static inline void free_list_add_head(struct page *map, struct zone *z, unsigned order, unsigned mt,
				      pfn_t pfn)
{
	free_list_add(map, z, order, mt, pfn, false);
}

static inline void free_list_add_tail(struct page *map, struct zone *z, unsigned order, unsigned mt,
				      pfn_t pfn)
{
	free_list_add(map, z, order, mt, pfn, true);
}

/* Unlink pfn from anywhere on its list: a tombstone in its slot, or the end of the deque
 * moved past it when it is the first or the last entry. The caller has counted it off
 * (left is what stays on the list): an empty list drops its tombstones and starts again at
 * slot 0, so that a list that is often empty keeps using the same two lines of its ring
 * (the slots just before and at 0) rather than cold ones. */
static inline void free_list_del(struct page *map, struct zone *z, unsigned order, unsigned mt,
				 pfn_t pfn, uint64_t left)
{
	struct free_list *l = &z->free_area[order].free_list[mt];
	uint32_t pos = map[pfn].next;
	map[pfn].next = PFN_NONE;
	if (!left)
		l->head = l->tail = 0;
	else if (pos == l->head)
		l->head++;
	else if (pos == l->tail - 1)
		l->tail--;
	else
		z->free_ring[order][mt][pos & l->mask] = PFN_NONE;
}

/* Slot of the first block at or after slot pos (there is one: the list is not empty past
 * pos). */
static inline uint32_t free_list_skip(const pfn_t *ring, uint32_t mask, uint32_t pos)
{
	while (ring[pos & mask] == PFN_NONE)
		pos++;
	return pos;
}

/* The first block of a list, PFN_NONE when it is empty. */
static inline pfn_t free_list_first(const struct zone *z, unsigned order, unsigned mt)
{
	const struct free_list *l = &z->free_area[order].free_list[mt];
	if (!z->free_area[order].nr_free_mt[mt])
		return PFN_NONE;
	return free_list_slot(z, order, mt,
			      free_list_skip(z->free_ring[order][mt], l->mask, l->head));
}

/* for_each_free_block(z, order, mt, pfn, pos): every block on the list, head to tail, in
 * the kernel's list order (pos, a uint32_t, is its slot). The body must not change the
 * list. */
#define for_each_free_block(z, order, mt, pfn, pos)                                                \
	for (uint32_t pos = (z)->free_area[order].free_list[mt].head;                              \
	     pos != (z)->free_area[order].free_list[mt].tail; pos++)                               \
		if (((pfn) = free_list_slot(z, order, mt, pos)) != PFN_NONE)

/* ---- per-CPU lists (struct pcp_list, a ring of pfns) -----------------------------------
 * The adds need room (see per_cpu_pages.ring_pages); the takes a list that is not empty. */

static inline void pcp_list_add_head(struct pcp_list *l, pfn_t pfn)
{
	l->ring[--l->head & l->mask] = pfn;
}

static inline void pcp_list_add_tail(struct pcp_list *l, pfn_t pfn)
{
	l->ring[l->tail++ & l->mask] = pfn;
}

static inline pfn_t pcp_list_take_head(struct pcp_list *l) { return l->ring[l->head++ & l->mask]; }

static inline pfn_t pcp_list_take_tail(struct pcp_list *l) { return l->ring[--l->tail & l->mask]; }

/* Block i from the tail: 0 the oldest. */
static inline pfn_t pcp_list_nth_oldest(const struct pcp_list *l, uint32_t i)
{
	return l->ring[(l->tail - 1 - i) & l->mask];
}

/* The oldest block, PFN_NONE on an empty list. */
static inline pfn_t pcp_list_last(const struct pcp_list *l)
{
	return pcp_list_empty(l) ? PFN_NONE : pcp_list_nth_oldest(l, 0);
}

/* page_alloc_pcp_ring.c: size pcp's rings for its high and batch (called wherever they are set);
 * rings only grow. Out of host memory, a ring stays as it is (grown when it fills, or a
 * trap). */
bool pcp_lists_reserve(const struct pglist_data *pgdat, struct per_cpu_pages *pcp);
/* page_alloc_pcp_ring.c: the rings' memory (page_alloc_destroy) */
void pcp_lists_free(struct per_cpu_pages *pcp);
/* page_alloc_pcp_ring.c: room for n more blocks on l, past pcp->ring_pages (cold) */
void pcp_list_make_room(const struct pglist_data *pgdat, struct per_cpu_pages *pcp,
			struct pcp_list *l, uint32_t n);

/* ---- a run of order-0 frees onto one pcp list (free_unref_folios, mmu_gather) ---------
 * free_unref_folios takes the zone's pcp and the list once per run of pages of one zone
 * and pageblock type; a pcp_free_run holds that run open across the caller's loop, so
 * that zap (mmu_gather.c) commits each page as it drops its last reference instead of
 * gathering the pfns and reading every page again. A page of the run's pageblock type and
 * zone, while the list has room, is only the add to the list's head: the ring's slots
 * down to floor are the run's, l->head, pcp->count and PGFREE are brought up to date
 * when the run closes. Anything else is pcp_free_run_page. Between the adds and the
 * close nothing may read the pcp list, its count or PGFREE. */
struct pcp_free_run {
	pfn_t *slot;  /* the next page goes to slot[-1] */
	pfn_t *floor; /* the last slot the run may take: ring start or the pcp's room */
	pfn_t *top;   /* slot when the run opened: top - slot pages added */
	struct pcp_list *l;
	struct per_cpu_pages *pcp;
	uint32_t zone_flags; /* the zone bits of the run's pages */
	uint32_t pcp_flags;  /* zone_flags | PG_pcp, what a page on the run has */
	uint32_t mt;	     /* their pageblock's migratetype */
	/* the node's pageblock types, read once: every store through struct page would make
	 * the compiler reload them from pglist_data (-fno-strict-aliasing). pb_base is
	 * pageblock_mt's address less pageblock_base >> pb_order, so that pb_base +
	 * (pfn >> pb_order) addresses pfn's type in one addition (an integer: the difference
	 * need not point into the table). */
	uintptr_t pb_base;
	unsigned pb_order;
	unsigned cpu;
};

/* page_alloc_free.c: a run on cpu's lists, none open yet */
void pcp_free_run_init(const struct pglist_data *pgdat, struct pcp_free_run *r, unsigned cpu);
/* page_alloc_free.c: free_pages(pfn, 0, r->cpu) for a page the open run does not take
 * (closed first): counted as an unknown free, trimmed to the buddy lists, or the first of a
 * new run. Cold. */
void pcp_free_run_page(struct pglist_data *pgdat, struct pcp_free_run *r, pfn_t pfn);

/* The flags free_pages checks (good: none of the three) and the zone's: a page the run may
 * take has (flags & PCP_RUN_FLAGS) == r->zone_flags. */
#define PCP_RUN_FLAGS (PG_buddy | PG_pcp | PG_reserved | PAGE_ZONE_MASK)

/* What a caller's loop over many pages keeps of the run in registers (zap_pte_table): a
 * struct copied whole would be vectorised. Loaded from the run after anything that may
 * change it, stored back (pcp_free_run_hot_store) before anything out of line reads it. */
struct pcp_free_run_hot {
	pfn_t *slot, *floor;
	uint32_t mt;
};

static inline __attribute__((always_inline)) void
pcp_free_run_hot_load(struct pcp_free_run_hot *h, const struct pcp_free_run *r)
{
	*h = (struct pcp_free_run_hot){.slot = r->slot, .floor = r->floor, .mt = r->mt};
}

/* what the adds change */
static inline __attribute__((always_inline)) void
pcp_free_run_hot_store(const struct pcp_free_run_hot *h, struct pcp_free_run *r)
{
	r->slot = h->slot;
}

/* pcp_free_run_take's test (pfn as there), with the run's pb_base and pb_order: of the
 * run's pageblock type, and room. A caller
 * that writes the page itself (zap_pte_table) adds pfn to the list's head when it passes. */
static inline __attribute__((always_inline)) bool
pcp_free_run_fits(const struct pcp_free_run_hot *h, uintptr_t pb_base, unsigned pb_order,
		  uint64_t pfn)
{
	/* the pageblocks start at an aligned pfn (pb_base); a byte compare: mt was read from
	 * that byte table (pcp_free_run_page) */
	return *(const uint8_t *)(pb_base + (pfn >> pb_order)) == (uint8_t)h->mt &&
	       h->slot != h->floor;
}

/* pcp_free_run_add for a page whose flags passed the run's test, with the run's hot part
 * in h: true when the open run took it (of the run's pageblock type, and room; none while
 * no run is open). pfn is 64 bits wide as zap has it (pte >> PTE_PFN_SHIFT, no bit above
 * the pfn): the index needs no zero extension. */
static inline __attribute__((always_inline)) bool
pcp_free_run_take(struct pcp_free_run_hot *h, const struct pcp_free_run *r, struct page *p,
		  uint64_t pfn)
{
	if (!pcp_free_run_fits(h, r->pb_base, r->pb_order, pfn))
		return false;
	*--h->slot = (pfn_t)pfn; /* pcp_list_add_head */
	p->flags = r->pcp_flags; /* free_pages_prepare: all but the zone reset */
	p->refcount = 0;
	p->private = 0;
	p->index = h->mt; /* get_pcppage_migratetype: where it goes back to */
	return true;
}

/* free_unref_folios' commit of p = &map[pfn], a pfn inside the node, whose flags are flags
 * (p->flags): true when the open run took it, false when pcp_free_run_page must. */
static inline __attribute__((always_inline)) bool
pcp_free_run_add(struct pcp_free_run *r, struct page *p, pfn_t pfn, uint32_t flags)
{
	/* good and in the run's zone, of its pageblock type, and room */
	if ((flags & PCP_RUN_FLAGS) != r->zone_flags)
		return false;
	struct pcp_free_run_hot h;
	pcp_free_run_hot_load(&h, r);
	bool took = pcp_free_run_take(&h, r, p, pfn);
	pcp_free_run_hot_store(&h, r);
	return took;
}

/* The run's pages go on the books (l->head, pcp->count, PGFREE) and the run ends: before
 * anything else frees a page or reads the pcp lists. */
static inline void pcp_free_run_close(struct pglist_data *pgdat, struct pcp_free_run *r)
{
	uint32_t done = (uint32_t)(r->top - r->slot);
	r->floor = r->slot; /* no room: the next page opens a new run */
	if (!done)
		return;
	r->l->head -= done;
	r->pcp->count += (int)done;
	pgdat->vmstat[PGFREE] += done;
	r->top = r->slot;
}

/* pcp_allowed_order (6.1) */
static inline bool pcp_allowed_order(const struct pglist_data *pgdat, unsigned order)
{
	return order <= PAGE_ALLOC_COSTLY_ORDER ||
	       (pgdat->pcp_thp && order == pgdat->pageblock_order);
}

/* order_to_pindex (6.1): the THP list is shared by all migratetypes */
static inline unsigned order_to_pindex(unsigned mt, unsigned order)
{
	if (order > PAGE_ALLOC_COSTLY_ORDER)
		return NR_LOWORDER_PCP_LISTS;
	return order * MIGRATE_PCPTYPES + mt;
}

/* ---- free areas (add_to_free_list, del_page_from_free_list, move_to_free_list) ------
 * zone->free_orders[mt] has bit o set while free_area[o].free_list[mt] is not empty, so
 * the searches over orders (__rmqueue_smallest, __rmqueue_fallback, the watermark check)
 * find the first usable order without reading the empty lists. */

static inline __attribute__((always_inline)) void add_to_free_list(struct page *map, struct zone *z,
								   pfn_t pfn, unsigned order,
								   unsigned mt, bool tail)
{
	struct page *p = &map[pfn];
	struct free_area *area = &z->free_area[order];
	p->flags |= PG_buddy;
	p->prev = PFN_NONE;
	p->private = order;
	p->index = mt;
	if (tail)
		free_list_add_tail(map, z, order, mt, pfn);
	else
		free_list_add_head(map, z, order, mt, pfn);
	z->free_orders[mt] |= (uint16_t)(1u << order);
	area->nr_free_mt[mt]++;
	area->nr_free++;
}

/* add_to_free_list at the head of a list known to be empty (expand: the lists between
 * the order asked for and the order taken from were empty). An empty deque sits at slot
 * 0 (free_list_del), so the block takes slot -1 and the list's count is 1. */
static inline __attribute__((always_inline)) void
add_to_empty_free_list(struct page *map, struct zone *z, pfn_t pfn, unsigned order, unsigned mt)
{
	struct free_area *area = &z->free_area[order];
	struct free_list *l = &area->free_list[mt];
	if (unlikely(!l->cap))
		free_list_make_room(map, z, order, mt);
	l->head = UINT32_MAX;
	z->free_ring[order][mt][l->mask] = pfn;
	struct page *p = &map[pfn];
	p->flags |= PG_buddy;
	p->next = UINT32_MAX;
	p->prev = PFN_NONE;
	p->private = order;
	p->index = mt;
	z->free_orders[mt] |= (uint16_t)(1u << order);
	area->nr_free_mt[mt] = 1;
	area->nr_free++;
}

static inline void del_from_free_list(struct page *map, struct zone *z, pfn_t pfn, unsigned order)
{
	struct page *p = &map[pfn];
	struct free_area *area = &z->free_area[order];
	unsigned mt = p->index;
	uint64_t left = --area->nr_free_mt[mt];
	free_list_del(map, z, order, mt, pfn, left);
	if (!left)
		z->free_orders[mt] &= (uint16_t) ~(1u << order);
	p->flags &= ~PG_buddy;
	area->nr_free--;
}

/* del_page_from_free_list of the first block on mt's list at order (not empty) */
static inline pfn_t take_free_list_head(struct page *map, struct zone *z, unsigned order,
					unsigned mt)
{
	struct free_area *area = &z->free_area[order];
	struct free_list *l = &area->free_list[mt];
	uint32_t pos = free_list_skip(z->free_ring[order][mt], l->mask, l->head);
	pfn_t pfn = z->free_ring[order][mt][pos & l->mask];
	l->head = pos + 1;
	if (!--area->nr_free_mt[mt]) {
		l->head = l->tail = 0;
		z->free_orders[mt] &= (uint16_t) ~(1u << order);
	}
	map[pfn].next = PFN_NONE;
	map[pfn].flags &= ~PG_buddy;
	area->nr_free--;
	return pfn;
}

static inline void move_to_free_list(struct page *map, struct zone *z, pfn_t pfn, unsigned order,
				     unsigned mt)
{
	del_from_free_list(map, z, pfn, order);
	add_to_free_list(map, z, pfn, order, mt, false);
}

/* Orders >= order whose mt list is not empty, as a mask shifted down by order. */
static inline unsigned free_orders_from(const struct zone *z, unsigned mt, unsigned order)
{
	return (unsigned)z->free_orders[mt] >> order;
}

static inline void set_pageblock_migratetype(struct pglist_data *pgdat, pfn_t pfn, unsigned mt)
{
	pgdat->pageblock_mt[(pfn - pgdat->pageblock_base) >> pgdat->pageblock_order] = (uint8_t)mt;
}

/* page_is_buddy for a buddy known to lie inside the zone's span. */
static inline bool page_is_buddy_inside(const struct page *map, pfn_t buddy, unsigned order)
{
	const struct page *b = &map[buddy];
	return (b->flags & PG_buddy) && b->private == order;
}

/* page_is_buddy: free, same order, same zone (the zone span test also keeps the buddy
 * inside mem_map). */
static inline bool page_is_buddy(const struct page *map, pfn_t zone_start, uint64_t spanned,
				 pfn_t buddy, unsigned order)
{
	return (uint64_t)(buddy - zone_start) < spanned && page_is_buddy_inside(map, buddy, order);
}

/* migratetype_is_mergeable (mm/page_alloc.c): only the PCP types merge across pageblocks */
static inline bool mt_mergeable(unsigned mt) { return mt < MIGRATE_PCPTYPES; }

/* After a change to the watermarks, the boost, lowmem_reserve or the highatomic reserve. */
static inline void zone_update_fast_mark(struct zone *z)
{
	for (int h = 0; h < MAX_NR_ZONES; h++)
		z->fast_mark[h] =
		    z->populated
			? (int64_t)(wmark_pages(z, WMARK_LOW) + z->nr_reserved_highatomic) +
			      z->lowmem_reserve[h]
			: INT64_MAX;
}

/* page_alloc_fallback.c: __rmqueue_fallback (6.1); true when blocks were moved to
 * start_mt's lists so that __rmqueue_smallest can retry. */
bool rmqueue_fallback(struct pglist_data *pgdat, struct zone *z, unsigned order, unsigned start_mt,
		      unsigned alloc_flags);
/* Would __rmqueue find nothing, neither on start_mt's lists nor by fallback under
 * alloc_flags? (Both find nothing without changing anything.) */
bool rmqueue_fails(const struct pglist_data *pgdat, const struct zone *z, unsigned order,
		   unsigned start_mt, unsigned alloc_flags);
void reserve_highatomic_pageblock(struct pglist_data *pgdat, struct zone *z, pfn_t pfn);
bool unreserve_highatomic_pageblock(struct pglist_data *pgdat, int highest, unsigned mt,
				    bool force);

/* Free a block into the buddy free lists, merging with its buddies (__free_one_page).
 * to_tail: FPI_TO_TAIL, used at boot by __free_pages_core. */
void free_one_page(struct pglist_data *pgdat, struct zone *z, pfn_t pfn, unsigned order,
		   enum migratetype mt, bool to_tail);

/* Is zone index configured in the modeled kernel (CONFIG_ZONE_DMA32, CONFIG_HIGHMEM)? */
static inline bool zone_configured(const struct pglist_data *pgdat, enum zone_type t)
{
	if (t == ZONE_DMA32)
		return pgdat->has_dma32;
	if (t == ZONE_HIGHMEM)
		return pgdat->has_highmem;
	return true;
}

/* calculate_min_free_kbytes (+ set_recommended_min_free_kbytes with THP) at boot. */
int init_per_zone_wmark_min(struct pglist_data *pgdat, bool thp);

/* ---- shared by the fast and the slow allocation paths (page_alloc.c,
 * page_alloc_slowpath.c) ---- */

/* __zone_watermark_ok with the free count given (the slow path's fragmentation test
 * passes its own) */
static inline bool wmark_ok(const struct zone *z, unsigned order, int64_t mark, int highest,
			    unsigned alloc_flags, int64_t free)
{
	bool harder = alloc_flags & (ALLOC_HARDER | ALLOC_OOM);
	/* __zone_watermark_unusable_free */
	free -= (int64_t)(1u << order) - 1;
	if (!harder)
		free -= (int64_t)z->nr_reserved_highatomic;
	if (alloc_flags & ALLOC_HIGH)
		mark -= mark / 2;
	if (unlikely(harder))
		mark -= (alloc_flags & ALLOC_OOM) ? mark / 2 : mark / 4;
	if (free <= mark + z->lowmem_reserve[highest])
		return false;
	if (!order)
		return true;
	/* a free block of at least order on a PCP type list, or highatomic when harder */
	unsigned avail = free_orders_from(z, MIGRATE_UNMOVABLE, order) |
			 free_orders_from(z, MIGRATE_MOVABLE, order) |
			 free_orders_from(z, MIGRATE_RECLAIMABLE, order);
	if (harder)
		avail |= free_orders_from(z, MIGRATE_HIGHATOMIC, order);
	return avail != 0;
}

static inline bool gfp_is_atomic(gfp_t gfp)
{
	/* 6.1's __GFP_ATOMIC is set by GFP_ATOMIC only: high priority, cannot sleep */
	return (gfp & __GFP_HIGH) && !(gfp & __GFP_DIRECT_RECLAIM);
}

/* struct alloc_context: the zonelist's start and the allocation's migratetype */
struct alloc_context {
	int highest_zoneidx;
	unsigned migratetype;
};

/* get_page_from_freelist: the first zone, from ac->highest_zoneidx down, that passes its
 * watermark under alloc_flags and has the block; PFN_NONE when none. */
pfn_t get_page_from_freelist(struct pglist_data *pgdat, gfp_t gfp, unsigned order,
			     unsigned alloc_flags, const struct alloc_context *ac, unsigned cpu);
/* __alloc_pages_slowpath (page_alloc_slowpath.c): kswapd, direct reclaim, OOM. */
pfn_t alloc_pages_slowpath(struct pglist_data *pgdat, gfp_t gfp, unsigned order,
			   const struct alloc_context *ac, unsigned cpu);

#endif
