/* shell: interactive shells forking and exec'ing many short commands (ls, grep, cat, ...). */
#include <stdlib.h>

#include "gen_common.h"
#include "gfp.h"

struct cmd {
	struct gbinary bin;
	uint32_t heap_kb; /* typical brk growth */
	uint32_t file_kb; /* a file it mmaps and reads (0: none) */
	uint32_t work;	  /* steps of work */
};

static const struct cmd cmds[] = {
    {{"/bin/ls", 136, 8, 8}, 160, 0, 2},
    {{"/bin/grep", 184, 8, 12}, 256, 512, 3},
    {{"/bin/cat", 36, 4, 4}, 132, 256, 1},
    {{"/bin/sed", 104, 8, 4}, 192, 0, 2},
    {{"/usr/bin/mawk", 124, 8, 12}, 640, 0, 3},
    {{"/usr/bin/wc", 44, 4, 4}, 132, 1024, 1},
    {{"/usr/bin/sort", 104, 8, 8}, 2048, 0, 4},
    {{"/usr/bin/head", 40, 4, 4}, 132, 0, 1},
    {{"/usr/bin/tail", 64, 4, 4}, 132, 0, 1},
    {{"/bin/date", 92, 4, 4}, 132, 0, 1},
    {{"/usr/bin/git", 2460, 64, 200}, 4096, 8192, 6},
    {{"/usr/bin/find", 240, 8, 8}, 768, 0, 5},
};
#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))
static const struct gbinary bash = {"/bin/bash", 1024, 40, 24};

enum { P_ID_OPEN, P_ID_BASH, P_ID_START, P_ID_END, P_ID_FILE, P_NR };

struct shell;
struct sh {
	struct gen_actor a;  /* the shell */
	struct gen_actor ca; /* its current command */
	struct shell *st;
	struct gproc *p, *child;
	const struct cmd *cmd;
	uint32_t cmd_idx, step, left;
	uint64_t fmap;
	int phase;
};

struct shell {
	struct gen_rng rng;
	struct sh *sh;
	uint32_t nsh, running;
	double think;
	struct gen_dcache dc;
	uint32_t id[P_NR], cmd_id[NR_CMDS];
};

static const struct gen_param_def shell_params[] = {
    {"commands", 3000, 0, 1e9, GP_INT | GP_SCALED, "commands run in total"},
    {"shells", 2, 1, 256, GP_INT, "interactive shells running side by side"},
    {"think_ms", 30, 0, 1e6, 0, "mean pause between a command's exit and the next"},
    {"dcache", 4000, 1, 1e7, GP_INT, "dentry/inode pairs kept before the oldest is pruned"},
    {NULL, 0, 0, 0, 0, NULL},
};

/* One command's life: exec, warm-up faults, a few steps of work, exit. */
static void cmd_step(struct gen *g, struct gen_actor *a)
{
	struct sh *s = gen_container_of(a, struct sh, ca);
	struct shell *st = s->st;
	struct gen_rng *r = &st->rng;
	struct gproc *c = s->child;
	const struct cmd *cmd = s->cmd;
	if (s->step == 0) {
		gproc_exec(g, c, &cmd->bin, st->cmd_id[s->cmd_idx]);
		/* ld.so resolves symbols: text and data pages of the binary and libc */
		for (int i = 0; i < 6; i++)
			gproc_fault(g, c,
				    GEN_TEXT_START +
					gen_rng_below(r, (uint64_t)cmd->bin.text_kb << 10),
				    FAULT_EXEC);
		gproc_fault(g, c, GEN_TEXT_START + page_up((uint64_t)cmd->bin.text_kb << 10),
			    FAULT_WRITE);
		s->step++;
		gen_wake(g, a, 150 * US + gen_rng_exp(r, 100 * US));
		return;
	}
	if (s->step <= cmd->work) {
		struct gmm *m = c->mm;
		uint64_t grow = page_up(((uint64_t)cmd->heap_kb << 10) / cmd->work +
					gen_rng_below(r, 64 << 10));
		uint64_t old = m->brk;
		gproc_brk(g, c, old + grow);
		gproc_touch(g, c, old, grow, FAULT_WRITE);
		gen_file_io(g, r, &st->dc, c, 0.2);
		if (cmd->file_kb && s->step == 1) {
			uint64_t len = (uint64_t)cmd->file_kb << 10;
			s->fmap = gproc_mmap(g, c, len, MM_PROT_READ, MM_MAP_PRIVATE,
					     st->id[P_ID_FILE], 0);
			gproc_touch(g, c, s->fmap, len / (1 + gen_rng_below(r, 4)), FAULT_READ);
		}
		/* copy_to_user into the buffer: a kernel-mode fault on a fresh heap page */
		if (gen_rng_chance(r, 0.3))
			gproc_fault(g, c, old, FAULT_WRITE | FAULT_KERNEL);
		s->step++;
		gen_wake(g, a, gen_rng_exp(r, 800 * US));
		return;
	}
	if (s->fmap)
		gproc_munmap(g, c, s->fmap);
	s->fmap = 0;
	gproc_exit(g, c);
	s->child = NULL;
	gen_wake(g, &s->a, gen_rng_exp(r, st->think));
}

static void shell_step(struct gen *g, struct gen_actor *a)
{
	struct sh *s = gen_container_of(a, struct sh, a);
	struct shell *st = s->st;
	struct gen_rng *r = &st->rng;
	if (s->phase == 0) {
		if (s == st->sh)
			gen_mark(g, NULL, st->id[P_ID_START]);
		s->p = gproc_fork(g, r, NULL, false);
		if (!s->p)
			return;
		gproc_exec(g, s->p, &bash, st->id[P_ID_BASH]);
		gproc_brk(g, s->p, s->p->mm->brk + 264 * 1024);
		gproc_touch(g, s->p, s->p->mm->start_brk, 264 * 1024, FAULT_WRITE);
		gproc_touch(g, s->p, GEN_TEXT_START, 256 * 1024, FAULT_EXEC);
		s->phase = 1;
		gen_wake(g, a, 5 * MS);
		return;
	}
	if (s->left == 0) {
		gproc_exit(g, s->p);
		if (--st->running == 0)
			gen_mark(g, NULL, st->id[P_ID_END]);
		return;
	}
	s->left--;
	gproc_maybe_migrate(g, r, s->p);
	/* readline and the command line parser */
	gen_file_io(g, r, &st->dc, s->p, 0.05);
	s->cmd_idx = (uint32_t)gen_rng_below(r, NR_CMDS);
	s->cmd = &cmds[s->cmd_idx];
	s->child = gproc_fork(g, r, s->p, false);
	s->step = 0;
	/* the child runs first while the shell waits */
	gen_wake(g, &s->ca, 30 * US);
}

static void *shell_start(struct gen *g, const double *pv, uint64_t seed, uint64_t t0)
{
	struct shell *st = calloc(1, sizeof(*st));
	if (!st)
		return gen_fail(g, "out of memory"), NULL;
	gen_rng_seed(&st->rng, seed);
	st->nsh = (uint32_t)pv[1];
	st->think = pv[2] * MS;
	st->sh = calloc(st->nsh, sizeof(*st->sh));
	if (!st->sh || gen_dcache_init(&st->dc, (uint32_t)pv[3])) {
		free(st->sh);
		free(st);
		return gen_fail(g, "out of memory"), NULL;
	}
	st->id[P_ID_BASH] = gen_intern(g, bash.path);
	st->id[P_ID_START] = gen_intern(g, "shell-start");
	st->id[P_ID_END] = gen_intern(g, "shell-end");
	st->id[P_ID_FILE] = gen_intern(g, "/usr/share/dict/words");
	for (size_t i = 0; i < NR_CMDS; i++)
		st->cmd_id[i] = gen_intern(g, cmds[i].bin.path);
	uint64_t total = (uint64_t)pv[0];
	for (uint32_t i = 0; i < st->nsh; i++) {
		struct sh *s = &st->sh[i];
		s->st = st;
		s->a.step = shell_step;
		s->ca.step = cmd_step;
		s->left = (uint32_t)(total / st->nsh + (i < total % st->nsh));
		gen_wake(g, &s->a, t0 + i * 7 * MS);
	}
	st->running = st->nsh;
	return st;
}

static void shell_stop(void *state)
{
	struct shell *st = state;
	gen_dcache_destroy(&st->dc);
	free(st->sh);
	free(st);
}

const struct gen_workload gen_wl_shell = {
    .info = {.name = "shell",
	     .summary = "shells fork+exec'ing short commands (ls, grep, cat, sort, git ...)"},
    .params = shell_params,
    .start = shell_start,
    .stop = shell_stop,
};
