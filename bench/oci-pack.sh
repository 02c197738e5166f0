#!/bin/bash
# bench/oci-pack: `cleanroom eif --oci` on a ~1 GB image (made with umoci
# from a copy of /usr/bin and /usr/lib/gcc, topped up with incompressible
# files), against packing the same tree with --rootfs and against
# `sha384sum` of the EIF, in one run; plus the peak RSS of each pack
# (/usr/bin/time -v; the goal is < 100 MB for a 1 GB image).
# --oci reads every layer twice (check, then extract) and writes the tree
# once before packing it, so expect roughly dir + decompress x2 + write.
#   CLEANROOM (default build/cleanroom), INIT (default build/init)
#   BENCH_MB: the image's size in MB (default 1024)
set -euo pipefail
CLEANROOM=$(realpath "${CLEANROOM:-build/cleanroom}")
INIT=$(realpath "${INIT:-build/init}")
MB=${BENCH_MB:-1024}
for t in umoci /usr/bin/time bc; do command -v $t >/dev/null || { echo "bench oci-pack: $t is missing" >&2; exit 1; }; done
work=$(mktemp -d /tmp/cleanroom-bench-oci.XXXXXX)
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"

cd "$work"
umoci init --layout img >/dev/null
umoci new --image img:bench >/dev/null
umoci unpack --image img:bench b >/dev/null
R=b/rootfs
mkdir -p $R/usr/lib $R/fill
cp -a /usr/bin $R/usr/bin
cp -a /usr/lib/gcc $R/usr/lib/gcc
find $R \( -type s -o -type p -o -type b -o -type c \) -delete
have=$(du -sbm $R | cut -f1)
i=0
while [ "$have" -lt "$MB" ]; do
	head -c $((64 << 20)) /dev/urandom >$R/fill/f$i
	i=$((i + 1))
	have=$((have + 64))
done
umoci repack --image img:bench b >/dev/null
layer_mb=$(du -sbm img/blobs | cut -f1)
head -c 8000000 /dev/urandom >kernel

now() { date +%s.%N; }
rss() { awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$1"; }
best_oci=999 best_dir=999 best_sha=999
for n in 1 2 3; do
	t0=$(now)
	/usr/bin/time -v -o time-oci.txt "$CLEANROOM" eif --kernel kernel --init "$INIT" --oci img:bench --agent \
		--no-image-info -o oci.eif >/dev/null
	t1=$(now)
	/usr/bin/time -v -o time-dir.txt "$CLEANROOM" eif --kernel kernel --init "$INIT" --rootfs $R -o dir.eif >/dev/null
	t2=$(now)
	sha384sum oci.eif >/dev/null
	t3=$(now)
	best_oci=$(echo "$t1 - $t0" | bc -l | awk -v b="$best_oci" '{print ($1 < b) ? $1 : b}')
	best_dir=$(echo "$t2 - $t1" | bc -l | awk -v b="$best_dir" '{print ($1 < b) ? $1 : b}')
	best_sha=$(echo "$t3 - $t2" | bc -l | awk -v b="$best_sha" '{print ($1 < b) ? $1 : b}')
done
cmp -s oci.eif dir.eif && same=yes || same=NO
eif=$(stat -c %s oci.eif)
printf 'image: %d MB unpacked, %d MB of layout (gzip); EIF %.1f MB; --oci EIF identical to --rootfs: %s\n' \
	"$have" "$layer_mb" "$(echo "$eif/1000000" | bc -l)" "$same"
printf 'eif --oci: %.2f s   eif --rootfs: %.2f s   sha384sum of the EIF: %.2f s   (best of 3)\n' \
	"$best_oci" "$best_dir" "$best_sha"
printf 'ratio --oci / --rootfs: %.2f   --oci / sha384sum: %.2f   --rootfs / sha384sum: %.2f\n' \
	"$(echo "$best_oci/$best_dir" | bc -l)" "$(echo "$best_oci/$best_sha" | bc -l)" "$(echo "$best_dir/$best_sha" | bc -l)"
printf 'peak RSS: --oci %s MB, --rootfs %s MB (goal for --oci: < 100 MB)\n' "$(rss time-oci.txt)" "$(rss time-dir.txt)"
