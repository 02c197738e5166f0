# Helpers for shell test suites. Each check prints "ok - NAME" or
# "not ok - NAME: why"; tests/run.sh counts them.
#   CLEANROOM   the tool under test (the ASan build by default)
set -u
: "${CLEANROOM:=build/asan/cleanroom}"
# Absolute, so tests may cd.
[ -e "$CLEANROOM" ] && CLEANROOM=$(realpath "$CLEANROOM")
[ -n "${INIT:-}" ] && [ -e "$INIT" ] && INIT=$(realpath "$INIT")
T_FAILS=0
T_TMP=$(mktemp -d /tmp/cleanroom-test.XXXXXX)
trap 'rm -rf "$T_TMP"' EXIT

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1: $2"; T_FAILS=$((T_FAILS + 1)); }
skip() { echo "skip - $1: $2"; }

# check NAME COMMAND...: passes when the command exits 0.
check() {
	local name=$1
	shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$(echo "$out" | tail -3 | tr '\n' ' ')"; fi
}

# expect_fail NAME PATTERN COMMAND...: the command must exit 1 and print one
# stderr line matching the extended regex PATTERN, and nothing on stdout.
expect_fail() {
	local name=$1 pat=$2 out err rc
	shift 2
	out=$("$@" 2>"$T_TMP/stderr")
	rc=$?
	err=$(cat "$T_TMP/stderr")
	if [ "$rc" -ne 1 ]; then
		not_ok "$name" "exit status $rc, want 1 (stderr: $err)"
	elif [ -n "$out" ]; then
		not_ok "$name" "printed on stdout: $(echo "$out" | head -2)"
	elif [ "$(echo "$err" | wc -l)" -ne 1 ]; then
		not_ok "$name" "want exactly one stderr line, got: $err"
	elif ! echo "$err" | grep -Eq -- "$pat"; then
		not_ok "$name" "stderr '$err' does not match /$pat/"
	else
		ok "$name"
	fi
}

# same NAME A B: two strings equal.
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "'$2' != '$3'"; fi
}

t_done() { [ "$T_FAILS" -eq 0 ]; }
