/* Address-space operations through sim_apply, as a trace drives them, on x86_64 mem=5G
 * (enough that reclaim never runs).
 *
 *   mm/anon_write_fault   one write fault on a fresh page of a private anonymous mapping:
 *                         find_vma, the page-table walk (tables allocated as needed), the
 *                         page allocation, the rmap/LRU/rss accounting, the pte set.
 *                         Per page. Every 64 Ki pages the mapping is unmapped and mapped
 *                         again, untimed.
 *   mm/fork_1g_cow        fork of a task with 1 GiB of written private anonymous memory,
 *                         then the child writes all of it (a COW copy per page), then the
 *                         child exits. One iteration is all of that; items/s is pages/s. */
#include <string.h>

#include "cbench.h"
#include "sim.h"

#define HEAP 0x10000000ull
#define RW (MM_PROT_READ | MM_PROT_WRITE)
#define ANON_PRIVATE (MM_MAP_PRIVATE | MM_MAP_ANON)

struct mm_bench {
	struct strtab strings;
	struct sim *s;
	uint64_t ts;
};

static int mm_bench_boot(struct mm_bench *b, char *err, size_t errlen)
{
	struct machine_config cfg;
	machine_config_default(&cfg, ARCH_X86_64);
	cfg.mem_limit = 5ull << 30;
	if (cfg.ram < cfg.mem_limit)
		cfg.ram = cfg.mem_limit;
	strtab_init(&b->strings);
	b->ts = 0;
	b->s = sim_create(&cfg, &b->strings, REPLAY_MODEL, err, errlen);
	if (!b->s)
		strtab_free(&b->strings);
	return b->s ? 0 : -1;
}

static void mm_bench_destroy(struct mm_bench *b)
{
	sim_destroy(b->s);
	strtab_free(&b->strings);
}

static struct mm_event mm_ev(struct mm_bench *b, uint32_t pid, enum mm_event_type type)
{
	struct mm_event e;
	memset(&e, 0, sizeof(e));
	e.ts = ++b->ts;
	e.pid = pid;
	e.type = (uint8_t)type;
	return e;
}

static void do_exec(struct mm_bench *b, uint32_t pid, const char *file)
{
	struct mm_event e = mm_ev(b, pid, EV_EXEC);
	e.u.exec.filename = strtab_intern(&b->strings, file, strlen(file));
	sim_apply(b->s, &e);
}

static void do_range(struct mm_bench *b, uint32_t pid, enum mm_event_type type, uint64_t addr,
		     uint64_t len)
{
	struct mm_event e = mm_ev(b, pid, type);
	if (type == EV_MMAP) {
		e.u.map.addr = addr;
		e.u.map.len = len;
		e.u.map.prot = RW;
		e.u.map.flags = ANON_PRIVATE;
	} else if (type == EV_TOUCH) {
		e.u.touch.addr = addr;
		e.u.touch.len = len;
		e.u.touch.access = FAULT_WRITE;
	} else {
		e.u.range.addr = addr;
		e.u.range.len = len;
	}
	sim_apply(b->s, &e);
}

#define FAULT_PAGES (1u << 16)

static void bm_anon_write_fault(struct cbench_state *st)
{
	struct mm_bench b;
	char err[256];
	if (mm_bench_boot(&b, err, sizeof(err))) {
		cbench_skip_with_error(st, err);
		return;
	}
	do_exec(&b, 100, "/bin/bench");
	const uint64_t len = (uint64_t)FAULT_PAGES << PAGE_SHIFT;
	do_range(&b, 100, EV_MMAP, HEAP, len);
	struct mm_event e = mm_ev(&b, 100, EV_FAULT);
	e.u.fault.access = FAULT_WRITE;
	uint32_t page = 0;
	uint64_t faults0 = b.s->vmstat[PGFAULT];
	while (cbench_keep_running(st)) {
		if (page == FAULT_PAGES) {
			cbench_pause_timing(st);
			do_range(&b, 100, EV_MUNMAP, HEAP, len);
			do_range(&b, 100, EV_MMAP, HEAP, len);
			page = 0;
			cbench_resume_timing(st);
		}
		e.ts = ++b.ts;
		e.u.fault.addr = HEAP + ((uint64_t)page++ << PAGE_SHIFT);
		sim_apply(b.s, &e);
	}
	/* every iteration must have been a fault that allocated (no OOM, no reuse) */
	if (b.s->vmstat[PGFAULT] - faults0 != (uint64_t)cbench_iterations(st))
		cbench_skip_with_error(st, "a fault was not counted");
	cbench_set_items_processed(st, cbench_iterations(st));
	mm_bench_destroy(&b);
}

#define COW_BYTES (1ull << 30)

static void bm_fork_1g_cow(struct cbench_state *st)
{
	struct mm_bench b;
	char err[256];
	if (mm_bench_boot(&b, err, sizeof(err))) {
		cbench_skip_with_error(st, err);
		return;
	}
	do_exec(&b, 100, "/bin/bench");
	do_range(&b, 100, EV_MMAP, HEAP, COW_BYTES);
	do_range(&b, 100, EV_TOUCH, HEAP, COW_BYTES);
	uint32_t child = 1000;
	uint64_t cow0 = b.s->vmstat[COW_FAULT];
	while (cbench_keep_running(st)) {
		struct mm_event f = mm_ev(&b, 100, EV_FORK);
		f.u.fork.child = ++child;
		sim_apply(b.s, &f);
		do_range(&b, child, EV_TOUCH, HEAP, COW_BYTES);
		struct mm_event x = mm_ev(&b, child, EV_EXIT);
		sim_apply(b.s, &x);
	}
	uint64_t pages = COW_BYTES >> PAGE_SHIFT;
	if (b.s->vmstat[COW_FAULT] - cow0 != pages * (uint64_t)cbench_iterations(st))
		cbench_skip_with_error(st, "not every page was copied on write");
	cbench_set_items_processed(st, (int64_t)pages * cbench_iterations(st));
	mm_bench_destroy(&b);
}

CBENCH_NAMED(bm_anon_write_fault, "mm/anon_write_fault") {}

CBENCH_NAMED(bm_fork_1g_cow, "mm/fork_1g_cow") { cbench_unit(b, CBENCH_MS); }
