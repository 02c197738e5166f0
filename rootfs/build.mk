# rootfs/: build roots for the enclave's build agent, assembled from Debian
# packages by rootfs/mkrootfs.sh (see its header).
#
#   make rootfs-c    $(B)/rootfs-c           the C build environment: gcc 12,
#                                            binutils, libc6-dev, make, busybox
#                    $(B)/rootfs-c.manifest  packages (name, version, arch,
#                                            .deb SHA-256), recipe hash, tree digest
#   Pack it:  cleanroom eif --kernel ... --init $(B)/init --rootfs $(B)/rootfs-c -o agent.eif
#
# `make rootfs-c` resolves the package closure against the apt lists (a few
# seconds), checks the tree against its manifest, and assembles it again only
# when a package or the recipe changed or the tree was altered. The tree lives
# in $(CACHE)/rootfs/rootfs-c-KEY (shared by every build directory; build
# directories must hold no directories named *.d, which Debian trees have)
# and $(B)/rootfs-c links to it; the .debs are kept in $(CACHE)/debs.
# `rootfs/mkrootfs.sh lock MANIFEST DIR $(CACHE)` rebuilds a manifest's exact tree.

ROOTFS_C := $(B)/rootfs-c

.PHONY: rootfs-c
rootfs-c: | deps-apt
	@nice rootfs/mkrootfs.sh build rootfs-c rootfs/c.packages $(ROOTFS_C) $(CACHE)
$(ROOTFS_C).manifest: rootfs-c ;

# The manifest, the tree against it, a rebuild from the manifest giving the
# same tree, and compiles with it in the sandbox (natively).
CHECK_DEPS   += $(ROOTFS_C).manifest $(B)/asan/cleanroom
CHECK_SUITES += 'cli/rootfs-c=CLEANROOM=$(B)/asan/cleanroom ROOTFS=$(ROOTFS_C) CACHE=$(CACHE) tests/cli/rootfs-c.sh'
