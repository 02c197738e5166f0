#!/bin/bash
# make fuzz: run each target for SECONDS, one after the other, at nice 19.
#
#   run.sh FUZZ_DIR SECONDS TARGET...
#
# Corpus: FUZZ_DIR/corpus/<target> (kept between runs) seeded from
# FUZZ_DIR/seeds/<target>; crash inputs: FUZZ_DIR/crashes/<target>/. Prints
# one line per target from libFuzzer's final stats and appends it, dated,
# to FUZZ_DIR/results.txt; the full log is FUZZ_DIR/logs/<target>.log.
# Exit status 1 when any target crashed.
set -u
dir=$1 secs=$2
shift 2
export CR_FUZZ_CA=$dir/seeds/ca
mkdir -p "$dir/logs"
status=0
printf '%-8s %8s %12s %8s %8s %7s %9s %s\n' target seconds executions exec/s cov ft corpus crashes
for t in "$@"; do
	mkdir -p "$dir/corpus/$t" "$dir/crashes/$t"
	log=$dir/logs/$t.log
	before=$(ls "$dir/crashes/$t" | wc -l)
	start=$(date +%s)
	# -close_fd_mask=3: the targets' own output is dropped, libFuzzer's and
	# the sanitizers' reports are kept.
	nice -n 19 "$dir/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 \
		-close_fd_mask=3 -artifact_prefix="$dir/crashes/$t/" "$dir/corpus/$t" "$dir/seeds/$t" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
	crashes=$(($(ls "$dir/crashes/$t" | wc -l) - before))
	line=$(printf '%-8s %8s %12s %8s %8s %7s %9s %s' "$t" "$took" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
		"${corp:-?}" "$crashes")
	if [ "$rc" -ne 0 ]; then
		status=1
		line="$line  (exit $rc: $(grep -m1 -E 'ERROR: |property violated|Assertion' "$log" | cut -c1-160); see $log)"
	fi
	echo "$line"
	echo "$(date -u +%FT%TZ) $line" >>"$dir/results.txt"
done
exit $status
