/* The demo-oci application: a small static program packed as a container
 * image. It prints its arguments and one variable of the image's Env, so the
 * console shows that /cmd and /env came from the image config. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	const char *g = getenv("GREETING");
	printf("demo-oci: %s\n", g ? g : "(GREETING is not set)");
	for (int i = 0; i < argc; i++)
		printf("demo-oci: argv[%d] = %s\n", i, argv[i]);
	return 0;
}
