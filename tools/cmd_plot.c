/* mmreplay plot: a sweep's results → images. This file only selects and reshapes data
 * (into OUT/data/NAME.dat); the drawing is in the committed gnuplot scripts plots/NAME.gp, each
 * run once for PNG (pngcairo) and once for SVG. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "plot_data.h"

struct plot_opts {
	const char *dir, *out, *compare, *trace, *cell, *scripts;
	int order;
};

struct plot {
	struct plot_opts *o;
	struct table res;
	char data[1024];
	char trace[64];
	int drawn, failed;
};

static void plot_help(FILE *f)
{
	fputs("usage: mmreplay plot RESULTS_DIR [--out DIR] [--compare OTHER_DIR] [options]\n\n"
	      "Draws a sweep's results (RESULTS_DIR/results.csv and cells/) with the gnuplot\n"
	      "scripts in plots/*.gp into DIR (default plots/out), each as .png and .svg:\n"
	      "  frag_time        unusable free space index over trace time, one line per mem=\n"
	      "  tlb_causes       TLB flushes per configuration, stacked by cause\n"
	      "  swap             pages swapped out and in per mem= and overcommit mode\n"
	      "  oom              OOM kills and ENOMEM refusals per overcommit mode and mem=\n"
	      "  buddyinfo        free blocks per order over time (heatmap) of one cell\n"
	      "  frame_map        physical memory of one cell at the end: frames by state,\n"
	      "                   pageblocks by migratetype\n"
	      "  compare          with --compare: OTHER/RESULTS ratio of key metrics per cell\n\n"
	      "  --trace NAME     the workload the per-trace plots show (default: the first)\n"
	      "  --order N        fragmentation order for frag_time: 3 or 9 (default 9)\n"
	      "  --cell LABEL     the cell of buddyinfo and frame_map (default: the trace's\n"
	      "                   smallest i386 mem= without swap, overcommit 0)\n"
	      "  --scripts DIR    where the .gp files are (default: plots/ next to bin/)\n",
	      f);
}

static int parse_args(int argc, char **argv, struct plot_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->out = "plots/out";
	o->order = 9;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		if (cli_is_help(argv[i])) {
			plot_help(stdout);
			exit(EXIT_OK);
		} else if ((v = cli_opt(argc, argv, &i, "--out", &missing))) {
			o->out = v;
		} else if ((v = cli_opt(argc, argv, &i, "--compare", &missing))) {
			o->compare = v;
		} else if ((v = cli_opt(argc, argv, &i, "--trace", &missing))) {
			o->trace = v;
		} else if ((v = cli_opt(argc, argv, &i, "--cell", &missing))) {
			o->cell = v;
		} else if ((v = cli_opt(argc, argv, &i, "--scripts", &missing))) {
			o->scripts = v;
		} else if ((v = cli_opt(argc, argv, &i, "--order", &missing))) {
			if (strcmp(v, "3") && strcmp(v, "9"))
				return cli_usage_error("plot", "--order=%s: expected 3 or 9", v);
			o->order = atoi(v);
		} else if (missing) {
			return cli_usage_error("plot", "%s needs a value", argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error("plot", "unknown option %s (see --help)", argv[i]);
		} else if (o->dir) {
			return cli_usage_error("plot",
					       "one results directory (got %s and %s); the "
					       "other goes after --compare",
					       o->dir, argv[i]);
		} else {
			o->dir = argv[i];
		}
	}
	if (!o->dir)
		return cli_usage_error("plot", "which results? (mmreplay plot RESULTS_DIR)");
	return EXIT_OK;
}

/* ---- data files ---------------------------------------------------------------------- */

static FILE *data_open(struct plot *p, const char *name, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", p->data, name);
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "mmreplay plot: %s: %s\n", path, strerror(errno));
	return f;
}

static bool is(const struct table *t, size_t r, const char *col, const char *v)
{
	return strcmp(table_get(t, r, col), v) == 0;
}

/* "i386 256M", with " swap 1G" when asked */
static void config_name(const struct table *t, size_t r, bool swap, char *out, size_t n)
{
	snprintf(out, n, "%s %s%s%s", table_get(t, r, "arch"), table_get(t, r, "mem"),
		 swap ? " swap " : "", swap ? table_get(t, r, "swap") : "");
}

/* Rows of the chosen trace, overcommit 0, no swap: the baseline configuration per mem=. */
static bool plain(const struct plot *p, size_t r)
{
	return is(&p->res, r, "trace", p->trace) && is(&p->res, r, "overcommit_memory", "0") &&
	       is(&p->res, r, "swap", "0");
}

static int prep_frag_time(struct plot *p, FILE *vars)
{
	char files[16384] = "", titles[4096] = "";
	char col[32];
	snprintf(col, sizeof(col), "unusable_o%d", p->o->order);
	for (size_t r = 0; r < p->res.nr_rows; r++) {
		if (!plain(p, r))
			continue;
		char series[PATH_MAX], path[PATH_MAX], name[128];
		snprintf(series, sizeof(series), "%s/cells/%s.series.csv", p->o->dir,
			 table_get(&p->res, r, "label"));
		struct table s;
		char err[512];
		if (table_read(&s, series, err, sizeof(err))) {
			fprintf(stderr, "mmreplay plot: frag_time: %s\n", err);
			continue;
		}
		snprintf(name, sizeof(name), "frag_%s.dat", table_get(&p->res, r, "label"));
		FILE *f = data_open(p, name, path, sizeof(path));
		if (!f) {
			table_free(&s);
			return -1;
		}
		fprintf(f, "# time_s %s\n", col);
		for (size_t i = 0; i < s.nr_rows; i++)
			fprintf(f, "%s %s\n", table_get(&s, i, "time_s"), table_get(&s, i, col));
		fclose(f);
		table_free(&s);
		config_name(&p->res, r, false, name, sizeof(name));
		for (char *c = name; *c; c++)
			if (*c == ' ')
				*c = '~';
		snprintf(files + strlen(files), sizeof(files) - strlen(files), "%s%s",
			 files[0] ? " " : "", path);
		snprintf(titles + strlen(titles), sizeof(titles) - strlen(titles), "%s%s",
			 titles[0] ? " " : "", name);
	}
	if (!files[0])
		return 1;
	fprintf(vars, "files='%s'; titles='%s'; order=%d; trace='%s';", files, titles, p->o->order,
		p->trace);
	return 0;
}

static int prep_tlb(struct plot *p, FILE *vars)
{
	char path[PATH_MAX];
	/* the cause columns are whatever tlb_* the table has, in its order */
	int cols[64], n = 0;
	for (int c = 0; c < p->res.nr_cols && n < 64; c++)
		if (strncmp(p->res.header[c], "tlb_", 4) == 0 &&
		    strcmp(p->res.header[c], "tlb_flushes") != 0)
			cols[n++] = c;
	FILE *f = data_open(p, "tlb.dat", path, sizeof(path));
	if (!f)
		return -1;
	fputs("config", f);
	for (int k = 0; k < n; k++)
		fprintf(f, " %s", p->res.header[cols[k]] + 4);
	fputc('\n', f);
	int rows = 0;
	for (size_t r = 0; r < p->res.nr_rows; r++) {
		if (!is(&p->res, r, "trace", p->trace) || !is(&p->res, r, "overcommit_memory", "0"))
			continue;
		char name[128];
		config_name(&p->res, r, true, name, sizeof(name));
		fprintf(f, "\"%s\"", name);
		for (int k = 0; k < n; k++)
			fprintf(f, " %s", p->res.rows[r][cols[k]]);
		fputc('\n', f);
		rows++;
	}
	fclose(f);
	fprintf(vars, "datafile='%s'; ncauses=%d; trace='%s';", path, n, p->trace);
	return rows ? 0 : 1;
}

/* Groups "arch mem" in table order, summing a column over traces per overcommit mode. */
struct group {
	char name[64];
	double v[2][3]; /* [metric][overcommit mode] */
	bool seen[3];
};

static int group_rows(struct plot *p, const char *m0, const char *m1, bool want_swap,
		      bool with_swap_name, struct group *g, int cap)
{
	int n = 0;
	for (size_t r = 0; r < p->res.nr_rows; r++) {
		bool swap = !is(&p->res, r, "swap", "0");
		if (swap != want_swap && !with_swap_name)
			continue;
		int oc = atoi(table_get(&p->res, r, "overcommit_memory"));
		if (oc < 0 || oc > 2)
			continue;
		char name[64];
		config_name(&p->res, r, with_swap_name, name, sizeof(name));
		int k;
		for (k = 0; k < n && strcmp(g[k].name, name); k++)
			;
		if (k == n) {
			if (n == cap)
				continue;
			memset(&g[n], 0, sizeof(g[n]));
			snprintf(g[n].name, sizeof(g[n].name), "%s", name);
			n++;
		}
		g[k].v[0][oc] += table_num(&p->res, r, m0);
		g[k].v[1][oc] += table_num(&p->res, r, m1);
		g[k].seen[oc] = true;
	}
	return n;
}

static int write_groups(struct plot *p, const char *file, const struct group *g, int n, char *path,
			size_t plen)
{
	FILE *f = data_open(p, file, path, plen);
	if (!f)
		return -1;
	fputs("# config a_oc0 a_oc1 a_oc2 b_oc0 b_oc1 b_oc2\n", f);
	for (int k = 0; k < n; k++) {
		fprintf(f, "\"%s\"", g[k].name);
		for (int m = 0; m < 2; m++)
			for (int oc = 0; oc < 3; oc++)
				if (g[k].seen[oc])
					fprintf(f, " %.0f", g[k].v[m][oc]);
				else
					fputs(" NaN", f);
		fputc('\n', f);
	}
	fclose(f);
	return 0;
}

static int prep_swap(struct plot *p, FILE *vars)
{
	struct group g[64];
	char path[PATH_MAX];
	int n = group_rows(p, "swap_out_pages", "swap_in_pages", true, false, g, 64);
	if (!n)
		return 1;
	if (write_groups(p, "swap.dat", g, n, path, sizeof(path)))
		return -1;
	fprintf(vars, "datafile='%s';", path);
	return 0;
}

static int prep_oom(struct plot *p, FILE *vars)
{
	struct group g[64];
	char path[PATH_MAX];
	int n = group_rows(p, "oom_kills", "enomem", false, true, g, 64);
	if (!n)
		return 1;
	if (write_groups(p, "oom.dat", g, n, path, sizeof(path)))
		return -1;
	fprintf(vars, "datafile='%s';", path);
	return 0;
}

/* The cell of the per-cell pictures: --cell, else the trace's smallest plain i386 mem=. */
static const char *pick_cell(struct plot *p)
{
	if (p->o->cell)
		return p->o->cell;
	const char *best = NULL;
	double best_mem = 0;
	for (size_t r = 0; r < p->res.nr_rows; r++) {
		double mem = table_num(&p->res, r, "mem_mib");
		if (plain(p, r) && is(&p->res, r, "arch", "i386") && (!best || mem < best_mem)) {
			best = table_get(&p->res, r, "label");
			best_mem = mem;
		}
	}
	return best ? best : p->res.nr_rows ? table_get(&p->res, 0, "label") : NULL;
}

static int prep_buddyinfo(struct plot *p, FILE *vars)
{
	const char *cell = pick_cell(p);
	char series[PATH_MAX], err[512], path[PATH_MAX], files[16384] = "", zones[256] = "";
	snprintf(series, sizeof(series), "%s/cells/%s.series.csv", p->o->dir, cell);
	struct table s;
	if (table_read(&s, series, err, sizeof(err))) {
		fprintf(stderr, "mmreplay plot: buddyinfo: %s\n", err);
		return 1;
	}
	static const char *const zn[] = {"DMA", "DMA32", "Normal", "HighMem"};
	for (size_t z = 0; z < sizeof(zn) / sizeof(zn[0]); z++) {
		char col[64], name[64];
		snprintf(col, sizeof(col), "buddy_%s_o0", zn[z]);
		int c0 = table_col(&s, col);
		if (c0 < 0 || !strcmp(zn[z], "DMA"))
			continue; /* DMA's 16 MiB hardly changes: leave the panels to the big zones
				   */
		snprintf(name, sizeof(name), "buddy_%s.dat", zn[z]);
		FILE *f = data_open(p, name, path, sizeof(path));
		if (!f)
			break;
		fputs("# t_from t_to order free_blocks\n", f);
		double prev = 0;
		for (size_t i = 0; i < s.nr_rows; i++) {
			double t = table_num(&s, i, "time_s");
			for (int o = 0; o <= 10; o++)
				fprintf(f, "%.6f %.6f %d %s\n", prev, t > prev ? t : prev + 1e-6, o,
					s.rows[i][c0 + o]);
			prev = t;
		}
		fclose(f);
		snprintf(files + strlen(files), sizeof(files) - strlen(files), "%s%s",
			 files[0] ? " " : "", path);
		snprintf(zones + strlen(zones), sizeof(zones) - strlen(zones), "%s%s",
			 zones[0] ? " " : "", zn[z]);
	}
	table_free(&s);
	if (!files[0])
		return 1;
	fprintf(vars, "files='%s'; zones='%s'; cell='%s';", files, zones, cell);
	return 0;
}

enum { FM_W = 256 }; /* frame map picture: pixels per row */

static const char *const fm_states[] = {
    "hole", "reserved",	 "free",    "pcp",    "anon",  "file",
    "slab", "pagetable", "vmalloc", "kernel", "other",
};
#define NR_FM_STATES (sizeof(fm_states) / sizeof(fm_states[0]))
static const char *const fm_mts[] = {"Unmovable", "Movable", "Reclaimable", "HighAtomic"};

static int state_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/* Rasterizes ranges of `kind` into a W-wide grid, each pixel the majority state of its
 * frames; writes "x y state" rows plus the zone boundaries as gnuplot commands. */
static int raster(struct plot *p, const struct table *fm, const char *kind,
		  const char *const *names, size_t nnames, const char *file, FILE *labels,
		  double *mib_per_row)
{
	unsigned long lo = ULONG_MAX, hi = 0;
	for (size_t i = 0; i < fm->nr_rows; i++) {
		if (!is(fm, i, "kind", kind))
			continue;
		unsigned long a = strtoul(table_get(fm, i, "start_pfn"), NULL, 10);
		unsigned long b = strtoul(table_get(fm, i, "end_pfn"), NULL, 10);
		lo = a < lo ? a : lo;
		hi = b > hi ? b : hi;
	}
	if (hi <= lo)
		return 1;
	lo = 0; /* pictures start at physical address 0 */
	unsigned long frames = hi - lo;
	unsigned long per = (frames + FM_W * 192 - 1) / (FM_W * 192); /* frames per pixel */
	unsigned long rows = (frames + per * FM_W - 1) / (per * FM_W);
	size_t npix = rows * FM_W;
	unsigned *count = calloc(npix * nnames, sizeof(*count));
	if (!count)
		return -1;
	for (size_t i = 0; i < fm->nr_rows; i++) {
		if (!is(fm, i, "kind", kind))
			continue;
		int st = state_index(names, nnames, table_get(fm, i, "state"));
		unsigned long a = strtoul(table_get(fm, i, "start_pfn"), NULL, 10);
		unsigned long b = strtoul(table_get(fm, i, "end_pfn"), NULL, 10);
		if (st < 0)
			continue;
		for (unsigned long px = a / per; px * per < b && px < npix; px++) {
			unsigned long s0 = px * per > a ? px * per : a;
			unsigned long s1 = (px + 1) * per < b ? (px + 1) * per : b;
			count[px * nnames + (size_t)st] += (unsigned)(s1 - s0);
		}
	}
	char path[PATH_MAX];
	FILE *f = data_open(p, file, path, sizeof(path));
	if (!f) {
		free(count);
		return -1;
	}
	*mib_per_row = per * FM_W * 4096.0 / (1 << 20);
	for (unsigned long y = 0; y < rows; y++) {
		for (unsigned long x = 0; x < FM_W; x++) {
			size_t px = y * FM_W + x, best = 0;
			for (size_t s = 1; s < nnames; s++)
				if (count[px * nnames + s] > count[px * nnames + best])
					best = s;
			fprintf(f, "%lu %.3f %zu\n", x, y * *mib_per_row, best);
		}
		fputc('\n', f);
	}
	fclose(f);
	free(count);
	/* zone starts, once per zone, as labelled lines at their row */
	if (labels && !strcmp(kind, "frames")) {
		const char *last = "";
		for (size_t i = 0; i < fm->nr_rows; i++) {
			const char *z = table_get(fm, i, "zone");
			if (!is(fm, i, "kind", kind) || !strcmp(z, "-") || !strcmp(z, last))
				continue;
			last = z;
			double mib =
			    strtoul(table_get(fm, i, "start_pfn"), NULL, 10) * 4096.0 / (1 << 20);
			fprintf(labels,
				"set arrow from graph 0, first %.3f to graph 1, first %.3f nohead "
				"front lc rgb 'black' lw 1.5 dt 2\n",
				mib, mib);
			fprintf(labels,
				"set label 'zone %s from %.0f MiB' at graph 0.02, first %.3f "
				"left front boxed offset 0,-0.8 font ',10'\n",
				z, mib, mib);
		}
	}
	return 0;
}

static int prep_frame_map(struct plot *p, FILE *vars)
{
	const char *cell = pick_cell(p);
	char path[PATH_MAX], err[512], lpath[PATH_MAX];
	snprintf(path, sizeof(path), "%s/cells/%s.frames.csv", p->o->dir, cell);
	struct table fm;
	if (table_read(&fm, path, err, sizeof(err))) {
		fprintf(stderr, "mmreplay plot: frame_map: %s (sweep with frame-map = yes)\n", err);
		return 1;
	}
	FILE *labels = data_open(p, "frame_map_zones.gp", lpath, sizeof(lpath));
	double mib_frames = 0, mib_blocks = 0;
	int rc = labels ? 0 : -1;
	if (!rc)
		rc = raster(p, &fm, "frames", fm_states, NR_FM_STATES, "frame_map.dat", labels,
			    &mib_frames);
	if (!rc)
		rc = raster(p, &fm, "pageblock", fm_mts, 4, "pageblocks.dat", NULL, &mib_blocks);
	if (labels)
		fclose(labels);
	table_free(&fm);
	if (rc)
		return rc;
	fprintf(vars,
		"framefile='%s/frame_map.dat'; blockfile='%s/pageblocks.dat'; "
		"zonefile='%s'; cell='%s'; mibrow=%.4f; width=%d;",
		p->data, p->data, lpath, cell, mib_frames, FM_W);
	return 0;
}

static const char *const cmp_metrics[] = {
    "oom_kills",   "enomem",	  "swap_out_pages", "swap_in_pages",
    "tlb_flushes", "unusable_o9", "pgfault",	    "nr_free_pages",
};

static int prep_compare(struct plot *p, FILE *vars)
{
	char path[PATH_MAX], err[512], cpath[PATH_MAX];
	snprintf(cpath, sizeof(cpath), "%s/results.csv", p->o->compare);
	struct table other;
	if (table_read(&other, cpath, err, sizeof(err))) {
		fprintf(stderr, "mmreplay plot: --compare: %s\n", err);
		return -2;
	}
	FILE *f = data_open(p, "compare.dat", path, sizeof(path));
	if (!f) {
		table_free(&other);
		return -1;
	}
	fputs("cell_index label", f);
	for (size_t m = 0; m < sizeof(cmp_metrics) / sizeof(cmp_metrics[0]); m++)
		fprintf(f, " %s", cmp_metrics[m]);
	fputc('\n', f);
	int n = 0, differ = 0;
	double lo = 0.5, hi = 2; /* y range: at least a factor 2 around 1, more if needed */
	for (size_t r = 0; r < p->res.nr_rows; r++) {
		const char *label = table_get(&p->res, r, "label");
		size_t k;
		for (k = 0; k < other.nr_rows && strcmp(table_get(&other, k, "label"), label); k++)
			;
		if (k == other.nr_rows)
			continue;
		fprintf(f, "%d %s", n++, label);
		bool d = false;
		for (size_t m = 0; m < sizeof(cmp_metrics) / sizeof(cmp_metrics[0]); m++) {
			double a = table_num(&other, k, cmp_metrics[m]);
			double b = table_num(&p->res, r, cmp_metrics[m]);
			/* both zero: equal; one zero: no finite ratio, left out of the plot */
			if (a == 0 && b == 0)
				fputs(" 1", f);
			else if (a == 0 || b == 0)
				fputs(" NaN", f);
			else
				fprintf(f, " %.6g", b / a);
			if (a != 0 && b != 0) {
				lo = b / a / 1.5 < lo ? b / a / 1.5 : lo;
				hi = b / a * 1.5 > hi ? b / a * 1.5 : hi;
			}
			d |= a != b;
		}
		differ += d;
		fputc('\n', f);
	}
	fclose(f);
	table_free(&other);
	printf("compare: %d cells in both, %d with a differing metric\n", n, differ);
	fprintf(vars, "datafile='%s'; nmetrics=%zu; a='%s'; b='%s'; ymin=%g; ymax=%g;", path,
		sizeof(cmp_metrics) / sizeof(cmp_metrics[0]), p->o->compare, p->o->dir, lo, hi);
	return n ? 0 : 1;
}

/* ---- gnuplot ------------------------------------------------------------------------- */

static void scripts_dir(struct plot_opts *o, char *out, size_t n)
{
	if (o->scripts || n < 2048 + 16) {
		snprintf(out, n, "%s", o->scripts ? o->scripts : "plots");
		return;
	}
	char exe[2048];
	ssize_t k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (k > 0) {
		exe[k] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			snprintf(out, n, "%s/../plots", exe);
			char probe[PATH_MAX + 16];
			snprintf(probe, sizeof(probe), "%s/common.gp", out);
			if (access(probe, R_OK) == 0)
				return;
		}
	}
	snprintf(out, n, "plots");
}

static int gnuplot(struct plot *p, const char *gpdir, const char *name, const char *vars)
{
	char script[PATH_MAX], e[16384];
	snprintf(script, sizeof(script), "%s/%s.gp", gpdir, name);
	for (int fmt = 0; fmt < 2; fmt++) {
		const char *ext = fmt ? "svg" : "png";
		snprintf(e, sizeof(e), "%s gpdir='%s'; fmt='%s'; out='%s/%s.%s';", vars, gpdir, ext,
			 p->o->out, name, ext);
		pid_t pid = fork();
		if (pid == 0) {
			execlp("gnuplot", "gnuplot", "-e", e, script, (char *)NULL);
			_exit(127);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "mmreplay plot: gnuplot %s failed%s\n", script,
				pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 127
				    ? " (not installed?)"
				    : "");
			p->failed++;
			return -1;
		}
	}
	printf("%s/%s.png\n", p->o->out, name);
	p->drawn++;
	return 0;
}

static int draw(struct plot *p, const char *gpdir, const char *name,
		int (*prep)(struct plot *, FILE *))
{
	char *vars = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&vars, &len);
	int rc = prep(p, m);
	fclose(m);
	if (rc == 0)
		gnuplot(p, gpdir, name, vars);
	else if (rc == 1)
		fprintf(stderr, "mmreplay plot: %s: no data in these results, skipped\n", name);
	else if (rc == -1)
		p->failed++;
	free(vars);
	return rc;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *c = buf + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = 0;
		if (mkdir(buf, 0777) && errno != EEXIST)
			return -1;
		*c = '/';
	}
	return mkdir(buf, 0777) && errno != EEXIST ? -1 : 0;
}

int cmd_plot(int argc, char **argv)
{
	struct plot_opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	struct plot p = {.o = &o};
	char path[PATH_MAX], err[1024], gpdir[PATH_MAX];
	struct stat st;
	if (stat(o.dir, &st) || !S_ISDIR(st.st_mode))
		return cli_usage_error("plot", "%s: not a results directory", o.dir);
	if (o.compare && (stat(o.compare, &st) || !S_ISDIR(st.st_mode)))
		return cli_usage_error("plot", "--compare %s: not a results directory", o.compare);
	snprintf(path, sizeof(path), "%s/results.csv", o.dir);
	if (table_read(&p.res, path, err, sizeof(err)))
		return cli_usage_error("plot", "%s", err);
	if (table_col(&p.res, "label") < 0 || table_col(&p.res, "unusable_o9") < 0 ||
	    !p.res.nr_rows) {
		table_free(&p.res);
		return cli_usage_error("plot",
				       "%s: not a sweep results table (see docs/RESULTS.md)", path);
	}
	snprintf(p.trace, sizeof(p.trace), "%s", o.trace ? o.trace : table_get(&p.res, 0, "trace"));
	snprintf(p.data, sizeof(p.data), "%s/data", o.out);
	if (mkdir_p(p.data)) {
		table_free(&p.res);
		return cli_fail("plot", "%s: %s", p.data, strerror(errno));
	}
	scripts_dir(&o, gpdir, sizeof(gpdir));
	draw(&p, gpdir, "frag_time", prep_frag_time);
	draw(&p, gpdir, "tlb_causes", prep_tlb);
	draw(&p, gpdir, "swap", prep_swap);
	draw(&p, gpdir, "oom", prep_oom);
	draw(&p, gpdir, "buddyinfo", prep_buddyinfo);
	draw(&p, gpdir, "frame_map", prep_frame_map);
	if (o.compare && draw(&p, gpdir, "compare", prep_compare) == -2) {
		table_free(&p.res);
		return EXIT_USAGE;
	}
	table_free(&p.res);
	if (p.failed)
		return cli_fail("plot", "%d plots failed", p.failed);
	return EXIT_OK;
}
