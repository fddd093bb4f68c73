/* The results table of a sweep: every finished cell's row (the replay's --row file, header
 * + one line) and JSON summary, joined in label order. A sweep builds its table this way,
 * and `mmreplay merge` does the same over the outputs of split runs, so both agree. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "cli.h"
#include "sweep.h"

struct cell_out {
	char *label, *row, *json_path;
	int input;
};

struct merge {
	struct cell_out *cells;
	size_t n, cap;
	char *header;
	char *err;
	size_t errlen;
};

static char *slurp(const char *path, size_t *len)
{
	char *text;
	size_t n;
	if (cli_read_file(path, &text, &n))
		return NULL;
	if (len)
		*len = n;
	return text;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* One .row.csv: "header\nrow\n". The JSON is the same path with .json for .row.csv. */
static int add_row_file(struct merge *m, const char *path, int input)
{
	char *text = slurp(path, NULL);
	if (!text) {
		snprintf(m->err, m->errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	char *nl = strchr(text, '\n');
	char *row = nl ? nl + 1 : NULL;
	char *end = row ? strchr(row, '\n') : NULL;
	if (!row || !end || end[1] || !strchr(row, ',')) {
		snprintf(m->err, m->errlen, "%s: expected a header line and one row", path);
		free(text);
		return -1;
	}
	*nl = 0;
	*end = 0;
	if (!m->header) {
		m->header = strdup(text);
	} else if (strcmp(m->header, text) != 0) {
		snprintf(m->err, m->errlen,
			 "%s: columns differ from the other cells' (results of "
			 "another mmreplay version?)",
			 path);
		free(text);
		return -1;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 256;
		m->cells = realloc(m->cells, m->cap * sizeof(*m->cells));
	}
	struct cell_out *c = &m->cells[m->n++];
	c->row = strdup(row);
	c->label = strndup(row, strcspn(row, ","));
	size_t plen = strlen(path) - strlen(".row.csv");
	if (asprintf(&c->json_path, "%.*s.json", (int)plen, path) < 0)
		c->json_path = NULL;
	c->input = input;
	free(text);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_dir(struct merge *m, const char *dir, int input)
{
	char cells[4096];
	snprintf(cells, sizeof(cells), "%s/cells", dir);
	DIR *d = opendir(cells);
	if (!d) {
		snprintf(m->err, m->errlen, "%s: not a sweep results directory (no cells/)", dir);
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!has_suffix(e->d_name, ".row.csv"))
			continue;
		if (n == cap)
			names = realloc(names, (cap = cap ? 2 * cap : 256) * sizeof(*names));
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", cells, names[i]);
		if (!rc)
			rc = add_row_file(m, path, input);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int by_label(const void *a, const void *b)
{
	const struct cell_out *x = a, *y = b;
	int c = strcmp(x->label, y->label);
	return c ? c : x->input - y->input;
}

static int write_json(struct merge *m, const char *out)
{
	struct atomic_file a;
	if (atomic_open(&a, out, m->err, m->errlen))
		return -1;
	fputs("[\n", a.f);
	for (size_t i = 0; i < m->n; i++) {
		size_t len;
		char *text = m->cells[i].json_path ? slurp(m->cells[i].json_path, &len) : NULL;
		if (!text) {
			snprintf(m->err, m->errlen, "%s: missing JSON summary of cell %s",
				 m->cells[i].json_path ? m->cells[i].json_path : "?",
				 m->cells[i].label);
			atomic_abort(&a);
			return -1;
		}
		while (len && text[len - 1] == '\n')
			len--;
		fwrite(text, 1, len, a.f);
		fputs(i + 1 < m->n ? ",\n" : "\n", a.f);
		free(text);
	}
	fputs("]\n", a.f);
	return atomic_commit(&a, m->err, m->errlen);
}

static int write_csv(struct merge *m, const char *out)
{
	struct atomic_file a;
	if (atomic_open(&a, out, m->err, m->errlen))
		return -1;
	fprintf(a.f, "%s\n", m->header);
	for (size_t i = 0; i < m->n; i++)
		fprintf(a.f, "%s\n", m->cells[i].row);
	return atomic_commit(&a, m->err, m->errlen);
}

int sweep_merge(char **inputs, int nr_inputs, const char *out_csv, const char *out_json, char *err,
		size_t errlen)
{
	struct merge m = {.err = err, .errlen = errlen};
	int rc = 0;
	for (int i = 0; i < nr_inputs && !rc; i++) {
		struct stat st;
		if (stat(inputs[i], &st) != 0) {
			snprintf(err, errlen, "%s: %s", inputs[i], strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = add_dir(&m, inputs[i], i);
		} else if (has_suffix(inputs[i], ".row.csv")) {
			rc = add_row_file(&m, inputs[i], i);
		} else {
			snprintf(err, errlen,
				 "%s: expected a sweep results directory or a cell's "
				 ".row.csv",
				 inputs[i]);
			rc = -1;
		}
	}
	if (!rc && !m.n) {
		snprintf(err, errlen, "no finished cells in the inputs");
		rc = -1;
	}
	if (!rc) {
		qsort(m.cells, m.n, sizeof(*m.cells), by_label);
		size_t k = 0; /* duplicates: the first input's row stays */
		for (size_t i = 0; i < m.n; i++) {
			if (k && strcmp(m.cells[k - 1].label, m.cells[i].label) == 0) {
				free(m.cells[i].label);
				free(m.cells[i].row);
				free(m.cells[i].json_path);
				continue;
			}
			m.cells[k++] = m.cells[i];
		}
		m.n = k;
	}
	if (!rc && out_csv)
		rc = write_csv(&m, out_csv);
	if (!rc && out_json)
		rc = write_json(&m, out_json);
	size_t n = m.n;
	for (size_t i = 0; i < m.n; i++) {
		free(m.cells[i].label);
		free(m.cells[i].row);
		free(m.cells[i].json_path);
	}
	free(m.cells);
	free(m.header);
	return rc ? -1 : (int)n;
}
