# Unit tests: tests/unit/test_<name>.c, built with ASan+UBSan against the
# shared library and the host-tool objects, one suite each.
UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/asan/tests/unit/%,$(sort $(wildcard tests/unit/test_*.c)))

$(B)/asan/tests/unit/%: $(B)/asan/tests/unit/%.o $(B)/asan/libhost.a $(LIBS_asan)
	@echo "  LD      $@"
	@$(LINK_asan) -o $@ $< $(B)/asan/libhost.a $(LIBS_asan) $(HOST_LDLIBS)

CHECK_UNIT_DEPS   += $(UNIT_TESTS)
CHECK_UNIT_SUITES += $(foreach t,$(UNIT_TESTS),'unit/$(notdir $(t))=$(t)')
