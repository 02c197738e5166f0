# Helpers for suites that boot one build-agent enclave with `cleanroom run`
# and submit builds to it with `cleanroom build --vsock` (escape-probes,
# faults). Source after tests/cli/lib.sh and tests/qemu/runlib.sh, then call
# agent_suite_args "$@" (or set CLEANROOM, KDIR, INIT and T yourself).

# agent_suite_args CLEANROOM KERNEL_DIR INIT [EXTRA]: the arguments every
# agent suite takes; sets CLEANROOM (absolute, exported), KDIR, INIT, T (the
# suite's temporary directory) and ARG4 (the suite's own fourth argument).
agent_suite_args() {
	CLEANROOM=$(realpath "$1")
	KDIR=$2
	INIT=$3
	ARG4=${4:-}
	T=$T_TMP
	export CLEANROOM
}

# agent_root DIR PROBE: a busybox root with the probe as /bin/probe and a
# file /etc/probe-writable (the image makes it 0644, root's).
agent_root() {
	mkdir -p "$1/bin" "$1/etc"
	cp /bin/busybox "$1/bin/"
	for c in sh echo cat ls true sleep head mkdir dd yes; do ln -s busybox "$1/bin/$c"; done
	install -m 0755 "$2" "$1/bin/probe"
	echo writable >"$1/etc/probe-writable"
}

# agent_boot ROOT [CMDLINE]: pack ROOT into $T/agent.eif (with CMDLINE as the
# kernel command line, when given) and boot it; sets RUN (pid of `cleanroom
# run`), VS (its vsock socket) and NSM_ROOT (the mock NSM's root, for
# verifying reports). Returns 1, having said why, when it does not come up.
agent_boot() {
	local cmdline=()
	[ -n "${2:-}" ] && cmdline=(--cmdline "$2")
	if ! $CLEANROOM eif --kernel "$KDIR/bzImage" --init "$INIT" --nsm-ko "$KDIR/nsm.ko" --rootfs "$1" \
		"${cmdline[@]}" -o "$T/agent.eif" >/dev/null 2>"$T/eif.err"; then
		not_ok "pack the agent image" "$(tail -1 "$T/eif.err")"
		return 1
	fi
	agent_boot_eif
}

# agent_boot_eif: boot $T/agent.eif, packed by the caller (as agent_boot), with
# AGENT_MEMORY MiB (default 512).
agent_boot_eif() {
	agent_start "$T/agent.eif" "${AGENT_MEMORY:-512}" 30
}

# agent_start EIF MEMORY_MIB SECONDS: boot EIF with `cleanroom run` (console
# in $T/console.log) and wait up to SECONDS for it to be ready; sets RUN, VS
# and NSM_ROOT like agent_boot. Returns 1, having said why, when it does not
# come up.
agent_start() {
	mkdir -p "$T/v"
	$CLEANROOM run "$1" --vsock-dir "$T/v" --json --console "$T/console.log" --memory "$2" \
		>"$T/run.json" 2>"$T/run.err" &
	RUN=$!
	for _ in $(seq 1 $(($3 * 10))); do
		[ -n "$(json_event "$T/run.json" ready vsock)" ] && break
		kill -0 $RUN 2>/dev/null || break
		sleep 0.1
	done
	VS=$(json_event "$T/run.json" ready vsock)
	NSM_ROOT=$(json_event "$T/run.json" ready nsm_root)
	if [ -z "$VS" ]; then
		not_ok "the agent image boots" "$(tail -3 "$T/run.err" | tr '\n' ' ')"
		return 1
	fi
}

# abuild OUT [cleanroom build options...] SRC -- CMD...: one build into
# $T/OUT; sets RC, LOG (stderr: the build log and cleanroom's messages) and
# REASON (cleanroom build's own last line). A build that succeeds has its
# report verified against this enclave's image and mock NSM.
abuild() {
	local out=$1
	shift
	$CLEANROOM build --vsock "$VS" --root "$NSM_ROOT" --eif "$T/agent.eif" --out "$T/$out" "$@" \
		>"$T/$out.stdout" 2>"$T/$out.stderr"
	RC=$?
	LOG=$(cat "$T/$out.stderr")
	REASON=$(grep '^cleanroom build: ' "$T/$out.stderr" | tail -1)
}

# nothing_in OUT: --out of a failed build must not exist (it was created by
# the build and removed again) — no partial artifact, no staging directory.
nothing_in() {
	[ ! -e "$T/$1" ]
}

# agent_stop: end the run (SIGTERM) and wait for it.
agent_stop() {
	kill -TERM "$RUN" 2>/dev/null
	wait "$RUN" 2>/dev/null
}
