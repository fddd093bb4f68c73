/* Sweep files, the cell matrix, resume, merge of split runs, emit-jobs, plot errors. The
 * end-to-end tests run the binary named by MMREPLAY on a tiny sweep (a small leak trace). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sweep.h"
#include "trace_testlib.h"

static struct sweep sw;
static char err[1024];

static int parse(const char *text)
{
	err[0] = 0;
	return sweep_parse(&sw, text, "t.sweep", "t", err, sizeof(err));
}

static const char default_like[] = "# comment line\n"
				   "name = demo\n"
				   "trace mix  = gen:mix seed=1 scale=0.25\n"
				   "trace leak = gen:leak   # trailing comment\n"
				   "trace db   = gen:db seed=7\n"
				   "arch = i386 x86_64\n"
				   "mem = 256M 512M 1G 5G\n"
				   "swap = 0 1G\n"
				   "overcommit = 0 1 2\n"
				   "exclude = arch=x86_64 mem=256M,512M\n"
				   "sample-every = 250ms\n"
				   "frame-map = yes\n";

Test(sweep, parses_a_full_file)
{
	cr_assert_eq(parse(default_like), 0, "%s", err);
	cr_assert_str_eq(sw.name, "demo");
	cr_assert_eq(sw.nr_traces, 3);
	cr_assert_str_eq(sw.traces[0].workload, "mix");
	cr_assert_str_eq(sw.traces[0].scale, "0.25");
	cr_assert_str_eq(sw.traces[1].seed, "1"); /* default seed */
	cr_assert_str_eq(sw.traces[2].seed, "7");
	cr_assert_eq(sw.axes[AX_ARCH].n, 2);
	cr_assert_eq(sw.axes[AX_MEM].n, 4);
	cr_assert_eq(sw.axes[AX_SWAP].n, 2);
	cr_assert_eq(sw.axes[AX_CPUS].n, 0);
	cr_assert_str_eq(sw.axes[AX_FIXED].key, "vm.overcommit_memory");
	cr_assert_eq(sw.axes[AX_FIXED].n, 3);
	cr_assert_str_eq(sw.sample_every, "250ms");
	cr_assert(sw.frame_map);
}

Test(sweep, matrix_counts)
{
	static struct sweep_cell cells[512];
	int total;
	cr_assert_eq(parse(default_like), 0, "%s", err);
	/* 3 traces x (i386: 4 mem + x86_64: 2 mem) x 2 swap x 3 overcommit */
	cr_assert_eq(sweep_expand(&sw, cells, 512, &total), 108);
	cr_assert_eq(total, 108);
	cr_assert_str_eq(cells[0].label, "0000-mix-i386-mem256M-swap0-oc0");
	cr_assert_str_eq(cells[1].label, "0001-mix-i386-mem256M-swap0-oc1");
	cr_assert_str_eq(cells[107].label, "0107-db-x86_64-mem5G-swap1G-oc2");
	for (int i = 0; i < 108; i++) {
		cr_assert_eq(cells[i].index, i);
		cr_assert_null(strstr(cells[i].label, "x86_64-mem256M"));
		cr_assert_null(strstr(cells[i].label, "x86_64-mem512M"));
	}
	/* too small a buffer: -1, the total still reported */
	cr_assert_eq(sweep_expand(&sw, cells, 10, &total), -1);
	cr_assert_eq(total, 108);

	cr_assert_eq(parse("trace a = gen:leak\nset vm.swappiness = 10 60 100\n"
			   "set vm.overcommit_ratio = 50 80\nexclude = vm.swappiness=10 "
			   "vm.overcommit_ratio=80\n"),
		     0, "%s", err);
	cr_assert_eq(sweep_expand(&sw, cells, 512, NULL), 5);
	cr_assert_str_eq(cells[0].label, "0000-a-swappiness10-overcommit_ratio50");
	cr_assert_eq(parse("trace a = gen:leak\n"), 0, "%s", err);
	cr_assert_eq(sweep_expand(&sw, cells, 512, NULL), 1);
	cr_assert_str_eq(cells[0].label, "0000-a");
}

static void bad(const char *text, const char *want)
{
	cr_assert_eq(parse(text), -1, "accepted: %s", text);
	cr_assert(strstr(err, want), "for %s: got '%s', want '%s'", text, err, want);
}

Test(sweep, rejects_bad_input_with_line_numbers)
{
	bad("trace a = gen:leak\nmem = 256M 12Q\n", "t.sweep:2: mem 12Q");
	bad("trace a = gen:leak\n\n\narch = i386 sparc\n", "t.sweep:4: arch sparc");
	bad("trace a = gen:nosuch\n", "t.sweep:1: trace a:");
	bad("trace a = gen:leak scale=0\n", "t.sweep:1: trace a: scale=0");
	bad("trace a = gen:leak seed=x\n", "t.sweep:1: trace a: seed=x");
	bad("trace a = gen:leak\ntrace a = gen:db\n", "t.sweep:2: trace a is defined twice");
	bad("trace a = somewhere\n", "t.sweep:1: trace a: expected gen:");
	bad("trace a = gen:leak\nmem = 1G\nmem = 2G\n", "t.sweep:3: mem is given twice");
	bad("trace a = gen:leak\nmem = 1G 1G\n", "t.sweep:2: mem: 1G is listed twice");
	bad("trace a = gen:leak\nmem = 0\n", "t.sweep:2: mem 0");
	bad("trace a = gen:leak\ncpus = 65\n", "t.sweep:2: cpus 65");
	bad("trace a = gen:leak\nset vm.nosuch = 1\n", "t.sweep:2: set vm.nosuch = 1");
	bad("trace a = gen:leak\nset kernel.x = 1\n", "t.sweep:2: set kernel.x");
	bad("trace a = gen:leak\novercommit = 0 3\n", "t.sweep:2: set vm.overcommit_memory = 3");
	bad("trace a = gen:leak\nexclude = mem=1G\n", "t.sweep:2: exclude: mem is not a key");
	bad("trace a = gen:leak\nmem = 1G\nexclude = mem=2G\n", "t.sweep:3: exclude: mem=2G");
	bad("trace a = gen:leak\nbogus = 1\n", "t.sweep:2: unknown key 'bogus'");
	bad("trace a = gen:leak\njust words\n", "t.sweep:2: expected KEY = VALUE");
	bad("trace a = gen:leak\nmem =\n", "t.sweep:2: mem: expected a value");
	bad("trace a = gen:leak\nsample-every = 10 parsecs\n", "t.sweep:2: sample-every");
	bad("trace a = gen:leak\nframe-map = maybe\n", "t.sweep:2: frame-map maybe");
	bad("# nothing\n", "t.sweep:1: no trace");
}

Test(sweep, cell_command)
{
	static struct sweep_cell cells[16];
	char *argv[64], buf[4096];
	cr_assert_eq(parse("trace l = gen:leak\nmem = 256M\nset vm.swappiness = 100\n"
			   "sample-every = 1s\n"),
		     0, "%s", err);
	cr_assert_eq(sweep_expand(&sw, cells, 16, NULL), 1);
	int n = sweep_cell_argv(&sw, &cells[0], "out", argv, 64, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	sweep_format_command(m, "/x/mm replay", argv, n);
	fclose(m);
	cr_assert_str_eq(text, "'/x/mm replay' replay out/traces/l.mmt --mem=256M --set "
			       "vm.swappiness=100 --label=0000-l-mem256M-swappiness100 --quiet "
			       "--json=out/cells/0000-l-mem256M-swappiness100.json "
			       "--csv=out/cells/0000-l-mem256M-swappiness100.series.csv "
			       "--sample-every=1s "
			       "--row=out/cells/0000-l-mem256M-swappiness100.row.csv\n");
	free(text);
	n = sweep_gen_argv(&sw, 0, "out", argv, 64, buf, sizeof(buf));
	cr_assert_eq(n, 6);
	cr_assert_str_eq(argv[1], "leak");
	cr_assert_str_eq(argv[5], "out/traces/l.mmt");
}

/* ---- end to end ---------------------------------------------------------------------- */

static const char *bin(void)
{
	const char *m = getenv("MMREPLAY");
	return m && *m ? m : "bin/mmreplay";
}

static char tmpdir[64];

static void make_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mmreplay-sweep-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	char path[128];
	snprintf(path, sizeof(path), "%s/s", tmpdir);
	FILE *f = fopen(path, "w");
	fputs("trace l = gen:leak scale=0.05\ntrace d = gen:db scale=0.02\nmem = 256M\n"
	      "swap = 0 64M\novercommit = 0 2\nsample-every = 1s\n",
	      f);
	fclose(f);
}

static void rm_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

/* Runs `mmreplay ARGS` in tmpdir's parent context; stdout+stderr into tmpdir/out. */
static int run(const char *args)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "'%s' %s >'%s/out' 2>&1", bin(), args, tmpdir);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path)
{
	size_t n;
	return tl_slurp(path, &n);
}

static char *out_text(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/out", tmpdir);
	return slurp(path);
}

Test(sweep_cli, resume_skips_finished_cells, .timeout = 60)
{
	make_tmp();
	char args[512];
	snprintf(args, sizeof(args), "sweep %s/s -o %s/r -j2 --no-timing", tmpdir, tmpdir);
	cr_assert_eq(run(args), 0);
	char *o = out_text();
	cr_assert(strstr(o, "cells 8/8 done (0 skipped"), "%s", o);
	free(o);
	/* a second run skips all; removing one cell's row reruns exactly that one */
	cr_assert_eq(run(args), 0);
	o = out_text();
	cr_assert(strstr(o, "cells 8/8 done (8 skipped"), "%s", o);
	free(o);
	char path[256];
	snprintf(path, sizeof(path), "%s/r/cells/0003-l-mem256M-swap64M-oc2.row.csv", tmpdir);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(run(args), 0);
	o = out_text();
	cr_assert(strstr(o, "cells 8/8 done (7 skipped"), "%s", o);
	free(o);
	/* a cell whose recorded command differs (another sweep file) is run again */
	snprintf(path, sizeof(path), "%s/r/cells/0000-l-mem256M-swap0-oc0.cmd", tmpdir);
	FILE *f = fopen(path, "a");
	fputs("changed\n", f);
	fclose(f);
	cr_assert_eq(run(args), 0);
	o = out_text();
	cr_assert(strstr(o, "cells 8/8 done (7 skipped"), "%s", o);
	free(o);
	/* a row left by an earlier version of the sweep file is not in this sweep's table */
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "sed 's/^0000-l-mem256M-swap0-oc0,/0099-stale,/' %s/r/cells/0000-l-mem256M-swap0-oc0.row.csv"
		 " > %s/r/cells/0099-stale.row.csv",
		 tmpdir, tmpdir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(run(args), 0);
	snprintf(path, sizeof(path), "%s/r/results.csv", tmpdir);
	char *csv = slurp(path);
	cr_assert_not_null(csv);
	int lines = 0;
	for (char *c = csv; *c; c++)
		lines += *c == '\n';
	cr_assert_eq(lines, 9); /* header + 8 cells */
	cr_assert(strstr(csv, "\n0007-d-mem256M-swap64M-oc2,db,"));
	cr_assert_null(strstr(csv, "stale"));
	free(csv);
	rm_tmp();
}

Test(sweep_cli, merge_of_split_runs_equals_one_run, .timeout = 60)
{
	make_tmp();
	char args[512];
	snprintf(args, sizeof(args), "sweep %s/s -o %s/all -j2 --no-timing", tmpdir, tmpdir);
	cr_assert_eq(run(args), 0);
	snprintf(args, sizeof(args), "sweep %s/s -o %s/a --only 0,2,4,6 --no-timing", tmpdir,
		 tmpdir);
	cr_assert_eq(run(args), 0);
	snprintf(args, sizeof(args), "sweep %s/s -o %s/b --only 1,3,5,7 --no-table --no-timing",
		 tmpdir, tmpdir);
	cr_assert_eq(run(args), 0);
	snprintf(args, sizeof(args), "merge %s/b %s/a -o %s/m", tmpdir, tmpdir, tmpdir);
	cr_assert_eq(run(args), 0);
	char p1[256], p2[256];
	snprintf(p1, sizeof(p1), "%s/all/results.csv", tmpdir);
	snprintf(p2, sizeof(p2), "%s/m/results.csv", tmpdir);
	char *one = slurp(p1), *merged = slurp(p2);
	cr_assert_not_null(one);
	cr_assert_not_null(merged);
	cr_assert_str_eq(merged, one);
	free(one);
	free(merged);
	snprintf(p2, sizeof(p2), "%s/m/results.json", tmpdir);
	char *json = slurp(p2);
	cr_assert_not_null(json);
	int cells = 0;
	for (char *c = json; (c = strstr(c, "\"label\": ")); c++)
		cells++;
	cr_assert_eq(cells, 8);
	free(json);
	/* one input directory without -o writes into it; a non-results input is refused */
	snprintf(args, sizeof(args), "merge %s/a", tmpdir);
	cr_assert_eq(run(args), 0);
	snprintf(args, sizeof(args), "merge %s/s -o %s/x", tmpdir, tmpdir);
	cr_assert_eq(run(args), 2);
	struct stat st;
	snprintf(p2, sizeof(p2), "%s/x", tmpdir);
	cr_assert_neq(stat(p2, &st), 0, "merge of bad input left %s behind", p2);
	rm_tmp();
}

Test(sweep_cli, emit_jobs_one_command_per_cell, .timeout = 30)
{
	make_tmp();
	char args[512];
	snprintf(args, sizeof(args), "sweep %s/s -o %s/j --emit-jobs --no-timing", tmpdir, tmpdir);
	cr_assert_eq(run(args), 0);
	char *o = out_text();
	int lines = 0;
	for (int i = 0; i < 8; i++) {
		char want[64];
		snprintf(want, sizeof(want), " --only %d --no-table -j1 --no-timing\n", i);
		cr_assert(strstr(o, want), "no job for cell %d in:\n%s", i, o);
	}
	for (char *c = o; *c; c++)
		lines += *c == '\n';
	cr_assert_eq(lines, 9); /* 8 jobs + the merge hint */
	cr_assert(strstr(o, "mmreplay merge "));
	free(o);
	/* nothing is written by --emit-jobs */
	char path[256];
	snprintf(path, sizeof(path), "%s/j", tmpdir);
	struct stat st;
	cr_assert_neq(stat(path, &st), 0);
	/* running one emitted job's cell works on its own */
	snprintf(args, sizeof(args), "sweep %s/s -o %s/j --only 5 --no-table -j1 --no-timing",
		 tmpdir, tmpdir);
	cr_assert_eq(run(args), 0);
	snprintf(path, sizeof(path), "%s/j/cells/0005-d-mem256M-swap0-oc2.row.csv", tmpdir);
	cr_assert_eq(stat(path, &st), 0);
	rm_tmp();
}

Test(sweep_cli, bad_usage_exits_2)
{
	make_tmp();
	char args[512];
	snprintf(args, sizeof(args), "sweep %s/nosuch", tmpdir);
	cr_assert_eq(run(args), 2);
	snprintf(args, sizeof(args), "sweep %s/s --only 99", tmpdir);
	cr_assert_eq(run(args), 2);
	snprintf(args, sizeof(args), "sweep %s/s -j 0", tmpdir);
	cr_assert_eq(run(args), 2);
	char path[128];
	snprintf(path, sizeof(path), "%s/bad", tmpdir);
	FILE *f = fopen(path, "w");
	fputs("trace l = gen:leak\nmem = lots\n", f);
	fclose(f);
	snprintf(args, sizeof(args), "sweep %s", path);
	cr_assert_eq(run(args), 2);
	char *o = out_text();
	cr_assert(strstr(o, "bad:2: mem lots"), "%s", o);
	free(o);
	rm_tmp();
}

Test(plot_cli, errors)
{
	make_tmp();
	char args[512];
	snprintf(args, sizeof(args), "plot %s/nosuch --out %s/p", tmpdir, tmpdir);
	cr_assert_eq(run(args), 2);
	char *o = out_text();
	cr_assert(strstr(o, "not a results directory"), "%s", o);
	free(o);
	/* a directory without results.csv */
	snprintf(args, sizeof(args), "plot %s --out %s/p", tmpdir, tmpdir);
	cr_assert_eq(run(args), 2);
	cr_assert_eq(run("plot"), 2);
	snprintf(args, sizeof(args), "plot %s --order 5", tmpdir);
	cr_assert_eq(run(args), 2);
	rm_tmp();
}
