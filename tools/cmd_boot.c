/* mmreplay boot: lay out the simulated machine for --arch/--mem and print what its kernel
 * would say about memory at boot. */
#include <stdlib.h>
#include <string.h>

#include "boot_report.h"
#include "cli.h"
#include "commands.h"
#include "page_alloc.h"
#include "procfs.h"
#include "procfs_meminfo.h"
#include "strbuf.h"
#include "vmstat.h"

enum {
	SEC_DMESG = 1 << 0,
	SEC_RESERVED = 1 << 1,
	SEC_LAYOUT = 1 << 2,
	SEC_FREE = 1 << 3,
	SEC_MEMINFO = 1 << 4,
	SEC_ZONEINFO = 1 << 5,
	SEC_BUDDYINFO = 1 << 6,
	SEC_PAGETYPEINFO = 1 << 7,
	SEC_PROC = SEC_FREE | SEC_MEMINFO | SEC_ZONEINFO | SEC_BUDDYINFO | SEC_PAGETYPEINFO,
	SEC_ALL = SEC_DMESG | SEC_RESERVED | SEC_LAYOUT | SEC_PROC,
};

static const struct {
	const char *name;
	unsigned bits;
} sections[] = {
    /* clang-format off */
	{"boot", SEC_DMESG},
	{"reserved", SEC_RESERVED},
	{"layout", SEC_LAYOUT},
	{"free", SEC_FREE},
	{"meminfo", SEC_MEMINFO},
	{"zoneinfo", SEC_ZONEINFO},
	{"buddyinfo", SEC_BUDDYINFO},
	{"pagetypeinfo", SEC_PAGETYPEINFO},
	{"all", SEC_ALL},
    /* clang-format on */
};

static void help(FILE *f)
{
	fputs("usage: mmreplay boot [machine options] [--section=LIST]\n\n"
	      "Boots the simulated machine (qemu -machine pc firmware map, the modeled Debian 12\n"
	      "6.1 kernel) and prints what the kernel reports about memory: the e820 map, mem=,\n"
	      "lowmem/highmem, zone ranges, memmap, the Memory: line; then the memblock\n"
	      "reservations behind the \"reserved\" figure and, for i386, the kernel's virtual\n"
	      "memory layout. See docs/MACHINE.md.\n\n"
	      "  --section=LIST   comma-separated: boot, reserved, layout, free, meminfo,\n"
	      "                   zoneinfo, buddyinfo, pagetypeinfo, all\n"
	      "                   (default all; free and meminfo read the page allocator right\n"
	      "                   after memblock_free_all, before any user space)\n\n",
	      f);
	machine_opts_help(f);
}

static int parse_sections(const char *list, unsigned *out)
{
	char buf[128];
	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	*out = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < sizeof(sections) / sizeof(sections[0]) && strcmp(tok, sections[i].name))
			i++;
		if (i == sizeof(sections) / sizeof(sections[0]))
			return -1;
		*out |= sections[i].bits;
	}
	return *out ? 0 : -1;
}

static void print_section(const char *title,
			  size_t (*render)(char *, size_t, const struct meminfo *),
			  const struct meminfo *mi)
{
	char buf[4096];
	render(buf, sizeof(buf), mi);
	printf("# %s\n%s", title, buf);
}

static int report(const struct machine *m, unsigned secs)
{
	if (secs & SEC_DMESG)
		boot_report_dmesg(stdout, m);
	if (secs & SEC_RESERVED)
		boot_report_reserved(stdout, m);
	if ((secs & SEC_LAYOUT) && m->cfg.arch != ARCH_X86_64)
		boot_report_layout(stdout, m);
	if (!(secs & SEC_PROC))
		return EXIT_OK;
	struct pglist_data pgdat;
	static uint64_t vmstat[NR_VM_STAT_ITEMS];
	if (page_alloc_init(&pgdat, m, vmstat))
		return cli_fail("boot", "out of memory for the simulated memory map");
	static const struct meminfo_pages none; /* nothing allocated yet */
	struct meminfo mi;
	meminfo_read(&mi, m, &pgdat, &none);
	if (secs & SEC_FREE)
		print_section("free -m (procps-ng 4), right after boot", free_render, &mi);
	if (secs & SEC_MEMINFO)
		print_section("/proc/meminfo, right after boot", meminfo_render, &mi);
	struct strbuf sb;
	strbuf_init(&sb);
	if (secs & SEC_ZONEINFO) {
		/* the per-node and LRU counters belong to subsystems that have nothing yet */
		procfs_zoneinfo(&sb, &pgdat, NULL);
		printf("# /proc/zoneinfo, right after boot (page allocator fields)\n%s",
		       strbuf_str(&sb));
		strbuf_reset(&sb);
	}
	if (secs & SEC_BUDDYINFO) {
		procfs_buddyinfo(&sb, &pgdat);
		printf("# /proc/buddyinfo, right after boot\n%s", strbuf_str(&sb));
		strbuf_reset(&sb);
	}
	if (secs & SEC_PAGETYPEINFO) {
		procfs_pagetypeinfo(&sb, &pgdat);
		printf("# /proc/pagetypeinfo, right after boot\n%s", strbuf_str(&sb));
	}
	bool oom = sb.oom;
	strbuf_free(&sb);
	page_alloc_destroy(&pgdat);
	return oom ? cli_fail("boot", "out of memory rendering /proc") : EXIT_OK;
}

int cmd_boot(int argc, char **argv)
{
	struct machine_opts o;
	unsigned secs = SEC_ALL;
	machine_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		if (cli_is_help(argv[i])) {
			help(stdout);
			return EXIT_OK;
		}
		int r = machine_opts_parse(&o, argc, argv, &i);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if ((v = cli_opt(argc, argv, &i, "--section", &missing)) || missing) {
			if (missing || parse_sections(v, &secs))
				return cli_usage_error(
				    "boot",
				    "--section: expected a comma-separated list of "
				    "boot, reserved, layout, free, meminfo, zoneinfo, buddyinfo, "
				    "pagetypeinfo, all");
			continue;
		}
		return cli_usage_error("boot", "unknown argument '%s' (see mmreplay boot --help)",
				       argv[i]);
	}
	if (machine_opts_finish(&o, "boot"))
		return EXIT_USAGE;
	struct machine *m = malloc(sizeof(*m));
	if (!m)
		return cli_fail("boot", "out of memory");
	char err[320];
	if (machine_setup(m, &o.cfg, err, sizeof(err))) {
		free(m);
		return cli_usage_error("boot", "%s", err);
	}
	int rc = report(m, secs);
	free(m);
	if (rc)
		return rc;
	if (fflush(stdout) || ferror(stdout))
		return cli_fail("boot", "error writing the output");
	return EXIT_OK;
}
