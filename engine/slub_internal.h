/* Shared between slub.c (caches, slabs), slab_common.c (kmalloc, trace pointers) and
 * slub_report.c (renderers); not part of the engine's API. */
#ifndef MM_SLUB_INTERNAL_H
#define MM_SLUB_INTERNAL_H

#include "slub.h"
#include "vmstat.h"

int slub_cache_create(struct slub *s, const char *name, uint32_t size, uint32_t flags);
int slub_create_builtin(struct slub *s);
const char *slub_check_caches(const struct slub *s);

/* The slot past the open-addressing table sums the call sites beyond SLUB_MAX_SITES, so a
 * slot number always names a struct slub_site. */
static inline uint16_t site_other(const struct slub *s) { return (uint16_t)(s->site_mask + 1); }

/* The rare halves of the object fast paths below, kept out of line so that the per-object
 * work inlines into the trace-event handlers without their register saves. */
uint32_t slub_new_partial_slab(struct slub *s, struct kmem_cache *c, gfp_t gfp);
void slub_slab_now_full(struct kmem_cache *c, uint32_t i);
void slub_slab_free_slow(struct slub *s, struct kmem_cache *c, uint32_t i, bool was_full);

/* The object off the top of the free stack of partial slab i of cache c. Returns whether
 * the slab is now full: the caller then takes it off the partial list
 * (slub_slab_now_full), as its last step, so that a caller with more to do after the
 * allocation keeps its values in registers without saving them across a call. */
static inline bool slab_alloc_from(struct slub *s, struct kmem_cache *c, uint32_t i, int cache,
				   uint32_t bytes_req, struct slab_obj *out)
{
	/* out first: the caller's values then die here rather than stay in registers */
	out->slab = i;
	out->cache = (uint16_t)cache;
	out->bytes_req = bytes_req;
	struct slab *sl = slab_at(c, i);
	const unsigned inuse = sl->inuse + 1u, objects = sl->objects;
	out->obj = sl->free[objects - inuse];
	sl->inuse = (uint16_t)inuse;
	c->inuse_objects++;
	c->bytes_req_live += bytes_req;
	count_vm_event(s->vmstat, SLAB_ALLOC);
	return inuse == objects;
}

/* mm/slub.c:slab_alloc_node, modeled without per-CPU slabs: the object comes off the top
 * of the free stack of the first partial slab; a slab that fills up leaves the partial
 * list. */
static inline bool slab_alloc(struct slub *s, int cache, uint32_t bytes_req, gfp_t gfp,
			      struct slab_obj *out)
{
	struct kmem_cache *c = &s->caches[cache];
	uint32_t i = c->partial_head;

	if (__builtin_expect(i == SLAB_NONE, 0)) {
		i = slub_new_partial_slab(s, c, gfp);
		if (i == SLAB_NONE)
			return false;
	}
	if (slab_alloc_from(s, c, i, cache, bytes_req, out))
		slub_slab_now_full(c, i);
	return true;
}

/* mm/slub.c:slab_free → __slab_free: the object goes on top of its slab's free stack; only a
 * slab that was full or becomes empty changes lists (slub_slab_free_slow). c is o's cache:
 * a caller that has it at hand passes it rather than have it looked up again. */
static inline void slab_free_in(struct slub *s, struct kmem_cache *c, const struct slab_obj *o)
{
	struct slab *sl = slab_at(c, o->slab);
	bool was_full = sl->inuse == sl->objects;

	sl->free[sl->objects - sl->inuse] = o->obj;
	sl->inuse--;
	c->inuse_objects--;
	c->bytes_req_live -= o->bytes_req;
	count_vm_event(s->vmstat, SLAB_FREE);
	if (__builtin_expect(was_full || sl->inuse == 0, 0))
		slub_slab_free_slow(s, c, o->slab, was_full);
}

static inline void slab_free(struct slub *s, const struct slab_obj *o)
{
	slab_free_in(s, &s->caches[o->cache], o);
}

#endif
