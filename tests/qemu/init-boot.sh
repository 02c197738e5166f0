#!/bin/bash
# qemu/init-boot: our init as PID 1 in bootstrap mode (AWS-compatible), one
# short boot per case, each an EIF with a busybox-static root run by
# `cleanroom run --json`: the command's output and exit status, argv/env/PATH
# as AWS passes them, orphans and zombies reaped, signals to PID 1 and to the
# command, and every failure — missing /cmd, bad /env, command not found, no
# heartbeat peer, corrupt nsm.ko, no /rootfs, bad cleanroom_mode — ending
# with "init: <step>: <reason>" and the VM ended by a reboot (also on a
# machine without ACPI, which cannot power off), never a kernel panic; and
# a command that leaves the console's output stopped (TCOOFF, ^S) does not
# keep the VM up.
#   tests/qemu/init-boot.sh CLEANROOM KERNEL_DIR INIT TTY_STOP
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
CLEANROOM=$(realpath "$1")
KDIR=$(realpath "$2")
INIT=$(realpath "$3")
TTY_STOP=$(realpath "$4")
T=$T_TMP
# nitro-cli's x86_64 cmdline, as `cleanroom eif` uses by default.
CMDLINE="reboot=k panic=30 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd random.trust_cpu=on"

# --- the root: busybox-static, and an app script that reports what it sees
mkdir -p "$T/root/bin"
cp /bin/busybox "$T/root/bin/"
for c in sh echo cat sleep env sort sed grep kill true; do ln -s busybox "$T/root/bin/$c"; done
cat >"$T/root/bin/app.sh" <<'EOF'
#!/bin/sh
# Z-state processes anywhere in the VM.
zombies() { cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z '; }
echo "app: argc=$# [$1] [$2]"
echo "app: FOO=[$FOO] PATH=[$PATH] HOME=[${HOME-unset}] TERM=[${TERM-unset}] mode=[${cleanroom_mode-unset}]"
read -r _ _ _ ppid pgrp sid _ </proc/$$/stat
echo "app: pid=$$ ppid=$ppid pgrp=$pgrp sid=$sid"
while read -r k v; do [ "$k" = SigBlk: ] && echo "app: own SigBlk $v"; done </proc/$$/status
while read -r src dst fs opts _; do case $dst in /sys/fs/cgroup*) echo "app: mount $dst $fs $opts";; esac; done </proc/self/mounts
kill -TERM 1; kill -INT 1; kill -HUP 1; kill -USR1 1
while read -r k v; do [ "$k" = ShdPnd: ] && echo "app: init ShdPnd $v"; done </proc/1/status
# Orphans: double-forked children become init's; the middle one never waits
# for its own child, which stays a zombie until the middle one exits.
( sleep 0.1 & )
( true & )
( sh -c 'sleep 0.1 & exec sleep 1' & )
# Poll (bounded), so a slow host does not fail the test: first until the
# zombie shows up, then until init has reaped it.
n=0; while [ $n -lt 40 ] && [ "$(zombies)" = 0 ]; do sleep 0.05; n=$((n + 1)); done
echo "app: zombies while their parent lives: $(zombies)"
n=0; while [ $n -lt 60 ] && [ "$(zombies)" != 0 ]; do sleep 0.05; n=$((n + 1)); done
echo "app: zombies after it exited: $(zombies)"
( sleep 100 & )
echo "app: to stderr" >&2
exit 3
EOF
chmod 755 "$T/root/bin/app.sh"
# The defaults image: /sbin comes first in AWS's PATH, so its sh is the one run.
cp -a "$T/root" "$T/root-sbin"
mkdir "$T/root-sbin/sbin"
cat >"$T/root-sbin/sbin/sh" <<'EOF'
#!/bin/busybox sh
echo "default: argc=$# 0=$0"
/bin/busybox env | /bin/busybox sort | /bin/busybox sed 's/^/default env: /'
kill -TERM $$
EOF
chmod 755 "$T/root-sbin/sbin/sh"

# pack NAME [cleanroom eif options...]: $T/NAME.eif
pack() {
	local name=$1
	shift
	"$CLEANROOM" eif --kernel "$KDIR/bzImage" --init "$INIT" -o "$T/$name.eif" "$@" >/dev/null 2>"$T/$name.pack" ||
		{ not_ok "pack $name" "$(cat "$T/$name.pack")"; return 1; }
}
# customer NAME DIR: replace ramdisk 1 (the customer's) of NAME.eif with the
# files of DIR, for images `cleanroom eif` refuses to make.
customer() {
	(cd "$2" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$T/$1.cpio" &&
		python3 - "$HERE/../cli" "$T/$1.eif" "$T/$1.cpio" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import eifref
data = open(sys.argv[2], "rb").read()
secs = eifref.parse(data)
last = max(i for i, (t, _) in enumerate(secs) if t == 3)
secs[last] = (3, open(sys.argv[3], "rb").read())
open(sys.argv[2], "wb").write(eifref.build(data[:26], secs))
EOF
}
# boot NAME [cleanroom run options...]: run NAME.eif (bounded: a kernel panic
# would reboot after panic=30 s, which ends QEMU too); sets CON (console, \r
# removed), ERR (run's stderr) and RES/HB/MS (result, heartbeat, runtime of
# the exit event).
boot() {
	local name=$1
	shift
	"$CLEANROOM" run "$T/$name.eif" --json --console "$T/$name.console" --timeout 90 --memory 256 "$@" \
		>"$T/$name.json" 2>"$T/$name.err"
	tr -d "\r" <"$T/$name.console" >"$T/$name.con"
	CON=$T/$name.con
	ERR=$T/$name.err
	RES=$(json_event "$T/$name.json" exit result)
	HB=$(json_event "$T/$name.json" exit heartbeat | tr A-Z a-z)
	MS=$(json_event "$T/$name.json" exit runtime_ms)
}
# has NAME REGEX: the console has a line matching REGEX (extended).
has() {
	if grep -Eq -- "$2" "$CON"; then ok "$1"; else not_ok "$1" "no /$2/ on the console; its end: $(grep '^init' "$CON" | tail -3 | tr '\n' '|')"; fi
}
# ends LABEL HEARTBEAT: the last boot's VM ended by itself (init's reboot or power-off
# makes QEMU exit), well before a panic's 30 s reboot, with no panic and
# PID 1 never exiting; HEARTBEAT says whether the heartbeat came first.
ends() {
	local why=""
	if grep -q "Kernel panic" "$CON"; then why="$(grep -m1 'Kernel panic' "$CON")"
	elif grep -q "Attempted to kill init" "$CON"; then why="$(grep -m1 'Attempted to kill init' "$CON")"
	elif [ "$2" = true ] && [ "$RES" != poweroff ]; then why="run ended with '$RES': $(tail -1 "$ERR")"
	elif [ "$2" = false ] && [ "$RES" != qemu-exit ]; then why="run ended with '$RES', want qemu-exit (no heartbeat)"
	elif [ "$HB" != "$2" ]; then why="heartbeat $HB, want $2"
	elif [ "$2" = false ] && ! grep -q "ended (rebooted or powered off) before its heartbeat" "$ERR"; then why="run said: $(tail -1 "$ERR")"
	elif [ -z "$MS" ] || [ "$MS" -ge 25000 ]; then why="took ${MS:-?} ms"
	fi
	if [ -z "$why" ]; then ok "$1: the VM ends cleanly, no kernel panic"; else not_ok "$1: the VM ends cleanly, no kernel panic" "$why"; fi
}
# fails NAME STEP REASON-REGEX HEARTBEAT: "init: STEP: REASON", then
# "init: ending the enclave (reboot)" as the last line of init, and a clean end.
fails() {
	has "$1: init: $2: <reason>" "^init: $2: $3"
	same "$1: the failure is init's last word before it ends the enclave" \
		"$(grep '^init: ' "$CON" | tail -2 | sed -E 's/^(init: [^:]*):.*/\1/' | tr '\n' '|')" "init: $2|init: ending the enclave (reboot)|"
	ends "$1" "$4"
}

# --- 1. a command: argv verbatim, /env, output, exit status, reaping, signals
printf 'app.sh\ntwo words\n*\n' >"$T/cmd"
printf 'FOO=bar baz\nPATH=/nowhere\n' >"$T/env"
pack app --nsm-ko "$KDIR/nsm.ko" --rootfs "$T/root" --cmd-file "$T/cmd" --env-file "$T/env" && boot app
has "app: bootstrap mode chosen because /cmd is present" "^init: mode: bootstrap \(/cmd is present\)"
has "app: nsm.ko loaded, heartbeat sent, both timed (CLOCK_BOOTTIME)" \
	"^init: heartbeat: sent at [0-9.]+ s of uptime, [0-9.]+ ms after init started \(nsm.ko loaded in [0-9.]+ ms, connecting [0-9.]+ ms, init's own work [0-9.]+ ms\)$"
has "app: each /cmd line is one argument, unsplit, unglobbed" '^app: argc=2 \[two words\] \[\*\]$'
has "app: the environment is exactly /env (PATH from /env; no HOME/TERM/cmdline vars of init)" \
	'^app: FOO=\[bar baz\] PATH=\[/nowhere\] HOME=\[unset\] TERM=\[unset\] mode=\[unset\]$'
has "app: argv[0] found through the default PATH even though /env sets another" '^init: launch: app\.sh \(pid [0-9]+\)$'
if grep -Eq '^app: pid=([0-9]+) ppid=1 pgrp=\1 sid=\1$' "$CON"; then ok "app: the command is a child of PID 1 leading its own session and group"
else not_ok "app: the command is a child of PID 1 leading its own session and group" "$(grep '^app: pid=' "$CON")"; fi
has "app: the command runs with no signal blocked" '^app: own SigBlk 0+$'
# Our kernel has the memory controller for v2 only: AWS's v1 mounts cannot
# all be made, so init says why and mounts the v2 hierarchy, alone.
has "cgroups: init falls back to v2, naming the v1 controller it could not mount" '^init: cgroups: v2 on /sys/fs/cgroup \(cgroup v1 memory: '
has "cgroups: /sys/fs/cgroup is cgroup2, nodev,nosuid,noexec" '^app: mount /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec'
if [ "$(grep -c '^app: mount /sys/fs/cgroup' "$CON")" = 1 ]; then ok "cgroups: nothing else under /sys/fs/cgroup (the v1 attempt is undone)"
else not_ok "cgroups: nothing else under /sys/fs/cgroup (the v1 attempt is undone)" "$(grep '^app: mount' "$CON")"; fi
# SIGHUP 1, SIGINT 2, SIGUSR1 10, SIGTERM 15 -> bits 0x4203.
has "app: signals to PID 1 stay pending (blocked, as AWS) and init carries on" '^app: init ShdPnd 0*4203$'
has "app: stdout and stderr of the command reach the console" '^app: to stderr'
if grep -Eq '^app: zombies while their parent lives: [1-9]' "$CON" && grep -q '^app: zombies after it exited: 0$' "$CON"; then
	ok "app: a zombie left by an exiting parent is reaped by init"
else not_ok "app: a zombie left by an exiting parent is reaped by init" "$(grep '^app: zombies' "$CON" | tr '\n' '|')"; fi
n=$(sed -nE 's/^init: app\.sh exited with status 3; ([0-9]+) other process(es)? reaped; init peak RSS [0-9]+ KiB$/\1/p' "$CON")
if [ -n "$n" ] && [ "$n" -ge 4 ]; then ok "app: exit status 3 logged, with the $n orphans reaped and init's peak RSS"
else not_ok "app: exit status logged with the orphans reaped" "$(grep -E '^init: app.sh' "$CON" | tail -1) (want status 3, >= 4 reaped)"; fi
has "app: init reboots when the command ends (reboot=k ends the VM)" '^init: ending the enclave \(reboot\)$'
ends app true
echo "# $(grep -m1 '^init: heartbeat: sent' "$CON")"
echo "# PID 1's peak RSS: $(sed -nE 's/.*init peak RSS ([0-9]+) KiB$/\1/p' "$CON") KiB"

# --- 2. empty /cmd and /env: AWS's defaults (sh from the default PATH, PATH only); death by a signal
: >"$T/empty"
pack defaults --rootfs "$T/root-sbin" --cmd-file "$T/empty" && boot defaults
has "empty /cmd: runs 'sh' with no arguments, found in /sbin first" '^default: argc=0 0=/sbin/sh$'
has "no nsm.ko in the image: nothing to load" "^init: heartbeat: sent at .*\(no nsm.ko, connecting"
same "empty /env: the environment is the default PATH alone" \
	"$(grep '^default env: ' "$CON" | grep -v -e '^default env: PWD=' -e '^default env: SHLVL=' | tr '\n' '|')" \
	"default env: PATH=/sbin:/usr/sbin:/bin:/usr/bin|"
has "a command killed by a signal: the signal is logged" '^init: sh killed by signal 15 \(Terminated\); 0 other processes reaped'
ends defaults true

# --- 3. cleanroom_mode=bootstrap without /cmd
pack nocmd --rootfs "$T/root" --cmdline "$CMDLINE cleanroom_mode=bootstrap" && boot nocmd
has "missing /cmd: the mode comes from the cmdline" '^init: mode: bootstrap \(cleanroom_mode on the kernel cmdline\)'
fails "missing /cmd" cmd "/cmd is missing" true

# --- 4. a bad /env line (cleanroom eif refuses one, so the ramdisk is made by hand)
mkdir -p "$T/badenv/rootfs"
cp -a "$T/root/." "$T/badenv/rootfs/"
mkdir -p "$T/badenv/rootfs/"{dev,proc,sys,run,tmp}
printf 'app.sh\n' >"$T/badenv/cmd"
printf 'GOOD=1\nthis line has no equals sign\n' >"$T/badenv/env"
pack badenv --rootfs "$T/root" --cmd true && customer badenv "$T/badenv" && boot badenv
fails "bad /env line" env "/env: line 2: expected KEY=VALUE" true

# --- 5. a command that is not in the image
pack notfound --rootfs "$T/root" --cmd no-such-command && boot notfound
has "command not found: init: launch: <reason>" '^init: launch: no-such-command: No such file or directory$'
has "command not found: status 127 logged" '^init: no-such-command exited with status 127'
ends notfound true
# Each boot is its own enclave, as on Nitro: the same image on the same CID
# gets another module id (same parent instance) from the mock NSM.
id1=$(json_event "$T/notfound.json" ready nsm_module_id)
boot notfound
id2=$(json_event "$T/notfound.json" ready nsm_module_id)
if [ -n "$id1" ] && [ -n "$id2" ] && [ "$id1" != "$id2" ] && [ "${id1%%-enc*}" = "${id2%%-enc*}" ]; then
	ok "two boots of one image are two enclaves: distinct module ids, one parent"
else
	not_ok "two boots of one image are two enclaves: distinct module ids, one parent" "'$id1' then '$id2'"
fi

# --- 6. no heartbeat peer: the listener's socket is removed before init gets there
mkdir "$T/vhb"
pack nohb --rootfs "$T/root" --cmd true
( for _ in $(seq 1 500); do [ -S "$T/vhb/vsock_9000" ] && { rm -f "$T/vhb/vsock_9000"; exit 0; }; sleep 0.01; done; exit 1 ) &
UNLINK=$!
boot nohb --vsock-dir "$T/vhb"
wait $UNLINK && ok "no heartbeat peer: the host's listener was removed before boot" ||
	not_ok "no heartbeat peer: the host's listener was removed before boot" "never saw $T/vhb/vsock_9000"
fails "no heartbeat peer" heartbeat "no listener after [0-9]+ attempts" false

# --- 7. a corrupt nsm.ko (truncated)
head -c $(($(stat -c %s "$KDIR/nsm.ko") / 2)) "$KDIR/nsm.ko" >"$T/bad.ko"
pack badko --rootfs "$T/root" --nsm-ko "$T/bad.ko" --cmd true && boot badko
fails "corrupt nsm.ko" nsm.ko "finit_module /nsm.ko: " false

# --- 8. no /rootfs in the customer ramdisk
mkdir -p "$T/norootfs"
printf 'true\n' >"$T/norootfs/cmd"
: >"$T/norootfs/env"
pack norootfs --rootfs "$T/root" --cmd true && customer norootfs "$T/norootfs" && boot norootfs
fails "missing /rootfs" switch-root "bind /rootfs: No such file or directory" true

# --- 9. a cleanroom_mode that is neither bootstrap nor agent
pack badmode --rootfs "$T/root" --cmdline "$CMDLINE cleanroom_mode=bogus" --cmd true && boot badmode
fails "bogus cleanroom_mode" mode "cleanroom_mode='bogus' on the kernel cmdline: expected bootstrap or agent" true

# --- 10. a kernel that cannot power off: acpi=off makes it ignore microvm's
# ACPI tables, as on QEMU's nitro-enclave machine, which has none. A
# power-off then halts and leaves the VM up for good, so the failure path
# must end the VM another way (a reboot). Without ACPI the guest also finds
# no vsock device, so the failure is the heartbeat's. Bounded: a halted VM
# would be stopped by --timeout.
pack noacpi --rootfs "$T/root" --cmdline "$CMDLINE acpi=off" --cmd true && boot noacpi --timeout 40
has "no ACPI: the kernel runs without ACPI" "ACPI: Interpreter disabled"
fails "no ACPI" heartbeat "no listener after [0-9]+ attempts: connect to vsock 3:9000: No such device" false

# --- 11. the command leaves the console's output stopped, then exits 0: init
# restarts it (TCOON; IXON cleared for a ^S), its last lines get out, and the
# VM ends (it used to wait in tcdrain for good, until --timeout). With an
# orphan that stops output again and again, the drain's deadline ends it.
cp -a "$T/root" "$T/root-tty"
cp "$TTY_STOP" "$T/root-tty/bin/tty_stop"
for how in tcooff xoff orphan; do
	printf 'tty_stop\n%s\n' "$how" >"$T/cmd-$how"
	pack "tty-$how" --rootfs "$T/root-tty" --cmd-file "$T/cmd-$how" && boot "tty-$how" --timeout 60
	if [ "$how" != orphan ]; then
		has "console stopped ($how): the command saw its output stopped, exited 0" \
			'^init: tty_stop exited with status 0; '
		has "console stopped ($how): the line queued while stopped gets out" \
			'^tty_stop: this line is queued while the console is stopped$'
		has "console stopped ($how): init's last line gets out" '^init: ending the enclave \(reboot\)$'
	fi
	ends "console stopped ($how)" true
done

t_done
