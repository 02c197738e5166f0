# aarch64 (Graviton) images end to end: the arm64 kernel (make kernel-aarch64)
# and the guest programs cross-built with the aarch64 musl, packed with
# `cleanroom eif --arch aarch64` and booted by `cleanroom run` on QEMU's virt
# machine (TCG) with the vsock bridge and the mock NSM, as on x86_64.
APT_PKGS += qemu-system-arm

# The qemu/nsm guest for arm64.
NSM_GUEST_AARCH64 := $(B)/aarch64/tests/guest_nsm
$(NSM_GUEST_AARCH64): $(B)/musl-aarch64/tests/qemu/guest_nsm.o $(LIBS_musl-aarch64)
	@mkdir -p $(@D)
	@echo "  LD      $@ (aarch64)"
	@$(LINK_musl-aarch64) -o $@ $(filter %.o,$^) $(LIBS_musl-aarch64)

# In check-slow: the suite takes under a minute, but a fresh machine first
# builds the arm64 kernel (5-25 minutes), as for qemu/aws-kernel.
SLOW_DEPS   += $(B)/asan/cleanroom $(KERNEL_AARCH64_OUTPUTS) $(NSM_GUEST_AARCH64)
SLOW_SUITES += 'qemu/aarch64-nsm=ARCH=aarch64 tests/qemu/nsm-run.sh $(B)/asan/cleanroom $(KERNEL_AARCH64_DIR)/Image $(NSM_GUEST_AARCH64)'

# A small C project built in an aarch64 enclave: build/aarch64/init as build
# agent, rootfs-arm64-c (Debian's arm64 gcc 12), the report verified; the
# outputs are aarch64 ELF files. check-slow, for the arm64 kernel as above.
SLOW_DEPS   += $(B)/asan/cleanroom $(KERNEL_AARCH64_OUTPUTS) $(B)/aarch64/init $(ROOTFS_ARM64_C).manifest
SLOW_SUITES += 'qemu/aarch64-c-build=tests/qemu/aarch64-c-build.sh $(B)/asan/cleanroom $(KERNEL_AARCH64_DIR) $(B)/aarch64/init $(ROOTFS_ARM64_C)'

# The kernel-boot suite on the arm64 kernel (virt): filesystems, cgroup v2,
# namespaces, seccomp, vsock, nsm.ko and its ioctl errors, from inside, with
# rootfs-arm64-c's static busybox and the probe cross-built.
KERNEL_PROBE_AARCH64 := $(B)/aarch64/tests/kernel-boot-probe
$(KERNEL_PROBE_AARCH64): $(B)/musl-aarch64/tests/qemu/kernel_boot_probe.o $(LIBS_musl-aarch64)
	@mkdir -p $(@D)
	@echo "  LD      $@ (aarch64)"
	@$(LINK_musl-aarch64) -o $@ $(filter %.o,$^) $(LIBS_musl-aarch64)
SLOW_DEPS   += $(KERNEL_AARCH64_OUTPUTS) $(KERNEL_PROBE_AARCH64) $(ROOTFS_ARM64_C).manifest
SLOW_SUITES += 'kernel-boot-aarch64=ARCH=aarch64 BUSYBOX=$(ROOTFS_ARM64_C)/bin/busybox tests/qemu/kernel-boot.sh $(KERNEL_AARCH64_DIR) $(KERNEL_PROBE_AARCH64)'
