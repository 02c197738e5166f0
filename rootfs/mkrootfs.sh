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
# SHA-256 on every use); intree.py unpacks them in name order. No
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
# SHA-256, sorted by name), the recipe (the hash of this script and of
# intree.py) and the tree digest. When neither the packages nor the recipe
# changed and the tree still has its digest, nothing is downloaded or unpacked
# again.
#
# Every path written in the tree is resolved inside it (intree.py): a link
# that a package or the recipe left is followed as it would be with the tree
# as /, never on this machine. Refused, naming the line or field: a package
# list word that is not a Debian package name (NAME, NAME:ARCH, NAME=VERSION);
# a manifest line other than the one format, name, roots, recipe and tree
# lines and the sorted package lines; a name other than [a-z0-9][a-z0-9.+-]*;
# a lock whose recipe or rebuilt tree is not the manifest's. A failed assembly
# leaves no NAME-KEY.tmp behind.
set -euo pipefail
shopt -s inherit_errexit # a failed command in $(...) fails the script too
export LC_ALL=C
umask 022

die() { echo "mkrootfs: $*" >&2; exit 1; }
# remove_on_exit PATH...: what an exit before keep() removes (set in the
# shell that makes them: a subshell does not inherit the traps).
CLEANUP=()
remove_on_exit() {
	CLEANUP=("$@")
	trap 'rm -rf "${CLEANUP[@]}"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
keep() { CLEANUP=(); }
BB_RUN=() # the emulator the tree's busybox needs here (bb_applets), if any
SELF=$(realpath "$0")
INTREE=$(dirname "$SELF")/intree.py
MAX_LIST=65536 # bytes of a package list or manifest
FORMAT="cleanroom-rootfs-manifest 1"
# What is taken out of the unpacked packages (relative to the root).
PRUNE="usr/share/doc usr/share/man usr/share/info usr/share/locale usr/share/lintian
       usr/share/bug usr/share/doc-base usr/share/bash-completion usr/share/gdb
       usr/share/initramfs-tools var"

# The sorted listing of a tree: type, mode, size and SHA-256 of regular files,
# symlink targets; one line per entry, paths relative to the root. So that one
# listing is one tree, a name holds no newline, backslash or '->' (the first
# ' -> ' of a link's line ends its name) and a link target no newline; such
# entries, and special files, are listed as 'bad'.
listing() {
	(
		cd "$1" || exit 1
		find . -mindepth 1 \( -name '*
*' -o -name '*\\*' \) -printf 'bad name with a newline or a backslash\n' -prune
		find . -mindepth 1 -name '*->*' -printf 'bad name with "->": %p\n'
		find . -mindepth 1 -type l ! -name '*
*' -lname '*
*' -printf 'bad link target with a newline: %p\n'
		find . -mindepth 1 ! -type f ! -type d ! -type l -printf 'bad special file: %p\n'
		find . -mindepth 1 -type d -printf 'd %m %p\n'
		find . -mindepth 1 -type l -printf 'l %p -> %l\n'
		find . -mindepth 1 -type f -printf '%p\n' | sort >"$tmpl"
		paste -d ' ' <(xargs -r -d '\n' stat -c 'f %a %s' <"$tmpl") \
			<(xargs -r -d '\n' sha256sum <"$tmpl" | cut -c1-64) "$tmpl"
	) | sort
}
digest() {
	local l tmpl
	[ -d "$1" ] || die "$1: not a directory"
	tmpl=$(mktemp)
	l=$(listing "$1") || { rm -f "$tmpl"; die "$1: cannot list it"; }
	rm -f "$tmpl"
	# here-strings, not pipes: grep -q stops at the first match, and the
	# writer's SIGPIPE would turn a match into a failure (pipefail)
	if grep -q '^bad ' <<<"$l"; then die "$1: cannot be listed: $(grep '^bad ' <<<"$l" | head -3 | tr '\n' ' ')"; fi
	printf '%s %s %s\n' "$(sha256sum <<<"$l" | cut -c1-64)" "$(wc -l <<<"$l")" \
		"$(awk '$1 == "f" { s += $3 } END { print s + 0 }' <<<"$l")"
}

# read_roots PACKAGES_FILE: ROOTS, the package names of the file (words; '#'
# starts a comment), sorted. Each must be a Debian package name, optionally
# with :ARCH or =VERSION: anything else would reach apt as an option.
check_root() { [[ "$1" =~ ^[a-z0-9][a-z0-9+.-]+(:[a-z0-9][a-z0-9-]*)?(=[0-9][A-Za-z0-9.+~:-]*)?$ ]] && [ ${#1} -le 200 ]; }
read_roots() {
	local f=$1 n=0 line w words=()
	[ -f "$f" ] || die "$f: no such package list"
	[ "$(stat -c %s "$f")" -le $MAX_LIST ] || die "$f: more than $MAX_LIST bytes"
	ROOTS=()
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		read -r -a words <<<"${line%%#*}"
		for w in "${words[@]}"; do
			check_root "$w" || die "$f:$n: '$(printf %q "$w")' is not a Debian package name (NAME, NAME:ARCH or NAME=VERSION)"
			ROOTS+=("$w")
		done
	done <"$f"
	[ ${#ROOTS[@]} -gt 0 ] || die "$f: no packages named"
	mapfile -t ROOTS < <(printf '%s\n' "${ROOTS[@]}" | sort)
}

# check_name NAME: a tree's name, a file name in CACHE/rootfs and a pattern.
check_name() { [[ "$1" =~ ^[a-z0-9][a-z0-9.+-]*$ ]] && [ ${#1} -le 64 ]; }

# resolve: "name version arch" of the closure of ROOTS (read_roots), sorted
# by name.
resolve() {
	local tmp out
	tmp=$(mktemp -d)
	: >"$tmp/status"
	if ! out=$(apt-get -s -q -o Dir::State::status="$tmp/status" -o Debug::NoLocking=1 \
		-o APT::Install-Recommends=0 -o APT::Install-Suggests=0 install -- "${ROOTS[@]}" 2>&1); then
		rm -rf "$tmp"
		echo "mkrootfs: apt cannot resolve ${ROOTS[*]}: $(grep '^E:' <<<"$out" | head -3 | tr '\n' ' ')" >&2
		return 3
	fi
	rm -rf "$tmp"
	# Inst NAME (VERSION ORIGINS [ARCH]) — the origins may hold spaces.
	sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*\[\([a-z0-9]\+\)\]).*/\1 \2 \3/p' <<<"$out" | sort -u
}

# with_sha: "name version arch" lines in, "name version arch sha256" out (the
# archive's SHA-256 of each .deb, from the apt lists), same order.
with_sha() {
	local lines shas n v a want=()
	lines=$(cat)
	[ -n "$lines" ] || return 3 # resolve failed and said why
	while read -r n v a; do
		check_line "$n $v $a $(printf '0%.0s' {1..64})" || die "apt's closure has a line that is not 'name version arch': $(printf %q "$n $v $a")"
		want+=("$n:$a=$v")
	done <<<"$lines"
	shas=$(apt-cache show --no-all-versions -- "${want[@]}" 2>&1 |
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
	if ! (cd "$tmp" && apt-get download -q -- "${want[@]}") >"$tmp.log" 2>&1; then
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

# in_tree DIR PATH...: for each PATH, "e REAL" (it exists in DIR, REAL its
# path with every link resolved inside DIR), "l" (a link to nothing) or "-".
in_tree() {
	local out
	out=$(printf '%s\n' "${@:2}" | python3 "$INTREE" find "$1") || die "cannot look up paths in $1"
	echo "$out"
}

# assemble DIR CACHE "name version arch sha256"...: unpack and normalise.
# Every path in DIR goes through intree.py (links followed inside DIR).
assemble() {
	local dir=$1 cache=$2 line name ver arch sha bb p out debs=() applets=() ask=() got=() links=() i
	local -A made=()
	shift 2
	mkdir "$dir"
	for line in "$@"; do
		read -r name ver arch sha <<<"$line"
		debs+=("$cache/$(deb_name "$name" "$ver" "$arch")")
	done
	python3 "$INTREE" unpack "$dir" "${debs[@]}" || die "cannot unpack the packages into $dir"
	chmod 755 "$dir"
	# shellcheck disable=SC2086 # PRUNE: a list of words
	python3 "$INTREE" remove "$dir" $PRUNE
	out=$(in_tree "$dir" usr/bin/gcc usr/bin/cpp bin/busybox)
	mapfile -t got <<<"$out"
	# The alternatives gcc's and cpp's postinst would set up.
	[ "${got[0]:0:1}" = e ] && links+=("gcc usr/bin/cc" "c89-gcc usr/bin/c89" "c99-gcc usr/bin/c99")
	[ "${got[1]:0:1}" = e ] && links+=("../usr/bin/cpp lib/cpp")
	# busybox's applets, where no package put a program of that name.
	bb=$dir/${got[2]#e }
	if [ "${got[2]:0:1}" = e ] && [ -f "$bb" ] && [ -x "$bb" ]; then
		out=$(bb_applets "$bb")
		mapfile -t applets <<<"$out"
		for p in "${applets[@]}"; do
			case "$p" in bin/busybox | */ | "") continue ;; bin/* | sbin/* | usr/bin/* | usr/sbin/*) ;;
			*/*) die "busybox applet in an unexpected place: $p" ;; *) continue ;; esac # not linuxrc
			ask+=("$p" "bin/${p##*/}" "usr/bin/${p##*/}" "sbin/${p##*/}" "usr/sbin/${p##*/}")
		done
		[ ${#ask[@]} -eq 0 ] || { out=$(in_tree "$dir" "${ask[@]}") && mapfile -t got <<<"$out"; }
		for ((i = 0; i < ${#ask[@]}; i += 5)); do
			[ "${got[i]}" = - ] || continue # the applet's own path: nothing, not even a link
			case " ${got[i + 1]:0:1}${got[i + 2]:0:1}${got[i + 3]:0:1}${got[i + 4]:0:1}" in *e*) continue ;; esac
			[ -z "${made[${ask[i]##*/}]:-}" ] || continue # linked already, in another place
			made[${ask[i]##*/}]=1
			# relative, so the link resolves inside the tree wherever it is
			case "${ask[i]}" in
			bin/* | sbin/*) links+=("../bin/busybox ${ask[i]}") ;;
			*) links+=("../../bin/busybox ${ask[i]}") ;;
			esac
		done
	fi
	[ ${#links[@]} -eq 0 ] || printf '%s\n' "${links[@]}" | python3 "$INTREE" link "$dir" ||
		die "cannot make the recipe's links in $dir"
	chown -R -h 0:0 "$dir"
	find "$dir" -exec touch -h -d "@${SOURCE_DATE_EPOCH:-0}" {} +
}

# recipe: the hash of what assembles a tree (this script and intree.py).
recipe() { cat "$SELF" "$INTREE" | sha256sum | cut -c1-64; }

# make_root NAME ROOTS OUT CACHE PKGLINES [TREE]: make OUT (a symlink to the
# tree in CACHE/rootfs/NAME-KEY, KEY from the recipe and the package lines)
# and OUT.manifest, unless up to date; with TREE (lock: the manifest's tree
# line), a tree with another digest is refused and not kept. The tree lives in the cache, not in the
# build directory: build directories are searched for make's *.d files, and
# Debian trees are full of directories named *.d; and so every build
# directory and clone on this machine shares one copy.
make_root() {
	local name=$1 roots=$2 out=${3%/} cache=$4 pkgs=$5 expect=${6:-} recipe head key store tree tmp m k
	check_name "$name" || die "'$(printf %q "$name")' is not a tree name ([a-z0-9][a-z0-9.+-]*, 64 at most)"
	recipe=$(recipe)
	head=$(printf 'recipe %s\n' "$recipe"; echo "$pkgs" | sed 's/^/package /')
	key=$(echo "$head" | sha256sum | cut -c1-16)
	mkdir -p "$cache/rootfs" "$(dirname "$out")"
	store=$(realpath "$cache/rootfs")/$name-$key
	exec 9>"$store.lock"
	flock 9
	if [ -f "$store.manifest" ] && [ -d "$store" ] &&
		[ "$(grep -E '^(recipe|package) ' "$store.manifest")" = "$head" ]; then
		tree=$(digest "$store" 2>/dev/null) || tree="" # a tree that cannot be listed: made again
		if [ "$(sed -n 's/^tree //p' "$store.manifest")" = "$tree" ]; then
			[ -z "$expect" ] || [ "$tree" = "$expect" ] ||
				die "the tree of these packages and this recipe is $tree; the manifest says $expect"
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
	# nothing half-made is left: not the tree, not its manifest
	remove_on_exit "$tmp" "$store.manifest.tmp"
	assemble "$tmp" "$cache/debs" "${lines[@]}"
	tree=$(digest "$tmp")
	[ -z "$expect" ] || [ "$tree" = "$expect" ] ||
		die "the rebuilt tree is $tree; the manifest says $expect"
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
	keep
	link_out "$store" "$out"
	echo "  ROOTFS  $out: $(echo "$tree" | awk '{ printf "%d entries, %.1f MB", $2, $3 / 1e6 }'), tree ${tree%% *}"
	# Keep the three newest trees of this name (another build directory may
	# still point to an older one; its next `make rootfs-c` makes it again):
	# NAME-KEY.manifest exactly, not another name that begins with NAME-.
	find "$cache/rootfs" -maxdepth 1 -name "$name-*.manifest" -printf '%T@ %p\n' | sort -rn |
		while read -r _ m; do
			k=${m##*/}
			k=${k#"$name-"}
			if [[ "$k" =~ ^[0-9a-f]{16}\.manifest$ ]] && [ "${m##*/}" = "$name-$k" ]; then echo "$m"; fi
		done | tail -n +4 | while read -r m; do rm -rf "${m%.manifest}" "$m" "${m%.manifest}.lock"; done
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
	pkgs=$(resolve | with_sha)
	make_root "$name" "${ROOTS[*]}" "$out" "$cache" "$pkgs"
}

# read_manifest MANIFEST: M_NAME, M_ROOTS, M_RECIPE, M_PKGS, M_TREE from a
# manifest as make_root writes it: the format line first, then one name,
# roots and recipe line, the package lines (sorted, each once) and one tree
# line; any other line, or a field of another form, is refused by its line.
read_manifest() {
	local m=$1 n=0 line key val prev="" w words=()
	[ -f "$m" ] || die "$m: no such manifest"
	[ "$(stat -c %s "$m")" -le $((MAX_LIST * 16)) ] || die "$m: more than $((MAX_LIST * 16)) bytes"
	M_NAME="" M_ROOTS="" M_RECIPE="" M_PKGS="" M_TREE=""
	local -A seen=()
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		key=${line%% *} val=${line#* }
		if [ $n -eq 1 ]; then
			[ "$line" = "format $FORMAT" ] || die "$m:1: not a $FORMAT"
			continue
		fi
		[ "$key" != "$line" ] || die "$m:$n: '$(printf %q "$line")' is not 'FIELD VALUE'"
		case "$key" in
		package)
			if [ -z "${seen[name]:-}" ] || [ -z "${seen[roots]:-}" ] || [ -z "${seen[recipe]:-}" ] || [ -n "${seen[tree]:-}" ]; then
				die "$m:$n: a package line out of place (after name, roots and recipe, before tree)"
			fi
			check_line "$val" || die "$m:$n: malformed package line: $val"
			[ -z "$prev" ] || [[ "$prev" < "$val" ]] || die "$m:$n: package lines not sorted, or one twice: $val"
			prev=$val
			M_PKGS+=$val$'\n'
			continue
			;;
		name | roots | recipe | tree) ;;
		*) die "$m:$n: unknown field '$(printf %q "${key:0:40}")'" ;;
		esac
		[ -z "${seen[$key]:-}" ] || die "$m:$n: a second '$key' line"
		seen[$key]=1
		case "$key" in
		name) check_name "$val" || die "$m:$n: name '$(printf %q "$val")' is not [a-z0-9][a-z0-9.+-]* (64 at most)" ;;
		roots)
			read -r -a words <<<"$val"
			for w in "${words[@]}"; do check_root "$w" || die "$m:$n: roots: '$(printf %q "$w")' is not a Debian package name"; done
			[ "$val" = "$(printf '%s\n' "${words[@]}" | sort | paste -sd ' ')" ] || die "$m:$n: roots: not sorted, one space apart"
			;;
		recipe) [[ "$val" =~ ^[0-9a-f]{64}$ ]] || die "$m:$n: recipe '$(printf %q "$val")' is not a SHA-256" ;;
		tree) [[ "$val" =~ ^[0-9a-f]{64}\ [1-9][0-9]{0,9}\ [0-9]{1,15}$ ]] || die "$m:$n: tree '$(printf %q "$val")' is not 'SHA-256 ENTRIES BYTES'" ;;
		esac
		printf -v "M_${key^^}" '%s' "$val"
	done <"$m"
	[ $n -gt 0 ] || die "$m: empty"
	for key in name roots recipe package tree; do
		[ -n "${seen[$key]:-}" ] || [ "$key" = package ] || die "$m: no '$key' line"
	done
	[ -n "$M_PKGS" ] || die "$m: no packages"
	M_PKGS=${M_PKGS%$'\n'}
}

# bb_applets BUSYBOX: its `--list-full`, sorted. The tree's busybox is
# code from a package: it never runs with this machine's rights. A copy
# (with qemu-user for another architecture) runs alone in an otherwise
# empty root, as nobody, with no new privileges (a set-uid bit gives
# nothing), in namespaces of its own (no network, no other process), for
# at most 60 s.
bb_applets() {
	local jail run=(/busybox) out
	jail=$(mktemp -d)
	chmod 755 "$jail"
	install -m 0555 "$1" "$jail/busybox"
	if [ ${#BB_RUN[@]} -gt 0 ]; then
		install -m 0555 "$(command -v "${BB_RUN[0]}")" "$jail/qemu"
		run=(/qemu /busybox)
	fi
	if ! out=$(timeout 60 unshare --fork --pid --net --ipc --uts --mount \
		setpriv --no-new-privs chroot --userspec=65534:65534 --groups=65534 "$jail" "${run[@]}" --list-full); then
		rm -rf "$jail"
		die "$1 --list-full failed (run confined: as nobody, in an empty root)"
	fi
	rm -rf "$jail"
	sort <<<"$out"
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
	name=$1 out=$3 cache=$4
	check_name "$name" || die "'$(printf %q "$name")' is not a tree name ([a-z0-9][a-z0-9.+-]*, 64 at most)"
	read_roots "$2"
	with_fresh_lists cmd_build
	;;
lock)
	[ $# -eq 3 ] || die "usage: mkrootfs.sh lock MANIFEST OUT_DIR CACHE_DIR"
	read_manifest "$1"
	[ "$M_RECIPE" = "$(recipe)" ] ||
		die "$1: recipe $M_RECIPE, but this mkrootfs.sh and intree.py are $(recipe): lock with the revision that made the manifest"
	with_fresh_lists make_root "$M_NAME" "$M_ROOTS" "$2" "$3" "$M_PKGS" "$M_TREE"
	;;
digest)
	[ $# -eq 1 ] || die "usage: mkrootfs.sh digest DIR"
	digest "$1"
	;;
listing)
	[ $# -eq 1 ] || die "usage: mkrootfs.sh listing DIR"
	tmpl=$(mktemp)
	listing "$1" || { rm -f "$tmpl"; die "$1: cannot list it"; }
	rm -f "$tmpl"
	;;
resolve)
	[ $# -eq 1 ] || die "usage: mkrootfs.sh resolve PACKAGES_FILE"
	read_roots "$1"
	cmd_resolve() { resolve | with_sha; }
	with_fresh_lists cmd_resolve
	;;
fetch)
	[ $# -eq 1 ] || die "usage: mkrootfs.sh fetch CACHE_DIR < LINES"
	mapfile -t -n 10001 lines
	[ ${#lines[@]} -gt 0 ] || die "fetch: no package lines on stdin"
	[ ${#lines[@]} -le 10000 ] || die "fetch: more than 10000 package lines on stdin"
	for l in "${lines[@]}"; do check_line "$l" || die "fetch: malformed package line: $l"; done
	with_fresh_lists fetch "$1/debs" "${lines[@]}"
	;;
*) die "usage: mkrootfs.sh build NAME PACKAGES_FILE OUT_DIR CACHE_DIR | lock MANIFEST OUT_DIR CACHE_DIR | digest DIR | listing DIR | resolve PACKAGES_FILE | fetch CACHE_DIR" ;;
esac
