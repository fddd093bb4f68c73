/* mmreplay merge: one results table from the per-cell outputs of one or more sweep runs
 * (split across machines, emitted jobs, or a resumed run). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "sweep.h"

static void merge_help(FILE *f)
{
	fputs("usage: mmreplay merge DIR|CELL.row.csv ... [-o OUTDIR]\n\n"
	      "Joins finished cells (DIR/cells/*.row.csv and their .json) into OUTDIR/results.csv\n"
	      "and OUTDIR/results.json, one row per cell label in label order; a label found in\n"
	      "several inputs is taken from the first. OUTDIR defaults to DIR when there is one\n"
	      "input directory.\n",
	      f);
}

int cmd_merge(int argc, char **argv)
{
	const char *out = NULL;
	char *inputs[256];
	int n = 0;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		if (cli_is_help(argv[i])) {
			merge_help(stdout);
			return EXIT_OK;
		} else if ((v = cli_opt(argc, argv, &i, "-o", &missing))) {
			out = v;
		} else if (missing) {
			return cli_usage_error("merge", "%s needs a value", argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error("merge", "unknown option %s (see --help)", argv[i]);
		} else if (n == (int)(sizeof(inputs) / sizeof(inputs[0]))) {
			return cli_usage_error("merge", "too many inputs");
		} else {
			inputs[n++] = argv[i];
		}
	}
	if (!n)
		return cli_usage_error("merge",
				       "which results? (mmreplay merge DIR...; see --help)");
	struct stat st;
	if (!out && n == 1 && stat(inputs[0], &st) == 0 && S_ISDIR(st.st_mode))
		out = inputs[0];
	if (!out)
		return cli_usage_error("merge", "several inputs: name the output with -o OUTDIR");
	bool created = mkdir(out, 0777) == 0;
	if (!created && errno != EEXIST)
		return cli_fail("merge", "%s: %s", out, strerror(errno));
	char csv[4096], json[4096], err[1024];
	snprintf(csv, sizeof(csv), "%s/results.csv", out);
	snprintf(json, sizeof(json), "%s/results.json", out);
	int rows = sweep_merge(inputs, n, csv, json, err, sizeof(err));
	if (rows < 0) {
		if (created)
			rmdir(out); /* bad input leaves nothing behind */
		return cli_usage_error("merge", "%s", err);
	}
	fprintf(stderr, "merge: %d cells in %s and %s\n", rows, csv, json);
	return EXIT_OK;
}
