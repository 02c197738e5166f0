# Benchmarks: ratios measured in one run, printed; never asserted in tests.
.PHONY: bench bench-eif-pack
bench: bench-eif-pack
bench-eif-pack: deps $(B)/cleanroom $(B)/init
	@CLEANROOM=$(B)/cleanroom INIT=$(B)/init bench/eif-pack.sh

# Attestation verification of the real documents (goal <= 20 ms each), in
# process, beside a peer verifier's time on the same documents (npm ci of
# bench/peer-verifier into the build directory).
.PHONY: bench-verify
bench: bench-verify
$(B)/host/bench/verify: $(B)/host/bench/verify.o $(LIBS_host)
	@echo "  LD      $@"
	@$(LINK_host) -o $@ $^
bench-verify: deps $(B)/host/bench/verify
	@if [ -z "$(SHARED)" ]; then echo "bench verify: skipped (SHARED is not set; it holds the real documents)"; \
	else bench/verify.sh $(B)/host/bench/verify $(B)/bench-peer \
	    $(sort $(wildcard $(SHARED)/testvectors/nitro-attestation/*.cbor $(SHARED)/testvectors/nitro-attestation/*.bin)); fi

# Sandbox overhead: gzip's configure + make, plain vs in `cleanroom
# sandbox-exec`, alternating (goal <= 1.03). Needs root.
.PHONY: bench-sandbox-overhead
bench: bench-sandbox-overhead
bench-sandbox-overhead: deps $(B)/cleanroom
	@CLEANROOM=$(B)/cleanroom CACHE=$(CACHE) bench/sandbox-overhead.sh

bench: bench-source-transfer
.PHONY: bench-source-transfer
# (tests/qemu/build.mk, included later, builds the echo guest)
bench-source-transfer: deps $(B)/cleanroom $(B)/init $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/musl/tests/qemu/guest_vsock
	@CLEANROOM=$(B)/cleanroom KERNEL_DIR=$(KERNEL_DIR) INIT=$(B)/init GUEST_VSOCK=$(B)/musl/tests/qemu/guest_vsock \
	    bench/source-transfer.sh

# Bundle verification time, in process (goal <= 20 ms) and per process
# (goal <= 15 ms), on what `make demo` produced.
.PHONY: bench-verify-bundle
bench: bench-verify-bundle
$(B)/host/bench/verify_bundle: $(B)/host/bench/verify_bundle.o $(B)/host/libhost.a $(LIBS_host)
	@echo "  LD      $@"
	@$(LINK_host) -o $@ $^ $(HOST_LDLIBS)
bench-verify-bundle: deps $(B)/host/bench/verify_bundle $(B)/cleanroom
	@if [ ! -f $(B)/demo/out/cleanroom-bundle.json ]; then echo "bench verify-bundle: run 'make demo' first (it makes the bundle)"; exit 1; fi
	@bench/verify-bundle.sh $(B)/host/bench/verify_bundle $(B)/cleanroom $(B)/demo/out/cleanroom-bundle.json \
	    $(B)/demo/nsm-ca/root.pem $(B)/demo/out/hello

# Our init against AWS's bootstrap init (built by you from its public source;
# this fetches nothing): boot-to-heartbeat, peak RSS, console behaviour.
.PHONY: bench-init-compare
bench: bench-init-compare
bench-init-compare: deps $(B)/cleanroom $(B)/init $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko
	@if [ -z "$(AWS_INIT)" ]; then echo "bench init-compare: skipped (AWS_INIT is not set: the path of AWS's init, built from aws-nitro-enclaves-sdk-bootstrap init/init.c)"; \
	else CLEANROOM=$(B)/cleanroom KERNEL_DIR=$(KERNEL_DIR) INIT=$(B)/init bench/init-compare.sh $(AWS_INIT); fi

# cleanroom eif --oci on a ~1 GB image vs --rootfs of the same tree vs
# sha384sum of the EIF, with peak RSS (goal < 100 MB).
.PHONY: bench-oci-pack
bench: bench-oci-pack
bench-oci-pack: deps $(B)/cleanroom $(B)/init
	@CLEANROOM=$(B)/cleanroom INIT=$(B)/init bench/oci-pack.sh

# SHA-384 implementations for the two PCR streams of packing: BearSSL,
# libcrypto (the host tool's choice) and our own two-lane SIMD one.
.PHONY: bench-sha384
bench: bench-sha384
$(B)/host/bench/sha384: $(B)/host/bench/sha384.o $(B)/host/bench/sha384x2.o $(B)/host/libhost.a $(LIBS_host)
	@echo "  LD      $@"
	@$(LINK_host) -o $@ $^ $(HOST_LDLIBS)
bench-sha384: deps $(B)/host/bench/sha384
	@$(B)/host/bench/sha384

# What one 4 KiB source file costs the enclave's guest under TCG, piece by
# piece (decode, hash, file creation, a socket copy), beside the raw bridge:
# how far the small-file transfer of bench-source-transfer can go.
.PHONY: bench-guest-file-cost
bench: bench-guest-file-cost
$(B)/musl/bench/guest_file_cost: bench/guest_file_cost.c $(LIBS_musl) | $(B)/deps/musl/.done
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(MUSL_CC) $(CSTD) $(WARN) $(VARIANT_CFLAGS_musl) $(INC) -I$(B)/deps/musl/include \
	    $(VARIANT_LDFLAGS_musl) -o $@ $< $(LIBS_musl)
bench-guest-file-cost: deps $(B)/cleanroom $(KERNEL_DIR)/bzImage $(B)/musl/bench/guest_file_cost $(B)/musl/tests/qemu/guest_vsock
	@CLEANROOM=$(B)/cleanroom KERNEL_DIR=$(KERNEL_DIR) GUEST_VSOCK=$(B)/musl/tests/qemu/guest_vsock \
	    bench/guest-file-cost.sh $(B)/musl/bench/guest_file_cost
