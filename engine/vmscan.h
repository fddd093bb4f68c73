/* Page reclaim (mm/vmscan.c) and the reverse map it needs (mm/rmap.c), and the OOM killer
 * (mm/oom_kill.c). LRU lists are per node, linked through struct page next/prev. kswapd
 * runs synchronously when woken: the model has no threads, so "kswapd reclaimed to the high
 * watermark" happens at the allocation that woke it (docs/RECLAIM.md). */
#ifndef MM_VMSCAN_H
#define MM_VMSCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "gfp.h"
#include "page.h"

struct sim;
struct mm_struct;

enum lru_list {
	LRU_INACTIVE_ANON,
	LRU_ACTIVE_ANON,
	LRU_INACTIVE_FILE,
	LRU_ACTIVE_FILE,
	LRU_UNEVICTABLE,
	NR_LRU_LISTS
};

extern const char *const lru_list_names[NR_LRU_LISTS];

struct lruvec {
	/* lists linked through page->next/prev, newest at head, oldest at tail; the ends
	 * link to PFN_NONE as the kernel's ends link to the list_head, so adding a page
	 * touches only the page at the head */
	pfn_t head[NR_LRU_LISTS], tail[NR_LRU_LISTS];
	uint64_t nr[NR_LRU_LISTS];
	uint32_t kswapd_failures;  /* MAX_RECLAIM_RETRIES of no progress stops kswapd */
	bool in_reclaim;           /* reclaim does not recurse into itself */
};

/* mm/oom_kill.c: one record per kill, as the "Killed process" line reports it. */
struct oom_victim {
	uint64_t ts;
	uint32_t pid, comm;
	int64_t points;
	int32_t oom_score_adj;
	uint64_t total_vm, anon_rss, file_rss, shmem_rss, swapents, pgtables;
	unsigned order;
	gfp_t gfp;
};

#define OOM_VICTIMS_KEPT 256

struct oom_state {
	struct oom_victim victims[OOM_VICTIMS_KEPT];
	uint32_t nr_victims;       /* kept; vmstat oom_kill counts them all */
	uint64_t no_killable;      /* "Out of memory and no killable processes" */
};

void lruvec_init(struct lruvec *l);
/* Allocator hooks (struct alloc_hooks; ctx is the struct sim). */
void vmscan_wakeup_kswapd(void *ctx, int zone_idx, unsigned order, gfp_t gfp);
uint64_t vmscan_direct_reclaim(void *ctx, unsigned order, gfp_t gfp);
bool oom_kill_hook(void *ctx, unsigned order, gfp_t gfp);

/* mm/oom_kill.c oom_badness: LONG_MIN-like INT64_MIN for unkillable tasks. */
int64_t oom_badness(struct sim *s, uint32_t pid);

/* rmap (mm/rmap.c): family membership of an mm for anonymous pages. */
int anon_family_add(struct sim *s, struct mm_struct *mm, uint32_t anon);
void anon_family_del(struct sim *s, struct mm_struct *mm);

#endif
