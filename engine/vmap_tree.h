/* The free vmap space as a treap keyed by address and augmented with the largest free
 * range of each subtree: the role of the kernel's free_vmap_area_root, an rb-tree augmented
 * with subtree_max_size (mm/vmalloc.c). Lowest-address first fit in O(log n) expected.
 * Internal to vmalloc.c. */
#ifndef MM_VMAP_TREE_H
#define MM_VMAP_TREE_H

#include <stdbool.h>
#include <stdint.h>

#define VT_NONE UINT32_MAX

struct vt_node {
	uint64_t start, size;
	uint64_t max; /* largest size in this subtree */
	uint32_t l, r;
	uint32_t prio;
};

struct vmap_tree {
	struct vt_node *n;
	uint32_t root, free_list, used, cap;
	uint32_t count; /* free ranges */
	uint32_t seed;
};

int vt_init(struct vmap_tree *t, uint64_t start, uint64_t end);
void vt_destroy(struct vmap_tree *t);
/* Lowest address where size bytes fit; carves it out. false when nothing fits. */
bool vt_alloc_lowest(struct vmap_tree *t, uint64_t size, uint64_t *addr);
/* Carve [addr, addr + size) if it lies inside one free range; false otherwise. */
bool vt_alloc_at(struct vmap_tree *t, uint64_t addr, uint64_t size);
/* Return [addr, addr + size) to the free space, merging with its neighbours. -1 = host memory. */
int vt_free(struct vmap_tree *t, uint64_t addr, uint64_t size);
static inline uint64_t vt_largest(const struct vmap_tree *t)
{
	return t->root == VT_NONE ? 0 : t->n[t->root].max;
}
/* Calls fn for every free range in address order; stops early when fn returns false. */
void vt_walk(const struct vmap_tree *t, bool (*fn)(void *ctx, uint64_t start, uint64_t size),
	     void *ctx);

#endif
