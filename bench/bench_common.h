/* Helpers shared by the microbenchmarks: a seeded PRNG and a booted x86_64 machine. */
#ifndef MM_BENCH_COMMON_H
#define MM_BENCH_COMMON_H

#include <stdint.h>

#include "machine.h"
#include "page_alloc.h"
#include "vmstat.h"

/* splitmix64 (Steele, Lea, Flood 2014): a fixed sequence per seed, so every run of a
 * benchmark does the same work. */
static inline uint64_t bench_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A booted simulated machine: machine_setup + page_alloc_init, the part of sim_create the
 * allocator benchmarks need. */
struct bench_node {
	struct machine m;
	struct pglist_data pgdat;
	uint64_t vmstat[NR_VM_STAT_ITEMS];
};

/* The configuration `mmreplay --arch=x86_64 --mem=<mem_mib>M` boots: the default machine,
 * with installed RAM raised to mem= when mem= is larger. */
void bench_config_x86_64(struct machine_config *cfg, uint64_t mem_mib);
/* 0, or -1 with a one-line reason in err. Hooks are set to do nothing (no reclaim, no OOM
 * kill), so an allocation that cannot be served fails and is counted. */
int bench_node_boot(struct bench_node *n, const struct machine_config *cfg, char *err,
		    size_t errlen);
void bench_node_destroy(struct bench_node *n);

#endif
