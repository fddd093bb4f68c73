/* The trace commands as a user runs them: stat's output on the committed sample against
 * its golden files, and stat/dump/convert's exit statuses and atomic outputs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace_testlib.h"

static const char *mmreplay(void)
{
	const char *m = getenv("MMREPLAY");
	return m && *m ? m : "bin/mmreplay";
}

/* Runs "mmreplay ARGS" with stdout into a malloc'd string; returns the exit status. */
static int run(const char *args, char **out)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", mmreplay(), args);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t cap = 1 << 16, len = 0, k;
	char *buf = malloc(cap);
	while ((k = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += k;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = 0;
	int st = pclose(p);
	*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void golden(const char *args, const char *file)
{
	char *out;
	cr_assert_eq(run(args, &out), 0, "%s", out);
	size_t len;
	char *want = tl_slurp(file, &len);
	cr_assert_not_null(want, "missing %s", file);
	cr_assert_str_eq(out, want, "mmreplay %s differs from %s", args, file);
	free(out);
	free(want);
}

Test(stat_golden, tiny_text)
{
	golden("stat traces/samples/tiny.txt", "tests/golden/stat-tiny.txt");
	golden("stat --json traces/samples/tiny.txt", "tests/golden/stat-tiny.json");
}

/* "mmreplay convert [LEVEL] IN OUT" must succeed (level NULL: the default). */
static void convert_ok(const char *level, const char *in, const char *out)
{
	char args[512], *msg;
	snprintf(args, sizeof(args), "convert %s%s %s %s", level ? "--level " : "",
		 level ? level : "", in, out);
	cr_assert_eq(run(args, &msg), 0, "%s", msg);
	free(msg);
}

/* The same trace through .mmt and gzip'd text: the same counts (only the header differs). */
Test(stat_golden, every_format_counts_the_same)
{
	char mmt[128], gz[128], args[512], *out, *ref;
	tl_path(mmt, sizeof(mmt), "tiny.mmt");
	tl_path(gz, sizeof(gz), "tiny.txt.gz");
	convert_ok(NULL, "traces/samples/tiny.txt", mmt);
	convert_ok(NULL, mmt, gz);
	cr_assert_eq(run("stat traces/samples/tiny.txt", &ref), 0);
	const char *files[] = {mmt, gz};
	for (int i = 0; i < 2; i++) {
		snprintf(args, sizeof(args), "stat %s", files[i]);
		cr_assert_eq(run(args, &out), 0, "%s", out);
		/* skip the first line (file name and format) */
		cr_assert_str_eq(strchr(out, '\n'), strchr(ref, '\n'));
		free(out);
	}
	free(ref);
	unlink(mmt);
	unlink(gz);
}

Test(stat_golden, dump_ranges)
{
	char *out;
	cr_assert_eq(run("dump traces/samples/tiny.txt --from 2 --to 4", &out), 0, "%s", out);
	cr_assert_str_eq(
	    out, "#! mmtrace-text 1\n"
		 "#! origin generator=hand\n"
		 "#! origin note=\"every event type once or more, for stat's golden test\"\n"
		 "0.000200000 cpu=1 pid=100 exec filename=/bin/sh\n"
		 "0.001000000 cpu=1 pid=100 mmap addr=0x7f0000000000 len=0x100000 "
		 "prot=rw- flags=private,anon\n");
	free(out);
	cr_assert_eq(run("dump traces/samples/tiny.txt --from 3.4ms --to 3500us", &out), 0);
	cr_assert(strstr(out, "\n0.003400000 cpu=0 pid=102 exit\n"), "%s", out);
	cr_assert_null(strstr(out, "0.003500000"));
	free(out);
	cr_assert_eq(run("dump traces/samples/tiny.txt --from 1.5parsecs", &out), 2);
	cr_assert_str_eq(out, "mmreplay dump: --from 1.5parsecs: expected an event index or a "
			      "time like 1.5s, 300ms\n");
	free(out);
}

/* Bad input: exit 2, one line naming the place, and no output file left behind. */
Test(stat_golden, bad_input_writes_nothing)
{
	char in[128], outp[128], args[512], *out;
	tl_path(in, sizeof(in), "bad.txt");
	tl_path(outp, sizeof(outp), "bad-out.mmt");
	FILE *f = fopen(in, "w");
	fputs("1 pid=1 exit\n2 pid=1 mmap addr=0 len=0\n", f);
	fclose(f);
	snprintf(args, sizeof(args), "convert %s %s", in, outp);
	cr_assert_eq(run(args, &out), 2, "%s", out);
	char want[512];
	snprintf(want, sizeof(want),
		 "mmreplay convert: %s:2:25: mmap len 0: a positive size is required\n", in);
	cr_assert_str_eq(out, want);
	free(out);
	cr_assert_neq(access(outp, F_OK), 0);
	snprintf(args, sizeof(args), "%s.tmp", outp);
	cr_assert_neq(access(args, F_OK), 0);
	snprintf(args, sizeof(args), "stat %s", in);
	cr_assert_eq(run(args, &out), 2, "%s", out);
	free(out);
	cr_assert_eq(run("stat /nonexistent/x.mmt", &out), 2);
	cr_assert_str_eq(out, "mmreplay stat: /nonexistent/x.mmt: cannot open: No such file or "
			      "directory\n");
	free(out);
	unlink(in);
}

Test(stat_golden, help)
{
	const char *cmds[] = {"stat", "dump", "convert"};
	for (int i = 0; i < 3; i++) {
		char args[64], *out;
		snprintf(args, sizeof(args), "%s --help", cmds[i]);
		cr_assert_eq(run(args, &out), 0);
		cr_assert(strstr(out, "usage: mmreplay"), "%s", out);
		free(out);
		snprintf(args, sizeof(args), "%s", cmds[i]);
		cr_assert_eq(run(args, &out), 2);
		free(out);
	}
}

static long file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

/* convert --level 0 stores the blocks (a larger file with the same events), 1..12 deflate
 * them; anything else is refused before a file is made. */
Test(stat_golden, convert_levels)
{
	char stored[128], packed[128], args[512], *out, *ref;
	tl_path(stored, sizeof(stored), "tiny0.mmt");
	tl_path(packed, sizeof(packed), "tiny12.mmt");
	convert_ok("0", "traces/samples/tiny.txt", stored);
	convert_ok("12", "traces/samples/tiny.txt", packed);
	cr_assert_gt(file_size(stored), file_size(packed));
	/* stored: the members hold their payload as it is, so the file is no smaller */
	snprintf(args, sizeof(args), "gzip -dc %s | wc -c", stored);
	FILE *p = popen(args, "r");
	long payload = 0;
	cr_assert_eq(fscanf(p, "%ld", &payload), 1);
	pclose(p);
	cr_assert_geq(file_size(stored), payload);
	cr_assert_eq(run("stat traces/samples/tiny.txt", &ref), 0);
	snprintf(args, sizeof(args), "stat %s", stored);
	cr_assert_eq(run(args, &out), 0, "%s", out);
	cr_assert_str_eq(strchr(out, '\n'), strchr(ref, '\n'));
	free(out);
	free(ref);
	const char *bad[] = {"13", "-1", "1x"};
	for (int i = 0; i < 3; i++) {
		unlink(stored);
		snprintf(args, sizeof(args), "convert --level %s traces/samples/tiny.txt %s", bad[i],
			 stored);
		cr_assert_eq(run(args, &out), 2, "%s", out);
		cr_assert(strstr(out, "expected a whole number from 0 to 12"), "%s", out);
		free(out);
		cr_assert_neq(access(stored, F_OK), 0);
	}
	unlink(packed);
}

/* "replay TRACE --no-timing EXTRA" with MMREPLAY_DECODE_AHEAD=env (NULL: unset) must print
 * want. */
static void same_summary(const char *trace, const char *extra, const char *env, const char *want)
{
	char args[512], *out;
	snprintf(args, sizeof(args), "replay %s --no-timing %s", trace, extra);
	if (env)
		setenv("MMREPLAY_DECODE_AHEAD", env, 1);
	cr_assert_eq(run(args, &out), 0, "%s", out);
	unsetenv("MMREPLAY_DECODE_AHEAD");
	cr_assert_str_eq(out, want, "%s with MMREPLAY_DECODE_AHEAD=%s", args, env ? env : "");
	free(out);
}

/* Decoding on a thread of its own or on the replay's: the same summary (the trace hash is
 * folded on the decoding thread), turned off by option or by the environment sweep -j N
 * sets; a value other than "off" leaves it on. */
Test(stat_golden, replay_decode_ahead_off)
{
	char trace[128], args[512], *ref;
	tl_path(trace, sizeof(trace), "ahead.mmt");
	snprintf(args, sizeof(args), "gen shell --seed=3 -o %s", trace);
	cr_assert_eq(run(args, &ref), 0, "%s", ref);
	free(ref);
	snprintf(args, sizeof(args), "replay %s --no-timing", trace);
	cr_assert_eq(run(args, &ref), 0, "%s", ref);
	cr_assert(strstr(ref, "hash "), "%s", ref);
	same_summary(trace, "--no-decode-ahead", NULL, ref);
	same_summary(trace, "", "off", ref);
	same_summary(trace, "", "on", ref);
	free(ref);
	unlink(trace);
}
