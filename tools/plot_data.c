/* CSV tables for the plot command: the sweep's results.csv and the cells' time series and
 * frame maps, read whole (they are small: one row per cell or per sample). */
#include "plot_data.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void table_add_row(struct table *t, char **fields)
{
	if (t->nr_rows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->rows = realloc(t->rows, t->cap * sizeof(*t->rows));
	}
	t->rows[t->nr_rows++] = fields;
}

/* Splits line in place at commas into a new array of nr_cols pointers (missing → ""). */
static char **split(char *line, int nr_cols, int *got)
{
	char **f = calloc((size_t)nr_cols + 1, sizeof(*f));
	int n = 0;
	for (char *s = line;; n++) {
		char *c = strchr(s, ',');
		if (n < nr_cols)
			f[n] = s;
		if (!c)
			break;
		*c = 0;
		s = c + 1;
	}
	n++;
	for (int i = n; i < nr_cols; i++)
		f[i] = "";
	*got = n;
	return f;
}

int table_read(struct table *t, const char *path, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	size_t len;
	int rc = cli_read_file(path, &t->text, &len);
	if (rc) {
		snprintf(err, errlen, "%s: cannot %s: %s", path, rc == -1 ? "open" : "read",
			 strerror(errno));
		return -1;
	}
	char *save, *line = strtok_r(t->text, "\n", &save);
	while (line && line[0] == '#')
		line = strtok_r(NULL, "\n", &save);
	if (!line) {
		snprintf(err, errlen, "%s: empty (expected a CSV header)", path);
		table_free(t);
		return -1;
	}
	t->nr_cols = 1;
	for (const char *c = line; *c; c++)
		t->nr_cols += *c == ',';
	int got;
	t->header = split(line, t->nr_cols, &got);
	int lineno = 1;
	while ((line = strtok_r(NULL, "\n", &save))) {
		lineno++;
		if (line[0] == '#')
			continue;
		char **row = split(line, t->nr_cols, &got);
		if (got != t->nr_cols) {
			snprintf(err, errlen, "%s:%d: %d fields, the header has %d", path, lineno,
				 got, t->nr_cols);
			free(row);
			table_free(t);
			return -1;
		}
		table_add_row(t, row);
	}
	return 0;
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nr_rows; i++)
		free(t->rows[i]);
	free(t->rows);
	free(t->header);
	free(t->text);
	memset(t, 0, sizeof(*t));
}

int table_col(const struct table *t, const char *name)
{
	for (int i = 0; i < t->nr_cols; i++)
		if (strcmp(t->header[i], name) == 0)
			return i;
	return -1;
}

const char *table_get(const struct table *t, size_t row, const char *name)
{
	int c = table_col(t, name);
	return c < 0 ? "" : t->rows[row][c];
}

double table_num(const struct table *t, size_t row, const char *name)
{
	const char *s = table_get(t, row, name);
	return *s ? strtod(s, NULL) : 0;
}
