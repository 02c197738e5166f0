# Fuzzing: libFuzzer harnesses built with Debian's clang, the
# project's sources compiled again with clang for the host under
# -fsanitize=fuzzer-no-link,address,undefined and linked with the host
# BearSSL/libcbor (docs/fuzzing.md).
#
#   make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGETS="wire recv ..."]
#       runs each target N seconds (default 60), one after the other, niced,
#       and prints per target: executions, coverage (cov/ft), corpus, crashes.
#       Corpora grow in $(B)/fuzz/corpus/<target>; crash inputs land in
#       $(B)/fuzz/crashes/<target>/ (move the ones worth keeping, with their
#       fix, to tests/fuzz/regress/<target>/).
#   make check   runs fuzz/regress: every harness over its regress/<target>
#       inputs and the generated seeds, once each (no fuzzing), and
#       fuzz/valgrind: the verify path of the plain host build under valgrind.
APT_PKGS += clang-14 libclang-rt-14-dev valgrind

FUZZ_TARGETS ?= wire recv attest eif nsm report
FUZZ_SECONDS ?= 60
FUZZ_CC      := clang-14
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
# clang: no -Wformat-truncation; sandbox/sandbox.c skips a leading "/" with "literal" + 1 on purpose.
FUZZ_WARN    := $(filter-out -Wno-format-truncation,$(WARN)) -Wno-string-plus-int
FUZZ_DIR     := $(B)/fuzz
FUZZ_SRCS    := $(LIB_SRCS) $(HOST_SRCS) init/agent_recv.c init/rx_hasher.c
FUZZ_BINS    := $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))
FUZZ_SEEDS   := $(FUZZ_DIR)/seeds/.done
FUZZ_VECTORS := $(if $(SHARED),$(SHARED)/testvectors/nitro-attestation)

$(FUZZ_DIR)/obj/%.o: %.c | $(B)/deps/host/.done
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(FUZZ_CC) $(CSTD) $(FUZZ_WARN) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(INC) -I$(B)/deps/host/include \
	    -MMD -MP -c $< -o $@

$(FUZZ_DIR)/libcleanroom-fuzz.a: $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_SRCS))
	@rm -f $@
	@ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_DIR)/libcleanroom-fuzz.a $(B)/deps/host/lib/libcbor.a \
		    $(B)/deps/host/lib/libbearssl.a
	@echo "  LD      $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(HOST_LDLIBS)

# The seed generator uses the project's encoders as they ship (gcc, ASan).
$(B)/asan/tests/fuzz/seedgen: $(B)/asan/tests/fuzz/seedgen.o $(B)/asan/libhost.a $(LIBS_asan)
	@echo "  LD      $@"
	@$(LINK_asan) -o $@ $< $(B)/asan/libhost.a $(LIBS_asan) $(HOST_LDLIBS)

$(FUZZ_SEEDS): tests/fuzz/seeds.sh $(B)/asan/tests/fuzz/seedgen $(B)/cleanroom
	@echo "  SEEDS   $(FUZZ_DIR)/seeds"
	@mkdir -p $(FUZZ_DIR)/seeds && find $(FUZZ_DIR)/seeds -mindepth 1 -maxdepth 1 ! -name ca -exec rm -rf {} +
	@tests/fuzz/seeds.sh $(FUZZ_DIR)/seeds $(B)/asan/tests/fuzz/seedgen $(B)/cleanroom $(FUZZ_VECTORS) >$(FUZZ_DIR)/seeds.log \
	    || { cat $(FUZZ_DIR)/seeds.log; exit 1; }
	@touch $@

.PHONY: fuzz fuzz-build
fuzz-build: deps $(FUZZ_BINS) $(FUZZ_SEEDS)

fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

CHECK_DEPS   += $(FUZZ_BINS) $(FUZZ_SEEDS) $(B)/cleanroom
CHECK_SUITES += 'fuzz/regress=tests/fuzz/regress.sh $(FUZZ_DIR) $(FUZZ_TARGETS)' \
                'fuzz/valgrind=tests/fuzz/valgrind.sh $(B)/cleanroom $(FUZZ_DIR)/seeds'
