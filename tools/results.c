#include "results.h"

#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "sim_proc.h"

/* Word-at-a-time multiply-xorshift: fast enough to hash every replayed event. The word's
 * multiply does not depend on h, so only the xor, rotate and second multiply are serial. */
static inline uint64_t mix(uint64_t h, uint64_t w)
{
	h ^= w * 0x9e3779b97f4a7c15ull;
	h = (h << 27 | h >> 37) * 0xbf58476d1ce4e5b9ull;
	return h;
}

static inline uint64_t word_at(const unsigned char *b)
{
	uint64_t w;
	memcpy(&w, b, sizeof(w)); /* a plain load: events need not be 8-byte aligned */
	return w;
}

/* The event's six words in memory order, written out: gcc -O2 keeps a loop here, which
 * costs as many instructions as the hash itself. */
static inline uint64_t hash_one(uint64_t h, const struct mm_event *ev)
{
	const unsigned char *b = (const unsigned char *)ev;
	_Static_assert(sizeof(*ev) == 48, "the hash covers six words");
	h = mix(h, word_at(b));
	h = mix(h, word_at(b + 8));
	h = mix(h, word_at(b + 16));
	h = mix(h, word_at(b + 24));
	h = mix(h, word_at(b + 32));
	return mix(h, word_at(b + 40));
}

uint64_t trace_hash_event(uint64_t h, const struct mm_event *ev) { return hash_one(h, ev); }

uint64_t trace_hash_events(uint64_t h, const struct mm_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = hash_one(h, &ev[i]);
	return h;
}

uint64_t trace_hash_strings(uint64_t h, const struct strtab *t)
{
	for (uint32_t id = 0; id < t->count; id++) {
		const char *s = t->str[id];
		for (uint32_t i = 0; i < t->len[id]; i++)
			h = mix(h, (uint8_t)s[i]);
		h = mix(h, 0x100u + id);
	}
	return h;
}

static void write_config(struct json *j, const struct machine_config *c)
{
	json_key(j, "configuration");
	json_begin_object(j);
	json_kv_string(j, "arch", arch_names[c->arch]);
	json_kv_u64(j, "mem", c->mem_limit);
	json_kv_u64(j, "ram", c->ram);
	json_kv_u64(j, "swap", c->swap_bytes);
	json_kv_u64(j, "cpus", c->nr_cpus);
	json_kv_u64(j, "seed", c->seed);
	json_kv_string(j, "kernel", c->kernel.name);
	json_kv_i64(j, "vm.overcommit_memory", c->vm.overcommit_memory);
	json_kv_i64(j, "vm.overcommit_ratio", c->vm.overcommit_ratio);
	json_kv_u64(j, "vm.overcommit_kbytes", c->vm.overcommit_kbytes);
	json_kv_i64(j, "vm.swappiness", c->vm.swappiness);
	json_kv_u64(j, "vm.min_free_kbytes", c->vm.min_free_kbytes);
	json_kv_i64(j, "vm.watermark_scale_factor", c->vm.watermark_scale_factor);
	json_end_object(j);
}

static void write_trace(struct json *j, const struct run_info *run)
{
	static const char *const formats[] = {"mmt", "text", "text.gz"};
	char hash[24];
	snprintf(hash, sizeof(hash), "%016" PRIx64, run->trace_hash);
	json_key(j, "trace");
	json_begin_object(j);
	json_kv_string(j, "path", run->trace_path);
	json_kv_string(j, "format", formats[run->format]);
	json_kv_string(j, "hash", hash);
	json_kv_u64(j, "events", run->events);
	json_key(j, "origin");
	json_begin_object(j);
	for (int i = 0; run->origin && i < run->origin->n; i++) {
		json_kv_string(j, run->origin->key[i], run->origin->value[i]);
	}
	json_end_object(j);
	json_end_object(j);
}

static void write_counters(struct json *j, const struct sim *s)
{
	json_key(j, "counters");
	json_begin_object(j);
	for (int i = 0; i < NR_VM_STAT_ITEMS; i++) {
		json_kv_u64(j, vm_stat_names[i], s->vmstat[i]);
	}
	json_end_object(j);
	json_key(j, "unhandled");
	json_begin_object(j);
	for (int t = 1; t < EV_NR_TYPES; t++) {
		if (!s->unhandled[t])
			continue;
		json_kv_u64(j, mm_event_names[t], s->unhandled[t]);
	}
	json_end_object(j);
}

static void write_index_array(struct json *j, const char *key, const struct zone *z,
			      int (*index)(const struct zone *, unsigned))
{
	json_key(j, key);
	json_begin_array(j);
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
		json_double(j, index(z, o) / 1000.0, 3);
	json_end_array(j);
}

static void write_zones(struct json *j, const struct sim *s)
{
	json_key(j, "zones");
	json_begin_array(j);
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		const struct zone *z = &s->pgdat.node_zones[zi];
		if (!z->populated)
			continue;
		json_begin_object(j);
		json_kv_string(j, "name", zone_names[zi]);
		json_kv_u64(j, "managed_pages", z->managed_pages);
		json_kv_u64(j, "nr_free_pages", z->nr_free_pages);
		json_key(j, "buddyinfo");
		json_begin_array(j);
		for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
			json_u64(j, z->free_area[o].nr_free);
		json_end_array(j);
		write_index_array(j, "unusable_index", z, unusable_free_index);
		write_index_array(j, "fragmentation_index", z, fragmentation_index);
		json_end_object(j);
	}
	json_end_array(j);
}

int results_node_unusable_index(const struct sim *s, unsigned order)
{
	uint64_t free_pages = 0, suitable = 0;
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		const struct zone *z = &s->pgdat.node_zones[zi];
		struct contig_page_info info;
		if (!z->populated)
			continue;
		fill_contig_page_info(z, order, &info);
		free_pages += info.free_pages;
		suitable += info.free_blocks_suitable;
	}
	if (!free_pages)
		return 1000;
	return (int)((free_pages - (suitable << order)) * 1000 / free_pages);
}

static void write_fragmentation(struct json *j, const struct sim *s)
{
	json_key(j, "fragmentation");
	json_begin_object(j);
	json_key(j, "unusable_index_node");
	json_begin_array(j);
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
		json_double(j, results_node_unusable_index(s, o) / 1000.0, 3);
	json_end_array(j);
	json_key(j, "alloc_fail_by_order");
	json_begin_array(j);
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
		json_u64(j, s->pgdat.nr_alloc_fail[o]);
	json_end_array(j);
	json_key(j, "alloc_fail_fragmented_by_order");
	json_begin_array(j);
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
		json_u64(j, s->pgdat.nr_alloc_fail_fragmented[o]);
	json_end_array(j);
	json_end_object(j);
}

static void write_tlb(struct json *j, const struct sim *s)
{
	const struct tlb_stats *t = &s->mm.tlb;
	json_key(j, "tlb");
	json_begin_object(j);
	json_kv_u64(j, "flushes", tlb_total_flushes(t));
	json_key(j, "by_cause");
	json_begin_object(j);
	for (int c = 0; c < NR_TLB_CAUSES; c++) {
		json_key(j, tlb_cause_names[c]);
		json_begin_object(j);
		json_kv_u64(j, "flushes", t->flushes[c]);
		json_kv_u64(j, "pages", t->pages[c]);
		json_kv_u64(j, "full", t->full[c]);
		json_kv_u64(j, "ipis", t->ipis[c]);
		json_end_object(j);
	}
	json_end_object(j);
	json_end_object(j);
}

static void write_swap(struct json *j, const struct sim *s)
{
	json_key(j, "swap");
	json_begin_object(j);
	json_kv_u64(j, "slots", s->swap.pages ? s->swap.pages - 1 : 0);
	json_kv_u64(j, "inuse_pages", s->swap.inuse_pages);
	json_kv_u64(j, "peak_inuse_pages", s->swap.peak_inuse);
	json_kv_u64(j, "pswpin", s->vmstat[PSWPIN]);
	json_kv_u64(j, "pswpout", s->vmstat[PSWPOUT]);
	json_end_object(j);
}

static void write_oom(struct json *j, const struct sim *s)
{
	json_key(j, "oom");
	json_begin_object(j);
	json_kv_u64(j, "kills", s->vmstat[OOM_KILL]);
	json_kv_u64(j, "no_killable", s->oom.no_killable);
	json_key(j, "enomem");
	json_begin_object(j);
	json_kv_u64(j, "total", s->vmstat[COMMIT_REFUSED]);
	json_kv_u64(j, "mmap", s->vmstat[COMMIT_REFUSED_MMAP]);
	json_kv_u64(j, "brk", s->vmstat[COMMIT_REFUSED_BRK]);
	json_kv_u64(j, "fork", s->vmstat[COMMIT_REFUSED_FORK]);
	json_end_object(j);
	json_key(j, "victims");
	json_begin_array(j);
	for (uint32_t i = 0; i < s->oom.nr_victims && i < OOM_VICTIMS_KEPT; i++) {
		const struct oom_victim *v = &s->oom.victims[i];
		json_begin_object(j);
		json_kv_double(j, "time_s", v->ts / 1e9, 6);
		json_kv_u64(j, "pid", v->pid);
		json_kv_string(j, "comm", v->comm < s->strings->count ? s->strings->str[v->comm] : "?");
		json_kv_i64(j, "points", v->points);
		json_kv_i64(j, "oom_score_adj", v->oom_score_adj);
		json_kv_u64(j, "total_vm_pages", v->total_vm);
		json_kv_u64(j, "anon_rss_pages", v->anon_rss);
		json_kv_u64(j, "file_rss_pages", v->file_rss);
		json_kv_u64(j, "order", v->order);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
}

/* /proc/meminfo at the end of the run: every "Name: value kB" line, by its name */
static void write_meminfo(struct json *j, const struct sim *s)
{
	struct meminfo mi;
	struct meminfo_pages p;
	char buf[4096], key[32];
	sim_meminfo(s, &mi, &p);
	meminfo_render(buf, sizeof(buf), &mi);
	json_key(j, "meminfo");
	json_begin_object(j);
	for (const char *line = buf; *line;) {
		const char *eol = strchr(line, '\n');
		const char *colon = strchr(line, ':');
		uint64_t kb;
		int n = 0;
		if (colon && colon < eol && (size_t)(colon - line) < sizeof(key) &&
		    sscanf(colon + 1, " %" SCNu64 " kB%n", &kb, &n) == 1 && n > 0) {
			memcpy(key, line, (size_t)(colon - line));
			key[colon - line] = 0;
			json_kv_u64(j, key, kb);
		}
		line = eol ? eol + 1 : line + strlen(line);
	}
	json_end_object(j);
}

void results_write_json(struct json *j, const struct sim *s, const struct run_info *run)
{
	json_begin_object(j);
	json_kv_string(j, "mmreplay_version", MMREPLAY_VERSION);
	if (run->label) {
		json_kv_string(j, "label", run->label);
	}
	json_kv_string(j, "level", s->level == REPLAY_PAGE ? "page" : "model");
	write_config(j, &s->machine.cfg);
	write_trace(j, run);
	write_counters(j, s);
	write_zones(j, s);
	write_fragmentation(j, s);
	write_tlb(j, s);
	write_swap(j, s);
	write_oom(j, s);
	write_meminfo(j, s);
	if (run->timing) {
		json_key(j, "timing");
		json_begin_object(j);
		json_kv_double(j, "wall_s", run->wall_s, 6);
		json_kv_double(j, "events_per_s", run->wall_s > 0 ? run->events / run->wall_s : 0, 0);
		json_end_object(j);
	}
	json_end_object(j);
	json_finish(j);
}

/* Columns of the time series: where the trace is, then gauges, then running counters. */
static const enum vm_stat_item csv_counters[] = {
	PGFAULT, PGMAJFAULT, PSWPIN, PSWPOUT, OOM_KILL, COMMIT_REFUSED, ALLOC_FAIL,
	NR_TLB_LOCAL_FLUSH_ONE, NR_TLB_LOCAL_FLUSH_ALL, NR_TLB_REMOTE_FLUSH, EXTFRAG_FALLBACK,
};

void results_csv_header(FILE *f, const struct sim *s)
{
	fprintf(f, "events,time_s,nr_free_pages,unusable_o%d,unusable_o%d", RESULTS_FRAG_ORDER_LOW,
		RESULTS_FRAG_ORDER_HIGH);
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		if (!s->pgdat.node_zones[zi].populated)
			continue;
		fprintf(f, ",free_%s,unusable_o%d_%s,unusable_o%d_%s", zone_names[zi],
			RESULTS_FRAG_ORDER_LOW, zone_names[zi], RESULTS_FRAG_ORDER_HIGH,
			zone_names[zi]);
		for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
			fprintf(f, ",buddy_%s_o%u", zone_names[zi], o);
	}
	for (size_t i = 0; i < sizeof(csv_counters) / sizeof(csv_counters[0]); i++)
		fprintf(f, ",%s", vm_stat_names[csv_counters[i]]);
	fputc('\n', f);
}

void results_csv_row(FILE *f, const struct sim *s)
{
	fprintf(f, "%" PRIu64 ",%.6f,%" PRIu64 ",%.3f,%.3f", s->vmstat[EVENTS], s->last_ts / 1e9,
		global_free_pages(&s->pgdat),
		results_node_unusable_index(s, RESULTS_FRAG_ORDER_LOW) / 1000.0,
		results_node_unusable_index(s, RESULTS_FRAG_ORDER_HIGH) / 1000.0);
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		const struct zone *z = &s->pgdat.node_zones[zi];
		if (!z->populated)
			continue;
		fprintf(f, ",%" PRIu64 ",%.3f,%.3f", z->nr_free_pages,
			unusable_free_index(z, RESULTS_FRAG_ORDER_LOW) / 1000.0,
			unusable_free_index(z, RESULTS_FRAG_ORDER_HIGH) / 1000.0);
		for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
			fprintf(f, ",%" PRIu64, z->free_area[o].nr_free);
	}
	for (size_t i = 0; i < sizeof(csv_counters) / sizeof(csv_counters[0]); i++)
		fprintf(f, ",%" PRIu64, s->vmstat[csv_counters[i]]);
	fputc('\n', f);
}

void results_print_summary(FILE *f, const struct sim *s, const struct run_info *run)
{
	const struct machine_config *c = &s->machine.cfg;
	fprintf(f, "trace      %s (%" PRIu64 " events, hash %016" PRIx64 ")\n", run->trace_path,
		run->events, run->trace_hash);
	fprintf(f, "machine    %s mem=%" PRIu64 "M swap=%" PRIu64 "M cpus=%u overcommit=%d (%s)\n",
		arch_names[c->arch], c->mem_limit >> 20, c->swap_bytes >> 20, c->nr_cpus,
		c->vm.overcommit_memory, c->kernel.name);
	fprintf(f, "level      %s\n", s->level == REPLAY_PAGE ? "page" : "model");
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		const struct zone *z = &s->pgdat.node_zones[zi];
		if (!z->populated)
			continue;
		fprintf(f, "zone %-7s free %8" PRIu64 " of %8" PRIu64 " pages, unusable index "
			   "o%d %.3f o%d %.3f\n",
			zone_names[zi], z->nr_free_pages, z->managed_pages, RESULTS_FRAG_ORDER_LOW,
			unusable_free_index(z, RESULTS_FRAG_ORDER_LOW) / 1000.0,
			RESULTS_FRAG_ORDER_HIGH,
			unusable_free_index(z, RESULTS_FRAG_ORDER_HIGH) / 1000.0);
	}
	fputs("counters  ", f);
	int shown = 0;
	for (int i = 0; i < NR_VM_STAT_ITEMS; i++) {
		if (!s->vmstat[i] || i == EVENTS)
			continue;
		fprintf(f, "%s%s %" PRIu64, shown % 4 ? ", " : (shown ? "\n           " : " "),
			vm_stat_names[i], s->vmstat[i]);
		shown++;
	}
	fputc('\n', f);
	uint64_t unhandled = 0;
	for (int t = 1; t < EV_NR_TYPES; t++)
		unhandled += s->unhandled[t];
	if (unhandled) {
		fprintf(f, "unhandled  %" PRIu64 " events:", unhandled);
		for (int t = 1; t < EV_NR_TYPES; t++)
			if (s->unhandled[t])
				fprintf(f, " %s %" PRIu64, mm_event_names[t], s->unhandled[t]);
		fputc('\n', f);
	}
	if (run->timing)
		fprintf(f, "time       %.3f s, %.2f M events/s\n", run->wall_s,
			run->wall_s > 0 ? run->events / run->wall_s / 1e6 : 0);
}
