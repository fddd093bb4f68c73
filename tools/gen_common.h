/* Shared machinery of the workload generators: the PRNG, parameter tables, a small
 * discrete-event scheduler of "actors" (simulated tasks), per-process address spaces with a
 * top-down mmap placer on the i386 3G/1G layout, and kernel object bookkeeping (slab,
 * kmalloc and vmalloc pointers) so every free names a live allocation. */
#ifndef MM_GEN_COMMON_H
#define MM_GEN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "gen.h"

/* ---- PRNG: xoshiro256** seeded through splitmix64 ---- */
struct gen_rng {
	uint64_t s[4];
};
void gen_rng_seed(struct gen_rng *r, uint64_t seed);
uint64_t gen_rng_next(struct gen_rng *r);
uint64_t gen_rng_below(struct gen_rng *r, uint64_t n); /* [0, n), n > 0 */
double gen_rng_unit(struct gen_rng *r);		       /* [0, 1) */
static inline uint64_t gen_rng_range(struct gen_rng *r, uint64_t lo, uint64_t hi)
{
	return lo + gen_rng_below(r, hi - lo + 1);
}
static inline bool gen_rng_chance(struct gen_rng *r, double p) { return gen_rng_unit(r) < p; }
/* Exponentially distributed delay with the given mean (think times, inter-arrivals). */
uint64_t gen_rng_exp(struct gen_rng *r, double mean);
uint64_t gen_hash_str(const char *s);

#define gen_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define MS 1000000ull /* ns */
#define US 1000ull    /* FNV-1a, to derive per-workload seeds */

/* ---- parameters ---- */
#define GP_INT 0x1u    /* whole number */
#define GP_SCALED 0x2u /* multiplied by --scale (counts, durations, totals) */
struct gen_param_def {
	const char *name;
	double def, min, max;
	unsigned flags;
	const char *help;
};

/* ---- layout (i386 3G/1G, non-PIE binaries; valid on every modeled arch) ---- */
#define PAGE_SZ 4096ull
#define GEN_TASK_SIZE 0xc0000000ull /* PAGE_OFFSET on the default 3G/1G split */
#define GEN_STACK_TOP 0xbf800000ull
/* arch/x86/mm/mmap.c mmap_base(): TASK_SIZE - gap, gap at least MIN_GAP = 128 MiB */
#define GEN_MMAP_BASE 0xb8000000ull
#define GEN_TEXT_START 0x08048000ull /* classic i386 ELF link address */
#define GEN_MMAP_FLOOR 0x20000000ull /* lowest mmap; the brk heap may grow below it */
#define GEN_INIT_PID 1u

static inline uint64_t page_up(uint64_t x) { return (x + PAGE_SZ - 1) & ~(PAGE_SZ - 1); }

/* ---- kernel caches the generators allocate from ---- */
enum gen_cache {
	KC_KMALLOC_8, /* ... the kmalloc classes in order, then named caches */
	KC_KMALLOC_LAST = KC_KMALLOC_8 + 12, /* kmalloc-8k */
	KC_TASK_STRUCT,
	KC_MM_STRUCT,
	KC_VM_AREA_STRUCT,
	KC_ANON_VMA,
	KC_SIGNAL_CACHE,
	KC_SIGHAND_CACHE,
	KC_FILES_CACHE,
	KC_FS_CACHE,
	KC_CRED_JAR,
	KC_NAMES_CACHE,
	KC_DENTRY,
	KC_INODE_CACHE,
	KC_EXT4_INODE,
	KC_FILP,
	KC_BUFFER_HEAD,
	KC_RADIX_TREE_NODE,
	KC_SKBUFF_HEAD,
	KC_SOCK_INODE,
	KC_PID,
	KC_KMALLOC_LARGE, /* > 8 KiB: page allocator, no reuse of addresses */
	KC_NR
};

struct kcache {
	const char *name;
	uint32_t obj_size; /* bytes_alloc */
	uint32_t name_id;  /* 0 for kmalloc (the event carries no cache name) */
	uint64_t *free;	   /* LIFO of freed addresses: SLUB hands back the last freed object */
	uint32_t nfree, cap;
};

/* ---- address spaces and tasks ---- */
struct gvma {
	uint64_t start, end, pgoff, kobj;
	uint16_t prot, flags;
	uint32_t file;
};

struct gmm {
	struct gvma *vma; /* sorted by start */
	uint32_t nvma, cap;
	uint32_t users;
	uint64_t start_brk, brk, heap_kobj; /* heap_kobj: its vm_area_struct once brk grew */
	uint64_t mm_kobj, anon_kobj;
	struct gmm *next_free, *next_all;
};

enum { TK_TASK, TK_SIGNAL, TK_SIGHAND, TK_FILES, TK_FS, TK_CRED, TK_PID, TK_NR };

struct gproc {
	uint32_t pid, ppid;
	uint16_t cpu;
	bool thread;
	struct gmm *mm;
	uint64_t kobj[TK_NR];
	struct gproc *next_free, *next_all;
};

/* ---- the scheduler ---- */
struct gen;
struct gen_actor {
	uint64_t t, seq;
	bool queued; /* waking a queued actor again is a no-op */
	/* Runs at time t (g->now). Reschedule with gen_wake() or let the actor end. */
	void (*step)(struct gen *g, struct gen_actor *a);
};

struct gen {
	struct event_sink *sink;
	uint64_t now;
	uint32_t ncpus;
	uint32_t next_pid;
	uint64_t seq;
	struct gen_rng clock_rng; /* per-event time cost */
	struct gen_actor **heap;
	uint32_t nheap, capheap;
	struct kcache cache[KC_NR];
	uint64_t kptr_next, kptr_large_next;
	/* live vmalloc areas, sorted by address: first fit like alloc_vmap_area */
	uint64_t (*varea)[2];
	uint32_t nvarea, capvarea;
	uint32_t id_ld, id_libc;	      /* file names of the dynamic loader and libc */
	struct gproc *free_procs, *all_procs; /* all_*: every one allocated, for teardown */
	struct gmm *free_mms, *all_mms;
	const struct gen_params *params; /* as given: mix resolves its parts from it */
	bool failed;
	char *err;
	size_t errlen;
	uint64_t nevents;
};

void gen_init(struct gen *g, struct event_sink *sink, uint64_t seed, uint32_t ncpus, char *err,
	      size_t errlen);
void gen_destroy(struct gen *g);
/* Run actors in time order until none is left or generation failed. */
void gen_loop(struct gen *g);
void gen_fail(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint32_t gen_intern(struct gen *g, const char *s);

/* Schedule a at now + delay_ns, unless it is already scheduled. */
void gen_wake(struct gen *g, struct gen_actor *a, uint64_t delay_ns);

/* Event emission: ts = now (then now advances a few tens of ns), pid/cpu from p. */
void gen_emit(struct gen *g, const struct gproc *p, struct mm_event *ev);
void gen_mark(struct gen *g, const struct gproc *p, uint32_t name);
void gen_comm(struct gen *g, const struct gproc *p, uint32_t name);
void gen_oom_adj(struct gen *g, const struct gproc *p, int32_t adj);

/* Kernel objects. call_site is a fake but stable kernel text address per purpose. */
uint64_t gen_kmalloc(struct gen *g, const struct gproc *p, uint32_t size, uint32_t gfp,
		     uint64_t call_site);
void gen_kfree(struct gen *g, const struct gproc *p, uint64_t ptr, uint32_t size,
	       uint64_t call_site);
uint64_t gen_cache_alloc(struct gen *g, const struct gproc *p, enum gen_cache c, uint32_t gfp);
void gen_cache_free(struct gen *g, const struct gproc *p, enum gen_cache c, uint64_t ptr);
uint64_t gen_vmalloc(struct gen *g, const struct gproc *p, uint64_t size, uint64_t caller);
void gen_vfree(struct gen *g, const struct gproc *p, uint64_t addr);
/* A request size drawn from a mix typical of a busy kernel (mostly <= 256 bytes). */
uint32_t gen_kmalloc_size(struct gen_rng *r);

/* A dentry/inode cache of bounded size: lookups that miss allocate a dentry and an inode,
 * evicting (freeing) the oldest pair when full — the dcache's LRU in miniature. */
struct gen_dcache {
	uint64_t (*ent)[2]; /* ring of (dentry, inode) */
	uint32_t n, cap, head;
};
int gen_dcache_init(struct gen_dcache *dc, uint32_t cap);
void gen_dcache_destroy(struct gen_dcache *dc);
void gen_dcache_lookup(struct gen *g, struct gen_rng *r, struct gen_dcache *dc,
		       const struct gproc *p, double miss);
/* open + read/write + close of one file: getname, lookup, filp, a kmalloc'ed buffer, page
 * cache bookkeeping (a buffer_head) on a miss. */
void gen_file_io(struct gen *g, struct gen_rng *r, struct gen_dcache *dc, const struct gproc *p,
		 double miss);

/* Tasks. parent NULL: forked by init (pid 1), with an empty address space. */
struct gproc *gproc_fork(struct gen *g, struct gen_rng *r, struct gproc *parent, bool thread);
struct gbinary {
	const char *path;
	uint32_t text_kb, data_kb, bss_kb;
};
/* Fresh address space: the binary's text/data/bss at GEN_TEXT_START, a stack, ld.so and
 * libc (text, data with a RELRO mprotect, bss), an empty brk heap after the bss. */
void gproc_exec(struct gen *g, struct gproc *p, const struct gbinary *bin, uint32_t path_id);
void gproc_exit(struct gen *g, struct gproc *p);
/* Top-down placement below the mmap base; 0 (and g->failed) if the space is exhausted. */
uint64_t gproc_mmap(struct gen *g, struct gproc *p, uint64_t len, uint16_t prot, uint16_t flags,
		    uint32_t file, uint64_t pgoff);
void gproc_munmap(struct gen *g, struct gproc *p, uint64_t start); /* the whole vma */
/* New protection for [start, start+len) of the vma beginning at start (splits it). */
void gproc_mprotect(struct gen *g, struct gproc *p, uint64_t start, uint64_t len, uint16_t prot);
/* Resize the vma at start; grows in place when the gap above allows, else moves. */
uint64_t gproc_mremap(struct gen *g, struct gproc *p, uint64_t start, uint64_t new_len);
void gproc_brk(struct gen *g, struct gproc *p, uint64_t new_brk);
void gproc_touch(struct gen *g, struct gproc *p, uint64_t addr, uint64_t len, uint32_t access);
void gproc_fault(struct gen *g, struct gproc *p, uint64_t addr, uint32_t access);
const struct gvma *gproc_find_vma(const struct gproc *p, uint64_t addr);
/* Maybe move to another CPU (the scheduler balancing), probability 1/8. */
void gproc_maybe_migrate(struct gen *g, struct gen_rng *r, struct gproc *p);

/* ---- workloads ---- */
struct gen_workload {
	struct gen_workload_info info;	    /* name, one-line summary */
	const struct gen_param_def *params; /* terminated by name == NULL */
	/* Create the root actors. pv: resolved values (scaled), in params order. Returns the
	 * workload's private state (freed by stop), NULL with g->failed on error. */
	void *(*start)(struct gen *g, const double *pv, uint64_t seed, uint64_t t0);
	void (*stop)(void *state);
};

extern const struct gen_workload gen_wl_shell, gen_wl_build, gen_wl_db, gen_wl_forkcow, gen_wl_slab,
    gen_wl_vmalloc, gen_wl_leak, gen_wl_mix;
const struct gen_workload *gen_find_workload(const char *name);
/* Resolve the parameters of w from the kv list: entries "key=v" (prefix NULL) or
 * "prefix.key=v". Fills pv (scaled). 0 or -1 with err. */
int gen_resolve_params(const struct gen_workload *w, const char *prefix, const struct gen_params *p,
		       double *pv, char *err, size_t errlen);
#define GEN_MAX_PARAMS 24

#endif
