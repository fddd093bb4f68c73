/* malloc + touch 64 MiB, fork 4 children that each write a different quarter (COW).
 * Built with -O0 and the pages read back, so no store is optimised away. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static unsigned sum(const volatile char *p, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i += 4096)
		s += (unsigned char)p[i];
	return s;
}
int main(void)
{
	size_t sz = 64u << 20;
	volatile char *p = malloc(sz);
	if (!p)
		return 1;
	for (size_t i = 0; i < sz; i += 4096)
		p[i] = 1;
	for (int c = 0; c < 4; c++) {
		pid_t pid = fork();
		if (pid == 0) {
			volatile char *q = p + c * (sz / 4);
			for (size_t i = 0; i < sz / 4; i += 4096)
				q[i] = (char)(2 + c);
			_exit((int)(sum(q, sz / 4) & 0x7f));
		}
	}
	int st, total = 0;
	while (wait(&st) > 0)
		total += WEXITSTATUS(st);
	printf("%d %u\n", total, sum(p, sz));
	free((void *)p);
	return 0;
}
