/* Machine configuration: mem= parsing, architectures, the modeled kernel builds and the vm
 * sysctls with their kernel defaults. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"

const char *const arch_names[NR_ARCHS] = {"i386", "i386-pae", "x86_64"};

/* The largest machine the simulator builds: 64 M frames of 32-byte struct page = 2 GiB. */
#define SIM_MAX_PHYS (256ull << 30)

/* lib/cmdline.c:memparse: a number (base 0: 0x.. hex, 0.. octal) and an optional
 * K/M/G/T/P/E suffix, case-insensitive. The kernel would wrap on overflow; we refuse. */
int parse_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
	if (!s || !*s) {
		snprintf(err, errlen, "expected a size such as 512M or 5G, got nothing");
		return -1;
	}
	if (*s == '-' || *s == '+' || *s == ' ') {
		snprintf(err, errlen, "expected a size such as 512M or 5G, not a signed number");
		return -1;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (end == s || errno) {
		snprintf(err, errlen, "expected a size such as 512M or 5G");
		return -1;
	}
	unsigned shift = 0;
	switch (*end) {
	case 'E': case 'e': shift = 60; break;
	case 'P': case 'p': shift = 50; break;
	case 'T': case 't': shift = 40; break;
	case 'G': case 'g': shift = 30; break;
	case 'M': case 'm': shift = 20; break;
	case 'K': case 'k': shift = 10; break;
	case 0: break;
	default:
		snprintf(err, errlen, "unknown size suffix '%c' (use K, M, G or T)", *end);
		return -1;
	}
	if (shift && end[1] != 0 && !((end[1] == 'B' || end[1] == 'b') && end[2] == 0) &&
	    !((end[1] == 'i' || end[1] == 'I') && (end[2] == 'B' || end[2] == 'b') && end[3] == 0)) {
		snprintf(err, errlen, "unexpected text after the size suffix");
		return -1;
	}
	if (shift && v > (UINT64_MAX >> shift)) {
		snprintf(err, errlen, "size too large");
		return -1;
	}
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_arch(const char *s, enum arch *out, char *err, size_t errlen)
{
	for (int a = 0; a < NR_ARCHS; a++) {
		if (strcmp(s, arch_names[a]) == 0) {
			*out = (enum arch)a;
			return 0;
		}
	}
	if (strcmp(s, "x86-64") == 0 || strcmp(s, "amd64") == 0) {
		*out = ARCH_X86_64;
		return 0;
	}
	snprintf(err, errlen, "unknown architecture (expected i386, i386-pae or x86_64)");
	return -1;
}

/* The reference boots (tests/kernel-logs/) ran qemu -m 6G with mem= on the command line. */
#define MACHINE_DEFAULT_RAM (6ull << 30)

/* Debian 12 (bookworm) kernels, linux-image-6.1.0-*-{686,686-pae,amd64}, as their boots in
 * tests/kernel-logs/ show them: the "Memory:" line's image sections (KiB), where the image
 * reservation starting at 0x01000000 ends, "percpu: Embedded N pages/cpu", and the small
 * early allocations left in the "reserved" figure (pages). */
struct debian_build {
	const char *name;
	bool highmem;               /* CONFIG_HIGHMEM4G (686), CONFIG_HIGHMEM64G (686-pae) */
	unsigned struct_page_size;  /* 32 + memcg_data, aligned on i386 (mm_types.h) */
	unsigned nr_cpus_config;    /* "setup_percpu: NR_CPUS:N" */
	uint64_t text_k, rwdata_k, rodata_k, init_k, bss_k;
	uint64_t image_end;         /* end of the image reservation (physical) */
	uint64_t percpu_pages, early_pages;
};

static const struct debian_build debian_builds[NR_ARCHS] = {
	/* 686-mem1G*.log: image [0x01000000-0x01ef5fff] */
	[ARCH_I386] = {"debian12-6.1-686", true, 40, 32, 9327, 1246, 3188, 912, 464,
		       0x01ef6000ull, 33, 2},
	/* 686-pae-mem5G*.log: image [0x01000000-0x01f23fff]; early pages exact at 256M/512M,
	 * 4K short at 1G/5G */
	[ARCH_I386_PAE] = {"debian12-6.1-686-pae", true, 40, 32, 9423, 1265, 3188, 928, 476,
			   0x01f24000ull, 33, 3},
	/* amd64-mem*.log: image [0x01000000-0x04410fff]; early pages: NODE_DATA (172K) and the
	 * rest, the same 60 pages at 256M, 512M and 1G */
	[ARCH_X86_64] = {"debian12-6.1-amd64", false, 64, 8192, 14343, 2338, 9116, 2820, 17356,
			 0x04411000ull, 62, 60},
};

static void kernel_build_default(struct kernel_build *k, enum arch arch)
{
	const struct debian_build *d = &debian_builds[arch];
	memset(k, 0, sizeof(*k));
	k->page_offset = 0xC0000000ull;              /* CONFIG_PAGE_OFFSET, VMSPLIT_3G */
	k->vmalloc_reserve = 128ull << 20;           /* arch/x86/mm/pgtable_32.c __VMALLOC_RESERVE */
	k->swiotlb = true;
	k->thp = true;                               /* TRANSPARENT_HUGEPAGE_ALWAYS in all three */
	snprintf(k->name, sizeof(k->name), "%s", d->name);
	k->highmem = d->highmem;
	k->struct_page_size = d->struct_page_size;
	k->nr_cpus_config = d->nr_cpus_config;
	k->text = d->text_k << 10;
	k->rwdata = d->rwdata_k << 10;
	k->rodata = d->rodata_k << 10;
	k->init = d->init_k << 10;
	k->bss = d->bss_k << 10;
	/* the image reservation (CONFIG_PHYSICAL_START 16 MiB) holds more than the sections */
	k->image_extra = d->image_end - (16ull << 20) - (k->text + k->rwdata + k->rodata +
							  k->init + k->bss);
	k->percpu_unit = d->percpu_pages << 12;
	k->early_other = d->early_pages << 12;
}

/* Kernel defaults: mm/util.c (overcommit), mm/vmscan.c (swappiness), mm/page_alloc.c
 * (watermark factors, lowmem_reserve_ratio), mm/compaction.c (extfrag_threshold),
 * mm/swap.c (page_cluster). */
static void vm_sysctl_default(struct vm_sysctl *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->overcommit_memory = 0;
	vm->overcommit_ratio = 50;
	vm->swappiness = 60;
	vm->watermark_scale_factor = 10;
	vm->watermark_boost_factor = 15000;
	vm->lowmem_reserve_ratio[ZONE_DMA] = 256;
	vm->lowmem_reserve_ratio[ZONE_DMA32] = 256;
	vm->lowmem_reserve_ratio[ZONE_NORMAL] = 32;
	vm->lowmem_reserve_ratio[ZONE_HIGHMEM] = 0;
	vm->extfrag_threshold = 500;
	vm->page_cluster = 3;
}

void machine_config_default(struct machine_config *cfg, enum arch arch)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->arch = arch;
	cfg->mem_limit = 1ull << 30;
	cfg->ram = MACHINE_DEFAULT_RAM;
	cfg->nr_cpus = 1;
	kernel_build_default(&cfg->kernel, arch);
	vm_sysctl_default(&cfg->vm);
}

enum knob_kind { KNOB_INT, KNOB_U64 };

struct knob {
	const char *name;
	enum knob_kind kind;
	size_t off;
	int64_t min, max;
};

#define KNOB(n, kind, field, lo, hi) {"vm." n, kind, offsetof(struct vm_sysctl, field), lo, hi}

/* Ranges from Documentation/admin-guide/sysctl/vm.rst and the sysctl tables' extra1/extra2. */
static const struct knob knobs[] = {
	KNOB("overcommit_memory", KNOB_INT, overcommit_memory, 0, 2),
	KNOB("overcommit_ratio", KNOB_INT, overcommit_ratio, 0, 1000000),
	KNOB("overcommit_kbytes", KNOB_U64, overcommit_kbytes, 0, INT64_MAX),
	KNOB("swappiness", KNOB_INT, swappiness, 0, 200),
	KNOB("min_free_kbytes", KNOB_U64, min_free_kbytes, 0, INT64_MAX),
	KNOB("watermark_scale_factor", KNOB_INT, watermark_scale_factor, 1, 3000),
	KNOB("watermark_boost_factor", KNOB_INT, watermark_boost_factor, 0, INT32_MAX),
	KNOB("admin_reserve_kbytes", KNOB_U64, admin_reserve_kbytes, 0, INT64_MAX),
	KNOB("user_reserve_kbytes", KNOB_U64, user_reserve_kbytes, 0, INT64_MAX),
	KNOB("extfrag_threshold", KNOB_INT, extfrag_threshold, 0, 1000),
	KNOB("page-cluster", KNOB_INT, page_cluster, 0, 31),
	KNOB("percpu_pagelist_high_fraction", KNOB_INT, percpu_pagelist_high_fraction, 0, INT32_MAX),
	KNOB("oom_kill_allocating_task", KNOB_INT, oom_kill_allocating_task, 0, 1),
	KNOB("panic_on_oom", KNOB_INT, panic_on_oom, 0, 2),
};

/* vm.lowmem_reserve_ratio lists one ratio per zone in the kernel's zone order, which is
 * the configured zones only (enum zone_type): DMA, Normal, HighMem, Movable on i386 and
 * DMA, DMA32, Normal, Movable, Device on Debian's amd64 (CONFIG_ZONE_DEVICE), as the
 * kernel logs in tests/kernel-logs show. ZONE_MOVABLE and ZONE_DEVICE are not modeled:
 * their ratios are taken and ignored. Ratios below 1 mean no reserve (lowmem_reserve_ratio_sysctl_handler). */
static int set_lowmem_reserve_ratio(struct machine_config *cfg, const char *value, char *err,
				    size_t errlen)
{
	static const enum zone_type order_32[] = {ZONE_DMA, ZONE_NORMAL, ZONE_HIGHMEM};
	static const enum zone_type order_64[] = {ZONE_DMA, ZONE_DMA32, ZONE_NORMAL};
	const enum zone_type *order = cfg->arch == ARCH_X86_64 ? order_64 : order_32;
	const int nr = cfg->arch == ARCH_X86_64 ? 5 : 4;
	int v[5];
	int n = 0;
	const char *p = value;
	while (*p && n < nr) {
		char *end;
		long x = strtol(p, &end, 10);
		if (end == p || x < 0 || x > INT32_MAX)
			break;
		v[n++] = (int)x;
		p = end;
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
	}
	if (*p || n == 0) {
		snprintf(err, errlen, "expected up to %d ratios >= 0 separated by spaces or commas "
			 "(%s order: %s)", nr, arch_names[cfg->arch],
			 cfg->arch == ARCH_X86_64 ? "DMA DMA32 Normal Movable Device"
						  : "DMA Normal HighMem Movable");
		return -1;
	}
	for (int i = 0; i < n && i < 3; i++)
		cfg->vm.lowmem_reserve_ratio[order[i]] = v[i] < 1 ? 0 : v[i];
	return 0;
}

int machine_config_set(struct machine_config *cfg, const char *key, const char *value, char *err,
		       size_t errlen)
{
	if (strcmp(key, "vm.lowmem_reserve_ratio") == 0)
		return set_lowmem_reserve_ratio(cfg, value, err, errlen);
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		const struct knob *k = &knobs[i];
		if (strcmp(key, k->name) != 0)
			continue;
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (!*value || *end || errno || v < k->min || v > k->max) {
			snprintf(err, errlen, "expected a whole number from %" PRId64 " to %" PRId64,
				 k->min, k->max);
			return -1;
		}
		char *field = (char *)&cfg->vm + k->off;
		if (k->kind == KNOB_INT)
			*(int *)field = (int)v;
		else
			*(uint64_t *)field = (uint64_t)v;
		/* mm/util.c: setting one of ratio/kbytes zeroes the other */
		if (strcmp(key, "vm.overcommit_kbytes") == 0 && v)
			cfg->vm.overcommit_ratio = 0;
		if (strcmp(key, "vm.overcommit_ratio") == 0)
			cfg->vm.overcommit_kbytes = 0;
		return 0;
	}
	snprintf(err, errlen, "unknown setting (known: vm.overcommit_memory, vm.overcommit_ratio, "
			      "vm.swappiness, vm.min_free_kbytes, ... see docs/CLI.md)");
	return -1;
}
