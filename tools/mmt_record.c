/* One .mmt event record, both ways (traces/FORMAT.md, "Event records"). Deltas against
 * per-block bases keep most fields to a byte: user addresses against the same task's last
 * one (page-granular deltas shifted by 12 bits), kernel pointers against the last pointer,
 * call sites and gfp masks as indexes into per-block dictionaries. */
#include <string.h>

#include "mmt_decode.h"

void mmt_block_reset(struct mmt_regs *r, uint64_t base_ts)
{
	memset(r, 0, sizeof(*r));
	r->ts = base_ts;
}

void mmt_enc_reset(struct mmt_enc *e, uint64_t base_ts)
{
	mmt_block_reset(&e->regs, base_ts);
	/* a new generation empties the tables; on wrap-around clear them for real */
	if (++e->site.gen == 0) {
		memset(&e->site, 0, sizeof(e->site));
		e->site.gen = 1;
	}
	if (++e->gfp.gen == 0) {
		memset(&e->gfp, 0, sizeof(e->gfp));
		e->gfp.gen = 1;
	}
}

/* ---- encoding ---- */

/* A signed delta d. With shift 0: zigzag(d). Otherwise odd = multiple of 2^shift, zigzag(d >>
 * shift) << 1 | 1; even non-zero = zigzag(d) << 1; 0 = escape, zigzag(d) follows in full (only for
 * |d| >= 2^62). */
static inline uint8_t *put_delta(uint8_t *p, uint64_t d, unsigned shift)
{
	if (shift == 0)
		return mmt_put_uv(p, mmt_zigzag((int64_t)d));
	if (!(d & ((1ull << shift) - 1)))
		return mmt_put_uv(p, mmt_zigzag((int64_t)d >> shift) << 1 | 1);
	uint64_t z = mmt_zigzag((int64_t)d);
	if (z >> 63) {
		*p++ = 0;
		return mmt_put_uv(p, z);
	}
	return mmt_put_uv(p, z << 1);
}

/* A length: odd = page multiple, (len >> 12) << 1 | 1; even non-zero = len << 1; 0 = escape. */
static inline uint8_t *put_len(uint8_t *p, uint64_t len)
{
	if (!(len & 0xfff))
		return mmt_put_uv(p, (len >> 12) << 1 | 1);
	if (len >> 63) {
		*p++ = 0;
		return mmt_put_uv(p, len);
	}
	return mmt_put_uv(p, len << 1);
}

static inline uint8_t *put_uaddr(uint8_t *p, struct mmt_regs *r, uint32_t pid, uint64_t v)
{
	uint64_t *base = mmt_uslot(r, pid);
	p = put_delta(p, v - *base, 12);
	*base = v;
	r->uaddr = v;
	return p;
}

static inline uint8_t *put_reg(uint8_t *p, uint64_t *reg, uint64_t v, unsigned shift)
{
	p = put_delta(p, v - *reg, shift);
	*reg = v;
	return p;
}

/* index + 1 when v is in the block's dictionary; else 0, then v (as a delta against the
 * previous new value when last is given), and v joins the dictionary while it has room. */
static uint8_t *put_dict(uint8_t *p, struct mmt_edict *d, uint32_t *nr, uint64_t v, uint64_t *last)
{
	uint32_t mask = 2 * MMT_DICT_MAX - 1;
	uint32_t i = (uint32_t)((v * 0x9e3779b97f4a7c15ull) >> 40) & mask;
	for (; d->slot[i].gen == d->gen; i = (i + 1) & mask)
		if (d->slot[i].key == v)
			return mmt_put_uv(p, d->slot[i].idx + 1);
	*p++ = 0;
	if (last) {
		p = mmt_put_uv(p, mmt_zigzag((int64_t)(v - *last)));
		*last = v;
	} else {
		p = mmt_put_uv(p, v);
	}
	if (*nr < MMT_DICT_MAX) {
		d->slot[i].key = v;
		d->slot[i].idx = (*nr)++;
		d->slot[i].gen = d->gen;
	}
	return p;
}

static uint8_t *put_site(uint8_t *p, struct mmt_enc *e, uint64_t v)
{
	return put_dict(p, &e->site, &e->regs.nr_site, v, &e->regs.site);
}

static uint8_t *put_gfp(uint8_t *p, struct mmt_enc *e, uint32_t v)
{
	return put_dict(p, &e->gfp, &e->regs.nr_gfp, v, NULL);
}

static uint8_t *encode_fields(uint8_t *p, struct mmt_enc *e, const struct mm_event *ev)
{
	struct mmt_regs *r = &e->regs;
	uint32_t pid = ev->pid;
	switch (ev->type) {
	case EV_FORK:
		p = mmt_put_uv(p, mmt_zigzag((int64_t)ev->u.fork.child - (int64_t)pid));
		return mmt_put_uv(p, ev->u.fork.flags);
	case EV_EXEC:
		return mmt_put_uv(p, ev->u.exec.filename);
	case EV_EXIT:
		return p;
	case EV_MMAP:
		p = put_uaddr(p, r, pid, ev->u.map.addr);
		p = put_len(p, ev->u.map.len);
		p = mmt_put_uv(p, ev->u.map.pgoff);
		p = mmt_put_uv(p, ev->u.map.prot);
		p = mmt_put_uv(p, ev->u.map.flags);
		return mmt_put_uv(p, ev->u.map.file);
	case EV_MUNMAP:
		p = put_uaddr(p, r, pid, ev->u.range.addr);
		return put_len(p, ev->u.range.len);
	case EV_MPROTECT:
		p = put_uaddr(p, r, pid, ev->u.range.addr);
		p = put_len(p, ev->u.range.len);
		return mmt_put_uv(p, ev->u.range.prot);
	case EV_MREMAP:
		p = put_uaddr(p, r, pid, ev->u.remap.old_addr);
		p = put_len(p, ev->u.remap.old_len);
		p = put_uaddr(p, r, pid, ev->u.remap.new_addr);
		return put_len(p, ev->u.remap.new_len);
	case EV_BRK:
		p = put_uaddr(p, r, pid, ev->u.brk.addr);
		return put_delta(p, ev->u.brk.old - ev->u.brk.addr, 12);
	case EV_FAULT:
		p = put_uaddr(p, r, pid, ev->u.fault.addr);
		return mmt_put_uv(p, ev->u.fault.access);
	case EV_TOUCH:
		p = put_uaddr(p, r, pid, ev->u.touch.addr);
		p = put_len(p, ev->u.touch.len);
		return mmt_put_uv(p, ev->u.touch.access);
	case EV_KMALLOC:
	case EV_CACHE_ALLOC:
		p = put_reg(p, &r->kptr, ev->u.kmem.ptr, 3);
		p = mmt_put_uv(p, ev->u.kmem.bytes_req);
		p = mmt_put_uv(
		    p, mmt_zigzag((int64_t)ev->u.kmem.bytes_alloc - (int64_t)ev->u.kmem.bytes_req));
		p = put_gfp(p, e, ev->u.kmem.gfp);
		if (ev->type == EV_CACHE_ALLOC)
			p = mmt_put_uv(p, ev->u.kmem.cache);
		return put_site(p, e, ev->u.kmem.call_site);
	case EV_KFREE:
	case EV_CACHE_FREE:
		p = put_reg(p, &r->kptr, ev->u.kmem.ptr, 3);
		if (ev->type == EV_CACHE_FREE)
			p = mmt_put_uv(p, ev->u.kmem.cache);
		return put_site(p, e, ev->u.kmem.call_site);
	case EV_VMALLOC:
		p = put_reg(p, &r->vaddr, ev->u.vmalloc.addr, 12);
		p = put_len(p, ev->u.vmalloc.size);
		return put_site(p, e, ev->u.vmalloc.caller);
	case EV_VFREE:
		return put_reg(p, &r->vaddr, ev->u.vmalloc.addr, 12);
	case EV_PAGE_ALLOC:
		p = put_reg(p, &r->pfn, ev->u.page.pfn, 0);
		p = mmt_put_uv(p, ev->u.page.order);
		p = put_gfp(p, e, ev->u.page.gfp);
		return mmt_put_uv(p, ev->u.page.migratetype);
	case EV_PAGE_FREE:
		p = put_reg(p, &r->pfn, ev->u.page.pfn, 0);
		return mmt_put_uv(p, ev->u.page.order);
	case EV_SET_OOM_SCORE_ADJ:
		return mmt_put_uv(p, mmt_zigzag(ev->u.adj.value));
	case EV_COMM:
		return mmt_put_uv(p, ev->u.comm.name);
	case EV_MARK:
		return mmt_put_uv(p, ev->u.mark.name);
	}
	return p;
}

uint8_t *mmt_encode_event(uint8_t *p, struct mmt_enc *e, const struct mm_event *ev)
{
	struct mmt_regs *r = &e->regs;
	uint8_t *code = p++;
	*code = ev->type;
	if (ev->ts == r->ts)
		*code |= MMT_F_SAME_TS;
	else
		p = mmt_put_uv(p, ev->ts - r->ts);
	if (ev->cpu == r->cpu)
		*code |= MMT_F_SAME_CPU;
	else
		p = mmt_put_uv(p, ev->cpu);
	if (ev->pid == r->pid)
		*code |= MMT_F_SAME_PID;
	else
		p = mmt_put_uv(p, ev->pid);
	r->ts = ev->ts;
	r->cpu = ev->cpu;
	r->pid = ev->pid;
	return encode_fields(p, e, ev);
}
