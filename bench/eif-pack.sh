#!/bin/bash
# bench/eif-pack: time `cleanroom eif` on a >= 200 MB root filesystem and
# compare with `sha384sum` over the EIF it wrote (the same bytes), in one run,
# best of 3 each, alternating. Packing must read the tree, CRC and write the
# image and hash the big ramdisk twice (PCR0 and PCR2): a reading thread,
# two hashing threads and a writing thread overlap through a ring of 32 x
# 1 MiB chunks, the hashes with libcrypto's SHA-384 (bench-sha384 shows
# why); whole chunks go to the disk with O_DIRECT, flushed every 128 MiB.
# The pack's time includes making the image durable (its final fsync), the
# hash's does not. sha384sum and openssl hash the image from the page cache
# (it is read once, untimed, first). Goal: ratio <= 1.0.
# The previous output is removed before each pack, outside the timing (an
# overwrite would time the freeing of the old file's blocks too).
#   CLEANROOM (default build/cleanroom), INIT (default build/init)
#   BENCH_ROOTFS: a tree to pack instead of the default copy of /usr/lib/gcc + /usr/bin
set -euo pipefail
CLEANROOM=${CLEANROOM:-build/cleanroom}
INIT=${INIT:-build/init}
work=$(mktemp -d /tmp/cleanroom-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ -n "${BENCH_ROOTFS:-}" ]; then
	root=$BENCH_ROOTFS
else
	root=$work/rootfs
	mkdir -p "$root/usr/lib"
	cp -a /usr/bin "$root/usr/bin"
	cp -a /usr/lib/gcc "$root/usr/lib/gcc"
	# Sockets, FIFOs or devices cannot be packed; a copy of /usr has none,
	# but be sure.
	find "$root" \( -type s -o -type p -o -type b -o -type c \) -delete
fi
bytes=$(du -sb "$root" | cut -f1)
files=$(find "$root" | wc -l)
head -c 8000000 /dev/urandom >"$work/kernel"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# timed OUT CMD...: run CMD (stdout dropped, stderr to OUT.err) and write
# "wall user sys" seconds to OUT.
timed() {
	local out=$1
	shift
	local TIMEFORMAT='%R %U %S'
	{ time "$@" >/dev/null 2>"$out.err"; } 2>"$out"
}
# best NAME FILE: keep FILE as NAME's best when its wall time is lower.
best() {
	if [ ! -f "$work/best-$1" ] || awk -v a="$(cut -d' ' -f1 "$2")" -v b="$(cut -d' ' -f1 "$work/best-$1")" 'BEGIN { exit !(a < b) }'; then
		cp "$2" "$work/best-$1"
		[ ! -f "$2.err" ] || cp "$2.err" "$work/best-$1.err"
	fi
}
for i in 1 2 3; do
	rm -f "$work/out.eif"
	timed "$work/t" "$CLEANROOM" eif --timings --kernel "$work/kernel" --init "$INIT" --rootfs "$root" -o "$work/out.eif"
	best pack "$work/t"
	# The pack wrote around the page cache (O_DIRECT): read the image once
	# untimed, so that sha384sum hashes from memory, not from the disk.
	cat "$work/out.eif" >/dev/null
	timed "$work/t" sha384sum "$work/out.eif"
	best sha "$work/t"
	timed "$work/t" openssl dgst -sha384 "$work/out.eif"
	best ossl "$work/t"
done
eif=$(stat -c %s "$work/out.eif")
read -r pw pu ps <"$work/best-pack"
read -r sw su ss <"$work/best-sha"
read -r ow _ _ <"$work/best-ossl"
mb=$(echo "$eif/1000000" | bc -l)
printf 'machine: %d CPUs, load average %s before, %s after (other work shares the CPUs)\n' \
	"$(nproc)" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'rootfs: %d files, %.1f MB; EIF: %.1f MB\n' "$files" "$(echo "$bytes/1000000" | bc -l)" "$mb"
printf 'cleanroom eif:           %.3f s (%.0f MB/s), CPU %.3f s (user %.3f, sys %.3f)\n' \
	"$pw" "$(echo "$mb/$pw" | bc -l)" "$(echo "$pu+$ps" | bc -l)" "$pu" "$ps"
printf 'sha384sum of the EIF:    %.3f s (%.0f MB/s), CPU %.3f s\n' "$sw" "$(echo "$mb/$sw" | bc -l)" "$(echo "$su+$ss" | bc -l)"
printf 'openssl dgst -sha384:    %.3f s (%.0f MB/s)   (best of 3 each, one run)\n' "$ow" "$(echo "$mb/$ow" | bc -l)"
echo "where the best pack's time went (stages overlap):"
sed 's/^timings: /  /; s/; /\n  /g' "$work/best-pack.err"
printf 'CPU ratio pack / sha384sum: %.2f (two SHA-384 passes + I/O against one pass)\n' \
	"$(echo "($pu+$ps)/($su+$ss)" | bc -l)"
printf 'ratio pack / sha384sum: %.2f (goal <= 1.0)\n' "$(echo "$pw/$sw" | bc -l)"
printf 'init stripped size: %d bytes (%.1f KiB)\n' "$(stat -c %s "$INIT")" "$(echo "$(stat -c %s "$INIT")/1024" | bc -l)"
