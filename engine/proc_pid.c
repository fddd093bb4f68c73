/* /proc/PID/status, oom_score and oom_score_adj of a simulated task (fs/proc/array.c
 * proc_pid_status, fs/proc/task_mmu.c task_mem, fs/proc/base.c proc_oom_score [6.1]). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sim_proc.h"

/* include/linux/sched.h TASK_COMM_LEN: 15 characters and the NUL */
#define TASK_COMM_LEN 16

static struct task_struct *live_task(struct sim *s, uint32_t pid)
{
	struct task_struct *t = find_task(s, pid);
	return t && t->state != TASK_FREE ? t : NULL;
}

/* seq_put_decimal_ull_width(m, "Name:\t", pages << (PAGE_SHIFT - 10), 8) + " kB" */
static void vm_line(struct strbuf *sb, const char *name, uint64_t pages)
{
	strbuf_printf(sb, "%s\t%8" PRIu64 " kB\n", name, pages << (PAGE_SHIFT - 10));
}

/* mm/internal.h is_data_mapping / is_stack_mapping (VM_STACK is VM_GROWSDOWN on x86) */
static void data_stack_vm(const struct mm_struct *mm, uint64_t *data, uint64_t *stack)
{
	*data = *stack = 0;
	for (uint32_t i = 0; i < mm->nr_vma; i++) {
		const struct vm_area_struct *v = &mm->vma[i];
		uint64_t pages = (v->vm_end - v->vm_start) >> PAGE_SHIFT;
		if (v->vm_flags & VM_GROWSDOWN)
			*stack += pages;
		else if ((v->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE)
			*data += pages;
	}
}

static void task_mem(struct strbuf *sb, const struct mm_struct *mm)
{
	uint64_t anon = mm->rss[MM_ANONPAGES], file = mm->rss[MM_FILEPAGES];
	uint64_t shmem = mm->rss[MM_SHMEMPAGES], data, stack;
	data_stack_vm(mm, &data, &stack);
	vm_line(sb, "VmSize:", mm->total_vm);
	vm_line(sb, "VmRSS:", anon + file + shmem);
	vm_line(sb, "RssAnon:", anon);
	vm_line(sb, "RssFile:", file);
	vm_line(sb, "RssShmem:", shmem);
	vm_line(sb, "VmData:", data);
	vm_line(sb, "VmStk:", stack);
	vm_line(sb, "VmPTE:", mm->pgd.nr_pages); /* mm_pgtables_bytes >> 10 */
	vm_line(sb, "VmSwap:", mm->rss[MM_SWAPENTS]);
}

int sim_proc_pid_status(struct strbuf *sb, struct sim *s, uint32_t pid)
{
	struct task_struct *t = live_task(s, pid);
	if (!t)
		return -1;
	const char *comm = t->comm ? strtab_get(s->strings, t->comm) : NULL;
	comm = comm ? comm : "";
	/* fs/exec.c __set_task_comm(kbasename(filename)): the model keeps exec's whole path */
	const char *slash = strrchr(comm, '/');
	char name[TASK_COMM_LEN];
	snprintf(name, sizeof(name), "%s", slash && slash[1] ? slash + 1 : comm);
	strbuf_printf(sb, "Name:\t%s\n", name);
	/* a killed task is dead to the model: its later events are dropped */
	strbuf_printf(sb, "State:\t%s\n", t->killed ? "Z (zombie)" : "R (running)");
	strbuf_printf(sb, "Pid:\t%" PRIu32 "\n", t->pid);
	if (t->mm && !t->killed) {
		task_mem(sb, t->mm);
		strbuf_printf(sb, "Threads:\t%" PRIu32 "\n", t->mm->users);
	}
	return 0;
}

uint64_t sim_oom_score(struct sim *s, uint32_t pid)
{
	int64_t badness = oom_badness(s, pid);
	if (badness == INT64_MIN)
		return 0;
	/* fs/proc/base.c proc_oom_score: totalpages = totalram_pages + total_swap_pages */
	int64_t totalpages = (int64_t)(s->commit.totalram_pages + s->commit.total_swap_pages);
	if (totalpages <= 0)
		return 0;
	int64_t points = (1000 + badness * 1000 / totalpages) * 2 / 3;
	return (uint64_t)points; /* printed with %lu: the kernel's points are never negative */
}

int sim_proc_pid_oom_score(struct strbuf *sb, struct sim *s, uint32_t pid)
{
	if (!live_task(s, pid))
		return -1;
	strbuf_printf(sb, "%" PRIu64 "\n", sim_oom_score(s, pid));
	return 0;
}

int sim_proc_pid_oom_score_adj(struct strbuf *sb, struct sim *s, uint32_t pid)
{
	struct task_struct *t = live_task(s, pid);
	if (!t)
		return -1;
	strbuf_printf(sb, "%" PRId32 "\n", t->oom_score_adj);
	return 0;
}
