/* `mmreplay proc` and `mmreplay replay --snapshot-at` as a user runs them: golden output,
 * points that name the same state, snapshot directories, and every error case (exit 2,
 * one line on stderr, nothing on stdout). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace_testlib.h"

static const char *mmreplay(void)
{
	const char *m = getenv("MMREPLAY");
	return m && *m ? m : "bin/mmreplay";
}

static char *read_all(FILE *f)
{
	size_t cap = 1 << 16, len = 0, k;
	char *buf = malloc(cap);
	cr_assert_not_null(buf);
	while ((k = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += k;
		if (cap - len < 2) {
			buf = realloc(buf, cap *= 2);
			cr_assert_not_null(buf);
		}
	}
	buf[len] = 0;
	return buf;
}

/* "mmreplay ARGS": stdout and stderr apart; returns the exit status. */
static int run(const char *args, char **out, char **err)
{
	char errpath[] = "/tmp/mmreplay-proc-errXXXXXX";
	int fd = mkstemp(errpath);
	cr_assert_geq(fd, 0);
	close(fd);
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "%s %s 2>%s", mmreplay(), args, errpath);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	*out = read_all(p);
	int st = pclose(p);
	FILE *e = fopen(errpath, "r");
	cr_assert_not_null(e);
	*err = read_all(e);
	fclose(e);
	unlink(errpath);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void golden(const char *args, const char *file)
{
	char *out, *err;
	cr_assert_eq(run(args, &out, &err), 0, "mmreplay %s: %s", args, err);
	size_t len;
	char *want = tl_slurp(file, &len);
	cr_assert_not_null(want, "missing %s (tests/golden/update.sh)", file);
	cr_assert_str_eq(out, want, "mmreplay %s differs from %s", args, file);
	free(out);
	free(err);
	free(want);
}

Test(proc_cli, golden_tiny_all_at_a_mark)
{
	golden("proc traces/samples/tiny.txt --at 'after setup' --file all --swap=64M",
	       "tests/golden/proc-tiny-all.txt");
}

Test(proc_cli, golden_tasks)
{
	golden("proc tests/golden/proc-shell-head.txt --at 290 --arch=x86_64 --mem=512M "
	       "--file 1000/status,1003/status,1003/oom_score,1003/oom_score_adj,meminfo",
	       "tests/golden/proc-shell-tasks.txt");
}

/* A mark, its event count and a time between it and the next event are the same state. */
Test(proc_cli, points_that_name_the_same_state)
{
	static const char *const at[] = {"'after setup'", "'mark:after setup'", "24", "3.25ms",
					 "3250us"};
	char *first = NULL;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		char args[256], *out, *err;
		snprintf(args, sizeof(args), "proc traces/samples/tiny.txt --at %s", at[i]);
		cr_assert_eq(run(args, &out, &err), 0, "%s: %s", args, err);
		if (!first)
			first = out;
		else {
			cr_assert_str_eq(out, first, "--at %s", at[i]);
			free(out);
		}
		free(err);
	}
	/* the end of the trace differs from the mark, and is what no --at gives */
	char *end, *end2, *err;
	cr_assert_eq(run("proc traces/samples/tiny.txt", &end, &err), 0);
	free(err);
	cr_assert_eq(run("proc traces/samples/tiny.txt --at 1000s", &end2, &err), 0);
	free(err);
	cr_assert_str_neq(end, first);
	cr_assert_str_eq(end, end2);
	free(end);
	free(end2);
	free(first);
}

static void usage_error(const char *args, const char *needle)
{
	char *out, *err;
	cr_assert_eq(run(args, &out, &err), 2, "mmreplay %s: %s", args, err);
	cr_assert_str_empty(out, "mmreplay %s wrote to stdout", args);
	char *nl = strchr(err, '\n');
	cr_assert(nl && nl[1] == 0, "mmreplay %s: not one line on stderr: %s", args, err);
	cr_assert_not_null(strstr(err, needle), "mmreplay %s: %s", args, err);
	free(out);
	free(err);
}

Test(proc_cli, errors)
{
	usage_error("proc traces/samples/tiny.txt --at nosuch",
		    "--at nosuch: no such mark in the trace (marks: \"after setup\")");
	usage_error("proc traces/samples/tiny.txt --at 29", "past the end of the trace (it has 28");
	usage_error("proc traces/samples/tiny.txt --file meminfo,bogus", "unknown file 'bogus'");
	usage_error("proc traces/samples/tiny.txt --file meminfo,", "empty file name");
	usage_error("proc traces/samples/tiny.txt --file 7/status", "pid 7 is not a task");
	usage_error("proc traces/samples/tiny.txt --file 7/maps", "unknown file '7/maps'");
	usage_error("proc traces/samples/tiny.txt --level=cpu", "--level=cpu");
	usage_error("proc", "which trace?");
	usage_error("proc traces/samples/tiny.txt --at", "--at needs a value");
	usage_error("proc /nonexistent/trace.txt", "/nonexistent/trace.txt");
	usage_error("replay traces/samples/tiny.txt --snapshot-at 3", "go together");
	usage_error("replay traces/samples/tiny.txt --quiet --snapshot-at 99 --snapshot-dir "
		    "/tmp/mmreplay-proc-never",
		    "--snapshot-at 99: past the end");
}

/* at the end of the trace --at 28 is allowed (every event applied) */
Test(proc_cli, last_index_is_the_end)
{
	char *a, *b, *err;
	cr_assert_eq(run("proc traces/samples/tiny.txt --at 28", &a, &err), 0, "%s", err);
	free(err);
	cr_assert_eq(run("proc traces/samples/tiny.txt", &b, &err), 0, "%s", err);
	free(err);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
}

/* replay --snapshot-at writes the files proc prints, one directory per point */
Test(proc_cli, replay_snapshots_match_proc)
{
	char dir[] = "/tmp/mmreplay-snapXXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char args[512], *out, *err;
	snprintf(args, sizeof(args),
		 "replay traces/samples/tiny.txt --quiet --snapshot-at 'after setup' "
		 "--snapshot-at 2ms --snapshot-dir %s/s",
		 dir);
	cr_assert_eq(run(args, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	static const char *const files[] = {"meminfo", "vmstat", "zoneinfo", "slabinfo",
					    "extfrag/unusable_index"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512];
		size_t len;
		const char *name = strchr(files[i], '/') ? strchr(files[i], '/') + 1 : files[i];
		snprintf(args, sizeof(args),
			 "proc traces/samples/tiny.txt --at 'after setup' --file %s", name);
		cr_assert_eq(run(args, &out, &err), 0, "%s", err);
		snprintf(path, sizeof(path), "%s/s/after_setup/%s", dir, files[i]);
		char *snap = tl_slurp(path, &len);
		cr_assert_not_null(snap, "missing %s", path);
		char *body = strchr(out, '\n') + 1; /* after the ==> header */
		cr_assert_str_eq(snap, body, "%s", path);
		free(snap);
		free(out);
		free(err);
	}
	/* a second run replaces the snapshot whole */
	snprintf(args, sizeof(args),
		 "replay traces/samples/tiny.txt --quiet --snapshot-at 2ms --snapshot-dir %s/s",
		 dir);
	cr_assert_eq(run(args, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "rm -r %s", dir);
	cr_assert_eq(system(args), 0);
}
