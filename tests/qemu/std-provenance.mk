# The report in the standard forms, checked by other verifiers: one local
# build; `cleanroom verify` on cleanroom-bundle.json, cleanroom.sigstore.json
# and cleanroom.intoto.jsonl, and with the key it exports, Debian's
# securesystemslib on the envelope and the Sigstore JavaScript verifier
# (npm ci of tests/verifiers/package-lock.json into the build directory) on
# the Sigstore bundle; tampered files refused by all three.
# A nodesource nodejs carries npm (and conflicts with Debian's npm package):
# ask for npm only when there is none.
APT_PKGS    += git python3-securesystemslib nodejs $(if $(shell command -v npm),,npm)
QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_DIR)/bzImage $(KERNEL_DIR)/nsm.ko $(B)/init \
               tests/verifiers/package.json tests/verifiers/package-lock.json
QEMU_SUITES += 'qemu/std-provenance=tests/qemu/std-provenance.sh $(B)/asan/cleanroom $(KERNEL_DIR) $(B)/init $(B)/sigstore-js'
