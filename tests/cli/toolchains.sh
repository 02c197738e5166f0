#!/bin/bash
# cli/toolchains: the Rust and Go build environments and the --deps
# directories, without QEMU: both trees against their manifests, the Go tree
# rebuilt from its manifest (`mkrootfs.sh lock`) to the same digest, the tools
# where the recipes expect them; rootfs/vendor.py's layouts (deterministic,
# modules.txt, .cargo-checksum.json, config.toml) and its refusals (a malformed
# pin, a tampered .deb, a crate or package that no pinned package has, a
# replace directive); rootfs/agent-image.sh printing the tree digest with the
# PCRs `cleanroom eif` gives, and refusing a tree that left its manifest.
#   CLEANROOM INIT KERNEL_DIR  ROOTFS_RUST ROOTFS_GO  CACHE  JP_TARBALL  (root)
. "$(dirname "$0")/lib.sh"
TOP=$(realpath "$(dirname "$0")/../..")
MK=$TOP/rootfs/mkrootfs.sh
VENDOR=$TOP/rootfs/vendor.py
T=$T_TMP
chmod 755 "$T"
. "$TOP/tests/toolchains/projects.sh"
if [ "$(id -u)" != 0 ]; then
	skip "toolchains suite" "needs root (owner root in the trees)"
	exit 0
fi

# --- the environments
for e in rust go; do
	R=$(eval echo "\$ROOTFS_${e^^}")
	M=$R.manifest
	same "rootfs-$e: the manifest's roots are rootfs/$e.packages" "$(sed -n 's/^roots //p' "$M")" \
		"$(sed -e 's/#.*//' "$TOP/rootfs/$e.packages" | tr -s ' \t\n' '\n' | grep . | sort | tr '\n' ' ' | sed 's/ $//')"
	same "rootfs-$e: the tree has its manifest's digest" "$("$MK" digest "$(realpath "$R")")" "$(sed -n 's/^tree //p' "$M")"
done
R=$(realpath "$ROOTFS_RUST")
same "rootfs-rust: rustc 1.63 and cargo, cc for linking" \
	"$(for f in usr/bin/rustc usr/bin/cargo usr/bin/cc usr/bin/ld bin/sh; do [ -e "$R/$f" ] && echo "$f"; done | tr '\n' ' ')" \
	"usr/bin/rustc usr/bin/cargo usr/bin/cc usr/bin/ld bin/sh "
sed -n 's/^package //p' "$ROOTFS_RUST.manifest" | grep -q '^rustc 1\.63\.' && ok "rootfs-rust: the manifest records rustc 1.63" ||
	not_ok "rootfs-rust: the manifest records rustc 1.63" "$(grep '^package rustc ' "$ROOTFS_RUST.manifest")"
R=$(realpath "$ROOTFS_GO")
[ -x "$R/usr/lib/go-1.19/bin/go" ] && [ -d "$R/usr/lib/go-1.19/pkg/linux_amd64" ] && ok "rootfs-go: Go 1.19 with its precompiled standard library" ||
	not_ok "rootfs-go: Go 1.19" "no usr/lib/go-1.19/bin/go or pkg/linux_amd64"
"$MK" lock "$ROOTFS_GO.manifest" "$T/go-again" "$CACHE" >"$T/lock.out" 2>&1
same "rootfs-go: rebuilt from its manifest (lock) to the same tree digest" \
	"$("$MK" digest "$(realpath "$T/go-again")" 2>&1)" "$(sed -n 's/^tree //p' "$ROOTFS_GO.manifest")"

# --- vendor.py go: jp's modules
project_sources jp "$T/jp" "$CACHE" "$JP_TARBALL" || { not_ok "jp's sources" "see stderr"; exit 1; }
check "vendor.py go assembles jp's --deps" project_deps "$T/jp/deps" "$CACHE"
project_deps "$T/jp/deps2" "$CACHE" 2>/dev/null
same "... deterministically (two runs, one tree digest)" "$("$MK" digest "$T/jp/deps2")" "$("$MK" digest "$T/jp/deps")"
same "... modules.txt: every requirement of go.mod, explicit, with the imported packages" "$(cat "$T/jp/deps/vendor/modules.txt")" \
	"# github.com/cpuguy83/go-md2man/v2 v2.0.0-20190314233015-f79a8a8ca69d
## explicit; go 1.11
github.com/cpuguy83/go-md2man/v2/md2man
# github.com/jmespath/go-jmespath v0.4.0
## explicit; go 1.14
github.com/jmespath/go-jmespath
# github.com/russross/blackfriday/v2 v2.0.1
## explicit
github.com/russross/blackfriday/v2
# github.com/shurcooL/sanitized_anchor_name v1.0.0
## explicit
# github.com/urfave/cli v1.22.5
## explicit; go 1.11
github.com/urfave/cli"
same "... no test files, no testdata" "$(find "$T/jp/deps" -name '*_test.go' -o -name testdata | head -3)" ""
same "... the Debian packages recorded" "$(cat "$T/jp/deps/debian-packages.txt")" "$(grep -v '^#' "$PINS")"
same "... modes and mtimes normalised" "$(find "$T/jp/deps" \( -type f ! -perm 0644 \) -o \( -type d ! -perm 0755 \) -o -newermt @0 | head -3)" ""
cp "$PINS" "$T/bad.pins"
echo "golang-go 2:1.19~1 all not-a-sha" >>"$T/bad.pins"
expect_fail "vendor.py refuses a malformed pin, naming its line" "bad\.pins:[0-9]+: not 'name version arch sha256'" \
	python3 "$VENDOR" go "$T/bad.pins" "$MANIFEST" "$T/jp/bad" "$CACHE"
[ ! -e "$T/jp/bad" ] && [ ! -e "$T/jp/bad.tmp" ] && ok "... and leaves nothing behind" || not_ok "... and leaves nothing behind" "$(ls -d "$T/jp/bad"*)"
grep -v '^golang-github-jmespath' "$PINS" >"$T/short.pins"
expect_fail "vendor.py go: an imported package no pinned .deb has is named" \
	"package github.com/jmespath/go-jmespath \(module github.com/jmespath/go-jmespath\) is in none of the pinned packages" \
	python3 "$VENDOR" go "$T/short.pins" "$MANIFEST" "$T/jp/bad" "$CACHE"
cp "$MANIFEST" "$T/jp/src/go.mod.orig"
echo "replace github.com/urfave/cli => ../cli" >>"$MANIFEST"
expect_fail "vendor.py go: a replace directive is refused" "go.mod:[0-9]+: replace directives are not supported" \
	python3 "$VENDOR" go "$PINS" "$MANIFEST" "$T/jp/bad" "$CACHE"
mv "$T/jp/src/go.mod.orig" "$MANIFEST"
# A .deb in the cache that is not what the pin says is refused (and fetched anew).
mkdir -p "$T/cache/debs"
d=$(awk '/^golang-github-urfave-cli-dev / { print $1 "_" $2 "_" $3 ".deb" }' "$PINS")
cp "$CACHE/debs/$d" "$T/cache/debs/$d"
awk '/^golang-github-urfave-cli-dev / { $4 = "0000000000000000000000000000000000000000000000000000000000000000" } { print }' "$PINS" >"$T/wrong.pins"
python3 "$VENDOR" go "$T/wrong.pins" "$MANIFEST" "$T/jp/bad" "$T/cache" >/dev/null 2>"$T/wrong.err"
rc=$?
if [ $rc = 1 ] && grep -q "SHA-256 MISMATCH for $d" "$T/wrong.err" && [ ! -e "$T/jp/bad" ]; then
	ok "vendor.py: a .deb whose SHA-256 is not the pinned one is refused"
else not_ok "vendor.py: a .deb whose SHA-256 is not the pinned one is refused" "exit $rc: $(tail -2 "$T/wrong.err" | tr '\n' ' ')"; fi

# --- vendor.py rust: hexyl's crates
project_sources hexyl "$T/hx" "$CACHE" || { not_ok "hexyl's sources" "see stderr"; exit 1; }
check "vendor.py rust assembles hexyl's --deps" project_deps "$T/hx/deps" "$CACHE"
same "... one directory per crate of Cargo.lock" "$(ls "$T/hx/deps/vendor" | wc -l)" "$(grep -c '^source = "registry+' "$MANIFEST")"
c=$T/hx/deps/vendor/clap-2.34.0
same "... .cargo-checksum.json lists every file of a crate with its SHA-256" \
	"$(python3 -c 'import json, sys; [print(v + "  " + k) for k, v in sorted(json.load(open(sys.argv[1]))["files"].items())]' "$c/.cargo-checksum.json")" \
	"$(cd "$c" && find . -type f ! -name .cargo-checksum.json | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum)"
grep -q '^replace-with = "vendored-sources"$' "$T/hx/deps/.cargo/config.toml" && grep -q '^directory = "/work/deps/vendor"$' "$T/hx/deps/.cargo/config.toml" &&
	ok "... .cargo/config.toml replaces crates-io with /work/deps/vendor" || not_ok "... .cargo/config.toml" "$(cat "$T/hx/deps/.cargo/config.toml")"
sed 's/^version = "2.34.0"$/version = "2.99.0"/' "$MANIFEST" >"$T/hx/Cargo.lock.bad"
expect_fail "vendor.py rust: a locked crate no pinned .deb has is named" "crate clap 2\.99\.0 is in none of the pinned packages" \
	python3 "$VENDOR" rust "$PINS" "$T/hx/Cargo.lock.bad" "$T/hx/bad" "$CACHE"
# pulldown-cmark: its Cargo.lock was made without the dev-dependencies (Debian
# lacks html5ever 0.25 and others), so vendoring it needs none of them
project_sources pulldown-cmark "$T/pc" "$CACHE" || { not_ok "pulldown-cmark's sources" "see stderr"; exit 1; }
check "vendor.py rust assembles pulldown-cmark's --deps" project_deps "$T/pc/deps" "$CACHE"
same "... its crates and their dependencies, none of its dev-dependencies" "$(ls "$T/pc/deps/vendor" | tr '\n' ' ')" \
	"bitflags-1.3.2 getopts-0.2.21 memchr-2.5.0 proc-macro2-1.0.47 quote-1.0.21 serde-1.0.152 serde_derive-1.0.152 syn-1.0.107 unicase-2.6.0 unicode-ident-1.0.0 unicode-width-0.1.10 version_check-0.9.4 "
grep -q '^\[dev-dependencies.html5ever\]' "$T/pc/src/Cargo.toml" && ok "... its Cargo.toml as Debian ships it, dev-dependencies included" ||
	not_ok "... its Cargo.toml as Debian ships it" "no [dev-dependencies.html5ever]"

# --- agent-image.sh: the tree digest with the PCRs
mkdir -p "$T/mini/bin"
cp /bin/busybox "$T/mini/bin/"
chown -R 0:0 "$T/mini"
printf 'format cleanroom-rootfs-manifest 1\nname rootfs-mini\ntree %s\n' "$("$MK" digest "$T/mini")" >"$T/mini.manifest"
"$TOP/rootfs/agent-image.sh" "$CLEANROOM" "$KERNEL_DIR" "$INIT" "$T/mini" "$T/a1.eif" >"$T/a1.txt" 2>&1
"$TOP/rootfs/agent-image.sh" "$CLEANROOM" "$KERNEL_DIR" "$INIT" "$T/mini" "$T/a2.eif" >"$T/a2.txt" 2>&1
"$CLEANROOM" eif --kernel "$KERNEL_DIR/bzImage" --init "$INIT" --nsm-ko "$KERNEL_DIR/nsm.ko" --rootfs "$T/mini" -o "$T/ref.eif" >"$T/ref.json" 2>&1
same "agent-image prints the manifest's tree digest" "$(sed -n 's/^tree //p' "$T/a1.txt")" "$(sed -n 's/^tree //p' "$T/mini.manifest")"
same "... and the image's PCR0/1/2, as cleanroom eif measures them" "$(grep '^PCR' "$T/a1.txt")" \
	"$(python3 -c 'import json, sys; m = json.load(open(sys.argv[1]))["Measurements"]; [print(k, m[k]) for k in ("PCR0", "PCR1", "PCR2")]' "$T/ref.json")"
same "... the same twice (same PCRs, same EIF bytes)" "$(grep '^PCR' "$T/a2.txt"; sha256sum <"$T/a2.eif")" "$(grep '^PCR' "$T/a1.txt"; sha256sum <"$T/a1.eif")"
echo extra >"$T/mini/bin/extra"
expect_fail "agent-image refuses a tree that differs from its manifest" "tree digest [0-9a-f]{64} differs from its manifest's" \
	"$TOP/rootfs/agent-image.sh" "$CLEANROOM" "$KERNEL_DIR" "$INIT" "$T/mini" "$T/a3.eif"
[ ! -e "$T/a3.eif" ] && ok "... and writes no image" || not_ok "... and writes no image" "$T/a3.eif exists"
t_done
