#include "strtab.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a: short strings, a few thousand of them; collisions are resolved by probing. */
static uint32_t hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

void strtab_init(struct strtab *t)
{
	memset(t, 0, sizeof(*t));
	strtab_intern(t, "", 0);
}

void strtab_free(struct strtab *t)
{
	for (uint32_t i = 0; i < t->count; i++)
		free(t->str[i]);
	free(t->str);
	free(t->len);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static uint32_t *probe(const struct strtab *t, const char *s, size_t len)
{
	uint32_t mask = t->nslots - 1;
	for (uint32_t i = hash_bytes(s, len) & mask;; i = (i + 1) & mask) {
		uint32_t id = t->slots[i];
		if (id == 0)
			return &t->slots[i];
		id--;
		if (t->len[id] == len && memcmp(t->str[id], s, len) == 0)
			return &t->slots[i];
	}
}

static int grow_slots(struct strtab *t)
{
	uint32_t n = t->nslots ? t->nslots * 2 : 64;
	uint32_t *slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -1;
	free(t->slots);
	t->slots = slots;
	t->nslots = n;
	for (uint32_t id = 0; id < t->count; id++)
		*probe(t, t->str[id], t->len[id]) = id + 1;
	return 0;
}

static int grow_arrays(struct strtab *t)
{
	uint32_t cap = t->cap ? t->cap * 2 : 64;
	char **str = realloc(t->str, cap * sizeof(*str));
	if (!str)
		return -1;
	t->str = str;
	uint32_t *len = realloc(t->len, cap * sizeof(*len));
	if (!len)
		return -1;
	t->len = len;
	t->cap = cap;
	return 0;
}

uint32_t strtab_find(const struct strtab *t, const char *s, size_t len)
{
	if (!t->nslots)
		return UINT32_MAX;
	uint32_t id = *probe(t, s, len);
	return id ? id - 1 : UINT32_MAX;
}

uint32_t strtab_intern(struct strtab *t, const char *s, size_t len)
{
	if (len > STRTAB_MAX_LEN)
		return UINT32_MAX;
	uint32_t id = strtab_find(t, s, len);
	if (id != UINT32_MAX)
		return id;
	/* keep the load factor under 1/2 */
	if ((t->count + 1) * 2 > t->nslots && grow_slots(t))
		return UINT32_MAX;
	if (t->count == t->cap && grow_arrays(t))
		return UINT32_MAX;
	char *copy = malloc(len + 1);
	if (!copy)
		return UINT32_MAX;
	memcpy(copy, s, len);
	copy[len] = 0;
	id = t->count++;
	t->str[id] = copy;
	t->len[id] = (uint32_t)len;
	*probe(t, s, len) = id + 1;
	return id;
}
