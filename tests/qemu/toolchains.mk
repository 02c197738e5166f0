# qemu/toolchains-go, qemu/toolchains-rust (make check) and
# qemu/toolchains-hexyl (make check-slow): real projects built offline in a
# local enclave with `make rootfs-go` / `make rootfs-rust`, their dependencies
# vendored from Debian's packaged sources (rootfs/vendor.py, the .debs pinned
# in tests/toolchains/*.pins): jp 0.2.1 (Go; Debian's jp orig tarball, pinned
# here), pulldown-cmark 0.9.2 (Rust; the crate in librust-pulldown-cmark-dev)
# and hexyl 0.8.0 (Rust; librust-hexyl-dev, 31 crates). Each: the report
# verified, the program run on this host, a second build byte-identical, a
# missing dependency refused. Figures in the suites' '# ' lines;
# docs/toolchains.md.
JP_VER := 0.2.1+ds1-1
JP_TAR := jp_0.2.1+ds1.orig.tar.xz
JP_SHA := 4ad04fe3529cd83addad87bbd3613fd5e1dcf164ec94515ed3b3d05d3e38b2cc
APT_PKGS += git dpkg-dev file binutils python3

$(SRC_CACHE)/$(JP_TAR): | deps-apt
	@.ci/deps.sh source jp $(JP_VER) $(JP_TAR) $(JP_SHA) $(SRC_CACHE)

TOOLCHAIN_DEPS := $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init
TOOLCHAIN_ARGS = $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init
CHECK_DEPS   += $(TOOLCHAIN_DEPS) $(ROOTFS_GO).manifest $(SRC_CACHE)/$(JP_TAR)
CHECK_SUITES += 'qemu/toolchains-go=tests/qemu/toolchains.sh jp $(TOOLCHAIN_ARGS) $(ROOTFS_GO) $(CACHE) $(SRC_CACHE)/$(JP_TAR)'
CHECK_DEPS   += $(TOOLCHAIN_DEPS) $(ROOTFS_RUST).manifest
CHECK_SUITES += 'qemu/toolchains-rust=tests/qemu/toolchains.sh pulldown-cmark $(TOOLCHAIN_ARGS) $(ROOTFS_RUST) $(CACHE)'
# hexyl compiles 31 crates (clap 2 among them): 8-13 minutes a build under
# TCG, and the suite builds twice.
SLOW_DEPS   += $(TOOLCHAIN_DEPS) $(ROOTFS_RUST).manifest
SLOW_SUITES += 'qemu/toolchains-hexyl=tests/qemu/toolchains.sh hexyl $(TOOLCHAIN_ARGS) $(ROOTFS_RUST) $(CACHE)'

# cli/toolchains (registered here, beside jp's pin; no QEMU): the Rust and Go
# environments and rootfs/vendor.py's --deps directories: trees against
# manifests, `lock` of rootfs-go, vendor layouts and refusals, agent-image.sh.
CHECK_DEPS   += $(ROOTFS_RUST).manifest $(ROOTFS_GO).manifest $(B)/asan/cleanroom $(B)/init \
                $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(SRC_CACHE)/$(JP_TAR)
CHECK_SUITES += 'cli/toolchains=CLEANROOM=$(B)/asan/cleanroom INIT=$(B)/init KERNEL_DIR=$(KERNEL_DIR) ROOTFS_RUST=$(ROOTFS_RUST) ROOTFS_GO=$(ROOTFS_GO) CACHE=$(CACHE) JP_TARBALL=$(SRC_CACHE)/$(JP_TAR) tests/cli/toolchains.sh'
