/* The OOM killer (mm/oom_kill.c): when reclaim cannot satisfy an allocation, kill the
 * task with the highest badness and free its memory. */
#include <limits.h>

#include "mm_internal.h"
#include "vmscan.h"

/* oom_badness: RSS + swap entries + page tables, plus oom_score_adj in thousandths of
 * totalpages; INT64_MIN for tasks the killer must skip. */
int64_t oom_badness(struct sim *s, uint32_t pid)
{
	struct task_struct *t = find_task(s, pid);
	if (!t || t->killed || !t->mm || t->pid == 1 || t->oom_score_adj == -1000)
		return INT64_MIN;
	const struct mm_struct *mm = t->mm;
	int64_t points = (int64_t)(mm->rss[MM_FILEPAGES] + mm->rss[MM_ANONPAGES] +
				   mm->rss[MM_SHMEMPAGES] + mm->rss[MM_SWAPENTS] + mm->pgd.nr_pages);
	/* constrained_alloc: totalpages = totalram_pages + total_swap_pages */
	int64_t totalpages = (int64_t)(s->commit.totalram_pages + s->commit.total_swap_pages);
	points += (int64_t)t->oom_score_adj * (totalpages / 1000);
	return points;
}

/* select_bad_process: highest points; ties go to the lower pid, so the choice does not
 * depend on hash-table order. */
static struct task_struct *select_bad_process(struct sim *s, int64_t *points)
{
	struct mm_world *w = &s->mm;
	uint32_t best_pid = 0;
	int64_t best = INT64_MIN;
	for (uint32_t i = 0; i <= w->task_mask; i++) {
		const struct task_struct *t = &w->tasks[i];
		if (t->state != TASK_RUNNING)
			continue;
		int64_t p = oom_badness(s, t->pid);
		if (p == INT64_MIN)
			continue;
		if (p > best || (p == best && t->pid < best_pid)) {
			best = p;
			best_pid = t->pid;
		}
	}
	*points = best;
	return best_pid ? find_task(s, best_pid) : NULL;
}

static void record_victim(struct sim *s, const struct task_struct *t, int64_t points,
			  unsigned order, gfp_t gfp)
{
	struct oom_state *o = &s->oom;
	if (o->nr_victims >= OOM_VICTIMS_KEPT)
		return;
	const struct mm_struct *mm = t->mm;
	o->victims[o->nr_victims++] = (struct oom_victim){
		.ts = s->last_ts, .pid = t->pid, .comm = t->comm, .points = points,
		.oom_score_adj = t->oom_score_adj, .total_vm = mm->total_vm,
		.anon_rss = mm->rss[MM_ANONPAGES], .file_rss = mm->rss[MM_FILEPAGES],
		.shmem_rss = mm->rss[MM_SHMEMPAGES], .swapents = mm->rss[MM_SWAPENTS],
		.pgtables = mm->pgd.nr_pages, .order = order, .gfp = gfp,
	};
}

/* out_of_memory → oom_kill_process: SIGKILL the victim and every process sharing its mm;
 * the oom_reaper's work (freeing the memory) happens at once here. */
bool oom_kill_hook(void *ctx, unsigned order, gfp_t gfp)
{
	struct sim *s = ctx;
	int64_t points;
	struct task_struct *victim = select_bad_process(s, &points);
	if (!victim) {
		s->oom.no_killable++;
		return false;
	}
	record_victim(s, victim, points, order, gfp);
	s->vmstat[OOM_KILL]++;
	struct mm_struct *mm = victim->mm;
	struct mm_world *w = &s->mm;
	for (uint32_t i = 0; i <= w->task_mask; i++) {
		struct task_struct *t = &w->tasks[i];
		if (t->state == TASK_RUNNING && !t->killed && t->mm == mm)
			task_kill(s, t);
	}
	return true;
}
