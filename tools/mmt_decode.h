/* Decoding one .mmt event record (traces/FORMAT.md, "Event records"): static inline so
 * the reader's loop (tools/mmt.c) compiles it in place, one switch per event and no call.
 * The encoder is in tools/mmt_record.c. */
#ifndef MM_MMT_DECODE_H
#define MM_MMT_DECODE_H

#include <string.h>

#include "trace_impl.h"

/* The base of a task's user addresses: its slot, taken over (seeded with the block's last
 * user address) when another task held it. */
static inline uint64_t *mmt_uslot(struct mmt_regs *r, uint32_t pid)
{
	struct mmt_uslot *s = &r->uslot[pid % MMT_PID_SLOTS];
	if (s->pid != pid) {
		s->pid = pid;
		s->addr = r->uaddr;
	}
	return &s->addr;
}

/* ---- decoding ---- */

static inline const uint8_t *get_delta(const uint8_t *p, uint64_t *d, unsigned shift, bool *bad)
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

static inline const uint8_t *get_len(const uint8_t *p, uint64_t *len, bool *bad)
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

static inline const uint8_t *get_uaddr(const uint8_t *p, struct mmt_regs *r, uint64_t *out,
				       bool *bad)
{
	uint64_t *base = mmt_uslot(r, r->pid), d;
	p = get_delta(p, &d, 12, bad);
	*base += d;
	r->uaddr = *base;
	*out = *base;
	return p;
}

static inline const uint8_t *get_reg(const uint8_t *p, uint64_t *reg, uint64_t *out, unsigned shift,
				     bool *bad)
{
	uint64_t d;
	p = get_delta(p, &d, shift, bad);
	*reg += d;
	*out = *reg;
	return p;
}

static inline const uint8_t *get_u32(const uint8_t *p, uint32_t *out, bool *bad)
{
	uint64_t v;
	p = mmt_get_uv(p, &v, bad);
	if (v > UINT32_MAX)
		*bad = true;
	*out = (uint32_t)v;
	return p;
}

static inline const uint8_t *get_u16(const uint8_t *p, uint16_t *out, bool *bad)
{
	uint64_t v;
	p = mmt_get_uv(p, &v, bad);
	if (v > UINT16_MAX)
		*bad = true;
	*out = (uint16_t)v;
	return p;
}

/* base + a zigzag delta, which must land in 0..UINT32_MAX */
static inline const uint8_t *get_rel32(const uint8_t *p, int64_t base, uint32_t *out, bool *bad)
{
	uint64_t v;
	p = mmt_get_uv(p, &v, bad);
	int64_t x = mmt_unzigzag(v);
	if (x < -(int64_t)UINT32_MAX || x > (int64_t)UINT32_MAX)
		*bad = true;
	x += base;
	if (x < 0 || x > (int64_t)UINT32_MAX)
		*bad = true;
	*out = (uint32_t)x;
	return p;
}

static inline const uint8_t *get_site(const uint8_t *p, struct mmt_dec *d, uint64_t *out, bool *bad)
{
	uint64_t v;
	struct mmt_regs *r = &d->regs;
	p = mmt_get_uv(p, &v, bad);
	if (v) {
		if (v > r->nr_site)
			*bad = true;
		else
			*out = d->site[v - 1];
		return p;
	}
	p = mmt_get_uv(p, &v, bad);
	r->site += (uint64_t)mmt_unzigzag(v);
	*out = r->site;
	if (r->nr_site < MMT_DICT_MAX)
		d->site[r->nr_site++] = r->site;
	return p;
}

static inline const uint8_t *get_gfp(const uint8_t *p, struct mmt_dec *d, uint32_t *out, bool *bad)
{
	uint64_t v;
	struct mmt_regs *r = &d->regs;
	p = mmt_get_uv(p, &v, bad);
	if (v) {
		if (v > r->nr_gfp)
			*bad = true;
		else
			*out = d->gfp[v - 1];
		return p;
	}
	p = get_u32(p, out, bad);
	if (r->nr_gfp < MMT_DICT_MAX)
		d->gfp[r->nr_gfp++] = *out;
	return p;
}

/* Inlined into the reader's loop whatever gcc's size heuristics say: the call cost ~14
 * instructions per event (callgrind, mix trace). */
static inline __attribute__((always_inline)) const uint8_t *
decode_fields(const uint8_t *p, struct mmt_dec *d, struct mm_event *ev, bool *bad)
{
	struct mmt_regs *r = &d->regs;
	uint64_t v;
	switch (ev->type) {
	case EV_FORK:
		p = get_rel32(p, ev->pid, &ev->u.fork.child, bad);
		return get_u32(p, &ev->u.fork.flags, bad);
	case EV_EXEC:
		return get_u32(p, &ev->u.exec.filename, bad);
	case EV_EXIT:
		return p;
	case EV_MMAP:
		p = get_uaddr(p, r, &ev->u.map.addr, bad);
		p = get_len(p, &ev->u.map.len, bad);
		p = mmt_get_uv(p, &ev->u.map.pgoff, bad);
		p = get_u16(p, &ev->u.map.prot, bad);
		p = get_u16(p, &ev->u.map.flags, bad);
		return get_u32(p, &ev->u.map.file, bad);
	case EV_MUNMAP:
		p = get_uaddr(p, r, &ev->u.range.addr, bad);
		return get_len(p, &ev->u.range.len, bad);
	case EV_MPROTECT:
		p = get_uaddr(p, r, &ev->u.range.addr, bad);
		p = get_len(p, &ev->u.range.len, bad);
		return get_u32(p, &ev->u.range.prot, bad);
	case EV_MREMAP:
		p = get_uaddr(p, r, &ev->u.remap.old_addr, bad);
		p = get_len(p, &ev->u.remap.old_len, bad);
		p = get_uaddr(p, r, &ev->u.remap.new_addr, bad);
		return get_len(p, &ev->u.remap.new_len, bad);
	case EV_BRK:
		p = get_uaddr(p, r, &ev->u.brk.addr, bad);
		p = get_delta(p, &v, 12, bad);
		ev->u.brk.old = ev->u.brk.addr + v;
		return p;
	case EV_FAULT:
		p = get_uaddr(p, r, &ev->u.fault.addr, bad);
		return get_u32(p, &ev->u.fault.access, bad);
	case EV_TOUCH:
		p = get_uaddr(p, r, &ev->u.touch.addr, bad);
		p = get_len(p, &ev->u.touch.len, bad);
		return get_u32(p, &ev->u.touch.access, bad);
	case EV_KMALLOC:
	case EV_CACHE_ALLOC:
		p = get_reg(p, &r->kptr, &ev->u.kmem.ptr, 3, bad);
		p = get_u32(p, &ev->u.kmem.bytes_req, bad);
		p = get_rel32(p, ev->u.kmem.bytes_req, &ev->u.kmem.bytes_alloc, bad);
		p = get_gfp(p, d, &ev->u.kmem.gfp, bad);
		if (ev->type == EV_CACHE_ALLOC)
			p = get_u32(p, &ev->u.kmem.cache, bad);
		return get_site(p, d, &ev->u.kmem.call_site, bad);
	case EV_KFREE:
	case EV_CACHE_FREE:
		p = get_reg(p, &r->kptr, &ev->u.kmem.ptr, 3, bad);
		if (ev->type == EV_CACHE_FREE)
			p = get_u32(p, &ev->u.kmem.cache, bad);
		return get_site(p, d, &ev->u.kmem.call_site, bad);
	case EV_VMALLOC:
		p = get_reg(p, &r->vaddr, &ev->u.vmalloc.addr, 12, bad);
		p = get_len(p, &ev->u.vmalloc.size, bad);
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
		return p;
	}
	case EV_COMM:
		return get_u32(p, &ev->u.comm.name, bad);
	case EV_MARK:
		return get_u32(p, &ev->u.mark.name, bad);
	}
	*bad = true;
	return p;
}

static inline const uint8_t *mmt_decode_event(const uint8_t *p, struct mmt_dec *d,
					      struct mm_event *ev, bool *bad)
{
	struct mmt_regs *r = &d->regs;
	uint8_t code = *p++;
	uint64_t v;
	memset(ev, 0, sizeof(*ev));
	ev->type = code & MMT_TYPE_MASK;
	if (ev->type == 0 || ev->type >= EV_NR_TYPES) {
		*bad = true; /* the caller tells an unknown type from a corrupt varint */
		return p;
	}
	if (!(code & MMT_F_SAME_TS)) {
		p = mmt_get_uv(p, &v, bad);
		r->ts += v;
	}
	if (!(code & MMT_F_SAME_CPU))
		p = get_u16(p, &r->cpu, bad);
	if (!(code & MMT_F_SAME_PID))
		p = get_u32(p, &r->pid, bad);
	ev->ts = r->ts;
	ev->cpu = r->cpu;
	ev->pid = r->pid;
	return decode_fields(p, d, ev, bad);
}

#endif
