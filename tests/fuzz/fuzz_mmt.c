/* libFuzzer target: arbitrary bytes through the trace reader as if they were a .mmt file.
 * The reader must return events or one error, never crash, hang or leak. Inputs that are
 * not gzip members take the text path, so seeds are valid .mmt files. */
#include <stddef.h>
#include <stdint.h>

#include "trace_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	struct trace_reader *r = trace_reader_open_mem(data, size, "fuzz.mmt", err, sizeof(err));
	if (!r)
		return 0;
	static struct mm_event buf[4096];
	while (trace_reader_next(r, buf, 4096, err, sizeof(err)) > 0)
		;
	trace_reader_close(r);
	return 0;
}
