/* Comparing the buddy free lists of two allocators whose histories differ in steps but
 * must agree in effect (a batched path against one block at a time): the blocks on every
 * list in the same order, the same counts. Their rings may hold the blocks at different
 * slots, so the slot each free block keeps in page->next is not compared. */
#ifndef TESTLIB_FREELIST_H
#define TESTLIB_FREELIST_H

#include <stdbool.h>
#include <stdint.h>

#include "page_alloc.h"

/* Same blocks in the same order on every list of the two zones, same counts and masks. */
bool test_free_areas_equal(const struct zone *a, const struct zone *b);
/* n struct pages alike, but for the slot (page->next) of the free blocks (PG_buddy in both). */
bool test_pages_equal(const struct page *a, const struct page *b, uint64_t n);

#endif
