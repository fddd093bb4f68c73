/* Internals shared by the trace codecs (tools/mmt.c, tools/text.c) and the public entry
 * points (tools/trace_io.c). Not an API: only the trace code includes it. */
#ifndef MM_TRACE_IMPL_H
#define MM_TRACE_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <zlib.h>

struct libdeflate_compressor;

#include "trace_io.h"

/* ---- .mmt constants (traces/FORMAT.md) ---- */
#define MMT_VERSION 1
#define MMT_MAGIC "MMTRACE\x1a"
#define MMT_MAGIC_LEN 8
#define MMT_BLOCK_MAX 65536u /* uncompressed payload of one member */
/* Deflate level of .mmt blocks unless `convert --level` says otherwise. Level 1: on the
 * default mix trace 1.5x faster to write than level 6 for 3% more bytes
 * (docs/BENCHMARKING.md). */
#define MMT_DEFAULT_LEVEL TRACE_DEFAULT_LEVEL
#define MMT_MEMBER_MAX (MMT_BLOCK_MAX + 1024u)
#define MMT_GZ_HDR 20u	 /* gzip header with the 8-byte FEXTRA */
#define MMT_GZ_TRL 8u	 /* CRC32 + ISIZE */
#define MMT_TAIL_LEN 64u /* payload of the tail member */
#define MMT_TAIL_MEMBER (MMT_GZ_HDR + 5u + MMT_TAIL_LEN + MMT_GZ_TRL)
#define MMT_SLACK 256u	    /* zeroed bytes after a payload: unchecked varint reads */
#define MMT_REC_STRING 0x1f /* record code of an inline string definition */
#define MMT_TEXT_VERSION 1

enum { MMT_F_SAME_CPU = 0x20, MMT_F_SAME_PID = 0x40, MMT_F_SAME_TS = 0x80, MMT_TYPE_MASK = 0x1f };

/* The delta bases and dictionaries: reset at the start of every event block, so each block
 * decodes alone (traces/FORMAT.md, "Event blocks"). */
#define MMT_PID_SLOTS 64  /* per-task user-address bases, slot = pid % 64 */
#define MMT_DICT_MAX 4096 /* entries per block of the call-site and gfp dictionaries */
struct mmt_regs {
	uint64_t ts, uaddr, kptr, site, vaddr, pfn;
	uint32_t pid;
	uint16_t cpu;
	uint32_t nr_site, nr_gfp;
	/* the per-task slots (pid, base address) as two arrays: a slot's fields are then
	 * one scaled index away, no multiply by the size of a pair */
	uint32_t uslot_pid[MMT_PID_SLOTS];
	uint64_t uslot_addr[MMT_PID_SLOTS];
};

/* The encoder's side of a dictionary: value -> index, emptied per block by a new gen. */
struct mmt_edict {
	struct {
		uint64_t key;
		uint32_t idx, gen;
	} slot[2 * MMT_DICT_MAX];
	uint32_t gen;
};

struct mmt_enc {
	struct mmt_regs regs;
	struct mmt_edict site, gfp;
};

struct mmt_dec {
	struct mmt_regs regs;
	uint64_t site[MMT_DICT_MAX];
	uint32_t gfp[MMT_DICT_MAX];
};

void mmt_block_reset(struct mmt_regs *r, uint64_t base_ts);
void mmt_enc_reset(struct mmt_enc *e, uint64_t base_ts);

/* ---- varints: LEB128, zigzag for signed ---- */
static inline uint8_t *mmt_put_uv(uint8_t *p, uint64_t v)
{
	/* one and two bytes (most fields) without a loop */
	if (__builtin_expect(v < 0x80, 1)) {
		*p = (uint8_t)v;
		return p + 1;
	}
	if (v < 0x4000) {
		p[0] = (uint8_t)(v | 0x80);
		p[1] = (uint8_t)(v >> 7);
		return p + 2;
	}
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* Little-endian fields of the gzip members and the tail */
static inline uint32_t mmt_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t mmt_le64(const uint8_t *p)
{
	return (uint64_t)mmt_le32(p + 4) << 32 | mmt_le32(p);
}

static inline uint64_t mmt_zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

static inline int64_t mmt_unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* The continuation bits that bytes 0..k-1 of a varint leave in the sum of its whole
 * bytes (0x80 << 7j for each of them): bits 7, 14, .., 7k. */
#define MMT_UV_CONT(k) (0x8102040810204080ull & (~0ull >> (63 - 7 * (k))))

/* A record's error flag as a word the decoder zeroes on a corrupt varint or a field out
 * of range (mmt_decode.h): the reader's loop passes its batch's end, which its test of the
 * end then takes for the record's error, and needs no flag of its own to clear and test
 * at every record (three instructions an event). */
typedef uintptr_t mmt_flag_t;

/* Byte k (1..9) of a varint, added whole at its place; the last one returns. Written out
 * rather than an unrolled loop: gcc keeps a loop's exits as one block after it, fed with
 * the byte's shift and the continuation bits in two registers set on every byte (two more
 * instructions a byte). The empty asm keeps the subtraction on this exit. */
#define MMT_UV_BYTE(k, set_bad)                                                                    \
	do {                                                                                       \
		b = p[k];                                                                          \
		v += b << (7 * (k));                                                               \
		if (b < 0x80) {                                                                    \
			if ((k) == 9 && b > 1)                                                     \
				set_bad;                                                           \
			uint64_t x = v - MMT_UV_CONT(k);                                           \
			__asm__("" : "+r"(x));                                                     \
			*out = x;                                                                  \
			return p + (k) + 1;                                                        \
		}                                                                                  \
	} while (0)

/* Each further byte is added whole at its place, and the continuation bits the sum picked
 * up are taken off once at the end: four instructions a byte instead of six (the overflow
 * test only on the tenth byte). */
#define MMT_GET_UV_BODY(set_bad)                                                                   \
	uint64_t b = p[0], v = b;                                                                  \
	if (b < 0x80) {                                                                            \
		*out = b;                                                                          \
		return p + 1;                                                                      \
	}                                                                                          \
	MMT_UV_BYTE(1, set_bad);                                                                   \
	MMT_UV_BYTE(2, set_bad);                                                                   \
	MMT_UV_BYTE(3, set_bad);                                                                   \
	MMT_UV_BYTE(4, set_bad);                                                                   \
	MMT_UV_BYTE(5, set_bad);                                                                   \
	MMT_UV_BYTE(6, set_bad);                                                                   \
	MMT_UV_BYTE(7, set_bad);                                                                   \
	MMT_UV_BYTE(8, set_bad);                                                                   \
	MMT_UV_BYTE(9, set_bad);                                                                   \
	set_bad;                                                                                   \
	*out = 0;                                                                                  \
	return p + 10

/* Reads at most 10 bytes; the caller guarantees they are addressable (slack). *bad is set
 * on an over-long or overflowing varint. */
static inline __attribute__((always_inline)) const uint8_t *mmt_get_uv(const uint8_t *p,
								    uint64_t *out, bool *bad)
{
	MMT_GET_UV_BODY(*bad = true);
}

/* mmt_get_uv with the error flag as a word (mmt_flag_t): zeroed on an over-long or
 * overflowing varint. */
static inline __attribute__((always_inline)) const uint8_t *
mmt_get_uvf(const uint8_t *p, uint64_t *out, mmt_flag_t *bad)
{
	MMT_GET_UV_BODY(*bad = 0);
}
#undef MMT_GET_UV_BODY
#undef MMT_UV_BYTE

/* Worst-case encoded size of one event record (without a string definition). */
#define MMT_EVENT_MAX 96u
uint8_t *mmt_encode_event(uint8_t *p, struct mmt_enc *e, const struct mm_event *ev);
/* mmt_decode_event(): tools/mmt_decode.h */

/* ---- writer ---- */
struct mmt_index_entry {
	uint64_t file_off, uoff, first_event, first_ts;
};

struct trace_writer {
	enum trace_format fmt;
	FILE *f;
	gzFile gz;
	char *path, *tmp;
	struct strtab strings; /* ids handed to the producer */
	uint64_t count, last_ts;
	/* .mmt */
	uint32_t *file_id; /* producer id -> id in the file (0 = not yet defined) */
	uint32_t file_id_cap, nr_file_strings;
	uint32_t *file_order; /* file id -> producer id */
	uint8_t *block;	      /* event block being filled (a buffer of the pool) */
	uint8_t *sync;	      /* header, index and string-table payloads */
	struct mmt_wpool *pool;
	uint32_t block_len, block_events;
	struct mmt_enc *enc;
	uint8_t *zbuf;
	struct libdeflate_compressor *zc;
	uint64_t file_off, uoff;
	struct mmt_index_entry *index;
	size_t nr_index, index_cap;
	/* text */
	char *line;
	size_t line_cap;
};

/* tools/mmt_wpool.c: event blocks compressed on worker threads, written in order. */
struct mmt_wpool *mmt_wpool_new(int level);
void mmt_wpool_free(struct mmt_wpool *p);
uint8_t *mmt_wpool_buffer(struct trace_writer *w, char *err, size_t errlen);
void mmt_wpool_submit(struct trace_writer *w, uint32_t len, size_t index_i);
int mmt_wpool_drain(struct trace_writer *w, char *err, size_t errlen);
int mmt_wpool_set_level(struct mmt_wpool *p, int level);
int mmt_write_bytes(struct trace_writer *w, const void *p, size_t n, char *err, size_t errlen);
/* A whole .mmt member for payload into out (MMT_MEMBER_MAX bytes); its size, 0 on failure. */
size_t mmt_build_member(struct libdeflate_compressor *c, const uint8_t *payload, uint32_t len,
			uint8_t *out);

int mmt_writer_start(struct trace_writer *w, const struct trace_origin *o, char *err,
		     size_t errlen);
int mmt_writer_put(struct trace_writer *w, const struct mm_event *ev, char *err, size_t errlen);
int mmt_writer_finish(struct trace_writer *w, char *err, size_t errlen);
void mmt_writer_free(struct trace_writer *w);

int text_writer_start(struct trace_writer *w, const struct trace_origin *o, char *err,
		      size_t errlen);
int text_writer_put(struct trace_writer *w, const struct mm_event *ev, char *err, size_t errlen);

/* ---- reader ---- */
/* A slot's payload is data[0, len) with MMT_SLACK zeroed bytes after it. data is buf, where
 * the member was inflated, or inside buf for a member of stored blocks, parsed where it was
 * read (buf and the pipe's member buffer are then swapped). */
#define MMT_SLOT_BUF (MMT_MEMBER_MAX + MMT_SLACK)
struct mmt_slot {
	uint8_t *buf; /* MMT_SLOT_BUF bytes */
	uint8_t *data;
	uint32_t len;
	uint64_t file_off, uoff;
	int state; /* 0 block, 1 clean end of file, 2 error (msg) */
	char msg[256];
};

#define MMT_NR_SLOTS 8

struct mmt_pipe {
	pthread_t thread;
	bool started, stop, sync_ready;
	uint64_t start_off, start_uoff;
	pthread_mutex_t lock;
	pthread_cond_t more, room;
	struct mmt_slot slot[MMT_NR_SLOTS];
	unsigned head, tail; /* consumer takes head, producer fills tail; counts, not indices */
	uint8_t *member;     /* compressed member being read by the producer (MMT_SLOT_BUF) */
	struct libdeflate_decompressor *dd;
};

struct trace_reader {
	enum trace_format fmt;
	char name[256];
	FILE *f;
	bool own_f;
	struct trace_origin origin;
	struct strtab strings;
	uint64_t count, last_ts;
	bool done, failed;
	char fail_msg[1024];
	/* .mmt: the block being parsed */
	struct mmt_pipe *pipe;
	struct mmt_slot *cur; /* NULL when none is held */
	const uint8_t *pos, *end;
	uint32_t block_left; /* events still to read in cur */
	struct mmt_dec *dec;
	uint64_t nr_blocks, nr_index_seen, index_hash, seen_hash, nr_table_strings;
	int phase;   /* 0 events, 1 index, 2 strings, 3 after tail */
	bool seeked; /* positioned by trace_reader_skip_to (tools/mmt_seek.c) */
	/* text */
	z_stream zs;
	bool gz, zs_ready, zs_eof;
	uint8_t *inbuf;
	size_t in_len, in_pos;
	char *line;
	size_t line_cap;
	uint64_t lineno;
	bool saw_event, pending;
	size_t pending_pos;
	/* the byte source: a FILE or a memory buffer, after the sniffed prefix */
	const uint8_t *mem;
	size_t mem_len, mem_pos;
	uint8_t peek[32];
	size_t peek_len, peek_pos;
	uint64_t src_off; /* bytes delivered by trace_src_read so far */
	struct trace_ahead *ahead; /* tools/trace_ahead.c, NULL unless decoding ahead */
};

/* tools/trace_ahead.c */
const struct strtab *trace_ahead_strings(const struct trace_reader *r);
void trace_ahead_stop(struct trace_reader *r);

/* Reads up to n bytes of the underlying file; returns fewer only at its end (or error). */
size_t trace_src_read(struct trace_reader *r, void *buf, size_t n);

int mmt_reader_start(struct trace_reader *r, char *err, size_t errlen);
ssize_t mmt_reader_next(struct trace_reader *r, struct mm_event *buf, size_t cap, char *err,
			size_t errlen);
void mmt_reader_free(struct trace_reader *r);
void mmt_fill_slot(struct trace_reader *r, struct mmt_slot *s, uint64_t *off, uint64_t *uoff);
void mmt_pipe_stop(struct trace_reader *r);
int mmt_pipe_start(struct trace_reader *r, uint64_t off, uint64_t uoff);
/* The consumer's side of the pipe: the next slot the thread made ready (waits for it), and
 * its release once parsed. */
struct mmt_slot *mmt_pipe_take(struct mmt_pipe *pp);
void mmt_pipe_release(struct mmt_pipe *pp);
/* Repositions the source (clears the sniffed prefix); -1 when it cannot seek. */
int trace_src_seek(struct trace_reader *r, uint64_t off);
/* The source's size when it is a regular file or memory; -1 otherwise. */
int trace_src_size(struct trace_reader *r, uint64_t *size);

int text_reader_start(struct trace_reader *r, bool gz, char *err, size_t errlen);
ssize_t text_reader_next(struct trace_reader *r, struct mm_event *buf, size_t cap, char *err,
			 size_t errlen);
void text_reader_free(struct trace_reader *r);

/* Shared semantic checks: 0 when ev is acceptable, else -1 with what is wrong in why and
 * the offending field's text name in *field (for the text reader's column). */
/* Types with a string, a required size or a bounded value: the others need no more than
 * a valid type and a pid, so the reader and the writer skip trace_check_event for them. */
#define MMT_CHECKED_TYPES                                                                          \
	(1u << EV_FORK | 1u << EV_EXEC | 1u << EV_MMAP | 1u << EV_MUNMAP | 1u << EV_MPROTECT |     \
	 1u << EV_MREMAP | 1u << EV_TOUCH | 1u << EV_CACHE_ALLOC | 1u << EV_CACHE_FREE |           \
	 1u << EV_VMALLOC | 1u << EV_SET_OOM_SCORE_ADJ | 1u << EV_COMM | 1u << EV_MARK)
/* Types with a string id (trace_event_string). */
#define MMT_STRING_TYPES                                                                           \
	(1u << EV_EXEC | 1u << EV_MMAP | 1u << EV_CACHE_ALLOC | 1u << EV_CACHE_FREE |              \
	 1u << EV_COMM | 1u << EV_MARK)
_Static_assert(EV_NR_TYPES <= 32, "the type masks are 32 bits");

int trace_check_event(const struct mm_event *ev, uint32_t nr_strings, char *why, size_t whylen,
		      const char **field);

/* Text spellings shared by the text codec and stat. */
size_t text_format_event(char *out, size_t cap, const struct mm_event *ev,
			 const struct strtab *strings);

#endif
