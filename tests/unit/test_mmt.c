/* The .mmt codec: random events round-trip exactly (across blocks, batch sizes, long
 * strings, 1M events), and every kind of bad input gets its one exact message. */
#include <criterion/criterion.h>
#include <libdeflate.h>

#include "trace_impl.h"
#include "trace_testlib.h"

/* Reads path back in batches of varying size and checks it equals ev[0..n). */
static void check_read(const char *path, const struct mm_event *ev, size_t n,
		       const struct strtab *strings, uint64_t seed)
{
	char err[512];
	struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	cr_assert_eq(trace_reader_format(r), TRACE_MMT);
	struct mm_event *buf = malloc(70000 * sizeof(*buf));
	size_t got = 0;
	uint64_t s = seed;
	for (;;) {
		size_t cap = 1 + tl_splitmix64(&s) % (tl_splitmix64(&s) % 2 ? 7 : 70000);
		ssize_t k = trace_reader_next(r, buf, cap, err, sizeof(err));
		cr_assert_geq(k, 0, "%s", err);
		if (k == 0)
			break;
		cr_assert_leq((size_t)k, cap);
		for (ssize_t i = 0; i < k; i++, got++) {
			cr_assert_lt(got, n);
			cr_assert(tl_same(&ev[got], strings, &buf[i], trace_reader_strings(r)),
				  "event %zu (type %s) differs", got, mm_event_names[ev[got].type]);
		}
	}
	cr_assert_eq(got, n);
	cr_assert_eq(trace_reader_count(r), n);
	cr_assert_eq(trace_reader_next(r, buf, 10, err, sizeof(err)), 0);
	free(buf);
	trace_reader_close(r);
}

Test(mmt, random_events_round_trip)
{
	char path[128];
	tl_path(path, sizeof(path), "rand.mmt");
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct strtab st;
		struct trace_origin o = {0};
		trace_origin_set(&o, "generator", "test");
		trace_origin_set(&o, "seed", "x y \"z\"");
		struct mm_event *ev = tl_write_mmt(path, &o, -1, 40, seed, 30000, &st);
		check_read(path, ev, 30000, &st, seed);
		char err[256];
		struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
		cr_assert_not_null(r);
		cr_assert_str_eq(trace_origin_get(trace_reader_origin(r), "seed"), "x y \"z\"");
		cr_assert_eq(trace_reader_origin(r)->n, 2);
		trace_reader_close(r);
		free(ev);
		strtab_free(&st);
	}
	unlink(path);
}

Test(mmt, million_events_across_many_blocks)
{
	char path[128];
	tl_path(path, sizeof(path), "big.mmt");
	struct strtab st;
	struct mm_event *ev = tl_write_mmt(path, NULL, -1, 40, 99, 1000000, &st);
	struct stat sb;
	stat(path, &sb);
	/* 64 KiB blocks: a million random events need well over a hundred of them */
	cr_assert_gt(sb.st_size, 100 * 30000);
	check_read(path, ev, 1000000, &st, 7);
	free(ev);
	strtab_free(&st);
	unlink(path);
}

/* The producer deflates blocks itself whenever the workers fall behind, so who compresses
 * which block changes from run to run: the bytes must not. */
Test(mmt, same_events_same_bytes)
{
	char a[128], b[128];
	tl_path(a, sizeof(a), "same-a.mmt");
	tl_path(b, sizeof(b), "same-b.mmt");
	struct strtab sa, sb;
	struct mm_event *ea = tl_write_mmt(a, NULL, -1, 40, 5, 300000, &sa);
	struct mm_event *eb = tl_write_mmt(b, NULL, -1, 40, 5, 300000, &sb);
	size_t la = 0, lb = 0;
	char *pa = tl_slurp(a, &la), *pb = tl_slurp(b, &lb);
	cr_assert_not_null(pa);
	cr_assert_not_null(pb);
	cr_assert_gt(la, 20 * 65536, "the trace spans many blocks");
	cr_assert_eq(la, lb);
	cr_assert(memcmp(pa, pb, la) == 0, "two writes of the same events differ");
	free(pa);
	free(pb);
	free(ea);
	free(eb);
	strtab_free(&sa);
	strtab_free(&sb);
	unlink(a);
	unlink(b);
}

/* LEB128 at the edges of the one- and two-byte fast paths, and over-long input. */
/* The reader's varint against the format's definition (7 bits a byte, low group first, at
 * most ten bytes, the tenth carrying bit 63 only), on random byte strings of every length,
 * non-canonical and corrupt ones included: value, end and flag. */
static const uint8_t *varint_reference(const uint8_t *p, uint64_t *out, bool *bad)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 10; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (p[i] < 0x80) {
			*bad = i == 9 && p[i] > 1;
			*out = v;
			return p + i + 1;
		}
	}
	*bad = true;
	*out = 0;
	return p + 10;
}

Test(mmt, varint_random_bytes)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < 20000; round++) {
		uint8_t buf[16 + MMT_SLACK] = {0};
		/* the first n bytes continue, byte n ends (n = 11: none does) */
		unsigned n = round % 11;
		for (unsigned i = 0; i < 12; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			uint8_t b = (uint8_t)(x >> 56);
			buf[i] = i < n ? b | 0x80 : i == n ? b & 0x7f : b;
		}
		if (round % 7 == 0)
			buf[n] = (uint8_t)(round / 7 % 3); /* a small last byte: 0, 1, 2 */
		uint64_t want, got = 42;
		bool want_bad, bad = false;
		const uint8_t *e = varint_reference(buf, &want, &want_bad);
		const uint8_t *r = mmt_get_uv(buf, &got, &bad);
		cr_assert_eq(r, e, "round %d: end", round);
		cr_assert_eq(bad, want_bad, "round %d: flag", round);
		cr_assert_eq(got, want, "round %d: %llx, expected %llx", round,
			     (unsigned long long)got, (unsigned long long)want);
	}
}

Test(mmt, varint_boundaries)
{
	static const uint64_t v[] = {0,	    1,	       0x7f,	    0x80,	 0x3fff,
				     0x4000, 0x1fffff, 0x200000, 1ull << 62, UINT64_MAX};
	uint8_t buf[16 + MMT_SLACK];
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(buf, 0, sizeof(buf));
		uint8_t *end = mmt_put_uv(buf, v[i]);
		size_t want = 1;
		for (uint64_t x = v[i]; x >= 0x80; x >>= 7)
			want++;
		cr_assert_eq((size_t)(end - buf), want, "%llu: %zu bytes", (unsigned long long)v[i],
			     (size_t)(end - buf));
		for (uint8_t *q = buf; q < end - 1; q++)
			cr_assert(*q & 0x80);
		cr_assert_lt(end[-1], 0x80);
		uint64_t got = 1;
		bool bad = false;
		const uint8_t *r = mmt_get_uv(buf, &got, &bad);
		cr_assert(!bad);
		cr_assert_eq(got, v[i]);
		cr_assert_eq(r, end);
	}
	/* eleven bytes, and a tenth byte carrying more than bit 63: both refused */
	uint8_t longer[16 + MMT_SLACK] = {0};
	memset(longer, 0x80, 11);
	uint64_t got;
	bool bad = false;
	mmt_get_uv(longer, &got, &bad);
	cr_assert(bad);
	memset(longer, 0xff, 9);
	longer[9] = 0x02;
	bad = false;
	mmt_get_uv(longer, &got, &bad);
	cr_assert(bad);
	/* a two-byte value is read whole */
	const uint8_t two[4 + MMT_SLACK] = {0x81, 0x01};
	bad = false;
	cr_assert_eq(mmt_get_uv(two, &got, &bad), two + 2);
	cr_assert_eq(got, 0x81);
	cr_assert(!bad);
}

Test(mmt, empty_trace)
{
	char path[128], err[256];
	tl_path(path, sizeof(path), "empty.mmt");
	struct trace_writer *w = trace_writer_open(path, TRACE_MMT, NULL, err, sizeof(err));
	cr_assert_not_null(w);
	cr_assert_eq(trace_writer_close(w, err, sizeof(err)), 0, "%s", err);
	struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	struct mm_event ev;
	cr_assert_eq(trace_reader_next(r, &ev, 1, err, sizeof(err)), 0, "%s", err);
	trace_reader_close(r);
	unlink(path);
}

/* Strings of the maximum length fill blocks on their own: definitions must still come in
 * the block of the first event that uses them. */
Test(mmt, long_strings_split_blocks)
{
	char path[128], err[256];
	tl_path(path, sizeof(path), "long.mmt");
	struct trace_writer *w = trace_writer_open(path, TRACE_MMT, NULL, err, sizeof(err));
	char *s = malloc(STRTAB_MAX_LEN + 1);
	struct mm_event ev = {.pid = 5, .type = EV_MARK};
	for (int i = 0; i < 100; i++) {
		memset(s, 'a' + i % 26, STRTAB_MAX_LEN);
		s[STRTAB_MAX_LEN] = 0;
		char num[16];
		snprintf(num, sizeof(num), "%07u-", (unsigned)i);
		memcpy(s, num, 8);
		ev.ts = (uint64_t)i;
		ev.u.mark.name = trace_writer_intern(w, s);
		cr_assert_eq(trace_writer_put(w, &ev, err, sizeof(err)), 0, "%s", err);
	}
	cr_assert_eq(trace_writer_close(w, err, sizeof(err)), 0, "%s", err);
	struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
	struct mm_event buf[200];
	size_t n = 0;
	ssize_t k;
	while ((k = trace_reader_next(r, buf + n, 200 - n, err, sizeof(err))) > 0)
		n += (size_t)k;
	cr_assert_eq(k, 0, "%s", err);
	cr_assert_eq(n, 100);
	for (int i = 0; i < 100; i++) {
		const char *got = strtab_get(trace_reader_strings(r), buf[i].u.mark.name);
		cr_assert_eq(strlen(got), STRTAB_MAX_LEN);
		cr_assert_eq(atoi(got), i);
	}
	trace_reader_close(r);
	free(s);
	unlink(path);
}

Test(mmt, writer_refuses_bad_events)
{
	char path[128], err[256];
	tl_path(path, sizeof(path), "refuse.mmt");
	struct trace_writer *w = trace_writer_open(path, TRACE_MMT, NULL, err, sizeof(err));
	struct mm_event ev = {.ts = 10, .pid = 0, .type = EV_EXIT};
	cr_assert_eq(trace_writer_put(w, &ev, err, sizeof(err)), -1);
	cr_assert(strstr(err, "event 0: pid 0: the acting task needs a real pid"), "%s", err);
	ev.pid = 3;
	cr_assert_eq(trace_writer_put(w, &ev, err, sizeof(err)), 0);
	ev.ts = 9;
	cr_assert_eq(trace_writer_put(w, &ev, err, sizeof(err)), -1);
	cr_assert(strstr(err, "event 1: timestamp goes backwards (9 ns after 10 ns)"), "%s", err);
	ev = (struct mm_event){.ts = 10, .pid = 3, .type = EV_EXEC, .u.exec.filename = 7};
	cr_assert_eq(trace_writer_put(w, &ev, err, sizeof(err)), -1);
	cr_assert(strstr(err, "string id 7 was never defined"), "%s", err);
	/* types the writer passes without the full check still need a type and a pid */
	ev = (struct mm_event){.ts = 10, .pid = 0, .type = EV_FAULT, .u.fault.addr = 4096};
	cr_assert_eq(trace_writer_put(w, &ev, err, sizeof(err)), -1);
	cr_assert(strstr(err, "event 1: pid 0: the acting task needs a real pid"), "%s", err);
	ev = (struct mm_event){.ts = 10, .pid = 3, .type = EV_NR_TYPES};
	cr_assert_eq(trace_writer_put(w, &ev, err, sizeof(err)), -1);
	cr_assert(strstr(err, "unknown event type"), "%s", err);
	ev = (struct mm_event){.ts = 10, .pid = 3, .type = EV_MUNMAP, .u.range.addr = 4096};
	cr_assert_eq(trace_writer_put(w, &ev, err, sizeof(err)), -1);
	cr_assert(strstr(err, "munmap len 0: a positive size is required"), "%s", err);
	trace_writer_abort(w);
	cr_assert_neq(access(path, F_OK), 0, "abort leaves no file");
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cr_assert_neq(access(tmp, F_OK), 0, "abort removes the temp file");
}

/* ---- hand-made files for the bad-input messages ---- */

struct blob {
	uint8_t *p;
	size_t len, cap;
};

static void blob_put(struct blob *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
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

/* One .mmt member around payload; returns its file offset. */
static size_t member(struct blob *b, const uint8_t *payload, size_t len)
{
	size_t at = b->len;
	uint8_t hdr[20] = {0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 8, 0, 'M', 'T', 4, 0};
	uint8_t z[70000];
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
	size_t clen = libdeflate_deflate_compress(c, payload, len, z, sizeof(z));
	libdeflate_free_compressor(c);
	le32(hdr + 16, (uint32_t)(20 + clen + 8));
	blob_put(b, hdr, 20);
	blob_put(b, z, clen);
	uint8_t trl[8];
	le32(trl, libdeflate_crc32(0, payload, len));
	le32(trl + 4, (uint32_t)len);
	blob_put(b, trl, 8);
	return at;
}

/* A header block with the given version; returns its payload length. */
static size_t header(struct blob *b, unsigned version)
{
	uint8_t p[32], *q = p;
	memcpy(q, MMT_MAGIC, MMT_MAGIC_LEN);
	q = mmt_put_uv(q + MMT_MAGIC_LEN, version);
	q = mmt_put_uv(q, 0);
	member(b, p, (size_t)(q - p));
	return (size_t)(q - p);
}

/* An event block of nev events starting at event first, records as given. */
static size_t event_block(struct blob *b, uint32_t nev, uint64_t first, uint64_t base_ts,
			  const uint8_t *rec, size_t reclen, size_t *rec_uoff)
{
	uint8_t p[512], *q = p;
	*q = 'E';
	le32(q + 1, nev);
	q = mmt_put_uv(q + 5, first);
	q = mmt_put_uv(q, base_ts);
	*rec_uoff = (size_t)(q - p);
	memcpy(q, rec, reclen);
	q += reclen;
	return member(b, p, (size_t)(q - p));
}

static void expect_error(const struct blob *b, const char *want)
{
	char err[1024];
	struct trace_reader *r = trace_reader_open_mem(b->p, b->len, "bad.mmt", err, sizeof(err));
	ssize_t k = 0;
	if (r) {
		struct mm_event buf[64];
		while ((k = trace_reader_next(r, buf, 64, err, sizeof(err))) > 0)
			;
		trace_reader_close(r);
	}
	cr_assert(!r || k < 0, "expected an error");
	cr_assert_str_eq(err, want);
}

/* A fault record with explicit ts delta, cpu 0 and pid. */
static size_t fault_rec(uint8_t *p, uint32_t pid)
{
	uint8_t *q = p;
	*q++ = EV_FAULT;
	*q++ = 0;		/* ts delta */
	*q++ = 0;		/* cpu */
	q = mmt_put_uv(q, pid); /* pid */
	*q++ = 3;		/* addr: one page up */
	*q++ = 1;		/* access */
	return (size_t)(q - p);
}

Test(mmt_bad, wrong_magic)
{
	struct blob b = {0};
	member(&b, (const uint8_t *)"NOTATRACE", 9);
	expect_error(&b, "bad.mmt: uncompressed offset 0 (block at byte 0): wrong magic: "
			 "expected \"MMTRACE\\x1a\"");
	free(b.p);
	b = (struct blob){0};
	blob_put(&b, MMT_MAGIC "\x01\x00", 10);
	expect_error(&b, "bad.mmt: byte 0: wrong magic: this is an uncompressed .mmt stream "
			 "(zcat output?); expected gzip members (1f 8b)");
	free(b.p);
}

Test(mmt_bad, newer_version)
{
	struct blob b = {0};
	header(&b, 2);
	expect_error(&b, "bad.mmt: format version 2 is newer than this mmreplay reads (1); "
			 "upgrade mmreplay");
	free(b.p);
}

Test(mmt_bad, truncated)
{
	char path[128], err[512];
	tl_path(path, sizeof(path), "trunc.mmt");
	struct strtab st;
	free(tl_write_mmt(path, NULL, -1, 40, 3, 20000, &st));
	strtab_free(&st);
	size_t len = 0;
	char *data = tl_slurp(path, &len);
	unlink(path);
	/* without the tail member: ends cleanly at a member boundary */
	struct blob b = {(uint8_t *)data, len - MMT_TAIL_MEMBER, len};
	snprintf(err, sizeof(err),
		 "bad.mmt: byte %zu: truncated: the trace ends without its trailer (20000 events "
		 "read)",
		 len - MMT_TAIL_MEMBER);
	expect_error(&b, err);
	/* cut inside the tail member */
	b.len = len - 10;
	snprintf(err, sizeof(err),
		 "bad.mmt: byte %zu: truncated: the block needs %u bytes, %u remain",
		 len - MMT_TAIL_MEMBER, MMT_TAIL_MEMBER, MMT_TAIL_MEMBER - 10);
	expect_error(&b, err);
	/* cut inside a member's header */
	b.len = len - MMT_TAIL_MEMBER + 5;
	snprintf(err, sizeof(err),
		 "bad.mmt: byte %zu: truncated: a block header needs 20 bytes, 5 remain",
		 len - MMT_TAIL_MEMBER);
	expect_error(&b, err);
	free(data);
}

Test(mmt_bad, trailer_count_mismatch)
{
	char path[128], err[512];
	tl_path(path, sizeof(path), "count.mmt");
	struct strtab st;
	free(tl_write_mmt(path, NULL, -1, 40, 4, 5000, &st));
	strtab_free(&st);
	size_t len = 0;
	uint8_t *data = (uint8_t *)tl_slurp(path, &len);
	unlink(path);
	/* the tail payload is stored: patch its event count and its CRC */
	uint8_t *t = data + len - MMT_TAIL_MEMBER + MMT_GZ_HDR + 5;
	t[8] += 1;
	le32(t + MMT_TAIL_LEN, libdeflate_crc32(0, t, MMT_TAIL_LEN));
	struct blob b = {data, len, len};
	/* the tail's uncompressed offset: everything before it */
	uint64_t uoff = 0;
	for (size_t off = 0; off < len - MMT_TAIL_MEMBER;) {
		uint32_t total =
		    data[off + 16] | data[off + 17] << 8 | (uint32_t)data[off + 18] << 16;
		uoff += data[off + total - 4] | data[off + total - 3] << 8 |
			(uint32_t)data[off + total - 2] << 16;
		off += total;
	}
	snprintf(err, sizeof(err),
		 "bad.mmt: uncompressed offset %llu (block at byte %zu): trailer count mismatch: "
		 "the trailer says 5001 events, the blocks hold 5000",
		 (unsigned long long)uoff, len - MMT_TAIL_MEMBER);
	expect_error(&b, err);
	free(data);
}

/* Each record-level error, in a block after a valid header. */
/* One event block of nev events holding rec: the error is `what`, at byte off of rec. */
static void record_case_at(const uint8_t *rec, size_t reclen, uint32_t nev, size_t off,
			   const char *what)
{
	struct blob b = {0};
	size_t hlen = header(&b, 1), ruoff;
	size_t at = event_block(&b, nev, 0, 1000, rec, reclen, &ruoff);
	char want[512];
	snprintf(want, sizeof(want), "bad.mmt: uncompressed offset %zu (block at byte %zu): %s",
		 hlen + ruoff + off, at, what);
	expect_error(&b, want);
	free(b.p);
}

static void record_case(const uint8_t *rec, size_t reclen, uint32_t nev, const char *what)
{
	record_case_at(rec, reclen, nev, 0, what);
}

Test(mmt_bad, record_errors)
{
	uint8_t rec[64];
	size_t n = fault_rec(rec, 100);
	rec[1] = 0xff; /* ts delta: 11 continuation bytes */
	memmove(rec + 11, rec + 1, n - 1);
	memset(rec + 1, 0xff, 11);
	record_case(rec, n + 10, 1, "corrupt varint in a fault record");

	rec[0] = 25;
	record_case(rec, 1, 1, "unknown event type 25");

	n = fault_rec(rec, 0);
	record_case(rec, n, 1, "pid 0: the acting task needs a real pid");

	uint8_t exec[] = {EV_EXEC, 0, 0, 7, 5};
	record_case(exec, sizeof(exec), 1, "string id 5 was never defined (1 defined so far)");

	/* mmap len 0: the length's varint 1 is "0 pages" */
	uint8_t mm[] = {EV_MMAP, 0, 0, 7, 1, 1, 0, 3, 6, 0};
	record_case(mm, sizeof(mm), 1, "mmap len 0: a positive size is required");

	n = fault_rec(rec, 100);
	record_case(rec, n - 1, 1, "fault record runs past the end of its block");

	/* the types the reader clears without trace_check_event must still be refused */
	uint8_t calloc_bad[] = {EV_CACHE_ALLOC, 0, 0, 7, 1, 64, 0, 0, 0x10, 5, 0, 2};
	record_case(calloc_bad, sizeof(calloc_bad), 1,
		    "string id 5 was never defined (1 defined so far)");
	uint8_t cfree_bad[] = {EV_CACHE_FREE, 0, 0, 7, 1, 6, 0, 2};
	record_case(cfree_bad, sizeof(cfree_bad), 1,
		    "string id 6 was never defined (1 defined so far)");
	uint8_t touch0[] = {EV_TOUCH, 0, 0, 7, 1, 1, 3};
	record_case(touch0, sizeof(touch0), 1, "touch len 0: a positive size is required");
	uint8_t mmap_file[] = {EV_MMAP, 0, 0, 7, 1, 3, 0, 3, 6, 9};
	record_case(mmap_file, sizeof(mmap_file), 1,
		    "string id 9 was never defined (1 defined so far)");
	uint8_t kmalloc_pid0[] = {EV_KMALLOC, 0, 0, 0, 1, 64, 0, 0, 0x10, 0, 2};
	record_case(kmalloc_pid0, sizeof(kmalloc_pid0), 1,
		    "pid 0: the acting task needs a real pid");
}

/* The reader's loop sends every odd record down one rare path and sorts them out there:
 * a record past the block's end found only at the record after it, a pid 0 taken from the
 * registers' initial value, a timestamp that wraps, string definitions between records.
 * Each must give the message of that record, at its offset. */
Test(mmt_bad, record_errors_after_others)
{
	uint8_t rec[64];
	size_t a = fault_rec(rec, 100), n;
	/* a good fault, then one cut short, with a third event promised */
	n = a + fault_rec(rec + a, 100);
	record_case_at(rec, n - 1, 3, a, "fault record runs past the end of its block");

	/* the block's first record says "same pid": the register's 0 */
	uint8_t same_pid[] = {EV_EXIT | MMT_F_SAME_PID, 0, 0};
	record_case(same_pid, sizeof(same_pid), 1, "pid 0: the acting task needs a real pid");

	/* ... also after a string definition, and in a block after one that had a pid (the
	 * reader checks the repeated pid only until the block's first event) */
	uint8_t def_same_pid[] = {MMT_REC_STRING, 1, 'a', EV_EXIT | MMT_F_SAME_PID, 0, 0};
	record_case_at(def_same_pid, sizeof(def_same_pid), 1, 3,
		       "pid 0: the acting task needs a real pid");
	struct blob b = {0};
	size_t hlen = header(&b, 1), ruoff;
	n = fault_rec(rec, 100);
	rec[n] = EV_EXIT | MMT_F_SAME_PID; /* the same pid within the block: fine */
	rec[n + 1] = rec[n + 2] = 0;
	event_block(&b, 2, 0, 1000, rec, n + 3, &ruoff);
	size_t first_len = ruoff + n + 3;
	size_t second = event_block(&b, 1, 2, 1000, same_pid, sizeof(same_pid), &ruoff);
	char want[512];
	snprintf(want, sizeof(want),
		 "bad.mmt: uncompressed offset %zu (block at byte %zu): pid 0: the acting task "
		 "needs a real pid",
		 hlen + first_len + ruoff, second);
	expect_error(&b, want);
	free(b.p);

	/* a delta that carries the timestamp past 2^64 */
	uint8_t wrap[16] = {EV_EXIT}, *q = mmt_put_uv(wrap + 1, UINT64_MAX - 10);
	*q++ = 0;
	*q++ = 7;
	record_case(wrap, (size_t)(q - wrap), 1, "timestamp overflows (goes backwards)");

	/* two definitions between records: the ids they give are known right after them */
	uint8_t defs[] = {MMT_REC_STRING, 1, 'a', EV_EXEC, 0, 0, 7, 1, MMT_REC_STRING, 1, 'b',
			  EV_EXEC, 0, 0, 7, 2, EV_EXEC, 0, 0, 7, 3};
	record_case_at(defs, sizeof(defs), 3, 16,
		       "string id 3 was never defined (3 defined so far)");

	/* fewer records than the block promised: the offset is the block's end */
	n = fault_rec(rec, 100);
	record_case_at(rec, n, 2, n, "block ends with 1 of its events missing");
}

/* The reader's loop has no error flag of its own: a record it flags ends the batch at the
 * next test of its end (mmt_flag_t). A corrupt or refused record after good ones, with the
 * same pid (the loop's records, not the block's first), must still stop the reader there,
 * with that record's message, and not count as an event. */
Test(mmt_bad, flagged_record_in_the_loop)
{
	uint8_t rec[96];
	size_t a = fault_rec(rec, 100), n;
	/* the second fault's timestamp delta: 11 continuation bytes */
	uint8_t *q = rec + a;
	*q++ = EV_FAULT | MMT_F_SAME_CPU | MMT_F_SAME_PID;
	memset(q, 0xff, 11);
	q += 11;
	*q++ = 0;
	*q++ = 3;
	*q++ = 1;
	n = (size_t)(q - rec);
	record_case_at(rec, n, 3, a, "corrupt varint in a fault record");

	/* a cache_free naming a string never defined, after two good faults */
	a += fault_rec(rec + a, 100);
	uint8_t cfree[] = {EV_CACHE_FREE | MMT_F_SAME_CPU | MMT_F_SAME_PID, 0, 2, 9, 0, 5};
	memcpy(rec + a, cfree, sizeof(cfree));
	record_case_at(rec, a + sizeof(cfree), 4, a,
		       "string id 9 was never defined (1 defined so far)");
}

Test(mmt_bad, timestamps_backwards)
{
	struct blob b = {0};
	size_t hlen = header(&b, 1), ruoff;
	uint8_t rec[32];
	size_t n = fault_rec(rec, 9);
	size_t first = event_block(&b, 1, 0, 5000, rec, n, &ruoff);
	size_t second = event_block(&b, 1, 1, 4000, rec, n, &ruoff);
	char want[512];
	size_t first_len = 1 + 4 + 1 + 2 + n;
	(void)first;
	snprintf(want, sizeof(want),
		 "bad.mmt: uncompressed offset %zu (block at byte %zu): timestamp goes backwards: "
		 "block starts at 4000 ns after an event at 5000 ns",
		 hlen + first_len, second);
	expect_error(&b, want);
	free(b.p);
}

Test(mmt_bad, not_gzip_member_later)
{
	struct blob b = {0};
	header(&b, 1);
	size_t at = b.len;
	blob_put(&b, "\x1f\x8b\x08\x00garbage garbage garbage", 28);
	char want[256];
	snprintf(want, sizeof(want),
		 "bad.mmt: byte %zu: gzip member without the .mmt extra field (MT)", at);
	expect_error(&b, want);
	free(b.p);
}

/* Starting in the middle through the trailer's index gives exactly the events a full read
 * gives from that point (random traces have runs of equal timestamps across blocks). */
Test(mmt, skip_to_matches_sequential_read)
{
	char path[128], err[512];
	tl_path(path, sizeof(path), "seek.mmt");
	struct strtab st;
	const size_t n = 200000;
	struct mm_event *ev = tl_write_mmt(path, NULL, -1, 40, 21, n, &st);
	struct mm_event *buf = malloc(4096 * sizeof(*buf));
	uint64_t s = 5;
	for (int round = 0; round < 40; round++) {
		uint64_t from_ev = 0, from_ts = 0;
		size_t target = (size_t)(tl_splitmix64(&s) % (n + 10));
		if (round % 2)
			from_ev = target;
		else
			from_ts = target < n ? ev[target].ts : ev[n - 1].ts + 1;
		/* the first event at or after the point */
		size_t want = 0;
		while (want < n && (want < from_ev || ev[want].ts < from_ts))
			want++;
		struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
		cr_assert_eq(trace_reader_skip_to(r, from_ev, from_ts, err, sizeof(err)), 0, "%s",
			     err);
		uint64_t start = trace_reader_count(r);
		cr_assert_leq(start, want, "started after the point");
		cr_assert_lt(want - start, 20000, "started far before the point (no seek?)");
		size_t i = start;
		ssize_t k;
		while ((k = trace_reader_next(r, buf, 4096, err, sizeof(err))) > 0)
			for (ssize_t j = 0; j < k; j++, i++)
				cr_assert(tl_same(&ev[i], &st, &buf[j], trace_reader_strings(r)),
					  "event %zu differs after skip_to(%llu, %llu)", i,
					  (unsigned long long)from_ev, (unsigned long long)from_ts);
		cr_assert_eq(k, 0, "%s", err);
		cr_assert_eq(i, n);
		trace_reader_close(r);
	}
	/* a damaged trailer: one clear message */
	size_t len = 0;
	uint8_t *data = (uint8_t *)tl_slurp(path, &len);
	data[len - 30] ^= 0xff;
	struct trace_reader *r = trace_reader_open_mem(data, len, "bad.mmt", err, sizeof(err));
	cr_assert_eq(trace_reader_skip_to(r, 1000, 0, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "bad.mmt: cannot seek: the trailer (index and string table) is "
			      "missing or corrupt");
	trace_reader_close(r);
	free(data);
	free(buf);
	free(ev);
	strtab_free(&st);
	unlink(path);
}
