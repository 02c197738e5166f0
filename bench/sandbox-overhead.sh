#!/bin/bash
# bench/sandbox-overhead: build a real C project this project did not write
# (GNU gzip 1.12, Debian's orig tarball, pinned by SHA-256) with
# `./configure && make -j2`, plain and inside `cleanroom sandbox-exec`, in
# one run, alternating, and print the ratio sandboxed / plain. Goal: <= 1.03.
#
# configure forks thousands of short processes and make runs the compiler
# dozens of times, so this exercises what the sandbox costs: the seccomp
# filter on every system call, the pid namespace on every fork, the
# read-only bind mounts on every path lookup, cgroup accounting. The plain
# run uses the same uid (1000), the same fixed environment and the same
# source tree, and a private tmpfs on /tmp as the sandbox has (in a mount
# namespace of its own: gcc's temporary files must not be on disk for one
# and in memory for the other), so only the sandbox differs. The trees live
# under /var/tmp, outside that /tmp. Needs root.
#   CLEANROOM (default build/cleanroom)   CACHE (default /var/cache/cleanroom)
#   BENCH_ROUNDS (default 3): runs of each kind; the best of each is compared
set -euo pipefail
CLEANROOM=$(realpath "${CLEANROOM:-build/cleanroom}")
CACHE=${CACHE:-/var/cache/cleanroom}
ROUNDS=${BENCH_ROUNDS:-3}
PKG=gzip VER=1.12-1 TAR=gzip_1.12.orig.tar.xz
SHA=ce5e03e519f637e1f814011ace35c4f87b33c0bbabeec35baf5fbd3479e91956
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "bench/sandbox-overhead: needs root" >&2; exit 1; }
.ci/deps.sh source "$PKG" "$VER" "$TAR" "$SHA" "$CACHE/src"
work=$(mktemp -d /var/tmp/cleanroom-bench-sandbox.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

BUILD='./configure --quiet >/dev/null && make -j2 >/dev/null 2>&1'
ENV=(env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp TZ=UTC LC_ALL=C SOURCE_DATE_EPOCH=0)

fresh_tree() { # DIR: the pristine source, owned by the build uid
	rm -rf "$1"
	mkdir -p "$1"
	tar -C "$1" --strip-components=1 -xf "$CACHE/src/$TAR"
	chown -R 1000:1000 "$1"
}

# timed NAME CMD...: run CMD, print "<wall ms> <cpu ms>": the CPU time is
# user + system of the whole process tree (every process in it is reaped by
# its parent, the sandbox's pid 1 included, so rusage adds up to us).
timed() {
	local t
	t=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>&1 ) || { echo "build failed: $*" >&2; exit 1; }
	echo "$t" | awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }'
}

plain() {
	fresh_tree "$work/plain"
	(cd "$work/plain" && timed unshare --mount --propagation private sh -c \
		'mount -t tmpfs -o mode=1777,size=1g cleanroom-bench-tmp /tmp && exec "$@"' sh \
		setpriv --reuid 1000 --regid 1000 --clear-groups "${ENV[@]}" sh -c "$BUILD")
	[ -x "$work/plain/gzip" ] || { echo "plain build produced no gzip" >&2; exit 1; }
}

sandboxed() {
	fresh_tree "$work/sb"
	timed "$CLEANROOM" sandbox-exec --root / --work "$work/sb" --timeout 1200 --memory 4G --pids 4096 -- sh -c "$BUILD"
	[ -x "$work/sb/gzip" ] || { echo "sandboxed build produced no gzip" >&2; exit 1; }
}

min() { [ "$1" -eq 0 ] || [ "$2" -lt "$1" ] && echo "$2" || echo "$1"; }

echo "project: $PKG $VER ($TAR), ./configure && make -j2, best of $ROUNDS each, alternating"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
bw_p=0 bw_s=0 bc_p=0 bc_s=0 rw=() rc=()
for i in $(seq "$ROUNDS"); do
	read -r wp cp < <(plain)
	read -r ws cs < <(sandboxed)
	printf 'round %d: plain %6d ms wall %6d ms cpu   sandboxed %6d ms wall %6d ms cpu\n' "$i" "$wp" "$cp" "$ws" "$cs"
	bw_p=$(min "$bw_p" "$wp") bc_p=$(min "$bc_p" "$cp") bw_s=$(min "$bw_s" "$ws") bc_s=$(min "$bc_s" "$cs")
	rw+=("$(echo "$ws / $wp" | bc -l)") rc+=("$(echo "$cs / $cp" | bc -l)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Debug info and so the build id record the build directory; compare the rest.
strip -R .note.gnu.build-id -o "$work/plain.gz" "$work/plain/gzip"
strip -R .note.gnu.build-id -o "$work/sb.gz" "$work/sb/gzip"
same=$(cmp -s "$work/plain.gz" "$work/sb.gz" && echo identical || echo different)
printf 'best: plain %d ms wall / %d ms cpu, sandboxed %d ms wall / %d ms cpu\n' "$bw_p" "$bc_p" "$bw_s" "$bc_s"
printf 'ratio sandboxed / plain, best against best: wall %.3f   cpu %.3f   (goal <= 1.03)\n' \
	"$(echo "$bw_s / $bw_p" | bc -l)" "$(echo "$bc_s / $bc_p" | bc -l)"
printf 'ratio sandboxed / plain, median of the rounds: wall %.3f   cpu %.3f\n' "$(median "${rw[@]}")" "$(median "${rc[@]}")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (on a shared 2-core machine, wall time follows the load; CPU time much less)"
echo "the two gzip binaries, stripped of debug info and build id, are $same"
