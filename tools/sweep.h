/* Sweep files (docs/BENCHMARKING.md "Sweep files"): parsing, the cell matrix, each cell's
 * replay command, and the results table built from cells' rows (merge). */
#ifndef MM_SWEEP_H
#define MM_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SWEEP_MAX_TRACES 32
#define SWEEP_MAX_VALUES 16
#define SWEEP_MAX_SETS 8
#define SWEEP_MAX_EXCLUDES 32
#define SWEEP_MAX_PARAMS 8

/* trace NAME = gen:WORKLOAD [seed=N] [scale=X] [K=V ...]   or   trace NAME = file:PATH */
struct sweep_trace {
	char name[48];
	char workload[32]; /* empty for file: traces */
	char path[512];	   /* file: traces */
	char seed[24], scale[24];
	char params[SWEEP_MAX_PARAMS][96];
	int nr_params;
};

/* One axis: a key (arch, mem, swap, cpus, or a vm.* sysctl) and its values. */
struct sweep_axis {
	char key[48];
	char values[SWEEP_MAX_VALUES][32];
	int n;
};

/* exclude = KEY=V[,V...] ...: a cell matching every condition is left out. */
struct sweep_exclude {
	struct sweep_axis cond[6];
	int n;
};

enum { AX_ARCH, AX_MEM, AX_SWAP, AX_CPUS, AX_FIXED }; /* axes[AX_FIXED..] are the `set` knobs */
#define SWEEP_MAX_AXES (AX_FIXED + SWEEP_MAX_SETS)

struct sweep {
	char name[64];
	struct sweep_trace traces[SWEEP_MAX_TRACES];
	int nr_traces;
	struct sweep_axis axes[SWEEP_MAX_AXES];
	int nr_axes;
	struct sweep_exclude excludes[SWEEP_MAX_EXCLUDES];
	int nr_excludes;
	char sample_every[24]; /* "" = no time series */
	bool frame_map;
	bool no_timing; /* not from the file: sweep --no-timing (byte-identical tables) */
};

/* Parse a sweep file's text; name is the default sweep name (the file's base name).
 * On error returns -1 with err = "FILE:LINE: what was expected". */
int sweep_parse(struct sweep *sw, const char *text, const char *file, const char *name, char *err,
		size_t errlen);
int sweep_load(struct sweep *sw, const char *path, char *err, size_t errlen);

/* A cell: one trace and one value of every axis. */
struct sweep_cell {
	int index; /* 0.. in matrix order, excluded cells not counted */
	int trace;
	int value[SWEEP_MAX_AXES];
	char label[160]; /* "0007-mix-i386-mem256M-swap0-oc0" */
};

/* The cells in matrix order (trace, then axes in the order above, set knobs in file
 * order); returns how many, or -1 when there would be more than cap (*total set). */
int sweep_expand(const struct sweep *sw, struct sweep_cell *cells, int cap, int *total);

/* argv of the cell's replay (after "mmreplay"), paths under dir; strings in buf. */
int sweep_cell_argv(const struct sweep *sw, const struct sweep_cell *c, const char *dir,
		    char **argv, int cap, char *buf, size_t buflen);
/* argv of `mmreplay gen` for a generated trace. */
int sweep_gen_argv(const struct sweep *sw, int t, const char *dir, char **argv, int cap, char *buf,
		   size_t buflen);
/* DIR/traces/NAME.mmt (generated) or the file: path. */
void sweep_trace_path(const struct sweep *sw, int t, const char *dir, char *out, size_t n);
void sweep_cell_path(const char *dir, const struct sweep_cell *c, const char *ext, char *out,
		     size_t n);

/* Shell-quote argv into one line (for --emit-jobs and the .cmd files). */
void sweep_format_command(FILE *f, const char *exe, char **argv, int argc);

/* The table: every DIR/cells/ *.row.csv (or a row CSV file given directly) of the inputs,
 * one row per label (the first input wins on duplicates), sorted by label; rows must share
 * one header. results.csv gets the rows, results.json a JSON array of the cells' JSON
 * summaries (next to each row file, same base name). Returns the number of rows or -1. */
int sweep_merge(char **inputs, int nr_inputs, const char *out_csv, const char *out_json, char *err,
		size_t errlen);

#endif
