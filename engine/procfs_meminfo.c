/* /proc/meminfo and free -m of the simulated machine. */
#include "procfs_meminfo.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define K(pages) ((pages) << 2)

/* meminfo_proc_show: Cached = NR_FILE_PAGES - swap cache - buffers, floored at 0 */
static uint64_t cached_pages(const struct meminfo_pages *p)
{
	uint64_t minus = p->swapcache + p->buffers;
	return p->file_pages > minus ? p->file_pages - minus : 0;
}

/* x86_64 4-level: VMALLOC_SIZE_TB 32, VmallocTotal = (VMALLOC_END - VMALLOC_START) >> 10
 * (facts §2, [live]) */
#define VMALLOC_TOTAL_64_KB 34359738367ull

uint64_t si_mem_available(const struct pglist_data *pgdat, const struct meminfo_pages *pages)
{
	uint64_t wmark_low = 0, free = 0;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		wmark_low += pgdat->node_zones[z].watermark[WMARK_LOW];
		free += pgdat->node_zones[z].nr_free_pages;
	}
	int64_t available = (int64_t)free - (int64_t)pgdat->totalreserve_pages;
	/* at least half of the page cache, or the low watermarks' worth, stays */
	uint64_t pagecache = pages->active_file + pages->inactive_file;
	pagecache -= pagecache / 2 < wmark_low ? pagecache / 2 : wmark_low;
	available += (int64_t)pagecache;
	uint64_t reclaimable = pages->slab_reclaimable;
	reclaimable -= reclaimable / 2 < wmark_low ? reclaimable / 2 : wmark_low;
	available += (int64_t)reclaimable;
	return available < 0 ? 0 : (uint64_t)available;
}

void meminfo_read(struct meminfo *mi, const struct machine *m, const struct pglist_data *pgdat,
		  const struct meminfo_pages *pages)
{
	const struct machine_config *c = &m->cfg;
	uint64_t total = 0, free = 0;
	memset(mi, 0, sizeof(*mi));
	mi->pages = pages;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		total += pgdat->node_zones[z].managed_pages;
		free += pgdat->node_zones[z].nr_free_pages;
	}
	mi->mem_total = K(total);
	mi->mem_free = K(free);
	mi->mem_available = K(si_mem_available(pgdat, pages));
	mi->x86_64 = c->arch == ARCH_X86_64;
	mi->highmem = !mi->x86_64 && c->kernel.highmem;
	if (mi->highmem) {
		/* si_meminfo: totalhigh_pages, nr_free_highpages */
		mi->high_total = K(pgdat->node_zones[ZONE_HIGHMEM].managed_pages);
		mi->high_free = K(pgdat->node_zones[ZONE_HIGHMEM].nr_free_pages);
		mi->low_total = mi->mem_total - mi->high_total;
		mi->low_free = mi->mem_free - mi->high_free;
	}
	mi->swap_total = c->swap_bytes >> 10;
	mi->swap_free = mi->swap_total - K(pages->swap_used);
	/* mm/util.c vm_commit_limit (no hugetlb pages) */
	uint64_t swap_pages = c->swap_bytes >> 12;
	if (c->vm.overcommit_kbytes)
		mi->commit_limit = K((c->vm.overcommit_kbytes >> 2) + swap_pages);
	else
		mi->commit_limit = K(total * (uint64_t)c->vm.overcommit_ratio / 100 + swap_pages);
	mi->vmalloc_total = mi->x86_64 ? VMALLOC_TOTAL_64_KB
				       : (m->layout.vmalloc_end - m->layout.vmalloc_start) >> 10;
	/* pcpu_nr_pages: the populated first chunk, one unit per CPU */
	mi->percpu = ((uint64_t)c->nr_cpus * c->kernel.percpu_unit) >> 10;
	/* HPAGE_SIZE: PMD size, 4 MiB on 2-level i386 */
	mi->hugepagesize = c->arch == ARCH_I386 ? 4096 : 2048;
}

struct out {
	char *buf;
	size_t len, need;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->need < o->len ? o->len - o->need : 0;
	int n = vsnprintf(room ? o->buf + o->need : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->need += (size_t)n;
}

/* show_val_kb: a 16-column label, the value in 8 columns, " kB" */
static void kb(struct out *o, const char *label, uint64_t v)
{
	put(o, "%-16s%8" PRIu64 " kB\n", label, v);
}

size_t meminfo_render(char *buf, size_t len, const struct meminfo *mi)
{
	struct out o = {buf, len, 0};
	const struct meminfo_pages *p = mi->pages;
	if (len)
		buf[0] = 0;
	kb(&o, "MemTotal:", mi->mem_total);
	kb(&o, "MemFree:", mi->mem_free);
	kb(&o, "MemAvailable:", mi->mem_available);
	kb(&o, "Buffers:", K(p->buffers));
	kb(&o, "Cached:", K(cached_pages(p)));
	kb(&o, "SwapCached:", K(p->swapcache));
	kb(&o, "Active:", K(p->active_anon + p->active_file));
	kb(&o, "Inactive:", K(p->inactive_anon + p->inactive_file));
	kb(&o, "Active(anon):", K(p->active_anon));
	kb(&o, "Inactive(anon):", K(p->inactive_anon));
	kb(&o, "Active(file):", K(p->active_file));
	kb(&o, "Inactive(file):", K(p->inactive_file));
	kb(&o, "Unevictable:", K(p->unevictable));
	kb(&o, "Mlocked:", K(p->mlocked));
	if (mi->highmem) {
		kb(&o, "HighTotal:", mi->high_total);
		kb(&o, "HighFree:", mi->high_free);
		kb(&o, "LowTotal:", mi->low_total);
		kb(&o, "LowFree:", mi->low_free);
	}
	kb(&o, "SwapTotal:", mi->swap_total);
	kb(&o, "SwapFree:", mi->swap_free);
	kb(&o, "Zswap:", 0);
	kb(&o, "Zswapped:", 0);
	kb(&o, "Dirty:", K(p->dirty));
	kb(&o, "Writeback:", K(p->writeback));
	kb(&o, "AnonPages:", K(p->anon_mapped));
	kb(&o, "Mapped:", K(p->file_mapped));
	kb(&o, "Shmem:", K(p->shmem));
	kb(&o, "KReclaimable:", K(p->slab_reclaimable));
	kb(&o, "Slab:", K(p->slab_reclaimable + p->slab_unreclaimable));
	kb(&o, "SReclaimable:", K(p->slab_reclaimable));
	kb(&o, "SUnreclaim:", K(p->slab_unreclaimable));
	kb(&o, "KernelStack:", p->kernel_stack_kb);
	kb(&o, "PageTables:", K(p->page_tables));
	kb(&o, "SecPageTables:", 0); /* 6.1.y backport: secondary (KVM/IOMMU) page tables */
	kb(&o, "NFS_Unstable:", 0);
	kb(&o, "Bounce:", 0);
	kb(&o, "WritebackTmp:", 0);
	kb(&o, "CommitLimit:", mi->commit_limit);
	kb(&o, "Committed_AS:", K(p->committed_as));
	kb(&o, "VmallocTotal:", mi->vmalloc_total);
	kb(&o, "VmallocUsed:", K(p->vmalloc_used));
	kb(&o, "VmallocChunk:", 0);
	kb(&o, "Percpu:", mi->percpu);
	kb(&o, "HardwareCorrupted:", 0); /* CONFIG_MEMORY_FAILURE, in all three builds */
	kb(&o, "AnonHugePages:", K(p->anon_thp));
	kb(&o, "ShmemHugePages:", 0);
	kb(&o, "ShmemPmdMapped:", 0);
	kb(&o, "FileHugePages:", 0);
	kb(&o, "FilePmdMapped:", 0);
	/* mm/hugetlb.c hugetlb_report_meminfo */
	put(&o,
	    "HugePages_Total:   %5d\nHugePages_Free:    %5d\nHugePages_Rsvd:    %5d\n"
	    "HugePages_Surp:    %5d\n",
	    0, 0, 0, 0);
	kb(&o, "Hugepagesize:", mi->hugepagesize);
	kb(&o, "Hugetlb:", 0);
	return o.need;
}

size_t free_render(char *buf, size_t len, const struct meminfo *mi)
{
	struct out o = {buf, len, 0};
	const struct meminfo_pages *p = mi->pages;
	if (len)
		buf[0] = 0;
	uint64_t cache = K(p->buffers + cached_pages(p) + p->slab_reclaimable);
	uint64_t used = mi->mem_total > mi->mem_available ? mi->mem_total - mi->mem_available : 0;
	put(&o,
	    "               total        used        free      shared  buff/cache   available\n");
	put(&o,
	    "%-8s%12" PRIu64 "%12" PRIu64 "%12" PRIu64 "%12" PRIu64 "%12" PRIu64 "%12" PRIu64 "\n",
	    "Mem:", mi->mem_total >> 10, used >> 10, mi->mem_free >> 10, K(p->shmem) >> 10,
	    cache >> 10, mi->mem_available >> 10);
	put(&o, "%-8s%12" PRIu64 "%12" PRIu64 "%12" PRIu64 "\n", "Swap:", mi->swap_total >> 10,
	    (mi->swap_total - mi->swap_free) >> 10, mi->swap_free >> 10);
	return o.need;
}
