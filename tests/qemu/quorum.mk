# Agreement across builders: five local enclaves (two images), their bundles
# through `cleanroom verify --quorum`, their outputs through `cleanroom diff`.
QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init
QEMU_SUITES += 'qemu/quorum=tests/qemu/quorum.sh $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init'
