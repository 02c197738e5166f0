#!/bin/bash
# qemu/aws-kernel: bootstrap mode on the AWS-flavour kernel (make kernel-aws:
# our config plus AWS's cgroup v1 controllers). Our init must mount what
# AWS's init mounts there: a tmpfs "cgroup_root" on /sys/fs/cgroup (nodev,
# nosuid, noexec, mode=755), then one cgroup v1 hierarchy per controller that
# /proc/cgroups lists as enabled, in that file's order, each on
# /sys/fs/cgroup/NAME (source NAME, option NAME, nodev, nosuid, noexec).
#
# With AWS_INIT (a path to AWS's init, built from its public source; see
# docs/init.md), the same image is also booted under AWS's init and what the
# command sees is compared line for line: /proc/self/mountinfo without the
# mount ids, the /sys/fs/cgroup tree, argv, environment, session, signal
# state, and how the VM ends.
#   tests/qemu/aws-kernel.sh CLEANROOM KERNEL_AWS_DIR INIT [AWS_INIT]
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
CLEANROOM=$(realpath "$1")
KDIR=$(realpath "$2")
INIT=$(realpath "$3")
AWS_INIT=${4:-}
T=$T_TMP

mkdir -p "$T/root/bin"
cp /bin/busybox "$T/root/bin/"
for c in sh cat ls sort sed kill; do ln -s busybox "$T/root/bin/$c"; done
cat >"$T/root/bin/view" <<'EOS'
#!/bin/sh
# What an application sees, one "view:" line per fact; mount ids (fields 1
# and 2 of mountinfo) left out, as they count every mount the init made, and
# the sizes of the memory-backed root and /dev (size=, nr_inodes=), which
# follow the RAM left after unpacking the image: the two inits differ in size.
echo "view: argv $# [$1] [$2]"
env | sort | sed 's/^/view: env /'
read -r _ _ _ ppid pgrp sid _ </proc/$$/stat
echo "view: ppid=$ppid pgrp-is-pid=$([ "$pgrp" = $$ ] && echo y) sid-is-pid=$([ "$sid" = $$ ] && echo y)"
while read -r k v; do case $k in SigBlk:|SigIgn:|SigCgt:|NoNewPrivs:|Seccomp:|CapEff:) echo "view: self $k $v";; esac; done </proc/$$/status
while read -r _ _ rest; do echo "view: mountinfo $rest"; done </proc/self/mountinfo |
	sed -E 's/,size=[0-9]+k,nr_inodes=[0-9]+/,size=N,nr_inodes=N/' 
sed 's/^/view: proc-cgroups /' /proc/cgroups
for d in /sys/fs/cgroup /sys/fs/cgroup/*; do echo "view: cgroup-tree $d: $(ls "$d" | sort | sed -n '1,400p' | tr '\n' ' ')"; done
exit 7
EOS
chmod 755 "$T/root/bin/view"

# pack NAME INIT: the image, identical apart from /init
pack() {
	"$CLEANROOM" eif --kernel "$KDIR/bzImage" --init "$2" --nsm-ko "$KDIR/nsm.ko" --rootfs "$T/root" \
		-o "$T/$1.eif" --cmd view 'two words' >/dev/null 2>"$T/$1.pack" ||
		{ not_ok "pack $1" "$(cat "$T/$1.pack")"; return 1; }
}
# boot NAME: run it; NAME.view = the view lines, NAME.res = how the run ended
boot() {
	"$CLEANROOM" run "$T/$1.eif" --json --console "$T/$1.console" --timeout 120 --memory 256 \
		>"$T/$1.json" 2>"$T/$1.err"
	tr -d '\r' <"$T/$1.console" >"$T/$1.con"
	grep '^view: ' "$T/$1.con" >"$T/$1.view"
	echo "result=$(json_event "$T/$1.json" exit result) heartbeat=$(json_event "$T/$1.json" exit heartbeat | tr A-Z a-z)" >"$T/$1.res"
}

pack ours "$INIT" && boot ours
V=$T/ours.view
if grep -q '^view: argv' "$V"; then ok "ours: the command ran on the AWS-flavour kernel"
else not_ok "ours: the command ran on the AWS-flavour kernel" "$(tail -5 "$T/ours.con" | tr '\n' '|')"; fi

# The expected cgroup mounts, from the kernel's own /proc/cgroups (AWS's rule).
enabled=$(sed -n 's/^view: proc-cgroups \([a-z_0-9]*\)\t[0-9]*\t[0-9]*\t1$/\1/p' "$V")
n=$(echo "$enabled" | grep -c .)
if [ "$n" -ge 12 ]; then ok "the AWS-flavour kernel enables $n controllers ($(echo $enabled))"
else not_ok "the AWS-flavour kernel enables every controller AWS's config has" "only: $(echo $enabled)"; fi
{
	echo "/ /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs cgroup_root rw,mode=755"
	for c in $enabled; do echo "/ /sys/fs/cgroup/$c rw,nosuid,nodev,noexec,relatime - cgroup $c rw,$c"; done
} >"$T/want-cgroup"
# mountinfo after "major:minor": root mountpoint options [optional] - fstype source superopts
sed -n 's/^view: mountinfo [0-9]*:[0-9]* \(.* \/sys\/fs\/cgroup[^ ]* .*\)$/\1/p' "$V" |
	sed -E 's/ (shared|master|propagate_from|unbindable)[^ ]*//g' >"$T/got-cgroup"
if diff -u "$T/want-cgroup" "$T/got-cgroup" >"$T/cg.diff"; then
	ok "ours: /sys/fs/cgroup is AWS's: cgroup_root tmpfs, then one v1 hierarchy per enabled controller, in order"
else not_ok "ours: /sys/fs/cgroup is AWS's: cgroup_root tmpfs, then one v1 hierarchy per enabled controller, in order" "$(tr '\n' '|' <"$T/cg.diff")"; fi
if grep -q "^init: cgroups: v1, $n controllers under /sys/fs/cgroup, as AWS's init$" "$T/ours.con"; then
	ok "ours: init says it mounted v1 as AWS's init"
else not_ok "ours: init says it mounted v1 as AWS's init" "$(grep '^init: cgroups' "$T/ours.con")"; fi
for c in memory cpuset; do
	if grep -q "^view: cgroup-tree /sys/fs/cgroup/$c: .*$c\.limit_in_bytes\|^view: cgroup-tree /sys/fs/cgroup/$c: .*$c\.cpus" "$V"; then
		ok "ours: the v1 $c files are there (what a JVM reads)"
	else not_ok "ours: the v1 $c files are there (what a JVM reads)" "$(grep "cgroup-tree /sys/fs/cgroup/$c:" "$V" | cut -c1-200)"; fi
done
if grep -q '^result=poweroff heartbeat=true$' "$T/ours.res"; then ok "ours: heartbeat, then the VM ends when the command exits"
else not_ok "ours: heartbeat, then the VM ends when the command exits" "$(cat "$T/ours.res")"; fi

if [ -n "$AWS_INIT" ]; then
	pack aws "$(realpath "$AWS_INIT")" && boot aws
	if grep -q '^view: argv' "$T/aws.view"; then ok "AWS's init: the command ran"
	else not_ok "AWS's init: the command ran" "$(tail -5 "$T/aws.con" | tr '\n' '|')"; fi
	for what in mountinfo cgroup-tree argv env ppid self proc-cgroups; do
		grep "^view: $what" "$T/ours.view" >"$T/ours.$what"
		grep "^view: $what" "$T/aws.view" >"$T/aws.$what"
		if [ -s "$T/aws.$what" ] && diff -u "$T/aws.$what" "$T/ours.$what" >"$T/$what.diff"; then
			ok "side by side: $what is the same under both inits ($(wc -l <"$T/aws.$what") lines)"
		else not_ok "side by side: $what is the same under both inits" "$(head -c 1500 "$T/$what.diff" | tr '\n' '|')"; fi
	done
	if diff -q "$T/aws.res" "$T/ours.res" >/dev/null; then ok "side by side: the VM ends the same way ($(cat "$T/aws.res"))"
	else not_ok "side by side: the VM ends the same way" "aws: $(cat "$T/aws.res"); ours: $(cat "$T/ours.res")"; fi
fi
t_done
