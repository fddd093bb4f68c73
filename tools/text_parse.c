/* The text trace reader (traces/FORMAT.md, "The text format"): lines from plain or gzip'd
 * input, comments and #! directives, events parsed against the field tables of
 * tools/text_fields.h, each error as FILE:LINE:COLUMN and what was expected. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "text_fields.h"
#include "trace_impl.h"

/* ======================= reading lines ======================= */

#define TEXT_IN_BUF 65536

static int text_fill(struct trace_reader *r, char *err, size_t errlen)
{
	r->in_pos = 0;
	r->in_len = 0;
	if (!r->gz) {
		r->in_len = trace_src_read(r, r->inbuf, TEXT_IN_BUF);
		return 0;
	}
	uint8_t *zin = r->inbuf + TEXT_IN_BUF;
	while (r->in_len == 0) {
		if (r->zs.avail_in == 0) {
			uint64_t at = r->src_off;
			size_t k = trace_src_read(r, zin, TEXT_IN_BUF);
			if (k == 0) {
				if (r->zs_eof)
					return 0;
				snprintf(err, errlen,
					 "%s: byte %llu: truncated: the gzip stream ends early",
					 r->name, (unsigned long long)at);
				return -1;
			}
			r->zs.next_in = zin;
			r->zs.avail_in = (uInt)k;
		}
		if (r->zs_eof) {
			/* another gzip member follows (concatenated .gz files) */
			inflateReset(&r->zs);
			r->zs_eof = false;
		}
		r->zs.next_out = r->inbuf;
		r->zs.avail_out = TEXT_IN_BUF;
		int rc = inflate(&r->zs, Z_NO_FLUSH);
		if (rc == Z_STREAM_END) {
			r->zs_eof = true;
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			snprintf(err, errlen, "%s: byte %llu: corrupt gzip data", r->name,
				 (unsigned long long)(r->src_off - r->zs.avail_in));
			return -1;
		}
		r->in_len = TEXT_IN_BUF - r->zs.avail_out;
	}
	return 0;
}

/* One line into r->line without its newline; 1 when there is one, 0 at the end. */
static int read_line(struct trace_reader *r, size_t *len, char *err, size_t errlen)
{
	size_t n = 0;
	bool any = false;
	for (;;) {
		if (r->in_pos == r->in_len) {
			if (text_fill(r, err, errlen))
				return -1;
			if (r->in_len == 0)
				break;
		}
		any = true;
		const uint8_t *s = r->inbuf + r->in_pos;
		size_t avail = r->in_len - r->in_pos;
		const uint8_t *nl = memchr(s, '\n', avail);
		size_t take = nl ? (size_t)(nl - s) : avail;
		if (n + take + 1 > r->line_cap) {
			snprintf(err, errlen, "%s:%llu:1: line longer than %zu bytes", r->name,
				 (unsigned long long)r->lineno + 1, r->line_cap - 1);
			return -1;
		}
		memcpy(r->line + n, s, take);
		n += take;
		r->in_pos += take + (nl ? 1 : 0);
		if (nl)
			break;
	}
	if (!any)
		return 0;
	if (n && r->line[n - 1] == '\r')
		n--;
	r->line[n] = 0;
	*len = n;
	r->lineno++;
	return 1;
}

static int text_reader_prime(struct trace_reader *r, char *err, size_t errlen);

int text_reader_start(struct trace_reader *r, bool gz, char *err, size_t errlen)
{
	r->gz = gz;
	r->inbuf = malloc(2 * TEXT_IN_BUF);
	r->line_cap = 2 * TEXT_LINE_MAX;
	r->line = malloc(r->line_cap);
	if (!r->inbuf || !r->line) {
		snprintf(err, errlen, "%s: out of memory", r->name);
		return -1;
	}
	if (gz) {
		if (inflateInit2(&r->zs, 15 + 16) != Z_OK) {
			snprintf(err, errlen, "%s: inflateInit failed", r->name);
			return -1;
		}
		r->zs_ready = true;
	}
	return text_reader_prime(r, err, errlen);
}

void text_reader_free(struct trace_reader *r)
{
	if (r->zs_ready)
		inflateEnd(&r->zs);
	r->zs_ready = false;
	free(r->inbuf);
	free(r->line);
	r->inbuf = NULL;
	r->line = NULL;
}

/* ======================= parsing ======================= */

struct lexer {
	struct trace_reader *r;
	char *s;  /* the line */
	size_t i; /* cursor */
	char *err;
	size_t errlen;
};

static int lex_fail(struct lexer *lx, size_t col0, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int lex_fail(struct lexer *lx, size_t col0, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct trace_reader *r = lx->r;
	snprintf(r->fail_msg, sizeof(r->fail_msg), "%s:%llu:%zu: %s", r->name,
		 (unsigned long long)r->lineno, col0 + 1, msg);
	snprintf(lx->err, lx->errlen, "%s", r->fail_msg);
	r->failed = true;
	return -1;
}

static void skip_ws(struct lexer *lx)
{
	while (lx->s[lx->i] == ' ' || lx->s[lx->i] == '\t')
		lx->i++;
}

static bool at_end(struct lexer *lx) { return lx->s[lx->i] == 0; }

static bool is_sep(char c) { return c == 0 || c == ' ' || c == '\t'; }

/* Shows the offending token in messages, cut short. */
static const char *token_at(struct lexer *lx, size_t at, char *buf, size_t len)
{
	size_t n = 0;
	while (!is_sep(lx->s[at + n]) && n + 1 < len && n < 40)
		n++;
	memcpy(buf, lx->s + at, n);
	buf[n] = 0;
	return buf;
}

static int parse_uint(const char *s, size_t n, uint64_t *out, bool suffix)
{
	uint64_t v = 0, base = 10;
	size_t i = 0;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return -1;
	uint64_t mult = 1;
	if (suffix && base == 10) {
		const char *u = "KMGT";
		const char *k = n > 1 ? memchr(u, s[n - 1], 4) : NULL;
		if (k) {
			mult = 1ull << (10 * (unsigned)(k - u + 1));
			n--;
		}
	}
	for (; i < n; i++) {
		int d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return -1;
		v = v * base + (uint64_t)d;
	}
	if (v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/* A quoted string's body starting after the opening quote; unescapes in place into buf. */
static int parse_quoted(struct lexer *lx, char *buf, size_t *len)
{
	size_t n = 0;
	for (;;) {
		char c = lx->s[lx->i];
		if (c == 0)
			return lex_fail(lx, lx->i, "unterminated string: expected a closing '\"'");
		lx->i++;
		if (c == '"')
			break;
		if (c == '\\') {
			size_t at = lx->i - 1;
			char e = lx->s[lx->i++];
			if (e == 'n')
				c = '\n';
			else if (e == 't')
				c = '\t';
			else if (e == 'r')
				c = '\r';
			else if (e == '"' || e == '\\')
				c = e;
			else if (e == 'x') {
				uint64_t v;
				if (!lx->s[lx->i] || !lx->s[lx->i + 1] ||
				    parse_uint((char[]){'0', 'x', lx->s[lx->i], lx->s[lx->i + 1]},
					       4, &v, false))
					return lex_fail(lx, at, "bad escape: expected \\xHH");
				if (v == 0)
					return lex_fail(lx, at, "\\x00: strings cannot hold NUL");
				lx->i += 2;
				c = (char)v;
			} else {
				return lex_fail(
				    lx, at, "bad escape: expected \\n \\t \\r \\\" \\\\ or \\xHH");
			}
		}
		if (n == STRTAB_MAX_LEN)
			return lex_fail(lx, lx->i, "string longer than %d bytes", STRTAB_MAX_LEN);
		buf[n++] = c;
	}
	if (!is_sep(lx->s[lx->i]))
		return lex_fail(lx, lx->i, "expected a space after the closing '\"'");
	*len = n;
	return 0;
}

/* Reads a value: quoted string into buf (unescaped) or a bare word (pointer into the line). */
static int lex_value(struct lexer *lx, const char **v, size_t *vlen, char *buf)
{
	if (lx->s[lx->i] == '"') {
		lx->i++;
		*v = buf;
		return parse_quoted(lx, buf, vlen);
	}
	size_t at = lx->i;
	while (!is_sep(lx->s[lx->i]))
		lx->i++;
	*v = lx->s + at;
	*vlen = lx->i - at;
	return 0;
}

static int parse_flag_list(const char *v, size_t n, const struct flag_name *names, bool allow_read,
			   uint64_t *out)
{
	uint64_t bits = 0;
	size_t i = 0;
	while (i < n) {
		const char *c = memchr(v + i, ',', n - i);
		size_t e = c ? (size_t)(c - v) : n, k = e - i;
		uint64_t num;
		const struct flag_name *f;
		for (f = names; f->name; f++)
			if (strlen(f->name) == k && memcmp(f->name, v + i, k) == 0)
				break;
		bool is_read = allow_read && k == 4 && memcmp(v + i, "read", 4) == 0;
		if (f->name)
			bits |= f->bit;
		else if (is_read)
			;
		else if (parse_uint(v + i, k, &num, false))
			return -1;
		else
			bits |= num;
		if (!c)
			break;
		i = e + 1;
		if (i == n)
			return -1;
	}
	if (n == 0)
		return -1;
	*out = bits;
	return 0;
}

static void list_names(const struct flag_name *names, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = 0;
	for (const struct flag_name *f = names; f->name; f++)
		n +=
		    (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "", f->name);
}

static uint64_t max_of(const struct field *f)
{
	return f->width == 8 ? UINT64_MAX : f->width == 4 ? UINT32_MAX : UINT16_MAX;
}

static int parse_field_value(struct lexer *lx, const struct field *f, size_t at, const char *v,
			     size_t n, struct mm_event *ev)
{
	uint64_t x = 0;
	char names[160];
	switch (f->kind) {
	case K_HEX:
	case K_DEC:
	case K_XDEC:
		if (n && v[0] == '-')
			return lex_fail(lx, at, "%s: negative value: expected a number >= 0",
					f->name);
		if (parse_uint(v, n, &x, f->kind == K_HEX) || x > max_of(f))
			return lex_fail(lx, at,
					"%s: expected a number (decimal or 0x hex%s) up to %llu",
					f->name, f->kind == K_HEX ? ", K/M/G/T suffix" : "",
					(unsigned long long)max_of(f));
		break;
	case K_SDEC: {
		bool neg = n && v[0] == '-';
		if (parse_uint(v + neg, n - neg, &x, false) ||
		    x > (neg ? 0x80000000ull : INT32_MAX))
			return lex_fail(lx, at, "%s: expected a whole number (32-bit)", f->name);
		x = (uint32_t)(neg ? -(int64_t)x : (int64_t)x);
		break;
	}
	case K_STR: {
		uint32_t id = strtab_intern(&lx->r->strings, v, n);
		if (id == UINT32_MAX)
			return lex_fail(lx, at, "%s: string too long (at most %d bytes)", f->name,
					STRTAB_MAX_LEN);
		x = id;
		break;
	}
	case K_PROT:
		if (n == 3 && (v[0] == 'r' || v[0] == '-') && (v[1] == 'w' || v[1] == '-') &&
		    (v[2] == 'x' || v[2] == '-'))
			x = (v[0] == 'r' ? MM_PROT_READ : 0) | (v[1] == 'w' ? MM_PROT_WRITE : 0) |
			    (v[2] == 'x' ? MM_PROT_EXEC : 0);
		else if (parse_uint(v, n, &x, false) || x > max_of(f))
			return lex_fail(lx, at,
					"prot: expected rwx letters (e.g. rw-, r-x, ---) or a "
					"number");
		break;
	case K_MFLAGS:
	case K_ACCESS:
	case K_FFLAGS: {
		const struct flag_name *tab = f->kind == K_MFLAGS   ? text_mflag_names
					      : f->kind == K_ACCESS ? text_access_names
								    : text_fflag_names;
		if (parse_flag_list(v, n, tab, f->kind == K_ACCESS, &x) || x > max_of(f)) {
			list_names(tab, names, sizeof(names));
			return lex_fail(lx, at, "%s: expected a comma list of %s%s or numbers",
					f->name, f->kind == K_ACCESS ? "read," : "", names);
		}
		break;
	}
	}
	text_store(ev, f, x);
	return 0;
}

static int parse_ts(struct lexer *lx, uint64_t *ts)
{
	const char *s = lx->s + lx->i;
	uint64_t sec = 0, ns = 0;
	size_t i = 0;
	while (s[i] >= '0' && s[i] <= '9') {
		if (sec > (UINT64_MAX / 1000000000u - 9) / 10)
			return lex_fail(lx, lx->i, "timestamp too large");
		sec = sec * 10 + (uint64_t)(s[i++] - '0');
	}
	if (i == 0)
		goto bad;
	if (s[i] == '.') {
		i++;
		unsigned digits = 0;
		while (s[i] >= '0' && s[i] <= '9') {
			if (++digits > 9)
				return lex_fail(lx, lx->i,
						"timestamp: at most 9 decimals (nanoseconds)");
			ns = ns * 10 + (uint64_t)(s[i++] - '0');
		}
		if (!digits)
			goto bad;
		while (digits++ < 9)
			ns *= 10;
	}
	if (!is_sep(s[i]))
		goto bad;
	*ts = sec * 1000000000u + ns;
	lx->i += i;
	return 0;
bad:;
	char tok[48];
	return lex_fail(lx, lx->i,
			"expected a timestamp in seconds (e.g. 12.000345678), a comment or a "
			"directive; got '%s'",
			token_at(lx, lx->i, tok, sizeof(tok)));
}

static int find_type(const char *w, size_t n)
{
	for (int t = 1; t < EV_NR_TYPES; t++)
		if (strlen(mm_event_names[t]) == n && memcmp(mm_event_names[t], w, n) == 0)
			return t;
	return 0;
}

/* cpu=, pid= and the type's own fields, in any order, each at most once. */
static int parse_event(struct lexer *lx, struct mm_event *ev)
{
	char *sbuf = lx->r->line + lx->r->line_cap / 2; /* unescaped strings; see TEXT_LINE_MAX */
	size_t col[16] = {0}, cpu_col = 0, pid_col = 0, type_col = 0;
	uint32_t seen = 0;
	bool has_cpu = false, has_pid = false;
	const struct field *fields = NULL;
	memset(ev, 0, sizeof(*ev));
	if (parse_ts(lx, &ev->ts))
		return -1;
	for (;;) {
		skip_ws(lx);
		if (at_end(lx))
			break;
		size_t at = lx->i;
		while (!is_sep(lx->s[lx->i]) && lx->s[lx->i] != '=')
			lx->i++;
		size_t klen = lx->i - at;
		char tok[48];
		if (lx->s[lx->i] != '=') {
			if (fields)
				return lex_fail(lx, at,
						"expected KEY=VALUE after the event type, got '%s'",
						token_at(lx, at, tok, sizeof(tok)));
			int t = find_type(lx->s + at, klen);
			if (!t)
				return lex_fail(lx, at, "unknown event type '%s'",
						token_at(lx, at, tok, sizeof(tok)));
			ev->type = (uint8_t)t;
			fields = text_type_fields[t];
			type_col = at;
			continue;
		}
		lx->i++;
		const char *v;
		size_t vlen;
		size_t vat = lx->i;
		if (lex_value(lx, &v, &vlen, sbuf))
			return -1;
		if (klen == 3 && (!memcmp(lx->s + at, "cpu", 3) || !memcmp(lx->s + at, "pid", 3))) {
			bool is_cpu = lx->s[at] == 'c';
			uint64_t x;
			if ((is_cpu ? has_cpu : has_pid))
				return lex_fail(lx, at, "%s given twice", is_cpu ? "cpu" : "pid");
			if (vlen && v[0] == '-')
				return lex_fail(lx, vat,
						"%s: negative value: expected a number >= 0",
						is_cpu ? "cpu" : "pid");
			if (parse_uint(v, vlen, &x, false) ||
			    x > (is_cpu ? UINT16_MAX : UINT32_MAX))
				return lex_fail(lx, vat, "%s: expected a number up to %u",
						is_cpu ? "cpu" : "pid",
						is_cpu ? UINT16_MAX : UINT32_MAX);
			if (is_cpu) {
				ev->cpu = (uint16_t)x;
				has_cpu = true;
				cpu_col = vat;
			} else {
				ev->pid = (uint32_t)x;
				has_pid = true;
				pid_col = vat;
			}
			continue;
		}
		if (!fields)
			return lex_fail(lx, at,
					"expected the event type (fork, mmap, fault, ...) "
					"before '%s'",
					token_at(lx, at, tok, sizeof(tok)));
		int k;
		for (k = 0; fields[k].name; k++)
			if (strlen(fields[k].name) == klen &&
			    !memcmp(fields[k].name, lx->s + at, klen))
				break;
		if (!fields[k].name) {
			char names[200];
			size_t n = 0;
			names[0] = 0;
			for (int j = 0; fields[j].name; j++)
				n += (size_t)snprintf(names + n,
						      n < sizeof(names) ? sizeof(names) - n : 0,
						      "%s%s", j ? ", " : "", fields[j].name);
			lx->s[at + klen] = 0;
			return lex_fail(lx, at, "%s has no field '%s' (fields: %s)",
					mm_event_names[ev->type], lx->s + at, n ? names : "none");
		}
		if (seen & (1u << k))
			return lex_fail(lx, at, "%s given twice", fields[k].name);
		seen |= 1u << k;
		col[k] = vat;
		if (parse_field_value(lx, &fields[k], vat, v, vlen, ev))
			return -1;
	}
	(void)cpu_col;
	if (!fields)
		return lex_fail(lx, lx->i, "expected the event type (fork, mmap, fault, ...)");
	if (!has_pid)
		return lex_fail(lx, lx->i, "expected pid=N (every event names its task)");
	if (ev->ts < lx->r->last_ts) {
		uint64_t p = lx->r->last_ts;
		return lex_fail(lx, 0, "timestamp goes backwards: %llu.%09llu after %llu.%09llu",
				(unsigned long long)(ev->ts / 1000000000u),
				(unsigned long long)(ev->ts % 1000000000u),
				(unsigned long long)(p / 1000000000u),
				(unsigned long long)(p % 1000000000u));
	}
	const char *bad_field;
	char why[160];
	if (trace_check_event(ev, lx->r->strings.count, why, sizeof(why), &bad_field)) {
		size_t c = type_col;
		if (bad_field && !strcmp(bad_field, "pid"))
			c = pid_col;
		for (int k = 0; bad_field && fields[k].name; k++)
			if (!strcmp(fields[k].name, bad_field))
				c = (seen & (1u << k)) ? col[k] : lx->i;
		return lex_fail(lx, c, "%s", why);
	}
	return 0;
}

static int parse_directive(struct lexer *lx)
{
	char tok[48];
	lx->i += 2;
	skip_ws(lx);
	size_t at = lx->i;
	while (!is_sep(lx->s[lx->i]))
		lx->i++;
	size_t n = lx->i - at;
	skip_ws(lx);
	if (n == 12 && !memcmp(lx->s + at, "mmtrace-text", 12)) {
		uint64_t v;
		size_t vat = lx->i;
		while (!is_sep(lx->s[lx->i]))
			lx->i++;
		if (parse_uint(lx->s + vat, lx->i - vat, &v, false))
			return lex_fail(lx, vat, "expected the text format version number");
		if (v > MMT_TEXT_VERSION)
			return lex_fail(
			    lx, vat,
			    "text format version %llu is newer than this mmreplay reads "
			    "(%d); upgrade mmreplay",
			    (unsigned long long)v, MMT_TEXT_VERSION);
		if (v < 1)
			return lex_fail(lx, vat, "text format version 0 is not supported");
		return 0;
	}
	if (n == 6 && !memcmp(lx->s + at, "origin", 6)) {
		if (lx->r->saw_event)
			return lex_fail(lx, 0, "origin lines must come before the first event");
		size_t kat = lx->i;
		while (!is_sep(lx->s[lx->i]) && lx->s[lx->i] != '=')
			lx->i++;
		size_t klen = lx->i - kat;
		if (lx->s[lx->i] != '=' || klen == 0 || klen >= sizeof(lx->r->origin.key[0]))
			return lex_fail(lx, kat, "expected KEY=VALUE (key of 1 to %zu characters)",
					sizeof(lx->r->origin.key[0]) - 1);
		lx->i++;
		char vbuf[STRTAB_MAX_LEN + 1], key[32];
		const char *v;
		size_t vlen, vat = lx->i;
		if (lex_value(lx, &v, &vlen, vbuf))
			return -1;
		if (vlen >= sizeof(lx->r->origin.value[0]) || memchr(v, 0, vlen))
			return lex_fail(lx, vat, "origin value longer than %zu bytes",
					sizeof(lx->r->origin.value[0]) - 1);
		skip_ws(lx);
		if (!at_end(lx))
			return lex_fail(lx, lx->i, "expected the end of the line after the value");
		if (lx->r->origin.n == TRACE_ORIGIN_MAX)
			return lex_fail(lx, kat, "more than %d origin entries", TRACE_ORIGIN_MAX);
		memcpy(key, lx->s + kat, klen);
		key[klen] = 0;
		char val[256];
		memcpy(val, v, vlen);
		val[vlen] = 0;
		trace_origin_set(&lx->r->origin, key, val);
		return 0;
	}
	return lex_fail(lx, at, "unknown directive '%s' (expected mmtrace-text or origin)",
			token_at(lx, at, tok, sizeof(tok)));
}

/* Reads lines until an event line, handling comments and directives on the way; 1 when
 * r->line holds an event line (its cursor in *pos), 0 at the end, -1 on error. */
static int next_event_line(struct trace_reader *r, size_t *pos, char *err, size_t errlen)
{
	if (r->pending) {
		r->pending = false;
		*pos = r->pending_pos;
		return 1;
	}
	for (;;) {
		size_t len;
		int rc = read_line(r, &len, err, errlen);
		if (rc < 0) {
			snprintf(r->fail_msg, sizeof(r->fail_msg), "%s", err);
			r->failed = true;
			return -1;
		}
		if (rc == 0)
			return 0;
		struct lexer lx = {r, r->line, 0, err, errlen};
		/* the second half of r->line holds unescaped strings */
		if (len >= r->line_cap / 2)
			return lex_fail(&lx, 0, "line longer than %zu bytes", r->line_cap / 2 - 1);
		if (memchr(r->line, 0, len))
			return lex_fail(&lx, (size_t)((char *)memchr(r->line, 0, len) - r->line),
					"NUL byte in a text trace (is this a binary file?)");
		skip_ws(&lx);
		if (at_end(&lx))
			continue;
		if (lx.s[lx.i] == '#') {
			if (lx.s[lx.i + 1] == '!' && parse_directive(&lx))
				return -1;
			continue;
		}
		*pos = lx.i;
		return 1;
	}
}

/* The origin lines come before the first event: read them now, so the origin is known
 * as soon as the reader is open. */
static int text_reader_prime(struct trace_reader *r, char *err, size_t errlen)
{
	size_t pos;
	int rc = next_event_line(r, &pos, err, errlen);
	if (rc < 0)
		return -1;
	r->pending = rc == 1;
	r->pending_pos = pos;
	if (rc == 0)
		r->done = true;
	return 0;
}

ssize_t text_reader_next(struct trace_reader *r, struct mm_event *buf, size_t cap, char *err,
			 size_t errlen)
{
	size_t n = 0;
	while (n < cap) {
		size_t pos;
		int rc = next_event_line(r, &pos, err, errlen);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			r->done = true;
			break;
		}
		struct lexer lx = {r, r->line, pos, err, errlen};
		if (parse_event(&lx, &buf[n]))
			return -1;
		r->saw_event = true;
		r->last_ts = buf[n].ts;
		r->count++;
		n++;
	}
	return (ssize_t)n;
}
