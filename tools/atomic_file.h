/* Output files that appear whole or not at all: write PATH.tmp.PID, rename on commit.
 * "-" means stdout; an existing non-regular file (a device, a fifo) is written in place. */
#ifndef MM_ATOMIC_FILE_H
#define MM_ATOMIC_FILE_H

#include <stdbool.h>
#include <stdio.h>

struct atomic_file {
	FILE *f;
	char *path, *tmp;
	bool direct; /* opened in place: close, never rename */
};

int atomic_open(struct atomic_file *a, const char *path, char *err, size_t errlen);
/* Flush, close and rename; on any failure removes the temp file. 0 or -1 with err. */
int atomic_commit(struct atomic_file *a, char *err, size_t errlen);
void atomic_abort(struct atomic_file *a);

#endif
