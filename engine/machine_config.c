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

/* Debian 12 (bookworm) kernels, linux-image-6.1.0-*-{686,686-pae,amd64}. Image section
 * sizes are what their "Memory:" boot line reports (tests/kernel-logs/). */
static void kernel_build_default(struct kernel_build *k, enum arch arch)
{
	memset(k, 0, sizeof(*k));
	k->page_offset = 0xC0000000ull;              /* CONFIG_PAGE_OFFSET, VMSPLIT_3G */
	k->vmalloc_reserve = 128ull << 20;           /* arch/x86/mm/pgtable_32.c __VMALLOC_RESERVE */
	k->swiotlb = true;
	switch (arch) {
	case ARCH_I386:
		snprintf(k->name, sizeof(k->name), "debian12-6.1-686");
		k->highmem = true;                   /* CONFIG_HIGHMEM4G */
		k->struct_page_size = 40;            /* 32 + memcg_data, aligned (mm_types.h) */
		k->nr_cpus_config = 32;              /* "setup_percpu: NR_CPUS:32" */
		/* tests/kernel-logs/686-mem1G*.log: the Memory: line, the image reservation
		 * [0x01000000-0x01ef5fff] and "percpu: Embedded 33 pages/cpu" */
		k->text = 9327ull << 10;
		k->rwdata = 1246ull << 10;
		k->rodata = 3188ull << 10;
		k->init = 912ull << 10;
		k->bss = 464ull << 10;
		k->image_extra = 0xef6000ull - ((9327ull + 1246 + 3188 + 912 + 464) << 10);
		k->percpu_unit = 33ull << 12;
		k->early_other = 2ull << 12;
		break;
	case ARCH_I386_PAE:
		snprintf(k->name, sizeof(k->name), "debian12-6.1-686-pae");
		k->highmem = true;                   /* CONFIG_HIGHMEM64G */
		k->struct_page_size = 40;
		k->nr_cpus_config = 32;
		/* provisional: the 686 figures until the 686-pae logs calibrate them */
		k->text = 9327ull << 10;
		k->rwdata = 1246ull << 10;
		k->rodata = 3188ull << 10;
		k->init = 912ull << 10;
		k->bss = 464ull << 10;
		k->image_extra = 0xef6000ull - ((9327ull + 1246 + 3188 + 912 + 464) << 10);
		k->percpu_unit = 33ull << 12;
		k->early_other = 2ull << 12;
		break;
	default:
		snprintf(k->name, sizeof(k->name), "debian12-6.1-amd64");
		k->struct_page_size = 64;
		k->nr_cpus_config = 8192;
		k->thp = true;
		/* provisional until the amd64 logs calibrate them */
		k->text = 14336ull << 10;
		k->rwdata = 2560ull << 10;
		k->rodata = 5632ull << 10;
		k->init = 2816ull << 10;
		k->bss = 5632ull << 10;
		k->image_extra = 2ull << 20;
		k->percpu_unit = 52ull << 12;
		k->early_other = 256ull << 10;
		break;
	}
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

static int set_lowmem_reserve_ratio(struct vm_sysctl *vm, const char *value, char *err,
				    size_t errlen)
{
	int v[MAX_NR_ZONES];
	int n = 0;
	const char *p = value;
	while (*p && n < MAX_NR_ZONES) {
		char *end;
		long x = strtol(p, &end, 10);
		if (end == p || x < 1 || x > INT32_MAX)
			break;
		v[n++] = (int)x;
		p = end;
		while (*p == ' ' || *p == ',')
			p++;
	}
	if (*p || n == 0) {
		snprintf(err, errlen, "expected up to %d ratios >= 1 separated by spaces or commas",
			 MAX_NR_ZONES);
		return -1;
	}
	for (int i = 0; i < n; i++)
		vm->lowmem_reserve_ratio[i] = v[i];
	return 0;
}

int machine_config_set(struct machine_config *cfg, const char *key, const char *value, char *err,
		       size_t errlen)
{
	if (strcmp(key, "vm.lowmem_reserve_ratio") == 0)
		return set_lowmem_reserve_ratio(&cfg->vm, value, err, errlen);
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
