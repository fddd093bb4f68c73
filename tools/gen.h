/* Synthetic workload generators: deterministic (seeded) streams of struct mm_event that
 * imitate shells, compilers, databases, fork-heavy servers, slab and vmalloc churn and
 * memory leaks. The generators know nothing about trace files: they hand events and
 * strings to an event_sink (the trace writer, an in-memory buffer, a hash in tests).
 * Workloads and their parameters are described in docs/WORKLOADS.md. */
#ifndef MM_GEN_H
#define MM_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "event.h"

struct event_sink {
	void *ctx;
	/* Returns the string's id, UINT32_MAX on failure. Called before any event names it. */
	uint32_t (*intern)(void *ctx, const char *s);
	/* 0, or nonzero to stop generation (gen_run then fails with "sink refused event"). */
	int (*put)(void *ctx, const struct mm_event *ev);
};

struct gen_params {
	uint64_t seed;
	double scale;	       /* multiplies the amount of work (counts, durations); > 0 */
	const char *const *kv; /* "key=value" overrides, checked against the workload */
	int nkv;
};

struct gen_workload_info {
	const char *name;
	const char *summary; /* one line */
};

/* The workloads, in a fixed order; NULL past the end. */
const struct gen_workload_info *gen_workload_at(size_t i);

/* Check workload name and parameters without generating anything. 0, or -1 with err. */
int gen_check(const char *workload, const struct gen_params *p, char *err, size_t errlen);

/* Generate the whole workload into sink. 0 on success; -1 with err (bad workload name or
 * parameter: nothing was put; sink failure: a prefix was put). */
int gen_run(const char *workload, const struct gen_params *p, struct event_sink *sink, char *err,
	    size_t errlen);

/* Parameter table of one workload (name, default, range, meaning) for --help; -1 if unknown. */
int gen_describe(const char *workload, FILE *f);

#endif
