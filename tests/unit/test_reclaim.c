/* Memory pressure: overcommit modes, the OOM killer, swap traffic, and a randomized run
 * under pressure with frame and swap-slot conservation checked after every event. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mm_internal.h"
#include "sim.h"
#include "testlib_sim.h"

static struct strtab strings;
static uint64_t ts;

static struct sim *boot(const char *mem, const char *swap, int overcommit)
{
	struct machine_config cfg;
	tl_sim_config(&cfg, ARCH_I386, mem, swap);
	cfg.vm.overcommit_memory = overcommit;
	strtab_init(&strings);
	return tl_sim_create(&cfg, &strings);
}

static void teardown(struct sim *s)
{
	sim_destroy(s);
	strtab_free(&strings);
}

static void apply(struct sim *s, uint32_t pid, enum mm_event_type type, uint64_t a, uint64_t b,
		  uint32_t c)
{
	struct mm_event e;
	memset(&e, 0, sizeof(e));
	e.ts = ++ts;
	e.pid = pid;
	e.type = (uint8_t)type;
	switch (type) {
	case EV_EXEC:
		e.u.exec.filename = strtab_intern(&strings, "/bin/p", 6);
		break;
	case EV_MMAP:
		e.u.map.addr = a;
		e.u.map.len = b;
		e.u.map.prot = MM_PROT_READ | MM_PROT_WRITE;
		e.u.map.flags = (uint16_t)(c ? c : MM_MAP_PRIVATE | MM_MAP_ANON);
		break;
	case EV_TOUCH:
		e.u.touch.addr = a;
		e.u.touch.len = b;
		e.u.touch.access = c;
		break;
	case EV_FORK:
		e.u.fork.child = (uint32_t)a;
		break;
	case EV_SET_OOM_SCORE_ADJ:
		e.u.adj.value = (int32_t)a;
		break;
	default:
		e.u.range.addr = a;
		e.u.range.len = b;
		break;
	}
	sim_apply(s, &e);
}

static uint64_t free_now(struct sim *s)
{
	drain_all_pages(&s->pgdat);
	return global_free_pages(&s->pgdat);
}

#define BASE 0x10000000ull

Test(overcommit, mode2_refuses_one_page_over_the_limit_and_accepts_the_limit)
{
	struct sim *s = boot("512M", "64M", 2);
	apply(s, 1, EV_EXEC, 0, 0, 0);
	struct mm_struct *mm = find_task(s, 1)->mm;
	const struct commit_state *c = &s->commit;
	/* __vm_enough_memory, mode 2: committed (with the request) < limit - reserves */
	uint64_t user = mm->total_vm / 32 < c->user_reserve_pages ? mm->total_vm / 32
								   : c->user_reserve_pages;
	uint64_t allowed = vm_commit_limit(c) - c->admin_reserve_pages - user;
	uint64_t fit = allowed - c->committed_as - 1;
	cr_assert_eq(vm_commit_limit(c),
		     s->machine.totalram_pages * 50 / 100 + swap_free_pages(&s->swap));
	apply(s, 1, EV_MMAP, BASE, (fit + 1) * 4096, 0);
	cr_assert_eq(s->vmstat[COMMIT_REFUSED_MMAP], 1);
	cr_assert_null(find_vma(mm, BASE));
	apply(s, 1, EV_MMAP, BASE, fit * 4096, 0);
	cr_assert_eq(s->vmstat[COMMIT_REFUSED_MMAP], 1);
	cr_assert_not_null(find_vma(mm, BASE));
	/* a fork would double the private writable memory: refused */
	apply(s, 1, EV_FORK, 2, 0, 0);
	cr_assert_eq(s->vmstat[COMMIT_REFUSED_FORK], 1);
	apply(s, 2, EV_TOUCH, BASE, 4096, FAULT_WRITE);
	cr_assert_eq(s->vmstat[DROPPED_KILLED], 1, "the child that was never born does nothing");
	teardown(s);
}

/* Pages charged for the mm's own VMAs (what dup_mmap charges again at fork). */
static uint64_t vma_charge(const struct mm_struct *mm)
{
	uint64_t pages = 0;
	for (uint32_t i = 0; i < mm->nr_vma; i++)
		if (mm->vma[i].vm_flags & VM_ACCOUNT)
			pages += vma_pages(&mm->vma[i]);
	return pages;
}

Test(overcommit, shared_anonymous_memory_is_charged_once_for_its_file)
{
	struct sim *s = boot("512M", NULL, 2);
	apply(s, 1, EV_EXEC, 0, 0, 0);
	const struct commit_state *c = &s->commit;
	uint64_t before = c->committed_as;
	apply(s, 1, EV_MMAP, BASE, 256 * 4096, MM_MAP_SHARED | MM_MAP_ANON);
	cr_assert_eq(c->committed_as, before + 256, "shmem_acct_size charges the file's size");
	struct mm_struct *mm = find_task(s, 1)->mm;
	cr_assert(!(find_vma(mm, BASE)->vm_flags & VM_ACCOUNT), "the VMA itself is not charged");
	uint64_t own = vma_charge(mm), at_fork = c->committed_as;
	apply(s, 1, EV_FORK, 2, 0, 0);
	cr_assert_eq(c->committed_as, at_fork + own, "fork charges the private VMAs only");
	apply(s, 1, EV_MUNMAP, BASE, 256 * 4096, 0);
	apply(s, 2, EV_MUNMAP, BASE, 64 * 4096, 0);
	cr_assert_eq(c->committed_as, at_fork + own, "the file lives while the child maps part of it");
	apply(s, 2, EV_EXIT, 0, 0, 0);
	cr_assert_eq(c->committed_as, at_fork - 256, "the last mapping went: the charge with it");
	/* a file larger than the policy allows is refused and leaves nothing mapped */
	uint64_t limit = vm_commit_limit(c);
	apply(s, 1, EV_MMAP, BASE, limit * 4096, MM_MAP_SHARED | MM_MAP_ANON);
	cr_assert_eq(s->vmstat[COMMIT_REFUSED_MMAP], 1);
	cr_assert_null(find_vma(mm, BASE));
	cr_assert_eq(c->committed_as, at_fork - 256);
	teardown(s);
}

Test(overcommit, mode0_refuses_a_single_request_larger_than_ram_plus_swap)
{
	struct sim *s = boot("256M", NULL, 0);
	apply(s, 1, EV_EXEC, 0, 0, 0);
	uint64_t all = s->machine.totalram_pages + swap_free_pages(&s->swap);
	apply(s, 1, EV_MMAP, BASE, (all + 1) * 4096, 0);
	cr_assert_eq(s->vmstat[COMMIT_REFUSED_MMAP], 1);
	apply(s, 1, EV_MMAP, BASE, all * 4096, 0);
	cr_assert_eq(s->vmstat[COMMIT_REFUSED_MMAP], 1);
	teardown(s);
}

Test(oom, mode1_accepts_everything_and_the_toucher_is_killed_memory_returns)
{
	struct sim *s = boot("256M", NULL, 1);
	uint64_t boot_free = free_now(s);
	apply(s, 1, EV_EXEC, 0, 0, 0); /* init: pid 1 is never chosen */
	apply(s, 50, EV_EXEC, 0, 0, 0);
	uint64_t all = s->machine.totalram_pages + 1;
	apply(s, 50, EV_MMAP, BASE, all * 4096, 0);
	cr_assert_eq(s->vmstat[COMMIT_REFUSED], 0);
	apply(s, 50, EV_TOUCH, BASE, all * 4096, FAULT_WRITE);
	cr_assert_eq(s->vmstat[OOM_KILL], 1);
	cr_assert_eq(s->oom.victims[0].pid, 50);
	cr_assert_gt(s->oom.victims[0].anon_rss, s->machine.totalram_pages / 2);
	cr_assert(find_task(s, 50)->killed);
	apply(s, 50, EV_TOUCH, BASE, 4096, FAULT_WRITE);
	cr_assert_eq(s->vmstat[DROPPED_KILLED], 1);
	/* everything the victim held is back; init keeps its stack page and tables */
	uint64_t init_pages = find_task(s, 1)->mm->rss[MM_ANONPAGES] +
			      find_task(s, 1)->mm->pgd.nr_pages;
	cr_assert_eq(free_now(s) + init_pages, boot_free);
	teardown(s);
}

Test(oom, score_adj_minus_1000_is_never_chosen)
{
	struct sim *s = boot("256M", NULL, 1);
	apply(s, 1, EV_EXEC, 0, 0, 0);
	apply(s, 10, EV_EXEC, 0, 0, 0);
	apply(s, 10, EV_SET_OOM_SCORE_ADJ, (uint64_t)-1000, 0, 0);
	uint64_t big = s->machine.totalram_pages * 6 / 10, small = s->machine.totalram_pages / 2;
	apply(s, 10, EV_MMAP, BASE, big * 4096, 0);
	apply(s, 10, EV_TOUCH, BASE, big * 4096, FAULT_WRITE);
	apply(s, 20, EV_EXEC, 0, 0, 0);
	apply(s, 20, EV_MMAP, BASE, small * 4096, 0);
	apply(s, 20, EV_TOUCH, BASE, small * 4096, FAULT_WRITE);
	cr_assert_geq(s->vmstat[OOM_KILL], 1);
	for (uint32_t i = 0; i < s->oom.nr_victims; i++)
		cr_assert_neq(s->oom.victims[i].pid, 10);
	cr_assert(!find_task(s, 10)->killed);
	teardown(s);
}

/* Every swap slot's count is the swap ptes holding it plus one for a swap-cache frame. */
static void check_swap_conservation(struct sim *s)
{
	uint64_t *refs = calloc(s->swap.pages ? s->swap.pages : 1, sizeof(*refs));
	uint64_t swapents = 0;
	for (struct mm_struct *mm = s->mm.all_mms; mm; mm = mm->next) {
		if (!mm->live)
			continue;
		uint64_t mine = 0;
		for (uint32_t i = 0; i < mm->nr_vma; i++) {
			for (uint64_t a = mm->vma[i].vm_start; a < mm->vma[i].vm_end;) {
				uint64_t n;
				pte_t *pte = pte_range(&s->mm.pt, &mm->pgd, a, mm->vma[i].vm_end, &n);
				for (uint64_t k = 0; pte && k < n; k++)
					if (pte_is_swap(pte[k])) {
						refs[pte_swp_offset(pte[k])]++;
						mine++;
					}
				a += n << PAGE_SHIFT;
			}
		}
		cr_assert_eq(mine, mm->rss[MM_SWAPENTS]);
		swapents += mine;
	}
	uint64_t inuse = 0;
	for (uint64_t slot = 1; slot < s->swap.pages; slot++) {
		uint64_t cached = swap_cache_lookup(&s->swap, slot) != PFN_NONE;
		cr_assert_eq(s->swap.swap_map[slot], refs[slot] + cached, "slot %llu",
			     (unsigned long long)slot);
		inuse += s->swap.swap_map[slot] != 0;
	}
	cr_assert_eq(inuse, s->swap.inuse_pages);
	free(refs);
}

/* Frames are conserved: free + pcp + user (anon, cache) + page tables + kernel = managed. */
static void check_frames(struct sim *s, uint64_t kernel_pages_at_boot)
{
	uint64_t managed = 0, free_pages = 0, pcp = 0;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		const struct zone *zone = &s->pgdat.node_zones[z];
		if (!zone->populated)
			continue;
		managed += zone->managed_pages;
		free_pages += zone->nr_free_pages;
		pcp += zone_pcp_pages(zone, s->pgdat.nr_cpus);
	}
	uint64_t used = s->mm.nr_anon_pages + s->mm.nr_file_pages + s->mm.pt.nr_pagetable;
	cr_assert_eq(free_pages + pcp + used + kernel_pages_at_boot, managed);
	cr_assert(pgtable_free_slots_zero(&s->mm.pt), "a freed page table kept an entry");
}

Test(swap, working_set_larger_than_ram_swaps_and_conserves_pages)
{
	struct sim *s = boot("256M", "1G", 1);
	apply(s, 1, EV_EXEC, 0, 0, 0);
	apply(s, 30, EV_EXEC, 0, 0, 0);
	uint64_t pages = s->machine.totalram_pages * 3 / 2;
	apply(s, 30, EV_MMAP, BASE, pages * 4096, 0);
	apply(s, 30, EV_TOUCH, BASE, pages * 4096, FAULT_WRITE);
	struct mm_struct *mm = find_task(s, 30)->mm, *init = find_task(s, 1)->mm;
	uint64_t stack = 1; /* the page exec writes the arguments into */
	cr_assert_eq(s->vmstat[OOM_KILL], 0, "swap turns OOM into swap traffic");
	cr_assert_eq(mm->rss[MM_ANONPAGES] + mm->rss[MM_SWAPENTS], pages + stack);
	uint64_t swapents = mm->rss[MM_SWAPENTS] + init->rss[MM_SWAPENTS];
	cr_assert_eq(s->vmstat[PSWPOUT], swapents, "each swapped page written once");
	cr_assert_eq(s->swap.inuse_pages, swapents);
	cr_assert_gt(swapents, pages - s->machine.totalram_pages);
	cr_assert_eq(s->vmstat[PSWPIN], 0);
	check_swap_conservation(s);
	/* read it all back: every swap-in is one major fault */
	uint64_t majflt = s->vmstat[PGMAJFAULT];
	apply(s, 30, EV_TOUCH, BASE, pages * 4096, FAULT_READ);
	cr_assert_geq(s->vmstat[PSWPIN], mm->rss[MM_SWAPENTS] > 0 ? 1 : 0);
	cr_assert_eq(s->vmstat[PGMAJFAULT] - majflt, s->vmstat[PSWPIN]);
	cr_assert_eq(mm->rss[MM_ANONPAGES] + mm->rss[MM_SWAPENTS], pages + stack);
	check_swap_conservation(s);
	teardown(s);
}

Test(swap, no_swap_means_no_anon_reclaim)
{
	struct sim *s = boot("256M", NULL, 1);
	apply(s, 1, EV_EXEC, 0, 0, 0);
	apply(s, 30, EV_EXEC, 0, 0, 0);
	uint64_t pages = s->machine.totalram_pages * 3 / 2;
	apply(s, 30, EV_MMAP, BASE, pages * 4096, 0);
	apply(s, 30, EV_TOUCH, BASE, pages * 4096, FAULT_WRITE);
	cr_assert_eq(s->vmstat[PSWPOUT], 0);
	cr_assert_eq(s->vmstat[PGSTEAL_ANON], 0, "seed note 17: no swap, no stealing");
	cr_assert_eq(s->vmstat[OOM_KILL], 1);
	teardown(s);
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

Test(swap, random_run_under_pressure_conserves_frames_and_slots)
{
	struct sim *s = boot("64M", "32M", 1);
	drain_all_pages(&s->pgdat);
	uint64_t managed = 0;
	for (int z = 0; z < MAX_NR_ZONES; z++)
		managed += s->pgdat.node_zones[z].populated ? s->pgdat.node_zones[z].managed_pages : 0;
	uint64_t kernel = managed - global_free_pages(&s->pgdat);
	uint32_t pids[4] = {40, 41, 42, 43};
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 4; i++) {
		apply(s, pids[i], EV_EXEC, 0, 0, 0);
		apply(s, pids[i], EV_MMAP, BASE, 32u << 20, 0);
	}
	for (int step = 0; step < 1500; step++) {
		uint32_t pid = pids[rnd(&x) % 4];
		struct task_struct *t = find_task(s, pid);
		if (!t || t->killed) { /* reap and respawn with its 32 MiB arena */
			apply(s, pid, EV_EXIT, 0, 0, 0);
			apply(s, pid, EV_EXEC, 0, 0, 0);
			apply(s, pid, EV_MMAP, BASE, 32u << 20, 0);
			continue;
		}
		uint64_t addr = BASE + (rnd(&x) % 32) * (1u << 20);
		uint64_t len = (1 + rnd(&x) % 2048) * 4096;
		if (addr + len > BASE + (32u << 20))
			len = BASE + (32u << 20) - addr;
		switch (rnd(&x) % 8) {
		case 0:
			apply(s, pid, EV_MMAP, addr, len, 0);
			break;
		case 1:
			apply(s, pid, EV_MUNMAP, addr, len, 0);
			break;
		case 2:
			apply(s, pid, EV_FORK, pids[rnd(&x) % 4], 0, 0);
			break;
		default:
			apply(s, pid, EV_TOUCH, addr, len, rnd(&x) & 1 ? FAULT_WRITE : FAULT_READ);
			break;
		}
		check_frames(s, kernel);
		if (step % 10 == 0)
			check_swap_conservation(s);
	}
	cr_assert_gt(s->vmstat[PSWPOUT], 0, "the run must have been under pressure");
	for (int i = 0; i < 4; i++)
		apply(s, pids[i], EV_EXIT, 0, 0, 0);
	check_frames(s, kernel);
	check_swap_conservation(s);
	cr_assert_eq(s->swap.inuse_pages, 0);
	teardown(s);
}
