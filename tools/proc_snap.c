/* /proc files of the simulator at points of a replay (proc_snap.h). */
#include "proc_snap.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfs.h"
#include "sim_proc.h"

static const struct {
	const char *name; /* for --file */
	const char *path; /* the header, as on a real machine */
	const char *snap; /* the file's name in a snapshot directory */
} files[NR_PROC_FILES] = {
    [PF_MEMINFO] = {"meminfo", "/proc/meminfo", "meminfo"},
    [PF_ZONEINFO] = {"zoneinfo", "/proc/zoneinfo", "zoneinfo"},
    [PF_BUDDYINFO] = {"buddyinfo", "/proc/buddyinfo", "buddyinfo"},
    [PF_PAGETYPEINFO] = {"pagetypeinfo", "/proc/pagetypeinfo", "pagetypeinfo"},
    [PF_VMSTAT] = {"vmstat", "/proc/vmstat", "vmstat"},
    [PF_SLABINFO] = {"slabinfo", "/proc/slabinfo", "slabinfo"},
    [PF_VMALLOCINFO] = {"vmallocinfo", "/proc/vmallocinfo", "vmallocinfo"},
    [PF_SWAPS] = {"swaps", "/proc/swaps", "swaps"},
    [PF_UNUSABLE_INDEX] = {"unusable_index", "/sys/kernel/debug/extfrag/unusable_index",
			   "extfrag/unusable_index"},
    [PF_EXTFRAG_INDEX] = {"extfrag_index", "/sys/kernel/debug/extfrag/extfrag_index",
			  "extfrag/extfrag_index"},
};

static const char *const pid_files[NR_PID_FILES] = {"status", "oom_score", "oom_score_adj"};

const char proc_file_names_help[] =
    "meminfo, zoneinfo, buddyinfo, pagetypeinfo, vmstat, slabinfo, vmallocinfo, swaps,\n"
    "extfrag (= unusable_index + extfrag_index), PID/status, PID/oom_score,\n"
    "PID/oom_score_adj, all (every file that is not per PID)";

static int sel_add(struct proc_sel *sel, int file, uint32_t pid, enum pid_file pf)
{
	for (uint32_t i = 0; i < sel->n; i++)
		if (sel->item[i].file == file &&
		    (file >= 0 || (sel->item[i].pid == pid && sel->item[i].pf == pf)))
			return 0;
	if (sel->n >= PROC_MAX_FILES)
		return -1;
	sel->item[sel->n].file = file;
	sel->item[sel->n].pid = pid;
	sel->item[sel->n++].pf = pf;
	return 0;
}

void proc_sel_all(struct proc_sel *sel)
{
	for (int f = 0; f < NR_PROC_FILES; f++)
		sel_add(sel, f, 0, PIDF_STATUS); /* fits: NR_PROC_FILES < PROC_MAX_FILES */
}

/* "PID/FILE": 0, -1 if it is not of that form */
static int parse_pid_file(struct proc_sel *sel, const char *item, size_t len, char *err,
			  size_t errlen)
{
	char *end;
	unsigned long pid = strtoul(item, &end, 10);
	if (end == item || *end != '/' || pid == 0 || pid > UINT32_MAX || item[0] == '-' ||
	    item[0] == '+' || item[0] == ' ')
		return -1;
	const char *f = end + 1;
	size_t flen = len - (size_t)(f - item);
	for (int k = 0; k < NR_PID_FILES; k++) {
		if (strlen(pid_files[k]) != flen || strncmp(f, pid_files[k], flen) != 0)
			continue;
		if (sel_add(sel, -1, (uint32_t)pid, (enum pid_file)k)) {
			snprintf(err, errlen, "--file: at most %d files", PROC_MAX_FILES);
			return -2;
		}
		return 0;
	}
	return -1;
}

static int parse_item(struct proc_sel *sel, const char *item, size_t len, char *err, size_t errlen)
{
	if (len == 3 && strncmp(item, "all", 3) == 0) {
		proc_sel_all(sel);
		return 0;
	}
	if (len == 7 && strncmp(item, "extfrag", 7) == 0) {
		sel_add(sel, PF_UNUSABLE_INDEX, 0, PIDF_STATUS);
		return sel_add(sel, PF_EXTFRAG_INDEX, 0, PIDF_STATUS) ? -1 : 0;
	}
	for (int f = 0; f < NR_PROC_FILES; f++) {
		if (strlen(files[f].name) == len && strncmp(item, files[f].name, len) == 0) {
			if (sel_add(sel, f, 0, PIDF_STATUS)) {
				snprintf(err, errlen, "--file: at most %d files", PROC_MAX_FILES);
				return -1;
			}
			return 0;
		}
	}
	int r = parse_pid_file(sel, item, len, err, errlen);
	if (r == -1)
		snprintf(err, errlen, "--file: unknown file '%.*s' (expected one of: %s)", (int)len,
			 item,
			 "meminfo, zoneinfo, buddyinfo, pagetypeinfo, vmstat, slabinfo, "
			 "vmallocinfo, swaps, extfrag, unusable_index, extfrag_index, "
			 "PID/status, PID/oom_score, PID/oom_score_adj, all");
	return r < 0 ? -1 : 0;
}

int proc_sel_parse(struct proc_sel *sel, const char *list, char *err, size_t errlen)
{
	memset(sel, 0, sizeof(*sel));
	const char *p = list;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0) {
			snprintf(err, errlen, "--file=%s: empty file name in the list", list);
			return -1;
		}
		if (parse_item(sel, p, len, err, errlen))
			return -1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static void render_file(struct strbuf *sb, struct sim *s, enum proc_file f)
{
	switch (f) {
	case PF_MEMINFO:
		sim_proc_meminfo(sb, s);
		break;
	case PF_ZONEINFO:
		sim_proc_zoneinfo(sb, s);
		break;
	case PF_BUDDYINFO:
		procfs_buddyinfo(sb, &s->pgdat);
		break;
	case PF_PAGETYPEINFO:
		procfs_pagetypeinfo(sb, &s->pgdat);
		break;
	case PF_VMSTAT:
		sim_proc_vmstat(sb, s);
		break;
	case PF_SLABINFO:
		slub_render_slabinfo(&s->slub, sb);
		break;
	case PF_VMALLOCINFO:
		vmalloc_render_vmallocinfo(&s->vmalloc, sb);
		break;
	case PF_SWAPS:
		sim_proc_swaps(sb, s);
		break;
	case PF_UNUSABLE_INDEX:
		procfs_unusable_index(sb, &s->pgdat);
		break;
	case PF_EXTFRAG_INDEX:
		procfs_extfrag_index(sb, &s->pgdat);
		break;
	case NR_PROC_FILES:
		break;
	}
}

static int render_pid_file(struct strbuf *sb, struct sim *s, uint32_t pid, enum pid_file f)
{
	switch (f) {
	case PIDF_STATUS:
		return sim_proc_pid_status(sb, s, pid);
	case PIDF_OOM_SCORE:
		return sim_proc_pid_oom_score(sb, s, pid);
	case PIDF_OOM_SCORE_ADJ:
		return sim_proc_pid_oom_score_adj(sb, s, pid);
	case NR_PID_FILES:
		break;
	}
	return -1;
}

int proc_render(struct strbuf *sb, struct sim *s, const struct proc_sel *sel, char *err,
		size_t errlen)
{
	for (uint32_t i = 0; i < sel->n; i++) {
		const char *sep = i ? "\n" : "";
		int f = sel->item[i].file;
		if (f >= 0) {
			strbuf_printf(sb, "%s==> %s <==\n", sep, files[f].path);
			render_file(sb, s, (enum proc_file)f);
			continue;
		}
		uint32_t pid = sel->item[i].pid;
		strbuf_printf(sb, "%s==> /proc/%" PRIu32 "/%s <==\n", sep, pid,
			      pid_files[sel->item[i].pf]);
		if (render_pid_file(sb, s, pid, sel->item[i].pf)) {
			snprintf(err, errlen,
				 "pid %" PRIu32 " is not a task at that point of the trace", pid);
			return -1;
		}
	}
	return 0;
}

/* ---- points ---- */

static int parse_time(const char *arg, uint64_t *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
	char *end;
	if (!(arg[0] >= '0' && arg[0] <= '9'))
		return -1;
	double x = strtod(arg, &end);
	if (end == arg || x < 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			*ns = (uint64_t)(x * units[i].ns + 0.5);
			return 0;
		}
	}
	return -1;
}

int proc_point_parse(struct proc_point *p, const char *arg, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->arg = arg;
	if (!*arg) {
		snprintf(err, errlen,
			 "empty point: expected a mark name, an event count or a time");
		return -1;
	}
	if (strncmp(arg, "mark:", 5) == 0) {
		p->kind = PP_MARK;
		p->mark = arg + 5;
		return 0;
	}
	size_t digits = strspn(arg, "0123456789");
	if (arg[digits] == 0) {
		errno = 0;
		p->kind = PP_INDEX;
		p->value = strtoull(arg, NULL, 10);
		if (errno) {
			snprintf(err, errlen, "%s: event count out of range", arg);
			return -1;
		}
		return 0;
	}
	if (digits && parse_time(arg, &p->value) == 0) {
		p->kind = PP_TIME;
		return 0;
	}
	p->kind = PP_MARK; /* anything else names a mark */
	p->mark = arg;
	return 0;
}

static void recompute(struct proc_points *pp)
{
	pp->next_index = pp->next_ts = UINT64_MAX;
	for (uint32_t i = 0; i < pp->n; i++) {
		const struct proc_point *p = &pp->p[i];
		if (p->taken)
			continue;
		if (p->kind == PP_INDEX && p->value < pp->next_index)
			pp->next_index = p->value;
		if (p->kind == PP_TIME && p->value < pp->next_ts)
			pp->next_ts = p->value;
	}
}

void proc_points_init(struct proc_points *pp)
{
	memset(pp, 0, sizeof(*pp));
	recompute(pp);
}

int proc_points_add(struct proc_points *pp, const char *arg, char *err, size_t errlen)
{
	if (pp->n >= PROC_MAX_POINTS) {
		snprintf(err, errlen, "at most %d snapshot points", PROC_MAX_POINTS);
		return -1;
	}
	if (proc_point_parse(&pp->p[pp->n], arg, err, errlen))
		return -1;
	pp->n++;
	pp->left++;
	recompute(pp);
	return 0;
}

static int take(struct proc_points *pp, struct proc_point *p, struct sim *s)
{
	p->taken = true;
	pp->left--;
	return pp->take ? pp->take(pp->ctx, p, s) : 0;
}

static void note_mark(struct proc_points *pp, uint32_t name)
{
	for (uint32_t i = 0; i < pp->nr_marks; i++)
		if (pp->marks[i] == name)
			return;
	if (pp->nr_marks < PROC_MAX_MARKS_LISTED)
		pp->marks[pp->nr_marks++] = name;
	else
		pp->more_marks = true;
}

/* The points reached with `applied` events applied and the next event at next_ts
 * (UINT64_MAX at the end of the trace); last_mark names the mark just applied or is NULL. */
static int take_reached(struct proc_points *pp, struct sim *s, uint64_t applied, uint64_t next_ts,
			const char *last_mark)
{
	int rc = 0;
	for (uint32_t i = 0; i < pp->n && !rc; i++) {
		struct proc_point *p = &pp->p[i];
		if (p->taken)
			continue;
		bool due = (p->kind == PP_INDEX && p->value <= applied) ||
			   (p->kind == PP_TIME && p->value < next_ts) ||
			   (p->kind == PP_END && next_ts == UINT64_MAX) ||
			   (p->kind == PP_MARK && last_mark && strcmp(p->mark, last_mark) == 0);
		if (due)
			rc = take(pp, p, s);
	}
	recompute(pp);
	return rc;
}

static const char *last_mark_name(const struct proc_points *pp, const struct sim *s)
{
	return pp->after_mark ? strtab_get(s->strings, pp->last_mark) : NULL;
}

int proc_points_step(struct proc_points *pp, struct sim *s, const struct mm_event *ev,
		     uint64_t applied)
{
	int rc = take_reached(pp, s, applied, ev->ts, last_mark_name(pp, s));
	pp->after_mark = ev->type == EV_MARK;
	if (pp->after_mark) {
		pp->last_mark = ev->u.mark.name;
		note_mark(pp, ev->u.mark.name);
	}
	return rc;
}

static void list_marks(const struct proc_points *pp, const struct sim *s, char *out, size_t len)
{
	size_t used = 0;
	out[0] = 0;
	for (uint32_t i = 0; i < pp->nr_marks && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s\"%s\"", i ? ", " : "",
					 strtab_get(s->strings, pp->marks[i]));
	if (pp->more_marks && used < len)
		snprintf(out + used, len - used, ", ...");
}

int proc_points_finish(struct proc_points *pp, struct sim *s, uint64_t applied, char *err,
		       size_t errlen)
{
	int rc = take_reached(pp, s, applied, UINT64_MAX, last_mark_name(pp, s));
	pp->after_mark = false;
	if (rc)
		return rc;
	for (uint32_t i = 0; i < pp->n; i++) {
		const struct proc_point *p = &pp->p[i];
		if (p->taken)
			continue;
		if (p->kind == PP_INDEX) {
			snprintf(err, errlen,
				 "%s: past the end of the trace (it has %" PRIu64 " events)",
				 p->arg, applied);
		} else {
			char marks[512];
			list_marks(pp, s, marks, sizeof(marks));
			snprintf(err, errlen, "%s: no such mark in the trace (marks: %s)", p->arg,
				 pp->nr_marks ? marks : "none");
		}
		return -1;
	}
	return 0;
}

/* ---- snapshot directories ---- */

static bool path_fits(int n, size_t len) { return n >= 0 && (size_t)n < len; }

/* A point as a directory name: [A-Za-z0-9._-] kept, anything else '_', no leading dot. */
static void dir_name(char *out, size_t len, const char *point)
{
	size_t i = 0;
	for (; point[i] && i + 1 < len; i++) {
		char c = point[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_' || (c == '.' && i > 0);
		out[i] = ok ? c : '_';
	}
	out[i] = 0;
}

static int write_text(const char *path, const struct strbuf *sb, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	size_t n = fwrite(strbuf_str(sb), 1, sb->len, f);
	if (fclose(f) != 0 || n != sb->len) {
		snprintf(err, errlen, "%s: write failed", path);
		return -1;
	}
	return 0;
}

/* Remove a snapshot directory: its files and one level of subdirectories. */
static void remove_snapshot(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char sub[4096];
			if (!path_fits(snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name),
				       sizeof(sub)))
				continue;
			if (unlink(sub) != 0)
				remove_snapshot(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

static int fill_snapshot(const char *tmp, struct sim *s, char *err, size_t errlen)
{
	char path[4096];
	if (!path_fits(snprintf(path, sizeof(path), "%s/extfrag", tmp), sizeof(path)) ||
	    mkdir(path, 0777) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct strbuf sb;
	strbuf_init(&sb);
	int rc = 0;
	for (int f = 0; f < NR_PROC_FILES && !rc; f++) {
		strbuf_reset(&sb);
		render_file(&sb, s, (enum proc_file)f);
		if (sb.oom) {
			snprintf(err, errlen, "out of memory rendering %s", files[f].path);
			rc = -1;
			break;
		}
		if (!path_fits(snprintf(path, sizeof(path), "%s/%s", tmp, files[f].snap),
			       sizeof(path))) {
			snprintf(err, errlen, "%s: path too long", tmp);
			rc = -1;
			break;
		}
		rc = write_text(path, &sb, err, errlen);
	}
	strbuf_free(&sb);
	return rc;
}

int proc_snapshot_write(const char *dir, const char *point, struct sim *s, char *err, size_t errlen)
{
	char name[256], final[4096], tmp[4096], old[4096];
	dir_name(name, sizeof(name), point);
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	long pid = (long)getpid();
	if (!path_fits(snprintf(final, sizeof(final), "%s/%s", dir, name), sizeof(final)) ||
	    !path_fits(snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", dir, name, pid), sizeof(tmp)) ||
	    !path_fits(snprintf(old, sizeof(old), "%s/.%s.old.%ld", dir, name, pid), sizeof(old))) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	remove_snapshot(tmp); /* a leftover of an earlier run with the same pid */
	if (mkdir(tmp, 0777) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fill_snapshot(tmp, s, err, errlen)) {
		remove_snapshot(tmp);
		return -1;
	}
	bool had_old = rename(final, old) == 0;
	if (rename(tmp, final) != 0) {
		snprintf(err, errlen, "%s: %s", final, strerror(errno));
		if (had_old)
			rename(old, final);
		remove_snapshot(tmp);
		return -1;
	}
	if (had_old)
		remove_snapshot(old);
	return 0;
}
