# qemu/oci-agent: rootfs-c exported as an OCI image (umoci), packed with
# `cleanroom eif --oci --agent`, compared with the --rootfs EIF, booted, and
# a C program built through it.
APT_PKGS    += umoci
QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init $(ROOTFS_C).manifest
QEMU_SUITES += 'qemu/oci-agent=tests/qemu/oci-agent.sh $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init $(ROOTFS_C)'
