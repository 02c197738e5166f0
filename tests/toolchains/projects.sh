# The real projects of qemu/toolchains-*, cli/toolchains and `make demo-go` /
# `make demo-rust`, and their reproducible build recipes (docs/toolchains.md).
# Source this file, then:
#
#   project_sources PROJECT DIR CACHE [JP_TARBALL]
#       PROJECT, one of:
#         jp              Go: jp 0.2.1, a JMESPath CLI (Debian's jp orig
#                         tarball, JP_TARBALL), with urfave/cli, go-jmespath,
#                         go-md2man and blackfriday
#         pulldown-cmark  Rust: pulldown-cmark 0.9.2, a CommonMark to HTML
#                         converter (the crate of librust-pulldown-cmark-dev),
#                         with bitflags, getopts, memchr, unicase and theirs
#         hexyl           Rust: hexyl 0.8.0, a hex viewer (the crate of
#                         librust-hexyl-dev), with clap 2 and 30 more crates
#       DIR/src: its sources; sets LANG_ (go or rust), BIN (the artifact),
#       PINS (the pinned .debs of its dependencies), MANIFEST (the file
#       vendor.py reads: go.mod or Cargo.lock) and CMD (the build command, for
#       `sh -c`). Returns 1, having said why on stderr.
#   project_deps OUT CACHE
#       OUT: the --deps directory of the project last given to project_sources
#       (rootfs/vendor.py).
TOOLCHAINS_DIR=$(realpath "$(dirname "${BASH_SOURCE[0]}")")
TOOLCHAINS_ROOT=$(realpath "$TOOLCHAINS_DIR/../..")

# Go: everything Go writes inside the workspace, the vendored modules only, no
# proxy, no cgo, no build id in the binary. No -trimpath: the packaged
# standard library was built without it, so with it Go recompiles the standard
# library (about 12 minutes in the enclave under TCG against about one); the
# paths left in the binary (/work/src, /usr/lib/go-1.19) are the same in every
# enclave, so the output is still reproducible.
CMD_GO='export HOME=/tmp GOCACHE=/tmp/go-cache GOPATH=/tmp/go-path GOFLAGS=-mod=vendor GOPROXY=off GO111MODULE=on CGO_ENABLED=0 SOURCE_DATE_EPOCH=0 PATH=/usr/lib/go-1.19/bin:$PATH
ln -s /work/deps/vendor vendor && go build -ldflags=-buildid= -o jp .'
# Rust: CARGO_HOME in the workspace with the vendored source's configuration,
# --offline --locked, paths remapped; the dev profile without debug info (the
# shortest compile under TCG). With "nodev": dev-dependencies are not resolved
# (-Zavoid-dev-deps, as Debian's own cargo wrapper builds), for a crate whose
# dev-dependencies Debian lacks at the versions asked for; RUSTC_BOOTSTRAP=1
# lets the packaged stable cargo take that one -Z flag. The crate's
# Cargo.lock (made once without the dev-dependencies) still binds --locked.
rust_cmd() { # rust_cmd BIN [nodev]
	local cargo='cargo build --offline --locked'
	[ "${2:-}" = nodev ] && cargo="RUSTC_BOOTSTRAP=1 $cargo -Zavoid-dev-deps"
	printf '%s\n' 'export HOME=/tmp CARGO_HOME=/tmp/cargo-home CARGO_INCREMENTAL=0 SOURCE_DATE_EPOCH=0 RUSTFLAGS="--remap-path-prefix=/work/src=/src --remap-path-prefix=/work/deps/vendor=/vendor -C debuginfo=0"' \
		'mkdir -p $CARGO_HOME && cp /work/deps/.cargo/config.toml $CARGO_HOME/ &&' \
		"$cargo --target-dir /tmp/target && cp /tmp/target/debug/$1 $1"
}

project_crate() { # project_crate NAME-VERSION DIR CACHE: the crate of librust-NAME-dev
	local crate=$1 dir=$2 cache=$3 pkg deb
	pkg=librust-$(echo "${crate%-*}" | tr _ -)-dev
	deb=$(awk -v p="$pkg" '$1 == p { print $1 "_" $2 "_" $3 ".deb" }' "$PINS")
	grep "^$pkg " "$PINS" | "$TOOLCHAINS_ROOT/rootfs/mkrootfs.sh" fetch "$cache" >/dev/null &&
		dpkg-deb -x "$cache/debs/$deb" "$dir/x" && mv "$dir/x/usr/share/cargo/registry/$crate" "$dir/src" ||
		{ echo "$crate's sources: fetching or unpacking $pkg failed" >&2; return 1; }
	# Debian's checksum file is for the registry, not part of the crate
	rm -f "$dir/src/.cargo-checksum.json"
	cp "$TOOLCHAINS_DIR/${crate%-*}.Cargo.lock" "$dir/src/Cargo.lock"
}

project_sources() {
	local project=$1 dir=$2 cache=$3
	mkdir -p "$dir/x"
	case "$project" in
	jp)
		LANG_=go PINS=$TOOLCHAINS_DIR/jp.pins BIN=jp CMD=$CMD_GO MANIFEST=$dir/src/go.mod
		tar -C "$dir/x" -xf "$4" && mv "$dir/x/jp-0.2.1" "$dir/src" ||
			{ echo "$4: no jp-0.2.1/ in it" >&2; return 1; }
		;;
	pulldown-cmark)
		LANG_=rust PINS=$TOOLCHAINS_DIR/pulldown-cmark.pins BIN=pulldown-cmark MANIFEST=$dir/src/Cargo.lock
		CMD=$(rust_cmd pulldown-cmark nodev)
		project_crate pulldown-cmark-0.9.2 "$dir" "$cache" || return 1
		;;
	hexyl)
		LANG_=rust PINS=$TOOLCHAINS_DIR/hexyl.pins BIN=hexyl MANIFEST=$dir/src/Cargo.lock
		CMD=$(rust_cmd hexyl)
		project_crate hexyl-0.8.0 "$dir" "$cache" || return 1
		;;
	*) echo "project_sources: jp, pulldown-cmark or hexyl, not $project" >&2; return 1 ;;
	esac
	rm -rf "$dir/x"
}

project_deps() {
	python3 "$TOOLCHAINS_ROOT/rootfs/vendor.py" "$LANG_" "$PINS" "$MANIFEST" "$1" "$2"
}
