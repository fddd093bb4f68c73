/* The text format's field tables (tools/text.c), shared by its printer and its parser
 * (tools/text_parse.c): one table of fields per event type. Internal to those two. */
#ifndef MM_TEXT_FIELDS_H
#define MM_TEXT_FIELDS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "event.h"
#include "strtab.h"

enum field_kind {
	K_HEX,	  /* u64 printed in hex (addresses, lengths) */
	K_DEC,	  /* unsigned printed in decimal */
	K_XDEC,	  /* unsigned printed in hex (gfp) */
	K_SDEC,	  /* int32 */
	K_STR,	  /* string id, written by value */
	K_PROT,	  /* rwx letters */
	K_MFLAGS, /* mmap flag names */
	K_ACCESS, /* fault access names */
	K_FFLAGS, /* fork flag names */
};

struct field {
	const char *name;
	uint8_t kind, width; /* width: bytes of the struct member */
	uint8_t optional;    /* omitted from output when zero */
	uint16_t off;
};

struct flag_name {
	uint32_t bit;
	const char *name;
};

extern const struct field *const text_type_fields[EV_NR_TYPES];
extern const struct flag_name text_mflag_names[], text_access_names[], text_fflag_names[];

/* Room for the longest line: a 4095-byte string fully escaped, plus the other fields. */
#define TEXT_LINE_MAX (4 * STRTAB_MAX_LEN + 1024)

static inline uint64_t text_load(const struct mm_event *ev, const struct field *f)
{
	const uint8_t *p = (const uint8_t *)ev + f->off;
	if (f->width == 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	if (f->width == 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static inline void text_store(struct mm_event *ev, const struct field *f, uint64_t v)
{
	uint8_t *p = (uint8_t *)ev + f->off;
	if (f->width == 8) {
		memcpy(p, &v, 8);
	} else if (f->width == 4) {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, 4);
	} else {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, 2);
	}
}

#endif
