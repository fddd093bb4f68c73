/* The text trace format (traces/FORMAT.md): one event per line, `# comments`, `#!`
 * directives for the version and the origin. One table of fields per event type drives
 * both the printer and the parser, so every field of every type can be written. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "text_fields.h"
#include "trace_impl.h"

#define F(n, k, mem, opt)                                                                          \
	{                                                                                          \
		n, k, sizeof(((struct mm_event *)0)->u.mem), opt, offsetof(struct mm_event, u.mem) \
	}
#define END                                                                                        \
	{                                                                                          \
		NULL, 0, 0, 0, 0                                                                   \
	}

static const struct field f_fork[] = {F("child", K_DEC, fork.child, 0),
				      F("flags", K_FFLAGS, fork.flags, 1), END};
static const struct field f_exec[] = {F("filename", K_STR, exec.filename, 0), END};
static const struct field f_none[] = {END};
static const struct field f_mmap[] = {F("addr", K_HEX, map.addr, 0),
				      F("len", K_HEX, map.len, 0),
				      F("prot", K_PROT, map.prot, 0),
				      F("flags", K_MFLAGS, map.flags, 0),
				      F("pgoff", K_HEX, map.pgoff, 1),
				      F("file", K_STR, map.file, 1),
				      END};
static const struct field f_munmap[] = {F("addr", K_HEX, range.addr, 0),
					F("len", K_HEX, range.len, 0), END};
static const struct field f_mprotect[] = {F("addr", K_HEX, range.addr, 0),
					  F("len", K_HEX, range.len, 0),
					  F("prot", K_PROT, range.prot, 0), END};
static const struct field f_mremap[] = {
    F("old_addr", K_HEX, remap.old_addr, 0), F("old_len", K_HEX, remap.old_len, 0),
    F("new_addr", K_HEX, remap.new_addr, 0), F("new_len", K_HEX, remap.new_len, 0), END};
static const struct field f_brk[] = {F("addr", K_HEX, brk.addr, 0), F("old", K_HEX, brk.old, 1),
				     END};
static const struct field f_fault[] = {F("addr", K_HEX, fault.addr, 0),
				       F("access", K_ACCESS, fault.access, 0), END};
static const struct field f_touch[] = {F("addr", K_HEX, touch.addr, 0),
				       F("len", K_HEX, touch.len, 0),
				       F("access", K_ACCESS, touch.access, 0), END};
static const struct field f_kmalloc[] = {F("ptr", K_HEX, kmem.ptr, 0),
					 F("bytes_req", K_DEC, kmem.bytes_req, 0),
					 F("bytes_alloc", K_DEC, kmem.bytes_alloc, 0),
					 F("gfp", K_XDEC, kmem.gfp, 0),
					 F("call_site", K_HEX, kmem.call_site, 0),
					 END};
static const struct field f_kfree[] = {F("ptr", K_HEX, kmem.ptr, 0),
				       F("call_site", K_HEX, kmem.call_site, 0), END};
static const struct field f_cache_alloc[] = {F("ptr", K_HEX, kmem.ptr, 0),
					     F("bytes_req", K_DEC, kmem.bytes_req, 0),
					     F("bytes_alloc", K_DEC, kmem.bytes_alloc, 0),
					     F("gfp", K_XDEC, kmem.gfp, 0),
					     F("cache", K_STR, kmem.cache, 0),
					     F("call_site", K_HEX, kmem.call_site, 0),
					     END};
static const struct field f_cache_free[] = {F("ptr", K_HEX, kmem.ptr, 0),
					    F("cache", K_STR, kmem.cache, 0),
					    F("call_site", K_HEX, kmem.call_site, 0), END};
static const struct field f_vmalloc[] = {F("addr", K_HEX, vmalloc.addr, 0),
					 F("size", K_HEX, vmalloc.size, 0),
					 F("caller", K_HEX, vmalloc.caller, 0), END};
static const struct field f_vfree[] = {F("addr", K_HEX, vmalloc.addr, 0), END};
static const struct field f_page_alloc[] = {
    F("pfn", K_HEX, page.pfn, 0), F("order", K_DEC, page.order, 0), F("gfp", K_XDEC, page.gfp, 0),
    F("migratetype", K_DEC, page.migratetype, 0), END};
static const struct field f_page_free[] = {F("pfn", K_HEX, page.pfn, 0),
					   F("order", K_DEC, page.order, 0), END};
static const struct field f_adj[] = {F("value", K_SDEC, adj.value, 0), END};
static const struct field f_comm[] = {F("name", K_STR, comm.name, 0), END};
static const struct field f_mark[] = {F("name", K_STR, mark.name, 0), END};

const struct field *const text_type_fields[EV_NR_TYPES] = {
    [EV_FORK] = f_fork,
    [EV_EXEC] = f_exec,
    [EV_EXIT] = f_none,
    [EV_MMAP] = f_mmap,
    [EV_MUNMAP] = f_munmap,
    [EV_MPROTECT] = f_mprotect,
    [EV_MREMAP] = f_mremap,
    [EV_BRK] = f_brk,
    [EV_FAULT] = f_fault,
    [EV_TOUCH] = f_touch,
    [EV_KMALLOC] = f_kmalloc,
    [EV_KFREE] = f_kfree,
    [EV_CACHE_ALLOC] = f_cache_alloc,
    [EV_CACHE_FREE] = f_cache_free,
    [EV_VMALLOC] = f_vmalloc,
    [EV_VFREE] = f_vfree,
    [EV_PAGE_ALLOC] = f_page_alloc,
    [EV_PAGE_FREE] = f_page_free,
    [EV_SET_OOM_SCORE_ADJ] = f_adj,
    [EV_COMM] = f_comm,
    [EV_MARK] = f_mark,
};

const struct flag_name text_mflag_names[] = {{MM_MAP_SHARED, "shared"},
					     {MM_MAP_PRIVATE, "private"},
					     {MM_MAP_ANON, "anon"},
					     {MM_MAP_FIXED, "fixed"},
					     {MM_MAP_STACK, "stack"},
					     {MM_MAP_GROWSDOWN, "growsdown"},
					     {MM_MAP_NORESERVE, "noreserve"},
					     {MM_MAP_POPULATE, "populate"},
					     {MM_MAP_ADDR_UNKNOWN, "addr_unknown"},
					     {MM_MAP_FAILED, "failed"},
					     {0, NULL}};
const struct flag_name text_access_names[] = {
    {FAULT_WRITE, "write"}, {FAULT_EXEC, "exec"}, {FAULT_KERNEL, "kernel"}, {0, NULL}};
const struct flag_name text_fflag_names[] = {
    {FORK_THREAD, "thread"}, {FORK_VFORK, "vfork"}, {0, NULL}};

/* ======================= printing ======================= */

struct out {
	char *p, *end;
};

static void put_c(struct out *o, char c)
{
	if (o->p < o->end)
		*o->p++ = c;
}

static void put_s(struct out *o, const char *s)
{
	while (*s)
		put_c(o, *s++);
}

static void put_f(struct out *o, const char *fmt, unsigned long long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), fmt, v);
	put_s(o, buf);
}

/* Bare when every byte is printable ASCII and none of `"`, `\`, `=`, `#`; quoted otherwise. */
static bool needs_quotes(const char *s, size_t len)
{
	if (len == 0)
		return true;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '=' || c == '#')
			return true;
	}
	return false;
}

static void put_string(struct out *o, const char *s, size_t len)
{
	if (!needs_quotes(s, len)) {
		for (size_t i = 0; i < len; i++)
			put_c(o, s[i]);
		return;
	}
	put_c(o, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			put_c(o, '\\');
			put_c(o, (char)c);
		} else if (c == '\n') {
			put_s(o, "\\n");
		} else if (c == '\t') {
			put_s(o, "\\t");
		} else if (c < 0x20 || c >= 0x7f) {
			put_f(o, "\\x%02llx", c);
		} else {
			put_c(o, (char)c);
		}
	}
	put_c(o, '"');
}

static void put_flags(struct out *o, uint64_t v, const struct flag_name *names, bool read_first)
{
	bool any = false;
	if (read_first && !(v & (FAULT_WRITE | FAULT_EXEC))) {
		put_s(o, "read");
		any = true;
	}
	for (const struct flag_name *n = names; n->name; n++) {
		if (v & n->bit) {
			if (any)
				put_c(o, ',');
			put_s(o, n->name);
			any = true;
			v &= ~(uint64_t)n->bit;
		}
	}
	if (v || !any) {
		if (any)
			put_c(o, ',');
		put_f(o, "0x%llx", v);
	}
}

static void put_value(struct out *o, const struct field *f, uint64_t v, const struct strtab *st)
{
	switch (f->kind) {
	case K_HEX:
	case K_XDEC:
		put_f(o, "0x%llx", v);
		break;
	case K_DEC:
		put_f(o, "%llu", v);
		break;
	case K_SDEC: {
		char buf[16];
		snprintf(buf, sizeof(buf), "%d", (int32_t)(uint32_t)v);
		put_s(o, buf);
		break;
	}
	case K_STR: {
		const char *s = strtab_get(st, (uint32_t)v);
		put_string(o, s ? s : "", s ? st->len[v] : 0);
		break;
	}
	case K_PROT:
		if (v & ~7ull) {
			put_f(o, "0x%llx", v);
		} else {
			put_c(o, v & MM_PROT_READ ? 'r' : '-');
			put_c(o, v & MM_PROT_WRITE ? 'w' : '-');
			put_c(o, v & MM_PROT_EXEC ? 'x' : '-');
		}
		break;
	case K_MFLAGS:
		put_flags(o, v, text_mflag_names, false);
		break;
	case K_ACCESS:
		put_flags(o, v, text_access_names, true);
		break;
	case K_FFLAGS:
		put_flags(o, v, text_fflag_names, false);
		break;
	}
}

size_t text_format_event(char *out, size_t cap, const struct mm_event *ev,
			 const struct strtab *strings)
{
	struct out o = {out, out + cap - 1};
	char head[96];
	snprintf(head, sizeof(head), "%llu.%09llu cpu=%u pid=%u %s",
		 (unsigned long long)(ev->ts / 1000000000u),
		 (unsigned long long)(ev->ts % 1000000000u), ev->cpu, ev->pid,
		 ev->type < EV_NR_TYPES ? mm_event_names[ev->type] : "?");
	put_s(&o, head);
	const struct field *f = ev->type < EV_NR_TYPES ? text_type_fields[ev->type] : NULL;
	for (; f && f->name; f++) {
		uint64_t v = text_load(ev, f);
		if (f->optional && !v)
			continue;
		put_c(&o, ' ');
		put_s(&o, f->name);
		put_c(&o, '=');
		put_value(&o, f, v, strings);
	}
	put_c(&o, '\n');
	*o.p = 0;
	return (size_t)(o.p - out);
}

static int out_write(struct trace_writer *w, const char *s, size_t n, char *err, size_t errlen)
{
	bool ok = w->gz ? gzwrite(w->gz, s, (unsigned)n) == (int)n : fwrite(s, 1, n, w->f) == n;
	if (!ok)
		snprintf(err, errlen, "%s: write failed: %s", w->path, strerror(errno));
	return ok ? 0 : -1;
}

int text_writer_start(struct trace_writer *w, const struct trace_origin *o, char *err,
		      size_t errlen)
{
	w->line_cap = TEXT_LINE_MAX;
	w->line = malloc(w->line_cap);
	if (!w->line) {
		snprintf(err, errlen, "%s: out of memory", w->path);
		return -1;
	}
	struct out out = {w->line, w->line + w->line_cap - 1};
	put_f(&out, "#! mmtrace-text %llu\n", MMT_TEXT_VERSION);
	for (int i = 0; o && i < o->n; i++) {
		put_s(&out, "#! origin ");
		put_s(&out, o->key[i]);
		put_c(&out, '=');
		put_string(&out, o->value[i], strlen(o->value[i]));
		put_c(&out, '\n');
	}
	return out_write(w, w->line, (size_t)(out.p - w->line), err, errlen);
}

int text_writer_put(struct trace_writer *w, const struct mm_event *ev, char *err, size_t errlen)
{
	size_t n = text_format_event(w->line, w->line_cap, ev, &w->strings);
	return out_write(w, w->line, n, err, errlen);
}
