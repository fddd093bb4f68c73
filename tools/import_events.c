/* trace.dat records → mm_events: one converter per kind of tracepoint, and the per-task
 * state the mapping needs (pending syscalls, clone flags, the mm a thread shares, the last
 * brk). The mapping is documented in docs/IMPORT.md. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_internal.h"

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

static bool is_err(int64_t ret) { return ret < 0 && ret >= -LX_MAX_ERRNO; }

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
	static const uint8_t type[] = {[TP_KMALLOC] = EV_KMALLOC,
				       [TP_KFREE] = EV_KFREE,
				       [TP_CACHE_ALLOC] = EV_CACHE_ALLOC,
				       [TP_CACHE_FREE] = EV_CACHE_FREE};
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
		im->st->tlb_flush[reason >= 0 && reason < IMPORT_TLB_REASONS - 1
				      ? reason
				      : IMPORT_TLB_REASONS - 1]++;
		if ((int64_t)pages > 0) /* TLB_FLUSH_ALL is -1 */
			im->st->tlb_flush_pages += pages;
		return 0;
	}
	default:
		return 0;
	}
}

void import_progress(struct importer *im, bool last)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double el =
	    (double)(now.tv_sec - im->t0.tv_sec) + (double)(now.tv_nsec - im->t0.tv_nsec) / 1e9;
	if (!last && el < im->progress_next)
		return;
	im->progress_next = el + 0.5; /* twice a second */
	fprintf(stderr,
		"\rmmreplay import: %s: %.1f M records, trace time %.3f s, %.1f s elapsed%s",
		im->path, (double)im->st->records / 1e6, (double)im->last_ts / 1e9, el,
		last ? "\n" : "");
}

int import_on_record(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data)
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
	if (im->opts->progress && (st->records & ((1u << 16) - 1)) == 0)
		import_progress(im, false);
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
