/* trace.dat import: the committed real samples (traces/real) against trace-cmd's own reading
 * of them, determinism, gfp translation by name, and bad input. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gfp.h"
#include "import.h"
#include "import_gfp.h"
#include "strtab.h"

static const char *const samples[] = {"shell-loop", "make-j2", "cow-fork", "oom-cgroup",
				      "vmalloc-bpf"};
#define NR_SAMPLES (sizeof(samples) / sizeof(samples[0]))

struct mem_sink {
	struct strtab strs;
	struct mm_event *ev;
	size_t n, cap;
};

static uint32_t mem_intern(void *ctx, const char *s)
{
	return strtab_intern(&((struct mem_sink *)ctx)->strs, s, strlen(s));
}

static int mem_put(void *ctx, const struct mm_event *ev, char *err, size_t errlen)
{
	struct mem_sink *m = ctx;
	(void)err;
	(void)errlen;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 4096;
		m->ev = realloc(m->ev, m->cap * sizeof(*m->ev));
		cr_assert_not_null(m->ev);
	}
	m->ev[m->n++] = *ev;
	return 0;
}

struct imported {
	struct mem_sink m;
	struct import_stats st;
	struct trace_origin origin;
};

static struct imported *import_sample(const char *name)
{
	char path[256], err[512];
	snprintf(path, sizeof(path), "traces/real/%s.dat", name);
	struct imported *im = calloc(1, sizeof(*im));
	cr_assert_not_null(im);
	strtab_init(&im->m.strs);
	struct import_sink sink = {&im->m, mem_intern, mem_put};
	struct import_opts opts = {.quiet = true};
	int rc = trace_import(path, &opts, &sink, &im->origin, &im->st, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s: %s", path, err);
	return im;
}

static void imported_free(struct imported *im)
{
	free(im->m.ev);
	strtab_free(&im->m.strs);
	free(im);
}

static uint64_t counted(const struct import_stats *st, const char *name)
{
	for (int i = 0; i < st->nr_counted; i++)
		if (strcmp(st->counted[i].name, name) == 0)
			return st->counted[i].n;
	return 0;
}

static const char *mmreplay(void)
{
	const char *m = getenv("MMREPLAY");
	return m ? m : "bin/mmreplay";
}

/* Runs a shell command, returns its exit status and (if out) its stdout. */
static int run(const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = 0;
	char buf[4096];
	size_t k;
	while ((k = fread(buf, 1, sizeof(buf), p)) > 0) {
		if (out && n + k < outlen) {
			memcpy(out + n, buf, k);
			n += k;
		}
	}
	if (out)
		out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- counts against trace-cmd -------------------------------------------- */

struct countlist {
	int n;
	char name[64][64];
	uint64_t c[64];
};

static void count_add(struct countlist *l, const char *name, uint64_t c)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->name[i], name) == 0) {
			l->c[i] += c;
			return;
		}
	cr_assert_lt(l->n, 64);
	snprintf(l->name[l->n], 64, "%s", name);
	l->c[l->n++] = c;
}

static uint64_t count_get(const struct countlist *l, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->name[i], name) == 0)
			return l->c[i];
	return 0;
}

/* "COMM-PID [CPU] SECS.USECS: EVENT: ..." → EVENT */
static bool report_event(const char *line, char *ev, size_t cap)
{
	const char *p = strstr(line, "] ");
	if (!p)
		return false;
	p += 2;
	while (*p == ' ')
		p++;
	const char *q = p;
	while ((*q >= '0' && *q <= '9') || *q == '.')
		q++;
	if (q == p || q[0] != ':' || q[1] != ' ')
		return false;
	p = q + 2;
	size_t n = strcspn(p, ":");
	if (!n || p[n] != ':' || n >= cap)
		return false;
	memcpy(ev, p, n);
	ev[n] = 0;
	return true;
}

static void counts_from_report(const char *name, struct countlist *l)
{
	char cmd[512], line[8192], ev[64];
	snprintf(cmd, sizeof(cmd), "trace-cmd report traces/real/%s.dat 2>/dev/null", name);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p))
		if (report_event(line, ev, sizeof(ev)))
			count_add(l, ev, 1);
	cr_assert_eq(pclose(p), 0);
}

static void counts_from_golden(const char *name, struct countlist *l)
{
	char path[256], ev[64];
	unsigned long long c;
	snprintf(path, sizeof(path), "tests/golden/import/%s.counts", name);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s missing", path);
	while (fscanf(f, "%63s %llu", ev, &c) == 2)
		count_add(l, ev, c);
	fclose(f);
	cr_assert_gt(l->n, 10, "%s: too few events", path);
}

static void counts_from_cli(const char *name, struct countlist *l)
{
	char cmd[512], out[8192];
	snprintf(cmd, sizeof(cmd), "%s import traces/real/%s.dat --counts --quiet", mmreplay(),
		 name);
	cr_assert_eq(run(cmd, out, sizeof(out)), 0, "%s failed", cmd);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		char ev[64];
		unsigned long long c;
		const char *colon = strchr(line, ':');
		cr_assert(colon && sscanf(colon + 1, "%63s %llu", ev, &c) == 2, "bad line %s",
			  line);
		count_add(l, ev, c);
	}
}

static void assert_same_counts(const char *what, const struct countlist *a,
			       const struct countlist *b)
{
	cr_assert_eq(a->n, b->n, "%s: %d tracepoints vs %d", what, a->n, b->n);
	for (int i = 0; i < a->n; i++)
		cr_assert_eq(a->c[i], count_get(b, a->name[i]), "%s: %s %" PRIu64 " vs %" PRIu64,
			     what, a->name[i], a->c[i], count_get(b, a->name[i]));
}

Test(import, counts_equal_golden_trace_cmd_report_counts)
{
	for (size_t s = 0; s < NR_SAMPLES; s++) {
		struct countlist mine = {0}, golden = {0};
		counts_from_cli(samples[s], &mine);
		counts_from_golden(samples[s], &golden);
		assert_same_counts(samples[s], &golden, &mine);
	}
}

Test(import, counts_equal_live_trace_cmd_report, .timeout = 60)
{
	if (run("command -v trace-cmd >/dev/null 2>&1", NULL, 0) != 0)
		cr_skip_test("trace-cmd not installed (the golden counts test still runs)");
	for (size_t s = 0; s < NR_SAMPLES; s++) {
		struct countlist mine = {0}, report = {0};
		counts_from_cli(samples[s], &mine);
		counts_from_report(samples[s], &report);
		assert_same_counts(samples[s], &report, &mine);
	}
}

/* ---- what the events say ----------------------------------------------- */

static uint64_t nr_type(const struct imported *im, enum mm_event_type t)
{
	uint64_t n = 0;
	for (size_t i = 0; i < im->m.n; i++)
		n += im->m.ev[i].type == t;
	return n;
}

Test(import, events_account_for_every_record)
{
	for (size_t s = 0; s < NR_SAMPLES; s++) {
		struct imported *im = import_sample(samples[s]);
		const struct import_stats *st = &im->st;
		cr_assert_eq(st->unknown, 0);
		cr_assert_eq(st->lost + st->lost_unknown + st->overruns, 0, "%s lost events",
			     samples[s]);
		cr_assert_eq(nr_type(im, EV_FORK), counted(st, "sched:sched_process_fork"));
		cr_assert_eq(nr_type(im, EV_EXEC), counted(st, "sched:sched_process_exec"));
		cr_assert_eq(nr_type(im, EV_EXIT), counted(st, "sched:sched_process_exit"));
		cr_assert_eq(nr_type(im, EV_COMM), counted(st, "task:task_rename"));
		/* every mmap of these recordings has its exit, failed ones included */
		cr_assert_eq(nr_type(im, EV_MMAP), counted(st, "syscalls:sys_exit_mmap"));
		cr_assert_eq(st->syscall_unpaired, 0, "%s", samples[s]);
		cr_assert_eq(
		    nr_type(im, EV_KMALLOC) + nr_type(im, EV_CACHE_ALLOC) +
			nr_type(im, EV_PAGE_ALLOC) + nr_type(im, EV_VMALLOC) + st->alloc_failed,
		    counted(st, "kmem:kmalloc") + counted(st, "kmem:kmem_cache_alloc") +
			counted(st, "kmem:mm_page_alloc") + counted(st, "vmalloc:alloc_vmap_area"));
		cr_assert_eq(nr_type(im, EV_KFREE) + nr_type(im, EV_CACHE_FREE) + st->kfree_null,
			     counted(st, "kmem:kfree") + counted(st, "kmem:kmem_cache_free"));
		cr_assert_eq(nr_type(im, EV_PAGE_FREE), counted(st, "kmem:mm_page_free"));
		cr_assert_eq(st->page_free_batched_dup, counted(st, "kmem:mm_page_free_batched"));
		cr_assert_eq(nr_type(im, EV_FAULT) + st->fault_kernel_addr,
			     counted(st, "exceptions:page_fault_user") +
				 counted(st, "exceptions:page_fault_kernel"));
		uint64_t tlb = 0;
		for (int r = 0; r < IMPORT_TLB_REASONS; r++)
			tlb += st->tlb_flush[r];
		cr_assert_eq(tlb, counted(st, "tlb:tlb_flush"));
		for (size_t i = 0; i < im->m.n; i++) {
			cr_assert_neq(im->m.ev[i].pid, 0);
			if (i)
				cr_assert_geq(im->m.ev[i].ts, im->m.ev[i - 1].ts);
		}
		imported_free(im);
	}
}

Test(import, origin_header_has_the_recording_facts)
{
	struct imported *im = import_sample("shell-loop");
	const struct trace_origin *o = &im->origin;
	cr_assert_str_eq(trace_origin_get(o, "source"), "shell-loop.dat");
	cr_assert_str_eq(trace_origin_get(o, "kernel"), "6.18.44-fc-v669");
	cr_assert_str_eq(trace_origin_get(o, "page_size"), "4096");
	cr_assert_str_eq(trace_origin_get(o, "nr_cpus"), "2");
	cr_assert_str_eq(trace_origin_get(o, "trace_clock"), "mono");
	cr_assert_str_eq(trace_origin_get(o, "events_missing"), "none");
	cr_assert_str_eq(trace_origin_get(o, "lost_events"), "0");
	char want[32];
	snprintf(want, sizeof(want), "%" PRIu64, im->st.tlb_flush[3]);
	cr_assert_gt(im->st.tlb_flush[3], 0);
	cr_assert_str_eq(trace_origin_get(o, "tlb_flush.reason3"), want);
	imported_free(im);
}

Test(import, cow_fork_is_four_processes_writing_their_quarter)
{
	struct imported *im = import_sample("cow-fork");
	uint64_t forks = 0, writes = 0;
	for (size_t i = 0; i < im->m.n; i++) {
		const struct mm_event *e = &im->m.ev[i];
		if (e->type == EV_FORK) {
			forks++;
			cr_assert_eq(e->u.fork.flags, 0,
				     "fork() children are processes (task_newtask)");
		}
		if (e->type == EV_FAULT && (e->u.fault.access & FAULT_WRITE) &&
		    !(e->u.fault.access & FAULT_KERNEL))
			writes++;
	}
	cr_assert_eq(forks, 4);
	cr_assert_eq(im->st.fork_flags_unknown, 0);
	/* 16384 pages first touched by the parent, then 4 x 4096 copy-on-write faults */
	cr_assert_geq(writes, 16384 + 4 * 4096, "%" PRIu64 " write faults", writes);
	imported_free(im);
}

Test(import, oom_victim_is_marked_with_its_pid)
{
	struct imported *im = import_sample("oom-cgroup");
	uint32_t hog = 0;
	int marks = 0;
	for (size_t i = 0; i < im->m.n; i++) {
		const struct mm_event *e = &im->m.ev[i];
		if (e->type == EV_EXEC &&
		    strstr(strtab_get(&im->m.strs, e->u.exec.filename), "oomhog"))
			hog = e->pid;
		if (e->type == EV_MARK) {
			char want[32];
			snprintf(want, sizeof(want), "oom:%u", hog);
			cr_assert_str_eq(strtab_get(&im->m.strs, e->u.mark.name), want);
			marks++;
		}
	}
	cr_assert_neq(hog, 0);
	cr_assert_eq(marks, 1);
	cr_assert_eq(im->st.oom_victims, 1);
	imported_free(im);
}

Test(import, bpf_vmap_areas_are_allocated_and_freed)
{
	struct imported *im = import_sample("vmalloc-bpf");
	uint64_t big[64];
	int nbig = 0, freed = 0;
	for (size_t i = 0; i < im->m.n; i++) {
		const struct mm_event *e = &im->m.ev[i];
		if (e->type == EV_VMALLOC && e->u.vmalloc.size >= (1u << 20)) {
			cr_assert_lt(nbig, 64);
			big[nbig++] = e->u.vmalloc.addr;
		}
		if (e->type == EV_VFREE)
			for (int k = 0; k < nbig; k++)
				if (big[k] == e->u.vmalloc.addr) {
					freed++;
					big[k] = 0;
				}
	}
	cr_assert_eq(nbig, 16, "16 maps of 1 MiB");
	cr_assert_eq(freed, 16);
	imported_free(im);
}

Test(import, mmap_results_and_flags)
{
	struct imported *im = import_sample("shell-loop");
	int anon = 0, file = 0;
	for (size_t i = 0; i < im->m.n; i++) {
		const struct mm_event *e = &im->m.ev[i];
		if (e->type != EV_MMAP)
			continue;
		cr_assert_eq(e->u.map.flags & (MM_MAP_ADDR_UNKNOWN | MM_MAP_FAILED), 0);
		cr_assert_eq(e->u.map.addr & 4095, 0, "a result address is page aligned");
		cr_assert(e->u.map.flags & (MM_MAP_PRIVATE | MM_MAP_SHARED));
		if (e->u.map.flags & MM_MAP_ANON) {
			anon++;
			cr_assert_eq(e->u.map.file, 0);
		} else {
			file++;
			cr_assert_neq(e->u.map.file, 0);
		}
	}
	cr_assert_gt(anon, 0);
	cr_assert_gt(file, 0);
	imported_free(im);
}

/* ---- gfp: by name, against the names trace-cmd prints ---------------------- */

Test(import_gfp, translation_is_by_name_not_by_bit)
{
	struct gfp_xlate x = {0};
	/* a made-up kernel that numbers its bits differently */
	gfp_xlate_add(&x, 1u << 3, "__GFP_IO");
	gfp_xlate_add(&x, 1u << 9, "__GFP_HIGHMEM");
	gfp_xlate_add(&x, 1u << 30, "__GFP_SOMETHING_NEW");
	gfp_xlate_add(&x, (1u << 3) | (1u << 9), "GFP_COMPOSITE");
	bool dropped;
	cr_assert_eq(gfp_xlate(&x, (1u << 3) | (1u << 9), &dropped), __GFP_IO | __GFP_HIGHMEM);
	cr_assert(!dropped);
	cr_assert_eq(gfp_xlate(&x, (1u << 3) | (1u << 30), &dropped), __GFP_IO);
	cr_assert(dropped);
	cr_assert_eq(gfp_xlate(&x, 1u << 4, &dropped), 0);
	cr_assert(dropped);
}

/* The composites as the recording kernel (6.18) defines them, read from its print format;
 * GFP_NOWAIT there includes __GFP_NOWARN. */
static gfp_t kernel_gfp(const char *name)
{
	static const struct {
		const char *n;
		gfp_t v;
	} comp[] = {
	    {"GFP_TRANSHUGE_LIGHT",
	     (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) &
		 ~__GFP_RECLAIM},
	    {"GFP_TRANSHUGE",
	     ((GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) &
	      ~__GFP_RECLAIM) |
		 __GFP_DIRECT_RECLAIM},
	    {"GFP_HIGHUSER_MOVABLE", GFP_HIGHUSER_MOVABLE},
	    {"GFP_HIGHUSER", GFP_HIGHUSER},
	    {"GFP_USER", GFP_USER},
	    {"GFP_KERNEL_ACCOUNT", GFP_KERNEL_ACCOUNT},
	    {"GFP_KERNEL", GFP_KERNEL},
	    {"GFP_NOFS", GFP_NOFS},
	    {"GFP_ATOMIC", GFP_ATOMIC},
	    {"GFP_NOIO", GFP_NOIO},
	    {"GFP_NOWAIT", __GFP_KSWAPD_RECLAIM | __GFP_NOWARN},
	    {"GFP_DMA", __GFP_DMA},
	    {"GFP_DMA32", __GFP_DMA32},
	    {"__GFP_RECLAIM", __GFP_RECLAIM},
	};
	for (size_t i = 0; i < sizeof(comp) / sizeof(comp[0]); i++)
		if (strcmp(comp[i].n, name) == 0)
			return comp[i].v;
	gfp_t b = gfp_engine_bit(name);
	cr_assert_neq(b, 0, "unknown gfp name %s", name);
	return b;
}

static gfp_t parse_gfp_names(const char *s)
{
	gfp_t g = 0;
	char buf[512];
	size_t n = strcspn(s, " \n");
	cr_assert_lt(n, sizeof(buf));
	memcpy(buf, s, n);
	buf[n] = 0;
	if (strcmp(buf, "none") == 0)
		return 0;
	for (char *t = strtok(buf, "|"); t; t = strtok(NULL, "|"))
		g |= kernel_gfp(t);
	return g;
}

Test(import_gfp, every_allocation_matches_the_printed_flags, .timeout = 60)
{
	if (run("command -v trace-cmd >/dev/null 2>&1", NULL, 0) != 0)
		cr_skip_test("trace-cmd not installed");
	struct imported *im = import_sample("make-j2");
	FILE *p = popen("trace-cmd report traces/real/make-j2.dat 2>/dev/null", "r");
	cr_assert_not_null(p);
	char line[8192], ev[64];
	size_t k = 0, checked = 0;
	while (fgets(line, sizeof(line), p)) {
		if (!report_event(line, ev, sizeof(ev)))
			continue;
		if (strcmp(ev, "kmalloc") && strcmp(ev, "kmem_cache_alloc") &&
		    strcmp(ev, "mm_page_alloc"))
			continue;
		const char *g = strstr(line, "gfp_flags=");
		cr_assert_not_null(g);
		/* the n-th allocation event of the import (failed ones are not emitted) */
		while (k < im->m.n && im->m.ev[k].type != EV_KMALLOC &&
		       im->m.ev[k].type != EV_CACHE_ALLOC && im->m.ev[k].type != EV_PAGE_ALLOC)
			k++;
		cr_assert_lt(k, im->m.n);
		const struct mm_event *e = &im->m.ev[k++];
		gfp_t got = e->type == EV_PAGE_ALLOC ? e->u.page.gfp : e->u.kmem.gfp;
		cr_assert_eq(got, parse_gfp_names(g + 10), "record %zu: %.200s", checked, line);
		checked++;
	}
	pclose(p);
	cr_assert_eq(im->st.alloc_failed, 0);
	cr_assert_gt(checked, 20000);
	imported_free(im);
}

/* ---- determinism and bad input -------------------------------------------- */

static bool same_file(const char *a, const char *b)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", a, b);
	return run(cmd, NULL, 0) == 0;
}

Test(import, importing_twice_gives_identical_bytes)
{
	char dir[] = "/tmp/mmr-import-test-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	for (size_t s = 0; s < NR_SAMPLES; s++) {
		char cmd[1024], a[256], b[256];
		snprintf(a, sizeof(a), "%s/%s-a.mmt", dir, samples[s]);
		snprintf(b, sizeof(b), "%s/%s-b.mmt", dir, samples[s]);
		snprintf(cmd, sizeof(cmd),
			 "%s import traces/real/%s.dat -o %s --quiet && %s import "
			 "traces/real/%s.dat -o %s --quiet",
			 mmreplay(), samples[s], a, mmreplay(), samples[s], b);
		cr_assert_eq(run(cmd, NULL, 0), 0, "%s", cmd);
		cr_assert(same_file(a, b), "%s: two imports differ", samples[s]);
		unlink(a);
		unlink(b);
	}
	rmdir(dir);
}

/* Each bad input: exit 2, one message naming the file and the reason, no output left. */
static void expect_refused(const char *dir, const char *in, const char *reason)
{
	char cmd[1024], out[2048], mmt[512];
	snprintf(mmt, sizeof(mmt), "%s/out.mmt", dir);
	snprintf(cmd, sizeof(cmd), "%s import %s -o %s 2>&1", mmreplay(), in, mmt);
	cr_assert_eq(run(cmd, out, sizeof(out)), 2, "%s: %s", in, out);
	cr_assert(strstr(out, in), "message names the file: %s", out);
	cr_assert(strstr(out, reason), "expected \"%s\" in: %s", reason, out);
	struct stat sb;
	cr_assert_neq(stat(mmt, &sb), 0, "output left behind");
	snprintf(mmt, sizeof(mmt), "%s/out.mmt.tmp", dir);
	cr_assert_neq(stat(mmt, &sb), 0, "temp file left behind");
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, n, f), n);
	fclose(f);
}

static void *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	void *b = malloc(*n);
	cr_assert_eq(fread(b, 1, *n, f), *n);
	fclose(f);
	return b;
}

Test(import, bad_input_is_refused_with_exit_2, .timeout = 60)
{
	char dir[] = "/tmp/mmr-import-bad-XXXXXX", path[512];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/empty.dat", dir);
	write_file(path, "", 0);
	expect_refused(dir, path, "empty file");

	unsigned char junk[4096];
	srand(7);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)rand();
	snprintf(path, sizeof(path), "%s/random.dat", dir);
	write_file(path, junk, sizeof(junk));
	expect_refused(dir, path, "not a trace.dat");

	snprintf(path, sizeof(path), "%s/missing.dat", dir);
	expect_refused(dir, path, "cannot open");

	size_t n;
	unsigned char *dat = read_file("traces/real/cow-fork.dat", &n);
	static const double cuts[] = {0.0001, 0.01, 0.3, 0.5, 0.7, 0.9};
	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		snprintf(path, sizeof(path), "%s/truncated-%zu.dat", dir, c);
		write_file(path, dat, (size_t)((double)n * cuts[c]));
		expect_refused(dir, path, "truncated");
		unlink(path);
	}
	/* a valid header followed by garbage */
	memcpy(junk, dat, 64);
	snprintf(path, sizeof(path), "%s/garbage.dat", dir);
	write_file(path, junk, sizeof(junk));
	expect_refused(dir, path, "truncated");
	free(dat);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	run(path, NULL, 0);
}

/* ---- the written .mmt reads back as the same events ------------------------ */

static const char *event_string(const struct strtab *t, const struct mm_event *e)
{
	switch (e->type) {
	case EV_EXEC:
		return strtab_get(t, e->u.exec.filename);
	case EV_MMAP:
		return strtab_get(t, e->u.map.file);
	case EV_CACHE_ALLOC:
	case EV_CACHE_FREE:
		return strtab_get(t, e->u.kmem.cache);
	case EV_COMM:
		return strtab_get(t, e->u.comm.name);
	case EV_MARK:
		return strtab_get(t, e->u.mark.name);
	default:
		return "";
	}
}

static void strip_string(struct mm_event *e)
{
	switch (e->type) {
	case EV_EXEC:
		e->u.exec.filename = 0;
		break;
	case EV_MMAP:
		e->u.map.file = 0;
		break;
	case EV_CACHE_ALLOC:
	case EV_CACHE_FREE:
		e->u.kmem.cache = 0;
		break;
	case EV_COMM:
		e->u.comm.name = 0;
		break;
	case EV_MARK:
		e->u.mark.name = 0;
		break;
	default:
		break;
	}
}

Test(import, mmt_reads_back_as_the_imported_events, .timeout = 60)
{
	const char *name = "oom-cgroup";
	struct imported *im = import_sample(name);
	char mmt[] = "/tmp/mmr-import-rt-XXXXXX.mmt", cmd[512], err[512];
	int fd = mkstemps(mmt, 4);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s import traces/real/%s.dat -o %s --quiet", mmreplay(), name,
		 mmt);
	cr_assert_eq(run(cmd, NULL, 0), 0);
	struct trace_reader *r = trace_reader_open(mmt, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	const struct trace_origin *o = trace_reader_origin(r);
	cr_assert_str_eq(trace_origin_get(o, "source"), "oom-cgroup.dat");
	cr_assert_str_eq(trace_origin_get(o, "kernel"), "6.18.44-fc-v669");
	cr_assert_not_null(trace_origin_get(o, "tlb_flush.reason0"));
	static struct mm_event buf[4096];
	size_t k = 0;
	ssize_t n;
	while ((n = trace_reader_next(r, buf, 4096, err, sizeof(err))) > 0) {
		const struct strtab *rs = trace_reader_strings(r);
		for (ssize_t i = 0; i < n; i++, k++) {
			cr_assert_lt(k, im->m.n);
			struct mm_event a = im->m.ev[k], b = buf[i];
			cr_assert_str_eq(event_string(&im->m.strs, &a), event_string(rs, &b),
					 "event %zu", k);
			strip_string(&a);
			strip_string(&b);
			cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0, "event %zu (type %d) differs", k,
				     a.type);
		}
	}
	cr_assert_eq(n, 0, "%s", err);
	cr_assert_eq(k, im->m.n);
	trace_reader_close(r);
	unlink(mmt);
	imported_free(im);
}

/* The committed .mmt files are what the importer and writer make of the committed trace.dat
 * files today; after a change of the .mmt format, re-import them (traces/real/README.md). */
Test(import, committed_mmt_files_are_current)
{
	char dir[] = "/tmp/mmr-import-cur-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	for (size_t s = 0; s < NR_SAMPLES; s++) {
		char cmd[1024], out[256], committed[256];
		snprintf(out, sizeof(out), "%s/%s.mmt", dir, samples[s]);
		snprintf(committed, sizeof(committed), "traces/real/%s.mmt", samples[s]);
		snprintf(cmd, sizeof(cmd), "%s import traces/real/%s.dat -o %s --quiet", mmreplay(),
			 samples[s], out);
		cr_assert_eq(run(cmd, NULL, 0), 0, "%s", cmd);
		cr_assert(same_file(out, committed), "%s is stale: re-import it", committed);
		unlink(out);
	}
	rmdir(dir);
}
