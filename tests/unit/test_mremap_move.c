/* mremap's move of ptes (mmap.c move_ptes: the source a table at a time, the destination
 * followed from its first slot) against the same move page by page, three walks per pte
 * as it was before, on twin simulators fed the same events: every pte (the whole arena of
 * tables), struct page, table count and the flush range must agree. The moved range
 * holds holes, zero pages, frames shared with a child and exclusive ones, spans several
 * tables on both sides at different offsets, and the move's own table allocations grow
 * the arena (which moves the source's table). */
#include <criterion/criterion.h>
#include <string.h>

#include "mm_internal.h"
#include "testlib_sim.h"

static struct strtab strings;
static uint64_t ts;
static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The reference: each page looked up in the source, its destination slot allocated, the
 * source looked up again (the allocation may move the arena). */
static int ref_move_ptes(struct sim *s, struct mm_struct *mm, uint64_t old, uint64_t new_addr,
			 uint64_t len, struct flush_range *fr)
{
	struct pgtable_ctx *c = &s->mm.pt;
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		pte_t *src = pte_offset(c, &mm->pgd, old + off, false, 0);
		if (!src || pte_none(*src))
			continue;
		pte_t val = *src;
		pte_t *dst = pte_offset(c, &mm->pgd, new_addr + off, true, 0);
		if (!dst)
			return -1;
		src = pte_offset(c, &mm->pgd, old + off, false, 0);
		*src = 0;
		*dst = val;
		struct page *p = &s->pgdat.memmap_base[pte_pfn(val)];
		if (pte_present(val) && !(val & _PAGE_SPECIAL) && (p->flags & PG_anon) &&
		    p->mapcount == 1)
			p->index = (uint32_t)((new_addr + off) >> PAGE_SHIFT);
		if (!fr->end)
			fr->start = old + off;
		fr->end = old + off + PAGE_SIZE;
	}
	return 0;
}

static void both(struct sim *a, struct sim *b, uint32_t pid, enum mm_event_type type, uint64_t addr,
		 uint64_t len, uint32_t arg)
{
	struct mm_event e;
	memset(&e, 0, sizeof(e));
	e.ts = ++ts;
	e.pid = pid;
	e.type = (uint8_t)type;
	switch (type) {
	case EV_EXEC:
		e.u.exec.filename = strtab_intern(&strings, "/bin/m", 6);
		break;
	case EV_MMAP:
		e.u.map.addr = addr;
		e.u.map.len = len;
		e.u.map.prot = (uint16_t)arg;
		e.u.map.flags = MM_MAP_PRIVATE | MM_MAP_ANON;
		break;
	case EV_FAULT:
		e.u.fault.addr = addr;
		e.u.fault.access = arg;
		break;
	case EV_FORK:
		e.u.fork.child = arg;
		break;
	default:
		cr_assert_fail("event type %d", type);
	}
	sim_apply(a, &e);
	sim_apply(b, &e);
}

static void same(const struct sim *a, const struct sim *b)
{
	const struct pgtable_ctx *ca = &a->mm.pt, *cb = &b->mm.pt;
	cr_assert_eq(ca->nr, cb->nr);
	cr_assert_eq(ca->cap, cb->cap);
	cr_assert_eq(ca->nr_pagetable, cb->nr_pagetable);
	cr_assert_eq(memcmp(ca->arena, cb->arena, (size_t)ca->cap * ca->words * sizeof(uint64_t)),
		     0, "ptes differ");
	cr_assert_eq(memcmp(a->pgdat.mem_map, b->pgdat.mem_map,
			    a->pgdat.node_spanned_pages * sizeof(struct page)),
		     0, "struct pages differ");
}

/* old and new_addr are not table aligned, and not alike: the tables split differently. */
static void move_run(enum arch arch, uint64_t table_span, uint64_t filler_len)
{
	struct machine_config cfg;
	tl_sim_config(&cfg, arch, "256M", NULL);
	cfg.nr_cpus = 1;
	strtab_init(&strings);
	struct sim *a = tl_sim_create(&cfg, &strings), *b = tl_sim_create(&cfg, &strings);
	const uint64_t old = 0x10000000ull + 0x123000, new_addr = 0x30000000ull + 0x345000;
	const uint64_t len = 3 * table_span + 0x80000, pages = len >> PAGE_SHIFT;
	const uint32_t rw = MM_PROT_READ | MM_PROT_WRITE;
	both(a, b, 1, EV_EXEC, 0, 0, 0);
	both(a, b, 1, EV_MMAP, old, len, rw);
	for (int i = 0; i < 300; i++) /* holes between; some read faults map the zero page */
		both(a, b, 1, EV_FAULT, old + (rnd() % pages << PAGE_SHIFT), 0,
		     rnd() % 4 ? FAULT_WRITE : FAULT_READ);
	both(a, b, 1, EV_FORK, 0, 0, 2); /* these frames are now shared with pid 2 */
	for (int i = 0; i < 200; i++)
		both(a, b, 1, EV_FAULT, old + (rnd() % pages << PAGE_SHIFT), 0, FAULT_WRITE);
	/* a read-only region whose read faults take tables (zero pages) until the arena is
	 * one slot short of full: the move's second new table grows it */
	const uint64_t filler = 0x40000000ull;
	both(a, b, 1, EV_MMAP, filler, filler_len, MM_PROT_READ);
	struct pgtable_ctx *c = &a->mm.pt;
	for (uint64_t off = 0; off < filler_len; off += table_span) {
		if (c->free_head == PT_NONE && c->nr + 1 == c->cap)
			break;
		both(a, b, 1, EV_FAULT, filler + off, 0, FAULT_READ);
	}
	cr_assert(c->free_head == PT_NONE && c->nr + 1 == c->cap, "arena not one short of full");
	uint32_t cap = c->cap;
	same(a, b);
	struct task_struct *ta = find_task(a, 1), *tb = find_task(b, 1);
	cr_assert(ta && tb && ta->mm && tb->mm);
	struct flush_range fa = {0, 0}, fb = {0, 0};
	cr_assert_eq(move_ptes(a, ta->mm, old, new_addr, len, 0, &fa), 0);
	cr_assert_eq(ref_move_ptes(b, tb->mm, old, new_addr, len, &fb), 0);
	cr_assert_gt(c->cap, cap, "the move did not grow the arena");
	cr_assert_eq(fa.start, fb.start);
	cr_assert_eq(fa.end, fb.end);
	cr_assert_neq(fa.end, 0);
	same(a, b);
	/* and back, over the old range's tables (now empty), without growth */
	fa = fb = (struct flush_range){0, 0};
	cr_assert_eq(move_ptes(a, ta->mm, new_addr, old + 0x5000, len, 0, &fa), 0);
	cr_assert_eq(ref_move_ptes(b, tb->mm, new_addr, old + 0x5000, len, &fb), 0);
	cr_assert_eq(fa.start, fb.start);
	cr_assert_eq(fa.end, fb.end);
	same(a, b);
	sim_destroy(a);
	sim_destroy(b);
	strtab_free(&strings);
}

Test(mremap_move, i386_matches_page_by_page) { move_run(ARCH_I386, 4ull << 20, 1ull << 30); }

Test(mremap_move, x86_64_matches_page_by_page) { move_run(ARCH_X86_64, 2ull << 20, 4ull << 30); }
