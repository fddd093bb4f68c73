/* mmreplay record: the trace-cmd command line it builds, usage errors, refusal without
 * root, and (as root with tracefs and trace-cmd) a real recording that imports. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "import.h"

static const char *mm(void)
{
	const char *m = getenv("MMREPLAY");
	return m ? m : "bin/mmreplay";
}

static int sh(const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = 0, k;
	char buf[4096];
	while ((k = fread(buf, 1, sizeof(buf), p)) > 0)
		if (out && n + k < outlen) {
			memcpy(out + n, buf, k);
			n += k;
		}
	if (out)
		out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(record, dry_run_builds_the_trace_cmd_command_line)
{
	char cmd[512], out[16384];
	snprintf(
	    cmd, sizeof(cmd),
	    "%s record --dry-run --trace-cmd /bin/true -b 4096 -o x.dat -- ls -l / 2>/dev/null",
	    mm());
	cr_assert_eq(sh(cmd, out, sizeof(out)), 0);
	cr_assert(strstr(out, "/bin/true record -d --no-filter -C mono -b 4096 -o x.dat.tmp "),
		  "%s", out);
	cr_assert(strstr(out, " -- ls -l /\n"), "%s", out);
	/* every tracepoint this kernel has is enabled, each followed by the self filter */
	for (int i = 0; import_record_events[i]; i++) {
		char path[256], want[128];
		const char *colon = strchr(import_record_events[i], ':');
		snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%.*s/%s/format",
			 (int)(colon - import_record_events[i]), import_record_events[i],
			 colon + 1);
		snprintf(want, sizeof(want), "-e %s -f 'comm != \"trace-cmd\"'",
			 import_record_events[i]);
		if (access(path, R_OK) == 0)
			cr_assert(strstr(out, want), "missing %s", want);
		else
			cr_assert_null(strstr(out, want));
	}
	snprintf(cmd, sizeof(cmd),
		 "%s record --dry-run --follow --trace-cmd /bin/true -- true 2>/dev/null", mm());
	cr_assert_eq(sh(cmd, out, sizeof(out)), 0);
	cr_assert(strstr(out, "set_event_pid: true\n"), "%s", out);
	cr_assert_null(strstr(out, " -- true"), "%s", out);
	snprintf(cmd, sizeof(cmd),
		 "%s record --dry-run --duration 2.5 --trace-cmd /bin/true -- sleep 9 2>/dev/null",
		 mm());
	cr_assert_eq(sh(cmd, out, sizeof(out)), 0);
	cr_assert(strstr(out, " -- timeout -s TERM 2.5 sleep 9\n"), "%s", out);
}

Test(record, usage_errors_exit_2)
{
	static const char *const bad[] = {
	    "",	  "-b 10 -- true",  "--duration abc -- true", "--duration 0 -- true",
	    "-o", "--bogus -- true"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char cmd[512], out[1024];
		snprintf(cmd, sizeof(cmd), "%s record %s 2>&1", mm(), bad[i]);
		cr_assert_eq(sh(cmd, out, sizeof(out)), 2, "record %s: %s", bad[i], out);
		cr_assert(strstr(out, "mmreplay record: "), "%s", out);
	}
}

Test(record, refuses_without_root)
{
	if (geteuid() != 0 || sh("command -v setpriv >/dev/null", NULL, 0) != 0)
		cr_skip_test("needs root and setpriv to drop to nobody");
	char cmd[512], out[1024];
	snprintf(cmd, sizeof(cmd),
		 "setpriv --reuid=65534 --regid=65534 --clear-groups %s record -o "
		 "/tmp/mmr-never.dat -- true 2>&1",
		 mm());
	cr_assert_eq(sh(cmd, out, sizeof(out)), 1, "%s", out);
	cr_assert(strstr(out, "needs root"), "%s", out);
	cr_assert_neq(access("/tmp/mmr-never.dat", F_OK), 0);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One test for both recordings: two trace-cmd at once would share the ring buffer. */
Test(record, live_recordings_import, .timeout = 60)
{
	/* tracing is machine-wide: another process exec'ing during the recording changes the
	 * counts, so this runs only when asked for, on a quiet machine (make check-live) */
	if (!getenv("MMREPLAY_LIVE_TRACE"))
		cr_skip_test("live tracing: set MMREPLAY_LIVE_TRACE=1 (make check-live)");
	if (geteuid() != 0 || sh("command -v trace-cmd >/dev/null", NULL, 0) != 0 ||
	    access("/sys/kernel/tracing/events", F_OK) != 0)
		cr_skip_test("needs root, trace-cmd and a mounted tracefs");
	char dir[] = "/tmp/mmr-record-test-XXXXXX", cmd[1024], out[8192];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "%s record --follow -o %s/a.dat -- sh -c 'ls / >/dev/null; true' >/dev/null "
		 "2>%s/err && "
		 "%s import %s/a.dat --counts --quiet",
		 mm(), dir, dir, mm(), dir);
	cr_assert_eq(sh(cmd, out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, "sched:sched_process_exec "), "%s", out);
	cr_assert(strstr(out, "syscalls:sys_exit_mmap "), "%s", out);
	char path[512];
	snprintf(path, sizeof(path), "%s/a.dat.tmp", dir);
	cr_assert_neq(access(path, F_OK), 0, "temp file left");
	/* --follow: (nearly) only sh and ls; the pid filter takes hold per CPU at its next switch
	 */
	snprintf(cmd, sizeof(cmd),
		 "trace-cmd report %s/a.dat 2>/dev/null | awk 'NR > 1 { n++; c = $1; "
		 "sub(/-[0-9]+$/, \"\", c);"
		 " if (c != \"sh\" && c != \"ls\" && c != \"mmreplay\") o++ } END { print n + 0, o "
		 "+ 0 }'",
		 dir);
	cr_assert_eq(sh(cmd, out, sizeof(out)), 0);
	unsigned long all = 0, other = 0;
	cr_assert_eq(sscanf(out, "%lu %lu", &all, &other), 2, "%s", out);
	cr_assert_gt(all, 100);
	cr_assert_lt(other * 20, all, "%lu of %lu records from other tasks", other, all);
	cr_assert(sh("grep -q . /sys/kernel/tracing/set_event_pid", NULL, 0) != 0,
		  "set_event_pid not cleared");

	double t0 = now_s();
	snprintf(cmd, sizeof(cmd),
		 "%s record --follow --duration 0.3 -o %s/b.dat -- sleep 30 >/dev/null 2>&1", mm(),
		 dir);
	cr_assert_eq(sh(cmd, NULL, 0), 0);
	cr_assert_lt(now_s() - t0, 15.0, "--duration did not stop the recording");
	snprintf(path, sizeof(path), "%s/b.dat", dir);
	cr_assert_eq(access(path, R_OK), 0);

	/* A version 6 file (uncompressed, the pre-3.0 default) imports; cut short it is refused
	 * with exit 2 rather than crashing in libtracecmd (see probe_in_child in import.c). */
	snprintf(
	    cmd, sizeof(cmd),
	    "trace-cmd record -d --no-filter --file-version 6 -o %s/v6.dat -e "
	    "sched:sched_process_exec "
	    "-e kmem:kmalloc -- true >/dev/null 2>&1; %s import %s/v6.dat --counts --quiet 2>&1",
	    dir, mm(), dir);
	cr_assert_eq(sh(cmd, out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, "sched:sched_process_exec 1\n"), "%s", out);
	static const char *const cut[] = {"$((n / 2))", "$((n - 3000))", "$((n - 10))"};
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		snprintf(cmd, sizeof(cmd),
			 "n=$(stat -c %%s %s/v6.dat); head -c %s %s/v6.dat >%s/v6cut.dat; "
			 "%s import %s/v6cut.dat -o %s/v6cut.mmt 2>&1",
			 dir, cut[i], dir, dir, mm(), dir, dir);
		cr_assert_eq(sh(cmd, out, sizeof(out)), 2, "cut %s: %s", cut[i], out);
		cr_assert(strstr(out, "v6cut.dat: ") && strstr(out, "truncated"), "%s", out);
		snprintf(path, sizeof(path), "%s/v6cut.mmt", dir);
		cr_assert_neq(access(path, F_OK), 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	sh(cmd, NULL, 0);
}
