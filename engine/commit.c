#include "commit.h"

void commit_init(struct commit_state *c, const struct vm_sysctl *vm, uint64_t totalram_pages,
		 uint64_t total_swap_pages, uint64_t free_pages_at_boot)
{
	c->committed_as = 0;
	c->vm = vm;
	c->totalram_pages = totalram_pages;
	c->total_swap_pages = total_swap_pages;
	uint64_t free_kbytes = free_pages_at_boot * 4;
	/* mm/mmap.c init_user_reserve: min(3% of free, 128 MiB); init_admin_reserve:
	 * min(3% of free, 8 MiB); "3%" is free_kbytes / 32 */
	uint64_t user_kb = vm->user_reserve_kbytes ? vm->user_reserve_kbytes
						   : (free_kbytes / 32 < 131072 ? free_kbytes / 32 : 131072);
	uint64_t admin_kb = vm->admin_reserve_kbytes ? vm->admin_reserve_kbytes
						     : (free_kbytes / 32 < 8192 ? free_kbytes / 32 : 8192);
	c->user_reserve_pages = user_kb / 4;
	c->admin_reserve_pages = admin_kb / 4;
}

uint64_t vm_commit_limit(const struct commit_state *c)
{
	uint64_t allowed;
	/* mm/util.c vm_commit_limit: kbytes when set, else ratio of RAM (no hugetlb here) */
	if (c->vm->overcommit_kbytes)
		allowed = c->vm->overcommit_kbytes / 4;
	else
		allowed = c->totalram_pages * (uint64_t)c->vm->overcommit_ratio / 100;
	return allowed + c->total_swap_pages;
}

bool vm_enough_memory(struct commit_state *c, uint64_t pages, uint64_t total_vm)
{
	c->committed_as += pages;
	switch (c->vm->overcommit_memory) {
	case 1: /* OVERCOMMIT_ALWAYS */
		return true;
	case 0: /* OVERCOMMIT_GUESS (6.x): only a single request larger than RAM + swap fails */
		if (pages <= c->totalram_pages + c->total_swap_pages)
			return true;
		break;
	default: { /* OVERCOMMIT_NEVER */
		uint64_t allowed = vm_commit_limit(c);
		uint64_t reserve = c->admin_reserve_pages; /* the task is not CAP_SYS_ADMIN */
		allowed = allowed > reserve ? allowed - reserve : 0;
		uint64_t user = total_vm / 32 < c->user_reserve_pages ? total_vm / 32
								      : c->user_reserve_pages;
		allowed = allowed > user ? allowed - user : 0;
		if (c->committed_as < allowed)
			return true;
		break;
	}
	}
	c->committed_as -= pages;
	return false;
}

void vm_unacct_memory(struct commit_state *c, uint64_t pages)
{
	c->committed_as = c->committed_as > pages ? c->committed_as - pages : 0;
}
