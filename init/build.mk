# build/init: the enclave's PID 1 and build agent, static musl, stripped.
# init/*.c are PID 1 (boot steps, mounts, heartbeat, reaping) and the build
# agent; the sandbox, the report and the protocol come from their libraries.
INIT_SRCS := $(sort $(wildcard init/*.c))

$(B)/init: $(patsubst %.c,$(B)/musl/%.o,$(INIT_SRCS)) $(LIBS_musl)
	@echo "  LD      $@ (static musl, stripped)"
	$(Q)$(LINK_musl) -o $@.tmp $(filter %.o,$^) $(LIBS_musl)
	@mv $@.tmp $@
	@echo "  SIZE    $@: $$(stat -c %s $@) bytes stripped"
