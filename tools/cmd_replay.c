/* mmreplay replay: one trace on one machine configuration. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "cli.h"
#include "commands.h"
#include "fidelity.h"
#include "proc_snap.h"
#include "results.h"
#include "trace_io.h"

/* Events per reader call: 256 x 48 bytes = 12 KiB, so a batch stays in L1 from decoding
 * through hashing to sim_apply (8192 events, 384 KiB, were evicted by the engine between
 * decoding and use: ~1.5 M L2 misses on the mix trace). */
#define REPLAY_BATCH 256

struct replay_opts {
	struct machine_opts machine;
	const char *trace, *json, *csv, *row, *frame_map, *label;
	enum replay_level level;
	uint64_t sample_events;  /* sample every N events, or */
	uint64_t sample_ns;      /* every T of trace time; 0 = no time series */
	bool progress, timing, quiet;
	bool decode_ahead;       /* on a second thread where two CPUs may run us */
	int implicit;            /* --implicit-regions: -1 from the trace's origin */
	struct proc_points snaps;  /* --snapshot-at points (docs/PROC.md) */
	const char *snap_dir;
};

static void replay_help(FILE *f)
{
	fputs("usage: mmreplay replay TRACE [machine options] [options]\n\n"
	      "Replays TRACE (.mmt, text or text.gz) into the simulated machine and prints a summary.\n\n"
	      "Options:\n"
	      "  --level=model|page   model (default): the engine decides every page; page: replay\n"
	      "                       the recorded mm_page_alloc/free stream into the buddy allocator\n"
	      "  --json FILE          write the JSON summary (docs/RESULTS.md) to FILE\n"
	      "  --csv FILE           write the time series to FILE (needs --sample-every)\n"
	      "  --sample-every X     sample every X events (e.g. 10000) or X of trace time (100ms, 2s)\n"
	      "  --no-timing          leave wall time out of the JSON (byte-identical reruns)\n"
	      "  --row FILE           write the run as one row of the sweep table (header + row)\n"
	      "  --frame-map FILE     write every frame's zone and state, and every pageblock's\n"
	      "                       migratetype, at the end of the run (docs/RESULTS.md)\n"
	      "  --label NAME         name of the run in the JSON and the row (sweeps set it)\n"
	      "  --snapshot-at POINT  write the /proc files into DIR/POINT/ at POINT: a mark name,\n"
	      "                       N events, or a trace time (2.5s); repeatable (see proc --help)\n"
	      "  --snapshot-dir DIR   where --snapshot-at writes\n"
	      "  --progress           progress on stderr even when it is not a terminal\n"
	      "  --no-decode-ahead    decode on the replay's own thread even where a second CPU\n"
	      "                       may run a decoding thread (also MMREPLAY_DECODE_AHEAD=off,\n"
	      "                       which sweep -j N > 1 sets for its cells)\n"
	      "  --quiet              no summary on stdout\n"
	      "  --implicit-regions=on|off  a fault outside every VMA creates an implicit region\n"
	      "                       (default: on for imported recordings, off otherwise)\n\n",
	      f);
	machine_opts_help(f);
}

/* "10000" → events; "100ms", "2s", "500us", "10ns" → trace time. */
static int parse_sample(const char *v, struct replay_opts *o)
{
	char *end;
	if (!*v || *v == '-')
		return -1;
	double x = strtod(v, &end);
	if (end == v || x <= 0)
		return -1;
	static const struct { const char *unit; double ns; } units[] = {
		{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9},
	};
	if (*end == 0) {
		if (x != (double)(uint64_t)x)
			return -1;
		o->sample_events = (uint64_t)x;
		return 0;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			o->sample_ns = (uint64_t)(x * units[i].ns);
			return o->sample_ns ? 0 : -1;
		}
	}
	return -1;
}

static int parse_args(int argc, char **argv, struct replay_opts *o)
{
	memset(o, 0, sizeof(*o));
	machine_opts_init(&o->machine);
	proc_points_init(&o->snaps);
	o->timing = true;
	const char *ahead = getenv("MMREPLAY_DECODE_AHEAD");
	o->decode_ahead = !ahead || strcmp(ahead, "off") != 0;
	o->implicit = -1;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		int r = machine_opts_parse(&o->machine, argc, argv, &i);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (cli_is_help(argv[i])) {
			replay_help(stdout);
			exit(EXIT_OK);
		} else if ((v = cli_opt(argc, argv, &i, "--json", &missing))) {
			o->json = v;
		} else if ((v = cli_opt(argc, argv, &i, "--csv", &missing))) {
			o->csv = v;
		} else if ((v = cli_opt(argc, argv, &i, "--row", &missing))) {
			o->row = v;
		} else if ((v = cli_opt(argc, argv, &i, "--frame-map", &missing))) {
			o->frame_map = v;
		} else if ((v = cli_opt(argc, argv, &i, "--label", &missing))) {
			if (!*v || strpbrk(v, ",\"\n"))
				return cli_usage_error("replay", "--label=%s: expected a name without "
								 "commas or quotes", v);
			o->label = v;
		} else if ((v = cli_opt(argc, argv, &i, "--snapshot-at", &missing))) {
			char err[256];
			if (proc_points_add(&o->snaps, v, err, sizeof(err)))
				return cli_usage_error("replay", "--snapshot-at %s: %s", v, err);
		} else if ((v = cli_opt(argc, argv, &i, "--snapshot-dir", &missing))) {
			o->snap_dir = v;
		} else if ((v = cli_opt(argc, argv, &i, "--level", &missing))) {
			if (cli_parse_level("replay", v, &o->level))
				return EXIT_USAGE;
		} else if ((v = cli_opt(argc, argv, &i, "--sample-every", &missing))) {
			if (parse_sample(v, o))
				return cli_usage_error("replay", "--sample-every=%s: expected a number "
								 "of events or a time such as 100ms", v);
		} else if ((v = cli_opt(argc, argv, &i, "--implicit-regions", &missing))) {
			if (cli_parse_on_off("replay", "--implicit-regions", v, &o->implicit))
				return EXIT_USAGE;
		} else if (strcmp(argv[i], "--no-timing") == 0) {
			o->timing = false;
		} else if (strcmp(argv[i], "--no-decode-ahead") == 0) {
			o->decode_ahead = false;
		} else if (strcmp(argv[i], "--progress") == 0) {
			o->progress = true;
		} else if (strcmp(argv[i], "--quiet") == 0) {
			o->quiet = true;
		} else if (missing) {
			return cli_usage_error("replay", "%s needs a value", argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error("replay", "unknown option %s (see --help)", argv[i]);
		} else if (o->trace) {
			return cli_usage_error("replay", "one trace at a time (got %s and %s)",
					       o->trace, argv[i]);
		} else {
			o->trace = argv[i];
		}
	}
	if (!o->trace)
		return cli_usage_error("replay", "which trace? (mmreplay replay TRACE; see --help)");
	if (!o->snaps.n != !o->snap_dir)
		return cli_usage_error("replay", "--snapshot-at and --snapshot-dir go together");
	if (o->csv && !o->sample_events && !o->sample_ns)
		return cli_usage_error("replay", "--csv needs --sample-every");
	if (machine_opts_finish(&o->machine, "replay"))
		return EXIT_USAGE;
	return EXIT_OK;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct replay_run {
	struct replay_opts *o;
	struct sim *sim;
	struct trace_reader *reader;
	struct atomic_file csv;
	struct run_info info;
	struct proc_points *snaps; /* NULL without --snapshot-at */
	bool ahead;		   /* decoded and hashed on a second thread (trace_reader_ahead) */
	uint64_t next_sample_ts;
	double start, last_progress;
};

static void maybe_sample(struct replay_run *r)
{
	struct sim *s = r->sim;
	if (r->o->sample_events) {
		if (s->vmstat[EVENTS] % r->o->sample_events == 0)
			results_csv_row(r->csv.f, s);
	} else if (s->last_ts >= r->next_sample_ts) {
		results_csv_row(r->csv.f, s);
		r->next_sample_ts = (s->last_ts / r->o->sample_ns + 1) * r->o->sample_ns;
	}
}

static void show_progress(struct replay_run *r, bool last)
{
	double t = now_s();
	if (!last && t - r->last_progress < 0.5)
		return;
	r->last_progress = t;
	fprintf(stderr, "\rreplay: %" PRIu64 " events, %.1f M events/s%s", r->info.events,
		r->info.events / (t - r->start) / 1e6, last ? "\n" : "");
}

/* The events of one batch with snapshots or sampling: both look at every event. */
static int apply_observed(struct replay_run *r, const struct mm_event *batch, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (r->snaps && proc_points_due(r->snaps, &batch[i], r->info.events + i) &&
		    proc_points_step(r->snaps, r->sim, &batch[i], r->info.events + i))
			return EXIT_FAIL; /* the snapshot writer said why */
		sim_prefetch(r->sim, batch, i, n);
		sim_apply(r->sim, &batch[i]);
		if (r->csv.f)
			maybe_sample(r);
	}
	return EXIT_OK;
}

/* The start of the trace hash's chain (trace_hash_event, then the strings). */
#define REPLAY_HASH_INIT 0x6d6d7265706c6179ull

static ssize_t next_batch(struct replay_run *r, const struct mm_event **batch, char *err,
			  size_t errlen)
{
	static struct mm_event buf[REPLAY_BATCH];
	if (r->ahead)
		return trace_reader_next_batch(r->reader, batch, err, errlen);
	*batch = buf;
	return trace_reader_next(r->reader, buf, REPLAY_BATCH, err, errlen);
}

static int replay_loop(struct replay_run *r)
{
	const struct mm_event *batch;
	char err[512];
	bool progress = r->o->progress || isatty(2);
	bool observed = r->snaps || r->csv.f;
	uint64_t h = REPLAY_HASH_INIT;
	ssize_t n;
	while ((n = next_batch(r, &batch, err, sizeof(err))) > 0) {
		if (observed) {
			/* sim_apply only reads events: hashing first gives the same chain */
			if (!r->ahead)
				h = trace_hash_events(h, batch, (size_t)n);
			if (apply_observed(r, batch, (size_t)n))
				return EXIT_FAIL;
		} else {
			/* The events with one SIM_PREFETCH_AHEAD after them, then the rest: no
			 * bound test per event. Unless decoded ahead (and hashed on that thread),
			 * event by event: the hash is a serial chain of ~30 cycles per event,
			 * which the core overlaps with sim_apply here but not in a loop of its
			 * own (perf: 1.5 % of the run). */
			struct sim *s = r->sim;
			const struct mm_event *ev = batch, *end = batch + n;
			const struct mm_event *ahead =
			    n > SIM_PREFETCH_AHEAD ? end - SIM_PREFETCH_AHEAD : batch;
			if (r->ahead) {
				for (; ev < ahead; ev++) {
					sim_prefetch_at(s, ev + SIM_PREFETCH_AHEAD);
					sim_apply_inline(s, ev);
				}
				for (; ev < end; ev++)
					sim_apply_inline(s, ev);
			} else {
				for (; ev < ahead; ev++) {
					h = trace_hash_event(h, ev);
					sim_prefetch_at(s, ev + SIM_PREFETCH_AHEAD);
					sim_apply_inline(s, ev);
				}
				for (; ev < end; ev++) {
					h = trace_hash_event(h, ev);
					sim_apply_inline(s, ev);
				}
			}
		}
		r->info.events += (uint64_t)n;
		if (progress)
			show_progress(r, false);
	}
	if (n < 0)
		return cli_usage_error("replay", "%s", err);
	if (progress)
		show_progress(r, true);
	int rc = r->snaps ? proc_points_finish(r->snaps, r->sim, r->info.events, err, sizeof(err))
			  : 0;
	if (rc)
		return rc < 0 ? cli_usage_error("replay", "--snapshot-at %s", err) : EXIT_FAIL;
	if (r->ahead)
		h = trace_reader_fold(r->reader);
	r->info.trace_hash = trace_hash_strings(h, trace_reader_strings(r->reader));
	if (r->csv.f)
		results_csv_row(r->csv.f, r->sim); /* the final state is always the last row */
	return EXIT_OK;
}

/* Row and frame map: small end-of-run files, each whole or absent. */
static int write_end_file(struct replay_run *r, const char *path, bool row)
{
	struct atomic_file a;
	char err[512];
	if (atomic_open(&a, path, err, sizeof(err)))
		return cli_fail("replay", "%s", err);
	if (row) {
		results_row_header(a.f);
		results_row(a.f, r->sim, &r->info);
	} else {
		results_frame_map(a.f, r->sim);
	}
	if (atomic_commit(&a, err, sizeof(err)))
		return cli_fail("replay", "%s", err);
	return EXIT_OK;
}

static int write_snapshot(void *ctx, const struct proc_point *pt, struct sim *s)
{
	char err[512];
	if (proc_snapshot_write(ctx, pt->arg, s, err, sizeof(err)))
		return cli_fail("replay", "snapshot %s: %s", pt->arg, err);
	return 0;
}

static int write_json(struct replay_run *r)
{
	struct atomic_file a;
	char err[512];
	if (atomic_open(&a, r->o->json, err, sizeof(err)))
		return cli_fail("replay", "%s", err);
	struct json j;
	json_init(&j, a.f);
	results_write_json(&j, r->sim, &r->info);
	if (atomic_commit(&a, err, sizeof(err)))
		return cli_fail("replay", "%s", err);
	return EXIT_OK;
}

static int run_replay(struct replay_run *r)
{
	char err[512];
	if (r->o->csv) {
		if (atomic_open(&r->csv, r->o->csv, err, sizeof(err)))
			return cli_fail("replay", "%s", err);
		results_csv_header(r->csv.f, r->sim);
	}
	r->start = now_s();
	int rc = replay_loop(r);
	r->info.wall_s = now_s() - r->start;
	if (rc) {
		if (r->csv.f)
			atomic_abort(&r->csv);
		return rc;
	}
	if (r->csv.f && atomic_commit(&r->csv, err, sizeof(err)))
		return cli_fail("replay", "%s", err);
	if (r->o->json && (rc = write_json(r)))
		return rc;
	if (r->o->frame_map && (rc = write_end_file(r, r->o->frame_map, false)))
		return rc;
	/* the row last: a sweep takes its presence to mean the cell is complete */
	if (r->o->row && (rc = write_end_file(r, r->o->row, true)))
		return rc;
	if (!r->o->quiet)
		results_print_summary(stdout, r->sim, &r->info);
	return EXIT_OK;
}

int cmd_replay(int argc, char **argv)
{
	struct replay_opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	char err[512];
	struct replay_run r = {.o = &o};
	r.reader = trace_reader_open(o.trace, err, sizeof(err));
	if (!r.reader)
		return cli_usage_error("replay", "%s", err);
	/* before sim_create: the engine is to hold the consumer's strings */
	r.ahead = o.decode_ahead && trace_reader_ahead(r.reader, REPLAY_BATCH, trace_hash_events,
							REPLAY_HASH_INIT) > 0;
	r.sim = sim_create(&o.machine.cfg, trace_reader_strings(r.reader), o.level, err,
			   sizeof(err));
	if (!r.sim) {
		trace_reader_close(r.reader);
		return cli_usage_error("replay", "%s", err);
	}
	/* real recordings start mid-life (docs/MM.md, docs/FIDELITY.md) */
	r.sim->mm.implicit_regions = o.implicit >= 0 ? o.implicit == 1
						      : trace_origin_is_recording(trace_reader_origin(r.reader));
	r.info = (struct run_info){
		.label = o.label,
		.trace_path = o.trace,
		.origin = trace_reader_origin(r.reader),
		.format = trace_reader_format(r.reader),
		.timing = o.timing,
	};
	if (o.snaps.n) {
		o.snaps.take = write_snapshot;
		o.snaps.ctx = (void *)o.snap_dir;
		r.snaps = &o.snaps;
	}
	rc = run_replay(&r);
	sim_destroy(r.sim);
	trace_reader_close(r.reader);
	return rc;
}
