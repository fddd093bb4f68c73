/* Reading and writing traces: the binary .mmt format and the text format (traces/FORMAT.md).
 * The reader sniffs the format (gzip magic + mmt magic, gzip'd text, plain text). Writers
 * write to PATH.tmp and rename on close, so a failed run never leaves a partial file. */
#ifndef MM_TRACE_IO_H
#define MM_TRACE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"
#include "strtab.h"

/* Where a trace came from: ordered key=value pairs ("generator", "seed", "source",
 * "kernel", "page_size", "nr_cpus", ...), stored in the .mmt header. */
#define TRACE_ORIGIN_MAX 32
struct trace_origin {
	int n;
	char key[TRACE_ORIGIN_MAX][32];
	char value[TRACE_ORIGIN_MAX][256];
};
void trace_origin_set(struct trace_origin *o, const char *key, const char *value);
const char *trace_origin_get(const struct trace_origin *o, const char *key);

enum trace_format { TRACE_MMT, TRACE_TEXT, TRACE_TEXT_GZ };
/* From the file name: *.mmt → MMT, *.gz (e.g. *.txt.gz) → TEXT_GZ, anything else → TEXT. */
enum trace_format trace_format_for_path(const char *path);

struct trace_writer;
/* path "-" writes to stdout (no temp file). */
struct trace_writer *trace_writer_open(const char *path, enum trace_format fmt,
				       const struct trace_origin *origin, char *err, size_t errlen);
/* Strings must be interned through the writer before an event names them. Ids are the
 * writer's; the .mmt file renumbers strings in order of first use by an event. */
uint32_t trace_writer_intern(struct trace_writer *w, const char *s);
/* Checks the event (pid != 0, ts non-decreasing, required sizes, defined strings: the
 * reader's checks, traces/FORMAT.md) and appends it; -1 with err when refused. */
int trace_writer_put(struct trace_writer *w, const struct mm_event *ev, char *err, size_t errlen);
/* Finish (trailer, index), fsync-free close, rename over path. 0 or -1 with err (then the
 * temp file is removed). Frees w either way. */
int trace_writer_close(struct trace_writer *w, char *err, size_t errlen);
/* Drop everything written; removes the temp file. */
void trace_writer_abort(struct trace_writer *w);
uint64_t trace_writer_count(const struct trace_writer *w);

struct trace_reader;
/* path "-" reads stdin. */
struct trace_reader *trace_reader_open(const char *path, char *err, size_t errlen);
const struct trace_origin *trace_reader_origin(const struct trace_reader *r);
/* The strings seen so far; stable pointer, grows as the reader advances. */
const struct strtab *trace_reader_strings(const struct trace_reader *r);
/* Fills up to cap events. Returns the number read, 0 at a clean end, -1 on error
 * (err names the file and the line or byte offset, and what was expected). */
ssize_t trace_reader_next(struct trace_reader *r, struct mm_event *buf, size_t cap, char *err,
			  size_t errlen);
enum trace_format trace_reader_format(const struct trace_reader *r);
void trace_reader_close(struct trace_reader *r);

/* Additions (tools/mmt owner): */
/* A reader over a memory buffer (fuzzing, tests); name is used in messages. buf must stay
 * valid until close. */
struct trace_reader *trace_reader_open_mem(const void *buf, size_t len, const char *name, char *err,
					   size_t errlen);
/* Right after open: start reading near event index from_ev / time from_ts (whichever
 * comes first), using the .mmt trailer's block index, so the next batch begins at a block
 * boundary at or before that point (check trace_reader_count() for the index of the next
 * event; the caller skips the few events before its target). Does nothing (0) for text,
 * for unseekable sources (pipes) or when called later; -1 with err if the trailer is
 * missing or corrupt. */
int trace_reader_skip_to(struct trace_reader *r, uint64_t from_ev, uint64_t from_ts, char *err,
			 size_t errlen);
/* Events read so far (the index of the next event). */
uint64_t trace_reader_count(const struct trace_reader *r);
/* The string field of ev's type (exec.filename, map.file, kmem.cache of cache_alloc/free,
 * comm.name, mark.name), or NULL when the type has none. */
uint32_t *trace_event_string(struct mm_event *ev);
/* Deflate level of .mmt blocks unless set otherwise (traces/FORMAT.md, "Compression"). */
#define TRACE_DEFAULT_LEVEL 1
/* Deflate level (libdeflate's scale: 1..12, or 0 for stored blocks) for the blocks written
 * from now on; .mmt only (no effect on text). -1 when out of range or out of memory. */
int trace_writer_set_level(struct trace_writer *w, int level);
/* put() for an event whose string ids belong to strings (e.g. a reader's): interns them. */
int trace_writer_put_from(struct trace_writer *w, const struct mm_event *ev,
			  const struct strtab *strings, char *err, size_t errlen);

/* A function folded over the events batch by batch (replay: trace_hash_events). */
typedef uint64_t trace_fold_fn(uint64_t h, const struct mm_event *ev, size_t n);
/* Right after open: decode ahead on a second thread, when the process may run on more than
 * one CPU. The batches are those trace_reader_next(r, buf, batch) would return, in order,
 * ending with the same error; each is folded (fold, unless NULL) into init on that thread.
 * 1 when started; 0 when not (one CPU, or no memory or thread): read with trace_reader_next
 * then. Once started, read only with trace_reader_next_batch; trace_reader_strings is then
 * the consumer's copy, holding the strings defined up to the last batch handed out. */
int trace_reader_ahead(struct trace_reader *r, size_t batch, trace_fold_fn *fold, uint64_t init);
/* The next batch in place (valid until the next call): its size, 0 at the end, -1 with err
 * (then again at every call). */
ssize_t trace_reader_next_batch(struct trace_reader *r, const struct mm_event **batch, char *err,
				size_t errlen);
/* The fold over every event, once trace_reader_next_batch returned 0. */
uint64_t trace_reader_fold(const struct trace_reader *r);

#endif
