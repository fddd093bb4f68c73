/* A growable text buffer for the /proc-style renderers. Memory only: the engine never does
 * I/O, the caller writes buf[0..len) wherever it wants. On host allocation failure the
 * buffer stops growing and sets oom; later appends are dropped. */
#ifndef MM_STRBUF_H
#define MM_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf; /* NUL-terminated when len > 0 */
	size_t len, cap;
	bool oom;
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
