#include "bench_common.h"

#include <stdio.h>
#include <string.h>

void bench_config_x86_64(struct machine_config *cfg, uint64_t mem_mib)
{
	machine_config_default(cfg, ARCH_X86_64);
	cfg->mem_limit = mem_mib << 20;
	if (cfg->ram < cfg->mem_limit)
		cfg->ram = cfg->mem_limit;
}

static void no_kswapd(void *ctx, int zone_idx, unsigned order, gfp_t gfp)
{
	(void)ctx, (void)zone_idx, (void)order, (void)gfp;
}

static uint64_t no_reclaim(void *ctx, unsigned order, gfp_t gfp)
{
	(void)ctx, (void)order, (void)gfp;
	return 0;
}

static bool no_oom_kill(void *ctx, unsigned order, gfp_t gfp)
{
	(void)ctx, (void)order, (void)gfp;
	return false;
}

int bench_node_boot(struct bench_node *n, const struct machine_config *cfg, char *err,
		    size_t errlen)
{
	memset(n->vmstat, 0, sizeof(n->vmstat));
	if (machine_setup(&n->m, cfg, err, errlen))
		return -1;
	if (page_alloc_init(&n->pgdat, &n->m, n->vmstat)) {
		snprintf(err, errlen, "page_alloc_init: out of host memory");
		return -1;
	}
	n->pgdat.hooks.ctx = NULL;
	n->pgdat.hooks.wakeup_kswapd = no_kswapd;
	n->pgdat.hooks.direct_reclaim = no_reclaim;
	n->pgdat.hooks.out_of_memory = no_oom_kill;
	return 0;
}

void bench_node_destroy(struct bench_node *n) { page_alloc_destroy(&n->pgdat); }
