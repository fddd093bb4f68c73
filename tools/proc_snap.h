/* The simulated machine's /proc at points of a replay: which files (--file), which points
 * (--at / --snapshot-at: a mark, an event count or a trace time), rendering them with
 * `head`-style headers, and snapshot directories written whole or not at all. Shared by
 * `mmreplay proc` and `mmreplay replay --snapshot-at`. docs/PROC.md. */
#ifndef MM_PROC_SNAP_H
#define MM_PROC_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"
#include "strbuf.h"

enum proc_file {
	PF_MEMINFO,
	PF_ZONEINFO,
	PF_BUDDYINFO,
	PF_PAGETYPEINFO,
	PF_VMSTAT,
	PF_SLABINFO,
	PF_VMALLOCINFO,
	PF_SWAPS,
	PF_UNUSABLE_INDEX,
	PF_EXTFRAG_INDEX,
	NR_PROC_FILES
};
enum pid_file { PIDF_STATUS, PIDF_OOM_SCORE, PIDF_OOM_SCORE_ADJ, NR_PID_FILES };

#define PROC_MAX_FILES 64

/* The files asked for, in the order asked, each once. */
struct proc_sel {
	uint32_t n;
	struct {
		int file; /* enum proc_file, or -1 for a per-PID file */
		uint32_t pid;
		enum pid_file pf;
	} item[PROC_MAX_FILES];
};

/* "meminfo,zoneinfo,123/status,all": -1 with a one-line reason in err. */
int proc_sel_parse(struct proc_sel *sel, const char *list, char *err, size_t errlen);
void proc_sel_all(struct proc_sel *sel); /* every system-wide file */
/* The names --file takes, for --help. */
extern const char proc_file_names_help[];

/* Every selected file, each after a "==> /proc/NAME <==" line, a blank line between files
 * (head(1) of several files). -1 with err when a selected pid is not a task. */
int proc_render(struct strbuf *sb, struct sim *s, const struct proc_sel *sel, char *err,
		size_t errlen);

enum proc_point_kind { PP_MARK, PP_INDEX, PP_TIME, PP_END };

struct proc_point {
	enum proc_point_kind kind;
	const char *arg;  /* as given: names the snapshot directory */
	const char *mark; /* PP_MARK */
	uint64_t value;	  /* PP_INDEX: events applied; PP_TIME: ns */
	bool taken;
};

/* "after setup" or "mark:NAME" → mark; "1500" → after 1500 events; "2.5s", "300ms",
 * "20us", "7ns" → after every event at or before that trace time. -1 with err. */
int proc_point_parse(struct proc_point *p, const char *arg, char *err, size_t errlen);

#define PROC_MAX_POINTS 64
#define PROC_MAX_MARKS_LISTED 32

/* Snapshot points along one replay. The driver calls proc_points_due before applying each
 * event (one comparison chain, no call) and proc_points_step when it says so. */
struct proc_points {
	struct proc_point p[PROC_MAX_POINTS];
	uint32_t n, left;
	uint64_t next_index; /* smallest pending count of applied events, or UINT64_MAX */
	uint64_t next_ts;    /* smallest pending time, or UINT64_MAX */
	bool after_mark;     /* the last event applied was a mark */
	uint32_t last_mark;  /* its name (string id) */
	uint32_t marks[PROC_MAX_MARKS_LISTED]; /* distinct mark names seen (string ids) */
	uint32_t nr_marks;
	bool more_marks;
	/* called with the point reached and the simulator; nonzero aborts the replay */
	int (*take)(void *ctx, const struct proc_point *pt, struct sim *s);
	void *ctx;
};

void proc_points_init(struct proc_points *pp);
int proc_points_add(struct proc_points *pp, const char *arg, char *err, size_t errlen);

static inline bool proc_points_due(const struct proc_points *pp, const struct mm_event *ev,
				   uint64_t applied)
{
	return applied >= pp->next_index || ev->ts > pp->next_ts || pp->after_mark ||
	       ev->type == EV_MARK;
}
/* Before applying ev (applied events so far): take the points that are due. */
int proc_points_step(struct proc_points *pp, struct sim *s, const struct mm_event *ev,
		     uint64_t applied);
/* At the end of the trace: the remaining count/time points (a time after the last event
 * is the end state); an index past the end or a mark never seen is an error (-1, err lists
 * the marks the trace has). Nonzero from take is returned as is. */
int proc_points_finish(struct proc_points *pp, struct sim *s, uint64_t applied, char *err,
		       size_t errlen);

/* DIR/<point>/ with every system-wide file (extfrag/ files in a subdirectory): written to
 * a temporary directory and renamed into place; an older snapshot of that name is
 * replaced. -1 with err. */
int proc_snapshot_write(const char *dir, const char *point, struct sim *s, char *err,
			size_t errlen);

#endif
