/* The .mmt reader (traces/FORMAT.md): the consumer parses each block the inflate thread
 * (tools/mmt_pipe.c) made ready straight into the caller's array, and checks the index,
 * string table and tail at the end. The writer is tools/mmt_write.c. */
#include <errno.h>
#include <libdeflate.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mmt_decode.h"

/* ======================= reader: parsing ======================= */

static int fail(struct trace_reader *r, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct trace_reader *r, char *err, size_t errlen, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->fail_msg, sizeof(r->fail_msg), "%s: %s", r->name, msg);
	snprintf(err, errlen, "%s", r->fail_msg);
	r->failed = true;
	return -1;
}

/* "uncompressed offset U (block at byte B)": U is what `zcat FILE | xxd` shows. */
#define AT_FMT "uncompressed offset %llu (block at byte %llu)"
#define AT_ARGS(r, p)                                                                              \
	(unsigned long long)((r)->cur->uoff + (uint64_t)((p) - (r)->cur->data)),                   \
	    (unsigned long long)(r)->cur->file_off

static int next_slot(struct trace_reader *r, char *err, size_t errlen)
{
	if (r->cur) {
		mmt_pipe_release(r->pipe);
		r->cur = NULL;
	}
	struct mmt_slot *s = mmt_pipe_take(r->pipe);
	if (s->state == 2)
		return fail(r, err, errlen, "%s", s->msg);
	r->cur = s;
	r->pos = s->data;
	r->end = s->data + (s->state == 1 ? 0 : s->len);
	return 0;
}

static int parse_header(struct trace_reader *r, char *err, size_t errlen)
{
	if (next_slot(r, err, errlen))
		return -1;
	if (r->cur->state == 1)
		return fail(r, err, errlen, "byte 0: truncated: empty file");
	const uint8_t *p = r->pos;
	if (r->cur->len < MMT_MAGIC_LEN || memcmp(p, MMT_MAGIC, MMT_MAGIC_LEN) != 0)
		return fail(r, err, errlen, AT_FMT ": wrong magic: expected \"MMTRACE\\x1a\"",
			    AT_ARGS(r, p));
	p += MMT_MAGIC_LEN;
	bool bad = false;
	uint64_t version, n;
	p = mmt_get_uv(p, &version, &bad);
	if (!bad && version > MMT_VERSION)
		return fail(r, err, errlen,
			    "format version %llu is newer than this mmreplay reads (%d); "
			    "upgrade mmreplay",
			    (unsigned long long)version, MMT_VERSION);
	if (!bad && version < 1)
		return fail(r, err, errlen, "format version %llu is not supported (expected %d)",
			    (unsigned long long)version, MMT_VERSION);
	const uint8_t *at = p;
	p = mmt_get_uv(p, &n, &bad);
	if (bad || p > r->end)
		return fail(r, err, errlen, AT_FMT ": corrupt varint in the header",
			    AT_ARGS(r, at));
	if (n > TRACE_ORIGIN_MAX)
		return fail(r, err, errlen, AT_FMT ": %llu origin entries, at most %d expected",
			    AT_ARGS(r, at), (unsigned long long)n, TRACE_ORIGIN_MAX);
	for (uint64_t i = 0; i < n; i++) {
		char kv[2][256];
		for (int k = 0; k < 2; k++) {
			uint64_t len;
			at = p;
			p = mmt_get_uv(p, &len, &bad);
			size_t max =
			    k ? sizeof(r->origin.value[0]) - 1 : sizeof(r->origin.key[0]) - 1;
			if (bad || p > r->end || len > max || len > (uint64_t)(r->end - p))
				return fail(r, err, errlen,
					    AT_FMT ": origin %s length invalid (at most %zu bytes "
						   "inside the block expected)",
					    AT_ARGS(r, at), k ? "value" : "key", max);
			memcpy(kv[k], p, len);
			kv[k][len] = 0;
			p += len;
		}
		trace_origin_set(&r->origin, kv[0], kv[1]);
	}
	if (p != r->end)
		return fail(r, err, errlen, AT_FMT ": %zu unexpected bytes after the header",
			    AT_ARGS(r, p), (size_t)(r->end - p));
	r->pos = p;
	return 0;
}

int mmt_reader_start(struct trace_reader *r, char *err, size_t errlen)
{
	struct mmt_pipe *pp = calloc(1, sizeof(*pp));
	r->pipe = pp;
	if (!pp)
		return fail(r, err, errlen, "out of memory");
	pp->member = malloc(MMT_SLOT_BUF);
	pp->dd = libdeflate_alloc_decompressor();
	r->dec = calloc(1, sizeof(*r->dec));
	bool ok = pp->member && pp->dd && r->dec;
	for (int i = 0; i < MMT_NR_SLOTS; i++)
		ok = (pp->slot[i].data = pp->slot[i].buf = malloc(MMT_SLOT_BUF)) && ok;
	if (!ok)
		return fail(r, err, errlen, "out of memory");
	pthread_mutex_init(&pp->lock, NULL);
	pthread_cond_init(&pp->more, NULL);
	pthread_cond_init(&pp->room, NULL);
	pp->sync_ready = true;
	if (mmt_pipe_start(r, 0, 0))
		return fail(r, err, errlen, "cannot start the decoding thread");
	return parse_header(r, err, errlen);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static uint64_t index_hash(uint64_t h, const struct mmt_index_entry *e)
{
	return mix(mix(mix(mix(h, e->file_off), e->uoff), e->first_event), e->first_ts);
}

static int start_event_block(struct trace_reader *r, char *err, size_t errlen)
{
	const uint8_t *p = r->pos + 1;
	if (r->end - p < 4)
		return fail(r, err, errlen, AT_FMT ": truncated event block header", AT_ARGS(r, p));
	r->block_left = mmt_le32(p);
	p += 4;
	bool bad = false;
	uint64_t first, ts;
	p = mmt_get_uv(p, &first, &bad);
	p = mmt_get_uv(p, &ts, &bad);
	if (bad || p > r->end)
		return fail(r, err, errlen, AT_FMT ": corrupt varint in the event block header",
			    AT_ARGS(r, r->pos));
	if (first != r->count)
		return fail(r, err, errlen,
			    AT_FMT ": block starts at event %llu, expected %llu (blocks missing or "
				   "out of order)",
			    AT_ARGS(r, r->pos), (unsigned long long)first,
			    (unsigned long long)r->count);
	if (ts < r->last_ts)
		return fail(r, err, errlen,
			    AT_FMT ": timestamp goes backwards: block starts at %llu ns after "
				   "an event at %llu ns",
			    AT_ARGS(r, r->pos), (unsigned long long)ts,
			    (unsigned long long)r->last_ts);
	if (r->block_left == 0)
		return fail(r, err, errlen, AT_FMT ": empty event block", AT_ARGS(r, r->pos));
	struct mmt_index_entry e = {r->cur->file_off, r->cur->uoff, first, ts};
	r->seen_hash = index_hash(r->seen_hash, &e);
	r->nr_blocks++;
	mmt_block_reset(&r->dec->regs, ts);
	r->pos = p;
	return 0;
}

static int define_string(struct trace_reader *r, char *err, size_t errlen)
{
	const uint8_t *at = r->pos, *p = r->pos + 1;
	bool bad = false;
	uint64_t len;
	p = mmt_get_uv(p, &len, &bad);
	if (bad || p > r->end || len > STRTAB_MAX_LEN || len > (uint64_t)(r->end - p))
		return fail(r, err, errlen,
			    AT_FMT ": string definition length invalid (at most %d bytes inside "
				   "the block expected)",
			    AT_ARGS(r, at), STRTAB_MAX_LEN);
	if (r->seeked) {
		/* the string table was read from the trailer: the definition must be in it */
		if (strtab_find(&r->strings, (const char *)p, len) == UINT32_MAX)
			return fail(r, err, errlen,
				    AT_FMT ": string defined here is missing from the trailer's "
					   "string table",
				    AT_ARGS(r, at));
		r->pos = p + len;
		return 0;
	}
	uint32_t before = r->strings.count;
	uint32_t id = strtab_intern(&r->strings, (const char *)p, len);
	if (id == UINT32_MAX)
		return fail(r, err, errlen, "out of memory");
	if (id != before)
		return fail(r, err, errlen, AT_FMT ": string \"%.40s\" defined twice",
			    AT_ARGS(r, at), strtab_get(&r->strings, id));
	r->pos = p + len;
	return 0;
}

/* Why the record at `at` is rejected, in the order the checks were always reported: type,
 * varint, block end, timestamp, then the semantic check. Off the hot path: the decoding
 * loop only calls it once one of them failed. */
static int bad_record(struct trace_reader *r, const uint8_t *at, const uint8_t *p,
		      const struct mm_event *ev, bool bad, uint64_t prev_ts, char *err,
		      size_t errlen)
{
	unsigned type = *at & MMT_TYPE_MASK; /* mmt_decode_event leaves ev alone then */
	if (type == 0 || type >= EV_NR_TYPES)
		return fail(r, err, errlen, AT_FMT ": unknown event type %u", AT_ARGS(r, at),
			    type);
	if (bad)
		return fail(r, err, errlen, AT_FMT ": corrupt varint in a %s record",
			    AT_ARGS(r, at), mm_event_names[ev->type]);
	if (p > r->end)
		return fail(r, err, errlen, AT_FMT ": %s record runs past the end of its block",
			    AT_ARGS(r, at), mm_event_names[ev->type]);
	if (ev->ts < prev_ts)
		return fail(r, err, errlen, AT_FMT ": timestamp overflows (goes backwards)",
			    AT_ARGS(r, at));
	const char *field;
	char why[160];
	if (trace_check_event(ev, r->strings.count, why, sizeof(why), &field))
		return fail(r, err, errlen, AT_FMT ": %s", AT_ARGS(r, at), why);
	return 0;
}

/* The registers' timestamp before the record at `at` was decoded (it is the only register
 * bad_record looks at): the record's delta taken off again. */
static uint64_t ts_before(const struct mmt_regs *regs, const uint8_t *at)
{
	uint64_t v = 0;
	bool bad = false;
	if (!(*at & MMT_F_SAME_TS))
		mmt_get_uv(at + 1, &v, &bad);
	return regs->ts - v;
}

/* The decoder once more, out of line, for the rare paths below. */
static __attribute__((noinline)) const uint8_t *
decode_again(struct trace_reader *r, const uint8_t *at, struct mm_event *ev, bool *bad, bool *odd)
{
	struct mmt_head h;
	mmt_flag_t b = 1, o = 1;
	mmt_head_load(&h, &r->dec->regs);
	const uint8_t *p = mmt_decode_event(at, r->dec, &h, ev, r->strings.count, true, &b, &o);
	mmt_head_store(&h, &r->dec->regs);
	/* bad and odd may be the same flag */
	if (!b)
		*bad = true;
	if (!o)
		*odd = true;
	return p;
}

/* The record that ends at `at`, which is past the block's end. Where a record ends depends
 * on its bytes alone, so a second pass from where this batch began finds it. */
static const uint8_t *record_before(struct trace_reader *r, const uint8_t *at)
{
	const uint8_t *q = r->pos, *rec = q;
	struct mm_event scratch;
	while (q < at) {
		bool bad = false;
		uint64_t len;
		rec = q;
		if (*q == MMT_REC_STRING) {
			q = mmt_get_uv(q + 1, &len, &bad);
			q += len;
		} else {
			q = decode_again(r, q, &scratch, &bad, &bad);
		}
	}
	return rec;
}

/* A record that runs past its block's end, which the loop notices only at the record after
 * it (the zeroed slack past the end reads as type 0) or at the end of the batch. Nothing
 * else was wrong with it, or the loop would have stopped at it. */
static int past_end(struct trace_reader *r, const uint8_t *p, char *err, size_t errlen)
{
	const uint8_t *at = record_before(r, p);
	return fail(r, err, errlen, AT_FMT ": %s record runs past the end of its block",
		    AT_ARGS(r, at), mm_event_names[*at & MMT_TYPE_MASK]);
}

/* A record the decoding loop did not take as it came: the block's end, a string
 * definition, or a record it flagged. Where decoding goes on when a string was defined,
 * NULL with the reason otherwise. A flagged record is decoded again with separate flags:
 * what is corrupt and what is checked, and where the record ends, depend only on its bytes
 * and the registers before it, of which bad_record needs the timestamp (the rest only
 * shift addresses and pointers). */
static const uint8_t *odd_record(struct trace_reader *r, const uint8_t *at, struct mm_event *ev,
				 uint32_t missing, char *err, size_t errlen)
{
	if (at > r->end) {
		past_end(r, at, err, errlen);
		return NULL;
	}
	if (at == r->end) {
		fail(r, err, errlen, AT_FMT ": block ends with %u of its events missing",
		     AT_ARGS(r, at), missing);
		return NULL;
	}
	if (*at == MMT_REC_STRING) {
		r->pos = at;
		return define_string(r, err, errlen) ? NULL : r->pos;
	}
	struct mmt_regs *regs = &r->dec->regs;
	uint64_t prev_ts = (*at & MMT_TYPE_MASK) - 1u < EV_NR_TYPES - 1u ? ts_before(regs, at)
									: regs->ts;
	bool bad = false, odd = false;
	regs->ts = prev_ts;
	const uint8_t *p = decode_again(r, at, ev, &bad, &odd);
	/* bad_record gives a reason for every flag */
	if (!bad_record(r, at, p, ev, bad, prev_ts, err, errlen))
		fail(r, err, errlen, AT_FMT ": record refused", AT_ARGS(r, at));
	return NULL;
}

/* Decodes events of the current block into buf until it is full or the block ends. */
static ssize_t decode_events(struct trace_reader *r, struct mm_event *buf, size_t cap, char *err,
			     size_t errlen)
{
	size_t want = cap < r->block_left ? cap : r->block_left;
	struct mmt_dec *d = r->dec;
	const uint8_t *p = r->pos, *end = r->end;
	uint32_t nr_strings = r->strings.count;
	struct mm_event *ev = buf, *stop = buf + want;
	struct mmt_head h;
	mmt_head_load(&h, &d->regs);
	/* pid is 0 only before a block's first event, which may repeat it: the records up to
	 * the first event are decoded with the pid check, out of line. Once the block has a
	 * pid the loop's records need none (a new pid is checked as it is read, and the pid
	 * changes only then). */
	while (ev < stop && !head_pid(&h)) {
		const uint8_t *at = p;
		bool bad = false;
		p = decode_again(r, at, ev, &bad, &bad);
		if (bad) {
			p = odd_record(r, at, ev, r->block_left - (uint32_t)(ev - buf), err,
				       errlen);
			if (!p)
				return -1;
			nr_strings = r->strings.count;
		} else {
			ev++;
		}
		mmt_head_load(&h, &d->regs);
	}
	/* mmt_decode_event's switch as a threaded loop: each type's record ends with its own
	 * test of the batch's end and jump to the next record's type (GNU C's labels as
	 * values), where a loop around the switch took a shared tail, a jump back and a
	 * range-free table jump (~7 instructions an event). Every record that is not a plain
	 * valid event (an unknown type, a string definition, the zeroed slack after the
	 * block's end, what decode_record flags) goes to `odd`, a flagged one through the
	 * batch's end test (end_flag). */
	static const void *const record_at[MMT_TYPE_MASK + 1] = {
	    [0] = &&odd,
	    [EV_FORK] = &&fork,
	    [EV_EXEC] = &&exec,
	    [EV_EXIT] = &&exit,
	    [EV_MMAP] = &&mmap,
	    [EV_MUNMAP] = &&munmap,
	    [EV_MPROTECT] = &&mprotect,
	    [EV_MREMAP] = &&mremap,
	    [EV_BRK] = &&brk,
	    [EV_FAULT] = &&fault,
	    [EV_TOUCH] = &&touch,
	    [EV_KMALLOC] = &&kmalloc,
	    [EV_KFREE] = &&kfree,
	    [EV_CACHE_ALLOC] = &&cache_alloc,
	    [EV_CACHE_FREE] = &&cache_free,
	    [EV_VMALLOC] = &&vmalloc,
	    [EV_VFREE] = &&vfree,
	    [EV_PAGE_ALLOC] = &&page_alloc,
	    [EV_PAGE_FREE] = &&page_free,
	    [EV_SET_OOM_SCORE_ADJ] = &&oom_score_adj,
	    [EV_COMM] = &&comm,
	    [EV_MARK] = &&mark,
	    [EV_NR_TYPES... MMT_TYPE_MASK] = &&odd,
	};
	_Static_assert(EV_NR_TYPES == EV_MARK + 1, "record_at[] needs a label per event type");
	const uint8_t *at = p;
	uint8_t code;
	/* the records' error flag: the batch's end, zeroed by a record the decoder flags
	 * (mmt_flag_t), which then ends the batch at the next test */
	mmt_flag_t end_flag = (uintptr_t)stop;
#define NEXT_RECORD                                                                                \
	do {                                                                                       \
		if ((uintptr_t)ev >= end_flag)                                                     \
			goto done;                                                                 \
		at = p;                                                                            \
		code = *p;                                                                         \
		goto *record_at[code & MMT_TYPE_MASK];                                             \
	} while (0)
#define RECORD(label, t)                                                                           \
	label:                                                                                     \
	p = decode_record(p + 1, code, d, &h, ev, t, nr_strings, false, &end_flag, &end_flag);     \
	ev++;                                                                                      \
	NEXT_RECORD
	NEXT_RECORD;
	RECORD(fork, EV_FORK);
	RECORD(exec, EV_EXEC);
	RECORD(exit, EV_EXIT);
	RECORD(mmap, EV_MMAP);
	RECORD(munmap, EV_MUNMAP);
	RECORD(mprotect, EV_MPROTECT);
	RECORD(mremap, EV_MREMAP);
	RECORD(brk, EV_BRK);
	RECORD(fault, EV_FAULT);
	RECORD(touch, EV_TOUCH);
	RECORD(kmalloc, EV_KMALLOC);
	RECORD(kfree, EV_KFREE);
	RECORD(cache_alloc, EV_CACHE_ALLOC);
	RECORD(cache_free, EV_CACHE_FREE);
	RECORD(vmalloc, EV_VMALLOC);
	RECORD(vfree, EV_VFREE);
	RECORD(page_alloc, EV_PAGE_ALLOC);
	RECORD(page_free, EV_PAGE_FREE);
	RECORD(oom_score_adj, EV_SET_OOM_SCORE_ADJ);
	RECORD(comm, EV_COMM);
	RECORD(mark, EV_MARK);
odd:
	mmt_head_store(&h, &d->regs);
	p = odd_record(r, at, ev, r->block_left - (uint32_t)(ev - buf), err, errlen);
	if (!p)
		return -1;
	nr_strings = r->strings.count;
	NEXT_RECORD;
#undef RECORD
#undef NEXT_RECORD
done:
	if (__builtin_expect(!end_flag, 0)) {
		/* the record at `at` was flagged: it is not an event */
		end_flag = (uintptr_t)stop;
		ev--;
		goto odd;
	}
	mmt_head_store(&h, &d->regs);
	if (p > end)
		return past_end(r, p, err, errlen);
	size_t n = (size_t)(ev - buf);
	r->block_left -= (uint32_t)n;
	r->pos = p;
	if (n) {
		r->count += n;
		r->last_ts = buf[n - 1].ts;
	}
	if (!r->block_left && p != end)
		return fail(r, err, errlen,
			    AT_FMT ": %zu unexpected bytes after the block's last event",
			    AT_ARGS(r, p), (size_t)(end - p));
	return (ssize_t)n;
}

static int read_index_block(struct trace_reader *r, char *err, size_t errlen)
{
	const uint8_t *p = r->pos + 1;
	if (r->end - p < 5)
		return fail(r, err, errlen, AT_FMT ": truncated index block", AT_ARGS(r, p));
	uint32_t n = mmt_le32(p);
	p += 5;
	struct mmt_index_entry e = {0, 0, 0, 0};
	bool bad = false;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t d[4];
		for (int k = 0; k < 4; k++)
			p = mmt_get_uv(p, &d[k], &bad);
		if (bad || p > r->end)
			return fail(r, err, errlen, AT_FMT ": corrupt index entry", AT_ARGS(r, p));
		e.file_off += d[0];
		e.uoff += d[1];
		e.first_event += d[2];
		e.first_ts += d[3];
		r->index_hash = index_hash(r->index_hash, &e);
	}
	r->nr_index_seen += n;
	if (p != r->end)
		return fail(r, err, errlen, AT_FMT ": unexpected bytes after the index entries",
			    AT_ARGS(r, p));
	return 0;
}

/* The trailing string table repeats the inline definitions (for seeking readers): each one
 * must match. */
static int read_string_block(struct trace_reader *r, char *err, size_t errlen)
{
	const uint8_t *p = r->pos + 1;
	if (r->end - p < 4)
		return fail(r, err, errlen, AT_FMT ": truncated string table", AT_ARGS(r, p));
	uint32_t n = mmt_le32(p);
	p += 4;
	bool bad = false;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t len, id = ++r->nr_table_strings;
		const uint8_t *at = p;
		p = mmt_get_uv(p, &len, &bad);
		if (bad || p > r->end || len > (uint64_t)(r->end - p))
			return fail(r, err, errlen, AT_FMT ": corrupt string table entry",
				    AT_ARGS(r, at));
		if (id >= r->strings.count || r->strings.len[id] != len ||
		    memcmp(r->strings.str[id], p, len) != 0)
			return fail(r, err, errlen,
				    AT_FMT ": string table entry %llu does not match the string "
					   "defined in the events",
				    AT_ARGS(r, at), (unsigned long long)id);
		p += len;
	}
	if (p != r->end)
		return fail(r, err, errlen, AT_FMT ": unexpected bytes after the string table",
			    AT_ARGS(r, p));
	return 0;
}

static int read_tail(struct trace_reader *r, char *err, size_t errlen)
{
	const uint8_t *t = r->pos;
	if (r->end - t != MMT_TAIL_LEN || memcmp(t, "ZMMTTAIL", 8) != 0)
		return fail(r, err, errlen, AT_FMT ": malformed trailer", AT_ARGS(r, t));
	uint64_t count = mmt_le64(t + 8), blocks = mmt_le64(t + 16), strings = mmt_le64(t + 24);
	if (count != r->count)
		return fail(r, err, errlen,
			    AT_FMT ": trailer count mismatch: the trailer says %llu events, the "
				   "blocks hold %llu",
			    AT_ARGS(r, t), (unsigned long long)count, (unsigned long long)r->count);
	if (!r->seeked &&
	    (blocks != r->nr_blocks || blocks != r->nr_index_seen || r->index_hash != r->seen_hash))
		return fail(r, err, errlen,
			    AT_FMT ": block index does not match the blocks (%llu in the trailer, "
				   "%llu indexed, %llu read)",
			    AT_ARGS(r, t), (unsigned long long)blocks,
			    (unsigned long long)r->nr_index_seen, (unsigned long long)r->nr_blocks);
	if (strings != r->strings.count || r->nr_table_strings + 1 != r->strings.count)
		return fail(r, err, errlen,
			    AT_FMT ": trailer says %llu strings, the events define %u",
			    AT_ARGS(r, t), (unsigned long long)strings, r->strings.count);
	if (mmt_le64(t + 48) != r->last_ts || mmt_le64(t + 56) != r->cur->uoff)
		return fail(r, err, errlen, AT_FMT ": trailer's last timestamp or size mismatch",
			    AT_ARGS(r, t));
	return 0;
}

/* Moves to the next block and dispatches on its tag; returns 1 when the trace is done. */
static int advance(struct trace_reader *r, char *err, size_t errlen)
{
	if (next_slot(r, err, errlen))
		return -1;
	if (r->cur->state == 1) {
		if (r->phase == 3)
			return 1;
		return fail(r, err, errlen,
			    "byte %llu: truncated: the trace ends without its trailer (%llu events "
			    "read)",
			    (unsigned long long)r->cur->file_off, (unsigned long long)r->count);
	}
	if (r->phase == 3)
		return fail(r, err, errlen, "byte %llu: unexpected data after the trailer",
			    (unsigned long long)r->cur->file_off);
	uint8_t tag = r->cur->len ? r->pos[0] : 0;
	int phase = tag == 'E' ? 0 : tag == 'X' ? 1 : tag == 'S' ? 2 : tag == 'Z' ? 3 : -1;
	if (phase < 0)
		return fail(r, err, errlen, AT_FMT ": unknown block tag 0x%02x", AT_ARGS(r, r->pos),
			    tag);
	if (phase < r->phase)
		return fail(r, err, errlen, AT_FMT ": block '%c' out of order", AT_ARGS(r, r->pos),
			    tag);
	r->phase = phase;
	switch (phase) {
	case 0:
		return start_event_block(r, err, errlen);
	case 1:
		return read_index_block(r, err, errlen);
	case 2:
		return read_string_block(r, err, errlen);
	default:
		return read_tail(r, err, errlen);
	}
}

ssize_t mmt_reader_next(struct trace_reader *r, struct mm_event *buf, size_t cap, char *err,
			size_t errlen)
{
	size_t n = 0;
	while (n < cap) {
		if (r->phase == 0 && r->block_left) {
			ssize_t k = decode_events(r, buf + n, cap - n, err, errlen);
			if (k < 0)
				return -1;
			n += (size_t)k;
			continue;
		}
		if (n)
			break; /* hand over what we have before blocking on the next block */
		int rc = advance(r, err, errlen);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			r->done = true;
			break;
		}
	}
	return (ssize_t)n;
}
