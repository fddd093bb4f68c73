/* machine_setup against /proc of the real boots (tests/kernel-logs/NAME-proc.log: the same
 * kernels and qemu machine, with a busybox initramfs that dumps /proc and powers off). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"
#include "procfs_meminfo.h"
#include "trace_testlib.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static char *read_file(const char *path)
{
	size_t n;
	char *s = tl_slurp(path, &n);
	cr_assert_not_null(s, "missing %s", path);
	return s;
}

static uint64_t value_after(const char *from, const char *key)
{
	const char *p = strstr(from, key);
	cr_assert_not_null(p, "no %s", key);
	return strtoull(p + strlen(key), NULL, 10);
}

/* Memory the kernel frees after the Memory: line and before init runs ("Freeing SMP
 * alternatives memory", "Freeing unused kernel image (initmem) memory", the amd64 image
 * gaps and decrypted area), in K; initrd is left out (this model boots without one). */
static uint64_t freed_after_mem_init(const char *log)
{
	uint64_t k = 0;
	for (const char *p = strstr(log, "] Freeing "); p; p = strstr(p + 1, "] Freeing ")) {
		const char *eol = strchr(p, '\n');
		const char *colon = strstr(p, "memory: ");
		if (!colon || (eol && colon > eol) || strncmp(p, "] Freeing initrd", 16) == 0)
			continue;
		k += strtoull(colon + 8, NULL, 10);
	}
	return k;
}

static const struct {
	const char *name;
	enum arch arch;
	uint64_t mem, ram;
} boots[] = {
    {"686-mem256M", ARCH_I386, 256 * MiB, 6 * GiB},
    {"686-mem512M", ARCH_I386, 512 * MiB, 6 * GiB},
    {"686-mem1G", ARCH_I386, GiB, 6 * GiB},
    {"686-mem5G", ARCH_I386, 5 * GiB, 6 * GiB},
    {"686-nomem-m1G", ARCH_I386, 0, GiB},
    {"686-nomem-m5G", ARCH_I386, 0, 5 * GiB},
    {"686-pae-mem256M", ARCH_I386_PAE, 256 * MiB, 6 * GiB},
    {"686-pae-mem512M", ARCH_I386_PAE, 512 * MiB, 6 * GiB},
    {"686-pae-mem1G", ARCH_I386_PAE, GiB, 6 * GiB},
    {"686-pae-mem5G", ARCH_I386_PAE, 5 * GiB, 6 * GiB},
    {"amd64-mem256M", ARCH_X86_64, 256 * MiB, 6 * GiB},
    {"amd64-mem512M", ARCH_X86_64, 512 * MiB, 6 * GiB},
    {"amd64-mem1G", ARCH_X86_64, GiB, 6 * GiB},
    {"amd64-mem5G", ARCH_X86_64, 5 * GiB, 6 * GiB},
};

/* spanned and present of every zone, MemTotal once the post-boot frees are added, and the
 * fields of meminfo that do not depend on what user space did. */
Test(machine_proc, zones_and_meminfo_match_the_real_proc)
{
	static struct machine m;
	for (size_t i = 0; i < sizeof(boots) / sizeof(boots[0]); i++) {
		char path[128], err[256];
		snprintf(path, sizeof(path), "tests/kernel-logs/%s-proc.log", boots[i].name);
		char *log = read_file(path);
		struct machine_config cfg;
		machine_config_default(&cfg, boots[i].arch);
		cfg.mem_limit = boots[i].mem;
		cfg.ram = boots[i].ram;
		cr_assert_eq(machine_setup(&m, &cfg, err, sizeof(err)), 0, "%s", err);

		const char *zi = strstr(log, "=== /proc/zoneinfo");
		cr_assert_not_null(zi);
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			char head[64];
			snprintf(head, sizeof(head), "Node 0, zone %8s\n", zone_names[z]);
			const char *zp = strstr(zi, head);
			if (!zp) {
				cr_expect_eq(m.zones[z].spanned, 0, "%s %s", boots[i].name, head);
				continue;
			}
			cr_expect_eq(value_after(zp, "spanned"), m.zones[z].spanned,
				     "%s %s spanned", boots[i].name, zone_names[z]);
			cr_expect_eq(value_after(zp, "present"), m.zones[z].present,
				     "%s %s present", boots[i].name, zone_names[z]);
		}

		const char *mi = strstr(log, "=== /proc/meminfo");
		cr_assert_not_null(mi);
		cr_expect_eq(value_after(mi, "MemTotal:"),
			     m.totalram_pages * 4 + freed_after_mem_init(log), "%s MemTotal",
			     boots[i].name);
		cr_expect_eq(value_after(mi, "Hugepagesize:"),
			     boots[i].arch == ARCH_I386 ? 4096 : 2048);
		if (boots[i].arch != ARCH_X86_64) {
			cr_expect_eq(value_after(mi, "HighTotal:"),
				     m.zones[ZONE_HIGHMEM].managed * 4, "%s HighTotal",
				     boots[i].name);
			cr_expect_eq(value_after(mi, "VmallocTotal:"),
				     (m.layout.vmalloc_end - m.layout.vmalloc_start) >> 10,
				     "%s VmallocTotal", boots[i].name);
		} else {
			cr_expect_eq(value_after(mi, "VmallocTotal:"), 34359738367ull);
		}
		cr_expect_eq(value_after(mi, "Percpu:") >= cfg.kernel.percpu_unit >> 10, 1);
		free(log);
	}
}
