/* Boot-time memory regions, modeled on mm/memblock.c. Regions are kept sorted and
 * merged, like memblock_add_range() + memblock_merge_regions(). */
#include "memblock.h"

#include <string.h>

#define PFN_UP(x) (((x) + 4095) >> 12)
#define PFN_DOWN(x) ((x) >> 12)

void memblock_init(struct memblock *mb)
{
	memset(mb, 0, sizeof(*mb));
	mb->current_limit = UINT64_MAX;
}

static uint64_t rend(const struct memblock_region *r)
{
	return r->base + r->size;
}

/* Insert [base, base+size) and merge with overlapping or touching neighbours; the merged
 * region keeps the description of the lowest one. */
static int add_range(struct memblock_type *t, uint64_t base, uint64_t size, const char *what)
{
	if (!size)
		return 0;
	uint64_t end = base + size;
	int i = 0;
	while (i < t->cnt && rend(&t->regions[i]) < base)
		i++;
	int j = i;
	while (j < t->cnt && t->regions[j].base <= end) {
		if (t->regions[j].base < base) {
			base = t->regions[j].base;
			what = t->regions[j].what;
		}
		if (rend(&t->regions[j]) > end)
			end = rend(&t->regions[j]);
		j++;
	}
	if (i == j && t->cnt == MEMBLOCK_MAX_REGIONS)
		return -1;
	/* regions [i, j) collapse into one at i */
	int removed = j - i;
	if (removed == 0) {
		memmove(&t->regions[i + 1], &t->regions[i], (size_t)(t->cnt - i) * sizeof(t->regions[0]));
		t->cnt++;
	} else if (removed > 1) {
		memmove(&t->regions[i + 1], &t->regions[j], (size_t)(t->cnt - j) * sizeof(t->regions[0]));
		t->cnt -= removed - 1;
	}
	t->regions[i].base = base;
	t->regions[i].size = end - base;
	t->regions[i].what = what;
	return 0;
}

int memblock_add(struct memblock *mb, uint64_t base, uint64_t size)
{
	return add_range(&mb->memory, base, size, "System RAM");
}

int memblock_reserve(struct memblock *mb, uint64_t base, uint64_t size, const char *what)
{
	return add_range(&mb->reserved, base, size, what);
}

/* Walk the free ranges (memory minus reserved) from the top, as
 * for_each_free_mem_range_reverse does. cb returns true to stop. */
typedef bool (*free_range_cb)(void *ctx, uint64_t start, uint64_t end);

static void for_each_free_range_reverse(const struct memblock *mb, free_range_cb cb, void *ctx)
{
	for (int m = mb->memory.cnt - 1; m >= 0; m--) {
		uint64_t mstart = mb->memory.regions[m].base, mend = rend(&mb->memory.regions[m]);
		uint64_t top = mend;
		for (int r = mb->reserved.cnt - 1; r >= 0 && top > mstart; r--) {
			const struct memblock_region *rr = &mb->reserved.regions[r];
			if (rr->base >= top)
				continue;
			if (rend(rr) < top && cb(ctx, rend(rr) > mstart ? rend(rr) : mstart, top))
				return;
			top = rr->base > mstart ? rr->base : mstart;
		}
		if (top > mstart && cb(ctx, mstart, top))
			return;
	}
}

struct alloc_ctx {
	uint64_t size, align, min, max, found;
};

static bool try_fit(void *p, uint64_t start, uint64_t end)
{
	struct alloc_ctx *c = p;
	if (end > c->max)
		end = c->max;
	if (start < c->min)
		start = c->min;
	if (end <= start || end - start < c->size)
		return false;
	uint64_t base = (end - c->size) & ~(c->align - 1);
	if (base < start)
		return false;
	c->found = base;
	return true;
}

uint64_t memblock_alloc(struct memblock *mb, uint64_t size, uint64_t align, uint64_t min,
			uint64_t max, const char *what)
{
	struct alloc_ctx c = {size, align ? align : 1, min,
			      max < mb->current_limit ? max : mb->current_limit, UINT64_MAX};
	if (!size)
		return UINT64_MAX;
	for_each_free_range_reverse(mb, try_fit, &c);
	if (c.found == UINT64_MAX || memblock_reserve(mb, c.found, size, what))
		return UINT64_MAX;
	return c.found;
}

struct count_ctx {
	uint64_t spfn, epfn, pages;
};

static bool count_free(void *p, uint64_t start, uint64_t end)
{
	struct count_ctx *c = p;
	uint64_t s = PFN_UP(start), e = PFN_DOWN(end);
	if (s < c->spfn)
		s = c->spfn;
	if (e > c->epfn)
		e = c->epfn;
	if (e > s)
		c->pages += e - s;
	return false;
}

uint64_t memblock_free_pages(const struct memblock *mb, uint64_t spfn, uint64_t epfn)
{
	struct count_ctx c = {spfn, epfn, 0};
	for_each_free_range_reverse(mb, count_free, &c);
	return c.pages;
}

bool memblock_pfn_is_free(const struct memblock *mb, uint64_t pfn)
{
	return memblock_free_pages(mb, pfn, pfn + 1) == 1;
}

uint64_t memblock_present_pages(const struct memblock *mb, uint64_t spfn, uint64_t epfn)
{
	uint64_t pages = 0;
	for (int i = 0; i < mb->memory.cnt; i++) {
		const struct memblock_region *r = &mb->memory.regions[i];
		uint64_t s = PFN_UP(r->base), e = PFN_DOWN(rend(r));
		if (s < spfn)
			s = spfn;
		if (e > epfn)
			e = epfn;
		if (e > s)
			pages += e - s;
	}
	return pages;
}
