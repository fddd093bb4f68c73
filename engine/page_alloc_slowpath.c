/* The allocation slow path (mm/page_alloc.c __alloc_pages_slowpath, Linux 6.1, without
 * compaction): kswapd wakeups, the min watermark, direct reclaim with retries, the OOM
 * killer, and the failure counts. Entered when get_page_from_freelist at the low mark
 * found nothing. */
#include "page_alloc.h"

#include "page_alloc_internal.h"
#include "vmstat.h"

/* mm/internal.h MAX_RECLAIM_RETRIES */
#define MAX_RECLAIM_RETRIES 16

/* gfp_to_alloc_flags (6.1) */
static unsigned gfp_to_alloc_flags(gfp_t gfp)
{
	unsigned flags = ALLOC_WMARK_MIN;
	if (gfp & __GFP_HIGH)
		flags |= ALLOC_HIGH;
	if (gfp & __GFP_KSWAPD_RECLAIM)
		flags |= ALLOC_KSWAPD;
	if (gfp_is_atomic(gfp) && !(gfp & __GFP_NOMEMALLOC))
		flags |= ALLOC_HARDER;
	return flags;
}

static void wake_all_kswapds(struct pglist_data *pgdat, unsigned order, gfp_t gfp,
			     const struct alloc_context *ac)
{
	/* one node: wakeup_kswapd once, for the preferred zone's node */
	if (pgdat->hooks.wakeup_kswapd)
		pgdat->hooks.wakeup_kswapd(pgdat->hooks.ctx, ac->highest_zoneidx, order, gfp);
}

static bool alloc_fragmented(const struct pglist_data *pgdat, unsigned order, unsigned alloc_flags,
			     const struct alloc_context *ac)
{
	if (!order)
		return false;
	for (int zi = ac->highest_zoneidx; zi >= 0; zi--) {
		const struct zone *z = &pgdat->node_zones[zi];
		if (z->populated &&
		    wmark_ok(z, 0, (int64_t)wmark_pages(z, WMARK_MIN), ac->highest_zoneidx,
			     alloc_flags, (int64_t)z->nr_free_pages - ((1 << order) - 1)))
			return true;
	}
	return false;
}

static pfn_t alloc_failed(struct pglist_data *pgdat, gfp_t gfp, unsigned order,
			  unsigned alloc_flags, const struct alloc_context *ac)
{
	count_vm_event(pgdat->vmstat, ALLOC_FAIL);
	pgdat->nr_alloc_fail[order]++;
	if (!(gfp & __GFP_DIRECT_RECLAIM))
		count_vm_event(pgdat->vmstat, ALLOC_FAIL_ATOMIC);
	if (alloc_fragmented(pgdat, order, alloc_flags, ac)) {
		count_vm_event(pgdat->vmstat, ALLOC_FAIL_FRAGMENTED);
		pgdat->nr_alloc_fail_fragmented[order]++;
	}
	return PFN_NONE;
}

/* __alloc_pages_may_oom: last try at HIGH, then the OOM killer unless the request
 * is one the kernel lets fail. Returns the page or PFN_NONE; *killed when a victim died. */
static pfn_t alloc_pages_may_oom(struct pglist_data *pgdat, gfp_t gfp, unsigned order,
				 const struct alloc_context *ac, unsigned cpu, bool *killed)
{
	*killed = false;
	pfn_t pfn = get_page_from_freelist(pgdat, gfp & ~__GFP_DIRECT_RECLAIM, order,
					   ALLOC_WMARK_HIGH, ac, cpu);
	if (pfn != PFN_NONE)
		return pfn;
	if (order > PAGE_ALLOC_COSTLY_ORDER || (gfp & (__GFP_RETRY_MAYFAIL | __GFP_THISNODE)) ||
	    ac->highest_zoneidx < ZONE_NORMAL)
		return PFN_NONE;
	/* out_of_memory does not kill for !__GFP_FS; the kernel then retries forever,
	 * which a deterministic model cannot do: the allocation fails (docs/BUDDY.md). */
	if (!(gfp & __GFP_FS) || !pgdat->hooks.out_of_memory)
		return PFN_NONE;
	*killed = pgdat->hooks.out_of_memory(pgdat->hooks.ctx, order, gfp);
	return PFN_NONE;
}

pfn_t alloc_pages_slowpath(struct pglist_data *pgdat, gfp_t gfp, unsigned order,
			   const struct alloc_context *ac, unsigned cpu)
{
	unsigned alloc_flags = gfp_to_alloc_flags(gfp);
	bool can_reclaim = gfp & __GFP_DIRECT_RECLAIM;
	bool costly = order > PAGE_ALLOC_COSTLY_ORDER;
	int no_progress_loops = 0, rounds = 0;
	pfn_t pfn;

	if (alloc_flags & ALLOC_KSWAPD)
		wake_all_kswapds(pgdat, order, gfp, ac);
	pfn = get_page_from_freelist(pgdat, gfp, order, alloc_flags, ac, cpu);
	if (pfn != PFN_NONE)
		return pfn;
	for (;;) {
		if (alloc_flags & ALLOC_KSWAPD)
			wake_all_kswapds(pgdat, order, gfp, ac);
		/* __gfp_pfmemalloc_flags: __GFP_MEMALLOC ignores the watermarks */
		if ((gfp & __GFP_MEMALLOC) && !(gfp & __GFP_NOMEMALLOC))
			alloc_flags = ALLOC_NO_WATERMARKS | (alloc_flags & ALLOC_KSWAPD);
		pfn = get_page_from_freelist(pgdat, gfp, order, alloc_flags, ac, cpu);
		if (pfn != PFN_NONE)
			return pfn;
		if (!can_reclaim)
			break;
		/* __alloc_pages_direct_reclaim */
		uint64_t progress = 0;
		if (pgdat->hooks.direct_reclaim)
			progress = pgdat->hooks.direct_reclaim(pgdat->hooks.ctx, order, gfp);
		if (progress) {
			pfn = get_page_from_freelist(pgdat, gfp, order, alloc_flags, ac, cpu);
			if (pfn == PFN_NONE) {
				unreserve_highatomic_pageblock(pgdat, ac->highest_zoneidx,
							       ac->migratetype, false);
				drain_all_pages(pgdat);
				pfn =
				    get_page_from_freelist(pgdat, gfp, order, alloc_flags, ac, cpu);
			}
			if (pfn != PFN_NONE)
				return pfn;
		}
		if (gfp & __GFP_NORETRY)
			break;
		if (costly && !(gfp & __GFP_RETRY_MAYFAIL))
			break;
		/* should_reclaim_retry, without zone_reclaimable_pages: only reclaim that
		 * made progress can change the outcome of a deterministic retry. */
		if (progress && !costly)
			no_progress_loops = 0;
		else
			no_progress_loops++;
		if (no_progress_loops > MAX_RECLAIM_RETRIES &&
		    unreserve_highatomic_pageblock(pgdat, ac->highest_zoneidx, ac->migratetype,
						   true))
			continue;
		if (progress && no_progress_loops <= MAX_RECLAIM_RETRIES &&
		    ++rounds <= MAX_RECLAIM_RETRIES)
			continue;
		bool killed;
		pfn = alloc_pages_may_oom(pgdat, gfp, order, ac, cpu, &killed);
		if (pfn != PFN_NONE)
			return pfn;
		if (!killed)
			break;
		no_progress_loops = 0;
		rounds = 0;
	}
	return alloc_failed(pgdat, gfp, order, alloc_flags, ac);
}
