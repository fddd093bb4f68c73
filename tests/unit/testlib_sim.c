#include "testlib_sim.h"

#include <criterion/criterion.h>

void tl_sim_config(struct machine_config *cfg, enum arch arch, const char *mem, const char *swap)
{
	char err[256];
	machine_config_default(cfg, arch);
	cr_assert_eq(parse_size(mem, &cfg->mem_limit, err, sizeof(err)), 0, "%s", err);
	cfg->ram = cfg->mem_limit;
	if (swap)
		cr_assert_eq(parse_size(swap, &cfg->swap_bytes, err, sizeof(err)), 0, "%s", err);
}

struct sim *tl_sim_create(const struct machine_config *cfg, struct strtab *strings)
{
	char err[256];
	struct sim *s = sim_create(cfg, strings, REPLAY_MODEL, err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	return s;
}
