# An installed cleanroom is complete: the suite runs
# `make install DESTDIR=<tmp> PREFIX=/usr/local` (a sub-make) and, outside the
# checkout with only the installed tool, packs with the installed kernel, init
# and nsm.ko as defaults, reads the man pages and boots the image once.
QEMU_DEPS   += $(B)/cleanroom $(B)/asan/cleanroom $(B)/init $(KERNEL_OUTPUTS) man
QEMU_SUITES += 'qemu/install=tests/qemu/install.sh $(B)/cleanroom $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init'
