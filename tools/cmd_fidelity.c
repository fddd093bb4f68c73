/* mmreplay fidelity: replay a real recording at model level and put what the kernel
 * recorded next to what the model did (docs/FIDELITY.md). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "cli.h"
#include "commands.h"
#include "fidelity.h"
#include "results.h"
#include "trace_io.h"

#define FIDELITY_BATCH 256 /* as replay: a batch stays in L1 from decode to apply */

struct fidelity_opts {
	struct machine_opts machine;
	const char *trace, *json;
	int implicit; /* -1: from the trace's origin, 0 off, 1 on */
	bool quiet;
};

static void fidelity_help(FILE *f)
{
	fputs("usage: mmreplay fidelity TRACE [machine options] [options]\n\n"
	      "Replays an imported recording (mmreplay import) at model level and prints, side by\n"
	      "side, what the kernel recorded and what the model produced: TLB flushes by\n"
	      "tlb:tlb_flush reason, page allocations by order, slab bytes requested/allocated,\n"
	      "vmalloc areas and OOM victims (docs/FIDELITY.md).\n\n"
	      "Options:\n"
	      "  --json FILE              write the comparison as JSON to FILE\n"
	      "  --implicit-regions=on|off  a fault outside every VMA creates an implicit region\n"
	      "                           (default: on for imported recordings, off otherwise)\n"
	      "  --quiet                  no table on stdout\n\n",
	      f);
	machine_opts_help(f);
}

static int parse_args(int argc, char **argv, struct fidelity_opts *o)
{
	memset(o, 0, sizeof(*o));
	machine_opts_init(&o->machine);
	o->implicit = -1;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		int r = machine_opts_parse(&o->machine, argc, argv, &i);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (cli_is_help(argv[i])) {
			fidelity_help(stdout);
			exit(EXIT_OK);
		} else if ((v = cli_opt(argc, argv, &i, "--json", &missing))) {
			o->json = v;
		} else if ((v = cli_opt(argc, argv, &i, "--implicit-regions", &missing))) {
			if (cli_parse_on_off("fidelity", "--implicit-regions", v, &o->implicit))
				return EXIT_USAGE;
		} else if (strcmp(argv[i], "--quiet") == 0) {
			o->quiet = true;
		} else if (missing) {
			return cli_usage_error("fidelity", "%s needs a value", argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error("fidelity", "unknown option %s (see --help)",
					       argv[i]);
		} else if (o->trace) {
			return cli_usage_error("fidelity", "one trace at a time (got %s and %s)",
					       o->trace, argv[i]);
		} else {
			o->trace = argv[i];
		}
	}
	if (!o->trace)
		return cli_usage_error("fidelity",
				       "which trace? (mmreplay fidelity TRACE; see --help)");
	if (machine_opts_finish(&o->machine, "fidelity"))
		return EXIT_USAGE;
	return EXIT_OK;
}

static int fidelity_loop(struct trace_reader *rd, struct sim *s, struct fidelity_trace *t,
			 struct fidelity_run *run)
{
	static struct mm_event batch[FIDELITY_BATCH];
	char err[512];
	uint64_t h = 0x6d6d7265706c6179ull; /* the replay's seed: the same hash as replay prints */
	ssize_t n;
	while ((n = trace_reader_next(rd, batch, FIDELITY_BATCH, err, sizeof(err))) > 0) {
		const struct strtab *strings = trace_reader_strings(rd);
		for (ssize_t i = 0; i < n; i++) {
			h = trace_hash_event(h, &batch[i]);
			fidelity_observe(t, &batch[i], strings);
			sim_prefetch(s, batch, (size_t)i, (size_t)n);
			sim_apply(s, &batch[i]);
		}
	}
	if (n < 0)
		return cli_usage_error("fidelity", "%s", err);
	run->events = t->events;
	run->trace_hash = trace_hash_strings(h, trace_reader_strings(rd));
	return EXIT_OK;
}

static int write_json(const char *path, const struct fidelity_report *r, const struct sim *s,
		      const struct fidelity_run *run)
{
	struct atomic_file a;
	char err[512];
	if (atomic_open(&a, path, err, sizeof(err)))
		return cli_fail("fidelity", "%s", err);
	struct json j;
	json_init(&j, a.f);
	fidelity_write_json(&j, r, s, run);
	if (atomic_commit(&a, err, sizeof(err)))
		return cli_fail("fidelity", "%s", err);
	return EXIT_OK;
}

static int run_fidelity(const struct fidelity_opts *o, struct trace_reader *rd, struct sim *s)
{
	const struct trace_origin *origin = trace_reader_origin(rd);
	s->mm.implicit_regions =
	    o->implicit >= 0 ? o->implicit == 1 : trace_origin_is_recording(origin);
	struct fidelity_baseline b;
	fidelity_baseline_take(&b, s);
	struct fidelity_trace t = {0};
	struct fidelity_run run = {.trace_path = o->trace, .origin = origin};
	int rc = fidelity_loop(rd, s, &t, &run);
	if (rc)
		return rc;
	static struct fidelity_report rep;
	fidelity_build(&rep, &t, &b, s, origin);
	if (o->json && (rc = write_json(o->json, &rep, s, &run)))
		return rc;
	if (!o->quiet)
		fidelity_print(stdout, &rep, s, &run);
	return EXIT_OK;
}

int cmd_fidelity(int argc, char **argv)
{
	struct fidelity_opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	char err[512];
	struct trace_reader *rd = trace_reader_open(o.trace, err, sizeof(err));
	if (!rd)
		return cli_usage_error("fidelity", "%s", err);
	struct sim *s =
	    sim_create(&o.machine.cfg, trace_reader_strings(rd), REPLAY_MODEL, err, sizeof(err));
	if (!s) {
		trace_reader_close(rd);
		return cli_usage_error("fidelity", "%s", err);
	}
	rc = run_fidelity(&o, rd, s);
	sim_destroy(s);
	trace_reader_close(rd);
	return rc;
}
