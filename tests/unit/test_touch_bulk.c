/* mm_touch (which faults runs of empty anonymous ptes with alloc_pages_bulk) against the
 * same access page by page through handle_mm_fault, where the pte does not allow it, on
 * two simulators fed the same random events: every struct page, pte, LRU list, pcp list,
 * TLB and swap counter and vmstat must agree after every event. The runs cover HighMem
 * (i386 1G: kmap_local_use), memory pressure with swap (swap entries in the runs, reclaim
 * from the allocator), OOM kills during a touch, COW after fork, zero pages, shared
 * anonymous (shmem) mappings, holes (SIGSEGV) and runs across pte tables. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mm_internal.h"
#include "sim.h"
#include "testlib_machine.h"
#include "testlib_sim.h"

static struct strtab strings;
static uint64_t ts;

static struct sim *boot(enum arch arch, const char *mem, const char *swap, bool implicit)
{
	struct machine_config cfg;
	tl_sim_config(&cfg, arch, mem, swap);
	cfg.nr_cpus = 2;
	struct sim *s = tl_sim_create(&cfg, &strings);
	s->mm.implicit_regions = implicit;
	return s;
}

/* The reference: the MMU's view of a touch, one page at a time. */
static void touch_page_by_page(struct sim *s, const struct mm_event *ev)
{
	struct mm_event mark = *ev;
	mark.type = EV_MARK; /* sim_apply's own bookkeeping for the event, nothing else */
	sim_apply(s, &mark);
	struct task_struct *t;
	struct mm_struct *mm = event_mm(s, ev, &t);
	if (!mm)
		return;
	unsigned cpu = sim_cpu(s, ev);
	uint32_t access = ev->u.touch.access & ~FAULT_KERNEL;
	uint64_t a = ev->u.touch.addr & ~(uint64_t)(PAGE_SIZE - 1);
	uint64_t end = (ev->u.touch.addr + ev->u.touch.len + PAGE_SIZE - 1) &
		       ~(uint64_t)(PAGE_SIZE - 1);
	if (end < a || end > s->mm.pt.geo.task_size)
		end = s->mm.pt.geo.task_size;
	for (; a < end; a += PAGE_SIZE) {
		uint64_t n;
		pte_t *pte = pte_range(&s->mm.pt, &mm->pgd, a, a + PAGE_SIZE, &n);
		if (pte && pte_present(*pte) && (!(access & FAULT_WRITE) || pte_write(*pte))) {
			*pte |= _PAGE_ACCESSED;
			continue;
		}
		if (!handle_mm_fault(s, t, mm, a, access, cpu))
			return;
	}
}

/* Every LRU list is well linked, as long as its count, and holds only pages that belong
 * on it (page_lru): a run linked to the wrong list or broken in the middle shows here. */
static void lru_lists_sound(const struct sim *s, int step)
{
	const struct page *map = s->pgdat.memmap_base;
	for (int l = 0; l < NR_LRU_LISTS; l++) {
		uint64_t n = 0;
		pfn_t prev = PFN_NONE;
		for (pfn_t pfn = s->lru.head[l]; pfn != PFN_NONE; pfn = map[pfn].next) {
			const struct page *p = &map[pfn];
			cr_assert_eq(p->prev, prev, "list %d, step %d", l, step);
			cr_assert(p->flags & PG_lru, "list %d, step %d", l, step);
			cr_assert_eq(page_lru(p), (enum lru_list)l, "list %d, step %d", l, step);
			cr_assert_leq(++n, s->lru.nr[l], "list %d, step %d", l, step);
			prev = pfn;
		}
		cr_assert_eq(s->lru.tail[l], prev, "list %d, step %d", l, step);
		cr_assert_eq(n, s->lru.nr[l], "list %d, step %d", l, step);
	}
}

static void same_state(const struct sim *a, const struct sim *b, int step, bool frames)
{
	cr_assert_eq(memcmp(a->vmstat, b->vmstat, sizeof(a->vmstat)), 0, "vmstat, step %d", step);
	cr_assert_eq(memcmp(&a->lru, &b->lru, sizeof(a->lru)), 0, "LRU, step %d", step);
	cr_assert_eq(memcmp(&a->mm.tlb, &b->mm.tlb, sizeof(a->mm.tlb)), 0, "TLB, step %d", step);
	cr_assert_eq(a->mm.nr_anon_pages, b->mm.nr_anon_pages, "step %d", step);
	cr_assert_eq(a->mm.nr_file_pages, b->mm.nr_file_pages, "step %d", step);
	const struct pglist_data *pa = &a->pgdat, *pb = &b->pgdat;
	cr_assert_eq(memcmp(pa->nr_alloc, pb->nr_alloc, sizeof(pa->nr_alloc)), 0);
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		const struct zone *za = &pa->node_zones[zi], *zb = &pb->node_zones[zi];
		cr_assert_eq(za->nr_free_pages, zb->nr_free_pages, "zone %d step %d", zi, step);
		if (za->pcp)
			cr_assert(test_pcp_equal(za->pcp, zb->pcp, pa->nr_cpus),
				     "zone %d pcp, step %d", zi, step);
	}
	cr_assert_eq(a->swap.inuse_pages, b->swap.inuse_pages, "step %d", step);
	if (!frames)
		return;
	lru_lists_sound(a, step);
	cr_assert_eq(memcmp(pa->mem_map, pb->mem_map, pa->node_spanned_pages * sizeof(struct page)),
		     0, "struct pages, step %d", step);
	const struct pgtable_ctx *ca = &a->mm.pt, *cb = &b->mm.pt;
	cr_assert_eq(ca->nr, cb->nr);
	cr_assert_eq(memcmp(ca->arena, cb->arena, (size_t)ca->cap * ca->words * sizeof(uint64_t)),
		     0, "ptes, step %d", step);
	if (a->swap.pages)
		cr_assert_eq(memcmp(a->swap.swap_map, b->swap.swap_map,
				    a->swap.pages * sizeof(*a->swap.swap_map)),
			     0, "swap map, step %d", step);
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

#define BASE 0x10000000ull
#define SPAN_PAGES 3072 /* three i386 pte tables */
#define NPIDS 5

/* shmem pages stay in the page cache after the last unmap (seen here: the file pages
 * filled the small machines and exec failed for good), so the runs under pressure map
 * private memory only */
/* files: some mmaps map one of a few regular files (private or shared, at offsets
 * that overlap), so that touches find their pages in the page cache (touch_file_run) */
static struct mm_event random_event(struct sim *s, uint64_t *x, const uint32_t *pids,
				    uint64_t max_len, bool shared, bool files)
{
	struct mm_event e;
	memset(&e, 0, sizeof(e));
	e.ts = ++ts;
	e.pid = pids[rnd(x) % NPIDS];
	e.cpu = (uint16_t)(rnd(x) % 3);
	uint64_t addr = BASE + (rnd(x) % SPAN_PAGES) * PAGE_SIZE;
	uint64_t len = (1 + rnd(x) % max_len) * PAGE_SIZE;
	const struct task_struct *t = find_task(s, e.pid);
	if (!t || t->killed) { /* reap and respawn */
		e.type = t ? EV_EXIT : EV_EXEC;
		e.u.exec.filename = strtab_intern(&strings, "/bin/t", 6);
		return e;
	}
	if (!find_vma(t->mm, BASE)) { /* a fresh exec: the span mapped anonymous first */
		e.type = EV_MMAP;
		e.u.map.addr = BASE;
		e.u.map.len = SPAN_PAGES * PAGE_SIZE;
		e.u.map.prot = MM_PROT_READ | MM_PROT_WRITE;
		e.u.map.flags = MM_MAP_PRIVATE | MM_MAP_ANON | MM_MAP_FIXED;
		return e;
	}
	switch (rnd(x) % 16) {
	case 0:
	case 1:
		e.type = EV_MMAP;
		e.u.map.addr = addr;
		e.u.map.len = len * 4;
		e.u.map.prot = MM_PROT_READ | MM_PROT_WRITE;
		e.u.map.flags = (rnd(x) % 4 || !shared ? MM_MAP_PRIVATE : MM_MAP_SHARED) | MM_MAP_ANON |
				MM_MAP_FIXED;
		if (files && rnd(x) % 2) {
			static const char *const names[] = {"/lib/a.so", "/lib/b.so", "/data/c"};
			const char *name = names[rnd(x) % 3];
			e.u.map.file = strtab_intern(&strings, name, strlen(name));
			e.u.map.pgoff = rnd(x) % 64;
			e.u.map.flags &= (uint16_t)~MM_MAP_ANON;
			if (rnd(x) % 3 == 0)
				e.u.map.flags = MM_MAP_SHARED | MM_MAP_FIXED;
		}
		break;
	case 2:
		e.type = EV_MUNMAP;
		e.u.range.addr = addr;
		e.u.range.len = len / 8 + PAGE_SIZE;
		break;
	case 3:
		e.type = EV_MPROTECT;
		e.u.range.addr = addr;
		e.u.range.len = len / 4 + PAGE_SIZE;
		e.u.range.prot = rnd(x) % 3 ? MM_PROT_READ | MM_PROT_WRITE : MM_PROT_READ;
		break;
	case 4:
		e.type = EV_FORK;
		e.u.fork.child = pids[rnd(x) % NPIDS];
		break;
	case 5:
		e.type = rnd(x) % 4 ? EV_FAULT : EV_EXIT;
		e.u.fault.addr = addr;
		e.u.fault.access = (uint32_t)(rnd(x) & 1);
		break;
	default:
		e.type = EV_TOUCH;
		e.u.touch.addr = addr + rnd(x) % PAGE_SIZE;
		e.u.touch.len = len;
		e.u.touch.access = rnd(x) % 4 ? FAULT_WRITE : FAULT_READ;
		break;
	}
	return e;
}

static void twin_run_files(enum arch arch, const char *mem, const char *swap, bool implicit,
			   uint64_t seed, int steps, uint64_t max_len, enum vm_stat_item what,
			   bool files)
{
	strtab_init(&strings);
	struct sim *a = boot(arch, mem, swap, implicit), *b = boot(arch, mem, swap, implicit);
	uint32_t pids[NPIDS] = {20, 21, 22, 23, 24};
	uint64_t x = seed;
	uint64_t touches = 0, max_mapped = 0;
	for (int step = 0; step < steps; step++) {
		struct mm_event e = random_event(a, &x, pids, max_len, what == KMAP_ATOMIC, files);
		if (e.type == EV_TOUCH) {
			sim_apply(a, &e);
			touch_page_by_page(b, &e);
			touches++;
		} else {
			sim_apply(a, &e);
			sim_apply(b, &e);
		}
		same_state(a, b, step, step % 20 == 19 || step == steps - 1);
		cr_assert_eq(a->mm.nr_mapped, b->mm.nr_mapped, "nr_mapped, step %d", step);
		if (a->mm.nr_mapped > max_mapped)
			max_mapped = a->mm.nr_mapped;
	}
	cr_assert_gt(touches, (uint64_t)steps / 5, "touches %llu faults %llu oom %llu free %llu", (unsigned long long)touches, (unsigned long long)a->vmstat[PGFAULT], (unsigned long long)a->vmstat[OOM_KILL], (unsigned long long)global_free_pages(&a->pgdat));
	/* the runs did what they are for */
	cr_assert_gt(a->vmstat[PGFAULT], 0);
	cr_assert_gt(a->vmstat[COW_FAULT], 0, "no COW fault");
	cr_assert_gt(a->vmstat[ZERO_PAGE_MAP], 0, "no zero page");
	cr_assert_gt(a->vmstat[FAULT_SIGSEGV], 0, "no SIGSEGV");
	cr_assert_gt(a->vmstat[what], 0, "the run's own case (%d) never happened", (int)what);
	if (files)
		cr_assert_gt(max_mapped, 0, "no file page mapped");
	sim_destroy(a);
	sim_destroy(b);
	strtab_free(&strings);
}

static void twin_run(enum arch arch, const char *mem, const char *swap, bool implicit,
		     uint64_t seed, int steps, uint64_t max_len, enum vm_stat_item what)
{
	twin_run_files(arch, mem, swap, implicit, seed, steps, max_len, what, false);
}

Test(touch_bulk, highmem_i386_1g_matches_page_by_page)
{
	twin_run(ARCH_I386, "1G", NULL, false, 0x1234567ull, 1200, 1500, KMAP_ATOMIC);
}

Test(touch_bulk, pressure_with_swap_matches_page_by_page)
{
	twin_run(ARCH_I386, "40M", "16M", true, 0xabcdefull, 2000, 600, PSWPIN);
}

Test(touch_bulk, oom_kills_during_touch_match_page_by_page)
{
	twin_run(ARCH_X86_64, "80M", NULL, false, 0x5151ull, 2000, 900, OOM_KILL);
}

/* Regular files, private and shared, read and written: touch runs over cached pages
 * (touch_file_run), misses that read the page (major faults), COW of file pages. */
Test(touch_bulk, file_mappings_match_page_by_page)
{
	twin_run_files(ARCH_I386, "1G", NULL, false, 0x7777ull, 1500, 1500, PGMAJFAULT, true);
}

Test(touch_bulk, file_mappings_under_pressure_match_page_by_page)
{
	twin_run_files(ARCH_I386, "40M", "16M", true, 0x9999ull, 2000, 600, PSWPIN, true);
}
