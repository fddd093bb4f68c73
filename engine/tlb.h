/* TLB flush accounting (arch/x86/mm/tlb.c). Every flush the modeled kernel would do is
 * counted twice: by the cause in the model that triggered it, and by the kernel's own
 * CONFIG_DEBUG_TLBFLUSH vmstat counters (nr_tlb_*), which depend on which CPUs are asked. */
#ifndef MM_TLB_H
#define MM_TLB_H

#include <stdint.h>

enum tlb_cause {
	TLB_FORK,          /* dup_mmap's flush_tlb_mm(oldmm) after write-protecting */
	TLB_COW,           /* wp_page_copy: ptep_clear_flush of the old pte */
	TLB_MUNMAP,        /* unmap_region: tlb_finish_mmu over the range */
	TLB_MPROTECT,      /* change_protection: flush_tlb_range */
	TLB_MREMAP,        /* move_page_tables: flush_tlb_range of the old range */
	TLB_EXEC_EXIT,     /* exit_mmap: fullmm teardown */
	TLB_KMAP_WRAP,     /* flush_all_zero_pkmaps when the pkmap slots wrap */
	TLB_KMAP_ATOMIC,   /* kunmap_local of a highmem fixmap slot */
	TLB_RECLAIM,       /* try_to_unmap batched flush (shrink_folio_list) */
	TLB_VMALLOC_PURGE, /* __purge_vmap_area_lazy */
	NR_TLB_CAUSES
};

extern const char *const tlb_cause_names[NR_TLB_CAUSES];

/* arch/x86/mm/tlb.c tlb_single_page_flush_ceiling: a range of more pages is a full flush. */
#define TLB_SINGLE_PAGE_FLUSH_CEILING 33

struct tlb_stats {
	uint64_t flushes[NR_TLB_CAUSES]; /* flush operations initiated */
	uint64_t pages[NR_TLB_CAUSES];   /* pages invalidated (a full flush counts its range) */
	uint64_t full[NR_TLB_CAUSES];    /* of which full flushes */
	uint64_t ipis[NR_TLB_CAUSES];    /* CPUs other than the initiator interrupted */
	uint64_t local[NR_TLB_CAUSES];   /* user flushes run on the initiator (tlb_flush
					  * reasons TLB_LOCAL_SHOOTDOWN / _MM_SHOOTDOWN) */
};

/* A set of CPUs (up to 64): bit n = CPU n. For a user mm it approximates mm_cpumask: the
 * CPUs any of its tasks ran on (x86 leaves a CPU in the mask after switching away). */
typedef uint64_t cpumask_t;

/* flush_tlb_mm_range(mm, start, end): user addresses of an mm loaded on `mask`, initiated
 * on `cpu`. end - start == 0 means the whole mm (flush_tlb_mm). */
void flush_tlb_mm_range(struct tlb_stats *t, uint64_t *vmstat, cpumask_t mask, unsigned cpu,
			uint64_t start, uint64_t end, enum tlb_cause cause);
/* flush_tlb_kernel_range on every online CPU. */
void flush_tlb_kernel_range(struct tlb_stats *t, uint64_t *vmstat, unsigned nr_cpus,
			    uint64_t start, uint64_t end, enum tlb_cause cause);
/* flush_tlb_one_kernel: one invlpg on the local CPU only. */
void flush_tlb_one_kernel(struct tlb_stats *t, uint64_t *vmstat, enum tlb_cause cause);
/* n of them in a row (the counts of n flush_tlb_one_kernel calls). */
void flush_tlb_one_kernel_n(struct tlb_stats *t, uint64_t *vmstat, enum tlb_cause cause,
			    uint64_t n);

uint64_t tlb_total_flushes(const struct tlb_stats *t);

#endif
