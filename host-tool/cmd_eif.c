#include <stdio.h>
#include "commands.h"
int cmd_eif(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "cleanroom eif: not implemented yet\n");
	return 1;
}
