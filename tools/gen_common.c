/* Generator machinery: PRNG, scheduler, event emission, kernel object bookkeeping. */
#include "gen_common.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gfp.h"

/* ---- PRNG ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void gen_rng_seed(struct gen_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t gen_rng_next(struct gen_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* Lemire's multiply-high reduction; the bias (< n / 2^64) is irrelevant here. */
uint64_t gen_rng_below(struct gen_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)gen_rng_next(r) * n) >> 64);
}

double gen_rng_unit(struct gen_rng *r) { return (double)(gen_rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t gen_rng_exp(struct gen_rng *r, double mean)
{
	return (uint64_t)(-mean * log(1.0 - gen_rng_unit(r)));
}

uint64_t gen_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/* ---- errors, strings ---- */

void gen_fail(struct gen *g, const char *fmt, ...)
{
	if (g->failed)
		return;
	g->failed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->err, g->errlen, fmt, ap);
	va_end(ap);
}

uint32_t gen_intern(struct gen *g, const char *s)
{
	if (g->failed)
		return 0;
	uint32_t id = g->sink->intern(g->sink->ctx, s);
	if (id == UINT32_MAX) {
		gen_fail(g, "cannot intern string \"%s\"", s);
		return 0;
	}
	return id;
}

/* ---- scheduler: binary min-heap on (t, seq) ---- */

static bool actor_before(const struct gen_actor *a, const struct gen_actor *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

void gen_wake(struct gen *g, struct gen_actor *a, uint64_t delay_ns)
{
	if (a->queued)
		return;
	if (g->nheap == g->capheap) {
		uint32_t cap = g->capheap ? g->capheap * 2 : 64;
		struct gen_actor **h = realloc(g->heap, cap * sizeof(*h));
		if (!h) {
			gen_fail(g, "out of memory");
			return;
		}
		g->heap = h;
		g->capheap = cap;
	}
	a->queued = true;
	a->t = g->now + delay_ns;
	a->seq = g->seq++;
	uint32_t i = g->nheap++;
	while (i > 0) {
		uint32_t up = (i - 1) / 2;
		if (!actor_before(a, g->heap[up]))
			break;
		g->heap[i] = g->heap[up];
		i = up;
	}
	g->heap[i] = a;
}

static struct gen_actor *heap_pop(struct gen *g)
{
	struct gen_actor *top = g->heap[0];
	struct gen_actor *last = g->heap[--g->nheap];
	uint32_t i = 0, n = g->nheap;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && actor_before(g->heap[c + 1], g->heap[c]))
			c++;
		if (!actor_before(g->heap[c], last))
			break;
		g->heap[i] = g->heap[c];
		i = c;
	}
	if (n)
		g->heap[i] = last;
	return top;
}

void gen_loop(struct gen *g)
{
	while (g->nheap && !g->failed) {
		struct gen_actor *a = heap_pop(g);
		a->queued = false;
		if (a->t > g->now)
			g->now = a->t;
		a->step(g, a);
	}
}

/* ---- events ---- */

void gen_emit(struct gen *g, const struct gproc *p, struct mm_event *ev)
{
	if (g->failed)
		return;
	ev->ts = g->now;
	ev->pid = p ? p->pid : GEN_INIT_PID;
	ev->cpu = p ? p->cpu : 0;
	/* Each event costs the CPU a little time; keeps timestamps distinct and ordered. */
	g->now += 40 + (gen_rng_next(&g->clock_rng) & 63);
	if (g->sink->put(g->sink->ctx, ev)) {
		gen_fail(g, "sink refused event %llu", (unsigned long long)g->nevents);
		return;
	}
	g->nevents++;
}

static void ev_init(struct mm_event *ev, enum mm_event_type t)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = (uint8_t)t;
}

void gen_mark(struct gen *g, const struct gproc *p, uint32_t name)
{
	struct mm_event ev;
	ev_init(&ev, EV_MARK);
	ev.u.mark.name = name;
	gen_emit(g, p, &ev);
}

void gen_comm(struct gen *g, const struct gproc *p, uint32_t name)
{
	struct mm_event ev;
	ev_init(&ev, EV_COMM);
	ev.u.comm.name = name;
	gen_emit(g, p, &ev);
}

void gen_oom_adj(struct gen *g, const struct gproc *p, int32_t adj)
{
	struct mm_event ev;
	ev_init(&ev, EV_SET_OOM_SCORE_ADJ);
	ev.u.adj.value = adj;
	gen_emit(g, p, &ev);
}

/* ---- kernel objects ---- */

/* kmalloc size classes: mm/slab_common.c kmalloc_info (x86: KMALLOC_MIN_SIZE 8, with the
 * 96 and 192 byte caches), KMALLOC_MAX_CACHE_SIZE 8192 (slub.c, PAGE_SHIFT + 1). */
static const uint32_t kmalloc_sizes[13] = {8,	16,  32,   64,	 96,   128, 192,
					   256, 512, 1024, 2048, 4096, 8192};

static int kmalloc_class(uint32_t size)
{
	for (int i = 0; i < 13; i++)
		if (size <= kmalloc_sizes[i])
			return KC_KMALLOC_8 + i;
	return KC_KMALLOC_LARGE;
}

static uint64_t kptr_alloc(struct gen *g, enum gen_cache c, uint32_t bytes_alloc)
{
	struct kcache *k = &g->cache[c];
	if (k->nfree)
		return k->free[--k->nfree];
	if (c == KC_KMALLOC_LARGE) {
		uint64_t p = g->kptr_large_next;
		g->kptr_large_next += page_up(bytes_alloc);
		return p;
	}
	uint64_t p = g->kptr_next;
	g->kptr_next += (bytes_alloc + 7) & ~7u;
	return p;
}

static void kptr_release(struct gen *g, enum gen_cache c, uint64_t ptr)
{
	struct kcache *k = &g->cache[c];
	if (c == KC_KMALLOC_LARGE)
		return; /* sizes differ: never reuse a large address for another size */
	if (k->nfree == k->cap) {
		uint32_t cap = k->cap ? k->cap * 2 : 256;
		uint64_t *f = realloc(k->free, cap * sizeof(*f));
		if (!f) {
			gen_fail(g, "out of memory");
			return;
		}
		k->free = f;
		k->cap = cap;
	}
	k->free[k->nfree++] = ptr;
}

/* get_order(size) pages: ___kmalloc_large_node traces bytes_alloc = PAGE_SIZE << order. */
static uint32_t large_bytes(uint32_t size)
{
	uint32_t b = (uint32_t)PAGE_SZ;
	while (b < size)
		b <<= 1;
	return b;
}

uint64_t gen_kmalloc(struct gen *g, const struct gproc *p, uint32_t size, uint32_t gfp,
		     uint64_t call_site)
{
	int c = kmalloc_class(size);
	uint32_t alloc = c == KC_KMALLOC_LARGE ? large_bytes(size) : g->cache[c].obj_size;
	struct mm_event ev;
	ev_init(&ev, EV_KMALLOC);
	ev.u.kmem.ptr = kptr_alloc(g, (enum gen_cache)c, alloc);
	ev.u.kmem.call_site = call_site;
	ev.u.kmem.bytes_req = size;
	ev.u.kmem.bytes_alloc = alloc;
	ev.u.kmem.gfp = c == KC_KMALLOC_LARGE ? gfp | __GFP_COMP : gfp;
	gen_emit(g, p, &ev);
	return ev.u.kmem.ptr;
}

void gen_kfree(struct gen *g, const struct gproc *p, uint64_t ptr, uint32_t size,
	       uint64_t call_site)
{
	struct mm_event ev;
	ev_init(&ev, EV_KFREE);
	ev.u.kmem.ptr = ptr;
	ev.u.kmem.call_site = call_site;
	gen_emit(g, p, &ev);
	kptr_release(g, (enum gen_cache)kmalloc_class(size), ptr);
}

uint64_t gen_cache_alloc(struct gen *g, const struct gproc *p, enum gen_cache c, uint32_t gfp)
{
	struct kcache *k = &g->cache[c];
	struct mm_event ev;
	ev_init(&ev, EV_CACHE_ALLOC);
	ev.u.kmem.ptr = kptr_alloc(g, c, k->obj_size);
	ev.u.kmem.call_site = 0xc1100000ull + (uint64_t)c * 0x40;
	ev.u.kmem.bytes_req = k->obj_size;
	ev.u.kmem.bytes_alloc = k->obj_size;
	ev.u.kmem.gfp = gfp;
	ev.u.kmem.cache = k->name_id;
	gen_emit(g, p, &ev);
	return ev.u.kmem.ptr;
}

void gen_cache_free(struct gen *g, const struct gproc *p, enum gen_cache c, uint64_t ptr)
{
	struct mm_event ev;
	ev_init(&ev, EV_CACHE_FREE);
	ev.u.kmem.ptr = ptr;
	ev.u.kmem.cache = g->cache[c].name_id;
	gen_emit(g, p, &ev);
	kptr_release(g, c, ptr);
}

/* A busy kernel's kmalloc traffic is dominated by small objects; a tail of buffers up to a
 * few pages, rarely beyond KMALLOC_MAX_CACHE_SIZE. */
uint32_t gen_kmalloc_size(struct gen_rng *r)
{
	uint64_t x = gen_rng_below(r, 1000);
	if (x < 450)
		return (uint32_t)gen_rng_range(r, 8, 96);
	if (x < 750)
		return (uint32_t)gen_rng_range(r, 97, 256);
	if (x < 900)
		return (uint32_t)gen_rng_range(r, 257, 1024);
	if (x < 985)
		return (uint32_t)gen_rng_range(r, 1025, 4096);
	if (x < 997)
		return (uint32_t)gen_rng_range(r, 4097, 8192);
	return (uint32_t)gen_rng_range(r, 8193, 65536);
}

/* Live vmalloc areas, first fit from the bottom of a window standing for i386's vmalloc
 * space (alloc_vmap_area: lowest match). Every area keeps a one-page guard hole after it,
 * as __get_vm_area_node adds one. When the window is full the areas continue above 4 GiB:
 * the addresses are identifiers to the engine, which places areas itself. */
#define GEN_VMALLOC_START 0xf8000000ull
#define GEN_VMALLOC_END 0xff000000ull

uint64_t gen_vmalloc(struct gen *g, const struct gproc *p, uint64_t size, uint64_t caller)
{
	uint64_t need = page_up(size) + PAGE_SZ, high = 1ull << 32;
	uint64_t at = GEN_VMALLOC_START;
	uint32_t i = 0;
	for (; i < g->nvarea; i++) {
		if (at < high && at + need > GEN_VMALLOC_END)
			at = high;
		if (g->varea[i][0] >= at + need)
			break;
		if (g->varea[i][1] > at)
			at = g->varea[i][1];
	}
	if (at < high && at + need > GEN_VMALLOC_END)
		at = high;
	if (g->nvarea == g->capvarea) {
		uint32_t cap = g->capvarea ? g->capvarea * 2 : 64;
		uint64_t(*v)[2] = realloc(g->varea, cap * sizeof(*v));
		if (!v) {
			gen_fail(g, "out of memory");
			return 0;
		}
		g->varea = v;
		g->capvarea = cap;
	}
	memmove(&g->varea[i + 1], &g->varea[i], (g->nvarea - i) * sizeof(g->varea[0]));
	g->varea[i][0] = at;
	g->varea[i][1] = at + need;
	g->nvarea++;
	struct mm_event ev;
	ev_init(&ev, EV_VMALLOC);
	ev.u.vmalloc.addr = at;
	ev.u.vmalloc.size = size;
	ev.u.vmalloc.caller = caller;
	gen_emit(g, p, &ev);
	return at;
}

void gen_vfree(struct gen *g, const struct gproc *p, uint64_t addr)
{
	uint32_t lo = 0, hi = g->nvarea;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (g->varea[mid][0] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == g->nvarea || g->varea[lo][0] != addr) {
		gen_fail(g, "internal: vfree of unknown area %#llx", (unsigned long long)addr);
		return;
	}
	memmove(&g->varea[lo], &g->varea[lo + 1], (g->nvarea - lo - 1) * sizeof(g->varea[0]));
	g->nvarea--;
	struct mm_event ev;
	ev_init(&ev, EV_VFREE);
	ev.u.vmalloc.addr = addr;
	gen_emit(g, p, &ev);
}

/* Object sizes of the named caches: typical i386 values from /proc/slabinfo of 6.x kernels
 * (objsize column); only their relative weight matters to the replay. */
static const struct {
	const char *name;
	uint32_t size;
} named_caches[KC_NR - KC_TASK_STRUCT] = {
    [KC_TASK_STRUCT - KC_TASK_STRUCT] = {"task_struct", 3456},
    [KC_MM_STRUCT - KC_TASK_STRUCT] = {"mm_struct", 640},
    [KC_VM_AREA_STRUCT - KC_TASK_STRUCT] = {"vm_area_struct", 104},
    [KC_ANON_VMA - KC_TASK_STRUCT] = {"anon_vma", 56},
    [KC_SIGNAL_CACHE - KC_TASK_STRUCT] = {"signal_cache", 640},
    [KC_SIGHAND_CACHE - KC_TASK_STRUCT] = {"sighand_cache", 1344},
    [KC_FILES_CACHE - KC_TASK_STRUCT] = {"files_cache", 320},
    [KC_FS_CACHE - KC_TASK_STRUCT] = {"fs_cache", 64},
    [KC_CRED_JAR - KC_TASK_STRUCT] = {"cred_jar", 128},
    [KC_NAMES_CACHE - KC_TASK_STRUCT] = {"names_cache", 4096},
    [KC_DENTRY - KC_TASK_STRUCT] = {"dentry", 136},
    [KC_INODE_CACHE - KC_TASK_STRUCT] = {"inode_cache", 392},
    [KC_EXT4_INODE - KC_TASK_STRUCT] = {"ext4_inode_cache", 704},
    [KC_FILP - KC_TASK_STRUCT] = {"filp", 192},
    [KC_BUFFER_HEAD - KC_TASK_STRUCT] = {"buffer_head", 72},
    [KC_RADIX_TREE_NODE - KC_TASK_STRUCT] = {"radix_tree_node", 304},
    [KC_SKBUFF_HEAD - KC_TASK_STRUCT] = {"skbuff_head_cache", 192},
    [KC_SOCK_INODE - KC_TASK_STRUCT] = {"sock_inode_cache", 448},
    [KC_PID - KC_TASK_STRUCT] = {"pid", 64},
    [KC_KMALLOC_LARGE - KC_TASK_STRUCT] = {"kmalloc-large", 0},
};

void gen_init(struct gen *g, struct event_sink *sink, uint64_t seed, uint32_t ncpus, char *err,
	      size_t errlen)
{
	memset(g, 0, sizeof(*g));
	g->sink = sink;
	g->ncpus = ncpus;
	g->next_pid = 1000;
	g->err = err;
	g->errlen = errlen;
	gen_rng_seed(&g->clock_rng, seed ^ 0x636c6f636bull);
	/* Fake kernel addresses: slab objects in lowmem, large kmallocs page aligned apart. */
	g->kptr_next = 0xc2000000ull;
	g->kptr_large_next = 0xd0000000ull;
	for (int i = 0; i < 13; i++) {
		g->cache[KC_KMALLOC_8 + i].obj_size = kmalloc_sizes[i];
		g->cache[KC_KMALLOC_8 + i].name = "kmalloc";
	}
	g->id_ld = gen_intern(g, "/lib/ld-linux.so.2");
	g->id_libc = gen_intern(g, "/lib/i386-linux-gnu/libc.so.6");
	for (int c = KC_TASK_STRUCT; c < KC_NR; c++) {
		g->cache[c].name = named_caches[c - KC_TASK_STRUCT].name;
		g->cache[c].obj_size = named_caches[c - KC_TASK_STRUCT].size;
		if (c != KC_KMALLOC_LARGE)
			g->cache[c].name_id = gen_intern(g, g->cache[c].name);
	}
}

void gen_destroy(struct gen *g)
{
	for (int c = 0; c < KC_NR; c++)
		free(g->cache[c].free);
	free(g->heap);
	free(g->varea);
	while (g->all_procs) {
		struct gproc *p = g->all_procs;
		g->all_procs = p->next_all;
		free(p);
	}
	while (g->all_mms) {
		struct gmm *m = g->all_mms;
		g->all_mms = m->next_all;
		free(m->vma);
		free(m);
	}
}
