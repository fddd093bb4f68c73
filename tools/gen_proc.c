/* Generator tasks and address spaces: fork/exec/exit with the kernel objects the kernel
 * allocates for them, and a top-down mmap placer per mm (i386 layout). */
#include <stdlib.h>
#include <string.h>

#include "gen_common.h"
#include "gfp.h"

static void ev_init(struct mm_event *ev, enum mm_event_type t)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = (uint8_t)t;
}

/* ---- vma arrays ---- */

static uint32_t vma_index(const struct gmm *mm, uint64_t addr)
{
	uint32_t lo = 0, hi = mm->nvma;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (mm->vma[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo; /* first vma ending above addr */
}

const struct gvma *gproc_find_vma(const struct gproc *p, uint64_t addr)
{
	uint32_t i = vma_index(p->mm, addr);
	if (i < p->mm->nvma && p->mm->vma[i].start <= addr)
		return &p->mm->vma[i];
	return NULL;
}

static struct gvma *vma_insert(struct gen *g, struct gmm *mm, const struct gvma *v)
{
	if (mm->nvma == mm->cap) {
		uint32_t cap = mm->cap ? mm->cap * 2 : 32;
		struct gvma *a = realloc(mm->vma, cap * sizeof(*a));
		if (!a) {
			gen_fail(g, "out of memory");
			return NULL;
		}
		mm->vma = a;
		mm->cap = cap;
	}
	uint32_t i = vma_index(mm, v->start);
	memmove(&mm->vma[i + 1], &mm->vma[i], (mm->nvma - i) * sizeof(*v));
	mm->vma[i] = *v;
	mm->nvma++;
	return &mm->vma[i];
}

static void vma_remove(struct gmm *mm, uint32_t i)
{
	memmove(&mm->vma[i], &mm->vma[i + 1], (mm->nvma - i - 1) * sizeof(mm->vma[0]));
	mm->nvma--;
}

/* arch_get_unmapped_area_topdown: the highest gap below mmap_base that fits. */
static uint64_t find_gap(const struct gmm *mm, uint64_t len)
{
	uint64_t end = GEN_MMAP_BASE;
	for (uint32_t i = mm->nvma; i-- > 0;) {
		const struct gvma *v = &mm->vma[i];
		if (v->start >= end)
			continue;
		uint64_t lo = v->end > GEN_MMAP_FLOOR ? v->end : GEN_MMAP_FLOOR;
		if (end >= lo + len)
			return end - len;
		end = v->start;
		if (end <= GEN_MMAP_FLOOR)
			return 0;
	}
	return end >= GEN_MMAP_FLOOR + len ? end - len : 0;
}

/* ---- pools ---- */

static struct gmm *mm_new(struct gen *g)
{
	struct gmm *m = g->free_mms;
	if (m) {
		g->free_mms = m->next_free;
	} else {
		m = calloc(1, sizeof(*m));
		if (!m) {
			gen_fail(g, "out of memory");
			return NULL;
		}
		m->next_all = g->all_mms;
		g->all_mms = m;
	}
	struct gvma *keep = m->vma;
	uint32_t cap = m->cap;
	struct gmm *all = m->next_all;
	memset(m, 0, sizeof(*m));
	m->vma = keep;
	m->cap = cap;
	m->next_all = all;
	m->users = 1;
	return m;
}

static struct gproc *proc_new(struct gen *g)
{
	struct gproc *p = g->free_procs;
	if (p) {
		g->free_procs = p->next_free;
	} else {
		p = malloc(sizeof(*p));
		if (!p) {
			gen_fail(g, "out of memory");
			return NULL;
		}
		p->next_all = g->all_procs;
		g->all_procs = p;
	}
	struct gproc *all = p->next_all;
	memset(p, 0, sizeof(*p));
	p->next_all = all;
	return p;
}

/* exit_mmap / the mm half of exec: every vma, the anon_vma, the mm_struct. The frees run
 * in the context of ctx (the task dropping the last reference). */
static void mm_release(struct gen *g, const struct gproc *ctx, struct gmm *mm)
{
	if (--mm->users)
		return;
	for (uint32_t i = 0; i < mm->nvma; i++)
		gen_cache_free(g, ctx, KC_VM_AREA_STRUCT, mm->vma[i].kobj);
	if (mm->heap_kobj)
		gen_cache_free(g, ctx, KC_VM_AREA_STRUCT, mm->heap_kobj);
	if (mm->anon_kobj)
		gen_cache_free(g, ctx, KC_ANON_VMA, mm->anon_kobj);
	if (mm->mm_kobj)
		gen_cache_free(g, ctx, KC_MM_STRUCT, mm->mm_kobj);
	mm->nvma = 0;
	mm->next_free = g->free_mms;
	g->free_mms = mm;
}

/* ---- tasks ---- */

/* copy_process: task objects, then dup_mm (vma by vma), then the fork tracepoint. */
struct gproc *gproc_fork(struct gen *g, struct gen_rng *r, struct gproc *parent, bool thread)
{
	struct gproc *c = proc_new(g);
	if (!c)
		return NULL;
	c->pid = g->next_pid++;
	c->ppid = parent ? parent->pid : GEN_INIT_PID;
	c->cpu = (uint16_t)gen_rng_below(r, g->ncpus);
	c->thread = thread;
	c->kobj[TK_TASK] = gen_cache_alloc(g, parent, KC_TASK_STRUCT, GFP_KERNEL);
	c->kobj[TK_PID] = gen_cache_alloc(g, parent, KC_PID, GFP_KERNEL);
	if (thread) {
		c->mm = parent->mm;
		c->mm->users++;
	} else {
		c->kobj[TK_CRED] = gen_cache_alloc(g, parent, KC_CRED_JAR, GFP_KERNEL);
		c->kobj[TK_FILES] = gen_cache_alloc(g, parent, KC_FILES_CACHE, GFP_KERNEL);
		c->kobj[TK_FS] = gen_cache_alloc(g, parent, KC_FS_CACHE, GFP_KERNEL);
		c->kobj[TK_SIGHAND] = gen_cache_alloc(g, parent, KC_SIGHAND_CACHE, GFP_KERNEL);
		c->kobj[TK_SIGNAL] = gen_cache_alloc(g, parent, KC_SIGNAL_CACHE, GFP_KERNEL);
		c->mm = mm_new(g);
		if (!c->mm)
			return c;
		if (parent && parent->mm->mm_kobj) {
			const struct gmm *pm = parent->mm;
			struct gmm *m = c->mm;
			m->mm_kobj = gen_cache_alloc(g, parent, KC_MM_STRUCT, GFP_KERNEL);
			for (uint32_t i = 0; i < pm->nvma && !g->failed; i++) {
				struct gvma v = pm->vma[i];
				v.kobj = gen_cache_alloc(g, parent, KC_VM_AREA_STRUCT, GFP_KERNEL);
				vma_insert(g, m, &v);
			}
			if (pm->anon_kobj)
				m->anon_kobj = gen_cache_alloc(g, parent, KC_ANON_VMA, GFP_KERNEL);
			if (pm->heap_kobj)
				m->heap_kobj =
				    gen_cache_alloc(g, parent, KC_VM_AREA_STRUCT, GFP_KERNEL);
			m->start_brk = pm->start_brk;
			m->brk = pm->brk;
		}
	}
	struct mm_event ev;
	ev_init(&ev, EV_FORK);
	ev.u.fork.child = c->pid;
	ev.u.fork.flags = thread ? FORK_THREAD : 0;
	gen_emit(g, parent, &ev);
	return c;
}

static void map_fixed(struct gen *g, struct gproc *p, uint64_t addr, uint64_t len, uint16_t prot,
		      uint16_t flags, uint32_t file, uint64_t pgoff)
{
	struct gvma v = {.start = addr,
			 .end = addr + page_up(len),
			 .pgoff = pgoff,
			 .prot = prot,
			 .flags = flags,
			 .file = file};
	v.kobj = gen_cache_alloc(g, p, KC_VM_AREA_STRUCT, GFP_KERNEL);
	if (!vma_insert(g, p->mm, &v))
		return;
	struct mm_event ev;
	ev_init(&ev, EV_MMAP);
	ev.u.map.addr = v.start;
	ev.u.map.len = v.end - v.start;
	ev.u.map.pgoff = pgoff;
	ev.u.map.prot = prot;
	ev.u.map.flags = flags;
	ev.u.map.file = file;
	gen_emit(g, p, &ev);
}

/* A shared object: text r-x, data rw- (its first page made read-only again: RELRO), bss. */
static void map_library(struct gen *g, struct gproc *p, uint32_t file, uint64_t text, uint64_t data,
			uint64_t bss)
{
	const uint16_t priv = MM_MAP_PRIVATE;
	uint64_t base =
	    gproc_mmap(g, p, text + data + bss, MM_PROT_READ | MM_PROT_EXEC, priv, file, 0);
	if (!base)
		return;
	/* ld.so reserves the whole span, then maps the segments over it (MAP_FIXED) */
	gproc_munmap(g, p, base);
	map_fixed(g, p, base, text, MM_PROT_READ | MM_PROT_EXEC, priv, file, 0);
	map_fixed(g, p, base + text, data, MM_PROT_READ | MM_PROT_WRITE, priv | MM_MAP_FIXED, file,
		  text / PAGE_SZ);
	if (bss)
		map_fixed(g, p, base + text + data, bss, MM_PROT_READ | MM_PROT_WRITE,
			  priv | MM_MAP_ANON | MM_MAP_FIXED, 0, 0);
	gproc_mprotect(g, p, base + text, PAGE_SZ, MM_PROT_READ);
}

void gproc_exec(struct gen *g, struct gproc *p, const struct gbinary *bin, uint32_t path_id)
{
	/* do_execveat_common: getname() from names_cache, the linux_binprm */
	uint64_t name = gen_cache_alloc(g, p, KC_NAMES_CACHE, GFP_KERNEL);
	uint64_t bprm = gen_kmalloc(g, p, 380, GFP_KERNEL, 0xc1200010ull);
	struct mm_event ev;
	ev_init(&ev, EV_EXEC);
	ev.u.exec.filename = path_id;
	gen_emit(g, p, &ev);
	/* exec_mmap: the old mm goes, a fresh one comes */
	mm_release(g, p, p->mm);
	p->mm = mm_new(g);
	if (!p->mm)
		return;
	struct gmm *m = p->mm;
	m->mm_kobj = gen_cache_alloc(g, p, KC_MM_STRUCT, GFP_KERNEL);
	m->anon_kobj = gen_cache_alloc(g, p, KC_ANON_VMA, GFP_KERNEL);
	uint64_t text = page_up((uint64_t)bin->text_kb << 10);
	uint64_t data = page_up((uint64_t)bin->data_kb << 10);
	uint64_t bss = page_up((uint64_t)bin->bss_kb << 10);
	const uint16_t priv = MM_MAP_PRIVATE;
	map_fixed(g, p, GEN_TEXT_START, text, MM_PROT_READ | MM_PROT_EXEC, priv, path_id, 0);
	map_fixed(g, p, GEN_TEXT_START + text, data, MM_PROT_READ | MM_PROT_WRITE, priv, path_id,
		  text / PAGE_SZ);
	if (bss)
		map_fixed(g, p, GEN_TEXT_START + text + data, bss, MM_PROT_READ | MM_PROT_WRITE,
			  priv | MM_MAP_ANON, 0, 0);
	/* setup_arg_pages: 128 KiB of stack plus the arguments page */
	map_fixed(g, p, GEN_STACK_TOP - 33 * PAGE_SZ, 33 * PAGE_SZ, MM_PROT_READ | MM_PROT_WRITE,
		  priv | MM_MAP_ANON | MM_MAP_GROWSDOWN | MM_MAP_STACK, 0, 0);
	m->start_brk = m->brk = GEN_TEXT_START + text + data + bss;
	gen_cache_free(g, p, KC_NAMES_CACHE, name);
	gen_kfree(g, p, bprm, 380, 0xc1200020ull);
	/* the argument strings and first stack frames */
	gproc_touch(g, p, GEN_STACK_TOP - 2 * PAGE_SZ, 2 * PAGE_SZ, FAULT_WRITE);
	map_library(g, p, g->id_ld, 148 * 1024, 8 * 1024, 0);
	map_library(g, p, g->id_libc, 1664 * 1024, 12 * 1024, 40 * 1024);
}

void gproc_exit(struct gen *g, struct gproc *p)
{
	mm_release(g, p, p->mm);
	static const enum gen_cache tk_cache[TK_NR] = {
	    [TK_TASK] = KC_TASK_STRUCT,
	    [TK_SIGNAL] = KC_SIGNAL_CACHE,
	    [TK_SIGHAND] = KC_SIGHAND_CACHE,
	    [TK_FILES] = KC_FILES_CACHE,
	    [TK_FS] = KC_FS_CACHE,
	    [TK_CRED] = KC_CRED_JAR,
	    [TK_PID] = KC_PID,
	};
	/* The task's own objects are freed before its exit event here; the kernel frees
	 * task_struct later from RCU (docs/WORKLOADS.md). */
	for (int k = TK_NR; k-- > 0;)
		if (p->kobj[k])
			gen_cache_free(g, p, tk_cache[k], p->kobj[k]);
	struct mm_event ev;
	ev_init(&ev, EV_EXIT);
	gen_emit(g, p, &ev);
	p->next_free = g->free_procs;
	g->free_procs = p;
}

/* ---- address space operations ---- */

uint64_t gproc_mmap(struct gen *g, struct gproc *p, uint64_t len, uint16_t prot, uint16_t flags,
		    uint32_t file, uint64_t pgoff)
{
	len = page_up(len);
	uint64_t addr = find_gap(p->mm, len);
	if (!addr) {
		gen_fail(g, "internal: pid %u address space exhausted (mmap of %llu KiB)", p->pid,
			 (unsigned long long)(len >> 10));
		return 0;
	}
	map_fixed(g, p, addr, len, prot, flags, file, pgoff);
	return addr;
}

void gproc_munmap(struct gen *g, struct gproc *p, uint64_t start)
{
	uint32_t i = vma_index(p->mm, start);
	if (i == p->mm->nvma || p->mm->vma[i].start != start) {
		gen_fail(g, "internal: munmap of %#llx: no vma", (unsigned long long)start);
		return;
	}
	struct gvma v = p->mm->vma[i];
	vma_remove(p->mm, i);
	struct mm_event ev;
	ev_init(&ev, EV_MUNMAP);
	ev.u.range.addr = v.start;
	ev.u.range.len = v.end - v.start;
	gen_emit(g, p, &ev);
	gen_cache_free(g, p, KC_VM_AREA_STRUCT, v.kobj);
}

void gproc_mprotect(struct gen *g, struct gproc *p, uint64_t start, uint64_t len, uint16_t prot)
{
	uint32_t i = vma_index(p->mm, start);
	if (i == p->mm->nvma || p->mm->vma[i].start != start) {
		gen_fail(g, "internal: mprotect of %#llx: no vma", (unsigned long long)start);
		return;
	}
	len = page_up(len);
	struct gvma *v = &p->mm->vma[i];
	if (len < v->end - v->start) {
		/* split_vma: the tail keeps the old protection in a new vm_area_struct */
		struct gvma tail = *v;
		tail.start = start + len;
		if (tail.file)
			tail.pgoff += len / PAGE_SZ;
		tail.kobj = gen_cache_alloc(g, p, KC_VM_AREA_STRUCT, GFP_KERNEL);
		v->end = start + len;
		v->prot = prot;
		vma_insert(g, p->mm, &tail);
	} else {
		v->prot = prot;
	}
	struct mm_event ev;
	ev_init(&ev, EV_MPROTECT);
	ev.u.range.addr = start;
	ev.u.range.len = len;
	ev.u.range.prot = prot;
	gen_emit(g, p, &ev);
}

uint64_t gproc_mremap(struct gen *g, struct gproc *p, uint64_t start, uint64_t new_len)
{
	struct gmm *m = p->mm;
	uint32_t i = vma_index(m, start);
	if (i == m->nvma || m->vma[i].start != start) {
		gen_fail(g, "internal: mremap of %#llx: no vma", (unsigned long long)start);
		return 0;
	}
	new_len = page_up(new_len);
	struct gvma v = m->vma[i];
	uint64_t old_len = v.end - v.start;
	uint64_t limit = i + 1 < m->nvma ? m->vma[i + 1].start : GEN_MMAP_BASE;
	uint64_t to = start;
	if (new_len <= old_len || start + new_len <= limit) {
		m->vma[i].end = start + new_len;
	} else {
		/* move_vma: a copy of the vma at the new place, the old one freed */
		vma_remove(m, i);
		to = find_gap(m, new_len);
		if (!to) {
			vma_insert(g, m, &v);
			gen_fail(g, "internal: pid %u address space exhausted (mremap)", p->pid);
			return 0;
		}
		uint64_t old_kobj = v.kobj;
		v.kobj = gen_cache_alloc(g, p, KC_VM_AREA_STRUCT, GFP_KERNEL);
		v.start = to;
		v.end = to + new_len;
		vma_insert(g, m, &v);
		gen_cache_free(g, p, KC_VM_AREA_STRUCT, old_kobj);
	}
	struct mm_event ev;
	ev_init(&ev, EV_MREMAP);
	ev.u.remap.old_addr = start;
	ev.u.remap.old_len = old_len;
	ev.u.remap.new_addr = to;
	ev.u.remap.new_len = new_len;
	gen_emit(g, p, &ev);
	return to;
}

void gproc_brk(struct gen *g, struct gproc *p, uint64_t new_brk)
{
	struct gmm *m = p->mm;
	if (new_brk < m->start_brk || new_brk >= GEN_MMAP_FLOOR) {
		gen_fail(g, "internal: brk %#llx out of the heap range",
			 (unsigned long long)new_brk);
		return;
	}
	if (!m->heap_kobj && new_brk > m->start_brk)
		m->heap_kobj = gen_cache_alloc(g, p, KC_VM_AREA_STRUCT, GFP_KERNEL);
	struct mm_event ev;
	ev_init(&ev, EV_BRK);
	ev.u.brk.addr = new_brk;
	ev.u.brk.old = m->brk;
	gen_emit(g, p, &ev);
	m->brk = new_brk;
}

void gproc_touch(struct gen *g, struct gproc *p, uint64_t addr, uint64_t len, uint32_t access)
{
	struct mm_event ev;
	ev_init(&ev, EV_TOUCH);
	ev.u.touch.addr = addr;
	ev.u.touch.len = len;
	ev.u.touch.access = access;
	gen_emit(g, p, &ev);
}

void gproc_fault(struct gen *g, struct gproc *p, uint64_t addr, uint32_t access)
{
	struct mm_event ev;
	ev_init(&ev, EV_FAULT);
	ev.u.fault.addr = addr;
	ev.u.fault.access = access;
	gen_emit(g, p, &ev);
}

void gproc_maybe_migrate(struct gen *g, struct gen_rng *r, struct gproc *p)
{
	if (g->ncpus > 1 && gen_rng_below(r, 8) == 0)
		p->cpu = (uint16_t)gen_rng_below(r, g->ncpus);
}
