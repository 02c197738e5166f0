# Bootstrap mode of our init: commands, defaults, reaping, signals
# and every failure ending in "init: <step>: <reason>" and a reboot that
# ends the VM; a command that leaves the console's output stopped.
# One short boot per case (busybox root).
# tty_stop: the command of the stopped-console cases (static musl).
INIT_BOOT_TTY_STOP := $(B)/musl/tests/qemu/tty_stop
$(INIT_BOOT_TTY_STOP): tests/qemu/tty_stop.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(MUSL_CC) $(CSTD) $(WARN) $(VARIANT_CFLAGS_musl) $(VARIANT_LDFLAGS_musl) -o $@ $<
QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init $(INIT_BOOT_TTY_STOP)
QEMU_SUITES += 'qemu/init-boot=tests/qemu/init-boot.sh $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init $(INIT_BOOT_TTY_STOP)'
