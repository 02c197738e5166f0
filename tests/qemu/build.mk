# End-to-end suites that boot EIFs in QEMU (microvm, TCG) with `cleanroom run`.
# `make check-qemu` runs only these; `make check` runs them with the rest.
# Fragments add their QEMU suites to QEMU_SUITES and inputs to QEMU_DEPS.
QEMU_SUITES ?=
QEMU_DEPS   ?=
# Bookworm's QEMU 7.2 serves vhost-user-vsock-device on microvm (no backports
# needed); pgrep checks that no QEMU outlives a run.
APT_PKGS    += qemu-system-x86 procps

# The guest half of qemu/vsock and qemu/run: /init of the test EIFs (static musl).
QEMU_GUEST_VSOCK := $(B)/musl/tests/qemu/guest_vsock
$(QEMU_GUEST_VSOCK): tests/qemu/guest_vsock.c tests/qemu/guest_util.h $(LIBS_musl)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(MUSL_CC) $(CSTD) $(WARN) $(VARIANT_CFLAGS_musl) $(INC) -I$(B)/deps/musl/include \
	    $(VARIANT_LDFLAGS_musl) -o $@ $< $(LIBS_musl)

QEMU_RUN_ARGS := $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(QEMU_GUEST_VSOCK)
QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(QEMU_GUEST_VSOCK)
QEMU_SUITES += 'qemu/vsock=tests/qemu/run-vsock.sh vsock $(QEMU_RUN_ARGS)' \
               'qemu/run=tests/qemu/run-vsock.sh run $(QEMU_RUN_ARGS)'

# The sandbox on the enclave kernel: initramfs root, cgroup v2 (docs/sandbox.md).
SANDBOX_GUEST := $(B)/musl/tests/qemu/sandbox_guest
$(SANDBOX_GUEST): $(B)/musl/tests/qemu/sandbox_guest.o $(LIBS_musl)
	@echo "  LD      $@"
	@$(LINK_musl) -o $@ $(filter %.o,$^) $(LIBS_musl)
QEMU_DEPS   += $(KERNEL_DIR)/bzImage $(SANDBOX_GUEST)
QEMU_SUITES += 'qemu/sandbox=tests/qemu/sandbox-boot.sh $(KERNEL_DIR) $(SANDBOX_GUEST)'

# The mock NSM end to end: guest shim nsm.ko (`cleanroom eif --nsm-ko local`)
# -> vsock -> the host NSM model of `cleanroom run` (host-tool/run/nsm_model.h).
NSM_GUEST := $(B)/musl/tests/qemu/guest_nsm
$(NSM_GUEST): $(B)/musl/tests/qemu/guest_nsm.o $(LIBS_musl)
	@echo "  LD      $@"
	@$(LINK_musl) -o $@ $(filter %.o,$^) $(LIBS_musl)
QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(NSM_GUEST)
QEMU_SUITES += 'qemu/nsm=tests/qemu/nsm-run.sh $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(NSM_GUEST)'


# Build-agent mode of our init, driven by `cleanroom build`: one
# enclave, many builds, each failure answered and the next build served.
QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init
QEMU_SUITES += 'qemu/build-agent=tests/qemu/build-agent.sh $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init'

# Further suites, one fragment each (tests/qemu/<suite>.mk), so suites can be
# added without touching this file.
include $(filter-out tests/qemu/build.mk,$(sort $(wildcard tests/qemu/*.mk)))

CHECK_DEPS   += $(QEMU_DEPS)
CHECK_SUITES += $(QEMU_SUITES)

.PHONY: check-qemu
check-qemu: deps $(QEMU_DEPS)
	@tests/run.sh $(QEMU_SUITES)

# Suites too slow for `make check` under TCG (tens of minutes: real Go and
# Rust projects compiled in the enclave), registered in SLOW_SUITES / SLOW_DEPS by the
# fragments; `make check-slow` runs them (SUITE= filters as for check).
.PHONY: check-slow
check-slow: deps $(SLOW_DEPS)
	@tests/run.sh $(SLOW_SUITES)
