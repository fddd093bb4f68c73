/* What the slab side reports: fragmentation, /proc/slabinfo, and perf kmem's per call site
 * table (mm/slab_common.c, tools/perf/builtin-kmem.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slub_internal.h"

void slub_fragmentation(const struct slub *s, int cache, struct slub_frag *f)
{
	memset(f, 0, sizeof(*f));
	for (uint32_t k = 0; k < s->nr_caches; k++) {
		if (cache >= 0 && (uint32_t)cache != k)
			continue;
		const struct kmem_cache *c = &s->caches[k];
		f->bytes_req += c->bytes_req_live;
		f->bytes_alloc += c->inuse_objects * c->size;
		/* no per-CPU slabs: every non-full slab is on the partial list */
		f->partial_free_bytes += (c->total_objects - c->inuse_objects) * c->size;
		f->slab_leftover_bytes += c->nr_pages * PAGE_SIZE - c->total_objects * c->size;
	}
	if (cache < 0) {
		f->bytes_req += s->large_bytes_req_live;
		f->bytes_alloc += s->large_pages * PAGE_SIZE;
	}
	f->internal = f->bytes_alloc - f->bytes_req;
}

/* mm/slab_common.c:print_slabinfo_header and cache_show; caches newest first, as the
 * kernel's slab_caches list (list_add at the head) is walked. */
void slub_render_slabinfo(const struct slub *s, struct strbuf *sb)
{
	strbuf_printf(sb, "%s",
		      "slabinfo - version: 2.1\n"
		      "# name            <active_objs> <num_objs> <objsize> <objperslab> "
		      "<pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata "
		      "<active_slabs> <num_slabs> <sharedavail>\n");
	for (uint32_t k = s->nr_caches; k-- > 0;) {
		const struct kmem_cache *c = &s->caches[k];
		strbuf_printf(sb,
			      "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu "
			      "%6lu %6lu\n",
			      c->name, (unsigned long)c->inuse_objects,
			      (unsigned long)c->total_objects, c->size, c->oo_objects,
			      1 << c->oo_order, 0u, 0u, 0u, (unsigned long)c->nr_slabs,
			      (unsigned long)c->nr_slabs, 0ul);
	}
}

static double frag_pct(uint64_t req, uint64_t alloc)
{
	return alloc ? 100.0 - 100.0 * (double)req / (double)alloc : 0.0;
}

static int site_cmp(const void *a, const void *b)
{
	const struct slub_site *x = *(const struct slub_site *const *)a;
	const struct slub_site *y = *(const struct slub_site *const *)b;
	if (x->bytes_alloc != y->bytes_alloc)
		return x->bytes_alloc < y->bytes_alloc ? 1 : -1;
	return x->call_site < y->call_site ? -1 : x->call_site > y->call_site;
}

static void render_site(struct strbuf *sb, const char *name, const struct slub_site *st)
{
	uint64_t hits = st->hits ? st->hits : 1;
	strbuf_printf(sb, " %-34s | %9llu/%-5lu | %9llu/%-5lu | %8lu | %9lu | %6.3f%%\n", name,
		      (unsigned long long)st->bytes_alloc, (unsigned long)(st->bytes_alloc / hits),
		      (unsigned long long)st->bytes_req, (unsigned long)(st->bytes_req / hits),
		      (unsigned long)st->hits, (unsigned long)st->pingpong,
		      frag_pct(st->bytes_req, st->bytes_alloc));
}

/* tools/perf/builtin-kmem.c (__print_slab_result, print_slab_summary) layout. Call sites
 * print as addresses: the engine has no symbol table. */
void slub_render_callers(const struct slub *s, struct strbuf *sb, unsigned max_rows)
{
	static const char dots[] = "-----------------------------------------------------------"
				   "----------------------------------------------";
	const struct slub_site **v = malloc((s->nr_sites + 1) * sizeof(*v));
	unsigned n = 0;
	char name[40];

	if (!v) {
		sb->oom = true;
		return;
	}
	for (uint32_t j = 0; j <= s->site_mask; j++)
		if (s->sites[j].hits)
			v[n++] = &s->sites[j];
	qsort(v, n, sizeof(*v), site_cmp);
	strbuf_printf(
	    sb,
	    "%s\n %-34s | Total_alloc/Per | Total_req/Per   | Hit      | Ping-pong | Frag\n%s\n",
	    dots, "Callsite", dots);
	for (unsigned k = 0; k < n && k < max_rows; k++) {
		snprintf(name, sizeof(name), "%#llx", (unsigned long long)v[k]->call_site);
		render_site(sb, name, v[k]);
	}
	if (s->sites[site_other(s)].hits)
		render_site(sb, "(other call sites)", &s->sites[site_other(s)]);
	strbuf_printf(sb, "%s\n", dots);
	free(v);
	struct slub_frag f;
	slub_fragmentation(s, -1, &f);
	strbuf_printf(sb,
		      "\nSUMMARY (SLAB allocator)\n========================\n"
		      "Total bytes requested: %llu\nTotal bytes allocated: %llu\n"
		      "Total bytes freed:     %llu\nNet total bytes allocated: %llu\n"
		      "Total bytes wasted on internal fragmentation: %llu\n"
		      "Internal fragmentation: %f%%\n"
		      "Live internal fragmentation: %llu bytes (%f%%)\n"
		      "Unknown frees: %llu, double frees: %llu, missed frees: %llu\n",
		      (unsigned long long)s->cum_bytes_req, (unsigned long long)s->cum_bytes_alloc,
		      (unsigned long long)s->cum_bytes_freed,
		      (unsigned long long)(s->cum_bytes_alloc - s->cum_bytes_freed),
		      (unsigned long long)(s->cum_bytes_alloc - s->cum_bytes_req),
		      frag_pct(s->cum_bytes_req, s->cum_bytes_alloc),
		      (unsigned long long)f.internal, frag_pct(f.bytes_req, f.bytes_alloc),
		      (unsigned long long)s->unknown_free, (unsigned long long)s->double_free,
		      (unsigned long long)s->missed_free);
	for (uint64_t k = 0; k < s->double_free && k < SLUB_DOUBLE_FREE_LOG; k++)
		strbuf_printf(sb, "double free: ts=%llu pid=%u ptr=%#llx call_site=%#llx\n",
			      (unsigned long long)s->double_frees[k].ts, s->double_frees[k].pid,
			      (unsigned long long)s->double_frees[k].ptr,
			      (unsigned long long)s->double_frees[k].call_site);
}
