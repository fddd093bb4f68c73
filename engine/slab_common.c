/* kmalloc size classes and caches, kmalloc_large, trace pointers → objects and call sites
 * (mm/slab_common.c, include/linux/slab.h). The renderers are in slub_report.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_table.h"
#include "slub_internal.h"
#include "vmstat.h"

enum { PTR_FREED, PTR_LIVE, PTR_FAILED };
_Static_assert(PTR_FREED == 0, "an empty (zeroed) pointer slot reads as not live");

/* ZERO_SIZE_PTR ((void *)16): kmalloc(0) returns it, kfree ignores it and NULL
 * (include/linux/slab.h ZERO_OR_NULL_PTR). */
#define ZERO_SIZE_PTR 16u

/* 64 - log2(mask + 1) for a power-of-two table */
static uint32_t table_shift(uint32_t mask) { return 64 - (32 - (uint32_t)__builtin_clz(mask)); }

/* __kmalloc_index (include/linux/slab.h) with KMALLOC_MIN_SIZE 8. */
int kmalloc_index(uint64_t size)
{
	if (!size)
		return 0;
	if (size <= KMALLOC_MIN_SIZE)
		return KMALLOC_SHIFT_LOW;
	if (size > 64 && size <= 96)
		return 1;
	if (size > 128 && size <= 192)
		return 2;
	if (size > KMALLOC_MAX_CACHE_SIZE)
		return -1;
	/* the smallest i with 2^i >= size: fls(size - 1), size > 8 here */
	return 64 - __builtin_clzll(size - 1);
}

unsigned kmalloc_index_size(int index) { return index == 1 ? 96 : index == 2 ? 192 : 1u << index; }

/* include/linux/slab.h:kmalloc_type [6.1]: DMA wins, then reclaimable, then accounted. */
enum kmalloc_cache_type kmalloc_type(gfp_t gfp)
{
	if (!(gfp & (__GFP_DMA | __GFP_RECLAIMABLE | __GFP_ACCOUNT)))
		return KMALLOC_NORMAL;
	if (gfp & __GFP_DMA)
		return KMALLOC_DMA;
	if (gfp & __GFP_RECLAIMABLE)
		return KMALLOC_RECLAIM;
	return KMALLOC_CGROUP;
}

/* mm/slab_common.c:kmalloc_info names: "kmalloc-8" … "kmalloc-512", "-1k", "-2k", … */
static void kmalloc_cache_name(char *buf, size_t len, enum kmalloc_cache_type t, int index)
{
	static const char *const prefix[NR_KMALLOC_TYPES] = {
	    [KMALLOC_NORMAL] = "kmalloc-",
	    [KMALLOC_CGROUP] = "kmalloc-cg-",
	    [KMALLOC_RECLAIM] = "kmalloc-rcl-",
	    [KMALLOC_DMA] = "dma-kmalloc-",
	};
	unsigned size = kmalloc_index_size(index);
	if (size >= 1024)
		snprintf(buf, len, "%s%uk", prefix[t], size / 1024);
	else
		snprintf(buf, len, "%s%u", prefix[t], size);
}

/* mm/slab_common.c:create_kmalloc_caches: every type, every index, created at boot in
 * index order 1..13 per type (the kernel loops types outside, indexes inside). */
static int create_kmalloc_caches(struct slub *s)
{
	static const uint32_t type_flags[NR_KMALLOC_TYPES] = {
	    [KMALLOC_NORMAL] = 0,
	    [KMALLOC_CGROUP] = SLAB_ACCOUNT,
	    [KMALLOC_RECLAIM] = SLAB_RECLAIM_ACCOUNT,
	    [KMALLOC_DMA] = SLAB_CACHE_DMA,
	};
	char name[32];

	for (int t = 0; t < NR_KMALLOC_TYPES; t++) {
		s->kmalloc_caches[t][0] = UINT16_MAX;
		for (int i = 1; i < KMALLOC_NR_INDEX; i++) {
			s->kmalloc_caches[t][i] = UINT16_MAX;
			kmalloc_cache_name(name, sizeof(name), (enum kmalloc_cache_type)t, i);
			int idx = slub_cache_create(s, name, kmalloc_index_size(i),
						    SLAB_KMALLOC | type_flags[t]);
			if (idx < 0)
				return -1;
			s->kmalloc_caches[t][i] = (uint16_t)idx;
		}
	}
	return 0;
}

int slub_init(struct slub *s, struct pglist_data *pgdat, const struct machine *m, uint64_t *vmstat)
{
	memset(s, 0, sizeof(*s));
	s->pgdat = pgdat;
	s->vmstat = vmstat;
	s->arch = m->cfg.arch;
	s->nr_cpus = m->cfg.nr_cpus ? m->cfg.nr_cpus : 1;
	s->name_mask = 255;
	s->name_shift = table_shift(s->name_mask);
	s->name_keys = calloc(s->name_mask + 1, sizeof(*s->name_keys));
	s->name_map = calloc(s->name_mask + 1, sizeof(*s->name_map));
	s->ptr_mask = (1u << 16) - 1;
	s->ptr_shift = table_shift(s->ptr_mask);
	s->ptrs = host_table_alloc((s->ptr_mask + 1) * sizeof(*s->ptrs), &s->ptrs_mem);
	s->site_mask = 2 * SLUB_MAX_SITES - 1;
	s->site_shift = table_shift(s->site_mask);
	s->sites = calloc(s->site_mask + 2, sizeof(*s->sites)); /* + the "other" slot */
	if (!s->name_keys || !s->name_map || !s->ptrs || !s->sites || create_kmalloc_caches(s) ||
	    slub_create_builtin(s)) {
		slub_destroy(s);
		return -1;
	}
	return 0;
}

int slub_cache_lookup(struct slub *s, const char *name, uint32_t size)
{
	for (uint32_t k = 0; k < s->nr_caches; k++)
		if (!strncmp(s->caches[k].name, name, sizeof(s->caches[k].name) - 1))
			return (int)k;
	return slub_cache_create(s, name, size, 0);
}

/* kmalloc_large (mm/slab_common.c [6.1] / slub.c [6.18] ___kmalloc_large_node): compound
 * pages of get_order(size), accounted as NR_SLAB_UNRECLAIMABLE_B. Sizes above
 * KMALLOC_MAX_SIZE fail (counted); size 0 was sent to ZERO_SIZE_PTR before. */
static __attribute__((noinline)) bool kmalloc_large(struct slub *s, uint64_t size, gfp_t gfp,
						    struct slab_obj *out)
{
	if (size > KMALLOC_MAX_SIZE) {
		s->large_fail++;
		count_vm_event(s->vmstat, SLAB_ALLOC_FAIL);
		return false;
	}
	unsigned order = 0;
	while (((uint64_t)PAGE_SIZE << order) < size)
		order++;
	pfn_t pfn = alloc_pages(s->pgdat, (gfp & ~__GFP_HIGHMEM) | __GFP_COMP, order, 0);
	if (pfn == PFN_NONE) {
		s->large_fail++;
		count_vm_event(s->vmstat, SLAB_ALLOC_FAIL);
		return false;
	}
	pfn_to_page(s->pgdat, pfn)->flags |= PG_kernel;
	s->large_pages += 1u << order;
	s->large_allocs++;
	s->large_bytes_req_live += size;
	s->unreclaimable_bytes += (uint64_t)PAGE_SIZE << order;
	out->slab = pfn;
	out->cache = SLUB_CACHE_LARGE;
	out->obj = (uint16_t)order;
	out->bytes_req = (uint32_t)size;
	return true;
}

/* mm/slab_common.c:size_index[24]: the kmalloc index of sizes up to 192, by
 * size_index_elem(size) = (size - 1) / 8, so that the 96 and 192 classes need no
 * branches; above 192 the index is fls(size - 1). */
static const uint8_t size_index[24] = {
    3, 4, 5, 5, 6, 6, 6, 6, /* 8, 16, 32, 32, 64 x4 */
    1, 1, 1, 1, 7, 7, 7, 7, /* 96 x4, 128 x4 */
    2, 2, 2, 2, 2, 2, 2, 2, /* 192 x8 */
};

/* mm/slab_common.c:kmalloc_slab: the cache of a size in [1, KMALLOC_MAX_CACHE_SIZE]. */
static inline int kmalloc_slab(const struct slub *s, uint32_t size, gfp_t gfp)
{
	unsigned index =
	    size <= 192 ? size_index[(size - 1) / 8] : 32u - (unsigned)__builtin_clz(size - 1);
	return s->kmalloc_caches[kmalloc_type(gfp)][index];
}

/* mm/slab_common.c:__do_kmalloc_node: kmalloc(0) allocates nothing (ZERO_SIZE_PTR). */
static inline bool kmalloc_obj(struct slub *s, uint64_t size, gfp_t gfp, struct slab_obj *out)
{
	if (size - 1 < KMALLOC_MAX_CACHE_SIZE)
		return slab_alloc(s, kmalloc_slab(s, (uint32_t)size, gfp), (uint32_t)size, gfp,
				  out);
	if (!size)
		return false;
	return kmalloc_large(s, size, gfp, out);
}

bool slub_kmalloc(struct slub *s, uint64_t size, gfp_t gfp, struct slab_obj *out)
{
	return kmalloc_obj(s, size, gfp, out);
}

/* mm/slub.c:free_large_kmalloc */
static __attribute__((noinline)) void free_large_kmalloc(struct slub *s, const struct slab_obj *o)
{
	pfn_to_page(s->pgdat, o->slab)->flags &= ~PG_kernel;
	free_pages(s->pgdat, o->slab, o->obj, 0);
	s->large_pages -= 1u << o->obj;
	s->large_frees++;
	s->large_bytes_req_live -= o->bytes_req;
	s->unreclaimable_bytes -= (uint64_t)PAGE_SIZE << o->obj;
}

static inline void obj_free(struct slub *s, const struct slab_obj *o)
{
	if (o->cache != SLUB_CACHE_LARGE)
		slab_free(s, o);
	else
		free_large_kmalloc(s, o);
}

void slub_free(struct slub *s, const struct slab_obj *o) { obj_free(s, o); }

uint64_t slub_obj_size(const struct slub *s, const struct slab_obj *o)
{
	if (o->cache == SLUB_CACHE_LARGE)
		return (uint64_t)PAGE_SIZE << o->obj;
	return s->caches[o->cache].size;
}

static bool ptr_grow(struct slub *s)
{
	uint32_t nmask = 2 * s->ptr_mask + 1, nshift = s->ptr_shift - 1;
	void *mem;
	struct slub_ptr *n = host_table_alloc(((size_t)nmask + 1) * sizeof(*n), &mem);
	if (!n)
		return false;
	for (uint32_t k = 0; k <= s->ptr_mask; k++) {
		if (!s->ptrs[k].ptr)
			continue;
		uint32_t j = slub_hash_64(s->ptrs[k].ptr, nshift);
		while (n[j].ptr)
			j = (j + 1) & nmask;
		n[j] = s->ptrs[k];
	}
	free(s->ptrs_mem);
	s->ptrs_mem = mem;
	s->ptrs = n;
	s->ptr_mask = nmask;
	s->ptr_shift = nshift;
	return true;
}

/* The entry of ptr, or the empty slot that ends its probe run. Kept apart from the
 * insertion below so that the per-event lookup stays a short inlined loop. */
static inline struct slub_ptr *ptr_probe(const struct slub *s, uint64_t ptr)
{
	uint32_t j = slub_hash_64(ptr, s->ptr_shift);
	while (s->ptrs[j].ptr != ptr && s->ptrs[j].ptr)
		j = (j + 1) & s->ptr_mask;
	return &s->ptrs[j];
}

/* Whether one more pointer would take the table past load 1/2, where it doubles. */
static inline bool ptr_table_full(const struct slub *s)
{
	return 2 * (s->ptr_count + 1) > s->ptr_mask + 1;
}

/* A new entry (PTR_FREED, never seen) for ptr, whose probe run ended at the empty slot e;
 * NULL when the table cannot grow. */
static __attribute__((noinline)) struct slub_ptr *ptr_insert(struct slub *s, uint64_t ptr,
							     struct slub_ptr *e)
{
	if (ptr_table_full(s)) {
		if (!ptr_grow(s))
			return NULL;
		e = ptr_probe(s, ptr);
	}
	s->ptr_count++;
	e->ptr = ptr;
	e->state = PTR_FREED;
	return e;
}


/* A site slot is in use when it has a call site or hits (call site 0 is a site too). */
static uint16_t site_slot(struct slub *s, uint64_t call_site)
{
	uint32_t j = slub_hash_64(call_site, s->site_shift);
	while (s->sites[j].call_site != call_site) {
		if (!s->sites[j].call_site && !s->sites[j].hits)
			break;
		j = (j + 1) & s->site_mask;
	}
	if (s->sites[j].call_site == call_site && (call_site || s->sites[j].hits))
		return (uint16_t)j;
	if (s->nr_sites >= SLUB_MAX_SITES)
		return site_other(s);
	s->nr_sites++;
	s->sites[j].call_site = call_site;
	return (uint16_t)j;
}

static inline __attribute__((always_inline)) void free_entry(struct slub *s, struct slub_ptr *e,
							     const struct mm_event *ev)
{
	struct slub_site *site = &s->sites[e->site];
	site->frees++;
	if (ev && ev->cpu != e->cpu)
		site->pingpong++;
	/* before the object is freed, which reads only e->obj: the frees below are then the
	 * last step, calls without a frame */
	e->state = PTR_FREED;
	const uint16_t cache = e->obj.cache;
	if (cache != SLUB_CACHE_LARGE) {
		struct kmem_cache *c = &s->caches[cache];
		s->cum_bytes_freed += c->size;
		slab_free_in(s, c, &e->obj);
	} else {
		s->cum_bytes_freed += (uint64_t)PAGE_SIZE << e->obj.obj;
		free_large_kmalloc(s, &e->obj);
	}
}

/* The recording missed the free of a pointer that is allocated again. */
static __attribute__((noinline)) void missed_free(struct slub *s, struct slub_ptr *e)
{
	s->missed_free++;
	count_vm_event(s->vmstat, SLAB_MISSED_FREE);
	free_entry(s, e, NULL);
}

/* The entry's part of a traced allocation that succeeded with an object of alloc bytes. */
static inline __attribute__((always_inline)) void
account_entry(struct slub *s, struct slub_ptr *e, const struct mm_event *ev, uint64_t alloc)
{
	if (ev->u.kmem.bytes_alloc && ev->u.kmem.bytes_alloc != alloc)
		s->size_mismatch++;
	e->state = PTR_LIVE;
	e->cpu = (uint8_t)ev->cpu;
}

/* The call site's part and the totals. */
static inline __attribute__((always_inline)) void
account_site(struct slub *s, struct slub_site *site, uint32_t bytes_req, uint64_t alloc)
{
	site->hits++;
	site->bytes_req += bytes_req;
	site->bytes_alloc += alloc;
	s->cum_bytes_req += bytes_req;
	s->cum_bytes_alloc += alloc;
}

/* A traced allocation that succeeded with an object of alloc bytes: the entry, its call
 * site and the totals. */
static inline __attribute__((always_inline)) void
account_alloc(struct slub *s, struct slub_ptr *e, const struct mm_event *ev, uint64_t alloc)
{
	account_entry(s, e, ev, alloc);
	/* A pointer is mostly reallocated by the call site that had it before (each cache's
	 * objects come back LIFO): its slot is still that call site's if it names it (a
	 * slot's call site, once set, never changes; call site 0 and the "other" slot, whose
	 * call site is 0, take the search). */
	const uint64_t call_site = ev->u.kmem.call_site;
	if (s->sites[e->site].call_site != call_site || !call_site)
		e->site = site_slot(s, call_site);
	account_site(s, &s->sites[e->site], e->obj.bytes_req, alloc);
}

/* Allocation of a traced pointer: a pointer still live means the recording missed a free.
 * The whole case, for what traced_alloc's fast path leaves: cache < 0 is kmalloc. */
static __attribute__((noinline)) void traced_alloc_slow(struct slub *s, const struct mm_event *ev,
							int cache)
{
	const uint64_t ptr = ev->u.kmem.ptr;
	if (ptr <= ZERO_SIZE_PTR || (cache < 0 && ev->u.kmem.bytes_req == 0)) {
		s->null_events++;
		return;
	}
	struct slub_ptr *e = ptr_probe(s, ptr);
	if (!e->ptr)
		e = ptr_insert(s, ptr, e);
	if (!e) {
		count_vm_event(s->vmstat, SLAB_ALLOC_FAIL);
		return;
	}
	if (e->state == PTR_LIVE)
		missed_free(s, e);
	bool ok = cache < 0 ? kmalloc_obj(s, ev->u.kmem.bytes_req, ev->u.kmem.gfp, &e->obj)
			    : slab_alloc(s, cache, ev->u.kmem.bytes_req, ev->u.kmem.gfp, &e->obj);
	if (!ok) {
		e->state = PTR_FAILED;
		return;
	}
	account_alloc(s, e, ev, slub_obj_size(s, &e->obj));
}

/* The rest of traced_alloc's fast path for a call site found neither in the entry's slot
 * nor in its home slot: the search, the counts, and last (as there) the slab that filled
 * up leaves the partial list. Out of line and called last, so that the fast path keeps
 * everything in scratch registers and saves none. */
static __attribute__((noinline)) void account_new_site(struct slub *s, struct slub_ptr *e,
						       const struct mm_event *ev,
						       struct kmem_cache *c, uint32_t i, bool full)
{
	e->site = site_slot(s, ev->u.kmem.call_site);
	account_site(s, &s->sites[e->site], e->obj.bytes_req, c->size);
	if (full)
		slub_slab_now_full(c, i);
}

/* The common case inline, with no call but the last: a pointer not live (a new one
 * entered here when the table has room), a slab cache (kmalloc up to
 * KMALLOC_MAX_CACHE_SIZE) with a partial slab. Everything else goes, before anything has
 * changed but the new entry, to traced_alloc_slow. Without calls in its middle the fast
 * path saves no registers: the pushes and pops were a tenth of its instructions. Inlined
 * into each event handler, where cache is -1 (kmalloc) or known to be a cache. */
static inline __attribute__((always_inline)) void traced_alloc(struct slub *s,
							       const struct mm_event *ev, int cache)
{
	const uint64_t ptr = ev->u.kmem.ptr;
	const uint32_t req = ev->u.kmem.bytes_req;
	int k = cache;
	if (k < 0) {
		if (req - 1 >= KMALLOC_MAX_CACHE_SIZE) /* kmalloc(0), kmalloc_large */
			goto slow;
		k = kmalloc_slab(s, req, ev->u.kmem.gfp);
	}
	if (ptr <= ZERO_SIZE_PTR)
		goto slow;
	struct slub_ptr *e = ptr_probe(s, ptr);
	struct kmem_cache *c = &s->caches[k];
	uint32_t i = c->partial_head;
	if (__builtin_expect(e->state == PTR_LIVE || i == SLAB_NONE, 0))
		goto slow;
	/* a pointer never seen: what ptr_insert does (the empty slot reads PTR_FREED, site 0),
	 * unless the table must grow first */
	if (__builtin_expect(!e->ptr, 0)) {
		if (ptr_table_full(s))
			goto slow;
		s->ptr_count++;
		e->ptr = ptr;
	}
	bool full = slab_alloc_from(s, c, i, k, req, &e->obj);
	account_entry(s, e, ev, c->size);
	/* The call site's slot: the entry's (a pointer mostly comes back to the call site that
	 * had it: each cache's objects return LIFO), else the call site's home slot (the
	 * table is at most half full), else the search. A slot's call site, once set, never
	 * changes; call site 0 and the "other" slot, whose call site is 0, take the search.
	 * site_slot finds a call site at its home slot first, so this is its answer. */
	const uint64_t call_site = ev->u.kmem.call_site;
	struct slub_site *sites = s->sites;
	uint32_t slot = e->site;
	if (__builtin_expect(!call_site, 0))
		goto new_site;
	if (sites[slot].call_site != call_site) {
		slot = slub_hash_64(call_site, s->site_shift);
		if (sites[slot].call_site != call_site)
			goto new_site;
		e->site = (uint16_t)slot;
	}
	/* reloaded, not kept in registers across the slab work */
	account_site(s, &sites[slot], e->obj.bytes_req, c->size);
	if (full)
		slub_slab_now_full(c, i);
	return;
new_site:
	account_new_site(s, e, ev, c, i, full);
	return;
slow:
	traced_alloc_slow(s, ev, cache);
}

/* A free of a pointer that is not live: never seen, its allocation failed, or freed
 * already. Out of line: the fast path tests the state once. */
static __attribute__((noinline)) void free_not_live(struct slub *s, struct slub_ptr *e,
						    const struct mm_event *ev)
{
	if (!e->ptr) {
		s->unknown_free++;
		count_vm_event(s->vmstat, SLAB_UNKNOWN_FREE);
		return;
	}
	if (e->state == PTR_FAILED) {
		e->state = PTR_FREED;
		return;
	}
	if (s->double_free < SLUB_DOUBLE_FREE_LOG)
		s->double_frees[s->double_free] =
		    (struct slub_double_free){ev->ts, e->ptr, ev->u.kmem.call_site, ev->pid};
	s->double_free++;
	count_vm_event(s->vmstat, SLAB_DOUBLE_FREE);
}

static void traced_free(struct slub *s, const struct mm_event *ev)
{
	const uint64_t ptr = ev->u.kmem.ptr;
	if (ptr <= ZERO_SIZE_PTR)
		return;
	struct slub_ptr *e = ptr_probe(s, ptr);
	/* an empty slot (unknown pointer) is all zero, PTR_FREED: one test for all three */
	if (__builtin_expect(e->state != PTR_LIVE, 0)) {
		free_not_live(s, e, ev);
		return;
	}
	free_entry(s, e, ev);
}

/* Not inlined into the simulator's handler: there s is an offset from its struct sim, one
 * register more, which the fast path pays for in saved registers. */
__attribute__((noinline)) void slub_kmalloc_event(struct slub *s, const struct mm_event *ev)
{
	traced_alloc(s, ev, -1);
}

void slub_kfree_event(struct slub *s, const struct mm_event *ev) { traced_free(s, ev); }

void slub_cache_free_event(struct slub *s, const struct mm_event *ev) { traced_free(s, ev); }

static bool name_grow(struct slub *s)
{
	uint32_t nmask = 2 * s->name_mask + 1, nshift = s->name_shift - 1;
	uint32_t *keys = calloc((size_t)nmask + 1, sizeof(*keys));
	uint16_t *vals = calloc((size_t)nmask + 1, sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return false;
	}
	for (uint32_t k = 0; k <= s->name_mask; k++) {
		if (!s->name_keys[k])
			continue;
		uint32_t j = slub_hash_64(s->name_keys[k], nshift);
		while (keys[j])
			j = (j + 1) & nmask;
		keys[j] = s->name_keys[k];
		vals[j] = s->name_map[k];
	}
	free(s->name_keys);
	free(s->name_map);
	s->name_keys = keys;
	s->name_map = vals;
	s->name_mask = nmask;
	s->name_shift = nshift;
	return true;
}

/* The cache the trace's name id was first seen with, -1 if none yet (or id 0: no name,
 * never remembered). */
static inline int known_event_cache(const struct slub *s, uint32_t id)
{
	if (id < s->name_direct_cap)
		return s->name_direct[id] - 1;
	if (id < SLUB_NAME_DIRECT_MAX)
		return -1;
	for (uint32_t j = slub_hash_64(id, s->name_shift); s->name_keys[j];
	     j = (j + 1) & s->name_mask)
		if (s->name_keys[j] == id)
			return s->name_map[j] - 1;
	return -1;
}

/* Room in the direct map for id (< SLUB_NAME_DIRECT_MAX): false when the host has none. */
static bool name_direct_fit(struct slub *s, uint32_t id)
{
	if (id < s->name_direct_cap)
		return true;
	uint32_t cap = s->name_direct_cap ? s->name_direct_cap : 256;
	while (cap <= id)
		cap *= 2;
	uint16_t *d = realloc(s->name_direct, (size_t)cap * sizeof(*d));
	if (!d)
		return false;
	memset(d + s->name_direct_cap, 0, (size_t)(cap - s->name_direct_cap) * sizeof(*d));
	s->name_direct = d;
	s->name_direct_cap = cap;
	return true;
}

/* Remember id → cache; an id the host has no room for is looked up by name again. */
static void remember_event_cache(struct slub *s, uint32_t id, int cache)
{
	if (id < SLUB_NAME_DIRECT_MAX) {
		if (name_direct_fit(s, id))
			s->name_direct[id] = (uint16_t)(cache + 1);
		return;
	}
	if (2 * (s->name_count + 1) > s->name_mask + 1 && !name_grow(s))
		return;
	uint32_t j = slub_hash_64(id, s->name_shift);
	while (s->name_keys[j])
		j = (j + 1) & s->name_mask;
	s->name_keys[j] = id;
	s->name_map[j] = (uint16_t)(cache + 1);
	s->name_count++;
}

/* The cache of a kmem_cache_alloc event whose name id is not known yet: by name, else (a
 * 6.1 trace names no cache) a cache per object size named as SLUB names merged caches in
 * sysfs, ":0000192"; the id is remembered. Out of line: its snprintf and name search made
 * every kmem_cache_alloc event save six registers and a frame. */
static __attribute__((noinline)) int new_event_cache(struct slub *s, const struct mm_event *ev,
						     const char *cache_name)
{
	uint32_t id = ev->u.kmem.cache;
	uint32_t size = ev->u.kmem.bytes_alloc ? ev->u.kmem.bytes_alloc : ev->u.kmem.bytes_req;
	char anon[16];

	if (!cache_name || !cache_name[0]) {
		snprintf(anon, sizeof(anon), ":%07u", size % 10000000u);
		cache_name = anon;
	}
	int cache = slub_cache_lookup(s, cache_name, size);
	if (cache >= 0 && id)
		remember_event_cache(s, id, cache);
	return cache;
}

/* A kmem_cache_alloc event whose name id is not in the direct map: the hashed ids, a new
 * name, a cache that cannot be created. Out of line, so that the common case saves no
 * registers; the allocation itself is then the whole case, traced_alloc_slow. */
static __attribute__((noinline)) void
cache_alloc_unmapped(struct slub *s, const struct mm_event *ev, const char *cache_name)
{
	int cache = known_event_cache(s, ev->u.kmem.cache);
	if (cache < 0)
		cache = new_event_cache(s, ev, cache_name);
	if (cache < 0) {
		count_vm_event(s->vmstat, SLAB_ALLOC_FAIL);
		return;
	}
	traced_alloc_slow(s, ev, cache);
}

__attribute__((noinline)) void slub_cache_alloc_event(struct slub *s, const struct mm_event *ev,
						      const char *cache_name)
{
	if (ev->u.kmem.ptr <= ZERO_SIZE_PTR || !(ev->u.kmem.bytes_alloc | ev->u.kmem.bytes_req)) {
		s->null_events++;
		return;
	}
	/* known_event_cache's first case inline */
	const uint32_t id = ev->u.kmem.cache;
	int cache = id < s->name_direct_cap ? s->name_direct[id] - 1 : -1;
	if (__builtin_expect(cache < 0, 0)) {
		cache_alloc_unmapped(s, ev, cache_name);
		return;
	}
	traced_alloc(s, ev, cache);
}

static int obj_cmp(const void *a, const void *b)
{
	const struct slab_obj *x = a, *y = b;
	if (x->cache != y->cache)
		return x->cache < y->cache ? -1 : 1;
	if (x->slab != y->slab)
		return x->slab < y->slab ? -1 : 1;
	return (x->obj > y->obj) - (x->obj < y->obj);
}

/* Every live pointer names an allocated object of a real slab, not on its freelist, and no
 * two pointers share an object. */
static const char *check_ptrs(const struct slub *s, struct slab_obj *v)
{
	uint32_t n = 0;
	uint64_t large_pages = 0;

	for (uint32_t j = 0; j <= s->ptr_mask; j++) {
		const struct slub_ptr *e = &s->ptrs[j];
		if (!e->ptr && e->state != PTR_FREED)
			return "empty pointer slot not in the freed state";
		if (!e->ptr || e->state != PTR_LIVE)
			continue;
		v[n++] = e->obj;
		if (e->obj.cache == SLUB_CACHE_LARGE) {
			large_pages += 1u << e->obj.obj;
			continue;
		}
		if (e->obj.cache >= s->nr_caches)
			return "live pointer in an unknown cache";
		const struct kmem_cache *c = &s->caches[e->obj.cache];
		if (e->obj.slab >= c->nr_desc || slab_at(c, e->obj.slab)->pfn == PFN_NONE ||
		    e->obj.obj >= slab_at(c, e->obj.slab)->objects)
			return "live pointer outside any slab";
		const struct slab *sl = slab_at(c, e->obj.slab);
		for (unsigned k = 0; k < (unsigned)(sl->objects - sl->inuse); k++)
			if (sl->free[k] == e->obj.obj)
				return "live object on its slab's freelist";
	}
	if (large_pages > s->large_pages)
		return "kmalloc_large pages disagree";
	qsort(v, n, sizeof(*v), obj_cmp);
	for (uint32_t k = 1; k < n; k++)
		if (!obj_cmp(&v[k - 1], &v[k]))
			return "two live pointers share one object";
	return NULL;
}

const char *slub_check(const struct slub *s)
{
	const char *why = slub_check_caches(s);
	if (why)
		return why;
	struct slab_obj *v = malloc(((size_t)s->ptr_count + 1) * sizeof(*v));
	if (!v)
		return "out of host memory";
	why = check_ptrs(s, v);
	free(v);
	return why;
}

uint64_t slub_live_pointers(const struct slub *s)
{
	uint64_t n = 0;
	for (uint32_t j = 0; j <= s->ptr_mask; j++)
		n += s->ptrs[j].ptr && s->ptrs[j].state == PTR_LIVE;
	return n;
}
