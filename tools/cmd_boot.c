/* mmreplay boot: lay out the simulated machine for --arch/--mem and print what its kernel
 * would say about memory at boot. */
#include <stdlib.h>
#include <string.h>

#include "boot_report.h"
#include "cli.h"
#include "commands.h"

enum {
	SEC_DMESG = 1 << 0,
	SEC_RESERVED = 1 << 1,
	SEC_LAYOUT = 1 << 2,
	SEC_ALL = SEC_DMESG | SEC_RESERVED | SEC_LAYOUT,
};

static const struct {
	const char *name;
	unsigned bits;
} sections[] = {
	{"boot", SEC_DMESG},
	{"reserved", SEC_RESERVED},
	{"layout", SEC_LAYOUT},
	{"all", SEC_ALL},
};

static void help(FILE *f)
{
	fputs("usage: mmreplay boot [machine options] [--section=LIST]\n\n"
	      "Boots the simulated machine (qemu -machine pc firmware map, the modeled Debian 12\n"
	      "6.1 kernel) and prints what the kernel reports about memory: the e820 map, mem=,\n"
	      "lowmem/highmem, zone ranges, memmap, the Memory: line; then the memblock\n"
	      "reservations behind the \"reserved\" figure and, for i386, the kernel's virtual\n"
	      "memory layout. See docs/MACHINE.md.\n\n"
	      "  --section=LIST   comma-separated: boot, reserved, layout, all (default all)\n\n",
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

int cmd_boot(int argc, char **argv)
{
	struct machine_opts o;
	unsigned secs = SEC_ALL;
	machine_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		bool missing;
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
				return cli_usage_error("boot", "--section: expected a comma-separated list of "
							       "boot, reserved, layout, all");
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
	if (secs & SEC_DMESG)
		boot_report_dmesg(stdout, m);
	if (secs & SEC_RESERVED)
		boot_report_reserved(stdout, m);
	if ((secs & SEC_LAYOUT) && m->cfg.arch != ARCH_X86_64)
		boot_report_layout(stdout, m);
	free(m);
	if (fflush(stdout) || ferror(stdout))
		return cli_fail("boot", "error writing the output");
	return EXIT_OK;
}
