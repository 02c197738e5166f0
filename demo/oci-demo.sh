#!/bin/bash
# make demo-oci: a container image to a running enclave, without Docker.
#
#   1. build a small static program (demo/oci-hello.c, musl);
#   2. make an OCI image of it with umoci (one layer, Cmd and Env set);
#   3. cleanroom eif --oci: the image -> an EIF (its Cmd becomes /cmd, its
#      Env /env, as nitro-cli does);
#   4. cleanroom run: boot it locally (QEMU, mock NSM) and show the
#      program's output from the console.
#   B: build directory (default build)
set -euo pipefail
B=${B:-build}
CLEANROOM=$B/cleanroom
work=$B/demo-oci
step() { printf '\n== %s\n' "$*"; }
rm -rf "$work"
mkdir -p "$work/root/bin"

step "the program: demo/oci-hello.c, static (musl-gcc)"
musl-gcc -std=c11 -Os -static -s -o "$work/root/bin/hello" demo/oci-hello.c
ls -l "$work/root/bin/hello"

step "the image: umoci, one layer, Cmd and Env in the config ($work/image, tag hello)"
# (unpack the empty image, add the program, repack: umoci 0.4.7's 'insert'
# writes a layer without the tar end blocks, which libarchive refuses)
umoci init --layout "$work/image" >/dev/null
umoci new --image "$work/image:hello" >/dev/null
umoci unpack --image "$work/image:hello" "$work/bundle" >/dev/null
cp -a "$work/root/." "$work/bundle/rootfs/"
umoci repack --image "$work/image:hello" "$work/bundle" >/dev/null
umoci config --image "$work/image:hello" --config.cmd /bin/hello --config.cmd "from an OCI image" \
	--config.env "GREETING=hello from cleanroom eif --oci" >/dev/null
cat "$work/image/index.json"
echo

step "cleanroom eif --oci $work/image:hello -o $work/app.eif"
SOURCE_DATE_EPOCH=0 "$CLEANROOM" eif --oci "$work/image:hello" --nsm-ko local -o "$work/app.eif"
"$CLEANROOM" describe "$work/app.eif" | grep -E '^(image|PCR[012]) '

step "cleanroom run: boot it (QEMU, TCG) until the program exits and the init ends the run"
"$CLEANROOM" run "$work/app.eif" --console "$work/console.log" --timeout 180 >/dev/null 2>"$work/run.err" || true
if grep -q '^demo-oci: ' "$work/console.log"; then
	echo "the program's output on the enclave's console ($work/console.log):"
	grep '^demo-oci: ' "$work/console.log" | sed 's/^/    /'
else
	echo "demo-oci: the program's output is not on the console; the end of it:" >&2
	tail -20 "$work/console.log" >&2
	cat "$work/run.err" >&2
	exit 1
fi
