#!/bin/bash
# make demo-go / make demo-rust: a real project built offline in a local
# enclave with the Go or Rust build environment, its dependencies vendored
# from Debian's packaged sources (docs/toolchains.md).
#
#   1. the sources (jp 0.2.1 or pulldown-cmark 0.9.2, from Debian) and the --deps
#      directory (rootfs/vendor.py, the .debs pinned by SHA-256);
#   2. the agent image from rootfs-go / rootfs-rust, with the manifest's tree
#      digest and the image's PCRs (rootfs/agent-image.sh);
#   3. `cleanroom build --local` with the reproducible recipe, twice: the
#      report verified, the two artifacts compared byte for byte;
#   4. the program, run here.
#   demo/toolchain-demo.sh go|rust      B: build directory (default build)
#   CACHE (default /var/cache/cleanroom); JP_TARBALL for go
set -euo pipefail
LANG_=${1:?usage: toolchain-demo.sh go|rust}
case "$LANG_" in go) project=jp ;; rust) project=pulldown-cmark ;; *) echo "toolchain-demo.sh: go or rust, not $LANG_" >&2; exit 2 ;; esac
B=${B:-build}
CACHE=${CACHE:-/var/cache/cleanroom}
CLEANROOM=$B/cleanroom
work=$B/demo-$LANG_
step() { printf '\n== %s\n' "$*"; }
. tests/toolchains/projects.sh

rm -rf "$work"
mkdir -p "$work/nsm-ca"
step "the sources and their vendored dependencies ($work/src, $work/deps)"
project_sources "$project" "$work" "$CACHE" "${JP_TARBALL:-}"
project_deps "$work/deps" "$CACHE"
ls "$work/src"
sed -n '1,12p' "$work/deps/$([ "$LANG_" = go ] && echo vendor/modules.txt || echo .cargo/config.toml)"

step "the agent image: rootfs-$LANG_, its tree digest and the image's PCRs"
rootfs/agent-image.sh "$CLEANROOM" "$B/kernel" "$B/init" "$B/rootfs-$LANG_" "$work/agent.eif"
mem=$(stat -c %s "$work/agent.eif" | awk '{ printf "%d", $1 * 3 / 1048576 + 1024 }')

for n in 1 2; do
	step "cleanroom build --local, build $n: offline, --deps $work/deps, under QEMU (TCG)"
	t0=$(date +%s.%N)
	"$CLEANROOM" build --local "$work/agent.eif" --enclave-memory "$mem" --nsm-ca "$work/nsm-ca" \
		--deps "$work/deps" --out "$work/out$n" --output "$BIN" "$work/src" -- sh -c "$CMD" | tee "$work/build$n.txt"
	# The compile's own wall time, as the agent measured it ("result  ok: ... (N s)").
	compile=$(sed -n 's/^result .*(\([0-9.]*\) s)$/\1/p' "$work/build$n.txt")
	awk -v n="$n" -v t0="$t0" -v t1="$(date +%s.%N)" -v c="${compile:-0}" 'BEGIN {
		printf "build %s: %.1f s wall: compile %.1f s, outside the compiler (boot, transfer, report) %.1f s\n", n, t1 - t0, c, t1 - t0 - c }'
done

step "cleanroom verify: the report, the artifact, the image and the sources"
t0=$(date +%s.%N)
"$CLEANROOM" verify "$work/out1/cleanroom-bundle.json" "$work/out1/$BIN" --eif "$work/agent.eif" \
	--source "$work/src" --root "$work/nsm-ca/root.pem"
awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "verify: %.2f s (outside the compiler too)\n", t1 - t0 }'

step "two builds, the same bytes"
sha256sum "$work/out1/$BIN" "$work/out2/$BIN"
cmp "$work/out1/$BIN" "$work/out2/$BIN" && echo "identical"

step "the program, run here"
case "$LANG_" in
go) echo '{"project": {"name": "cleanroom", "langs": ["c", "rust", "go"]}}' | "$work/out1/jp" 'project.langs[-1]' ;;
rust) printf '# cleanroom\n\nBuilt *offline*, from `--deps`.\n' | "$work/out1/pulldown-cmark" ;;
esac
