/* Subcommands of mmreplay; each lives in tools/cmd_NAME.c. */
#ifndef MM_COMMANDS_H
#define MM_COMMANDS_H

int cmd_version(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_record(int argc, char **argv);

#endif
