/* Real traces at both levels: every committed sample replays at model level with nothing
 * unhandled; page level is deterministic, counts frees of pages allocated before the
 * recording, and keeps free + pcp + live = what it started with; the fidelity JSON agrees
 * with the trace's own counts and is byte-identical on reruns. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fidelity.h"
#include "sim.h"
#include "trace_io.h"
#include "u64map.h"

static const char *const samples[] = {"cow-fork", "make-j2", "oom-cgroup", "shell-loop",
				      "vmalloc-bpf"};
#define NR_SAMPLES (sizeof(samples) / sizeof(samples[0]))

struct config {
	enum arch arch;
	const char *mem;
	unsigned cpus;
};
static const struct config recording_like = {ARCH_X86_64, "24G", 2};
static const struct config small_i386 = {ARCH_I386, "2G", 1}; /* has HighMem */

static const char *mmreplay(void)
{
	const char *m = getenv("MMREPLAY");
	return m ? m : "bin/mmreplay";
}

static struct trace_reader *open_sample(const char *name)
{
	char path[256], err[512];
	snprintf(path, sizeof(path), "traces/real/%s.mmt", name);
	struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	return r;
}

static struct sim *boot(const struct config *c, struct trace_reader *r, enum replay_level level)
{
	struct machine_config cfg;
	char err[256];
	machine_config_default(&cfg, c->arch);
	cr_assert_eq(parse_size(c->mem, &cfg.mem_limit, err, sizeof(err)), 0);
	cfg.ram = cfg.mem_limit;
	cfg.nr_cpus = c->cpus;
	struct sim *s = sim_create(&cfg, trace_reader_strings(r), level, err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	return s;
}

/* Applies every event; `each` (may be NULL) sees it first. */
static void replay_all(struct trace_reader *r, struct sim *s,
		       void (*each)(void *ctx, const struct mm_event *ev), void *ctx)
{
	static struct mm_event buf[4096];
	char err[512];
	ssize_t n;
	while ((n = trace_reader_next(r, buf, 4096, err, sizeof(err))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			if (each)
				each(ctx, &buf[i]);
			sim_apply(s, &buf[i]);
		}
	cr_assert_geq(n, 0, "%s", err);
}

static void observe(void *ctx, const struct mm_event *ev) { fidelity_observe(ctx, ev, NULL); }

Test(fidelity, real_samples_replay_at_model_level_with_nothing_unhandled)
{
	for (size_t k = 0; k < NR_SAMPLES; k++) {
		struct trace_reader *r = open_sample(samples[k]);
		cr_assert(trace_origin_is_recording(trace_reader_origin(r)), "%s", samples[k]);
		struct sim *s = boot(&recording_like, r, REPLAY_MODEL);
		s->mm.implicit_regions = true;
		struct fidelity_trace t = {0};
		replay_all(r, s, observe, &t);
		for (int e = 0; e < EV_NR_TYPES; e++)
			cr_expect_eq(s->unhandled[e], 0, "%s: %" PRIu64 " unhandled %s", samples[k],
				     s->unhandled[e], mm_event_names[e]);
		cr_expect_eq(s->vmstat[UNHANDLED], 0);
		cr_expect_eq(s->vmstat[FAULT_SIGSEGV], 0, "%s: a recorded fault was fatal", samples[k]);
		cr_expect_eq(s->vmstat[DROPPED_KILLED], 0, "%s", samples[k]);
		cr_expect_gt(s->vmstat[IMPLICIT_VMA], 0, "%s", samples[k]);
		/* every recorded fault is taken; the model adds exec's argument-page write */
		cr_expect_geq(s->vmstat[PGFAULT], t.faults, "%s", samples[k]);
		cr_expect_leq(s->vmstat[PGFAULT], t.faults + t.faults / 50 + 2, "%s", samples[k]);
		sim_destroy(s);
		trace_reader_close(r);
	}
}

Test(fidelity, without_implicit_regions_real_traces_segfault)
{
	struct trace_reader *r = open_sample("cow-fork");
	struct sim *s = boot(&recording_like, r, REPLAY_MODEL);
	s->mm.implicit_regions = false;
	replay_all(r, s, NULL, NULL);
	cr_expect_gt(s->vmstat[FAULT_SIGSEGV], 0);
	cr_expect_eq(s->vmstat[IMPLICIT_VMA], 0);
	sim_destroy(s);
	trace_reader_close(r);
}

Test(fidelity, generated_traces_are_not_recordings)
{
	struct trace_origin o = {0};
	trace_origin_set(&o, "source", "synthetic");
	trace_origin_set(&o, "generator", "shell");
	cr_expect_not(trace_origin_is_recording(&o));
	cr_expect_not(trace_origin_is_recording(NULL));
	struct trace_origin imp = {0};
	trace_origin_set(&imp, "kernel", "6.1.0");
	cr_expect(trace_origin_is_recording(&imp));
}

/* Page level against a reference: the set of recorded pfns currently allocated. */
struct page_ref {
	struct u64map live; /* recorded pfn -> order */
	uint64_t unknown_frees, live_pages;
};

static void page_ref_step(void *ctx, const struct mm_event *ev)
{
	struct page_ref *m = ctx;
	uint64_t order;
	if (ev->type == EV_PAGE_ALLOC) {
		if (u64map_take(&m->live, ev->u.page.pfn, &order)) {
			m->unknown_frees++; /* its free was not recorded */
			m->live_pages -= 1ull << order;
		}
		cr_assert_eq(u64map_put(&m->live, ev->u.page.pfn, ev->u.page.order), 0);
		m->live_pages += 1ull << ev->u.page.order;
	} else if (ev->type == EV_PAGE_FREE) {
		if (u64map_take(&m->live, ev->u.page.pfn, &order))
			m->live_pages -= 1ull << order;
		else
			m->unknown_frees++;
	}
}

static uint64_t free_and_pcp(const struct sim *s)
{
	uint64_t n = 0;
	for (int z = 0; z < MAX_NR_ZONES; z++)
		n += s->pgdat.node_zones[z].nr_free_pages +
		     zone_pcp_pages(&s->pgdat.node_zones[z], s->pgdat.nr_cpus);
	return n;
}

struct page_result {
	uint64_t vmstat[NR_VM_STAT_ITEMS];
	uint64_t buddy[MAX_NR_ZONES][NR_PAGE_ORDERS];
};

static void page_level_run(const char *name, const struct config *c, struct page_result *out)
{
	struct trace_reader *r = open_sample(name);
	struct sim *s = boot(c, r, REPLAY_PAGE);
	struct page_ref ref = {0};
	cr_assert_eq(u64map_init(&ref.live, 1024), 0);
	uint64_t before = free_and_pcp(s);
	replay_all(r, s, page_ref_step, &ref);
	cr_expect_gt(ref.unknown_frees, 0, "%s: a mid-life recording frees older pages", name);
	cr_expect_eq(s->vmstat[UNKNOWN_PAGE_FREE], ref.unknown_frees, "%s", name);
	cr_expect_eq(s->vmstat[ALLOC_FAIL], 0, "%s", name);
	cr_expect_eq(sim_page_level_live_pages(s), ref.live_pages, "%s", name);
	/* the buddy allocator's books: free + per-CPU + held for the trace = what it had */
	cr_expect_eq(free_and_pcp(s) + ref.live_pages, before, "%s on %s", name,
		     arch_names[c->arch]);
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		const struct zone *zn = &s->pgdat.node_zones[z];
		uint64_t sum = 0;
		for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
			sum += zn->free_area[o].nr_free << o;
			out->buddy[z][o] = zn->free_area[o].nr_free;
		}
		cr_expect_eq(sum, zn->nr_free_pages, "%s zone %d: free lists vs nr_free", name, z);
		cr_expect_leq(zn->nr_free_pages + zone_pcp_pages(zn, s->pgdat.nr_cpus),
			      zn->managed_pages);
	}
	memcpy(out->vmstat, s->vmstat, sizeof(out->vmstat));
	u64map_free(&ref.live);
	sim_destroy(s);
	trace_reader_close(r);
}

Test(fidelity, page_level_replay_of_real_samples_is_deterministic_and_balanced)
{
	const struct config *configs[] = {&recording_like, &small_i386};
	static struct page_result a, b;
	for (size_t k = 0; k < NR_SAMPLES; k++)
		for (size_t c = 0; c < 2; c++) {
			page_level_run(samples[k], configs[c], &a);
			page_level_run(samples[k], configs[c], &b);
			cr_expect_eq(memcmp(&a, &b, sizeof(a)), 0, "%s: reruns differ", samples[k]);
		}
}

/* "group": { ... "key": { "recorded": N, "model": M } } in the JSON text. */
static bool json_row(const char *json, const char *group, const char *key, const char *side,
		     uint64_t *v)
{
	char pat[96];
	snprintf(pat, sizeof(pat), "\"%s\": {", group);
	const char *g = strstr(json, pat);
	if (!g)
		return false;
	snprintf(pat, sizeof(pat), "\"%s\": {", key);
	const char *k = strstr(g, pat);
	if (!k)
		return false;
	const char *end = strchr(k + strlen(pat), '}');
	snprintf(pat, sizeof(pat), "\"%s\": ", side);
	const char *p = strstr(k, pat);
	if (!p || p > end)
		return false;
	*v = strtoull(p + strlen(pat), NULL, 10);
	return true;
}

static char *fidelity_json(const char *name, const char *out)
{
	char cmd[1024];
	snprintf(
	    cmd, sizeof(cmd),
	    "%s fidelity traces/real/%s.mmt --arch=x86_64 --mem=24G --cpus=2 --json %s --quiet",
	    mmreplay(), name, out);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	FILE *f = fopen(out, "rb");
	cr_assert_not_null(f);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strdup(buf);
}

static uint64_t origin_u64(const struct trace_origin *o, const char *key)
{
	const char *v = trace_origin_get(o, key);
	return v ? strtoull(v, NULL, 10) : 0;
}

Test(fidelity, json_agrees_with_the_trace_and_is_deterministic)
{
	char out[64];
	snprintf(out, sizeof(out), "/tmp/mmreplay-fidelity-%d.json", (int)getpid());
	for (size_t k = 0; k < NR_SAMPLES; k++) {
		char *j1 = fidelity_json(samples[k], out);
		char *j2 = fidelity_json(samples[k], out);
		cr_expect_str_eq(j1, j2, "%s: reruns differ", samples[k]);
		struct trace_reader *r = open_sample(samples[k]);
		const struct trace_origin *o = trace_reader_origin(r);
		struct fidelity_trace t = {0};
		static struct mm_event buf[4096];
		char err[512];
		ssize_t n;
		while ((n = trace_reader_next(r, buf, 4096, err, sizeof(err))) > 0)
			for (ssize_t i = 0; i < n; i++)
				fidelity_observe(&t, &buf[i], trace_reader_strings(r));
		uint64_t v;
		cr_assert(json_row(j1, "faults", "page_faults", "recorded", &v));
		cr_expect_eq(v, t.faults);
		cr_assert(json_row(j1, "faults", "page_faults", "model", &v));
		cr_expect_geq(v, t.faults);
		cr_assert(json_row(j1, "tlb", "task_switch", "recorded", &v));
		cr_expect_eq(v, origin_u64(o, "tlb_flush.reason0"));
		cr_assert(json_row(j1, "tlb", "local_mm_shootdown", "recorded", &v));
		cr_expect_eq(v, origin_u64(o, "tlb_flush.reason3"));
		cr_assert(json_row(j1, "tlb", "remote_send_ipi", "recorded", &v));
		cr_expect_eq(v, origin_u64(o, "tlb_flush.reason4"));
		cr_assert(json_row(j1, "tlb", "model_cow", "model", &v));
		cr_assert(json_row(j1, "page_alloc", "order0", "recorded", &v));
		cr_expect_eq(v, t.page_alloc[0]);
		cr_assert(json_row(j1, "page_alloc", "order0", "model", &v));
		cr_expect_gt(v, 0);
		uint64_t pages = 0;
		for (unsigned ord = 0; ord < NR_PAGE_ORDERS; ord++)
			pages += t.page_alloc[ord] << ord;
		cr_assert(json_row(j1, "page_alloc", "pages_allocated", "recorded", &v));
		cr_expect_eq(v, pages);
		/* the model sizes every traced object as the recording kernel did */
		cr_assert(json_row(j1, "slab", "bytes_requested", "recorded", &v));
		cr_expect_eq(v, t.kmalloc_req + t.cache_req);
		uint64_t model;
		cr_assert(json_row(j1, "slab", "bytes_requested", "model", &model));
		cr_expect_eq(model, v, "%s", samples[k]);
		cr_assert(json_row(j1, "slab", "bytes_allocated", "recorded", &v));
		cr_expect_eq(v, t.kmalloc_alloc + t.cache_alloc_bytes);
		cr_assert(json_row(j1, "vmalloc", "allocations", "recorded", &v));
		cr_expect_eq(v, t.vmalloc);
		cr_assert(json_row(j1, "vmalloc", "allocations", "model", &model));
		cr_expect_eq(model, v);
		cr_assert(json_row(j1, "oom", "victims", "recorded", &v));
		cr_expect_eq(v, t.oom_marks);
		cr_expect_eq(v, strcmp(samples[k], "oom-cgroup") == 0 ? 1u : 0u);
		cr_expect(strstr(j1, "\"implicit_regions\": true") != NULL);
		trace_reader_close(r);
		free(j1);
		free(j2);
	}
	remove(out);
}

Test(fidelity, bad_implicit_regions_value_is_a_usage_error)
{
	char cmd[512];
	snprintf(
	    cmd, sizeof(cmd),
	    "%s replay traces/real/vmalloc-bpf.mmt --implicit-regions=maybe --quiet 2>/dev/null",
	    mmreplay());
	int st = system(cmd);
	cr_expect_eq(st, 2 << 8); /* exited with status 2 (wait status: code << 8) */
	snprintf(cmd, sizeof(cmd),
		 "%s replay traces/real/vmalloc-bpf.mmt --arch=x86_64 --mem=24G --cpus=2 "
		 "--implicit-regions=off --quiet",
		 mmreplay());
	cr_expect_eq(system(cmd), 0);
}
