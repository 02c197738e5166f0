#!/bin/bash
# Pack a build-agent image from a build environment and print, together, the
# environment's tree digest (from its manifest) and the image's measurements:
# what a verifier compares a report's PCRs against, next to what says which
# packages made the image.
#
#   agent-image.sh CLEANROOM KERNEL_DIR INIT ROOTFS OUT.eif
#
# ROOTFS is $(B)/rootfs-ENV with ROOTFS.manifest beside it. The EIF is written
# via a temporary file; the output is "key value" lines:
#   env rootfs-rust / tree <sha256> <entries> <bytes> / eif <path> <bytes>
#   PCR0 <hex> / PCR1 <hex> / PCR2 <hex>
# Both are deterministic: the same manifest gives the same tree and the same
# tree, kernel, init and nsm.ko give the same PCRs.
set -euo pipefail
die() { echo "agent-image: $*" >&2; exit 1; }
[ $# -eq 5 ] || die "usage: agent-image.sh CLEANROOM KERNEL_DIR INIT ROOTFS OUT.eif"
cleanroom=$1 kdir=$2 init=$3 rootfs=${4%/} out=$5
manifest=$rootfs.manifest
[ -f "$manifest" ] || die "$manifest: no manifest (make ${rootfs##*/})"
tree=$(sed -n 's/^tree //p' "$manifest")
[[ "$tree" =~ ^[0-9a-f]{64}\ [0-9]+\ [0-9]+$ ]] || die "$manifest: no valid tree line"
# The tree must still be what the manifest says (it is the image's content).
now=$("$(dirname "$0")/mkrootfs.sh" digest "$rootfs")
[ "$now" = "$tree" ] || die "$rootfs: tree digest ${now%% *} differs from its manifest's ${tree%% *} (make ${rootfs##*/})"
tmp=$out.tmp.$$
trap 'rm -f "$tmp" "$tmp.json"' EXIT
"$cleanroom" eif --kernel "$kdir/bzImage" --init "$init" --nsm-ko "$kdir/nsm.ko" --rootfs "$rootfs" \
	-o "$tmp" >"$tmp.json" || die "cleanroom eif failed"
pcrs=$(python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))["Measurements"]
for k in ("PCR0", "PCR1", "PCR2"): print(k, m[k])' "$tmp.json") || die "cannot read the measurements"
mv "$tmp" "$out"
echo "env $(sed -n 's/^name //p' "$manifest")"
echo "tree $tree"
echo "eif $out $(stat -c %s "$out")"
echo "$pcrs"
