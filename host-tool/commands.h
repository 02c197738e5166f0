/* Subcommands of the cleanroom host tool: one cmd_<name>.c file each.
 * argv[0] is the subcommand name. Exit codes: 0 success, 1 the check or
 * operation failed, 2 usage error. */
#ifndef CLEANROOM_COMMANDS_H
#define CLEANROOM_COMMANDS_H

int cmd_eif(int argc, char **argv);
int cmd_describe(int argc, char **argv);
int cmd_pcr(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_attestation(int argc, char **argv);
int cmd_vsock_bridge(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_sandbox_exec(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_diff(int argc, char **argv);

#endif
