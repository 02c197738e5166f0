#!/bin/bash
# bench/guest-file-cost PROGRAM: what one 4 KiB source file costs the
# enclave's guest under TCG (2 vCPUs, microvm, the enclave kernel), piece by
# piece, measured in the guest by PROGRAM (bench/guest_file_cost.c) as its
# /init, beside the raw vsock bridge of the same run. From those, the most
# the small-file transfer of bench-source-transfer could reach: every piece
# must run on one of the 2 vCPUs, and receiving (the copy) and decoding stay
# in order on one of them.
#   CLEANROOM, KERNEL_DIR, GUEST_VSOCK (see bench/build.mk); RUNS boots of
#   each (default 3), the best counted
set -euo pipefail
PROG=$(realpath "${1:?usage: guest-file-cost.sh PROGRAM}")
CLEANROOM=$(realpath "${CLEANROOM:-build/cleanroom}")
KDIR=${KERNEL_DIR:-build/kernel}
GUEST=${GUEST_VSOCK:-build/musl/tests/qemu/guest_vsock}
RUNS=${RUNS:-3}
work=$(mktemp -d /tmp/cleanroom-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

mkdir -p "$work/root/dev"
install -m 0755 "$PROG" "$work/root/init"
(cd "$work/root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$work/initrd"
# Under TCG a busy host can stall early TSC calibration; tell the kernel the rate.
khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
for i in $(seq "$RUNS"); do
	timeout 300 qemu-system-x86_64 -M microvm -accel tcg -cpu max -smp 2 -m 512M -nographic -no-reboot \
		-kernel "$KDIR/bzImage" -initrd "$work/initrd" \
		-append "console=ttyS0 reboot=k panic=1 pci=off quiet tsc_early_khz=$khz" </dev/null 2>&1 |
		tr -d '\r' >"$work/console.$i" || true
	grep -q '^guest-file-cost done' "$work/console.$i" ||
		{ echo "guest file cost: boot $i failed: $(tail -3 "$work/console.$i" | tr '\n' ' ')" >&2; exit 1; }
done
# best NAME: the least microseconds of NAME over the boots
best() { cat "$work"/console.* | awk -v n="$1" '$1 == "cost" && $2 == n { if (b == "" || $3 < b) b = $3 } END { print b }'; }
decode=$(best decode) hash=$(best hash) files=$(best files) copy=$(best copy)
raw=$(raw_bridge_mibs "$CLEANROOM" "$KDIR" "$GUEST" "$RUNS")
[ -n "$raw" ] || { echo "guest file cost: the raw echo failed" >&2; exit 1; }

printf 'machine: %d CPUs, load average %s; QEMU under TCG, 2 vCPUs, -cpu max\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'per 4 KiB file, in the guest (best of %d boots):\n' "$RUNS"
printf '  decode the entry and data frames (wire_decode)  %6.1f us\n' "$decode"
printf '  git blob ids, SHA-1 + SHA-256 (BearSSL)         %6.1f us\n' "$hash"
printf '  openat + write 4 KiB + close (tmpfs)            %6.1f us\n' "$files"
printf '  4 KiB through a socket (copy in, copy out)      %6.1f us\n' "$copy"
printf 'raw bridge throughput (16 MiB echo):              %6.1f MiB/s (best of %d)\n' "$raw" "$RUNS"
awk -v d="$decode" -v h="$hash" -v f="$files" -v c="$copy" -v raw="$raw" 'BEGIN {
	all = d + h + f + c; serial = c + d
	per = all / 2 > serial ? all / 2 : serial
	mibs = 4096 / per / 1.048576
	printf "least time a file on 2 vCPUs, perfectly shared:  %6.1f us (all %.1f / 2; receive + decode in order %.1f)\n", per, all, serial
	printf "most a 4 KiB-file tree could reach:              %6.1f MiB/s; ratio to raw at most %.2f (goal >= 0.5)\n", mibs, mibs / raw
}'
