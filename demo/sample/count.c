#include "count.h"

#include <ctype.h>

void count_stream(FILE *in, struct counts *c)
{
	int ch, in_word = 0;
	c->lines = c->words = c->bytes = 0;
	while ((ch = getc(in)) != EOF) {
		c->bytes++;
		if (ch == '\n')
			c->lines++;
		if (isspace(ch))
			in_word = 0;
		else if (!in_word) {
			in_word = 1;
			c->words++;
		}
	}
}
