/* Fidelity: what a real recording says the kernel did, next to what the model did with the
 * same events (docs/FIDELITY.md). The trace side is counted while the events stream past;
 * the model side is the simulator's counters minus their value at boot. */
#ifndef MM_FIDELITY_H
#define MM_FIDELITY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "sim.h"
#include "trace_io.h"

/* True when the trace is an import of a real recording (the importer's "importer" or
 * "kernel" keys, no "generator"): such traces start mid-life, so the replay should let a
 * fault outside every VMA create an implicit region (docs/MM.md). */
bool trace_origin_is_recording(const struct trace_origin *o);

/* What the trace itself records, counted event by event. */
struct fidelity_trace {
	uint64_t events;
	uint64_t faults;
	uint64_t page_alloc[NR_PAGE_ORDERS], page_free[NR_PAGE_ORDERS];
	uint64_t page_alloc_bad_order;
	uint64_t kmalloc, kmalloc_req, kmalloc_alloc;
	uint64_t cache_alloc, cache_req, cache_alloc_bytes;
	uint64_t kfree, cache_free;
	uint64_t vmalloc, vmalloc_bytes, vfree;
	uint64_t oom_marks;
};

/* The model's counters at boot, so boot-time allocations do not count as the trace's. */
struct fidelity_baseline {
	uint64_t vmstat[NR_VM_STAT_ITEMS];
	uint64_t nr_alloc[NR_PAGE_ORDERS];
	struct tlb_stats tlb;
	uint64_t slab_req, slab_alloc;
};

void fidelity_baseline_take(struct fidelity_baseline *b, const struct sim *s);
void fidelity_observe(struct fidelity_trace *t, const struct mm_event *ev,
		      const struct strtab *strings);

/* One line of the comparison; a side the trace or the model does not have is absent. */
struct fidelity_row {
	const char *group, *key, *label;
	bool has_recorded, has_model;
	uint64_t recorded, model;
};

#define FIDELITY_MAX_ROWS 96
struct fidelity_report {
	struct fidelity_row row[FIDELITY_MAX_ROWS];
	int n;
	bool tlb_recorded; /* the recording had tlb:tlb_flush */
};

void fidelity_build(struct fidelity_report *r, const struct fidelity_trace *t,
		    const struct fidelity_baseline *b, const struct sim *s,
		    const struct trace_origin *origin);
/* Rows of a group and key, NULL if absent (tests). */
const struct fidelity_row *fidelity_find(const struct fidelity_report *r, const char *group,
					 const char *key);

struct fidelity_run {
	const char *trace_path;
	const struct trace_origin *origin;
	uint64_t events, trace_hash;
};

void fidelity_print(FILE *f, const struct fidelity_report *r, const struct sim *s,
		    const struct fidelity_run *run);
void fidelity_write_json(struct json *j, const struct fidelity_report *r, const struct sim *s,
			 const struct fidelity_run *run);

#endif
