# The real projects of qemu/toolchains-go, qemu/toolchains-rust and `make
# demo-go` / `make demo-rust`, and their reproducible build recipes
# (docs/toolchains.md). Source this file, then:
#
#   project_sources go|rust DIR CACHE [JP_TARBALL]
#       DIR/src: jp 0.2.1 (from Debian's jp orig tarball) or hexyl 0.8.0 (the
#       crate of librust-hexyl-dev, with hexyl.Cargo.lock); sets BIN (the
#       artifact), PINS (the pinned .debs of its dependencies), MANIFEST (the
#       file vendor.py reads: go.mod or Cargo.lock) and CMD (the build
#       command, for `sh -c`). Returns 1, having said why on stderr.
#   project_deps go|rust OUT CACHE
#       OUT: the --deps directory (rootfs/vendor.py).
TOOLCHAINS_DIR=$(realpath "$(dirname "${BASH_SOURCE[0]}")")
TOOLCHAINS_ROOT=$(realpath "$TOOLCHAINS_DIR/../..")

# Go: everything Go writes inside the workspace, the vendored modules only, no
# proxy, no cgo, no paths or build id in the binary.
CMD_GO='export HOME=/tmp GOCACHE=/tmp/go-cache GOPATH=/tmp/go-path GOFLAGS=-mod=vendor GOPROXY=off GO111MODULE=on CGO_ENABLED=0 SOURCE_DATE_EPOCH=0 PATH=/usr/lib/go-1.19/bin:$PATH
ln -s /work/deps/vendor vendor && go build -trimpath -ldflags=-buildid= -o jp .'
# Rust: CARGO_HOME in the workspace with the vendored source's configuration,
# --offline --locked, paths remapped; the dev profile without debug info (the
# shortest compile under TCG).
CMD_RUST='export HOME=/tmp CARGO_HOME=/tmp/cargo-home CARGO_INCREMENTAL=0 SOURCE_DATE_EPOCH=0 RUSTFLAGS="--remap-path-prefix=/work/src=/src --remap-path-prefix=/work/deps/vendor=/vendor -C debuginfo=0"
mkdir -p $CARGO_HOME && cp /work/deps/.cargo/config.toml $CARGO_HOME/ &&
cargo build --offline --locked --target-dir /tmp/target && cp /tmp/target/debug/hexyl hexyl'

project_sources() {
	local lang=$1 dir=$2 cache=$3 deb
	mkdir -p "$dir/x"
	case "$lang" in
	go)
		PINS=$TOOLCHAINS_DIR/jp.pins BIN=jp CMD=$CMD_GO MANIFEST=$dir/src/go.mod
		tar -C "$dir/x" -xf "$4" && mv "$dir/x/jp-0.2.1" "$dir/src" ||
			{ echo "$4: no jp-0.2.1/ in it" >&2; return 1; }
		;;
	rust)
		PINS=$TOOLCHAINS_DIR/hexyl.pins BIN=hexyl CMD=$CMD_RUST MANIFEST=$dir/src/Cargo.lock
		deb=$(awk '$1 == "librust-hexyl-dev" { print $1 "_" $2 "_" $3 ".deb" }' "$PINS")
		grep '^librust-hexyl-dev ' "$PINS" | "$TOOLCHAINS_ROOT/rootfs/mkrootfs.sh" fetch "$cache" >/dev/null &&
			dpkg-deb -x "$cache/debs/$deb" "$dir/x" && mv "$dir/x/usr/share/cargo/registry/hexyl-0.8.0" "$dir/src" ||
			{ echo "hexyl's sources: fetching or unpacking librust-hexyl-dev failed" >&2; return 1; }
		# Debian's checksum file is for the registry, not part of the crate
		rm -f "$dir/src/.cargo-checksum.json"
		cp "$TOOLCHAINS_DIR/hexyl.Cargo.lock" "$dir/src/Cargo.lock"
		;;
	*) echo "project_sources: go or rust, not $lang" >&2; return 1 ;;
	esac
	rm -rf "$dir/x"
}

project_deps() {
	python3 "$TOOLCHAINS_ROOT/rootfs/vendor.py" "$1" "$PINS" "$MANIFEST" "$2" "$3"
}
