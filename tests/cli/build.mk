# Shell suites for the host tool, run against its ASan+UBSan build.
CLI_ENV := CLEANROOM=$(B)/asan/cleanroom INIT=$(B)/init

CHECK_DEPS   += $(B)/asan/cleanroom $(B)/init
CHECK_SUITES += 'cli/eif=$(CLI_ENV) tests/cli/eif.sh'
# The cross-built aarch64 init: a static arm64 ELF that runs (qemu-user).
CHECK_DEPS   += $(B)/aarch64/init
CHECK_SUITES += 'cli/init-aarch64=$(CLI_ENV) ARM_INIT=$(B)/aarch64/init tests/cli/init-aarch64.sh'
# The sandbox suite builds its probe with gcc -static and a tiny root from busybox.
APT_PKGS     += busybox-static
CHECK_SUITES += 'cli/sandbox=$(CLI_ENV) tests/cli/sandbox.sh'
# cleanroom attestation on the real documents of $SHARED (skips without it).
CHECK_SUITES += 'cli/attestation=$(CLI_ENV) tests/cli/attestation.sh'
# Special files (FIFOs, devices, directories, dangling links) given to every
# option that names an input, and inside walked trees: refused at once.
CHECK_SUITES += 'cli/special-files=$(CLI_ENV) tests/cli/special-files.sh'
# verify --quorum's arguments and hostile inputs, diff on crafted directories.
CHECK_SUITES += 'cli/quorum=$(CLI_ENV) tests/cli/quorum.sh'
# cleanroom eif --oci on images made by umoci and skopeo (local files only)
# and on hostile layers and layouts crafted by tests/cli/ocitest.py.
APT_PKGS     += umoci skopeo buildah
CHECK_SUITES += 'cli/oci=$(CLI_ENV) tests/cli/oci.sh'
# cleanroom build --vsock against a fake agent (tests/cli/fake_agent.c, linked
# like the unit tests) that signs real reports with the mock NSM and plays
# hostile peers: a swapped statement, a log flood, artifacts out of order, a
# connection dropped mid-stream. strace reads the socket timeouts set.
APT_PKGS     += strace
CHECK_DEPS   += $(B)/asan/tests/cli/fake_agent
CHECK_SUITES += 'cli/build-hostile=$(CLI_ENV) FAKE_AGENT=$(B)/asan/tests/cli/fake_agent tests/cli/build-hostile.sh'
$(B)/asan/tests/cli/fake_agent: $(B)/asan/tests/cli/fake_agent.o $(B)/asan/libhost.a $(LIBS_asan)
	@echo "  LD      $@"
	@$(LINK_asan) -o $@ $< $(B)/asan/libhost.a $(LIBS_asan) $(HOST_LDLIBS)
