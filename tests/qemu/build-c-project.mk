# qemu/build-c-project: a real C project we did not write — cJSON, Debian's
# cjson orig tarball (pinned by SHA-256, fetched with apt-get source, kept in
# $(SRC_CACHE)) — built by rootfs-c's gcc 12 in one local enclave through
# `cleanroom build`; the artifacts checked on the host (readelf, nm, ar, a
# program linked against the library), the tree id against git, a syntax
# error, the next build. About 6 minutes under TCG (figures in the suite's
# '# ' lines).
CJSON_VER := 1.7.15-1+deb12u4
CJSON_TAR := cjson_1.7.15.orig.tar.gz
CJSON_SHA := 5308fd4bd90cef7aa060558514de6a1a4a0819974a26e6ed13973c5f624c24b2
APT_PKGS  += git binutils dpkg-dev

$(SRC_CACHE)/$(CJSON_TAR): | deps-apt
	@.ci/deps.sh source cjson $(CJSON_VER) $(CJSON_TAR) $(CJSON_SHA) $(SRC_CACHE)

QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init \
               $(ROOTFS_C).manifest $(SRC_CACHE)/$(CJSON_TAR)
QEMU_SUITES += 'qemu/build-c-project=tests/qemu/build-c-project.sh $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init $(ROOTFS_C) $(SRC_CACHE)/$(CJSON_TAR)'
