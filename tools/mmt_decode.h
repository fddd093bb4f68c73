/* Decoding one .mmt event record (traces/FORMAT.md, "Event records"): static inline so
 * the reader's loop (tools/mmt.c) compiles it in place, one switch per event and no call.
 * The encoder is in tools/mmt_record.c. */
#ifndef MM_MMT_DECODE_H
#define MM_MMT_DECODE_H

#include <string.h>

#include "trace_impl.h"

/* Every helper is inlined into the reader's one loop: left to its size heuristics gcc kept
 * get_delta, get_uaddr or the whole record out of line (a call and saved registers per
 * field, ~20 instructions). */
#define MMT_DEC static inline __attribute__((always_inline))

/* The base of a task's user addresses: its slot, taken over (seeded with the block's last
 * user address) when another task held it. */
MMT_DEC uint64_t *mmt_uslot(struct mmt_regs *r, uint32_t pid)
{
	struct mmt_uslot *s = &r->uslot[pid % MMT_PID_SLOTS];
	if (s->pid != pid) {
		s->pid = pid;
		s->addr = r->uaddr;
	}
	return &s->addr;
}

/* ---- decoding ---- */

MMT_DEC const uint8_t *get_delta(const uint8_t *p, uint64_t *d, unsigned shift, bool *bad)
{
	uint64_t v;
	p = mmt_get_uv(p, &v, bad);
	if (shift == 0)
		*d = (uint64_t)mmt_unzigzag(v);
	else if (v & 1)
		*d = (uint64_t)mmt_unzigzag(v >> 1) << shift;
	else if (v)
		*d = (uint64_t)mmt_unzigzag(v >> 1);
	else {
		p = mmt_get_uv(p, &v, bad);
		*d = (uint64_t)mmt_unzigzag(v);
	}
	return p;
}

MMT_DEC const uint8_t *get_len(const uint8_t *p, uint64_t *len, bool *bad)
{
	uint64_t v;
	p = mmt_get_uv(p, &v, bad);
	if (v & 1) {
		if (v >> 53)
			*bad = true;
		*len = (v >> 1) << 12;
	} else if (v) {
		*len = v >> 1;
	} else {
		p = mmt_get_uv(p, len, bad);
	}
	return p;
}

MMT_DEC const uint8_t *get_uaddr(const uint8_t *p, struct mmt_regs *r, uint32_t pid, uint64_t *out,
				bool *bad)
{
	uint64_t *base = mmt_uslot(r, pid), d;
	p = get_delta(p, &d, 12, bad);
	/* through a local: ev's stores may alias the registers (-fno-strict-aliasing) */
	uint64_t a = *base + d;
	*base = a;
	r->uaddr = a;
	*out = a;
	return p;
}

MMT_DEC const uint8_t *get_reg(const uint8_t *p, uint64_t *reg, uint64_t *out, unsigned shift,
				     bool *bad)
{
	uint64_t d;
	p = get_delta(p, &d, shift, bad);
	d += *reg;
	*reg = d;
	*out = d;
	return p;
}

/* One byte, the common case, tested first: a range test only after the longer forms (gcc
 * otherwise joins the paths before testing). */
MMT_DEC const uint8_t *get_u32(const uint8_t *p, uint32_t *out, bool *bad)
{
	uint64_t v;
	if (__builtin_expect(*p < 0x80, 1)) {
		*out = *p;
		return p + 1;
	}
	p = mmt_get_uv(p, &v, bad);
	if (v > UINT32_MAX)
		*bad = true;
	*out = (uint32_t)v;
	return p;
}

MMT_DEC const uint8_t *get_u16(const uint8_t *p, uint16_t *out, bool *bad)
{
	uint64_t v;
	if (__builtin_expect(*p < 0x80, 1)) {
		*out = *p;
		return p + 1;
	}
	p = mmt_get_uv(p, &v, bad);
	if (v > UINT16_MAX)
		*bad = true;
	*out = (uint16_t)v;
	return p;
}

/* base + a zigzag delta, which must land in 0..UINT32_MAX. One test in wrapping arithmetic:
 * base is below 2^32, so a delta out of +-UINT32_MAX, or a sum that wraps past 2^64, leaves
 * the sum outside 0..UINT32_MAX too. */
MMT_DEC const uint8_t *get_rel32(const uint8_t *p, uint32_t base, uint32_t *out, bool *bad)
{
	uint64_t v;
	p = mmt_get_uv(p, &v, bad);
	uint64_t x = (uint64_t)mmt_unzigzag(v) + base;
	if (x > UINT32_MAX)
		*bad = true;
	*out = (uint32_t)x;
	return p;
}

MMT_DEC const uint8_t *get_site(const uint8_t *p, struct mmt_dec *d, uint64_t *out, bool *bad)
{
	uint64_t v;
	struct mmt_regs *r = &d->regs;
	p = mmt_get_uv(p, &v, bad);
	/* an index (1-based) into the dictionary: the common case, one test */
	if (__builtin_expect(v - 1 < r->nr_site, 1)) {
		*out = d->site[v - 1];
		return p;
	}
	if (v) {
		*bad = true;
		return p;
	}
	p = mmt_get_uv(p, &v, bad);
	uint64_t site = r->site + (uint64_t)mmt_unzigzag(v);
	r->site = site;
	*out = site;
	if (r->nr_site < MMT_DICT_MAX)
		d->site[r->nr_site++] = site;
	return p;
}

MMT_DEC const uint8_t *get_gfp(const uint8_t *p, struct mmt_dec *d, uint32_t *out, bool *bad)
{
	uint64_t v;
	struct mmt_regs *r = &d->regs;
	p = mmt_get_uv(p, &v, bad);
	/* an index (1-based) into the dictionary: the common case, one test */
	if (__builtin_expect(v - 1 < r->nr_gfp, 1)) {
		*out = d->gfp[v - 1];
		return p;
	}
	if (v) {
		*bad = true;
		return p;
	}
	uint32_t gfp;
	p = get_u32(p, &gfp, bad);
	*out = gfp;
	if (r->nr_gfp < MMT_DICT_MAX)
		d->gfp[r->nr_gfp++] = gfp;
	return p;
}

/* bytes_req, then bytes_alloc relative to it */
MMT_DEC const uint8_t *get_kmem_sizes(const uint8_t *p, struct mm_event *ev, bool *bad)
{
	uint32_t req;
	p = get_u32(p, &req, bad);
	ev->u.kmem.bytes_req = req;
	return get_rel32(p, req, &ev->u.kmem.bytes_alloc, bad);
}

/* *odd is set where trace_check_event could
 * refuse the event (the same conditions, type by type): the reader's loop then takes the
 * full check, so the frequent valid events need neither the call nor a second switch. */
MMT_DEC const uint8_t *decode_fields(const uint8_t *p, struct mmt_dec *d, struct mm_event *ev,
				     unsigned type, uint32_t pid, uint32_t nr_strings, bool *bad,
				     bool *odd)
{
	struct mmt_regs *r = &d->regs;
	uint64_t v;
	switch (type) {
	case EV_FORK: {
		uint32_t child;
		p = get_rel32(p, pid, &child, bad);
		ev->u.fork.child = child;
		*odd |= !child;
		return get_u32(p, &ev->u.fork.flags, bad);
	}
	case EV_EXEC:
		p = get_u32(p, &ev->u.exec.filename, bad);
		*odd |= ev->u.exec.filename >= nr_strings;
		return p;
	case EV_EXIT:
		return p;
	case EV_MMAP:
		p = get_uaddr(p, r, pid, &ev->u.map.addr, bad);
		p = get_len(p, &ev->u.map.len, bad);
		p = mmt_get_uv(p, &ev->u.map.pgoff, bad);
		p = get_u16(p, &ev->u.map.prot, bad);
		p = get_u16(p, &ev->u.map.flags, bad);
		p = get_u32(p, &ev->u.map.file, bad);
		*odd |= !ev->u.map.len | (ev->u.map.file >= nr_strings);
		return p;
	case EV_MUNMAP:
		p = get_uaddr(p, r, pid, &ev->u.range.addr, bad);
		p = get_len(p, &ev->u.range.len, bad);
		*odd |= !ev->u.range.len;
		return p;
	case EV_MPROTECT:
		p = get_uaddr(p, r, pid, &ev->u.range.addr, bad);
		p = get_len(p, &ev->u.range.len, bad);
		*odd |= !ev->u.range.len;
		return get_u32(p, &ev->u.range.prot, bad);
	case EV_MREMAP:
		p = get_uaddr(p, r, pid, &ev->u.remap.old_addr, bad);
		p = get_len(p, &ev->u.remap.old_len, bad);
		p = get_uaddr(p, r, pid, &ev->u.remap.new_addr, bad);
		p = get_len(p, &ev->u.remap.new_len, bad);
		*odd |= !ev->u.remap.new_len;
		return p;
	case EV_BRK:
		p = get_uaddr(p, r, pid, &ev->u.brk.addr, bad);
		p = get_delta(p, &v, 12, bad);
		ev->u.brk.old = ev->u.brk.addr + v;
		return p;
	case EV_FAULT:
		p = get_uaddr(p, r, pid, &ev->u.fault.addr, bad);
		return get_u32(p, &ev->u.fault.access, bad);
	case EV_TOUCH:
		p = get_uaddr(p, r, pid, &ev->u.touch.addr, bad);
		p = get_len(p, &ev->u.touch.len, bad);
		*odd |= !ev->u.touch.len;
		return get_u32(p, &ev->u.touch.access, bad);
	case EV_KMALLOC:
		p = get_reg(p, &r->kptr, &ev->u.kmem.ptr, 3, bad);
		p = get_kmem_sizes(p, ev, bad);
		p = get_gfp(p, d, &ev->u.kmem.gfp, bad);
		return get_site(p, d, &ev->u.kmem.call_site, bad);
	case EV_CACHE_ALLOC:
		p = get_reg(p, &r->kptr, &ev->u.kmem.ptr, 3, bad);
		p = get_kmem_sizes(p, ev, bad);
		p = get_gfp(p, d, &ev->u.kmem.gfp, bad);
		p = get_u32(p, &ev->u.kmem.cache, bad);
		*odd |= ev->u.kmem.cache >= nr_strings;
		return get_site(p, d, &ev->u.kmem.call_site, bad);
	case EV_KFREE:
		p = get_reg(p, &r->kptr, &ev->u.kmem.ptr, 3, bad);
		return get_site(p, d, &ev->u.kmem.call_site, bad);
	case EV_CACHE_FREE:
		p = get_reg(p, &r->kptr, &ev->u.kmem.ptr, 3, bad);
		p = get_u32(p, &ev->u.kmem.cache, bad);
		*odd |= ev->u.kmem.cache >= nr_strings;
		return get_site(p, d, &ev->u.kmem.call_site, bad);
	case EV_VMALLOC:
		p = get_reg(p, &r->vaddr, &ev->u.vmalloc.addr, 12, bad);
		p = get_len(p, &ev->u.vmalloc.size, bad);
		*odd |= !ev->u.vmalloc.size;
		return get_site(p, d, &ev->u.vmalloc.caller, bad);
	case EV_VFREE:
		return get_reg(p, &r->vaddr, &ev->u.vmalloc.addr, 12, bad);
	case EV_PAGE_ALLOC:
		p = get_reg(p, &r->pfn, &ev->u.page.pfn, 0, bad);
		p = get_u32(p, &ev->u.page.order, bad);
		p = get_gfp(p, d, &ev->u.page.gfp, bad);
		return get_u32(p, &ev->u.page.migratetype, bad);
	case EV_PAGE_FREE:
		p = get_reg(p, &r->pfn, &ev->u.page.pfn, 0, bad);
		return get_u32(p, &ev->u.page.order, bad);
	case EV_SET_OOM_SCORE_ADJ: {
		p = mmt_get_uv(p, &v, bad);
		int64_t x = mmt_unzigzag(v);
		if (x < INT32_MIN || x > INT32_MAX)
			*bad = true;
		ev->u.adj.value = (int32_t)x;
		*odd |= ev->u.adj.value < -1000 || ev->u.adj.value > 1000;
		return p;
	}
	case EV_COMM:
		p = get_u32(p, &ev->u.comm.name, bad);
		*odd |= ev->u.comm.name >= nr_strings;
		return p;
	case EV_MARK:
		p = get_u32(p, &ev->u.mark.name, bad);
		*odd |= ev->u.mark.name >= nr_strings;
		return p;
	default:
		__builtin_unreachable(); /* mmt_decode_event passes valid types only */
	}
}

/* The registers every record reads, kept apart from struct mmt_regs so that the reader's
 * loop holds them in machine registers from one record to the next (copied back before
 * anything else looks at the registers). */
struct mmt_head {
	uint64_t ts;
	uint32_t pid;
	uint16_t cpu;
};

/* One record into ev. *bad: an unknown type or a corrupt varint. *odd: the event may be
 * wrong otherwise (pid 0, a timestamp that overflows, what decode_fields flags). bad and
 * odd may be the same flag: the reader's loop takes one branch for both, and a record it
 * stops at is decoded again (from the registers as they were) to tell them apart.
 * nr_strings: the strings defined so far. */
MMT_DEC const uint8_t *mmt_decode_event(const uint8_t *p, struct mmt_dec *d, struct mmt_head *h,
					struct mm_event *ev, uint32_t nr_strings, bool *bad,
					bool *odd)
{
	uint8_t code = *p++;
	unsigned type = code & MMT_TYPE_MASK;
	uint64_t v;
	memset(ev, 0, sizeof(*ev));
	ev->type = (uint8_t)type;
	if (type == 0 || type >= EV_NR_TYPES) {
		*bad = true; /* the caller tells an unknown type from a corrupt varint */
		return p;
	}
	if (!(code & MMT_F_SAME_TS)) {
		p = mmt_get_uv(p, &v, bad);
		h->ts += v;
		*odd |= h->ts < v; /* wrapped around: the timestamp went backwards */
	}
	if (!(code & MMT_F_SAME_CPU))
		p = get_u16(p, &h->cpu, bad);
	if (!(code & MMT_F_SAME_PID))
		p = get_u32(p, &h->pid, bad);
	*odd |= !h->pid;
	ev->ts = h->ts;
	ev->cpu = h->cpu;
	ev->pid = h->pid;
	return decode_fields(p, d, ev, type, h->pid, nr_strings, bad, odd);
}

static inline void mmt_head_load(struct mmt_head *h, const struct mmt_regs *r)
{
	h->ts = r->ts;
	h->pid = r->pid;
	h->cpu = r->cpu;
}

static inline void mmt_head_store(const struct mmt_head *h, struct mmt_regs *r)
{
	r->ts = h->ts;
	r->pid = h->pid;
	r->cpu = h->cpu;
}

#endif
