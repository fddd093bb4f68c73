/* mmreplay sweep: run a matrix of replays (docs/BENCHMARKING.md). Each cell is a child
 * process running our own binary's replay, so a crash or a runaway cell stays in its cell,
 * and an emitted job line does exactly what the local run does. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "cli.h"
#include "commands.h"
#include "sweep.h"

#define DEFAULT_SWEEP "bench/sweeps/default"
#define MAX_CELLS 4096
#define MAX_ARGS 64

struct sweep_opts {
	const char *file, *dir;
	int jobs;
	bool emit_jobs, fresh, no_table, list, no_timing;
	char *only; /* "3,7,12" */
};

static void sweep_help(FILE *f)
{
	fputs(
	    "usage: mmreplay sweep [SWEEPFILE] [-j N] [-o DIR] [--emit-jobs] [--resume|--fresh]\n\n"
	    "Runs every cell of the sweep (traces x arch x mem x swap x cpus x set knobs, minus\n"
	    "excludes; format in docs/BENCHMARKING.md) as `mmreplay replay` child processes and\n"
	    "joins their results into DIR/results.csv and DIR/results.json.\n\n"
	    "  SWEEPFILE      default " DEFAULT_SWEEP "\n"
	    "  -j N           cells at a time (default: online CPUs)\n"
	    "  -o DIR         output directory (default results/NAME, NAME from the file)\n"
	    "  --resume       skip cells whose results exist and were made by the same command\n"
	    "                 (the default)\n"
	    "  --fresh        run every cell again\n"
	    "  --list         print the cells (index and label) and stop\n"
	    "  --emit-jobs    print one self-contained shell command per cell (for GNU parallel\n"
	    "                 or a Slurm array) and stop; then `mmreplay merge DIR`\n"
	    "  --only I,J,... run only these cell indices (what emitted jobs use)\n"
	    "  --no-timing    leave wall time and events/s out (byte-identical results)\n"
	    "  --no-table     do not rebuild results.csv/json (emitted jobs; merge does it)\n",
	    f);
}

static int parse_args(int argc, char **argv, struct sweep_opts *o)
{
	memset(o, 0, sizeof(*o));
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	o->jobs = n > 0 ? (int)n : 1;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		if (cli_is_help(argv[i])) {
			sweep_help(stdout);
			exit(EXIT_OK);
		} else if ((v = cli_opt(argc, argv, &i, "-j", &missing)) ||
			   (v = cli_opt(argc, argv, &i, "--jobs", &missing))) {
			char *end;
			long j = strtol(v, &end, 10);
			if (*end || j < 1 || j > 256)
				return cli_usage_error("sweep", "-j %s: expected 1..256", v);
			o->jobs = (int)j;
		} else if (strncmp(argv[i], "-j", 2) == 0 && argv[i][2]) {
			char *end;
			long j = strtol(argv[i] + 2, &end, 10);
			if (*end || j < 1 || j > 256)
				return cli_usage_error("sweep", "%s: expected -jN, N in 1..256",
						       argv[i]);
			o->jobs = (int)j;
		} else if ((v = cli_opt(argc, argv, &i, "-o", &missing))) {
			o->dir = v;
		} else if ((v = cli_opt(argc, argv, &i, "--only", &missing))) {
			o->only = (char *)v;
		} else if (strcmp(argv[i], "--emit-jobs") == 0) {
			o->emit_jobs = true;
		} else if (strcmp(argv[i], "--resume") == 0) {
			o->fresh = false;
		} else if (strcmp(argv[i], "--fresh") == 0) {
			o->fresh = true;
		} else if (strcmp(argv[i], "--no-timing") == 0) {
			o->no_timing = true;
		} else if (strcmp(argv[i], "--no-table") == 0) {
			o->no_table = true;
		} else if (strcmp(argv[i], "--list") == 0) {
			o->list = true;
		} else if (missing) {
			return cli_usage_error("sweep", "%s needs a value", argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error("sweep", "unknown option %s (see --help)", argv[i]);
		} else if (o->file) {
			return cli_usage_error("sweep", "one sweep file at a time (got %s and %s)",
					       o->file, argv[i]);
		} else {
			o->file = argv[i];
		}
	}
	if (!o->file)
		o->file = DEFAULT_SWEEP;
	return EXIT_OK;
}

/* --only: marks the selected cells; -1 on a bad list. */
static int select_cells(const char *only, int nr, bool *sel)
{
	for (int i = 0; i < nr; i++)
		sel[i] = !only;
	if (!only)
		return 0;
	const char *s = only;
	while (*s) {
		char *end;
		long k = strtol(s, &end, 10);
		if (end == s || k < 0 || k >= nr || (*end && *end != ','))
			return -1;
		sel[k] = true;
		s = *end ? end + 1 : end;
	}
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0777) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0777) && errno != EEXIST ? -1 : 0;
}

/* FNV-1a of our own executable: a rebuilt binary may compute different results, so the
 * resume check (the recorded command) includes it. */
static unsigned long long exe_hash(const char *exe)
{
	unsigned long long h = 0xcbf29ce484222325ull;
	FILE *f = fopen(exe, "rb");
	unsigned char buf[65536];
	size_t n;
	while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		for (size_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ull;
	if (f)
		fclose(f);
	return h;
}

static unsigned long long self_hash;

static char *command_text(const char *exe, char **argv, int argc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return NULL;
	fprintf(m, "# mmreplay binary %016llx\n", self_hash);
	sweep_format_command(m, exe, argv, argc);
	fclose(m);
	return text;
}

static bool file_equals(const char *path, const char *text)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = strlen(text);
	char *buf = malloc(n + 2);
	size_t got = buf ? fread(buf, 1, n + 1, f) : 0;
	fclose(f);
	bool eq = buf && got == n && memcmp(buf, text, n) == 0;
	free(buf);
	return eq;
}

static int write_text(const char *path, const char *text)
{
	struct atomic_file a;
	char err[512];
	if (atomic_open(&a, path, err, sizeof(err)))
		return -1;
	fputs(text, a.f);
	return atomic_commit(&a, err, sizeof(err));
}

/* A unit of work: one child with its argv, the file whose presence marks it done, and the
 * command text recorded next to it (resume compares it). */
struct job {
	char *argv[MAX_ARGS];
	int argc;
	char buf[8192];
	char done_path[PATH_MAX], cmd_path[PATH_MAX + 8], log_path[PATH_MAX + 8];
	char *cmd;
	const char *what;
	pid_t pid;
	int status;
};

static pid_t spawn(const char *exe, struct job *j)
{
	char *argv[MAX_ARGS + 1];
	argv[0] = (char *)exe;
	memcpy(argv + 1, j->argv, (size_t)j->argc * sizeof(char *));
	argv[j->argc + 1] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(j->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(exe, argv);
		_exit(127);
	}
	return pid;
}

struct runner {
	const char *exe, *name;
	struct job *jobs;
	int n, jobs_max, done, failed, skipped, running;
	double start;
	bool tty;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress(struct runner *r, const char *phase, bool last)
{
	if (!r->tty && !last)
		return;
	fprintf(stderr, "%ssweep %s: %s %d/%d done (%d skipped, %d running, %d failed), %.1f s%s",
		r->tty ? "\r\033[K" : "", r->name, phase, r->done + r->skipped, r->n, r->skipped,
		r->running, r->failed, now_s() - r->start, last ? "\n" : "");
}

/* Runs the jobs not yet done, jobs_max at a time. Returns the number that failed. */
static int run_jobs(struct runner *r, const char *phase)
{
	int next = 0;
	r->done = r->failed = r->skipped = r->running = 0;
	r->start = now_s();
	for (int i = 0; i < r->n; i++) {
		r->jobs[i].pid = 0;
		if (r->jobs[i].cmd && !r->jobs[i].argc) /* marked done by the caller */
			r->skipped++;
	}
	while (next < r->n || r->running) {
		while (next < r->n && r->running < r->jobs_max) {
			struct job *j = &r->jobs[next++];
			if (!j->argc)
				continue;
			if (j->argc < 0) {
				fprintf(stderr, "sweep: %s: command too long\n", j->what);
				r->failed++;
				continue;
			}
			unlink(j->done_path);
			if (write_text(j->cmd_path, j->cmd)) {
				fprintf(stderr, "\nsweep: %s: cannot write\n", j->cmd_path);
				r->failed++;
				continue;
			}
			j->pid = spawn(r->exe, j);
			if (j->pid < 0) {
				r->failed++;
				continue;
			}
			r->running++;
		}
		progress(r, phase, false);
		int status;
		pid_t pid = wait(&status);
		if (pid < 0)
			break;
		for (int i = 0; i < r->n; i++) {
			struct job *j = &r->jobs[i];
			if (j->pid != pid)
				continue;
			j->pid = 0;
			r->running--;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
			    access(j->done_path, F_OK) == 0) {
				r->done++;
			} else {
				r->failed++;
				unlink(j->cmd_path);
				fprintf(stderr, "%ssweep: %s failed (%s %d), see %s\n",
					r->tty ? "\r\033[K" : "", j->what,
					WIFEXITED(status) ? "exit" : "signal",
					WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
					j->log_path);
			}
		}
	}
	progress(r, phase, true);
	return r->failed;
}

struct sweep_run {
	struct sweep sw;
	struct sweep_opts *o;
	struct sweep_cell *cells;
	bool *sel;
	int nr_cells;
	char dir[2048], exe[PATH_MAX];
};

static void job_paths(struct job *j, const char *base)
{
	snprintf(j->cmd_path, sizeof(j->cmd_path), "%s.cmd", base);
	snprintf(j->log_path, sizeof(j->log_path), "%s.log", base);
}

/* A job is skipped when its output exists and its recorded command is this command. */
static void mark_done(struct sweep_run *sr, struct job *j)
{
	j->cmd = command_text(sr->exe, j->argv, j->argc);
	if (!sr->o->fresh && access(j->done_path, F_OK) == 0 && j->cmd &&
	    file_equals(j->cmd_path, j->cmd))
		j->argc = 0;
}

static int gen_traces(struct sweep_run *sr, struct runner *r)
{
	struct job *jobs = calloc((size_t)sr->sw.nr_traces, sizeof(*jobs));
	int n = 0;
	for (int t = 0; t < sr->sw.nr_traces; t++) {
		bool used = false;
		for (int c = 0; c < sr->nr_cells; c++)
			used |= sr->sel[c] && sr->cells[c].trace == t;
		if (!used || sr->sw.traces[t].path[0])
			continue;
		struct job *j = &jobs[n++];
		j->argc =
		    sweep_gen_argv(&sr->sw, t, sr->dir, j->argv, MAX_ARGS, j->buf, sizeof(j->buf));
		sweep_trace_path(&sr->sw, t, sr->dir, j->done_path, sizeof(j->done_path));
		char base[PATH_MAX];
		snprintf(base, sizeof(base), "%s/traces/%s", sr->dir, sr->sw.traces[t].name);
		job_paths(j, base);
		j->what = sr->sw.traces[t].name;
		mark_done(sr, j);
	}
	r->jobs = jobs;
	r->n = n;
	int failed = n ? run_jobs(r, "traces") : 0;
	for (int i = 0; i < n; i++)
		free(jobs[i].cmd);
	free(jobs);
	return failed;
}

static int run_cells(struct sweep_run *sr, struct runner *r)
{
	struct job *jobs = calloc((size_t)sr->nr_cells, sizeof(*jobs));
	int n = 0;
	for (int c = 0; c < sr->nr_cells; c++) {
		if (!sr->sel[c])
			continue;
		struct job *j = &jobs[n++];
		j->argc = sweep_cell_argv(&sr->sw, &sr->cells[c], sr->dir, j->argv, MAX_ARGS,
					  j->buf, sizeof(j->buf));
		sweep_cell_path(sr->dir, &sr->cells[c], ".row.csv", j->done_path,
				sizeof(j->done_path));
		char base[PATH_MAX];
		sweep_cell_path(sr->dir, &sr->cells[c], "", base, sizeof(base));
		job_paths(j, base);
		j->what = sr->cells[c].label;
		mark_done(sr, j);
	}
	r->jobs = jobs;
	r->n = n;
	int failed = run_jobs(r, "cells");
	for (int i = 0; i < n; i++)
		free(jobs[i].cmd);
	free(jobs);
	return failed;
}

static int emit_jobs(struct sweep_run *sr)
{
	char file[PATH_MAX];
	if (!realpath(sr->o->file, file))
		return cli_fail("sweep", "%s: %s", sr->o->file, strerror(errno));
	for (int c = 0; c < sr->nr_cells; c++) {
		if (!sr->sel[c])
			continue;
		char only[16];
		snprintf(only, sizeof(only), "%d", c);
		char *argv[] = {"sweep", file,	       "-o",  sr->dir,	    "--only",
				only,	 "--no-table", "-j1", "--no-timing"};
		sweep_format_command(stdout, sr->exe, argv, sr->o->no_timing ? 9 : 8);
	}
	fprintf(stderr, "sweep %s: %d jobs; when they are done: mmreplay merge %s\n", sr->sw.name,
		sr->nr_cells, sr->dir);
	return EXIT_OK;
}

static int setup(struct sweep_run *sr)
{
	char err[1024];
	if (sweep_load(&sr->sw, sr->o->file, err, sizeof(err)))
		return cli_usage_error("sweep", "%s", err);
	sr->sw.no_timing = sr->o->no_timing;
	/* cells side by side keep every CPU busy: a decoding thread per cell would only add
	 * work (~4 % more CPU). The environment, not an option, so that the commands recorded
	 * for --resume stay the same whatever -j is. */
	if (sr->o->jobs > 1 && setenv("MMREPLAY_DECODE_AHEAD", "off", 1))
		return cli_fail("sweep", "setenv: %s", strerror(errno));
	int total;
	sr->cells = calloc(MAX_CELLS, sizeof(*sr->cells));
	sr->nr_cells = sweep_expand(&sr->sw, sr->cells, MAX_CELLS, &total);
	if (sr->nr_cells < 0)
		return cli_usage_error("sweep", "%s: %d cells; at most %d", sr->o->file, total,
				       MAX_CELLS);
	sr->sel = calloc((size_t)sr->nr_cells + 1, sizeof(*sr->sel));
	if (select_cells(sr->o->only, sr->nr_cells, sr->sel))
		return cli_usage_error("sweep",
				       "--only %s: expected cell indices 0..%d, comma "
				       "separated",
				       sr->o->only, sr->nr_cells - 1);
	char dir[1024];
	if (sr->o->dir && strlen(sr->o->dir) >= sizeof(dir))
		return cli_usage_error("sweep", "-o: path too long");
	if (sr->o->dir)
		snprintf(dir, sizeof(dir), "%s", sr->o->dir);
	else
		snprintf(dir, sizeof(dir), "results/%s", sr->sw.name);
	ssize_t n = readlink("/proc/self/exe", sr->exe, sizeof(sr->exe) - 1);
	if (n <= 0)
		return cli_fail("sweep", "/proc/self/exe: %s", strerror(errno));
	sr->exe[n] = 0;
	self_hash = exe_hash(sr->exe);
	if (sr->o->list || sr->o->emit_jobs) {
		if (!sr->o->emit_jobs || dir[0] == '/' || !getcwd(sr->dir, sizeof(sr->dir)))
			snprintf(sr->dir, sizeof(sr->dir), "%s", dir);
		else
			snprintf(sr->dir + strlen(sr->dir), sizeof(sr->dir) - strlen(sr->dir),
				 "/%s", dir);
		return EXIT_OK;
	}
	snprintf(sr->dir, sizeof(sr->dir), "%s", dir);
	char sub[PATH_MAX + 16];
	snprintf(sub, sizeof(sub), "%s/cells", dir);
	if (mkdir_p(sub))
		return cli_fail("sweep", "%s: %s", sub, strerror(errno));
	snprintf(sub, sizeof(sub), "%s/traces", dir);
	if (mkdir_p(sub))
		return cli_fail("sweep", "%s: %s", sub, strerror(errno));
	return EXIT_OK;
}

static int run_sweep(struct sweep_run *sr)
{
	struct runner r = {
	    .exe = sr->exe, .name = sr->sw.name, .jobs_max = sr->o->jobs, .tty = isatty(2)};
	if (gen_traces(sr, &r))
		return cli_fail("sweep", "trace generation failed; nothing replayed");
	int failed = run_cells(sr, &r);
	if (sr->o->no_table)
		return failed ? EXIT_FAIL : EXIT_OK;
	char csv[PATH_MAX + 16], json[PATH_MAX + 16], err[1024];
	snprintf(csv, sizeof(csv), "%s/results.csv", sr->dir);
	snprintf(json, sizeof(json), "%s/results.json", sr->dir);
	/* the table has this sweep's cells only: rows left in cells/ by an earlier version of
	 * the sweep file are not in it (mmreplay merge DIR takes everything) */
	char **in = calloc((size_t)sr->nr_cells + 1, sizeof(*in));
	int nin = 0;
	for (int c = 0; c < sr->nr_cells; c++) {
		char path[PATH_MAX];
		sweep_cell_path(sr->dir, &sr->cells[c], ".row.csv", path, sizeof(path));
		if (access(path, F_OK) == 0)
			in[nin++] = strdup(path);
	}
	int rows = nin ? sweep_merge(in, nin, csv, json, err, sizeof(err)) : 0;
	for (int i = 0; i < nin; i++)
		free(in[i]);
	free(in);
	if (rows < 0)
		return cli_fail("sweep", "%s", err);
	fprintf(stderr, "sweep %s: %d of %d cells in %s and %s\n", sr->sw.name, rows, sr->nr_cells,
		csv, json);
	if (failed)
		return cli_fail("sweep", "%d cells failed", failed);
	return EXIT_OK;
}

int cmd_sweep(int argc, char **argv)
{
	struct sweep_opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	struct sweep_run *sr = calloc(1, sizeof(*sr));
	sr->o = &o;
	rc = setup(sr);
	if (!rc && o.list) {
		for (int c = 0; c < sr->nr_cells; c++)
			if (sr->sel[c])
				printf("%4d %s\n", c, sr->cells[c].label);
	} else if (!rc && o.emit_jobs) {
		rc = emit_jobs(sr);
	} else if (!rc) {
		rc = run_sweep(sr);
	}
	free(sr->cells);
	free(sr->sel);
	free(sr);
	return rc;
}
