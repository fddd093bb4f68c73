/* VFS-like kernel object traffic shared by the workloads: dentry/inode cache, file I/O. */
#include <stdlib.h>

#include "gen_common.h"
#include "gfp.h"

int gen_dcache_init(struct gen_dcache *dc, uint32_t cap)
{
	dc->n = dc->head = 0;
	dc->cap = cap ? cap : 1;
	dc->ent = calloc(dc->cap, sizeof(*dc->ent));
	return dc->ent ? 0 : -1;
}

void gen_dcache_destroy(struct gen_dcache *dc)
{
	free(dc->ent);
	dc->ent = NULL;
}

void gen_dcache_lookup(struct gen *g, struct gen_rng *r, struct gen_dcache *dc,
		       const struct gproc *p, double miss)
{
	if (!gen_rng_chance(r, miss))
		return;
	uint32_t slot = (dc->head + dc->n) % dc->cap;
	if (dc->n == dc->cap) {
		/* prune_dcache_sb: the least recently used pair goes first */
		gen_cache_free(g, p, KC_EXT4_INODE, dc->ent[dc->head][1]);
		gen_cache_free(g, p, KC_DENTRY, dc->ent[dc->head][0]);
		dc->head = (dc->head + 1) % dc->cap;
		dc->n--;
	}
	dc->ent[slot][0] = gen_cache_alloc(g, p, KC_DENTRY, GFP_KERNEL | __GFP_RECLAIMABLE);
	dc->ent[slot][1] = gen_cache_alloc(g, p, KC_EXT4_INODE, GFP_NOFS | __GFP_RECLAIMABLE);
	dc->n++;
}

void gen_file_io(struct gen *g, struct gen_rng *r, struct gen_dcache *dc, const struct gproc *p,
		 double miss)
{
	uint64_t name = gen_cache_alloc(g, p, KC_NAMES_CACHE, GFP_KERNEL);
	gen_dcache_lookup(g, r, dc, p, miss);
	gen_cache_free(g, p, KC_NAMES_CACHE, name);
	uint64_t f = gen_cache_alloc(g, p, KC_FILP, GFP_KERNEL);
	uint32_t sz = gen_kmalloc_size(r);
	uint64_t buf = gen_kmalloc(g, p, sz, GFP_KERNEL, 0xc1300040ull);
	if (gen_rng_chance(r, miss)) {
		/* a page cache miss: the block layer's buffer heads come and go */
		uint64_t bh = gen_cache_alloc(g, p, KC_BUFFER_HEAD, GFP_NOFS);
		gen_cache_free(g, p, KC_BUFFER_HEAD, bh);
	}
	gen_kfree(g, p, buf, sz, 0xc1300080ull);
	gen_cache_free(g, p, KC_FILP, f);
}
