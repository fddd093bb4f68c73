/* Shared anonymous memory (mm/shmem.c): each MAP_SHARED | MAP_ANONYMOUS mapping is backed
 * by its own unlinked shmem file, which every VMA mapping it holds a reference to
 * (shmem_zero_setup, get_file at split and fork, fput in remove_vma). When the last such
 * VMA goes, shmem_evict_inode truncates the file and its pages are freed; until then even
 * pages of parts already unmapped stay in the file. */
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
}
