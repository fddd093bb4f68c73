/* mmreplay gen: write a synthetic workload trace (tools/gen.h, docs/WORKLOADS.md). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "gen.h"
#include "trace_io.h"

#define MAX_KV 256
/* gen's .mmt blocks are stored, not deflated: a generated trace is regenerated from its
 * origin header in a fraction of a second, deflate saves only ~25 % of its bytes (mostly
 * literals: the records are varint deltas), and every replay of it would pay ~12 % of its
 * time to inflate (docs/BENCHMARKING.md). Recorded and converted traces keep level 1. */
#define GEN_DEFAULT_LEVEL 0

static void gen_help(FILE *f)
{
	fputs(
	    "usage: mmreplay gen WORKLOAD [--seed N] [--scale X] [--param KEY=VALUE ...] -o FILE\n"
	    "       mmreplay gen --list\n"
	    "       mmreplay gen WORKLOAD --help     (the workload's parameters)\n\n"
	    "Writes a deterministic synthetic trace: the same workload, seed, scale and\n"
	    "parameters give the same trace, byte for byte.\n\n"
	    "  -o FILE          output; *.mmt is binary, anything else text, '-' text on stdout\n"
	    "  --seed N         PRNG seed (default 1)\n"
	    "  --scale X        multiplies the amount of work: counts and durations (default 1)\n"
	    "  --param K=V      a workload parameter; mix also takes PART.K=V (db.size_mb=512)\n"
	    "  --level N        deflate level of .mmt blocks, 0 (stored: larger, quicker to\n"
	    "                   replay) to 12 (smallest); default 0 (see 'convert --help')\n"
	    "  --list           the workloads, one line each\n\n"
	    "Workloads are described in docs/WORKLOADS.md.\n",
	    f);
}

static void gen_list(void)
{
	for (size_t i = 0; gen_workload_at(i); i++)
		printf("%-9s %s\n", gen_workload_at(i)->name, gen_workload_at(i)->summary);
}

struct writer_sink {
	struct trace_writer *w;
	char err[256];
};

static uint32_t ws_intern(void *ctx, const char *s)
{
	struct writer_sink *ws = ctx;
	uint32_t id = trace_writer_intern(ws->w, s);
	if (id == UINT32_MAX)
		snprintf(ws->err, sizeof(ws->err), "cannot add string \"%s\" to the trace", s);
	return id;
}

static int ws_put(void *ctx, const struct mm_event *ev)
{
	struct writer_sink *ws = ctx;
	return trace_writer_put(ws->w, ev, ws->err, sizeof(ws->err));
}

/* The origin header: enough to regenerate the trace. */
static int fill_origin(struct trace_origin *o, const char *wl, const struct gen_params *p)
{
	char buf[256];
	size_t off = 0;
	const char *cpus = "2";
	memset(o, 0, sizeof(*o));
	trace_origin_set(o, "source", "synthetic");
	trace_origin_set(o, "generator", wl);
	trace_origin_set(o, "generator_version", "mmreplay " MMREPLAY_VERSION);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)p->seed);
	trace_origin_set(o, "seed", buf);
	snprintf(buf, sizeof(buf), "%.17g", p->scale);
	trace_origin_set(o, "scale", buf);
	buf[0] = 0;
	for (int i = 0; i < p->nkv; i++) {
		size_t n = strlen(p->kv[i]);
		if (off + n + 2 > sizeof(buf))
			return -1;
		if (off)
			buf[off++] = ' ';
		memcpy(buf + off, p->kv[i], n + 1);
		off += n;
		if (strncmp(p->kv[i], "cpus=", 5) == 0)
			cpus = p->kv[i] + 5;
	}
	trace_origin_set(o, "params", buf);
	trace_origin_set(o, "page_size", "4096");
	trace_origin_set(o, "nr_cpus", cpus);
	return 0;
}

static int parse_args(int argc, char **argv, const char **wl, const char **out,
		      struct gen_params *p, const char **kv, int *level)
{
	bool missing = false;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if (cli_is_help(argv[i]))
			continue;
		if ((v = cli_opt(argc, argv, &i, "--seed", &missing))) {
			char *end;
			errno = 0;
			p->seed = strtoull(v, &end, 0);
			if (!*v || *v == '-' || *end || errno)
				return cli_usage_error(
				    "gen", "--seed %s: expected a non-negative whole number", v);
		} else if ((v = cli_opt(argc, argv, &i, "--scale", &missing))) {
			char *end;
			p->scale = strtod(v, &end);
			if (!*v || *end || !isfinite(p->scale) || p->scale <= 0)
				return cli_usage_error("gen",
						       "--scale %s: expected a number above 0", v);
		} else if ((v = cli_opt(argc, argv, &i, "--param", &missing))) {
			if (p->nkv == MAX_KV)
				return cli_usage_error("gen", "too many --param options");
			kv[p->nkv++] = v;
		} else if ((v = cli_opt(argc, argv, &i, "--level", &missing))) {
			if (cli_parse_deflate_level("gen", v, level))
				return EXIT_USAGE;
		} else if ((v = cli_opt(argc, argv, &i, "-o", &missing)) ||
			   (v = cli_opt(argc, argv, &i, "--output", &missing))) {
			*out = v;
		} else if (missing) {
			return cli_usage_error("gen", "%s needs a value", argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error(
			    "gen", "unknown option '%s'; see 'mmreplay gen --help'", argv[i]);
		} else if (*wl) {
			return cli_usage_error("gen", "one workload only ('%s' and '%s')", *wl,
					       argv[i]);
		} else {
			*wl = argv[i];
		}
	}
	return EXIT_OK;
}

int cmd_gen(int argc, char **argv)
{
	const char *wl = NULL, *out = NULL;
	const char *kv[MAX_KV];
	struct gen_params p = {.seed = 1, .scale = 1.0, .kv = kv, .nkv = 0};
	bool help = false;
	int level = GEN_DEFAULT_LEVEL;
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i]))
			help = true;
		else if (strcmp(argv[i], "--list") == 0)
			return gen_list(), EXIT_OK;
	}
	int rc = parse_args(argc, argv, &wl, &out, &p, kv, &level);
	if (rc != EXIT_OK)
		return rc;
	if (help) {
		if (wl && gen_describe(wl, stdout) == 0)
			return EXIT_OK;
		gen_help(stdout);
		return EXIT_OK;
	}
	if (!wl)
		return cli_usage_error("gen", "needs a WORKLOAD; see 'mmreplay gen --list'");
	char err[512];
	if (gen_check(wl, &p, err, sizeof(err)))
		return cli_usage_error("gen", "%s", err);
	if (!out)
		return cli_usage_error("gen",
				       "needs -o FILE (FILE.mmt for binary, - for text on stdout)");
	struct trace_origin origin;
	if (fill_origin(&origin, wl, &p))
		return cli_usage_error("gen",
				       "--param values too long for the trace header (255 bytes)");
	struct writer_sink ws = {.err = ""};
	ws.w = trace_writer_open(out, trace_format_for_path(out), &origin, err, sizeof(err));
	if (!ws.w)
		return cli_fail("gen", "%s", err);
	if (trace_writer_set_level(ws.w, level)) {
		trace_writer_abort(ws.w);
		return cli_fail("gen", "out of memory");
	}
	struct event_sink sink = {&ws, ws_intern, ws_put};
	if (gen_run(wl, &p, &sink, err, sizeof(err))) {
		trace_writer_abort(ws.w);
		return cli_fail("gen", "%s: %s%s%s", out, err, ws.err[0] ? ": " : "", ws.err);
	}
	uint64_t n = trace_writer_count(ws.w);
	if (trace_writer_close(ws.w, err, sizeof(err)))
		return cli_fail("gen", "%s", err);
	if (strcmp(out, "-") != 0)
		fprintf(stderr, "mmreplay gen: %s: %llu events\n", out, (unsigned long long)n);
	return EXIT_OK;
}
