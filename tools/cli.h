/* Shared command-line plumbing: machine options (the same for boot, replay, proc, sweep),
 * errors with exit status 2 for bad input, and the subcommand table. */
#ifndef MM_CLI_H
#define MM_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "machine.h"
#include "sim.h"

#define MMREPLAY_VERSION "0.1.0"

/* Exit statuses: 0 ok, 1 runtime failure (I/O, out of memory), 2 bad usage or bad input. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct machine_opts {
	struct machine_config cfg;
	const char *arch, *mem, *ram, *swap, *cpus, *seed;
	const char *sets[64];
	int nr_sets;
};

void machine_opts_init(struct machine_opts *o);
/* If argv[*i] is a machine option (--arch=, --mem=, --ram=, --swap=, --cpus=, --seed=,
 * --set K=V; "--opt V" or "--opt=V"), consume it (advancing *i) and return 1; 0 if it is
 * not one; -1 (message printed) when its value is missing. */
int machine_opts_parse(struct machine_opts *o, int argc, char **argv, int *i);
/* Turn the collected strings into o->cfg. Prints the error and returns -1 on bad values. */
int machine_opts_finish(struct machine_opts *o, const char *cmd);
void machine_opts_help(FILE *f);

/* "--name=value" or "--name value": returns the value and advances *i, or NULL if argv[*i]
 * is not that option. *missing is set (never cleared: initialize it to false) when the
 * option is there but has no value. */
const char *cli_opt(int argc, char **argv, int *i, const char *name, bool *missing);

/* "mmreplay CMD: message" on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool cli_is_help(const char *arg);

struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
};

/* The whole file, NUL-terminated, in *text (the caller frees it) and its size in *len.
 * -1: it cannot be opened (errno says why); -2: reading it failed. */
int cli_read_file(const char *path, char **text, size_t *len);

/* "on" → 1, "off" → 0; anything else: a usage error naming cmd and opt (EXIT_USAGE). */
int cli_parse_on_off(const char *cmd, const char *opt, const char *v, int *out);
/* A deflate level for .mmt blocks, 0 (stored) to 12; anything else: a usage error naming cmd
 * (EXIT_USAGE). */
int cli_parse_deflate_level(const char *cmd, const char *v, int *out);
/* --level=model|page; anything else: a usage error naming cmd (EXIT_USAGE). */
int cli_parse_level(const char *cmd, const char *v, enum replay_level *out);

#endif
