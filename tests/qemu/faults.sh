#!/bin/bash
# qemu/faults: hostile and failing hosts against the build agent in one local
# enclave, booted once with short client timeouts on its kernel cmdline
# (cleanroom_idle_timeout_s=3, cleanroom_transfer_timeout_s=7; vsock/README).
# Each fault must be answered (an error naming what went wrong, when the
# connection still allows one) and the agent must serve the next build
# right away. Then `cleanroom build` itself: a connection cut or corrupted in
# the middle of an artifact, a stop signal, the enclave hanging and dying mid-build
# must end with a non-zero exit, the reason, and nothing in --out. Last, a
# malformed timeout on the cmdline stops the agent at boot, naming it.
# Prints the table fault | expected | observed.
#   tests/qemu/faults.sh CLEANROOM KERNEL_DIR INIT PROBE WIRE_CLIENT
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/../cli/probelib.sh"
. "$(dirname "$0")/runlib.sh"
. "$(dirname "$0")/agentlib.sh"
agent_suite_args "$@"
PROBE=$ARG4
WC=$(realpath "$5")
PROXY=$(dirname "$0")/frame_proxy.py
PROBE_KIND=fault

CMDLINE="reboot=k panic=30 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd random.trust_cpu=on"
agent_root "$T/root" "$PROBE"
agent_boot "$T/root" "$CMDLINE cleanroom_idle_timeout_s=3 cleanroom_transfer_timeout_s=7" || exit 1
grep -q "dropped after 3 s of silence, or when its request and sources take over 7 s" "$T/console.log" &&
	ok "the agent boots with the timeouts of its cmdline (3 s idle, 7 s transfer)" ||
	not_ok "the agent boots with the timeouts of its cmdline" "$(grep 'agent: ready' "$T/console.log")"

n=0
# client NAME STEP...: run wire_client; its output in $T/wc-NAME.out, status WRC
client() {
	local name=$1
	shift
	"$WC" "$VS" "$@" >"$T/wc-$name.out" 2>&1
	WRC=$?
}
# console_says PATTERN: a line of the agent's console log since the last
# mark_console matches PATTERN (it may take a moment to appear); sets SAID.
mark_console() { MARK=$(wc -l <"$T/console.log"); }
console_says() {
	for _ in $(seq 1 100); do
		SAID=$(tail -n +$((MARK + 1)) "$T/console.log" | grep -E "$1" | tail -1)
		[ -n "$SAID" ] && return 0
		sleep 0.1
	done
	return 1
}
mark_console
# next_ok: a plain build right after, through a fresh connection; sets
# NEXT (observed text) and returns 0 when it succeeded within NEXT_WITHIN
# ms (default 5000).
next_ok() {
	local t0 t1
	n=$((n + 1))
	t0=$(date +%s%N)
	client "next$n" "request:echo ok > out" end:src expect:accepted end:deps expect:accepted drain
	t1=$(date +%s%N)
	NEXT="next build $(grep -q '^recv result ok' "$T/wc-next$n.out" && echo ok || echo FAILED) in $(((t1 - t0) / 1000000)) ms"
	grep -q '^recv result ok' "$T/wc-next$n.out" && [ $(((t1 - t0) / 1000000)) -lt "${NEXT_WITHIN:-5000}" ]
}
# fault NAME EXPECTED AGENT_PATTERN [CLIENT_PATTERN]: judge the last client
# run: the agent logged AGENT_PATTERN, the client saw CLIENT_PATTERN, and
# the next build is served.
fault() {
	local name=$1 expect=$2 agent=$3 seen=${4:-} good=0 said
	console_says "init: agent: build [0-9]+: $agent" || good=1
	said=${SAID#*: build }
	said=${said#*: }
	if [ -n "$seen" ] && ! grep -Eq -- "$seen" "$T/wc-$FAULT.out"; then good=1; fi
	next_ok || good=1
	OBS="agent: ${said:-(nothing logged)}; $NEXT"
	[ $good = 0 ] || OBS="$OBS; client saw: $(tr '\n' ' ' <"$T/wc-$FAULT.out" | head -c 300)"
	probe_record "$name" "$expect" $good
	mark_console
}

# --- the connection ends early
FAULT=midtransfer
client $FAULT request dir:d entry:d/big:1000000 data:1000 close
fault "gone mid-transfer" "dropped, next build served" "protocol: 'd/big': receiving 999000 more bytes: connection closed"

FAULT=midbuild
client $FAULT "request:sleep 60; echo late > out" end:src expect:accepted end:deps expect:accepted sleep:1000 close
fault "gone mid-build" "build cancelled at once" "protocol: the client hung up during the build; it was cancelled after [0-9]+ ms"

# --- malformed and oversize frames, messages that break the rules, slow and
# silent hosts: name | expected | wire_client steps | what the agent logs |
# what the client must have received (extended regexes)
while IFS='|' read -r name expect steps agent seen; do
	FAULT=$name
	# shellcheck disable=SC2086
	client "$FAULT" $steps
	fault "$name" "$expect" "$agent" "$seen"
done <<'EOF'
not CBOR|error protocol|garbage:100 drain|protocol: message: unexpected break|^recv error protocol: message: unexpected break
frame > 1 MiB|error protocol|header:2097152 drain|protocol: receive: frame length 2097152 outside 1..1048576|^recv error protocol: receive: frame length 2097152
empty frame|error protocol|header:0 drain|protocol: receive: frame length 0 outside|^recv error protocol
data before request|error protocol|data:10 drain|protocol: expected a request message first, got data|^recv error protocol
path with ..|error protocol|request file:../x:1 drain|protocol: entry '../x': '.' and '..' components are refused|^recv error protocol
file under a symlink|error refused|request symlink:s:. file:s/x:1 drain|refused: 's/x': its parent directory 's' was not sent before it \(it is a symlink\)|^recv error refused
same path twice|error refused|request file:a:1 file:a:1 drain|refused: 'a': sent twice|^recv error refused
more data than announced|error protocol|request entry:a:1 data:10 drain|protocol: 'a': 10 bytes of data where 1 were due|^recv error protocol
wrong end counts|error protocol|request file:a:1 end:src:5:5 drain|protocol: src stream: the client counted 5 entries and 5 bytes, 1 and 1 arrived|^recv error protocol
silent, no request|dropped after 3 s|drain|limit: the client sent nothing for 3 s|^recv error limit: the client sent nothing for 3 s .*\(after [23][0-9]{3} ms\)
silent mid-frame|dropped after 3 s|request header:1000 drain|limit: the client sent nothing for 3 s|^recv error limit: the client sent nothing for 3 s
trickles bytes|dropped after 7 s|trickle:300 request file:a:100 end:src drain|limit: the request and sources took longer than 7 s|^recv error limit: the request and sources took longer than 7 s .*\(after [67][0-9]{3} ms\)
EOF

# Readers of the outputs: one that takes nothing, one that takes 100 KiB/s
# (an 8 MiB output would take 80 s). They run on in the background while
# the bridge's buffers drain; the agent must be free long before — at once
# after giving up on the stalled one (it must not wait another idle timeout
# trying to send it an error).
for slow in 100:stalls 10:trickles; do
	FAULT=slowread${slow%%:*}
	"$WC" "$VS" "request:dd if=/dev/zero of=out bs=1M count=8 2>/dev/null" end:src expect:accepted end:deps \
		expect:accepted slowread:${slow%%:*} >"$T/wc-$FAULT.out" 2>&1 &
	reader=$!
	if [ "${slow#*:}" = stalls ]; then
		NEXT_WITHIN=2500 fault "reader stalls" "dropped after 3 s" "limit: the client took nothing for 3 s of the outputs"
	else
		fault "reader trickles" "dropped after 7 s" "limit: the client took longer than 7 s to take the outputs"
	fi
	kill "$reader" 2>/dev/null
	wait "$reader" 2>/dev/null
done

# --- out of memory inside the build, at the enclave's maximum (no --memory)
mkdir -p "$T/src"
echo x >"$T/src/a"
abuild o-oom --output out "$T/src" -- probe membomb
FAULT=oom
echo "$LOG" >"$T/wc-$FAULT.out"
fault "OOM at the enclave max" "memory limit; agent lives" "limit \(hit the memory limit of [0-9]+ bytes \(the OOM killer ran\)" '^cleanroom build: the build failed: hit the memory limit'
abuild o-fill --output out "$T/src" -- sh -c 'probe fill /work/src/fill & probe fill /tmp/fill; wait'
FAULT=fill
echo "$LOG" >"$T/wc-$FAULT.out"
fault "fill workspace and /tmp" "ENOSPC or memory limit" "(limit|failed) \(" '^cleanroom build: the build failed'

# --- cleanroom build, when the connection or the enclave fails it
# through frame_proxy.py: cut or corrupt the first artifact data frame, or
# stall it and stop cleanroom build with SIGTERM
host_case() { # NAME EXPECTED MODE WANT_RC PATTERN
	local name=$1 expect=$2 mode=$3 want=$4 pat=$5 px rc
	python3 "$PROXY" "$T/px-$mode.sock" "$VS" "$mode" >"$T/px-$mode.out" 2>&1 &
	px=$!
	for _ in $(seq 1 50); do grep -q ready "$T/px-$mode.out" 2>/dev/null && break; sleep 0.1; done
	"$CLEANROOM" build --vsock "$T/px-$mode.sock" --root "$NSM_ROOT" --out "$T/o-$mode" --output big "$T/src" \
		-- sh -c 'dd if=/dev/zero of=big bs=1M count=2 2>/dev/null' >/dev/null 2>"$T/h-$mode.err" &
	local b=$!
	if [ "$mode" = stall ]; then
		for _ in $(seq 1 100); do grep -q 'stall after' "$T/px-$mode.out" && break; sleep 0.1; done
		sleep 0.5
		kill -TERM $b
	fi
	wait $b
	rc=$?
	kill $px 2>/dev/null
	wait $px 2>/dev/null
	OBS="exit $rc; $(tail -1 "$T/h-$mode.err"); --out $([ -e "$T/o-$mode" ] && echo "LEFT: $(find "$T/o-$mode" | tr '\n' ' ')" || echo absent)"
	[ "$rc" = "$want" ] && tail -1 "$T/h-$mode.err" | grep -Eq "$pat" && [ ! -e "$T/o-$mode" ] && next_ok
	probe_record "$name" "$expect" $?
	mark_console
}
host_case "cut mid-artifact" "exit 5, --out absent" cut 5 'connection closed inside a [0-9]+-byte frame'
host_case "oversize from agent" "exit 5, --out absent" oversize 5 'frame length 2097152 outside 1..1048576'
host_case "SIGTERM mid-artifact" "exit 143, --out absent" stall 143 'stopped by signal 15 .*nothing was written'

# The enclave hangs mid-build (its QEMU is stopped with SIGSTOP): the client
# gives up after the build's --timeout plus 30 s of silence, leaves nothing;
# once QEMU continues, the agent serves the next build.
$CLEANROOM build --vsock "$VS" --root "$NSM_ROOT" --timeout 5 --out "$T/o-hang" --output out "$T/src" -- sh -c 'sleep 60' \
	>/dev/null 2>"$T/hang.err" &
b=$!
sleep 1.5
QEMU_PID=$(pgrep -P "$RUN" -f qemu-system | head -1)
[ -n "$QEMU_PID" ] && kill -STOP "$QEMU_PID"
t0=$(date +%s)
wait $b
rc=$?
t1=$(date +%s)
[ -n "$QEMU_PID" ] && kill -CONT "$QEMU_PID"
OBS="exit $rc after $((t1 - t0)) s; $(tail -1 "$T/hang.err"); --out $([ -e "$T/o-hang" ] && echo LEFT || echo absent)"
[ -n "$QEMU_PID" ] && [ "$rc" = 5 ] && tail -1 "$T/hang.err" | grep -q 'the enclave sent nothing for 35 s .*hung or stopped' &&
	[ ! -e "$T/o-hang" ] && [ $((t1 - t0)) -le 45 ] && next_ok
probe_record "enclave hangs mid-build" "exit 5 after 35 s, --out absent" $?


$CLEANROOM build --vsock "$VS" --root "$NSM_ROOT" --out "$T/o-dies" --output out "$T/src" -- sh -c 'sleep 60' \
	>/dev/null 2>"$T/dies.err" &
b=$!
sleep 3
agent_stop
wait $b
rc=$?
OBS="exit $rc; $(tail -1 "$T/dies.err"); --out $([ -e "$T/o-dies" ] && echo LEFT || echo absent)"
[ "$rc" = 5 ] && tail -1 "$T/dies.err" | grep -q 'the enclave closed the connection before the result' && [ ! -e "$T/o-dies" ]
probe_record "enclave dies mid-build" "exit 5, --out absent" $?

grep -q "Kernel panic" "$T/console.log" && not_ok "no kernel panic" "$(grep -m1 -A2 'Kernel panic' "$T/console.log")" || ok "no kernel panic on the console"

# --- a malformed timeout on the cmdline: the agent refuses to start
if $CLEANROOM eif --kernel "$KDIR/bzImage" --init "$INIT" --nsm-ko "$KDIR/nsm.ko" --rootfs "$T/root" \
	--cmdline "$CMDLINE cleanroom_idle_timeout_s=soon" -o "$T/bad.eif" >/dev/null 2>&1; then
	$CLEANROOM run "$T/bad.eif" --console "$T/console-bad.log" --memory 256 --timeout 120 >/dev/null 2>&1
	grep -q "init: agent: setup: cleanroom_idle_timeout_s='soon' on the kernel cmdline: expected seconds, 1 to 86400" "$T/console-bad.log" &&
		grep -q "init: ending the enclave (reboot)" "$T/console-bad.log" &&
		ok "a malformed cleanroom_idle_timeout_s stops the agent at boot, naming it" ||
		not_ok "a malformed cleanroom_idle_timeout_s stops the agent at boot" "$(grep 'init:' "$T/console-bad.log" | tail -3 | tr '\n' ' ')"
else
	not_ok "pack an image with a malformed timeout" "cleanroom eif failed"
fi

probe_table "faults against one local enclave" fault
t_done
