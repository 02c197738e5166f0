#!/bin/bash
# qemu/agent-limits: what a build leaves behind as
# an output, and how many processes it may start, against one build-agent
# enclave.
#  - Outputs that are not regular files (FIFO, socket, symlinks, directory,
#    device node or, as the sandbox forbids mknod, a symlink to /dev/null, a
#    path through a symlink): each build exits 1 with the reason naming the
#    output and its type, nothing is written to --out, and the next build on
#    the same agent succeeds at once (a FIFO once hung the agent for good in
#    a blocking open()).
#  - The process limit: a fork bomb with the default limit is stopped by the
#    build's own pids limit (exit 4, naming it), not by the kernel's
#    machine-wide limits; the agent keeps serving; a --pids above the
#    enclave's maximum is refused with that maximum.
#   tests/qemu/agent-limits.sh CLEANROOM KERNEL_DIR INIT PROBE
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
. "$(dirname "$0")/agentlib.sh"
agent_suite_args "$@"
PROBE=$ARG4
# Any one build is given up by this suite after this long (the agent's hang
# would otherwise hold the suite; cleanroom build itself waits --timeout + 30 s).
BUILD_WAIT=${BUILD_WAIT:-90}

agent_root "$T/root" "$PROBE"
for c in mkfifo ln mknod rm cat; do ln -sf busybox "$T/root/bin/$c"; done
agent_boot "$T/root" || exit 1
ok "the agent image boots"

mkdir -p "$T/src"
echo "a source file" >"$T/src/input.txt"

# tbuild OUT [options...] SRC -- CMD...: abuild bounded by BUILD_WAIT; sets
# RC, LOG, REASON and SECS (wall seconds).
tbuild() {
	local out=$1 t0
	shift
	t0=$(date +%s)
	timeout -k 5 "$BUILD_WAIT" $CLEANROOM build --vsock "$VS" --root "$NSM_ROOT" --eif "$T/agent.eif" \
		--out "$T/$out" "$@" >"$T/$out.stdout" 2>"$T/$out.stderr"
	RC=$?
	SECS=$(($(date +%s) - t0))
	LOG=$(cat "$T/$out.stderr")
	REASON=$(grep '^cleanroom build: ' "$T/$out.stderr" | tail -1)
}

n=0
# refused NAME OUTPUT REGEX CMD...: a build that exits 0 having made OUTPUT
# into something that is not a regular file; then a build that must succeed.
refused() {
	local name=$1 output=$2 pat=$3
	shift 3
	n=$((n + 1))
	tbuild "bad$n" --timeout 20 --output "$output" "$T/src" -- "$@"
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		not_ok "$name" "cleanroom build hung (killed after ${BUILD_WAIT} s)"
	elif [ "$RC" != 1 ]; then
		not_ok "$name" "exit $RC, want 1: $(echo "$LOG" | tail -2 | tr '\n' ' ')"
	elif ! echo "$REASON" | grep -Eq -- "$pat"; then
		not_ok "$name" "reason '$REASON' does not match /$pat/"
	elif ! nothing_in "bad$n"; then
		not_ok "$name" "--out is not empty: $(find "$T/bad$n" | head -3 | tr '\n' ' ')"
	else
		ok "$name"
	fi
	tbuild "next$n" --timeout 20 --output ok.txt "$T/src" -- sh -c 'echo next > ok.txt'
	if [ "$RC" = 0 ] && [ "$(cat "$T/next$n/ok.txt" 2>/dev/null)" = next ]; then
		ok "... and the next build on the same agent succeeds (${SECS} s)"
	else
		not_ok "... and the next build on the same agent succeeds" "exit $RC after ${SECS} s: $REASON"
	fi
}

refused "a FIFO output is refused, naming it (exit 1, nothing written)" o \
	"output 'o' is a FIFO, not a regular file" sh -c 'mkfifo o && exit 0'
refused "a unix socket output is refused" o \
	"output 'o' is a socket, not a regular file" probe unix-bind o
refused "a symlink to a regular file is refused (not followed)" o \
	"output 'o' is a symlink, not a regular file" sh -c 'echo data > f; ln -s f o'
refused "a symlink to /dev/zero is refused" o \
	"output 'o' is a symlink, not a regular file" ln -s /dev/zero o
refused "a directory output is refused" o \
	"output 'o' is a directory, not a regular file" mkdir o
# uid 1000 without CAP_MKNOD cannot make a device node on the workspace
# (nodev tmpfs, too); the build then leaves a symlink to /dev/null.
refused "a device node (or, as mknod is refused, a symlink to /dev/null) is refused" o \
	"output 'o' is (a character device|a symlink), not a regular file" \
	sh -c 'mknod o c 1 3 2>/dev/null || ln -s /dev/null o'
refused "an output reached through a symlinked directory is refused" l/f \
	"output 'l/f' is reached through a symlink" sh -c 'mkdir d; echo x > d/f; ln -s d l'
# Every output is judged before any is sent.
n=$((n + 1))
tbuild "bad$n" --timeout 20 --output good --output o "$T/src" -- sh -c 'echo fine > good; mkfifo o'
if [ "$RC" = 1 ] && echo "$REASON" | grep -q "output 'o' is a FIFO, not a regular file" && nothing_in "bad$n" &&
	! echo "$REASON" | grep -q "'good'"; then
	ok "a regular output beside a FIFO output: only the FIFO is named, nothing is written"
else
	not_ok "a regular output beside a FIFO output: only the FIFO is named, nothing is written" "exit $RC: $REASON"
fi
tbuild "miss" --timeout 20 --output not/made "$T/src" -- true
if [ "$RC" = 1 ] && echo "$REASON" | grep -q "did not produce its outputs: output 'not/made' was not produced"; then
	ok "an output not made at all is still reported as not produced"
else
	not_ok "an output not made at all is still reported as not produced" "exit $RC: $REASON"
fi

# --- the process limit
max=$(grep -o 'a build may have at most [0-9]* processes' "$T/console.log" | grep -o '[0-9][0-9]*' | head -1)
if [ -n "$max" ]; then ok "the agent logs its process maximum at start ($max, from $(grep -o 'its default (.*)' "$T/console.log" | head -1 | sed 's/^its default (//; s/)$//'))"
else not_ok "the agent logs its process maximum at start" "$(grep 'agent:' "$T/console.log" | head -3)"; max=0; fi
tbuild kparams --timeout 20 --output k.txt "$T/src" -- sh -c \
	'cat /proc/sys/kernel/pid_max /proc/sys/kernel/threads-max > k.txt'
pid_max=$(sed -n 1p "$T/kparams/k.txt" 2>/dev/null)
threads_max=$(sed -n 2p "$T/kparams/k.txt" 2>/dev/null)
echo "# enclave: kernel.pid_max=$pid_max kernel.threads-max=$threads_max; agent maximum and default: $max"
if [ -n "$pid_max" ] && [ -n "$threads_max" ] && [ "$max" -gt 0 ] && [ "$max" -lt "$pid_max" ] &&
	[ "$max" -lt "$threads_max" ]; then
	ok "the maximum is below kernel.pid_max and kernel.threads-max"
else
	not_ok "the maximum is below kernel.pid_max and kernel.threads-max" "max '$max' pid_max '$pid_max' threads-max '$threads_max'"
fi

tbuild over --pids 65536 --output x "$T/src" -- true
if [ "$RC" = 3 ] && echo "$REASON" | grep -Eq "limits.pids 65536 exceeds this enclave's maximum of $max \(.+\)" && nothing_in over; then
	ok "--pids above the enclave's maximum is refused, naming pids and the maximum (exit 3)"
else
	not_ok "--pids above the enclave's maximum is refused, naming pids and the maximum (exit 3)" "exit $RC: $REASON"
fi
# Refused at the request while a large tree is still being sent: the
# client's send fails (the agent closed), and it must still read and show
# the agent's reason, not "Broken pipe".
mkdir -p "$T/big"
head -c 16777216 /dev/urandom >"$T/big/blob"
tbuild overbig --pids 65536 --output x "$T/big" -- true
if [ "$RC" = 3 ] && echo "$REASON" | grep -q "limits.pids 65536 exceeds this enclave's maximum of $max" && nothing_in overbig; then
	ok "... also while a 16 MiB source tree is still on its way (exit 3, the agent's reason)"
else
	not_ok "... also while a 16 MiB source tree is still on its way (exit 3, the agent's reason)" "exit $RC: $REASON"
fi
$CLEANROOM build --vsock "$VS" --pids 4 --output x "$T/src" -- true >/dev/null 2>"$T/low.err"
rc=$?
if [ "$rc" = 2 ] && grep -q "^cleanroom build: --pids '4': expected at least 8" "$T/low.err"; then
	ok "--pids below 8 is a usage error (exit 2)"
else
	not_ok "--pids below 8 is a usage error (exit 2)" "exit $rc: $(cat "$T/low.err")"
fi

# A fork bomb with the default limit: busybox sh forks sleepers until a fork
# fails, then exits. The build's pids limit must be what refused it.
tbuild bomb --timeout 240 --output x "$T/src" -- sh -c 'while :; do sleep 1000 & done'
echo "# fork bomb with the default limit: ${SECS} s"
if [ "$RC" = 4 ] && echo "$REASON" | grep -q "the pids limit refused a fork: at most $max processes" && nothing_in bomb; then
	ok "a fork bomb with the default limit is stopped by the build's process limit (exit 4, named)"
else
	not_ok "a fork bomb with the default limit is stopped by the build's process limit (exit 4, named)" \
		"exit $RC after ${SECS} s: $REASON"
fi
tbuild bomb2 --pids 32 --timeout 60 --output x "$T/src" -- sh -c 'while :; do sleep 1000 & done'
if [ "$RC" = 4 ] && echo "$REASON" | grep -q "the pids limit refused a fork: at most 32 processes"; then
	ok "a fork bomb with --pids 32 is stopped by it (exit 4, named)"
else
	not_ok "a fork bomb with --pids 32 is stopped by it (exit 4, named)" "exit $RC after ${SECS} s: $REASON"
fi
tbuild after --timeout 20 --output ok.txt "$T/src" -- sh -c 'echo still serving > ok.txt'
if [ "$RC" = 0 ] && [ "$(cat "$T/after/ok.txt" 2>/dev/null)" = "still serving" ]; then
	ok "after the fork bombs the agent still builds (${SECS} s)"
else
	not_ok "after the fork bombs the agent still builds" "exit $RC after ${SECS} s: $REASON"
fi

agent_stop
grep -q "Kernel panic" "$T/console.log" && not_ok "no kernel panic" "$(grep -m1 -A2 'Kernel panic' "$T/console.log")" || ok "no kernel panic on the console"
t_done
