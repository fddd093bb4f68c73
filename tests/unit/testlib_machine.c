#include "testlib_machine.h"

#include <string.h>

void test_machine(struct machine *m, enum arch arch, pfn_t start_pfn,
		  const pfn_t zone_end[MAX_NR_ZONES], unsigned pageblock_order)
{
	memset(m, 0, sizeof(*m));
	machine_config_default(&m->cfg, arch);
	m->pageblock_order = pageblock_order;
	pfn_t lo = start_pfn;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		if (!zone_end[z])
			continue;
		m->zones[z].start_pfn = lo;
		m->zones[z].end_pfn = zone_end[z];
		m->zones[z].spanned = zone_end[z] - lo;
		m->zones[z].present = zone_end[z] - lo;
		m->zones[z].managed = zone_end[z] - lo;
		lo = zone_end[z];
	}
	m->max_pfn = m->max_low_pfn = lo;
	m->e820[0] = (struct phys_range){(uint64_t)start_pfn << PAGE_SHIFT,
					 (uint64_t)lo << PAGE_SHIFT, "usable"};
	m->nr_e820 = 1;
}

void test_machine_reserve(struct machine *m, pfn_t start_pfn, pfn_t end_pfn)
{
	m->reserved[m->nr_reserved++] = (struct phys_range){
	    (uint64_t)start_pfn << PAGE_SHIFT, (uint64_t)end_pfn << PAGE_SHIFT, "test"};
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone_span *s = &m->zones[z];
		pfn_t a = start_pfn > s->start_pfn ? start_pfn : s->start_pfn;
		pfn_t b = end_pfn < s->end_pfn ? end_pfn : s->end_pfn;
		if (a < b)
			s->managed -= b - a;
	}
}

/* The machine branch owns the real definition (engine/machine.c); this weak one lets the
 * allocator tests link without it and gives way to it when both are linked. Same contract:
 * a whole page of e820 RAM below max_pfn and not memblock-reserved. */
__attribute__((weak)) bool machine_pfn_free_at_boot(const struct machine *m, pfn_t pfn)
{
	uint64_t a = (uint64_t)pfn << PAGE_SHIFT, b = a + PAGE_SIZE;
	if (pfn >= m->max_pfn)
		return false;
	bool ram = false;
	for (int i = 0; i < m->nr_e820; i++)
		ram |= m->e820[i].start <= a && b <= m->e820[i].end;
	if (!ram)
		return false;
	for (int i = 0; i < m->nr_reserved; i++)
		if (m->reserved[i].start < b && a < m->reserved[i].end)
			return false;
	return true;
}

bool test_pcp_equal(const struct per_cpu_pages *a, const struct per_cpu_pages *b, unsigned nr_cpus)
{
	for (unsigned c = 0; c < nr_cpus; c++) {
		if (a[c].count != b[c].count || a[c].high != b[c].high ||
		    a[c].batch != b[c].batch || a[c].free_factor != b[c].free_factor)
			return false;
		for (int l = 0; l < NR_PCP_LISTS; l++) {
			const struct pcp_list *la = &a[c].lists[l], *lb = &b[c].lists[l];
			if (pcp_list_count(la) != pcp_list_count(lb))
				return false;
			for (uint32_t i = 0; i < pcp_list_count(la); i++)
				if (pcp_list_nth(la, i) != pcp_list_nth(lb, i))
					return false;
		}
	}
	return true;
}
