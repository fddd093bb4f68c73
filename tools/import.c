/* trace.dat → mm_event. libtracecmd reads the file and merges the per-CPU streams in
 * timestamp order; libtraceevent describes each event's fields, which are looked up by name
 * (never by offset) so recordings of other kernel versions import too. docs/IMPORT.md has the
 * event mapping; this file keeps the per-task state the mapping needs (pending syscalls,
 * clone flags, the mm a thread shares, the last brk). */
#include "import.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <trace-cmd.h>
#include <unistd.h>

#include "cli.h"
#include "import_gfp.h"

/* Exported by libtracecmd but declared only in its private header (trace-cmd-private.h). */
const char *tracecmd_get_uname(struct tracecmd_input *handle);
const char *tracecmd_get_version(struct tracecmd_input *handle);
const char *tracecmd_get_cpustats(struct tracecmd_input *handle);
const char *tracecmd_get_trace_clock(struct tracecmd_input *handle);
int tracecmd_page_size(struct tracecmd_input *handle);
int tracecmd_long_size(struct tracecmd_input *handle);
int tracecmd_cpus(struct tracecmd_input *handle);
unsigned long tracecmd_get_in_file_version(struct tracecmd_input *handle);

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

enum tp_kind {
	TP_FORK, TP_EXEC, TP_EXIT, TP_NEWTASK, TP_RENAME, TP_PF_USER, TP_PF_KERNEL,
	TP_SYS_ENTER, TP_SYS_EXIT,
	TP_KMALLOC, TP_KFREE, TP_CACHE_ALLOC, TP_CACHE_FREE,
	TP_PAGE_ALLOC, TP_PAGE_FREE, TP_PAGE_FREE_BATCHED,
	TP_VMAP_ALLOC, TP_VMAP_FREE, TP_VMAP_PURGE, TP_OOM_VICTIM, TP_TLB_FLUSH,
};

enum sc { SC_NONE, SC_MMAP, SC_MUNMAP, SC_MPROTECT, SC_MREMAP, SC_BRK, SC_NR };
static const char *const sc_names[SC_NR] = {"", "mmap", "munmap", "mprotect", "mremap", "brk"};

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

static const struct tp_def tp_defs[] = {
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

#define NR_DEFS ((int)(sizeof(tp_defs) / sizeof(tp_defs[0])))

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
	uint32_t pid;        /* 0: empty slot */
	uint32_t mm;         /* the task whose address space this one uses (itself unless a thread) */
	uint64_t clone_flags;
	bool has_clone;      /* task_newtask seen for this child, fork not yet */
	uint8_t sc;          /* pending syscall (enum sc) */
	uint64_t arg[NFIELDS];
	uint64_t brk;        /* last known program break, kept on the mm owner */
};

struct importer {
	const char *path;
	const struct import_opts *opts;
	const struct import_sink *sink;
	struct import_stats *st;
	struct tep_handle *tep;
	struct tp tps[NR_DEFS];
	uint8_t *by_id;      /* event id → 1 + index into tps, 0 unknown */
	uint64_t *unknown_by_id;
	int max_id;
	struct task *tasks;
	uint32_t ntasks, task_slots;
	uint64_t last_ts;
	int long_size, page_shift;
	uint64_t user_limit; /* page_fault_kernel above this is a kernel address */
	bool have_page_free; /* mm_page_free recorded */
	bool sc_enter[SC_NR], sc_exit[SC_NR]; /* which halves of each syscall are recorded */
	char *err;
	size_t errlen;
	struct timespec t0;
};

/* ---- field access -------------------------------------------------------- */

static uint64_t fu64(const struct tp *t, int i, const struct tep_record *rec)
{
	unsigned long long v = 0;
	if (t->f[i])
		tep_read_number_field(t->f[i], rec->data, &v);
	return v;
}

static int64_t fs64(const struct tp *t, int i, const struct tep_record *rec)
{
	uint64_t v = fu64(t, i, rec);
	int sz = t->f[i] ? t->f[i]->size : 8;
	if (sz < 8 && (v >> (sz * 8 - 1)) & 1)
		v |= ~0ull << (sz * 8);
	return (int64_t)v;
}

/* A char[] field, fixed or __data_loc (dynamic, possibly relative), copied NUL-terminated. */
static const char *fstr(const struct tp *t, int i, const struct tep_record *rec, char *buf,
			size_t cap)
{
	struct tep_format_field *f = t->f[i];
	buf[0] = 0;
	if (!f)
		return buf;
	unsigned off = (unsigned)f->offset, len = (unsigned)f->size;
	if (f->flags & TEP_FIELD_IS_DYNAMIC) {
		unsigned long long loc = 0;
		if (tep_read_number_field(f, rec->data, &loc))
			return buf;
		off = (unsigned)(loc & 0xffff);
		len = (unsigned)(loc >> 16);
		if (f->flags & TEP_FIELD_IS_RELATIVE)
			off += (unsigned)(f->offset + f->size);
	}
	if ((uint64_t)off + len > (uint64_t)rec->size)
		return buf;
	const char *s = (const char *)rec->data + off;
	size_t n = strnlen(s, len);
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
	return buf;
}

/* ---- tasks --------------------------------------------------------------- */

static int task_grow(struct importer *im)
{
	uint32_t nslots = im->task_slots ? im->task_slots * 2 : 1024;
	struct task *n = calloc(nslots, sizeof(*n));
	if (!n)
		return -1;
	for (uint32_t i = 0; i < im->task_slots; i++) {
		if (!im->tasks[i].pid)
			continue;
		uint32_t h = (im->tasks[i].pid * 2654435761u) & (nslots - 1);
		while (n[h].pid)
			h = (h + 1) & (nslots - 1);
		n[h] = im->tasks[i];
	}
	free(im->tasks);
	im->tasks = n;
	im->task_slots = nslots;
	return 0;
}

static struct task *task_get(struct importer *im, uint32_t pid)
{
	if ((im->ntasks + 1) * 2 > im->task_slots && task_grow(im))
		return NULL;
	uint32_t h = (pid * 2654435761u) & (im->task_slots - 1);
	while (im->tasks[h].pid && im->tasks[h].pid != pid)
		h = (h + 1) & (im->task_slots - 1);
	struct task *t = &im->tasks[h];
	if (!t->pid) {
		t->pid = pid;
		t->mm = pid;
		im->ntasks++;
	}
	return t;
}

/* ---- emitting ------------------------------------------------------------ */

static uint32_t map_pid(struct importer *im, int64_t pid)
{
	if (pid <= 0) {
		im->st->pid0++;
		return IMPORT_KERNEL_PID;
	}
	return (uint32_t)pid;
}

static void ev_init(struct importer *im, struct mm_event *e, const struct tep_record *rec,
		    uint32_t pid, enum mm_event_type type)
{
	memset(e, 0, sizeof(*e));
	uint64_t ts = rec->ts - im->st->first_ts;
	if (ts < im->last_ts) /* equal-time records of different CPUs: keep the order monotonic */
		ts = im->last_ts;
	im->last_ts = ts;
	e->ts = ts;
	e->pid = pid;
	e->cpu = (uint16_t)rec->cpu;
	e->type = (uint8_t)type;
}

static int emit(struct importer *im, const struct mm_event *e)
{
	if (im->sink->put(im->sink->ctx, e, im->err, im->errlen))
		return -1;
	im->st->emitted[e->type]++;
	return 0;
}

static int intern(struct importer *im, const char *s, uint32_t *id)
{
	*id = im->sink->intern(im->sink->ctx, s);
	if (*id == UINT32_MAX) {
		snprintf(im->err, im->errlen, "%s: cannot store string \"%.40s\"", im->path, s);
		return -1;
	}
	return 0;
}

/* ---- conversion ---------------------------------------------------------- */

/* x86 values (arch/x86 uses include/uapi/asm-generic/mman*.h). */
#define LX_MAP_SHARED 0x01u
#define LX_MAP_PRIVATE 0x02u
#define LX_MAP_FIXED 0x10u
#define LX_MAP_ANONYMOUS 0x20u
#define LX_MAP_GROWSDOWN 0x100u
#define LX_MAP_NORESERVE 0x4000u
#define LX_MAP_POPULATE 0x8000u
#define LX_MAP_STACK 0x20000u
#define LX_MAP_FIXED_NOREPLACE 0x100000u
#define LX_MAX_ERRNO 4095 /* include/linux/err.h:MAX_ERRNO */
/* arch/x86/include/asm/trap_pf.h: enum x86_pf_error_code */
#define X86_PF_WRITE 0x2u
#define X86_PF_INSTR 0x10u
/* include/linux/slab.h:ZERO_SIZE_PTR */
#define LX_ZERO_SIZE_PTR 16u

static uint16_t map_flags(uint64_t f)
{
	uint16_t o = 0;
	/* MAP_SHARED_VALIDATE (0x03) is a shared mapping with flag checking. */
	if ((f & 3) == LX_MAP_SHARED || (f & 3) == 3)
		o |= MM_MAP_SHARED;
	else if ((f & 3) == LX_MAP_PRIVATE)
		o |= MM_MAP_PRIVATE;
	if (f & (LX_MAP_FIXED | LX_MAP_FIXED_NOREPLACE))
		o |= MM_MAP_FIXED;
	if (f & LX_MAP_ANONYMOUS)
		o |= MM_MAP_ANON;
	if (f & LX_MAP_GROWSDOWN)
		o |= MM_MAP_GROWSDOWN;
	if (f & LX_MAP_NORESERVE)
		o |= MM_MAP_NORESERVE;
	if (f & LX_MAP_POPULATE)
		o |= MM_MAP_POPULATE;
	if (f & LX_MAP_STACK)
		o |= MM_MAP_STACK;
	return o;
}

static bool is_err(int64_t ret)
{
	return ret < 0 && ret >= -LX_MAX_ERRNO;
}

static int emit_mmap(struct importer *im, const struct tep_record *rec, uint32_t pid,
		     const struct task *t, int64_t ret, bool have_ret)
{
	struct mm_event e;
	ev_init(im, &e, rec, pid, EV_MMAP);
	e.u.map.len = t->arg[1];
	e.u.map.prot = (uint16_t)(t->arg[2] & 7);
	e.u.map.flags = map_flags(t->arg[3]);
	e.u.map.pgoff = t->arg[5];
	e.u.map.addr = t->arg[0];
	if (!have_ret)
		e.u.map.flags |= MM_MAP_ADDR_UNKNOWN;
	else if (is_err(ret))
		e.u.map.flags |= MM_MAP_FAILED;
	else
		e.u.map.addr = (uint64_t)ret;
	/* The file's name is not in the trace: mappings of one fd by one address space share a
	 * name, so segments of one library line up, but nothing is shared across processes. */
	if (!(e.u.map.flags & MM_MAP_ANON) && (int64_t)t->arg[4] >= 0) {
		char name[64];
		struct task *owner = task_get(im, t->mm);
		snprintf(name, sizeof(name), "pid%u/fd%" PRId64, owner ? owner->pid : pid,
			 (int64_t)t->arg[4]);
		if (intern(im, name, &e.u.map.file))
			return -1;
	}
	return emit(im, &e);
}

/* A finished syscall of task t: ret is valid when have_ret. */
static int syscall_done(struct importer *im, const struct tep_record *rec, uint32_t pid,
			struct task *t, int64_t ret, bool have_ret)
{
	enum sc sc = (enum sc)t->sc;
	t->sc = SC_NONE;
	if (sc == SC_MMAP) {
		if (have_ret && is_err(ret))
			im->st->syscall_failed++;
		return emit_mmap(im, rec, pid, t, ret, have_ret);
	}
	if (have_ret && is_err(ret) && sc != SC_BRK) {
		im->st->syscall_failed++;
		return 0;
	}
	struct mm_event e;
	switch (sc) {
	case SC_MUNMAP:
		ev_init(im, &e, rec, pid, EV_MUNMAP);
		e.u.range.addr = t->arg[0];
		e.u.range.len = t->arg[1];
		break;
	case SC_MPROTECT:
		ev_init(im, &e, rec, pid, EV_MPROTECT);
		e.u.range.addr = t->arg[0];
		e.u.range.len = t->arg[1];
		e.u.range.prot = (uint32_t)(t->arg[2] & 7);
		break;
	case SC_MREMAP:
		ev_init(im, &e, rec, pid, EV_MREMAP);
		e.u.remap.old_addr = t->arg[0];
		e.u.remap.old_len = t->arg[1];
		e.u.remap.new_len = t->arg[2];
		e.u.remap.new_addr = have_ret ? (uint64_t)ret : t->arg[4];
		break;
	case SC_BRK: {
		/* brk returns the break in force: the request on success, the old one on failure;
		 * brk(0) only asks. */
		struct task *owner = task_get(im, t->mm);
		uint64_t now = have_ret ? (uint64_t)ret : t->arg[0];
		if (!owner)
			return -1;
		if (have_ret && t->arg[0] && now != t->arg[0]) {
			im->st->syscall_failed++;
			return 0;
		}
		ev_init(im, &e, rec, pid, EV_BRK);
		e.u.brk.addr = now;
		e.u.brk.old = t->arg[0] ? owner->brk : now;
		owner->brk = now;
		break;
	}
	default:
		return 0;
	}
	return emit(im, &e);
}

static int on_sys_enter(struct importer *im, struct tp *tp, const struct tep_record *rec,
			uint32_t pid, bool exit_recorded)
{
	struct task *t = task_get(im, pid);
	if (!t)
		return -1;
	if (t->sc != SC_NONE)
		im->st->syscall_unpaired++; /* the exit of the previous one was lost */
	t->sc = (uint8_t)tp->def->sc;
	for (int i = 0; i < NFIELDS; i++)
		t->arg[i] = fu64(tp, i, rec);
	if (tp->def->sc == SC_MMAP && !(tp->def->flags & DEF_PGOFF_PAGES))
		t->arg[5] >>= im->page_shift;
	if (!exit_recorded)
		return syscall_done(im, rec, pid, t, 0, false);
	return 0;
}

static int on_sys_exit(struct importer *im, struct tp *tp, const struct tep_record *rec,
		       uint32_t pid)
{
	struct task *t = task_get(im, pid);
	if (!t)
		return -1;
	if (t->sc != tp->def->sc) {
		im->st->syscall_unpaired++;
		t->sc = SC_NONE;
		return 0;
	}
	return syscall_done(im, rec, pid, t, fs64(tp, 0, rec), true);
}

/* CLONE_VM, CLONE_VFORK: include/uapi/linux/sched.h */
#define LX_CLONE_VM 0x100u
#define LX_CLONE_VFORK 0x4000u

static int on_fork(struct importer *im, struct tp *tp, const struct tep_record *rec)
{
	struct mm_event e;
	uint32_t parent = map_pid(im, fs64(tp, 0, rec));
	uint32_t child = map_pid(im, fs64(tp, 1, rec));
	struct task *c = task_get(im, child), *p = task_get(im, parent);
	if (!c || !p)
		return -1;
	ev_init(im, &e, rec, parent, EV_FORK);
	e.u.fork.child = child;
	if (c->has_clone) {
		if (c->clone_flags & LX_CLONE_VM)
			e.u.fork.flags |= FORK_THREAD;
		if (c->clone_flags & LX_CLONE_VFORK)
			e.u.fork.flags |= FORK_VFORK;
		c->has_clone = false;
	} else {
		im->st->fork_flags_unknown++;
	}
	/* A pid can be reused: the child starts with no pending syscall and its own brk. */
	c->sc = SC_NONE;
	c->mm = (e.u.fork.flags & FORK_THREAD) ? p->mm : child;
	c->brk = (e.u.fork.flags & FORK_THREAD) ? 0 : task_get(im, p->mm)->brk;
	return emit(im, &e);
}

static int on_task_event(struct importer *im, struct tp *tp, const struct tep_record *rec,
			 uint32_t pid)
{
	struct mm_event e;
	char buf[STRTAB_MAX_LEN + 1];
	switch (tp->def->kind) {
	case TP_NEWTASK: {
		/* copy_process emits task_newtask before kernel_clone emits sched_process_fork. */
		struct task *c = task_get(im, map_pid(im, fs64(tp, 0, rec)));
		if (!c)
			return -1;
		c->clone_flags = fu64(tp, 1, rec);
		c->has_clone = true;
		return 0;
	}
	case TP_EXEC: {
		uint32_t p = map_pid(im, fs64(tp, 1, rec));
		struct task *t = task_get(im, p);
		if (!t)
			return -1;
		t->mm = p;
		t->brk = 0;
		ev_init(im, &e, rec, p, EV_EXEC);
		if (intern(im, fstr(tp, 0, rec, buf, sizeof(buf)), &e.u.exec.filename))
			return -1;
		return emit(im, &e);
	}
	case TP_EXIT:
		ev_init(im, &e, rec, map_pid(im, fs64(tp, 0, rec)), EV_EXIT);
		return emit(im, &e);
	case TP_RENAME:
		ev_init(im, &e, rec, map_pid(im, fs64(tp, 0, rec)), EV_COMM);
		if (intern(im, fstr(tp, 1, rec, buf, sizeof(buf)), &e.u.comm.name))
			return -1;
		return emit(im, &e);
	case TP_OOM_VICTIM:
		im->st->oom_victims++;
		ev_init(im, &e, rec, pid, EV_MARK);
		snprintf(buf, sizeof(buf), "oom:%" PRId64, fs64(tp, 0, rec));
		if (intern(im, buf, &e.u.mark.name))
			return -1;
		return emit(im, &e);
	default:
		return 0;
	}
}

static int on_fault(struct importer *im, struct tp *tp, const struct tep_record *rec, uint32_t pid)
{
	struct mm_event e;
	uint64_t addr = fu64(tp, 0, rec), code = fu64(tp, 1, rec);
	if (tp->def->kind == TP_PF_KERNEL && addr >= im->user_limit) {
		im->st->fault_kernel_addr++;
		return 0;
	}
	ev_init(im, &e, rec, pid, EV_FAULT);
	e.u.fault.addr = addr;
	if (code & X86_PF_WRITE)
		e.u.fault.access |= FAULT_WRITE;
	if (code & X86_PF_INSTR)
		e.u.fault.access |= FAULT_EXEC;
	if (tp->def->kind == TP_PF_KERNEL)
		e.u.fault.access |= FAULT_KERNEL;
	return emit(im, &e);
}

static uint32_t xlate_gfp(struct importer *im, const struct tp *tp, uint64_t kflags)
{
	bool dropped;
	uint32_t g = gfp_xlate(&tp->gfp, kflags, &dropped);
	if (dropped)
		im->st->gfp_bits_dropped++;
	return g;
}

static int on_kmem(struct importer *im, struct tp *tp, const struct tep_record *rec, uint32_t pid)
{
	struct mm_event e;
	char name[256];
	uint64_t ptr = fu64(tp, 1, rec);
	bool alloc = tp->def->kind == TP_KMALLOC || tp->def->kind == TP_CACHE_ALLOC;
	if (ptr <= LX_ZERO_SIZE_PTR) {
		if (alloc)
			im->st->alloc_failed++;
		else
			im->st->kfree_null++;
		return 0;
	}
	static const uint8_t type[] = {[TP_KMALLOC] = EV_KMALLOC, [TP_KFREE] = EV_KFREE,
				       [TP_CACHE_ALLOC] = EV_CACHE_ALLOC, [TP_CACHE_FREE] = EV_CACHE_FREE};
	ev_init(im, &e, rec, pid, type[tp->def->kind]);
	e.u.kmem.call_site = fu64(tp, 0, rec);
	e.u.kmem.ptr = ptr;
	if (alloc) {
		e.u.kmem.bytes_req = (uint32_t)fu64(tp, 2, rec);
		e.u.kmem.bytes_alloc = (uint32_t)fu64(tp, 3, rec);
		e.u.kmem.gfp = xlate_gfp(im, tp, fu64(tp, 4, rec));
	}
	int name_field = tp->def->kind == TP_CACHE_ALLOC ? 5 : 2;
	if (tp->def->kind == TP_CACHE_ALLOC || tp->def->kind == TP_CACHE_FREE) {
		if (tp->f[name_field])
			fstr(tp, name_field, rec, name, sizeof(name));
		else if (alloc) /* older kernels (6.1) do not name the cache */
			snprintf(name, sizeof(name), "cache-%u", e.u.kmem.bytes_alloc);
		else
			name[0] = 0; /* unknown: the engine finds the cache by ptr */
		if (name[0] && intern(im, name, &e.u.kmem.cache))
			return -1;
	}
	return emit(im, &e);
}

static int on_page(struct importer *im, struct tp *tp, const struct tep_record *rec, uint32_t pid)
{
	struct mm_event e;
	uint64_t pfn = fu64(tp, 0, rec);
	uint64_t none = tp->f[0]->size >= 8 ? ~0ull : (1ull << (tp->f[0]->size * 8)) - 1;
	if (pfn == none) { /* mm_page_alloc prints a failed allocation as pfn -1 */
		im->st->alloc_failed++;
		return 0;
	}
	/* free_unref_folios [6.18] runs free_pages_prepare (which emits mm_page_free) before
	 * trace_mm_page_free_batched: a batched free is the second record of one free. Only a
	 * recording without mm_page_free makes it the record of the free. */
	if (tp->def->kind == TP_PAGE_FREE_BATCHED && im->have_page_free) {
		im->st->page_free_batched_dup++;
		return 0;
	}
	ev_init(im, &e, rec, pid, tp->def->kind == TP_PAGE_ALLOC ? EV_PAGE_ALLOC : EV_PAGE_FREE);
	e.u.page.pfn = pfn;
	if (tp->def->kind != TP_PAGE_FREE_BATCHED) /* batched frees are order-0 pages */
		e.u.page.order = (uint32_t)fu64(tp, 1, rec);
	if (tp->def->kind == TP_PAGE_ALLOC) {
		e.u.page.gfp = xlate_gfp(im, tp, fu64(tp, 2, rec));
		e.u.page.migratetype = (uint32_t)fs64(tp, 3, rec);
	}
	return emit(im, &e);
}

static int on_vmap(struct importer *im, struct tp *tp, const struct tep_record *rec, uint32_t pid)
{
	struct mm_event e;
	switch (tp->def->kind) {
	case TP_VMAP_ALLOC:
		if (fs64(tp, 2, rec)) {
			im->st->alloc_failed++;
			return 0;
		}
		ev_init(im, &e, rec, pid, EV_VMALLOC);
		e.u.vmalloc.addr = fu64(tp, 0, rec);
		e.u.vmalloc.size = fu64(tp, 1, rec);
		return emit(im, &e);
	case TP_VMAP_FREE:
		ev_init(im, &e, rec, pid, EV_VFREE);
		e.u.vmalloc.addr = fu64(tp, 0, rec);
		return emit(im, &e);
	case TP_VMAP_PURGE:
		im->st->vmap_purges++;
		return 0;
	case TP_TLB_FLUSH: {
		int64_t reason = fs64(tp, 0, rec);
		uint64_t pages = fu64(tp, 1, rec);
		im->st->tlb_flush[reason >= 0 && reason < IMPORT_TLB_REASONS - 1 ? reason
										 : IMPORT_TLB_REASONS - 1]++;
		if ((int64_t)pages > 0) /* TLB_FLUSH_ALL is -1 */
			im->st->tlb_flush_pages += pages;
		return 0;
	}
	default:
		return 0;
	}
}

static void progress(struct importer *im, bool last)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double el = (double)(now.tv_sec - im->t0.tv_sec) + (double)(now.tv_nsec - im->t0.tv_nsec) / 1e9;
	fprintf(stderr, "\rmmreplay import: %s: %.1f M records, trace time %.3f s, %.1f s elapsed%s",
		im->path, (double)im->st->records / 1e6, (double)im->last_ts / 1e9, el,
		last ? "\n" : "");
}

static int on_record(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data)
{
	struct importer *im = data;
	(void)h;
	(void)cpu;
	struct import_stats *st = im->st;
	if (st->records++ == 0)
		st->first_ts = rec->ts;
	st->last_ts = rec->ts;
	if (rec->missed_events > 0)
		st->lost += (uint64_t)rec->missed_events;
	else if (rec->missed_events < 0)
		st->lost_unknown++;
	if (im->opts->progress && (st->records & ((1u << 20) - 1)) == 0)
		progress(im, false);
	int id = tep_data_type(im->tep, rec);
	int k = id >= 0 && id <= im->max_id ? im->by_id[id] : 0;
	if (!k) {
		st->unknown++;
		if (id >= 0 && id <= im->max_id)
			im->unknown_by_id[id]++;
		return 0;
	}
	struct tp *tp = &im->tps[k - 1];
	tp->count++;
	uint32_t pid = map_pid(im, tep_data_pid(im->tep, rec));
	int rc;
	switch (tp->def->kind) {
	case TP_FORK:
		rc = on_fork(im, tp, rec);
		break;
	case TP_EXEC:
	case TP_EXIT:
	case TP_NEWTASK:
	case TP_RENAME:
	case TP_OOM_VICTIM:
		rc = on_task_event(im, tp, rec, pid);
		break;
	case TP_PF_USER:
	case TP_PF_KERNEL:
		rc = on_fault(im, tp, rec, pid);
		break;
	case TP_SYS_ENTER:
		rc = on_sys_enter(im, tp, rec, pid, im->sc_exit[tp->def->sc]);
		break;
	case TP_SYS_EXIT:
		rc = on_sys_exit(im, tp, rec, pid);
		break;
	case TP_KMALLOC:
	case TP_KFREE:
	case TP_CACHE_ALLOC:
	case TP_CACHE_FREE:
		rc = on_kmem(im, tp, rec, pid);
		break;
	case TP_PAGE_ALLOC:
	case TP_PAGE_FREE:
	case TP_PAGE_FREE_BATCHED:
		rc = on_page(im, tp, rec, pid);
		break;
	default:
		rc = on_vmap(im, tp, rec, pid);
		break;
	}
	if (rc && !im->err[0])
		snprintf(im->err, im->errlen, "%s: out of memory", im->path);
	return rc ? -1 : 0;
}

/* ---- setup --------------------------------------------------------------- */

bool tracecmd_is_version_supported(unsigned int version);

/* The checks libtracecmd would fail on with a vaguer message: existence, emptiness, the
 * magic "\027\010\104tracing" and a version it reads. */
static int check_file(const char *path, unsigned *file_version, char *err, size_t errlen)
{
	static const unsigned char magic[10] = {0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g'};
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
		snprintf(err, errlen, "%s: not a trace.dat (no trace-cmd magic \"\\027\\010Dtracing\" at byte 0)",
			 path);
		return -1;
	}
	unsigned long version = 0;
	ssize_t i = sizeof(magic);
	for (; i < n && head[i] >= '0' && head[i] <= '9' && version < 1000; i++)
		version = version * 10 + (head[i] - '0');
	if (i >= n || head[i] != 0 || i == (ssize_t)sizeof(magic)) {
		snprintf(err, errlen, "%s: truncated or corrupt trace.dat header (byte %zd: expected the file "
				      "version as a NUL-terminated number)", path, i);
		return -1;
	}
	if (!tracecmd_is_version_supported((unsigned)version)) {
		snprintf(err, errlen, "%s: trace.dat version %lu is not supported by this libtracecmd", path,
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
		snprintf(err, errlen, "%s: libtracecmd crashes reading it (signal %d): truncated or corrupt "
				      "trace.dat", path, WTERMSIG(st));
	else
		snprintf(err, errlen, "%s: libtracecmd cannot read it (truncated, corrupt, or a compression "
				      "it does not support)", path);
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
			warn(im, "%s has no field '%s': its records are skipped", tp->def->name, name);
		}
	}
	enum tp_kind k = tp->def->kind;
	if (tp->usable && (k == TP_KMALLOC || k == TP_CACHE_ALLOC || k == TP_PAGE_ALLOC) &&
	    gfp_xlate_build(&tp->gfp, tp->ev, "gfp_flags"))
		warn(im, "%s prints no gfp flag table: its gfp flags are imported as 0%s", tp->def->name, "");
	if (tp->usable && k == TP_CACHE_ALLOC && !tp->f[5])
		warn(im, "%s has no cache name (older kernels, e.g. 6.1): caches are named cache-<bytes_alloc>%s",
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
	for (int i = 0; i < NR_DEFS; i++) {
		struct tp *tp = &im->tps[i];
		tp->def = &tp_defs[i];
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
			warn(im, "no sys_exit_%s: %s results unknown (every call taken as successful; "
				 "mmap addresses marked unknown)", sc_names[s], sc_names[s]);
		else if (!im->sc_enter[s] && im->sc_exit[s])
			warn(im, "no sys_enter_%s: %s calls cannot be imported", sc_names[s], sc_names[s]);
		else if (!im->sc_enter[s])
			warn(im, "no %s syscalls recorded: %s absent from the replay", sc_names[s], sc_names[s]);
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
		for (int k = 0; k < NR_DEFS; k++)
			if (im->tps[k].ev && im->tps[k].usable && strcmp(im->tps[k].def->name, e) == 0)
				have = true;
		if (have) {
			present++;
		} else if (len + strlen(e) + 5 < sizeof(buf)) {
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? "," : "", e);
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
	if (im->tps[NR_DEFS - 1].ev)
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
		snprintf(st->counted[i].name, sizeof(st->counted[i].name), "%s:%s", ev->system, ev->name);
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
		fprintf(stderr, "mmreplay import: %s: skipped %" PRIu64 " records of %s:%s (not used)\n",
			im->path, im->unknown_by_id[id], ev ? ev->system : "?", ev ? ev->name : "?");
	}
}

int trace_import(const char *path, const struct import_opts *opts, const struct import_sink *sink,
		 struct trace_origin *origin, struct import_stats *stats, char *err, size_t errlen)
{
	static const struct import_opts defaults;
	struct importer im = {.path = path, .opts = opts ? opts : &defaults, .sink = sink,
			      .st = stats, .err = err, .errlen = errlen};
	memset(stats, 0, sizeof(*stats));
	err[0] = 0;
	unsigned version = 0;
	if (check_file(path, &version, err, errlen) || (version < 7 && probe_in_child(path, err, errlen)))
		return -1;
	/* libtracecmd and libtraceevent print their own diagnostics; ours name the file. */
	tracecmd_set_loglevel(TEP_LOG_NONE);
	tep_set_loglevel(TEP_LOG_NONE);
	struct tracecmd_input *h = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!h) {
		snprintf(err, errlen, "%s: libtracecmd cannot read it (truncated, corrupt, or a compression "
				      "it does not support)", path);
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
		warn(&im, "has %s extra buffer instance(s); only the top buffer is imported%s", "", "");
	clock_gettime(CLOCK_MONOTONIC, &im.t0);
	if (tracecmd_iterate_events(h, NULL, 0, on_record, &im) < 0) {
		if (!err[0])
			snprintf(err, errlen, "%s: libtracecmd failed reading the event data after %" PRIu64
					      " records (truncated or corrupt)", path, stats->records);
		goto out;
	}
	if (opts && opts->progress)
		progress(&im, true);
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
