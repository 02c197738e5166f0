#!/bin/bash
# qemu/toolchains-go, qemu/toolchains-rust: a real project this project did not
# write, built offline in one locally booted enclave with the environment of
# `make rootfs-go` / `make rootfs-rust`, its dependencies vendored from Debian's
# packaged sources through --deps (rootfs/vendor.py), with the recipe of
# docs/toolchains.md. Checks that the build succeeds with no network and no
# registry, that its report verifies (`cleanroom verify` against the image and
# the sources), that the program works on this host, that a second build
# gives byte-identical artifacts, and that a missing dependency fails the
# build. Prints its figures as '# ' lines.
#
#   tests/qemu/toolchains.sh jp             CLEANROOM KERNEL_DIR INIT ROOTFS CACHE JP_TARBALL
#   tests/qemu/toolchains.sh pulldown-cmark CLEANROOM KERNEL_DIR INIT ROOTFS CACHE
#   tests/qemu/toolchains.sh hexyl          CLEANROOM KERNEL_DIR INIT ROOTFS CACHE
# (the projects: tests/toolchains/projects.sh)
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
. "$(dirname "$0")/agentlib.sh"
HERE=$(realpath "$(dirname "$0")")
PROJECT=$1
shift
agent_suite_args "$@"
ROOTFS=$ARG4
CACHE=$5
chmod 755 "$T"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
SUITE0=$(now)

# --- the sources and the --deps directory
. "$HERE/../toolchains/projects.sh"
project_sources "$PROJECT" "$T" "$CACHE" "${6:-}" 2>"$T/src.err" || { not_ok "the sources of $PROJECT" "$(cat "$T/src.err")"; exit 1; }
OUTPUTS=(--output "$BIN")
git_tree=$(cd "$T/src" && git init -q && git add -A &&
	git -c user.name=test -c user.email=test@invalid commit -q -m sources && git rev-parse 'HEAD^{tree}')
t0=$(now)
project_deps "$T/deps" "$CACHE" 2>"$T/vendor.err" ||
	{ not_ok "vendor the dependencies" "$(tail -2 "$T/vendor.err")"; exit 1; }
project_deps "$T/deps2" "$CACHE" 2>/dev/null
same "the --deps directory is assembled deterministically (two runs, same listing)" \
	"$("$HERE/../../rootfs/mkrootfs.sh" digest "$T/deps2")" "$("$HERE/../../rootfs/mkrootfs.sh" digest "$T/deps")"
rm -rf "$T/deps2"
echo "# vendored: $(du -sh "$T/deps" | cut -f1), $(find "$T/deps" -type f | wc -l) files, in $(secs "$t0" "$(now)") s"

# --- the same build natively, in `cleanroom sandbox-exec` with the same tree
# as its root and the same /work layout: the figure the enclave is compared to
mkdir -p "$T/native"
cp -a "$T/src" "$T/native/src"
rm -rf "$T/native/src/.git"
cp -a "$T/deps" "$T/native/deps"
chown -R 1000:1000 "$T/native"
t0=$(now)
$CLEANROOM sandbox-exec --root "$(realpath "$ROOTFS")" --work "$T/native" --cwd src --memory 4G -- sh -c "$CMD" >"$T/native.log" 2>&1
rc=$?
NATIVE=$(secs "$t0" "$(now)")
same "the build succeeds natively in the sandbox with ${ROOTFS##*/} as its root ($NATIVE s)" "$rc" "0"

# --- the image
t0=$(now)
"$HERE/../../rootfs/agent-image.sh" "$CLEANROOM" "$KDIR" "$INIT" "$ROOTFS" "$T/agent.eif" >"$T/image.txt" 2>"$T/image.err" ||
	{ not_ok "pack the agent image with ${ROOTFS##*/}" "$(cat "$T/image.err")"; exit 1; }
same "agent-image prints the manifest's tree digest" "$(sed -n 's/^tree //p' "$T/image.txt")" "$(sed -n 's/^tree //p' "$ROOTFS.manifest")"
echo "# EIF with ${ROOTFS##*/}: $(stat -c %s "$T/agent.eif" | awk '{ printf "%.1f MB", $1 / 1e6 }'), packed in $(secs "$t0" "$(now)") s"
MEM=$(stat -c %s "$T/agent.eif" | awk '{ printf "%d", $1 * 3 / 1048576 + 1024 }')
t0=$(now)
agent_start "$T/agent.eif" "$MEM" 600 || { agent_stop; exit 1; }
ok "the agent image with ${ROOTFS##*/} boots (--memory $MEM)"
BOOT=$(secs "$t0" "$(now)")
echo "# boot to heartbeat: $(json_event "$T/run.json" ready boot_to_heartbeat_ms) ms (run start to ready: $BOOT s)"
ROOT=$NSM_ROOT

build() { # build OUTDIR SRC: sets RC, OUT, ERR, SECS
	local b0
	b0=$(now)
	$CLEANROOM build --vsock "$VS" --root "$ROOT" --eif "$T/agent.eif" --out "$T/$1" --deps "$T/deps" \
		"${OUTPUTS[@]}" "$2" -- sh -c "$CMD" >"$T/$1.stdout" 2>"$T/$1.stderr"
	RC=$?
	SECS=$(secs "$b0" "$(now)")
	OUT=$(cat "$T/$1.stdout")
	ERR=$(cat "$T/$1.stderr")
}

# --- build 1
build ok1 "$T/src"
if [ "$RC" = 0 ]; then ok "$BIN builds offline in the enclave from vendored Debian sources"; else
	not_ok "$BIN builds offline in the enclave" "exit $RC: $(echo "$ERR" | tail -4 | tr '\n' ' ')"; fi
B1=$SECS
# "result ... (exit 0, 12.3 s ...)": the build's time in the enclave's sandbox
SBOX1=$(echo "$OUT" | sed -n 's/^result .*(\(.*\))$/\1/p' | grep -o '[0-9.]* s' | head -1 | cut -d' ' -f1)
echo "# build 1: $SECS s wall, $(echo "$OUT" | sed -n 's/^result .*(\(.*\))$/\1/p') in the sandbox"
if $CLEANROOM verify "$T/ok1/cleanroom-bundle.json" "$T/ok1/$BIN" --eif "$T/agent.eif" --root "$ROOT" --source "$T/src" \
	>"$T/verify.out" 2>&1; then ok "cleanroom verify: the report, the image's PCRs, the artifact and the sources"; else
	not_ok "cleanroom verify" "$(grep -i fail "$T/verify.out" | head -3 | tr '\n' ' ')"; fi
same "the reported source tree id is the checkout's git tree" "$(echo "$OUT" | awk '/^source tree/ { print $3 }')" "$git_tree"
case "$PROJECT" in
jp)
	same "the returned jp runs here: a JMESPath query" "$(echo '{"a": {"b": [1, 2, 3]}}' | "$T/ok1/jp" 'a.b[1]' 2>&1)" "2"
	same "... and functions" "$(echo '{"xs": [3, 1, 2]}' | "$T/ok1/jp" 'join(`", "`, [to_string(sort(xs)[0]), to_string(length(xs))])' 2>&1)" '"1, 3"'
	same "... statically linked (CGO_ENABLED=0)" "$(file -b "$T/ok1/jp" | grep -o 'statically linked')" "statically linked"
	;;
pulldown-cmark)
	same "the returned pulldown-cmark runs here: Markdown to HTML" "$(printf '# Title\n\n*one* and `two`\n' | "$T/ok1/pulldown-cmark" 2>&1)" \
		"$(printf '<h1>Title</h1>\n<p><em>one</em> and <code>two</code></p>')"
	same "... and with its options (tables, getopts)" "$(printf '| a |\n|---|\n| 1 |\n' | "$T/ok1/pulldown-cmark" -T 2>&1 | tr -d '\n')" \
		"<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>"
	;;
hexyl)
	same "the returned hexyl runs here: a hex dump" "$(printf 'cleanroom' | "$T/ok1/hexyl" --no-squeezing --color never 2>&1 | sed -n 2p)" \
		"│00000000│ 63 6c 65 61 6e 72 6f 6f ┊ 6d                      │cleanroo┊m       │"
	same "... its version is the packaged one" "$("$T/ok1/hexyl" --version 2>&1)" "hexyl 0.8.0"
	;;
esac
# Rust remaps every path; Go (without -trimpath, see projects.sh) keeps the
# fixed /work/src and GOROOT paths but none of the per-build directories.
case "$LANG_" in
go) leak='/tmp/go-\|/tmp/cargo-home' what="GOPATH, GOCACHE" ;;
rust) leak='/work/\|/tmp/cargo-home\|/tmp/target' what="/work, CARGO_HOME, the target directory" ;;
esac
strings -a "$T/ok1/$BIN" | grep -q "$leak" && not_ok "no per-build paths in the binary" "$(strings -a "$T/ok1/$BIN" | grep -m2 "$leak")" ||
	ok "no per-build paths ($what) in the binary"

if cmp "$T/ok1/$BIN" "$T/native/src/$BIN" >"$T/cmp.out" 2>&1; then ok "the enclave's $BIN is byte-identical to the native build's"; else
	not_ok "the enclave's $BIN is byte-identical to the native build's" "$(head -1 "$T/cmp.out")"; fi

# --- build 2: the same sources again, to the same bytes
build ok2 "$T/src"
same "a second build succeeds" "$RC" "0"
if cmp "$T/ok1/$BIN" "$T/ok2/$BIN" >"$T/cmp.out" 2>&1; then ok "... and gives a byte-identical $BIN ($(stat -c %s "$T/ok1/$BIN") bytes)"; else
	not_ok "... and gives a byte-identical $BIN" "$(head -1 "$T/cmp.out")"; fi
echo "# build 2: $SECS s wall"

# --- build 3: nothing to compile, the same sources and --deps: the time a
# build spends outside the compiler (transfer, sandbox, report, verification),
# on the host's clock (the guest's clock under TCG loses time under load)
CMD_COMPILE=$CMD
CMD='echo > nothing'
OUTPUTS=(--output nothing)
build noop "$T/src"
same "an empty build with the same sources and --deps succeeds" "$RC" "0"
NOOP=$SECS
CMD=$CMD_COMPILE
OUTPUTS=(--output "$BIN")

# --- build 4: without one dependency the offline build fails, nothing comes back
cp -a "$T/deps" "$T/deps-short"
case "$PROJECT" in
jp) want=jmespath ;;
pulldown-cmark) want=memchr ;;
hexyl) want=ansi_term ;;
esac
case "$LANG_" in
go) rm -rf "$T/deps-short/vendor/github.com/$want" ;;
rust) rm -rf "$T/deps-short/vendor/$want"-* ;;
esac
mv "$T/deps" "$T/deps-full"
mv "$T/deps-short" "$T/deps"
build short "$T/src"
mv "$T/deps" "$T/deps-short"
mv "$T/deps-full" "$T/deps"
if [ "$RC" = 1 ] && echo "$ERR" | grep -q "$want" && [ ! -e "$T/short" ]; then
	ok "a missing vendored dependency fails the offline build, naming it ($want), nothing in --out"
else not_ok "a missing vendored dependency fails the build" "exit $RC: $(echo "$ERR" | tail -3 | tr '\n' ' ')"; fi

agent_stop
grep -q "Initramfs unpacking failed" "$T/console.log" && not_ok "the initramfs unpacked whole" "$(grep -m1 'Initramfs unpacking failed' "$T/console.log")" ||
	ok "the initramfs (the ${ROOTFS##*/} tree) unpacked whole"
# Figures, all on the host's clock: the build in the enclave against the same
# build natively (sandbox-exec), and what of it is outside the compiler (the
# empty build: transfer, sandbox, report, verification) and the boot.
awk -v tc="$PROJECT" -v n="$NATIVE" -v w="$B1" -v o="$NOOP" -v b="$BOOT" -v g="$SBOX1" 'BEGIN {
	printf "# figures %s: native (sandbox-exec) %.1f s; enclave (TCG) build %.1f s wall = %.1fx native,", tc, n, w, w / n
	printf " of which outside the compiler %.1f s (an empty build); boot %.1f s (not in the build);", o, b
	printf " the guest clock said %s s\n", g }'
echo "# suite: $(secs "$SUITE0" "$(now)") s"
t_done
