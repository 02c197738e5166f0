# Issue 12 items 1 and 5: outputs that are not regular files (FIFO, socket,
# symlinks, directory, device) and the per-build process limit, against one
# build-agent enclave (tests/qemu/agent-limits.sh). The probe (escape-probes.mk)
# makes the unix socket.
QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init $(PROBE_BIN)
QEMU_SUITES += 'qemu/agent-limits=tests/qemu/agent-limits.sh $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init $(PROBE_BIN)'
