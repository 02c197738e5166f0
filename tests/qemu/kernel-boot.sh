#!/bin/bash
# kernel-boot: boot the enclave kernel in QEMU microvm (TCG) with a tiny
# busybox initramfs and check, from inside the guest, what the enclave needs:
# filesystems, cgroup v2 controllers, namespaces, seccomp, vsock, and the NSM
# shim nsm.ko (its /dev/nsm node and every errno of its ioctl). The guest
# powers off and QEMU must exit by itself. Boots twice: plain (1 vCPU), and
# with 2 vCPUs and the shared-memory flags vhost-user backends need.
#
#   tests/qemu/kernel-boot.sh KERNEL_DIR PROBE
#     KERNEL_DIR  holds bzImage and nsm.ko (make kernel: build/kernel)
#     PROBE       static in-guest checker (tests/qemu/kernel_boot_probe.c)
#
# Prints ok/not ok lines; guest lines are prefixed "guest (plain|memfd-smp2):".
# Environment: see tests/qemu/microvm-boot.sh (MICROVM_BOOT_TIMEOUT, ...).
# ARCH=aarch64: KERNEL_DIR holds Image (make kernel-aarch64), PROBE is an arm64
# build, BUSYBOX an arm64 static busybox (rootfs-arm64-c's); boots on QEMU virt.
set -u
. "$(dirname "$0")/microvm-boot.sh"
KDIR=${1:?usage: kernel-boot.sh KERNEL_DIR PROBE}
PROBE=${2:?usage: kernel-boot.sh KERNEL_DIR PROBE}
BUSYBOX=${BUSYBOX:-/bin/busybox}
QEMU=qemu-system-x86_64 IMAGE=bzImage
if [ "${ARCH:-x86_64}" = aarch64 ]; then
	QEMU=qemu-system-aarch64 IMAGE=Image
	export BOOT_ARCH=aarch64
fi

for f in "$KDIR/$IMAGE" "$KDIR/nsm.ko" "$PROBE" "$BUSYBOX"; do
	[ -f "$f" ] || { echo "not ok - inputs: $f is missing"; exit 1; }
done
command -v $QEMU >/dev/null || { echo "not ok - inputs: $QEMU not installed"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The guest's /init: every check prints one ok/not ok line on the console.
cat >"$tmp/init.sh" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin
automount=no
grep -q '^[^ ]* /dev devtmpfs' /proc/mounts && automount=yes
[ $automount = yes ] || mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
echo "KBOOT init started (devtmpfs automounted: $automount)"
t() { name=$1; shift; if "$@" >/tmp/out 2>&1; then echo "ok - $name"; else echo "not ok - $name: $(head -c 200 /tmp/out | tr '\n' ' ')"; fi; }
mount -t sysfs sysfs /sys
for fs in cgroup2 tmpfs devtmpfs proc sysfs; do
	t "filesystem $fs" grep -qw "$fs" /proc/filesystems
done
t "tmpfs mounts" mount -t tmpfs tmp /tmp
t "cgroup2 mounts" mount -t cgroup2 cgroup2 /sys/fs/cgroup
for c in memory pids; do
	t "cgroup2 controller $c" grep -qw $c /sys/fs/cgroup/cgroup.controllers
done
t "namespaces mount,pid,net,ipc,uts,user" unshare -m -p -n -i -u -U -f -r true
t "sysctl: seccomp actions listed" grep -qw errno /proc/sys/kernel/seccomp/actions_avail
/probe seccomp || echo "not ok - probe seccomp: exit status $?"
t "/dev/vsock exists" test -c /dev/vsock
t "every CPU came online ($(cat /sys/devices/system/cpu/present))" sh -c '[ "$(cat /sys/devices/system/cpu/online)" = "$(cat /sys/devices/system/cpu/present)" ]'
t "no network card (only lo)" sh -c '[ "$(ls /sys/class/net)" = lo ]'
t "insmod nsm.ko" insmod /nsm.ko
/probe errors || echo "not ok - probe errors: exit status $?"
t "rmmod nsm" rmmod nsm
/probe finit /nsm.ko "cid=1 port=9100" || echo "not ok - probe finit: exit status $?"
t "module parameters cid=1 port=9100" sh -c '[ "$(cat /sys/module/nsm/parameters/cid):$(cat /sys/module/nsm/parameters/port)" = 1:9100 ]'
/probe loopback 9100 || echo "not ok - probe loopback: exit status $?"
echo "KBOOT done"
poweroff -f
EOF

# Two archives concatenated, like an EIF's ramdisks: the first uncompressed
# (what nitro-cli writes), the second gzip.
mkdir -p "$tmp/r0/bin" "$tmp/r0/dev" "$tmp/r1"
cp "$BUSYBOX" "$tmp/r0/bin/busybox"
install -m 0755 "$tmp/init.sh" "$tmp/r0/init"
install -m 0755 "$PROBE" "$tmp/r1/probe"
install -m 0644 "$KDIR/nsm.ko" "$tmp/r1/nsm.ko"
(cd "$tmp/r0" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$tmp/initrd"
(cd "$tmp/r1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -n >>"$tmp/initrd"

microvm_boot plain "$KDIR" "$tmp/initrd" 'KBOOT done'
if [ "${ARCH:-x86_64}" = aarch64 ]; then # the RAM as cleanroom run gives it to virt
	microvm_boot memfd-smp2 "$KDIR" "$tmp/initrd" 'KBOOT done' -smp 2 \
		-object memory-backend-memfd,id=mem,size=256M,share=on -machine memory-backend=mem
else
	microvm_boot memfd-smp2 "$KDIR" "$tmp/initrd" 'KBOOT done' -smp 2 \
		-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem
fi
