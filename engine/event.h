/* The engine's input language: one fixed-size record per event. Traces (.mmt, text,
 * imported trace.dat, generators) all decode to arrays of struct mm_event.
 * Strings (comm, filename, cache name, mark name) are ids into a struct strtab. */
#ifndef MM_EVENT_H
#define MM_EVENT_H

#include <stdint.h>

enum mm_event_type {
	EV_FORK = 1,       /* pid forks fork.child (fork.flags: FORK_THREAD shares the mm) */
	EV_EXEC,           /* pid execs exec.filename: fresh address space */
	EV_EXIT,           /* pid exits; its mm goes when the last thread goes */
	EV_MMAP,           /* map.addr (result), map.len, prot, flags, file, pgoff */
	EV_MUNMAP,         /* range.addr, range.len */
	EV_MPROTECT,       /* range.addr, range.len, range.prot */
	EV_MREMAP,         /* remap.old_addr, old_len -> new_addr, new_len */
	EV_BRK,            /* brk.addr: new program break (brk.old: previous, 0 if unknown) */
	EV_FAULT,          /* fault.addr, fault.access (FAULT_*) */
	EV_TOUCH,          /* touch.addr, touch.len: every page of the range touched in order */
	EV_KMALLOC,        /* kmem.ptr, bytes_req, bytes_alloc, gfp, call_site */
	EV_KFREE,          /* kmem.ptr, call_site */
	EV_CACHE_ALLOC,    /* kmem.ptr, bytes_req (object size), bytes_alloc, gfp, cache (name id) */
	EV_CACHE_FREE,     /* kmem.ptr, cache */
	EV_VMALLOC,        /* vmalloc.addr (0 = unknown), size, caller */
	EV_VFREE,          /* vmalloc.addr */
	EV_PAGE_ALLOC,     /* page.pfn, order, gfp, migratetype — page-level replay only */
	EV_PAGE_FREE,      /* page.pfn, order */
	EV_SET_OOM_SCORE_ADJ, /* adj.value in [-1000, 1000] */
	EV_COMM,           /* comm.name: the task renames itself */
	EV_MARK,           /* mark.name: a named point in the trace (snapshots, plots) */
	EV_NR_TYPES
};

/* mmap prot (PROT_*) */
#define MM_PROT_READ 0x1u
#define MM_PROT_WRITE 0x2u
#define MM_PROT_EXEC 0x4u

/* mmap flags (the engine's own bits) */
#define MM_MAP_SHARED 0x01u
#define MM_MAP_PRIVATE 0x02u
#define MM_MAP_ANON 0x04u
#define MM_MAP_FIXED 0x08u
#define MM_MAP_STACK 0x10u
#define MM_MAP_GROWSDOWN 0x20u
#define MM_MAP_NORESERVE 0x40u
#define MM_MAP_POPULATE 0x80u
#define MM_MAP_ADDR_UNKNOWN 0x100u /* the trace did not record where the kernel placed it */
#define MM_MAP_FAILED 0x200u       /* the recording kernel refused it (ENOMEM) */

/* fault / touch access */
#define FAULT_READ 0x0u
#define FAULT_WRITE 0x1u
#define FAULT_EXEC 0x2u
#define FAULT_KERNEL 0x4u /* page_fault_kernel */

/* fork flags */
#define FORK_THREAD 0x1u  /* CLONE_VM: a thread sharing the parent's mm */
#define FORK_VFORK 0x2u

struct mm_event {
	uint64_t ts;       /* ns since trace start, non-decreasing */
	uint32_t pid;      /* acting task (never 0) */
	uint16_t cpu;
	uint8_t type;      /* enum mm_event_type */
	uint8_t _pad;
	union {
		struct { uint32_t child, flags; } fork;
		struct { uint32_t filename; } exec;
		struct {
			uint64_t addr, len, pgoff;
			uint16_t prot, flags;
			uint32_t file; /* string id of the file name, 0 for anonymous */
		} map;
		struct { uint64_t addr, len; uint32_t prot; } range;
		struct { uint64_t old_addr, old_len, new_addr, new_len; } remap;
		struct { uint64_t addr, old; } brk;
		struct { uint64_t addr; uint32_t access; } fault;
		struct { uint64_t addr, len; uint32_t access; } touch;
		struct {
			uint64_t ptr, call_site;
			uint32_t bytes_req, bytes_alloc;
			uint32_t gfp;
			uint32_t cache; /* string id of the cache name, 0 for kmalloc */
		} kmem;
		struct { uint64_t addr, size, caller; } vmalloc;
		struct { uint64_t pfn; uint32_t order, gfp, migratetype; } page;
		struct { int32_t value; } adj;
		struct { uint32_t name; } comm;
		struct { uint32_t name; } mark;
	} u;
};

_Static_assert(sizeof(struct mm_event) == 48, "struct mm_event is 48 bytes");

/* Canonical lower-case names ("fork", "mmap", "kmalloc", ...) used by text format and stat. */
extern const char *const mm_event_names[EV_NR_TYPES];

#endif
