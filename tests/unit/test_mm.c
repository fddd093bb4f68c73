/* Address spaces: exact scenarios with their expected counters, and a randomized run with
 * the rmap/refcount/page-table invariants checked after every event. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mm_internal.h"
#include "sim.h"
#include "testlib_sim.h"

static struct strtab strings;

static struct sim *boot(enum arch arch, const char *mem, unsigned cpus)
{
	struct machine_config cfg;
	tl_sim_config(&cfg, arch, mem, NULL);
	cfg.nr_cpus = cpus;
	strtab_init(&strings);
	return tl_sim_create(&cfg, &strings);
}

static void teardown(struct sim *s)
{
	sim_destroy(s);
	strtab_free(&strings);
}

static uint64_t ts;

/* Free pages with the per-CPU lists drained back into the buddy allocator. */
static uint64_t free_now(struct sim *s)
{
	drain_all_pages(&s->pgdat);
	return global_free_pages(&s->pgdat);
}

static struct mm_event ev(uint32_t pid, enum mm_event_type type)
{
	struct mm_event e;
	memset(&e, 0, sizeof(e));
	e.ts = ++ts;
	e.pid = pid;
	e.type = (uint8_t)type;
	return e;
}

static void do_exec(struct sim *s, uint32_t pid, const char *file)
{
	struct mm_event e = ev(pid, EV_EXEC);
	e.u.exec.filename = strtab_intern(&strings, file, strlen(file));
	sim_apply(s, &e);
}

static void do_mmap(struct sim *s, uint32_t pid, uint64_t addr, uint64_t len, uint16_t prot,
		    uint16_t flags)
{
	struct mm_event e = ev(pid, EV_MMAP);
	e.u.map.addr = addr;
	e.u.map.len = len;
	e.u.map.prot = prot;
	e.u.map.flags = flags;
	sim_apply(s, &e);
}

static void do_touch(struct sim *s, uint32_t pid, uint64_t addr, uint64_t len, uint32_t access)
{
	struct mm_event e = ev(pid, EV_TOUCH);
	e.u.touch.addr = addr;
	e.u.touch.len = len;
	e.u.touch.access = access;
	sim_apply(s, &e);
}

static void do_fault(struct sim *s, uint32_t pid, uint64_t addr, uint32_t access)
{
	struct mm_event e = ev(pid, EV_FAULT);
	e.u.fault.addr = addr;
	e.u.fault.access = access;
	sim_apply(s, &e);
}

static void do_fork(struct sim *s, uint32_t pid, uint32_t child)
{
	struct mm_event e = ev(pid, EV_FORK);
	e.u.fork.child = child;
	sim_apply(s, &e);
}

static void do_simple(struct sim *s, uint32_t pid, enum mm_event_type type, uint64_t addr,
		      uint64_t len, uint32_t prot)
{
	struct mm_event e = ev(pid, type);
	e.u.range.addr = addr;
	e.u.range.len = len;
	e.u.range.prot = prot;
	sim_apply(s, &e);
}

#define HEAP 0x10000000ull
#define RW (MM_PROT_READ | MM_PROT_WRITE)
#define ANON_PRIVATE (MM_MAP_PRIVATE | MM_MAP_ANON)

Test(mm, fork_then_child_writes_ten_pages_copies_exactly_ten)
{
	struct sim *s = boot(ARCH_I386, "1G", 1);
	do_exec(s, 100, "/bin/hog");
	do_mmap(s, 100, HEAP, 100 * 4096, RW, ANON_PRIVATE);
	do_touch(s, 100, HEAP, 100 * 4096, FAULT_WRITE);
	cr_assert_eq(s->vmstat[COW_FAULT], 0);
	do_fork(s, 100, 101);
	cr_assert_eq(s->mm.tlb.flushes[TLB_FORK], 1);
	do_touch(s, 101, HEAP, 10 * 4096, FAULT_WRITE);
	cr_assert_eq(s->vmstat[COW_FAULT], 10);
	cr_assert_eq(s->mm.tlb.flushes[TLB_COW], 10);
	sim_apply(s, &(struct mm_event){.ts = ++ts, .pid = 101, .type = EV_EXIT});
	uint64_t reuse = s->vmstat[COW_REUSE];
	do_touch(s, 100, HEAP, 100 * 4096, FAULT_WRITE);
	cr_assert_eq(s->vmstat[COW_FAULT], 10, "after the child exits the parent copies nothing");
	cr_assert_eq(s->vmstat[COW_REUSE] - reuse, 100);
	teardown(s);
}

Test(mm, read_fault_maps_zero_page_then_write_allocates)
{
	struct sim *s = boot(ARCH_I386, "512M", 1);
	do_exec(s, 7, "/bin/sh");
	uint64_t anon = s->mm.nr_anon_pages;
	do_mmap(s, 7, HEAP, 4096, RW, ANON_PRIVATE);
	uint64_t free0 = free_now(s);
	do_fault(s, 7, HEAP, FAULT_READ);
	cr_assert_eq(s->vmstat[ZERO_PAGE_MAP], 1);
	cr_assert_eq(s->mm.nr_anon_pages, anon);
	/* only a pte table was allocated for the read */
	cr_assert_eq(free0 - free_now(s), 1);
	do_fault(s, 7, HEAP, FAULT_WRITE);
	cr_assert_eq(s->mm.nr_anon_pages, anon + 1);
	cr_assert_eq(s->vmstat[COW_FAULT], 1, "write over the zero page copies (from zero)");
	teardown(s);
}

Test(mm, munmap_of_the_middle_splits_and_flushes_exactly_its_pages)
{
	struct sim *s = boot(ARCH_I386, "1G", 1);
	do_exec(s, 9, "/bin/x");
	do_mmap(s, 9, HEAP, 10 * 4096, RW, ANON_PRIVATE);
	do_touch(s, 9, HEAP, 10 * 4096, FAULT_WRITE);
	struct mm_struct *mm = find_task(s, 9)->mm;
	uint32_t vmas = mm->nr_vma;
	uint64_t one = s->vmstat[NR_TLB_LOCAL_FLUSH_ONE];
	do_simple(s, 9, EV_MUNMAP, HEAP + 3 * 4096, 4 * 4096, 0);
	cr_assert_eq(mm->nr_vma, vmas + 1);
	cr_assert_eq(s->mm.tlb.pages[TLB_MUNMAP], 4);
	cr_assert_eq(s->vmstat[NR_TLB_LOCAL_FLUSH_ONE] - one, 4);
	cr_assert_eq(mm->rss[MM_ANONPAGES], 6 + 1 /* the exec stack page */);
	teardown(s);
}

Test(mm, exec_frees_the_old_address_space_completely)
{
	struct sim *s = boot(ARCH_I386_PAE, "1G", 1);
	do_exec(s, 5, "/bin/a");
	uint64_t after_exec = free_now(s);
	do_mmap(s, 5, HEAP, 256 * 4096, RW, ANON_PRIVATE);
	do_touch(s, 5, HEAP, 256 * 4096, FAULT_WRITE);
	do_mmap(s, 5, 0x40000000, 64 * 4096, RW, ANON_PRIVATE);
	do_touch(s, 5, 0x40000000, 64 * 4096, FAULT_WRITE);
	cr_assert_lt(free_now(s), after_exec - 320);
	do_exec(s, 5, "/bin/a");
	cr_assert_eq(free_now(s), after_exec);
	cr_assert_eq(s->mm.live_mms, 1);
	teardown(s);
}

Test(mm, write_to_readonly_mapping_is_sigsegv_and_later_events_dropped)
{
	struct sim *s = boot(ARCH_X86_64, "1G", 2);
	do_exec(s, 3, "/bin/ro");
	do_mmap(s, 3, HEAP, 4096, MM_PROT_READ, ANON_PRIVATE);
	do_fault(s, 3, HEAP, FAULT_WRITE);
	cr_assert_eq(s->vmstat[FAULT_SIGSEGV], 1);
	do_fault(s, 3, HEAP, FAULT_READ);
	cr_assert_eq(s->vmstat[DROPPED_KILLED], 1);
	teardown(s);
}

Test(mm, fork_flushes_remote_cpus_the_parent_ran_on)
{
	struct sim *s = boot(ARCH_X86_64, "1G", 4);
	struct mm_event e = ev(1, EV_EXEC);
	e.u.exec.filename = strtab_intern(&strings, "/init", 5);
	sim_apply(s, &e);
	do_mmap(s, 1, HEAP, 4096, RW, ANON_PRIVATE);
	for (uint16_t cpu = 0; cpu < 3; cpu++) {
		struct mm_event t = ev(1, EV_TOUCH);
		t.cpu = cpu;
		t.u.touch.addr = HEAP;
		t.u.touch.len = 4096;
		t.u.touch.access = FAULT_WRITE;
		sim_apply(s, &t);
	}
	uint64_t recv = s->vmstat[NR_TLB_REMOTE_FLUSH_RECEIVED];
	do_fork(s, 1, 2); /* on CPU 0: CPUs 1 and 2 get IPIs */
	cr_assert_eq(s->vmstat[NR_TLB_REMOTE_FLUSH_RECEIVED] - recv, 2);
	teardown(s);
}

Test(mm, highmem_pages_go_through_kmap_local_on_i386_only)
{
	struct sim *s = boot(ARCH_I386, "1G", 1);
	do_exec(s, 4, "/bin/h");
	do_mmap(s, 4, HEAP, 64 * 4096, RW, ANON_PRIVATE);
	do_touch(s, 4, HEAP, 64 * 4096, FAULT_WRITE);
	/* GFP_HIGHUSER_MOVABLE prefers HighMem: every new page is zeroed through kmap_local */
	cr_assert_geq(s->vmstat[KMAP_ATOMIC], 64);
	teardown(s);
	s = boot(ARCH_X86_64, "1G", 1);
	do_exec(s, 4, "/bin/h");
	do_mmap(s, 4, HEAP, 64 * 4096, RW, ANON_PRIVATE);
	do_touch(s, 4, HEAP, 64 * 4096, FAULT_WRITE);
	cr_assert_eq(s->vmstat[KMAP_ATOMIC], 0);
	teardown(s);
}

Test(mm, shared_anonymous_pages_live_until_the_last_mapping_goes)
{
	struct sim *s = boot(ARCH_I386, "512M", 1);
	do_exec(s, 30, "/bin/db");
	uint64_t base = free_now(s);
	do_mmap(s, 30, HEAP, 64 * 4096, RW, MM_MAP_SHARED | MM_MAP_ANON);
	do_touch(s, 30, HEAP, 64 * 4096, FAULT_WRITE);
	cr_assert_eq(s->mm.nr_file_pages, 64);
	do_fork(s, 30, 31);
	do_simple(s, 30, EV_MUNMAP, HEAP, 64 * 4096, 0);
	cr_assert_eq(s->mm.nr_file_pages, 64, "the child still maps the file");
	do_touch(s, 31, HEAP, 64 * 4096, FAULT_READ);
	do_simple(s, 31, EV_MUNMAP, HEAP, 16 * 4096, 0);
	cr_assert_eq(s->mm.nr_file_pages, 64, "an unmapped part stays in the live file");
	uint64_t mapped = free_now(s);
	sim_apply(s, &(struct mm_event){.ts = ++ts, .pid = 31, .type = EV_EXIT});
	cr_assert_eq(s->mm.nr_file_pages, 0, "the last mapping went: the file is truncated");
	cr_assert_geq(free_now(s), mapped + 64);
	sim_apply(s, &(struct mm_event){.ts = ++ts, .pid = 30, .type = EV_EXIT});
	cr_assert_geq(free_now(s), base);
	teardown(s);
}

Test(mm, shmem_pages_do_not_alias_a_regular_file)
{
	struct sim *s = boot(ARCH_I386, "512M", 1);
	do_exec(s, 40, "/bin/app");
	uint32_t lib = strtab_intern(&strings, "/lib/data", 9);
	struct mm_event e = ev(40, EV_MMAP);
	e.u.map.addr = HEAP;
	e.u.map.len = 4096;
	e.u.map.prot = MM_PROT_READ;
	e.u.map.flags = MM_MAP_PRIVATE;
	e.u.map.file = lib;
	sim_apply(s, &e);
	do_fault(s, 40, HEAP, FAULT_READ);
	/* shmem ids count up from 2^31: map shared anonymous regions until one's id has the
	 * file's low bits */
	uint64_t addr = HEAP + (1ull << 20);
	for (uint32_t i = 0; i <= lib; i++, addr += 4096)
		do_mmap(s, 40, addr, 4096, RW, MM_MAP_SHARED | MM_MAP_ANON);
	do_fault(s, 40, addr - 4096, FAULT_READ);
	cr_assert_eq(s->mm.nr_file_pages, 2, "the shmem page is its own, not the file's");
	cr_assert_eq(s->vmstat[PGMAJFAULT], 1, "only the file was read");
	teardown(s);
}

/* ---- randomized run with invariants ------------------------------------------------ */

struct walk_ctx {
	int32_t *maps; /* ptes seen per frame, indexed by pfn - node_start_pfn */
	uint64_t tables;
};

/* The mm's rss counters are its ptes by kind (fork copies them per table). */
static void count_ptes(struct sim *s, struct mm_struct *mm, int32_t *maps)
{
	uint64_t rss[NR_MM_COUNTERS] = {0};
	for (uint32_t i = 0; i < mm->nr_vma; i++) {
		const struct vm_area_struct *v = &mm->vma[i];
		for (uint64_t a = v->vm_start; a < v->vm_end;) {
			uint64_t n;
			pte_t *pte = pte_range(&s->mm.pt, &mm->pgd, a, v->vm_end, &n);
			for (uint64_t k = 0; pte && k < n; k++) {
				rss[MM_SWAPENTS] += !pte_none(pte[k]) && !pte_present(pte[k]);
				if (!pte_present(pte[k]) || (pte[k] & _PAGE_SPECIAL))
					continue;
				pfn_t pfn = pte_pfn(pte[k]);
				struct page *p = sim_page(s, pfn);
				rss[page_test(p, PG_anon)	     ? MM_ANONPAGES
				    : is_shmem_file(p->mapping) ? MM_SHMEMPAGES
								: MM_FILEPAGES]++;
				cr_assert(!page_test(p, PG_buddy), "pte maps a free frame %u", pfn);
				cr_assert(!pte_write(pte[k]) || page_test(p, PG_anon) ||
					  (v->vm_flags & VM_SHARED),
					  "writable pte to a shared frame at %#llx",
					  (unsigned long long)(a + k * 4096));
				maps[pfn - s->pgdat.node_start_pfn]++;
			}
			a += n << PAGE_SHIFT;
		}
	}
	for (int i = 0; i < NR_MM_COUNTERS; i++)
		cr_assert_eq(mm->rss[i], rss[i], "rss counter %d: %llu, ptes %llu", i,
			     (unsigned long long)mm->rss[i], (unsigned long long)rss[i]);
}

static bool file_mapped(const struct sim *s, uint32_t file)
{
	for (const struct mm_struct *mm = s->mm.all_mms; mm; mm = mm->next)
		for (uint32_t i = 0; mm->live && i < mm->nr_vma; i++)
			if (mm->vma[i].file == file)
				return true;
	return false;
}

/* A shmem file lives while a VMA maps it: no page of an unmapped one stays cached. */
static void check_shmem_mapped(const struct sim *s)
{
	uint32_t ok[64], nr_ok = 0;
	for (uint64_t i = 0; i < s->pgdat.node_spanned_pages; i++) {
		const struct page *p = &s->pgdat.mem_map[i];
		if (!page_test(p, PG_file) || !is_shmem_file(p->mapping))
			continue;
		bool known = false;
		for (uint32_t k = 0; k < nr_ok && !known; k++)
			known = ok[k] == p->mapping;
		if (known)
			continue;
		cr_assert(file_mapped(s, p->mapping), "pfn %llu: page of unmapped shmem file %#x",
			  (unsigned long long)(i + s->pgdat.node_start_pfn), p->mapping);
		if (nr_ok < 64)
			ok[nr_ok++] = p->mapping;
	}
}

static void check_invariants(struct sim *s)
{
	uint64_t span = s->pgdat.node_spanned_pages;
	int32_t *maps = calloc(span, sizeof(*maps));
	uint64_t tables = 0;
	for (struct mm_struct *mm = s->mm.all_mms; mm; mm = mm->next) {
		if (!mm->live)
			continue;
		count_ptes(s, mm, maps);
		tables += mm->pgd.nr_pages;
		cr_assert(pgtable_groups_cover(&s->mm.pt, &mm->pgd),
			  "an upper-level entry outside its group's bit");
	}
	uint64_t pgtable_frames = 0;
	for (uint64_t i = 0; i < span; i++) {
		struct page *p = &s->pgdat.mem_map[i];
		pgtable_frames += page_test(p, PG_pgtable);
		if (page_test(p, PG_zero))
			continue;
		cr_assert_eq(p->mapcount, maps[i], "pfn %llu: mapcount %d, ptes %d",
			     (unsigned long long)(i + s->pgdat.node_start_pfn), p->mapcount, maps[i]);
		cr_assert_geq(p->refcount, p->mapcount);
		if (page_test(p, PG_anon))
			cr_assert_eq(p->refcount, p->mapcount, "anon refcount is its mappings");
		if (page_test(p, PG_file))
			cr_assert_eq(p->refcount, p->mapcount + 1, "cache ref + mappings");
	}
	cr_assert_eq(tables, s->mm.pt.nr_pagetable);
	cr_assert_eq(pgtable_frames, s->mm.pt.nr_pagetable);
	check_shmem_mapped(s);
	cr_assert(pgtable_free_slots_zero(&s->mm.pt), "a freed page table kept an entry");
	free(maps);
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Four regions this far apart (in different upper-level tables), 64 pages each. */
static uint64_t region_step;

static void random_step(struct sim *s, uint64_t *x, uint32_t *pids, int npids)
{
	uint32_t pid = pids[rnd(x) % npids];
	uint64_t addr = HEAP + (rnd(x) % 4) * region_step + (rnd(x) % 64) * 4096;
	uint64_t len = (1 + rnd(x) % 16) * 4096;
	uint32_t access = rnd(x) & 1 ? FAULT_WRITE : FAULT_READ;
	struct task_struct *t = find_task(s, pid);
	if (!t || t->killed) { /* reap and respawn, so every pid keeps doing work */
		sim_apply(s, &(struct mm_event){.ts = ++ts, .pid = pid, .type = EV_EXIT});
		do_exec(s, pid, "/bin/r");
		return;
	}
	switch (rnd(x) % 10) {
	case 0:
		if (rnd(x) % 3 == 0) { /* private file: fork copies its file ptes (rss) */
			struct mm_event e = ev(pid, EV_MMAP);
			e.u.map.addr = addr;
			e.u.map.len = len;
			e.u.map.prot = RW;
			e.u.map.flags = MM_MAP_PRIVATE;
			e.u.map.file = strtab_intern(&strings, "/lib/r.so", 9);
			sim_apply(s, &e);
			break;
		}
		do_mmap(s, pid, addr, len, RW,
			rnd(x) & 1 ? ANON_PRIVATE : (MM_MAP_SHARED | MM_MAP_ANON));
		break;
	case 1:
		do_simple(s, pid, EV_MUNMAP, addr, len, 0);
		break;
	case 2:
		do_simple(s, pid, EV_MPROTECT, addr, len, rnd(x) & 1 ? RW : MM_PROT_READ);
		break;
	case 3:
		do_fork(s, pid, pids[rnd(x) % npids]);
		break;
	case 4:
		sim_apply(s, &(struct mm_event){.ts = ++ts, .pid = pid, .type = EV_EXIT});
		break;
	default:
		do_touch(s, pid, addr, len, access);
		break;
	}
}

static void random_run(enum arch arch, uint64_t region)
{
	region_step = region;
	struct sim *s = boot(arch, "256M", 2);
	s->mm.implicit_regions = false;
	uint64_t boot_free = free_now(s);
	uint32_t pids[6] = {10, 11, 12, 13, 14, 15};
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 6; i++)
		do_exec(s, pids[i], "/bin/r");
	for (int step = 0; step < 3000; step++) {
		random_step(s, &x, pids, 6);
		check_invariants(s);
	}
	for (int i = 0; i < 6; i++)
		sim_apply(s, &(struct mm_event){.ts = ++ts, .pid = pids[i], .type = EV_EXIT});
	check_invariants(s);
	cr_assert_eq(s->mm.live_mms, 0);
	cr_assert_eq(s->mm.pt.nr_pagetable, 0);
	/* every frame is back, shmem files' pages too; the regular file's stay cached */
	for (uint64_t i = 0; i < s->pgdat.node_spanned_pages; i++) {
		const struct page *p = &s->pgdat.mem_map[i];
		cr_assert(!page_test(p, PG_file) || !is_shmem_file(p->mapping));
	}
	cr_assert_eq(free_now(s) + s->mm.nr_file_pages, boot_free);
	teardown(s);
}

/* fork copies the ptes of a private file mapping that has anonymous pages: file pages
 * (shared with the page cache) and the COW copies, each counted in its rss member. */
Test(mm, fork_copies_file_and_anon_ptes_of_a_private_file_mapping)
{
	struct sim *s = boot(ARCH_I386, "256M", 1);
	do_exec(s, 50, "/bin/app");
	struct mm_event e = ev(50, EV_MMAP);
	e.u.map.addr = HEAP;
	e.u.map.len = 8 * 4096;
	e.u.map.prot = RW;
	e.u.map.flags = MM_MAP_PRIVATE;
	e.u.map.file = strtab_intern(&strings, "/lib/f.so", 9);
	sim_apply(s, &e);
	for (int k = 0; k < 8; k++)
		do_fault(s, 50, HEAP + k * 4096, k < 3 ? FAULT_WRITE : FAULT_READ);
	struct mm_struct *parent = find_task(s, 50)->mm;
	uint64_t file0 = parent->rss[MM_FILEPAGES], anon0 = parent->rss[MM_ANONPAGES];
	cr_assert_eq(file0, 5);
	do_fork(s, 50, 51);
	struct mm_struct *child = find_task(s, 51)->mm;
	cr_assert_eq(child->rss[MM_FILEPAGES], file0, "the file pages are copied too");
	cr_assert_eq(child->rss[MM_ANONPAGES], anon0);
	check_invariants(s);
	teardown(s);
}

Test(mm, random_events_keep_rmap_refcount_and_pgtable_invariants)
{
	random_run(ARCH_I386, 512ull << 20); /* a pgd entry spans 4 MiB */
}

Test(mm, random_events_keep_invariants_pae)
{
	random_run(ARCH_I386_PAE, 768ull << 20); /* pgd entries span 1 GiB, pmds 2 MiB */
}

Test(mm, random_events_keep_invariants_x86_64)
{
	random_run(ARCH_X86_64, 256ull << 30); /* pgd entries span 512 GiB, puds 1 GiB */
}

/* Neighbouring page tables (span apart) share a group of PT_GROUP upper-level entries,
 * of which pgtable.c reads only those whose bit is set: a munmap that frees the middle
 * table leaves the bit for its neighbours, which exit then finds and frees. */
static void one_group_run(enum arch arch, uint64_t span)
{
	struct sim *s = boot(arch, "512M", 1);
	do_exec(s, 7, "/bin/sh");
	for (uint64_t k = 0; k < 3; k++) {
		do_mmap(s, 7, HEAP + k * span, 4096, RW, ANON_PRIVATE);
		do_touch(s, 7, HEAP + k * span, 4096, FAULT_WRITE);
	}
	uint64_t tables = s->mm.pt.nr_pagetable;
	do_simple(s, 7, EV_MUNMAP, HEAP + span, 4096, 0);
	cr_assert_eq(s->mm.pt.nr_pagetable, tables - 1, "the middle table is freed");
	check_invariants(s);
	sim_apply(s, &(struct mm_event){.ts = ++ts, .pid = 7, .type = EV_EXIT});
	cr_assert_eq(s->mm.pt.nr_pagetable, 0, "exit found the neighbours");
	check_invariants(s);
	teardown(s);
}

Test(mm, munmap_of_a_table_between_neighbours_keeps_them_found)
{
	one_group_run(ARCH_I386, 4ull << 20);	/* neighbouring pgd entries */
	one_group_run(ARCH_X86_64, 2ull << 20); /* neighbouring pmd entries */
}
