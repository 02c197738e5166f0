# The escape probes' table (tests/cli/escape-probes.txt), how a probe's
# outcome is judged, and the "probe | expected | observed" table — shared by
# the native suite (tests/cli/escape-probes.sh) and the enclave suite
# (tests/qemu/escape-probes.sh). Source after tests/cli/lib.sh.
PROBE_TABLE=$(dirname "${BASH_SOURCE[0]}")/escape-probes.txt
PROBE_ROWS=()

# probe_rows WHERE: "name|args|limits|expected" for the rows run WHERE
# (native or enclave), one per line.
probe_rows() {
	grep -v '^#' "$PROBE_TABLE" | while IFS='|' read -r name args limits expect where; do
		where=$(echo $where)
		[ -z "$where" ] && continue
		[ "$where" = both ] || [ "$where" = "$1" ] || continue
		echo "$(echo $name)|$(echo $args)|$(echo $limits)|$(echo $expect)"
	done
}

# limit_of LIMITS KEY: the value of KEY=N in a limits column (empty if none).
limit_of() {
	local kv
	for kv in $1; do [ "${kv%%=*}" = "$2" ] && echo "${kv#*=}"; done
	return 0
}

# same_set A B: two comma-separated lists hold the same names.
same_set() {
	[ "$(echo "$1" | tr ',' '\n' | sort -u | tr '\n' ,)" = "$(echo "$2" | tr ',' '\n' | sort -u | tr '\n' ,)" ]
}

# probe_judge EXPECT RC LOG REASON MODE
# Judges one run: RC the exit status of the runner, LOG the build's output
# (the probe's lines), REASON what the runner said about how the build ended,
# MODE native (cleanroom sandbox-exec: exit 124 at the timeout, 128+N for
# signal N) or enclave (cleanroom build: exit 4 for a limit or the timeout,
# 1 with "killed by signal N"). Sets OBS (the observed column) and returns 0
# when it matches EXPECT.
probe_judge() {
	local expect=$1 rc=$2 log=$3 reason=$4 blocked_rc=1 timeout_rc=124 limit_rc= res sig
	[ "$5" = enclave ] && timeout_rc=4 limit_rc=4
	res=$(echo "$log" | sed -n 's/^probe [^:]*: result: //p' | tail -1)
	reason=$(echo "$reason" | tail -1)
	OBS="exit $rc${res:+, $res}${reason:+; $reason}"
	case $expect in
	blocked:*)
		[ "$rc" = "$blocked_rc" ] && [ "${res%% *}" = blocked ] && same_set "${res#blocked }" "${expect#blocked:}"
		;;
	contained) [ "$rc" = "$blocked_rc" ] && [ "${res%%:*}" = contained ] ;;
	pids) { [ -z "$limit_rc" ] || [ "$rc" = "$limit_rc" ]; } && echo "$reason" | grep -q 'the pids limit refused a fork' ;;
	oom) { [ -z "$limit_rc" ] || [ "$rc" = "$limit_rc" ]; } && echo "$reason" | grep -q 'hit the memory limit' ;;
	full)
		if echo "$res" | grep -q '^contained: writing .* ENOSPC$'; then
			[ "$rc" = "$blocked_rc" ]
		else
			{ [ -z "$limit_rc" ] || [ "$rc" = "$limit_rc" ]; } && echo "$reason" | grep -q 'hit the memory limit'
		fi
		;;
	timeout) [ "$rc" = "$timeout_rc" ] && echo "$reason" | grep -q 'timed out after' ;;
	signal:*)
		sig=${expect#signal:}
		if [ "$5" = enclave ]; then
			[ "$rc" = 1 ] && echo "$reason" | grep -q "killed by signal $sig "
		else
			[ "$rc" = $((128 + sig)) ]
		fi
		;;
	*) OBS="unknown expectation '$expect'"; return 1 ;;
	esac
}

# expect_text EXPECTED: the expected column in words.
expect_text() {
	case $1 in
	blocked:*) echo "refused (${1#blocked:})" ;;
	pids) echo "pids limit stops it" ;;
	oom) echo "memory limit (OOM kill)" ;;
	full) echo "ENOSPC or memory limit" ;;
	timeout) echo "killed at the timeout" ;;
	signal:31) echo "killed by SIGSYS" ;;
	signal:11) echo "killed by SIGSEGV" ;;
	signal:*) echo "killed by signal ${1#signal:}" ;;
	*) echo "$1" ;;
	esac
}

# probe_record NAME EXPECTED OK [WHY]: one ok/not ok line and a table row.
# PROBE_KIND (default "probe") starts the line.
probe_record() {
	local mark=ok text
	text=$(expect_text "$2")
	if [ "$3" = 0 ]; then ok "${PROBE_KIND:-probe} $1: $text"; else not_ok "${PROBE_KIND:-probe} $1: $text" "${4:-$OBS}"; mark=FAIL; fi
	PROBE_ROWS+=("$1|$text|$OBS|$mark")
}

# probe_table TITLE [FIRST_COLUMN]: the table of every case recorded (lines
# a test runner ignores: none starts with ok/not ok/skip).
probe_table() {
	local row name expect obs mark
	echo "# $1"
	printf '# %-24s | %-28s | %s\n' "${2:-probe}" expected observed
	printf '# %-24s-|-%-28s-|-%s\n' ------------------------ ---------------------------- --------
	for row in "${PROBE_ROWS[@]}"; do
		IFS='|' read -r name expect obs mark <<<"$row"
		printf '# %-24s | %-28s | %s%s\n' "$name" "$expect" "$obs" "$([ "$mark" = ok ] || echo '  <-- FAIL')"
	done
}
