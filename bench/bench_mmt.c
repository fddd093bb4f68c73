/* The .mmt codec (tools/mmt.c): encode and decode throughput in events/s and the size on
 * disk in bytes/event, on a synthetic stream shaped like a real one: runs of faults and
 * touches through a process's mappings, kmalloc/kfree pairs from a few call sites, mmap/
 * munmap, fork/exec/exit, with ns timestamps a few hundred ns apart. (The generator's `mix`
 * workload is the project's reference stream; this one keeps the benchmark self-contained.)
 * Targets (issue 3): decode >= 50 M events/s, encode >= 20 M events/s, <= 8 bytes/event.
 * Both directions use a second thread (inflate ahead of the reader; deflate workers behind
 * the writer), so each is measured in wall time and in the caller's CPU time, and
 * all_threads_cpu_ns_per_event gives the total work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cbench.h"
#include "trace_io.h"

#define NR_EVENTS (1u << 20)
#define NR_PROCS 32
#define NR_LIVE 8192

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct gen_proc {
	uint32_t pid;
	uint16_t cpu;
	uint64_t base, len, cursor; /* the mapping being faulted in */
};

struct gen {
	uint64_t seed, ts;
	struct gen_proc proc[NR_PROCS];
	uint64_t live_ptr[NR_LIVE], live_site[NR_LIVE];
	uint32_t nr_live, next_pid, cur;
	uint64_t sites[64];
	uint32_t names[4];
};

static void new_mapping(struct gen *g, struct gen_proc *p)
{
	p->len = (1 + splitmix64(&g->seed) % 256) << 12;
	p->base = 0x7f0000000000ull + ((splitmix64(&g->seed) % (1u << 24)) << 12);
	p->cursor = p->base;
}

static void fill(struct gen *g, struct mm_event *ev)
{
	uint64_t r = splitmix64(&g->seed);
	/* 80% of events come from the task that ran last, like a real per-CPU stream */
	if (r % 100 >= 80)
		g->cur = (uint32_t)((r >> 8) % NR_PROCS);
	struct gen_proc *p = &g->proc[g->cur];
	memset(ev, 0, sizeof(*ev));
	g->ts += 50 + (r >> 16) % 500 + ((r >> 40) % 64 == 0 ? (r >> 20) % 100000 : 0);
	ev->ts = g->ts;
	ev->pid = p->pid;
	ev->cpu = p->cpu;
	unsigned k = (unsigned)((r >> 32) % 1000);
	uint64_t s = splitmix64(&g->seed);
	if (k < 420) {
		ev->type = EV_FAULT;
		ev->u.fault.addr = p->cursor + (s % 4096 == 0 ? s % 4096 : 0);
		ev->u.fault.access = (s >> 20) % 3 ? FAULT_WRITE : FAULT_READ;
		p->cursor += 4096 * (1 + (s >> 32) % 2);
		if (p->cursor >= p->base + p->len)
			new_mapping(g, p);
	} else if (k < 500) {
		ev->type = EV_TOUCH;
		ev->u.touch.addr = p->cursor;
		ev->u.touch.len = 4096 * (1 + s % 16);
		ev->u.touch.access = FAULT_WRITE;
	} else if (k < 700 && g->nr_live < NR_LIVE) {
		unsigned size = 8u << (s % 9);
		ev->type = (s >> 8) % 4 ? EV_KMALLOC : EV_CACHE_ALLOC;
		ev->u.kmem.ptr = 0xffff888000000000ull + ((s >> 12) % (1u << 20)) * 64;
		ev->u.kmem.bytes_req = size - (unsigned)((s >> 40) % (size / 2 + 1));
		ev->u.kmem.bytes_alloc = size;
		ev->u.kmem.gfp = (s >> 50) % 4 ? 0xcc0 : 0x820;
		ev->u.kmem.call_site = g->sites[(s >> 56) % 64];
		if (ev->type == EV_CACHE_ALLOC)
			ev->u.kmem.cache = g->names[(s >> 4) % 4];
		g->live_ptr[g->nr_live] = ev->u.kmem.ptr;
		g->live_site[g->nr_live++] = ev->u.kmem.call_site + 0x40;
	} else if (k < 900 && g->nr_live) {
		uint32_t i = (uint32_t)(s % g->nr_live);
		ev->type = EV_KFREE;
		ev->u.kmem.ptr = g->live_ptr[i];
		ev->u.kmem.call_site = g->live_site[i];
		g->live_ptr[i] = g->live_ptr[--g->nr_live];
		g->live_site[i] = g->live_site[g->nr_live];
	} else if (k < 960) {
		ev->type = EV_MMAP;
		new_mapping(g, p);
		ev->u.map.addr = p->base;
		ev->u.map.len = p->len;
		ev->u.map.prot = MM_PROT_READ | MM_PROT_WRITE;
		ev->u.map.flags = MM_MAP_PRIVATE | MM_MAP_ANON;
	} else if (k < 990) {
		ev->type = EV_MUNMAP;
		ev->u.range.addr = p->base;
		ev->u.range.len = p->len;
		new_mapping(g, p);
	} else if (k < 995) {
		ev->type = EV_FORK;
		ev->u.fork.child = g->next_pid;
		/* the child replaces the task slot of the parent's neighbour */
		g->proc[(g->cur + 1) % NR_PROCS].pid = g->next_pid++;
	} else {
		ev->type = EV_EXEC;
		ev->u.exec.filename = g->names[s % 4];
		new_mapping(g, p);
	}
}

static const char *const names[4] = {"vm_area_struct", "/usr/bin/make", "dentry",
				     "/usr/lib/gcc/cc1"};

static struct mm_event *synthetic(struct trace_writer *w)
{
	struct mm_event *ev = malloc(NR_EVENTS * sizeof(*ev));
	struct gen *g = calloc(1, sizeof(*g));
	if (!ev || !g) {
		free(ev);
		free(g);
		return NULL;
	}
	g->seed = 42;
	g->next_pid = 1000 + NR_PROCS;
	for (int i = 0; i < NR_PROCS; i++) {
		g->proc[i].pid = 1000u + (uint32_t)i;
		g->proc[i].cpu = (uint16_t)(i % 4);
		new_mapping(g, &g->proc[i]);
	}
	for (int i = 0; i < 64; i++)
		g->sites[i] = 0xffffffff81000000ull + (splitmix64(&g->seed) % (1u << 24));
	for (int i = 0; i < 4; i++)
		g->names[i] = trace_writer_intern(w, names[i]);
	for (uint32_t i = 0; i < NR_EVENTS; i++)
		fill(g, &ev[i]);
	free(g);
	return ev;
}

/* CPU time of the whole process (all threads), in seconds: with the inflate thread the
 * decode's cost is more than the benchmark thread's CPU time. */
static double process_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       1e-6 * (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

struct fixture {
	struct mm_event *ev;
	char path[64];
	long size;
	int level; /* 0: the writer's default */
};

static int write_trace(struct fixture *f, struct mm_event *ev, char *err, size_t errlen,
		       struct mm_event *(*make)(struct trace_writer *))
{
	struct trace_writer *w = trace_writer_open(f->path, TRACE_MMT, NULL, err, errlen);
	if (!w)
		return -1;
	if (f->level && trace_writer_set_level(w, f->level)) {
		trace_writer_abort(w);
		snprintf(err, errlen, "bad level");
		return -1;
	}
	for (int i = 0; !make && i < 4; i++)
		trace_writer_intern(w, names[i]); /* the ids the events were made with */
	if (make && !(f->ev = ev = make(w))) {
		trace_writer_abort(w);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < NR_EVENTS; i++)
		if (trace_writer_put(w, &ev[i], err, errlen)) {
			trace_writer_abort(w);
			return -1;
		}
	if (trace_writer_close(w, err, errlen))
		return -1;
	struct stat sb;
	f->size = stat(f->path, &sb) ? 0 : (long)sb.st_size;
	return 0;
}

static void setup(struct cbench_state *st)
{
	struct fixture *f = calloc(1, sizeof(*f));
	st->data = f;
	char err[512];
	if (!f) {
		cbench_skip_with_error(st, "out of memory");
		return;
	}
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(f->path, sizeof(f->path), "%s/bench-mmt-%d.mmt", dir, (int)getpid());
	if (write_trace(f, NULL, err, sizeof(err), synthetic))
		cbench_skip_with_error(st, err);
}

static void teardown(struct cbench_state *st)
{
	struct fixture *f = st->data;
	if (!f)
		return;
	/* MMT_BENCH_KEEP=PATH keeps the synthetic trace for inspection (zcat, mmreplay stat) */
	const char *keep = getenv("MMT_BENCH_KEEP");
	if (!keep || rename(f->path, keep))
		unlink(f->path);
	free(f->ev);
	free(f);
}

static void bm_encode(struct cbench_state *st)
{
	struct fixture *f = st->data;
	f->level = st->udata ? *(const int *)st->udata : 0;
	char err[512];
	double cpu0 = process_cpu();
	while (cbench_keep_running(st))
		if (write_trace(f, f->ev, err, sizeof(err), NULL)) {
			cbench_skip_with_error(st, err);
			break;
		}
	double cpu = process_cpu() - cpu0;
	cbench_set_items_processed(st, cbench_iterations(st) * NR_EVENTS);
	cbench_counter(st, "bytes_per_event", (double)f->size / NR_EVENTS, CBENCH_COUNTER_DEFAULT);
	if (cbench_iterations(st))
		cbench_counter(st, "all_threads_cpu_ns_per_event",
			       1e9 * cpu / (double)(cbench_iterations(st) * NR_EVENTS),
			       CBENCH_COUNTER_DEFAULT);
}
/* Wall time: the producer encodes, worker threads deflate (tools/mmt_wpool.c). */
CBENCH_NAMED(bm_encode, "mmt/encode")
{
	cbench_setup(b, setup);
	cbench_teardown(b, teardown);
	cbench_unit(b, CBENCH_MS);
	cbench_use_real_time(b);
}

/* The producer's thread CPU time only: what encoding costs the generator or importer that
 * calls trace_writer_put (the deflate work is on the workers: all_threads_cpu_ns_per_event
 * counts both). */
CBENCH_NAMED_AS(bm_encode_cpu, bm_encode, "mmt/encode_caller_cpu")
{
	cbench_setup(b, setup);
	cbench_teardown(b, teardown);
	cbench_unit(b, CBENCH_MS);
}

/* Level 6 (libdeflate's and zlib's default balance; the writer's default before it moved
 * to level 1), wall time: the side-by-side for the default. */
static const int level6 = 6;
CBENCH_NAMED_AS(bm_encode_l6, bm_encode, "mmt/encode_level6")
{
	cbench_setup(b, setup);
	cbench_teardown(b, teardown);
	cbench_unit(b, CBENCH_MS);
	cbench_use_real_time(b);
	cbench_set_udata(b, &level6);
}

static void bm_decode(struct cbench_state *st)
{
	struct fixture *f = st->data;
	enum { BATCH = 8192 };
	struct mm_event *buf = malloc(BATCH * sizeof(*buf));
	char err[512];
	uint64_t sum = 0;
	double cpu0 = process_cpu();
	while (cbench_keep_running(st)) {
		struct trace_reader *r = buf ? trace_reader_open(f->path, err, sizeof(err)) : NULL;
		ssize_t n = r ? 1 : -1;
		uint64_t total = 0;
		while (n > 0) {
			n = trace_reader_next(r, buf, BATCH, err, sizeof(err));
			if (n > 0) {
				sum += buf[n - 1].ts;
				total += (uint64_t)n;
			}
		}
		trace_reader_close(r);
		if (n < 0 || total != NR_EVENTS) {
			cbench_skip_with_error(st, n < 0 ? err : "event count mismatch");
			break;
		}
	}
	double cpu = process_cpu() - cpu0;
	cbench_do_not_optimize(sum);
	free(buf);
	cbench_set_items_processed(st, cbench_iterations(st) * NR_EVENTS);
	if (cbench_iterations(st))
		cbench_counter(st, "all_threads_cpu_ns_per_event",
			       1e9 * cpu / (double)(cbench_iterations(st) * NR_EVENTS),
			       CBENCH_COUNTER_DEFAULT);
	cbench_counter(st, "bytes_per_event", (double)f->size / NR_EVENTS, CBENCH_COUNTER_DEFAULT);
}
/* Wall time: what a replay waits for (inflate thread + parsing in the caller's thread). */
CBENCH_NAMED(bm_decode, "mmt/decode")
{
	cbench_setup(b, setup);
	cbench_teardown(b, teardown);
	cbench_unit(b, CBENCH_MS);
	cbench_use_real_time(b);
}

/* The caller's thread CPU time only: the parsing rate, apart from the inflate thread
 * (on a loaded machine wall time mostly measures waiting for a core). */
CBENCH_NAMED_AS(bm_decode_cpu, bm_decode, "mmt/decode_caller_cpu")
{
	cbench_setup(b, setup);
	cbench_teardown(b, teardown);
	cbench_unit(b, CBENCH_MS);
}
