# rootfs/: build roots for the enclave's build agent, assembled from Debian
# packages by rootfs/mkrootfs.sh (see its header). One rule for every
# environment ENV in ROOTFS_ENVS, each from rootfs/ENV.packages:
#
#   make rootfs-ENV  $(B)/rootfs-ENV           the tree (a link into the cache)
#                    $(B)/rootfs-ENV.manifest  packages (name, version, arch,
#                                              .deb SHA-256), recipe hash, tree digest
#     c     gcc 12, binutils, libc6-dev, make, busybox
#     rust  rustc 1.63, cargo 0.66, gcc 12 (the linker), binutils, libc6-dev, busybox
#     go    Go 1.19, gcc 12, binutils, libc6-dev, busybox
#   make agent-image ENV=rust   $(B)/agent-ENV.eif, then prints the manifest's
#                    tree digest beside the image's PCR0/1/2 (rootfs/agent-image.sh)
#
# `make rootfs-ENV` resolves the package closure against the apt lists (a few
# seconds), checks the tree against its manifest, and assembles it again only
# when a package or the recipe changed or the tree was altered. The tree lives
# in $(CACHE)/rootfs/rootfs-ENV-KEY (shared by every build directory; build
# directories must hold no directories named *.d, which Debian trees have)
# and $(B)/rootfs-ENV links to it; the .debs are kept in $(CACHE)/debs.
# `rootfs/mkrootfs.sh lock MANIFEST DIR $(CACHE)` rebuilds a manifest's exact tree.

ROOTFS_ENVS := c rust go
ROOTFS_C    := $(B)/rootfs-c
ROOTFS_RUST := $(B)/rootfs-rust
ROOTFS_GO   := $(B)/rootfs-go

.PHONY: $(addprefix rootfs-,$(ROOTFS_ENVS)) agent-image
$(addprefix rootfs-,$(ROOTFS_ENVS)): rootfs-%: | deps-apt
	@nice rootfs/mkrootfs.sh build rootfs-$* rootfs/$*.packages $(B)/rootfs-$* $(CACHE)
$(foreach e,$(ROOTFS_ENVS),$(B)/rootfs-$(e).manifest): $(B)/rootfs-%.manifest: rootfs-% ;

ENV ?= c
agent-image: $(B)/cleanroom $(B)/init $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko rootfs-$(ENV)
	@rootfs/agent-image.sh $(B)/cleanroom $(KERNEL_DIR) $(B)/init $(B)/rootfs-$(ENV) $(B)/agent-$(ENV).eif

# The manifest, the tree against it, a rebuild from the manifest giving the
# same tree, and compiles with it in the sandbox (natively).
CHECK_DEPS   += $(ROOTFS_C).manifest $(B)/asan/cleanroom
CHECK_SUITES += 'cli/rootfs-c=CLEANROOM=$(B)/asan/cleanroom ROOTFS=$(ROOTFS_C) CACHE=$(CACHE) tests/cli/rootfs-c.sh'
# mkrootfs.sh, intree.py and vendor.py on hostile package lists, manifests,
# trees, .debs (made by tests/cli/debtest.py), Cargo.lock and Go paths;
# offline, no Debian tree needed.
CHECK_SUITES += 'cli/rootfs-hostile=tests/cli/rootfs-hostile.sh'


# The C environment for aarch64 (Graviton) enclaves: the same package list,
# Debian's arm64 .debs, through a private apt configuration (mkrootfs.sh,
# ROOTFS_ARCH); busybox's applets are listed through qemu-user.
#   make rootfs-arm64-c   $(B)/rootfs-arm64-c, $(B)/rootfs-arm64-c.manifest
ROOTFS_ARM64_C := $(B)/rootfs-arm64-c
APT_PKGS += qemu-user-static
.PHONY: rootfs-arm64-c
rootfs-arm64-c: | deps-apt
	@ROOTFS_ARCH=arm64 nice rootfs/mkrootfs.sh build rootfs-arm64-c rootfs/c.packages $(ROOTFS_ARM64_C) $(CACHE)
$(ROOTFS_ARM64_C).manifest: rootfs-arm64-c ;
