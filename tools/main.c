/* mmreplay: subcommand dispatch in the style of git and perf. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const struct cli_command commands[] = {
	{"replay", "replay a trace into a simulated machine", cmd_replay},
	{"fidelity", "a recording's kernel counts next to the model's (real traces)", cmd_fidelity},
	{"proc", "the simulated machine's /proc files at a point of a replay", cmd_proc},
	{"boot", "lay out the machine and print what the kernel reports about memory", cmd_boot},
	{"gen", "write a synthetic workload trace (shell, build, db, ..., mix)", cmd_gen},
	{"sweep", "run a matrix of replays in parallel into one results table", cmd_sweep},
	{"merge", "join the per-cell outputs of sweep runs into one results table", cmd_merge},
	{"plot", "draw a sweep's results with gnuplot (plots/*.gp)", cmd_plot},
	{"import", "convert a trace-cmd trace.dat to an mmreplay trace", cmd_import},
	{"record", "record a real trace of a command with trace-cmd (root)", cmd_record},
	{"stat", "events per type and per process of a trace", cmd_stat},
	{"dump", "a trace (or a slice of it) as text", cmd_dump},
	{"convert", "convert a trace between .mmt, text and gzip'd text", cmd_convert},
	{"version", "print the version", cmd_version},
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: mmreplay COMMAND [options]   (mmreplay COMMAND --help for more)\n\n"
		   "A trace-driven replay benchmark for the Linux memory manager.\n\nCommands:\n");
	for (size_t i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("mmreplay %s\n", MMREPLAY_VERSION);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cli_is_help(argv[1])) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(argc - 1, argv + 1);
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "mmreplay: '%s' is not a command; see 'mmreplay --help'\n", argv[1]);
	return EXIT_USAGE;
}
