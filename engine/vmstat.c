#include "vmstat.h"

const char *const vm_stat_names[NR_VM_STAT_ITEMS] = {
#define X(item, name) name,
#include "vmstat_items.h"
#undef X
};

#include "page_alloc.h"

/* mm/vmstat.c fill_contig_page_info: buddy blocks only (pcp pages are not free here either). */
void fill_contig_page_info(const struct zone *z, unsigned order, struct contig_page_info *info)
{
	*info = (struct contig_page_info){0};
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
		uint64_t blocks = z->free_area[o].nr_free;
		info->free_blocks_total += blocks;
		info->free_pages += blocks << o;
		if (o >= order)
			info->free_blocks_suitable += blocks << (o - order);
	}
}

/* mm/vmstat.c unusable_free_index: the share of free memory in blocks too small for order;
 * 1000 when nothing is free. */
int unusable_free_index(const struct zone *z, unsigned order)
{
	struct contig_page_info info;
	fill_contig_page_info(z, order, &info);
	if (!info.free_pages)
		return 1000;
	return (int)((info.free_pages - (info.free_blocks_suitable << order)) * 1000 /
		     info.free_pages);
}

/* mm/vmstat.c __fragmentation_index: -1000 when the request would succeed, towards 0 when it
 * would fail for lack of memory, towards 1000 when it would fail from fragmentation. */
int fragmentation_index(const struct zone *z, unsigned order)
{
	struct contig_page_info info;
	fill_contig_page_info(z, order, &info);
	if (!info.free_blocks_total)
		return 0;
	if (info.free_blocks_suitable)
		return -1000;
	uint64_t requested = 1ull << order;
	return 1000 - (int)((1000 + info.free_pages * 1000 / requested) / info.free_blocks_total);
}
