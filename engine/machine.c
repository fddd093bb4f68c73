/* The simulated PC booting the modeled kernel: setup_arch() up to memblock_free_all(),
 * reduced to the arithmetic that decides max_pfn, max_low_pfn, the zones, what memblock
 * keeps reserved and so what the buddy allocator gets. Formulas and sources are in
 * docs/MACHINE.md; each constant names its kernel source here. */
#include "machine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e820.h"
#include "layout_32.h"
#include "memblock.h"

#define PAGE_SZ 4096ull
#define PFN_UP(x) (((x) + PAGE_SZ - 1) >> 12)
#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((uint64_t)(a)-1))
#define SZ_1M (1ull << 20)
#define SZ_4G (1ull << 32)
#define SIM_MAX_PHYS (256ull << 30) /* machine_config.c: 64 M frames */
#define PHYSICAL_START 0x1000000ull /* CONFIG_PHYSICAL_START (Debian: 16 MiB, nokaslr) */
#define MAX_DMA_PFN 4096ull	    /* asm/dma.h: 16 MiB */
#define MAX_DMA32_PFN (1ull << 20)  /* asm/dma.h: 4 GiB */
#define MAX_ORDER_NR_PAGES 1024ull  /* 6.1 MAX_ORDER 11 */
#define SMP_CACHE_BYTES 64ull
#define SECTION_PAGES_64 (1ull << 15) /* asm/sparsemem.h SECTION_SIZE_BITS 27 */
#define PMD_SIZE_64 (2ull << 20)
#define IO_TLB_DEFAULT_SIZE (64ull << 20) /* include/linux/swiotlb.h */
#define IO_TLB_SHIFT 11
/* MIGRATE_TYPES of the Debian builds: no CONFIG_CMA, MEMORY_ISOLATION (CONTIG_ALLOC=y), so
 * 4 + ISOLATE; grouping by mobility is off below pageblock_nr_pages * MIGRATE_TYPES pages
 * (build_all_zonelists). */
#define BUILD_MIGRATE_TYPES 5

enum setup_fail { SETUP_OK, SETUP_BAD, SETUP_TOO_SMALL };

struct setup {
	struct machine *m;
	const struct machine_config *cfg;
	struct memblock mb;
	struct e820_table firmware, user, e820;
	bool pae, x86_64;
	char *err;
	size_t errlen;
};

static enum setup_fail fail(struct setup *s, enum setup_fail kind, const char *fmt, uint64_t a,
			    uint64_t b)
{
	snprintf(s->err, s->errlen, fmt, a, b);
	return kind;
}

static void warn(struct machine *m, const char *fmt, uint64_t a, uint64_t b)
{
	if (m->nr_warnings < (int)(sizeof(m->warnings) / sizeof(m->warnings[0])))
		snprintf(m->warnings[m->nr_warnings++], sizeof(m->warnings[0]), fmt, a, b);
}

/* MAX_ARCH_PFN: asm/pgtable_32_types.h (1 << (32 - PAGE_SHIFT) non-PAE; PAE
 * MAX_PHYSMEM_BITS 36), asm/pgtable_64_types.h (MAXMEM 2^46 with 4-level paging). */
static uint64_t max_arch_pfn(enum arch a)
{
	return a == ARCH_I386 ? 1ull << 20 : a == ARCH_I386_PAE ? 1ull << 24 : 1ull << 34;
}

/* e820__memblock_setup: every RAM entry whose end fits phys_addr_t (32 bits without PAE),
 * trimmed to whole pages (memblock_trim_memory). */
static enum setup_fail memblock_from_e820(struct setup *s)
{
	for (int i = 0; i < s->e820.nr_entries; i++) {
		const struct e820_entry *e = &s->e820.entries[i];
		uint64_t start = ALIGN_UP(e->addr, PAGE_SZ),
			 end = (e->addr + e->size) & ~(PAGE_SZ - 1);
		if (e->type != E820_TYPE_RAM || end <= start)
			continue;
		if (s->m->cfg.arch == ARCH_I386 && e->addr + e->size > SZ_4G)
			continue;
		if (memblock_add(&s->mb, start, end - start))
			return fail(s, SETUP_BAD, "memory map has too many ranges", 0, 0);
	}
	return SETUP_OK;
}

/* arch/x86/mm/init_32.c find_low_pfn_range → lowmem_pfn_init / highmem_pfn_init (no
 * highmem= option). Warning texts are the kernel's. */
static void find_low_pfn_range(struct machine *m, uint64_t maxmem_pfn)
{
	const struct kernel_build *k = &m->cfg.kernel;
	if (m->max_pfn <= maxmem_pfn) {
		m->max_low_pfn = m->max_pfn;
		return;
	}
	m->max_low_pfn = (pfn_t)maxmem_pfn;
	if (!k->highmem) {
		warn(m, "Warning only %" PRIu64 "MB will be used.", (maxmem_pfn << 12) >> 20, 0);
		warn(m,
		     m->max_pfn > (1u << 20) ? "Use a HIGHMEM64G enabled kernel."
					     : "Use a HIGHMEM enabled kernel.",
		     0, 0);
		m->max_pfn = (pfn_t)maxmem_pfn;
	} else if (m->cfg.arch == ARCH_I386 && m->max_pfn > (1u << 20)) {
		/* !CONFIG_HIGHMEM64G: MAX_NONPAE_PFN */
		m->max_pfn = 1u << 20;
		warn(m, "Warning: only 4GB will be used. Use a HIGHMEM64G enabled kernel!", 0, 0);
	}
}

static uint64_t image_bytes(const struct kernel_build *k)
{
	return ALIGN_UP(k->text + k->rodata + k->rwdata + k->init + k->bss + k->image_extra,
			PAGE_SZ);
}

/* Zone boundaries (arch/x86/mm/init.c zone_sizes_init) and the lowest/highest possible
 * pfn of each zone as free_area_init derives them: zone i starts where zone i-1 ends. */
static void zone_limits(struct machine *m, pfn_t node_start, pfn_t node_end)
{
	uint64_t max_zone[MAX_NR_ZONES] = {0};
	bool x86_64 = m->cfg.arch == ARCH_X86_64;
	max_zone[ZONE_DMA] = m->max_low_pfn < MAX_DMA_PFN ? m->max_low_pfn : MAX_DMA_PFN;
	if (x86_64)
		max_zone[ZONE_DMA32] =
		    m->max_low_pfn < MAX_DMA32_PFN ? m->max_low_pfn : MAX_DMA32_PFN;
	max_zone[ZONE_NORMAL] = m->max_low_pfn;
	if (!x86_64 && m->cfg.kernel.highmem)
		max_zone[ZONE_HIGHMEM] = m->max_pfn;
	uint64_t lo = node_start;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		bool exists = z != ZONE_DMA32
				  ? (z != ZONE_HIGHMEM || (!x86_64 && m->cfg.kernel.highmem))
				  : x86_64;
		uint64_t hi = exists && max_zone[z] > lo ? max_zone[z] : lo;
		/* zone_spanned_pages_in_node: clamp to the node */
		uint64_t s = lo < node_start ? node_start : lo > node_end ? node_end : lo;
		uint64_t e = hi < node_start ? node_start : hi > node_end ? node_end : hi;
		m->zones[z].start_pfn = (pfn_t)s;
		m->zones[z].end_pfn = (pfn_t)(e > s ? e : s);
		lo = hi;
	}
}

/* mm/page_alloc.c calc_memmap_size [6.1]: spanned pages, or present pages on SPARSEMEM
 * when holes exceed 1/16 of the zone. */
static uint64_t calc_memmap_size(uint64_t spanned, uint64_t present, bool sparsemem, unsigned sps)
{
	uint64_t pages = spanned;
	if (sparsemem && spanned > present + (present >> 4))
		pages = present;
	return PFN_UP(pages * sps);
}

/* free_area_init_core [6.1]: the managed estimate each zone starts with (present minus
 * memmap for lowmem zones, minus dma_reserve for ZONE_DMA), nr_kernel_pages and
 * nr_all_pages for alloc_large_system_hash. */
static void free_area_init_core(struct machine *m)
{
	bool sparse = m->cfg.arch == ARCH_X86_64;
	uint64_t nr_kernel = 0, nr_all = 0;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone_span *zs = &m->zones[z];
		uint64_t freesize = zs->present;
		zs->memmap_pages = calc_memmap_size(zs->spanned, zs->present, sparse,
						    m->cfg.kernel.struct_page_size);
		if (z != ZONE_HIGHMEM && freesize >= zs->memmap_pages)
			freesize -= zs->memmap_pages;
		if (z == ZONE_DMA && freesize > m->boot.dma_reserve)
			freesize -= m->boot.dma_reserve;
		if (z != ZONE_HIGHMEM)
			nr_kernel += freesize;
		else if (nr_kernel > zs->memmap_pages * 2)
			nr_kernel -= zs->memmap_pages;
		nr_all += freesize;
	}
	m->boot.nr_kernel_pages = nr_kernel;
	m->boot.nr_all_pages = nr_all;
	/* build_all_zonelists runs before memblock_free_all, with no watermarks yet:
	 * nr_free_zone_pages() sums those estimates. */
	m->boot.vm_total_pages = nr_all;
	m->boot.mobility_grouping = nr_all >= (1ull << m->pageblock_order) * BUILD_MIGRATE_TYPES;
}

static unsigned ilog2_u64(uint64_t v)
{
	unsigned l = 0;
	while (v >>= 1)
		l++;
	return l;
}

/* mm/page_alloc.c alloc_large_system_hash with numentries 0: one bucket per 2^scale bytes
 * of nr_kernel_pages (rounded up to 1 MiB), a power of two, at most 1/16 of memory. */
static unsigned large_system_hash_order(const struct machine *m, unsigned scale, uint64_t bucket)
{
	uint64_t n = ALIGN_UP(m->boot.nr_kernel_pages, SZ_1M / PAGE_SZ);
	n >>= scale - 12;
	unsigned order = ilog2_u64(n);
	if (n > (1ull << order))
		order++;
	uint64_t max = ((m->boot.nr_all_pages << 12) >> 4) / bucket;
	if (max > 0x80000000ull)
		max = 0x80000000ull;
	if ((1ull << order) > max)
		order = ilog2_u64(max);
	if ((bucket << order) < PAGE_SZ)
		order = ilog2_u64(PAGE_SZ / bucket);
	return order;
}

struct resv {
	uint64_t base, size;
	const char *what;
};

struct resv_list {
	int n;
	struct resv r[MACHINE_MAX_RANGES];
};

static enum setup_fail reserve(struct setup *s, struct resv_list *rl, uint64_t base, uint64_t size,
			       const char *what)
{
	if (rl->n == MACHINE_MAX_RANGES || memblock_reserve(&s->mb, base, size, what))
		return fail(s, SETUP_BAD, "too many reserved ranges", 0, 0);
	rl->r[rl->n++] = (struct resv){base, size, what};
	return SETUP_OK;
}

static enum setup_fail alloc(struct setup *s, struct resv_list *rl, uint64_t size, uint64_t align,
			     uint64_t min, uint64_t max, const char *what, uint64_t *out)
{
	if (!size)
		return SETUP_OK;
	uint64_t base = memblock_alloc(&s->mb, size, align, min, max, what);
	if (base == UINT64_MAX) {
		snprintf(s->err, s->errlen, "no room left for %" PRIu64 " KiB of %s", size >> 10,
			 what);
		return SETUP_TOO_SMALL;
	}
	if (rl->n == MACHINE_MAX_RANGES)
		return fail(s, SETUP_BAD, "too many reserved ranges", 0, 0);
	rl->r[rl->n++] = (struct resv){base, size, what};
	if (out)
		*out = base;
	return SETUP_OK;
}

/* Sections of 128 MiB holding any RAM below max_pfn (sparse_init: present sections). */
static uint64_t present_sections(const struct setup *s)
{
	uint64_t n = 0, max = s->m->max_pfn;
	for (uint64_t sec = 0; sec * SECTION_PAGES_64 < max; sec++) {
		uint64_t e = (sec + 1) * SECTION_PAGES_64;
		if (memblock_present_pages(&s->mb, sec * SECTION_PAGES_64, e < max ? e : max))
			n++;
	}
	return n;
}

/* Direct-map page-table pages that come from memblock (alloc_low_pages once the brk
 * pgt_buf is used up), on top of the calibrated early_other:
 * - x86_64 maps RAM with 2 MiB pages (qemu64 has no 1 GiB pages): one PMD page per GiB
 *   holding RAM; the first is part of early_other (amd64 logs: +3 pages at 5G, RAM in
 *   GiB 0, 1, 2 and 4);
 * - i386 PAE maps a lowmem end that is not 2 MiB aligned with 4K pages: one PTE page
 *   (686-pae logs: 1 page at 256M/512M, 2 at 1G/5G); without PAE the brk buffer holds it. */
static uint64_t direct_map_pt_pages(const struct setup *s)
{
	const struct machine *m = s->m;
	if (s->x86_64) {
		uint64_t n = 0, gib = 1ull << 18;
		for (uint64_t g = 0; g * gib < m->max_pfn; g++)
			n += memblock_present_pages(&s->mb, g * gib, (g + 1) * gib) != 0;
		return n ? n - 1 : 0;
	}
	return s->pae && (m->max_low_pfn & 511) ? 1 : 0;
}

static uint64_t early_bytes(const struct setup *s)
{
	return ALIGN_UP(s->m->cfg.kernel.early_other, PAGE_SZ) + direct_map_pt_pages(s) * PAGE_SZ;
}

/* The memblock allocations from paging_init to mem_init, in kernel order; all top-down
 * below memblock.current_limit (the end of the direct map). */
static enum setup_fail boot_allocations(struct setup *s, struct resv_list *rl)
{
	struct machine *m = s->m;
	const struct kernel_build *k = &m->cfg.kernel;
	uint64_t top = (uint64_t)(s->x86_64 ? m->max_pfn : m->max_low_pfn) << 12;
	enum setup_fail f;
	s->mb.current_limit = top;
	/* x86_64: initmem_init allocates NODE_DATA first, at the top of RAM, then the
	 * vmemmap page tables and usemaps; on i386 the small allocations come after mem_map */
	if (s->x86_64) {
		f = alloc(s, rl, early_bytes(s), PAGE_SZ, 0, top,
			  "NODE_DATA and other early allocations (page tables, usemaps)", NULL);
		if (f)
			return f;
	}
	if (!s->x86_64) {
		/* alloc_node_mem_map (FLATMEM): struct page for [0, ALIGN(max_pfn, MAX_ORDER)) */
		uint64_t bytes =
		    ALIGN_UP((uint64_t)m->max_pfn, MAX_ORDER_NR_PAGES) * k->struct_page_size;
		f = alloc(s, rl, bytes, SMP_CACHE_BYTES, 0, top, "mem_map (struct page array)",
			  NULL);
	} else {
		/* sparse_init → sparse_buffer_init: 2 MiB of vmemmap per present section */
		uint64_t bytes = present_sections(s) *
				 ALIGN_UP(SECTION_PAGES_64 * k->struct_page_size, PMD_SIZE_64);
		f = alloc(s, rl, bytes, PMD_SIZE_64, MAX_DMA_PFN << 12, top,
			  "vmemmap (struct page array)", NULL);
	}
	if (f)
		return f;
	/* setup_per_cpu_areas → pcpu_embed_first_chunk: one unit per possible CPU, above
	 * MAX_DMA_ADDRESS, atom PMD_SIZE on x86_64 and PAGE_SIZE on i386 */
	f = alloc(s, rl, (uint64_t)m->cfg.nr_cpus * k->percpu_unit,
		  s->x86_64 ? PMD_SIZE_64 : PAGE_SZ, MAX_DMA_PFN << 12, top, "percpu first chunk",
		  NULL);
	if (f)
		return f;
	/* vfs_caches_init_early: dentry and inode hash tables come from memblock unless
	 * hashdist (HASHDIST_DEFAULT is NUMA && 64BIT, but fixup_hashdist clears it with a
	 * single memory node); buckets are one pointer (hlist_bl_head / hlist_head) */
	uint64_t bucket = s->x86_64 ? 8 : 4;
	m->boot.dhash_order = large_system_hash_order(m, 13, bucket);
	m->boot.ihash_order = large_system_hash_order(m, 14, bucket);
	m->boot.dhash_bytes = bucket << m->boot.dhash_order;
	m->boot.ihash_bytes = bucket << m->boot.ihash_order;
	f = alloc(s, rl, m->boot.dhash_bytes, SMP_CACHE_BYTES, 0, top, "dentry cache hash table",
		  NULL);
	if (!f)
		f = alloc(s, rl, m->boot.ihash_bytes, SMP_CACHE_BYTES, 0, top,
			  "inode cache hash table", NULL);
	if (f)
		return f;
	if (!s->x86_64) {
		f = alloc(s, rl, early_bytes(s), PAGE_SZ, 0, top,
			  "other early allocations (usemaps, percpu metadata, page tables)", NULL);
		if (f)
			return f;
	}
	/* mem_init → pci_iommu_alloc → swiotlb_init (pci_swiotlb_detect: RAM above 4 GiB and
	 * no IOMMU): memblock_alloc_low, below 4 GiB, plus its slot array */
	if (k->swiotlb && m->max_pfn > MAX_DMA32_PFN) {
		uint64_t limit = top < SZ_4G ? top : SZ_4G;
		uint64_t slots =
		    PAGE_SZ * PFN_UP((IO_TLB_DEFAULT_SIZE >> IO_TLB_SHIFT) * (s->x86_64 ? 24 : 16));
		m->boot.swiotlb_bytes = IO_TLB_DEFAULT_SIZE;
		f = alloc(s, rl, IO_TLB_DEFAULT_SIZE, PAGE_SZ, 0, limit, "swiotlb bounce buffer",
			  &m->boot.swiotlb_base);
		if (!f)
			f = alloc(s, rl, slots, PAGE_SZ, 0, top, "swiotlb slot array", NULL);
	}
	return f;
}

static int cmp_resv(const void *a, const void *b)
{
	const struct resv *x = a, *y = b;
	return x->base < y->base ? -1 : x->base > y->base;
}

static void publish(struct setup *s, struct resv_list *rl)
{
	struct machine *m = s->m;
	qsort(rl->r, (size_t)rl->n, sizeof(rl->r[0]), cmp_resv);
	m->nr_reserved = rl->n;
	for (int i = 0; i < rl->n; i++)
		m->reserved[i] = (struct phys_range){rl->r[i].base, rl->r[i].base + rl->r[i].size,
						     rl->r[i].what};
	m->nr_e820 = 0;
	for (int i = 0; i < s->mb.memory.cnt && i < MACHINE_MAX_RANGES; i++) {
		const struct memblock_region *r = &s->mb.memory.regions[i];
		m->e820[m->nr_e820++] = (struct phys_range){r->base, r->base + r->size, "usable"};
	}
}

/* mm/page_alloc.c defer_init [6.1] (DEFERRED_STRUCT_PAGE_INIT needs 64BIT): in the zone
 * that ends the node, struct pages are initialised, and so freed by memblock_free_all, only
 * up to the first section boundary after PAGES_PER_SECTION of its pages; the rest reaches
 * the buddy allocator in page_alloc_init_late. */
static pfn_t first_deferred_pfn(const struct setup *s)
{
	const struct machine *m = s->m;
	int last = -1;
	for (int z = 0; z < MAX_NR_ZONES; z++)
		if (m->zones[z].present)
			last = z;
	const struct zone_span *zs = &m->zones[last];
	const struct memblock_region *lr = &s->mb.memory.regions[s->mb.memory.cnt - 1];
	if (!s->x86_64 || zs->end_pfn < (lr->base + lr->size) >> 12)
		return zs->end_pfn;
	uint64_t seen = 0;
	for (uint64_t p = ALIGN_UP((uint64_t)zs->start_pfn, SECTION_PAGES_64); p < zs->end_pfn;
	     p += SECTION_PAGES_64) {
		seen = memblock_present_pages(&s->mb, zs->start_pfn, p);
		if (seen >= SECTION_PAGES_64 && memblock_present_pages(&s->mb, p, p + 1))
			return (pfn_t)p;
	}
	return zs->end_pfn;
}

/* What the Memory: line's first figure (nr_free_pages) shows: the pages freed so far, less
 * on x86_64 the 64 PUD pages preallocate_vmalloc_pages (arch/x86/mm/init_64.c) takes right
 * after memblock_free_all: one per 512 GiB PGD entry of the 32 TiB vmalloc area. */
static uint64_t free_at_mem_init(const struct setup *s)
{
	pfn_t deferred = first_deferred_pfn(s);
	uint64_t free = 0;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		const struct zone_span *zs = &s->m->zones[z];
		pfn_t end = zs->end_pfn < deferred ? zs->end_pfn : deferred;
		if (end > zs->start_pfn)
			free += memblock_free_pages(&s->mb, zs->start_pfn, end);
	}
	return s->x86_64 && free > 64 ? free - 64 : free;
}

static uint64_t ram_bytes_from(const struct e820_table *t, uint64_t from)
{
	uint64_t sum = 0;
	for (int i = 0; i < t->nr_entries; i++) {
		const struct e820_entry *e = &t->entries[i];
		uint64_t st = e->addr > from ? e->addr : from, end = e->addr + e->size;
		if (e->type == E820_TYPE_RAM && end > st)
			sum += end - st;
	}
	return sum;
}

static enum setup_fail setup_core(struct setup *s)
{
	struct machine *m = s->m;
	const struct kernel_build *k = &m->cfg.kernel;
	struct resv_list rl = {0};
	enum setup_fail f;

	if (e820_setup_tables(s->cfg, &s->firmware, &s->user, &s->e820))
		return fail(s, SETUP_BAD, "memory map has too many ranges", 0, 0);
	m->boot.max_arch_pfn = max_arch_pfn(m->cfg.arch);
	m->max_pfn = (pfn_t)e820_end_pfn(&s->e820, m->boot.max_arch_pfn);
	m->boot.e820_last_pfn = m->max_pfn;
	m->pageblock_order = m->cfg.arch == ARCH_I386 ? 10 : 9; /* HUGETLB_PAGE_ORDER */
	if (!s->x86_64) {
		layout_32_fixed(&m->layout, k, s->pae);
		m->boot.maxmem = layout_32_maxmem(&m->layout, k);
		find_low_pfn_range(m, m->boot.maxmem >> 12);
		layout_32_set_lowmem(&m->layout, m->max_low_pfn);
	} else {
		if (m->max_pfn > MAX_DMA32_PFN)
			m->boot.low_last_pfn = e820_end_pfn(&s->e820, MAX_DMA32_PFN);
		m->max_low_pfn = m->max_pfn; /* init_mem_mapping: "can we preserve max_low_pfn?" */
	}
	m->boot.ram_dropped = ram_bytes_from(&s->e820, (uint64_t)m->max_pfn << 12);
	f = memblock_from_e820(s);
	if (f)
		return f;
	/* init_mem_mapping maps RAM up to max_low_pfn (max_pfn on x86_64) */
	m->boot.max_pfn_mapped = 0;
	for (int i = 0; i < s->mb.memory.cnt; i++) {
		uint64_t e = (s->mb.memory.regions[i].base + s->mb.memory.regions[i].size) >> 12;
		uint64_t cap = s->x86_64 ? m->max_pfn : m->max_low_pfn;
		if (s->mb.memory.regions[i].base >> 12 < cap)
			m->boot.max_pfn_mapped = e < cap ? e : cap;
	}

	/* early_reserve_memory: the kernel image from _text to __end_of_kernel_reserve (and
	 * the used brk); setup_arch: the whole first 1 MiB */
	uint64_t img = image_bytes(k);
	uint64_t direct_end = (uint64_t)m->max_low_pfn << 12;
	if (PHYSICAL_START + img > direct_end ||
	    memblock_present_pages(&s->mb, PHYSICAL_START >> 12, (PHYSICAL_START + img) >> 12) !=
		img >> 12)
		return fail(s, SETUP_TOO_SMALL,
			    "the kernel image (loaded at 16 MiB) ends at %" PRIu64
			    " KiB but the direct-mapped RAM ends at %" PRIu64 " KiB",
			    (PHYSICAL_START + img) >> 10, direct_end >> 10);
	f = reserve(s, &rl, PHYSICAL_START, img, "kernel image (text, data, init, bss, brk)");
	if (!f)
		f = reserve(s, &rl, 0, SZ_1M,
			    "first 1 MiB (BIOS data, EBDA, real-mode trampoline)");
	if (f)
		return f;
	/* memblock_find_dma_reserve (x86_64 only): pages below 16 MiB already reserved */
	if (s->x86_64)
		m->boot.dma_reserve = memblock_present_pages(&s->mb, 0, MAX_DMA_PFN) -
				      memblock_free_pages(&s->mb, 0, MAX_DMA_PFN);

	/* zones as free_area_init sizes them; node = [first, last) memblock pfn */
	pfn_t node_start = (pfn_t)(s->mb.memory.regions[0].base >> 12);
	const struct memblock_region *lr = &s->mb.memory.regions[s->mb.memory.cnt - 1];
	pfn_t node_end = (pfn_t)((lr->base + lr->size) >> 12);
	zone_limits(m, node_start, node_end);
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone_span *zs = &m->zones[z];
		zs->spanned = zs->end_pfn - zs->start_pfn;
		zs->present = memblock_present_pages(&s->mb, zs->start_pfn, zs->end_pfn);
	}
	free_area_init_core(m);

	f = boot_allocations(s, &rl);
	if (f)
		return f;

	/* memblock_free_all + (i386) set_highmem_pages_init: whole free pages of each zone */
	m->totalram_pages = m->physpages = 0;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone_span *zs = &m->zones[z];
		zs->managed = memblock_free_pages(&s->mb, zs->start_pfn, zs->end_pfn);
		m->totalram_pages += zs->managed;
		m->physpages += zs->present;
	}
	if (m->totalram_pages == 0)
		return fail(s, SETUP_TOO_SMALL, "no page is left for the page allocator", 0, 0);
	m->boot.nr_free_at_mem_init = free_at_mem_init(s);
	/* mm/huge_memory.c hugepage_init: THP stays off (and khugepaged never raises
	 * min_free_kbytes) when totalram is below 512 MiB; the 256M/512M reference boots show
	 * the plain min_free_kbytes */
	if (m->totalram_pages < (512ull << 20) / PAGE_SZ)
		m->cfg.kernel.thp = false;
	publish(s, &rl);
	return SETUP_OK;
}

static enum setup_fail try_setup(struct machine *m, const struct machine_config *cfg, char *err,
				 size_t errlen)
{
	struct setup s = {.m = m, .cfg = cfg, .err = err, .errlen = errlen};
	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	s.pae = cfg->arch == ARCH_I386_PAE;
	s.x86_64 = cfg->arch == ARCH_X86_64;
	memblock_init(&s.mb);
	return setup_core(&s);
}

/* The smallest mem= (whole MiB) this kernel boots with, RAM following mem= when the
 * config did so; 0 if none up to the simulator's maximum. */
static uint64_t min_bootable_mem(const struct machine_config *cfg, struct machine *scratch)
{
	struct machine_config c = *cfg;
	bool ram_follows = cfg->mem_limit == 0 || cfg->mem_limit >= cfg->ram;
	uint64_t lo = 1, hi = SIM_MAX_PHYS >> 20;
	char err[8];
	c.mem_limit = hi << 20;
	if (ram_follows)
		c.ram = c.mem_limit;
	if (try_setup(scratch, &c, err, sizeof(err)) != SETUP_OK)
		return 0;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		c.mem_limit = mid << 20;
		if (ram_follows)
			c.ram = c.mem_limit;
		if (try_setup(scratch, &c, err, sizeof(err)) == SETUP_OK)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* memparse-style spelling of a size: "512M", "5G", "1536K". */
static const char *size_str(char *buf, size_t len, uint64_t bytes)
{
	static const char units[] = "KMGTPE";
	int u = -1;
	while (u < 5 && bytes >= 1024 && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%" PRIu64, bytes);
	else
		snprintf(buf, len, "%" PRIu64 "%c", bytes, units[u]);
	return buf;
}

int machine_setup(struct machine *m, const struct machine_config *cfg, char *err, size_t errlen)
{
	char a[24], b[24];
	if (cfg->arch < 0 || cfg->arch >= NR_ARCHS) {
		snprintf(err, errlen, "unknown architecture");
		return -1;
	}
	if (cfg->ram > SIM_MAX_PHYS) {
		snprintf(err, errlen, "%s of RAM is more than the simulator's maximum of %s",
			 size_str(a, sizeof(a), cfg->ram), size_str(b, sizeof(b), SIM_MAX_PHYS));
		return -1;
	}
	if (cfg->ram < SZ_1M * 2) {
		snprintf(err, errlen, "%s of RAM is not a PC (at least 2M)",
			 size_str(a, sizeof(a), cfg->ram));
		return -1;
	}
	if (cfg->nr_cpus == 0 || cfg->kernel.struct_page_size == 0) {
		snprintf(err, errlen, "the configuration has no CPU or no struct page size");
		return -1;
	}
	if (cfg->nr_cpus > cfg->kernel.nr_cpus_config) {
		snprintf(err, errlen, "%u CPUs are more than %s supports (NR_CPUS %u)",
			 cfg->nr_cpus, cfg->kernel.name, cfg->kernel.nr_cpus_config);
		return -1;
	}
	char why[160];
	enum setup_fail f = try_setup(m, cfg, why, sizeof(why));
	if (f == SETUP_OK)
		return 0;
	if (f == SETUP_BAD) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	uint64_t min = min_bootable_mem(cfg, m);
	bool by_mem = cfg->mem_limit && cfg->mem_limit < cfg->ram;
	uint64_t asked = by_mem ? cfg->mem_limit : cfg->ram;
	if (!min)
		snprintf(err, errlen, "%s cannot boot: %s", cfg->kernel.name, why);
	else if (by_mem)
		snprintf(err, errlen,
			 "mem=%s is too small for %s: %s; the smallest mem= it boots with is "
			 "%" PRIu64 "M",
			 size_str(a, sizeof(a), asked), cfg->kernel.name, why, min);
	else
		snprintf(err, errlen,
			 "%s of RAM is too small for %s: %s; it needs at least %" PRIu64 "M",
			 size_str(a, sizeof(a), asked), cfg->kernel.name, why, min);
	memset(m, 0, sizeof(*m));
	return -1;
}

/* Free at boot = inside a zone (below max_pfn), whole page of RAM, not reserved: what
 * memblock_free_all() and set_highmem_pages_init() hand to the buddy allocator. */
bool machine_pfn_free_at_boot(const struct machine *m, pfn_t pfn)
{
	uint64_t a = (uint64_t)pfn << 12, b = a + PAGE_SZ;
	if (pfn >= m->max_pfn || m->zones[ZONE_DMA].start_pfn > pfn)
		return false;
	bool in_ram = false;
	for (int i = 0; i < m->nr_e820 && !in_ram; i++)
		in_ram = m->e820[i].start <= a && b <= m->e820[i].end;
	if (!in_ram)
		return false;
	/* sorted by start but one reservation may lie inside another (ends not sorted), so
	 * no binary search on the ends: scan up to the first one starting past the page */
	for (int i = 0; i < m->nr_reserved && m->reserved[i].start < b; i++)
		if (m->reserved[i].end > a)
			return false;
	return true;
}
