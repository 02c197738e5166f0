#include <stdio.h>
#include "commands.h"
int cmd_describe(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "cleanroom describe: not implemented yet\n");
	return 1;
}
