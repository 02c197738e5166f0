# Bootstrap mode of our init: commands, defaults, reaping, signals
# and every failure ending in "init: <step>: <reason>" and a clean power-off.
# One short boot per case (busybox root).
QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init
QEMU_SUITES += 'qemu/init-boot=tests/qemu/init-boot.sh $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init'
