/* mmreplay dump TRACE [--from X] [--to Y] [-o FILE]: the trace (or a slice) as text. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "trace_io.h"

static void dump_help(FILE *f)
{
	fputs("usage: mmreplay dump TRACE [--from X] [--to Y] [-o FILE]\n\n"
	      "Prints TRACE in the text format (traces/FORMAT.md), a valid trace itself.\n"
	      "  --from X   first event to print: an event index N (0-based), or a trace time\n"
	      "             with a unit: 1.5s, 300ms, 20us, 100ns\n"
	      "  --to Y     stop before this event index or time (exclusive)\n"
	      "             (.mmt files start at the block holding --from, found through the\n"
	      "             trailer's index, instead of decoding everything before it)\n"
	      "  -o FILE    write FILE instead of standard output (written to FILE.tmp, then\n"
	      "             renamed); FILE.gz is gzip'd, FILE.mmt is binary\n",
	      f);
}

/* N (an event index) or a number with s/ms/us/ns (a time in ns). */
static int parse_point(const char *s, bool *is_time, uint64_t *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	if (strspn(s, "0123456789") == strlen(s)) {
		unsigned long long v = strtoull(s, &end, 10);
		if (errno)
			return -1;
		*is_time = false;
		*out = v;
		return 0;
	}
	double v = strtod(s, &end);
	if (end == s || errno)
		return -1;
	double mult = !strcmp(end, "s")	   ? 1e9
		      : !strcmp(end, "ms") ? 1e6
		      : !strcmp(end, "us") ? 1e3
		      : !strcmp(end, "ns") ? 1
					   : -1;
	if (mult < 0 || v < 0 || v * mult > 1.8e19)
		return -1;
	*is_time = true;
	*out = (uint64_t)(v * mult + 0.5);
	return 0;
}

int cmd_dump(int argc, char **argv)
{
	const char *trace = NULL, *out = "-", *from = NULL, *to = NULL;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		if (cli_is_help(argv[i])) {
			dump_help(stdout);
			return EXIT_OK;
		}
		if ((v = cli_opt(argc, argv, &i, "--from", &missing)))
			from = v;
		else if (!missing && (v = cli_opt(argc, argv, &i, "--to", &missing)))
			to = v;
		else if (!missing && (v = cli_opt(argc, argv, &i, "-o", &missing)))
			out = v;
		else if (missing)
			return cli_usage_error("dump", "%s needs a value", argv[i]);
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("dump", "unknown option '%s' (see --help)", argv[i]);
		else if (trace)
			return cli_usage_error("dump", "one TRACE expected, got also '%s'",
					       argv[i]);
		else
			trace = argv[i];
	}
	if (!trace)
		return cli_usage_error("dump", "expected TRACE (see --help)");
	uint64_t from_ev = 0, to_ev = UINT64_MAX, from_ts = 0, to_ts = UINT64_MAX, v;
	bool is_time;
	if (from) {
		if (parse_point(from, &is_time, &v))
			return cli_usage_error("dump",
					       "--from %s: expected an event index or a "
					       "time like 1.5s, 300ms",
					       from);
		*(is_time ? &from_ts : &from_ev) = v;
	}
	if (to) {
		if (parse_point(to, &is_time, &v))
			return cli_usage_error("dump",
					       "--to %s: expected an event index or a "
					       "time like 1.5s, 300ms",
					       to);
		*(is_time ? &to_ts : &to_ev) = v;
	}
	char err[1024];
	struct trace_reader *r = trace_reader_open(trace, err, sizeof(err));
	if (!r)
		return cli_usage_error("dump", "%s", err);
	if (trace_reader_skip_to(r, from_ev, from_ts, err, sizeof(err))) {
		trace_reader_close(r);
		return cli_usage_error("dump", "%s", err);
	}
	enum trace_format fmt = strcmp(out, "-") ? trace_format_for_path(out) : TRACE_TEXT;
	struct trace_writer *w =
	    trace_writer_open(out, fmt, trace_reader_origin(r), err, sizeof(err));
	if (!w) {
		trace_reader_close(r);
		return cli_fail("dump", "%s", err);
	}
	int rc = trace_copy_range("dump", r, w, from_ev, to_ev, from_ts, to_ts);
	trace_reader_close(r);
	return rc;
}
