/* Workload registry, parameter parsing and the generation driver. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen_common.h"

static const struct gen_workload *const workloads[] = {
    &gen_wl_mix,     &gen_wl_shell, &gen_wl_build,   &gen_wl_db,
    &gen_wl_forkcow, &gen_wl_slab,  &gen_wl_vmalloc, &gen_wl_leak,
};
#define NR_WORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

/* Parameters every workload takes (top level only). */
static const struct gen_param_def common_params[] = {
    {"cpus", 2, 1, 64, GP_INT, "CPUs the events are spread over (event cpu field)"},
    {NULL, 0, 0, 0, 0, NULL},
};

const struct gen_workload_info *gen_workload_at(size_t i)
{
	return i < NR_WORKLOADS ? &workloads[i]->info : NULL;
}

const struct gen_workload *gen_find_workload(const char *name)
{
	for (size_t i = 0; i < NR_WORKLOADS; i++)
		if (strcmp(workloads[i]->info.name, name) == 0)
			return workloads[i];
	return NULL;
}

static size_t nr_params(const struct gen_param_def *d)
{
	size_t n = 0;
	while (d[n].name)
		n++;
	return n;
}

static void known_list(const struct gen_workload *w, bool top, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (int pass = 0; pass < (top ? 2 : 1); pass++) {
		const struct gen_param_def *d = pass ? common_params : w->params;
		for (; d->name && o < len; d++) {
			int n = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", d->name);
			if (n < 0)
				return;
			o += (size_t)n;
		}
	}
}

static const struct gen_param_def *find_def(const struct gen_workload *w, bool top, const char *key,
					    size_t *idx)
{
	size_t n = nr_params(w->params);
	for (size_t i = 0; i < n; i++)
		if (strcmp(w->params[i].name, key) == 0)
			return *idx = i, &w->params[i];
	for (size_t i = 0; top && common_params[i].name; i++)
		if (strcmp(common_params[i].name, key) == 0)
			return *idx = n + i, &common_params[i];
	return NULL;
}

static int parse_value(const struct gen_param_def *d, const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v) || v < d->min || v > d->max)
		return -1;
	if ((d->flags & GP_INT) && v != floor(v))
		return -1;
	*out = v;
	return 0;
}

int gen_resolve_params(const struct gen_workload *w, const char *prefix, const struct gen_params *p,
		       double *pv, char *err, size_t errlen)
{
	bool top = prefix == NULL;
	size_t n = nr_params(w->params);
	for (size_t i = 0; i < n; i++)
		pv[i] = w->params[i].def;
	for (size_t i = 0; top && common_params[i].name; i++)
		pv[n + i] = common_params[i].def;
	size_t plen = prefix ? strlen(prefix) : 0;
	for (int k = 0; k < p->nkv; k++) {
		const char *kv = p->kv[k];
		const char *eq = strchr(kv, '=');
		if (!eq || eq == kv) {
			snprintf(err, errlen, "--param %s: expected KEY=VALUE", kv);
			return -1;
		}
		char key[64];
		size_t klen = (size_t)(eq - kv);
		if (klen >= sizeof(key)) {
			snprintf(err, errlen, "--param %s: key too long", kv);
			return -1;
		}
		memcpy(key, kv, klen);
		key[klen] = 0;
		const char *name = key;
		if (prefix) {
			if (strncmp(key, prefix, plen) != 0 || key[plen] != '.')
				continue;
			name = key + plen + 1;
		} else if (strchr(key, '.')) {
			continue; /* a sub-workload's parameter (checked by gen_check) */
		}
		size_t idx;
		const struct gen_param_def *d = find_def(w, top, name, &idx);
		if (!d) {
			char list[512];
			known_list(w, top, list, sizeof(list));
			snprintf(err, errlen, "unknown parameter '%s' for workload %s; known: %s",
				 name, w->info.name, list);
			return -1;
		}
		if (parse_value(d, eq + 1, &pv[idx])) {
			snprintf(err, errlen, "--param %s: expected %s from %g to %g", kv,
				 d->flags & GP_INT ? "a whole number" : "a number", d->min, d->max);
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct gen_param_def *d = &w->params[i];
		if (!(d->flags & GP_SCALED))
			continue;
		pv[i] *= p->scale;
		if (d->flags & GP_INT)
			pv[i] = floor(pv[i] + 0.5);
		if (pv[i] < d->min)
			pv[i] = d->min;
		if (d->min == 0 && d->def > 0 && pv[i] < 1 && (d->flags & GP_INT))
			pv[i] = 1; /* a tiny scale still does some work */
	}
	return 0;
}

int gen_check(const char *workload, const struct gen_params *p, char *err, size_t errlen)
{
	const struct gen_workload *w = gen_find_workload(workload);
	if (!w) {
		size_t o = (size_t)snprintf(err, errlen, "unknown workload '%s'; known:", workload);
		for (size_t i = 0; i < NR_WORKLOADS && o < errlen; i++)
			o += (size_t)snprintf(err + o, errlen - o, " %s", workloads[i]->info.name);
		return -1;
	}
	if (!(p->scale > 0) || !isfinite(p->scale) || p->scale > 1e6) {
		snprintf(err, errlen, "scale %g: expected a number above 0 (at most 1e6)",
			 p->scale);
		return -1;
	}
	double pv[GEN_MAX_PARAMS];
	if (gen_resolve_params(w, NULL, p, pv, err, errlen))
		return -1;
	for (int k = 0; k < p->nkv; k++) {
		const char *kv = p->kv[k], *eq = strchr(kv, '='), *dot = strchr(kv, '.');
		if (!dot || dot > eq)
			continue;
		char sub[64];
		size_t n = (size_t)(dot - kv);
		const struct gen_workload *s = NULL;
		if (n < sizeof(sub)) {
			memcpy(sub, kv, n);
			sub[n] = 0;
			s = gen_find_workload(sub);
		}
		if (w != &gen_wl_mix || !s || s == &gen_wl_mix) {
			snprintf(err, errlen,
				 "--param %s: only mix takes WORKLOAD.KEY=VALUE (for its parts)",
				 kv);
			return -1;
		}
		if (gen_resolve_params(s, sub, p, pv, err, errlen))
			return -1;
	}
	return 0;
}

int gen_run(const char *workload, const struct gen_params *p, struct event_sink *sink, char *err,
	    size_t errlen)
{
	if (gen_check(workload, p, err, errlen))
		return -1;
	const struct gen_workload *w = gen_find_workload(workload);
	double pv[GEN_MAX_PARAMS];
	if (gen_resolve_params(w, NULL, p, pv, err, errlen))
		return -1;
	uint32_t ncpus = (uint32_t)pv[nr_params(w->params)];
	struct gen *g = malloc(sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	gen_init(g, sink, p->seed, ncpus, err, errlen);
	void *st = NULL;
	if (!g->failed) {
		/* mix reads its parts' parameters itself */
		g->params = p;
		st = w->start(g, pv, p->seed ^ gen_hash_str(w->info.name), 0);
	}
	if (!g->failed)
		gen_loop(g);
	if (st)
		w->stop(st);
	bool failed = g->failed;
	gen_destroy(g);
	free(g);
	return failed ? -1 : 0;
}

int gen_describe(const char *workload, FILE *f)
{
	const struct gen_workload *w = gen_find_workload(workload);
	if (!w)
		return -1;
	fprintf(f, "%s: %s\n\nParameters (--param KEY=VALUE; * = multiplied by --scale):\n",
		w->info.name, w->info.summary);
	for (int pass = 0; pass < 2; pass++)
		for (const struct gen_param_def *d = pass ? common_params : w->params; d->name; d++)
			fprintf(f, "  %-17s%s default %-7g [%g .. %g]  %s\n", d->name,
				d->flags & GP_SCALED ? "*" : " ", d->def, d->min, d->max, d->help);
	if (w == &gen_wl_mix)
		fprintf(f, "  WORKLOAD.KEY       a parameter of one part, e.g. db.size_mb=512\n");
	return 0;
}
