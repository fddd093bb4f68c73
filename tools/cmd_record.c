/* mmreplay record: run a command under trace-cmd with the tracepoints the importer reads.
 *
 * trace-cmd does the recording (it knows the ring buffer, the file format and the
 * compression); this command knows the event list and the quirks seen on Debian 12's
 * trace-cmd 3.1.6 + kernel 6.18: the function tracer's files are locked (-d), trace-cmd's
 * self-filtering by pid kills the traced child (--no-filter, and a per-event filter on comm
 * instead), and trace-cmd exits 1 even after writing a complete file (so the file is checked,
 * not the exit status). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "import.h"

#define TRACEFS "/sys/kernel/tracing"
#define DEFAULT_BUFFER_KB 20000

static const char *const self_filter = "comm != \"trace-cmd\"";

static void record_help(FILE *f)
{
	fputs(
	    "usage: mmreplay record [-o FILE.dat] [--duration S] [-b KB] [-- COMMAND ...]\n\n"
	    "Records the memory-management tracepoints mmreplay imports (fork/exec/exit,\n"
	    "page faults, mmap/munmap/mprotect/mremap/brk syscalls, kmalloc/kmem_cache,\n"
	    "page allocator, vmalloc, OOM, TLB flushes) system-wide with trace-cmd while\n"
	    "COMMAND runs (or for S seconds). Needs root and tracefs (mounted when missing).\n"
	    "Tracepoints this kernel lacks are left out with a warning.\n\n"
	    "  -o FILE          output trace.dat (default trace.dat)\n"
	    "  --duration S     stop after S seconds (stops COMMAND too); without COMMAND, "
	    "required\n"
	    "  -b KB            ring buffer per CPU in KiB (default 20000)\n"
	    "  --follow         only COMMAND and its descendants (the kernel's set_event_pid with\n"
	    "                   event-fork): leaves out other tasks and the idle task's interrupt\n"
	    "                   context (RCU and softirq frees on idle CPUs)\n"
	    "  --trace-cmd PATH the trace-cmd binary (default: trace-cmd from PATH)\n"
	    "  --dry-run        print the trace-cmd command line and exit\n"
	    "Then: mmreplay import FILE.dat -o FILE.mmt\n",
	    f);
}

/* tracefs at /sys/kernel/tracing, mounted when it is not (the brief window where a fresh
 * container has no tracefs). Returns 0 or -1 with a message printed. */
static int ensure_tracefs(void)
{
	struct stat st;
	if (stat(TRACEFS "/events", &st) == 0)
		return 0;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) != 0) {
		cli_fail("record", "tracefs is not mounted at %s and mounting it failed: %s",
			 TRACEFS, strerror(errno));
		return -1;
	}
	if (stat(TRACEFS "/events", &st) != 0) {
		cli_fail("record", "%s/events missing after mounting tracefs: tracing unavailable",
			 TRACEFS);
		return -1;
	}
	fprintf(stderr, "mmreplay record: mounted tracefs at %s\n", TRACEFS);
	return 0;
}

static bool event_available(const char *sysev)
{
	char path[512];
	const char *colon = strchr(sysev, ':');
	if (!colon)
		return false;
	snprintf(path, sizeof(path), TRACEFS "/events/%.*s/%s/format", (int)(colon - sysev), sysev,
		 colon + 1);
	return access(path, R_OK) == 0;
}

static bool find_in_path(const char *name, char *out, size_t outlen)
{
	if (strchr(name, '/')) {
		snprintf(out, outlen, "%s", name);
		return access(out, X_OK) == 0;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);
		snprintf(out, outlen, "%.*s/%s", (int)n, n ? path : ".", name);
		if (access(out, X_OK) == 0)
			return true;
		path += n + (end ? 1 : 0);
	}
	return false;
}

struct record_args {
	const char *out, *trace_cmd, *duration_str;
	double duration;
	long buffer_kb;
	bool dry_run, follow;
	char **cmd;
	int ncmd;
};

static int parse_args(int argc, char **argv, struct record_args *a)
{
	bool missing = false;
	const char *v;
	a->out = "trace.dat";
	a->trace_cmd = "trace-cmd";
	a->buffer_kb = DEFAULT_BUFFER_KB;
	for (int i = 1; i < argc; i++) {
		char *end;
		if (strcmp(argv[i], "--") == 0) {
			a->cmd = argv + i + 1;
			a->ncmd = argc - i - 1;
			return 0;
		}
		if (strcmp(argv[i], "--dry-run") == 0) {
			a->dry_run = true;
		} else if (strcmp(argv[i], "--follow") == 0) {
			a->follow = true;
		} else if ((v = cli_opt(argc, argv, &i, "-o", &missing)) || missing) {
			if (missing)
				return cli_usage_error("record", "-o needs a file name");
			a->out = v;
		} else if ((v = cli_opt(argc, argv, &i, "--duration", &missing)) || missing) {
			if (missing)
				return cli_usage_error("record", "--duration needs seconds");
			a->duration = strtod(v, &end);
			a->duration_str = v;
			if (*end || !(a->duration > 0 && a->duration < 86400))
				return cli_usage_error(
				    "record", "--duration=%s: expected seconds in (0, 86400)", v);
		} else if ((v = cli_opt(argc, argv, &i, "-b", &missing)) || missing) {
			if (missing)
				return cli_usage_error("record", "-b needs KiB per CPU");
			a->buffer_kb = strtol(v, &end, 10);
			if (*end || a->buffer_kb < 64 || a->buffer_kb > 4 * 1024 * 1024)
				return cli_usage_error(
				    "record", "-b %s: expected KiB per CPU from 64 to 4194304", v);
		} else if ((v = cli_opt(argc, argv, &i, "--trace-cmd", &missing)) || missing) {
			if (missing)
				return cli_usage_error("record", "--trace-cmd needs a path");
			a->trace_cmd = v;
		} else {
			return cli_usage_error(
			    "record", "unknown option '%s' (the command goes after --)", argv[i]);
		}
	}
	return 0;
}

/* trace-cmd record -d --no-filter -C mono -b KB -o TMP {-e EV -f FILTER}... [-- CMD...]
 * The mono clock keeps timestamps comparable across CPUs (the default "local" clock is
 * per-CPU), which the importer relies on to pair syscall entries and exits. */
static char **build_argv(const struct record_args *a, const char *tc, const char *tmp, char *bufkb)
{
	int n = 0, cap = 20 + 4 * 64 + a->ncmd;
	char **v = calloc((size_t)cap, sizeof(*v));
	if (!v)
		return NULL;
	v[n++] = (char *)tc;
	v[n++] = "record";
	v[n++] = "-d";
	v[n++] = "--no-filter";
	v[n++] = "-C";
	v[n++] = "mono";

	v[n++] = "-b";
	v[n++] = bufkb;
	v[n++] = "-o";
	v[n++] = (char *)tmp;
	for (int k = 0; import_record_events[k] && n < cap - 8 - a->ncmd; k++) {
		if (!event_available(import_record_events[k])) {
			fprintf(stderr,
				"mmreplay record: warning: this kernel has no %s; left out\n",
				import_record_events[k]);
			continue;
		}
		v[n++] = "-e";
		v[n++] = (char *)import_record_events[k];
		v[n++] = "-f";
		v[n++] = (char *)self_filter;
	}
	if (a->ncmd && !a->follow) {
		v[n++] = "--";
		if (a->duration > 0) { /* trace-cmd stops when its command does */
			v[n++] = "timeout";
			v[n++] = "-s";
			v[n++] = "TERM";
			v[n++] = (char *)a->duration_str;
		}
		for (int k = 0; k < a->ncmd; k++)
			v[n++] = a->cmd[k];
	}
	v[n] = NULL;
	return v;
}

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

static double elapsed(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static int write_tracefs(const char *file, const char *value)
{
	char path[256];
	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	int fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

/* --follow: COMMAND is forked here and held before exec until trace-cmd records, then the
 * kernel's pid filter (set_event_pid, with options/event-fork so children inherit it) keeps
 * only COMMAND and its descendants. trace-cmd's own -F cannot be used: with --no-filter (which
 * this machine needs) it sets no pid filter at all. */
struct follow {
	pid_t child;
	int go; /* write end: closing it lets the child exec */
};

static pid_t spawn_held(char **cmd, int *go)
{
	int p[2];
	/* close-on-exec: trace-cmd, forked next, must not hold the write end open */
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char c;
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		close(p[0]);
		execvp(cmd[0], cmd);
		fprintf(stderr, "mmreplay record: cannot run %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

static bool file_says_1(const char *path)
{
	char c = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, &c, 1);
	close(fd);
	return n == 1 && c == '1';
}

/* trace-cmd is recording once its per-CPU recorders have created OUT.tmp.cpuN and the events
 * and the ring buffer are on (its stdout, a pipe here, is block-buffered, so its "Hit Ctrl^C"
 * line cannot serve). Events written meanwhile wait in the ring buffer. */
static int wait_ready(const char *tmp, pid_t tc)
{
	char cpu0[4200];
	snprintf(cpu0, sizeof(cpu0), "%s.cpu0", tmp);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (elapsed(&t0) < 30) {
		if (waitpid(tc, NULL, WNOHANG) == tc)
			return -1;
		if (access(cpu0, F_OK) == 0 && file_says_1(TRACEFS "/tracing_on") &&
		    file_says_1(TRACEFS "/events/sched/sched_process_exec/enable")) {
			struct timespec settle = {0, 50 * 1000 * 1000};
			nanosleep(&settle, NULL);
			return 0;
		}
		struct timespec nap = {0, 5 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	return -1;
}

static pid_t spawn_trace_cmd(char **argv)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(2, 1); /* keep our stdout for our own output */
		execv(argv[0], argv);
		fprintf(stderr, "mmreplay record: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Waits for trace-cmd (and, following, the command); after duration seconds or on our own
 * SIGINT/SIGTERM, trace-cmd gets SIGINT, on which it stops, flushes and writes the file. */
static int run_trace_cmd(char **argv, const struct record_args *a, const char *tmp)
{
	struct follow f = {-1, -1};
	if (a->follow && a->ncmd) {
		/* The pid filter is in force before trace-cmd starts, so nothing of other tasks
		 * gets in while it sets up (trace-cmd with --no-filter leaves set_event_pid alone).
		 */
		char pid[32];
		if ((f.child = spawn_held(a->cmd, &f.go)) < 0)
			return -1;
		snprintf(pid, sizeof(pid), "%d", (int)f.child);
		if (write_tracefs("options/event-fork", "1") ||
		    write_tracefs("set_event_pid", pid)) {
			fprintf(stderr,
				"mmreplay record: cannot set %s/set_event_pid for --follow: %s\n",
				TRACEFS, strerror(errno));
			kill(f.child, SIGKILL);
			waitpid(f.child, NULL, 0);
			write_tracefs("set_event_pid", "");
			return -1;
		}
	}
	/* Without a command trace-cmd records until SIGINT: the clock starts once it is ready. */
	bool watch = f.child > 0 || a->ncmd == 0;
	pid_t tc = spawn_trace_cmd(argv);
	if (tc < 0)
		return -1;
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (watch && wait_ready(tmp, tc)) {
		fprintf(stderr, "mmreplay record: trace-cmd did not start recording\n");
		if (f.child > 0)
			kill(f.child, SIGKILL);
		got_signal = SIGTERM;
	}
	if (f.child > 0)
		close(f.go); /* the command runs */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool stopped = false;
	double stop_at = 0;
	int status = 0;
	for (;;) {
		if (f.child > 0 && waitpid(f.child, NULL, WNOHANG) == f.child)
			f.child = 0; /* the command is done: stop recording */
		pid_t r = waitpid(tc, &status, WNOHANG);
		if (r == tc)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		double el = elapsed(&t0);
		bool timeout = a->duration > 0 && el >= a->duration && (watch || f.child > 0);
		if (!stopped && (got_signal || timeout || f.child == 0)) {
			if (f.child > 0)
				kill(f.child, SIGTERM);
			kill(tc, SIGINT);
			stopped = true;
			stop_at = el;
		} else if (stopped && el - stop_at > 2) { /* asked while it was still setting up */
			kill(tc, SIGINT);
			stop_at = el;
		}
		struct timespec nap = {0, 20 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	if (f.child >= 0) {
		write_tracefs("set_event_pid", "");
		write_tracefs("options/event-fork", "0");
	}
	if (f.child > 0 && waitpid(f.child, NULL, WNOHANG) == 0) {
		kill(f.child, SIGKILL); /* it outlived its SIGTERM and the recording */
		waitpid(f.child, NULL, 0);
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* trace-cmd's exit status is not trusted (1 after a complete recording): the file is read
 * back through the importer with a counting sink instead. */
static uint32_t count_intern(void *ctx, const char *s)
{
	(void)ctx;
	(void)s;
	return 1;
}

static int count_put(void *ctx, const struct mm_event *ev, char *err, size_t errlen)
{
	(void)ctx;
	(void)ev;
	(void)err;
	(void)errlen;
	return 0;
}

static int check_output(const char *tmp, const char *out)
{
	struct import_sink sink = {NULL, count_intern, count_put};
	struct import_opts opts = {.quiet = true};
	struct trace_origin origin = {0};
	struct import_stats st;
	char err[512];
	if (trace_import(tmp, &opts, &sink, &origin, &st, err, sizeof(err)) != 0) {
		cli_fail("record", "trace-cmd did not leave a readable trace: %s", err);
		return -1;
	}
	if (rename(tmp, out) != 0) {
		cli_fail("record", "cannot rename %s to %s: %s", tmp, out, strerror(errno));
		return -1;
	}
	uint64_t ev = 0;
	for (int t = 1; t < EV_NR_TYPES; t++)
		ev += st.emitted[t];
	fprintf(stderr, "mmreplay record: %s: %llu records over %.3f s, %llu mm events", out,
		(unsigned long long)st.records, (double)(st.last_ts - st.first_ts) / 1e9,
		(unsigned long long)ev);
	if (st.lost || st.lost_unknown || st.overruns)
		fprintf(stderr,
			"; LOST EVENTS: %llu dropped (+%llu drops of unknown size), "
			"%llu ring-buffer overruns — record again with a larger -b\n",
			(unsigned long long)st.lost, (unsigned long long)st.lost_unknown,
			(unsigned long long)st.overruns);
	else
		fprintf(stderr, "; no events lost\n");
	return 0;
}

int cmd_record(int argc, char **argv)
{
	if (argc > 1 && cli_is_help(argv[1])) {
		record_help(stdout);
		return EXIT_OK;
	}
	struct record_args a = {0};
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	if (a.ncmd == 0 && a.duration <= 0)
		return cli_usage_error("record", "give a COMMAND after -- or --duration S");
	char tc[4096];
	if (!find_in_path(a.trace_cmd, tc, sizeof(tc)))
		return cli_fail("record", "%s not found (install the trace-cmd package)",
				a.trace_cmd);
	char tmp[4096], bufkb[32];
	snprintf(tmp, sizeof(tmp), "%s.tmp", a.out);
	snprintf(bufkb, sizeof(bufkb), "%ld", a.buffer_kb);
	if (!a.dry_run) {
		if (geteuid() != 0)
			return cli_fail("record",
					"recording kernel tracepoints needs root (tracefs)");
		if (ensure_tracefs())
			return EXIT_FAIL;
	}
	char **targv = build_argv(&a, tc, tmp, bufkb);
	if (!targv)
		return cli_fail("record", "out of memory");
	if (a.dry_run) {
		for (int k = 0; targv[k]; k++)
			printf(k ? (strchr(targv[k], ' ') ? " '%s'" : " %s") : "%s", targv[k]);
		putchar('\n');
		if (a.follow && a.ncmd) {
			printf("# then runs, following it and its children through set_event_pid:");
			for (int k = 0; k < a.ncmd; k++)
				printf(" %s", a.cmd[k]);
			putchar('\n');
		}
		free(targv);
		return EXIT_OK;
	}
	unlink(tmp);
	int st = run_trace_cmd(targv, &a, tmp);
	free(targv);
	if (st < 0)
		return cli_fail("record", "cannot run %s: %s", tc, strerror(errno));
	if (access(tmp, F_OK) != 0)
		return cli_fail("record", "%s exited with status %d and wrote no %s", tc, st, tmp);
	if (check_output(tmp, a.out)) {
		unlink(tmp);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
