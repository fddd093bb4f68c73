/* Starting a .mmt read in the middle (traces/FORMAT.md, "Index blocks"): the fixed-size
 * tail gives the index and string table offsets; the index gives each block's file offset,
 * first event and first timestamp; the block is then read as usual. */
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

#include "trace_impl.h"

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int seek_fail(struct trace_reader *r, char *err, size_t errlen, const char *what)
{
	snprintf(r->fail_msg, sizeof(r->fail_msg), "%s: cannot seek: %s", r->name, what);
	snprintf(err, errlen, "%s", r->fail_msg);
	r->failed = true;
	return -1;
}

struct seek_index {
	struct mmt_index_entry *e;
	size_t n, cap;
};

static int parse_index(struct seek_index *x, const uint8_t *p, const uint8_t *end)
{
	if (end - p < 6)
		return -1;
	uint32_t n =
	    (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 24;
	p += 6;
	struct mmt_index_entry e = {0, 0, 0, 0};
	bool bad = false;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t d[4];
		for (int k = 0; k < 4; k++)
			p = mmt_get_uv(p, &d[k], &bad);
		if (bad || p > end)
			return -1;
		e.file_off += d[0];
		e.uoff += d[1];
		e.first_event += d[2];
		e.first_ts += d[3];
		if (x->n == x->cap) {
			size_t cap = x->cap ? 2 * x->cap : 1024;
			struct mmt_index_entry *ne = realloc(x->e, cap * sizeof(*ne));
			if (!ne)
				return -1;
			x->e = ne;
			x->cap = cap;
		}
		x->e[x->n++] = e;
	}
	return 0;
}

static int parse_strings(struct trace_reader *r, const uint8_t *p, const uint8_t *end)
{
	if (end - p < 5)
		return -1;
	uint32_t n =
	    (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 24;
	p += 5;
	bool bad = false;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t len;
		p = mmt_get_uv(p, &len, &bad);
		if (bad || p > end || len > (uint64_t)(end - p))
			return -1;
		uint32_t before = r->strings.count;
		if (strtab_intern(&r->strings, (const char *)p, len) != before)
			return -1;
		p += len;
	}
	return 0;
}

/* Reads the tail, the index and the string table; 0 or -1. */
static int read_trailer(struct trace_reader *r, struct seek_index *x, uint64_t *tail_off)
{
	struct mmt_pipe *pp = r->pipe;
	uint64_t size;
	uint8_t tail[MMT_TAIL_LEN];
	size_t got = 0;
	if (trace_src_size(r, &size) || size < MMT_TAIL_MEMBER ||
	    trace_src_seek(r, size - MMT_TAIL_MEMBER) ||
	    trace_src_read(r, pp->member, MMT_TAIL_MEMBER) != MMT_TAIL_MEMBER ||
	    libdeflate_gzip_decompress(pp->dd, pp->member, MMT_TAIL_MEMBER, tail, sizeof(tail),
				       &got) != LIBDEFLATE_SUCCESS ||
	    got != MMT_TAIL_LEN || memcmp(tail, "ZMMTTAIL", 8) != 0)
		return -1;
	*tail_off = size - MMT_TAIL_MEMBER;
	uint64_t off = le64(tail + 32), uoff = 0;
	if (off > *tail_off || trace_src_seek(r, off))
		return -1;
	struct mmt_slot *s = &pp->slot[0];
	while (off < *tail_off) {
		mmt_fill_slot(r, s, &off, &uoff);
		if (s->state || !s->len)
			return -1;
		const uint8_t *p = s->data, *end = s->data + s->len;
		if (*p == 'X' ? parse_index(x, p, end) : *p == 'S' ? parse_strings(r, p, end) : -1)
			return -1;
	}
	return x->n == le64(tail + 16) && r->strings.count == le64(tail + 24) ? 0 : -1;
}

/* The block to start in: the last one whose first event is before the point (index below
 * from_ev or timestamp below from_ts: the events at or after the point form a suffix), or
 * block 0. Equal timestamps may run across a block boundary, hence "below". */
static size_t pick_block(const struct seek_index *x, uint64_t from_ev, uint64_t from_ts)
{
	size_t lo = 0, hi = x->n; /* answer in [lo, hi) */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->e[mid].first_event < from_ev || x->e[mid].first_ts < from_ts)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

int trace_reader_skip_to(struct trace_reader *r, uint64_t from_ev, uint64_t from_ts, char *err,
			 size_t errlen)
{
	uint64_t size;
	/* only right after open, and only where the source can seek */
	if (r->fmt != TRACE_MMT || r->failed || r->count || r->block_left || r->phase ||
	    (!from_ev && !from_ts) || trace_src_size(r, &size))
		return 0;
	mmt_pipe_stop(r);
	struct seek_index x = {NULL, 0, 0};
	uint64_t tail_off;
	int rc = read_trailer(r, &x, &tail_off);
	if (rc == 0 && x.n) {
		const struct mmt_index_entry *e = &x.e[pick_block(&x, from_ev, from_ts)];
		if (e->file_off >= tail_off || trace_src_seek(r, e->file_off)) {
			rc = -1;
		} else {
			r->count = e->first_event;
			r->seeked = true;
			rc = mmt_pipe_start(r, e->file_off, e->uoff);
		}
	} else if (rc == 0) {
		r->done = true; /* no events at all: nothing at or after any point */
	}
	free(x.e);
	if (rc)
		return seek_fail(r, err, errlen,
				 "the trailer (index and string table) is missing or corrupt");
	return 0;
}
