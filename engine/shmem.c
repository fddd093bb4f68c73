/* Shared anonymous memory (mm/shmem.c): each MAP_SHARED | MAP_ANONYMOUS mapping is backed
 * by its own unlinked shmem file, which every VMA mapping it holds a reference to
 * (shmem_zero_setup, get_file at split and fork, fput in remove_vma). When the last such
 * VMA goes, shmem_evict_inode truncates the file and its pages are freed; until then even
 * pages of parts already unmapped stay in the file. The commit charge belongs to the file
 * too: made when it is created, returned when it dies. */
#include <stdlib.h>

#include "mm_internal.h"

/* Is any VMA of a live mm still backed by file? (the file's reference count, found by
 * looking: a shared anonymous mapping is gone far less often than VMAs change) */
static bool shmem_file_mapped(const struct sim *s, uint32_t file)
{
	for (const struct mm_struct *mm = s->mm.all_mms; mm; mm = mm->next) {
		if (!mm->live)
			continue;
		for (uint32_t i = 0; i < mm->nr_vma; i++)
			if (mm->vma[i].file == file)
				return true;
	}
	return false;
}

/* shmem_acct_size: the file is charged for its size when it is created, unless
 * MAP_NORESERVE outside mode 2 (then the kernel charges blocks as they are allocated,
 * which the model does not: docs/RECLAIM.md). mm->total_vm does not count the new VMA
 * yet at this point of mmap_region (vm_stat_account comes last). */
bool shmem_zero_setup(struct sim *s, const struct mm_struct *mm, const struct vm_area_struct *v)
{
	if ((v->vm_flags & VM_NORESERVE) && s->machine.cfg.vm.overcommit_memory != 2)
		return true;
	uint64_t pages = vma_pages(v);
	if (!vm_enough_memory(&s->commit, pages, mm->total_vm - pages))
		return false;
	if (u64map_put(&s->mm.shmem_acct, v->file, pages)) {
		vm_unacct_memory(&s->commit, pages);
		return false;
	}
	return true;
}

void shmem_release_if_unmapped(struct sim *s, uint32_t file, unsigned cpu)
{
	if (!is_shmem_file(file) || shmem_file_mapped(s, file))
		return;
	/* shmem_truncate_range by index; without host memory for the list the pages stay */
	uint64_t n;
	struct file_page *pages = page_cache_file_pages(&s->mm.cache, file, &n);
	for (uint64_t i = 0; i < n; i++) {
		page_cache_delete(&s->mm.cache, file, pages[i].index);
		put_page(s, pages[i].pfn, cpu); /* the cache's reference, the last one */
	}
	free(pages);
	uint64_t charged;
	if (u64map_take(&s->mm.shmem_acct, file, &charged))
		vm_unacct_memory(&s->commit, charged); /* shmem_unacct_size */
}
