#include "pgtable.h"

#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

/* The three shapes, as constants: pte_offset and pte_range specialise on them, and a walk
 * whose shifts are immediates costs a few instructions per level (the loop reading them
 * from the geometry cost ~60 per walk). task_size is set by pt_geometry_for. */
/* asm/pgtable-2level_types.h: PGDIR_SHIFT 22 (pgtable.h's PT2_ constants) */
static const struct pt_geometry geo_2level = {2, {PT2_PGDIR_SHIFT, 12}, {PT2_PTRS, PT2_PTRS},
					      4, 0, false};
/* asm/pgtable-3level_types.h: PGDIR_SHIFT 30, PMD_SHIFT 21 */
static const struct pt_geometry geo_3level = {3, {30, 21, 12}, {4, 512, 512}, 8, 0, true};
/* asm/pgtable_64_types.h, 4-level: 39/30/21/12 */
static const struct pt_geometry geo_4level = {4, {39, 30, 21, 12}, {512, 512, 512, 512}, 8, 0,
					      false};

void pt_geometry_for(struct pt_geometry *g, enum arch arch, uint64_t page_offset)
{
	switch (arch) {
	case ARCH_I386: /* PTRS_PER_PTE 1024, 4-byte entries */
		*g = geo_2level;
		g->task_size = page_offset;
		break;
	case ARCH_I386_PAE:
		*g = geo_3level;
		g->task_size = page_offset;
		break;
	default: /* TASK_SIZE_MAX 2^47 - 4096 */
		*g = geo_4level;
		g->task_size = (1ull << 47) - 4096;
		break;
	}
}

int pgtable_ctx_init(struct pgtable_ctx *c, struct pglist_data *pgdat, enum arch arch,
		     uint64_t page_offset)
{
	memset(c, 0, sizeof(*c));
	c->pgdat = pgdat;
	pt_geometry_for(&c->geo, arch, page_offset);
	c->words = c->geo.ptrs[c->geo.levels - 1];
	c->free_head = PT_NONE;
	return 0;
}

static pte_t *table(const struct pgtable_ctx *c, uint32_t idx)
{
	return &c->arena[(uint64_t)idx * c->words];
}

/* The arena is read at random, a table (4 or 8 KiB) at a time, by every fault, touch run
 * and zap: on Linux it is mapped on its own, 2 MiB aligned and asked for the host's
 * transparent huge pages (THP "madvise"), so that its walks do not miss the host TLB at
 * every table. Its own mapping: madvise on a malloc block would make the heap around it
 * huge too, and every later growth of the heap fault in (and clear) 2 MiB pages. A host
 * hint only; the contents are the same either way. */
#define ARENA_HUGE_ALIGN (2ull << 20)

static uint64_t arena_bytes(const struct pgtable_ctx *c, uint32_t cap)
{
	uint64_t bytes = (uint64_t)cap * c->words * sizeof(*c->arena);
	return (bytes + ARENA_HUGE_ALIGN - 1) & ~(ARENA_HUGE_ALIGN - 1);
}

#ifdef __linux__
/* Zeroed, as a fresh anonymous mapping is. */
static uint64_t *arena_alloc(uint64_t bytes)
{
	uint64_t span = bytes + ARENA_HUGE_ALIGN;
	char *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	uint64_t head = -(uintptr_t)m & (ARENA_HUGE_ALIGN - 1);
	if (head)
		munmap(m, head);
	munmap(m + head + bytes, span - head - bytes);
#ifdef MADV_HUGEPAGE
	(void)madvise(m + head, bytes, MADV_HUGEPAGE); /* refused or unsupported: 4 KiB */
#endif
	return (uint64_t *)(void *)(m + head);
}

static void arena_free(uint64_t *arena, uint64_t bytes)
{
	if (arena)
		munmap(arena, bytes);
}
#else
static uint64_t *arena_alloc(uint64_t bytes) { return calloc(1, bytes); }

static void arena_free(uint64_t *arena, uint64_t bytes)
{
	(void)bytes;
	free(arena);
}
#endif

/* New slots are zero (a fresh mapping); a freed table is all zero (its entries were
 * cleared before it went), so slot_get only clears the free-list link. */
static int grow_arena(struct pgtable_ctx *c)
{
	uint32_t cap = c->cap ? c->cap * 2 : 256;
	uint64_t *arena = arena_alloc(arena_bytes(c, cap));
	if (!arena)
		return -1;
	pfn_t *pfns = realloc(c->table_pfn, cap * sizeof(*pfns));
	if (pfns)
		c->table_pfn = pfns;
	uint64_t(*groups)[2] = pfns ? realloc(c->groups, cap * sizeof(*groups)) : NULL;
	if (!groups) {
		arena_free(arena, arena_bytes(c, cap));
		return -1;
	}
	c->groups = groups;
	if (c->cap) {
		memcpy(arena, c->arena, (uint64_t)c->cap * c->words * sizeof(*arena));
		arena_free(c->arena, arena_bytes(c, c->cap));
	}
	c->arena = arena;
	c->cap = cap;
	return 0;
}

void pgtable_ctx_destroy(struct pgtable_ctx *c)
{
	arena_free(c->arena, arena_bytes(c, c->cap));
	free(c->table_pfn);
	free(c->groups);
	memset(c, 0, sizeof(*c));
}

static uint32_t slot_get(struct pgtable_ctx *c)
{
	uint32_t idx;
	if (c->free_head != PT_NONE) {
		idx = c->free_head;
		c->free_head = (uint32_t)table(c, idx)[0];
		table(c, idx)[0] = 0;
	} else {
		if (c->nr == c->cap && grow_arena(c))
			return PT_NONE;
		idx = c->nr++;
	}
	c->groups[idx][0] = c->groups[idx][1] = 0;
	return idx;
}

static void slot_put(struct pgtable_ctx *c, uint32_t idx)
{
	table(c, idx)[0] = c->free_head;
	c->free_head = idx;
}

/* pte_alloc_one / pmd_alloc_one: one zeroed lowmem page (GFP_PGTABLE_USER). */
static uint32_t table_alloc(struct pgtable_ctx *c, struct pgd *pgd, bool framed, unsigned cpu)
{
	pfn_t pfn = PFN_NONE;
	if (framed) {
		pfn = alloc_pages(c->pgdat, GFP_KERNEL_ACCOUNT | __GFP_ZERO, 0, cpu);
		if (pfn == PFN_NONE) {
			c->alloc_failures++;
			return PT_NONE;
		}
	}
	uint32_t idx = slot_get(c);
	if (idx == PT_NONE) {
		if (framed)
			free_pages(c->pgdat, pfn, 0, cpu);
		return PT_NONE;
	}
	c->table_pfn[idx] = pfn;
	if (framed) {
		struct page *p = pfn_to_page(c->pgdat, pfn);
		p->flags |= PG_pgtable;
		p->private = idx;
		c->nr_pagetable++;
		pgd->nr_pages++;
	}
	return idx;
}

static void table_free(struct pgtable_ctx *c, struct pgd *pgd, uint32_t idx, unsigned cpu)
{
	pfn_t pfn = c->table_pfn[idx];
	if (pfn != PFN_NONE) {
		struct page *p = pfn_to_page(c->pgdat, pfn);
		p->flags &= ~PG_pgtable;
		p->private = 0;
		free_pages(c->pgdat, pfn, 0, cpu);
		c->nr_pagetable--;
		pgd->nr_pages--;
	}
	slot_put(c, idx);
}

/* Entry i of table idx (an upper level's) was set. */
static void group_set(struct pgtable_ctx *c, uint32_t idx, unsigned i)
{
	unsigned g = i / PT_GROUP;
	c->groups[idx][g / 64] |= 1ull << (g % 64);
}

/* Entry i of table idx (an upper level's) was cleared: its bit goes if its group is empty
 * (the group is one host cache line, just written). */
static void group_clear(struct pgtable_ctx *c, uint32_t idx, unsigned i)
{
	unsigned g = i / PT_GROUP;
	const pte_t *e = &table(c, idx)[g * PT_GROUP];
	pte_t any = 0;
	for (unsigned k = 0; k < PT_GROUP; k++)
		any |= e[k];
	if (!any)
		c->groups[idx][g / 64] &= ~(1ull << (g % 64));
}

/* The first entry at or after i (before hi) of table idx (an upper level's) that is not
 * empty, else hi. Upper-level tables are mostly empty: only the groups whose bit is set
 * are read (teardown scanned the whole i386 pgd, 8 KiB, twice per exit). Inline: in
 * free_level_in the shape's constants reach it, and its call cost a tenth of the walk. */
static inline __attribute__((always_inline)) unsigned
next_present(const struct pgtable_ctx *c, uint32_t idx, unsigned i, unsigned hi)
{
	const pte_t *t = table(c, idx);
	const uint64_t *bits = c->groups[idx];
	while (i < hi) {
		unsigned g = i / PT_GROUP;
		uint64_t w = bits[g / 64] >> (g % 64);
		if (!w) { /* no bit left in this word */
			i = (g / 64 + 1) * 64 * PT_GROUP;
			continue;
		}
		g += (unsigned)__builtin_ctzll(w);
		unsigned j = g * PT_GROUP > i ? g * PT_GROUP : i;
		unsigned e = (g + 1) * PT_GROUP < hi ? (g + 1) * PT_GROUP : hi;
		for (; j < e; j++)
			if (t[j])
				return j;
		i = e;
	}
	return hi;
}

/* Free a table and everything below it. */
static void free_subtree(struct pgtable_ctx *c, struct pgd *pgd, unsigned level, uint32_t idx,
			 unsigned cpu)
{
	if (level + 1 < c->geo.levels) {
		unsigned n = c->geo.ptrs[level];
		for (unsigned i = next_present(c, idx, 0, n); i < n;
		     i = next_present(c, idx, i + 1, n)) {
			free_subtree(c, pgd, level + 1, (uint32_t)(table(c, idx)[i] - 1), cpu);
			table(c, idx)[i] = 0;
		}
	}
	table_free(c, pgd, idx, cpu);
}

int pgd_alloc(struct pgtable_ctx *c, struct pgd *pgd, unsigned cpu)
{
	/* PAE: the 32-byte pgd is a slab object (pgd_cache), the pmds below it are pages,
	 * preallocated for the user part (arch/x86/mm/pgtable.c PREALLOCATED_PMDS) */
	bool framed_root = !c->geo.prealloc_pmds;
	pgd->nr_pages = 0;
	pgd->root = table_alloc(c, pgd, framed_root, cpu);
	if (pgd->root == PT_NONE)
		return -1;
	if (!c->geo.prealloc_pmds)
		return 0;
	unsigned user = (unsigned)(c->geo.task_size >> c->geo.shift[0]);
	for (unsigned i = 0; i < user; i++) {
		uint32_t pmd = table_alloc(c, pgd, true, cpu);
		if (pmd == PT_NONE) {
			pgd_free(c, pgd, cpu);
			return -1;
		}
		table(c, pgd->root)[i] = pmd + 1;
		group_set(c, pgd->root, i);
	}
	return 0;
}

void pgd_free(struct pgtable_ctx *c, struct pgd *pgd, unsigned cpu)
{
	if (pgd->root == PT_NONE)
		return;
	free_subtree(c, pgd, 0, pgd->root, cpu);
	pgd->root = PT_NONE;
}

static unsigned index_at(const struct pt_geometry *g, unsigned level, uint64_t addr)
{
	return (unsigned)(addr >> g->shift[level]) & (g->ptrs[level] - 1);
}

/* The entry for addr in table idx of `level`; with g a constant shape, all immediates
 * (a table's arena slot is the size of the last level's table, as c->words). */
static inline __attribute__((always_inline)) pte_t *entry_at(const struct pgtable_ctx *c,
							     const struct pt_geometry *g,
							     uint32_t idx, unsigned level,
							     uint64_t addr)
{
	return &c->arena[(uint64_t)idx * g->ptrs[g->levels - 1] + index_at(g, level, addr)];
}

/* Descend from *idx towards addr's pte table while entries exist: returns the level where
 * the walk stopped (levels - 1 when *idx is the pte table). Inlined with g one of the
 * constant shapes, the loop unrolls and every shift and mask is an immediate. */
static inline __attribute__((always_inline)) unsigned walk_to_pte(const struct pgtable_ctx *c,
								  const struct pt_geometry *g,
								  uint32_t *idx, uint64_t addr)
{
	unsigned level = 0;
#pragma GCC unroll 4 /* GCC 12 peels the 2- and 3-level walks but loops over the 4-level one */
	for (; level + 1 < g->levels; level++) {
		pte_t e = *entry_at(c, g, *idx, level, addr);
		if (!e)
			break;
		*idx = (uint32_t)(e - 1);
	}
	return level;
}

/* __pte_alloc and friends: the walk that fills in missing tables. */
static pte_t *pte_alloc_walk(struct pgtable_ctx *c, struct pgd *pgd, uint64_t addr, unsigned cpu)
{
	const struct pt_geometry *g = &c->geo;
	uint32_t idx = pgd->root;
	for (unsigned level = 0; level + 1 < g->levels; level++) {
		pte_t *e = &table(c, idx)[index_at(g, level, addr)];
		if (!*e) {
			uint32_t child = table_alloc(c, pgd, true, cpu);
			if (child == PT_NONE)
				return NULL;
			e = &table(c, idx)[index_at(g, level, addr)]; /* the arena may have moved */
			*e = child + 1;
			group_set(c, idx, index_at(g, level, addr));
		}
		idx = (uint32_t)(*e - 1);
	}
	return &table(c, idx)[index_at(g, g->levels - 1, addr)];
}

static inline __attribute__((always_inline)) pte_t *
pte_lookup(struct pgtable_ctx *c, const struct pt_geometry *g, struct pgd *pgd, uint64_t addr,
	   bool alloc, unsigned cpu)
{
	uint32_t idx = pgd->root;
	unsigned level = walk_to_pte(c, g, &idx, addr);
	if (level + 1 == g->levels)
		return entry_at(c, g, idx, level, addr);
	return alloc ? pte_alloc_walk(c, pgd, addr, cpu) : NULL;
}

pte_t *pte_walk(struct pgtable_ctx *c, struct pgd *pgd, uint64_t addr, bool alloc, unsigned cpu)
{
	switch (c->geo.levels) {
	case 2:
		return pte_lookup(c, &geo_2level, pgd, addr, alloc, cpu);
	case 3:
		return pte_lookup(c, &geo_3level, pgd, addr, alloc, cpu);
	default:
		return pte_lookup(c, &geo_4level, pgd, addr, alloc, cpu);
	}
}

static inline __attribute__((always_inline)) pte_t *
pte_span(struct pgtable_ctx *c, const struct pt_geometry *g, struct pgd *pgd, uint64_t addr,
	 uint64_t end, uint64_t *n)
{
	uint32_t idx = pgd->root;
	unsigned level = walk_to_pte(c, g, &idx, addr);
	/* a missing entry at `level` is a hole of that entry's span; a pte table reached at the
	 * last level covers the span of the entry above it (one walk per table, not per pte) */
	unsigned span_level = level + 1 < g->levels ? level : level - 1;
	uint64_t span = 1ull << g->shift[span_level];
	uint64_t next = (addr | (span - 1)) + 1;
	if (next > end || next == 0)
		next = end;
	/* the slot before the store to *n, which the compiler must assume may hit c->arena */
	pte_t *pte = level + 1 < g->levels ? NULL : entry_at(c, g, idx, level, addr);
	*n = (next - addr + PAGE_SIZE - 1) >> PAGE_SHIFT; /* a partial last page counts */
	return pte;
}

pte_t *pte_range_walk(struct pgtable_ctx *c, struct pgd *pgd, uint64_t addr, uint64_t end,
		      uint64_t *n)
{
	switch (c->geo.levels) {
	case 2:
		return pte_span(c, &geo_2level, pgd, addr, end, n);
	case 3:
		return pte_span(c, &geo_3level, pgd, addr, end, n);
	default:
		return pte_span(c, &geo_4level, pgd, addr, end, n);
	}
}

struct free_range {
	uint64_t start, end, floor, ceiling;
	unsigned cpu;
};

static bool free_level(struct pgtable_ctx *c, struct pgd *pgd, unsigned level, uint32_t idx,
		       uint64_t base, const struct free_range *r);

/* Walk the tables of `level` covering [base, ...) that meet [start, end); free each child
 * whose whole span lies within [floor, ceiling) (mm/memory.c free_pgd_range's rule).
 * Returns true when the walk covered the whole table and left it empty. Inlined with g one
 * of the constant shapes and level a constant, as the walks are. */
static inline __attribute__((always_inline)) bool
free_level_in(struct pgtable_ctx *c, const struct pt_geometry *g, struct pgd *pgd,
	      unsigned level, uint32_t idx, uint64_t base, const struct free_range *r)
{
	uint64_t span = 1ull << g->shift[level];
	/* only the entries whose span meets [start, end): a small munmap need not scan the
	 * whole pgd (1024 entries on i386) */
	unsigned lo = r->start > base ? (unsigned)((r->start - base) >> g->shift[level]) : 0;
	uint64_t hi = r->end > base ? ((r->end - base - 1) >> g->shift[level]) + 1 : 0;
	if (hi > g->ptrs[level])
		hi = g->ptrs[level];
	bool empty = lo == 0 && hi == g->ptrs[level];
	for (unsigned i = next_present(c, idx, lo, (unsigned)hi); i < hi;
	     i = next_present(c, idx, i + 1, (unsigned)hi)) {
		uint64_t s = base + i * span, e = s + span;
		uint32_t child = (uint32_t)(table(c, idx)[i] - 1);
		/* a child left empty by the walk below needs no second scan to be freed */
		bool child_empty = level + 2 < g->levels && free_level(c, pgd, level + 1, child, s, r);
		bool prealloc = g->prealloc_pmds && level == 0;
		if (!prealloc && s >= r->floor && e <= r->ceiling) {
			if (child_empty)
				table_free(c, pgd, child, r->cpu);
			else
				free_subtree(c, pgd, level + 1, child, r->cpu);
			table(c, idx)[i] = 0;
			group_clear(c, idx, i);
		} else {
			empty = false;
		}
	}
	return empty;
}

/* free_level_in for the machine's shape at level. */
static bool free_level(struct pgtable_ctx *c, struct pgd *pgd, unsigned level, uint32_t idx,
		       uint64_t base, const struct free_range *r)
{
	switch (c->geo.levels * PT_MAX_LEVELS + level) {
	case 2 * PT_MAX_LEVELS:
		return free_level_in(c, &geo_2level, pgd, 0, idx, base, r);
	case 3 * PT_MAX_LEVELS:
		return free_level_in(c, &geo_3level, pgd, 0, idx, base, r);
	case 3 * PT_MAX_LEVELS + 1:
		return free_level_in(c, &geo_3level, pgd, 1, idx, base, r);
	case 4 * PT_MAX_LEVELS:
		return free_level_in(c, &geo_4level, pgd, 0, idx, base, r);
	case 4 * PT_MAX_LEVELS + 1:
		return free_level_in(c, &geo_4level, pgd, 1, idx, base, r);
	default:
		return free_level_in(c, &geo_4level, pgd, 2, idx, base, r);
	}
}

void free_pgtables(struct pgtable_ctx *c, struct pgd *pgd, uint64_t start, uint64_t end,
		   uint64_t floor, uint64_t ceiling, unsigned cpu)
{
	if (pgd->root == PT_NONE || start >= end)
		return;
	struct free_range r = {start, end, floor, ceiling, cpu};
	free_level(c, pgd, 0, pgd->root, 0, &r);
}

bool pgtable_free_slots_zero(const struct pgtable_ctx *c)
{
	for (uint32_t idx = c->free_head; idx != PT_NONE;) {
		const pte_t *t = &c->arena[(uint64_t)idx * c->words];
		for (uint32_t i = 1; i < c->words; i++)
			if (t[i])
				return false;
		idx = (uint32_t)t[0];
	}
	for (uint64_t i = (uint64_t)c->nr * c->words; i < (uint64_t)c->cap * c->words; i++)
		if (c->arena[i])
			return false;
	return true;
}

static bool groups_cover(const struct pgtable_ctx *c, unsigned level, uint32_t idx)
{
	if (level + 1 >= c->geo.levels)
		return true;
	for (unsigned i = 0; i < c->geo.ptrs[level]; i++) {
		pte_t e = table(c, idx)[i];
		unsigned g = i / PT_GROUP;
		if (!e)
			continue;
		if (!(c->groups[idx][g / 64] >> (g % 64) & 1) ||
		    !groups_cover(c, level + 1, (uint32_t)(e - 1)))
			return false;
	}
	return true;
}

bool pgtable_groups_cover(const struct pgtable_ctx *c, const struct pgd *pgd)
{
	return pgd->root == PT_NONE || groups_cover(c, 0, pgd->root);
}
