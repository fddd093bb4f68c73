/* The .mmt reader's inflate thread (traces/FORMAT.md "Compression"): it reads the members
 * ahead of the consumer (tools/mmt.c) into a ring of slots, inflating deflated ones with
 * libdeflate and taking stored ones in place. */
#include <libdeflate.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "trace_impl.h"

static void slot_fail(struct mmt_slot *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void slot_fail(struct mmt_slot *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
	va_end(ap);
	s->state = 2;
}

/* A member whose deflate stream is only stored blocks (what `gen` writes by default) needs
 * no inflating: its payload is already in the member buffer, in pieces of at most 65535
 * bytes behind 5-byte headers (RFC 1951, 3.2.4). When the stream is well formed and its
 * CRC and size match, the pieces are joined in place and s takes the buffer: libdeflate
 * would have copied every byte out. Anything else (a compressed block, a bad header, a
 * piece past the end, a CRC or size that does not match) returns false before a byte is
 * moved, and the member goes through libdeflate, whose verdict and message it gets. */
static bool take_stored(struct mmt_pipe *pp, struct mmt_slot *s, uint32_t total)
{
	uint8_t *m = pp->member;
	const uint8_t *q = m + MMT_GZ_HDR, *z = m + total - MMT_GZ_TRL;
	uint32_t out = 0, crc = 0;
	for (;;) {
		/* the block header's 3 bits start a byte: the first block's at the stream's
		 * start, the next ones after a stored block, which ends on a byte boundary */
		if (z - q < 5 || (q[0] & 6) != 0)
			return false;
		uint32_t len = (uint32_t)q[1] | (uint32_t)q[2] << 8;
		uint32_t nlen = (uint32_t)q[3] | (uint32_t)q[4] << 8;
		bool final = q[0] & 1;
		q += 5;
		if (len != (~nlen & 0xffff) || len > (size_t)(z - q) || len > MMT_BLOCK_MAX - out)
			return false;
		crc = (uint32_t)libdeflate_crc32(crc, q, len);
		out += len;
		q += len;
		if (final)
			break;
	}
	if (q != z || crc != mmt_le32(z) || out != mmt_le32(z + 4))
		return false;
	/* join the pieces: each moves down over the headers before it */
	uint8_t *data = m + MMT_GZ_HDR + 5, *w = data;
	for (q = m + MMT_GZ_HDR; q < z;) {
		uint32_t len = (uint32_t)q[1] | (uint32_t)q[2] << 8;
		if (w != q + 5)
			memmove(w, q + 5, len);
		w += len;
		q += 5 + len;
	}
	pp->member = s->buf;
	s->buf = m;
	s->data = data;
	s->len = out;
	memset(data + out, 0, MMT_SLACK);
	return true;
}

/* Reads and inflates the member at *off into s. */
void mmt_fill_slot(struct trace_reader *r, struct mmt_slot *s, uint64_t *off, uint64_t *uoff)
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
		return slot_fail(s,
				 "byte %llu: truncated: a block header needs %u bytes, %zu remain",
				 (unsigned long long)*off, MMT_GZ_HDR, got);
	if (m[0] != 0x1f || m[1] != 0x8b || m[2] != 8)
		return slot_fail(s, "byte %llu: expected a gzip member (1f 8b 08)",
				 (unsigned long long)*off);
	if (m[3] != 4 || m[10] != 8 || m[11] != 0 || m[12] != 'M' || m[13] != 'T' || m[14] != 4 ||
	    m[15] != 0)
		return slot_fail(s, "byte %llu: gzip member without the .mmt extra field (MT)",
				 (unsigned long long)*off);
	uint32_t total = mmt_le32(m + 16);
	if (total < MMT_GZ_HDR + MMT_GZ_TRL + 1 || total > MMT_MEMBER_MAX)
		return slot_fail(s, "byte %llu: block size %u out of range (%u..%u)",
				 (unsigned long long)*off, total, MMT_GZ_HDR + MMT_GZ_TRL + 1,
				 MMT_MEMBER_MAX);
	got = trace_src_read(r, m + MMT_GZ_HDR, total - MMT_GZ_HDR);
	if (got < total - MMT_GZ_HDR)
		return slot_fail(s, "byte %llu: truncated: the block needs %u bytes, %zu remain",
				 (unsigned long long)*off, total, got + MMT_GZ_HDR);
	if (take_stored(pp, s, total)) {
		*off += total;
		*uoff += s->len;
		return;
	}
	s->data = s->buf;
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
	uint64_t off = pp->start_off, uoff = pp->start_uoff;
	for (;;) {
		pthread_mutex_lock(&pp->lock);
		while (!pp->stop && pp->tail - pp->head == MMT_NR_SLOTS)
			pthread_cond_wait(&pp->room, &pp->lock);
		bool stop = pp->stop;
		pthread_mutex_unlock(&pp->lock);
		if (stop)
			return NULL;
		struct mmt_slot *s = &pp->slot[pp->tail % MMT_NR_SLOTS];
		mmt_fill_slot(r, s, &off, &uoff);
		pthread_mutex_lock(&pp->lock);
		pp->tail++;
		pthread_cond_signal(&pp->more);
		pthread_mutex_unlock(&pp->lock);
		if (s->state)
			return NULL;
	}
}

struct mmt_slot *mmt_pipe_take(struct mmt_pipe *pp)
{
	pthread_mutex_lock(&pp->lock);
	while (pp->head == pp->tail)
		pthread_cond_wait(&pp->more, &pp->lock);
	struct mmt_slot *s = &pp->slot[pp->head % MMT_NR_SLOTS];
	pthread_mutex_unlock(&pp->lock);
	return s;
}

/* The inflate thread, which waits only when every slot is full, is woken once half of them
 * are free: it then inflates several blocks in a row. On one core (taskset) a wake-up per
 * block cost two context switches per block. It cannot sleep through the end: the consumer
 * passes half-empty before it can find the pipe empty. */
void mmt_pipe_release(struct mmt_pipe *pp)
{
	pthread_mutex_lock(&pp->lock);
	pp->head++;
	if (pp->tail - pp->head <= MMT_NR_SLOTS / 2)
		pthread_cond_signal(&pp->room);
	pthread_mutex_unlock(&pp->lock);
}

void mmt_pipe_stop(struct trace_reader *r)
{
	struct mmt_pipe *pp = r->pipe;
	if (!pp || !pp->started)
		return;
	pthread_mutex_lock(&pp->lock);
	pp->stop = true;
	pthread_cond_signal(&pp->room);
	pthread_mutex_unlock(&pp->lock);
	pthread_join(pp->thread, NULL);
	pp->started = false;
	r->cur = NULL;
}

/* Starts the inflate thread reading members from the source's current position, which is
 * file offset off and uncompressed offset uoff. */
int mmt_pipe_start(struct trace_reader *r, uint64_t off, uint64_t uoff)
{
	struct mmt_pipe *pp = r->pipe;
	pp->head = pp->tail = 0;
	pp->stop = false;
	pp->start_off = off;
	pp->start_uoff = uoff;
	if (pthread_create(&pp->thread, NULL, pipe_main, r) != 0)
		return -1;
	pp->started = true;
	return 0;
}

void mmt_reader_free(struct trace_reader *r)
{
	struct mmt_pipe *pp = r->pipe;
	if (!pp)
		return;
	mmt_pipe_stop(r);
	if (pp->sync_ready) {
		pthread_mutex_destroy(&pp->lock);
		pthread_cond_destroy(&pp->more);
		pthread_cond_destroy(&pp->room);
	}
	for (int i = 0; i < MMT_NR_SLOTS; i++)
		free(pp->slot[i].buf);
	free(pp->member);
	if (pp->dd)
		libdeflate_free_decompressor(pp->dd);
	free(pp);
	r->pipe = NULL;
	free(r->dec);
	r->dec = NULL;
}
