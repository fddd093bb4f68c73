/* The public trace API (trace_io.h): format sniffing, atomic output files, the semantic
 * checks both formats share, and dispatch to the .mmt and text codecs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace_impl.h"

void trace_origin_set(struct trace_origin *o, const char *key, const char *value)
{
	int i;
	for (i = 0; i < o->n; i++)
		if (strcmp(o->key[i], key) == 0)
			break;
	if (i == o->n) {
		if (o->n == TRACE_ORIGIN_MAX)
			return;
		o->n++;
		snprintf(o->key[i], sizeof(o->key[i]), "%s", key);
	}
	snprintf(o->value[i], sizeof(o->value[i]), "%s", value);
}

const char *trace_origin_get(const struct trace_origin *o, const char *key)
{
	for (int i = 0; i < o->n; i++)
		if (strcmp(o->key[i], key) == 0)
			return o->value[i];
	return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

enum trace_format trace_format_for_path(const char *path)
{
	if (ends_with(path, ".mmt"))
		return TRACE_MMT;
	if (ends_with(path, ".gz"))
		return TRACE_TEXT_GZ;
	return TRACE_TEXT;
}

uint32_t *trace_event_string(struct mm_event *ev)
{
	switch (ev->type) {
	case EV_EXEC:
		return &ev->u.exec.filename;
	case EV_MMAP:
		return &ev->u.map.file;
	case EV_CACHE_ALLOC:
	case EV_CACHE_FREE:
		return &ev->u.kmem.cache;
	case EV_COMM:
		return &ev->u.comm.name;
	case EV_MARK:
		return &ev->u.mark.name;
	}
	return NULL;
}

static int bad(char *why, size_t whylen, const char **field, const char *name, const char *msg)
{
	*field = name;
	snprintf(why, whylen, "%s", msg);
	return -1;
}

/* Limits come from the kernel where it has one: oom_score_adj in [OOM_SCORE_ADJ_MIN,
 * OOM_SCORE_ADJ_MAX] (include/uapi/linux/oom.h); a zero length makes mmap/munmap/mprotect/
 * mremap fail with EINVAL (mm/mmap.c, mm/mremap.c), so a trace never records one.
 * The .mmt decoder flags the same conditions type by type (decode_fields in
 * tools/mmt_decode.h) and calls this only for the events it flagged: change both. */
int trace_check_event(const struct mm_event *ev, uint32_t nr_strings, char *why, size_t whylen,
		      const char **field)
{
	*field = NULL;
	if (ev->type == 0 || ev->type >= EV_NR_TYPES) {
		snprintf(why, whylen, "unknown event type %u", ev->type);
		return -1;
	}
	if (ev->pid == 0)
		return bad(why, whylen, field, "pid", "pid 0: the acting task needs a real pid");
	const uint32_t *sid = trace_event_string((struct mm_event *)ev);
	if (sid && *sid >= nr_strings) {
		*field = "string";
		snprintf(why, whylen, "string id %u was never defined (%u defined so far)", *sid,
			 nr_strings);
		return -1;
	}
	switch (ev->type) {
	case EV_FORK:
		if (!ev->u.fork.child)
			return bad(why, whylen, field, "child",
				   "fork child pid 0: expected a real pid");
		break;
	case EV_MMAP:
		if (!ev->u.map.len)
			return bad(why, whylen, field, "len",
				   "mmap len 0: a positive size is required");
		break;
	case EV_MUNMAP:
	case EV_MPROTECT:
		if (!ev->u.range.len)
			return bad(why, whylen, field, "len",
				   ev->type == EV_MUNMAP
				       ? "munmap len 0: a positive size is required"
				       : "mprotect len 0: a positive size is required");
		break;
	case EV_MREMAP:
		if (!ev->u.remap.new_len)
			return bad(why, whylen, field, "new_len",
				   "mremap new_len 0: a positive size is required");
		break;
	case EV_TOUCH:
		if (!ev->u.touch.len)
			return bad(why, whylen, field, "len",
				   "touch len 0: a positive size is required");
		break;
	case EV_VMALLOC:
		if (!ev->u.vmalloc.size)
			return bad(why, whylen, field, "size",
				   "vmalloc size 0: a positive size is required");
		break;
	case EV_SET_OOM_SCORE_ADJ:
		if (ev->u.adj.value < -1000 || ev->u.adj.value > 1000)
			return bad(why, whylen, field, "value",
				   "oom_score_adj value out of range: expected -1000..1000");
		break;
	}
	return 0;
}

/* ======================= writer ======================= */

struct trace_writer *trace_writer_open(const char *path, enum trace_format fmt,
				       const struct trace_origin *origin, char *err, size_t errlen)
{
	struct trace_writer *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	w->fmt = fmt;
	strtab_init(&w->strings);
	w->path = strdup(path);
	bool to_stdout = strcmp(path, "-") == 0;
	if (!to_stdout && w->path && asprintf(&w->tmp, "%s.tmp", path) < 0)
		w->tmp = NULL;
	if (!w->path || (!to_stdout && !w->tmp)) {
		snprintf(err, errlen, "%s: out of memory", path);
		trace_writer_abort(w);
		return NULL;
	}
	const char *target = to_stdout ? "standard output" : w->tmp;
	if (fmt == TRACE_TEXT_GZ) {
		w->gz = to_stdout ? gzdopen(dup(STDOUT_FILENO), "wb6") : gzopen(w->tmp, "wb6");
		if (!w->gz) {
			snprintf(err, errlen, "%s: cannot create: %s", target, strerror(errno));
			trace_writer_abort(w);
			return NULL;
		}
	} else {
		w->f = to_stdout ? stdout : fopen(w->tmp, "wb");
		if (!w->f) {
			snprintf(err, errlen, "%s: cannot create: %s", target, strerror(errno));
			trace_writer_abort(w);
			return NULL;
		}
	}
	int rc = fmt == TRACE_MMT ? mmt_writer_start(w, origin, err, errlen)
				  : text_writer_start(w, origin, err, errlen);
	if (rc) {
		trace_writer_abort(w);
		return NULL;
	}
	return w;
}

uint32_t trace_writer_intern(struct trace_writer *w, const char *s)
{
	return strtab_intern(&w->strings, s, strlen(s));
}

int trace_writer_put(struct trace_writer *w, const struct mm_event *ev, char *err, size_t errlen)
{
	char why[160];
	const char *field;
	bool plain = ev->type && ev->type < EV_NR_TYPES && ev->pid &&
		     !((1u << ev->type) & MMT_CHECKED_TYPES);
	if (!plain && trace_check_event(ev, w->strings.count, why, sizeof(why), &field)) {
		snprintf(err, errlen, "%s: event %llu: %s", w->path, (unsigned long long)w->count,
			 why);
		return -1;
	}
	if (ev->ts < w->last_ts) {
		snprintf(err, errlen,
			 "%s: event %llu: timestamp goes backwards (%llu ns after %llu ns)",
			 w->path, (unsigned long long)w->count, (unsigned long long)ev->ts,
			 (unsigned long long)w->last_ts);
		return -1;
	}
	int rc = w->fmt == TRACE_MMT ? mmt_writer_put(w, ev, err, errlen)
				     : text_writer_put(w, ev, err, errlen);
	if (rc)
		return -1;
	w->count++;
	w->last_ts = ev->ts;
	return 0;
}

int trace_writer_put_from(struct trace_writer *w, const struct mm_event *ev,
			  const struct strtab *strings, char *err, size_t errlen)
{
	struct mm_event copy = *ev;
	uint32_t *sid = trace_event_string(&copy);
	if (sid) {
		const char *s = strtab_get(strings, *sid);
		if (!s) {
			snprintf(err, errlen, "%s: event %llu: string id %u was never defined",
				 w->path, (unsigned long long)w->count, *sid);
			return -1;
		}
		*sid = strtab_intern(&w->strings, s, strings->len[*sid]);
		if (*sid == UINT32_MAX) {
			snprintf(err, errlen, "%s: out of memory", w->path);
			return -1;
		}
	}
	return trace_writer_put(w, &copy, err, errlen);
}

uint64_t trace_writer_count(const struct trace_writer *w) { return w->count; }

static void writer_free(struct trace_writer *w)
{
	if (w->fmt == TRACE_MMT)
		mmt_writer_free(w);
	strtab_free(&w->strings);
	free(w->line);
	free(w->path);
	free(w->tmp);
	free(w);
}

int trace_writer_close(struct trace_writer *w, char *err, size_t errlen)
{
	int rc = w->fmt == TRACE_MMT ? mmt_writer_finish(w, err, errlen) : 0;
	if (w->gz) {
		int zrc = gzclose(w->gz);
		w->gz = NULL;
		if (!rc && zrc != Z_OK) {
			snprintf(err, errlen, "%s: write failed", w->path);
			rc = -1;
		}
	} else if (w->f) {
		bool failed = w->f == stdout ? fflush(w->f) != 0 : fclose(w->f) != 0;
		w->f = NULL;
		if (!rc && failed) {
			snprintf(err, errlen, "%s: write failed: %s", w->path, strerror(errno));
			rc = -1;
		}
	}
	if (!rc && w->tmp && rename(w->tmp, w->path) != 0) {
		snprintf(err, errlen, "%s: cannot rename %s over it: %s", w->path, w->tmp,
			 strerror(errno));
		rc = -1;
	}
	if (rc && w->tmp)
		unlink(w->tmp);
	writer_free(w);
	return rc;
}

void trace_writer_abort(struct trace_writer *w)
{
	if (!w)
		return;
	if (w->gz)
		gzclose(w->gz);
	if (w->f && w->f != stdout)
		fclose(w->f);
	if (w->tmp)
		unlink(w->tmp);
	writer_free(w);
}

/* ======================= reader ======================= */

size_t trace_src_read(struct trace_reader *r, void *buf, size_t n)
{
	uint8_t *out = buf;
	size_t got = 0;
	while (got < n && r->peek_pos < r->peek_len)
		out[got++] = r->peek[r->peek_pos++];
	if (r->mem) {
		size_t k = r->mem_len - r->mem_pos;
		if (k > n - got)
			k = n - got;
		memcpy(out + got, r->mem + r->mem_pos, k);
		r->mem_pos += k;
		got += k;
	} else if (r->f) {
		while (got < n) {
			size_t k = fread(out + got, 1, n - got, r->f);
			if (k == 0)
				break;
			got += k;
		}
	}
	r->src_off += got;
	return got;
}

int trace_src_size(struct trace_reader *r, uint64_t *size)
{
	if (r->mem) {
		*size = r->mem_len;
		return 0;
	}
	struct stat st;
	if (!r->f || fstat(fileno(r->f), &st) || !S_ISREG(st.st_mode))
		return -1;
	*size = (uint64_t)st.st_size;
	return 0;
}

int trace_src_seek(struct trace_reader *r, uint64_t off)
{
	r->peek_pos = r->peek_len;
	if (r->mem) {
		if (off > r->mem_len)
			return -1;
		r->mem_pos = off;
		return 0;
	}
	return r->f && fseeko(r->f, (off_t)off, SEEK_SET) == 0 ? 0 : -1;
}

/* Sniffs the first bytes: a gzip member with the MT extra field is .mmt, other gzip data is
 * gzip'd text, anything else is text. */
static struct trace_reader *reader_start(struct trace_reader *r, char *err, size_t errlen)
{
	strtab_init(&r->strings);
	r->peek_len = trace_src_read(r, r->peek, 16);
	r->src_off = 0;
	const uint8_t *p = r->peek;
	int rc;
	if (r->peek_len >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
		bool mmt = r->peek_len == 16 && (p[3] & 4) && p[12] == 'M' && p[13] == 'T';
		r->fmt = mmt ? TRACE_MMT : TRACE_TEXT_GZ;
		rc = mmt ? mmt_reader_start(r, err, errlen)
			 : text_reader_start(r, true, err, errlen);
	} else if (r->peek_len >= MMT_MAGIC_LEN && memcmp(p, MMT_MAGIC, MMT_MAGIC_LEN) == 0) {
		snprintf(err, errlen,
			 "%s: byte 0: wrong magic: this is an uncompressed .mmt stream (zcat "
			 "output?); expected gzip members (1f 8b)",
			 r->name);
		rc = -1;
	} else {
		r->fmt = TRACE_TEXT;
		rc = text_reader_start(r, false, err, errlen);
	}
	if (rc) {
		trace_reader_close(r);
		return NULL;
	}
	return r;
}

struct trace_reader *trace_reader_open(const char *path, char *err, size_t errlen)
{
	struct trace_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	snprintf(r->name, sizeof(r->name), "%s", strcmp(path, "-") ? path : "<stdin>");
	if (strcmp(path, "-") == 0) {
		r->f = stdin;
	} else {
		r->f = fopen(path, "rb");
		if (!r->f) {
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
			free(r);
			return NULL;
		}
		r->own_f = true;
	}
	return reader_start(r, err, errlen);
}

struct trace_reader *trace_reader_open_mem(const void *buf, size_t len, const char *name, char *err,
					   size_t errlen)
{
	struct trace_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->mem = buf ? buf : (const void *)"";
	r->mem_len = len;
	return reader_start(r, err, errlen);
}

const struct trace_origin *trace_reader_origin(const struct trace_reader *r) { return &r->origin; }

const struct strtab *trace_reader_strings(const struct trace_reader *r)
{
	return r->ahead ? trace_ahead_strings(r) : &r->strings;
}

enum trace_format trace_reader_format(const struct trace_reader *r) { return r->fmt; }

uint64_t trace_reader_count(const struct trace_reader *r) { return r->count; }

ssize_t trace_reader_next(struct trace_reader *r, struct mm_event *buf, size_t cap, char *err,
			  size_t errlen)
{
	if (r->failed) {
		snprintf(err, errlen, "%s", r->fail_msg);
		return -1;
	}
	if (r->done || cap == 0)
		return 0;
	return r->fmt == TRACE_MMT ? mmt_reader_next(r, buf, cap, err, errlen)
				   : text_reader_next(r, buf, cap, err, errlen);
}

void trace_reader_close(struct trace_reader *r)
{
	if (!r)
		return;
	trace_ahead_stop(r); /* before what its thread reads goes */
	mmt_reader_free(r);
	text_reader_free(r);
	if (r->own_f)
		fclose(r->f);
	strtab_free(&r->strings);
	free(r);
}
