/* String interning (engine/strtab.c): the cost per trace string the importer and the text
 * parser pay. Also the end-to-end proof of the cbench shim: arguments, setup/teardown
 * fixtures, pause/resume, items/s and a custom counter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbench.h"
#include "strtab.h"

struct strtab_fixture {
	char (*names)[24]; /* [n] distinct strings, in a seeded random order */
	uint32_t *lens;
	uint32_t n;
};

/* splitmix64: the sequence is fixed, so every run interns the same strings. */
static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void strtab_setup(struct cbench_state *st)
{
	uint32_t n = (uint32_t)cbench_range0(st);
	struct strtab_fixture *f = calloc(1, sizeof(*f));
	if (f) {
		f->names = malloc((size_t)n * sizeof(*f->names));
		f->lens = malloc((size_t)n * sizeof(*f->lens));
	}
	if (!f || !f->names || !f->lens) {
		st->data = f;
		cbench_skip_with_error(st, "out of memory");
		return;
	}
	f->n = n;
	uint64_t seed = 42;
	for (uint32_t i = 0; i < n; i++) {
		/* Shapes like a trace's strings: comm names and kmem_cache names. */
		int len = snprintf(f->names[i], sizeof(f->names[i]), "%s-%llu",
				   (i & 1) ? "kmalloc" : "task",
				   (unsigned long long)(splitmix64(&seed) % 1000000007u));
		f->lens[i] = (uint32_t)len;
	}
	st->data = f;
}

static void strtab_teardown(struct cbench_state *st)
{
	struct strtab_fixture *f = st->data;
	if (f) {
		free(f->names);
		free(f->lens);
		free(f);
	}
}

/* Lookups of strings already in a table of N: the common case when decoding a trace. */
static void bm_strtab_intern_hit(struct cbench_state *st)
{
	struct strtab_fixture *f = st->data;
	struct strtab t;
	strtab_init(&t);
	for (uint32_t i = 0; i < f->n; i++)
		if (strtab_intern(&t, f->names[i], f->lens[i]) == UINT32_MAX) {
			cbench_skip_with_error(st, "strtab_intern failed");
			strtab_free(&t);
			return;
		}
	uint32_t i = 0;
	while (cbench_keep_running(st)) {
		cbench_do_not_optimize(strtab_intern(&t, f->names[i], f->lens[i]));
		if (++i == f->n)
			i = 0;
	}
	cbench_set_items_processed(st, cbench_iterations(st));
	strtab_free(&t);
}
CBENCH_NAMED(bm_strtab_intern_hit, "strtab/intern_hit")
{
	cbench_setup(b, strtab_setup);
	cbench_teardown(b, strtab_teardown);
	cbench_arg_name(b, "strings");
	cbench_range_multiplier(b, 16);
	cbench_range(b, 16, 1 << 16);
}

/* Building a table of N new strings from empty (growth included); freeing it is not timed. */
static void bm_strtab_intern_new(struct cbench_state *st)
{
	struct strtab_fixture *f = st->data;
	uint64_t slots = 0;
	while (cbench_keep_running(st)) {
		struct strtab t;
		strtab_init(&t);
		for (uint32_t i = 0; i < f->n; i++)
			cbench_do_not_optimize(strtab_intern(&t, f->names[i], f->lens[i]));
		cbench_pause_timing(st);
		slots = t.nslots;
		strtab_free(&t);
		cbench_resume_timing(st);
	}
	cbench_set_items_processed(st, cbench_iterations(st) * (int64_t)f->n);
	cbench_counter(st, "hash_slots", (double)slots, CBENCH_COUNTER_DEFAULT);
}
CBENCH_NAMED(bm_strtab_intern_new, "strtab/intern_new")
{
	cbench_setup(b, strtab_setup);
	cbench_teardown(b, strtab_teardown);
	cbench_arg_name(b, "strings");
	cbench_range_multiplier(b, 16);
	cbench_range(b, 1 << 8, 1 << 16);
	cbench_unit(b, CBENCH_US);
}
