/* trace.dat → mm_event. libtracecmd reads the file and merges the per-CPU streams in
 * timestamp order; libtraceevent describes each event's fields, which are looked up by name
 * (never by offset) so recordings of other kernel versions import too. docs/IMPORT.md has the
 * event mapping; this file opens the file, binds the tracepoints and fills the origin
 * header; tools/import_events.c converts the records. */
#include "import.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "import_internal.h"

/* Exported by libtracecmd but declared only in its private header (trace-cmd-private.h). */
const char *tracecmd_get_uname(struct tracecmd_input *handle);
const char *tracecmd_get_version(struct tracecmd_input *handle);
const char *tracecmd_get_cpustats(struct tracecmd_input *handle);
const char *tracecmd_get_trace_clock(struct tracecmd_input *handle);
int tracecmd_page_size(struct tracecmd_input *handle);
int tracecmd_long_size(struct tracecmd_input *handle);
int tracecmd_cpus(struct tracecmd_input *handle);
unsigned long tracecmd_get_in_file_version(struct tracecmd_input *handle);

/* clang-format off */
const char *const import_record_events[] = {
	"sched:sched_process_fork", "sched:sched_process_exec", "sched:sched_process_exit",
	"task:task_newtask", "task:task_rename",
	"exceptions:page_fault_user", "exceptions:page_fault_kernel",
	"syscalls:sys_enter_mmap", "syscalls:sys_exit_mmap",
	"syscalls:sys_enter_munmap", "syscalls:sys_exit_munmap",
	"syscalls:sys_enter_mprotect", "syscalls:sys_exit_mprotect",
	"syscalls:sys_enter_mremap", "syscalls:sys_exit_mremap",
	"syscalls:sys_enter_brk", "syscalls:sys_exit_brk",
	"kmem:kmalloc", "kmem:kfree", "kmem:kmem_cache_alloc", "kmem:kmem_cache_free",
	"kmem:mm_page_alloc", "kmem:mm_page_free", "kmem:mm_page_free_batched",
	"vmalloc:alloc_vmap_area", "vmalloc:free_vmap_area_noflush", "vmalloc:purge_vmap_area_lazy",
	"oom:mark_victim", "tlb:tlb_flush",
	NULL,
};

const char *const import_sc_names[SC_NR] = {"", "mmap", "munmap", "mprotect", "mremap", "brk"};

const struct tp_def import_tp_defs[IMPORT_NR_DEFS] = {
	{"sched", "sched_process_fork", TP_FORK, 0, 0, {"parent_pid", "child_pid"},
	 "tasks appear without a parent (the engine creates them implicitly)"},
	{"sched", "sched_process_exec", TP_EXEC, 0, 0, {"filename", "pid", "?old_pid"},
	 "address spaces are never replaced by exec"},
	{"sched", "sched_process_exit", TP_EXIT, 0, 0, {"pid"}, "tasks never exit, their memory is never freed"},
	{"task", "task_newtask", TP_NEWTASK, 0, 0, {"pid", "clone_flags"},
	 "fork flags unknown: every fork is taken as a new process (no threads, no vfork)"},
	{"task", "task_rename", TP_RENAME, 0, 0, {"pid", "newcomm"}, NULL},
	{"exceptions", "page_fault_user", TP_PF_USER, 0, 0, {"address", "error_code"},
	 "no user page faults: pages are touched only by what other events imply"},
	{"exceptions", "page_fault_kernel", TP_PF_KERNEL, 0, 0, {"address", "error_code"}, NULL},
	{"syscalls", "sys_enter_mmap", TP_SYS_ENTER, SC_MMAP, 0,
	 {"addr", "len", "prot", "flags", "fd", "off"}, NULL},
	{"syscalls", "sys_enter_mmap_pgoff", TP_SYS_ENTER, SC_MMAP, DEF_PGOFF_PAGES,
	 {"addr", "len", "prot", "flags", "fd", "pgoff"}, NULL},
	{"syscalls", "sys_exit_mmap", TP_SYS_EXIT, SC_MMAP, 0, {"ret"}, NULL},
	{"syscalls", "sys_exit_mmap_pgoff", TP_SYS_EXIT, SC_MMAP, 0, {"ret"}, NULL},
	{"syscalls", "sys_enter_munmap", TP_SYS_ENTER, SC_MUNMAP, 0, {"addr", "len"}, NULL},
	{"syscalls", "sys_exit_munmap", TP_SYS_EXIT, SC_MUNMAP, 0, {"ret"}, NULL},
	{"syscalls", "sys_enter_mprotect", TP_SYS_ENTER, SC_MPROTECT, 0, {"start", "len", "prot"}, NULL},
	{"syscalls", "sys_exit_mprotect", TP_SYS_EXIT, SC_MPROTECT, 0, {"ret"}, NULL},
	{"syscalls", "sys_enter_mremap", TP_SYS_ENTER, SC_MREMAP, 0,
	 {"addr", "old_len", "new_len", "flags", "new_addr"}, NULL},
	{"syscalls", "sys_exit_mremap", TP_SYS_EXIT, SC_MREMAP, 0, {"ret"}, NULL},
	{"syscalls", "sys_enter_brk", TP_SYS_ENTER, SC_BRK, 0, {"brk"}, NULL},
	{"syscalls", "sys_exit_brk", TP_SYS_EXIT, SC_BRK, 0, {"ret"}, NULL},
	{"kmem", "kmalloc", TP_KMALLOC, 0, 0, {"call_site", "ptr", "bytes_req", "bytes_alloc", "gfp_flags"},
	 "no kmalloc load"},
	{"kmem", "kfree", TP_KFREE, 0, 0, {"call_site", "ptr"}, "kmalloc'd objects are never freed"},
	{"kmem", "kmem_cache_alloc", TP_CACHE_ALLOC, 0, 0,
	 {"call_site", "ptr", "bytes_req", "bytes_alloc", "gfp_flags", "?name"}, "no slab cache load"},
	{"kmem", "kmem_cache_free", TP_CACHE_FREE, 0, 0, {"call_site", "ptr", "?name"},
	 "slab objects are never freed"},
	{"kmem", "mm_page_alloc", TP_PAGE_ALLOC, 0, 0, {"pfn", "order", "gfp_flags", "migratetype"},
	 "no page-level replay possible"},
	{"kmem", "mm_page_free", TP_PAGE_FREE, 0, 0, {"pfn", "order"}, "page-level replay never frees"},
	{"kmem", "mm_page_free_batched", TP_PAGE_FREE_BATCHED, 0, 0, {"pfn"},
	 "batched page frees (pcp list drains) missing from page-level replay"},
	{"vmalloc", "alloc_vmap_area", TP_VMAP_ALLOC, 0, 0, {"addr", "size", "failed"},
	 "no vmalloc load (older kernels, e.g. 6.1, have no vmalloc tracepoints)"},
	{"vmalloc", "free_vmap_area_noflush", TP_VMAP_FREE, 0, 0, {"va_start"}, "vmap areas are never freed"},
	{"vmalloc", "purge_vmap_area_lazy", TP_VMAP_PURGE, 0, 0, {"start"}, NULL},
	{"oom", "mark_victim", TP_OOM_VICTIM, 0, 0, {"pid"}, "the recording's OOM kills are not marked"},
	{"tlb", "tlb_flush", TP_TLB_FLUSH, 0, 0, {"reason", "pages"}, "no recorded TLB flushes to compare"},
};
/* clang-format on */

/* ---- setup --------------------------------------------------------------- */

bool tracecmd_is_version_supported(unsigned int version);

/* The checks libtracecmd would fail on with a vaguer message: existence, emptiness, the
 * magic "\027\010\104tracing" and a version it reads. */
static int check_file(const char *path, unsigned *file_version, char *err, size_t errlen)
{
	static const unsigned char magic[10] = {0x17, 0x08, 0x44, 't', 'r',
						'a',  'c',  'i',  'n', 'g'};
	unsigned char head[32];
	struct stat sb;
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	ssize_t n = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? read(fd, head, sizeof(head)) : -2;
	close(fd);
	if (n == -2) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (n == 0) {
		snprintf(err, errlen, "%s: empty file, expected a trace-cmd trace.dat", path);
		return -1;
	}
	if (n < (ssize_t)sizeof(magic) || memcmp(head, magic, sizeof(magic)) != 0) {
		snprintf(
		    err, errlen,
		    "%s: not a trace.dat (no trace-cmd magic \"\\027\\010Dtracing\" at byte 0)",
		    path);
		return -1;
	}
	unsigned long version = 0;
	ssize_t i = sizeof(magic);
	for (; i < n && head[i] >= '0' && head[i] <= '9' && version < 1000; i++)
		version = version * 10 + (head[i] - '0');
	if (i >= n || head[i] != 0 || i == (ssize_t)sizeof(magic)) {
		snprintf(err, errlen,
			 "%s: truncated or corrupt trace.dat header (byte %zd: expected the file "
			 "version as a NUL-terminated number)",
			 path, i);
		return -1;
	}
	if (!tracecmd_is_version_supported((unsigned)version)) {
		snprintf(err, errlen,
			 "%s: trace.dat version %lu is not supported by this libtracecmd", path,
			 version);
		return -1;
	}
	*file_version = (unsigned)version;
	return 0;
}

/* libtracecmd 1.3 crashes in tracecmd_open's error path on a version 6 file whose CPU data
 * is cut short (tracecmd_close of the half-initialised handle): open it in a child first. */
static int probe_in_child(const char *path, char *err, size_t errlen)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "%s: cannot fork to check it: %s", path, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		tracecmd_set_loglevel(TEP_LOG_NONE);
		tep_set_loglevel(TEP_LOG_NONE);
		_exit(tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS) ? 0 : 3);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFSIGNALED(st))
		snprintf(err, errlen,
			 "%s: libtracecmd crashes reading it (signal %d): truncated or corrupt "
			 "trace.dat",
			 path, WTERMSIG(st));
	else
		snprintf(err, errlen,
			 "%s: libtracecmd cannot read it (truncated, corrupt, or a compression "
			 "it does not support)",
			 path);
	return -1;
}

static void warn(const struct importer *im, const char *fmt, const char *a, const char *b)
{
	if (im->opts->quiet)
		return;
	fprintf(stderr, "mmreplay import: %s: ", im->path);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
}

static void bind_fields(struct importer *im, struct tp *tp)
{
	tp->usable = true;
	for (int i = 0; i < NFIELDS && tp->def->fields[i]; i++) {
		const char *name = tp->def->fields[i];
		bool optional = name[0] == '?';
		tp->f[i] = tep_find_field(tp->ev, name + optional);
		if (!tp->f[i] && !optional) {
			tp->usable = false;
			warn(im, "%s has no field '%s': its records are skipped", tp->def->name,
			     name);
		}
	}
	enum tp_kind k = tp->def->kind;
	if (tp->usable && (k == TP_KMALLOC || k == TP_CACHE_ALLOC || k == TP_PAGE_ALLOC) &&
	    gfp_xlate_build(&tp->gfp, tp->ev, "gfp_flags"))
		warn(im, "%s prints no gfp flag table: its gfp flags are imported as 0%s",
		     tp->def->name, "");
	if (tp->usable && k == TP_CACHE_ALLOC && !tp->f[5])
		warn(im,
		     "%s has no cache name (older kernels, e.g. 6.1): caches are named "
		     "cache-<bytes_alloc>%s",
		     tp->def->name, "");
}

static int bind_events(struct importer *im)
{
	int nev = tep_get_events_count(im->tep);
	im->max_id = 0;
	for (int i = 0; i < nev; i++) {
		struct tep_event *ev = tep_get_event(im->tep, i);
		if (ev && ev->id > im->max_id)
			im->max_id = ev->id;
	}
	im->by_id = calloc((size_t)im->max_id + 1, 1);
	im->unknown_by_id = calloc((size_t)im->max_id + 1, sizeof(*im->unknown_by_id));
	if (!im->by_id || !im->unknown_by_id)
		return -1;
	for (int i = 0; i < IMPORT_NR_DEFS; i++) {
		struct tp *tp = &im->tps[i];
		tp->def = &import_tp_defs[i];
		tp->ev = tep_find_event_by_name(im->tep, tp->def->sys, tp->def->name);
		if (!tp->ev) {
			if (tp->def->if_absent)
				warn(im, "no %s: %s", tp->def->name, tp->def->if_absent);
			continue;
		}
		bind_fields(im, tp);
		if (!tp->usable || tp->ev->id < 0 || tp->ev->id > im->max_id)
			continue;
		im->by_id[tp->ev->id] = (uint8_t)(i + 1);
		if (tp->def->kind == TP_PAGE_FREE)
			im->have_page_free = true;
		if (tp->def->kind == TP_SYS_ENTER)
			im->sc_enter[tp->def->sc] = true;
		if (tp->def->kind == TP_SYS_EXIT)
			im->sc_exit[tp->def->sc] = true;
	}
	for (int s = 1; s < SC_NR; s++) {
		if (im->sc_enter[s] && !im->sc_exit[s])
			warn(im,
			     "no sys_exit_%s: %s results unknown (every call taken as successful; "
			     "mmap addresses marked unknown)",
			     import_sc_names[s], import_sc_names[s]);
		else if (!im->sc_enter[s] && im->sc_exit[s])
			warn(im, "no sys_enter_%s: %s calls cannot be imported", import_sc_names[s],
			     import_sc_names[s]);
		else if (!im->sc_enter[s])
			warn(im, "no %s syscalls recorded: %s absent from the replay",
			     import_sc_names[s], import_sc_names[s]);
	}
	return 0;
}

static void origin_u64(struct trace_origin *o, const char *key, uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	trace_origin_set(o, key, buf);
}

/* The uname option is "sysname nodename release version machine"; the release is the
 * kernel version. The trace clock file lists all clocks with the one in use in brackets. */
static void fill_origin(struct importer *im, struct tracecmd_input *h, struct trace_origin *o)
{
	char buf[256];
	const char *base = strrchr(im->path, '/');
	trace_origin_set(o, "source", base ? base + 1 : im->path);
	snprintf(buf, sizeof(buf), "trace.dat v%lu", tracecmd_get_in_file_version(h));
	trace_origin_set(o, "source_format", buf);
	const char *uname = tracecmd_get_uname(h);
	if (uname) {
		char rel[128] = "";
		if (sscanf(uname, "%*s %*s %127s", rel) == 1)
			trace_origin_set(o, "kernel", rel);
		trace_origin_set(o, "uname", uname);
	}
	const char *ver = tracecmd_get_version(h);
	if (ver) {
		snprintf(buf, sizeof(buf), "trace-cmd %s", ver);
		trace_origin_set(o, "recorder", buf);
	}
	origin_u64(o, "page_size", (uint64_t)tracecmd_page_size(h));
	origin_u64(o, "long_size", (uint64_t)im->long_size);
	origin_u64(o, "nr_cpus", (uint64_t)tracecmd_cpus(h));
	const char *clk = tracecmd_get_trace_clock(h);
	if (clk) {
		const char *lb = strchr(clk, '['), *rb = lb ? strchr(lb, ']') : NULL;
		if (lb && rb)
			snprintf(buf, sizeof(buf), "%.*s", (int)(rb - lb - 1), lb + 1);
		else
			snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(clk, " \n"), clk);
		trace_origin_set(o, "trace_clock", buf);
	}
	origin_u64(o, "first_ts", im->st->first_ts);
	origin_u64(o, "duration_ns", im->st->last_ts - im->st->first_ts);
	int present = 0, n = 0;
	size_t len = 0;
	buf[0] = 0;
	for (int i = 0; import_record_events[i]; i++, n++) {
		const char *e = strchr(import_record_events[i], ':') + 1;
		bool have = false;
		for (int k = 0; k < IMPORT_NR_DEFS; k++)
			if (im->tps[k].ev && im->tps[k].usable &&
			    strcmp(im->tps[k].def->name, e) == 0)
				have = true;
		if (have) {
			present++;
		} else if (len + strlen(e) + 5 < sizeof(buf)) {
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
						len ? "," : "", e);
		} else if (len + 4 < sizeof(buf)) {
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, ",...");
		}
	}
	trace_origin_set(o, "events_missing", buf[0] ? buf : "none");
	snprintf(buf, sizeof(buf), "%d/%d", present, n);
	trace_origin_set(o, "events_present", buf);
	origin_u64(o, "records", im->st->records);
	origin_u64(o, "unknown_records", im->st->unknown);
	origin_u64(o, "lost_events", im->st->lost);
	if (im->st->lost_unknown)
		origin_u64(o, "lost_unknown_drops", im->st->lost_unknown);
	origin_u64(o, "ring_overruns", im->st->overruns);
	snprintf(buf, sizeof(buf), "%u", IMPORT_KERNEL_PID);
	trace_origin_set(o, "kernel_pid", buf);
	for (int r = 0; r < IMPORT_TLB_REASONS; r++) {
		char key[32];
		if (!im->st->tlb_flush[r])
			continue;
		if (r == IMPORT_TLB_REASONS - 1)
			snprintf(key, sizeof(key), "tlb_flush.reason_other");
		else
			snprintf(key, sizeof(key), "tlb_flush.reason%d", r);
		origin_u64(o, key, im->st->tlb_flush[r]);
	}
	for (int k = 0; k < IMPORT_NR_DEFS; k++)
		if (im->tps[k].def->kind == TP_TLB_FLUSH && im->tps[k].ev)
			origin_u64(o, "tlb_flush.pages", im->st->tlb_flush_pages);
	trace_origin_set(o, "importer", "mmreplay " MMREPLAY_VERSION " import");
}

/* "overrun: N" lines of the CPU statistics trace-cmd stores when it stops recording. */
static uint64_t sum_overruns(const char *stats)
{
	uint64_t sum = 0;
	for (const char *p = stats; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, "overrun:", 8) == 0)
			sum += strtoull(p + 8, NULL, 10);
	return sum;
}

static void count_add(struct import_stats *st, const struct tep_event *ev, uint64_t n)
{
	if (!n)
		return;
	int i = st->nr_counted < IMPORT_MAX_COUNTED ? st->nr_counted++ : IMPORT_MAX_COUNTED - 1;
	if (i == IMPORT_MAX_COUNTED - 1 && st->counted[i].n)
		snprintf(st->counted[i].name, sizeof(st->counted[i].name), "other");
	else
		snprintf(st->counted[i].name, sizeof(st->counted[i].name), "%s:%s", ev->system,
			 ev->name);
	st->counted[i].n += n;
}

static int count_cmp(const void *a, const void *b)
{
	/* name is the first member of each entry */
	return strcmp((const char *)a, (const char *)b);
}

static void fill_counts(struct importer *im)
{
	for (int id = 0; id <= im->max_id; id++) {
		struct tep_event *ev = tep_find_event(im->tep, id);
		if (!ev)
			continue;
		uint64_t n = im->unknown_by_id[id];
		if (im->by_id[id])
			n += im->tps[im->by_id[id] - 1].count;
		count_add(im->st, ev, n);
	}
	qsort(im->st->counted, (size_t)im->st->nr_counted, sizeof(im->st->counted[0]), count_cmp);
}

static void report_unknown(const struct importer *im)
{
	if (im->opts->quiet || !im->st->unknown)
		return;
	for (int id = 0; id <= im->max_id; id++) {
		if (!im->unknown_by_id[id])
			continue;
		struct tep_event *ev = tep_find_event(im->tep, id);
		fprintf(stderr,
			"mmreplay import: %s: skipped %" PRIu64 " records of %s:%s (not used)\n",
			im->path, im->unknown_by_id[id], ev ? ev->system : "?",
			ev ? ev->name : "?");
	}
}

int trace_import(const char *path, const struct import_opts *opts, const struct import_sink *sink,
		 struct trace_origin *origin, struct import_stats *stats, char *err, size_t errlen)
{
	static const struct import_opts defaults;
	struct importer im = {.path = path,
			      .opts = opts ? opts : &defaults,
			      .sink = sink,
			      .st = stats,
			      .err = err,
			      .errlen = errlen};
	memset(stats, 0, sizeof(*stats));
	err[0] = 0;
	unsigned version = 0;
	if (check_file(path, &version, err, errlen) ||
	    (version < 7 && probe_in_child(path, err, errlen)))
		return -1;
	/* libtracecmd and libtraceevent print their own diagnostics; ours name the file. */
	tracecmd_set_loglevel(TEP_LOG_NONE);
	tep_set_loglevel(TEP_LOG_NONE);
	struct tracecmd_input *h = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!h) {
		snprintf(err, errlen,
			 "%s: libtracecmd cannot read it (truncated, corrupt, or a compression "
			 "it does not support)",
			 path);
		return -1;
	}
	int rc = -1;
	im.tep = tracecmd_get_tep(h);
	im.long_size = tracecmd_long_size(h);
	int psz = tracecmd_page_size(h);
	im.page_shift = psz > 0 ? __builtin_ctz((unsigned)psz) : 12;
	/* Kernel addresses: the top half on 64-bit; above the default 3G/1G split on i386. */
	im.user_limit = im.long_size == 4 ? 0xC0000000ull : 1ull << 63;
	if (!im.tep || bind_events(&im)) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if (tracecmd_buffer_instances(h) > 0)
		warn(&im, "has %s extra buffer instance(s); only the top buffer is imported%s", "",
		     "");
	clock_gettime(CLOCK_MONOTONIC, &im.t0);
	if (tracecmd_iterate_events(h, NULL, 0, import_on_record, &im) < 0) {
		if (!err[0])
			snprintf(err, errlen,
				 "%s: libtracecmd failed reading the event data after %" PRIu64
				 " records (truncated or corrupt)",
				 path, stats->records);
		goto out;
	}
	if (opts && opts->progress)
		import_progress(&im, true);
	for (uint32_t i = 0; i < im.task_slots; i++)
		if (im.tasks[i].pid && im.tasks[i].sc != SC_NONE)
			stats->syscall_unpaired++; /* cut off by the end of the recording */
	stats->overruns = sum_overruns(tracecmd_get_cpustats(h));
	report_unknown(&im);
	fill_counts(&im);
	fill_origin(&im, h, origin);
	rc = 0;
out:
	free(im.by_id);
	free(im.unknown_by_id);
	free(im.tasks);
	tracecmd_close(h);
	return rc;
}
