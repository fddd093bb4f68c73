/* libFuzzer target: arbitrary bytes through the .mmt reader; it must return events or one
 * error, never crash, hang or leak.
 *
 * Two modes, so mutations reach past the gzip CRCs into the record decoder:
 * - raw: the input is the file (seeds: valid .mmt files);
 * - wrapped: input 'W' then chunks of (u16 LE length, payload): each payload is wrapped
 *   into a valid .mmt member (deflated, correct CRC and sizes), so the fuzzer mutates the
 *   uncompressed block payloads directly (seeds: tests/fuzz/corpus/fuzz_mmt/w-*). */
#include <libdeflate.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Wraps each chunk into a member; returns the file (malloc'd) and its length. */
static uint8_t *wrap(const uint8_t *data, size_t size, size_t *len)
{
	static struct libdeflate_compressor *c;
	if (!c)
		c = libdeflate_alloc_compressor(1);
	size_t cap = 64 + size * 2 + 64 * (size / 2 + 1), n = 0;
	uint8_t *out = malloc(cap);
	size_t i = 1;
	while (i + 2 <= size) {
		size_t clen = data[i] | (size_t)data[i + 1] << 8;
		i += 2;
		if (clen > size - i)
			clen = size - i;
		uint8_t *m = out + n;
		static const uint8_t hdr[16] = {0x1f, 0x8b, 8, 4, 0,   0,   0, 0,
						0,    0xff, 8, 0, 'M', 'T', 4, 0};
		memcpy(m, hdr, 16);
		size_t z = libdeflate_deflate_compress(c, data + i, clen, m + 20, cap - n - 28);
		if (!z)
			break;
		le32(m + 16, (uint32_t)(20 + z + 8));
		le32(m + 20 + z, libdeflate_crc32(0, data + i, clen));
		le32(m + 24 + z, (uint32_t)clen);
		n += 28 + z;
		i += clen;
	}
	*len = n;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	uint8_t *owned = NULL;
	if (size && data[0] == 'W') {
		owned = wrap(data, size, &size);
		data = owned;
	}
	struct trace_reader *r = trace_reader_open_mem(data, size, "fuzz.mmt", err, sizeof(err));
	/* odd sizes also start in the middle, through the trailer's index */
	if (r && (size & 1) && trace_reader_skip_to(r, 3, 0, err, sizeof(err)) == 0 &&
	    trace_reader_count(r) > 3)
		abort();
	if (r) {
		static struct mm_event buf[4096];
		while (trace_reader_next(r, buf, 4096, err, sizeof(err)) > 0)
			;
		trace_reader_close(r);
	}
	free(owned);
	return 0;
}
