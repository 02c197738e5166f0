#!/bin/bash
# bench/verify-bundle: the demo's bundle verified in process (verify_bundle.c)
# and as a whole `cleanroom verify` process (start-up, dynamic loading,
# reading the files, verifying, printing), in one run. Goals: <= 20 ms in
# process, <= 15 ms per process.
#   verify-bundle.sh VERIFY_BUNDLE_BIN CLEANROOM BUNDLE ROOT.pem ARTIFACT
set -euo pipefail
bin=$1 cleanroom=$2 bundle=$3 root=$4 artifact=$5
printf 'machine: %d CPUs, load average %s (other work shares the CPUs)\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" "$bundle" "$root" "$artifact"
echo
# bash's own clock ($EPOCHREALTIME, read without a subshell): $(date)
# would time a date process's start-up too.
runs=30 total=0 best=999999999999
for _ in $(seq "$runs"); do
	t0=${EPOCHREALTIME/[.,]/}
	"$cleanroom" verify "$bundle" "$artifact" --root "$root" >/dev/null
	t1=${EPOCHREALTIME/[.,]/}
	t=$(((10#$t1 - 10#$t0) * 1000))
	total=$((total + t))
	[ "$t" -lt "$best" ] && best=$t
done
printf 'bench verify-bundle: cleanroom verify as a process: %.2f ms mean, %.2f ms best of %d (goal <= 15 ms)\n' \
	"$(echo "$total / $runs / 1000000" | bc -l)" "$(echo "$best / 1000000" | bc -l)" "$runs"
