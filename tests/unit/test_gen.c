/* Workload generators: determinism, per-workload invariants checked against a reference
 * model of address spaces and kernel objects, parameter errors, and the gen command. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "gen.h"
#include "strtab.h"

/* ---- reference model ---- */

struct ival {
	uint64_t s, e;
	uint32_t prot;
};

struct cmm {
	struct ival *iv;
	size_t n, cap;
	uint64_t heap_s, heap_e;
	bool heap_known;
};

struct ctask {
	int state; /* 0 never seen, 1 alive, 2 exited */
	int mm;
};

struct kobj_slot {
	uint64_t key;
	uint32_t kind; /* 0 empty, 1 tombstone, 2 kmalloc, 3 vmalloc, 4+cache id */
};

struct checker {
	struct strtab strings;
	uint64_t hash;
	uint64_t n, counts[EV_NR_TYPES];
	uint64_t last_ts;
	uint32_t ncpus;
	struct ctask *task;
	size_t ntask;
	struct cmm *mm;
	size_t nmm, capmm;
	struct kobj_slot *ko;
	size_t kcap, kused;
	uint64_t live_tasks;
	char why[256];
	bool bad;
	bool check; /* false: only hash */
};

static void fail(struct checker *c, const struct mm_event *ev, const char *what)
{
	if (c->bad)
		return;
	c->bad = true;
	snprintf(c->why, sizeof(c->why), "event %llu (%s, pid %u, ts %llu): %s",
		 (unsigned long long)c->n, ev->type < EV_NR_TYPES ? mm_event_names[ev->type] : "?",
		 ev->pid, (unsigned long long)ev->ts, what);
}

static uint64_t mix64(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0x100000001b3ull;
}

static uint32_t sink_intern(void *ctx, const char *s)
{
	struct checker *c = ctx;
	for (const char *p = s; *p; p++)
		c->hash = mix64(c->hash, (unsigned char)*p);
	c->hash = mix64(c->hash, 0xff);
	return strtab_intern(&c->strings, s, strlen(s));
}

/* kernel object table: open addressing, linear probing, tombstones */
static struct kobj_slot *ko_find(struct checker *c, uint64_t key, bool for_insert)
{
	if (for_insert && (c->kused + 1) * 2 > c->kcap) {
		struct kobj_slot *old = c->ko;
		size_t oldcap = c->kcap;
		c->kcap = oldcap ? oldcap * 2 : 1024;
		c->ko = calloc(c->kcap, sizeof(*c->ko));
		c->kused = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].kind >= 2) {
				struct kobj_slot *s = ko_find(c, old[i].key, true);
				*s = old[i];
				c->kused++;
			}
		free(old);
	}
	if (!c->kcap)
		return NULL;
	size_t m = c->kcap - 1, i = (size_t)(key * 0x9e3779b97f4a7c15ull >> 20) & m;
	struct kobj_slot *tomb = NULL;
	for (;; i = (i + 1) & m) {
		struct kobj_slot *s = &c->ko[i];
		if (s->kind == 0)
			return for_insert ? (tomb ? tomb : s) : NULL;
		if (s->kind == 1) {
			if (!tomb)
				tomb = s;
			continue;
		}
		if (s->key == key)
			return s;
	}
}

static void ko_alloc(struct checker *c, const struct mm_event *ev, uint64_t key, uint32_t kind)
{
	struct kobj_slot *s = ko_find(c, key, false);
	if (s)
		return fail(c, ev, "allocation returns a pointer that is still live");
	s = ko_find(c, key, true);
	if (s->kind == 0)
		c->kused++;
	s->key = key;
	s->kind = kind;
}

static void ko_free(struct checker *c, const struct mm_event *ev, uint64_t key, uint32_t kind)
{
	struct kobj_slot *s = ko_find(c, key, false);
	if (!s)
		return fail(c, ev, "free of a pointer not allocated (or already freed)");
	if (s->kind != kind)
		return fail(c, ev, "free through the wrong allocator or cache");
	s->kind = 1;
}

static int new_mm(struct checker *c)
{
	if (c->nmm == c->capmm) {
		c->capmm = c->capmm ? c->capmm * 2 : 256;
		c->mm = realloc(c->mm, c->capmm * sizeof(*c->mm));
	}
	memset(&c->mm[c->nmm], 0, sizeof(c->mm[0]));
	return (int)c->nmm++;
}

static struct ctask *task(struct checker *c, uint32_t pid)
{
	if (pid >= c->ntask) {
		size_t n = c->ntask ? c->ntask : 4096;
		while (n <= pid)
			n *= 2;
		c->task = realloc(c->task, n * sizeof(*c->task));
		memset(c->task + c->ntask, 0, (n - c->ntask) * sizeof(*c->task));
		c->ntask = n;
	}
	return &c->task[pid];
}

/* Remove [a, b) from the interval set, splitting partially covered intervals. */
static void carve(struct cmm *m, uint64_t a, uint64_t b)
{
	size_t o = 0;
	struct ival extra = {0, 0, 0};
	bool have_extra = false;
	for (size_t i = 0; i < m->n; i++) {
		struct ival v = m->iv[i];
		if (v.e <= a || v.s >= b) {
			m->iv[o++] = v;
			continue;
		}
		if (v.s < a)
			m->iv[o++] = (struct ival){v.s, a, v.prot};
		if (v.e > b) {
			extra = (struct ival){b, v.e, v.prot};
			have_extra = true;
		}
	}
	m->n = o;
	if (have_extra) {
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 16;
			m->iv = realloc(m->iv, m->cap * sizeof(*m->iv));
		}
		m->iv[m->n++] = extra;
	}
}

static void add_ival(struct cmm *m, uint64_t a, uint64_t b, uint32_t prot)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->iv = realloc(m->iv, m->cap * sizeof(*m->iv));
	}
	m->iv[m->n++] = (struct ival){a, b, prot};
}

static bool overlaps(const struct cmm *m, uint64_t a, uint64_t b)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->iv[i].s < b && a < m->iv[i].e)
			return true;
	return m->heap_known && m->heap_s < b && a < m->heap_e;
}

/* Is [a, b) covered by mappings (and the heap) allowing access? */
static bool covered(const struct cmm *m, uint64_t a, uint64_t b, uint32_t need)
{
	while (a < b) {
		bool found = false;
		if (m->heap_known && a >= m->heap_s && a < m->heap_e) {
			a = m->heap_e;
			found = true;
		}
		for (size_t i = 0; !found && i < m->n; i++)
			if (a >= m->iv[i].s && a < m->iv[i].e) {
				if ((m->iv[i].prot & need) != need)
					return false;
				a = m->iv[i].e;
				found = true;
			}
		if (!found)
			return false;
	}
	return true;
}

static uint32_t access_prot(uint32_t access)
{
	if (access & FAULT_EXEC)
		return MM_PROT_EXEC;
	return access & FAULT_WRITE ? MM_PROT_WRITE : MM_PROT_READ;
}

static bool str_ok(const struct checker *c, uint32_t id)
{
	return id != 0 && id < c->strings.count;
}

static void check_event(struct checker *c, const struct mm_event *ev)
{
	if (ev->ts < c->last_ts)
		return fail(c, ev, "timestamp goes backwards");
	c->last_ts = ev->ts;
	if (ev->pid == 0)
		return fail(c, ev, "pid 0");
	if (ev->cpu >= c->ncpus)
		return fail(c, ev, "cpu out of range");
	if (ev->type == 0 || ev->type >= EV_NR_TYPES || ev->type == EV_PAGE_ALLOC ||
	    ev->type == EV_PAGE_FREE)
		return fail(c, ev, "bad event type");
	struct ctask *t = task(c, ev->pid);
	if (ev->pid == 1 && t->state == 0) {
		t->state = 1;
		t->mm = new_mm(c);
	}
	if (t->state == 0)
		return fail(c, ev, "event from a pid never forked");
	if (t->state == 2)
		return fail(c, ev, "event from a pid after its exit");
	struct cmm *m = &c->mm[t->mm];
	const uint64_t top = 0xc0000000ull;
	switch (ev->type) {
	case EV_FORK: {
		struct ctask *ch = task(c, ev->u.fork.child);
		if (ch->state != 0 || ev->u.fork.child == 0)
			return fail(c, ev, "fork child pid already used");
		ch->state = 1;
		if (ev->u.fork.flags & FORK_THREAD) {
			ch->mm = task(c, ev->pid)->mm;
		} else {
			int nm = new_mm(c);
			struct cmm *pm = &c->mm[task(c, ev->pid)->mm], *cm = &c->mm[nm];
			ch = task(c, ev->u.fork.child);
			ch->mm = nm;
			cm->heap_s = pm->heap_s;
			cm->heap_e = pm->heap_e;
			cm->heap_known = pm->heap_known;
			for (size_t i = 0; i < pm->n; i++)
				add_ival(cm, pm->iv[i].s, pm->iv[i].e, pm->iv[i].prot);
		}
		c->live_tasks++;
		break;
	}
	case EV_EXEC:
		if (!str_ok(c, ev->u.exec.filename))
			return fail(c, ev, "exec without a file name");
		t->mm = new_mm(c);
		break;
	case EV_EXIT:
		t->state = 2;
		if (ev->pid != 1)
			c->live_tasks--;
		break;
	case EV_MMAP: {
		uint64_t a = ev->u.map.addr, b = a + ev->u.map.len;
		if (ev->u.map.flags & MM_MAP_ADDR_UNKNOWN)
			return fail(c, ev, "generator left the address unknown");
		if (a % 4096 || ev->u.map.len % 4096 || !ev->u.map.len || b > top || a < 4096)
			return fail(c, ev,
				    "mmap range not page aligned or outside i386 user space");
		if (overlaps(m, a, b))
			return fail(c, ev, "mmap over an existing mapping");
		if (ev->u.map.file && !str_ok(c, ev->u.map.file))
			return fail(c, ev, "mmap of an unknown file id");
		if (!!ev->u.map.file == !!(ev->u.map.flags & MM_MAP_ANON))
			return fail(c, ev, "mmap must be anonymous or have a file");
		add_ival(m, a, b, ev->u.map.prot);
		break;
	}
	case EV_MUNMAP:
		if (!covered(m, ev->u.range.addr, ev->u.range.addr + ev->u.range.len, 0))
			return fail(c, ev, "munmap of a range not mapped");
		carve(m, ev->u.range.addr, ev->u.range.addr + ev->u.range.len);
		break;
	case EV_MPROTECT: {
		uint64_t a = ev->u.range.addr, b = a + ev->u.range.len;
		if (!covered(m, a, b, 0) || overlaps(&(struct cmm){.heap_known = m->heap_known,
								   .heap_s = m->heap_s,
								   .heap_e = m->heap_e},
						     a, b))
			return fail(c, ev, "mprotect of a range not mapped");
		carve(m, a, b);
		add_ival(m, a, b, ev->u.range.prot);
		break;
	}
	case EV_MREMAP: {
		const uint64_t oa = ev->u.remap.old_addr, ol = ev->u.remap.old_len;
		const uint64_t na = ev->u.remap.new_addr, nl = ev->u.remap.new_len;
		if (!covered(m, oa, oa + ol, 0))
			return fail(c, ev, "mremap of a range not mapped");
		uint32_t prot = 0;
		for (size_t i = 0; i < m->n; i++)
			if (m->iv[i].s <= oa && oa < m->iv[i].e)
				prot = m->iv[i].prot;
		carve(m, oa, oa + ol);
		if (na + nl > top || overlaps(m, na, na + nl))
			return fail(c, ev, "mremap onto a used range");
		add_ival(m, na, na + nl, prot);
		break;
	}
	case EV_BRK:
		if (!m->heap_known) {
			m->heap_known = true;
			m->heap_s = m->heap_e = ev->u.brk.old;
		}
		if (ev->u.brk.old != m->heap_e)
			return fail(c, ev, "brk.old is not the current break");
		if (ev->u.brk.addr < m->heap_s)
			return fail(c, ev, "brk below the heap start");
		m->heap_known = false; /* so the new heap does not overlap itself */
		if (overlaps(m, m->heap_s, ev->u.brk.addr))
			return fail(c, ev, "heap grows into a mapping");
		m->heap_known = true;
		m->heap_e = ev->u.brk.addr;
		break;
	case EV_FAULT:
		if (!covered(m, ev->u.fault.addr, ev->u.fault.addr + 1,
			     access_prot(ev->u.fault.access)))
			return fail(
			    c, ev, "fault outside the task's mappings or against their protection");
		break;
	case EV_TOUCH:
		if (!ev->u.touch.len ||
		    !covered(m, ev->u.touch.addr, ev->u.touch.addr + ev->u.touch.len,
			     access_prot(ev->u.touch.access)))
			return fail(
			    c, ev, "touch outside the task's mappings or against their protection");
		break;
	case EV_KMALLOC:
		if (ev->u.kmem.bytes_alloc < ev->u.kmem.bytes_req || !ev->u.kmem.ptr ||
		    ev->u.kmem.cache)
			return fail(c, ev, "bad kmalloc fields");
		ko_alloc(c, ev, ev->u.kmem.ptr, 2);
		break;
	case EV_KFREE:
		ko_free(c, ev, ev->u.kmem.ptr, 2);
		break;
	case EV_CACHE_ALLOC:
		if (!str_ok(c, ev->u.kmem.cache) || !ev->u.kmem.bytes_alloc)
			return fail(c, ev, "cache_alloc without a cache name or size");
		ko_alloc(c, ev, ev->u.kmem.ptr, 4 + ev->u.kmem.cache);
		break;
	case EV_CACHE_FREE:
		ko_free(c, ev, ev->u.kmem.ptr, 4 + ev->u.kmem.cache);
		break;
	case EV_VMALLOC:
		if (!ev->u.vmalloc.addr || !ev->u.vmalloc.size)
			return fail(c, ev, "vmalloc without address or size");
		ko_alloc(c, ev, ev->u.vmalloc.addr, 3);
		break;
	case EV_VFREE:
		ko_free(c, ev, ev->u.vmalloc.addr, 3);
		break;
	case EV_SET_OOM_SCORE_ADJ:
		if (ev->u.adj.value < -1000 || ev->u.adj.value > 1000)
			return fail(c, ev, "oom_score_adj out of range");
		break;
	case EV_COMM:
		if (!str_ok(c, ev->u.comm.name))
			return fail(c, ev, "comm without a name");
		break;
	case EV_MARK:
		if (!str_ok(c, ev->u.mark.name))
			return fail(c, ev, "mark without a name");
		break;
	}
}

static int sink_put(void *ctx, const struct mm_event *ev)
{
	struct checker *c = ctx;
	const unsigned char *b = (const unsigned char *)ev;
	for (size_t i = 0; i < sizeof(*ev); i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		c->hash = mix64(c->hash, w);
	}
	if (c->check && !c->bad)
		check_event(c, ev);
	c->counts[ev->type < EV_NR_TYPES ? ev->type : 0]++;
	c->n++;
	return 0;
}

static void checker_init(struct checker *c, bool check, uint32_t ncpus)
{
	memset(c, 0, sizeof(*c));
	strtab_init(&c->strings);
	c->hash = 0x1234;
	c->check = check;
	c->ncpus = ncpus;
}

static void checker_free(struct checker *c)
{
	for (size_t i = 0; i < c->nmm; i++)
		free(c->mm[i].iv);
	free(c->mm);
	free(c->task);
	free(c->ko);
	strtab_free(&c->strings);
}

static int run(struct checker *c, const char *wl, uint64_t seed, double scale,
	       const char *const *kv, int nkv, char *err, size_t errlen)
{
	struct event_sink sink = {c, sink_intern, sink_put};
	struct gen_params p = {seed, scale, kv, nkv};
	return gen_run(wl, &p, &sink, err, errlen);
}

/* ---- tests ---- */

static void check_workload(const char *wl, double scale)
{
	struct checker c;
	char err[512] = "";
	checker_init(&c, true, 2);
	int rc = run(&c, wl, 7, scale, NULL, 0, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s: %s", wl, err);
	cr_assert_not(c.bad, "%s: %s", wl, c.why);
	cr_assert_gt(c.n, 1000, "%s produced only %llu events", wl, (unsigned long long)c.n);
	cr_assert_eq(c.live_tasks, 0, "%s: %llu tasks never exited", wl,
		     (unsigned long long)c.live_tasks);
	cr_assert_gt(c.counts[EV_MARK], 0, "%s: no marks", wl);
	checker_free(&c);
}

Test(gen, shell_invariants) { check_workload("shell", 0.2); }
Test(gen, build_invariants) { check_workload("build", 0.1); }
Test(gen, db_invariants) { check_workload("db", 0.1); }
Test(gen, forkcow_invariants) { check_workload("forkcow", 0.2); }
Test(gen, slab_invariants) { check_workload("slab", 0.2); }
Test(gen, vmalloc_invariants) { check_workload("vmalloc", 0.5); }
Test(gen, leak_invariants) { check_workload("leak", 0.5); }

Test(gen, mix_invariants_and_every_event_type)
{
	struct checker c;
	char err[512] = "";
	const char *kv[] = {"cpus=4"};
	checker_init(&c, true, 4);
	cr_assert_eq(run(&c, "mix", 3, 0.1, kv, 1, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(c.bad, "mix: %s", c.why);
	cr_assert_eq(c.live_tasks, 0);
	for (int t = 1; t < EV_NR_TYPES; t++) {
		if (t == EV_PAGE_ALLOC || t == EV_PAGE_FREE)
			cr_assert_eq(c.counts[t], 0, "%s in a model-level trace",
				     mm_event_names[t]);
		else
			cr_assert_gt(c.counts[t], 0, "mix has no %s event", mm_event_names[t]);
	}
	/* every part announces itself */
	const char *marks[] = {"mix-start",	"shell-start", "build-start",	"db-start",
			       "forkcow-start", "slab-grow",   "vmalloc-start", "leak-start"};
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		cr_assert_neq(strtab_find(&c.strings, marks[i], strlen(marks[i])), UINT32_MAX,
			      "no mark %s", marks[i]);
	checker_free(&c);
}

Test(gen, the_checker_catches_bad_streams)
{
	/* the reference model itself must reject what it is there to reject */
	struct checker c;
	checker_init(&c, true, 2);
	uint32_t f = sink_intern(&c, "/bin/x");
	struct mm_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.ts = 10, ev.pid = 1, ev.type = EV_FORK, ev.u.fork.child = 100;
	sink_put(&c, &ev);
	memset(&ev.u, 0, sizeof(ev.u));
	ev.pid = 100, ev.type = EV_EXEC, ev.u.exec.filename = f;
	sink_put(&c, &ev);
	memset(&ev.u, 0, sizeof(ev.u));
	ev.type = EV_MMAP, ev.u.map.addr = 0x10000000, ev.u.map.len = 0x2000;
	ev.u.map.prot = MM_PROT_READ, ev.u.map.flags = MM_MAP_ANON | MM_MAP_PRIVATE;
	sink_put(&c, &ev);
	memset(&ev.u, 0, sizeof(ev.u));
	ev.type = EV_FAULT, ev.u.fault.addr = 0x10001000, ev.u.fault.access = FAULT_READ;
	sink_put(&c, &ev);
	cr_assert_not(c.bad, "%s", c.why);
	ev.u.fault.access = FAULT_WRITE; /* read-only mapping */
	sink_put(&c, &ev);
	cr_assert(c.bad);
	c.bad = false;
	ev.u.fault.addr = 0x10002000, ev.u.fault.access = FAULT_READ; /* past the end */
	sink_put(&c, &ev);
	cr_assert(c.bad);
	c.bad = false;
	memset(&ev.u, 0, sizeof(ev.u));
	ev.type = EV_KFREE, ev.u.kmem.ptr = 0xc0001000; /* never allocated */
	sink_put(&c, &ev);
	cr_assert(c.bad);
	c.bad = false;
	ev.type = EV_EXIT;
	sink_put(&c, &ev);
	ev.type = EV_MARK, ev.u.mark.name = f;
	sink_put(&c, &ev); /* after exit */
	cr_assert(c.bad);
	c.bad = false;
	ev.ts = 5, ev.pid = 1; /* backwards */
	sink_put(&c, &ev);
	cr_assert(c.bad);
	checker_free(&c);
}

static uint64_t stream_hash(const char *wl, uint64_t seed, double scale, uint64_t *n)
{
	struct checker c;
	char err[512] = "";
	checker_init(&c, false, 2);
	cr_assert_eq(run(&c, wl, seed, scale, NULL, 0, err, sizeof(err)), 0, "%s", err);
	uint64_t h = c.hash;
	*n = c.n;
	checker_free(&c);
	return h;
}

Test(gen, same_seed_same_stream_other_seed_other_stream)
{
	for (size_t i = 0; gen_workload_at(i); i++) {
		const char *wl = gen_workload_at(i)->name;
		double scale = strcmp(wl, "mix") == 0 ? 0.05 : 0.1;
		uint64_t n1, n2, n3;
		uint64_t h1 = stream_hash(wl, 42, scale, &n1);
		uint64_t h2 = stream_hash(wl, 42, scale, &n2);
		uint64_t h3 = stream_hash(wl, 43, scale, &n3);
		cr_assert_eq(n1, n2, "%s: event count differs between identical runs", wl);
		cr_assert_eq(h1, h2, "%s: stream differs between identical runs", wl);
		cr_assert_neq(h1, h3, "%s: seeds 42 and 43 give the same stream", wl);
	}
}

Test(gen, scale_changes_the_amount_of_work)
{
	uint64_t small, big;
	stream_hash("shell", 1, 0.05, &small);
	stream_hash("shell", 1, 0.2, &big);
	cr_assert_gt(big, small * 3, "scale 0.2 gave %llu events, 0.05 gave %llu",
		     (unsigned long long)big, (unsigned long long)small);
}

Test(gen, params_override_defaults)
{
	struct checker c;
	char err[512] = "";
	const char *kv[] = {"faults=1000", "threads=2", "size_mb=64", "cpus=3"};
	checker_init(&c, true, 3);
	cr_assert_eq(run(&c, "db", 1, 1.0, kv, 4, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(c.bad, "%s", c.why);
	/* 1000 scaled accesses, plus the handful of startup faults exec makes */
	cr_assert_geq(c.counts[EV_FAULT], 1000);
	cr_assert_lt(c.counts[EV_FAULT], 1100);
	cr_assert_eq(c.counts[EV_COMM], 2);
	checker_free(&c);
}

static void expect_error(const char *wl, const char *kv, double scale, const char *needle)
{
	struct checker c;
	char err[512] = "";
	const char *kvs[] = {kv};
	checker_init(&c, true, 2);
	int rc = run(&c, wl, 1, scale, kv ? kvs : NULL, kv ? 1 : 0, err, sizeof(err));
	cr_assert_eq(rc, -1, "%s %s accepted", wl, kv ? kv : "");
	cr_assert(strstr(err, needle), "error '%s' lacks '%s'", err, needle);
	cr_assert_eq(c.n, 0, "events were put before the error");
	checker_free(&c);
}

Test(gen, parameter_errors)
{
	expect_error("nosuch", NULL, 1, "unknown workload 'nosuch'; known: mix shell");
	expect_error("db", "nosuch=1", 1,
		     "unknown parameter 'nosuch' for workload db; known: size_mb");
	expect_error("db", "size_mb=abc", 1, "expected a whole number from 1 to 2048");
	expect_error("db", "size_mb=1.5", 1, "whole number");
	expect_error("db", "size_mb=99999", 1, "from 1 to 2048");
	expect_error("db", "write_pct=", 1, "expected a number");
	expect_error("db", "noequals", 1, "expected KEY=VALUE");
	expect_error("db", "shell.commands=5", 1, "only mix takes WORKLOAD.KEY");
	expect_error("mix", "db.nosuch=5", 1, "unknown parameter 'nosuch' for workload db");
	expect_error("mix", "nosuch.x=5", 1, "only mix takes");
	expect_error("mix", "db.cpus=5", 1, "unknown parameter 'cpus'");
	expect_error("shell", NULL, 0, "scale 0");
	expect_error("shell", NULL, -1, "above 0");
}

Test(gen, mix_forwards_part_parameters)
{
	struct checker c;
	char err[512] = "";
	const char *kv[] = {"shell=0",	 "build=0", "forkcow=0",     "slab=0",
			    "vmalloc=0", "leak=0",  "db.faults=500", "db.threads=1"};
	checker_init(&c, true, 2);
	cr_assert_eq(run(&c, "mix", 1, 1.0, kv, 8, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(c.bad, "%s", c.why);
	cr_assert_eq(c.counts[EV_COMM], 1);
	cr_assert_lt(c.counts[EV_FAULT], 600);
	cr_assert_eq(strtab_find(&c.strings, "shell-start", 11), UINT32_MAX);
	checker_free(&c);
}

Test(gen, list_and_describe)
{
	size_t n = 0;
	while (gen_workload_at(n))
		n++;
	cr_assert_eq(n, 8);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_eq(gen_describe("forkcow", f), 0);
	cr_assert_eq(gen_describe("nosuch", f), -1);
	fclose(f);
	cr_assert(strstr(buf, "heap_mb"));
	cr_assert(strstr(buf, "cpus"));
	free(buf);
}

/* ---- the gen command and the trace writer ---- */

#include "trace_io.h"

static const char *mmreplay_bin(void)
{
	const char *m = getenv("MMREPLAY");
	return m && *m ? m : "bin/mmreplay";
}

/* Runs mmreplay with args; stdout/stderr into files; returns the exit status. */
static int run_cmd(const char *const *args, const char *out, const char *errf)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (!freopen(out, "w", stdout) || !freopen(errf, "w", stderr))
			_exit(127);
		const char *argv[32];
		int n = 0;
		argv[n++] = mmreplay_bin();
		for (; args[n - 1]; n++)
			argv[n] = args[n - 1];
		argv[n] = NULL;
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return strdup("");
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return strdup(buf);
}

struct tmpdir {
	char dir[64], out[96], err[96];
};

static void tmpdir_make(struct tmpdir *t)
{
	strcpy(t->dir, "/tmp/test_gen.XXXXXX");
	cr_assert_not_null(mkdtemp(t->dir));
	snprintf(t->out, sizeof(t->out), "%s/stdout", t->dir);
	snprintf(t->err, sizeof(t->err), "%s/stderr", t->dir);
}

static void tmpdir_remove(struct tmpdir *t)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	cr_assert_eq(system(cmd), 0);
}

static void expect_usage(const char *const *args, const char *needle)
{
	struct tmpdir t;
	tmpdir_make(&t);
	char file[128];
	snprintf(file, sizeof(file), "%s/x.mmt", t.dir);
	const char *a[16];
	int n = 0;
	for (; args[n]; n++)
		a[n] = args[n];
	a[n++] = "-o";
	a[n++] = file;
	a[n] = NULL;
	cr_assert_eq(run_cmd(a, t.out, t.err), 2, "%s %s: not exit 2", args[0], args[1]);
	char *e = slurp(t.err);
	cr_assert(strstr(e, needle), "stderr '%s' lacks '%s'", e, needle);
	cr_assert(strchr(e, '\n') == e + strlen(e) - 1, "more than one line: %s", e);
	free(e);
	cr_assert_neq(access(file, F_OK), 0, "output written despite the error");
	tmpdir_remove(&t);
}

Test(gen_cmd, bad_input_is_exit_2_and_writes_nothing)
{
	expect_usage((const char *[]){"gen", "nosuch", NULL}, "unknown workload 'nosuch'");
	expect_usage((const char *[]){"gen", "db", "--param", "foo=1", NULL},
		     "unknown parameter 'foo' for workload db; known:");
	expect_usage((const char *[]){"gen", "db", "--param", "zipf=lots", NULL},
		     "--param zipf=lots: expected a number from 0 to 4");
	expect_usage((const char *[]){"gen", "db", "--seed", "-3", NULL}, "--seed -3");
	expect_usage((const char *[]){"gen", "db", "--scale", "0", NULL}, "--scale 0");
	expect_usage((const char *[]){"gen", "db", "--bogus", NULL}, "unknown option '--bogus'");
	expect_usage((const char *[]){"gen", "db", "--level", "13", NULL},
		     "--level 13: expected a whole number from 0 to 12");
}

Test(gen_cmd, list_and_help)
{
	struct tmpdir t;
	tmpdir_make(&t);
	cr_assert_eq(run_cmd((const char *[]){"gen", "--list", NULL}, t.out, t.err), 0);
	char *o = slurp(t.out);
	int lines = 0;
	for (char *p = o; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 8, "%s", o);
	cr_assert(strstr(o, "mix ") && strstr(o, "leak "));
	free(o);
	cr_assert_eq(run_cmd((const char *[]){"gen", "db", "--help", NULL}, t.out, t.err), 0);
	o = slurp(t.out);
	cr_assert(strstr(o, "size_mb") && strstr(o, "zipf"), "%s", o);
	free(o);
	tmpdir_remove(&t);
}

/* A hash of events with string ids replaced by the strings (ids may differ by writer). */
static uint64_t resolved_hash(uint64_t h, struct mm_event ev, const struct strtab *s)
{
	uint32_t *sid = trace_event_string(&ev);
	if (sid) {
		const char *str = strtab_get(s, *sid);
		uint64_t sh = 0;
		for (const char *p = str ? str : "?"; *p; p++)
			sh = mix64(sh, (unsigned char)*p);
		*sid = (uint32_t)sh;
	}
	ev._pad = 0;
	const unsigned char *b = (const unsigned char *)&ev;
	for (size_t i = 0; i < sizeof(ev); i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = mix64(h, w);
	}
	return h;
}

struct resolving_sink {
	struct strtab s;
	uint64_t h, n;
};

static uint32_t rs_intern(void *ctx, const char *s)
{
	return strtab_intern(&((struct resolving_sink *)ctx)->s, s, strlen(s));
}

static int rs_put(void *ctx, const struct mm_event *ev)
{
	struct resolving_sink *r = ctx;
	r->h = resolved_hash(r->h, *ev, &r->s);
	r->n++;
	return 0;
}

static long file_bytes(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return (long)st.st_size;
}

/* The uncompressed payload of a .mmt file (its gzip members' contents). */
static long payload_bytes(const char *path)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "gzip -dc %s | wc -c", path);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	long n = -1;
	cr_assert_eq(fscanf(p, "%ld", &n), 1);
	pclose(p);
	return n;
}

/* gen's trace written to name (--level level unless NULL) reads back as the generator's
 * own stream; returns the file's size. */
static long roundtrip(const char *name, const char *level)
{
	struct tmpdir t;
	tmpdir_make(&t);
	char file[128];
	snprintf(file, sizeof(file), "%s/%s", t.dir, name);
	const char *args[] = {"gen",	 "build",  "--seed", "5",  "--scale",	  "0.02",
			      "--param", "jobs=3", "-o",     file, level ? "--level" : NULL,
			      level,	 NULL};
	cr_assert_eq(run_cmd(args, t.out, t.err), 0, "%s", slurp(t.err));
	/* the same stream straight from the generator */
	struct resolving_sink direct;
	memset(&direct, 0, sizeof(direct));
	strtab_init(&direct.s);
	const char *kv[] = {"jobs=3"};
	struct gen_params p = {5, 0.02, kv, 1};
	struct event_sink sink = {&direct, rs_intern, rs_put};
	char err[512];
	cr_assert_eq(gen_run("build", &p, &sink, err, sizeof(err)), 0, "%s", err);
	/* and read back from the file */
	struct trace_reader *r = trace_reader_open(file, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	static struct mm_event buf[4096];
	uint64_t h = 0, n = 0;
	ssize_t got;
	while ((got = trace_reader_next(r, buf, 4096, err, sizeof(err))) > 0)
		for (ssize_t i = 0; i < got; i++, n++)
			h = resolved_hash(h, buf[i], trace_reader_strings(r));
	cr_assert_eq(got, 0, "%s", err);
	/* after reading: the text reader takes its origin lines as they come */
	const struct trace_origin *o = trace_reader_origin(r);
	cr_assert_str_eq(trace_origin_get(o, "generator"), "build");
	cr_assert_str_eq(trace_origin_get(o, "seed"), "5");
	cr_assert_str_eq(trace_origin_get(o, "scale"), "0.02");
	cr_assert_str_eq(trace_origin_get(o, "params"), "jobs=3");
	trace_reader_close(r);
	cr_assert_eq(n, direct.n);
	cr_assert_eq(h, direct.h, "%s: events read back differ from the generator's", name);
	strtab_free(&direct.s);
	long size = file_bytes(file);
	/* .mmt blocks are stored unless a level says otherwise: no smaller than their payload */
	if (strstr(name, ".mmt"))
		cr_assert((size >= payload_bytes(file)) == (!level || !strcmp(level, "0")),
			  "%s at level %s: %ld bytes for %ld of payload", name,
			  level ? level : "default", size, payload_bytes(file));
	tmpdir_remove(&t);
	return size;
}

Test(gen_cmd, mmt_round_trip) { roundtrip("b.mmt", NULL); }
Test(gen_cmd, text_round_trip) { roundtrip("b.txt", NULL); }

Test(gen_cmd, mmt_levels)
{
	long stored = roundtrip("b.mmt", "0"), packed = roundtrip("b.mmt", "6");
	cr_assert_eq(roundtrip("b.mmt", NULL), stored, "the default is not level 0");
	cr_assert_lt(packed, stored);
	/* text has no blocks: the level changes nothing */
	cr_assert_eq(roundtrip("b.txt", "6"), roundtrip("b.txt", NULL));
}

struct failing_sink {
	struct strtab s;
	uint64_t n, limit;
};

static uint32_t fs_intern(void *ctx, const char *s)
{
	return strtab_intern(&((struct failing_sink *)ctx)->s, s, strlen(s));
}

static int fs_put(void *ctx, const struct mm_event *ev)
{
	struct failing_sink *f = ctx;
	(void)ev;
	return ++f->n > f->limit ? -1 : 0;
}

/* A sink that refuses midway (disk full): generation stops at once and says why; ASan
 * checks that every workload's state is freed on that path. */
Test(gen, sink_failure_stops_generation)
{
	for (size_t i = 0; gen_workload_at(i); i++) {
		struct failing_sink f = {.limit = 1000};
		strtab_init(&f.s);
		struct event_sink sink = {&f, fs_intern, fs_put};
		struct gen_params p = {1, 0.1, NULL, 0};
		char err[256] = "";
		cr_assert_eq(gen_run(gen_workload_at(i)->name, &p, &sink, err, sizeof(err)), -1);
		cr_assert(strstr(err, "sink refused event 1000"), "%s", err);
		cr_assert_eq(f.n, 1001, "%s went on after the refusal", gen_workload_at(i)->name);
		strtab_free(&f.s);
	}
}
