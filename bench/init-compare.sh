#!/bin/bash
# bench/init-compare: our init against AWS's bootstrap init, same EIF
# otherwise (kernel, nsm.ko, busybox root, command), booted alternately in
# `cleanroom run`. AWS's init is not part of cleanroom: build it yourself from
# github.com/aws/aws-nitro-enclaves-sdk-bootstrap (init/init.c; static musl,
# as its init.nix does) and pass its path. This script fetches nothing.
#
#   bench/init-compare.sh AWS_INIT [RUNS]
#   env: CLEANROOM (default build/cleanroom), KERNEL_DIR (build/kernel),
#        INIT (build/init)
#
# Per init: boot_to_heartbeat_ms of the run's ready event (host side, from
# QEMU's start; median of RUNS boots, default 5), the command's view of PID 1
# (VmHWM = peak RSS, SigBlk) and of the mounts, the stripped size, and the
# console lines the init itself prints — for a run that works and for a
# command that is not in the image. Ours also stamps its own heartbeat
# (CLOCK_BOOTTIME since init started).
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,18p' "$0" >&2; exit 2; }
AWS=$(realpath "$1")
RUNS=${2:-5}
CLEANROOM=$(realpath "${CLEANROOM:-build/cleanroom}")
KDIR=$(realpath "${KERNEL_DIR:-build/kernel}")
OURS=$(realpath "${INIT:-build/init}")
[ -x "$AWS" ] || { echo "init-compare: $1: not an executable" >&2; exit 1; }
work=$(mktemp -d /tmp/cleanroom-initcmp.XXXXXX)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/root/bin"
cp /bin/busybox "$work/root/bin/"
for c in sh cat grep sed; do ln -s busybox "$work/root/bin/$c"; done
cat >"$work/root/bin/report" <<'EOF'
#!/bin/sh
grep -E '^(VmHWM|RssAnon|RssFile|RssShmem|SigBlk):' /proc/1/status | sed 's/^/pid1 /'
grep cgroup /proc/self/mounts | sed 's/^/mount /'
EOF
chmod 755 "$work/root/bin/report"

# nitro-cli's cmdline plus tsc=reliable: under TCG the kernel would mark the
# TSC unstable and fall back to jiffies, 4 ms steps, too coarse to time init.
# cgroup_disable=memory: our kernel has the memory controller for cgroup v2
# only, and AWS's init mounts every enabled controller as cgroup v1, so
# without it AWS's init dies before its command (shown once, below).
NITRO="reboot=k panic=30 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd random.trust_cpu=on"
CMDLINE="$NITRO tsc=reliable cgroup_disable=memory"
pack() { # pack NAME INIT CMDLINE CMD...
	local name=$1 init=$2 cmdline=$3
	shift 3
	"$CLEANROOM" eif --kernel "$KDIR/bzImage" --init "$init" --nsm-ko "$KDIR/nsm.ko" --rootfs "$work/root" \
		--cmdline "$cmdline" -o "$work/$name.eif" --cmd "$@" >/dev/null
}
for who in ours aws; do
	init=$OURS
	[ $who = aws ] && init=$AWS
	pack "$who" "$init" "$CMDLINE" report
	pack "$who-nf" "$init" "$CMDLINE" no-such-command
done
# AWS's init on nitro-cli's cmdline, panic=1 instead of 30 to end sooner.
pack aws-v1 "$AWS" "${NITRO/panic=30/panic=1}" report

# event EVENT FILE KEY: KEY of the first {"event": EVENT} line of FILE
event() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("event") == sys.argv[2]: print(d.get(sys.argv[3], "")); break' "$2" "$1" "$3"; }
run() { # run NAME EIF: boot it (bounded), console in $work/NAME.con
	"$CLEANROOM" run "$2" --json --console "$work/$1.con" --memory 256 --timeout 60 >"$work/$1.json" 2>/dev/null || true
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for i in $(seq 1 "$RUNS"); do
	for who in ours aws; do
		run "$who$i" "$work/$who.eif"
		event ready "$work/$who$i.json" boot_to_heartbeat_ms >>"$work/$who.hb"
		event exit "$work/$who$i.json" runtime_ms >>"$work/$who.rt"
	done
	tr -d '\r' <"$work/ours$i.con" | sed -nE 's/^init: heartbeat: .*, ([0-9.]+) ms after init started \(nsm.ko loaded in ([0-9.]+) ms, connecting ([0-9.]+) ms, init.s own work ([0-9.]+) ms\)$/\1 \2 \3 \4/p' >>"$work/ours.self"
done
for who in ours aws; do run "$who-nf" "$work/$who-nf.eif"; done
run aws-v1 "$work/aws-v1.eif"

initlines() { # the lines of the console that are neither the kernel's nor the command's
	tr -d '\r' <"$1" | grep -vE '^\[ *[0-9]+\.[0-9]+\]|^(pid1|mount) |^\s*$' | sed 's/^/    | /' | grep . || echo "    (none)"
}
echo "init comparison, $RUNS boots each, alternating (TCG; host-side times from QEMU start)"
echo "cmdline: $CMDLINE"
printf '%-6s %10s %22s %22s %14s\n' init size boot_to_heartbeat_ms run_to_poweroff_ms peak_RSS
for who in ours aws; do
	init=$OURS
	[ $who = aws ] && init=$AWS
	printf '%-6s %10s %22s %22s %14s\n' "$who" "$(stat -c %s "$init")" \
		"$(median <"$work/$who.hb")" "$(median <"$work/$who.rt")" \
		"$(tr -d '\r' <"$work/${who}1.con" | sed -nE 's/^pid1 VmHWM:\s+([0-9]+) kB/\1 KiB/p')"
done
col() { awk -v c="$1" '{print $c}' "$work/ours.self" | median; }
echo "ours, its CLOCK_BOOTTIME stamps (medians): main() -> heartbeat sent $(col 1) ms = nsm.ko load $(col 2) ms" \
	"+ connecting to the host $(col 3) ms + init's own work $(col 4) ms"
for who in ours aws; do
	echo
	echo "== $who: what the command sees"
	tr -d '\r' <"$work/${who}1.con" | grep -E '^(pid1|mount) ' | sed 's/^/    /' || echo "    (nothing: the command did not run)"
	echo "== $who: console lines not from the kernel or the command (a run that works)"
	initlines "$work/${who}1.con"
	echo "== $who: command not found (run: $(event exit "$work/$who-nf.json" result), $(event exit "$work/$who-nf.json" runtime_ms) ms)"
	initlines "$work/$who-nf.con"
	grep -m1 -E 'Kernel panic|Attempted to kill init' "$work/$who-nf.con" | sed 's/^/    /' || true
done
echo
echo "== aws on nitro-cli's cmdline (no cgroup_disable=memory; panic=1): run $(event exit "$work/aws-v1.json" result), $(event exit "$work/aws-v1.json" runtime_ms) ms"
initlines "$work/aws-v1.con"
tr -d '\r' <"$work/aws-v1.con" | grep -m2 -E 'cgroup: |Kernel panic|Attempted to kill init' | sed 's/^/    /' || true
