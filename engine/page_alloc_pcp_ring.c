/* The memory of the per-CPU lists' rings (struct pcp_list): their size for a pcp's high
 * and batch, and the growth the commit falls back to. The lists' order and use are in
 * page_alloc.c. */
#include <stdlib.h>

#include "page_alloc.h"
#include "page_alloc_internal.h"

/* Moves the blocks to a ring of cap slots (a power of two, at least their number). */
static bool pcp_list_resize(struct pcp_list *l, uint64_t cap)
{
	uint32_t nr = pcp_list_count(l);
	pfn_t *ring = malloc(cap * sizeof(*ring));
	if (!ring)
		return false;
	for (uint32_t i = 0; i < nr; i++)
		ring[i] = pcp_list_nth(l, i);
	free(l->ring);
	l->ring = ring;
	l->head = 0;
	l->tail = nr;
	l->cap = (uint32_t)cap;
	l->mask = l->cap - 1;
	return true;
}

static uint64_t pow2_at_least(uint64_t n)
{
	uint64_t cap = 1;
	while (cap < n)
		cap <<= 1;
	return cap;
}

/* The ring size for list pindex: the most blocks it can hold is max(refill, high >> order)
 * plus one. A refill fills an empty list with at most max(2, batch >> order) blocks
 * (rmqueue_pcplist). A free adds one block at the head; if pcp->count is then below high
 * the list holds fewer than high pages, otherwise free_pcppages_bulk takes at least one
 * block (high >= 4 * batch, zone_highsize, so nr_pcp_free is >= 1) and starts with this
 * very list: the list does not grow. The block is added before that trim, hence the one
 * more. The sum rather than the maximum: a refill may take pcp->count past high for a
 * while, and the commit's test against ring_pages stays cheap only while it is below.
 * When high falls, a list may hold what the old high allowed: rings never shrink. */
static uint64_t pcp_list_bound(const struct pglist_data *pgdat, const struct per_cpu_pages *pcp,
			       unsigned pindex)
{
	unsigned order = pcp_list_order(pgdat, pindex);
	uint64_t high = pcp->high > 0 ? (uint64_t)pcp->high : 0;
	uint64_t refill = pcp->batch > 1 ? (uint64_t)pcp->batch >> order : 1;
	if (refill < 2)
		refill = 2;
	return (high >> order) + refill + 1;
}

static void pcp_set_ring_pages(const struct pglist_data *pgdat, struct per_cpu_pages *pcp)
{
	uint64_t pages = INT32_MAX;
	for (unsigned l = 0; l < NR_PCP_LISTS; l++) {
		uint64_t room = (uint64_t)pcp->lists[l].cap << pcp_list_order(pgdat, l);
		if (room < pages)
			pages = room;
	}
	pcp->ring_pages = (int)pages;
}

bool pcp_lists_reserve(const struct pglist_data *pgdat, struct per_cpu_pages *pcp)
{
	bool ok = true;
	for (unsigned l = 0; l < NR_PCP_LISTS; l++) {
		uint64_t cap = pow2_at_least(pcp_list_bound(pgdat, pcp, l));
		if (cap > (1ull << 31))
			ok = false;
		else if (cap > pcp->lists[l].cap && !pcp_list_resize(&pcp->lists[l], cap))
			ok = false;
	}
	pcp_set_ring_pages(pgdat, pcp);
	return ok;
}

/* Room for n more blocks on l, when pcp->count is past ring_pages: it usually is there
 * already (a refill can take count past high, and so past ring_pages, for a while). A
 * ring grows only when something set pcp->high past what pcp_lists_reserve sized it for
 * (only tests do: the machine's sysctls are set before boot, and a boot without the
 * rings fails); out of host memory there, a trap rather than a write past the ring. */
__attribute__((noinline, cold)) void pcp_list_make_room(const struct pglist_data *pgdat,
							struct per_cpu_pages *pcp,
							struct pcp_list *l, uint32_t n)
{
	uint64_t need = (uint64_t)pcp_list_count(l) + n;
	if (need <= l->cap)
		return;
	/* a list holds at most every page of the node, far below 2^31 blocks */
	if (need > (1ull << 31) || !pcp_list_resize(l, pow2_at_least(need)))
		__builtin_trap();
	pcp_set_ring_pages(pgdat, pcp);
}

void pcp_lists_free(struct per_cpu_pages *pcp)
{
	for (unsigned l = 0; l < NR_PCP_LISTS; l++) {
		free(pcp->lists[l].ring);
		pcp->lists[l] = (struct pcp_list){0};
	}
}
