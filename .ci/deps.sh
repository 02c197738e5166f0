#!/bin/sh
# Install what cleanroom needs on a Debian 12 machine, idempotently.
#
#   deps.sh apt PKG...            install the Debian packages not yet installed
#   deps.sh backports PKG...      same, from bookworm-backports (added, low priority)
#   deps.sh uri                   print the URI of the machine's Debian archive entry
#   deps.sh source PKG VER FILE SHA256 DIR
#                                 fetch FILE (an orig tarball) of source package
#                                 PKG=VER into DIR and check its SHA-256; on a
#                                 mismatch the file is removed and we fail loudly.
#
# Mirror addresses are never written here: the deb-src entries we add reuse the
# URIs of the machine's own Debian entry, so the same script works on any mirror.
set -eu

die() { echo "deps: $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# One dpkg-query for all of them, so that a machine with everything
# installed gets through in a fraction of a second.
missing_pkgs() {
	have=$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null | awk '$NF == "installed" { print $1 }')
	for p in "$@"; do
		printf '%s\n' "$have" | grep -qx -- "$p" || echo "$p"
	done
}

# URIs of the machine's Debian archive entry (deb822 or one-line format).
debian_uri() {
	u=""
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		u=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$u" ] && [ -f /etc/apt/sources.list ]; then
		u=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' /etc/apt/sources.list)
	fi
	[ -n "$u" ] || die "cannot find this machine's Debian archive URI in /etc/apt"
	echo "$u"
}

APT_UPDATED=""
apt_update() {
	[ -n "$APT_UPDATED" ] && return 0
	as_root apt-get update -q >/dev/null || die "apt-get update failed"
	APT_UPDATED=1
}

add_list() { # add_list NAME CONTENT: write an apt source file once
	f=/etc/apt/sources.list.d/$1
	if [ ! -f "$f" ] || [ "$(cat "$f")" != "$2" ]; then
		printf '%s\n' "$2" | as_root tee "$f" >/dev/null
		APT_UPDATED=""
	fi
}

cmd_apt() {
	m=$(missing_pkgs "$@")
	[ -z "$m" ] && return 0
	echo "deps: installing $(echo $m)"
	apt_update
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $m >/dev/null \
		|| die "apt-get install failed for: $(echo $m)"
}

cmd_backports() {
	uri=$(debian_uri)
	add_list cleanroom-backports.sources "Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
	# Binary packages from backports only when named explicitly (-t), never as upgrades.
	add_list ../preferences.d/cleanroom-backports "Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100"
	m=$(missing_pkgs "$@")
	want=""
	for p in $m; do want="$want $p"; done
	# Also upgrade a package installed from bookworm proper.
	for p in "$@"; do
		v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
		case "$v" in *bpo*) ;; *) want="$want $p" ;; esac
	done
	[ -z "$want" ] && return 0
	apt_update
	echo "deps: installing from bookworm-backports:$want"
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -t bookworm-backports $want >/dev/null \
		|| die "apt-get install -t bookworm-backports failed for:$want"
}

cmd_source() {
	[ $# -eq 5 ] || die "usage: deps.sh source PKG VER FILE SHA256 DIR"
	pkg=$1 ver=$2 file=$3 sum=$4 dir=$5
	mkdir -p "$dir"
	if [ -f "$dir/$file" ] && echo "$sum  $dir/$file" | sha256sum -c --status; then
		return 0
	fi
	uri=$(debian_uri)
	# bookworm has BearSSL; libcbor's orig tarball comes from trixie. Source
	# entries only: binary trixie entries would upgrade the system.
	add_list cleanroom-src.sources "Types: deb-src
URIs: $uri
Suites: bookworm trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
	apt_update
	tmp=$(mktemp -d)
	# The .dsc of some trixie versions is gone from the mirror while the orig
	# tarball is still there, so apt may fail after fetching what we need: judge
	# by the file and its checksum, not by apt's exit status.
	(cd "$tmp" && chmod 755 . && apt-get source -q --download-only "$pkg=$ver" >apt.log 2>&1) || true
	[ -f "$tmp/$file" ] || { cat "$tmp/apt.log" >&2; rm -rf "$tmp"; die "could not download $file ($pkg $ver)"; }
	got=$(sha256sum "$tmp/$file" | cut -d' ' -f1)
	if [ "$got" != "$sum" ]; then
		rm -rf "$tmp"
		die "SHA-256 MISMATCH for $file: expected $sum, got $got — refusing to build from it"
	fi
	mv "$tmp/$file" "$dir/$file"
	rm -rf "$tmp"
	echo "deps: fetched $file (sha256 ok)"
}

cmd=${1:-}; [ $# -gt 0 ] && shift
case "$cmd" in
apt) cmd_apt "$@" ;;
backports) cmd_backports "$@" ;;
source) cmd_source "$@" ;;
uri) debian_uri ;;
*) die "usage: deps.sh apt PKG... | backports PKG... | source PKG VER FILE SHA256 DIR | uri" ;;
esac
