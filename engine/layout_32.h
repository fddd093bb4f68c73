/* The i386 kernel's virtual address layout (arch/x86/include/asm/pgtable_32_areas.h,
 * asm/fixmap.h, asm/highmem.h): fixmap and cpu_entry_area below 4 GiB, the LDT and pkmap
 * PMDs, vmalloc, MAXMEM. */
#ifndef MM_LAYOUT_32_H
#define MM_LAYOUT_32_H

#include <stdbool.h>
#include <stdint.h>

#include "machine.h"

/* Everything that does not depend on how much RAM there is: fixmap, cpu_entry_area, LDT,
 * pkmap, VMALLOC_END. high_memory and vmalloc_start are left 0. */
void layout_32_fixed(struct kernel_layout *l, const struct kernel_build *k, bool pae);
/* MAXMEM = VMALLOC_END - PAGE_OFFSET - __VMALLOC_RESERVE: the most RAM the direct map takes. */
uint64_t layout_32_maxmem(const struct kernel_layout *l, const struct kernel_build *k);
/* high_memory and VMALLOC_START once max_low_pfn is known. */
void layout_32_set_lowmem(struct kernel_layout *l, uint64_t max_low_pfn);
/* Pages of the permanent fixmap (FIXADDR_SIZE) and of cpu_entry_area incl. the IDT page. */
uint64_t layout_32_fixmap_permanent_pages(const struct kernel_build *k);
uint64_t layout_32_cpu_entry_area_pages(const struct kernel_build *k);

#endif
