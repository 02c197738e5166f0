# `cleanroom run --machine nitro-enclave`: upstream QEMU's nitro-enclave
# machine (make qemu-nitro; cached, so this copies it) as an oracle for our
# EIFs, PCRs, init and agent: PCRs read in the guest through the kernel's own
# /dev/nsm, EIF variants, init's failure path, and a build whose unsigned
# attestation document is refused, then accepted with
# --allow-unsigned-attestation.
NITRO_PROBE := $(B)/musl/tests/qemu/nitro_probe
$(NITRO_PROBE): $(B)/musl/tests/qemu/nitro_probe.o $(LIBS_musl)
	@echo "  LD      $@"
	@$(LINK_musl) -o $@ $(filter %.o,$^) $(LIBS_musl)
APT_PKGS    += openssl
QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init $(NITRO_PROBE) $(QEMU_NITRO)
QEMU_SUITES += 'qemu/nitro-enclave=tests/qemu/nitro-enclave.sh $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init $(NITRO_PROBE) $(QEMU_NITRO)'
