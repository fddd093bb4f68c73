#include "fidelity.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool trace_origin_is_recording(const struct trace_origin *o)
{
	if (!o || trace_origin_get(o, "generator"))
		return false;
	return trace_origin_get(o, "importer") || trace_origin_get(o, "kernel");
}

void fidelity_baseline_take(struct fidelity_baseline *b, const struct sim *s)
{
	memcpy(b->vmstat, s->vmstat, sizeof(b->vmstat));
	memcpy(b->nr_alloc, s->pgdat.nr_alloc, sizeof(b->nr_alloc));
	b->tlb = s->mm.tlb;
	b->slab_req = s->slub.cum_bytes_req;
	b->slab_alloc = s->slub.cum_bytes_alloc;
}

static bool is_oom_mark(const struct mm_event *ev, const struct strtab *strings)
{
	if (!strings || ev->u.mark.name >= strings->count)
		return false;
	return strings->len[ev->u.mark.name] > 4 &&
	       memcmp(strings->str[ev->u.mark.name], "oom:", 4) == 0;
}

void fidelity_observe(struct fidelity_trace *t, const struct mm_event *ev,
		      const struct strtab *strings)
{
	t->events++;
	switch (ev->type) {
	case EV_FAULT:
		t->faults++;
		break;
	case EV_PAGE_ALLOC:
		if (ev->u.page.order < NR_PAGE_ORDERS)
			t->page_alloc[ev->u.page.order]++;
		else
			t->page_alloc_bad_order++;
		break;
	case EV_PAGE_FREE:
		if (ev->u.page.order < NR_PAGE_ORDERS)
			t->page_free[ev->u.page.order]++;
		break;
	case EV_KMALLOC:
		t->kmalloc++;
		t->kmalloc_req += ev->u.kmem.bytes_req;
		t->kmalloc_alloc += ev->u.kmem.bytes_alloc;
		break;
	case EV_CACHE_ALLOC:
		t->cache_alloc++;
		t->cache_req += ev->u.kmem.bytes_req;
		t->cache_alloc_bytes += ev->u.kmem.bytes_alloc;
		break;
	case EV_KFREE:
		t->kfree++;
		break;
	case EV_CACHE_FREE:
		t->cache_free++;
		break;
	case EV_VMALLOC:
		t->vmalloc++;
		t->vmalloc_bytes += ev->u.vmalloc.size;
		break;
	case EV_VFREE:
		t->vfree++;
		break;
	case EV_MARK:
		if (is_oom_mark(ev, strings))
			t->oom_marks++;
		break;
	default:
		break;
	}
}

/* Row helpers: REC only, MODEL only, or BOTH. */
static struct fidelity_row *add(struct fidelity_report *r, const char *group, const char *key,
				const char *label)
{
	if (r->n >= FIDELITY_MAX_ROWS)
		abort(); /* a programming error: the table below is fixed */
	struct fidelity_row *w = &r->row[r->n++];
	*w = (struct fidelity_row){.group = group, .key = key, .label = label};
	return w;
}

static void both(struct fidelity_report *r, const char *g, const char *k, const char *label,
		 uint64_t rec, uint64_t model)
{
	struct fidelity_row *w = add(r, g, k, label);
	w->has_recorded = w->has_model = true;
	w->recorded = rec;
	w->model = model;
}

static void rec_only(struct fidelity_report *r, const char *g, const char *k, const char *label,
		     uint64_t rec)
{
	struct fidelity_row *w = add(r, g, k, label);
	w->has_recorded = true;
	w->recorded = rec;
}

static void model_only(struct fidelity_report *r, const char *g, const char *k, const char *label,
		       uint64_t model)
{
	struct fidelity_row *w = add(r, g, k, label);
	w->has_model = true;
	w->model = model;
}

static uint64_t origin_u64(const struct trace_origin *o, const char *key)
{
	const char *v = o ? trace_origin_get(o, key) : NULL;
	return v ? strtoull(v, NULL, 10) : 0;
}

#define D(item) (s->vmstat[item] - b->vmstat[item])

static void build_events(struct fidelity_report *r, const struct fidelity_trace *t,
			 const struct fidelity_baseline *b, const struct sim *s)
{
	both(r, "faults", "page_faults", "page faults (user, kernel on user addresses)", t->faults,
	     D(PGFAULT));
	model_only(r, "faults", "major", "major faults (model: page cache misses)", D(PGMAJFAULT));
	model_only(r, "faults", "cow_copy", "copy-on-write copies", D(COW_FAULT));
	model_only(r, "faults", "cow_reuse", "copy-on-write reuses", D(COW_REUSE));
	model_only(r, "faults", "zero_page", "zero-page maps", D(ZERO_PAGE_MAP));
	model_only(r, "faults", "implicit_task", "implicit tasks (no fork seen)", D(IMPLICIT_TASK));
	model_only(r, "faults", "implicit_vma", "implicit VMAs (no mmap seen)", D(IMPLICIT_VMA));
	model_only(r, "faults", "sigsegv", "SIGSEGV (fault outside every VMA)", D(FAULT_SIGSEGV));
}

static bool user_cause(int c)
{
	return c == TLB_FORK || c == TLB_COW || c == TLB_MUNMAP || c == TLB_MPROTECT ||
	       c == TLB_MREMAP || c == TLB_EXEC_EXIT;
}

/* tlb:tlb_flush reasons (include/linux/mm_types.h enum tlb_flush_reason) against the
 * model: arch/x86/mm/tlb.c:flush_tlb_func traces reason 3 when the initiator flushes a
 * user mm itself, 2 when the flush names no mm (arch_tlbbatch_flush: reclaim), 1 on each
 * CPU an IPI reached, 5 instead of 1 when that CPU had switched to another mm;
 * native_flush_tlb_multi traces 4 once per IPI round; switch_mm_irqs_off traces 0. */
static void build_tlb(struct fidelity_report *r, const struct fidelity_baseline *b,
		      const struct sim *s, const struct trace_origin *o)
{
	uint64_t reason[6];
	char key[32];
	for (int i = 0; i < 6; i++) {
		snprintf(key, sizeof(key), "tlb_flush.reason%d", i);
		reason[i] = origin_u64(o, key);
	}
	uint64_t local_user = 0, ipis = 0;
	for (int c = 0; c < NR_TLB_CAUSES; c++) {
		if (user_cause(c) || c == TLB_RECLAIM)
			ipis += s->mm.tlb.ipis[c] - b->tlb.ipis[c];
		if (user_cause(c))
			local_user += s->mm.tlb.local[c] - b->tlb.local[c];
	}
	const char *g = "tlb";
	if (r->tlb_recorded) {
		rec_only(r, g, "task_switch", "task-switch flushes (reason 0)", reason[0]);
		both(r, g, "local_mm_shootdown", "local flushes of a user mm (reason 3)", reason[3],
		     local_user);
		both(r, g, "local_shootdown", "local flushes of no mm, reclaim (reason 2)",
		     reason[2], s->mm.tlb.local[TLB_RECLAIM] - b->tlb.local[TLB_RECLAIM]);
		both(r, g, "remote_send_ipi", "IPI rounds sent (reason 4)", reason[4],
		     D(NR_TLB_REMOTE_FLUSH));
		both(r, g, "remote_received", "flush IPIs received (reasons 1 + 5)",
		     reason[1] + reason[5], ipis);
		rec_only(r, g, "remote_wrong_cpu", "  of which the CPU ran another mm (reason 5)",
			 reason[5]);
		rec_only(r, g, "pages", "pages named by tlb_flush records",
			 origin_u64(o, "tlb_flush.pages"));
	}
	static const char *const cause_keys[NR_TLB_CAUSES] = {
	    "model_fork",    "model_cow",	   "model_munmap",    "model_mprotect",
	    "model_mremap",  "model_exec_exit",	   "model_kmap_wrap", "model_kmap_atomic",
	    "model_reclaim", "model_vmalloc_purge"};
	static const char *const cause_labels[NR_TLB_CAUSES] = {
	    "model flushes: fork",	   "model flushes: cow",	"model flushes: munmap",
	    "model flushes: mprotect",	   "model flushes: mremap",	"model flushes: exit/exec",
	    "model flushes: kmap wrap",	   "model flushes: kmap_local", "model flushes: reclaim",
	    "model flushes: vmalloc purge"};
	for (int c = 0; c < NR_TLB_CAUSES; c++)
		model_only(r, g, cause_keys[c], cause_labels[c],
			   s->mm.tlb.flushes[c] - b->tlb.flushes[c]);
	model_only(r, g, "nr_tlb_local_flush_all", "vmstat nr_tlb_local_flush_all",
		   D(NR_TLB_LOCAL_FLUSH_ALL));
	model_only(r, g, "nr_tlb_local_flush_one", "vmstat nr_tlb_local_flush_one",
		   D(NR_TLB_LOCAL_FLUSH_ONE));
	model_only(r, g, "nr_tlb_remote_flush_received", "vmstat nr_tlb_remote_flush_received",
		   D(NR_TLB_REMOTE_FLUSH_RECEIVED));
}

static const char *const order_keys[] = {"order0", "order1", "order2", "order3", "order4", "order5",
					 "order6", "order7", "order8", "order9", "order10"};
static const char *const order_labels[] = {"order 0 allocations",
					   "order 1",
					   "order 2",
					   "order 3",
					   "order 4",
					   "order 5",
					   "order 6",
					   "order 7",
					   "order 8",
					   "order 9",
					   "order 10"};
_Static_assert(sizeof(order_keys) / sizeof(order_keys[0]) == NR_PAGE_ORDERS,
	       "one key per page order");

static void build_pages(struct fidelity_report *r, const struct fidelity_trace *t,
			const struct fidelity_baseline *b, const struct sim *s)
{
	uint64_t rec_pages = 0, rec_freed = 0, allocated = 0;
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
		uint64_t m = s->pgdat.nr_alloc[o] - b->nr_alloc[o];
		rec_pages += t->page_alloc[o] << o;
		rec_freed += t->page_free[o] << o;
		if (t->page_alloc[o] || m)
			both(r, "page_alloc", order_keys[o], order_labels[o], t->page_alloc[o], m);
	}
	for (int z = 0; z < MAX_NR_ZONES; z++)
		allocated += D(PGALLOC_DMA + z);
	both(r, "page_alloc", "pages_allocated", "pages allocated", rec_pages, allocated);
	both(r, "page_alloc", "pages_freed", "pages freed", rec_freed, D(PGFREE));
	model_only(r, "page_alloc", "alloc_fail", "failed allocations", D(ALLOC_FAIL));
}

static void build_slab(struct fidelity_report *r, const struct fidelity_trace *t,
		       const struct fidelity_baseline *b, const struct sim *s)
{
	const char *g = "slab";
	uint64_t req = s->slub.cum_bytes_req - b->slab_req;
	uint64_t alloc = s->slub.cum_bytes_alloc - b->slab_alloc;
	uint64_t rreq = t->kmalloc_req + t->cache_req;
	uint64_t ralloc = t->kmalloc_alloc + t->cache_alloc_bytes;
	both(r, g, "objects_allocated", "objects allocated (kmalloc + kmem_cache_alloc)",
	     t->kmalloc + t->cache_alloc, D(SLAB_ALLOC));
	rec_only(r, g, "kmalloc_calls", "  of which kmalloc", t->kmalloc);
	both(r, g, "bytes_requested", "bytes requested", rreq, req);
	both(r, g, "bytes_allocated", "bytes allocated (object sizes)", ralloc, alloc);
	both(r, g, "internal_fragmentation", "bytes allocated - requested", ralloc - rreq,
	     alloc - req);
	model_only(r, g, "size_mismatch", "objects whose model size != recorded bytes_alloc",
		   s->slub.size_mismatch);
	rec_only(r, g, "kmalloc_bytes_requested", "  kmalloc bytes requested", t->kmalloc_req);
	rec_only(r, g, "kmalloc_bytes_allocated", "  kmalloc bytes allocated", t->kmalloc_alloc);
	both(r, g, "objects_freed", "objects freed (kfree + kmem_cache_free)",
	     t->kfree + t->cache_free, D(SLAB_FREE));
	model_only(r, g, "unknown_free", "frees of objects allocated before the recording",
		   D(SLAB_UNKNOWN_FREE));
	struct slub_frag f;
	slub_fragmentation(&s->slub, -1, &f);
	model_only(r, g, "live_bytes_allocated", "live at the end: bytes allocated", f.bytes_alloc);
	model_only(r, g, "live_partial_free_bytes", "live at the end: free bytes in partial slabs",
		   f.partial_free_bytes);
}

void fidelity_build(struct fidelity_report *r, const struct fidelity_trace *t,
		    const struct fidelity_baseline *b, const struct sim *s,
		    const struct trace_origin *origin)
{
	memset(r, 0, sizeof(*r));
	const char *missing = origin ? trace_origin_get(origin, "events_missing") : NULL;
	r->tlb_recorded =
	    trace_origin_is_recording(origin) && !(missing && strstr(missing, "tlb_flush"));
	build_events(r, t, b, s);
	build_tlb(r, b, s, origin);
	build_pages(r, t, b, s);
	build_slab(r, t, b, s);
	both(r, "vmalloc", "allocations", "vmalloc areas allocated", t->vmalloc, D(VMALLOC_ALLOC));
	both(r, "vmalloc", "frees", "vmalloc areas freed", t->vfree, D(VMALLOC_FREE));
	both(r, "oom", "victims", "OOM victims (oom:mark_victim)", t->oom_marks, D(OOM_KILL));
}

const struct fidelity_row *fidelity_find(const struct fidelity_report *r, const char *group,
					 const char *key)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->row[i].group, group) && !strcmp(r->row[i].key, key))
			return &r->row[i];
	return NULL;
}

static const char *origin_str(const struct trace_origin *o, const char *key)
{
	const char *v = o ? trace_origin_get(o, key) : NULL;
	return v ? v : "?";
}

static void print_cell(FILE *f, bool has, uint64_t v)
{
	if (has)
		fprintf(f, " %12" PRIu64, v);
	else
		fprintf(f, " %12s", "-");
}

void fidelity_print(FILE *f, const struct fidelity_report *r, const struct sim *s,
		    const struct fidelity_run *run)
{
	const struct machine_config *c = &s->machine.cfg;
	fprintf(f, "trace    %s (%" PRIu64 " events; recorded on %s, %s CPUs)\n", run->trace_path,
		run->events, origin_str(run->origin, "kernel"), origin_str(run->origin, "nr_cpus"));
	fprintf(f, "model    %s mem=%" PRIu64 "M cpus=%u (%s), implicit regions %s\n",
		arch_names[c->arch], c->mem_limit >> 20, c->nr_cpus, c->kernel.name,
		s->mm.implicit_regions ? "on" : "off");
	const char *group = "";
	for (int i = 0; i < r->n; i++) {
		const struct fidelity_row *w = &r->row[i];
		if (strcmp(group, w->group)) {
			group = w->group;
			fprintf(f, "\n%-50s %12s %12s %8s\n", group, "recorded", "model",
				"model/rec");
		}
		fprintf(f, "  %-48s", w->label);
		print_cell(f, w->has_recorded, w->recorded);
		print_cell(f, w->has_model, w->model);
		if (w->has_recorded && w->has_model && w->recorded)
			fprintf(f, " %8.2f", (double)w->model / (double)w->recorded);
		fputc('\n', f);
	}
	if (!r->tlb_recorded)
		fputs("\n(the trace has no tlb:tlb_flush counts: model flushes only)\n", f);
}

void fidelity_write_json(struct json *j, const struct fidelity_report *r, const struct sim *s,
			 const struct fidelity_run *run)
{
	const struct machine_config *c = &s->machine.cfg;
	char hash[24];
	snprintf(hash, sizeof(hash), "%016" PRIx64, run->trace_hash);
	json_begin_object(j);
	json_kv_string(j, "mmreplay_version", MMREPLAY_VERSION);
	json_key(j, "trace");
	json_begin_object(j);
	json_kv_string(j, "path", run->trace_path);
	json_kv_string(j, "hash", hash);
	json_kv_u64(j, "events", run->events);
	json_kv_string(j, "kernel", origin_str(run->origin, "kernel"));
	json_end_object(j);
	json_key(j, "configuration");
	json_begin_object(j);
	json_kv_string(j, "arch", arch_names[c->arch]);
	json_kv_u64(j, "mem", c->mem_limit);
	json_kv_u64(j, "cpus", c->nr_cpus);
	json_kv_u64(j, "seed", c->seed);
	json_kv_bool(j, "implicit_regions", s->mm.implicit_regions);
	json_end_object(j);
	json_kv_bool(j, "tlb_recorded", r->tlb_recorded);
	json_key(j, "fidelity");
	json_begin_object(j);
	const char *group = NULL;
	for (int i = 0; i < r->n; i++) {
		const struct fidelity_row *w = &r->row[i];
		if (!group || strcmp(group, w->group)) {
			if (group)
				json_end_object(j);
			group = w->group;
			json_key(j, group);
			json_begin_object(j);
		}
		json_key(j, w->key);
		json_begin_object(j);
		if (w->has_recorded) {
			json_kv_u64(j, "recorded", w->recorded);
		}
		if (w->has_model) {
			json_kv_u64(j, "model", w->model);
		}
		json_end_object(j);
	}
	if (group)
		json_end_object(j);
	json_end_object(j);
	json_end_object(j);
	json_finish(j);
}
