/* The text format: .mmt -> text -> .mmt gives identical bytes; gzip'd text reads the same;
 * human conveniences parse; every bad line gets its one exact file:line:column message. */
#include <criterion/criterion.h>
#include <zlib.h>

#include "trace_testlib.h"

/* Copies every event of in to a new file out (format from its name). */
static void convert(const char *in, const char *out)
{
	char err[1024];
	struct trace_reader *r = trace_reader_open(in, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	struct trace_writer *w = trace_writer_open(out, trace_format_for_path(out),
						   trace_reader_origin(r), err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	struct mm_event buf[1000];
	ssize_t n;
	while ((n = trace_reader_next(r, buf, 1000, err, sizeof(err))) > 0)
		for (ssize_t i = 0; i < n; i++)
			cr_assert_eq(trace_writer_put_from(w, &buf[i], trace_reader_strings(r), err,
							   sizeof(err)),
				     0, "%s", err);
	cr_assert_eq(n, 0, "%s", err);
	cr_assert_eq(trace_writer_close(w, err, sizeof(err)), 0, "%s", err);
	trace_reader_close(r);
}

static void write_random_mmt(const char *path, uint64_t seed, size_t n)
{
	char err[512], buf[32];
	struct trace_origin o = {0};
	trace_origin_set(&o, "generator", "random");
	trace_origin_set(&o, "note", "quotes \" and \\ and = and # too");
	trace_origin_set(&o, "empty", "");
	struct trace_writer *w = trace_writer_open(path, TRACE_MMT, &o, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	uint64_t s = seed, ts = 0;
	uint32_t ids[30];
	for (int i = 0; i < 30; i++) {
		tl_string(&s, buf, sizeof(buf));
		ids[i] = trace_writer_intern(w, buf);
	}
	for (size_t i = 0; i < n; i++) {
		struct mm_event ev;
		tl_event(&s, &ev, &ts, ids, 30);
		cr_assert_eq(trace_writer_put(w, &ev, err, sizeof(err)), 0, "%s", err);
	}
	cr_assert_eq(trace_writer_close(w, err, sizeof(err)), 0, "%s", err);
}

static void assert_same_file(const char *a, const char *b)
{
	size_t la = 0, lb = 0;
	char *x = tl_slurp(a, &la), *y = tl_slurp(b, &lb);
	cr_assert(x && y);
	cr_assert_eq(la, lb, "%s is %zu bytes, %s is %zu", a, la, b, lb);
	cr_assert(memcmp(x, y, la) == 0, "%s and %s differ", a, b);
	free(x);
	free(y);
}

Test(text, mmt_text_mmt_identical_bytes)
{
	char a[128], t[128], b[128], t2[128], g[128], c[128];
	tl_path(a, sizeof(a), "a.mmt");
	tl_path(t, sizeof(t), "a.txt");
	tl_path(b, sizeof(b), "b.mmt");
	tl_path(t2, sizeof(t2), "b.txt");
	tl_path(g, sizeof(g), "a.txt.gz");
	tl_path(c, sizeof(c), "c.mmt");
	for (uint64_t seed = 11; seed < 14; seed++) {
		write_random_mmt(a, seed, 20000);
		convert(a, t);
		convert(t, b);
		assert_same_file(a, b);
		convert(b, t2);
		assert_same_file(t, t2);
		convert(a, g);
		convert(g, c);
		assert_same_file(a, c);
	}
	unlink(a);
	unlink(t);
	unlink(b);
	unlink(t2);
	unlink(g);
	unlink(c);
}

/* Reads text from memory; returns the events, or NULL with err set. */
static ssize_t parse(const char *text, struct mm_event *buf, size_t cap, char *err, size_t errlen,
		     struct trace_reader **out)
{
	struct trace_reader *r = trace_reader_open_mem(text, strlen(text), "t.txt", err, errlen);
	if (!r)
		return -1;
	size_t n = 0;
	ssize_t k;
	while ((k = trace_reader_next(r, buf + n, cap - n, err, errlen)) > 0)
		n += (size_t)k;
	if (out)
		*out = r;
	else
		trace_reader_close(r);
	return k < 0 ? -1 : (ssize_t)n;
}

Test(text, human_conveniences)
{
	const char *text = "# a comment\n"
			   "\n"
			   "   # indented comment\r\n"
			   "1 pid=7 mmap len=1M addr=0x10000 prot=7 flags=anon,private,0x400 \t\n"
			   "1.5 fault pid=7 addr=65536 access=write,kernel cpu=3\n"
			   "2.000000001 pid=7 touch addr=0x10000 len=8K access=read\n"
			   "3 pid=7 exec filename=\"/bin/a b\\x41\\n\"\n"
			   "3 pid=7 oom_score_adj value=-1000\n";
	struct mm_event ev[8];
	char err[512];
	struct trace_reader *r;
	cr_assert_eq(parse(text, ev, 8, err, sizeof(err), &r), 5, "%s", err);
	cr_assert_eq(ev[0].ts, 1000000000ull);
	cr_assert_eq(ev[0].cpu, 0);
	cr_assert_eq(ev[0].u.map.len, 1u << 20);
	cr_assert_eq(ev[0].u.map.prot, 7);
	cr_assert_eq(ev[0].u.map.flags, MM_MAP_ANON | MM_MAP_PRIVATE | 0x400);
	cr_assert_eq(ev[1].ts, 1500000000ull);
	cr_assert_eq(ev[1].cpu, 3);
	cr_assert_eq(ev[1].u.fault.access, FAULT_WRITE | FAULT_KERNEL);
	cr_assert_eq(ev[2].ts, 2000000001ull);
	cr_assert_eq(ev[2].u.touch.len, 8192);
	cr_assert_eq(ev[2].u.touch.access, FAULT_READ);
	cr_assert_str_eq(strtab_get(trace_reader_strings(r), ev[3].u.exec.filename), "/bin/a bA\n");
	cr_assert_eq(ev[4].u.adj.value, -1000);
	trace_reader_close(r);
}

Test(text, gzip_members_concatenated)
{
	char path[128], err[256];
	tl_path(path, sizeof(path), "cat.txt.gz");
	/* two gzip members, like `cat a.gz b.gz` */
	for (int i = 0; i < 2; i++) {
		gzFile z = gzopen(path, i ? "ab" : "wb");
		gzputs(z, i ? "2 pid=1 exit\n" : "#! origin who=me\n1 pid=1 comm name=x\n");
		gzclose(z);
	}
	struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	cr_assert_eq(trace_reader_format(r), TRACE_TEXT_GZ);
	cr_assert_str_eq(trace_origin_get(trace_reader_origin(r), "who"), "me");
	struct mm_event ev[4];
	cr_assert_eq(trace_reader_next(r, ev, 4, err, sizeof(err)), 2, "%s", err);
	cr_assert_eq(ev[1].type, EV_EXIT);
	trace_reader_close(r);
	unlink(path);
}

static void expect(const char *text, const char *want)
{
	struct mm_event ev[8];
	char err[1024] = "";
	cr_assert_eq(parse(text, ev, 8, err, sizeof(err), NULL), -1, "accepted: %s", text);
	cr_assert_str_eq(err, want);
}

Test(text_bad, messages)
{
	expect("hello world\n", "t.txt:1:1: expected a timestamp in seconds (e.g. 12.000345678), "
				"a comment or a directive; got 'hello'");
	expect("# c\n1.0 pid=1 frobnicate\n", "t.txt:2:11: unknown event type 'frobnicate'");
	expect("1 pid=1 fault addr=0x1000 size=3\n",
	       "t.txt:1:27: fault has no field 'size' (fields: addr, access)");
	expect("2 pid=1 exit\n1 pid=1 exit\n",
	       "t.txt:2:1: timestamp goes backwards: 1.000000000 after 2.000000000");
	expect("1 pid=0 exit\n", "t.txt:1:7: pid 0: the acting task needs a real pid");
	expect("1 exit\n", "t.txt:1:7: expected pid=N (every event names its task)");
	expect("1 pid=2 munmap addr=0x1000 len=-4096\n",
	       "t.txt:1:32: len: negative value: expected a number >= 0");
	expect("1 pid=2 munmap addr=0x1000 len=0\n",
	       "t.txt:1:32: munmap len 0: a positive size is required");
	expect("1 pid=2 vmalloc addr=0x1000\n",
	       "t.txt:1:28: vmalloc size 0: a positive size is required");
	expect("1 pid=2 fault addr=0x10g0\n",
	       "t.txt:1:20: addr: expected a number (decimal or 0x hex, K/M/G/T suffix) up to "
	       "18446744073709551615");
	expect("1 pid=2 comm name=\"abc\n",
	       "t.txt:1:23: unterminated string: expected a closing '\"'");
	expect("#! mmtrace-text 2\n",
	       "t.txt:1:17: text format version 2 is newer than this mmreplay reads (1); upgrade "
	       "mmreplay");
	expect("1 pid=1 exit\n#! origin a=b\n",
	       "t.txt:2:1: origin lines must come before the first event");
	expect("1 pid=1 fault addr=1 access=sideways\n",
	       "t.txt:1:29: access: expected a comma list of read,write,exec,kernel or numbers");
	expect("1 pid=1 mmap addr=0 len=1 prot=rwz flags=0\n",
	       "t.txt:1:32: prot: expected rwx letters (e.g. rw-, r-x, ---) or a number");
	expect("1 pid=1 pid=2 exit\n", "t.txt:1:9: pid given twice");
	expect("1 pid=1 exit extra\n",
	       "t.txt:1:14: expected KEY=VALUE after the event type, got 'extra'");
	expect("1.1234567891 pid=1 exit\n",
	       "t.txt:1:1: timestamp: at most 9 decimals (nanoseconds)");
	expect("1 pid=1 oom_score_adj value=1001\n",
	       "t.txt:1:29: oom_score_adj value out of range: expected -1000..1000");
	expect("1 pid=1 comm name=\"a\\x00\"\n", "t.txt:1:21: \\x00: strings cannot hold NUL");
	expect("#! frobnicate\n",
	       "t.txt:1:4: unknown directive 'frobnicate' (expected mmtrace-text or origin)");
}

Test(text_bad, nul_byte)
{
	static const char text[] = "1 pid=1 ex\0it\n";
	struct mm_event ev[2];
	char err[256];
	struct trace_reader *r =
	    trace_reader_open_mem(text, sizeof(text) - 1, "t.txt", err, sizeof(err));
	cr_assert_null(r);
	cr_assert_str_eq(err, "t.txt:1:11: NUL byte in a text trace (is this a binary file?)");
	(void)ev;
}

Test(text_bad, corrupt_gzip)
{
	char err[256];
	uLongf zl = 256;
	Bytef z[256];
	const char *text = "1 pid=1 exit\n2 pid=1 exit\n";
	/* a gzip stream cut short */
	z_stream zs = {0};
	deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = (Bytef *)text;
	zs.avail_in = (uInt)strlen(text);
	zs.next_out = z;
	zs.avail_out = (uInt)zl;
	deflate(&zs, Z_FINISH);
	size_t len = zl - zs.avail_out;
	deflateEnd(&zs);
	struct trace_reader *r = trace_reader_open_mem(z, len - 6, "t.txt.gz", err, sizeof(err));
	if (r) {
		struct mm_event ev[4];
		ssize_t k;
		while ((k = trace_reader_next(r, ev, 4, err, sizeof(err))) > 0)
			;
		cr_assert_eq(k, -1);
		trace_reader_close(r);
	}
	char want[128];
	snprintf(want, sizeof(want), "t.txt.gz: byte %zu: truncated: the gzip stream ends early",
		 len - 6);
	cr_assert_str_eq(err, want);
}
