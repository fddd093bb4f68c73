/* Interned strings: id <-> string. Id 0 is the empty string ("none"). Ids are dense and
 * assigned in order of first interning, so a trace's string table is deterministic. */
#ifndef MM_STRTAB_H
#define MM_STRTAB_H

#include <stddef.h>
#include <stdint.h>

#define STRTAB_MAX_LEN 4095 /* longest string accepted (bytes, without NUL) */

struct strtab {
	char **str;        /* [count] */
	uint32_t *len;     /* [count] */
	uint32_t count, cap;
	uint32_t *slots;   /* open addressing: id + 1, 0 = empty */
	uint32_t nslots;   /* power of two */
};

void strtab_init(struct strtab *t);
void strtab_free(struct strtab *t);
/* Returns the id of s (adding it when new), or UINT32_MAX if out of memory or too long. */
uint32_t strtab_intern(struct strtab *t, const char *s, size_t len);
/* Returns the id or UINT32_MAX when absent. */
uint32_t strtab_find(const struct strtab *t, const char *s, size_t len);
/* NULL when id is not defined. */
static inline const char *strtab_get(const struct strtab *t, uint32_t id)
{
	return id < t->count ? t->str[id] : NULL;
}

#endif
