/* Slab caches and slabs (mm/slub.c): slab order, slab pages from the buddy allocator,
 * per-slab freelists, the node partial list and min_partial. kmalloc, trace pointers and
 * the renderers are in slab_common.c. */
#include "slub.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "slub_internal.h"
#include "vmstat.h"

_Static_assert(offsetof(struct kmem_cache, bytes_req_live) + sizeof(uint64_t) <= 64,
	       "the allocation and free fast paths read one line of the cache");

static unsigned fls_u(unsigned x) { return x ? 32u - (unsigned)__builtin_clz(x) : 0; }

static unsigned ilog2_u(unsigned x) { return fls_u(x) - 1; }

/* include/asm-generic/getorder.h:get_order */
static unsigned get_order_u64(uint64_t size)
{
	unsigned order = 0;
	while (((uint64_t)PAGE_SIZE << order) < size)
		order++;
	return order;
}

/* mm/slub.c:calc_slab_order: the first order whose leftover is at most 1/fract of the slab. */
static unsigned calc_slab_order(unsigned size, unsigned min_objects, unsigned max_order,
				unsigned fract_leftover)
{
	unsigned order;

	if (slub_order_objects(0, size) > MAX_OBJS_PER_PAGE)
		return get_order_u64((uint64_t)size * MAX_OBJS_PER_PAGE) - 1;
	for (order = get_order_u64((uint64_t)min_objects * size); order <= max_order; order++) {
		unsigned slab_size = PAGE_SIZE << order;
		if (slab_size % size <= slab_size / fract_leftover)
			break;
	}
	return order;
}

/* mm/slub.c:calculate_order [6.1]: min_objects = 4 * (fls(nr_cpus) + 1), capped by what an
 * order-slub_max_order slab holds; fractions 16, 8, 4; then min_objects - 1, down to 2. */
unsigned slub_calculate_order(unsigned size, unsigned nr_cpus)
{
	unsigned min_objects = 4 * (fls_u(nr_cpus ? nr_cpus : 1) + 1);
	unsigned max_objects = slub_order_objects(SLUB_MAX_ORDER, size);
	unsigned order;

	if (min_objects > max_objects)
		min_objects = max_objects;
	for (; min_objects > 1; min_objects--) {
		for (unsigned fraction = 16; fraction >= 4; fraction /= 2) {
			order = calc_slab_order(size, min_objects, SLUB_MAX_ORDER, fraction);
			if (order <= SLUB_MAX_ORDER)
				return order;
		}
	}
	order = calc_slab_order(size, 1, SLUB_MAX_ORDER, 1);
	if (order <= SLUB_MAX_ORDER)
		return order;
	return calc_slab_order(size, 1, MAX_PAGE_ORDER, 1);
}

/* Names of caches the kernel creates with SLAB_RECLAIM_ACCOUNT (fs/dcache.c dentry,
 * fs/inode.c and the filesystems' *inode_cache, fs/buffer.c buffer_head,
 * lib/radix-tree.c radix_tree_node, net/socket.c sock_inode_cache). A heuristic for
 * caches first seen in a trace, which does not carry the cache flags. */
static bool reclaim_account_name(const char *name)
{
	size_t n = strlen(name);
	static const char suffix[] = "inode_cache";

	if (!strcmp(name, "dentry") || !strcmp(name, "buffer_head") ||
	    !strcmp(name, "radix_tree_node") || !strncmp(name, "kmalloc-rcl-", 12))
		return true;
	return n >= sizeof(suffix) - 1 && !strcmp(name + n - (sizeof(suffix) - 1), suffix);
}

/* mm/slub.c:kmem_cache_open → calculate_sizes, set_min_partial. Returns the index or -1. */
int slub_cache_create(struct slub *s, const char *name, uint32_t size, uint32_t flags)
{
	if (size == 0 || size > (PAGE_SIZE << MAX_PAGE_ORDER) || s->nr_caches >= SLUB_CACHE_LARGE)
		return -1;
	if (s->nr_caches == s->cap_caches) {
		/* realloc would not keep the line alignment of struct kmem_cache */
		uint32_t cap = s->cap_caches ? 2 * s->cap_caches : 128;
		struct kmem_cache *c = aligned_alloc(_Alignof(struct kmem_cache), cap * sizeof(*c));
		if (!c)
			return -1;
		if (s->nr_caches)
			memcpy(c, s->caches, s->nr_caches * sizeof(*c));
		free(s->caches);
		s->caches = c;
		s->cap_caches = cap;
	}
	struct kmem_cache *c = &s->caches[s->nr_caches];
	memset(c, 0, sizeof(*c));
	strncpy(c->name, name, sizeof(c->name) - 1);
	if (reclaim_account_name(c->name))
		flags |= SLAB_RECLAIM_ACCOUNT;
	c->size = size;
	c->flags = flags;
	c->oo_order = (uint8_t)slub_calculate_order(size, s->nr_cpus);
	c->oo_objects = (uint16_t)slub_order_objects(c->oo_order, size);
	c->min_order = (uint8_t)get_order_u64(size);
	c->min_objects = (uint16_t)slub_order_objects(c->min_order, size);
	/* mm/slub.c:set_min_partial: clamp(ilog2(size) / 2, MIN_PARTIAL 5, MAX_PARTIAL 10) */
	unsigned mp = ilog2_u(size) / 2;
	c->min_partial = mp < 5 ? 5 : mp > 10 ? 10 : mp;
	size_t rec = sizeof(struct slab) + (size_t)c->oo_objects * sizeof(uint16_t);
	c->slab_stride = (uint32_t)((rec + 63) & ~(size_t)63);
	c->partial_head = c->partial_tail = c->free_desc = SLAB_NONE;
	c->trace_name = UINT32_MAX;
	return (int)s->nr_caches++;
}

/* Doubles the slab records; realloc would not keep their line alignment. */
static bool grow_descriptors(struct kmem_cache *c)
{
	uint32_t cap = c->cap_desc ? 2 * c->cap_desc : 8;
	unsigned char *mem = aligned_alloc(64, (size_t)cap * c->slab_stride);
	if (!mem)
		return false;
	if (c->nr_desc)
		memcpy(mem, c->slab_mem, (size_t)c->nr_desc * c->slab_stride);
	free(c->slab_mem);
	c->slab_mem = mem;
	c->cap_desc = cap;
	return true;
}

static uint32_t get_descriptor(struct kmem_cache *c)
{
	uint32_t i = c->free_desc;
	if (i != SLAB_NONE) {
		c->free_desc = slab_at(c, i)->next;
		return i;
	}
	if (c->nr_desc == c->cap_desc && !grow_descriptors(c))
		return SLAB_NONE;
	return c->nr_desc++;
}

static void add_partial(struct kmem_cache *c, uint32_t i, bool tail)
{
	struct slab *sl = slab_at(c, i);
	sl->on_partial = 1;
	if (c->partial_head == SLAB_NONE) {
		sl->next = sl->prev = SLAB_NONE;
		c->partial_head = c->partial_tail = i;
	} else if (tail) {
		sl->next = SLAB_NONE;
		sl->prev = c->partial_tail;
		slab_at(c, c->partial_tail)->next = i;
		c->partial_tail = i;
	} else {
		sl->prev = SLAB_NONE;
		sl->next = c->partial_head;
		slab_at(c, c->partial_head)->prev = i;
		c->partial_head = i;
	}
	c->nr_partial++;
}

static void remove_partial(struct kmem_cache *c, uint32_t i)
{
	struct slab *sl = slab_at(c, i);
	if (sl->prev != SLAB_NONE)
		slab_at(c, sl->prev)->next = sl->next;
	else
		c->partial_head = sl->next;
	if (sl->next != SLAB_NONE)
		slab_at(c, sl->next)->prev = sl->prev;
	else
		c->partial_tail = sl->prev;
	sl->on_partial = 0;
	c->nr_partial--;
}

static void account_slab_pages(struct slub *s, const struct kmem_cache *c, int64_t pages)
{
	uint64_t bytes = (uint64_t)(pages < 0 ? -pages : pages) * PAGE_SIZE;
	uint64_t *ctr =
	    (c->flags & SLAB_RECLAIM_ACCOUNT) ? &s->reclaimable_bytes : &s->unreclaimable_bytes;
	*ctr = pages < 0 ? *ctr - bytes : *ctr + bytes;
}

/* mm/slub.c:allocate_slab [6.1]: first the preferred order without reclaim or retries, then
 * the minimum order with the caller's flags. Slab pages are lowmem: GFP_SLAB_BUG_MASK
 * (__GFP_HIGHMEM, __GFP_DMA32) is stripped; allocflags add __GFP_COMP, __GFP_DMA and
 * __GFP_RECLAIMABLE (SLAB_RECLAIM_ACCOUNT → MIGRATE_RECLAIMABLE pageblocks). */
static uint32_t new_slab(struct slub *s, struct kmem_cache *c, gfp_t gfp)
{
	gfp_t flags = gfp & ~(__GFP_HIGHMEM | __GFP_DMA32 | __GFP_ZERO);
	if (c->flags & SLAB_CACHE_DMA)
		flags |= __GFP_DMA;
	if (c->flags & SLAB_RECLAIM_ACCOUNT)
		flags |= __GFP_RECLAIMABLE;
	unsigned order = c->oo_order;
	gfp_t first = (flags | __GFP_NOWARN | __GFP_NORETRY) & ~__GFP_NOFAIL;
	if ((first & __GFP_DIRECT_RECLAIM) && order > c->min_order)
		first = (first | __GFP_NOMEMALLOC) & ~__GFP_RECLAIM;
	if (order)
		first |= __GFP_COMP;
	pfn_t pfn = alloc_pages(s->pgdat, first, order, 0);
	if (pfn == PFN_NONE && order > c->min_order) {
		order = c->min_order;
		pfn = alloc_pages(s->pgdat, flags | (order ? __GFP_COMP : 0), order, 0);
	}
	if (pfn == PFN_NONE)
		return SLAB_NONE;
	uint32_t i = get_descriptor(c);
	if (i == SLAB_NONE) {
		free_pages(s->pgdat, pfn, order, 0);
		return SLAB_NONE;
	}
	struct slab *sl = slab_at(c, i);
	sl->pfn = pfn;
	sl->order = (uint8_t)order;
	sl->objects = (uint16_t)slub_order_objects(order, c->size);
	sl->inuse = 0;
	sl->on_partial = 0;
	/* The kernel's initial freelist runs in address order (no CONFIG_SLAB_FREELIST_RANDOM):
	 * object 0 on top of the stack. */
	for (uint16_t k = 0; k < sl->objects; k++)
		sl->free[k] = (uint16_t)(sl->objects - 1 - k);
	pfn_to_page(s->pgdat, pfn)->flags |= PG_slab;
	c->nr_slabs++;
	c->nr_pages += 1u << order;
	c->total_objects += sl->objects;
	account_slab_pages(s, c, (int64_t)1 << order);
	return i;
}

/* mm/slub.c:discard_slab → __free_slab: the pages go back to the buddy allocator. */
static void discard_slab(struct slub *s, struct kmem_cache *c, uint32_t i)
{
	struct slab *sl = slab_at(c, i);
	pfn_to_page(s->pgdat, sl->pfn)->flags &= ~PG_slab;
	free_pages(s->pgdat, sl->pfn, sl->order, 0);
	c->nr_slabs--;
	c->nr_pages -= 1u << sl->order;
	c->total_objects -= sl->objects;
	account_slab_pages(s, c, -((int64_t)1 << sl->order));
	sl->pfn = PFN_NONE;
	sl->next = c->free_desc;
	c->free_desc = i;
}

/* No partial slab: a new one, which the kernel makes the CPU slab, so it goes to the
 * head of the partial list and serves the next allocations. SLAB_NONE (counted) when the
 * buddy allocator has no pages for it. */
uint32_t slub_new_partial_slab(struct slub *s, struct kmem_cache *c, gfp_t gfp)
{
	uint32_t i = new_slab(s, c, gfp);
	if (i == SLAB_NONE) {
		c->alloc_fail++;
		count_vm_event(s->vmstat, SLAB_ALLOC_FAIL);
		return SLAB_NONE;
	}
	add_partial(c, i, false);
	return i;
}

void slub_slab_now_full(struct kmem_cache *c, uint32_t i) { remove_partial(c, i); }

bool slub_cache_alloc(struct slub *s, int cache, uint32_t bytes_req, gfp_t gfp,
		      struct slab_obj *out)
{
	return slab_alloc(s, cache, bytes_req, gfp, out);
}

/* mm/slub.c:__slab_free [6.1]: a full slab returns to the partial list tail; an empty slab
 * is discarded when the node already holds min_partial partial slabs, else kept. */
void slub_slab_free_slow(struct slub *s, struct kmem_cache *c, uint32_t i, bool was_full)
{
	if (slab_at(c, i)->inuse == 0 && c->nr_partial >= c->min_partial) {
		if (!was_full)
			remove_partial(c, i);
		discard_slab(s, c, i);
	} else if (was_full) {
		add_partial(c, i, true);
	}
}

void slub_destroy(struct slub *s)
{
	for (uint32_t k = 0; k < s->nr_caches; k++)
		free(s->caches[k].slab_mem);
	free(s->caches);
	free(s->name_direct);
	free(s->name_map);
	free(s->name_keys);
	free(s->ptrs_mem);
	free(s->sites);
	memset(s, 0, sizeof(*s));
}

static const char *check_cache(const struct kmem_cache *c)
{
	uint64_t inuse = 0, objects = 0, slabs = 0, partial = 0, empty = 0;
	char seen[MAX_OBJS_PER_PAGE + 1];

	for (uint32_t i = 0; i < c->nr_desc; i++) {
		const struct slab *sl = slab_at(c, i);
		if (sl->pfn == PFN_NONE)
			continue;
		slabs++;
		inuse += sl->inuse;
		objects += sl->objects;
		if (sl->inuse > sl->objects || sl->objects > c->oo_objects)
			return "slab inuse exceeds objects";
		if (sl->inuse == 0)
			empty++;
		if ((sl->inuse < sl->objects) != (sl->on_partial != 0))
			return "non-full slab off the partial list (or full slab on it)";
		/* the free stack holds objects - inuse distinct objects of the slab */
		memset(seen, 0, sl->objects);
		for (unsigned k = 0; k < (unsigned)(sl->objects - sl->inuse); k++) {
			uint16_t obj = sl->free[k];
			if (obj >= sl->objects || seen[obj])
				return "corrupt slab freelist";
			seen[obj] = 1;
		}
	}
	for (uint32_t i = c->partial_head; i != SLAB_NONE; i = slab_at(c, i)->next)
		if (++partial > slabs)
			return "partial list loops";
	if (partial != c->nr_partial)
		return "nr_partial disagrees with the partial list";
	if (slabs != c->nr_slabs || objects != c->total_objects || inuse != c->inuse_objects)
		return "cache slab/object counters disagree with the slabs";
	if (empty > c->min_partial)
		return "more empty slabs kept than min_partial";
	return NULL;
}

const char *slub_check_caches(const struct slub *s)
{
	uint64_t recl = 0, unrecl = 0;
	for (uint32_t k = 0; k < s->nr_caches; k++) {
		const struct kmem_cache *c = &s->caches[k];
		const char *why = check_cache(c);
		if (why)
			return why;
		if (c->flags & SLAB_RECLAIM_ACCOUNT)
			recl += c->nr_pages * PAGE_SIZE;
		else
			unrecl += c->nr_pages * PAGE_SIZE;
	}
	if (recl != s->reclaimable_bytes ||
	    unrecl + s->large_pages * PAGE_SIZE != s->unreclaimable_bytes)
		return "SReclaimable/SUnreclaim disagree with the slabs";
	return NULL;
}

/* Object sizes (s->size) of the built-in caches. x86_64: the objsize column of a live 6.18
 * x86_64 /proc/slabinfo (the build host, 2 CPUs); fs_cache and cred_jar are merged there
 * and come from the same kernel's struct sizes rounded as SLAB_HWCACHE_ALIGN does.
 * i386 / i386-PAE: ESTIMATES scaled from the 64-bit structures (pointers and longs halve);
 * no i386 slabinfo was available. pgd_cache: PAE only, PTRS_PER_PGD(4) * 8 bytes. */
static const uint16_t builtin_sizes[NR_ARCHS][NR_SLUB_BUILTIN] = {
    [ARCH_I386] = {3584, 640, 104, 56, 32, 320, 640, 1344, 64, 128, 64, 0, 40},
    [ARCH_I386_PAE] = {3584, 640, 104, 56, 32, 320, 640, 1344, 64, 128, 64, 32, 40},
    [ARCH_X86_64] = {5888, 1600, 192, 104, 64, 704, 1152, 2112, 64, 192, 192, 0, 72},
};

static const char *const builtin_names[NR_SLUB_BUILTIN] = {
    "task_struct", "mm_struct",	   "vm_area_struct", "anon_vma", "anon_vma_chain",
    "files_cache", "signal_cache", "sighand_cache",  "fs_cache", "cred_jar",
    "pid",	   "pgd_cache",	   "vmap_area",
};

uint16_t slub_builtin_size(enum arch arch, enum slub_builtin b)
{
	return arch < NR_ARCHS && b < NR_SLUB_BUILTIN ? builtin_sizes[arch][b] : 0;
}

int slub_create_builtin(struct slub *s)
{
	for (int b = 0; b < NR_SLUB_BUILTIN; b++) {
		uint16_t size = builtin_sizes[s->arch][b];
		s->builtin[b] = UINT16_MAX;
		if (!size)
			continue;
		int idx = slub_cache_create(s, builtin_names[b], size, 0);
		if (idx < 0)
			return -1;
		s->builtin[b] = (uint16_t)idx;
	}
	return 0;
}

bool slub_cache_alloc_builtin(struct slub *s, enum slub_builtin b, gfp_t gfp, struct slab_obj *out)
{
	if (b >= NR_SLUB_BUILTIN || s->builtin[b] == UINT16_MAX)
		return false;
	int cache = s->builtin[b];
	return slub_cache_alloc(s, cache, s->caches[cache].size, gfp, out);
}
