/* Host memory for the engine's large open-addressing tables (trace pointers, page cache,
 * swap cache), which are probed at random: zeroed and line-aligned, and from 2 MiB on
 * backed by the host's transparent huge pages where they are on request (THP "madvise"),
 * so that a probe of a cold slot misses the host TLB once per 2 MiB rather than per 4 KiB.
 * A host hint only: the contents are the same either way. */
#ifndef MM_HOST_TABLE_H
#define MM_HOST_TABLE_H

#include <stddef.h>

/* `bytes` of zeroed memory, 64-byte aligned (2 MiB-aligned from 2 MiB on); *base is what
 * to free() afterwards. NULL when the host is out of memory. */
void *host_table_alloc(size_t bytes, void **base);

#endif
