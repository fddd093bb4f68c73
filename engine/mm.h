/* Tasks and address spaces: task table, mm_struct, VMAs, the page cache, faults,
 * fork/COW, exec, exit (kernel/fork.c, mm/mmap.c, mm/memory.c, mm/filemap.c modeled).
 * Handlers take the whole simulator: a fault touches the buddy allocator, page tables,
 * highmem, TLB accounting and counters at once, as in the kernel. */
#ifndef MM_MM_H
#define MM_MM_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "pgtable.h"
#include "tlb.h"
#include "u64map.h"

struct sim;

/* vm_flags (include/linux/mm.h) */
#define VM_READ 0x1u
#define VM_WRITE 0x2u
#define VM_EXEC 0x4u
#define VM_SHARED 0x8u
#define VM_MAYWRITE 0x20u
#define VM_GROWSDOWN 0x100u
#define VM_ACCOUNT 0x100000u
#define VM_NORESERVE 0x200000u
#define VM_IMPLICIT 0x80000000u /* mmreplay: created for a real trace's unrecorded mapping */

struct vm_area_struct {
	uint64_t vm_start, vm_end; /* [start, end), page aligned */
	uint64_t vm_pgoff;         /* file offset of vm_start, in pages */
	uint32_t vm_flags;
	uint32_t file;             /* string id of the file, 0 = anonymous */
};

/* include/linux/mm_types_task.h rss counters */
enum { MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES, NR_MM_COUNTERS };

struct mm_struct {
	struct pgd pgd;
	struct vm_area_struct *vma; /* sorted by vm_start, non-overlapping */
	uint32_t nr_vma, cap_vma;
	uint32_t vma_hint;          /* index of the VMA the last fault hit (checked before use) */
	uint32_t users;             /* tasks sharing this mm (threads) */
	uint32_t anon;              /* anon family id (rmap root), see docs/MM.md */
	uint64_t rss[NR_MM_COUNTERS];
	uint64_t total_vm;          /* pages mapped */
	uint64_t committed;         /* pages charged to vm_committed_as (VM_ACCOUNT) */
	uint64_t start_brk, brk;
	uint64_t mmap_base;
	cpumask_t cpumask;          /* CPUs its tasks ran on (mm_cpumask, approximated) */
	struct mm_struct *next;     /* all mms (live and free), for teardown */
	struct mm_struct *next_free; /* free list */
	struct mm_struct *anon_next; /* the next mm of the same anon family (rmap) */
	bool live;
};

enum task_state { TASK_FREE, TASK_RUNNING, TASK_DEAD };

struct task_struct {
	uint32_t pid;
	uint32_t comm;              /* string id */
	struct mm_struct *mm;       /* NULL: none yet (kernel thread or implicit) */
	int32_t oom_score_adj;
	uint8_t state;
	uint8_t killed;             /* by SIGSEGV or the OOM killer: later events dropped */
	uint8_t implicit;           /* first seen without a fork */
	cpumask_t cpus;
};

/* Page cache: (file id << 32 | page index) -> pfn. */
struct page_cache {
	struct u64map map;
};

/* The pkmap window of highmem kernels (mm/highmem.c). */
#define LAST_PKMAP_MAX 1024
/* page_address_htable: which slot maps a pfn. The kernel hashes into 128 chains
 * (PA_HASH_ORDER); more chains here only make the lookup shorter, not different. */
#define PA_HASH_SIZE 2048
#define PKMAP_NONE 0xffffu
struct pkmap {
	unsigned last_pkmap;        /* LAST_PKMAP: 1024 non-PAE, 512 PAE, 0 = no highmem */
	unsigned last_pkmap_nr;
	uint16_t count[LAST_PKMAP_MAX];
	pfn_t page[LAST_PKMAP_MAX];
	uint16_t pa_head[PA_HASH_SIZE];	  /* first slot of each chain, PKMAP_NONE = empty */
	uint16_t pa_next[LAST_PKMAP_MAX]; /* next slot in the chain */
	uint64_t pkmap_base;
};

struct mm_world {
	struct pgtable_ctx pt;
	struct tlb_stats tlb;
	struct pkmap pkmap;
	struct page_cache cache;
	struct u64map anon_families; /* anon id -> first mm of the family */
	struct task_struct *tasks;  /* open addressing by pid */
	/* a slot of tasks (never NULL): the last task event_mm found. A hit is checked by the
	 * slot's pid, which stays right as slots shift, since a pid is in at most one slot */
	struct task_struct *last_task;
	uint32_t task_mask, nr_tasks;
	struct mm_struct *all_mms, *free_mms;
	uint32_t live_mms;
	uint32_t next_anon;
	uint32_t next_shmem;        /* pseudo file ids of shared anonymous mappings */
	struct u64map shmem_acct;   /* shmem file id -> pages charged for it (shmem_acct_size) */
	pfn_t zero_pfn;             /* empty_zero_page: reserved, never freed */
	bool implicit_regions;      /* real traces: a fault outside every VMA creates one */
	uint64_t nr_file_pages, nr_anon_pages, nr_mapped;
};

int mm_world_init(struct sim *s);
void mm_world_destroy(struct sim *s);

/* Event handlers (sim_apply dispatches to them). */
void mm_fork(struct sim *s, const struct mm_event *ev);
void mm_exec(struct sim *s, const struct mm_event *ev);
void mm_exit(struct sim *s, const struct mm_event *ev);
void mm_mmap(struct sim *s, const struct mm_event *ev);
void mm_munmap(struct sim *s, const struct mm_event *ev);
void mm_mprotect(struct sim *s, const struct mm_event *ev);
void mm_mremap(struct sim *s, const struct mm_event *ev);
void mm_brk(struct sim *s, const struct mm_event *ev);
void mm_fault(struct sim *s, const struct mm_event *ev);
void mm_touch(struct sim *s, const struct mm_event *ev);
void mm_set_oom_score_adj(struct sim *s, const struct mm_event *ev);
void mm_comm(struct sim *s, const struct mm_event *ev);

/* The live task for pid, creating an implicit one (counted) if unknown; NULL when the
 * task was killed (the event is dropped and counted) or host memory ran out. */
struct task_struct *task_for_event(struct sim *s, const struct mm_event *ev);
struct task_struct *find_task(struct sim *s, uint32_t pid);
/* The task's mm, creating an empty one for a task first seen mid-life. */
struct mm_struct *task_mm(struct sim *s, struct task_struct *t, unsigned cpu);

/* Kill a task as SIGSEGV or the OOM killer would: its mm goes when the last user goes. */
void task_kill(struct sim *s, struct task_struct *t);

/* VMA lookup: the VMA containing addr, or NULL. O(log n). */
struct vm_area_struct *find_vma(const struct mm_struct *mm, uint64_t addr);

/* Prefetch the pte the fault of an upcoming event will read. A hint; changes nothing. */
void mm_prefetch(struct sim *s, const struct mm_event *ev);

/* Teardown helpers shared with reclaim and the OOM killer. */
void exit_mmap(struct sim *s, struct mm_struct *mm, unsigned cpu);

/* highmem (mm/highmem.c); kmap_local_use is inline in mm_internal.h (every fault). */
/* kmap/kunmap through the pkmap window (flush_all_zero_pkmaps on wrap). */
int kmap_high(struct sim *s, pfn_t pfn);
void kunmap_high(struct sim *s, pfn_t pfn);
bool pfn_is_highmem(const struct sim *s, pfn_t pfn);

/* Page cache of the model's files (filemap.c). */
int page_cache_init(struct page_cache *c);
void page_cache_destroy(struct page_cache *c);
pfn_t page_cache_lookup(const struct page_cache *c, uint32_t file, uint64_t pgoff);
/* For prefetching a run of consecutive offsets: start loading the home line of
 * (file, pgoff)'s group of four offsets; page_cache_peek_group: the pages of that group in
 * out, how many: all four in offset order when the group lies whole in one line of its
 * probe run (touch_file_run takes that as four lookups), else those at their home slots
 * (a page further along its probe run is not seen). Both change nothing. */
void page_cache_prefetch_group(const struct page_cache *c, uint32_t file, uint64_t pgoff);
unsigned page_cache_peek_group(const struct page_cache *c, uint32_t file, uint64_t pgoff,
			       pfn_t out[4]);
int page_cache_insert(struct page_cache *c, uint32_t file, uint64_t pgoff, pfn_t pfn);
bool page_cache_delete(struct page_cache *c, uint32_t file, uint64_t pgoff);
/* Every cached page of file by index (malloc'd, *nr of them; NULL when none or the host is
 * out of memory). */
struct file_page {
	uint32_t index;
	pfn_t pfn;
};
struct file_page *page_cache_file_pages(const struct page_cache *c, uint32_t file, uint64_t *nr);

#endif
