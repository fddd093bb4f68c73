/* The binary .mmt codec (traces/FORMAT.md): BGZF-style gzip members of at most 64 KiB of
 * payload each; events delta + varint coded, each block decodable on its own. The writer
 * streams block by block; the reader inflates on a second thread ahead of the consumer,
 * which parses straight into the caller's array. */
#include <errno.h>
#include <libdeflate.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "trace_impl.h"

/* ======================= encoding ======================= */

static inline uint8_t *put_addr(uint8_t *p, uint64_t *reg, uint64_t v)
{
	p = mmt_put_uv(p, mmt_zigzag((int64_t)(v - *reg)));
	*reg = v;
	return p;
}

static inline uint8_t *put_signed(uint8_t *p, int64_t v)
{
	return mmt_put_uv(p, mmt_zigzag(v));
}

static uint8_t *encode_fields(uint8_t *p, struct mmt_regs *r, const struct mm_event *ev)
{
	switch (ev->type) {
	case EV_FORK:
		p = put_signed(p, (int64_t)ev->u.fork.child - (int64_t)ev->pid);
		return mmt_put_uv(p, ev->u.fork.flags);
	case EV_EXEC:
		return mmt_put_uv(p, ev->u.exec.filename);
	case EV_EXIT:
		return p;
	case EV_MMAP:
		p = put_addr(p, &r->uaddr, ev->u.map.addr);
		p = mmt_put_uv(p, ev->u.map.len);
		p = mmt_put_uv(p, ev->u.map.pgoff);
		p = mmt_put_uv(p, ev->u.map.prot);
		p = mmt_put_uv(p, ev->u.map.flags);
		return mmt_put_uv(p, ev->u.map.file);
	case EV_MUNMAP:
		p = put_addr(p, &r->uaddr, ev->u.range.addr);
		return mmt_put_uv(p, ev->u.range.len);
	case EV_MPROTECT:
		p = put_addr(p, &r->uaddr, ev->u.range.addr);
		p = mmt_put_uv(p, ev->u.range.len);
		return mmt_put_uv(p, ev->u.range.prot);
	case EV_MREMAP:
		p = put_addr(p, &r->uaddr, ev->u.remap.old_addr);
		p = mmt_put_uv(p, ev->u.remap.old_len);
		p = put_addr(p, &r->uaddr, ev->u.remap.new_addr);
		return mmt_put_uv(p, ev->u.remap.new_len);
	case EV_BRK:
		p = put_addr(p, &r->uaddr, ev->u.brk.addr);
		return put_signed(p, (int64_t)(ev->u.brk.old - ev->u.brk.addr));
	case EV_FAULT:
		p = put_addr(p, &r->uaddr, ev->u.fault.addr);
		return mmt_put_uv(p, ev->u.fault.access);
	case EV_TOUCH:
		p = put_addr(p, &r->uaddr, ev->u.touch.addr);
		p = mmt_put_uv(p, ev->u.touch.len);
		return mmt_put_uv(p, ev->u.touch.access);
	case EV_KMALLOC:
	case EV_CACHE_ALLOC:
		p = put_addr(p, &r->kptr, ev->u.kmem.ptr);
		p = mmt_put_uv(p, ev->u.kmem.bytes_req);
		p = put_signed(p, (int64_t)ev->u.kmem.bytes_alloc - (int64_t)ev->u.kmem.bytes_req);
		p = mmt_put_uv(p, ev->u.kmem.gfp);
		if (ev->type == EV_CACHE_ALLOC)
			p = mmt_put_uv(p, ev->u.kmem.cache);
		return put_addr(p, &r->site, ev->u.kmem.call_site);
	case EV_KFREE:
	case EV_CACHE_FREE:
		p = put_addr(p, &r->kptr, ev->u.kmem.ptr);
		if (ev->type == EV_CACHE_FREE)
			p = mmt_put_uv(p, ev->u.kmem.cache);
		return put_addr(p, &r->site, ev->u.kmem.call_site);
	case EV_VMALLOC:
		p = put_addr(p, &r->vaddr, ev->u.vmalloc.addr);
		p = mmt_put_uv(p, ev->u.vmalloc.size);
		return put_addr(p, &r->site, ev->u.vmalloc.caller);
	case EV_VFREE:
		return put_addr(p, &r->vaddr, ev->u.vmalloc.addr);
	case EV_PAGE_ALLOC:
		p = put_addr(p, &r->pfn, ev->u.page.pfn);
		p = mmt_put_uv(p, ev->u.page.order);
		p = mmt_put_uv(p, ev->u.page.gfp);
		return mmt_put_uv(p, ev->u.page.migratetype);
	case EV_PAGE_FREE:
		p = put_addr(p, &r->pfn, ev->u.page.pfn);
		return mmt_put_uv(p, ev->u.page.order);
	case EV_SET_OOM_SCORE_ADJ:
		return put_signed(p, ev->u.adj.value);
	case EV_COMM:
		return mmt_put_uv(p, ev->u.comm.name);
	case EV_MARK:
		return mmt_put_uv(p, ev->u.mark.name);
	}
	return p;
}

uint8_t *mmt_encode_event(uint8_t *p, struct mmt_regs *r, const struct mm_event *ev)
{
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
	return encode_fields(p, r, ev);
}

/* ======================= writer ======================= */

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

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* gzip member header: FLG.FEXTRA with one subfield 'M','T' holding the member's total size,
 * so a reader can step from member to member without inflating (BGZF's idea). */
static void member_header(uint8_t *h, uint32_t total)
{
	static const uint8_t fixed[16] = {0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff,
					  8,    0,    'M', 'T', 4, 0};
	memcpy(h, fixed, 16);
	put_le32(h + 16, total);
}

static int write_bytes(struct trace_writer *w, const void *p, size_t n, char *err, size_t errlen)
{
	if (fwrite(p, 1, n, w->f) != n) {
		snprintf(err, errlen, "%s: write failed: %s", w->path, strerror(errno));
		return -1;
	}
	w->file_off += n;
	return 0;
}

static int write_member(struct trace_writer *w, const uint8_t *payload, uint32_t len, char *err,
			size_t errlen)
{
	z_stream *zs = &w->zs;
	uint8_t *out = w->zbuf + MMT_GZ_HDR;
	size_t cap = MMT_MEMBER_MAX - MMT_GZ_HDR - MMT_GZ_TRL;
	deflateReset(zs);
	zs->next_in = (Bytef *)payload;
	zs->avail_in = len;
	zs->next_out = out;
	zs->avail_out = (uInt)cap;
	if (deflate(zs, Z_FINISH) != Z_STREAM_END) {
		snprintf(err, errlen, "%s: deflate failed", w->path);
		return -1;
	}
	uint32_t clen = (uint32_t)(cap - zs->avail_out);
	uint32_t total = MMT_GZ_HDR + clen + MMT_GZ_TRL;
	member_header(w->zbuf, total);
	put_le32(out + clen, (uint32_t)crc32(0, payload, len));
	put_le32(out + clen + 4, len);
	if (write_bytes(w, w->zbuf, total, err, errlen))
		return -1;
	w->uoff += len;
	return 0;
}

static int flush_block(struct trace_writer *w, char *err, size_t errlen)
{
	if (!w->block_len)
		return 0;
	put_le32(w->block + 1, w->block_events);
	int rc = write_member(w, w->block, w->block_len, err, errlen);
	w->block_len = 0;
	w->block_events = 0;
	return rc;
}

int mmt_writer_start(struct trace_writer *w, const struct trace_origin *o, char *err,
		     size_t errlen)
{
	w->block = calloc(1, MMT_BLOCK_MAX + MMT_SLACK);
	w->zbuf = malloc(MMT_MEMBER_MAX);
	if (!w->block || !w->zbuf) {
		snprintf(err, errlen, "%s: out of memory", w->path);
		return -1;
	}
	/* level 6: zlib's default balance; raw deflate, the gzip framing is ours */
	if (deflateInit2(&w->zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		snprintf(err, errlen, "%s: deflateInit failed", w->path);
		return -1;
	}
	w->zs_ready = true;
	uint8_t *p = w->block;
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
	return write_member(w, w->block, (uint32_t)(p - w->block), err, errlen);
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

int mmt_writer_put(struct trace_writer *w, const struct mm_event *in, char *err, size_t errlen)
{
	struct mm_event ev = *in;
	uint32_t *sf = trace_event_string(&ev);
	bool fresh = false;
	uint32_t producer_id = 0;
	size_t need = MMT_EVENT_MAX;
	if (sf) {
		producer_id = *sf;
		*sf = map_string(w, producer_id, &fresh);
		if (*sf == UINT32_MAX) {
			snprintf(err, errlen, "%s: out of memory", w->path);
			return -1;
		}
		if (fresh)
			need += 3 + w->strings.len[producer_id];
	}
	if (w->block_len && w->block_len + need > MMT_BLOCK_MAX && flush_block(w, err, errlen))
		return -1;
	if (!w->block_len) {
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
		w->index[w->nr_index++] = (struct mmt_index_entry){w->file_off, w->uoff, w->count,
								   ev.ts};
		uint8_t *p = w->block;
		*p = 'E';
		p = mmt_put_uv(p + 5, w->count);
		p = mmt_put_uv(p, ev.ts);
		w->block_len = (uint32_t)(p - w->block);
		memset(&w->regs, 0, sizeof(w->regs));
		w->regs.ts = ev.ts;
	}
	uint8_t *p = w->block + w->block_len;
	if (fresh) {
		uint32_t len = w->strings.len[producer_id];
		*p++ = MMT_REC_STRING;
		p = mmt_put_uv(p, len);
		memcpy(p, w->strings.str[producer_id], len);
		p += len;
	}
	p = mmt_encode_event(p, &w->regs, &ev);
	w->block_len = (uint32_t)(p - w->block);
	w->block_events++;
	return 0;
}

/* Index blocks ('X'), then the string table ('S'), then the fixed-size tail ('Z'). */
static int write_index(struct trace_writer *w, char *err, size_t errlen)
{
	size_t i = 0;
	while (i < w->nr_index) {
		uint8_t *p = w->block + 1 + 5; /* tag, entry count as a 5-byte varint slot */
		struct mmt_index_entry prev = {0, 0, 0, 0};
		uint32_t n = 0;
		for (; i < w->nr_index && (size_t)(p - w->block) + 40 <= MMT_BLOCK_MAX; i++, n++) {
			const struct mmt_index_entry *e = &w->index[i];
			p = mmt_put_uv(p, e->file_off - prev.file_off);
			p = mmt_put_uv(p, e->uoff - prev.uoff);
			p = mmt_put_uv(p, e->first_event - prev.first_event);
			p = mmt_put_uv(p, e->first_ts - prev.first_ts);
			prev = *e;
		}
		w->block[0] = 'X';
		put_le32(w->block + 1, n);
		w->block[5] = 0; /* reserved */
		if (write_member(w, w->block, (uint32_t)(p - w->block), err, errlen))
			return -1;
	}
	return 0;
}

static int write_strings(struct trace_writer *w, char *err, size_t errlen)
{
	uint32_t id = 1;
	while (id <= w->nr_file_strings) {
		uint8_t *p = w->block + 5;
		uint32_t first = id;
		for (; id <= w->nr_file_strings; id++) {
			uint32_t pid = w->file_order[id];
			uint32_t len = w->strings.len[pid];
			if ((size_t)(p - w->block) + 3 + len > MMT_BLOCK_MAX)
				break;
			p = mmt_put_uv(p, len);
			memcpy(p, w->strings.str[pid], len);
			p += len;
		}
		w->block[0] = 'S';
		put_le32(w->block + 1, id - first);
		/* the first id is implied: blocks follow each other from id 1 */
		if (write_member(w, w->block, (uint32_t)(p - w->block), err, errlen))
			return -1;
	}
	return 0;
}

/* The tail is a stored (uncompressed) deflate block so its member has a fixed size and a
 * seeking reader finds it MMT_TAIL_MEMBER bytes before the end of the file. */
static int write_tail(struct trace_writer *w, uint64_t index_off, uint64_t strings_off,
		      char *err, size_t errlen)
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
	put_le32(t + MMT_TAIL_LEN, (uint32_t)crc32(0, t, MMT_TAIL_LEN));
	put_le32(t + MMT_TAIL_LEN + 4, MMT_TAIL_LEN);
	if (write_bytes(w, m, sizeof(m), err, errlen))
		return -1;
	w->uoff += MMT_TAIL_LEN;
	return 0;
}

int mmt_writer_finish(struct trace_writer *w, char *err, size_t errlen)
{
	if (flush_block(w, err, errlen))
		return -1;
	uint64_t index_off = w->file_off;
	if (write_index(w, err, errlen))
		return -1;
	uint64_t strings_off = w->file_off;
	if (write_strings(w, err, errlen))
		return -1;
	return write_tail(w, index_off, strings_off, err, errlen);
}

void mmt_writer_free(struct trace_writer *w)
{
	if (w->zs_ready)
		deflateEnd(&w->zs);
	w->zs_ready = false;
	free(w->block);
	free(w->zbuf);
	free(w->index);
	free(w->file_id);
	free(w->file_order);
}

/* ======================= reader: the inflate thread ======================= */

static void slot_fail(struct mmt_slot *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void slot_fail(struct mmt_slot *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
	va_end(ap);
	s->state = 2;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads and inflates the member at *off into s. */
static void fill_slot(struct trace_reader *r, struct mmt_slot *s, uint64_t *off, uint64_t *uoff)
{
	struct mmt_pipe *pp = r->pipe;
	uint8_t *m = pp->member;
	s->file_off = *off;
	s->uoff = *uoff;
	s->state = 0;
	size_t got = trace_src_read(r, m, MMT_GZ_HDR);
	if (got == 0) {
		s->state = 1;
		return;
	}
	if (got < MMT_GZ_HDR)
		return slot_fail(s, "byte %llu: truncated: a block header needs %u bytes, %zu remain",
				 (unsigned long long)*off, MMT_GZ_HDR, got);
	if (m[0] != 0x1f || m[1] != 0x8b || m[2] != 8)
		return slot_fail(s, "byte %llu: expected a gzip member (1f 8b 08)",
				 (unsigned long long)*off);
	if (m[3] != 4 || m[10] != 8 || m[11] != 0 || m[12] != 'M' || m[13] != 'T' || m[14] != 4 ||
	    m[15] != 0)
		return slot_fail(s, "byte %llu: gzip member without the .mmt extra field (MT)",
				 (unsigned long long)*off);
	uint32_t total = get_le32(m + 16);
	if (total < MMT_GZ_HDR + MMT_GZ_TRL + 1 || total > MMT_MEMBER_MAX)
		return slot_fail(s, "byte %llu: block size %u out of range (%u..%u)",
				 (unsigned long long)*off, total, MMT_GZ_HDR + MMT_GZ_TRL + 1,
				 MMT_MEMBER_MAX);
	got = trace_src_read(r, m + MMT_GZ_HDR, total - MMT_GZ_HDR);
	if (got < total - MMT_GZ_HDR)
		return slot_fail(s, "byte %llu: truncated: the block needs %u bytes, %zu remain",
				 (unsigned long long)*off, total, got + MMT_GZ_HDR);
	size_t in_used = 0, out_len = 0;
	enum libdeflate_result rc = libdeflate_gzip_decompress_ex(
		pp->dd, m, total, s->data, MMT_BLOCK_MAX, &in_used, &out_len);
	if (rc == LIBDEFLATE_INSUFFICIENT_SPACE)
		return slot_fail(s, "byte %llu: block inflates to more than %u bytes",
				 (unsigned long long)*off, MMT_BLOCK_MAX);
	if (rc != LIBDEFLATE_SUCCESS || in_used != total)
		return slot_fail(s, "byte %llu: corrupt compressed block (inflate or CRC failed)",
				 (unsigned long long)*off);
	memset(s->data + out_len, 0, MMT_SLACK);
	s->len = (uint32_t)out_len;
	*off += total;
	*uoff += out_len;
}

static void *pipe_main(void *arg)
{
	struct trace_reader *r = arg;
	struct mmt_pipe *pp = r->pipe;
	uint64_t off = 0, uoff = 0;
	for (;;) {
		pthread_mutex_lock(&pp->lock);
		while (!pp->stop && pp->tail - pp->head == MMT_NR_SLOTS)
			pthread_cond_wait(&pp->room, &pp->lock);
		bool stop = pp->stop;
		pthread_mutex_unlock(&pp->lock);
		if (stop)
			return NULL;
		struct mmt_slot *s = &pp->slot[pp->tail % MMT_NR_SLOTS];
		fill_slot(r, s, &off, &uoff);
		pthread_mutex_lock(&pp->lock);
		pp->tail++;
		pthread_cond_signal(&pp->more);
		pthread_mutex_unlock(&pp->lock);
		if (s->state)
			return NULL;
	}
}

static struct mmt_slot *take_block(struct mmt_pipe *pp)
{
	pthread_mutex_lock(&pp->lock);
	while (pp->head == pp->tail)
		pthread_cond_wait(&pp->more, &pp->lock);
	struct mmt_slot *s = &pp->slot[pp->head % MMT_NR_SLOTS];
	pthread_mutex_unlock(&pp->lock);
	return s;
}

static void release_block(struct mmt_pipe *pp)
{
	pthread_mutex_lock(&pp->lock);
	pp->head++;
	pthread_cond_signal(&pp->room);
	pthread_mutex_unlock(&pp->lock);
}

void mmt_reader_free(struct trace_reader *r)
{
	struct mmt_pipe *pp = r->pipe;
	if (!pp)
		return;
	if (pp->started) {
		pthread_mutex_lock(&pp->lock);
		pp->stop = true;
		pthread_cond_signal(&pp->room);
		pthread_mutex_unlock(&pp->lock);
		pthread_join(pp->thread, NULL);
		pthread_mutex_destroy(&pp->lock);
		pthread_cond_destroy(&pp->more);
		pthread_cond_destroy(&pp->room);
	}
	for (int i = 0; i < MMT_NR_SLOTS; i++)
		free(pp->slot[i].data);
	free(pp->member);
	if (pp->dd)
		libdeflate_free_decompressor(pp->dd);
	free(pp);
	r->pipe = NULL;
}

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
		release_block(r->pipe);
		r->cur = NULL;
	}
	struct mmt_slot *s = take_block(r->pipe);
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
		return fail(r, err, errlen, AT_FMT ": corrupt varint in the header", AT_ARGS(r, at));
	if (n > TRACE_ORIGIN_MAX)
		return fail(r, err, errlen, AT_FMT ": %llu origin entries, at most %d expected",
			    AT_ARGS(r, at), (unsigned long long)n, TRACE_ORIGIN_MAX);
	for (uint64_t i = 0; i < n; i++) {
		char kv[2][256];
		for (int k = 0; k < 2; k++) {
			uint64_t len;
			at = p;
			p = mmt_get_uv(p, &len, &bad);
			size_t max = k ? sizeof(r->origin.value[0]) - 1 : sizeof(r->origin.key[0]) - 1;
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
	pp->member = malloc(MMT_MEMBER_MAX);
	pp->dd = libdeflate_alloc_decompressor();
	bool ok = pp->member && pp->dd;
	for (int i = 0; i < MMT_NR_SLOTS; i++)
		ok = (pp->slot[i].data = malloc(MMT_BLOCK_MAX + MMT_SLACK)) && ok;
	if (!ok)
		return fail(r, err, errlen, "out of memory");
	pthread_mutex_init(&pp->lock, NULL);
	pthread_cond_init(&pp->more, NULL);
	pthread_cond_init(&pp->room, NULL);
	if (pthread_create(&pp->thread, NULL, pipe_main, r) != 0) {
		pthread_mutex_destroy(&pp->lock);
		pthread_cond_destroy(&pp->more);
		pthread_cond_destroy(&pp->room);
		return fail(r, err, errlen, "cannot start the decoding thread");
	}
	pp->started = true;
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
	r->block_left = get_le32(p);
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
	memset(&r->regs, 0, sizeof(r->regs));
	r->regs.ts = ts;
	r->pos = p;
	return 0;
}

static inline const uint8_t *get_addr(const uint8_t *p, uint64_t *reg, uint64_t *out, bool *bad)
{
	uint64_t v;
	p = mmt_get_uv(p, &v, bad);
	*reg += (uint64_t)mmt_unzigzag(v);
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

static inline const uint8_t *get_s32(const uint8_t *p, int64_t base, uint32_t *out, bool *bad)
{
	uint64_t v;
	p = mmt_get_uv(p, &v, bad);
	int64_t x = base + mmt_unzigzag(v);
	if (x < 0 || x > (int64_t)UINT32_MAX)
		*bad = true;
	*out = (uint32_t)x;
	return p;
}

static const uint8_t *decode_fields(const uint8_t *p, struct mmt_regs *r, struct mm_event *ev,
				    bool *bad)
{
	uint64_t v;
	switch (ev->type) {
	case EV_FORK:
		p = get_s32(p, ev->pid, &ev->u.fork.child, bad);
		return get_u32(p, &ev->u.fork.flags, bad);
	case EV_EXEC:
		return get_u32(p, &ev->u.exec.filename, bad);
	case EV_EXIT:
		return p;
	case EV_MMAP:
		p = get_addr(p, &r->uaddr, &ev->u.map.addr, bad);
		p = mmt_get_uv(p, &ev->u.map.len, bad);
		p = mmt_get_uv(p, &ev->u.map.pgoff, bad);
		p = get_u16(p, &ev->u.map.prot, bad);
		p = get_u16(p, &ev->u.map.flags, bad);
		return get_u32(p, &ev->u.map.file, bad);
	case EV_MUNMAP:
		p = get_addr(p, &r->uaddr, &ev->u.range.addr, bad);
		return mmt_get_uv(p, &ev->u.range.len, bad);
	case EV_MPROTECT:
		p = get_addr(p, &r->uaddr, &ev->u.range.addr, bad);
		p = mmt_get_uv(p, &ev->u.range.len, bad);
		return get_u32(p, &ev->u.range.prot, bad);
	case EV_MREMAP:
		p = get_addr(p, &r->uaddr, &ev->u.remap.old_addr, bad);
		p = mmt_get_uv(p, &ev->u.remap.old_len, bad);
		p = get_addr(p, &r->uaddr, &ev->u.remap.new_addr, bad);
		return mmt_get_uv(p, &ev->u.remap.new_len, bad);
	case EV_BRK:
		p = get_addr(p, &r->uaddr, &ev->u.brk.addr, bad);
		p = mmt_get_uv(p, &v, bad);
		ev->u.brk.old = ev->u.brk.addr + (uint64_t)mmt_unzigzag(v);
		return p;
	case EV_FAULT:
		p = get_addr(p, &r->uaddr, &ev->u.fault.addr, bad);
		return get_u32(p, &ev->u.fault.access, bad);
	case EV_TOUCH:
		p = get_addr(p, &r->uaddr, &ev->u.touch.addr, bad);
		p = mmt_get_uv(p, &ev->u.touch.len, bad);
		return get_u32(p, &ev->u.touch.access, bad);
	case EV_KMALLOC:
	case EV_CACHE_ALLOC:
		p = get_addr(p, &r->kptr, &ev->u.kmem.ptr, bad);
		p = get_u32(p, &ev->u.kmem.bytes_req, bad);
		p = get_s32(p, ev->u.kmem.bytes_req, &ev->u.kmem.bytes_alloc, bad);
		p = get_u32(p, &ev->u.kmem.gfp, bad);
		if (ev->type == EV_CACHE_ALLOC)
			p = get_u32(p, &ev->u.kmem.cache, bad);
		return get_addr(p, &r->site, &ev->u.kmem.call_site, bad);
	case EV_KFREE:
	case EV_CACHE_FREE:
		p = get_addr(p, &r->kptr, &ev->u.kmem.ptr, bad);
		if (ev->type == EV_CACHE_FREE)
			p = get_u32(p, &ev->u.kmem.cache, bad);
		return get_addr(p, &r->site, &ev->u.kmem.call_site, bad);
	case EV_VMALLOC:
		p = get_addr(p, &r->vaddr, &ev->u.vmalloc.addr, bad);
		p = mmt_get_uv(p, &ev->u.vmalloc.size, bad);
		return get_addr(p, &r->site, &ev->u.vmalloc.caller, bad);
	case EV_VFREE:
		return get_addr(p, &r->vaddr, &ev->u.vmalloc.addr, bad);
	case EV_PAGE_ALLOC:
		p = get_addr(p, &r->pfn, &ev->u.page.pfn, bad);
		p = get_u32(p, &ev->u.page.order, bad);
		p = get_u32(p, &ev->u.page.gfp, bad);
		return get_u32(p, &ev->u.page.migratetype, bad);
	case EV_PAGE_FREE:
		p = get_addr(p, &r->pfn, &ev->u.page.pfn, bad);
		return get_u32(p, &ev->u.page.order, bad);
	case EV_SET_OOM_SCORE_ADJ:
		p = mmt_get_uv(p, &v, bad);
		{
			int64_t x = mmt_unzigzag(v);
			if (x < INT32_MIN || x > INT32_MAX)
				*bad = true;
			ev->u.adj.value = (int32_t)x;
		}
		return p;
	case EV_COMM:
		return get_u32(p, &ev->u.comm.name, bad);
	case EV_MARK:
		return get_u32(p, &ev->u.mark.name, bad);
	}
	*bad = true;
	return p;
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

/* Decodes events of the current block into buf until it is full or the block ends. */
static ssize_t decode_events(struct trace_reader *r, struct mm_event *buf, size_t cap, char *err,
			     size_t errlen)
{
	size_t n = 0;
	struct mmt_regs regs = r->regs;
	const uint8_t *p = r->pos, *end = r->end;
	while (n < cap && r->block_left) {
		if (p >= end)
			return fail(r, err, errlen,
				    AT_FMT ": block ends with %u of its events missing",
				    AT_ARGS(r, p), r->block_left);
		uint8_t code = *p;
		if (code == MMT_REC_STRING) {
			r->pos = p;
			if (define_string(r, err, errlen))
				return -1;
			p = r->pos;
			continue;
		}
		const uint8_t *at = p++;
		struct mm_event *ev = &buf[n];
		memset(ev, 0, sizeof(*ev));
		ev->type = code & MMT_TYPE_MASK;
		if (ev->type == 0 || ev->type >= EV_NR_TYPES)
			return fail(r, err, errlen, AT_FMT ": unknown event type %u", AT_ARGS(r, at),
				    ev->type);
		bool bad = false;
		uint64_t v;
		if (!(code & MMT_F_SAME_TS)) {
			p = mmt_get_uv(p, &v, &bad);
			if (regs.ts + v < regs.ts)
				return fail(r, err, errlen,
					    AT_FMT ": timestamp overflows (goes backwards)",
					    AT_ARGS(r, at));
			regs.ts += v;
		}
		if (!(code & MMT_F_SAME_CPU))
			p = get_u16(p, &regs.cpu, &bad);
		if (!(code & MMT_F_SAME_PID))
			p = get_u32(p, &regs.pid, &bad);
		ev->ts = regs.ts;
		ev->cpu = regs.cpu;
		ev->pid = regs.pid;
		p = decode_fields(p, &regs, ev, &bad);
		if (bad)
			return fail(r, err, errlen, AT_FMT ": corrupt varint in a %s record",
				    AT_ARGS(r, at), mm_event_names[ev->type]);
		if (p > end)
			return fail(r, err, errlen, AT_FMT ": %s record runs past the end of its block",
				    AT_ARGS(r, at), mm_event_names[ev->type]);
		const char *field;
		char why[160];
		if (trace_check_event(ev, r->strings.count, why, sizeof(why), &field))
			return fail(r, err, errlen, AT_FMT ": %s", AT_ARGS(r, at), why);
		r->block_left--;
		n++;
	}
	r->regs = regs;
	r->pos = p;
	if (n) {
		r->count += n;
		r->last_ts = buf[n - 1].ts;
	}
	if (!r->block_left && p != end)
		return fail(r, err, errlen, AT_FMT ": %zu unexpected bytes after the block's last event",
			    AT_ARGS(r, p), (size_t)(end - p));
	return (ssize_t)n;
}

static int read_index_block(struct trace_reader *r, char *err, size_t errlen)
{
	const uint8_t *p = r->pos + 1;
	if (r->end - p < 5)
		return fail(r, err, errlen, AT_FMT ": truncated index block", AT_ARGS(r, p));
	uint32_t n = get_le32(p);
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
	uint32_t n = get_le32(p);
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
	uint64_t count = get_le64(t + 8), blocks = get_le64(t + 16), strings = get_le64(t + 24);
	if (count != r->count)
		return fail(r, err, errlen,
			    AT_FMT ": trailer count mismatch: the trailer says %llu events, the "
				   "blocks hold %llu",
			    AT_ARGS(r, t), (unsigned long long)count, (unsigned long long)r->count);
	if (blocks != r->nr_blocks || blocks != r->nr_index_seen || r->index_hash != r->seen_hash)
		return fail(r, err, errlen,
			    AT_FMT ": block index does not match the blocks (%llu in the trailer, "
				   "%llu indexed, %llu read)",
			    AT_ARGS(r, t), (unsigned long long)blocks,
			    (unsigned long long)r->nr_index_seen, (unsigned long long)r->nr_blocks);
	if (strings != r->strings.count || r->nr_table_strings + 1 != r->strings.count)
		return fail(r, err, errlen,
			    AT_FMT ": trailer says %llu strings, the events define %u",
			    AT_ARGS(r, t), (unsigned long long)strings, r->strings.count);
	if (get_le64(t + 48) != r->last_ts || get_le64(t + 56) != r->cur->uoff)
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
