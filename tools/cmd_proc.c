/* mmreplay proc: the simulated machine's /proc at one point of a replay. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "proc_snap.h"
#include "trace_io.h"

#define PROC_BATCH 4096

struct proc_opts {
	struct machine_opts machine;
	const char *trace, *at, *files;
	enum replay_level level;
};

static void proc_help(FILE *f)
{
	fprintf(f,
		"usage: mmreplay proc TRACE [machine options] [--at POINT] [--file LIST]\n"
		"                             [--level=model|page]\n\n"
		"Replays TRACE up to POINT and prints the simulated machine's /proc files in the\n"
		"kernel's own formats, each after a '==> /proc/NAME <==' line (docs/PROC.md).\n\n"
		"Options:\n"
		"  --at POINT           where to stop (default: the end of the trace):\n"
		"                         NAME or mark:NAME  right after the first mark NAME\n"
		"                         N                  after the first N events (0 = boot)\n"
		"                         T (2.5s, 300ms, 20us, 7ns)  after every event at or\n"
		"                                            before trace time T\n"
		"  --file LIST          comma-separated (default all): %s\n"
		"  --level=model|page   as for replay\n\n",
		proc_file_names_help);
	machine_opts_help(f);
}

static int parse_args(int argc, char **argv, struct proc_opts *o)
{
	memset(o, 0, sizeof(*o));
	machine_opts_init(&o->machine);
	o->files = "all";
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		int r = machine_opts_parse(&o->machine, argc, argv, &i);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (cli_is_help(argv[i])) {
			proc_help(stdout);
			exit(EXIT_OK);
		} else if ((v = cli_opt(argc, argv, &i, "--at", &missing))) {
			o->at = v;
		} else if ((v = cli_opt(argc, argv, &i, "--file", &missing))) {
			o->files = v;
		} else if ((v = cli_opt(argc, argv, &i, "--level", &missing))) {
			if (cli_parse_level("proc", v, &o->level))
				return EXIT_USAGE;
		} else if (missing) {
			return cli_usage_error("proc", "%s needs a value", argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error("proc", "unknown option %s (see --help)", argv[i]);
		} else if (o->trace) {
			return cli_usage_error("proc", "one trace at a time (got %s and %s)",
					       o->trace, argv[i]);
		} else {
			o->trace = argv[i];
		}
	}
	if (!o->trace)
		return cli_usage_error("proc", "which trace? (mmreplay proc TRACE; see --help)");
	if (machine_opts_finish(&o->machine, "proc"))
		return EXIT_USAGE;
	return EXIT_OK;
}

struct proc_run {
	const struct proc_sel *sel;
	struct strbuf out;
	char err[512];
	bool failed;
};

static int render_point(void *ctx, const struct proc_point *pt, struct sim *s)
{
	struct proc_run *r = ctx;
	(void)pt;
	if (proc_render(&r->out, s, r->sel, r->err, sizeof(r->err))) {
		r->failed = true;
		return -1;
	}
	return 0;
}

/* Replay until the point is taken (or the end); returns an exit status. */
static int replay_to_point(struct trace_reader *rd, struct sim *s, struct proc_points *pp,
			   struct proc_run *run)
{
	static struct mm_event batch[PROC_BATCH];
	uint64_t applied = 0;
	ssize_t n;
	char err[512];
	while ((n = trace_reader_next(rd, batch, PROC_BATCH, err, sizeof(err))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (proc_points_due(pp, &batch[i], applied) &&
			    proc_points_step(pp, s, &batch[i], applied))
				return cli_usage_error("proc", "%s", run->err);
			if (!pp->left)
				return EXIT_OK;
			sim_apply(s, &batch[i]);
			applied++;
		}
	}
	if (n < 0)
		return cli_usage_error("proc", "%s", err);
	if (proc_points_finish(pp, s, applied, err, sizeof(err)))
		return run->failed ? cli_usage_error("proc", "%s", run->err)
				   : cli_usage_error("proc", "--at %s", err);
	return EXIT_OK;
}

static int run(const struct proc_opts *o, const struct proc_sel *sel)
{
	char err[512];
	struct proc_points pp;
	proc_points_init(&pp);
	if (proc_points_add(&pp, o->at ? o->at : "end", err, sizeof(err)))
		return cli_usage_error("proc", "--at %s: %s", o->at, err);
	if (!o->at)
		pp.p[0].kind = PP_END; /* taken by proc_points_finish only */
	struct proc_run r = {.sel = sel};
	strbuf_init(&r.out);
	pp.take = render_point;
	pp.ctx = &r;
	struct trace_reader *rd = trace_reader_open(o->trace, err, sizeof(err));
	if (!rd) {
		strbuf_free(&r.out);
		return cli_usage_error("proc", "%s", err);
	}
	int rc;
	struct sim *s =
	    sim_create(&o->machine.cfg, trace_reader_strings(rd), o->level, err, sizeof(err));
	if (!s)
		rc = cli_usage_error("proc", "%s", err);
	else
		rc = replay_to_point(rd, s, &pp, &r);
	if (!rc && r.out.oom)
		rc = cli_fail("proc", "out of memory");
	if (!rc)
		fwrite(strbuf_str(&r.out), 1, r.out.len, stdout);
	if (!rc && fflush(stdout) != 0)
		rc = cli_fail("proc", "write error on stdout");
	sim_destroy(s);
	trace_reader_close(rd);
	strbuf_free(&r.out);
	return rc;
}

int cmd_proc(int argc, char **argv)
{
	struct proc_opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	struct proc_sel sel;
	char err[512];
	if (proc_sel_parse(&sel, o.files, err, sizeof(err)))
		return cli_usage_error("proc", "%s", err);
	return run(&o, &sel);
}
