#include "vmap_tree.h"

#include <stdlib.h>
#include <string.h>

static inline uint64_t node_max(const struct vmap_tree *t, uint32_t i)
{
	return i == VT_NONE ? 0 : t->n[i].max;
}

static inline void update(struct vmap_tree *t, uint32_t i)
{
	struct vt_node *x = &t->n[i];
	uint64_t m = x->size, a = node_max(t, x->l), b = node_max(t, x->r);
	x->max = m > a ? (m > b ? m : b) : (a > b ? a : b);
}

/* A deterministic priority stream (xorshift32): the treap's shape depends only on the
 * sequence of operations. */
static uint32_t next_prio(struct vmap_tree *t)
{
	uint32_t x = t->seed;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return t->seed = x;
}

/* Room for k more nodes without touching the free list, so a carve never fails halfway. */
static bool reserve(struct vmap_tree *t, uint32_t k)
{
	if (t->used + k <= t->cap)
		return true;
	uint32_t cap = t->cap ? 2 * t->cap : 64;
	struct vt_node *n = realloc(t->n, cap * sizeof(*n));
	if (!n)
		return false;
	t->n = n;
	t->cap = cap;
	return true;
}

static uint32_t new_node(struct vmap_tree *t, uint64_t start, uint64_t size)
{
	uint32_t i = t->free_list;
	if (i != VT_NONE) {
		t->free_list = t->n[i].l;
	} else {
		if (!reserve(t, 1))
			return VT_NONE;
		i = t->used++;
	}
	t->n[i] = (struct vt_node){start, size, size, VT_NONE, VT_NONE, next_prio(t)};
	t->count++;
	return i;
}

static void del_node(struct vmap_tree *t, uint32_t i)
{
	t->n[i].l = t->free_list;
	t->free_list = i;
	t->count--;
}

/* Split u into keys < key (*l) and keys >= key (*r). */
static void split(struct vmap_tree *t, uint32_t u, uint64_t key, uint32_t *l, uint32_t *r)
{
	if (u == VT_NONE) {
		*l = *r = VT_NONE;
		return;
	}
	if (t->n[u].start < key) {
		split(t, t->n[u].r, key, &t->n[u].r, r);
		*l = u;
	} else {
		split(t, t->n[u].l, key, l, &t->n[u].l);
		*r = u;
	}
	update(t, u);
}

/* Every key of a is below every key of b. */
static uint32_t merge(struct vmap_tree *t, uint32_t a, uint32_t b)
{
	if (a == VT_NONE)
		return b;
	if (b == VT_NONE)
		return a;
	if (t->n[a].prio > t->n[b].prio) {
		t->n[a].r = merge(t, t->n[a].r, b);
		update(t, a);
		return a;
	}
	t->n[b].l = merge(t, a, t->n[b].l);
	update(t, b);
	return b;
}

static void insert(struct vmap_tree *t, uint32_t i)
{
	uint32_t l, r;
	split(t, t->root, t->n[i].start, &l, &r);
	t->root = merge(t, merge(t, l, i), r);
}

static void erase(struct vmap_tree *t, uint64_t start)
{
	uint32_t l, m, r;
	split(t, t->root, start, &l, &m);
	split(t, m, start + 1, &m, &r);
	if (m != VT_NONE)
		del_node(t, m);
	t->root = merge(t, l, r);
}

int vt_init(struct vmap_tree *t, uint64_t start, uint64_t end)
{
	memset(t, 0, sizeof(*t));
	t->root = t->free_list = VT_NONE;
	t->seed = 0x9e3779b9u;
	if (end <= start)
		return 0;
	uint32_t i = new_node(t, start, end - start);
	if (i == VT_NONE)
		return -1;
	t->root = i;
	return 0;
}

void vt_destroy(struct vmap_tree *t)
{
	free(t->n);
	memset(t, 0, sizeof(*t));
	t->root = VT_NONE;
}

/* Carve [addr, addr+size) out of the free range node i (which contains it). */
static bool carve(struct vmap_tree *t, uint32_t i, uint64_t addr, uint64_t size)
{
	uint64_t s = t->n[i].start, e = s + t->n[i].size;
	if (!reserve(t, 2))
		return false;
	erase(t, s);
	if (addr > s) {
		uint32_t k = new_node(t, s, addr - s);
		if (k == VT_NONE)
			return false;
		insert(t, k);
	}
	if (addr + size < e) {
		uint32_t k = new_node(t, addr + size, e - addr - size);
		if (k == VT_NONE)
			return false;
		insert(t, k);
	}
	return true;
}

/* mm/vmalloc.c:find_vmap_lowest_match: go left while the left subtree can hold the size. */
bool vt_alloc_lowest(struct vmap_tree *t, uint64_t size, uint64_t *addr)
{
	uint32_t u = t->root;
	if (node_max(t, u) < size)
		return false;
	while (u != VT_NONE) {
		if (node_max(t, t->n[u].l) >= size) {
			u = t->n[u].l;
		} else if (t->n[u].size >= size) {
			*addr = t->n[u].start;
			return carve(t, u, *addr, size);
		} else {
			u = t->n[u].r;
		}
	}
	return false;
}

/* The free range with the highest start <= addr. */
static uint32_t floor_node(const struct vmap_tree *t, uint64_t addr)
{
	uint32_t u = t->root, best = VT_NONE;
	while (u != VT_NONE) {
		if (t->n[u].start <= addr) {
			best = u;
			u = t->n[u].r;
		} else {
			u = t->n[u].l;
		}
	}
	return best;
}

bool vt_alloc_at(struct vmap_tree *t, uint64_t addr, uint64_t size)
{
	uint32_t u = floor_node(t, addr);
	if (u == VT_NONE || t->n[u].start + t->n[u].size < addr + size || addr + size < addr)
		return false;
	return carve(t, u, addr, size);
}

/* mm/vmalloc.c:merge_or_add_vmap_area: coalesce with the free neighbours. */
int vt_free(struct vmap_tree *t, uint64_t addr, uint64_t size)
{
	if (!reserve(t, 1))
		return -1;
	uint32_t prev = floor_node(t, addr);
	if (prev != VT_NONE && t->n[prev].start + t->n[prev].size == addr) {
		addr = t->n[prev].start;
		size += t->n[prev].size;
		erase(t, addr);
	}
	uint32_t next = floor_node(t, addr + size);
	if (next != VT_NONE && t->n[next].start == addr + size) {
		size += t->n[next].size;
		erase(t, t->n[next].start);
	}
	uint32_t k = new_node(t, addr, size);
	if (k == VT_NONE)
		return -1;
	insert(t, k);
	return 0;
}

static bool walk(const struct vmap_tree *t, uint32_t u, bool (*fn)(void *, uint64_t, uint64_t),
		 void *ctx)
{
	if (u == VT_NONE)
		return true;
	return walk(t, t->n[u].l, fn, ctx) && fn(ctx, t->n[u].start, t->n[u].size) &&
	       walk(t, t->n[u].r, fn, ctx);
}

void vt_walk(const struct vmap_tree *t, bool (*fn)(void *ctx, uint64_t start, uint64_t size),
	     void *ctx)
{
	walk(t, t->root, fn, ctx);
}
