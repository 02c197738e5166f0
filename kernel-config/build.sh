#!/bin/bash
# Build the enclave kernel and the guest NSM shim, reproducibly, with a cache.
#
#   build.sh key                  print the cache key (SHA-256 of every input)
#   build.sh tree DIR             build from scratch in DIR (DIR/linux is the
#                                 kernel tree; DIR/{bzImage,config,nsm.ko} the
#                                 results). Used by `install` and to test that
#                                 two builds in different places give the same bytes.
#   build.sh install OUT CACHE    make OUT/{bzImage,config,nsm.ko} and the link
#                                 OUT/build -> the prepared kernel tree, building
#                                 into CACHE/kernel/<key>/ only if that is missing.
#
# KERNEL_ARCH=aarch64 builds the arm64 kernel instead (Image instead of
# bzImage; needs the aarch64-linux-gnu- cross compiler). KERNEL_FLAVOUR=aws
# applies kernel-config/aws-ARCH.config after ARCH.config: AWS's cgroup v1
# controllers on the same base (see that file).
#
# Inputs (all in the key): the linux-source tarball, the compiler and linker
# versions, the config fragment, the shim sources and this script. Outputs
# depend on nothing else: the build time, user and host are fixed, and no
# absolute path reaches the binaries.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SRC_TAR=${LINUX_SOURCE_TAR:-/usr/src/linux-source-6.12.tar.xz}
SRC_PKG=linux-source-6.12
ARCH=${KERNEL_ARCH:-x86_64}
case "$ARCH" in
x86_64)  KARCH=x86   CROSS=""                  IMAGE=bzImage ;;
aarch64) KARCH=arm64 CROSS=aarch64-linux-gnu-  IMAGE=Image ;;
*) echo "kernel: KERNEL_ARCH must be x86_64 or aarch64, not $ARCH" >&2; exit 2 ;;
esac
FLAVOUR=${KERNEL_FLAVOUR:-enclave}
case "$FLAVOUR" in
enclave) FRAGMENTS="$ARCH.config" ;;
aws)     FRAGMENTS="$ARCH.config aws-$ARCH.config" ;;
*) echo "kernel: KERNEL_FLAVOUR must be enclave or aws, not $FLAVOUR" >&2; exit 2 ;;
esac
KMOD_DIR=$ROOT/kernel-config/nsm-shim
KEEP_ENTRIES=4          # cache entries kept; older ones are pruned

die() { echo "kernel: $*" >&2; exit 1; }

# The shim's sources (run in ROOT), and every file that goes into the build,
# relative to ROOT, in a fixed order.
kmod_files() { find kernel-config/nsm-shim -maxdepth 1 -type f \( -name '*.[ch]' -o -name Kbuild \) | LC_ALL=C sort; }
input_files() {
	(cd "$ROOT" && printf 'kernel-config/%s\n' build.sh $FRAGMENTS && kmod_files)
}

cache_key() {
	[ -f "$SRC_TAR" ] || die "$SRC_TAR is missing (install $SRC_PKG)"
	{
		echo "package $SRC_PKG $(dpkg-query -W -f='${Version}' "$SRC_PKG" 2>/dev/null || echo unknown)"
		echo "tarball $(sha256sum <"$SRC_TAR" | cut -d' ' -f1)"
		echo "cc $("${CROSS}gcc" --version | head -n1)"
		echo "ld $("${CROSS}ld" --version | head -n1)"
		echo "arch $ARCH"
		[ "$FLAVOUR" = enclave ] || echo "flavour $FLAVOUR"
		input_files | while read -r f; do
			echo "file $f $(sha256sum <"$ROOT/$f" | cut -d' ' -f1)"
		done
	} | sha256sum | cut -c1-16
}

# The environment every kernel make runs in: nothing of this machine or moment.
kmake() {
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/ LC_ALL=C TZ=UTC \
		KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 1970' \
		KBUILD_BUILD_USER=cleanroom KBUILD_BUILD_HOST=cleanroom KBUILD_BUILD_VERSION=1 \
		make -s -j"$(nproc)" ARCH=$KARCH ${CROSS:+CROSS_COMPILE=$CROSS} "$@"
}

# Fail if any line of the fragment did not survive olddefconfig.
check_config() { # check_config FRAGMENT DOTCONFIG
	local bad=0 line name val
	while IFS= read -r line; do
		case "$line" in ''|'#'*) continue ;; esac
		name=${line%%=*} val=${line#*=}
		if [ "$val" = n ]; then
			grep -q "^$name=" "$2" && { echo "kernel: $name=n did not take: $(grep "^$name=" "$2")" >&2; bad=1; }
		elif ! grep -qxF "$line" "$2"; then
			echo "kernel: $line did not take (got: $(grep -E "^(# )?$name[= ]" "$2" || echo absent))" >&2
			bad=1
		fi
	done <"$1"
	return $bad
}

cmd_tree() {
	local dir=$1 t0 t1
	t0=$(date +%s)
	rm -rf "$dir"
	mkdir -p "$dir/linux" "$dir/kmod"
	dir=$(cd "$dir" && pwd)
	# Take the inputs now, not minutes later: the work tree may change while
	# the kernel compiles, and the cache key was computed from these bytes.
	local f
	for f in $FRAGMENTS; do cat "$HERE/$f"; done >"$dir/fragment.config"
	(cd "$ROOT" && kmod_files) | while read -r f; do cp "$ROOT/$f" "$dir/kmod/"; done
	echo "  KERNEL  unpacking $SRC_TAR"
	tar -xf "$SRC_TAR" -C "$dir/linux" --strip-components=1
	echo "  KERNEL  tinyconfig + kernel-config/{${FRAGMENTS// /,}}"
	kmake -C "$dir/linux" tinyconfig >/dev/null
	(cd "$dir/linux" && env -i PATH=/usr/bin:/bin ARCH=$KARCH ${CROSS:+CROSS_COMPILE=$CROSS} \
		scripts/kconfig/merge_config.sh -m .config "$dir/fragment.config" >/dev/null)
	kmake -C "$dir/linux" olddefconfig >/dev/null
	check_config "$dir/fragment.config" "$dir/linux/.config" || die "config fragment not applied (see above)"
	echo "  KERNEL  building $IMAGE and modules in $dir/linux (several minutes)"
	# `modules` also writes Module.symvers, which out-of-tree modules link against.
	kmake -C "$dir/linux" "$IMAGE" modules
	echo "  KERNEL  building nsm.ko (guest NSM shim)"
	kmake -C "$dir/linux" M="$dir/kmod" modules
	cp "$dir/linux/arch/$KARCH/boot/$IMAGE" "$dir/$IMAGE"
	cp "$dir/linux/.config" "$dir/config"
	cp "$dir/kmod/nsm.ko" "$dir/nsm.ko"
	t1=$(date +%s)
	echo "  KERNEL  done in $((t1 - t0)) s: $IMAGE $(stat -c %s "$dir/$IMAGE") bytes, nsm.ko $(stat -c %s "$dir/nsm.ko") bytes"
}

# Keep the newest KEEP_ENTRIES finished entries; drop the rest and any
# unfinished ones nobody is building (the lock tells).
prune_cache() { # prune_cache KERNEL_CACHE_DIR CURRENT_KEY
	local d n=0
	for d in $(ls -1dt "$1"/*/ 2>/dev/null); do
		d=${d%/}
		[ "$(basename "$d")" = "$2" ] && continue
		if [ -f "$d/.done" ] && [ $((n += 1)) -lt "$KEEP_ENTRIES" ]; then continue; fi
		( flock -n 9 || exit 1; rm -rf "$d" "$d.log" ) 9>"$d.lock" && rm -f "$d.lock"
	done
}

cmd_install() {
	local out=$1 cache=$2 key entry
	key=$(cache_key)
	mkdir -p "$cache/kernel" "$out"
	entry=$cache/kernel/$key
	# One build per key even when several make runs ask at once.
	exec 9>"$entry.lock"
	flock 9
	if [ -f "$entry/.done" ]; then
		echo "  KERNEL  cached: $entry"
	else
		cmd_tree "$entry" 2>&1 | tee "$cache/kernel/$key.log" || die "build failed (log: $cache/kernel/$key.log)"
		touch "$entry/.done"
	fi
	for f in "$IMAGE" config nsm.ko; do
		cp "$entry/$f" "$out/$f.tmp" && mv "$out/$f.tmp" "$out/$f"
	done
	ln -sfn "$entry/linux" "$out/build"
	exec 9>&-
	prune_cache "$cache/kernel" "$key"
}

main() {
	case "${1:-}" in
	key) cache_key ;;
	tree) [ $# -eq 2 ] || die "usage: build.sh tree DIR"; cmd_tree "$2" ;;
	install) [ $# -eq 3 ] || die "usage: build.sh install OUT CACHE"; cmd_install "$2" "$3" ;;
	*) die "usage: build.sh key | tree DIR | install OUT CACHE" ;;
	esac
}
# Called on the last line, so bash has read the whole file before running:
# editing this script during a build cannot derail that build.
main "$@"; exit
