/* Translating a recording kernel's gfp bits to the engine's (engine/gfp.h) by symbol name,
 * using the __print_flags table in the tracepoint's print format: kernels renumber the
 * __GFP_* bits between releases, so the numeric values of the recording are never assumed. */
#ifndef MM_IMPORT_GFP_H
#define MM_IMPORT_GFP_H

#include <stdbool.h>
#include <stdint.h>

#include "gfp.h"

struct tep_event;

struct gfp_xlate {
	bool found;	     /* the event prints its gfp field through a flag table */
	gfp_t to_engine[64]; /* kernel bit i → engine bits (0: no engine equivalent) */
	uint64_t unnamed;    /* kernel bits the table names but the engine does not have */
};

/* The engine bit for a kernel symbol name ("__GFP_IO"), 0 when the engine has none. */
gfp_t gfp_engine_bit(const char *name);

/* Builds x from ev's print format: the __print_flags() whose field is `field`. Single-bit
 * entries named __GFP_* are mapped by name; composites (GFP_KERNEL, __GFP_RECLAIM) are
 * unions of those and need no entry. Returns 0, or -1 (x->found false) when the event has
 * no such table. */
int gfp_xlate_build(struct gfp_xlate *x, struct tep_event *ev, const char *field);

/* Adds one (value, name) entry; exposed so tests can build tables by hand. */
void gfp_xlate_add(struct gfp_xlate *x, uint64_t value, const char *name);

/* Kernel flags → engine flags; *dropped set when a set bit has no engine equivalent. */
static inline gfp_t gfp_xlate(const struct gfp_xlate *x, uint64_t kflags, bool *dropped)
{
	gfp_t out = 0;
	*dropped = false;
	while (kflags) {
		int bit = __builtin_ctzll(kflags);
		kflags &= kflags - 1;
		if (x->to_engine[bit])
			out |= x->to_engine[bit];
		else
			*dropped = true;
	}
	return out;
}

#endif
