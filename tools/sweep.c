/* Sweep files: parse, validate every value where it is written (errors name the line),
 * expand the matrix, and turn a cell into the replay command that computes it. */
#include "sweep.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gen.h"
#include "machine.h"

static const char *const fixed_keys[AX_FIXED] = {"arch", "mem", "swap", "cpus"};

struct parser {
	struct sweep *sw;
	const char *file;
	int line;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, p->line);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static bool is_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

/* Checks one value of an axis the way replay's option parser would. */
static int check_value(struct parser *p, const char *key, const char *v)
{
	char err[256];
	uint64_t x;
	struct machine_config cfg;
	machine_config_default(&cfg, ARCH_I386);
	if (strcmp(key, "arch") == 0) {
		enum arch a;
		if (parse_arch(v, &a, err, sizeof(err)))
			return fail(p, "arch %s: %s", v, err);
	} else if (strcmp(key, "mem") == 0 || strcmp(key, "swap") == 0) {
		if (strcmp(v, "0") != 0 && parse_size(v, &x, err, sizeof(err)))
			return fail(p, "%s %s: %s", key, v, err);
		if (strcmp(key, "mem") == 0 && (strcmp(v, "0") == 0 || x == 0))
			return fail(p, "mem %s: mem= must be above zero", v);
	} else if (strcmp(key, "cpus") == 0) {
		char *end;
		unsigned long n = strtoul(v, &end, 10);
		if (*end || !isdigit((unsigned char)*v) || n < 1 || n > 64)
			return fail(p, "cpus %s: expected a whole number from 1 to 64", v);
	} else if (machine_config_set(&cfg, key, v, err, sizeof(err))) {
		return fail(p, "set %s = %s: %s", key, v, err);
	}
	return 0;
}

static struct sweep_axis *find_axis(struct sweep *sw, const char *key)
{
	for (int i = 0; i < sw->nr_axes; i++)
		if (strcmp(sw->axes[i].key, key) == 0)
			return &sw->axes[i];
	return NULL;
}

/* "mem = 256M 512M": the values, each checked; a key given twice is an error. */
static int parse_axis(struct parser *p, const char *key, char *vals)
{
	struct sweep_axis *ax = find_axis(p->sw, key);
	if (ax->n)
		return fail(p, "%s is given twice", key);
	for (char *save, *v = strtok_r(vals, " \t", &save); v; v = strtok_r(NULL, " \t", &save)) {
		if (ax->n == SWEEP_MAX_VALUES)
			return fail(p, "%s: at most %d values", key, SWEEP_MAX_VALUES);
		if (strlen(v) >= sizeof(ax->values[0]) || !is_name(v))
			return fail(p, "%s: '%s' is not a value (letters, digits, . _ -)", key, v);
		for (int i = 0; i < ax->n; i++)
			if (strcmp(ax->values[i], v) == 0)
				return fail(p, "%s: %s is listed twice", key, v);
		if (check_value(p, key, v))
			return -1;
		snprintf(ax->values[ax->n++], sizeof(ax->values[0]), "%s", v);
	}
	if (!ax->n)
		return fail(p, "%s: expected at least one value", key);
	return 0;
}

static int parse_set(struct parser *p, const char *key, char *vals)
{
	if (strncmp(key, "vm.", 3) != 0 || !is_name(key) || strlen(key) >= 48)
		return fail(p, "set %s: expected a vm.* sysctl name", key);
	if (!find_axis(p->sw, key)) {
		if (p->sw->nr_axes == SWEEP_MAX_AXES)
			return fail(p, "at most %d set lines", SWEEP_MAX_SETS);
		snprintf(p->sw->axes[p->sw->nr_axes++].key, 48, "%s", key);
	}
	return parse_axis(p, key, vals);
}

static int parse_trace(struct parser *p, const char *name, char *spec)
{
	struct sweep *sw = p->sw;
	if (!is_name(name) || strlen(name) >= sizeof(sw->traces[0].name))
		return fail(p, "trace '%s': expected a short name (letters, digits, . _ -)", name);
	for (int i = 0; i < sw->nr_traces; i++)
		if (strcmp(sw->traces[i].name, name) == 0)
			return fail(p, "trace %s is defined twice", name);
	if (sw->nr_traces == SWEEP_MAX_TRACES)
		return fail(p, "at most %d traces", SWEEP_MAX_TRACES);
	struct sweep_trace *t = &sw->traces[sw->nr_traces];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	char *save, *w = strtok_r(spec, " \t", &save);
	if (w && strncmp(w, "file:", 5) == 0 && w[5]) {
		if (strlen(w + 5) >= sizeof(t->path))
			return fail(p, "trace %s: path too long", name);
		snprintf(t->path, sizeof(t->path), "%s", w + 5);
		if (strtok_r(NULL, " \t", &save))
			return fail(p, "trace %s: a file: trace takes no parameters", name);
		sw->nr_traces++;
		return 0;
	}
	if (!w || strncmp(w, "gen:", 4) != 0 || !w[4] || strlen(w + 4) >= sizeof(t->workload))
		return fail(p,
			    "trace %s: expected gen:WORKLOAD [seed=N] [scale=X] [K=V ...] or "
			    "file:PATH",
			    name);
	snprintf(t->workload, sizeof(t->workload), "%s", w + 4);
	snprintf(t->seed, sizeof(t->seed), "1");
	snprintf(t->scale, sizeof(t->scale), "1");
	const char *kv[SWEEP_MAX_PARAMS];
	while ((w = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(w, '=');
		if (!eq || eq == w || !eq[1])
			return fail(p, "trace %s: '%s': expected KEY=VALUE", name, w);
		if (strncmp(w, "seed=", 5) == 0 && strlen(eq + 1) < sizeof(t->seed)) {
			snprintf(t->seed, sizeof(t->seed), "%s", eq + 1);
		} else if (strncmp(w, "scale=", 6) == 0 && strlen(eq + 1) < sizeof(t->scale)) {
			snprintf(t->scale, sizeof(t->scale), "%s", eq + 1);
		} else {
			if (t->nr_params == SWEEP_MAX_PARAMS || strlen(w) >= sizeof(t->params[0]))
				return fail(p, "trace %s: too many or too long parameters", name);
			snprintf(t->params[t->nr_params], sizeof(t->params[0]), "%s", w);
			kv[t->nr_params] = t->params[t->nr_params];
			t->nr_params++;
		}
	}
	char *end, err[256];
	errno = 0;
	struct gen_params gp = {.seed = strtoull(t->seed, &end, 10), .kv = kv, .nkv = t->nr_params};
	if (errno || *end || !isdigit((unsigned char)t->seed[0]))
		return fail(p, "trace %s: seed=%s: expected a whole number", name, t->seed);
	gp.scale = strtod(t->scale, &end);
	if (*end || !(gp.scale > 0))
		return fail(p, "trace %s: scale=%s: expected a number above 0", name, t->scale);
	if (gen_check(t->workload, &gp, err, sizeof(err)))
		return fail(p, "trace %s: %s", name, err);
	sw->nr_traces++;
	return 0;
}

/* exclude = arch=x86_64 mem=256M,512M */
static int parse_exclude(struct parser *p, char *conds)
{
	struct sweep *sw = p->sw;
	if (sw->nr_excludes == SWEEP_MAX_EXCLUDES)
		return fail(p, "at most %d exclude lines", SWEEP_MAX_EXCLUDES);
	struct sweep_exclude *x = &sw->excludes[sw->nr_excludes];
	memset(x, 0, sizeof(*x));
	for (char *save, *c = strtok_r(conds, " \t", &save); c; c = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(c, '=');
		if (!eq || eq == c || !eq[1])
			return fail(p, "exclude: '%s': expected KEY=VALUE[,VALUE...]", c);
		*eq = 0;
		const char *key = strcmp(c, "overcommit") == 0 ? "vm.overcommit_memory" : c;
		const struct sweep_axis *ax = find_axis(sw, key);
		if (!ax || !ax->n)
			return fail(p, "exclude: %s is not a key of this sweep (define it first)",
				    c);
		if (x->n == (int)(sizeof(x->cond) / sizeof(x->cond[0])))
			return fail(p, "exclude: too many conditions");
		struct sweep_axis *cond = &x->cond[x->n++];
		snprintf(cond->key, sizeof(cond->key), "%s", key);
		for (char *s2, *v = strtok_r(eq + 1, ",", &s2); v; v = strtok_r(NULL, ",", &s2)) {
			int k;
			for (k = 0; k < ax->n && strcmp(ax->values[k], v) != 0; k++)
				;
			if (k == ax->n)
				return fail(p, "exclude: %s=%s is not one of the sweep's values", c,
					    v);
			if (cond->n == SWEEP_MAX_VALUES)
				return fail(p, "exclude: too many values");
			snprintf(cond->values[cond->n++], sizeof(cond->values[0]), "%s", v);
		}
	}
	if (!x->n)
		return fail(p, "exclude: expected KEY=VALUE conditions");
	sw->nr_excludes++;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = 0;
	line = trim(line);
	if (!*line)
		return 0;
	char *eq = strchr(line, '=');
	if (!eq)
		return fail(p, "expected KEY = VALUE");
	*eq = 0;
	char *key = trim(line), *val = trim(eq + 1);
	if (!*val)
		return fail(p, "%s: expected a value after '='", key);
	if (strncmp(key, "trace", 5) == 0 && isspace((unsigned char)key[5]))
		return parse_trace(p, trim(key + 5), val);
	if (strncmp(key, "set", 3) == 0 && isspace((unsigned char)key[3]))
		return parse_set(p, trim(key + 3), val);
	if (strcmp(key, "overcommit") == 0)
		return parse_set(p, "vm.overcommit_memory", val);
	for (int i = 0; i < AX_FIXED; i++)
		if (strcmp(key, fixed_keys[i]) == 0)
			return parse_axis(p, key, val);
	if (strcmp(key, "exclude") == 0)
		return parse_exclude(p, val);
	if (strcmp(key, "name") == 0) {
		if (!is_name(val) || strlen(val) >= sizeof(p->sw->name))
			return fail(p, "name %s: expected a short name (letters, digits, . _ -)",
				    val);
		snprintf(p->sw->name, sizeof(p->sw->name), "%s", val);
		return 0;
	}
	if (strcmp(key, "sample-every") == 0) {
		char *end;
		double x = strtod(val, &end);
		if (end == val || !(x > 0) || strlen(val) >= sizeof(p->sw->sample_every) ||
		    (*end && strcmp(end, "ns") && strcmp(end, "us") && strcmp(end, "ms") &&
		     strcmp(end, "s")))
			return fail(p, "sample-every %s: expected events (10000) or a time (100ms)",
				    val);
		snprintf(p->sw->sample_every, sizeof(p->sw->sample_every), "%s", val);
		return 0;
	}
	if (strcmp(key, "frame-map") == 0) {
		if (strcmp(val, "yes") && strcmp(val, "no"))
			return fail(p, "frame-map %s: expected yes or no", val);
		p->sw->frame_map = strcmp(val, "yes") == 0;
		return 0;
	}
	return fail(p,
		    "unknown key '%s' (trace, arch, mem, swap, cpus, overcommit, set, exclude, "
		    "name, sample-every, frame-map)",
		    key);
}

int sweep_parse(struct sweep *sw, const char *text, const char *file, const char *name, char *err,
		size_t errlen)
{
	memset(sw, 0, sizeof(*sw));
	snprintf(sw->name, sizeof(sw->name), "%s", name);
	for (int i = 0; i < AX_FIXED; i++)
		snprintf(sw->axes[i].key, sizeof(sw->axes[i].key), "%s", fixed_keys[i]);
	sw->nr_axes = AX_FIXED;
	struct parser p = {.sw = sw, .file = file, .err = err, .errlen = errlen};
	char line[2048];
	for (const char *s = text; *s;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		p.line++;
		if (n >= sizeof(line))
			return fail(&p, "line longer than %zu bytes", sizeof(line) - 1);
		memcpy(line, s, n);
		line[n] = 0;
		if (parse_line(&p, line))
			return -1;
		s += n + (nl ? 1 : 0);
	}
	if (!sw->nr_traces)
		return fail(&p, "no trace (expected a line such as 'trace mix = gen:mix seed=1')");
	return 0;
}

int sweep_load(struct sweep *sw, const char *path, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc = cli_read_file(path, &text, &len);
	if (rc == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (rc || memchr(text, 0, len)) {
		free(text);
		snprintf(err, errlen, "%s: cannot read (or not a text file)", path);
		return -1;
	}
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char name[64];
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(base, "."), base);
	if (!is_name(name))
		snprintf(name, sizeof(name), "sweep");
	rc = sweep_parse(sw, text, path, name, err, errlen);
	free(text);
	return rc;
}

static bool excluded(const struct sweep *sw, const int *value)
{
	for (int e = 0; e < sw->nr_excludes; e++) {
		const struct sweep_exclude *x = &sw->excludes[e];
		bool all = true;
		for (int c = 0; c < x->n && all; c++) {
			int a = 0;
			while (strcmp(sw->axes[a].key, x->cond[c].key) != 0)
				a++;
			bool any = false;
			for (int k = 0; k < x->cond[c].n; k++)
				any |=
				    strcmp(sw->axes[a].values[value[a]], x->cond[c].values[k]) == 0;
			all = any;
		}
		if (all)
			return true;
	}
	return false;
}

static void make_label(const struct sweep *sw, struct sweep_cell *c)
{
	static const char *const prefix[AX_FIXED] = {"", "mem", "swap", "cpus"};
	size_t n = (size_t)snprintf(c->label, sizeof(c->label), "%04d-%s", c->index,
				    sw->traces[c->trace].name);
	for (int a = 0; a < sw->nr_axes && n < sizeof(c->label); a++) {
		const struct sweep_axis *ax = &sw->axes[a];
		if (!ax->n)
			continue;
		const char *pre = a < AX_FIXED					 ? prefix[a]
				  : strcmp(ax->key, "vm.overcommit_memory") == 0 ? "oc"
										 : ax->key + 3;
		n += (size_t)snprintf(c->label + n, sizeof(c->label) - n, "-%s%s", pre,
				      ax->values[c->value[a]]);
	}
}

int sweep_expand(const struct sweep *sw, struct sweep_cell *cells, int cap, int *total)
{
	int value[SWEEP_MAX_AXES] = {0};
	int nr = 0;
	for (int t = 0; t < sw->nr_traces; t++) {
		memset(value, 0, sizeof(value));
		for (;;) {
			if (!excluded(sw, value)) {
				if (nr < cap) {
					struct sweep_cell *c = &cells[nr];
					c->index = nr;
					c->trace = t;
					memcpy(c->value, value, sizeof(value));
					make_label(sw, c);
				}
				nr++;
			}
			/* odometer: the last axis turns fastest */
			int a = sw->nr_axes - 1;
			for (; a >= 0; a--) {
				if (sw->axes[a].n > 1 && ++value[a] < sw->axes[a].n)
					break;
				value[a] = 0;
			}
			if (a < 0)
				break;
		}
	}
	if (total)
		*total = nr;
	return nr > cap ? -1 : nr;
}

void sweep_trace_path(const struct sweep *sw, int t, const char *dir, char *out, size_t n)
{
	if (sw->traces[t].path[0])
		snprintf(out, n, "%s", sw->traces[t].path);
	else
		snprintf(out, n, "%s/traces/%s.mmt", dir, sw->traces[t].name);
}

void sweep_cell_path(const char *dir, const struct sweep_cell *c, const char *ext, char *out,
		     size_t n)
{
	snprintf(out, n, "%s/cells/%s%s", dir, c->label, ext);
}

/* Appends one string to buf and argv; -1 when either is full. */
struct argbuf {
	char **argv;
	int argc, cap;
	char *buf;
	size_t used, len;
};

static int arg(struct argbuf *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int arg(struct argbuf *a, const char *fmt, ...)
{
	if (a->argc + 1 >= a->cap)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(a->buf + a->used, a->len - a->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= a->len - a->used)
		return -1;
	a->argv[a->argc++] = a->buf + a->used;
	a->argv[a->argc] = NULL;
	a->used += (size_t)n + 1;
	return 0;
}

int sweep_cell_argv(const struct sweep *sw, const struct sweep_cell *c, const char *dir,
		    char **argv, int cap, char *buf, size_t buflen)
{
	struct argbuf a = {.argv = argv, .cap = cap, .buf = buf, .len = buflen};
	char path[1024], trace[1024];
	int bad = 0;
	sweep_trace_path(sw, c->trace, dir, trace, sizeof(trace));
	bad |= arg(&a, "replay");
	bad |= arg(&a, "%s", trace);
	for (int i = 0; i < sw->nr_axes; i++) {
		const struct sweep_axis *ax = &sw->axes[i];
		if (!ax->n)
			continue;
		if (i < AX_FIXED) {
			bad |= arg(&a, "--%s=%s", ax->key, ax->values[c->value[i]]);
		} else {
			bad |= arg(&a, "--set");
			bad |= arg(&a, "%s=%s", ax->key, ax->values[c->value[i]]);
		}
	}
	bad |= arg(&a, "--label=%s", c->label);
	bad |= arg(&a, "--quiet");
	if (sw->no_timing)
		bad |= arg(&a, "--no-timing");
	sweep_cell_path(dir, c, ".json", path, sizeof(path));
	bad |= arg(&a, "--json=%s", path);
	if (sw->sample_every[0]) {
		sweep_cell_path(dir, c, ".series.csv", path, sizeof(path));
		bad |= arg(&a, "--csv=%s", path);
		bad |= arg(&a, "--sample-every=%s", sw->sample_every);
	}
	if (sw->frame_map) {
		sweep_cell_path(dir, c, ".frames.csv", path, sizeof(path));
		bad |= arg(&a, "--frame-map=%s", path);
	}
	sweep_cell_path(dir, c, ".row.csv", path, sizeof(path));
	bad |= arg(&a, "--row=%s", path);
	return bad ? -1 : a.argc;
}

int sweep_gen_argv(const struct sweep *sw, int t, const char *dir, char **argv, int cap, char *buf,
		   size_t buflen)
{
	const struct sweep_trace *tr = &sw->traces[t];
	struct argbuf a = {.argv = argv, .cap = cap, .buf = buf, .len = buflen};
	char path[1024];
	int bad = 0;
	sweep_trace_path(sw, t, dir, path, sizeof(path));
	bad |= arg(&a, "gen");
	bad |= arg(&a, "%s", tr->workload);
	bad |= arg(&a, "--seed=%s", tr->seed);
	bad |= arg(&a, "--scale=%s", tr->scale);
	for (int i = 0; i < tr->nr_params; i++) {
		bad |= arg(&a, "--param");
		bad |= arg(&a, "%s", tr->params[i]);
	}
	bad |= arg(&a, "-o");
	bad |= arg(&a, "%s", path);
	return bad ? -1 : a.argc;
}

void sweep_format_command(FILE *f, const char *exe, char **argv, int argc)
{
	for (int i = -1; i < argc; i++) {
		const char *s = i < 0 ? exe : argv[i];
		if (i >= 0)
			fputc(' ', f);
		if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789_-./=:,+@%") == strlen(s)) {
			fputs(s, f);
			continue;
		}
		fputc('\'', f);
		for (; *s; s++) {
			if (*s == '\'')
				fputs("'\\''", f);
			else
				fputc(*s, f);
		}
		fputc('\'', f);
	}
	fputc('\n', f);
}
