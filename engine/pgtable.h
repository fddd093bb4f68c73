/* Real multi-level page tables whose pages come from the simulated buddy allocator, so
 * page-table overhead shows in PageTables and competes for (low) memory as in the kernel.
 * Geometry per arch (arch/x86/include/asm/pgtable-{2,3}level_types.h, pgtable_64_types.h):
 *   i386       2 levels: pgd 1024 x 4 MiB,             pte 1024 x 4 KiB (4-byte entries)
 *   i386-pae   3 levels: pgd 4 x 1 GiB, pmd 512 x 2 MiB, pte 512 x 4 KiB (8-byte entries)
 *   x86_64     4 levels: pgd, pud, pmd, pte, 512 entries each (8-byte entries)
 * Entries live in host memory (an arena of tables); each table is also one simulated frame
 * (PG_pgtable) whose struct page->private holds the table's arena index. */
#ifndef MM_PGTABLE_H
#define MM_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "machine.h"
#include "page_alloc.h"

typedef uint64_t pte_t;

/* PTE bits as x86 has them (arch/x86/include/asm/pgtable_types.h). */
#define _PAGE_PRESENT 0x001ull
#define _PAGE_RW 0x002ull
#define _PAGE_USER 0x004ull
#define _PAGE_ACCESSED 0x020ull
#define _PAGE_DIRTY 0x040ull
#define _PAGE_SPECIAL 0x200ull /* software bit: the zero page, no struct page refcounting */
#define PTE_PFN_SHIFT 12

/* A swap entry in a non-present pte: the engine's own encoding (x86 packs type and offset
 * differently; only "present bit clear, entry non-zero" matters to the model). */
#define _PAGE_SWP_MARK 0x002ull
#define SWP_TYPE_SHIFT 2
#define SWP_TYPE_MASK 0x1full
#define SWP_OFFSET_SHIFT 12

static inline bool pte_present(pte_t p) { return p & _PAGE_PRESENT; }
static inline bool pte_none(pte_t p) { return p == 0; }
static inline bool pte_write(pte_t p) { return p & _PAGE_RW; }
static inline pfn_t pte_pfn(pte_t p) { return (pfn_t)(p >> PTE_PFN_SHIFT); }
/* &map[pte_pfn(p)] for a present pte: the model sets no bit above the pfn (no NX), so the
 * index needs no narrowing to pfn_t (one instruction less on zap's and fork's walks). */
static inline struct page *pte_page(struct page *map, pte_t p) { return &map[p >> PTE_PFN_SHIFT]; }
static inline pte_t pfn_pte(pfn_t pfn, uint64_t prot) { return (pte_t)pfn << PTE_PFN_SHIFT | prot; }
static inline bool pte_is_swap(pte_t p) { return !pte_present(p) && p != 0; }
static inline pte_t swp_entry_to_pte(unsigned type, uint64_t offset)
{
	return offset << SWP_OFFSET_SHIFT | (uint64_t)type << SWP_TYPE_SHIFT | _PAGE_SWP_MARK;
}
static inline uint64_t pte_swp_offset(pte_t p) { return p >> SWP_OFFSET_SHIFT; }
static inline unsigned pte_swp_type(pte_t p) { return (p >> SWP_TYPE_SHIFT) & SWP_TYPE_MASK; }

#define PT_MAX_LEVELS 4

struct pt_geometry {
	unsigned levels;
	unsigned shift[PT_MAX_LEVELS];   /* address bits covered by one entry at each level */
	unsigned ptrs[PT_MAX_LEVELS];    /* entries per table at each level; [0] is the pgd */
	unsigned entry_bytes;
	uint64_t task_size;              /* TASK_SIZE: top of user space */
	bool prealloc_pmds;              /* PAE pgd_alloc preallocates every pmd (pgtable.c) */
};

/* Page tables of one simulated machine: geometry, the host arena of tables, and totals. */
struct pgtable_ctx {
	struct pglist_data *pgdat;
	struct pt_geometry geo;
	uint64_t *arena;           /* [cap][words] entries */
	pfn_t *table_pfn;          /* [cap] simulated frame of each table */
	/* [cap] of an upper-level table: a bit per group of PT_GROUP entries, set while one of
	 * them may be non-empty (clear: all empty), so teardown reads only those groups */
	uint64_t (*groups)[2];
	uint32_t words;            /* entries per arena slot (the largest level) */
	uint32_t nr, cap, free_head;
	uint64_t nr_pagetable;     /* NR_PAGETABLE: page-table pages in use, all mms */
	uint64_t alloc_failures;
};

/* One address space's tables. */
struct pgd {
	uint32_t root;             /* arena index of the top table, UINT32_MAX when none */
	uint64_t nr_pages;         /* page-table pages of this mm (pgtables_bytes / 4096) */
};

#define PT_NONE UINT32_MAX
#define PT_GROUP 8 /* entries per bit of pgtable_ctx.groups: a host cache line of them */

void pt_geometry_for(struct pt_geometry *g, enum arch arch, uint64_t page_offset);
int pgtable_ctx_init(struct pgtable_ctx *c, struct pglist_data *pgdat, enum arch arch,
		     uint64_t page_offset);
void pgtable_ctx_destroy(struct pgtable_ctx *c);

/* pgd_alloc / pgd_free. Page-table pages are lowmem GFP_KERNEL allocations (no HIGHPTE,
 * as in 6.15+ and in Debian's 686 configs). Returns -1 when the allocator fails. */
int pgd_alloc(struct pgtable_ctx *c, struct pgd *pgd, unsigned cpu);
void pgd_free(struct pgtable_ctx *c, struct pgd *pgd, unsigned cpu);

/* pte_offset's walk, out of line: every shape, and the allocation of missing tables. */
pte_t *pte_walk(struct pgtable_ctx *c, struct pgd *pgd, uint64_t addr, bool alloc, unsigned cpu);

/* The 2-level shape (i386 without PAE, asm/pgtable-2level_types.h): PGDIR_SHIFT 22,
 * PTRS_PER_PTE 1024. */
#define PT2_PGDIR_SHIFT 22
#define PT2_PTRS 1024

/* The pte slot for addr, allocating missing tables when alloc is set (__pte_alloc).
 * NULL when a table is missing and !alloc, or when a table could not be allocated.
 * Every fault and its look-ahead walk here: on two levels (the default machine) the
 * pte table, when it exists, is found inline; an upper entry holds its table's arena
 * index + 1, so the slot is arena[(e - 1) * 1024 + i] (e < 2^32: no wrap). */
static inline pte_t *pte_offset(struct pgtable_ctx *c, struct pgd *pgd, uint64_t addr,
				bool alloc, unsigned cpu)
{
	if (c->geo.levels == 2) {
		uint64_t *arena = c->arena;
		uint64_t e = arena[(uint64_t)pgd->root * PT2_PTRS +
				   ((uint32_t)addr >> PT2_PGDIR_SHIFT)];
		if (e)
			return &arena[e * PT2_PTRS - PT2_PTRS +
				      ((addr >> PAGE_SHIFT) & (PT2_PTRS - 1))];
	}
	return pte_walk(c, pgd, addr, alloc, cpu);
}

/* pte_range's walk, out of line: every shape. */
pte_t *pte_range_walk(struct pgtable_ctx *c, struct pgd *pgd, uint64_t addr, uint64_t end,
		      uint64_t *n);

/* The ptes from addr to the end of its pte table (or to end, whichever first): returns the
 * slot pointer and sets *n; NULL (with *n = the pages to skip) where no pte table exists.
 * On two levels inline, as pte_offset: a pgd entry spans 4 MiB whether it holds a pte
 * table or a hole. */
static inline pte_t *pte_range(struct pgtable_ctx *c, struct pgd *pgd, uint64_t addr,
			       uint64_t end, uint64_t *n)
{
	if (c->geo.levels == 2) {
		uint64_t *arena = c->arena;
		uint64_t e = arena[(uint64_t)pgd->root * PT2_PTRS +
				   ((uint32_t)addr >> PT2_PGDIR_SHIFT)];
		uint64_t next = (addr | ((1ull << PT2_PGDIR_SHIFT) - 1)) + 1;
		if (next > end || next == 0)
			next = end;
		/* the slot before the store to *n, which may alias the arena for all the
		 * compiler knows */
		pte_t *pte = e ? &arena[e * PT2_PTRS - PT2_PTRS +
					((addr >> PAGE_SHIFT) & (PT2_PTRS - 1))]
			       : NULL;
		*n = (next - addr + PAGE_SIZE - 1) >> PAGE_SHIFT; /* a partial last page counts */
		return pte;
	}
	return pte_range_walk(c, pgd, addr, end, n);
}

/* free_pgtables: free every table whose whole span lies in [floor, ceiling) and inside
 * [start, end) — the kernel's rule, so tables shared with a neighbouring VMA survive.
 * The ptes must already be cleared. */
void free_pgtables(struct pgtable_ctx *c, struct pgd *pgd, uint64_t start, uint64_t end,
		   uint64_t floor, uint64_t ceiling, unsigned cpu);

/* The invariant that lets slot_get skip zeroing: every free and never-used arena slot is
 * all zero but its free-list link (tests check it after every step). */
bool pgtable_free_slots_zero(const struct pgtable_ctx *c);

/* The invariant behind pgtable_ctx.groups, over pgd's upper-level tables: every group
 * with a non-empty entry has its bit set (tests check it after every step). */
bool pgtable_groups_cover(const struct pgtable_ctx *c, const struct pgd *pgd);

#endif
