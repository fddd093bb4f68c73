#include <criterion/criterion.h>
#include <string.h>

#include "tlb.h"
#include "vmstat.h"

static uint64_t vm[NR_VM_STAT_ITEMS];
static struct tlb_stats t;

static void reset(void)
{
	memset(vm, 0, sizeof(vm));
	memset(&t, 0, sizeof(t));
}

Test(tlb, single_cpu_partial_flush_counts_pages_locally)
{
	reset();
	flush_tlb_mm_range(&t, vm, 0x1, 0, 0x1000, 0x1000 + 10 * 4096, TLB_MUNMAP);
	cr_assert_eq(vm[NR_TLB_LOCAL_FLUSH_ONE], 10);
	cr_assert_eq(vm[NR_TLB_LOCAL_FLUSH_ALL], 0);
	cr_assert_eq(vm[NR_TLB_REMOTE_FLUSH], 0);
	cr_assert_eq(t.flushes[TLB_MUNMAP], 1);
	cr_assert_eq(t.pages[TLB_MUNMAP], 10);
	cr_assert_eq(t.full[TLB_MUNMAP], 0);
}

Test(tlb, ceiling_is_33_pages)
{
	reset();
	flush_tlb_mm_range(&t, vm, 0x1, 0, 0, 33 * 4096, TLB_MPROTECT);
	cr_assert_eq(vm[NR_TLB_LOCAL_FLUSH_ONE], 33);
	flush_tlb_mm_range(&t, vm, 0x1, 0, 0, 34 * 4096, TLB_MPROTECT);
	cr_assert_eq(vm[NR_TLB_LOCAL_FLUSH_ALL], 1);
	cr_assert_eq(t.full[TLB_MPROTECT], 1);
}

Test(tlb, remote_cpus_get_ipis)
{
	reset();
	/* mm ran on CPUs 0, 1, 3; initiator is CPU 1; whole-mm flush (fork) */
	flush_tlb_mm_range(&t, vm, 0xb, 1, 0, 0, TLB_FORK);
	cr_assert_eq(vm[NR_TLB_REMOTE_FLUSH], 1);
	cr_assert_eq(vm[NR_TLB_REMOTE_FLUSH_RECEIVED], 2);
	cr_assert_eq(vm[NR_TLB_LOCAL_FLUSH_ALL], 1);
	cr_assert_eq(t.ipis[TLB_FORK], 2);
}

Test(tlb, mm_not_loaded_anywhere_flushes_nothing)
{
	reset();
	flush_tlb_mm_range(&t, vm, 0, 0, 0, 4096, TLB_COW);
	cr_assert_eq(tlb_total_flushes(&t), 0);
}

Test(tlb, kernel_range_flush_full_above_ceiling_on_every_cpu)
{
	reset();
	flush_tlb_kernel_range(&t, vm, 2, 0xf8000000, 0xf8000000 + 1024 * 4096, TLB_KMAP_WRAP);
	cr_assert_eq(vm[NR_TLB_REMOTE_FLUSH], 0);
	cr_assert_eq(vm[NR_TLB_REMOTE_FLUSH_RECEIVED], 2);
	flush_tlb_kernel_range(&t, vm, 2, 0xf8000000, 0xf8000000 + 4 * 4096, TLB_VMALLOC_PURGE);
	cr_assert_eq(vm[NR_TLB_LOCAL_FLUSH_ONE], 8);
	flush_tlb_one_kernel(&t, vm, TLB_KMAP_ATOMIC);
	cr_assert_eq(vm[NR_TLB_LOCAL_FLUSH_ONE], 9);
	cr_assert_eq(tlb_total_flushes(&t), 3);
}
