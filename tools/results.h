/* Results of one replay: the JSON summary (schema in docs/RESULTS.md) and the time-series
 * CSV. Shared by replay and sweep so both write the same columns. */
#ifndef MM_RESULTS_H
#define MM_RESULTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "sim.h"
#include "trace_io.h"

struct run_info {
	const char *label;    /* the sweep cell's name, or NULL */
	const char *trace_path;
	const struct trace_origin *origin;
	enum trace_format format;
	uint64_t trace_hash;  /* trace_hash_event over every event, then the strings */
	uint64_t events;
	bool timing;          /* include wall time (the only non-deterministic field) */
	double wall_s;
};

/* A 64-bit identity of the decoded trace, independent of its file format. */
uint64_t trace_hash_event(uint64_t h, const struct mm_event *ev);
/* The same chain over n consecutive events: trace_hash_event applied to each in order. */
uint64_t trace_hash_events(uint64_t h, const struct mm_event *ev, size_t n);
uint64_t trace_hash_strings(uint64_t h, const struct strtab *t);

void results_write_json(struct json *j, const struct sim *s, const struct run_info *run);

/* The orders whose unusable free space index the summary and time series report. */
#define RESULTS_FRAG_ORDER_LOW 3  /* PAGE_ALLOC_COSTLY_ORDER */
#define RESULTS_FRAG_ORDER_HIGH 9 /* a THP / pageblock on x86_64 and PAE */

void results_csv_header(FILE *f, const struct sim *s);
void results_csv_row(FILE *f, const struct sim *s);

/* The node-wide unusable free space index (×1000) at order: every zone's buddy lists
 * together, the kernel's formula over the sums (mm/vmstat.c unusable_free_index). */
int results_node_unusable_index(const struct sim *s, unsigned order);

/* One row per run for the sweep table (docs/RESULTS.md "results.csv"): the same columns
 * for every arch (zones that do not exist are empty), so rows of any cells concatenate. */
void results_row_header(FILE *f);
void results_row(FILE *f, const struct sim *s, const struct run_info *run);

/* The frame map: physical memory at the end of the run as pfn ranges of one zone and
 * state, then pageblocks by migratetype (docs/RESULTS.md "frame map"). */
void results_frame_map(FILE *f, const struct sim *s);

/* The human summary on stdout. */
void results_print_summary(FILE *f, const struct sim *s, const struct run_info *run);

#endif
