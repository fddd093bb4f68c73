/* SLUB: slab caches, kmalloc size classes and kmalloc_large (mm/slub.c, mm/slab_common.c,
 * include/linux/slab.h), modeled on one node without per-CPU slabs (docs/SLUB.md).
 * Slab pages come from the simulated buddy allocator; trace pointers map to simulated
 * objects through an open-addressing hash. */
#ifndef MM_SLUB_H
#define MM_SLUB_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "gfp.h"
#include "machine.h"
#include "page_alloc.h"
#include "strbuf.h"

/* include/linux/slab.h (x86: ARCH_DMA_MINALIGN unset → KMALLOC_MIN_SIZE 8) */
#define KMALLOC_SHIFT_LOW 3
#define KMALLOC_MIN_SIZE (1u << KMALLOC_SHIFT_LOW)
/* include/linux/slab.h: KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1 for SLUB */
#define KMALLOC_SHIFT_HIGH (PAGE_SHIFT + 1)
#define KMALLOC_MAX_CACHE_SIZE (1u << KMALLOC_SHIFT_HIGH)
/* include/linux/slab.h: KMALLOC_MAX_SIZE = 1 << (MAX_PAGE_ORDER + PAGE_SHIFT) */
#define KMALLOC_MAX_SIZE (1ull << (MAX_PAGE_ORDER + PAGE_SHIFT))
/* mm/slub.c: slub_max_order defaults to PAGE_ALLOC_COSTLY_ORDER; MAX_OBJS_PER_PAGE */
#define SLUB_MAX_ORDER PAGE_ALLOC_COSTLY_ORDER
#define MAX_OBJS_PER_PAGE 32767u
/* kmalloc_caches[][] index: 0 unused, 1 = 96, 2 = 192, 3..13 = 8..8192 (__kmalloc_index) */
#define KMALLOC_NR_INDEX (KMALLOC_SHIFT_HIGH + 1)

/* include/linux/slab.h enum kmalloc_cache_type */
enum kmalloc_cache_type {
	KMALLOC_NORMAL,
	KMALLOC_CGROUP,
	KMALLOC_RECLAIM,
	KMALLOC_DMA,
	NR_KMALLOC_TYPES
};

/* Cache flags (include/linux/slab.h SLAB_* names; the bits are the engine's). */
#define SLAB_CACHE_DMA 0x1u
#define SLAB_RECLAIM_ACCOUNT 0x2u
#define SLAB_ACCOUNT 0x4u
#define SLAB_KMALLOC 0x8u

/* Caches the engine itself allocates from when it creates tasks, mms and VMAs. */
enum slub_builtin {
	SLUB_TASK_STRUCT,
	SLUB_MM_STRUCT,
	SLUB_VM_AREA_STRUCT,
	SLUB_ANON_VMA,
	SLUB_ANON_VMA_CHAIN,
	SLUB_FILES_CACHE,
	SLUB_SIGNAL_CACHE,
	SLUB_SIGHAND_CACHE,
	SLUB_FS_CACHE,
	SLUB_CRED_JAR,
	SLUB_PID,
	SLUB_PGD_CACHE, /* i386-PAE only: 32-byte pgds (arch/x86/mm/pgtable.c); else pgd is a page
			 */
	SLUB_VMAP_AREA,
	NR_SLUB_BUILTIN
};

#define SLAB_NONE UINT32_MAX
#define SLUB_CACHE_LARGE 0xffffu /* slab_obj.cache of a kmalloc_large allocation */

/* One slab: 2^order pages from the buddy allocator. Its free objects are a LIFO stack of
 * indices, free[0 .. objects - inuse - 1] with the top last, kept right after the
 * descriptor in one record (the kernel threads the same LIFO freelist through the objects
 * themselves): while a slab is nearly full, an allocation or free reads one line. */
struct slab {
	pfn_t pfn;	     /* first page; PFN_NONE when the descriptor is unused */
	uint32_t next, prev; /* partial list links (slab indices) or descriptor free list */
	uint16_t inuse, objects;
	uint8_t order;
	uint8_t on_partial;
	uint16_t free[]; /* oo_objects entries */
};

/* The first 64 bytes hold what every object allocation and free touches, and the array of
 * caches is line-aligned, so the fast paths read one line of the cache. */
struct kmem_cache {
	/* Slab records, slab_stride bytes each (a multiple of 64, line-aligned): slab i is
	 * slab_at(c, i). */
	_Alignas(64) unsigned char *slab_mem;
	uint32_t slab_stride;
	uint32_t size; /* s->size; the model keeps no per-object metadata */
	/* The two counters every object allocation and free changes are kept apart: side by
	 * side, gcc packs their updates into one vector add that takes three times the
	 * instructions of two scalar ones. */
	uint64_t inuse_objects;
	uint32_t partial_head, nr_partial;
	uint64_t bytes_req_live; /* Σ requested bytes of live objects */
	uint16_t oo_objects;
	/* slab creation and discard, renderers */
	uint32_t partial_tail;
	uint32_t min_partial;	     /* mm/slub.c:set_min_partial */
	uint32_t flags;		     /* SLAB_* above */
	uint8_t oo_order, min_order; /* preferred order and the get_order(size) fallback */
	uint16_t min_objects;
	uint32_t nr_desc, cap_desc, free_desc;
	uint64_t nr_slabs, nr_pages, total_objects;
	uint64_t alloc_fail;
	uint32_t trace_name; /* the trace's string id, UINT32_MAX if none */
	char name[32];
};

static inline struct slab *slab_at(const struct kmem_cache *c, uint32_t i)
{
	return (struct slab *)(void *)(c->slab_mem + (size_t)i * c->slab_stride);
}

/* A simulated object, as the engine holds it (no trace pointer). */
struct slab_obj {
	uint32_t slab;	/* slab index in its cache, or the first pfn of a kmalloc_large */
	uint16_t cache; /* cache index, or SLUB_CACHE_LARGE */
	uint16_t obj;	/* object index in the slab, or the kmalloc_large order */
	uint32_t bytes_req;
};

/* Cumulative per call site, as perf kmem stat --caller shows it. */
struct slub_site {
	uint64_t call_site;
	/* what an allocation adds and what a free adds interleaved, so that no two fields one
	 * event changes are neighbours (see struct kmem_cache: no vector adds) */
	uint64_t bytes_req, frees, bytes_alloc, pingpong, hits;
};

#define SLUB_NAME_DIRECT_MAX (1u << 16) /* name ids from here on go to the hash */
#define SLUB_MAX_SITES 4096		/* bounded; the rest is summed in one "other" slot */
#define SLUB_DOUBLE_FREE_LOG 16

struct slub_double_free {
	uint64_t ts, ptr, call_site;
	uint32_t pid;
};

/* One trace pointer (slab_common.c's; here because the look-ahead finds its slot inline).
 * Entries are never removed: a freed pointer stays as PTR_FREED so a second free is
 * recognised as a double free; reallocation reuses the entry. */
struct slub_ptr {
	uint64_t ptr; /* 0 = empty slot */
	struct slab_obj obj;
	uint16_t site; /* call-site slot; site_other(s) sums the sites beyond SLUB_MAX_SITES */
	uint8_t cpu;
	uint8_t state;
};

/* include/linux/hash.h:hash_64: the top bits of val * GOLDEN_RATIO_64. Kernel pointers
 * and call sites are arithmetic sequences (object strides), which the top bits of the
 * product spread evenly; the low bits would not. shift = 64 - log2(table size). */
static inline uint32_t slub_hash_64(uint64_t val, uint32_t shift)
{
	return (uint32_t)((val * 0x61C8864680B583EBull) >> shift);
}

/* The fields every trace event reads come first, packed, so that an event touches two or
 * three lines of the struct rather than six. */
struct slub {
	uint64_t *vmstat;
	struct kmem_cache *caches;
	struct slub_ptr *ptrs;			 /* trace pointer → object, linear probing */
	uint32_t ptr_mask, ptr_shift, ptr_count; /* shift: hash_64's 64 - log2(slots) */
	/* call site → counts, open addressing; sites[site_mask + 1] sums the call sites beyond
	 * the first SLUB_MAX_SITES */
	struct slub_site *sites;
	uint32_t site_mask, site_shift, nr_sites;
	/* trace string id → cache + 1 (0 = unknown): indexed by the id below
	 * SLUB_NAME_DIRECT_MAX (a trace's ids are dense from 0), open addressing above */
	uint16_t *name_direct;
	uint32_t name_direct_cap;
	uint16_t *name_map;
	uint32_t *name_keys;
	uint32_t name_mask, name_shift, name_count;
	/* totals (bytes) */
	uint64_t cum_bytes_req, cum_bytes_freed, cum_bytes_alloc; /* apart: no vector adds */
	uint16_t kmalloc_caches[NR_KMALLOC_TYPES][KMALLOC_NR_INDEX];
	/* the rest: boot, slab creation, kmalloc_large, counters of trace anomalies */
	struct pglist_data *pgdat;
	enum arch arch;
	unsigned nr_cpus;
	unsigned min_objects; /* calculate_order's 4 * (fls(nr_cpus) + 1) */
	uint32_t nr_caches, cap_caches;
	uint16_t builtin[NR_SLUB_BUILTIN]; /* UINT16_MAX when the arch has no such cache */
	void *ptrs_mem;			   /* the allocation holding ptrs (host_table_alloc) */
	/* kmalloc_large */
	uint64_t large_pages, large_allocs, large_frees, large_bytes_req_live, large_fail;
	uint64_t reclaimable_bytes, unreclaimable_bytes;
	uint64_t unknown_free, double_free, missed_free, null_events, size_mismatch;
	struct slub_double_free double_frees[SLUB_DOUBLE_FREE_LOG];
};

/* Create the kmalloc caches of every type and the built-in caches of m's arch (no slab pages
 * yet; the kernel also creates them empty). Returns 0 or -1 (host memory). */
int slub_init(struct slub *s, struct pglist_data *pgdat, const struct machine *m, uint64_t *vmstat);
void slub_destroy(struct slub *s);

/* mm/slub.c:calculate_order for an object size on nr_cpus CPUs (6.1's loop). */
unsigned slub_calculate_order(unsigned size, unsigned nr_cpus);
/* PAGE_SIZE << order / size */
static inline unsigned slub_order_objects(unsigned order, unsigned size)
{
	return (PAGE_SIZE << order) / size;
}
/* __kmalloc_index: 0 for size 0, 1 (96), 2 (192), 3..13; -1 when size > KMALLOC_MAX_CACHE_SIZE. */
int kmalloc_index(uint64_t size);
unsigned kmalloc_index_size(int index); /* 8, 16, ..., 96, 192 */
enum kmalloc_cache_type kmalloc_type(gfp_t gfp);

/* Find a cache by name, or create it with object size `size` (> 0). -1 if it cannot. */
int slub_cache_lookup(struct slub *s, const char *name, uint32_t size);
uint16_t slub_builtin_size(enum arch arch, enum slub_builtin b); /* 0 = not a slab cache there */

/* Engine-side allocation (no trace pointer). false on failure (counted). */
bool slub_cache_alloc_builtin(struct slub *s, enum slub_builtin b, gfp_t gfp, struct slab_obj *out);
bool slub_cache_alloc(struct slub *s, int cache, uint32_t bytes_req, gfp_t gfp,
		      struct slab_obj *out);
bool slub_kmalloc(struct slub *s, uint64_t size, gfp_t gfp, struct slab_obj *out);
void slub_free(struct slub *s, const struct slab_obj *o);
/* Bytes the object occupies (cache size, or PAGE_SIZE << order for kmalloc_large). */
uint64_t slub_obj_size(const struct slub *s, const struct slab_obj *o);

/* Trace events (kmem:kmalloc, kmem:kfree, kmem:kmem_cache_alloc, kmem:kmem_cache_free).
 * cache_name may be NULL or "" when the recording kernel did not name the cache (6.1). */
/* Start loading the trace-pointer entry of ptr, for an event a few places ahead: a free
 * of a long-lived object reads a cold entry. Both ends of the home entry: a 24-byte entry
 * straddles two lines one time in four, and its state, cpu and site, read first, then sit
 * in the second. Inline, for the replay loop's look-ahead. A hint; changes nothing. */
static inline void slub_prefetch(const struct slub *s, uint64_t ptr)
{
	const struct slub_ptr *e = &s->ptrs[slub_hash_64(ptr, s->ptr_shift)];
	__builtin_prefetch(e, 1);
	__builtin_prefetch((const char *)(e + 1) - 1, 1);
}
void slub_kmalloc_event(struct slub *s, const struct mm_event *ev);
void slub_kfree_event(struct slub *s, const struct mm_event *ev);
void slub_cache_alloc_event(struct slub *s, const struct mm_event *ev, const char *cache_name);
void slub_cache_free_event(struct slub *s, const struct mm_event *ev);

/* /proc/meminfo: Slab = SReclaimable + SUnreclaim (bytes; kmalloc_large counts as SUnreclaim). */
static inline uint64_t slub_sreclaimable_bytes(const struct slub *s)
{
	return s->reclaimable_bytes;
}
static inline uint64_t slub_sunreclaim_bytes(const struct slub *s)
{
	return s->unreclaimable_bytes;
}

struct slub_frag {
	uint64_t bytes_req, bytes_alloc; /* live objects */
	uint64_t internal;		 /* bytes_alloc - bytes_req */
	uint64_t partial_free_bytes;	 /* free objects sitting in partial slabs */
	uint64_t slab_leftover_bytes;	 /* per slab: slab size - objects * size */
};
/* cache = -1: all caches plus kmalloc_large. */
void slub_fragmentation(const struct slub *s, int cache, struct slub_frag *f);

/* /proc/slabinfo (mm/slab_common.c:slab_show, version 2.1). */
void slub_render_slabinfo(const struct slub *s, struct strbuf *sb);
/* perf kmem stat --caller style table, sorted by bytes allocated. */
void slub_render_callers(const struct slub *s, struct strbuf *sb, unsigned max_rows);

/* Every invariant of the slab lists and the pointer map; NULL if sound, else a reason. */
const char *slub_check(const struct slub *s);
uint64_t slub_live_pointers(const struct slub *s);

#endif
