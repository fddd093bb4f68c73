/* /proc/meminfo and free -m of the booted machine (engine/procfs_meminfo.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"
#include "page_alloc.h"
#include "procfs_meminfo.h"
#include "vmstat.h"

struct booted {
	struct machine m;
	struct pglist_data pgdat;
	uint64_t vmstat[NR_VM_STAT_ITEMS];
};

static struct booted *boot(enum arch arch, uint64_t mem, uint64_t swap)
{
	struct booted *b = calloc(1, sizeof(*b));
	struct machine_config cfg;
	char err[256];
	cr_assert_not_null(b);
	machine_config_default(&cfg, arch);
	cfg.mem_limit = mem;
	cfg.swap_bytes = swap;
	cr_assert_eq(machine_setup(&b->m, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(page_alloc_init(&b->pgdat, &b->m, b->vmstat), 0);
	return b;
}

static void unboot(struct booted *b)
{
	page_alloc_destroy(&b->pgdat);
	free(b);
}

static uint64_t field(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	cr_assert_not_null(p, "no %s", name);
	return strtoull(p + strlen(name), NULL, 10);
}

static const struct meminfo_pages none;

Test(meminfo, i386_1g_right_after_boot)
{
	struct booted *b = boot(ARCH_I386, 1ull << 30, 0);
	struct meminfo mi;
	char buf[4096];
	meminfo_read(&mi, &b->m, &b->pgdat, &none);
	cr_assert_lt(meminfo_render(buf, sizeof(buf), &mi), sizeof(buf));
	/* the real 686 mem=1G boot: Memory: 1021084K/…, 151560K highmem */
	cr_expect_eq(field(buf, "MemTotal:"), 1021084);
	cr_expect_eq(field(buf, "MemFree:"), 1021084);
	cr_expect_eq(field(buf, "HighTotal:"), 151560);
	cr_expect_eq(field(buf, "LowTotal:"), 1021084 - 151560);
	cr_expect_eq(field(buf, "VmallocTotal:"), 122880); /* facts §7: 120 MiB */
	cr_expect_eq(field(buf, "Hugepagesize:"), 4096);
	cr_expect_eq(field(buf, "CommitLimit:"), (1021084 / 4 / 2) * 4);
	cr_expect_eq(field(buf, "Percpu:"), 132);
	uint64_t avail = 1021084 - 4 * b->pgdat.totalreserve_pages;
	cr_expect_eq(field(buf, "MemAvailable:"), avail);
	cr_expect(strstr(buf, "MemTotal:        1021084 kB\n") == buf);
	cr_expect(strstr(buf, "HugePages_Total:       0\n") != NULL);
	cr_expect(strstr(buf, "HardwareCorrupted:") != NULL);

	cr_assert_lt(free_render(buf, sizeof(buf), &mi), sizeof(buf));
	char want[256];
	snprintf(
	    want, sizeof(want),
	    "               total        used        free      shared  buff/cache   available\n"
	    "Mem:             997 %11llu         997           0           0 %11llu\n"
	    "Swap:              0           0           0\n",
	    (unsigned long long)((1021084 - avail) >> 10), (unsigned long long)(avail >> 10));
	cr_expect_str_eq(buf, want);
	unboot(b);
}

Test(meminfo, x86_64_and_swap)
{
	struct booted *b = boot(ARCH_X86_64, 5ull << 30, 1ull << 30);
	struct meminfo mi;
	char buf[4096];
	meminfo_read(&mi, &b->m, &b->pgdat, &none);
	meminfo_render(buf, sizeof(buf), &mi);
	cr_expect(strstr(buf, "HighTotal:") == NULL);
	cr_expect_eq(field(buf, "VmallocTotal:"), 34359738367ull);
	cr_expect_eq(field(buf, "SwapTotal:"), 1048576);
	cr_expect_eq(field(buf, "SwapFree:"), 1048576);
	cr_expect_eq(field(buf, "Hugepagesize:"), 2048);
	cr_expect_eq(field(buf, "CommitLimit:"), b->m.totalram_pages * 50 / 100 * 4 + 1048576);
	cr_expect_eq(field(buf, "MemTotal:"), b->m.totalram_pages * 4);
	cr_expect(strstr(buf, "HardwareCorrupted:") != NULL);
	unboot(b);
}

/* si_mem_available keeps half the page cache or the low watermarks, whichever is less. */
Test(meminfo, mem_available_formula)
{
	struct booted *b = boot(ARCH_I386_PAE, 512ull << 20, 0);
	struct meminfo_pages p = {0};
	uint64_t wlow = 0, free = 0;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		wlow += b->pgdat.node_zones[z].watermark[WMARK_LOW];
		free += b->pgdat.node_zones[z].nr_free_pages;
	}
	uint64_t base = free - b->pgdat.totalreserve_pages;
	cr_expect_eq(si_mem_available(&b->pgdat, &p), base);
	p.inactive_file = 10 * wlow; /* half of it stays? no: only wlow stays */
	cr_expect_eq(si_mem_available(&b->pgdat, &p), base + 10 * wlow - wlow);
	p.inactive_file = wlow; /* small cache: half stays */
	cr_expect_eq(si_mem_available(&b->pgdat, &p), base + wlow - wlow / 2);
	p.inactive_file = 0;
	p.slab_reclaimable = 4 * wlow;
	cr_expect_eq(si_mem_available(&b->pgdat, &p), base + 3 * wlow);
	unboot(b);
}

/* The same lines, in the same order, as the real 6.1 kernels' /proc/meminfo
 * (tests/kernel-logs/BUILD-mem1G-proc.log), except DirectMap*, which are not modeled. */
static void keys(const char *text, char *out, size_t len)
{
	size_t n = 0;
	out[0] = 0;
	for (const char *l = text; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		const char *colon = strchr(l, ':');
		if (!colon || strncmp(l, "DirectMap", 9) == 0)
			continue;
		n += (size_t)snprintf(out + n, len - n, "%.*s,", (int)(colon - l), l);
	}
}

Test(meminfo, same_fields_as_the_real_kernels)
{
	static const struct {
		enum arch arch;
		const char *log;
	} builds[] = {{ARCH_I386, "tests/kernel-logs/686-mem1G-proc.log"},
		      {ARCH_I386_PAE, "tests/kernel-logs/686-pae-mem1G-proc.log"},
		      {ARCH_X86_64, "tests/kernel-logs/amd64-mem1G-proc.log"}};
	for (size_t i = 0; i < 3; i++) {
		FILE *f = fopen(builds[i].log, "r");
		cr_assert_not_null(f, "missing %s", builds[i].log);
		static char log[1 << 20];
		size_t n = fread(log, 1, sizeof(log) - 1, f);
		log[n] = 0;
		fclose(f);
		char *start = strstr(log, "=== /proc/meminfo\n");
		cr_assert_not_null(start);
		start += strlen("=== /proc/meminfo\n");
		char *end = strstr(start, "\n===");
		cr_assert_not_null(end);
		end[1] = 0;
		static char want[4096], got[4096], buf[4096];
		keys(start, want, sizeof(want));
		struct booted *b = boot(builds[i].arch, 1ull << 30, 0);
		struct meminfo mi;
		meminfo_read(&mi, &b->m, &b->pgdat, &none);
		meminfo_render(buf, sizeof(buf), &mi);
		keys(buf, got, sizeof(got));
		cr_expect_str_eq(got, want, "%s", builds[i].log);
		unboot(b);
	}
}
