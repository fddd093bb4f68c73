/* Boot: creating the simulated machine (machine_setup + page_alloc_init: e820, memblock,
 * zones, the mem_map array, every free pfn handed to the buddy allocator, watermarks).
 * Every mmreplay run pays it once per configuration; target: mem=64G under 1 s.
 *
 * The peak RSS counters come from a child process that boots once (getrusage ru_maxrss is
 * a process-lifetime maximum, so it cannot be measured per benchmark in this process):
 *   peak_rss_MiB  the child's ru_maxrss after boot (includes the few MiB of this binary)
 *   boot_rss_MiB  the growth of ru_maxrss during the boot: the simulator's own footprint */
/* First: engine/vmstat_items.h names a counter SIGSEGV, which <signal.h> (pulled in by
 * <sys/wait.h>) defines as a macro; once the enum is parsed the macro is harmless. */
#include "bench_common.h"
#include "cbench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

struct boot_rss {
	uint64_t mem_mib;
	double peak_mib, boot_mib;
	bool done, failed;
};

/* One entry per configuration measured; filled on the first run, outside the timing. */
static struct boot_rss rss_cache[8];

static long maxrss_kib(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_maxrss;
}

/* Boot once in a child; it writes its before/after ru_maxrss (KiB) to a pipe. */
static int measure_boot_rss(uint64_t mem_mib, double *peak_mib, double *boot_mib)
{
	int fd[2];
	if (pipe(fd))
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		close(fd[0]);
		long kib[2] = {maxrss_kib(), -1};
		struct machine_config cfg;
		char err[256];
		bench_config_x86_64(&cfg, mem_mib);
		struct bench_node *n = malloc(sizeof(*n));
		if (n && bench_node_boot(n, &cfg, err, sizeof(err)) == 0)
			kib[1] = maxrss_kib();
		ssize_t w = write(fd[1], kib, sizeof(kib));
		_exit(w == (ssize_t)sizeof(kib) ? 0 : 1);
	}
	close(fd[1]);
	long kib[2];
	ssize_t r;
	do
		r = read(fd[0], kib, sizeof(kib));
	while (r < 0 && errno == EINTR);
	close(fd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r != (ssize_t)sizeof(kib) || kib[0] < 0 || kib[1] < 0)
		return -1;
	*peak_mib = (double)kib[1] / 1024.0;
	*boot_mib = (double)(kib[1] - kib[0]) / 1024.0;
	return 0;
}

static const struct boot_rss *boot_rss_for(uint64_t mem_mib)
{
	for (size_t i = 0; i < sizeof(rss_cache) / sizeof(rss_cache[0]); i++) {
		struct boot_rss *c = &rss_cache[i];
		if (c->done && c->mem_mib == mem_mib)
			return c;
		if (!c->done) {
			c->mem_mib = mem_mib;
			c->failed = measure_boot_rss(mem_mib, &c->peak_mib, &c->boot_mib) != 0;
			c->done = true;
			return c;
		}
	}
	return NULL;
}

static void bm_boot_x86_64(struct cbench_state *st)
{
	uint64_t mem_mib = (uint64_t)cbench_range0(st) << 10;
	struct machine_config cfg;
	char err[256];
	bench_config_x86_64(&cfg, mem_mib);
	struct bench_node *n = malloc(sizeof(*n));
	if (!n) {
		cbench_skip_with_error(st, "out of memory");
		return;
	}
	uint64_t managed = 0, spanned = 0;
	while (cbench_keep_running(st)) {
		if (bench_node_boot(n, &cfg, err, sizeof(err))) {
			cbench_skip_with_error(st, err);
			continue; /* the loop test now returns false */
		}
		cbench_pause_timing(st);
		managed = n->m.totalram_pages;
		spanned = n->pgdat.node_spanned_pages;
		bench_node_destroy(n);
		cbench_resume_timing(st);
	}
	free(n);
	if (cbench_error_occurred(st))
		return;
	cbench_counter(st, "managed_pages", (double)managed, CBENCH_COUNTER_DEFAULT);
	cbench_counter(st, "memmap_MiB", (double)(spanned * sizeof(struct page)) / (1 << 20),
		       CBENCH_COUNTER_DEFAULT);
	const struct boot_rss *rss = boot_rss_for(mem_mib);
	if (rss && !rss->failed) {
		cbench_counter(st, "peak_rss_MiB", rss->peak_mib, CBENCH_COUNTER_DEFAULT);
		cbench_counter(st, "boot_rss_MiB", rss->boot_mib, CBENCH_COUNTER_DEFAULT);
	}
}
CBENCH_NAMED(bm_boot_x86_64, "boot/x86_64")
{
	cbench_arg_name(b, "mem_GiB");
	cbench_arg(b, 5);
	cbench_arg(b, 64);
	cbench_unit(b, CBENCH_MS);
	/* Page faults of the fresh mem_map are most of the cost: wall time, not CPU time of
	 * this thread, is what a user waits for. */
	cbench_use_real_time(b);
}
