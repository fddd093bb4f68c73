/* mmreplay import: trace.dat → .mmt (or the text format, by the output's name).
 *
 * The converted events are held in memory until the end, because the .mmt header carries
 * facts known only after the whole file is read (lost events, TLB flush counts by reason):
 * 48 bytes per event, e.g. 70 MB for 1.4 M events. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "import.h"
#include "strtab.h"

struct held {
	struct strtab strs;
	struct mm_event *ev;
	size_t n, cap;
};

static uint32_t held_intern(void *ctx, const char *s)
{
	struct held *h = ctx;
	return strtab_intern(&h->strs, s, strlen(s));
}

static int held_put(void *ctx, const struct mm_event *ev, char *err, size_t errlen)
{
	struct held *h = ctx;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 65536;
		struct mm_event *n = realloc(h->ev, cap * sizeof(*n));
		if (!n) {
			snprintf(err, errlen, "out of memory holding %zu events", h->n);
			return -1;
		}
		h->ev = n;
		h->cap = cap;
	}
	h->ev[h->n++] = *ev;
	return 0;
}

/* The string fields of an event, so ids can be renumbered into the writer's table. */
static uint32_t *string_field(struct mm_event *e)
{
	switch (e->type) {
	case EV_EXEC:
		return &e->u.exec.filename;
	case EV_MMAP:
		return &e->u.map.file;
	case EV_CACHE_ALLOC:
	case EV_CACHE_FREE:
		return &e->u.kmem.cache;
	case EV_COMM:
		return &e->u.comm.name;
	case EV_MARK:
		return &e->u.mark.name;
	default:
		return NULL;
	}
}

static int write_out(struct held *h, const char *out, const struct trace_origin *origin)
{
	char err[512];
	struct trace_writer *w =
	    trace_writer_open(out, trace_format_for_path(out), origin, err, sizeof(err));
	if (!w)
		return cli_fail("import", "%s", err);
	uint32_t *remap = calloc(h->strs.count ? h->strs.count : 1, sizeof(*remap));
	if (!remap) {
		trace_writer_abort(w);
		return cli_fail("import", "out of memory");
	}
	for (uint32_t id = 1; id < h->strs.count; id++) {
		remap[id] = trace_writer_intern(w, h->strs.str[id]);
		if (remap[id] == UINT32_MAX) {
			free(remap);
			trace_writer_abort(w);
			return cli_fail("import", "%s: cannot store string \"%.40s\"", out,
					h->strs.str[id]);
		}
	}
	for (size_t i = 0; i < h->n; i++) {
		uint32_t *s = string_field(&h->ev[i]);
		if (s)
			*s = remap[*s];
		if (trace_writer_put(w, &h->ev[i], err, sizeof(err))) {
			free(remap);
			trace_writer_abort(w);
			return cli_fail("import", "%s", err);
		}
	}
	free(remap);
	if (trace_writer_close(w, err, sizeof(err)))
		return cli_fail("import", "%s", err);
	return EXIT_OK;
}

static void import_help(FILE *f)
{
	fputs("usage: mmreplay import TRACE.dat [-o OUT.mmt] [--counts] [--progress] [--quiet]\n\n"
	      "Converts a trace-cmd recording (see mmreplay record) to an mmreplay trace.\n"
	      "OUT ending in .mmt is binary; .txt / .txt.gz the text format. Default: TRACE with\n"
	      ".dat replaced by .mmt. The mapping from tracepoints to events, and what is assumed\n"
	      "when a tracepoint is missing, is in docs/IMPORT.md.\n\n"
	      "  -o OUT       output file (written to OUT.tmp, renamed when complete)\n"
	      "  --counts     print the records per tracepoint (\"system:event N\") on stdout;\n"
	      "               without -o, nothing is written\n"
	      "  --progress   progress on stderr (default when stderr is a terminal)\n"
	      "  --quiet      no warnings or summary on stderr\n",
	      f);
}

static void summary(const char *in, const char *out, const struct import_stats *st)
{
	uint64_t total = 0;
	for (int t = 1; t < EV_NR_TYPES; t++)
		total += st->emitted[t];
	fprintf(stderr,
		"mmreplay import: %s: %" PRIu64 " records, %.3f s → %" PRIu64 " events%s%s\n", in,
		st->records, (double)(st->last_ts - st->first_ts) / 1e9, total, out ? " in " : "",
		out ? out : "");
	fprintf(stderr, "  ");
	for (int t = 1; t < EV_NR_TYPES; t++)
		if (st->emitted[t])
			fprintf(stderr, " %s=%" PRIu64, mm_event_names[t], st->emitted[t]);
	fputc('\n', stderr);
	fprintf(stderr,
		"   unknown=%" PRIu64 " pid0=%" PRIu64 " free(NULL)=%" PRIu64
		" alloc_failed=%" PRIu64 " syscall_failed=%" PRIu64 " syscall_unpaired=%" PRIu64
		" kernel_addr_faults=%" PRIu64 " fork_flags_unknown=%" PRIu64
		" gfp_bits_dropped=%" PRIu64 " oom_victims=%" PRIu64
		" page_free_batched_dup=%" PRIu64 "\n",
		st->unknown, st->pid0, st->kfree_null, st->alloc_failed, st->syscall_failed,
		st->syscall_unpaired, st->fault_kernel_addr, st->fork_flags_unknown,
		st->gfp_bits_dropped, st->oom_victims, st->page_free_batched_dup);
	if (st->lost || st->lost_unknown || st->overruns)
		fprintf(stderr,
			"mmreplay import: %s: LOST EVENTS: %" PRIu64 " dropped by the ring buffer "
			"(+%" PRIu64 " drops of unknown size), %" PRIu64 " overruns: the replay "
			"misses them\n",
			in, st->lost, st->lost_unknown, st->overruns);
}

int cmd_import(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *v;
	bool counts = false, missing;
	struct import_opts opts = {.progress = isatty(2) != 0};
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			import_help(stdout);
			return EXIT_OK;
		} else if ((v = cli_opt(argc, argv, &i, "-o", &missing)) || missing) {
			if (missing)
				return cli_usage_error("import", "-o needs a file name");
			out = v;
		} else if (strcmp(argv[i], "--counts") == 0) {
			counts = true;
		} else if (strcmp(argv[i], "--progress") == 0) {
			opts.progress = true;
		} else if (strcmp(argv[i], "--quiet") == 0) {
			opts.quiet = true;
			opts.progress = false;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error("import", "unknown option '%s'", argv[i]);
		} else if (!in) {
			in = argv[i];
		} else {
			return cli_usage_error("import", "one trace.dat at a time ('%s' is extra)",
					       argv[i]);
		}
	}
	if (!in)
		return cli_usage_error("import", "no trace.dat given (mmreplay import --help)");
	char defout[4096];
	if (!out && !counts) {
		size_t n = strlen(in);
		if (n > 4 && strcmp(in + n - 4, ".dat") == 0)
			n -= 4;
		snprintf(defout, sizeof(defout), "%.*s.mmt", (int)n, in);
		out = defout;
	}
	struct held h = {0};
	strtab_init(&h.strs);
	struct import_sink sink = {&h, held_intern, held_put};
	struct trace_origin origin = {0};
	struct import_stats *st = calloc(1, sizeof(*st));
	char err[512];
	int rc = EXIT_OK;
	if (!st) {
		rc = cli_fail("import", "out of memory");
	} else if (trace_import(in, &opts, &sink, &origin, st, err, sizeof(err))) {
		rc = cli_usage_error("import", "%s", err);
	} else {
		if (counts)
			for (int i = 0; i < st->nr_counted; i++)
				printf("%s %" PRIu64 "\n", st->counted[i].name, st->counted[i].n);
		if (out)
			rc = write_out(&h, out, &origin);
		if (rc == EXIT_OK && !opts.quiet)
			summary(in, out, st);
	}
	free(st);
	free(h.ev);
	strtab_free(&h.strs);
	return rc;
}
