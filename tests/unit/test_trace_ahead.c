/* Decoding ahead (trace_reader_ahead): the same batches, events, strings, fold and error,
 * at the same event, as trace_reader_next gives on the calling thread; the strings an
 * event names are the consumer's by the time it gets the event; nothing starts on one CPU. */
#include <criterion/criterion.h>
#include <sched.h>

#include "results.h"
#include "trace_impl.h"
#include "trace_testlib.h"

#define BATCH 256
#define INIT 0x6d6d7265706c6179ull

/* n random events naming 40 strings; each string is defined where first used, so the
 * definitions are spread over the trace. */
static void write_trace(const char *path, uint64_t seed, size_t n)
{
	char err[512], buf[32];
	struct trace_writer *w = trace_writer_open(path, TRACE_MMT, NULL, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	uint32_t ids[40];
	uint64_t s = seed, ts = 0;
	for (int i = 0; i < 40; i++) {
		tl_string(&s, buf, sizeof(buf));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%d", i); /* distinct */
		ids[i] = trace_writer_intern(w, buf);
	}
	for (size_t i = 0; i < n; i++) {
		struct mm_event ev;
		tl_event(&s, &ev, &ts, ids, 1 + (int)(i * 40 / n));
		cr_assert_eq(trace_writer_put(w, &ev, err, sizeof(err)), 0, "%s", err);
	}
	cr_assert_eq(trace_writer_close(w, err, sizeof(err)), 0, "%s", err);
}

struct reading {
	size_t nr_batches, sizes[4096];
	struct mm_event *ev;
	size_t n;
	ssize_t last; /* 0 or -1 */
	char err[512];
	uint64_t fold;
	struct strtab strings;
};

static void keep(struct reading *out, const struct mm_event *b, ssize_t k)
{
	cr_assert_lt(out->nr_batches, 4096);
	out->sizes[out->nr_batches++] = (size_t)k;
	out->ev = realloc(out->ev, (out->n + (size_t)k) * sizeof(*b));
	memcpy(out->ev + out->n, b, (size_t)k * sizeof(*b));
	out->n += (size_t)k;
}

static void copy_strings(struct strtab *to, const struct strtab *from)
{
	strtab_init(to);
	for (uint32_t id = 1; id < from->count; id++)
		cr_assert_eq(strtab_intern(to, from->str[id], from->len[id]), id);
}

static void read_plain(const char *path, struct reading *out)
{
	static struct mm_event buf[BATCH];
	char err[512];
	struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	memset(out, 0, sizeof(*out));
	out->fold = INIT;
	ssize_t k;
	while ((k = trace_reader_next(r, buf, BATCH, out->err, sizeof(out->err))) > 0) {
		out->fold = trace_hash_events(out->fold, buf, (size_t)k);
		keep(out, buf, k);
	}
	out->last = k;
	copy_strings(&out->strings, trace_reader_strings(r));
	trace_reader_close(r);
}

/* Every string id an event names must already be in the consumer's table. */
static void check_named(const struct mm_event *b, ssize_t k, const struct strtab *t)
{
	for (ssize_t i = 0; i < k; i++) {
		uint32_t *id = trace_event_string((struct mm_event *)&b[i]);
		if (id)
			cr_assert_lt(*id, t->count, "event names string %u, %u known", *id,
				     t->count);
	}
}

static void read_ahead(const char *path, struct reading *out)
{
	char err[512];
	struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	memset(out, 0, sizeof(*out));
	cr_assert_eq(trace_reader_ahead(r, BATCH, trace_hash_events, INIT), 1);
	const struct strtab *strings = trace_reader_strings(r);
	const struct mm_event *b;
	ssize_t k;
	while ((k = trace_reader_next_batch(r, &b, out->err, sizeof(out->err))) > 0) {
		cr_assert_eq(trace_reader_strings(r), strings, "a stable table");
		check_named(b, k, strings);
		keep(out, b, k);
	}
	out->last = k;
	if (k == 0)
		out->fold = trace_reader_fold(r);
	/* the end answers every further call */
	const struct mm_event *again;
	char err2[512] = "";
	cr_assert_eq(trace_reader_next_batch(r, &again, err2, sizeof(err2)), k);
	if (k < 0)
		cr_assert_str_eq(err2, out->err);
	copy_strings(&out->strings, strings);
	trace_reader_close(r);
}

static void same(struct reading *a, struct reading *b)
{
	cr_assert_eq(a->last, b->last);
	if (a->last < 0)
		cr_assert_str_eq(a->err, b->err);
	else
		cr_assert_eq(a->fold, b->fold);
	cr_assert_eq(a->nr_batches, b->nr_batches);
	for (size_t i = 0; i < a->nr_batches; i++)
		cr_assert_eq(a->sizes[i], b->sizes[i], "batch %zu", i);
	cr_assert_eq(a->n, b->n);
	cr_assert_eq(memcmp(a->ev, b->ev, a->n * sizeof(*a->ev)), 0);
	cr_assert_eq(a->strings.count, b->strings.count);
	for (uint32_t id = 0; id < a->strings.count; id++)
		cr_assert_str_eq(a->strings.str[id], b->strings.str[id]);
	free(a->ev);
	free(b->ev);
	strtab_free(&a->strings);
	strtab_free(&b->strings);
}

/* Every CPU the machine has, or a skip where it has one. */
static void on_all_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 2)
		cr_skip_test("one CPU: decoding ahead is never used");
	cpu_set_t set;
	CPU_ZERO(&set);
	for (long i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0);
}

Test(trace_ahead, same_batches_events_strings_and_hash)
{
	on_all_cpus();
	char path[128];
	tl_path(path, sizeof(path), "ahead.mmt");
	write_trace(path, 11, 200000);
	struct reading a, b;
	read_plain(path, &a);
	read_ahead(path, &b);
	unlink(path);
	cr_assert_eq(a.last, 0, "%s", a.err);
	cr_assert_eq(a.n, 200000);
	cr_assert_gt(a.strings.count, 30, "definitions spread over the trace");
	same(&a, &b);
}

/* A cut and a flipped byte: the same error after the same events. */
Test(trace_ahead, same_error_after_the_same_events)
{
	on_all_cpus();
	char path[128];
	tl_path(path, sizeof(path), "ahead-bad.mmt");
	write_trace(path, 12, 100000);
	size_t len = 0;
	char *data = tl_slurp(path, &len);
	cr_assert_not_null(data);
	for (int k = 0; k < 2; k++) {
		FILE *f = fopen(path, "wb");
		cr_assert_not_null(f);
		if (k == 0) {
			fwrite(data, 1, len / 2, f);
		} else {
			data[len / 3] ^= 0x55;
			fwrite(data, 1, len, f);
		}
		fclose(f);
		struct reading a, b;
		read_plain(path, &a);
		read_ahead(path, &b);
		cr_assert_eq(a.last, -1);
		cr_assert_gt(a.n, 0);
		same(&a, &b);
	}
	unlink(path);
	free(data);
}

Test(trace_ahead, text_trace_too)
{
	on_all_cpus();
	char path[128], txt[128], err[512];
	tl_path(path, sizeof(path), "ahead-t.mmt");
	tl_path(txt, sizeof(txt), "ahead-t.txt");
	write_trace(path, 13, 20000);
	struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	struct trace_writer *w = trace_writer_open(txt, TRACE_TEXT, NULL, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	struct mm_event buf[BATCH];
	ssize_t k;
	while ((k = trace_reader_next(r, buf, BATCH, err, sizeof(err))) > 0)
		for (ssize_t i = 0; i < k; i++)
			cr_assert_eq(trace_writer_put_from(w, &buf[i], trace_reader_strings(r), err,
							   sizeof(err)),
				     0, "%s", err);
	cr_assert_eq(k, 0, "%s", err);
	cr_assert_eq(trace_writer_close(w, err, sizeof(err)), 0, "%s", err);
	trace_reader_close(r);
	struct reading a, b;
	read_plain(txt, &a);
	read_ahead(txt, &b);
	unlink(path);
	unlink(txt);
	cr_assert_eq(a.n, 20000);
	same(&a, &b);
}

Test(trace_ahead, not_on_one_cpu)
{
	char path[128], err[512];
	tl_path(path, sizeof(path), "ahead-1.mmt");
	write_trace(path, 14, 1000);
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0);
	struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	cr_assert_eq(trace_reader_ahead(r, BATCH, trace_hash_events, INIT), 0);
	struct mm_event buf[BATCH];
	cr_assert_gt(trace_reader_next(r, buf, BATCH, err, sizeof(err)), 0, "%s", err);
	trace_reader_close(r);
	unlink(path);
}
