/* Members of stored deflate blocks, which the reader parses where it read them instead of
 * going through libdeflate (tools/mmt.c, take_stored): the same events as a deflated trace,
 * pieces joined whatever their sizes, and every malformed member left to libdeflate for
 * its message. */
#include <criterion/criterion.h>
#include <libdeflate.h>

#include "trace_impl.h"
#include "trace_testlib.h"

static void check_events(const char *path, const struct mm_event *ev, size_t n,
			 const struct strtab *strings)
{
	char err[512];
	struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	struct mm_event buf[300];
	size_t got = 0;
	ssize_t k;
	while ((k = trace_reader_next(r, buf, 300, err, sizeof(err))) > 0)
		for (ssize_t i = 0; i < k; i++, got++) {
			cr_assert_lt(got, n);
			cr_assert(tl_same(&ev[got], strings, &buf[i], trace_reader_strings(r)),
				  "event %zu differs", got);
		}
	cr_assert_eq(k, 0, "%s", err);
	cr_assert_eq(got, n);
	trace_reader_close(r);
}

/* Full 64 KiB blocks are two stored pieces (65535 bytes, then 1): level 0 reads back the
 * same events as level 1, and the file really is stored. */
Test(mmt_stored, level0_round_trip)
{
	char path[128];
	tl_path(path, sizeof(path), "stored.mmt");
	for (int level = 0; level <= 1; level++) {
		struct strtab st;
		struct mm_event *ev = tl_write_mmt(path, NULL, level, 16, 11, 200000, &st);
		size_t len = 0;
		uint8_t *f = (uint8_t *)tl_slurp(path, &len);
		cr_assert_not_null(f);
		cr_assert_gt(len, 10 * 65536);
		/* the second member (the first event block): stored at level 0 only */
		uint32_t first = f[16] | f[17] << 8 | f[18] << 16 | (uint32_t)f[19] << 24;
		cr_assert_eq((f[first + 20] & 6) == 0, level == 0);
		free(f);
		check_events(path, ev, 200000, &st);
		free(ev);
		strtab_free(&st);
	}
	unlink(path);
}

/* ---- hand-made members ---- */

struct blob {
	uint8_t *p;
	size_t len, cap;
};

static void blob_put(struct blob *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* How a stored member is to be spoiled. */
enum spoil { SP_NONE, SP_CRC, SP_SIZE, SP_NLEN, SP_SHORT, SP_NOT_FINAL, SP_TRAILING };

/* One member of stored blocks around payload, cut into pieces of the given lengths (the
 * last takes the rest). */
static void stored_member(struct blob *b, const uint8_t *payload, size_t len, const size_t *cuts,
			  size_t ncuts, enum spoil sp)
{
	uint8_t hdr[20] = {0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 8, 0, 'M', 'T', 4, 0};
	struct blob z = {0};
	size_t at = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t n = i < ncuts ? cuts[i] : len - at;
		bool final = i == ncuts && sp != SP_NOT_FINAL;
		uint8_t h[5] = {final, (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)~n,
				(uint8_t)(~n >> 8)};
		if (sp == SP_NLEN && i == ncuts)
			h[3] ^= 1;
		blob_put(&z, h, 5);
		blob_put(&z, payload + at, n);
		at += n;
	}
	size_t zlen = sp == SP_SHORT ? z.len - 1 : z.len;
	if (sp == SP_TRAILING)
		blob_put(&z, "", 1), zlen++;
	le32(hdr + 16, (uint32_t)(20 + zlen + 8));
	blob_put(b, hdr, 20);
	blob_put(b, z.p, zlen);
	uint8_t trl[8];
	le32(trl, (uint32_t)libdeflate_crc32(0, payload, len) ^ (sp == SP_CRC));
	le32(trl + 4, (uint32_t)len + (sp == SP_SIZE));
	blob_put(b, trl, 8);
	free(z.p);
}

/* A trace of a header and one event block of nev fault events, each block stored. */
static void stored_trace(struct blob *b, uint32_t nev, const size_t *cuts, size_t ncuts,
			 enum spoil sp)
{
	uint8_t h[32], *q = h;
	memcpy(q, MMT_MAGIC, MMT_MAGIC_LEN);
	q = mmt_put_uv(q + MMT_MAGIC_LEN, 1);
	q = mmt_put_uv(q, 0);
	stored_member(b, h, (size_t)(q - h), NULL, 0, SP_NONE);
	uint8_t *e = malloc(16 + 8 * (size_t)nev);
	q = e;
	*q = 'E';
	le32(q + 1, nev);
	q = mmt_put_uv(q + 5, 0);
	q = mmt_put_uv(q, 1000);
	for (uint32_t i = 0; i < nev; i++) {
		*q++ = EV_FAULT;
		*q++ = 1;			/* ts delta */
		*q++ = 0;			/* cpu */
		q = mmt_put_uv(q, 100 + i % 7); /* pid */
		*q++ = 3;			/* addr: one page up */
		*q++ = 1;			/* access */
	}
	stored_member(b, e, (size_t)(q - e), cuts, ncuts, sp);
	free(e);
}

/* Reads the events of b into out; their count, with *failed and the message in err when
 * the read ended on an error. */
static size_t read_blob(const struct blob *b, struct mm_event *out, size_t cap, char *err,
			size_t errlen, bool *failed)
{
	*failed = true;
	struct trace_reader *r = trace_reader_open_mem(b->p, b->len, "s.mmt", err, errlen);
	if (!r)
		return 0;
	size_t n = 0;
	ssize_t k;
	while ((k = trace_reader_next(r, out + n, cap - n, err, errlen)) > 0)
		n += (size_t)k;
	trace_reader_close(r);
	*failed = k < 0;
	return n;
}

/* The pieces are joined: any cut of the block (empty pieces, one-byte pieces, cuts inside
 * records) gives the events of the uncut block, up to the block's end, where a trace
 * without its trailer is reported. */
Test(mmt_stored, pieces_joined)
{
	enum { NEV = 200 };
	static struct mm_event want[NEV + 1], got[NEV + 1];
	char err[512], err0[512];
	bool failed;
	struct blob b = {0};
	stored_trace(&b, NEV, NULL, 0, SP_NONE);
	cr_assert_eq(read_blob(&b, want, NEV + 1, err0, sizeof(err0), &failed), NEV);
	cr_assert(failed && strstr(err0, "without its trailer"), "%s", err0);
	free(b.p);
	for (int i = 0; i < NEV; i++) {
		cr_assert_eq(want[i].ts, 1000 + (uint64_t)i + 1);
		cr_assert_eq(want[i].pid, 100u + (uint32_t)i % 7);
		cr_assert_eq(want[i].type, EV_FAULT);
		cr_assert_eq(want[i].u.fault.access, 1u);
	}
	const size_t cuts[][4] = {{0}, {1}, {7, 0, 1}, {100, 0, 0, 3}, {13, 13, 13, 13}};
	const size_t ncuts[] = {1, 1, 3, 4, 4};
	for (size_t c = 0; c < sizeof(ncuts) / sizeof(ncuts[0]); c++) {
		b = (struct blob){0};
		stored_trace(&b, NEV, cuts[c], ncuts[c], SP_NONE);
		memset(got, 0xa5, sizeof(got));
		cr_assert_eq(read_blob(&b, got, NEV + 1, err, sizeof(err), &failed), NEV, "cut %zu",
			     c);
		/* the same end (at a later byte: the pieces' headers) */
		cr_assert(failed && strstr(err, strstr(err0, "truncated")), "cut %zu: %s", c, err);
		cr_assert(memcmp(got, want, NEV * sizeof(want[0])) == 0, "cut %zu", c);
		free(b.p);
	}
}

/* A spoiled member gets libdeflate's verdict: the CRC, the size, a block header, a stream
 * that ends early, late, or without its final block. */
Test(mmt_stored, spoiled_members)
{
	static struct mm_event got[64];
	const enum spoil sp[] = {SP_CRC, SP_SIZE, SP_NLEN, SP_SHORT, SP_NOT_FINAL, SP_TRAILING};
	for (size_t i = 0; i < sizeof(sp) / sizeof(sp[0]); i++) {
		struct blob b = {0};
		stored_trace(&b, 50, (const size_t[]){17}, 1, sp[i]);
		/* the event block is the second member: after the header's */
		uint32_t at = b.p[16] | b.p[17] << 8 | b.p[18] << 16 | (uint32_t)b.p[19] << 24;
		char err[512], want[256];
		bool failed;
		read_blob(&b, got, 64, err, sizeof(err), &failed);
		cr_assert(failed, "spoil %zu", i);
		snprintf(want, sizeof(want),
			 "s.mmt: byte %u: corrupt compressed block (inflate or CRC failed)", at);
		cr_assert_str_eq(err, want, "spoil %zu", i);
		free(b.p);
	}
}
