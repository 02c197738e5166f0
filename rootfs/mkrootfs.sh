#!/bin/bash
# Assemble a build root from Debian packages, deterministically.
#
#   mkrootfs.sh build NAME PACKAGES_FILE OUT_DIR CACHE_DIR
#       resolve the dependency closure of the packages named in PACKAGES_FILE
#       against this machine's apt lists, then make OUT_DIR and OUT_DIR.manifest
#   mkrootfs.sh lock MANIFEST OUT_DIR CACHE_DIR
#       make OUT_DIR from exactly the packages (versions, SHA-256s) of MANIFEST,
#       e.g. to reproduce an image; the .debs come from the cache or the mirror
#   mkrootfs.sh digest DIR
#       print the tree digest of DIR (the 'tree' line of a manifest)
#   mkrootfs.sh listing DIR
#       print the sorted listing the digest is taken over
#   mkrootfs.sh resolve PACKAGES_FILE
#       print the closure's "name version arch sha256" lines (what a manifest's
#       package lines hold), e.g. to pin a project's vendored crates or modules
#   mkrootfs.sh fetch CACHE_DIR < LINES
#       make every .deb of such lines present in CACHE_DIR/debs, SHA-256 checked
#
# How: apt's resolver installs the packages into an empty package database
# (apt-get -s, Depends and Pre-Depends, no Recommends); `apt-get download`
# fetches each .deb into CACHE_DIR/debs (kept, checked against the archive's
# SHA-256 on every use); `dpkg-deb -x` unpacks them in name order. No
# maintainer script runs: what they would make that a build needs is made here
# (the cc/c89/c99 and /lib/cpp alternatives) and busybox's applets are linked.
# Removed: documentation, man and info pages, translations, lintian and bug
# files, anything under var/. Owner root, mtimes SOURCE_DATE_EPOCH (0).
#
# ROOTFS_ARCH=ARCH (a Debian architecture other than this machine's, e.g.
# arm64) makes a tree of that architecture's packages: they are resolved,
# fetched and checked through a private apt configuration in
# CACHE_DIR/apt-ARCH/ (this machine's Debian entries; lists, package cache
# and downloads of its own; the machine's apt state and dpkg architectures
# are left alone), and busybox's applet list is read through qemu-user.
#
# The manifest records the packages (name, version, architecture, .deb
# SHA-256, sorted by name), the hash of this script and the tree digest. When
# neither the packages nor this script changed and the tree still has its
# digest, nothing is downloaded or unpacked again.
set -euo pipefail
export LC_ALL=C
umask 022

die() { echo "mkrootfs: $*" >&2; exit 1; }
BB_RUN=() # how to run the tree's busybox on this machine
SELF=$(realpath "$0")
FORMAT="cleanroom-rootfs-manifest 1"
# What is taken out of the unpacked packages (relative to the root).
PRUNE="usr/share/doc usr/share/man usr/share/info usr/share/locale usr/share/lintian
       usr/share/bug usr/share/doc-base usr/share/bash-completion usr/share/gdb
       usr/share/initramfs-tools var"

# The sorted listing of a tree: type, mode, size and SHA-256 of regular files,
# symlink targets; one line per entry, paths relative to the root. Names with
# a newline or a backslash, and special files, are listed as 'bad'.
listing() {
	(
		cd "$1"
		find . -mindepth 1 \( -name '*
*' -o -name '*\\*' \) -printf 'bad name\n' -prune
		find . -mindepth 1 ! -type f ! -type d ! -type l -printf 'bad %p\n'
		find . -mindepth 1 -type d -printf 'd %m %p\n'
		find . -mindepth 1 -type l -printf 'l %p -> %l\n'
		find . -mindepth 1 -type f -printf '%p\n' | sort >"$tmpl"
		paste -d ' ' <(xargs -r -d '\n' stat -c 'f %a %s' <"$tmpl") \
			<(xargs -r -d '\n' sha256sum <"$tmpl" | cut -c1-64) "$tmpl"
	) | sort
}
digest() {
	local l tmpl
	tmpl=$(mktemp)
	l=$(listing "$1")
	rm -f "$tmpl"
	if echo "$l" | grep -q '^bad '; then die "$1: special files: $(echo "$l" | grep '^bad ' | head -3 | tr '\n' ' ')"; fi
	printf '%s %s %s\n' "$(echo "$l" | sha256sum | cut -c1-64)" "$(echo "$l" | wc -l)" \
		"$(echo "$l" | awk '$1 == "f" { s += $3 } END { print s + 0 }')"
}

# resolve PACKAGES_FILE: "name version arch" of the closure, sorted by name.
resolve() {
	local roots tmp out
	roots=$(sed -e 's/#.*//' "$1" | xargs)
	[ -n "${roots// /}" ] || die "$1: no packages named"
	tmp=$(mktemp -d)
	: >"$tmp/status"
	# shellcheck disable=SC2086
	if ! out=$(apt-get -s -q -o Dir::State::status="$tmp/status" -o Debug::NoLocking=1 \
		-o APT::Install-Recommends=0 -o APT::Install-Suggests=0 install $roots 2>&1); then
		rm -rf "$tmp"
		echo "mkrootfs: apt cannot resolve $roots: $(echo "$out" | grep '^E:' | head -3 | tr '\n' ' ')" >&2
		return 3
	fi
	rm -rf "$tmp"
	# Inst NAME (VERSION ORIGINS [ARCH]) — the origins may hold spaces.
	echo "$out" | sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*\[\([a-z0-9]\+\)\]).*/\1 \2 \3/p' | sort -u
}

# with_sha: "name version arch" lines in, "name version arch sha256" out (the
# archive's SHA-256 of each .deb, from the apt lists), same order.
with_sha() {
	local lines shas
	lines=$(cat)
	[ -n "$lines" ] || return 3 # resolve failed and said why
	# shellcheck disable=SC2046
	shas=$(apt-cache show --no-all-versions $(echo "$lines" | awk '{ print $1 ":" $3 "=" $2 }') 2>&1 |
		awk '/^Package: / { p = $2 } /^Version: / { v = $2 } /^Architecture: / { a = $2 }
		     /^SHA256: / { print p, v, a, $2 }') || true
	echo "$lines" | while read -r n v a; do
		# a here-string, not a pipe: awk stops at the match (SIGPIPE on a long list)
		s=$(awk -v n="$n" -v v="$v" -v a="$a" '$1 == n && $2 == v && $3 == a { print $4; exit }' <<<"$shas")
		[[ "$s" =~ ^[0-9a-f]{64}$ ]] || { echo "mkrootfs: no SHA-256 for $n $v ($a) in the apt lists" >&2; exit 3; }
		echo "$n $v $a $s"
	done
}

# check_line LINE: is it "name version arch sha256"?
check_line() {
	[[ "$1" =~ ^[a-z0-9][a-z0-9+.-]+\ [0-9][A-Za-z0-9.+~:-]*\ [a-z0-9]+\ [0-9a-f]{64}$ ]]
}

deb_name() { # NAME VERSION ARCH -> the file name apt-get download gives it
	echo "$1_${2//:/%3a}_$3.deb"
}

# fetch CACHE "name version arch sha256"...: every .deb present and verified.
fetch() {
	local cache=$1 line name ver arch sha f want=() tmp
	shift
	mkdir -p "$cache"
	for line in "$@"; do
		read -r name ver arch sha <<<"$line"
		f=$cache/$(deb_name "$name" "$ver" "$arch")
		if [ -f "$f" ] && [ "$(sha256sum <"$f" | cut -c1-64)" = "$sha" ]; then continue; fi
		rm -f "$f"
		want+=("$name:$arch=$ver")
	done
	[ ${#want[@]} -eq 0 ] && return 0
	echo "  DEB     downloading ${#want[@]} package(s) into $cache"
	tmp=$(mktemp -d "$cache/.dl.XXXXXX")
	chmod 755 "$tmp"
	chown _apt "$tmp" 2>/dev/null || true # apt's download sandbox user
	if ! (cd "$tmp" && apt-get download -q "${want[@]}") >"$tmp.log" 2>&1; then
		grep -E '^(E|W):' "$tmp.log" | head -5 >&2
		rm -rf "$tmp" "$tmp.log"
		echo "mkrootfs: apt-get download failed" >&2
		return 3
	fi
	rm -f "$tmp.log"
	for line in "$@"; do
		read -r name ver arch sha <<<"$line"
		f=$(deb_name "$name" "$ver" "$arch")
		[ -f "$tmp/$f" ] || continue
		if [ "$(sha256sum <"$tmp/$f" | cut -c1-64)" != "$sha" ]; then
			rm -rf "$tmp"
			die "SHA-256 MISMATCH for $f: the manifest says $sha — refusing it"
		fi
		mv "$tmp/$f" "$cache/$f"
	done
	rm -rf "$tmp"
	for line in "$@"; do
		read -r name ver arch sha <<<"$line"
		[ -f "$cache/$(deb_name "$name" "$ver" "$arch")" ] || die "$name $ver ($arch) was not downloaded"
	done
}

# assemble DIR CACHE "name version arch sha256"...: unpack and normalise.
assemble() {
	local dir=$1 cache=$2 line name ver arch sha bb a p
	shift 2
	mkdir "$dir"
	for line in "$@"; do
		read -r name ver arch sha <<<"$line"
		dpkg-deb -x "$cache/$(deb_name "$name" "$ver" "$arch")" "$dir" || die "cannot unpack $name $ver"
	done
	chmod 755 "$dir"
	for p in $PRUNE; do rm -rf "${dir:?}/$p"; done
	# The alternatives gcc's and cpp's postinst would set up.
	if [ -e "$dir/usr/bin/gcc" ]; then
		ln -s gcc "$dir/usr/bin/cc"
		ln -s c89-gcc "$dir/usr/bin/c89"
		ln -s c99-gcc "$dir/usr/bin/c99"
	fi
	[ -e "$dir/usr/bin/cpp" ] && ln -s ../usr/bin/cpp "$dir/lib/cpp"
	# busybox's applets, where no package put a program of that name.
	bb=$dir/bin/busybox
	if [ -x "$bb" ]; then
		"${BB_RUN[@]}" "$bb" --list-full | sort | while read -r a; do
			case "$a" in bin/busybox | */ | "") continue ;; */*) ;; *) continue ;; esac # not linuxrc
			p=${a##*/}
			[ -e "$dir/$a" ] || [ -L "$dir/$a" ] && continue
			[ -e "$dir/bin/$p" ] || [ -e "$dir/usr/bin/$p" ] || [ -e "$dir/sbin/$p" ] || [ -e "$dir/usr/sbin/$p" ] && continue
			mkdir -p "$dir/${a%/*}"
			# relative, so the link resolves inside the tree wherever it is
			case "$a" in
			bin/* | sbin/*) ln -s ../bin/busybox "$dir/$a" ;;
			usr/bin/* | usr/sbin/*) ln -s ../../bin/busybox "$dir/$a" ;;
			*) die "busybox applet in an unexpected place: $a" ;;
			esac
		done
	fi
	chown -R -h 0:0 "$dir"
	find "$dir" -exec touch -h -d "@${SOURCE_DATE_EPOCH:-0}" {} +
}

# make_root NAME ROOTS OUT CACHE PKGLINES: make OUT (a symlink to the tree in
# CACHE/rootfs/NAME-KEY, KEY from the recipe and the package lines) and
# OUT.manifest, unless up to date. The tree lives in the cache, not in the
# build directory: build directories are searched for make's *.d files, and
# Debian trees are full of directories named *.d; and so every build
# directory and clone on this machine shares one copy.
make_root() {
	local name=$1 roots=$2 out=${3%/} cache=$4 pkgs=$5 recipe head key store tree tmp
	recipe=$(sha256sum <"$SELF" | cut -c1-64)
	head=$(printf 'recipe %s\n' "$recipe"; echo "$pkgs" | sed 's/^/package /')
	key=$(echo "$head" | sha256sum | cut -c1-16)
	mkdir -p "$cache/rootfs" "$(dirname "$out")"
	store=$(realpath "$cache/rootfs")/$name-$key
	exec 9>"$store.lock"
	flock 9
	if [ -f "$store.manifest" ] && [ -d "$store" ] &&
		[ "$(grep -E '^(recipe|package) ' "$store.manifest")" = "$head" ]; then
		tree=$(digest "$store")
		if [ "$(sed -n 's/^tree //p' "$store.manifest")" = "$tree" ]; then
			link_out "$store" "$out"
			echo "  ROOTFS  $out is up to date ($(echo "$pkgs" | wc -l) packages, $store)"
			return 0
		fi
		echo "  ROOTFS  $store differs from its manifest: assembling it again"
	fi
	local lines=()
	mapfile -t lines <<<"$pkgs"
	fetch "$cache/debs" "${lines[@]}" || return
	echo "  ROOTFS  $out: unpacking ${#lines[@]} packages into $store"
	tmp=$store.tmp
	rm -rf "$tmp" "$store.manifest"
	assemble "$tmp" "$cache/debs" "${lines[@]}"
	tree=$(digest "$tmp")
	{
		echo "format $FORMAT"
		echo "name $name"
		echo "roots $roots"
		echo "$head"
		echo "tree $tree"
	} >"$store.manifest.tmp"
	rm -rf "$store"
	mv -T "$tmp" "$store"
	mv "$store.manifest.tmp" "$store.manifest"
	link_out "$store" "$out"
	echo "  ROOTFS  $out: $(echo "$tree" | awk '{ printf "%d entries, %.1f MB", $2, $3 / 1e6 }'), tree ${tree%% *}"
	# Keep the three newest trees of this name (another build directory may
	# still point to an older one; its next `make rootfs-c` makes it again).
	find "$cache/rootfs" -maxdepth 1 -name "$name-*.manifest" -printf '%T@ %p\n' | sort -rn | tail -n +4 |
		while read -r _ m; do rm -rf "${m%.manifest}" "$m" "${m%.manifest}.lock"; done
}

# link_out STORE OUT: OUT -> STORE, OUT.manifest a copy of STORE.manifest.
link_out() {
	if [ "$(readlink "$2" 2>/dev/null)" != "$1" ]; then
		[ -L "$2" ] || rm -rf "$2" # a tree of an older layout
		ln -sfn "$1" "$2.link"
		mv -T "$2.link" "$2"
	fi
	cmp -s "$1.manifest" "$2.manifest" 2>/dev/null || { cp "$1.manifest" "$2.manifest.tmp" && mv "$2.manifest.tmp" "$2.manifest"; }
}

# with_fresh_lists CMD...: run CMD (in a subshell, with set -e); when it
# fails for want of an apt list entry or a .deb (status 3: lists older than
# the mirror, or none yet), run apt-get update once and try again.
with_fresh_lists() {
	local rc=0
	set +e
	(set -e; "$@")
	rc=$?
	set -e
	[ $rc -eq 3 ] || return $rc
	echo "  ROOTFS  apt-get update (the apt lists lack something), then again"
	apt-get update -q >/dev/null || die "apt-get update failed"
	"$@"
}

cmd_build() {
	local pkgs
	pkgs=$(resolve "$pkgfile" | with_sha)
	make_root "$name" "${roots% }" "$out" "$cache" "$pkgs"
}

# foreign_apt CACHE_DIR: point apt (APT_CONFIG) at a private configuration
# for ROOTFS_ARCH; see the header.
foreign_apt() {
	local a=$ROOTFS_ARCH d qa
	[[ "$a" =~ ^[a-z0-9]+$ ]] || die "ROOTFS_ARCH '$a': not a Debian architecture name"
	case "$a" in arm64) qa=aarch64 ;; amd64) qa=x86_64 ;; *) qa=$a ;; esac
	command -v "qemu-$qa-static" >/dev/null || die "qemu-$qa-static is missing (install qemu-user-static)"
	BB_RUN=("qemu-$qa-static")
	mkdir -p "$1"
	d=$(realpath "$1")/apt-$a
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/parts" "$d/prefs"
	# This machine's Debian entries only (not the deb-src or backports ones
	# cleanroom adds): deb822 debian.sources, or the one-line sources.list.
	rm -f "$d/parts/debian.sources"
	[ -f /etc/apt/sources.list.d/debian.sources ] && cp /etc/apt/sources.list.d/debian.sources "$d/parts/"
	{ grep -E '^deb ' /etc/apt/sources.list 2>/dev/null || true; } >"$d/sources.list"
	[ -s "$d/sources.list" ] || [ -f "$d/parts/debian.sources" ] || die "no Debian entry in /etc/apt to fetch $a packages from"
	printf '%s\n' "APT::Architecture \"$a\";" "APT::Architectures { \"$a\"; };" \
		"Dir::State::Lists \"$d/lists\";" "Dir::Cache \"$d/cache\";" \
		"Dir::Etc::SourceList \"$d/sources.list\";" "Dir::Etc::SourceParts \"$d/parts\";" \
		"Dir::Etc::Preferences \"$d/prefs/none\";" "Dir::Etc::PreferencesParts \"$d/prefs\";" >"$d/apt.conf.tmp"
	mv "$d/apt.conf.tmp" "$d/apt.conf"
	export APT_CONFIG=$d/apt.conf
}

cmd=${1:-}
[ $# -gt 0 ] && shift
if [ -n "${ROOTFS_ARCH:-}" ] && [ "$ROOTFS_ARCH" != "$(dpkg --print-architecture)" ]; then
	case "$cmd" in
	build) foreign_apt "${4:?}" ;;
	lock) foreign_apt "${3:?}" ;;
	resolve | fetch) die "ROOTFS_ARCH applies to build and lock only" ;;
	esac
fi
case "$cmd" in
build)
	[ $# -eq 4 ] || die "usage: mkrootfs.sh build NAME PACKAGES_FILE OUT_DIR CACHE_DIR"
	name=$1 pkgfile=$2 out=$3 cache=$4
	roots=$(sed -e 's/#.*//' "$pkgfile" | tr -s ' \t\n' '\n' | grep . | sort | tr '\n' ' ')
	with_fresh_lists cmd_build
	;;
lock)
	[ $# -eq 3 ] || die "usage: mkrootfs.sh lock MANIFEST OUT_DIR CACHE_DIR"
	m=$1
	[ "$(sed -n 1p "$m")" = "format $FORMAT" ] || die "$m: not a $FORMAT"
	pkgs=$(sed -n 's/^package //p' "$m")
	[ -n "$pkgs" ] || die "$m: no packages"
	while read -r l; do check_line "$l" || die "$m: malformed package line: $l"; done <<<"$pkgs"
	with_fresh_lists make_root "$(sed -n 's/^name //p' "$m")" "$(sed -n 's/^roots //p' "$m")" "$2" "$3" "$pkgs"
	;;
digest)
	[ $# -eq 1 ] || die "usage: mkrootfs.sh digest DIR"
	digest "$1"
	;;
listing)
	[ $# -eq 1 ] || die "usage: mkrootfs.sh listing DIR"
	tmpl=$(mktemp)
	listing "$1"
	rm -f "$tmpl"
	;;
resolve)
	[ $# -eq 1 ] || die "usage: mkrootfs.sh resolve PACKAGES_FILE"
	pkgfile=$1
	cmd_resolve() { resolve "$pkgfile" | with_sha; }
	with_fresh_lists cmd_resolve
	;;
fetch)
	[ $# -eq 1 ] || die "usage: mkrootfs.sh fetch CACHE_DIR < LINES"
	mapfile -t lines
	[ ${#lines[@]} -gt 0 ] || die "fetch: no package lines on stdin"
	for l in "${lines[@]}"; do check_line "$l" || die "fetch: malformed package line: $l"; done
	with_fresh_lists fetch "$1/debs" "${lines[@]}"
	;;
*) die "usage: mkrootfs.sh build NAME PACKAGES_FILE OUT_DIR CACHE_DIR | lock MANIFEST OUT_DIR CACHE_DIR | digest DIR | listing DIR | resolve PACKAGES_FILE | fetch CACHE_DIR" ;;
esac
