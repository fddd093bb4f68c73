/* mmreplay convert IN OUT: any trace format to any other, chosen by OUT's extension. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "trace_io.h"

static void convert_help(FILE *f)
{
	fputs("usage: mmreplay convert [--level N] IN OUT\n\n"
	      "Reads a trace in any format (.mmt, text, gzip'd text; sniffed from its bytes) and\n"
	      "writes it in the format OUT's name asks for: *.mmt binary, *.gz gzip'd text,\n"
	      "anything else text. '-' is standard input / output. The origin header is copied;\n"
	      "OUT is written to OUT.tmp and renamed when complete.\n"
	      "  --level N  deflate level of .mmt blocks, 1 (fastest) to 12 (smallest), or 0:\n"
	      "             stored, not compressed (larger, quicker to replay); default 1\n",
	      f);
}

/* Copies events [from, to) of r into w; 0, or the exit status on failure. */
int trace_copy_range(const char *cmd, struct trace_reader *r, struct trace_writer *w,
		     uint64_t from_ev, uint64_t to_ev, uint64_t from_ts, uint64_t to_ts)
{
	enum { BATCH = 8192 };
	struct mm_event *buf = malloc(BATCH * sizeof(*buf));
	char err[1024];
	if (!buf) {
		trace_writer_abort(w);
		return cli_fail(cmd, "out of memory");
	}
	for (;;) {
		uint64_t index = trace_reader_count(r);
		ssize_t n = trace_reader_next(r, buf, BATCH, err, sizeof(err));
		if (n < 0) {
			free(buf);
			trace_writer_abort(w);
			return cli_usage_error(cmd, "%s", err);
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++, index++) {
			if (index < from_ev || index >= to_ev || buf[i].ts < from_ts ||
			    buf[i].ts >= to_ts)
				continue;
			if (trace_writer_put_from(w, &buf[i], trace_reader_strings(r), err,
						  sizeof(err))) {
				free(buf);
				trace_writer_abort(w);
				return cli_fail(cmd, "%s", err);
			}
		}
	}
	free(buf);
	if (trace_writer_close(w, err, sizeof(err)))
		return cli_fail(cmd, "%s", err);
	return 0;
}

int cmd_convert(int argc, char **argv)
{
	const char *pos[2], *level = NULL;
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		if (cli_is_help(argv[i])) {
			convert_help(stdout);
			return EXIT_OK;
		}
		const char *v = cli_opt(argc, argv, &i, "--level", &missing);
		if (missing)
			return cli_usage_error("convert", "--level needs a value");
		if (v) {
			level = v;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("convert", "unknown option '%s' (see --help)",
					       argv[i]);
		if (npos == 2)
			return cli_usage_error("convert", "expected IN OUT, got an extra '%s'",
					       argv[i]);
		pos[npos++] = argv[i];
	}
	if (npos != 2)
		return cli_usage_error("convert", "expected IN OUT (see --help)");
	int lv = TRACE_DEFAULT_LEVEL;
	if (level && cli_parse_deflate_level("convert", level, &lv))
		return EXIT_USAGE;
	char err[1024];
	struct trace_reader *r = trace_reader_open(pos[0], err, sizeof(err));
	if (!r)
		return cli_usage_error("convert", "%s", err);
	struct trace_writer *w = trace_writer_open(pos[1], trace_format_for_path(pos[1]),
						   trace_reader_origin(r), err, sizeof(err));
	if (!w) {
		trace_reader_close(r);
		return cli_fail("convert", "%s", err);
	}
	if (trace_writer_set_level(w, lv)) {
		trace_writer_abort(w);
		trace_reader_close(r);
		return cli_fail("convert", "out of memory");
	}
	int rc = trace_copy_range("convert", r, w, 0, UINT64_MAX, 0, UINT64_MAX);
	trace_reader_close(r);
	return rc;
}
