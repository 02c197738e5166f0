# Faults: hostile or failing hosts against the build agent in
# one local enclave — disconnects mid-transfer and mid-build, malformed and
# oversize frames, a trickling host, a silent host, out-of-memory in the
# build — and `cleanroom build` when the enclave or the connection dies.
# wire_client (tests/qemu/wire_client.c) is the scripted misbehaving client.
WIRE_CLIENT := $(B)/asan/tests/qemu/wire_client
$(WIRE_CLIENT): $(B)/asan/tests/qemu/wire_client.o $(B)/asan/libhost.a $(LIBS_asan)
	@echo "  LD      $@"
	@$(LINK_asan) -o $@ $< $(B)/asan/libhost.a $(LIBS_asan) $(HOST_LDLIBS)

QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init $(PROBE_BIN) $(WIRE_CLIENT)
QEMU_SUITES += 'qemu/faults=tests/qemu/faults.sh $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init $(PROBE_BIN) $(WIRE_CLIENT)'
