/* Renderers of the page allocator's /proc and debugfs files, in the kernel's own formats
 * (mm/vmstat.c, Linux 6.1): buddyinfo, pagetypeinfo, zoneinfo, extfrag/unusable_index,
 * extfrag/extfrag_index. Text goes into a strbuf; the caller does the I/O. Node 0. */
#ifndef MM_PROCFS_H
#define MM_PROCFS_H

#include "page_alloc.h"
#include "strbuf.h"

void procfs_buddyinfo(struct strbuf *sb, const struct pglist_data *pgdat);
void procfs_pagetypeinfo(struct strbuf *sb, const struct pglist_data *pgdat);
void procfs_unusable_index(struct strbuf *sb, const struct pglist_data *pgdat);
void procfs_extfrag_index(struct strbuf *sb, const struct pglist_data *pgdat);

/* zoneinfo: counters the page allocator does not own (the per-node stats block, the zone's
 * LRU items) come from the caller: node_stats is called once, for the first populated
 * zone, zone_stats once per populated zone after nr_free_pages; both print with
 * procfs_zoneinfo_item. Either may be NULL (then those lines are absent). */
struct zoneinfo_source {
	void *ctx;
	void (*node_stats)(void *ctx, struct strbuf *sb);
	void (*zone_stats)(void *ctx, const struct zone *z, struct strbuf *sb);
};
void procfs_zoneinfo(struct strbuf *sb, const struct pglist_data *pgdat,
		     const struct zoneinfo_source *src);
/* One "      %-12s %lu" item line of zoneinfo. */
void procfs_zoneinfo_item(struct strbuf *sb, const char *name, uint64_t value);

#endif
