/* i386 kernel virtual layout, top down from FIXADDR_TOP (pgtable_32_areas.h). */
#include "layout_32.h"

#define PAGE 4096ull
#define FIXADDR_TOP 0xfffff000ull        /* arch/x86/mm/pgtable_32.c __FIXADDR_TOP */
#define VMALLOC_OFFSET (8ull << 20)      /* pgtable_32_areas.h */
#define KM_MAX_IDX 16                    /* asm/kmap_size.h, !DEBUG_KMAP_LOCAL */
#define NR_FIX_BTMAPS 64                 /* asm/fixmap.h */
#define FIX_BTMAPS_SLOTS 8
#define TOTAL_FIX_BTMAPS (NR_FIX_BTMAPS * FIX_BTMAPS_SLOTS)
/* pgtable_32_areas.h CPU_ENTRY_AREA_PAGES: an upper bound of 43 pages per CPU
 * (GDT, entry stack + guard, TSS with the I/O bitmap, doublefault stack + guard,
 * debug store and its BTS/PEBS buffers). */
#define CEA_PAGES_PER_CPU 43

/* enum fixed_addresses (asm/fixmap.h) up to __end_of_permanent_fixed_addresses, for the
 * Debian 686 configs: FIX_HOLE, FIX_DBGP_BASE, FIX_EARLYCON_MEM_BASE,
 * FIX_OHCI1394_BASE (PROVIDE_OHCI1394_DMA_INIT), FIX_APIC_BASE, 64 FIX_IO_APIC_BASE_*
 * (MAX_IO_APICS on 32-bit), KM_MAX_IDX kmap_local slots per possible CPU, FIX_PCIE_MCFG,
 * FIX_APEI_GHES_IRQ/NMI. */
uint64_t layout_32_fixmap_permanent_pages(const struct kernel_build *k)
{
	return 5 + 64 + (uint64_t)KM_MAX_IDX * k->nr_cpus_config + 1 + 2;
}

uint64_t layout_32_cpu_entry_area_pages(const struct kernel_build *k)
{
	return (uint64_t)CEA_PAGES_PER_CPU * k->nr_cpus_config + 1; /* +1: read-only IDT */
}

/* __end_of_fixed_addresses: the 512 early_ioremap slots follow the permanent ones, moved up
 * to a 512-slot boundary when they would straddle a page table (FIX_BTMAP_END), then
 * FIX_TBOOT_BASE (INTEL_TXT). */
static uint64_t fixmap_total_pages(const struct kernel_build *k, bool pae)
{
	uint64_t perm = layout_32_fixmap_permanent_pages(k);
	uint64_t ptrs_per_pte = pae ? 512 : 1024;
	uint64_t btmap_end = perm;
	if ((perm ^ (perm + TOTAL_FIX_BTMAPS - 1)) & ~(ptrs_per_pte - 1))
		btmap_end = perm + TOTAL_FIX_BTMAPS - (perm & (TOTAL_FIX_BTMAPS - 1));
	uint64_t btmap_begin = btmap_end + TOTAL_FIX_BTMAPS - 1;
	return btmap_begin + 1 + 1;
}

void layout_32_fixed(struct kernel_layout *l, const struct kernel_build *k, bool pae)
{
	uint64_t pmd_mask = ~((pae ? 2ull << 20 : 4ull << 20) - 1);
	uint64_t tot_start = FIXADDR_TOP - fixmap_total_pages(k, pae) * PAGE;
	*l = (struct kernel_layout){0};
	l->page_offset = k->page_offset;
	l->fixaddr_top = FIXADDR_TOP;
	l->fixaddr_start = FIXADDR_TOP - layout_32_fixmap_permanent_pages(k) * PAGE;
	l->cpu_entry_area_base = (tot_start - PAGE * layout_32_cpu_entry_area_pages(k)) & pmd_mask;
	l->ldt_base = (l->cpu_entry_area_base - PAGE) & pmd_mask;
	if (k->highmem) {
		l->pkmap_base = (l->ldt_base - PAGE) & pmd_mask;
		l->last_pkmap = pae ? 512 : 1024; /* asm/highmem.h LAST_PKMAP: one PTE page */
		l->vmalloc_end = l->pkmap_base - 2 * PAGE;
	} else {
		l->vmalloc_end = l->ldt_base - 2 * PAGE;
	}
}

uint64_t layout_32_maxmem(const struct kernel_layout *l, const struct kernel_build *k)
{
	return l->vmalloc_end - k->page_offset - k->vmalloc_reserve;
}

void layout_32_set_lowmem(struct kernel_layout *l, uint64_t max_low_pfn)
{
	l->high_memory = l->page_offset + max_low_pfn * PAGE;
	l->vmalloc_start = l->high_memory + VMALLOC_OFFSET;
}
