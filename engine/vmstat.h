/* Counters of the simulated machine (mm/vmstat.c): one flat array of uint64_t indexed by
 * enum vm_stat_item, names from vmstat_items.h. Gauges such as nr_free_pages are read from
 * the zones when rendered, not kept here. */
#ifndef MM_VMSTAT_H
#define MM_VMSTAT_H

#include <stdint.h>

enum vm_stat_item {
#define X(item, name) item,
#include "vmstat_items.h"
#undef X
	NR_VM_STAT_ITEMS
};

extern const char *const vm_stat_names[NR_VM_STAT_ITEMS];

static inline void count_vm_event(uint64_t *vmstat, enum vm_stat_item item)
{
	vmstat[item]++;
}

static inline void count_vm_events(uint64_t *vmstat, enum vm_stat_item item, uint64_t n)
{
	vmstat[item] += n;
}

#endif
