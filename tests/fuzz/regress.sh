#!/bin/bash
# fuzz/regress (make check): every fuzz harness over the inputs this project
# keeps in tests/fuzz/regress/<target>/ (crashes the fuzzers found, fixed
# since), one case each, and over its generated seed corpus (one case per
# target). No fuzzing: each input runs once, under ASan+UBSan and the
# harness's own property checks (tests/fuzz/fuzz.h).
#
#   regress.sh FUZZ_DIR TARGET...
. "$(dirname "$0")/../cli/lib.sh"
dir=$1
shift
here=$(dirname "$0")
export CR_FUZZ_CA=$dir/seeds/ca
for t in "$@"; do
	bin=$dir/fuzz_$t
	if [ ! -x "$bin" ]; then
		not_ok "fuzz/$t" "$bin is not built"
		continue
	fi
	for f in "$here/regress/$t"/*; do
		[ -f "$f" ] || continue
		if "$bin" "$f" >"$T_TMP/out" 2>&1; then
			ok "fuzz/$t regress $(basename "$f")"
		else
			not_ok "fuzz/$t regress $(basename "$f")" "$(grep -a -m1 -E 'property violated|ERROR: |runtime error' "$T_TMP/out")"
			sed 's/^/    /' "$T_TMP/out" | head -40
		fi
	done
	n=$(ls "$dir/seeds/$t" 2>/dev/null | wc -l)
	if [ "$n" -eq 0 ]; then
		not_ok "fuzz/$t seeds" "no seeds in $dir/seeds/$t"
	elif "$bin" -runs=0 "$dir/seeds/$t" >"$T_TMP/out" 2>&1; then
		ok "fuzz/$t seeds ($n inputs, $(grep -a -o 'cov: [0-9]*' "$T_TMP/out" | tail -1))"
	else
		not_ok "fuzz/$t seeds" "$(grep -a -m1 -E 'property violated|ERROR: |runtime error' "$T_TMP/out")"
		sed 's/^/    /' "$T_TMP/out" | tail -40
	fi
done
t_done
