/* Reaching highmem frames from the kernel (mm/highmem.c, arch/x86/include/asm/highmem.h).
 * kmap_local: a per-CPU fixmap slot, one local invlpg at unmap. kmap: the pkmap window of
 * LAST_PKMAP slots, with one global kernel flush each time the slot cursor wraps.
 * kmap_local_use, on every fault, is inline in mm_internal.h. */
#include "mm.h"
#include "sim.h"

bool pfn_is_highmem(const struct sim *s, pfn_t pfn)
{
	const struct page *p = &s->pgdat.mem_map[pfn - s->pgdat.node_start_pfn];
	return page_zonenum(p) == ZONE_HIGHMEM;
}

static unsigned pa_hash(pfn_t pfn)
{
	return (pfn * 0x9e3779b1u) >> (32 - 11); /* 11 bits: PA_HASH_SIZE */
}

_Static_assert(PA_HASH_SIZE == 1u << 11, "pa_hash returns 11 bits");

/* set_page_address(page, vaddr): slot now maps pfn */
static void set_page_address(struct pkmap *k, unsigned slot, pfn_t pfn)
{
	uint16_t *head = &k->pa_head[pa_hash(pfn)];
	k->page[slot] = pfn;
	k->pa_next[slot] = *head;
	*head = (uint16_t)slot;
}

/* set_page_address(page, NULL): slot maps nothing any more */
static void clear_page_address(struct pkmap *k, unsigned slot)
{
	uint16_t *link = &k->pa_head[pa_hash(k->page[slot])];
	while (*link != slot)
		link = &k->pa_next[*link];
	*link = k->pa_next[slot];
	k->page[slot] = PFN_NONE;
}

/* page_address for a highmem page: its pkmap slot, -1 when it has none */
static int pkmap_slot_of(const struct pkmap *k, pfn_t pfn)
{
	for (unsigned i = k->pa_head[pa_hash(pfn)]; i != PKMAP_NONE; i = k->pa_next[i])
		if (k->page[i] == pfn)
			return (int)i;
	return -1;
}

/* flush_all_zero_pkmaps: slots no longer used (count 1) become free (count 0) and the
 * whole window is flushed once, on every CPU, if any slot was freed. */
static void flush_all_zero_pkmaps(struct sim *s)
{
	struct pkmap *k = &s->mm.pkmap;
	bool need_flush = false;
	for (unsigned i = 0; i < k->last_pkmap; i++) {
		if (k->count[i] != 1)
			continue;
		k->count[i] = 0;
		clear_page_address(k, i);
		need_flush = true;
	}
	if (!need_flush)
		return;
	s->vmstat[KMAP_FLUSH_ALL_ZERO]++;
	flush_tlb_kernel_range(&s->mm.tlb, s->vmstat, s->machine.cfg.nr_cpus, k->pkmap_base,
			       k->pkmap_base + (uint64_t)k->last_pkmap * PAGE_SIZE, TLB_KMAP_WRAP);
}

/* map_new_virtual: advance the cursor, flushing on wrap, to the first free slot. */
static int map_new_virtual(struct sim *s, pfn_t pfn)
{
	struct pkmap *k = &s->mm.pkmap;
	for (unsigned tries = 0; tries < k->last_pkmap; tries++) {
		k->last_pkmap_nr = (k->last_pkmap_nr + 1) & (k->last_pkmap - 1);
		if (k->last_pkmap_nr == 0)
			flush_all_zero_pkmaps(s);
		if (k->count[k->last_pkmap_nr] == 0) {
			set_page_address(k, k->last_pkmap_nr, pfn);
			k->count[k->last_pkmap_nr] = 1;
			return (int)k->last_pkmap_nr;
		}
	}
	return -1; /* every slot busy: the kernel would sleep on pkmap_map_wait */
}

int kmap_high(struct sim *s, pfn_t pfn)
{
	struct pkmap *k = &s->mm.pkmap;
	if (!k->last_pkmap || !pfn_is_highmem(s, pfn))
		return 0;
	s->vmstat[KMAP]++;
	int slot = pkmap_slot_of(k, pfn);
	if (slot < 0)
		slot = map_new_virtual(s, pfn);
	if (slot < 0)
		return -1;
	k->count[slot]++; /* the caller's reference: a new mapping ends at 2 */
	return 0;
}

void kunmap_high(struct sim *s, pfn_t pfn)
{
	struct pkmap *k = &s->mm.pkmap;
	if (!k->last_pkmap || !pfn_is_highmem(s, pfn))
		return;
	int slot = pkmap_slot_of(k, pfn);
	if (slot >= 0 && k->count[slot] > 1)
		k->count[slot]--; /* 1 = unused but still mapped until the next wrap */
}
