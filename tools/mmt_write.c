/* The .mmt writer (traces/FORMAT.md): events are encoded into 64 KiB blocks, strings
 * defined inline at first use, full blocks handed to the deflate workers
 * (tools/mmt_wpool.c); then the index, the string table and the fixed-size tail. */
#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

#include "trace_impl.h"

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* gzip member header: FLG.FEXTRA with one subfield 'M','T' holding the member's total size,
 * so a reader can step from member to member without inflating (BGZF's idea). */
static void member_header(uint8_t *h, uint32_t total)
{
	static const uint8_t fixed[16] = {0x1f, 0x8b, 8, 4, 0,	 0,   0, 0,
					  0,	0xff, 8, 0, 'M', 'T', 4, 0};
	memcpy(h, fixed, 16);
	put_le32(h + 16, total);
}

int mmt_write_bytes(struct trace_writer *w, const void *p, size_t n, char *err, size_t errlen)
{
	if (fwrite(p, 1, n, w->f) != n) {
		snprintf(err, errlen, "%s: write failed: %s", w->path, strerror(errno));
		return -1;
	}
	w->file_off += n;
	return 0;
}

size_t mmt_build_member(struct libdeflate_compressor *c, const uint8_t *payload, uint32_t len,
			uint8_t *out)
{
	uint8_t *z = out + MMT_GZ_HDR;
	size_t clen = libdeflate_deflate_compress(c, payload, len, z,
						  MMT_MEMBER_MAX - MMT_GZ_HDR - MMT_GZ_TRL);
	if (!clen)
		return 0;
	uint32_t total = (uint32_t)(MMT_GZ_HDR + clen + MMT_GZ_TRL);
	member_header(out, total);
	put_le32(z + clen, libdeflate_crc32(0, payload, len));
	put_le32(z + clen + 4, len);
	return total;
}

/* Header, index and string-table members: compressed in the caller's thread. */
static int write_member(struct trace_writer *w, const uint8_t *payload, uint32_t len, char *err,
			size_t errlen)
{
	size_t total = mmt_build_member(w->zc, payload, len, w->zbuf);
	if (!total) {
		snprintf(err, errlen, "%s: deflate failed", w->path);
		return -1;
	}
	if (mmt_write_bytes(w, w->zbuf, total, err, errlen))
		return -1;
	w->uoff += len;
	return 0;
}

/* An event block goes to the compression workers; its index entry gets its file offset
 * when it is written. */
static void flush_block(struct trace_writer *w)
{
	if (!w->block_len)
		return;
	put_le32(w->block + 1, w->block_events);
	mmt_wpool_submit(w, w->block_len, w->nr_index - 1);
	w->uoff += w->block_len;
	w->block = NULL;
	w->block_len = 0;
	w->block_events = 0;
}

int mmt_writer_start(struct trace_writer *w, const struct trace_origin *o, char *err, size_t errlen)
{
	w->sync = calloc(1, MMT_BLOCK_MAX + MMT_SLACK);
	w->zbuf = malloc(MMT_MEMBER_MAX);
	w->enc = calloc(1, sizeof(*w->enc));
	w->pool = mmt_wpool_new(MMT_DEFAULT_LEVEL);
	if (!w->sync || !w->zbuf || !w->enc || !w->pool) {
		snprintf(err, errlen, "%s: out of memory", w->path);
		return -1;
	}
	/* libdeflate rather than zlib: a block is compressed whole (no streaming needed),
	 * faster and a little smaller at the same level. */
	w->zc = libdeflate_alloc_compressor(MMT_DEFAULT_LEVEL);
	if (!w->zc) {
		snprintf(err, errlen, "%s: cannot set up the compressor", w->path);
		return -1;
	}
	uint8_t *p = w->sync;
	memcpy(p, MMT_MAGIC, MMT_MAGIC_LEN);
	p += MMT_MAGIC_LEN;
	p = mmt_put_uv(p, MMT_VERSION);
	int n = o ? o->n : 0;
	p = mmt_put_uv(p, (uint64_t)n);
	for (int i = 0; i < n; i++) {
		size_t kl = strnlen(o->key[i], sizeof(o->key[i]) - 1);
		size_t vl = strnlen(o->value[i], sizeof(o->value[i]) - 1);
		p = mmt_put_uv(p, kl);
		memcpy(p, o->key[i], kl);
		p += kl;
		p = mmt_put_uv(p, vl);
		memcpy(p, o->value[i], vl);
		p += vl;
	}
	return write_member(w, w->sync, (uint32_t)(p - w->sync), err, errlen);
}

/* The file numbers strings in order of first use by an event, whatever order the producer
 * interned them in: so text -> .mmt reproduces the same bytes. */
static uint32_t map_string(struct trace_writer *w, uint32_t id, bool *fresh)
{
	*fresh = false;
	if (id == 0)
		return 0;
	if (id >= w->file_id_cap) {
		uint32_t cap = w->file_id_cap ? w->file_id_cap : 64;
		while (cap <= id)
			cap *= 2;
		uint32_t *m = realloc(w->file_id, cap * sizeof(*m));
		uint32_t *o = realloc(w->file_order, (cap + 1) * sizeof(*o));
		if (m)
			w->file_id = m;
		if (o)
			w->file_order = o;
		if (!m || !o)
			return UINT32_MAX;
		memset(m + w->file_id_cap, 0, (cap - w->file_id_cap) * sizeof(*m));
		w->file_id_cap = cap;
	}
	if (!w->file_id[id]) {
		w->file_id[id] = ++w->nr_file_strings;
		w->file_order[w->nr_file_strings] = id;
		*fresh = true;
	}
	return w->file_id[id];
}

/* Opens the next event block in a buffer of the pool, with its header and index entry. */
static int begin_block(struct trace_writer *w, uint64_t ts, char *err, size_t errlen)
{
	w->block = mmt_wpool_buffer(w, err, errlen);
	if (!w->block)
		return -1;
	if (w->nr_index == w->index_cap) {
		size_t cap = w->index_cap ? w->index_cap * 2 : 256;
		struct mmt_index_entry *x = realloc(w->index, cap * sizeof(*x));
		if (!x) {
			snprintf(err, errlen, "%s: out of memory", w->path);
			return -1;
		}
		w->index = x;
		w->index_cap = cap;
	}
	/* the file offset is known when the block is written (mmt_wpool.c) */
	w->index[w->nr_index++] = (struct mmt_index_entry){0, w->uoff, w->count, ts};
	uint8_t *p = w->block;
	*p = 'E';
	p = mmt_put_uv(p + 5, w->count);
	p = mmt_put_uv(p, ts);
	w->block_len = (uint32_t)(p - w->block);
	mmt_enc_reset(w->enc, ts);
	return 0;
}

/* The hot path: most events carry no string, so they are encoded from the caller's struct
 * without a copy, after one room check for the worst-case record. */
int mmt_writer_put(struct trace_writer *w, const struct mm_event *in, char *err, size_t errlen)
{
	const struct mm_event *ev = in;
	struct mm_event copy;
	bool fresh = false;
	uint32_t producer_id = 0;
	size_t need = MMT_EVENT_MAX;
	if ((1u << (in->type & 31)) & MMT_STRING_TYPES) {
		copy = *in;
		uint32_t *sf = trace_event_string(&copy);
		producer_id = *sf;
		*sf = map_string(w, producer_id, &fresh);
		if (*sf == UINT32_MAX) {
			snprintf(err, errlen, "%s: out of memory", w->path);
			return -1;
		}
		if (fresh)
			need += 3 + w->strings.len[producer_id];
		ev = &copy;
	}
	if (__builtin_expect(!w->block_len || w->block_len + need > MMT_BLOCK_MAX, 0)) {
		flush_block(w);
		if (begin_block(w, ev->ts, err, errlen))
			return -1;
	}
	uint8_t *p = w->block + w->block_len;
	if (fresh) {
		uint32_t len = w->strings.len[producer_id];
		*p++ = MMT_REC_STRING;
		p = mmt_put_uv(p, len);
		memcpy(p, w->strings.str[producer_id], len);
		p += len;
	}
	p = mmt_encode_event(p, w->enc, ev);
	w->block_len = (uint32_t)(p - w->block);
	w->block_events++;
	return 0;
}

/* Index blocks ('X'), then the string table ('S'), then the fixed-size tail ('Z'). */
static int write_index(struct trace_writer *w, char *err, size_t errlen)
{
	size_t i = 0;
	while (i < w->nr_index) {
		uint8_t *p = w->sync + 1 + 5; /* tag, entry count as a 5-byte varint slot */
		struct mmt_index_entry prev = {0, 0, 0, 0};
		uint32_t n = 0;
		for (; i < w->nr_index && (size_t)(p - w->sync) + 40 <= MMT_BLOCK_MAX; i++, n++) {
			const struct mmt_index_entry *e = &w->index[i];
			p = mmt_put_uv(p, e->file_off - prev.file_off);
			p = mmt_put_uv(p, e->uoff - prev.uoff);
			p = mmt_put_uv(p, e->first_event - prev.first_event);
			p = mmt_put_uv(p, e->first_ts - prev.first_ts);
			prev = *e;
		}
		w->sync[0] = 'X';
		put_le32(w->sync + 1, n);
		w->sync[5] = 0; /* reserved */
		if (write_member(w, w->sync, (uint32_t)(p - w->sync), err, errlen))
			return -1;
	}
	return 0;
}

static int write_strings(struct trace_writer *w, char *err, size_t errlen)
{
	uint32_t id = 1;
	while (id <= w->nr_file_strings) {
		uint8_t *p = w->sync + 5;
		uint32_t first = id;
		for (; id <= w->nr_file_strings; id++) {
			uint32_t pid = w->file_order[id];
			uint32_t len = w->strings.len[pid];
			if ((size_t)(p - w->sync) + 3 + len > MMT_BLOCK_MAX)
				break;
			p = mmt_put_uv(p, len);
			memcpy(p, w->strings.str[pid], len);
			p += len;
		}
		w->sync[0] = 'S';
		put_le32(w->sync + 1, id - first);
		/* the first id is implied: blocks follow each other from id 1 */
		if (write_member(w, w->sync, (uint32_t)(p - w->sync), err, errlen))
			return -1;
	}
	return 0;
}

/* The tail is a stored (uncompressed) deflate block so its member has a fixed size and a
 * seeking reader finds it MMT_TAIL_MEMBER bytes before the end of the file. */
static int write_tail(struct trace_writer *w, uint64_t index_off, uint64_t strings_off, char *err,
		      size_t errlen)
{
	uint8_t m[MMT_TAIL_MEMBER];
	uint8_t *t = m + MMT_GZ_HDR + 5;
	member_header(m, MMT_TAIL_MEMBER);
	m[MMT_GZ_HDR] = 1; /* BFINAL, BTYPE 00 */
	m[MMT_GZ_HDR + 1] = MMT_TAIL_LEN;
	m[MMT_GZ_HDR + 2] = 0;
	m[MMT_GZ_HDR + 3] = (uint8_t)~MMT_TAIL_LEN;
	m[MMT_GZ_HDR + 4] = 0xff;
	memcpy(t, "ZMMTTAIL", 8);
	put_le64(t + 8, w->count);
	put_le64(t + 16, w->nr_index);
	put_le64(t + 24, (uint64_t)w->nr_file_strings + 1);
	put_le64(t + 32, index_off);
	put_le64(t + 40, strings_off);
	put_le64(t + 48, w->last_ts);
	put_le64(t + 56, w->uoff);
	put_le32(t + MMT_TAIL_LEN, libdeflate_crc32(0, t, MMT_TAIL_LEN));
	put_le32(t + MMT_TAIL_LEN + 4, MMT_TAIL_LEN);
	if (mmt_write_bytes(w, m, sizeof(m), err, errlen))
		return -1;
	w->uoff += MMT_TAIL_LEN;
	return 0;
}

int mmt_writer_finish(struct trace_writer *w, char *err, size_t errlen)
{
	flush_block(w);
	if (mmt_wpool_drain(w, err, errlen))
		return -1;
	uint64_t index_off = w->file_off;
	if (write_index(w, err, errlen))
		return -1;
	uint64_t strings_off = w->file_off;
	if (write_strings(w, err, errlen))
		return -1;
	return write_tail(w, index_off, strings_off, err, errlen);
}

int trace_writer_set_level(struct trace_writer *w, int level)
{
	if (level < 0 || level > 12)
		return -1;
	if (w->fmt != TRACE_MMT)
		return 0;
	char err[256];
	if (mmt_wpool_drain(w, err, sizeof(err)))
		return -1;
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
	if (!c)
		return -1;
	libdeflate_free_compressor(w->zc);
	w->zc = c;
	return mmt_wpool_set_level(w->pool, level);
}

void mmt_writer_free(struct trace_writer *w)
{
	if (w->zc)
		libdeflate_free_compressor(w->zc);
	w->zc = NULL;
	mmt_wpool_free(w->pool);
	w->pool = NULL;
	free(w->sync);
	free(w->zbuf);
	free(w->enc);
	free(w->index);
	free(w->file_id);
	free(w->file_order);
}
