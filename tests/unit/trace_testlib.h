/* Helpers shared by the trace codec tests: a seeded random event source that sets exactly
 * the fields each type carries (the rest stay zero, as the decoder leaves them), and
 * comparisons that look through string ids (the .mmt writer renumbers them). */
#ifndef TRACE_TESTLIB_H
#define TRACE_TESTLIB_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib_rng.h"
#include "trace_io.h"


/* Values that exercise every varint width and each delta encoding's escape. */
static inline uint64_t tl_u64(uint64_t *s)
{
	uint64_t r = tl_splitmix64(s);
	switch (r % 8) {
	case 0:
		return r >> 60;
	case 1:
		return (r >> 20) << 12; /* page aligned */
	case 2:
		return UINT64_MAX - (r >> 62);
	case 3:
		return 0x7f0000000000ull + ((r >> 30) << 12);
	case 4:
		return 0xffff888000000000ull + ((r >> 40) << 3);
	case 5:
		return 1ull << 63 | (r >> 50);
	default:
		return tl_splitmix64(s);
	}
}

static inline uint32_t tl_u32(uint64_t *s)
{
	uint64_t r = tl_splitmix64(s);
	return r % 3 == 0 ? (uint32_t)(r >> 60) : r % 3 == 1 ? UINT32_MAX : (uint32_t)(r >> 16);
}

static inline uint64_t tl_nz(uint64_t v) { return v ? v : 1; }

/* A random string: printable, or with spaces, quotes, escapes and high bytes (never NUL). */
static inline int tl_string(uint64_t *s, char *buf, size_t cap)
{
	static const char alpha[] = "abcXYZ019_./:-+ \"\\=#\t\n\x7f\x80\xc3\xa9\xff,'()";
	size_t n = 1 + tl_splitmix64(s) % 24;
	if (n >= cap)
		n = cap - 1;
	bool plain = tl_splitmix64(s) % 2;
	for (size_t i = 0; i < n; i++)
		buf[i] = plain ? "abcdefgh/._-0123"[tl_splitmix64(s) % 16]
			       : alpha[tl_splitmix64(s) % (sizeof(alpha) - 1)];
	buf[n] = 0;
	return (int)n;
}

/* One event of a random type at *ts (advanced by a random non-negative delta); string
 * fields get ids from strs[0..nstr). */
static inline void tl_event(uint64_t *s, struct mm_event *ev, uint64_t *ts, const uint32_t *strs,
			    int nstr)
{
	memset(ev, 0, sizeof(*ev));
	uint64_t r = tl_splitmix64(s);
	*ts += r % 4 == 0   ? 0
	       : r % 4 == 1 ? (r >> 8) % 1000
	       : r % 4 == 2 ? (r >> 16) % 10000000
			    : 1;
	ev->ts = *ts;
	ev->type = (uint8_t)(1 + (r >> 40) % (EV_NR_TYPES - 1));
	ev->pid = (uint32_t)tl_nz((r >> 20) % 3 ? 100 + (r >> 50) % 8 : tl_u32(s));
	ev->cpu = (uint16_t)((r >> 30) % 4 ? (r >> 32) % 4 : tl_splitmix64(s));
	uint32_t str = strs[tl_splitmix64(s) % (uint64_t)nstr];
	switch (ev->type) {
	case EV_FORK:
		ev->u.fork.child = (uint32_t)tl_nz(tl_u32(s));
		ev->u.fork.flags = tl_u32(s);
		break;
	case EV_EXEC:
		ev->u.exec.filename = str;
		break;
	case EV_EXIT:
		break;
	case EV_MMAP:
		ev->u.map.addr = tl_u64(s);
		ev->u.map.len = tl_nz(tl_u64(s));
		ev->u.map.pgoff = tl_u64(s);
		ev->u.map.prot = (uint16_t)tl_splitmix64(s);
		ev->u.map.flags = (uint16_t)tl_splitmix64(s);
		ev->u.map.file = tl_splitmix64(s) % 2 ? str : 0;
		break;
	case EV_MUNMAP:
		ev->u.range.addr = tl_u64(s);
		ev->u.range.len = tl_nz(tl_u64(s));
		break;
	case EV_MPROTECT:
		ev->u.range.addr = tl_u64(s);
		ev->u.range.len = tl_nz(tl_u64(s));
		ev->u.range.prot = tl_u32(s);
		break;
	case EV_MREMAP:
		ev->u.remap.old_addr = tl_u64(s);
		ev->u.remap.old_len = tl_u64(s);
		ev->u.remap.new_addr = tl_u64(s);
		ev->u.remap.new_len = tl_nz(tl_u64(s));
		break;
	case EV_BRK:
		ev->u.brk.addr = tl_u64(s);
		ev->u.brk.old = tl_splitmix64(s) % 2 ? tl_u64(s) : 0;
		break;
	case EV_FAULT:
		ev->u.fault.addr = tl_u64(s);
		ev->u.fault.access = tl_u32(s);
		break;
	case EV_TOUCH:
		ev->u.touch.addr = tl_u64(s);
		ev->u.touch.len = tl_nz(tl_u64(s));
		ev->u.touch.access = tl_u32(s);
		break;
	case EV_KMALLOC:
	case EV_CACHE_ALLOC:
		ev->u.kmem.ptr = tl_u64(s);
		ev->u.kmem.bytes_req = tl_u32(s);
		ev->u.kmem.bytes_alloc = tl_u32(s);
		ev->u.kmem.gfp = tl_splitmix64(s) % 2 ? 0xcc0 : tl_u32(s);
		ev->u.kmem.call_site =
		    tl_splitmix64(s) % 2 ? 0xffffffff81000000ull + tl_splitmix64(s) % 8 : tl_u64(s);
		if (ev->type == EV_CACHE_ALLOC)
			ev->u.kmem.cache = str;
		break;
	case EV_KFREE:
	case EV_CACHE_FREE:
		ev->u.kmem.ptr = tl_u64(s);
		ev->u.kmem.call_site = tl_u64(s);
		if (ev->type == EV_CACHE_FREE)
			ev->u.kmem.cache = str;
		break;
	case EV_VMALLOC:
		ev->u.vmalloc.addr = tl_u64(s);
		ev->u.vmalloc.size = tl_nz(tl_u64(s));
		ev->u.vmalloc.caller = tl_u64(s);
		break;
	case EV_VFREE:
		ev->u.vmalloc.addr = tl_u64(s);
		break;
	case EV_PAGE_ALLOC:
		ev->u.page.pfn = tl_u64(s);
		ev->u.page.order = tl_u32(s);
		ev->u.page.gfp = tl_u32(s);
		ev->u.page.migratetype = tl_u32(s);
		break;
	case EV_PAGE_FREE:
		ev->u.page.pfn = tl_u64(s);
		ev->u.page.order = tl_u32(s);
		break;
	case EV_SET_OOM_SCORE_ADJ:
		ev->u.adj.value = (int32_t)(tl_splitmix64(s) % 2001) - 1000;
		break;
	case EV_COMM:
		ev->u.comm.name = str;
		break;
	case EV_MARK:
		ev->u.mark.name = str;
		break;
	}
}

/* Equal, with string fields compared by value. */
static inline bool tl_same(const struct mm_event *a, const struct strtab *sa,
			   const struct mm_event *b, const struct strtab *sb)
{
	struct mm_event x = *a, y = *b;
	uint32_t *px = trace_event_string(&x), *py = trace_event_string(&y);
	if (px && py) {
		const char *s1 = strtab_get(sa, *px), *s2 = strtab_get(sb, *py);
		if (!s1 || !s2 || strcmp(s1, s2) != 0)
			return false;
		*px = *py = 0;
	}
	return memcmp(&x, &y, sizeof(x)) == 0;
}

/* Writes n random events (seed) to path as .mmt, after nstr (at most 64) random strings,
 * at the deflate level (< 0: the writer's default); returns the events, and in strings the
 * writer-side strings. */
static inline struct mm_event *tl_write_mmt(const char *path, struct trace_origin *o, int level,
					    unsigned nstr, uint64_t seed, size_t n,
					    struct strtab *strings)
{
	char err[512];
	struct trace_writer *w = trace_writer_open(path, TRACE_MMT, o, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	if (level >= 0)
		cr_assert_eq(trace_writer_set_level(w, level), 0);
	uint32_t ids[64];
	char buf[32];
	uint64_t s = seed, ts = 0;
	cr_assert_leq(nstr, 64u);
	strtab_init(strings);
	for (unsigned i = 0; i < nstr; i++) {
		tl_string(&s, buf, sizeof(buf));
		ids[i] = trace_writer_intern(w, buf);
		cr_assert_eq(strtab_intern(strings, buf, strlen(buf)), ids[i]);
	}
	struct mm_event *ev = malloc(n * sizeof(*ev));
	for (size_t i = 0; i < n; i++) {
		tl_event(&s, &ev[i], &ts, ids, (int)nstr);
		cr_assert_eq(trace_writer_put(w, &ev[i], err, sizeof(err)), 0, "%s", err);
	}
	cr_assert_eq(trace_writer_count(w), n);
	cr_assert_eq(trace_writer_close(w, err, sizeof(err)), 0, "%s", err);
	return ev;
}

static inline void tl_path(char *buf, size_t cap, const char *tag)
{
	snprintf(buf, cap, "/tmp/mmreplay-test-%d-%s", (int)getpid(), tag);
}

static inline char *tl_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct stat st;
	fstat(fileno(f), &st);
	char *buf = malloc((size_t)st.st_size + 1);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

#endif
