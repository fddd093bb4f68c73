/* Hand-built machines for the page allocator tests: no dependency on machine_setup. */
#ifndef TESTLIB_MACHINE_H
#define TESTLIB_MACHINE_H

#include <stdbool.h>

#include "machine.h"
#include "page_alloc.h"

/* A machine whose RAM is [start_pfn, end_pfn) with the given zone boundaries
 * (zone_end[z] = end pfn of zone z, 0 for an absent zone; zones are consecutive). */
void test_machine(struct machine *m, enum arch arch, pfn_t start_pfn,
		  const pfn_t zone_end[MAX_NR_ZONES], unsigned pageblock_order);
/* Add a memblock reservation [start_pfn, end_pfn) (kept sorted, merged by the caller). */
void test_machine_reserve(struct machine *m, pfn_t start_pfn, pfn_t end_pfn);

/* Do the per-CPU pages of nr_cpus CPUs hold the same counters and the same blocks in the
 * same order on every list? (Their rings may sit at different offsets.) */
bool test_pcp_equal(const struct per_cpu_pages *a, const struct per_cpu_pages *b,
		    unsigned nr_cpus);

#endif
