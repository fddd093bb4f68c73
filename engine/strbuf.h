/* A growable string buffer with printf: the engine renders text (/proc files) into memory
 * and leaves the I/O to its caller. */
#ifndef MM_STRBUF_H
#define MM_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf; /* NUL-terminated when len > 0 or after any append */
	size_t len, cap;
	bool oom; /* an append ran out of host memory; the text is truncated */
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
__attribute__((format(printf, 2, 3))) void strbuf_printf(struct strbuf *sb, const char *fmt, ...);
void strbuf_putc(struct strbuf *sb, char c);
/* The text so far ("" when empty). */
const char *strbuf_str(const struct strbuf *sb);

#endif
