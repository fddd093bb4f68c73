/* Shared between slub.c (caches, slabs) and slab_common.c (kmalloc, trace pointers,
 * renderers); not part of the engine's API. */
#ifndef MM_SLUB_INTERNAL_H
#define MM_SLUB_INTERNAL_H

#include "slub.h"

int slub_cache_create(struct slub *s, const char *name, uint32_t size, uint32_t flags);
int slub_create_builtin(struct slub *s);
void slub_cache_free_obj(struct slub *s, const struct slab_obj *o);
const char *slub_check_caches(const struct slub *s);

#endif
