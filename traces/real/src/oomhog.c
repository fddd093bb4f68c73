/* allocate and touch 1 MiB at a time until the OOM killer ends it */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void)
{
	for (size_t mb = 1;; mb++) {
		char *p = malloc(1 << 20);
		if (!p) {
			fprintf(stderr, "malloc failed at %zu MiB\n", mb);
			return 1;
		}
		memset(p, 0x5a, 1 << 20);
	}
}
