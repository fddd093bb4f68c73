#include "results.h"

#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "sim_proc.h"

/* Word-at-a-time multiply-xorshift: fast enough to hash every replayed event. */
static uint64_t mix(uint64_t h, uint64_t w)
{
	h ^= w * 0x9e3779b97f4a7c15ull;
	h = (h << 27 | h >> 37) * 0xbf58476d1ce4e5b9ull;
	return h;
}

uint64_t trace_hash_event(uint64_t h, const struct mm_event *ev)
{
	uint64_t w[sizeof(*ev) / 8];
	memcpy(w, ev, sizeof(w));
	for (size_t i = 0; i < sizeof(w) / 8; i++)
		h = mix(h, w[i]);
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
	json_key(j, "arch");
	json_string(j, arch_names[c->arch]);
	json_key(j, "mem");
	json_u64(j, c->mem_limit);
	json_key(j, "ram");
	json_u64(j, c->ram);
	json_key(j, "swap");
	json_u64(j, c->swap_bytes);
	json_key(j, "cpus");
	json_u64(j, c->nr_cpus);
	json_key(j, "seed");
	json_u64(j, c->seed);
	json_key(j, "kernel");
	json_string(j, c->kernel.name);
	json_key(j, "vm.overcommit_memory");
	json_i64(j, c->vm.overcommit_memory);
	json_key(j, "vm.overcommit_ratio");
	json_i64(j, c->vm.overcommit_ratio);
	json_key(j, "vm.overcommit_kbytes");
	json_u64(j, c->vm.overcommit_kbytes);
	json_key(j, "vm.swappiness");
	json_i64(j, c->vm.swappiness);
	json_key(j, "vm.min_free_kbytes");
	json_u64(j, c->vm.min_free_kbytes);
	json_key(j, "vm.watermark_scale_factor");
	json_i64(j, c->vm.watermark_scale_factor);
	json_end_object(j);
}

static void write_trace(struct json *j, const struct run_info *run)
{
	static const char *const formats[] = {"mmt", "text", "text.gz"};
	char hash[24];
	snprintf(hash, sizeof(hash), "%016" PRIx64, run->trace_hash);
	json_key(j, "trace");
	json_begin_object(j);
	json_key(j, "path");
	json_string(j, run->trace_path);
	json_key(j, "format");
	json_string(j, formats[run->format]);
	json_key(j, "hash");
	json_string(j, hash);
	json_key(j, "events");
	json_u64(j, run->events);
	json_key(j, "origin");
	json_begin_object(j);
	for (int i = 0; run->origin && i < run->origin->n; i++) {
		json_key(j, run->origin->key[i]);
		json_string(j, run->origin->value[i]);
	}
	json_end_object(j);
	json_end_object(j);
}

static void write_counters(struct json *j, const struct sim *s)
{
	json_key(j, "counters");
	json_begin_object(j);
	for (int i = 0; i < NR_VM_STAT_ITEMS; i++) {
		json_key(j, vm_stat_names[i]);
		json_u64(j, s->vmstat[i]);
	}
	json_end_object(j);
	json_key(j, "unhandled");
	json_begin_object(j);
	for (int t = 1; t < EV_NR_TYPES; t++) {
		if (!s->unhandled[t])
			continue;
		json_key(j, mm_event_names[t]);
		json_u64(j, s->unhandled[t]);
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
		json_key(j, "name");
		json_string(j, zone_names[zi]);
		json_key(j, "managed_pages");
		json_u64(j, z->managed_pages);
		json_key(j, "nr_free_pages");
		json_u64(j, z->nr_free_pages);
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
	json_key(j, "flushes");
	json_u64(j, tlb_total_flushes(t));
	json_key(j, "by_cause");
	json_begin_object(j);
	for (int c = 0; c < NR_TLB_CAUSES; c++) {
		json_key(j, tlb_cause_names[c]);
		json_begin_object(j);
		json_key(j, "flushes");
		json_u64(j, t->flushes[c]);
		json_key(j, "pages");
		json_u64(j, t->pages[c]);
		json_key(j, "full");
		json_u64(j, t->full[c]);
		json_key(j, "ipis");
		json_u64(j, t->ipis[c]);
		json_end_object(j);
	}
	json_end_object(j);
	json_end_object(j);
}

static void write_swap(struct json *j, const struct sim *s)
{
	json_key(j, "swap");
	json_begin_object(j);
	json_key(j, "slots");
	json_u64(j, s->swap.pages ? s->swap.pages - 1 : 0);
	json_key(j, "inuse_pages");
	json_u64(j, s->swap.inuse_pages);
	json_key(j, "peak_inuse_pages");
	json_u64(j, s->swap.peak_inuse);
	json_key(j, "pswpin");
	json_u64(j, s->vmstat[PSWPIN]);
	json_key(j, "pswpout");
	json_u64(j, s->vmstat[PSWPOUT]);
	json_end_object(j);
}

static void write_oom(struct json *j, const struct sim *s)
{
	json_key(j, "oom");
	json_begin_object(j);
	json_key(j, "kills");
	json_u64(j, s->vmstat[OOM_KILL]);
	json_key(j, "no_killable");
	json_u64(j, s->oom.no_killable);
	json_key(j, "enomem");
	json_begin_object(j);
	json_key(j, "total");
	json_u64(j, s->vmstat[COMMIT_REFUSED]);
	json_key(j, "mmap");
	json_u64(j, s->vmstat[COMMIT_REFUSED_MMAP]);
	json_key(j, "brk");
	json_u64(j, s->vmstat[COMMIT_REFUSED_BRK]);
	json_key(j, "fork");
	json_u64(j, s->vmstat[COMMIT_REFUSED_FORK]);
	json_end_object(j);
	json_key(j, "victims");
	json_begin_array(j);
	for (uint32_t i = 0; i < s->oom.nr_victims && i < OOM_VICTIMS_KEPT; i++) {
		const struct oom_victim *v = &s->oom.victims[i];
		json_begin_object(j);
		json_key(j, "time_s");
		json_double(j, v->ts / 1e9, 6);
		json_key(j, "pid");
		json_u64(j, v->pid);
		json_key(j, "comm");
		json_string(j, v->comm < s->strings->count ? s->strings->str[v->comm] : "?");
		json_key(j, "points");
		json_i64(j, v->points);
		json_key(j, "oom_score_adj");
		json_i64(j, v->oom_score_adj);
		json_key(j, "total_vm_pages");
		json_u64(j, v->total_vm);
		json_key(j, "anon_rss_pages");
		json_u64(j, v->anon_rss);
		json_key(j, "file_rss_pages");
		json_u64(j, v->file_rss);
		json_key(j, "order");
		json_u64(j, v->order);
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
			json_key(j, key);
			json_u64(j, kb);
		}
		line = eol ? eol + 1 : line + strlen(line);
	}
	json_end_object(j);
}

void results_write_json(struct json *j, const struct sim *s, const struct run_info *run)
{
	json_begin_object(j);
	json_key(j, "mmreplay_version");
	json_string(j, MMREPLAY_VERSION);
	if (run->label) {
		json_key(j, "label");
		json_string(j, run->label);
	}
	json_key(j, "level");
	json_string(j, s->level == REPLAY_PAGE ? "page" : "model");
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
		json_key(j, "wall_s");
		json_double(j, run->wall_s, 6);
		json_key(j, "events_per_s");
		json_double(j, run->wall_s > 0 ? run->events / run->wall_s : 0, 0);
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
