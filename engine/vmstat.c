#include "vmstat.h"

const char *const vm_stat_names[NR_VM_STAT_ITEMS] = {
#define X(item, name) name,
#include "vmstat_items.h"
#undef X
};
