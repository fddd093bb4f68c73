/* trace.dat (trace-cmd) → struct mm_event: the importer behind `mmreplay import`, and the
 * tracepoint list `mmreplay record` enables. The mapping is documented in docs/IMPORT.md. */
#ifndef MM_IMPORT_H
#define MM_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "trace_io.h"

/* The tracepoints a recording should have, "system:event", in the order record enables them.
 * NULL-terminated. */
extern const char *const import_record_events[];

/* Events from pid 0 (the idle task: softirq, interrupt context) are attributed to this
 * pseudo-task, because an mm_event never carries pid 0. It is above PID_MAX_LIMIT (4 M), so
 * it cannot clash with a real task. */
#define IMPORT_KERNEL_PID 0x7fffffffu

/* Receives the converted events in trace order. intern returns a string id (or UINT32_MAX on
 * failure); put returns 0 or -1 with err filled. */
struct import_sink {
	void *ctx;
	uint32_t (*intern)(void *ctx, const char *s);
	int (*put)(void *ctx, const struct mm_event *ev, char *err, size_t errlen);
};

enum { IMPORT_TLB_REASONS = 8, IMPORT_MAX_COUNTED = 64 };

struct import_stats {
	uint64_t records;		/* every record read from the file */
	uint64_t unknown;		/* records of tracepoints the importer does not use */
	uint64_t emitted[EV_NR_TYPES];	/* events handed to the sink, by type */
	uint64_t lost;			/* events the ring buffer dropped (sum of missed_events) */
	uint64_t lost_unknown;		/* drops the kernel reported without a count */
	uint64_t overruns;		/* sum of "overrun:" in the file's CPU statistics */
	uint64_t pid0;			/* events attributed to IMPORT_KERNEL_PID */
	uint64_t kfree_null;		/* kfree / kmem_cache_free of NULL or ZERO_SIZE_PTR */
	uint64_t alloc_failed;		/* kmalloc/cache/page/vmap allocations that failed */
	uint64_t syscall_failed;	/* mmap/munmap/... that returned an error (mmap: emitted) */
	uint64_t syscall_unpaired;	/* sys_exit without a sys_enter of the same task */
	uint64_t fault_kernel_addr;	/* page faults on kernel addresses (not emitted) */
	uint64_t fork_flags_unknown;	/* forks without a task_newtask: assumed to be processes */
	uint64_t gfp_bits_dropped;	/* allocations with a gfp bit the engine has no name for */
	uint64_t page_free_batched_dup; /* mm_page_free_batched after the page's mm_page_free */
	uint64_t vmap_purges; /* purge_vmap_area_lazy: counted, the engine purges itself */
	uint64_t oom_victims; /* oom:mark_victim */
	uint64_t tlb_flush[IMPORT_TLB_REASONS]; /* tlb:tlb_flush by reason (last slot: other) */
	uint64_t tlb_flush_pages;   /* sum of the pages field (TLB_FLUSH_ALL counted as 0) */
	uint64_t first_ts, last_ts; /* raw trace clock of the first and last record */
	/* Records per tracepoint ("system:event"), every tracepoint in the file with at least
	 * one record, sorted by name; beyond IMPORT_MAX_COUNTED the rest add up in "other". */
	int nr_counted;
	struct {
		char name[64];
		uint64_t n;
	} counted[IMPORT_MAX_COUNTED];
};

struct import_opts {
	bool progress; /* progress line on stderr */
	bool quiet;    /* no warnings about absent events (tests) */
};

/* Reads path, hands every converted event to sink, fills origin (source, kernel, page_size,
 * nr_cpus, trace_clock, events_missing, lost_events, tlb_flush.reasonN, ...) and stats.
 * Returns 0, or -1 with err naming the file and the reason (not a trace.dat, truncated,
 * refused by libtracecmd, or the sink's error). */
int trace_import(const char *path, const struct import_opts *opts, const struct import_sink *sink,
		 struct trace_origin *origin, struct import_stats *stats, char *err, size_t errlen);

#endif
