/* libFuzzer target: "ARCH MEM RAM CPUS" text through the option parsers and machine_setup;
 * a machine that boots must keep the accounting invariants, one that does not must say
 * why in one line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct machine *m)
{
	uint64_t managed = 0, present = 0;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		const struct zone_span *zs = &m->zones[z];
		if (zs->managed > zs->present || zs->present > zs->spanned ||
		    zs->end_pfn < zs->start_pfn)
			abort();
		managed += zs->managed;
		present += zs->present;
	}
	if (managed != m->totalram_pages || present != m->physpages || m->max_low_pfn > m->max_pfn)
		abort();
	for (int i = 1; i < m->nr_reserved; i++)
		if (m->reserved[i - 1].end > m->reserved[i].start)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct machine m;
	char text[128], err[320];
	char *tok[4] = {0};
	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	char *save = NULL;
	tok[0] = strtok_r(text, " \n", &save);
	for (int i = 1; i < 4 && tok[i - 1]; i++)
		tok[i] = strtok_r(NULL, " \n", &save);
	enum arch arch = ARCH_I386;
	if (tok[0] && parse_arch(tok[0], &arch, err, sizeof(err)))
		return 0;
	struct machine_config cfg;
	machine_config_default(&cfg, arch);
	if (tok[1] && parse_size(tok[1], &cfg.mem_limit, err, sizeof(err)))
		return 0;
	if (tok[2] && parse_size(tok[2], &cfg.ram, err, sizeof(err)))
		return 0;
	if (tok[3])
		cfg.nr_cpus = 1 + (unsigned)(strtoul(tok[3], NULL, 10) % 64);
	if (cfg.ram > (64ull << 30))
		cfg.ram = 64ull << 30; /* keep runs short; the limits are unit-tested */
	if (machine_setup(&m, &cfg, err, sizeof(err)) == 0)
		check(&m);
	else if (!err[0] || strchr(err, '\n'))
		abort();
	return 0;
}
