/* Boot log of the simulated machine, line formats from the kernel's printk calls (each
 * named below); mmreplay's own lines start with '#'. */
#include "boot_report.h"

#include <inttypes.h>
#include <string.h>

#include "e820.h"
#include "layout_32.h"

#define PAGE_SZ ((uint64_t)4096)
#define SECTION_PAGES_64 ((uint64_t)1 << 15)
#define PHYSICAL_START 0x1000000ull

static bool is_32(const struct machine *m)
{
	return m->cfg.arch != ARCH_X86_64;
}

static bool zone_exists(const struct machine *m, int z)
{
	if (z == ZONE_DMA32)
		return !is_32(m);
	if (z == ZONE_HIGHMEM)
		return is_32(m) && m->cfg.kernel.highmem;
	return true;
}

/* e820__print_table */
static void print_e820(FILE *f, const char *who, const struct e820_table *t)
{
	char line[128];
	for (int i = 0; i < t->nr_entries; i++) {
		e820_format_entry(line, sizeof(line), who, &t->entries[i]);
		fprintf(f, "%s\n", line);
	}
}

/* setup_arch: e820__memory_setup, parse_memopt, e820__finish_early_params,
 * trim_bios_range, e820__end_of_ram_pfn (and e820__end_of_low_ram_pfn on x86_64). */
static void print_memory_map(FILE *f, const struct machine *m)
{
	struct e820_table fw, user, fin;
	if (e820_setup_tables(&m->cfg, &fw, &user, &fin))
		return;
	fprintf(f, "BIOS-provided physical RAM map:\n");
	print_e820(f, "BIOS-e820", &fw);
	if (m->cfg.mem_limit) {
		/* e820__range_remove prints "%#010Lx"; the kernel's # always adds 0x */
		fprintf(f, "e820: remove [mem 0x%08" PRIx64 "-0x%08" PRIx64 "] usable\n",
			m->cfg.mem_limit, UINT64_MAX - 1);
		fprintf(f, "user-defined physical RAM map:\n");
		print_e820(f, "user", &user);
	}
	fprintf(f, "e820: update [mem 0x00000000-0x00000fff] usable ==> reserved\n");
	fprintf(f, "e820: remove [mem 0x000a0000-0x000fffff] usable\n");
	fprintf(f, "last_pfn = %#" PRIx64 " max_arch_pfn = %#" PRIx64 "\n", m->boot.e820_last_pfn,
		m->boot.max_arch_pfn);
	if (m->boot.low_last_pfn)
		fprintf(f, "last_pfn = %#" PRIx64 " max_arch_pfn = %#" PRIx64 "\n",
			m->boot.low_last_pfn, m->boot.max_arch_pfn);
	if (m->boot.ram_dropped)
		fprintf(f, "# mmreplay: %" PRIu64 " MiB of RAM lie above what this kernel can address "
			   "and are not used\n",
			m->boot.ram_dropped >> 20);
}

/* arch/x86/mm/init_32.c initmem_init + setup_bootmem_allocator; pages_to_mb truncates */
static void print_lowmem(FILE *f, const struct machine *m)
{
	for (int i = 0; i < m->nr_warnings; i++)
		fprintf(f, "%s\n", m->warnings[i]);
	if (m->cfg.kernel.highmem)
		fprintf(f, "%" PRIu64 "MB HIGHMEM available.\n",
			(uint64_t)(m->max_pfn - m->max_low_pfn) >> 8);
	fprintf(f, "%" PRIu64 "MB LOWMEM available.\n", (uint64_t)m->max_low_pfn >> 8);
	fprintf(f, "  mapped low ram: 0 - %08" PRIx64 "\n", m->boot.max_pfn_mapped << 12);
	fprintf(f, "  low ram: 0 - %08" PRIx64 "\n", (uint64_t)m->max_low_pfn << 12);
}

static void print_mem_range(FILE *f, uint64_t spfn, uint64_t epfn)
{
	fprintf(f, "[mem 0x%016" PRIx64 "-0x%016" PRIx64 "]\n", spfn << 12, (epfn << 12) - 1);
}

/* 6.1 FLATMEM pfn_valid: below max_mapnr; SPARSEMEM: the section holds RAM. */
static bool pfn_valid(const struct machine *m, uint64_t pfn)
{
	if (is_32(m))
		return pfn < (m->cfg.kernel.highmem ? m->max_pfn : m->max_low_pfn);
	uint64_t s = pfn & ~(SECTION_PAGES_64 - 1), e = s + SECTION_PAGES_64;
	for (int i = 0; i < m->nr_e820; i++)
		if (m->e820[i].start >> 12 < e && m->e820[i].end >> 12 > s)
			return true;
	return false;
}

/* mm/page_alloc.c init_unavailable_range [6.1] */
static void unavailable(FILE *f, const struct machine *m, uint64_t spfn, uint64_t epfn, int z)
{
	uint64_t pb = 1ull << m->pageblock_order, cnt = 0;
	for (uint64_t pfn = spfn; pfn < epfn; pfn++) {
		if (!pfn_valid(m, pfn & ~(pb - 1))) {
			pfn = (pfn & ~(pb - 1)) + pb - 1;
			continue;
		}
		cnt++;
	}
	if (cnt)
		fprintf(f, "On node 0, zone %s: %" PRIu64 " pages in unavailable ranges\n",
			zone_names[z], cnt);
}

/* mm/page_alloc.c memmap_init [6.1]: holes before each range, per populated zone, and
 * (SPARSEMEM) the tail up to the section end, charged to the last populated zone. */
static void print_unavailable(FILE *f, const struct machine *m)
{
	uint64_t hole = 0, end = 0;
	int zone_id = 0;
	for (int i = 0; i < m->nr_e820; i++) {
		uint64_t rs = m->e820[i].start >> 12, re = m->e820[i].end >> 12;
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			const struct zone_span *zs = &m->zones[z];
			if (!zs->present)
				continue;
			uint64_t s = rs > zs->start_pfn ? rs : zs->start_pfn;
			uint64_t e = re < zs->end_pfn ? re : zs->end_pfn;
			if (s < e) {
				if (hole < s)
					unavailable(f, m, hole, s, z);
				hole = re;
			}
			zone_id = z;
		}
		end = re;
	}
	if (!is_32(m))
		end = (end + SECTION_PAGES_64 - 1) & ~(SECTION_PAGES_64 - 1);
	if (hole < end)
		unavailable(f, m, hole, end, zone_id);
}

/* mm/page_alloc.c free_area_init [6.1] */
static void print_zones(FILE *f, const struct machine *m)
{
	fprintf(f, "Zone ranges:\n");
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		if (!zone_exists(m, z))
			continue;
		fprintf(f, "  %-8s ", zone_names[z]);
		if (m->zones[z].start_pfn == m->zones[z].end_pfn)
			fprintf(f, "empty\n");
		else
			print_mem_range(f, m->zones[z].start_pfn, m->zones[z].end_pfn);
	}
	fprintf(f, "Movable zone start for each node\n");
	fprintf(f, "Early memory node ranges\n");
	for (int i = 0; i < m->nr_e820; i++) {
		fprintf(f, "  node %3d: ", 0);
		print_mem_range(f, m->e820[i].start >> 12, m->e820[i].end >> 12);
	}
	fprintf(f, "Initmem setup node 0 ");
	print_mem_range(f, m->e820[0].start >> 12, m->e820[m->nr_e820 - 1].end >> 12);
	/* free_area_init_core: pr_debug in 6.1 (shown with dyndbg or loglevel=8 on DEBUG builds) */
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		const struct zone_span *zs = &m->zones[z];
		if (!zone_exists(m, z) || z == ZONE_HIGHMEM || !zs->memmap_pages)
			continue;
		fprintf(f, "  %s zone: %" PRIu64 " pages used for memmap\n", zone_names[z],
			zs->memmap_pages);
		if (z == ZONE_DMA && m->boot.dma_reserve)
			fprintf(f, "  %s zone: %" PRIu64 " pages reserved\n", zone_names[z],
				m->boot.dma_reserve);
	}
	print_unavailable(f, m);
}

static unsigned ilog2_u64(uint64_t v)
{
	unsigned l = 0;
	while (v >>= 1)
		l++;
	return l;
}

/* start_kernel: build_all_zonelists, vfs_caches_init_early, mem_init */
static void print_mem_init(FILE *f, const struct machine *m)
{
	const struct kernel_build *k = &m->cfg.kernel;
	fprintf(f, "Built 1 zonelists, mobility grouping %s.  Total pages: %" PRIu64 "\n",
		m->boot.mobility_grouping ? "on" : "off", m->boot.vm_total_pages);
	if (m->boot.dhash_order) {
		fprintf(f, "Dentry cache hash table entries: %" PRIu64 " (order: %u, %" PRIu64
			   " bytes, linear)\n",
			(uint64_t)1 << m->boot.dhash_order, ilog2_u64(m->boot.dhash_bytes) - 12,
			m->boot.dhash_bytes);
		fprintf(f, "Inode-cache hash table entries: %" PRIu64 " (order: %u, %" PRIu64
			   " bytes, linear)\n",
			(uint64_t)1 << m->boot.ihash_order, ilog2_u64(m->boot.ihash_bytes) - 12,
			m->boot.ihash_bytes);
	}
	if (m->boot.swiotlb_bytes)
		fprintf(f, "software IO TLB: mapped [mem 0x%016" PRIx64 "-0x%016" PRIx64 "] (%" PRIu64
			   "MB)\n",
			m->boot.swiotlb_base, m->boot.swiotlb_base + m->boot.swiotlb_bytes,
			m->boot.swiotlb_bytes >> 20);
	const struct zone_span *hz = &m->zones[ZONE_HIGHMEM];
	/* arch/x86/mm/highmem_32.c set_highmem_pages_init: an empty zone was never
	 * initialised, its zone_start_pfn is still 0 */
	if (is_32(m) && k->highmem)
		fprintf(f, "Initializing HighMem for node 0 (%08" PRIx64 ":%08" PRIx64 ")\n",
			hz->spanned ? (uint64_t)hz->start_pfn : 0, hz->spanned ? (uint64_t)hz->end_pfn : 0);
	/* mm/page_alloc.c mem_init_print_info [6.1]; right after memblock_free_all every
	 * managed page is free */
	fprintf(f,
		"Memory: %" PRIu64 "K/%" PRIu64 "K available (%" PRIu64 "K kernel code, %" PRIu64
		"K rwdata, %" PRIu64 "K rodata, %" PRIu64 "K init, %" PRIu64 "K bss, %" PRIu64
		"K reserved, 0K cma-reserved",
		m->totalram_pages << 2, m->physpages << 2, k->text >> 10, k->rwdata >> 10,
		k->rodata >> 10, k->init >> 10, k->bss >> 10,
		(m->physpages - m->totalram_pages) << 2);
	if (is_32(m) && k->highmem)
		fprintf(f, ", %" PRIu64 "K highmem", m->zones[ZONE_HIGHMEM].managed << 2);
	fprintf(f, ")\n");
}

void boot_report_dmesg(FILE *f, const struct machine *m)
{
	print_memory_map(f, m);
	if (is_32(m))
		print_lowmem(f, m);
	print_zones(f, m);
	print_mem_init(f, m);
}

static int zone_of(const struct machine *m, uint64_t pfn)
{
	for (int z = 0; z < MAX_NR_ZONES; z++)
		if (pfn >= m->zones[z].start_pfn && pfn < m->zones[z].end_pfn)
			return z;
	return -1;
}

void boot_report_reserved(FILE *f, const struct machine *m)
{
	uint64_t ram_pages = 0;
	fprintf(f, "# memblock reservations held at memblock_free_all() (physical):\n");
	for (int i = 0; i < m->nr_reserved; i++) {
		const struct phys_range *r = &m->reserved[i];
		int z = zone_of(m, r->start >> 12);
		uint64_t present = 0;
		for (int j = 0; j < m->nr_e820; j++) {
			uint64_t s = r->start > m->e820[j].start ? r->start : m->e820[j].start;
			uint64_t e = r->end < m->e820[j].end ? r->end : m->e820[j].end;
			if (e > s)
				present += ((e + PAGE_SZ - 1) >> 12) - (s >> 12);
		}
		ram_pages += present;
		fprintf(f, "#   [mem 0x%09" PRIx64 "-0x%09" PRIx64 "] %8" PRIu64 "K  %-7s %s\n",
			r->start, r->end - 1, (r->end - r->start) >> 10, z >= 0 ? zone_names[z] : "-",
			r->what);
	}
	fprintf(f, "#   RAM pages these cover: %" PRIu64 " (%" PRIu64 "K); present - managed = %" PRIu64
		   " pages\n",
		ram_pages, ram_pages << 2, m->physpages - m->totalram_pages);
}

/* arch/x86/mm/init_32.c mem_init, 4.15-5.6: "virtual kernel memory layout:" */
void boot_report_layout(FILE *f, const struct machine *m)
{
	const struct kernel_layout *l = &m->layout;
	const struct kernel_build *k = &m->cfg.kernel;
	if (!is_32(m))
		return;
	uint64_t text = l->page_offset + PHYSICAL_START, etext = text + k->text;
	uint64_t edata = ((etext + k->rodata + PAGE_SZ - 1) & ~(PAGE_SZ - 1)) + k->rwdata;
	uint64_t init_begin = (edata + PAGE_SZ - 1) & ~(PAGE_SZ - 1), init_end = init_begin + k->init;
	uint64_t cea_end = l->cpu_entry_area_base + PAGE_SZ * layout_32_cpu_entry_area_pages(k);
	fprintf(f, "# Printed by i386 kernels 4.15-5.6 only (removed about 5.7; 6.1 does not print "
		   "it).\n# Addresses from this model of the %s build.\n",
		k->name);
	fprintf(f, "virtual kernel memory layout:\n");
	fprintf(f, "    fixmap  : 0x%08" PRIx64 " - 0x%08" PRIx64 "   (%4" PRIu64 " kB)\n",
		l->fixaddr_start, l->fixaddr_top, (l->fixaddr_top - l->fixaddr_start) >> 10);
	fprintf(f, "  cpu_entry : 0x%08" PRIx64 " - 0x%08" PRIx64 "   (%4" PRIu64 " kB)\n",
		l->cpu_entry_area_base, cea_end, (cea_end - l->cpu_entry_area_base) >> 10);
	if (k->highmem)
		fprintf(f, "    pkmap   : 0x%08" PRIx64 " - 0x%08" PRIx64 "   (%4" PRIu64 " kB)\n",
			l->pkmap_base, l->pkmap_base + l->last_pkmap * PAGE_SZ,
			(l->last_pkmap * PAGE_SZ) >> 10);
	fprintf(f, "    vmalloc : 0x%08" PRIx64 " - 0x%08" PRIx64 "   (%4" PRIu64 " MB)\n",
		l->vmalloc_start, l->vmalloc_end, (l->vmalloc_end - l->vmalloc_start) >> 20);
	fprintf(f, "    lowmem  : 0x%08" PRIx64 " - 0x%08" PRIx64 "   (%4" PRIu64 " MB)\n",
		l->page_offset, l->high_memory, (l->high_memory - l->page_offset) >> 20);
	fprintf(f, "      .init : 0x%08" PRIx64 " - 0x%08" PRIx64 "   (%4" PRIu64 " kB)\n",
		init_begin, init_end, (init_end - init_begin) >> 10);
	fprintf(f, "      .data : 0x%08" PRIx64 " - 0x%08" PRIx64 "   (%4" PRIu64 " kB)\n", etext,
		edata, (edata - etext) >> 10);
	fprintf(f, "      .text : 0x%08" PRIx64 " - 0x%08" PRIx64 "   (%4" PRIu64 " kB)\n", text,
		etext, (etext - text) >> 10);
}
