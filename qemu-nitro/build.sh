#!/bin/bash
# Build upstream QEMU's `nitro-enclave` machine (qemu-system-x86_64 only) from
# Debian trixie's qemu source package, with a cache, as an independent oracle
# for cleanroom's own EIF/NSM/boot code. No Debian 12 binary has the machine.
#
#   build.sh key                  print the cache key
#   build.sh fetch DIR            fetch the pinned source files and meson .deb
#                                 into DIR (checked by SHA-256; a mismatch is
#                                 removed and fails loudly)
#   build.sh tree SRCDIR DIR      build from scratch in DIR from the files in SRCDIR
#   build.sh install OUT CACHE    make OUT/qemu-system-x86_64, building into
#                                 CACHE/qemu-nitro/<key>/ only if that is missing
#
# Fetching uses a private apt configuration in a temporary directory (its own
# sources list, lists and cache): the machine's sources lists are not changed,
# and the one binary entry (bookworm-backports, for meson >= 1.5 which QEMU 10
# needs) is only ever used to download that one .deb, which is unpacked into
# the build directory, never installed. The archive URI is the machine's own.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

# ---- pins. Trixie moves on: when the mirror no longer has this version,
# `fetch` fails and prints what it has now; update the pins from that.
QEMU_VER=1:10.0.13+ds-0+deb13u1
QEMU_FILES="
qemu_10.0.13+ds-0+deb13u1.dsc a426c892e5369058c3423816c8625bc8010bb5a58ece57261f62b64ee4d765ad
qemu_10.0.13+ds.orig.tar.xz 6a0888e806c2ffc0c5f0733e974f9aea55491950d3c47c98669c8b236dde59ae
qemu_10.0.13+ds-0+deb13u1.debian.tar.xz da73c092f5684c551b0334d675eb16a3dec91e1edea94759cfb1102fa4a0364e
"
QEMU_DSC=qemu_10.0.13+ds-0+deb13u1.dsc
MESON_VER=1.7.0-1~bpo12+1
MESON_DEB=meson_1.7.0-1~bpo12+1_all.deb
MESON_SHA=4b86d2f2cb4431d03826fa4b2c3a89508edeb8140509e7e4b285285ec3175bbe

# Everything not named here is off, so what gets built does not depend on
# which optional -dev packages happen to be installed. nitro-enclave needs
# libcbor and gnutls (EIF, virtio-nsm), fdt (microvm) and vhost-user (vsock).
# The devices too: only the nitro-enclave machine and what it selects
# (microvm, its serial port and interrupt controllers, virtio-mmio,
# vhost-user-vsock, virtio-nsm), from a devices file of one line written
# into the source tree (NITRO_DEVICES below): 1001 files to compile instead
# of 1317 with the PC machines' devices (measured on QEMU 10.0.13), about a
# quarter of the build on a fresh machine.
CONFIGURE_FLAGS=(
	--target-list=x86_64-softmmu
	--without-default-features
	--without-default-devices --with-devices-x86_64=nitro
	--enable-tcg --enable-kvm --enable-vhost-user
	--enable-libcbor --enable-gnutls --enable-fdt=system
	--disable-docs --disable-werror --disable-download --disable-install-blobs
	--disable-tools --disable-guest-agent
	--firmwarepath=/usr/share/qemu:/usr/share/seabios
)
# configs/devices/x86_64-softmmu/nitro.mak: the one board; Kconfig selects
# the rest.
NITRO_DEVICES='CONFIG_NITRO_ENCLAVE=y'
# The Debian packages the build links against (versions are in the key).
BUILD_PKGS="libcbor-dev libgnutls28-dev libglib2.0-dev libfdt-dev zlib1g-dev"
KEEP_ENTRIES=2

die() { echo "qemu-nitro: $*" >&2; exit 1; }

# URI of the machine's Debian archive entry: .ci/deps.sh is the one reader.
debian_uri() { "$HERE/../.ci/deps.sh" uri || die "cannot find this machine's Debian archive URI in /etc/apt"; }

# "name sha256" lines of every pinned file.
pinned() { printf '%s\n' "$QEMU_FILES" | sed '/^$/d'; echo "$MESON_DEB $MESON_SHA"; }

have_all() { # have_all DIR: every pinned file is in DIR with its checksum
	local f s
	while read -r f s; do
		[ -f "$1/$f" ] && echo "$s  $1/$f" | sha256sum -c --status || return 1
	done < <(pinned)
}

cmd_fetch() {
	local dir=$1 tmp uri f s got bad=0
	mkdir -p "$dir"
	have_all "$dir" && return 0
	uri=$(debian_uri)
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/dl" "$tmp/empty"
	chmod 755 "$tmp" "$tmp/dl"
	cat >"$tmp/sources.list" <<-EOF
	deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main
	deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm-backports main
	EOF
	local apt=(-q -o Dir::Etc::sourcelist="$tmp/sources.list" -o Dir::Etc::sourceparts=-
		-o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache"
		-o Dir::Etc::preferences=/dev/null -o Dir::Etc::preferencesparts="$tmp/empty"
		-o APT::Sandbox::User=root)
	echo "  QEMU    fetching qemu $QEMU_VER (trixie source) and meson $MESON_VER (bookworm-backports)"
	apt-get "${apt[@]}" update >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log" >&2; die "apt-get update (private configuration) failed"; }
	(cd "$tmp/dl" && apt-get "${apt[@]}" source --download-only "qemu=$QEMU_VER" &&
		apt-get "${apt[@]}" download "meson=$MESON_VER") >>"$tmp/apt.log" 2>&1 || true
	while read -r f s; do
		if [ ! -f "$tmp/dl/$f" ]; then
			echo "qemu-nitro: could not download $f" >&2; bad=1; continue
		fi
		got=$(sha256sum <"$tmp/dl/$f" | cut -d' ' -f1)
		if [ "$got" != "$s" ]; then
			echo "qemu-nitro: SHA-256 MISMATCH for $f: expected $s, got $got — refusing to build from it" >&2
			bad=1
		fi
	done < <(pinned)
	if [ $bad = 1 ]; then
		tail -n 20 "$tmp/apt.log" >&2
		echo "qemu-nitro: the mirror now offers qemu $(apt-cache "${apt[@]}" showsrc qemu 2>/dev/null |
			awk '/^Version:/ { print $2 }' | tr '\n' ' ')and meson $(apt-cache "${apt[@]}" policy meson 2>/dev/null |
			awk '/Candidate:/ { print $2 }'); update the pins in $0 if intended" >&2
		die "fetch failed; nothing was kept"
	fi
	while read -r f s; do mv "$tmp/dl/$f" "$dir/$f"; done < <(pinned)
	echo "  QEMU    fetched into $dir (sha256 ok)"
}

cache_key() {
	{
		pinned
		echo "cc $(gcc --version | head -n1)"
		echo "python $(/usr/bin/python3 --version 2>&1)"
		local p
		for p in $BUILD_PKGS; do
			echo "pkg $p $(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo missing)"
		done
		echo "configure ${CONFIGURE_FLAGS[*]}"
		echo "devices $NITRO_DEVICES"
		# The build steps as bash sees them (comments dropped): editing the
		# rest of this script (fetching, caching, pruning, comments) does not
		# force a rebuild of several minutes.
		echo "tree $(declare -f cmd_tree | sha256sum | cut -d' ' -f1)"
	} | sha256sum | cut -c1-16
}

cmd_tree() { # cmd_tree SRCDIR DIR
	local src=$1 dir=$2 t0 t1 p
	t0=$(date +%s)
	for p in $BUILD_PKGS; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || die "$p is not installed (make qemu-nitro installs it)"
	done
	have_all "$src" || die "pinned files missing or changed in $src (run: $0 fetch $src)"
	rm -rf "$dir"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	echo "  QEMU    unpacking $QEMU_DSC (Debian patches applied)"
	# The .dsc is pinned by SHA-256; gpgv's "No public key" about its
	# signature goes to the log with the rest.
	dpkg-source -q --no-copy -x "$src/$QEMU_DSC" "$dir/src" >"$dir/unpack.log" 2>&1 \
		|| { cat "$dir/unpack.log" >&2; die "dpkg-source -x $QEMU_DSC failed"; }
	dpkg-deb -x "$src/$MESON_DEB" "$dir/meson"
	# QEMU 10 needs meson >= 1.5 and its venv takes meson from the system
	# site packages: the unpacked backport comes first through PYTHONPATH.
	local env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/ LC_ALL=C TZ=UTC
		PYTHONPATH="$dir/meson/usr/lib/python3/dist-packages")
	printf '%s\n' "$NITRO_DEVICES" >"$dir/src/configs/devices/x86_64-softmmu/nitro.mak"
	mkdir -p "$dir/src/build"
	echo "  QEMU    configure ${CONFIGURE_FLAGS[*]}"
	(cd "$dir/src/build" && "${env[@]}" ../configure --python=/usr/bin/python3 "${CONFIGURE_FLAGS[@]}") \
		>"$dir/configure.log" 2>&1 || { tail -n 40 "$dir/configure.log" >&2; die "configure failed (log: $dir/configure.log)"; }
	grep -q '^CONFIG_NITRO_ENCLAVE=y' "$dir/src/build/x86_64-softmmu-config-devices.mak" \
		|| die "configure did not enable CONFIG_NITRO_ENCLAVE (see $dir/configure.log)"
	echo "  QEMU    building qemu-system-x86_64 (several minutes)"
	"${env[@]}" ninja -C "$dir/src/build" -j"$(nproc)" qemu-system-x86_64 >"$dir/ninja.log" 2>&1 \
		|| { tail -n 40 "$dir/ninja.log" >&2; die "build failed (log: $dir/ninja.log)"; }
	strip -o "$dir/qemu-system-x86_64" "$dir/src/build/qemu-system-x86_64"
	"$dir/qemu-system-x86_64" -machine help | grep -q '^nitro-enclave ' \
		|| die "the built qemu-system-x86_64 has no nitro-enclave machine"
	"$dir/qemu-system-x86_64" --version | head -n1 >"$dir/version"
	rm -rf "$dir/src" "$dir/meson"
	t1=$(date +%s)
	echo "  QEMU    done in $((t1 - t0)) s: $(cat "$dir/version"), $(stat -c %s "$dir/qemu-system-x86_64") bytes"
}

# Keep the newest KEEP_ENTRIES finished entries; drop the rest and any
# unfinished ones nobody is building (the lock tells).
prune_cache() { # prune_cache DIR CURRENT_KEY
	local d n=0
	for d in $(ls -1dt "$1"/*/ 2>/dev/null); do
		d=${d%/}
		[ "$(basename "$d")" = "$2" ] && continue
		if [ -f "$d/.done" ] && [ $((n += 1)) -lt "$KEEP_ENTRIES" ]; then continue; fi
		# Locked: being built or pruned by another run; leave it to that one.
		if ( flock -n 9 || exit 1; rm -rf "$d" "$d.log" ) 9>"$d.lock"; then rm -f "$d.lock"; fi
	done
	return 0
}

cmd_install() {
	local out=$1 cache=$2 key entry
	key=$(cache_key)
	mkdir -p "$cache/qemu-nitro" "$out"
	entry=$cache/qemu-nitro/$key
	# One build per key even when several make runs ask at once.
	exec 9>"$entry.lock"
	flock 9
	if [ -f "$entry/.done" ]; then
		echo "  QEMU    cached: $entry ($(cat "$entry/version"))"
	else
		cmd_fetch "$cache/src"
		cmd_tree "$cache/src" "$entry" 2>&1 | tee "$entry.log" || die "build failed (log: $entry.log)"
		touch "$entry/.done"
	fi
	cp "$entry/qemu-system-x86_64" "$out/qemu-system-x86_64.tmp"
	mv "$out/qemu-system-x86_64.tmp" "$out/qemu-system-x86_64"
	exec 9>&-
	prune_cache "$cache/qemu-nitro" "$key"
}

main() {
	case "${1:-}" in
	key) cache_key ;;
	fetch) [ $# -eq 2 ] || die "usage: build.sh fetch DIR"; cmd_fetch "$2" ;;
	tree) [ $# -eq 3 ] || die "usage: build.sh tree SRCDIR DIR"; cmd_tree "$2" "$3" ;;
	install) [ $# -eq 3 ] || die "usage: build.sh install OUT CACHE"; cmd_install "$2" "$3" ;;
	*) die "usage: build.sh key | fetch DIR | tree SRCDIR DIR | install OUT CACHE" ;;
	esac
}
# Called on the last line, so bash has read the whole file before running.
main "$@"; exit
