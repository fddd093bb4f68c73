/* The memory of the buddy free lists' rings (struct free_list): compaction and growth when
 * a ring is full. The lists' order and use are in page_alloc_internal.h; docs/BUDDY.md
 * says why the lists are deques of pfns rather than links through struct page. */
#include <stdlib.h>

#include "page_alloc.h"
#include "page_alloc_internal.h"

/* The smallest ring: the first block on a list gets room for a few more. */
#define FREE_LIST_MIN_CAP 16u

/* The live entries of a full list moved together toward its head, in order, their slots
 * rewritten in their struct pages; tail follows the last one. */
static void free_list_compact(struct page *map, struct zone *z, unsigned order, unsigned mt)
{
	struct free_list *l = &z->free_area[order].free_list[mt];
	pfn_t *ring = z->free_ring[order][mt];
	uint32_t w = l->head;
	for (uint32_t r = l->head; r != l->tail; r++) {
		pfn_t pfn = ring[r & l->mask];
		if (pfn == PFN_NONE)
			continue;
		if (w != r) {
			ring[w & l->mask] = pfn;
			map[pfn].next = w;
		}
		w++;
	}
	l->tail = w;
}

/* The entries to a ring of cap slots (a power of two, at least the span) at the same slot
 * numbers: the struct pages keep theirs. */
static bool free_list_grow(struct zone *z, unsigned order, unsigned mt, uint64_t cap)
{
	struct free_list *l = &z->free_area[order].free_list[mt];
	pfn_t *old = z->free_ring[order][mt];
	pfn_t *ring = malloc(cap * sizeof(*ring));
	if (!ring)
		return false;
	uint32_t mask = (uint32_t)(cap - 1);
	for (uint32_t i = l->head; i != l->tail; i++)
		ring[i & mask] = old[i & l->mask];
	free(old);
	z->free_ring[order][mt] = ring;
	l->cap = (uint32_t)cap;
	l->mask = mask;
	return true;
}

/* Called when the ring is full (tail - head == cap). At least as many tombstones as
 * blocks: compaction frees half the ring or more, so the next compaction is at least
 * cap / 2 additions away and its cost, at most cap slots, is O(1) per addition. Fewer:
 * the ring doubles (the blocks are then more than cap / 2, and a copy of cap slots is
 * paid for by the cap / 2 additions since the last growth). So a ring holds at most four
 * times the most blocks its list ever had, and never more than every block of the zone. A
 * list of blocks of order o holds at most spanned_pages >> o < 2^31 of them: the ring
 * never passes 2^32 slots; out of host memory, a trap rather than a write past the ring. */
__attribute__((noinline, cold)) void free_list_make_room(struct page *map, struct zone *z,
							 unsigned order, unsigned mt)
{
	struct free_list *l = &z->free_area[order].free_list[mt];
	uint64_t live = z->free_area[order].nr_free_mt[mt];
	if (l->cap && live <= l->cap / 2) {
		free_list_compact(map, z, order, mt);
		return;
	}
	uint64_t cap = l->cap ? 2ull * l->cap : FREE_LIST_MIN_CAP;
	if (cap > (1ull << 31) || !free_list_grow(z, order, mt, cap))
		__builtin_trap();
}

void free_lists_free(struct zone *z)
{
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
		for (unsigned mt = 0; mt < MIGRATE_TYPES; mt++) {
			free(z->free_ring[o][mt]);
			z->free_ring[o][mt] = NULL;
			z->free_area[o].free_list[mt] = (struct free_list){0};
		}
	}
}
