/* Reading the CSV files a sweep writes (results.csv, *.series.csv, *.frames.csv) for the
 * plot command. Fields never contain commas or quotes (labels are checked), so a split
 * at commas is the whole parser. Lines starting with '#' are comments. */
#ifndef MM_PLOT_DATA_H
#define MM_PLOT_DATA_H

#include <stddef.h>
#include <stdio.h>

struct table {
	char *text; /* the file, split in place */
	char **header;
	int nr_cols;
	char ***rows;
	size_t nr_rows, cap;
};

/* -1 with err naming the file (and line) when it cannot be read or a row is short/long. */
int table_read(struct table *t, const char *path, char *err, size_t errlen);
void table_free(struct table *t);
int table_col(const struct table *t, const char *name);			    /* -1 if absent */
const char *table_get(const struct table *t, size_t row, const char *name); /* "" if absent */
double table_num(const struct table *t, size_t row, const char *name);

#endif
