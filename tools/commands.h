/* Subcommands of mmreplay; each lives in tools/cmd_NAME.c. */
#ifndef MM_COMMANDS_H
#define MM_COMMANDS_H

int cmd_version(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_proc(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_boot(int argc, char **argv);

#include <stdint.h>
struct trace_reader;
struct trace_writer;
/* Copies r's events with index in [from_ev, to_ev) and ts in [from_ts, to_ts) into w, then
 * closes w (aborts it on failure). Returns 0 or an exit status, the message printed. */
int trace_copy_range(const char *cmd, struct trace_reader *r, struct trace_writer *w,
		     uint64_t from_ev, uint64_t to_ev, uint64_t from_ts, uint64_t to_ts);
int cmd_boot(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_fidelity(int argc, char **argv);

#endif
