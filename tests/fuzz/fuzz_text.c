/* libFuzzer target: arbitrary bytes through the text trace parser. Every event it accepts
 * is printed back as a text line, which must parse again to the same event (strings
 * compared by value): the printer and the parser agree on every field they can meet. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reparse(const struct mm_event *ev, const struct strtab *st)
{
	static char line[4 * STRTAB_MAX_LEN + 1024];
	char err[1024];
	size_t len = text_format_event(line, sizeof(line), ev, st);
	struct trace_reader *r = trace_reader_open_mem(line, len, "reparse", err, sizeof(err));
	if (!r)
		abort();
	struct mm_event back[2];
	if (trace_reader_next(r, back, 2, err, sizeof(err)) != 1)
		abort();
	struct mm_event x = *ev, y = back[0];
	uint32_t *px = trace_event_string(&x), *py = trace_event_string(&y);
	if (px) {
		const char *a = strtab_get(st, *px), *b = strtab_get(trace_reader_strings(r), *py);
		if (st->len[*px] != trace_reader_strings(r)->len[*py] ||
		    memcmp(a, b, st->len[*px]) != 0)
			abort();
		*px = *py = 0;
	}
	if (memcmp(&x, &y, sizeof(x)) != 0)
		abort();
	trace_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	/* the text path only: gzip'd inputs belong to fuzz_mmt */
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		return 0;
	struct trace_reader *r = trace_reader_open_mem(data, size, "fuzz.txt", err, sizeof(err));
	if (!r)
		return 0;
	static struct mm_event buf[64];
	ssize_t n;
	int checked = 0;
	while ((n = trace_reader_next(r, buf, 64, err, sizeof(err))) > 0)
		for (ssize_t i = 0; i < n && checked < 32; i++, checked++)
			reparse(&buf[i], trace_reader_strings(r));
	trace_reader_close(r);
	return 0;
}
