/* mmreplay stat TRACE [--json]: events per type and per process, duration, origin — in the
 * spirit of `trace-cmd report --stat` and `perf kmem stat`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "trace_io.h"

/* TASK_COMM_LEN is 16 (include/linux/sched.h): comm holds at most 15 characters. */
#define COMM_LEN 16

enum { C_EVENTS, C_FAULTS, C_TOUCHES, C_MMAPS, C_MUNMAPS, C_KALLOCS, C_KFREES, C_FORKS, NR_C };
static const char *const col_names[NR_C] = {"events",  "faults",  "touches", "mmaps",
					    "munmaps", "kallocs", "kfrees",  "forks"};

struct proc {
	uint32_t pid;
	char comm[COMM_LEN];
	uint64_t c[NR_C];
};

struct stat_state {
	uint64_t types[EV_NR_TYPES];
	/* byte totals, as perf kmem stat gives them for the slab allocators */
	uint64_t bytes_req, bytes_alloc, vmalloc_bytes, pages_alloc, pages_free;
	uint64_t mmap_bytes, munmap_bytes, touch_bytes;
	uint64_t count, first_ts, last_ts;
	struct proc *procs;
	uint32_t nr, cap;
	uint32_t *slots; /* open addressing: index + 1 */
	uint32_t nslots;
};

static uint32_t *slot_of(struct stat_state *s, uint32_t pid)
{
	uint32_t mask = s->nslots - 1;
	for (uint32_t i = (pid * 2654435761u) & mask;; i = (i + 1) & mask)
		if (!s->slots[i] || s->procs[s->slots[i] - 1].pid == pid)
			return &s->slots[i];
}

static struct proc *proc_get(struct stat_state *s, uint32_t pid)
{
	if ((s->nr + 1) * 2 > s->nslots) {
		uint32_t n = s->nslots ? s->nslots * 2 : 1024;
		uint32_t *slots = calloc(n, sizeof(*slots));
		if (!slots)
			return NULL;
		free(s->slots);
		s->slots = slots;
		s->nslots = n;
		for (uint32_t i = 0; i < s->nr; i++)
			*slot_of(s, s->procs[i].pid) = i + 1;
	}
	uint32_t *slot = slot_of(s, pid);
	if (*slot)
		return &s->procs[*slot - 1];
	if (s->nr == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 256;
		struct proc *p = realloc(s->procs, cap * sizeof(*p));
		if (!p)
			return NULL;
		s->procs = p;
		s->cap = cap;
	}
	struct proc *p = &s->procs[s->nr];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	*slot = ++s->nr;
	return p;
}

static void set_comm(struct proc *p, const char *name)
{
	snprintf(p->comm, sizeof(p->comm), "%s", name);
}

/* exec names the task after the file's last path component (fs/exec.c: begin_new_exec ->
 * __set_task_comm(me, kbasename(bprm->filename))); a child starts with its parent's comm
 * (kernel/fork.c: copy_process duplicates the task_struct). */
static int account(struct stat_state *s, const struct mm_event *ev, const struct strtab *st)
{
	struct proc *p = proc_get(s, ev->pid);
	if (!p)
		return -1;
	if (!s->count)
		s->first_ts = ev->ts;
	s->count++;
	s->last_ts = ev->ts;
	s->types[ev->type]++;
	p->c[C_EVENTS]++;
	const char *name;
	switch (ev->type) {
	case EV_FORK: {
		p->c[C_FORKS]++;
		char comm[COMM_LEN];
		memcpy(comm, p->comm, sizeof(comm));
		struct proc *child = proc_get(s, ev->u.fork.child);
		if (!child)
			return -1;
		if (!child->comm[0])
			memcpy(child->comm, comm, sizeof(comm));
		break;
	}
	case EV_EXEC:
		name = strtab_get(st, ev->u.exec.filename);
		set_comm(p, strrchr(name, '/') ? strrchr(name, '/') + 1 : name);
		break;
	case EV_COMM:
		set_comm(p, strtab_get(st, ev->u.comm.name));
		break;
	case EV_FAULT:
		p->c[C_FAULTS]++;
		break;
	case EV_TOUCH:
		p->c[C_TOUCHES]++;
		s->touch_bytes += ev->u.touch.len;
		break;
	case EV_MMAP:
		p->c[C_MMAPS]++;
		s->mmap_bytes += ev->u.map.len;
		break;
	case EV_MUNMAP:
		p->c[C_MUNMAPS]++;
		s->munmap_bytes += ev->u.range.len;
		break;
	case EV_KMALLOC:
	case EV_CACHE_ALLOC:
		p->c[C_KALLOCS]++;
		s->bytes_req += ev->u.kmem.bytes_req;
		s->bytes_alloc += ev->u.kmem.bytes_alloc;
		break;
	case EV_VMALLOC:
		p->c[C_KALLOCS]++;
		s->vmalloc_bytes += ev->u.vmalloc.size;
		break;
	case EV_PAGE_ALLOC:
		s->pages_alloc += ev->u.page.order < 64 ? 1ull << ev->u.page.order : 0;
		break;
	case EV_PAGE_FREE:
		s->pages_free += ev->u.page.order < 64 ? 1ull << ev->u.page.order : 0;
		break;
	case EV_KFREE:
	case EV_CACHE_FREE:
	case EV_VFREE:
		p->c[C_KFREES]++;
		break;
	}
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static const char *format_name(enum trace_format f)
{
	return f == TRACE_MMT ? "mmt" : f == TRACE_TEXT_GZ ? "text.gz" : "text";
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void print_ts(FILE *f, uint64_t ts)
{
	fprintf(f, "%llu.%09llu", (unsigned long long)(ts / 1000000000u),
		(unsigned long long)(ts % 1000000000u));
}

/* perf kmem stat's "internal fragmentation": the share of allocated bytes not requested */
static double internal_frag(const struct stat_state *s)
{
	return s->bytes_alloc
		   ? 100.0 * (double)(s->bytes_alloc - s->bytes_req) / (double)s->bytes_alloc
		   : 0.0;
}

static void print_text(FILE *f, const char *path, const struct trace_reader *r,
		       const struct stat_state *s)
{
	const struct trace_origin *o = trace_reader_origin(r);
	fprintf(f, "trace      %s (%s)\n", path, format_name(trace_reader_format(r)));
	for (int i = 0; i < o->n; i++)
		fprintf(f, "origin     %s=%s\n", o->key[i], o->value[i]);
	fprintf(f, "events     %llu\n", (unsigned long long)s->count);
	fputs("duration   ", f);
	print_ts(f, s->count ? s->last_ts - s->first_ts : 0);
	fputs(" s (", f);
	print_ts(f, s->count ? s->first_ts : 0);
	fputs(" .. ", f);
	print_ts(f, s->last_ts);
	fprintf(f, ")\nprocesses  %u\nstrings    %u\n\n", s->nr,
		trace_reader_strings(r)->count - 1);
	fprintf(f, "%-14s %12s %7s\n", "type", "events", "share");
	for (int t = 1; t < EV_NR_TYPES; t++)
		if (s->types[t])
			fprintf(f, "%-14s %12llu %6.2f%%\n", mm_event_names[t],
				(unsigned long long)s->types[t],
				100.0 * (double)s->types[t] / (double)s->count);
	fprintf(f,
		"\nslab bytes requested   %llu\nslab bytes allocated   %llu\n"
		"internal fragmentation %.2f%%\nvmalloc bytes          %llu\n"
		"pages allocated        %llu\npages freed            %llu\n"
		"mmap bytes             %llu\nmunmap bytes           %llu\n"
		"touched bytes          %llu\n",
		(unsigned long long)s->bytes_req, (unsigned long long)s->bytes_alloc,
		internal_frag(s), (unsigned long long)s->vmalloc_bytes,
		(unsigned long long)s->pages_alloc, (unsigned long long)s->pages_free,
		(unsigned long long)s->mmap_bytes, (unsigned long long)s->munmap_bytes,
		(unsigned long long)s->touch_bytes);
	fprintf(f, "\n%-8s %-16s", "pid", "comm");
	for (int c = 0; c < NR_C; c++)
		fprintf(f, " %10s", col_names[c]);
	fputc('\n', f);
	for (uint32_t i = 0; i < s->nr; i++) {
		const struct proc *p = &s->procs[i];
		fprintf(f, "%-8u %-16s", p->pid, p->comm[0] ? p->comm : "-");
		for (int c = 0; c < NR_C; c++)
			fprintf(f, " %10llu", (unsigned long long)p->c[c]);
		fputc('\n', f);
	}
}

static void print_json(FILE *f, const char *path, const struct trace_reader *r,
		       const struct stat_state *s)
{
	const struct trace_origin *o = trace_reader_origin(r);
	fputs("{\"trace\":", f);
	json_str(f, path);
	fprintf(f, ",\"format\":\"%s\",\"origin\":{", format_name(trace_reader_format(r)));
	for (int i = 0; i < o->n; i++) {
		fputs(i ? "," : "", f);
		json_str(f, o->key[i]);
		fputc(':', f);
		json_str(f, o->value[i]);
	}
	fprintf(f,
		"},\"events\":%llu,\"first_ts_ns\":%llu,\"last_ts_ns\":%llu,"
		"\"duration_ns\":%llu,\"strings\":%u,\"types\":{",
		(unsigned long long)s->count, (unsigned long long)(s->count ? s->first_ts : 0),
		(unsigned long long)s->last_ts,
		(unsigned long long)(s->count ? s->last_ts - s->first_ts : 0),
		trace_reader_strings(r)->count - 1);
	for (int t = 1; t < EV_NR_TYPES; t++)
		fprintf(f, "%s\"%s\":%llu", t > 1 ? "," : "", mm_event_names[t],
			(unsigned long long)s->types[t]);
	fprintf(f,
		"},\"slab_bytes_requested\":%llu,\"slab_bytes_allocated\":%llu,"
		"\"internal_fragmentation_pct\":%.2f,\"vmalloc_bytes\":%llu,"
		"\"pages_allocated\":%llu,\"pages_freed\":%llu,\"mmap_bytes\":%llu,"
		"\"munmap_bytes\":%llu,\"touched_bytes\":%llu",
		(unsigned long long)s->bytes_req, (unsigned long long)s->bytes_alloc,
		internal_frag(s), (unsigned long long)s->vmalloc_bytes,
		(unsigned long long)s->pages_alloc, (unsigned long long)s->pages_free,
		(unsigned long long)s->mmap_bytes, (unsigned long long)s->munmap_bytes,
		(unsigned long long)s->touch_bytes);
	fputs(",\"processes\":[", f);
	for (uint32_t i = 0; i < s->nr; i++) {
		const struct proc *p = &s->procs[i];
		fprintf(f, "%s{\"pid\":%u,\"comm\":", i ? "," : "", p->pid);
		json_str(f, p->comm);
		for (int c = 0; c < NR_C; c++)
			fprintf(f, ",\"%s\":%llu", col_names[c], (unsigned long long)p->c[c]);
		fputc('}', f);
	}
	fputs("]}\n", f);
}

static void stat_help(FILE *f)
{
	fputs("usage: mmreplay stat [--json] TRACE\n\n"
	      "Counts TRACE's events per type and per process (pid, with the comm learned from\n"
	      "exec file names and comm events, inherited across fork), its duration, and byte\n"
	      "totals: slab bytes requested/allocated and internal fragmentation (as perf kmem\n"
	      "stat), vmalloc bytes, pages allocated/freed, mmap/munmap/touched bytes.\n"
	      "  --json   one JSON object instead of tables\n",
	      f);
}

int cmd_stat(int argc, char **argv)
{
	const char *path = NULL;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			stat_help(stdout);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("stat", "unknown option '%s' (see --help)", argv[i]);
		else if (path)
			return cli_usage_error("stat", "one TRACE expected, got also '%s'",
					       argv[i]);
		else
			path = argv[i];
	}
	if (!path)
		return cli_usage_error("stat", "expected TRACE (see --help)");
	char err[1024];
	struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
	if (!r)
		return cli_usage_error("stat", "%s", err);
	enum { BATCH = 8192 };
	struct mm_event *buf = malloc(BATCH * sizeof(*buf));
	struct stat_state s;
	memset(&s, 0, sizeof(s));
	int rc = buf ? EXIT_OK : cli_fail("stat", "out of memory");
	while (rc == EXIT_OK) {
		ssize_t n = trace_reader_next(r, buf, BATCH, err, sizeof(err));
		if (n < 0)
			rc = cli_usage_error("stat", "%s", err);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n && rc == EXIT_OK; i++)
			if (account(&s, &buf[i], trace_reader_strings(r)))
				rc = cli_fail("stat", "out of memory");
	}
	if (rc == EXIT_OK) {
		qsort(s.procs, s.nr, sizeof(*s.procs), by_pid);
		if (json)
			print_json(stdout, path, r, &s);
		else
			print_text(stdout, path, r, &s);
	}
	free(buf);
	free(s.procs);
	free(s.slots);
	trace_reader_close(r);
	return rc;
}
