#!/bin/bash
# qemu/oci-agent: a build environment from a container image. The C
# toolchain root (make rootfs-c) is exported as an OCI image by umoci,
# packed with `cleanroom eif --oci ... --agent`, shown byte-identical to the
# `--rootfs` EIF of the same tree (so its PCRs are the same), booted, and a C
# program is built through it with `cleanroom build`.
#   tests/qemu/oci-agent.sh CLEANROOM KERNEL_DIR INIT ROOTFS
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
. "$(dirname "$0")/agentlib.sh"
agent_suite_args "$@"
ROOTFS=$(realpath "$ARG4")
command -v umoci >/dev/null || { not_ok "setup" "umoci is not installed (APT_PKGS)"; exit 1; }
export TMPDIR=$T/private
mkdir -p "$TMPDIR"
now() { date +%s.%N; }

# --- the toolchain root as an OCI image, made by umoci (one layer)
t0=$(now)
# (unpack an empty image, copy the tree in, repack: umoci 0.4.7's 'insert'
# writes a tar without its end blocks, which tar(1) and libarchive refuse)
umoci init --layout "$T/img" >/dev/null && umoci new --image "$T/img:rootfs-c" >/dev/null &&
	umoci unpack --image "$T/img:rootfs-c" "$T/bundle" >/dev/null && cp -a "$ROOTFS/." "$T/bundle/rootfs/" &&
	umoci repack --image "$T/img:rootfs-c" "$T/bundle" >/dev/null ||
	{ not_ok "umoci exports rootfs-c as an OCI image" "umoci failed"; exit 1; }
rm -rf "$T/bundle"
ok "umoci exports rootfs-c as an OCI image ($(du -sm "$T/img" | cut -f1) MB, $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s)"

pack() { # OUT SOURCE-ARGS...
	local out=$1
	shift
	$CLEANROOM eif --kernel "$KDIR/bzImage" --init "$INIT" --nsm-ko "$KDIR/nsm.ko" "$@" -o "$out" >"$out.json" 2>"$out.err"
}
t0=$(now)
pack "$T/agent.eif" --oci "$T/img:rootfs-c" --agent --no-image-info ||
	{ not_ok "pack the image with --oci --agent" "$(cat "$T/agent.eif.err")"; exit 1; }
ok "pack the image with --oci --agent ($(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s)"
pack "$T/dir.eif" --rootfs "$ROOTFS" || { not_ok "pack --rootfs rootfs-c" "$(cat "$T/dir.eif.err")"; exit 1; }
cmp -s "$T/agent.eif" "$T/dir.eif" && ok "the --oci --agent EIF is byte-identical to the --rootfs rootfs-c one" ||
	not_ok "the --oci --agent EIF is byte-identical to the --rootfs rootfs-c one" "$(cmp "$T/agent.eif" "$T/dir.eif")"
[ -z "$(ls -A "$TMPDIR")" ] && ok "no temporary directory left" || not_ok "no temporary directory left" "$(ls "$TMPDIR")"
pack "$T/info.eif" --oci "$T/img:rootfs-c" --agent || not_ok "pack with the image's metadata" "$(cat "$T/info.eif.err")"
same "with the image's metadata the PCRs are the same" \
	"$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["Measurements"]; print(m["PCR0"], m["PCR1"], m["PCR2"])' "$T/info.eif.json")" \
	"$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["Measurements"]; print(m["PCR0"], m["PCR1"], m["PCR2"])' "$T/dir.eif.json")"

# --- boot it and build through it
AGENT_MEMORY=1024 agent_boot_eif || exit 1
ok "the agent image from the OCI image boots"
mkdir -p "$T/src"
cat >"$T/src/hello.c" <<'C'
#include <stdio.h>
int main(void)
{
	printf("hello from an image-built toolchain\n");
	return 0;
}
C
printf 'hello: hello.c\n\tgcc -O2 -o hello hello.c\n' >"$T/src/Makefile"
abuild out --output hello "$T/src" -- make hello
if [ "$RC" = 0 ]; then ok "a C program builds through it (make, gcc of rootfs-c)"; else
	not_ok "a C program builds through it" "exit $RC: $(echo "$LOG" | tail -3 | tr '\n' ' ')"; fi
same "the program runs here" "$("$T/out/hello" 2>&1)" "hello from an image-built toolchain"
grep -q '^report .*verified' "$T/out.stdout" && ok "its report verifies against the --oci image" ||
	not_ok "its report verifies against the --oci image" "$(tail -2 "$T/out.stdout")"
agent_stop
t_done
