/* hello: greets, then counts lines, words and bytes of standard input when
 * it is not a terminal. Built inside a cleanroom enclave by `make demo`. */
#include <stdio.h>
#include <unistd.h>

#include "count.h"

int main(void)
{
	struct counts c;
	printf("hello from a binary built in a cleanroom enclave\n");
	if (isatty(STDIN_FILENO))
		return 0;
	count_stream(stdin, &c);
	printf("%lu lines, %lu words, %lu bytes\n", c.lines, c.words, c.bytes);
	return 0;
}
