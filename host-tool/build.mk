# build/cleanroom: the host tool. host-tool/main.c dispatches to the cmd_*.c
# front ends, which sit on the wings: eif/ (packing and reading EIFs, PCRs),
# run/ (the local enclave: QEMU, vhost-user vsock bridge, mock NSM),
# client/ (sending a build) and verify/ (checking a bundle).
# Everything but main.c also goes into libhost.a so unit tests can link it.
HOST_SRCS := $(filter-out host-tool/main.c,$(sort $(wildcard host-tool/*.c host-tool/*/*.c)))
# libarchive reads image layers for `cleanroom eif --oci`; libcrypto
# (libcrypto.so.3, from the openssl package's libssl3) hashes the PCRs of big
# images, libdeflate (libdeflate.so.0) their CRC. Host tool only, all opened
# on first use, not linked, so that other commands start fast
# (eif/archive_lazy.h, eif/bulk_sha384.c, eif/bulk_crc32.c).
HOST_LDLIBS := -lpthread -lz -ldl
APT_PKGS += libarchive-dev openssl libdeflate0

define host_rules
$(B)/$(1)/libhost.a: $(patsubst %.c,$(B)/$(1)/%.o,$(HOST_SRCS))
	@rm -f $$@
	$(Q)ar rcs $$@ $$^
endef
$(foreach v,host asan,$(eval $(call host_rules,$(v))))

$(B)/cleanroom: $(B)/host/host-tool/main.o $(B)/host/libhost.a $(LIBS_host)
	@echo "  LD      $@"
	$(Q)$(LINK_host) -o $@ $^ $(HOST_LDLIBS)

# The same tool built with ASan+UBSan; the CLI and QEMU tests run this one.
$(B)/asan/cleanroom: $(B)/asan/host-tool/main.o $(B)/asan/libhost.a $(LIBS_asan)
	@echo "  LD      $@"
	$(Q)$(LINK_asan) -o $@ $^ $(HOST_LDLIBS)
