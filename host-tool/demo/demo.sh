#!/bin/bash
# make demo: the main job on an embedded default, end to end.
#
# Today: pack an enclave image from the enclave kernel, our init and a small
# busybox root filesystem, and show what is inside it. (It grows with the
# project: boot it locally, build a sample project inside it, verify the
# signed report.)
#   B: build directory (default build)
set -euo pipefail
B=${B:-build}
CLEANROOM=$B/cleanroom
work=$B/demo
rm -rf "$work"
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/busybox"
for c in sh echo cat ls; do ln -s busybox "$work/rootfs/bin/$c"; done

echo "== cleanroom eif: pack $work/demo.eif (kernel $B/kernel/bzImage, init $B/init, busybox rootfs)"
SOURCE_DATE_EPOCH=0 "$CLEANROOM" eif --kernel "$B/kernel/bzImage" --init "$B/init" --nsm-ko local \
	--rootfs "$work/rootfs" --name cleanroom-demo --version 1 -o "$work/demo.eif" \
	--cmd /bin/sh -c 'echo hello from a cleanroom enclave'
echo
echo "== cleanroom describe $work/demo.eif"
"$CLEANROOM" describe "$work/demo.eif"
echo
echo "== packing it again from a copy elsewhere gives the same bytes:"
cp -a "$work/rootfs" "$work/rootfs-copy"
SOURCE_DATE_EPOCH=0 "$CLEANROOM" eif --kernel "$B/kernel/bzImage" --init "$B/init" --nsm-ko local \
	--rootfs "$work/rootfs-copy" --name cleanroom-demo --version 1 -o "$work/demo2.eif" \
	--cmd /bin/sh -c 'echo hello from a cleanroom enclave' >/dev/null
sha384sum "$work/demo.eif" "$work/demo2.eif"
cmp "$work/demo.eif" "$work/demo2.eif" && echo "identical"
