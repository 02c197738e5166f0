# cleanroom — attestable builds in AWS Nitro Enclaves.
#
# The one entry point. `make` installs what is missing and builds build/init
# (static musl PID 1) and build/cleanroom (host tool); `make check` runs every
# test; `make demo` runs the main job. Each directory adds its own targets and
# test suites in its build.mk, included below.
#
# Variables a user may set:
#   PREFIX, DESTDIR   for `make install`
#   CACHE             where pinned source tarballs and the kernel build are kept
#                     across clones (default /var/cache/cleanroom)
#   SHARED            the folder with the shared test vectors (default: ../shared)
#                     (tests that need it skip with a message when it is absent)

SHELL := /bin/bash
.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDARY:

B       := build
CACHE   ?= /var/cache/cleanroom
PREFIX  ?= /usr/local
DESTDIR ?=
SHARED  ?= $(wildcard $(abspath ../shared))
export SHARED

# ---------------------------------------------------------------- toolchains
CC      := gcc
MUSL_CC := musl-gcc
WARN    := -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-format-nonliteral -Wno-format-truncation
CSTD    := -std=c11 -D_GNU_SOURCE
# Includes are path-qualified ("base/util.h"): tests and tools see the root.
INC     := -I.

VARIANT_CFLAGS_musl := -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
VARIANT_CFLAGS_host := -O2 -g
VARIANT_CFLAGS_asan := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                       -fno-sanitize-recover=all
VARIANT_LDFLAGS_musl := -static -Wl,--gc-sections -s
VARIANT_LDFLAGS_host :=
VARIANT_LDFLAGS_asan := -fsanitize=address,undefined
VARIANT_CC_musl := $(MUSL_CC)
VARIANT_CC_host := $(CC)
VARIANT_CC_asan := $(CC)
# Which build of BearSSL/libcbor a variant links.
VARIANT_DEPS_musl := musl
VARIANT_DEPS_host := host
VARIANT_DEPS_asan := host
VARIANT_AR_musl := ar
VARIANT_AR_host := ar
VARIANT_AR_asan := ar
# musl-aarch64: the musl variant cross-compiled for arm64 (build/aarch64/init).
# musl itself is built from Debian's pinned source with the Debian cross
# compiler; its musl-gcc wrapper then drives everything like the x86_64 one.
AARCH64_CROSS := aarch64-linux-gnu-
AARCH64_MUSL  := $(abspath $(B))/deps/musl-libc-aarch64
VARIANT_CFLAGS_musl-aarch64  := $(VARIANT_CFLAGS_musl)
VARIANT_LDFLAGS_musl-aarch64 := $(VARIANT_LDFLAGS_musl)
VARIANT_CC_musl-aarch64      := $(AARCH64_MUSL)/bin/musl-gcc
VARIANT_DEPS_musl-aarch64    := musl-aarch64
VARIANT_AR_musl-aarch64      := $(AARCH64_CROSS)ar

# ---------------------------------------------------------------- deps
APT_PKGS := gcc make musl-tools linux-libc-dev cpio openssl cmake xz-utils \
            ca-certificates git python3 dpkg-dev zlib1g-dev \
            gcc-aarch64-linux-gnu linux-libc-dev-arm64-cross
BEARSSL_VER := 0.6+dfsg.1-3
BEARSSL_TAR := bearssl_0.6+dfsg.1.orig.tar.xz
BEARSSL_SHA := 102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004
LIBCBOR_VER := 0.10.2-2
LIBCBOR_TAR := libcbor_0.10.2.orig.tar.gz
LIBCBOR_SHA := e75f712215d7b7e5c89ef322a09b701f7159f028b8b48978865725f00f79875b
MUSL_VER    := 1.2.3-1
MUSL_TAR    := musl_1.2.3.orig.tar.gz
MUSL_SHA    := 7d5b0b6062521e4627e099e4c9dc8248d32a30285e959b7eecaa780cf8cfd4a4
SRC_CACHE   := $(CACHE)/src

# Fragments add packages (APT_PKGS, BACKPORTS_PKGS), objects, programs,
# CHECK_SUITES ('name=command' run by tests/run.sh) and CHECK_DEPS.
CHECK_SUITES :=
CHECK_DEPS   :=
CHECK_UNIT_SUITES :=
CHECK_UNIT_DEPS   :=
INSTALL_EXTRA :=
BACKPORTS_PKGS :=

.PHONY: all deps deps-apt deps-src deps-src-aarch64 deps-libs check check-unit demo demo-go demo-rust install clean distclean compile_commands.json

# ARCH=aarch64: the init for arm64 (build/aarch64/init) instead of x86_64's.
all: deps $(if $(filter aarch64,$(ARCH)),$(B)/aarch64/init,$(B)/init) $(B)/cleanroom

deps: deps-apt deps-libs

deps-apt:
	@.ci/deps.sh apt $(sort $(APT_PKGS))
	@$(if $(BACKPORTS_PKGS),.ci/deps.sh backports $(sort $(BACKPORTS_PKGS)))

deps-src: deps-apt
	@.ci/deps.sh source bearssl $(BEARSSL_VER) $(BEARSSL_TAR) $(BEARSSL_SHA) $(SRC_CACHE)
	@.ci/deps.sh source libcbor $(LIBCBOR_VER) $(LIBCBOR_TAR) $(LIBCBOR_SHA) $(SRC_CACHE)

deps-libs: $(B)/deps/musl/.done $(B)/deps/host/.done

# A recipe that runs $(MAKE) is executed even by `make -n`; these start by
# deleting the build they replace, so under -n they stop first.
DRY_RUN_STOP = if [ -n "$(findstring n,$(firstword -$(MAKEFLAGS)))" ]; then echo "  DEPS    $@ (make -n: not rebuilt)"; exit 0; fi;

# BearSSL and libcbor, built static from the pinned tarballs, once per libc
# (musl, host glibc, and the aarch64 musl). musl-gcc does not search the
# kernel headers, so a musl tree links in those of its architecture.
DEPS_CC_musl      := $(MUSL_CC)
DEPS_CC_host      := $(CC)
DEPS_CC_musl-aarch64    := $(VARIANT_CC_musl-aarch64)
DEPS_UAPI_musl    := /usr/include /usr/include/x86_64-linux-gnu
DEPS_UAPI_musl-aarch64 := /usr/aarch64-linux-gnu/include /usr/aarch64-linux-gnu/include
DEPS_CMAKE_musl-aarch64 := -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
                      -DCMAKE_AR=/usr/bin/$(AARCH64_CROSS)ar -DCMAKE_RANLIB=/usr/bin/$(AARCH64_CROSS)ranlib
# BearSSL without gcc's auto-vectorisation: gcc 12 at -O2 turns SHA-1's and
# SHA-256's message schedules into SSE code that is slower natively (SHA-1 at
# half speed) and far slower under QEMU's TCG, where SSE is emulated by helper
# calls: git blob hashing in the enclave ran at 30 MiB/s with it and 66 MiB/s
# without (bench/source-transfer). EC arithmetic is unchanged.
BEARSSL_CFLAGS := -W -Wall -O2 -fno-tree-vectorize -fPIC
# The flags as a file, rewritten only when they change: a build tree made
# with other flags rebuilds its libraries instead of keeping them.
$(B)/deps/bearssl.cflags: FORCE
	@mkdir -p $(@D); printf '%s\n' '$(BEARSSL_CFLAGS)' | cmp -s - $@ || printf '%s\n' '$(BEARSSL_CFLAGS)' >$@
.PHONY: FORCE
FORCE:
$(B)/deps/%/.done: $(B)/deps/bearssl.cflags | deps-src
	@echo "  DEPS    BearSSL + libcbor ($*)"
	@$(DRY_RUN_STOP) set -e; d=$(abspath $(B)/deps/$*); rm -rf $$d; mkdir -p $$d/src $$d/lib $$d/include; \
	cc=$(DEPS_CC_$*); \
	$(if $(DEPS_UAPI_$*),for h in linux asm-generic; do ln -s $(word 1,$(DEPS_UAPI_$*))/$$h $$d/include/$$h; done; \
	  ln -s $(word 2,$(DEPS_UAPI_$*))/asm $$d/include/asm;) \
	echo "$(BEARSSL_SHA)  $(SRC_CACHE)/$(BEARSSL_TAR)" | sha256sum -c --status || { echo "deps: $(BEARSSL_TAR) changed in the cache" >&2; exit 1; }; \
	echo "$(LIBCBOR_SHA)  $(SRC_CACHE)/$(LIBCBOR_TAR)" | sha256sum -c --status || { echo "deps: $(LIBCBOR_TAR) changed in the cache" >&2; exit 1; }; \
	tar -C $$d/src -xf $(SRC_CACHE)/$(BEARSSL_TAR); tar -C $$d/src -xf $(SRC_CACHE)/$(LIBCBOR_TAR); \
	$(MAKE) -s -C $$d/src/bearssl-0.6 lib CC=$$cc AR=$(VARIANT_AR_$*) CFLAGS='$(BEARSSL_CFLAGS)' BUILD=out >$$d/bearssl.log 2>&1 \
	  || { cat $$d/bearssl.log; exit 1; }; \
	cp $$d/src/bearssl-0.6/out/libbearssl.a $$d/lib/; cp $$d/src/bearssl-0.6/inc/*.h $$d/include/; \
	mkdir -p $$d/src/cbor-build; \
	( cd $$d/src/cbor-build && cmake ../libcbor-0.10.2 -DCMAKE_C_COMPILER=$$cc -DCMAKE_BUILD_TYPE=Release \
	    -DCMAKE_C_FLAGS='-fPIC' -DWITH_EXAMPLES=OFF -DWITH_TESTS=OFF -DBUILD_SHARED_LIBS=OFF -DSANITIZE=OFF $(DEPS_CMAKE_$*) \
	    -DCMAKE_INSTALL_PREFIX=$$d -DCMAKE_INSTALL_LIBDIR=lib && $(MAKE) && $(MAKE) install ) >$$d/libcbor.log 2>&1 \
	  || { cat $$d/libcbor.log; exit 1; }; \
	rm -rf $$d/src; touch $@

# musl for aarch64: Debian's pinned musl source, built static with Debian's
# cross compiler, installed with its musl-gcc wrapper (bin/, lib/musl-gcc.specs).
deps-src-aarch64: deps-src
	@.ci/deps.sh source musl $(MUSL_VER) $(MUSL_TAR) $(MUSL_SHA) $(SRC_CACHE)
$(AARCH64_MUSL)/.done: | deps-src-aarch64
	@echo "  DEPS    musl $(MUSL_VER) (aarch64, $(AARCH64_CROSS)gcc)"
	@$(DRY_RUN_STOP) set -e; d=$(AARCH64_MUSL); rm -rf $$d; mkdir -p $$d/src; \
	echo "$(MUSL_SHA)  $(SRC_CACHE)/$(MUSL_TAR)" | sha256sum -c --status || { echo "deps: $(MUSL_TAR) changed in the cache" >&2; exit 1; }; \
	tar -C $$d/src -xf $(SRC_CACHE)/$(MUSL_TAR); \
	( cd $$d/src/musl-1.2.3 && ./configure --target=aarch64-linux-gnu CROSS_COMPILE=$(AARCH64_CROSS) \
	    CC=$(AARCH64_CROSS)gcc --prefix=$$d --disable-shared --enable-wrapper=gcc \
	  && $(MAKE) && $(MAKE) install ) >$$d/musl.log 2>&1 || { cat $$d/musl.log; exit 1; }; \
	rm -rf $$d/src; touch $@
$(B)/deps/musl-aarch64/.done: $(AARCH64_MUSL)/.done

# The libraries come with their .done stamp.
$(B)/deps/%/lib/libcbor.a $(B)/deps/%/lib/libbearssl.a: $(B)/deps/%/.done ;

# ---------------------------------------------------------------- layers
# The libraries, each a folder with its own build.mk, and who may use whom.
# Dependencies point one way:
#   base <- nsm, vsock <- report <- init, host-tool;  base <- sandbox <- init, host-tool
# A folder compiles with only the folders it may use on its include path (a
# tree of links, $(B)/inc/<folder>/), so an include that points the wrong way
# does not compile. Tests and benches see the whole root.
USES_base      := base
USES_nsm       := base nsm
USES_vsock     := base vsock
USES_report    := base nsm vsock report
USES_sandbox   := base sandbox
USES_init      := base nsm vsock report sandbox init
USES_host-tool := base nsm vsock report sandbox host-tool
LAYERS := $(patsubst USES_%,%,$(filter USES_%,$(.VARIABLES)))
# Static link order: users before what they use.
LIBRARIES := report nsm vsock sandbox base
include $(addsuffix /build.mk,$(LIBRARIES))
LIB_SRCS := $(foreach l,$(LIBRARIES),$($(l)_SRCS))

$(B)/inc/%/.done: Makefile
	@rm -rf $(@D) && mkdir -p $(@D) && for d in $(USES_$*); do ln -s $(CURDIR)/$$d $(@D)/$$d; done && touch $@
layer_of = $(filter $(LAYERS),$(firstword $(subst /, ,$(1))))
# The include flags of a source file.
inc_for = $(if $(call layer_of,$(1)),-I$(B)/inc/$(call layer_of,$(1)),$(INC))
LAYER_STAMPS := $(foreach l,$(LAYERS),$(B)/inc/$(l)/.done)

# ---------------------------------------------------------------- compiling
# build/<variant>/<path>.o from <path>.c, for variants musl, host, asan.
V ?= 0
Q := $(if $(filter 1,$(V)),,@)
define variant_rules
$(B)/$(1)/%.o: %.c | $(B)/deps/$(VARIANT_DEPS_$(1))/.done $(LAYER_STAMPS)
	@mkdir -p $$(@D)
	$(if $(filter 1,$(V)),,@echo "  CC      $$@")
	$(Q)$(VARIANT_CC_$(1)) $(CSTD) $(WARN) $(VARIANT_CFLAGS_$(1)) $$(call inc_for,$$<) -I$(B)/deps/$(VARIANT_DEPS_$(1))/include \
	    -MMD -MP -c $$< -o $$@

$(foreach l,$(LIBRARIES),
$(B)/$(1)/lib$(l).a: $$(patsubst %.c,$(B)/$(1)/%.o,$$($(l)_SRCS))
	@rm -f $$@
	$(Q)$(VARIANT_AR_$(1)) rcs $$@ $$^
)

LIBS_$(1) := $(foreach l,$(LIBRARIES),$(B)/$(1)/lib$(l).a) $(B)/deps/$(VARIANT_DEPS_$(1))/lib/libcbor.a \
             $(B)/deps/$(VARIANT_DEPS_$(1))/lib/libbearssl.a
LINK_$(1) = $(VARIANT_CC_$(1)) $(VARIANT_LDFLAGS_$(1))
endef
$(foreach v,musl host asan musl-aarch64,$(eval $(call variant_rules,$(v))))

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)

include $(wildcard $(addsuffix /build.mk,init host-tool kernel-config qemu-nitro rootfs bench \
                   tests/unit tests/layout tests/cli tests/qemu tests/fuzz docs))

# ---------------------------------------------------------------- tests
# SUITE=NAME (a shell pattern, e.g. SUITE='qemu/*') runs only the suites
# whose name matches.
SUITE ?=
export SUITE
check-unit: deps $(CHECK_UNIT_DEPS)
	@tests/run.sh $(CHECK_UNIT_SUITES)

check: deps $(CHECK_UNIT_DEPS) $(CHECK_DEPS)
	@tests/run.sh $(CHECK_UNIT_SUITES) $(CHECK_SUITES)

# ---------------------------------------------------------------- editors
# compile_commands.json for clangd and other tools: every source of the
# libraries, the init, the host tool and the unit tests, with the flags of
# the host build (each folder's own include path).
COMPDB_SRCS = $(LIB_SRCS) $(INIT_SRCS) $(HOST_SRCS) host-tool/main.c $(sort $(wildcard tests/unit/*.c))
.PHONY: compile_commands.json
compile_commands.json: | $(LAYER_STAMPS)
	@for s in $(COMPDB_SRCS); do \
	  l=$${s%%/*}; case " $(LAYERS) " in *" $$l "*) inc=-I$(B)/inc/$$l ;; *) inc="$(INC)" ;; esac; \
	  printf '%s\t%s\n' "$$s" "$(CC) $(CSTD) $(WARN) $(VARIANT_CFLAGS_host) $$inc -I$(B)/deps/host/include -c $$s -o $(B)/host/$${s%.c}.o"; \
	done | python3 -c 'import json, os, sys; \
	  print(json.dumps([{"directory": os.getcwd(), "file": f, "command": c} \
	  for f, c in (l.rstrip("\n").split("\t") for l in sys.stdin)], indent=1))' >$@.tmp && mv $@.tmp $@
	@echo "  GEN     $@ ($(words $(COMPDB_SRCS)) files)"

# ---------------------------------------------------------------- demo
demo: deps $(B)/init $(B)/cleanroom kernel rootfs-c
	@B=$(B) demo/demo.sh
# A real Go / Rust project, dependencies vendored from Debian (docs/toolchains.md).
demo-go: deps $(B)/init $(B)/cleanroom kernel rootfs-go $(SRC_CACHE)/$(JP_TAR)
	@B=$(B) CACHE=$(CACHE) JP_TARBALL=$(SRC_CACHE)/$(JP_TAR) demo/toolchain-demo.sh go
demo-rust: deps $(B)/init $(B)/cleanroom kernel rootfs-rust
	@B=$(B) CACHE=$(CACHE) demo/toolchain-demo.sh rust

# A container image (made with umoci from a small static program) -> EIF
# (cleanroom eif --oci) -> cleanroom run: the program's output on the console.
.PHONY: demo-oci
demo-oci: deps $(B)/init $(B)/cleanroom kernel
	@B=$(B) demo/oci-demo.sh

# ---------------------------------------------------------------- install
# PREFIX/bin/cleanroom, and what it packs by default under
# PREFIX/lib/cleanroom/<arch>/ (the layout of nitro-cli's blobs): the enclave
# kernel with its config, the init and the mock-NSM shim. The tool finds them
# relative to itself (bin/../lib/cleanroom/<arch>/), so a DESTDIR staging or a
# moved tree works. The man pages come from docs/build.mk (INSTALL_EXTRA).
INSTALL_ARCH := x86_64
INSTALL_LIB  := $(DESTDIR)$(PREFIX)/lib/cleanroom/$(INSTALL_ARCH)
install: all $(KERNEL_OUTPUTS)
	install -d $(DESTDIR)$(PREFIX)/bin $(INSTALL_LIB)
	install -m 0755 $(B)/cleanroom $(DESTDIR)$(PREFIX)/bin/cleanroom
	install -m 0755 $(B)/init $(INSTALL_LIB)/init
	install -m 0644 $(KERNEL_DIR)/bzImage $(INSTALL_LIB)/bzImage
	install -m 0644 $(KERNEL_DIR)/config $(INSTALL_LIB)/bzImage.config
	install -m 0644 $(KERNEL_DIR)/nsm.ko $(INSTALL_LIB)/nsm.ko
	$(INSTALL_EXTRA)

clean:
	rm -rf $(B)

# Also forget the cached tarballs and kernel build.
distclean: clean
	rm -rf $(CACHE)
