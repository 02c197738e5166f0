#!/bin/bash
# cli/escape-probes: every hostile action of tests/cli/escape-probes.txt, run
# natively through `cleanroom sandbox-exec` in a busybox root (the enclave
# suite, tests/qemu/escape-probes.sh, runs the same probes as builds).
# Each must be refused or contained, the run must end with a clear reason,
# nothing may reach the files planted outside the workspace, no process may
# outlive its run, and the next command must run normally. Prints the table
# probe | expected | observed. Needs root (namespaces, mounts, cgroups).
#   tests/cli/escape-probes.sh PROBE    PROBE: tests/cli/sandbox_probe.c, static
#   CLEANROOM   the tool under test (the ASan build by default)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/probelib.sh"
PROBE=${1:-}
T=$T_TMP
chmod 755 "$T"
[ -x "$CLEANROOM" ] || { not_ok "setup" "$CLEANROOM is not built"; exit 1; }
[ -n "$PROBE" ] && [ -x "$PROBE" ] || { not_ok "setup" "the probe '$PROBE' is not built"; exit 1; }
if [ "$(id -u)" != 0 ]; then
	skip "escape probes" "needs root (namespaces, mounts, cgroups)"
	exit 0
fi
[ -x /bin/busybox ] || { skip "escape probes" "busybox-static is not installed"; exit 0; }

# --- the root: busybox and the probe, a set-uid-root copy of the probe, and
# a world-writable file (only the read-only mount protects it)
R=$T/root
mkdir -p "$R/bin" "$R/etc"
cp /bin/busybox "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
install -m 0755 "$PROBE" "$R/bin/probe"
install -m 4755 "$PROBE" "$R/bin/probe-suid"
echo writable >"$R/etc/probe-writable"
chmod 0666 "$R/etc/probe-writable"

# --- the workspace, with a set-uid-root binary and links planted by the
# caller that point outside: to a world-readable file (absolute and relative
# symlinks) and to a root-only file (hard link)
W=$T/work
O=$T/outside
mkdir -p "$W" "$O"
chown 1000:1000 "$W"
install -m 4755 "$PROBE" "$W/probe-suid"
echo "cleanroom-outside: world-readable" >"$O/secret"
echo "cleanroom-outside: root only" >"$O/private"
chmod 0644 "$O/secret"
chmod 0600 "$O/private"
ln -s "$O/secret" "$W/abs-link"
ln -s ../outside/secret "$W/rel-link"
ln "$O/private" "$W/hard-link"
outside_sums=$(cd "$T" && sha256sum outside/* root/etc/probe-writable root/bin/busybox)

# A process of the build's uid outside the sandbox, for kill -9 -1.
bystander() {
	setpriv --reuid 1000 --regid 1000 --clear-groups sleep 600 </dev/null >/dev/null 2>&1 &
	BYSTANDER=$!
}

# The i386 ABI: where the host kernel has it, the filter's ABI check kills
# an int 0x80 with SIGSYS; where it has none (IA32_EMULATION off or
# disabled at boot, like the enclave kernel), int 0x80 faults with SIGSEGV
# before any filter sees it. Which one this host does is asked of the
# kernel itself, outside the sandbox, so the row expects what blocking
# looks like here.
"$PROBE" int80 </dev/null >/dev/null 2>&1
if [ $? -eq $((128 + 11)) ]; then
	INT80_EXPECT=signal:11
	echo "# this host's kernel has no i386 ABI: int 0x80 faults (SIGSEGV) before the filter"
else
	INT80_EXPECT=signal:31
fi

while IFS='|' read -r name args limits expect; do
	[ "$args" = int80 ] && expect=$INT80_EXPECT
	flags=()
	v=$(limit_of "$limits" pids); [ -n "$v" ] && flags+=(--pids "$v")
	v=$(limit_of "$limits" memory); [ -n "$v" ] && flags+=(--memory "${v}M")
	v=$(limit_of "$limits" timeout); [ -n "$v" ] && flags+=(--timeout "$v")
	v=$(limit_of "$limits" tmp); [ -n "$v" ] && flags+=(--tmp-size "${v}M")
	tok=cleanroom-probe-$$-$RANDOM
	case $args in forever*) args="$args $tok" ;; kill-all*) bystander ;; esac
	# shellcheck disable=SC2086
	"$CLEANROOM" sandbox-exec --root "$R" --work "$W" "${flags[@]}" -- probe $args \
		</dev/null >"$T/out" 2>"$T/err"
	rc=$?
	probe_judge "$expect" "$rc" "$(cat "$T/out")" "$(cat "$T/err")" native
	good=$?
	why=
	case $args in
	forever*)
		sleep 0.2
		left=$(pgrep -f "$tok" | tr '\n' ' ')
		[ -n "$left" ] && { good=1; why="survivors after the timeout: $left"; }
		for p in $left; do kill -KILL "$p"; done
		;;
	kill-all*)
		if kill -0 "$BYSTANDER" 2>/dev/null; then
			OBS="$OBS; a uid-1000 process outside lives"
			kill "$BYSTANDER"
		else
			good=1 why="kill -9 -1 inside killed a uid-1000 process outside the sandbox"
		fi
		wait "$BYSTANDER" 2>/dev/null
		;;
	esac
	probe_record "$name" "$expect" "$good" "${why:-$OBS}"
done < <(probe_rows native)

# --- afterwards: nothing outside changed, nothing left, the next run works
same "the files outside the workspace and the root are unchanged" \
	"$(cd "$T" && sha256sum outside/* root/etc/probe-writable root/bin/busybox)" "$outside_sums"
same "nothing was created in the root" "$(cd "$R" && find . | sort | tr '\n' ' ')" \
	". ./bin ./bin/busybox ./bin/probe ./bin/probe-suid ./bin/sh ./etc ./etc/probe-writable "
left=$(find /sys/fs/cgroup -maxdepth 4 -name 'cleanroom-sandbox-*' 2>/dev/null | tr '\n' ' ')
same "no sandbox cgroup is left behind" "$left" ""
out=$("$CLEANROOM" sandbox-exec --root "$R" --work "$W" -- sh -c 'echo fine > ok.txt && cat ok.txt' 2>&1)
same "after all probes the next command runs normally" "$out" "fine"

probe_table "escape probes, natively (cleanroom sandbox-exec, busybox root)"
t_done
