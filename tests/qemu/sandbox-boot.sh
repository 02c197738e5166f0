#!/bin/bash
# qemu/sandbox: the build sandbox on the enclave kernel, from an initramfs
# root, with cgroup v2 -- what the native suite (tests/cli/sandbox.sh) cannot
# show on a cgroup-v1 host whose root is a real file system. The guest's /init
# is tests/qemu/sandbox_guest.c; its ok/not ok lines are passed on.
#
#   tests/qemu/sandbox-boot.sh KERNEL_DIR GUEST
#     KERNEL_DIR  holds bzImage (make kernel)
#     GUEST       the static musl /init (tests/qemu/sandbox_guest.c)
# SANDBOX_BOOT_TIMEOUT (s, default 300) bounds the boot.
set -u
KDIR=${1:?usage: sandbox-boot.sh KERNEL_DIR GUEST}
GUEST=${2:?usage: sandbox-boot.sh KERNEL_DIR GUEST}
TIMEOUT=${SANDBOX_BOOT_TIMEOUT:-300}
QEMU=qemu-system-x86_64
for f in "$KDIR/bzImage" "$GUEST" /bin/busybox; do
	[ -f "$f" ] || { echo "not ok - inputs: $f is missing"; exit 1; }
done
command -v $QEMU >/dev/null || { echo "not ok - inputs: $QEMU not installed"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/r/bin" "$tmp/r/usr" "$tmp/r/dev"
if ! gcc -static -O1 -o "$tmp/r/probe" "$(dirname "$0")/../cli/sandbox_probe.c" 2>"$tmp/cc.err"; then
	echo "not ok - build the probe: $(head -3 "$tmp/cc.err" | tr '\n' ' ')"
	exit 1
fi
cp /bin/busybox "$tmp/r/bin/busybox"
install -m 0755 "$GUEST" "$tmp/r/init"
(cd "$tmp/r" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$tmp/initrd"

# Under TCG a busy host can stall early TSC calibration; tell the kernel the rate.
khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
cmdline="console=ttyS0 reboot=k panic=1 pci=off quiet${khz:+ tsc_early_khz=$khz}"
log=$tmp/console.log
t0=$(date +%s.%N)
timeout "$TIMEOUT" $QEMU -M microvm -m 256M -nographic -no-reboot \
	-kernel "$KDIR/bzImage" -initrd "$tmp/initrd" -append "$cmdline" </dev/null >"$log" 2>&1
rc=$?
t1=$(date +%s.%N)
tr -d '\r' <"$log" | sed -n -E 's/^(ok|not ok|skip) - /\1 - guest: /p'
if [ $rc -eq 0 ]; then echo "ok - QEMU exited by itself after power-off"
elif [ $rc -eq 124 ]; then echo "not ok - QEMU still running after ${TIMEOUT} s"
else echo "not ok - QEMU exited with status $rc: $(tail -n 3 "$log" | tr '\r\n' '  ')"
fi
if grep -q '^SANDBOX-GUEST done' "$log"; then
	echo "ok - the guest ran every case"
else
	echo "not ok - the guest did not finish; console tail: $(tail -n 8 "$log" | tr '\r\n' '  ')"
fi
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "# boot to power-off %.2f s wall (TCG)\n", b - a }'
