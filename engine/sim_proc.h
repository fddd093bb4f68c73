/* /proc of a live simulator, in the kernel's own formats (Linux 6.1): meminfo from the whole
 * struct sim, vmstat, zoneinfo with its per-node and per-zone items, swaps, and the per-task
 * status and oom_score files. Rendering reads the state between two events; nothing here
 * changes it. What each figure is computed from: docs/PROC.md. */
#ifndef MM_SIM_PROC_H
#define MM_SIM_PROC_H

#include <stdint.h>

#include "procfs_meminfo.h"
#include "sim.h"
#include "strbuf.h"

/* One pass over the memory map: the page states no counter keeps, by zone where the kernel
 * keeps them by zone (NR_ZONE_LRU_BASE + lru, NR_ZONE_WRITE_PENDING). */
struct page_census {
	uint64_t zone_lru[MAX_NR_ZONES][NR_LRU_LISTS];
	uint64_t zone_write_pending[MAX_NR_ZONES]; /* dirty or writeback page-cache pages */
	uint64_t shmem;				   /* page-cache pages of shared anonymous memory */
	uint64_t file_dirty; /* NR_FILE_DIRTY: dirty page-cache pages (anon dirt is not counted) */
	uint64_t writeback;
	uint64_t swapcache; /* PG_swapcache frames */
	uint64_t pcp;	    /* frames sitting on per-CPU lists (neither free nor in use) */
};

void page_census(const struct sim *s, struct page_census *c);

/* The figures meminfo_read needs, from the live simulator (pages; kernel stack in kB). */
void sim_meminfo_pages(const struct sim *s, const struct page_census *c, struct meminfo_pages *p);
/* meminfo of the live simulator: mi->pages points at *p, which the caller keeps. */
void sim_meminfo(const struct sim *s, struct meminfo *mi, struct meminfo_pages *p);

void sim_proc_meminfo(struct strbuf *sb, const struct sim *s);
void sim_proc_vmstat(struct strbuf *sb, const struct sim *s);
void sim_proc_zoneinfo(struct strbuf *sb, const struct sim *s);
/* mm/swapfile.c swap_show; the model's one swap area (none: the header only). */
void sim_proc_swaps(struct strbuf *sb, const struct sim *s);

/* mm/page-writeback.c global_dirty_limits as a task that is not real-time reads them
 * (nr_dirty_threshold, nr_dirty_background_threshold), from the node's free pages,
 * totalreserve_pages, file LRU pages and highmem's dirtyable pages (free above its high
 * watermark + its file LRU; 0 without highmem). Default ratios 20 and 10 percent. */
void global_dirty_limits(uint64_t free, uint64_t totalreserve, uint64_t file_lru, uint64_t highmem,
			 uint64_t *bg, uint64_t *thresh);

/* /proc/PID/status (fs/proc/array.c + task_mmu.c task_mem, the lines the model knows),
 * /proc/PID/oom_score (fs/proc/base.c proc_oom_score), /proc/PID/oom_score_adj.
 * -1 when pid is not a task of the simulator (never seen, or freed). */
int sim_proc_pid_status(struct strbuf *sb, struct sim *s, uint32_t pid);
int sim_proc_pid_oom_score(struct strbuf *sb, struct sim *s, uint32_t pid);
int sim_proc_pid_oom_score_adj(struct strbuf *sb, struct sim *s, uint32_t pid);

/* proc_oom_score's figure: (1000 + badness * 1000 / totalpages) * 2 / 3, 0 when skipped. */
uint64_t sim_oom_score(struct sim *s, uint32_t pid);

#endif
