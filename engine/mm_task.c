/* Tasks and the lifetime of address spaces: fork (kernel/fork.c copy_process, dup_mmap),
 * exec (fs/exec.c exec_mmap, setup_arg_pages), exit (kernel/exit.c, mm/mmap.c exit_mmap). */
#include <stdlib.h>
#include <string.h>

#include "mm_internal.h"
#include "vmscan.h"

/* fs/exec.c setup_arg_pages: the stack VMA is expanded to 128 KiB below the arguments */
#define EXEC_STACK_EXPAND (128u << 10)
/* mm/util.c mmap_base: MIN_GAP = 128 MiB below the stack top (no randomization) */
#define MMAP_MIN_GAP (128ull << 20)

static uint32_t task_slot(uint32_t pid, uint32_t mask)
{
	return (pid * 2654435761u) & mask;
}

static inline __attribute__((always_inline)) struct task_struct *task_lookup(struct mm_world *w,
									   uint32_t pid)
{
	struct task_struct *tasks = w->tasks;
	uint32_t mask = w->task_mask;
	for (uint32_t i = task_slot(pid, mask);; i = (i + 1) & mask) {
		if (tasks[i].state == TASK_FREE)
			return NULL;
		if (tasks[i].pid == pid)
			return &tasks[i];
	}
}

struct task_struct *find_task(struct sim *s, uint32_t pid)
{
	return task_lookup(&s->mm, pid);
}

static int grow_tasks(struct mm_world *w)
{
	uint32_t n = (w->task_mask + 1) * 2;
	struct task_struct *t = calloc(n, sizeof(*t));
	if (!t)
		return -1;
	for (uint32_t i = 0; i <= w->task_mask; i++) {
		if (w->tasks[i].state == TASK_FREE)
			continue;
		uint32_t j = task_slot(w->tasks[i].pid, n - 1);
		while (t[j].state != TASK_FREE)
			j = (j + 1) & (n - 1);
		t[j] = w->tasks[i];
	}
	free(w->tasks);
	w->tasks = t;
	w->last_task = t;
	w->task_mask = n - 1;
	return 0;
}

/* Insert a fresh task (the pid must be absent). Invalidates task pointers. */
static struct task_struct *task_insert(struct sim *s, uint32_t pid)
{
	struct mm_world *w = &s->mm;
	if ((w->nr_tasks + 1) * 2 > w->task_mask + 1 && grow_tasks(w))
		return NULL;
	uint32_t i = task_slot(pid, w->task_mask);
	while (w->tasks[i].state != TASK_FREE)
		i = (i + 1) & w->task_mask;
	w->tasks[i] = (struct task_struct){.pid = pid, .state = TASK_RUNNING};
	w->nr_tasks++;
	return &w->tasks[i];
}

/* Backward-shift deletion keeps probe runs intact without tombstones. */
static void task_remove(struct sim *s, struct task_struct *t)
{
	struct mm_world *w = &s->mm;
	uint32_t i = (uint32_t)(t - w->tasks);
	for (uint32_t j = (i + 1) & w->task_mask; w->tasks[j].state != TASK_FREE;
	     j = (j + 1) & w->task_mask) {
		uint32_t home = task_slot(w->tasks[j].pid, w->task_mask);
		if (((j - home) & w->task_mask) >= ((j - i) & w->task_mask)) {
			w->tasks[i] = w->tasks[j];
			i = j;
		}
	}
	w->tasks[i].state = TASK_FREE;
	w->tasks[i].pid = 0;
	w->tasks[i].mm = NULL; /* event_mm's cache hit reads a free slot's mm as "none" */
	w->nr_tasks--;
}

static inline __attribute__((always_inline)) struct task_struct *
event_task(struct sim *s, const struct mm_event *ev)
{
	struct task_struct *t = find_task(s, ev->pid);
	if (!t) {
		t = task_insert(s, ev->pid);
		if (!t)
			return NULL;
		t->implicit = 1;
		s->vmstat[IMPLICIT_TASK]++;
	}
	if (t->killed) {
		s->vmstat[DROPPED_KILLED]++;
		return NULL;
	}
	cpumask_t bit = 1ull << (sim_cpu(s, ev) & 63);
	t->cpus |= bit;
	if (t->mm)
		t->mm->cpumask |= bit;
	return t;
}

struct task_struct *task_for_event(struct sim *s, const struct mm_event *ev)
{
	return event_task(s, ev);
}

struct mm_struct *mm_alloc(struct sim *s, unsigned cpu)
{
	struct mm_world *w = &s->mm;
	struct mm_struct *mm = w->free_mms;
	if (mm) {
		w->free_mms = mm->next_free;
	} else {
		mm = calloc(1, sizeof(*mm));
		if (!mm)
			return NULL;
		mm->next = w->all_mms;
		w->all_mms = mm;
	}
	struct vm_area_struct *vma = mm->vma;
	uint32_t cap = mm->cap_vma;
	struct mm_struct *next = mm->next;
	memset(mm, 0, sizeof(*mm));
	mm->vma = vma;
	mm->cap_vma = cap;
	mm->next = next;
	if (pgd_alloc(&w->pt, &mm->pgd, cpu)) {
		mm->next_free = w->free_mms;
		w->free_mms = mm;
		return NULL;
	}
	mm->users = 1;
	mm->live = true;
	if (anon_family_add(s, mm, ++w->next_anon)) {
		pgd_free(&w->pt, &mm->pgd, cpu);
		mm->next_free = w->free_mms;
		w->free_mms = mm;
		return NULL;
	}
	mm->mmap_base = w->pt.geo.task_size - MMAP_MIN_GAP;
	w->live_mms++;
	return mm;
}

void mm_charge_refused(struct sim *s, enum vm_stat_item cause)
{
	s->vmstat[COMMIT_REFUSED]++;
	s->vmstat[cause]++;
}

void exit_mmap(struct sim *s, struct mm_struct *mm, unsigned cpu)
{
	struct flush_range fr = {0, 0};
	uint64_t tables = mm->pgd.nr_pages;
	for (uint32_t i = 0; i < mm->nr_vma; i++)
		zap_page_range(s, mm, mm->vma[i].vm_start, mm->vma[i].vm_end, cpu, &fr);
	free_pgtables(&s->mm.pt, &mm->pgd, 0, s->mm.pt.geo.task_size, 0,
		      s->mm.pt.geo.task_size, cpu);
	/* tlb_finish_mmu of a fullmm gather flushes the whole mm if ptes or tables went */
	if (fr.end || mm->pgd.nr_pages != tables)
		flush_tlb_mm_range(&s->mm.tlb, s->vmstat, mm->cpumask, cpu, 0, 0, TLB_EXEC_EXIT);
	vm_unacct_memory(&s->commit, mm->committed);
	mm->committed = 0;
	uint32_t nr_vma = mm->nr_vma;
	mm->nr_vma = 0;
	for (uint32_t i = 0; i < nr_vma; i++)
		shmem_release_if_unmapped(s, mm->vma[i].file, cpu);
	mm->total_vm = 0;
	pgd_free(&s->mm.pt, &mm->pgd, cpu);
}

void mmput(struct sim *s, struct mm_struct *mm, unsigned cpu)
{
	if (!mm || --mm->users)
		return;
	exit_mmap(s, mm, cpu);
	anon_family_del(s, mm);
	mm->live = false;
	mm->next_free = s->mm.free_mms;
	s->mm.free_mms = mm;
	s->mm.live_mms--;
}

struct mm_struct *task_mm(struct sim *s, struct task_struct *t, unsigned cpu)
{
	if (!t->mm) {
		t->mm = mm_alloc(s, cpu);
		if (t->mm)
			t->mm->cpumask = t->cpus;
	}
	return t->mm;
}

/* event_mm when the task is new, killed or without an mm. */
static __attribute__((noinline)) struct mm_struct *
event_mm_slow(struct sim *s, const struct mm_event *ev, struct task_struct **tp)
{
	struct task_struct *t = event_task(s, ev);
	*tp = t;
	if (!t)
		return NULL;
	if (t->mm)
		return t->mm;
	return task_mm(s, t, sim_cpu(s, ev));
}

/* Every fault and touch comes here: event_task for a live task with an mm, with nothing
 * held across a call (the rest is event_mm_slow's). */
struct mm_struct *event_mm(struct sim *s, const struct mm_event *ev, struct task_struct **tp)
{
	struct mm_world *w = &s->mm;
	/* faults come in runs from one task: the slot of the last one is tried first. A free
	 * slot (pid 0) has no mm, so a match there goes the slow way like a miss */
	struct task_struct *t = w->last_task;
	if (t->pid != ev->pid) {
		t = task_lookup(w, ev->pid);
		if (__builtin_expect(!t, 0))
			return event_mm_slow(s, ev, tp);
		w->last_task = t;
	}
	if (__builtin_expect(t->killed || !t->mm, 0))
		return event_mm_slow(s, ev, tp);
	cpumask_t bit = 1ull << (sim_cpu(s, ev) & 63);
	struct mm_struct *mm = t->mm;
	t->cpus |= bit;
	mm->cpumask |= bit;
	*tp = t;
	return mm;
}

void task_kill(struct sim *s, struct task_struct *t)
{
	unsigned cpu = (unsigned)__builtin_ctzll(t->cpus | 1ull << 63) % s->machine.cfg.nr_cpus;
	t->killed = 1;
	mmput(s, t->mm, cpu);
	t->mm = NULL;
}

/* dup_mmap: charge the child's accountable VMAs, copy them and their ptes, then flush
 * the parent's whole mm once (its ptes were write-protected). */
static struct mm_struct *dup_mm(struct sim *s, struct mm_struct *old, unsigned cpu)
{
	uint64_t charge = 0;
	for (uint32_t i = 0; i < old->nr_vma; i++)
		if (old->vma[i].vm_flags & VM_ACCOUNT)
			charge += vma_pages(&old->vma[i]);
	if (charge && !vm_enough_memory(&s->commit, charge, old->total_vm)) {
		mm_charge_refused(s, COMMIT_REFUSED_FORK);
		return NULL;
	}
	struct mm_struct *mm = mm_alloc(s, cpu);
	if (!mm)
		goto fail_uncharge;
	anon_family_del(s, mm); /* the child shares its parent's anonymous pages */
	if (anon_family_add(s, mm, old->anon)) {
		mmput(s, mm, cpu);
		goto fail_uncharge;
	}
	mm->committed = charge;
	mm->total_vm = old->total_vm;
	mm->start_brk = old->start_brk;
	mm->brk = old->brk;
	mm->mmap_base = old->mmap_base;
	for (uint32_t i = 0; i < old->nr_vma; i++) {
		if (vma_insert(mm, &old->vma[i]) ||
		    copy_page_range(s, mm, old, &old->vma[i], cpu))
			goto fail_mm;
	}
	flush_tlb_mm_range(&s->mm.tlb, s->vmstat, old->cpumask, cpu, 0, 0, TLB_FORK);
	return mm;
fail_mm:
	mmput(s, mm, cpu);
	return NULL;
fail_uncharge:
	vm_unacct_memory(&s->commit, charge);
	return NULL;
}

void mm_fork(struct sim *s, const struct mm_event *ev)
{
	unsigned cpu = sim_cpu(s, ev);
	struct task_struct *parent = task_for_event(s, ev);
	if (!parent) {
		/* a killed parent forks nothing: its would-be child's events are dropped too */
		struct task_struct *child = find_task(s, ev->u.fork.child);
		if (!child)
			child = task_insert(s, ev->u.fork.child);
		if (child && !child->mm)
			child->killed = 1;
		return;
	}
	uint32_t comm = parent->comm;
	int32_t adj = parent->oom_score_adj;
	struct mm_struct *pmm = task_mm(s, parent, cpu);
	struct mm_struct *cmm = NULL;
	if (pmm && (ev->u.fork.flags & FORK_THREAD)) {
		cmm = pmm;
		pmm->users++;
	} else if (pmm) {
		cmm = dup_mm(s, pmm, cpu);
	}
	struct task_struct *old = find_task(s, ev->u.fork.child);
	if (old) { /* pid reused without an exit in the trace */
		mmput(s, old->mm, cpu);
		task_remove(s, old);
	}
	struct task_struct *child = task_insert(s, ev->u.fork.child);
	if (!child) {
		mmput(s, cmm, cpu);
		return;
	}
	child->comm = comm;
	child->oom_score_adj = adj;
	child->mm = cmm;
	/* fork failed (ENOMEM): the child never runs; whatever the trace says it did is dropped */
	child->killed = !cmm;
}

static bool exec_setup_stack(struct sim *s, struct task_struct *t, struct mm_struct *mm,
			     unsigned cpu)
{
	uint64_t top = s->mm.pt.geo.task_size;
	struct vm_area_struct stack = {
		.vm_start = top - EXEC_STACK_EXPAND - PAGE_SIZE,
		.vm_end = top,
		.vm_flags = VM_READ | VM_WRITE | VM_MAYWRITE | VM_GROWSDOWN | VM_ACCOUNT,
	};
	if (!vm_enough_memory(&s->commit, vma_pages(&stack), 0)) {
		mm_charge_refused(s, COMMIT_REFUSED_MMAP);
		return false;
	}
	mm->committed += vma_pages(&stack);
	mm->total_vm += vma_pages(&stack);
	if (vma_insert(mm, &stack))
		return false;
	/* copy_strings writes argv and envp into the top stack page */
	return handle_mm_fault(s, t, mm, top - PAGE_SIZE, FAULT_WRITE, cpu);
}

void mm_exec(struct sim *s, const struct mm_event *ev)
{
	unsigned cpu = sim_cpu(s, ev);
	struct task_struct *t = task_for_event(s, ev);
	if (!t)
		return;
	struct mm_struct *mm = mm_alloc(s, cpu);
	if (!mm) {
		task_kill(s, t);
		return;
	}
	mm->cpumask = 1ull << (cpu & 63);
	struct mm_struct *old = t->mm;
	t->mm = mm;
	t->comm = ev->u.exec.filename;
	mmput(s, old, cpu);
	if (!exec_setup_stack(s, t, mm, cpu))
		task_kill(s, t);
}

void mm_exit(struct sim *s, const struct mm_event *ev)
{
	struct task_struct *t = find_task(s, ev->pid);
	if (t && t->killed) {
		s->vmstat[DROPPED_KILLED]++;
		task_remove(s, t);
		return;
	}
	if (!t)
		return; /* nothing known of it: nothing to tear down */
	mmput(s, t->mm, sim_cpu(s, ev));
	task_remove(s, t);
}

void mm_set_oom_score_adj(struct sim *s, const struct mm_event *ev)
{
	struct task_struct *t = task_for_event(s, ev);
	if (t)
		t->oom_score_adj = ev->u.adj.value;
}

void mm_comm(struct sim *s, const struct mm_event *ev)
{
	struct task_struct *t = task_for_event(s, ev);
	if (t)
		t->comm = ev->u.comm.name;
}

/* The zero page lives in the kernel image (empty_zero_page in .bss): a reserved frame. */
static pfn_t find_zero_pfn(struct sim *s)
{
	const struct machine *m = &s->machine;
	pfn_t start = s->pgdat.node_start_pfn;
	for (pfn_t pfn = (1u << 20) >> PAGE_SHIFT; pfn < m->max_low_pfn; pfn++)
		if (pfn >= start && !machine_pfn_free_at_boot(m, pfn))
			return pfn;
	return PFN_NONE;
}

int mm_world_init(struct sim *s)
{
	struct mm_world *w = &s->mm;
	memset(w, 0, sizeof(*w));
	const struct machine *m = &s->machine;
	pgtable_ctx_init(&w->pt, &s->pgdat, m->cfg.arch, m->cfg.kernel.page_offset);
	w->task_mask = 1023;
	w->tasks = calloc(w->task_mask + 1, sizeof(*w->tasks));
	w->last_task = w->tasks;
	if (!w->tasks || page_cache_init(&w->cache) || u64map_init(&w->anon_families, 256) ||
	    u64map_init(&w->shmem_acct, 16))
		return -1;
	w->zero_pfn = find_zero_pfn(s);
	if (w->zero_pfn == PFN_NONE)
		return -1;
	sim_page(s, w->zero_pfn)->flags |= PG_zero;
	w->next_shmem = SHMEM_FILE_FIRST;
	if (m->zones[ZONE_HIGHMEM].spanned) {
		w->pkmap.last_pkmap = m->layout.last_pkmap;
		w->pkmap.pkmap_base = m->layout.pkmap_base;
		for (unsigned i = 0; i < LAST_PKMAP_MAX; i++)
			w->pkmap.page[i] = PFN_NONE;
		memset(w->pkmap.pa_head, 0xff, sizeof(w->pkmap.pa_head));
	}
	return 0;
}

void mm_world_destroy(struct sim *s)
{
	struct mm_world *w = &s->mm;
	for (struct mm_struct *mm = w->all_mms, *next; mm; mm = next) {
		next = mm->next;
		free(mm->vma);
		free(mm);
	}
	free(w->tasks);
	page_cache_destroy(&w->cache);
	u64map_free(&w->anon_families);
	u64map_free(&w->shmem_acct);
	pgtable_ctx_destroy(&w->pt);
	memset(w, 0, sizeof(*w));
}
