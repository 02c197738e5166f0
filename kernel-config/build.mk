# The enclave kernel (Linux 6.12 from Debian's linux-source-6.12) and the
# guest NSM shim nsm.ko, built reproducibly by kernel-config/build.sh and
# cached under $(CACHE)/kernel/<key of all inputs>/, so a clean clone reuses
# the cached build instead of spending 4-6 minutes of both cores on it.
#
#   make kernel          $(B)/kernel/bzImage   the enclave kernel (x86_64)
#                        $(B)/kernel/config    its full .config
#                        $(B)/kernel/nsm.ko    the guest NSM shim (kernel-config/nsm-shim/)
#                        $(B)/kernel/build     link to the prepared kernel tree:
#                                              make -C $(B)/kernel/build M=DIR modules
#   make kernel-boot     boot it in QEMU microvm with a busybox initramfs (the
#                        kernel-boot check suite)
#   make kernel-aarch64  the arm64 kernel: $(B)/kernel-aarch64/{Image,config,nsm.ko}
#                        (also `make kernel ARCH=aarch64`; built by make check
#                        for the aarch64 suites)
#   make kernel-aws      the AWS flavour: our config plus AWS's cgroup v1
#                        controllers (kernel-config/aws-x86_64.config):
#                        $(B)/kernel-aws/{bzImage,config,nsm.ko}

APT_PKGS += linux-source-6.12 bc flex bison libelf-dev libssl-dev kmod cpio \
            busybox-static qemu-system-x86

KERNEL_DIR     := $(B)/kernel
KERNEL_OUTPUTS := $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/config $(KERNEL_DIR)/nsm.ko
KERNEL_INPUTS  := kernel-config/build.sh kernel-config/x86_64.config \
                  $(sort $(wildcard kernel-config/nsm-shim/*.[ch])) kernel-config/nsm-shim/Kbuild $(wildcard /usr/src/linux-source-6.12.tar.xz)

KERNEL_AWS_DIR     := $(B)/kernel-aws
KERNEL_AWS_OUTPUTS := $(KERNEL_AWS_DIR)/bzImage $(KERNEL_AWS_DIR)/config $(KERNEL_AWS_DIR)/nsm.ko

KERNEL_AARCH64_DIR     := $(B)/kernel-aarch64
KERNEL_AARCH64_OUTPUTS := $(KERNEL_AARCH64_DIR)/Image $(KERNEL_AARCH64_DIR)/config $(KERNEL_AARCH64_DIR)/nsm.ko
KERNEL_AARCH64_INPUTS  := $(filter-out kernel-config/x86_64.config,$(KERNEL_INPUTS)) kernel-config/aarch64.config

.PHONY: kernel kernel-boot kernel-aarch64 kernel-aws
# `make kernel ARCH=aarch64` is `make kernel-aarch64`.
kernel: $(if $(filter aarch64,$(ARCH)),$(KERNEL_AARCH64_OUTPUTS),$(KERNEL_OUTPUTS))

$(KERNEL_OUTPUTS) &: $(KERNEL_INPUTS) | deps-apt
	@kernel-config/build.sh install $(KERNEL_DIR) $(CACHE)

kernel-aws: $(KERNEL_AWS_OUTPUTS)
$(KERNEL_AWS_OUTPUTS) &: $(KERNEL_INPUTS) kernel-config/aws-x86_64.config | deps-apt
	@KERNEL_FLAVOUR=aws kernel-config/build.sh install $(KERNEL_AWS_DIR) $(CACHE)

# The cross compiler is in APT_PKGS (the aarch64 init needs it too).
kernel-aarch64: $(KERNEL_AARCH64_OUTPUTS)
$(KERNEL_AARCH64_OUTPUTS) &: $(KERNEL_AARCH64_INPUTS) | deps-apt
	@KERNEL_ARCH=aarch64 kernel-config/build.sh install $(KERNEL_AARCH64_DIR) $(CACHE)

# The in-guest checker of the kernel-boot suite (static musl).
KERNEL_PROBE := $(KERNEL_DIR)/kernel-boot-probe
$(KERNEL_PROBE): tests/qemu/kernel_boot_probe.c $(LIBS_musl) | $(B)/deps/musl/.done
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(MUSL_CC) $(CSTD) $(WARN) $(VARIANT_CFLAGS_musl) $(INC) -I$(B)/deps/musl/include \
	    $(VARIANT_LDFLAGS_musl) -o $@ $< $(LIBS_musl)

KERNEL_BOOT_SUITE := 'kernel-boot=tests/qemu/kernel-boot.sh $(KERNEL_DIR) $(KERNEL_PROBE)'
kernel-boot: deps $(KERNEL_OUTPUTS) $(KERNEL_PROBE)
	@tests/run.sh $(KERNEL_BOOT_SUITE)

CHECK_DEPS   += $(KERNEL_OUTPUTS) $(KERNEL_PROBE)
CHECK_SUITES += $(KERNEL_BOOT_SUITE)
