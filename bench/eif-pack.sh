#!/bin/bash
# bench/eif-pack: time `cleanroom eif` on a >= 200 MB root filesystem and
# compare with `sha384sum` over the EIF it wrote (the same bytes), in one run.
# Packing must read, CRC, write and hash the big ramdisk twice (PCR0 and PCR2);
# two hashing threads overlap those passes. Goal: ratio <= 1.4.
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

now() { date +%s.%N; }
best_pack=999 best_sha=999
for i in 1 2 3; do
	t0=$(now)
	"$CLEANROOM" eif --kernel "$work/kernel" --init "$INIT" --rootfs "$root" -o "$work/out.eif" >/dev/null
	t1=$(now)
	sha384sum "$work/out.eif" >/dev/null
	t2=$(now)
	best_pack=$(echo "$t1 - $t0" | bc -l | awk -v b="$best_pack" '{print ($1 < b) ? $1 : b}')
	best_sha=$(echo "$t2 - $t1" | bc -l | awk -v b="$best_sha" '{print ($1 < b) ? $1 : b}')
done
eif=$(stat -c %s "$work/out.eif")
printf 'rootfs: %d files, %.1f MB; EIF: %.1f MB\n' "$files" "$(echo "$bytes/1000000" | bc -l)" "$(echo "$eif/1000000" | bc -l)"
printf 'cleanroom eif: %.3f s (%.0f MB/s)   sha384sum of the EIF: %.3f s (%.0f MB/s)   best of 3\n' \
	"$best_pack" "$(echo "$eif/1000000/$best_pack" | bc -l)" "$best_sha" "$(echo "$eif/1000000/$best_sha" | bc -l)"
printf 'ratio pack / sha384sum: %.2f (goal <= 1.4)\n' "$(echo "$best_pack/$best_sha" | bc -l)"
printf 'init stripped size: %d bytes (%.1f KiB)\n' "$(stat -c %s "$INIT")" "$(echo "$(stat -c %s "$INIT")/1024" | bc -l)"
