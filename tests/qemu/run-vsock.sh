#!/bin/bash
# cleanroom run and the vsock bridge, end to end in QEMU (microvm, TCG).
#
#   tests/qemu/run-vsock.sh vsock|run CLEANROOM BZIMAGE GUEST
#
#   vsock  boot an EIF whose /init is GUEST (tests/qemu/guest_vsock.c) with
#          `cleanroom run`; tests/qemu/vsock_host.py plays the host: 1 MiB
#          echo, concurrent connections both ways, missing listeners. Also
#          checks the ready/exit JSON, the PCRs against `cleanroom describe`,
#          exit 0 on guest power-off, and that nothing is left behind.
#          Prints boot-to-heartbeat time and echo throughput as "#" lines.
#   run    the runner's failure paths: no heartbeat (timeout message), a
#          wrong heartbeat byte, SIGTERM and SIGINT teardown, --timeout,
#          usage errors; after each, no QEMU, socket or temporary file stays.
#
# Environment: RUN_VSOCK_TIMEOUT (s, default 300) bounds each boot.
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
MODE=${1:?usage: run-vsock.sh vsock|run CLEANROOM BZIMAGE GUEST}
CLEANROOM=$(realpath "${2:?}")
KERNEL=${3:?}
GUEST=${4:?}
HERE=$(cd "$(dirname "$0")" && pwd)
LIMIT=${RUN_VSOCK_TIMEOUT:-300}
T=$T_TMP
export TMPDIR=$T/tmp # run's private directories land here, so leftovers are visible
mkdir -p "$TMPDIR"

for f in "$CLEANROOM" "$KERNEL" "$GUEST"; do
	[ -f "$f" ] || { not_ok "inputs" "$f is missing"; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null || { not_ok "inputs" "qemu-system-x86_64 is not installed"; exit 1; }

# An EIF whose /init is the guest program in MODE (see guest_vsock.c).
make_eif() { # NAME MODE
	mkdir -p "$T/root-$1"
	echo "$2" >"$T/root-$1/mode"
	"$CLEANROOM" eif --kernel "$KERNEL" --init "$GUEST" --rootfs "$T/root-$1" -o "$T/$1.eif" >/dev/null 2>"$T/eif.err" ||
		{ not_ok "pack $1.eif" "$(cat "$T/eif.err")"; exit 1; }
}

# Nothing of a run may survive it: QEMU processes of this test, sockets in
# the vsock directory, run's private directories.
check_clean() { # NAME VSOCKDIR
	local left
	left=$(pgrep -f "qemu-system-x86_64.*$T" || true)
	[ -z "$left" ] && ok "$1: no QEMU process left" || not_ok "$1: no QEMU process left" "pids $left"
	left=$(ls -A "$2" 2>/dev/null; ls -A "$TMPDIR")
	[ -z "$left" ] && ok "$1: no socket or temporary file left" || not_ok "$1: no socket or temporary file left" "$(echo $left)"
}

wait_ready() { # JSONFILE PID: wait for the ready event (or the run's end)
	for _ in $(seq 1 $((LIMIT * 10))); do
		[ -n "$(json_event "$1" ready vsock)" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

mode_vsock() {
	local d=$T/vd rc
	make_eif test test
	mkdir -p "$d"
	python3 "$HERE/vsock_host.py" "$d/vsock" "$LIMIT" >"$T/host.out" 2>&1 &
	local host=$!
	"$CLEANROOM" run "$T/test.eif" --vsock-dir "$d" --console "$T/console.log" --cpus 1 --json \
		--timeout "$LIMIT" >"$T/run.json" 2>"$T/run.err"
	rc=$?
	finish_host_half "$host" vsock_host.py "$T/host.out"
	[ $rc -eq 0 ] && ok "run exits 0 when the guest powers off after its heartbeat" ||
		not_ok "run exits 0 when the guest powers off after its heartbeat" "status $rc: $(tail -3 "$T/run.err" | tr '\n' ' '); console: $(tail -3 "$T/console.log" | tr '\r\n' '  ')"
	same "the exit event says poweroff" "$(json_event "$T/run.json" exit result)" "poweroff"
	local hb pcr0
	hb=$(json_event "$T/run.json" ready boot_to_heartbeat_ms)
	[ -n "$hb" ] && ok "the ready event reports boot_to_heartbeat_ms" || not_ok "the ready event reports boot_to_heartbeat_ms" "$(cat "$T/run.json")"
	echo "# boot to heartbeat: ${hb:-?} ms wall (TCG, 1 vCPU, ASan build of the bridge)"
	same "the ready event names the host socket" "$(json_event "$T/run.json" ready vsock)" "$d/vsock"
	pcr0=$("$CLEANROOM" describe "$T/test.eif" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["Measurements"]["PCR0"])')
	same "the ready event's PCR0 is cleanroom describe's" "$(json_event "$T/run.json" ready pcr0)" "$pcr0"
	grep -q 'guest: heartbeat acknowledged' "$T/console.log" && ok "the console reaches --console FILE" ||
		not_ok "the console reaches --console FILE" "$(tail -3 "$T/console.log" | tr '\r\n' '  ')"
	grep -q 'tsc_early_khz=' "$T/console.log" && ok "run appends tsc_early_khz (unmeasured) to the cmdline" ||
		not_ok "run appends tsc_early_khz (unmeasured) to the cmdline" "not on the kernel command line"
	check_clean "after power-off" "$d"
}

mode_run() {
	local d=$T/rd rc t0 el pid
	mkdir -p "$d"
	make_eif nohb no-heartbeat
	make_eif badhb bad-heartbeat
	make_eif idle idle

	t0=$(date +%s%N)
	"$CLEANROOM" run "$T/nohb.eif" --vsock-dir "$d" --console "$T/nohb.log" --cpus 1 --heartbeat-timeout 8 \
		>"$T/out" 2>"$T/err"
	rc=$? el=$(ms_since "$t0")
	[ $rc -eq 1 ] && grep -q 'no heartbeat within 8 s: the enclave must connect to CID 3 port 9000' "$T/err" &&
		ok "no heartbeat: exit 1 with a clear message" || not_ok "no heartbeat: exit 1 with a clear message" "status $rc: $(cat "$T/err")"
	[ "$el" -ge 8000 ] && [ "$el" -lt 20000 ] && ok "no heartbeat: gives up after --heartbeat-timeout ($el ms)" ||
		not_ok "no heartbeat: gives up after --heartbeat-timeout" "$el ms"
	check_clean "after a heartbeat timeout" "$d"

	"$CLEANROOM" run "$T/badhb.eif" --vsock-dir "$d" --console "$T/badhb.log" --cpus 1 --heartbeat-timeout "$LIMIT" \
		>"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq 1 ] && grep -q 'sent 0x42 on port 9000, expected 0xB7' "$T/err" &&
		ok "wrong heartbeat byte: exit 1 naming it" || not_ok "wrong heartbeat byte: exit 1 naming it" "status $rc: $(cat "$T/err")"
	check_clean "after a wrong heartbeat" "$d"

	for sig in TERM INT; do
		"$CLEANROOM" run "$T/idle.eif" --vsock-dir "$d" --console "$T/idle.log" --cpus 1 --json \
			--heartbeat-timeout "$LIMIT" >"$T/idle.json" 2>"$T/err" &
		pid=$!
		if wait_ready "$T/idle.json" "$pid"; then
			ok "SIG$sig: the idle enclave became ready"
			[ -S "$d/vsock" ] && ok "SIG$sig: the host socket exists while running" || not_ok "SIG$sig: the host socket exists while running" "$(ls -A "$d")"
			kill -"$sig" "$pid"
		else
			not_ok "SIG$sig: the idle enclave became ready" "$(cat "$T/err")"
			kill -KILL "$pid"
		fi
		wait "$pid"
		rc=$?
		[ $rc -eq 1 ] && same "SIG$sig: the exit event says signal" "$(json_event "$T/idle.json" exit result)" signal ||
			not_ok "SIG$sig: run exits 1" "status $rc: $(cat "$T/err")"
		check_clean "after SIG$sig" "$d"
	done

	# SIGKILL cannot be handled: QEMU must still go (PR_SET_PDEATHSIG), and
	# the sockets left behind must not block the next run in that directory.
	"$CLEANROOM" run "$T/idle.eif" --vsock-dir "$d" --console "$T/idle.log" --cpus 1 --json \
		--heartbeat-timeout "$LIMIT" >"$T/idle.json" 2>"$T/err" &
	pid=$!
	if wait_ready "$T/idle.json" "$pid"; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		for _ in $(seq 1 50); do pgrep -f "qemu-system-x86_64.*$T" >/dev/null || break; sleep 0.1; done
		left=$(pgrep -f "qemu-system-x86_64.*$T" || true)
		[ -z "$left" ] && ok "SIGKILL: QEMU dies with run" || not_ok "SIGKILL: QEMU dies with run" "pids $left"
		[ -S "$d/vsock" ] && ok "SIGKILL: the killed run's sockets remain (precondition)" || not_ok "SIGKILL: the killed run's sockets remain (precondition)" "$(ls -A "$d")"
		"$CLEANROOM" run "$T/nohb.eif" --vsock-dir "$d" --console /dev/null --cpus 1 --heartbeat-timeout 2 \
			>"$T/out" 2>"$T/err"
		grep -q 'no heartbeat within 2 s' "$T/err" && ok "SIGKILL: the next run replaces the stale sockets" ||
			not_ok "SIGKILL: the next run replaces the stale sockets" "$(cat "$T/err")"
	else
		not_ok "SIGKILL: the idle enclave became ready" "$(cat "$T/err")"
		kill -KILL "$pid"
	fi
	rm -rf "${TMPDIR:?}"/cleanroom-run.* # the killed run's private directory
	check_clean "after SIGKILL and a new run" "$d"

	t0=$(date +%s%N)
	"$CLEANROOM" run "$T/idle.eif" --vsock-dir "$d" --console "$T/idle.log" --cpus 1 --timeout 15 \
		--heartbeat-timeout "$LIMIT" >"$T/out" 2>"$T/err"
	rc=$? el=$(ms_since "$t0")
	[ $rc -eq 1 ] && grep -q -- '--timeout 15 s reached' "$T/err" && [ "$el" -ge 15000 ] && [ "$el" -lt 25000 ] &&
		ok "--timeout stops a running enclave ($el ms)" || not_ok "--timeout stops a running enclave" "status $rc after $el ms: $(cat "$T/err")"
	check_clean "after --timeout" "$d"

	"$CLEANROOM" run "$T/idle.eif" --qemu "$T/no-such-qemu" --vsock-dir "$d" >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq 1 ] && grep -q "cannot run $T/no-such-qemu" "$T/err" && ok "a missing QEMU binary is reported" ||
		not_ok "a missing QEMU binary is reported" "status $rc: $(cat "$T/err")"
	check_clean "after a failed start" "$d"

	"$CLEANROOM" run "$T/idle.eif" --cid 3 >/dev/null 2>"$T/err"; rc=$?
	[ $rc -eq 2 ] && grep -q -- '--cid 3: out of range' "$T/err" && ok "usage: --cid 3 (the parent's) is refused" ||
		not_ok "usage: --cid 3 (the parent's) is refused" "status $rc: $(cat "$T/err")"
	"$CLEANROOM" run "$T/idle.eif" --memory 12x >/dev/null 2>"$T/err"; rc=$?
	[ $rc -eq 2 ] && ok "usage: a bad --memory is refused" || not_ok "usage: a bad --memory is refused" "status $rc"
	mkdir -p "$T/root-big" && head -c 40000000 /dev/zero >"$T/root-big/pad" # a 40 MB EIF: at least 153 MiB
	"$CLEANROOM" eif --kernel "$KERNEL" --init "$GUEST" --rootfs "$T/root-big" -o "$T/big.eif" >/dev/null
	"$CLEANROOM" run "$T/big.eif" --memory 128 >/dev/null 2>"$T/err"; rc=$?
	rm -rf "$T/root-big" "$T/big.eif"
	[ $rc -eq 1 ] && grep -q -- '--memory 128: too little for .*at least 1[0-9][0-9] MiB (4x the EIF size' "$T/err" &&
		ok "less memory than 4x the EIF (the initramfs would not unpack) is refused" ||
		not_ok "less memory than 4x the EIF (the initramfs would not unpack) is refused" "status $rc: $(cat "$T/err")"
	"$CLEANROOM" run "$T/idle.eif" --vsock-dir "$T/nope" >/dev/null 2>"$T/err"; rc=$?
	[ $rc -eq 2 ] && grep -q 'not an existing directory' "$T/err" && ok "usage: a missing --vsock-dir is refused" ||
		not_ok "usage: a missing --vsock-dir is refused" "status $rc: $(cat "$T/err")"
	head -c 1000 /dev/urandom >"$T/junk.eif"
	"$CLEANROOM" run "$T/junk.eif" >/dev/null 2>"$T/err"; rc=$?
	[ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && ok "a file that is no EIF: exit 1, one line" ||
		not_ok "a file that is no EIF: exit 1, one line" "status $rc: $(cat "$T/err")"
	"$CLEANROOM" run --help | grep -q 'Exit status' && ok "run --help documents exit codes" || not_ok "run --help documents exit codes" "missing"
	check_clean "after usage errors" "$d"
}

case "$MODE" in
vsock) mode_vsock ;;
run) mode_run ;;
*) not_ok "usage" "unknown mode $MODE"; exit 1 ;;
esac
t_done
