/* What `mmreplay boot` prints: the simulated machine's boot log in the kernel's own
 * formats, the reserved-memory breakdown, the pre-5.7 i386 layout block and a free(1)
 * view. */
#ifndef MM_BOOT_REPORT_H
#define MM_BOOT_REPORT_H

#include <stdio.h>

#include "machine.h"

/* The memory lines of dmesg, from "BIOS-provided physical RAM map:" to "Memory: …". */
void boot_report_dmesg(FILE *f, const struct machine *m);
/* Each memblock reservation still held when the buddy allocator takes over. */
void boot_report_reserved(FILE *f, const struct machine *m);
/* i386 only: the "virtual kernel memory layout:" block as kernels up to 5.6 printed it. */
void boot_report_layout(FILE *f, const struct machine *m);

#endif
