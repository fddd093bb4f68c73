/* /proc of the live simulator (engine/sim_proc.c, engine/proc_pid.c) and `mmreplay proc`
 * (tools/cmd_proc.c, tools/proc_snap.c): meminfo invariants along generated workloads,
 * formats against the real 6.1 dumps in tests/kernel-logs, golden output, error cases. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "mm_internal.h"
#include "proc_snap.h"
#include "sim_proc.h"
#include "testlib_sim.h"
#include "trace_testlib.h"

/* ---- replaying a generated workload straight into a simulator ---- */

struct live {
	struct strtab strings;
	struct sim *s;
	uint64_t events, checks;
	void (*check)(struct live *l);
	uint64_t every;
	uint64_t limit; /* stop the workload after this many events (0: run it all) */
	uint64_t max_swap_used, max_file, max_shmem, max_vmalloc, max_slab, max_anon;
};

static void note_max(uint64_t *m, uint64_t v)
{
	if (v > *m)
		*m = v;
}

static uint32_t live_intern(void *ctx, const char *str)
{
	struct live *l = ctx;
	return strtab_intern(&l->strings, str, strlen(str));
}

static int live_put(void *ctx, const struct mm_event *ev)
{
	struct live *l = ctx;
	if (l->limit && l->events >= l->limit)
		return 1;
	sim_apply(l->s, ev);
	l->events++;
	if (ev->type == EV_MARK || l->events % l->every == 0) {
		l->check(l);
		l->checks++;
	}
	return 0;
}

static struct sim *boot_sim(struct live *l, enum arch arch, const char *mem, const char *swap)
{
	struct machine_config cfg;
	tl_sim_config(&cfg, arch, mem, swap);
	cfg.nr_cpus = 2;
	return tl_sim_create(&cfg, &l->strings);
}

static void run_workload(struct live *l, const char *wl, double scale, enum arch arch,
			 const char *mem, const char *swap)
{
	strtab_init(&l->strings);
	l->s = boot_sim(l, arch, mem, swap);
	struct event_sink sink = {l, live_intern, live_put};
	struct gen_params p = {3, scale, NULL, 0};
	char err[256];
	cr_assert_eq(gen_run(wl, &p, &sink, err, sizeof(err)), 0, "%s", err);
	l->check(l);
	sim_destroy(l->s);
	strtab_free(&l->strings);
}

/* Frames in use by what no meminfo line shows: the kernel page tables of the vmalloc
 * window (the zero page is reserved at boot, not managed). */
static uint64_t unlisted_kernel_pages(const struct sim *s) { return s->vmalloc.pgtable_pages; }

static void meminfo_invariants(struct live *l)
{
	const struct sim *s = l->s;
	struct meminfo mi;
	struct meminfo_pages p;
	struct page_census c;
	sim_meminfo(s, &mi, &p);
	page_census(s, &c);
	/* every managed frame is free, on a pcp list, or in one of meminfo's categories */
	uint64_t used_kb = mi.mem_total - mi.mem_free - c.pcp * 4;
	uint64_t listed = p.anon_mapped + (p.file_pages - p.swapcache) + p.slab_reclaimable +
			  p.slab_unreclaimable + p.page_tables + p.vmalloc_used;
	cr_assert_eq(used_kb / 4, listed + unlisted_kernel_pages(s),
		     "after %" PRIu64 " events: used %" PRIu64 " pages, listed %" PRIu64
		     " + unlisted %" PRIu64,
		     l->events, used_kb / 4, listed, unlisted_kernel_pages(s));
	if (mi.highmem)
		cr_assert_eq(mi.low_free + mi.high_free, mi.mem_free);
	cr_assert_eq(mi.mem_free / 4, global_free_pages(&s->pgdat));
	cr_assert_eq(p.committed_as, s->commit.committed_as);
	cr_assert_eq(mi.commit_limit, vm_commit_limit(&s->commit) * 4);
	cr_assert_eq(mi.swap_total - mi.swap_free, s->swap.inuse_pages * 4);
	/* the LRU lists by zone (from the memory map) add up to the node's counters */
	for (int lru = 0; lru < NR_LRU_LISTS; lru++) {
		uint64_t sum = 0;
		for (int z = 0; z < MAX_NR_ZONES; z++)
			sum += c.zone_lru[z][lru];
		cr_assert_eq(sum, s->lru.nr[lru], "%s after %" PRIu64 " events",
			     lru_list_names[lru], l->events);
	}
	note_max(&l->max_swap_used, p.swap_used);
	note_max(&l->max_file, p.file_pages);
	note_max(&l->max_shmem, p.shmem);
	note_max(&l->max_vmalloc, p.vmalloc_used);
	note_max(&l->max_slab, p.slab_unreclaimable + p.slab_reclaimable);
	note_max(&l->max_anon, p.anon_mapped);
	cr_assert_leq(p.shmem, p.file_pages);
	cr_assert_leq(p.file_mapped, s->mm.nr_file_pages);
	cr_assert_leq(mi.mem_available, mi.mem_total);
}

Test(proc, meminfo_adds_up_i386_with_swap)
{
	struct live l = {.check = meminfo_invariants, .every = 97};
	run_workload(&l, "mix", 0.05, ARCH_I386, "128M", "64M");
	cr_assert_gt(l.checks, 20);
	/* the run went through every category, swap included */
	cr_assert_gt(l.max_swap_used, 0);
	cr_assert_gt(l.max_file, 0);
	cr_assert_gt(l.max_anon, 0);
	cr_assert_gt(l.max_vmalloc, 0);
	cr_assert_gt(l.max_slab, 0);
}

Test(proc, meminfo_adds_up_x86_64)
{
	struct live l = {.check = meminfo_invariants, .every = 211};
	run_workload(&l, "mix", 0.05, ARCH_X86_64, "256M", NULL);
	cr_assert_gt(l.checks, 20);
}

/* ---- formats against the real 6.1 /proc dumps ---- */

static char *slurp(const char *path)
{
	size_t n;
	char *s = tl_slurp(path, &n);
	cr_assert_not_null(s, "missing %s", path);
	return s;
}

/* The section "=== NAME\n" of a proc dump, up to the next "=== ", NUL-terminated in place. */
static char *section(char *log, const char *name)
{
	char head[128];
	snprintf(head, sizeof(head), "=== %s\n", name);
	char *p = strstr(log, head);
	cr_assert_not_null(p, "no %s in the dump", name);
	p += strlen(head);
	char *end = strstr(p, "\n=== ");
	if (end)
		end[1] = 0;
	return p;
}

/* A line's shape: the line with every run of digits replaced by one '9'. */
static void shape(const char *line, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 1 < cap; i++) {
		if (line[i] >= '0' && line[i] <= '9') {
			if (!o || out[o - 1] != '9')
				out[o++] = '9';
			continue;
		}
		out[o++] = line[i];
	}
	out[o] = 0;
}

/* The label of each line ("MemTotal:", "nr_free_pages", "  pages free"): the text before
 * the first digit or '(', trailing blanks cut. */
static int labels(const char *text, char out[][64], int max)
{
	int n = 0;
	for (const char *l = text; *l && n < max;) {
		const char *eol = strchr(l, '\n');
		size_t len = eol ? (size_t)(eol - l) : strlen(l);
		size_t k = strcspn(l, "0123456789(-");
		if (k > len)
			k = len;
		while (k && (l[k - 1] == ' ' || l[k - 1] == '\t'))
			k--;
		snprintf(out[n++], 64, "%.*s", (int)k, l);
		l += len + (eol ? 1 : 0);
	}
	return n;
}

static const struct {
	const char *log;
	enum arch arch;
	const char *mem;
} dumps[] = {
    {"tests/kernel-logs/686-mem1G-proc.log", ARCH_I386, "1G"},
    {"tests/kernel-logs/686-pae-mem5G-proc.log", ARCH_I386_PAE, "5G"},
    {"tests/kernel-logs/amd64-mem1G-proc.log", ARCH_X86_64, "1G"},
};

/* A machine after some of the shell workload: every category nonzero somewhere. */
static struct sim *busy_sim(struct live *l, enum arch arch, const char *mem)
{
	strtab_init(&l->strings);
	l->s = boot_sim(l, arch, mem, "64M");
	struct event_sink sink = {l, live_intern, live_put};
	struct gen_params p = {3, 0.02, NULL, 0};
	char err[256];
	int rc = gen_run("shell", &p, &sink, err, sizeof(err));
	cr_assert(rc == 0 || (l->limit && l->events == l->limit), "%s", err);
	return l->s;
}

static void no_check(struct live *l) { (void)l; }

static void render_text(struct strbuf *sb, void (*render)(struct strbuf *, const struct sim *),
			const struct sim *s)
{
	strbuf_reset(sb);
	render(sb, s);
	cr_assert_not(sb->oom);
}

/* meminfo: the same fields in the same order as the real kernel of that arch */
Test(proc_format, meminfo_fields_match_the_real_kernels)
{
	static char want[128][64], got[128][64];
	for (size_t i = 0; i < sizeof(dumps) / sizeof(dumps[0]); i++) {
		struct live l = {.check = no_check, .every = 1000000};
		struct sim *s = busy_sim(&l, dumps[i].arch, dumps[i].mem);
		struct strbuf sb;
		strbuf_init(&sb);
		render_text(&sb, sim_proc_meminfo, s);
		char *log = slurp(dumps[i].log);
		/* DirectMap* (arch_report_meminfo) are not modeled: the last lines */
		int nw = labels(section(log, "/proc/meminfo"), want, 128);
		while (nw && strncmp(want[nw - 1], "DirectMap", 9) == 0)
			nw--;
		int ng = labels(strbuf_str(&sb), got, 128);
		cr_assert_eq(ng, nw, "%s: %d lines, the kernel %d", dumps[i].log, ng, nw);
		for (int k = 0; k < nw; k++)
			cr_assert_str_eq(got[k], want[k], "%s line %d", dumps[i].log, k + 1);
		free(log);
		strbuf_free(&sb);
		sim_destroy(s);
		strtab_free(&l.strings);
	}
}

/* zoneinfo: every line has the shape of a line of the real file, and the per-node and
 * per-zone item lists are the kernel's, in its order */
Test(proc_format, zoneinfo_lines_match_the_real_kernels)
{
	static char want[4096][64], got[4096][64];
	for (size_t i = 0; i < sizeof(dumps) / sizeof(dumps[0]); i++) {
		struct live l = {.check = no_check, .every = 1000000};
		struct sim *s = busy_sim(&l, dumps[i].arch, dumps[i].mem);
		struct strbuf sb;
		strbuf_init(&sb);
		render_text(&sb, sim_proc_zoneinfo, s);
		char *log = slurp(dumps[i].log);
		const char *real = section(log, "/proc/zoneinfo");
		int nw = labels(real, want, 4096);
		int ng = labels(strbuf_str(&sb), got, 4096);
		/* x86_64's per-zone numa_* event counters are not modeled (docs/PROC.md) */
		int kept = 0;
		for (int k = 0; k < nw; k++)
			if (strncmp(want[k], "      numa_", 11) != 0)
				memmove(want[kept++], want[k], 64);
		nw = kept;
		/* same number of CPUs as the real boot is not modeled here: compare the lines
		 * up to the first pagesets block, which hold the per-node and DMA items */
		int k = 0;
		while (k < nw && k < ng && strcmp(want[k], "  pagesets") != 0) {
			cr_assert_str_eq(got[k], want[k], "%s zoneinfo line %d", dumps[i].log,
					 k + 1);
			k++;
		}
		cr_assert_str_eq(got[k], "  pagesets");
		for (const char *line = strbuf_str(&sb); *line;) {
			const char *eol = strchr(line, '\n');
			char sh[256], pat[260];
			shape(line, (size_t)(eol - line), sh, sizeof(sh));
			snprintf(pat, sizeof(pat), "\n%s\n", sh);
			char *rs = malloc(strlen(real) * 2 + 2);
			size_t o = 0;
			rs[o++] = '\n';
			for (const char *r = real; *r;) {
				const char *re = strchr(r, '\n');
				shape(r, (size_t)(re - r), rs + o, 256);
				o += strlen(rs + o);
				rs[o++] = '\n';
				r = re + 1;
			}
			rs[o] = 0;
			cr_assert_not_null(strstr(rs, pat),
					   "%s: no line shaped \"%s\" in the real "
					   "zoneinfo",
					   dumps[i].log, sh);
			free(rs);
			line = eol + 1;
		}
		free(log);
		strbuf_free(&sb);
		sim_destroy(s);
		strtab_free(&l.strings);
	}
}

/* vmstat: the kernel's gauges exactly; every kernel name we print is in the real file in
 * the same relative order (the nr_tlb_* need CONFIG_DEBUG_TLBFLUSH, not in Debian's); every
 * engine counter is printed once */
Test(proc_format, vmstat_names_follow_the_real_kernels)
{
	for (size_t i = 0; i < sizeof(dumps) / sizeof(dumps[0]); i++) {
		struct live l = {.check = no_check, .every = 1000000};
		struct sim *s = busy_sim(&l, dumps[i].arch, dumps[i].mem);
		struct strbuf sb;
		strbuf_init(&sb);
		render_text(&sb, sim_proc_vmstat, s);
		char *log = slurp(dumps[i].log);
		const char *real = section(log, "/proc/vmstat");
		const char *cursor = real;
		int kernel_names = 0, lines = 0;
		for (const char *line = strbuf_str(&sb); *line; lines++) {
			const char *sp = strchr(line, ' ');
			char name[64], pat[72];
			snprintf(name, sizeof(name), "%.*s", (int)(sp - line), line);
			line = strchr(line, '\n') + 1;
			if (strncmp(name, "mmreplay_", 9) == 0 || strncmp(name, "nr_tlb_", 7) == 0)
				continue;
			snprintf(pat, sizeof(pat), "\n%s ", name);
			const char *at = strstr(cursor - 1, pat);
			cr_assert_not_null(at, "%s: %s not found after the previous name",
					   dumps[i].log, name);
			cursor = at + 1;
			kernel_names++;
		}
		cr_assert_gt(kernel_names, 70);
		/* each counter once: gauges + every vm_stat_names entry but the ones of zones the
		 * arch does not have */
		for (int k = 0; k < NR_VM_STAT_ITEMS; k++) {
			char pat[72];
			snprintf(pat, sizeof(pat), "\n%s ", vm_stat_names[k]);
			const char *hit = strstr(strbuf_str(&sb) - 0, pat + 1) == strbuf_str(&sb)
					      ? strbuf_str(&sb)
					      : strstr(strbuf_str(&sb), pat);
			bool zone_family = strstr(vm_stat_names[k], "_dma32") ||
					   strstr(vm_stat_names[k], "_high") ||
					   strstr(vm_stat_names[k], "_dma");
			if (!zone_family)
				cr_assert_not_null(hit, "%s missing", vm_stat_names[k]);
			if (hit)
				cr_assert_null(strstr(hit + 1, pat), "%s twice", vm_stat_names[k]);
		}
		free(log);
		strbuf_free(&sb);
		sim_destroy(s);
		strtab_free(&l.strings);
	}
}

/* ---- per-task files ---- */

static uint64_t status_value(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	cr_assert_not_null(p, "no %s in\n%s", key, text);
	return strtoull(p + strlen(key), NULL, 10);
}

/* proc_oom_score from the mm's counters, written out independently of oom_kill.c */
static uint64_t expected_oom_score(const struct sim *s, const struct task_struct *t)
{
	if (t->killed || !t->mm || t->pid == 1 || t->oom_score_adj == -1000)
		return 0;
	const struct mm_struct *mm = t->mm;
	int64_t total =
	    (int64_t)(s->machine.totalram_pages + (s->swap.pages ? s->swap.pages - 1 : 0));
	int64_t badness =
	    (int64_t)(mm->rss[MM_ANONPAGES] + mm->rss[MM_FILEPAGES] + mm->rss[MM_SHMEMPAGES] +
		      mm->rss[MM_SWAPENTS] + mm->pgd.nr_pages) +
	    t->oom_score_adj * (total / 1000);
	return (uint64_t)((1000 + badness * 1000 / total) * 2 / 3);
}

static void check_task(struct sim *s, struct task_struct *t)
{
	struct strbuf sb;
	strbuf_init(&sb);
	cr_assert_eq(sim_proc_pid_status(&sb, s, t->pid), 0);
	const char *st = strbuf_str(&sb);
	cr_assert_eq(status_value(st, "Pid:\t"), t->pid);
	if (t->mm && !t->killed) {
		const struct mm_struct *mm = t->mm;
		cr_assert_eq(status_value(st, "VmSize:\t"), mm->total_vm * 4);
		cr_assert_eq(status_value(st, "RssAnon:\t"), mm->rss[MM_ANONPAGES] * 4);
		cr_assert_eq(status_value(st, "RssFile:\t"), mm->rss[MM_FILEPAGES] * 4);
		cr_assert_eq(status_value(st, "VmRSS:\t"), status_value(st, "RssAnon:\t") +
							       status_value(st, "RssFile:\t") +
							       status_value(st, "RssShmem:\t"));
		cr_assert_eq(status_value(st, "VmSwap:\t"), mm->rss[MM_SWAPENTS] * 4);
		cr_assert_leq(status_value(st, "VmData:\t") + status_value(st, "VmStk:\t"),
			      status_value(st, "VmSize:\t"));
	}
	strbuf_reset(&sb);
	cr_assert_eq(sim_proc_pid_oom_score(&sb, s, t->pid), 0);
	cr_assert_eq(strtoull(strbuf_str(&sb), NULL, 10), expected_oom_score(s, t), "pid %u",
		     t->pid);
	strbuf_free(&sb);
}

static void set_adj(struct sim *s, uint32_t pid, int32_t adj)
{
	struct mm_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = EV_SET_OOM_SCORE_ADJ;
	ev.pid = pid;
	ev.ts = s->last_ts;
	ev.u.adj.value = adj;
	sim_apply(s, &ev);
}

Test(proc_pid, status_and_oom_score_follow_the_mm)
{
	/* mid-workload: shells and their children are alive */
	struct live l = {.check = no_check, .every = 1000000, .limit = 3000};
	struct sim *s = busy_sim(&l, ARCH_I386, "256M");
	struct mm_world *w = &s->mm;
	int live = 0;
	static const int32_t adj[] = {0, -1000, -999, -500, 500, 1000};
	for (uint32_t i = 0; i <= w->task_mask; i++) {
		struct task_struct *t = &w->tasks[i];
		if (t->state == TASK_FREE)
			continue;
		for (size_t a = 0; a < sizeof(adj) / sizeof(adj[0]) && !t->killed; a++) {
			set_adj(s, t->pid, adj[a]);
			check_task(s, t);
		}
		live += t->mm && !t->killed;
	}
	cr_assert_gt(live, 3, "only %d live tasks with memory to look at", live);
	struct strbuf sb;
	strbuf_init(&sb);
	cr_assert_eq(sim_proc_pid_status(&sb, s, 999999), -1);
	cr_assert_eq(sim_proc_pid_oom_score(&sb, s, 999999), -1);
	cr_assert_eq(sb.len, 0);
	strbuf_free(&sb);
	sim_destroy(s);
	strtab_free(&l.strings);
}

/* ---- dirty limits against the real boots ---- */

static uint64_t item_after(const char *from, const char *key)
{
	const char *p = strstr(from, key);
	cr_assert_not_null(p, "no %s", key);
	return strtoull(p + strlen(key), NULL, 10);
}

/* max of a zone's "protection: (a, b, ...)" */
static uint64_t max_protection(const char *zone)
{
	const char *p = strstr(zone, "protection: (");
	cr_assert_not_null(p);
	p += strlen("protection: (");
	uint64_t m = 0;
	for (char *end;; p = end + 1) {
		uint64_t v = strtoull(p, &end, 10);
		m = v > m ? v : m;
		if (*end != ',')
			break;
	}
	return m;
}

/* nr_dirty_threshold and nr_dirty_background_threshold of every real boot from that boot's
 * own zoneinfo and vmstat. The kernel read vmstat a moment after zoneinfo and its per-CPU
 * counters drift: the figures may differ by 2 pages. */
Test(proc_format, dirty_limits_match_the_real_kernels)
{
	static const char *const logs[] = {"686-mem256M",     "686-mem1G",     "686-mem5G",
					   "686-pae-mem512M", "686-pae-mem5G", "amd64-mem1G",
					   "amd64-mem5G"};
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		char path[128];
		snprintf(path, sizeof(path), "tests/kernel-logs/%s-proc.log", logs[i]);
		char *log = slurp(path);
		char *vm = strstr(log, "=== /proc/vmstat");
		cr_assert_not_null(vm);
		uint64_t nfree = item_after(vm, "\nnr_free_pages ");
		uint64_t file =
		    item_after(vm, "\nnr_inactive_file ") + item_after(vm, "\nnr_active_file ");
		uint64_t want_th = item_after(vm, "\nnr_dirty_threshold ");
		uint64_t want_bg = item_after(vm, "\nnr_dirty_background_threshold ");
		const char *zi = section(log, "/proc/zoneinfo");
		/* calculate_totalreserve_pages: Σ min(managed, high + max lowmem_reserve) */
		uint64_t reserve = 0, highmem = 0;
		for (const char *z = strstr(zi, "Node 0, zone"); z;
		     z = strstr(z + 1, "Node 0, zone")) {
			uint64_t managed = item_after(z, "managed ");
			uint64_t high = item_after(z, "\n        high ");
			if (!managed)
				continue;
			uint64_t r = high + max_protection(z);
			reserve += r < managed ? r : managed;
			if (strncmp(z, "Node 0, zone  HighMem", 21) == 0) {
				uint64_t f = item_after(z, "nr_free_pages ");
				highmem = f - (f < high ? f : high) +
					  item_after(z, "nr_zone_inactive_file ") +
					  item_after(z, "nr_zone_active_file ");
			}
		}
		uint64_t bg, th;
		global_dirty_limits(nfree, reserve, file, highmem, &bg, &th);
		cr_assert_leq(th > want_th ? th - want_th : want_th - th, 2,
			      "%s: threshold %" PRIu64 " the kernel %" PRIu64, logs[i], th,
			      want_th);
		cr_assert_leq(bg > want_bg ? bg - want_bg : want_bg - bg, 2,
			      "%s: background %" PRIu64 " the kernel %" PRIu64, logs[i], bg,
			      want_bg);
		free(log);
	}
}
