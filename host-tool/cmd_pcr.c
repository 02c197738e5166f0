#include <stdio.h>
#include "commands.h"
int cmd_pcr(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "cleanroom pcr: not implemented yet\n");
	return 1;
}
