/* machine_setup against the real Debian 12 6.1 boots in tests/kernel-logs/ (qemu -machine pc
 * -m 6G, mem= on the command line; 686-nomem-*: -m 1G / 5G without mem=). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "e820.h"
#include "layout_32.h"
#include "machine.h"
#include "memblock.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

struct real_boot {
	const char *log;
	enum arch arch;
	uint64_t mem, ram; /* mem= (0: none), qemu -m */
	unsigned lowmem_mb, highmem_mb;
	uint64_t normal_end;  /* end of Normal (i386) / DMA32 (x86_64) in the Zone ranges */
	uint64_t last_end;    /* end of the highest zone */
	uint64_t total_pages; /* "Built 1 zonelists ... Total pages:" */
	uint64_t free_k, phys_k, reserved_k; /* Memory: line */
};

/* Every figure is reproduced exactly. */
static const struct real_boot boots[] = {
    {"686-mem256M", ARCH_I386, 256 * MiB, 6 * GiB, 256, 0, 0x10000000, 0x10000000, 64798, 242908,
     261752, 18844},
    {"686-mem512M", ARCH_I386, 512 * MiB, 6 * GiB, 512, 0, 0x20000000, 0x20000000, 129694, 502300,
     523896, 21596},
    {"686-mem1G", ARCH_I386, GiB, 6 * GiB, 875, 148, 0x36bfe000, 0x40000000, 259856, 1021084,
     1048184, 27100},
    {"686-mem5G", ARCH_I386, 5 * GiB, 6 * GiB, 875, 2195, 0x36bfe000, 0xbffe0000, 784112, 3097628,
     3145208, 47580},
    {"686-nomem-m1G", ARCH_I386, 0, GiB, 875, 147, 0x36bfe000, 0x3ffe0000, 259824, 1020956, 1048056,
     27100},
    {"686-nomem-m5G", ARCH_I386, 0, 5 * GiB, 875, 2195, 0x36bfe000, 0xbffe0000, 784112, 3097628,
     3145208, 47580},
    {"686-pae-mem256M", ARCH_I386_PAE, 256 * MiB, 6 * GiB, 256, 0, 0x10000000, 0x10000000, 64798,
     242720, 261752, 19032},
    {"686-pae-mem512M", ARCH_I386_PAE, 512 * MiB, 6 * GiB, 512, 0, 0x20000000, 0x20000000, 129694,
     502112, 523896, 21784},
    {"686-pae-mem1G", ARCH_I386_PAE, GiB, 6 * GiB, 879, 144, 0x36ffe000, 0x40000000, 259846,
     1020892, 1048184, 27292},
    {"686-pae-mem5G", ARCH_I386_PAE, 5 * GiB, 6 * GiB, 879, 4240, 0x36ffe000, 0x140000000, 1046246,
     4059484, 4193784, 134300},
    {"amd64-mem256M", ARCH_X86_64, 256 * MiB, 6 * GiB, 0, 0, 0x10000000, 0x10000000, 64256, 202580,
     261752, 58916},
    {"amd64-mem512M", ARCH_X86_64, 512 * MiB, 6 * GiB, 0, 0, 0x20000000, 0x20000000, 128768, 207548,
     523896, 63396},
    {"amd64-mem1G", ARCH_X86_64, GiB, 6 * GiB, 0, 0, 0x40000000, 0x40000000, 257792, 207548,
     1048184, 72356},
    {"amd64-mem5G", ARCH_X86_64, 5 * GiB, 6 * GiB, 0, 0, 0x100000000, 0x140000000, 1031904, 3156540,
     4193784, 192432},
};

static struct machine *boot(enum arch arch, uint64_t mem, uint64_t ram)
{
	struct machine_config cfg;
	char err[256] = "";
	machine_config_default(&cfg, arch);
	cfg.mem_limit = mem;
	cfg.ram = ram;
	struct machine *m = malloc(sizeof(*m));
	cr_assert_not_null(m);
	cr_assert_eq(machine_setup(m, &cfg, err, sizeof(err)), 0, "%s", err);
	return m;
}

Test(machine, matches_the_real_6_1_boots)
{
	for (size_t i = 0; i < sizeof(boots) / sizeof(boots[0]); i++) {
		const struct real_boot *r = &boots[i];
		struct machine *m = boot(r->arch, r->mem, r->ram);
		int top = r->arch == ARCH_X86_64 ? ZONE_NORMAL : ZONE_HIGHMEM;
		int low = r->arch == ARCH_X86_64 ? ZONE_DMA32 : ZONE_NORMAL;
		if (r->arch != ARCH_X86_64) {
			cr_expect_eq((uint64_t)m->max_low_pfn >> 8, r->lowmem_mb, "%s lowmem",
				     r->log);
			cr_expect_eq((uint64_t)(m->max_pfn - m->max_low_pfn) >> 8, r->highmem_mb,
				     "%s highmem", r->log);
		}
		cr_expect_eq((uint64_t)m->zones[low].end_pfn << 12, r->normal_end, "%s low end",
			     r->log);
		uint64_t last =
		    m->zones[top].spanned ? m->zones[top].end_pfn : m->zones[low].end_pfn;
		cr_expect_eq(last << 12, r->last_end, "%s last zone end", r->log);
		cr_expect_eq(m->boot.vm_total_pages, r->total_pages, "%s Total pages", r->log);
		cr_expect_eq(m->physpages * 4, r->phys_k, "%s physpages", r->log);
		cr_expect_eq((m->physpages - m->totalram_pages) * 4, r->reserved_k,
			     "%s reserved %lluK vs %lluK", r->log,
			     (unsigned long long)(m->physpages - m->totalram_pages) * 4,
			     (unsigned long long)r->reserved_k);
		cr_expect_eq(m->boot.nr_free_at_mem_init * 4, r->free_k, "%s free %lluK vs %lluK",
			     r->log, (unsigned long long)m->boot.nr_free_at_mem_init * 4,
			     (unsigned long long)r->free_k);
		free(m);
	}
}

/* Every pfn machine_pfn_free_at_boot accepts is counted in exactly one zone's managed. */
Test(machine, free_at_boot_agrees_with_managed)
{
	for (size_t i = 0; i < sizeof(boots) / sizeof(boots[0]); i++) {
		const struct real_boot *r = &boots[i];
		struct machine *m = boot(r->arch, r->mem, r->ram);
		uint64_t managed[MAX_NR_ZONES] = {0}, total = 0;
		for (uint64_t pfn = 0; pfn < m->max_pfn; pfn++) {
			if (!machine_pfn_free_at_boot(m, (pfn_t)pfn))
				continue;
			total++;
			for (int z = 0; z < MAX_NR_ZONES; z++)
				if (pfn >= m->zones[z].start_pfn && pfn < m->zones[z].end_pfn)
					managed[z]++;
		}
		cr_expect_eq(total, m->totalram_pages, "%s", r->log);
		for (int z = 0; z < MAX_NR_ZONES; z++)
			cr_expect_eq(managed[z], m->zones[z].managed, "%s zone %d", r->log, z);
		cr_expect_not(machine_pfn_free_at_boot(m, 0x1000)); /* the kernel image */
		cr_expect_not(machine_pfn_free_at_boot(m, 0x9f));   /* first MiB */
		free(m);
	}
}

Test(machine, dma_zone_is_the_first_16_mib_minus_the_first_mib)
{
	struct machine *m = boot(ARCH_X86_64, GiB, 6 * GiB);
	cr_expect_eq(m->zones[ZONE_DMA].spanned, 4095);
	cr_expect_eq(m->zones[ZONE_DMA].present, 3998);
	cr_expect_eq(m->zones[ZONE_DMA].managed, 3840); /* facts §1.6, [live] */
	cr_expect_eq(m->boot.dma_reserve, 158);
	cr_expect_eq(m->pageblock_order, 9);
	free(m);
	m = boot(ARCH_I386, 256 * MiB, 6 * GiB);
	cr_expect_eq(m->pageblock_order, 10);
	cr_expect_eq(m->zones[ZONE_HIGHMEM].spanned, 0);
	cr_expect_eq(m->zones[ZONE_DMA].memmap_pages, 40); /* 4095 x 40 B */
	free(m);
}

Test(machine, i386_layout)
{
	struct machine *m = boot(ARCH_I386, GiB, 6 * GiB);
	const struct kernel_layout *l = &m->layout;
	/* 686, NR_CPUS 32: "low ram: 0 - 36bfe000" */
	cr_expect_eq(m->boot.maxmem, 0x36bfe000);
	cr_expect_eq(l->pkmap_base, 0xfec00000);
	cr_expect_eq(l->vmalloc_end, 0xfebfe000);
	cr_expect_eq(l->high_memory, 0xf6bfe000);
	cr_expect_eq(l->vmalloc_start, 0xf73fe000);
	cr_expect_eq(l->vmalloc_end - l->vmalloc_start, 120 * MiB); /* facts §7 VmallocTotal */
	cr_expect_eq(l->last_pkmap, 1024);
	free(m);
	m = boot(ARCH_I386_PAE, GiB, 6 * GiB);
	cr_expect_eq(m->boot.maxmem, 0x36ffe000); /* 686-pae "low ram: 0 - 36ffe000" */
	cr_expect_eq(m->layout.last_pkmap, 512);
	cr_expect_eq(m->layout.pkmap_base, 0xff000000);
	free(m);
	m = boot(ARCH_I386, 256 * MiB, 6 * GiB);
	/* lowmem 256 MiB: vmalloc spans the rest of the 1 GiB kernel space */
	cr_expect_eq(m->layout.vmalloc_start, 0xc0000000 + 256 * MiB + 8 * MiB);
	free(m);
}

/* The same formula with NR_CPUS 1 gives the value of the i386 6.8 dmesg in the facts sheet
 * (§1.2: "low ram: 0 - 373fe000", PKMAP_BASE 0xff400000). */
Test(machine, layout_follows_nr_cpus)
{
	struct kernel_build k;
	struct machine_config cfg;
	struct kernel_layout l;
	machine_config_default(&cfg, ARCH_I386);
	k = cfg.kernel;
	k.nr_cpus_config = 1;
	layout_32_fixed(&l, &k, false);
	cr_expect_eq(l.pkmap_base, 0xff400000);
	cr_expect_eq(layout_32_maxmem(&l, &k), 0x373fe000);
	k.highmem = false;
	layout_32_fixed(&l, &k, false);
	cr_expect_eq(l.pkmap_base, 0);
	cr_expect_eq(layout_32_maxmem(&l, &k), 0x377fe000); /* facts §1.2 no-HIGHMEM row */
}

Test(machine, kernel_without_highmem_warns_and_drops_ram)
{
	struct machine_config cfg;
	struct machine *m = malloc(sizeof(*m));
	char err[256];
	machine_config_default(&cfg, ARCH_I386);
	cfg.kernel.highmem = false;
	cfg.mem_limit = 5 * GiB;
	cfg.ram = 6 * GiB;
	cr_assert_eq(machine_setup(m, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(m->nr_warnings, 2);
	cr_expect_str_eq(m->warnings[0], "Warning only 879MB will be used.");
	cr_expect_str_eq(m->warnings[1], "Use a HIGHMEM enabled kernel.");
	cr_expect_eq(m->max_pfn, m->max_low_pfn);
	cr_expect_eq(m->zones[ZONE_HIGHMEM].spanned, 0);
	free(m);
}

Test(machine, non_pae_ignores_ram_above_4g)
{
	struct machine *m = boot(ARCH_I386, 5 * GiB, 6 * GiB);
	cr_expect_eq(m->boot.ram_dropped, GiB); /* [4G, 5G) after mem=5G */
	cr_expect_eq(m->nr_warnings, 0);
	cr_expect_eq(m->boot.max_arch_pfn, 0x100000);
	cr_expect_eq(m->boot.swiotlb_bytes, 0);
	free(m);
	m = boot(ARCH_I386_PAE, 5 * GiB, 6 * GiB);
	cr_expect_eq(m->boot.ram_dropped, 0);
	cr_expect_eq(m->boot.swiotlb_bytes, 64 * MiB); /* RAM above 4 GiB */
	cr_expect_lt(m->boot.swiotlb_base + 64 * MiB, (uint64_t)m->max_low_pfn << 12);
	free(m);
	m = boot(ARCH_X86_64, 5 * GiB, 6 * GiB);
	cr_expect_eq(m->boot.swiotlb_base, 0xbbfe0000); /* "software IO TLB: mapped" */
	cr_expect_eq(m->boot.low_last_pfn, 0xbffe0);
	free(m);
}

Test(machine, refuses_what_cannot_boot)
{
	struct machine_config cfg;
	struct machine *m = malloc(sizeof(*m));
	char err[320];
	machine_config_default(&cfg, ARCH_I386);
	cfg.mem_limit = 16 * MiB;
	cr_expect_eq(machine_setup(m, &cfg, err, sizeof(err)), -1);
	cr_expect(strstr(err, "the smallest mem= it boots with is 32M") != NULL, "%s", err);
	cr_expect(strchr(err, '\n') == NULL);
	cfg.mem_limit = 32 * MiB;
	cr_expect_eq(machine_setup(m, &cfg, err, sizeof(err)), 0, "%s", err);
	cfg.mem_limit = 31 * MiB;
	cr_expect_eq(machine_setup(m, &cfg, err, sizeof(err)), -1);
	machine_config_default(&cfg, ARCH_X86_64);
	cfg.ram = 257 * GiB;
	cfg.mem_limit = 0;
	cr_expect_eq(machine_setup(m, &cfg, err, sizeof(err)), -1);
	cr_expect(strstr(err, "maximum") != NULL, "%s", err);
	cfg.ram = 256 * GiB;
	cr_expect_eq(machine_setup(m, &cfg, err, sizeof(err)), 0, "%s", err);
	free(m);
}

Test(e820, mem_caps_the_address_not_the_amount)
{
	struct machine_config cfg;
	struct e820_table fw, user, fin;
	machine_config_default(&cfg, ARCH_I386_PAE);
	cfg.ram = 6 * GiB;
	cfg.mem_limit = 5 * GiB;
	cr_assert_eq(e820_setup_tables(&cfg, &fw, &user, &fin), 0);
	uint64_t ram = 0;
	for (int i = 0; i < fin.nr_entries; i++)
		if (fin.entries[i].type == E820_TYPE_RAM)
			ram += fin.entries[i].size;
	/* 0x1000-0x9fc00, 1M-0xbffe0000, 4G-5G: the PCI hole eats a GiB of "mem=5G" */
	cr_expect_eq(ram, 0x9fc00 - 0x1000 + 0xbffe0000 - 0x100000 + GiB);
	cr_expect_eq(fin.entries[0].type, E820_TYPE_RESERVED); /* page 0 */
	cr_expect_eq(fin.entries[0].size, 4096);
}

Test(memblock, top_down_and_partial_pages)
{
	struct memblock mb;
	memblock_init(&mb);
	memblock_add(&mb, 0x1000, 0x9e000);
	memblock_add(&mb, 0x100000, 0xff00000);
	cr_expect_eq(mb.memory.cnt, 2);
	memblock_reserve(&mb, 0, 0x100000, "low");
	uint64_t a = memblock_alloc(&mb, 0x3000, 0x1000, 0, UINT64_MAX, "x");
	cr_expect_eq(a, 0x10000000 - 0x3000);
	uint64_t b = memblock_alloc(&mb, 100, 64, 0, UINT64_MAX, "y");
	cr_expect_eq(b, (0x10000000 - 0x3000 - 100) & ~63ull);
	/* the page holding b is partly reserved, so not free */
	cr_expect_eq(memblock_free_pages(&mb, 0, 0x10000), 0x10000 - 0x100 - 4);
	cr_expect_eq(memblock_present_pages(&mb, 0, 0x10000), 0x9e + 0xff00);
	cr_expect_eq(memblock_alloc(&mb, 0x20000000, 0x1000, 0, UINT64_MAX, "z"), UINT64_MAX);
	mb.current_limit = 0x800000;
	cr_expect_eq(memblock_alloc(&mb, 0x1000, 0x1000, 0, UINT64_MAX, "w"), 0x7ff000);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random machines: whatever boots satisfies the invariants the kernel's own accounting
 * has; whatever does not is refused as too small, with a minimum above the request. */
Test(machine, random_configs_keep_the_invariants)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	struct machine *m = malloc(sizeof(*m));
	cr_assert_not_null(m);
	for (int iter = 0; iter < 300; iter++) {
		struct machine_config cfg;
		char err[320];
		machine_config_default(&cfg, (enum arch)(xorshift(&seed) % NR_ARCHS));
		cfg.ram = (16 + xorshift(&seed) % 8192) * MiB;
		cfg.mem_limit = xorshift(&seed) % 3 ? (8 + xorshift(&seed) % 9000) * MiB : 0;
		cfg.nr_cpus = 1 + (unsigned)(xorshift(&seed) % 8);
		if (machine_setup(m, &cfg, err, sizeof(err))) {
			cr_expect(strstr(err, "the smallest mem= it boots with is ") ||
				      strstr(err, "it needs at least "),
				  "%s", err);
			continue;
		}
		uint64_t managed = 0, present = 0;
		pfn_t prev_end = m->zones[ZONE_DMA].start_pfn;
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			const struct zone_span *zs = &m->zones[z];
			cr_expect_leq(zs->managed, zs->present);
			cr_expect_leq(zs->present, zs->spanned);
			cr_expect_eq(zs->spanned, zs->end_pfn - zs->start_pfn);
			if (zs->spanned) {
				cr_expect_eq(zs->start_pfn, prev_end, "zones not contiguous");
				prev_end = zs->end_pfn;
			}
			managed += zs->managed;
			present += zs->present;
		}
		cr_expect_eq(managed, m->totalram_pages);
		cr_expect_eq(present, m->physpages);
		cr_expect_eq(prev_end, m->max_pfn);
		cr_expect_leq(m->max_low_pfn, m->max_pfn);
		cr_expect_leq(m->boot.nr_free_at_mem_init, m->totalram_pages);
		if (cfg.arch != ARCH_X86_64)
			cr_expect_eq((uint64_t)m->max_low_pfn, m->max_pfn < m->boot.maxmem >> 12
								   ? m->max_pfn
								   : m->boot.maxmem >> 12);
		if (cfg.mem_limit)
			cr_expect_leq((uint64_t)m->e820[m->nr_e820 - 1].end, cfg.mem_limit);
		for (int i = 0; i < m->nr_reserved; i++) {
			cr_expect_lt(m->reserved[i].start, m->reserved[i].end);
			if (i)
				cr_expect_leq(m->reserved[i - 1].end, m->reserved[i].start);
			/* boot allocations live in the direct map */
			cr_expect_leq(m->reserved[i].end, (uint64_t)m->max_low_pfn << 12);
		}
		if (m->max_pfn <= (1u << 19)) { /* up to 2 GiB: count pfn by pfn */
			uint64_t free = 0;
			for (pfn_t pfn = 0; pfn < m->max_pfn; pfn++)
				free += machine_pfn_free_at_boot(m, pfn);
			cr_expect_eq(free, m->totalram_pages);
		}
	}
	free(m);
}

/* vm.lowmem_reserve_ratio as the kernel prints it (the -proc.log files in tests/kernel-logs) lands on
 * the zones it names: the i386 list has no DMA32 slot, the amd64 one has Movable and Device
 * at the end; 0 is accepted (no reserve). */
Test(machine, lowmem_reserve_ratio_in_the_kernels_zone_order)
{
	char err[256];
	struct machine_config c;
	machine_config_default(&c, ARCH_I386);
	cr_assert_eq(machine_config_set(&c, "vm.lowmem_reserve_ratio", "128\t16 0 0", err,
					sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.vm.lowmem_reserve_ratio[ZONE_DMA], 128);
	cr_assert_eq(c.vm.lowmem_reserve_ratio[ZONE_NORMAL], 16);
	cr_assert_eq(c.vm.lowmem_reserve_ratio[ZONE_HIGHMEM], 0);
	cr_assert_eq(c.vm.lowmem_reserve_ratio[ZONE_DMA32], 256, "DMA32 is not in the i386 list");
	cr_assert_neq(machine_config_set(&c, "vm.lowmem_reserve_ratio", "1 2 3 4 5", err,
					 sizeof(err)), 0, "i386 has four zones");

	machine_config_default(&c, ARCH_X86_64);
	cr_assert_eq(machine_config_set(&c, "vm.lowmem_reserve_ratio", "64 128 8 0 0", err,
					sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.vm.lowmem_reserve_ratio[ZONE_DMA], 64);
	cr_assert_eq(c.vm.lowmem_reserve_ratio[ZONE_DMA32], 128);
	cr_assert_eq(c.vm.lowmem_reserve_ratio[ZONE_NORMAL], 8);
	cr_assert_neq(machine_config_set(&c, "vm.lowmem_reserve_ratio", "1 -2", err, sizeof(err)),
		      0);
}
