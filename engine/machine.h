/* The simulated PC: architecture, physical memory map (e820), mem= and memblock
 * reservations, max_low_pfn / highmem, zone ranges and the i386 kernel virtual layout.
 * Pure arithmetic from a machine_config: no allocation beyond struct machine itself. */
#ifndef MM_MACHINE_H
#define MM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmzone.h"

enum arch { ARCH_I386, ARCH_I386_PAE, ARCH_X86_64, NR_ARCHS };

/* sysctl knobs under their /proc/sys/vm names; set with --set vm.NAME=VALUE. */
struct vm_sysctl {
	int overcommit_memory;       /* 0 guess, 1 always, 2 never */
	int overcommit_ratio;        /* percent */
	uint64_t overcommit_kbytes;  /* 0 = use ratio */
	int swappiness;              /* 0..200 */
	uint64_t min_free_kbytes;    /* 0 = computed at boot (init_per_zone_wmark_min) */
	int watermark_scale_factor;  /* 1/10000 of managed */
	int watermark_boost_factor;  /* 1/10000 of high wmark */
	int lowmem_reserve_ratio[MAX_NR_ZONES];
	uint64_t admin_reserve_kbytes; /* 0 = computed at boot (init_admin_reserve) */
	uint64_t user_reserve_kbytes;  /* 0 = computed at boot (init_user_reserve) */
	int extfrag_threshold;
	int page_cluster;
	int percpu_pagelist_high_fraction;
	int oom_kill_allocating_task;
	int panic_on_oom;
};

/* The modeled kernel build: what its .config decides (default: Debian 12's 6.1 kernels). */
struct kernel_build {
	char name[48];              /* e.g. "debian12-6.1-686-pae" */
	bool highmem;               /* CONFIG_HIGHMEM (i386) */
	bool thp;                   /* CONFIG_TRANSPARENT_HUGEPAGE enabled (machine_setup turns
				       it off below 512 MiB of totalram, as hugepage_init does) */
	unsigned nr_cpus_config;    /* CONFIG_NR_CPUS (moves fixmap/cpu_entry_area on i386) */
	unsigned struct_page_size;  /* bytes: 32, 40 or 64 */
	uint64_t vmalloc_reserve;   /* __VMALLOC_RESERVE (i386), bytes */
	uint64_t page_offset;       /* CONFIG_PAGE_OFFSET (i386) */
	/* Image sections, bytes, as the "Memory:" line reports them. */
	uint64_t text, rwdata, rodata, init, bss;
	/* Boot-time reservations the sections above do not cover (docs/MACHINE.md):
	 * image_extra: _text.._end minus the five sections (alignment, notes, exception
	 * tables, .data_nosave, used brk); percpu_unit: first-chunk bytes per CPU ("percpu:
	 * Embedded N pages/cpu"); early_other: the small memblock allocations not modeled
	 * one by one (early page tables, NODE_DATA, usemaps, percpu metadata, ...). */
	uint64_t image_extra, percpu_unit, early_other;
	bool swiotlb;               /* 64 MiB bounce buffer when RAM reaches above 4 GiB */
};

struct machine_config {
	enum arch arch;
	uint64_t mem_limit;   /* mem=: highest physical address kept (bytes), 0 = no limit */
	uint64_t ram;         /* installed RAM (bytes) */
	uint64_t swap_bytes;  /* swap area size, 0 = none */
	unsigned nr_cpus;     /* online CPUs */
	uint64_t seed;        /* for any randomized policy; the engine is deterministic given it */
	struct kernel_build kernel;
	struct vm_sysctl vm;
};

/* A physical range [start, end) in bytes. */
struct phys_range {
	uint64_t start, end;
	const char *what;     /* e820 type name or what a reservation holds */
};

#define MACHINE_MAX_RANGES 32

/* One zone as boot sizes it (free_area_init + memblock_free_all). */
struct zone_span {
	pfn_t start_pfn, end_pfn;  /* [start, end); empty when equal */
	uint64_t spanned, present, managed;
	uint64_t memmap_pages;     /* pages of struct page for this zone */
};

/* i386 kernel virtual address layout (arch/x86/include/asm/pgtable_32_areas.h). */
struct kernel_layout {
	uint64_t page_offset, high_memory;
	uint64_t vmalloc_start, vmalloc_end;
	uint64_t pkmap_base, ldt_base, cpu_entry_area_base;
	uint64_t fixaddr_start, fixaddr_top;
	unsigned last_pkmap;
};

struct machine {
	struct machine_config cfg;
	struct phys_range e820[MACHINE_MAX_RANGES];  /* RAM ranges after mem= and MAX_ARCH_PFN */
	int nr_e820;
	/* memblock.reserved at memblock_free_all(): one entry per reservation, sorted */
	struct phys_range reserved[MACHINE_MAX_RANGES];
	int nr_reserved;
	pfn_t max_pfn, max_low_pfn;
	struct zone_span zones[MAX_NR_ZONES];
	struct kernel_layout layout;
	uint64_t totalram_pages;      /* sum of managed */
	uint64_t physpages;           /* sum of present */
	unsigned pageblock_order;     /* 9 on PAE/x86_64, 10 on i386 non-PAE */
	char warnings[4][128];        /* the kernel's boot warnings ("Warning only 883MB will be used.") */
	int nr_warnings;
	struct boot_info {            /* figures only the boot log shows (mmreplay boot) */
		uint64_t e820_last_pfn;   /* e820__end_of_ram_pfn() before find_low_pfn_range */
		uint64_t max_arch_pfn;
		uint64_t low_last_pfn;    /* x86_64 above 4 GiB: e820__end_of_low_ram_pfn() */
		uint64_t max_pfn_mapped;  /* i386: end of the direct map built by init_mem_mapping */
		uint64_t maxmem;          /* i386 MAXMEM, bytes */
		uint64_t ram_dropped;     /* RAM bytes the kernel cannot use (MAX_ARCH_PFN, no HIGHMEM) */
		uint64_t dma_reserve;     /* x86_64 memblock_find_dma_reserve() */
		uint64_t nr_kernel_pages, nr_all_pages;
		uint64_t vm_total_pages;  /* "Built 1 zonelists ... Total pages:" */
		uint64_t nr_free_at_mem_init; /* Memory: line's first figure (deferred init) */
		bool mobility_grouping;
		unsigned dhash_order, ihash_order;  /* log2 entries of the early hash tables, 0 = none */
		uint64_t dhash_bytes, ihash_bytes;
		uint64_t swiotlb_base, swiotlb_bytes;
	} boot;
};

extern const char *const arch_names[NR_ARCHS];

/* memparse: "512M", "5G", "1024K", "4096" (bytes). Returns 0, or -1 with a message in err. */
int parse_size(const char *s, uint64_t *out, char *err, size_t errlen);
int parse_arch(const char *s, enum arch *out, char *err, size_t errlen);

/* Defaults: the modeled Debian 12 kernel for arch, 1 CPU, no swap, mem= 1G. */
void machine_config_default(struct machine_config *cfg, enum arch arch);
/* --set KEY=VALUE with KEY a vm sysctl name ("vm.overcommit_memory"). */
int machine_config_set(struct machine_config *cfg, const char *key, const char *value,
		       char *err, size_t errlen);

/* Lay the machine out. Fails (with a one-line reason) when the kernel could not boot. */
int machine_setup(struct machine *m, const struct machine_config *cfg, char *err, size_t errlen);

/* Is pfn usable RAM handed to the buddy allocator at boot (present and not reserved)? */
bool machine_pfn_free_at_boot(const struct machine *m, pfn_t pfn);

#endif
