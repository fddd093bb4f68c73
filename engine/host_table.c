#include "host_table.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HOST_LINE 64u
#define HOST_HUGE (2u << 20)

void *host_table_alloc(size_t bytes, void **base)
{
	size_t align = bytes >= HOST_HUGE ? HOST_HUGE : HOST_LINE;
	/* calloc, not aligned_alloc + memset: a large calloc is fresh anonymous memory,
	 * zero without being written, so its pages are first touched by the table's use */
	unsigned char *raw = calloc(1, bytes + align);
	*base = raw;
	if (!raw)
		return NULL;
	uintptr_t p = ((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
	if (align == HOST_HUGE)
		(void)madvise((void *)p, bytes, MADV_HUGEPAGE); /* refused: 4 KiB pages */
#endif
	return (void *)p;
}
