# build/init: the enclave's PID 1 and build agent, static musl, stripped.
# init/*.c are PID 1 (boot steps, mounts, heartbeat, reaping) and the build
# agent; the sandbox, the report and the protocol come from their libraries.
INIT_SRCS := $(sort $(wildcard init/*.c))

$(B)/init: $(patsubst %.c,$(B)/musl/%.o,$(INIT_SRCS)) $(LIBS_musl)
	@echo "  LD      $@ (static musl, stripped)"
	$(Q)$(LINK_musl) -o $@.tmp $(filter %.o,$^) $(LIBS_musl)
	@mv $@.tmp $@
	@echo "  SIZE    $@: $$(stat -c %s $@) bytes stripped"

# build/aarch64/init: the same init cross-built for arm64 (Graviton enclaves),
# static against musl built from Debian's source (see the Makefile, aarch64).
.PHONY: init-aarch64
init-aarch64: deps $(B)/aarch64/init
$(B)/aarch64/init: $(patsubst %.c,$(B)/musl-aarch64/%.o,$(INIT_SRCS)) $(LIBS_musl-aarch64)
	@mkdir -p $(@D)
	@echo "  LD      $@ (static musl, aarch64, stripped)"
	$(Q)$(LINK_musl-aarch64) -o $@.tmp $(filter %.o,$^) $(LIBS_musl-aarch64)
	@mv $@.tmp $@
	@echo "  SIZE    $@: $$(stat -c %s $@) bytes stripped"
