#include "atomic_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int atomic_open(struct atomic_file *a, const char *path, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (strcmp(path, "-") == 0) {
		a->f = stdout;
		return 0;
	}
	/* a device or fifo (/dev/null, /dev/stdout) is written in place: renaming over it
	 * would replace the device with a regular file */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		a->f = fopen(path, "w");
		if (!a->f) {
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
			return -1;
		}
		a->direct = true;
		return 0;
	}
	a->path = strdup(path);
	if (!a->path || asprintf(&a->tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		free(a->path);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	a->f = fopen(a->tmp, "w");
	if (!a->f) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		free(a->path);
		free(a->tmp);
		return -1;
	}
	return 0;
}

static void release(struct atomic_file *a)
{
	free(a->path);
	free(a->tmp);
	memset(a, 0, sizeof(*a));
}

int atomic_commit(struct atomic_file *a, char *err, size_t errlen)
{
	if (!a->tmp) {
		int bad = fflush(a->f) != 0 || ferror(a->f);
		if (a->direct)
			bad |= fclose(a->f) != 0;
		if (bad)
			snprintf(err, errlen, "write failed: %s", strerror(errno));
		memset(a, 0, sizeof(*a));
		return bad ? -1 : 0;
	}
	int bad = ferror(a->f);
	bad |= fclose(a->f) != 0;
	if (!bad && rename(a->tmp, a->path) != 0)
		bad = 1;
	if (bad) {
		snprintf(err, errlen, "%s: write failed: %s", a->path, strerror(errno));
		unlink(a->tmp);
	}
	release(a);
	return bad ? -1 : 0;
}

void atomic_abort(struct atomic_file *a)
{
	if (a->direct)
		fclose(a->f);
	if (a->tmp) {
		fclose(a->f);
		unlink(a->tmp);
	}
	release(a);
}
