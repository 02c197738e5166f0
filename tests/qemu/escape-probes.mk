# Escape probes: one probe program (tests/cli/sandbox_probe.c,
# static musl, so the same binary runs in a busybox root natively and inside
# the enclave) and one table of hostile actions (tests/cli/escape-probes.txt),
# run two ways: natively through `cleanroom sandbox-exec` (cli/escape-probes)
# and as builds against the agent in one local enclave (qemu/escape-probes).
# Both suites live in this one fragment since they share the probe.
PROBE_BIN := $(B)/musl/tests/cli/sandbox_probe
$(PROBE_BIN): tests/cli/sandbox_probe.c | $(B)/deps/musl/.done
	@mkdir -p $(@D)
	@echo "  CC      $@ (static musl)"
	@$(MUSL_CC) $(CSTD) $(WARN) $(VARIANT_CFLAGS_musl) -I$(B)/deps/musl/include \
	    $(VARIANT_LDFLAGS_musl) -o $@ $<

CHECK_DEPS   += $(B)/asan/cleanroom $(PROBE_BIN)
CHECK_SUITES += 'cli/escape-probes=$(CLI_ENV) tests/cli/escape-probes.sh $(PROBE_BIN)'

# The same probes as builds against the agent in one local enclave.
QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init $(PROBE_BIN)
QEMU_SUITES += 'qemu/escape-probes=tests/qemu/escape-probes.sh $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init $(PROBE_BIN)'
