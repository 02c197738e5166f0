#!/bin/bash
# Run test suites and count their results.
#
#   tests/run.sh NAME=COMMAND ...
#
# Every suite prints one line per case: "ok - <case>", "not ok - <case>: <why>"
# or "skip - <case>: <why>". A suite that exits non-zero without printing any
# "not ok" line (a crash, a sanitizer abort, a missing binary) counts as one
# failure, so nothing fails silently. The last line is "N passed, N failed".
set -u
pass=0 fail=0 skip=0
failed_names=()
matched=0
for spec in "$@"; do
	name=${spec%%=*}
	cmd=${spec#*=}
	# SUITE=PATTERN (make check SUITE=...) runs only the matching suites.
	# shellcheck disable=SC2053
	[ -n "${SUITE:-}" ] && [[ $name != $SUITE ]] && continue
	matched=$((matched + 1))
	echo "=== $name"
	log=$(mktemp)
	bash -c "$cmd" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	s=$(grep -c '^skip ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name: suite exited with status $rc"
		f=1
	fi
	[ "$f" -gt 0 ] && failed_names+=("$name")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	rm -f "$log"
done
if [ -n "${SUITE:-}" ] && [ "$matched" -eq 0 ]; then
	echo "not ok - SUITE=$SUITE: no suite of that name; the suites are:"
	for spec in "$@"; do echo "#   ${spec%%=*}"; done
	fail=$((fail + 1))
fi
echo "==="
[ "$skip" -gt 0 ] && echo "$skip skipped (see the skip lines above)"
[ "${#failed_names[@]}" -gt 0 ] && echo "failing suites: ${failed_names[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
