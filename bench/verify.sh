#!/bin/bash
# bench/verify: our in-process verification of real attestation documents
# beside a peer's on the same documents, at the same times, with the same
# expected PCRs, in one run. The peer is Evervault's validator compiled to
# WebAssembly, installed by `npm ci` from bench/peer-verifier/package-lock.json
# (no peer verifier with a native build that accepts these documents is
# installable from the registries; see docs/measurements.md).
#   verify.sh VERIFY_BIN PEER_DIR DOC... (SECONDS per document: BENCH_SECONDS, default 1)
set -euo pipefail
bin=$1 peer_dir=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
secs=${BENCH_SECONDS:-1}
work=$(mktemp -d /tmp/cleanroom-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

printf 'machine: %d CPUs, load average %s (other work shares the CPUs)\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" --seconds "$secs" --list "$work/list" "$@" | tee "$work/ours"

rm -rf "$peer_dir" && mkdir -p "$peer_dir"
cp "$here/peer-verifier/package.json" "$here/peer-verifier/package-lock.json" "$peer_dir/"
if ! command -v node >/dev/null ||
	! (cd "$peer_dir" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline) >"$work/npm.log" 2>&1; then
	echo "peer: not installed (node or npm ci failed: $(tail -1 "$work/npm.log" 2>/dev/null))"
	exit 0
fi
node "$here/verify_peer.mjs" "$peer_dir" "$work/list" "$secs" | tee "$work/peer"

# Per document "name mean best" for both, then the ratios over the documents both accept.
doc_means() {
	awk '/^  / && / ms mean/ { for (i = 1; i <= NF; i++) { if ($i == "ms" && $(i + 1) == "mean,") m = $(i - 1)
		if ($i == "ms" && $(i + 1) == "best") b = $(i - 1) } print $1, m, b }' "$1"
}
doc_means "$work/ours" | sort >"$work/o"
doc_means "$work/peer" | sort >"$work/p"
join "$work/o" "$work/p" | awk '{ o += $2; ob += $3; p += $4; pb += $5; n++ }
	END { if (n) printf "on the %d documents both accept, per document: means ours %.2f ms, peer %.2f ms (peer / ours %.2f); bests ours %.2f ms, peer %.2f ms (peer / ours %.2f)\n", n, o / n, p / n, p / o, ob / n, pb / n, pb / ob }'
