/* /proc/meminfo (fs/proc/meminfo.c [6.1]) and the free(1) view of it, rendered into a
 * caller's buffer from the booted machine, its page allocator and the page-state counters
 * the rest of the simulator keeps. */
#ifndef MM_PROCFS_MEMINFO_H
#define MM_PROCFS_MEMINFO_H

#include <stddef.h>
#include <stdint.h>

#include "machine.h"
#include "page_alloc.h"

/* Pages in each state the allocator itself does not know; all zero right after boot
 * (no user space, page cache or slab yet in the model). */
struct meminfo_pages {
	uint64_t active_anon, inactive_anon, active_file, inactive_file, unevictable, mlocked;
	uint64_t file_pages; /* NR_FILE_PAGES: page cache incl. shmem and swap cache */
	uint64_t buffers, swapcache, dirty, writeback, anon_mapped, file_mapped, shmem;
	uint64_t slab_reclaimable, slab_unreclaimable, kernel_stack_kb, page_tables;
	uint64_t vmalloc_used, committed_as, swap_used, anon_thp;
};

/* Figures in kB, as meminfo_proc_show computes them. */
struct meminfo {
	uint64_t mem_total, mem_free, mem_available;
	uint64_t high_total, high_free, low_total, low_free;
	uint64_t swap_total, swap_free, commit_limit, vmalloc_total, percpu, hugepagesize;
	const struct meminfo_pages *pages;
	bool highmem, x86_64;
};

void meminfo_read(struct meminfo *mi, const struct machine *m, const struct pglist_data *pgdat,
		  const struct meminfo_pages *pages);
/* mm/show_mem.c si_mem_available [6.1], pages. */
uint64_t si_mem_available(const struct pglist_data *pgdat, const struct meminfo_pages *pages);
/* Append to buf (NUL-terminated, truncated at len); return the length the full text needs. */
size_t meminfo_render(char *buf, size_t len, const struct meminfo *mi);
/* procps-ng 4.0 `free -m`: used = total - available, buff/cache = Buffers + Cached +
 * SReclaimable, MiB truncated. */
size_t free_render(char *buf, size_t len, const struct meminfo *mi);

#endif
