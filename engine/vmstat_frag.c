/* Fragmentation metrics of mm/vmstat.c (extfrag debugfs files, compaction's
 * fragmentation_index): computed from the buddy free lists only, pcp pages excluded. */
#include "page_alloc.h"

/* fill_contig_page_info */
void fill_contig_page_info(const struct zone *z, unsigned order, struct contig_page_info *info)
{
	info->free_pages = info->free_blocks_total = info->free_blocks_suitable = 0;
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
		uint64_t blocks = z->free_area[o].nr_free;
		info->free_blocks_total += blocks;
		info->free_pages += blocks << o;
		if (o >= order)
			info->free_blocks_suitable += blocks << (o - order);
	}
}

/* unusable_free_index: the share of free memory in blocks smaller than 2^order, × 1000 */
int unusable_free_index(const struct zone *z, unsigned order)
{
	struct contig_page_info info;
	fill_contig_page_info(z, order, &info);
	if (!info.free_pages)
		return 1000;
	return (int)((info.free_pages - (info.free_blocks_suitable << order)) * 1000 /
		     info.free_pages);
}

/* __fragmentation_index: -1000 when the request would succeed, towards 0 when it fails
 * for lack of memory, towards 1000 when it fails from fragmentation */
int fragmentation_index(const struct zone *z, unsigned order)
{
	struct contig_page_info info;
	fill_contig_page_info(z, order, &info);
	if (!info.free_blocks_total)
		return 0;
	if (info.free_blocks_suitable)
		return -1000;
	uint64_t requested = 1ull << order;
	return (int)(1000 - (int64_t)((1000 + info.free_pages * 1000 / requested) /
				      info.free_blocks_total));
}
