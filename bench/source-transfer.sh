#!/bin/bash
# bench/source-transfer: how fast sources reach the build agent over the
# vsock bridge, against the bridge's raw throughput, in one run (TCG here).
#   raw:    the qemu/vsock echo of 16 MiB through the same bridge (bytes/s)
#   source: `cleanroom build --local` of a 64 MiB tree of 1 MiB files (a few
#           large files) and of 16 MiB in 4096 files of 4 KiB (many small
#           ones); the transfer time runs from the request to the agent's
#           receipt of both streams (framing, CBOR, git blob hashing in SHA-1
#           and SHA-256, tmpfs writes)
# Goal: source / raw >= 0.5 for each tree.
#   CLEANROOM, KERNEL_DIR, INIT, GUEST_VSOCK (see bench/build.mk); RUNS
#   builds of each tree, the best counted (default 3)
set -euo pipefail
CLEANROOM=$(realpath "${CLEANROOM:-build/cleanroom}")
KDIR=${KERNEL_DIR:-build/kernel}
INIT=${INIT:-build/init}
GUEST=${GUEST_VSOCK:-build/musl/tests/qemu/guest_vsock}
work=$(mktemp -d /tmp/cleanroom-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

RUNS=${RUNS:-3}
. "$(dirname "$0")/lib.sh"
raw=$(raw_bridge_mibs "$CLEANROOM" "$KDIR" "$GUEST" "$RUNS")
[ -n "$raw" ] || { echo "source transfer: the raw echo failed" >&2; exit 1; }

mkdir -p "$work/root/bin" "$work/large" "$work/small"
cp /bin/busybox "$work/root/bin/"
ln -s busybox "$work/root/bin/sh"
ln -s busybox "$work/root/bin/true"
for i in $(seq 1 64); do head -c 1048576 /dev/urandom >"$work/large/f$i"; done
head -c $((4096 * 4096)) /dev/urandom | split -b 4096 -a 4 - "$work/small/f"
"$CLEANROOM" eif --kernel "$KDIR/bzImage" --init "$INIT" --nsm-ko "$KDIR/nsm.ko" --rootfs "$work/root" \
	-o "$work/agent.eif" >/dev/null
# best_ms TREE OUTPUT: the best transfer time (ms) of RUNS builds of TREE.
best_ms() {
	local best="" ms
	for i in $(seq "$RUNS"); do
		"$CLEANROOM" build --local "$work/agent.eif" --enclave-memory 1024 --json --out "$work/out-$1-$i" \
			--output "$2" "$work/$1" -- true >"$work/b.json" 2>/dev/null || true
		ms=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["transfer_ms"])' "$work/b.json" 2>/dev/null || echo "")
		[ -n "$ms" ] && { [ -z "$best" ] || [ "$ms" -lt "$best" ]; } && best=$ms
	done
	[ -n "$best" ] || { echo "source transfer: the builds of the $1 tree failed" >&2; exit 1; }
	echo "$best"
}
large=$(best_ms large f1)
small=$(best_ms small faaaa)
printf 'machine: %d CPUs, load average %s (other work shares the CPUs); QEMU under TCG, 2 vCPUs\n' \
	"$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'raw bridge throughput (16 MiB echo):        %.1f MiB/s (best of %d)\n' "$raw" "$RUNS"
for t in "large:64 x 1 MiB files:64:$large" "small:4096 x 4 KiB files:16:$small"; do
	IFS=: read -r _ what mib ms <<<"$t"
	mibs=$(echo "$mib * 1000 / $ms" | bc -l)
	printf 'source transfer (%-20s %.1f MiB/s (%d ms, best of %d); ratio source / raw: %.2f (goal >= 0.5)\n' \
		"$what):" "$mibs" "$ms" "$RUNS" "$(echo "$mibs / $raw" | bc -l)"
done
