/* Internals of the trace.dat importer shared by tools/import.c (opening, binding the
 * tracepoints, the origin header) and tools/import_events.c (converting each record). */
#ifndef MM_IMPORT_INTERNAL_H
#define MM_IMPORT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <trace-cmd.h>

#include "import.h"
#include "import_gfp.h"

enum tp_kind {
	TP_FORK,
	TP_EXEC,
	TP_EXIT,
	TP_NEWTASK,
	TP_RENAME,
	TP_PF_USER,
	TP_PF_KERNEL,
	TP_SYS_ENTER,
	TP_SYS_EXIT,
	TP_KMALLOC,
	TP_KFREE,
	TP_CACHE_ALLOC,
	TP_CACHE_FREE,
	TP_PAGE_ALLOC,
	TP_PAGE_FREE,
	TP_PAGE_FREE_BATCHED,
	TP_VMAP_ALLOC,
	TP_VMAP_FREE,
	TP_VMAP_PURGE,
	TP_OOM_VICTIM,
	TP_TLB_FLUSH,
};

enum sc { SC_NONE, SC_MMAP, SC_MUNMAP, SC_MPROTECT, SC_MREMAP, SC_BRK, SC_NR };

#define NFIELDS 6
#define DEF_PGOFF_PAGES 0x1 /* mmap_pgoff: the offset argument is in pages, not bytes */

/* Field names in the order the converter reads them; a leading '?' marks a field that some
 * kernels lack (handled), any other missing field makes the event unusable. */
struct tp_def {
	const char *sys, *name;
	enum tp_kind kind;
	enum sc sc;
	unsigned flags;
	const char *fields[NFIELDS];
	const char *if_absent; /* what the replay has to assume without it (NULL: say nothing) */
};

#define IMPORT_NR_DEFS 31
extern const struct tp_def import_tp_defs[IMPORT_NR_DEFS];
extern const char *const import_sc_names[SC_NR];

struct tp {
	const struct tp_def *def;
	struct tep_event *ev;
	struct tep_format_field *f[NFIELDS];
	bool usable;
	struct gfp_xlate gfp;
	uint64_t count;
};

/* Per task: open addressing on pid, never deleted (pids in one trace are few). */
struct task {
	uint32_t pid; /* 0: empty slot */
	uint32_t mm;  /* the task whose address space this one uses (itself unless a thread) */
	uint64_t clone_flags;
	bool has_clone; /* task_newtask seen for this child, fork not yet */
	uint8_t sc;	/* pending syscall (enum sc) */
	uint64_t arg[NFIELDS];
	uint64_t brk; /* last known program break, kept on the mm owner */
};

struct importer {
	const char *path;
	const struct import_opts *opts;
	const struct import_sink *sink;
	struct import_stats *st;
	struct tep_handle *tep;
	struct tp tps[IMPORT_NR_DEFS];
	uint8_t *by_id; /* event id → 1 + index into tps, 0 unknown */
	uint64_t *unknown_by_id;
	int max_id;
	struct task *tasks;
	uint32_t ntasks, task_slots;
	uint64_t last_ts;
	int long_size, page_shift;
	uint64_t user_limit;		      /* page_fault_kernel above this is a kernel address */
	bool have_page_free;		      /* mm_page_free recorded */
	bool sc_enter[SC_NR], sc_exit[SC_NR]; /* which halves of each syscall are recorded */
	char *err;
	size_t errlen;
	struct timespec t0;
	double progress_next; /* seconds after t0 of the next progress line */
};

/* tracecmd_iterate_events callback: converts one record (data is the struct importer). */
int import_on_record(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data);
void import_progress(struct importer *im, bool last);

#endif
