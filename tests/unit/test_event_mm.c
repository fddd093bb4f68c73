/* event_mm's inline case (a live task with an mm) against its conditions: the recorded CPU
 * folded onto the machine's into both cpumasks, a pid never seen getting an implicit task
 * and an mm, a killed task's events dropped; and fork's pte copy (memory_fork.c) on each
 * kind of pte: anonymous, file, the zero page, a hole, write-protected for COW on both
 * sides. */
#include <criterion/criterion.h>
#include <string.h>

#include "mm_internal.h"
#include "testlib_sim.h"

static struct strtab strings;
static uint64_t ts;

static struct sim *boot(unsigned cpus)
{
	struct machine_config cfg;
	tl_sim_config(&cfg, ARCH_I386, "512M", NULL);
	cfg.nr_cpus = cpus;
	strtab_init(&strings);
	return tl_sim_create(&cfg, &strings);
}

static void teardown(struct sim *s)
{
	sim_destroy(s);
	strtab_free(&strings);
}

static struct mm_event ev(uint32_t pid, unsigned cpu, enum mm_event_type type)
{
	struct mm_event e;
	memset(&e, 0, sizeof(e));
	e.ts = ++ts;
	e.pid = pid;
	e.cpu = (uint16_t)cpu;
	e.type = (uint8_t)type;
	return e;
}

#define HEAP 0x10000000ull
#define FILEMAP 0x20000000ull

static void do_mmap(struct sim *s, uint32_t pid, uint64_t addr, uint64_t len, uint16_t flags,
		    const char *file)
{
	struct mm_event e = ev(pid, 0, EV_MMAP);
	e.u.map.addr = addr;
	e.u.map.len = len;
	e.u.map.prot = MM_PROT_READ | MM_PROT_WRITE;
	e.u.map.flags = flags;
	e.u.map.file = file ? strtab_intern(&strings, file, strlen(file)) : 0;
	sim_apply(s, &e);
}

static void do_fault(struct sim *s, uint32_t pid, uint64_t addr, uint32_t access)
{
	struct mm_event e = ev(pid, 0, EV_FAULT);
	e.u.fault.addr = addr;
	e.u.fault.access = access;
	sim_apply(s, &e);
}

Test(event_mm, folds_the_cpu_into_both_masks)
{
	struct sim *s = boot(3);
	struct mm_event e = ev(9, 0, EV_FAULT);
	struct task_struct *t = NULL;
	struct mm_struct *mm = event_mm(s, &e, &t); /* first sight: implicit task, new mm */
	cr_assert_not_null(mm);
	cr_assert_eq(t, find_task(s, 9));
	cr_assert_eq(t->mm, mm);
	cr_assert(t->implicit);
	cr_assert_eq(s->vmstat[IMPLICIT_TASK], 1);
	cr_assert_eq(mm->cpumask, 1);
	/* the inline case from here on: CPU 4 of a 3-CPU machine is CPU 1 */
	const unsigned cpus[] = {4, 2, 1, 3};
	const cpumask_t want[] = {3, 7, 7, 7};
	for (unsigned k = 0; k < 4; k++) {
		struct task_struct *u = NULL;
		e = ev(9, cpus[k], EV_FAULT);
		cr_assert_eq(event_mm(s, &e, &u), mm);
		cr_assert_eq(u, t);
		cr_assert_eq(t->cpus, want[k], "step %u", k);
		cr_assert_eq(mm->cpumask, want[k], "step %u", k);
	}
	cr_assert_eq(s->vmstat[IMPLICIT_TASK], 1);
	/* killed: dropped and counted, whether or not its mm is gone yet (task_kill drops it;
	 * the flag alone is what event_task tests) */
	t->killed = 1;
	struct task_struct *u = t;
	e = ev(9, 0, EV_FAULT);
	cr_assert_null(event_mm(s, &e, &u));
	cr_assert_null(u);
	cr_assert_eq(s->vmstat[DROPPED_KILLED], 1);
	t->killed = 0;
	task_kill(s, t);
	u = t;
	cr_assert_null(event_mm(s, &e, &u));
	cr_assert_null(u);
	cr_assert_eq(s->vmstat[DROPPED_KILLED], 2);
	teardown(s);
}

Test(event_mm, a_task_without_an_mm_gets_one_on_its_cpu)
{
	struct sim *s = boot(2);
	struct mm_event e = ev(4, 1, EV_COMM);
	e.u.comm.name = strtab_intern(&strings, "kworker", 7);
	sim_apply(s, &e); /* a task with no mm yet */
	struct task_struct *t = find_task(s, 4);
	cr_assert_not_null(t);
	cr_assert_null(t->mm);
	struct task_struct *u = NULL;
	e = ev(4, 3, EV_FAULT); /* CPU 3 of 2 is CPU 1, already in t->cpus */
	struct mm_struct *mm = event_mm(s, &e, &u);
	cr_assert_not_null(mm);
	cr_assert_eq(u, t);
	cr_assert_eq(t->mm, mm);
	cr_assert_eq(mm->cpumask, 2);
	teardown(s);
}

/* event_mm tries the slot of the task it found last: after an exit shifts that task back
 * in its probe run, the slot it left is free (pid 0, no mm) and the task is found where it
 * went. An event with pid 0 (the trace reader rejects them; the engine does not rely on it)
 * matches the free slot's pid but must not take the mm the slot held. */
Test(event_mm, the_last_task_slot_follows_an_exit)
{
	struct sim *s = boot(1);
	uint32_t mask = s->mm.task_mask, p1 = 100, p2 = 101;
	while (((p2 * 2654435761u) & mask) != ((p1 * 2654435761u) & mask))
		p2++;
	struct task_struct *t = NULL;
	struct mm_event e = ev(p1, 0, EV_FAULT);
	cr_assert_not_null(event_mm(s, &e, &t));
	struct task_struct *slot1 = t;
	e = ev(p2, 0, EV_FAULT);
	struct mm_struct *m2 = event_mm(s, &e, &t);
	cr_assert_not_null(m2);
	struct task_struct *slot2 = t;
	cr_assert_eq(slot2, slot1 + 1, "p2 probes past p1's home slot");
	cr_assert_eq(event_mm(s, &e, &t), m2); /* found now: the slot event_mm tries first */
	cr_assert_eq(s->mm.last_task, slot2);
	e = ev(p1, 0, EV_EXIT);
	sim_apply(s, &e);
	cr_assert_eq(slot2->state, TASK_FREE, "p2 shifted back");
	cr_assert_eq(find_task(s, p2), slot1);
	uint64_t implicit = s->vmstat[IMPLICIT_TASK];
	e = ev(0, 0, EV_FAULT);
	struct mm_struct *m0 = event_mm(s, &e, &t);
	cr_assert_not_null(m0);
	cr_assert_neq(m0, m2);
	cr_assert_eq(s->vmstat[IMPLICIT_TASK], implicit + 1);
	e = ev(p2, 0, EV_FAULT);
	cr_assert_eq(event_mm(s, &e, &t), m2);
	cr_assert_eq(t, find_task(s, p2));
	/* p1 exited: a new implicit task, not the slot it had */
	e = ev(p1, 0, EV_FAULT);
	struct mm_struct *m1 = event_mm(s, &e, &t);
	cr_assert_not_null(m1);
	cr_assert_neq(m1, m2);
	cr_assert_eq(s->vmstat[IMPLICIT_TASK], implicit + 2);
	teardown(s);
}

static struct page *frame_at(struct sim *s, struct mm_struct *mm, uint64_t addr, pte_t *pte)
{
	pte_t *p = pte_offset(&s->mm.pt, &mm->pgd, addr, false, 0);
	cr_assert_not_null(p);
	*pte = *p;
	cr_assert(pte_present(*pte));
	return sim_page(s, pte_pfn(*pte));
}

/* More ptes than the look-ahead distance in the table, of every kind: the loop that
 * prefetches and the tail that does not both see each. */
Test(fork_copy, every_kind_of_pte)
{
	struct sim *s = boot(1);
	struct mm_event e = ev(1, 0, EV_EXEC);
	e.u.exec.filename = strtab_intern(&strings, "/bin/p", 6);
	sim_apply(s, &e);
	do_mmap(s, 1, HEAP, 64 * PAGE_SIZE, MM_MAP_PRIVATE | MM_MAP_ANON, NULL);
	do_mmap(s, 1, FILEMAP, 8 * PAGE_SIZE, MM_MAP_PRIVATE, "/lib/data");
	/* anon written, anon read (the zero page), a hole, in a pattern over the table */
	for (unsigned i = 0; i < 64; i++)
		if (i % 5 != 3)
			do_fault(s, 1, HEAP + i * PAGE_SIZE, i % 5 == 1 ? FAULT_READ : FAULT_WRITE);
	/* a private file mapping: read (a file page), then written (an anon copy) */
	for (unsigned i = 0; i < 8; i++)
		do_fault(s, 1, FILEMAP + i * PAGE_SIZE, FAULT_READ);
	do_fault(s, 1, FILEMAP + 2 * PAGE_SIZE, FAULT_WRITE);
	struct mm_struct *pmm = find_task(s, 1)->mm;
	uint32_t ref[64], map[64];
	for (unsigned i = 0; i < 64; i++) {
		if (i % 5 == 3)
			continue;
		pte_t pte;
		struct page *p = frame_at(s, pmm, HEAP + i * PAGE_SIZE, &pte);
		ref[i] = (uint32_t)p->refcount;
		map[i] = (uint32_t)p->mapcount;
	}
	uint64_t anon = pmm->rss[MM_ANONPAGES], file = pmm->rss[MM_FILEPAGES];
	e = ev(1, 0, EV_FORK);
	e.u.fork.child = 2;
	sim_apply(s, &e);
	struct mm_struct *cmm = find_task(s, 2)->mm;
	cr_assert_not_null(cmm);
	/* every VMA with pages has anonymous ones (the file VMA its written copy), so all are
	 * copied: the child's counts are the parent's (38 in the heap, the file VMA's copy
	 * and exec's stack page; 7 file pages) */
	cr_assert_eq(anon, 64 - 13 - 13 + 1 + 1);
	cr_assert_eq(file, 7);
	cr_assert_eq(cmm->rss[MM_ANONPAGES], anon);
	cr_assert_eq(cmm->rss[MM_FILEPAGES], file);
	cr_assert_eq(cmm->rss[MM_SHMEMPAGES], 0);
	cr_assert_eq(cmm->rss[MM_SWAPENTS], 0);
	for (unsigned i = 0; i < 8; i++) {
		pte_t pte, cpte;
		struct page *p = frame_at(s, pmm, FILEMAP + i * PAGE_SIZE, &pte);
		struct page *q = frame_at(s, cmm, FILEMAP + i * PAGE_SIZE, &cpte);
		cr_assert_eq(p, q, "file pte %u", i);
		cr_assert_eq(!!(p->flags & PG_anon), i == 2, "file pte %u", i);
		cr_assert_eq((uint32_t)p->mapcount, 2, "file pte %u", i);
	}
	for (unsigned i = 0; i < 64; i++) {
		pte_t *cp = pte_offset(&s->mm.pt, &cmm->pgd, HEAP + i * PAGE_SIZE, false, 0);
		cr_assert_not_null(cp);
		if (i % 5 == 3) {
			cr_assert(pte_none(*cp), "pte %u", i);
			continue;
		}
		pte_t pte;
		struct page *p = frame_at(s, pmm, HEAP + i * PAGE_SIZE, &pte);
		cr_assert(!pte_write(pte), "parent pte %u write-protected", i);
		cr_assert(!pte_write(*cp), "child pte %u write-protected", i);
		cr_assert(!(*cp & _PAGE_ACCESSED), "child pte %u old", i);
		cr_assert_eq(pte_pfn(*cp), pte_pfn(pte), "pte %u", i);
		if (i % 5 == 1) { /* the zero page: no counts */
			cr_assert(pte & _PAGE_SPECIAL);
			cr_assert_eq((uint32_t)p->refcount, ref[i]);
			cr_assert_eq((uint32_t)p->mapcount, map[i]);
		} else {
			cr_assert_eq((uint32_t)p->refcount, ref[i] + 1, "pte %u", i);
			cr_assert_eq((uint32_t)p->mapcount, map[i] + 1, "pte %u", i);
			cr_assert(!(p->flags & PG_anon_exclusive), "pte %u", i);
		}
	}
	teardown(s);
}
