/* create 16 BPF array maps of 1 MiB each (the kernel vmallocs their storage), close them,
 * then wait 200 ms so the deferred frees (a kworker) fall inside the recording */
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
int main(void)
{
	int fds[16];
	for (int i = 0; i < 16; i++) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_type = BPF_MAP_TYPE_ARRAY;
		a.key_size = 4;
		a.value_size = 1024;
		a.max_entries = 1024;
		fds[i] = (int)syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
		if (fds[i] < 0) {
			perror("bpf");
			return 1;
		}
	}
	for (int i = 0; i < 16; i++)
		close(fds[i]);
	struct timespec ts = {0, 200 * 1000 * 1000};
	nanosleep(&ts, NULL);
	return 0;
}
