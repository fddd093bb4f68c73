/* Decoding one .mmt event record (traces/FORMAT.md, "Event records"): static inline so
 * the reader's loop (tools/mmt.c) compiles it in place, one switch per event and no call.
 * The encoder is in tools/mmt_record.c. */
#ifndef MM_MMT_DECODE_H
#define MM_MMT_DECODE_H

#include <stddef.h>
#include <string.h>

#include "trace_impl.h"

/* Every helper is inlined into the reader's one loop: left to its size heuristics gcc kept
 * get_delta, get_uaddr or the whole record out of line (a call and saved registers per
 * field, ~20 instructions). */
#define MMT_DEC static inline __attribute__((always_inline))

/* Raises a flag (zeroes its word, mmt_flag_t) on a condition that valid traces never meet:
 * a compare and a branch to a cold block. The empty asm keeps gcc from turning the branch
 * back into a conditional move (a cmov after the compare, whatever the branch's
 * probability). */
MMT_DEC void mmt_flag(mmt_flag_t *flag, bool cond)
{
	if (__builtin_expect(cond, 0)) {
		__asm__ volatile("");
		*flag = 0;
	}
}

/* The base of a task's user addresses: its slot, taken over (seeded with the block's last
 * user address) when another task held it. */
MMT_DEC uint64_t *mmt_uslot(struct mmt_regs *r, uint32_t pid)
{
	unsigned i = pid % MMT_PID_SLOTS;
	if (r->uslot_pid[i] != pid) {
		r->uslot_pid[i] = pid;
		r->uslot_addr[i] = r->uaddr;
	}
	return &r->uslot_addr[i];
}

/* ---- decoding ---- */

MMT_DEC const uint8_t *get_delta(const uint8_t *p, uint64_t *d, unsigned shift, mmt_flag_t *bad)
{
	uint64_t v;
	p = mmt_get_uvf(p, &v, bad);
	if (shift == 0)
		*d = (uint64_t)mmt_unzigzag(v);
	else if (v & 1)
		*d = (uint64_t)mmt_unzigzag(v >> 1) << shift;
	else if (v)
		*d = (uint64_t)mmt_unzigzag(v >> 1);
	else {
		p = mmt_get_uvf(p, &v, bad);
		*d = (uint64_t)mmt_unzigzag(v);
	}
	return p;
}

MMT_DEC const uint8_t *get_len(const uint8_t *p, uint64_t *len, mmt_flag_t *bad)
{
	uint64_t v;
	p = mmt_get_uvf(p, &v, bad);
	if (v & 1) {
		mmt_flag(bad, v >> 53);
		*len = (v >> 1) << 12;
	} else if (v) {
		*len = v >> 1;
	} else {
		p = mmt_get_uvf(p, len, bad);
	}
	return p;
}

/* The registers every record reads, kept apart from struct mmt_regs so that the reader's
 * loop holds them in machine registers from one record to the next (copied back before
 * anything else looks at the registers). pidcpu is the event's second word as it is stored
 * (pid, then cpu; the type is added per record). */
struct mmt_head {
	uint64_t ts;
	uint64_t pidcpu;
	uint64_t kptr;
};

MMT_DEC uint32_t head_pid(const struct mmt_head *h) { return (uint32_t)h->pidcpu; }

MMT_DEC const uint8_t *get_uaddr(const uint8_t *p, struct mmt_regs *r, uint32_t pid, uint64_t *out,
				mmt_flag_t *bad)
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
				     mmt_flag_t *bad)
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
MMT_DEC const uint8_t *get_u32(const uint8_t *p, uint32_t *out, mmt_flag_t *bad)
{
	uint64_t v;
	if (__builtin_expect(*p < 0x80, 1)) {
		*out = *p;
		return p + 1;
	}
	p = mmt_get_uvf(p, &v, bad);
	mmt_flag(bad, v > UINT32_MAX);
	*out = (uint32_t)v;
	return p;
}

MMT_DEC const uint8_t *get_u16(const uint8_t *p, uint16_t *out, mmt_flag_t *bad)
{
	uint64_t v;
	if (__builtin_expect(*p < 0x80, 1)) {
		*out = *p;
		return p + 1;
	}
	p = mmt_get_uvf(p, &v, bad);
	mmt_flag(bad, v > UINT16_MAX);
	*out = (uint16_t)v;
	return p;
}

/* base + a zigzag delta, which must land in 0..UINT32_MAX. One test in wrapping arithmetic:
 * base is below 2^32, so a delta out of +-UINT32_MAX, or a sum that wraps past 2^64, leaves
 * the sum outside 0..UINT32_MAX too. */
MMT_DEC const uint8_t *get_rel32(const uint8_t *p, uint32_t base, uint32_t *out, mmt_flag_t *bad)
{
	uint64_t v;
	p = mmt_get_uvf(p, &v, bad);
	uint64_t x = (uint64_t)mmt_unzigzag(v) + base;
	mmt_flag(bad, x > UINT32_MAX);
	*out = (uint32_t)x;
	return p;
}

MMT_DEC const uint8_t *get_site(const uint8_t *p, struct mmt_dec *d, uint64_t *out, mmt_flag_t *bad)
{
	uint64_t v;
	struct mmt_regs *r = &d->regs;
	p = mmt_get_uvf(p, &v, bad);
	/* an index (1-based) into the dictionary: the common case, one test */
	if (__builtin_expect(v - 1 < r->nr_site, 1)) {
		*out = d->site[v - 1];
		return p;
	}
	if (__builtin_expect(v != 0, 0)) {
		*bad = 0;
		return p;
	}
	p = mmt_get_uvf(p, &v, bad);
	uint64_t site = r->site + (uint64_t)mmt_unzigzag(v);
	r->site = site;
	*out = site;
	if (r->nr_site < MMT_DICT_MAX)
		d->site[r->nr_site++] = site;
	return p;
}

MMT_DEC const uint8_t *get_gfp(const uint8_t *p, struct mmt_dec *d, uint32_t *out, mmt_flag_t *bad)
{
	uint64_t v;
	struct mmt_regs *r = &d->regs;
	p = mmt_get_uvf(p, &v, bad);
	/* an index (1-based) into the dictionary: the common case, one test */
	if (__builtin_expect(v - 1 < r->nr_gfp, 1)) {
		*out = d->gfp[v - 1];
		return p;
	}
	if (__builtin_expect(v != 0, 0)) {
		*bad = 0;
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
MMT_DEC const uint8_t *get_kmem_sizes(const uint8_t *p, struct mm_event *ev, mmt_flag_t *bad)
{
	uint32_t req;
	p = get_u32(p, &req, bad);
	ev->u.kmem.bytes_req = req;
	return get_rel32(p, req, &ev->u.kmem.bytes_alloc, bad);
}

/* Every byte of the event is written, field by field: the bytes a type has no field for are
 * zeroed from `from` to the union's end (the pad bytes of each layout are inside that
 * range or written as zero fields), so no memset of the whole event comes first. */
MMT_DEC void zero_u_from(struct mm_event *ev, size_t from)
{
	memset((unsigned char *)&ev->u + from, 0, sizeof(ev->u) - from);
}

/* *odd is raised (zeroed) where trace_check_event could refuse the event (the same conditions, type
 * by type): the reader's loop then takes the full check, so the frequent valid events
 * need neither the call nor a second switch. type is a constant: one case is left. */
MMT_DEC const uint8_t *decode_fields(const uint8_t *p, struct mmt_dec *d, struct mmt_head *h,
				     struct mm_event *ev, unsigned type, uint32_t nr_strings,
				     mmt_flag_t *bad, mmt_flag_t *odd)
{
	struct mmt_regs *r = &d->regs;
	uint32_t pid = head_pid(h);
	uint64_t v;
	switch (type) {
	case EV_FORK: {
		uint32_t child;
		p = get_rel32(p, pid, &child, bad);
		ev->u.fork.child = child;
		mmt_flag(odd, !child);
		p = get_u32(p, &ev->u.fork.flags, bad);
		zero_u_from(ev, 8);
		return p;
	}
	case EV_EXEC:
		p = get_u32(p, &ev->u.exec.filename, bad);
		mmt_flag(odd, ev->u.exec.filename >= nr_strings);
		zero_u_from(ev, 4);
		return p;
	case EV_EXIT:
		zero_u_from(ev, 0);
		return p;
	case EV_MMAP:
		p = get_uaddr(p, r, pid, &ev->u.map.addr, bad);
		p = get_len(p, &ev->u.map.len, bad);
		p = mmt_get_uvf(p, &ev->u.map.pgoff, bad);
		p = get_u16(p, &ev->u.map.prot, bad);
		p = get_u16(p, &ev->u.map.flags, bad);
		p = get_u32(p, &ev->u.map.file, bad);
		mmt_flag(odd, !ev->u.map.len | (ev->u.map.file >= nr_strings));
		return p;
	case EV_MUNMAP:
		p = get_uaddr(p, r, pid, &ev->u.range.addr, bad);
		p = get_len(p, &ev->u.range.len, bad);
		mmt_flag(odd, !ev->u.range.len);
		zero_u_from(ev, 16);
		return p;
	case EV_MPROTECT:
		p = get_uaddr(p, r, pid, &ev->u.range.addr, bad);
		p = get_len(p, &ev->u.range.len, bad);
		mmt_flag(odd, !ev->u.range.len);
		p = get_u32(p, &ev->u.range.prot, bad);
		zero_u_from(ev, 20);
		return p;
	case EV_MREMAP:
		p = get_uaddr(p, r, pid, &ev->u.remap.old_addr, bad);
		p = get_len(p, &ev->u.remap.old_len, bad);
		p = get_uaddr(p, r, pid, &ev->u.remap.new_addr, bad);
		p = get_len(p, &ev->u.remap.new_len, bad);
		mmt_flag(odd, !ev->u.remap.new_len);
		return p;
	case EV_BRK:
		p = get_uaddr(p, r, pid, &ev->u.brk.addr, bad);
		p = get_delta(p, &v, 12, bad);
		ev->u.brk.old = ev->u.brk.addr + v;
		zero_u_from(ev, 16);
		return p;
	case EV_FAULT:
		p = get_uaddr(p, r, pid, &ev->u.fault.addr, bad);
		p = get_u32(p, &ev->u.fault.access, bad);
		zero_u_from(ev, 12);
		return p;
	case EV_TOUCH:
		p = get_uaddr(p, r, pid, &ev->u.touch.addr, bad);
		p = get_len(p, &ev->u.touch.len, bad);
		mmt_flag(odd, !ev->u.touch.len);
		p = get_u32(p, &ev->u.touch.access, bad);
		zero_u_from(ev, 20);
		return p;
	case EV_KMALLOC:
		p = get_reg(p, &h->kptr, &ev->u.kmem.ptr, 3, bad);
		p = get_kmem_sizes(p, ev, bad);
		p = get_gfp(p, d, &ev->u.kmem.gfp, bad);
		ev->u.kmem.cache = 0;
		return get_site(p, d, &ev->u.kmem.call_site, bad);
	case EV_CACHE_ALLOC:
		p = get_reg(p, &h->kptr, &ev->u.kmem.ptr, 3, bad);
		p = get_kmem_sizes(p, ev, bad);
		p = get_gfp(p, d, &ev->u.kmem.gfp, bad);
		p = get_u32(p, &ev->u.kmem.cache, bad);
		mmt_flag(odd, ev->u.kmem.cache >= nr_strings);
		return get_site(p, d, &ev->u.kmem.call_site, bad);
	case EV_KFREE:
		p = get_reg(p, &h->kptr, &ev->u.kmem.ptr, 3, bad);
		p = get_site(p, d, &ev->u.kmem.call_site, bad);
		zero_u_from(ev, 16);
		return p;
	case EV_CACHE_FREE:
		p = get_reg(p, &h->kptr, &ev->u.kmem.ptr, 3, bad);
		p = get_u32(p, &ev->u.kmem.cache, bad);
		mmt_flag(odd, ev->u.kmem.cache >= nr_strings);
		p = get_site(p, d, &ev->u.kmem.call_site, bad);
		ev->u.kmem.bytes_req = 0;
		ev->u.kmem.bytes_alloc = 0;
		ev->u.kmem.gfp = 0;
		return p;
	case EV_VMALLOC:
		p = get_reg(p, &r->vaddr, &ev->u.vmalloc.addr, 12, bad);
		p = get_len(p, &ev->u.vmalloc.size, bad);
		mmt_flag(odd, !ev->u.vmalloc.size);
		p = get_site(p, d, &ev->u.vmalloc.caller, bad);
		zero_u_from(ev, 24);
		return p;
	case EV_VFREE:
		p = get_reg(p, &r->vaddr, &ev->u.vmalloc.addr, 12, bad);
		zero_u_from(ev, 8);
		return p;
	case EV_PAGE_ALLOC:
		p = get_reg(p, &r->pfn, &ev->u.page.pfn, 0, bad);
		p = get_u32(p, &ev->u.page.order, bad);
		p = get_gfp(p, d, &ev->u.page.gfp, bad);
		p = get_u32(p, &ev->u.page.migratetype, bad);
		zero_u_from(ev, 20);
		return p;
	case EV_PAGE_FREE:
		p = get_reg(p, &r->pfn, &ev->u.page.pfn, 0, bad);
		p = get_u32(p, &ev->u.page.order, bad);
		zero_u_from(ev, 12);
		return p;
	case EV_SET_OOM_SCORE_ADJ: {
		p = mmt_get_uvf(p, &v, bad);
		int64_t x = mmt_unzigzag(v);
		mmt_flag(bad, x < INT32_MIN || x > INT32_MAX);
		ev->u.adj.value = (int32_t)x;
		mmt_flag(odd, ev->u.adj.value < -1000 || ev->u.adj.value > 1000);
		zero_u_from(ev, 4);
		return p;
	}
	case EV_COMM:
		p = get_u32(p, &ev->u.comm.name, bad);
		mmt_flag(odd, ev->u.comm.name >= nr_strings);
		zero_u_from(ev, 4);
		return p;
	case EV_MARK:
		p = get_u32(p, &ev->u.mark.name, bad);
		mmt_flag(odd, ev->u.mark.name >= nr_strings);
		zero_u_from(ev, 4);
		return p;
	default:
		__builtin_unreachable(); /* mmt_decode_event passes valid types only */
	}
}

/* The event's first two words are stored whole: ts, then pid, cpu, type and the pad byte
 * (zero) as one word. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "pidcpu is stored as it is in memory");
_Static_assert(offsetof(struct mm_event, pid) == 8 && offsetof(struct mm_event, cpu) == 12 &&
		   offsetof(struct mm_event, type) == 14 && offsetof(struct mm_event, _pad) == 15,
	       "the event's second word: pid, cpu, type, pad");

MMT_DEC void put_head(struct mm_event *ev, const struct mmt_head *h, unsigned type)
{
	ev->ts = h->ts;
	memcpy((unsigned char *)ev + offsetof(struct mm_event, pid), &h->pidcpu, sizeof(h->pidcpu));
	ev->type = (uint8_t)type;
}

/* The common fields. check_pid: a pid the record repeats may be the block's initial 0 (the
 * reader's loop decodes records without it once the block has a pid: a new pid is checked
 * as it is read, and pid only changes then). */
MMT_DEC const uint8_t *decode_head(const uint8_t *p, uint8_t code, struct mmt_head *h,
				   bool check_pid, mmt_flag_t *bad, mmt_flag_t *odd)
{
	uint64_t v;
	/* the common record, tested at once: a new timestamp, the same task and cpu */
	if (__builtin_expect((code & ~MMT_TYPE_MASK) == (MMT_F_SAME_CPU | MMT_F_SAME_PID), 1)) {
		p = mmt_get_uvf(p, &v, bad);
		mmt_flag(odd, __builtin_add_overflow(h->ts, v, &h->ts));
		if (check_pid)
			mmt_flag(odd, !head_pid(h));
		return p;
	}
	if (!(code & MMT_F_SAME_TS)) {
		p = mmt_get_uvf(p, &v, bad);
		/* wrapped around: the timestamp went backwards */
		mmt_flag(odd, __builtin_add_overflow(h->ts, v, &h->ts));
	}
	if (!(code & MMT_F_SAME_CPU)) {
		uint16_t cpu;
		p = get_u16(p, &cpu, bad);
		h->pidcpu = (uint32_t)h->pidcpu | (uint64_t)cpu << 32;
	}
	if (!(code & MMT_F_SAME_PID)) {
		uint32_t pid;
		p = get_u32(p, &pid, bad);
		h->pidcpu = (h->pidcpu & ~(uint64_t)UINT32_MAX) | pid;
		mmt_flag(odd, !pid);
	} else if (check_pid) {
		mmt_flag(odd, !head_pid(h));
	}
	return p;
}

/* One record of a known type: its common fields, then its own. */
MMT_DEC const uint8_t *decode_record(const uint8_t *p, uint8_t code, struct mmt_dec *d,
				     struct mmt_head *h, struct mm_event *ev, unsigned type,
				     uint32_t nr_strings, bool check_pid, mmt_flag_t *bad,
				     mmt_flag_t *odd)
{
	p = decode_head(p, code, h, check_pid, bad, odd);
	put_head(ev, h, type);
	return decode_fields(p, d, h, ev, type, nr_strings, bad, odd);
}

/* One record into ev. The flags are words, zeroed when raised (mmt_flag_t). *bad: an
 * unknown type or a corrupt varint. *odd: the event may be
 * wrong otherwise (pid 0, a timestamp that overflows, what decode_fields flags). bad and
 * odd may be the same flag: the reader's loop takes one branch for both, and a record it
 * stops at is decoded again (from the registers as they were) to tell them apart.
 * nr_strings: the strings defined so far. The switch on the type comes first and each
 * case decodes the common fields itself: an invalid type (or a string definition) leaves
 * h as it was, and a valid one has its constant type in every step. check_pid: see
 * decode_head. */
MMT_DEC const uint8_t *mmt_decode_event(const uint8_t *p, struct mmt_dec *d, struct mmt_head *h,
					struct mm_event *ev, uint32_t nr_strings, bool check_pid,
					mmt_flag_t *bad, mmt_flag_t *odd)
{
	uint8_t code = *p++;
#define MMT_CASE(t)                                                                                \
	case t:                                                                                    \
		return decode_record(p, code, d, h, ev, t, nr_strings, check_pid, bad, odd)
#define MMT_INVALID(t)                                                                             \
	case t:                                                                                    \
		ev->type = t;                                                                      \
		*bad = 0;                                                                          \
		return p
	_Static_assert(EV_NR_TYPES == 22 && MMT_TYPE_MASK == 31, "a case for every type value");
	switch (code & MMT_TYPE_MASK) {
		MMT_CASE(EV_FORK);
		MMT_CASE(EV_EXEC);
		MMT_CASE(EV_EXIT);
		MMT_CASE(EV_MMAP);
		MMT_CASE(EV_MUNMAP);
		MMT_CASE(EV_MPROTECT);
		MMT_CASE(EV_MREMAP);
		MMT_CASE(EV_BRK);
		MMT_CASE(EV_FAULT);
		MMT_CASE(EV_TOUCH);
		MMT_CASE(EV_KMALLOC);
		MMT_CASE(EV_KFREE);
		MMT_CASE(EV_CACHE_ALLOC);
		MMT_CASE(EV_CACHE_FREE);
		MMT_CASE(EV_VMALLOC);
		MMT_CASE(EV_VFREE);
		MMT_CASE(EV_PAGE_ALLOC);
		MMT_CASE(EV_PAGE_FREE);
		MMT_CASE(EV_SET_OOM_SCORE_ADJ);
		MMT_CASE(EV_COMM);
		MMT_CASE(EV_MARK);
		/* the caller tells an unknown type (or a string definition) from a corrupt
		 * varint by the code byte. One case per value, each with its own store: gcc
		 * then builds a table of all 32 and needs no range test (the cases would
		 * otherwise be merged into one range, tested before the table) */
		MMT_INVALID(0);
		MMT_INVALID(22);
		MMT_INVALID(23);
		MMT_INVALID(24);
		MMT_INVALID(25);
		MMT_INVALID(26);
		MMT_INVALID(27);
		MMT_INVALID(28);
		MMT_INVALID(29);
		MMT_INVALID(30);
		MMT_INVALID(31);
	}
#undef MMT_CASE
#undef MMT_INVALID
	__builtin_unreachable();
}

static inline void mmt_head_load(struct mmt_head *h, const struct mmt_regs *r)
{
	h->ts = r->ts;
	h->pidcpu = r->pid | (uint64_t)r->cpu << 32;
	h->kptr = r->kptr;
}

static inline void mmt_head_store(const struct mmt_head *h, struct mmt_regs *r)
{
	r->ts = h->ts;
	r->pid = head_pid(h);
	r->cpu = (uint16_t)(h->pidcpu >> 32);
	r->kptr = h->kptr;
}

#endif
