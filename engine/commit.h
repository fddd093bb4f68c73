/* Overcommit accounting (mm/util.c __vm_enough_memory, vm_commit_limit; mm/mmap.c
 * init_user_reserve / init_admin_reserve). Charges are in pages against vm_committed_as. */
#ifndef MM_COMMIT_H
#define MM_COMMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "machine.h"

struct commit_state {
	uint64_t committed_as;        /* vm_committed_as */
	uint64_t totalram_pages;
	uint64_t total_swap_pages;
	uint64_t admin_reserve_pages; /* admin_reserve_kbytes / 4 */
	uint64_t user_reserve_pages;  /* user_reserve_kbytes / 4 */
	const struct vm_sysctl *vm;
};

/* Reserves from the free pages at boot, unless the sysctls set them. */
void commit_init(struct commit_state *c, const struct vm_sysctl *vm, uint64_t totalram_pages,
		 uint64_t total_swap_pages, uint64_t free_pages_at_boot);
/* vm_commit_limit(): CommitLimit in pages. */
uint64_t vm_commit_limit(const struct commit_state *c);
/* __vm_enough_memory for a non-root task whose mm maps total_vm pages: charges `pages`
 * and returns true, or leaves the charge undone and returns false (ENOMEM). */
bool vm_enough_memory(struct commit_state *c, uint64_t pages, uint64_t total_vm);
void vm_unacct_memory(struct commit_state *c, uint64_t pages);

#endif
