# Hostile build logs and consoles on the user's terminal, --log, and the log
# limit reported and recorded. Runs under script(1)
# (util-linux) for a pseudo-terminal; wire_client (faults.mk) asks the agent
# for out-of-range log limits.
APT_PKGS    += util-linux
QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init $(WIRE_CLIENT)
QEMU_SUITES += 'qemu/term-log=tests/qemu/term-log.sh $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init $(WIRE_CLIENT)'
