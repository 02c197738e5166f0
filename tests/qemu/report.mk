# The signed report end to end: builds on our agent with the mock
# NSM, `cleanroom build`'s verification, `cleanroom verify` and the tamper matrix.
APT_PKGS    += git
QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init
QEMU_SUITES += 'qemu/report=tests/qemu/report.sh $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init'
