# Shared by the test scripts that boot our kernel directly with an initramfs
# (no EIF, no vsock) in QEMU microvm under TCG. Source it, then call:
#
#   microvm_boot NAME KDIR INITRD MARKER [EXTRA QEMU ARGS...]
#
# Boots KDIR/bzImage with INITRD (-m 256M, serial console, -no-reboot) and
# prints: the guest's own "ok/not ok/skip - ..." console lines, prefixed
# "guest (NAME): "; "ok - NAME: QEMU exited by itself" (or why not); "ok - NAME:
# /init ran to the end" when a console line starts with MARKER (the guest
# prints it last, before powering off); and "# NAME: boot to power-off S s".
#
# Environment: MICROVM_BOOT_TIMEOUT (s, default 180) bounds a boot;
# MICROVM_BOOT_QUIET (default " quiet") is appended to the cmdline;
# MICROVM_BOOT_KEEP_LOG=PREFIX keeps the console log as PREFIX.NAME;
# BOOT_ARCH=aarch64 boots KDIR/Image on QEMU's arm virt machine instead
# (Neoverse-N1, GICv3, PL011 console; as `cleanroom run` boots aarch64 images).

microvm_boot() {
	local name=$1 kdir=$2 initrd=$3 marker=$4 log t0 t1 rc khz cmdline
	local timeout=${MICROVM_BOOT_TIMEOUT:-180}
	shift 4
	log=$(mktemp)
	local machine=(qemu-system-x86_64 -M microvm) kernel=$kdir/bzImage console=ttyS0
	if [ "${BOOT_ARCH:-x86_64}" = aarch64 ]; then
		machine=(qemu-system-aarch64 -M virt,gic-version=3 -cpu neoverse-n1) kernel=$kdir/Image console=ttyAMA0
	else
		# Under TCG a busy host can stall early TSC calibration; tell the kernel the rate.
		khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
	fi
	cmdline="console=$console reboot=k panic=1 pci=off${MICROVM_BOOT_QUIET- quiet}${khz:+ tsc_early_khz=$khz}"
	t0=$(date +%s.%N)
	timeout "$timeout" "${machine[@]}" -m 256M -nographic -no-reboot \
		-kernel "$kernel" -initrd "$initrd" -append "$cmdline" "$@" \
		</dev/null >"$log" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	tr -d '\r' <"$log" | sed -n -E "s/^(ok|not ok|skip) - /\1 - guest ($name): /p"
	if [ $rc -eq 0 ]; then
		echo "ok - $name: QEMU exited by itself after power-off"
	elif [ $rc -eq 124 ]; then
		echo "not ok - $name: QEMU still running after $timeout s"
	else
		echo "not ok - $name: QEMU exited with status $rc: $(grep -v '^\(ok\|not ok\)' "$log" | tail -n 3 | tr '\r\n' '  ')"
	fi
	if tr -d '\r' <"$log" | grep -q "^$marker"; then
		echo "ok - $name: /init ran to the end"
	else
		echo "not ok - $name: /init did not finish; console tail: $(tail -n 8 "$log" | tr '\r\n' '  ')"
	fi
	awk -v a="$t0" -v b="$t1" -v n="$name" 'BEGIN { printf "# %s: boot to power-off %.2f s wall (TCG)\n", n, b - a }'
	[ -n "${MICROVM_BOOT_KEEP_LOG:-}" ] && cp "$log" "$MICROVM_BOOT_KEEP_LOG.$name"
	rm -f "$log"
	return 0
}
