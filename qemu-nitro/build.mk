# Upstream QEMU with its `nitro-enclave` machine, an independent oracle for
# cleanroom's EIF, boot and NSM code. Built by qemu-nitro/build.sh from Debian
# trixie's qemu source package (pinned by SHA-256) and cached under
# $(CACHE)/qemu-nitro/<key>/; the first build takes several minutes, later
# ones copy the cached binary.
#
#   make qemu-nitro      $(B)/qemu-nitro/qemu-system-x86_64
#
# `make check` depends on it through the qemu/nitro-enclave suite.

# What the build links against and runs; installed only by `make qemu-nitro`.
QEMU_NITRO_PKGS := libcbor-dev libgnutls28-dev libglib2.0-dev libfdt-dev zlib1g-dev \
                   ninja-build pkg-config python3-venv dpkg-dev gcc binutils \
                   qemu-system-data
QEMU_NITRO := $(B)/qemu-nitro/qemu-system-x86_64

.PHONY: qemu-nitro
qemu-nitro: $(QEMU_NITRO)

$(QEMU_NITRO): qemu-nitro/build.sh
	@.ci/deps.sh apt $(QEMU_NITRO_PKGS)
	@qemu-nitro/build.sh install $(@D) $(CACHE)
