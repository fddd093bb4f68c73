#include "tlb.h"

#include "page.h"
#include "vmstat.h"

const char *const tlb_cause_names[NR_TLB_CAUSES] = {
	"fork", "cow", "munmap", "mprotect", "mremap", "exec_exit",
	"kmap_wrap", "kmap_atomic", "reclaim", "vmalloc_purge",
};

static unsigned popcount(cpumask_t m)
{
	return (unsigned)__builtin_popcountll(m);
}

/* flush_tlb_func on the initiating CPU: a full flush of a user mm counts
 * nr_tlb_local_flush_all, a partial one nr_tlb_local_flush_one per page. */
static void local_user_flush(uint64_t *vmstat, uint64_t pages, int full)
{
	if (full)
		vmstat[NR_TLB_LOCAL_FLUSH_ALL]++;
	else
		vmstat[NR_TLB_LOCAL_FLUSH_ONE] += pages;
}

/* native_flush_tlb_multi: one IPI round; each target runs flush_tlb_func. Out of line:
 * popcount is a libcall without -mpopcnt, and a call in flush_tlb_mm_range's body made it
 * save six registers on every flush (COW faults flush one CPU's mm, with no IPI). */
static __attribute__((noinline)) void remote_user_flush(struct tlb_stats *t, uint64_t *vmstat,
							cpumask_t others, enum tlb_cause cause)
{
	unsigned targets = popcount(others);
	vmstat[NR_TLB_REMOTE_FLUSH]++;
	vmstat[NR_TLB_REMOTE_FLUSH_RECEIVED] += targets;
	t->ipis[cause] += targets;
}

void flush_tlb_mm_range(struct tlb_stats *t, uint64_t *vmstat, cpumask_t mask, unsigned cpu,
			uint64_t start, uint64_t end, enum tlb_cause cause)
{
	cpumask_t self = 1ull << (cpu & 63);
	uint64_t pages = (end - start) >> PAGE_SHIFT;
	/* get_flush_tlb_info: more than the ceiling (or the whole mm) becomes a full flush */
	int full = end == start || pages > TLB_SINGLE_PAGE_FLUSH_CEILING;
	cpumask_t others = mask & ~self;
	if (!(mask & self) && !others)
		return; /* the mm is loaded nowhere: nothing to flush */
	t->flushes[cause]++;
	t->pages[cause] += pages;
	t->full[cause] += full;
	if (mask & self) {
		t->local[cause]++;
		local_user_flush(vmstat, pages, full);
	}
	if (others) /* last: a tail call, nothing live across it (the counters are apart) */
		remote_user_flush(t, vmstat, others, cause);
}

void flush_tlb_kernel_range(struct tlb_stats *t, uint64_t *vmstat, unsigned nr_cpus,
			    uint64_t start, uint64_t end, enum tlb_cause cause)
{
	uint64_t pages = (end - start) >> PAGE_SHIFT;
	t->flushes[cause]++;
	t->pages[cause] += pages;
	t->ipis[cause] += nr_cpus - 1;
	if (pages > TLB_SINGLE_PAGE_FLUSH_CEILING) {
		/* on_each_cpu(do_flush_tlb_all): do_flush_tlb_all counts a received flush on
		 * every CPU, the initiator too; nr_tlb_remote_flush is counted only by
		 * flush_tlb_all and native_flush_tlb_multi, which this path does not call */
		t->full[cause]++;
		vmstat[NR_TLB_REMOTE_FLUSH_RECEIVED] += nr_cpus;
	} else {
		/* on_each_cpu(do_kernel_range_flush): flush_tlb_one_kernel per page per CPU */
		vmstat[NR_TLB_LOCAL_FLUSH_ONE] += pages * nr_cpus;
	}
}

void flush_tlb_one_kernel(struct tlb_stats *t, uint64_t *vmstat, enum tlb_cause cause)
{
	t->flushes[cause]++;
	t->pages[cause]++;
	vmstat[NR_TLB_LOCAL_FLUSH_ONE]++;
}

void flush_tlb_one_kernel_n(struct tlb_stats *t, uint64_t *vmstat, enum tlb_cause cause,
			    uint64_t n)
{
	t->flushes[cause] += n;
	t->pages[cause] += n;
	vmstat[NR_TLB_LOCAL_FLUSH_ONE] += n;
}

uint64_t tlb_total_flushes(const struct tlb_stats *t)
{
	uint64_t n = 0;
	for (int c = 0; c < NR_TLB_CAUSES; c++)
		n += t->flushes[c];
	return n;
}
