#include "testlib_freelist.h"

#include <stdlib.h>
#include <string.h>

#include "page_alloc_internal.h"

/* The blocks of one list, head to tail, into out (room for nr_free_mt); how many. */
static uint64_t list_blocks(const struct zone *z, unsigned o, unsigned mt, pfn_t *out)
{
	uint64_t n = 0;
	pfn_t pfn;
	for_each_free_block(z, o, mt, pfn, pos) out[n++] = pfn;
	return n;
}

static bool lists_equal(const struct zone *a, const struct zone *b, unsigned o, unsigned mt)
{
	uint64_t nr = a->free_area[o].nr_free_mt[mt];
	if (nr != b->free_area[o].nr_free_mt[mt])
		return false;
	if (!nr)
		return true;
	pfn_t *la = malloc(nr * sizeof(*la)), *lb = malloc(nr * sizeof(*lb));
	bool same = la && lb && list_blocks(a, o, mt, la) == nr &&
		    list_blocks(b, o, mt, lb) == nr && !memcmp(la, lb, nr * sizeof(*la));
	free(la);
	free(lb);
	return same;
}

bool test_free_areas_equal(const struct zone *a, const struct zone *b)
{
	if (memcmp(a->free_orders, b->free_orders, sizeof(a->free_orders)))
		return false;
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
		if (a->free_area[o].nr_free != b->free_area[o].nr_free)
			return false;
		for (unsigned mt = 0; mt < MIGRATE_TYPES; mt++)
			if (!lists_equal(a, b, o, mt))
				return false;
	}
	return true;
}

bool test_pages_equal(const struct page *a, const struct page *b, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		struct page pa = a[i], pb = b[i];
		if ((pa.flags & PG_buddy) && (pb.flags & PG_buddy))
			pa.next = pb.next = 0;
		if (memcmp(&pa, &pb, sizeof(pa)))
			return false;
	}
	return true;
}
