#include "cli.h"
#include "commands.h"
int cmd_plot(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return EXIT_FAIL;
}
