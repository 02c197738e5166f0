/* cleanroom: the host tool. Dispatches to one subcommand. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host-tool/commands.h"
#include "base/term.h"
#include "base/version.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	/* The exit status when stdout could not take the output: 2 where 1 is
	 * a verdict ("not verified", "they differ") that would then be a lie. */
	int stdout_failed;
};

static const struct command commands[] = {
	{ "eif", cmd_eif, "pack an enclave image file (EIF), reproducibly", 1 },
	{ "describe", cmd_describe, "show what is inside an EIF (ours or nitro-cli's)", 1 },
	{ "pcr", cmd_pcr, "measure a file as nitro-cli pcr does", 1 },
	{ "build", cmd_build, "build sources inside an enclave, bring the outputs back", 1 },
	{ "attestation", cmd_attestation, "show or verify an NSM attestation document", 2 },
	{ "verify", cmd_verify, "verify a build's signed report (bundle) and its artifacts", 2 },
	{ "diff", cmd_diff, "compare two builds' outputs: which files differ, and where", 2 },
	{ "run", cmd_run, "boot an EIF locally in QEMU, with vsock and the heartbeat", 1 },
	{ "vsock-bridge", cmd_vsock_bridge, "serve QEMU's vhost-user vsock device (Unix sockets on the host)", 1 },
	{ "sandbox-exec", cmd_sandbox_exec, "run a command in the build sandbox, natively (root)", 1 },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: cleanroom <command> [options]\n\n"
		     "Attestable builds in AWS Nitro Enclaves.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'cleanroom <command> --help' describes each command.\n"
		     "'cleanroom --version' prints the version.\n");
}

/* Whatever a command printed must have reached stdout: a full disk or a
 * closed pipe under `cleanroom describe --json x.eif > out.json` is a
 * failure (exit `failed`), not a silent truncation. A command that failed
 * has said why already (and keeps its status, but for a verdict). */
static int stdout_done(const char *cmd, int rc, int failed)
{
	const char *why = NULL;
	if (fflush(stdout) != 0)
		why = strerror(errno);
	else if (ferror(stdout))
		why = "a write failed"; /* an earlier flush failed: its errno is gone */
	/* A failure keeps its status, but a verdict (1 where `failed` is 2)
	 * whose report was lost is not a verdict. */
	if (!why || (rc && !(failed == 2 && rc == 1)))
		return rc;
	fprintf(stderr, "cleanroom%s%s: stdout: %s\n", cmd ? " " : "", cmd ? cmd : "", why);
	return failed;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return stdout_done(NULL, 0, 1);
	}
	if (!strcmp(argv[1], "--version")) {
		cr_tprintf(stdout, "cleanroom %s\n", CLEANROOM_VERSION);
		return stdout_done(NULL, 0, 1);
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name)) {
			return stdout_done(commands[i].name, commands[i].run(argc - 1, argv + 1),
					   commands[i].stdout_failed);
		}
	cr_tprintf(stderr, "cleanroom: unknown command '%s' (see 'cleanroom --help')\n", argv[1]);
	return 2;
}
