# build/init: the enclave's PID 1, static musl, stripped.
# init/*.c are init's own; the host tool also compiles the files listed in
# INIT_SHARED_SRCS (code that must behave the same on the host, e.g. the sandbox).
INIT_SRCS := $(sort $(wildcard init/*.c))
# The sandbox (SANDBOX.md): the build agent runs it, and `cleanroom sandbox-exec` runs it natively.
INIT_SHARED_SRCS := init/sandbox.c init/sandbox_child.c init/seccomp_filter.c init/cgroup_limits.c

$(B)/init: $(patsubst %.c,$(B)/musl/%.o,$(INIT_SRCS)) $(LIBS_musl)
	@echo "  LD      $@ (static musl, stripped)"
	@$(LINK_musl) -o $@.tmp $(filter %.o,$^) $(LIBS_musl)
	@mv $@.tmp $@
	@echo "  SIZE    $@: $$(stat -c %s $@) bytes stripped"
