#include "import_gfp.h"

#include <event-parse.h>
#include <stdlib.h>
#include <string.h>

/* Names as in include/linux/gfp_types.h [6.18], which the kmem tracepoints print through
 * include/trace/events/mmflags.h:__def_gfpflag_names. */
static const struct {
	const char *name;
	gfp_t bit;
} engine_gfp_names[] = {
    {"__GFP_DMA", __GFP_DMA},
    {"__GFP_HIGHMEM", __GFP_HIGHMEM},
    {"__GFP_DMA32", __GFP_DMA32},
    {"__GFP_MOVABLE", __GFP_MOVABLE},
    {"__GFP_RECLAIMABLE", __GFP_RECLAIMABLE},
    {"__GFP_HIGH", __GFP_HIGH},
    {"__GFP_IO", __GFP_IO},
    {"__GFP_FS", __GFP_FS},
    {"__GFP_ZERO", __GFP_ZERO},
    {"__GFP_DIRECT_RECLAIM", __GFP_DIRECT_RECLAIM},
    {"__GFP_KSWAPD_RECLAIM", __GFP_KSWAPD_RECLAIM},
    {"__GFP_WRITE", __GFP_WRITE},
    {"__GFP_NOWARN", __GFP_NOWARN},
    {"__GFP_RETRY_MAYFAIL", __GFP_RETRY_MAYFAIL},
    {"__GFP_NOFAIL", __GFP_NOFAIL},
    {"__GFP_NORETRY", __GFP_NORETRY},
    {"__GFP_MEMALLOC", __GFP_MEMALLOC},
    {"__GFP_COMP", __GFP_COMP},
    {"__GFP_NOMEMALLOC", __GFP_NOMEMALLOC},
    {"__GFP_HARDWALL", __GFP_HARDWALL},
    {"__GFP_THISNODE", __GFP_THISNODE},
    {"__GFP_ACCOUNT", __GFP_ACCOUNT},
};

gfp_t gfp_engine_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(engine_gfp_names) / sizeof(engine_gfp_names[0]); i++)
		if (strcmp(name, engine_gfp_names[i].name) == 0)
			return engine_gfp_names[i].bit;
	return 0;
}

void gfp_xlate_add(struct gfp_xlate *x, uint64_t value, const char *name)
{
	/* Composites are unions of single bits the table also lists. */
	if (value == 0 || (value & (value - 1)) != 0)
		return;
	int bit = __builtin_ctzll(value);
	gfp_t e = gfp_engine_bit(name);
	x->found = true;
	if (e)
		x->to_engine[bit] = e;
	else
		x->unnamed |= value;
}

static bool arg_is_field(const struct tep_print_arg *a, const char *field)
{
	while (a && a->type == TEP_PRINT_TYPE)
		a = a->typecast.item;
	return a && a->type == TEP_PRINT_FIELD && a->field.name &&
	       strcmp(a->field.name, field) == 0;
}

/* The print args are a tree: the gfp table usually sits under "gfp ? __print_flags() :
 * \"none\"", so the walk descends into operators and casts. */
static const struct tep_print_flag_sym *find_flags(const struct tep_print_arg *a, const char *field,
						   int depth)
{
	for (; a && depth < 32; a = a->next) {
		const struct tep_print_flag_sym *s = NULL;
		switch (a->type) {
		case TEP_PRINT_FLAGS:
			if (arg_is_field(a->flags.field, field))
				return a->flags.flags;
			break;
		case TEP_PRINT_OP:
			s = find_flags(a->op.left, field, depth + 1);
			if (!s)
				s = find_flags(a->op.right, field, depth + 1);
			break;
		case TEP_PRINT_TYPE:
			s = find_flags(a->typecast.item, field, depth + 1);
			break;
		default:
			break;
		}
		if (s)
			return s;
	}
	return NULL;
}

int gfp_xlate_build(struct gfp_xlate *x, struct tep_event *ev, const char *field)
{
	memset(x, 0, sizeof(*x));
	const struct tep_print_flag_sym *s = ev ? find_flags(ev->print_fmt.args, field, 0) : NULL;
	for (; s; s = s->next) {
		char *end;
		if (!s->value || !s->str)
			continue;
		uint64_t v = strtoull(s->value, &end, 0);
		if (*end == 0)
			gfp_xlate_add(x, v, s->str);
	}
	return x->found ? 0 : -1;
}
