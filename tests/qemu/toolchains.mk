# qemu/toolchains-go, qemu/toolchains-rust: real projects built offline in a
# local enclave with `make rootfs-go` / `make rootfs-rust`, their dependencies
# vendored from Debian's packaged sources (rootfs/vendor.py, the .debs pinned
# in tests/toolchains/*.pins): jp 0.2.1 (Debian's jp orig tarball, pinned
# here) and hexyl 0.8.0 (the crate in librust-hexyl-dev, pinned in
# hexyl.pins). Each: the report verified, the program run on this host, a
# second build byte-identical, a missing dependency refused. Figures in the
# suites' '# ' lines; docs/toolchains.md.
JP_VER := 0.2.1+ds1-1
JP_TAR := jp_0.2.1+ds1.orig.tar.xz
JP_SHA := 4ad04fe3529cd83addad87bbd3613fd5e1dcf164ec94515ed3b3d05d3e38b2cc
APT_PKGS += git dpkg-dev file binutils python3

$(SRC_CACHE)/$(JP_TAR): | deps-apt
	@.ci/deps.sh source jp $(JP_VER) $(JP_TAR) $(JP_SHA) $(SRC_CACHE)

TOOLCHAIN_DEPS := $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init
# Both are `make check-slow` suites: under TCG a build takes 12-13 minutes
# (Go recompiles the standard library for -trimpath; hexyl compiles 31
# crates), and each suite builds three times.
SLOW_DEPS   += $(TOOLCHAIN_DEPS) $(ROOTFS_GO).manifest $(SRC_CACHE)/$(JP_TAR)
SLOW_SUITES += 'qemu/toolchains-go=tests/qemu/toolchains.sh go $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init $(ROOTFS_GO) $(CACHE) $(SRC_CACHE)/$(JP_TAR)'
SLOW_DEPS   += $(TOOLCHAIN_DEPS) $(ROOTFS_RUST).manifest
SLOW_SUITES += 'qemu/toolchains-rust=tests/qemu/toolchains.sh rust $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init $(ROOTFS_RUST) $(CACHE)'

# cli/toolchains (registered here, beside jp's pin; no QEMU): the Rust and Go
# environments and rootfs/vendor.py's --deps directories: trees against
# manifests, `lock` of rootfs-go, vendor layouts and refusals, agent-image.sh.
CHECK_DEPS   += $(ROOTFS_RUST).manifest $(ROOTFS_GO).manifest $(B)/asan/cleanroom $(B)/init \
                $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(SRC_CACHE)/$(JP_TAR)
CHECK_SUITES += 'cli/toolchains=CLEANROOM=$(B)/asan/cleanroom INIT=$(B)/init KERNEL_DIR=$(KERNEL_DIR) ROOTFS_RUST=$(ROOTFS_RUST) ROOTFS_GO=$(ROOTFS_GO) CACHE=$(CACHE) JP_TARBALL=$(SRC_CACHE)/$(JP_TAR) tests/cli/toolchains.sh'
