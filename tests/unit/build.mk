# Unit tests: tests/unit/test_<name>.c, built with ASan+UBSan against the
# shared library and the host-tool objects, one suite each.
UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/asan/tests/unit/%,$(sort $(wildcard tests/unit/test_*.c)))

$(B)/asan/tests/unit/%: $(B)/asan/tests/unit/%.o $(B)/asan/libhost.a $(LIBS_asan)
	@echo "  LD      $@"
	@$(LINK_asan) -o $@ $< $(B)/asan/libhost.a $(LIBS_asan) $(HOST_LDLIBS)

CHECK_UNIT_DEPS   += $(UNIT_TESTS)
CHECK_UNIT_SUITES += $(foreach t,$(UNIT_TESTS),'unit/$(notdir $(t))=$(t)')

# The same unit tests cross-built for aarch64 (static musl, no sanitizers)
# and run under qemu-user: those that use only the libraries the init links
# (not the host tool). They check the libraries' behaviour on arm64 (type
# sizes, alignment, the syscalls the sandbox makes) without a VM.
# test_kernel_features is left out: qemu-user does not pass seccomp(2)
# through, so it would report the host kernel as lacking seccomp; the
# aarch64 boot suite checks the init's kernel check on a real arm64 kernel.
APT_PKGS += qemu-user-static
UNIT_AARCH64_NAMES := test_attestation_real test_attestation_synth test_json \
                      test_nsm_cbor test_nsm_client test_nsm_proto test_sandbox test_term \
                      test_tree_hash test_util test_wire
UNIT_AARCH64 := $(addprefix $(B)/musl-aarch64/tests/unit/,$(UNIT_AARCH64_NAMES))
$(B)/musl-aarch64/tests/unit/%: $(B)/musl-aarch64/tests/unit/%.o $(LIBS_musl-aarch64)
	@echo "  LD      $@ (aarch64)"
	@$(LINK_musl-aarch64) -o $@ $< $(LIBS_musl-aarch64)

# In check, not check-unit: a fresh machine first cross-builds musl (~1 min).
CHECK_DEPS   += $(UNIT_AARCH64)
CHECK_SUITES += $(foreach t,$(UNIT_AARCH64),'unit-aarch64/$(notdir $(t))=qemu-aarch64-static $(t)')
