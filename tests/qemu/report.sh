#!/bin/bash
# qemu/report: the signed report end to end. One agent enclave (busybox
# root, mock NSM) builds twice; `cleanroom build` verifies each report before
# it writes anything; `cleanroom verify` then passes on the untouched bundle
# and fails the tamper matrix, each case with its named check.
#   tests/qemu/report.sh CLEANROOM KERNEL_DIR INIT
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
. "$(dirname "$0")/agentlib.sh"
agent_suite_args "$@"

mkdir -p "$T/root/bin"
cp /bin/busybox "$T/root/bin/"
for c in sh echo cat mkdir printf; do ln -s busybox "$T/root/bin/$c"; done
agent_boot "$T/root" || exit 1
ROOT=$NSM_ROOT
[ -s "$ROOT" ] || { not_ok "the run names its mock NSM's root" "no nsm_root in the ready event"; exit 1; }
ok "the agent image boots; its mock NSM's root is $ROOT"

# --- the sources: a git repository, so the tree can be pinned by commit
mkdir -p "$T/src/sub"
printf 'hello from the enclave\n' >"$T/src/msg.txt"
printf '#!/bin/sh\nmkdir -p bin\ncat msg.txt > bin/hello\nprintf "lib:%%s\\n" "$1" > sub/lib.a\n' >"$T/src/build.sh"
(cd "$T/src" && git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm one) ||
	{ not_ok "a git repository of the sources" "git failed"; exit 1; }

build() { # OUTDIR [options] -- CMD...: sets RC, ERR; JSON summary in OUTDIR.json
	local out=$1
	shift
	$CLEANROOM build --vsock "$VS" --out "$T/$out" --json "$@" >"$T/$out.json" 2>"$T/$out.stderr"
	RC=$?
	ERR=$(cat "$T/$out.stderr")
}
jq_() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); exec("print(" + sys.argv[2] + ")")' "$@"; }

build a --root "$ROOT" --eif "$T/agent.eif" --output bin/hello --output sub/lib.a "$T/src" -- sh build.sh A
same "a build with its report verified by 'cleanroom build' (exit 0)" "$RC" "0"
[ "$RC" = 0 ] || echo "# $ERR" | tail -3
same "the bundle (and its standard forms) is written beside the artifacts" "$(cd "$T/a" && find . -type f | sort | tr '\n' ' ')" \
	"./bin/hello ./cleanroom-bundle.json ./cleanroom.attestation.cbor ./cleanroom.intoto.jsonl ./cleanroom.sigstore.json ./sub/lib.a "
same "build --json: the report verified, with every check passed or skipped" \
	"$(jq_ "$T/a.json" 'd["report"]["verified"], sorted({c["status"] for c in d["report"]["checks"]})')" "True ['pass', 'skip']"
same "build --json: PCRs pinned to the EIF, nonce checked" \
	"$(jq_ "$T/a.json" '[c["status"] for c in d["report"]["checks"] if c["name"] in ("pcrs", "nonce")]')" "['pass', 'pass']"
NONCE_A=$(jq_ "$T/a.json" 'd["nonce"]')
PCR0=$($CLEANROOM describe "$T/agent.eif" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["Measurements"]["PCR0"])')
same "the statement's PCR0 is the EIF's" "$(jq_ "$T/a.json" 'd["report"]["statement"]["pcr0"]')" "$PCR0"

build b --root "$ROOT" --eif "$T/agent.eif" --output bin/hello --output sub/lib.a "$T/src" -- sh build.sh B
same "a second build (other contents of sub/lib.a)" "$RC" "0"
NONCE_B=$(jq_ "$T/b.json" 'd["nonce"]')

# --- cleanroom verify on the untouched bundle
V=("$T/a/cleanroom-bundle.json" "$T/a/bin/hello" "$T/a/sub/lib.a" --root "$ROOT" --eif "$T/agent.eif" --nonce "$NONCE_A")
$CLEANROOM verify "${V[@]}" --git-commit HEAD --repo "$T/src" >"$T/v.out" 2>"$T/v.err"
rc=$?
same "verify: the bundle, both artifacts, the image, the nonce and the git commit pass (exit 0)" "$rc" "0"
[ "$rc" = 0 ] || cat "$T/v.out" | sed 's/^/# /'
same "verify: every check is listed as pass (besides the build.log note)" "$(grep -v '^note  build.log ' "$T/v.out" | grep -vc '^pass ')" "1"
tail -1 "$T/v.out" | grep -qx verified && ok "verify: the last line says verified" || not_ok "verify: the last line says verified" "$(tail -1 "$T/v.out")"
check "verify: --source DIR gives the same tree as the commit" $CLEANROOM verify "${V[@]}" --source "$T/src"
$CLEANROOM verify "${V[@]}" --json >"$T/v.json" 2>/dev/null
same "verify --json: verified, 13 checks, the subjects named" \
	"$(jq_ "$T/v.json" 'd["verified"], len(d["checks"]), [s["name"] for s in d["statement"]["subjects"]]')" \
	"True 13 ['bin/hello', 'sub/lib.a']"
GIT_TREE=$(git -C "$T/src" rev-parse 'HEAD^{tree}')
same "the statement's source tree is git's tree of the commit" "$(jq_ "$T/v.json" 'd["statement"]["source_tree_sha1"]')" "$GIT_TREE"

# --- the tamper matrix: exit 1, the failing check on stdout and on stderr
vfail() { # NAME CHECK [verify args...]
	local name=$1 chk=$2 rc
	shift 2
	$CLEANROOM verify "$@" >"$T/f.out" 2>"$T/f.err"
	rc=$?
	if [ "$rc" != 1 ]; then not_ok "$name" "exit $rc, want 1: $(cat "$T/f.err")"
	elif ! grep -q "^FAIL  $chk " "$T/f.out"; then not_ok "$name" "no FAIL line for '$chk': $(grep FAIL "$T/f.out" | head -2 | tr '\n' ' ')"
	elif [ "$(wc -l <"$T/f.err")" != 1 ] || ! grep -q "^cleanroom verify: $chk" "$T/f.err"; then not_ok "$name" "stderr: $(cat "$T/f.err")"
	else ok "$name"; fi
}
mkdir "$T/t"
cp "$T/a/bin/hello" "$T/t/hello"
printf 'X' | dd of="$T/t/hello" bs=1 seek=3 conv=notrunc 2>/dev/null
mkdir -p "$T/t/bin" && mv "$T/t/hello" "$T/t/bin/hello"
vfail "tamper: a byte flipped in an artifact" "artifact $T/t/bin/hello" "$T/a/cleanroom-bundle.json" "$T/t/bin/hello" --root "$ROOT"

rewrap() { # FIELD OFFSET OUT: flip one byte of a base64 field of bundle A
	python3 - "$T/a/cleanroom-bundle.json" "$@" <<'EOF'
import base64, json, sys
src, field, off, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
d = json.load(open(src))
path = {"payload": ("dsseEnvelope", "payload"), "sig": ("dsseEnvelope", "signatures", 0, "sig"), "attestation": ("attestation",)}[field]
o = d
for k in path[:-1]: o = o[k]
b = bytearray(base64.b64decode(o[path[-1]]))
if field == "payload":  # a hex digit of the build log's digest: the JSON stays valid (the
    # source tree id is recorded twice, so flipping one copy fails the parse, not the signature)
    off = b.index(b'"sha256":"', b.index(b'"byproducts":')) + 10
    while chr(b[off]) not in "0123456789": off += 1  # a digit ^ 1 is a digit
b[off if off >= 0 else len(b) + off] ^= 0x01
o[path[-1]] = base64.b64encode(bytes(b)).decode()
json.dump(d, open(out, "w"), indent=2)
EOF
}
rewrap payload 0 "$T/t/stmt.json"
vfail "tamper: a byte flipped in the statement fails the signature" signature "$T/t/stmt.json" --root "$ROOT"
rewrap sig 20 "$T/t/sig.json"
vfail "tamper: a byte flipped in the signature" signature "$T/t/sig.json" --root "$ROOT"
rewrap attestation -20 "$T/t/att.json"
vfail "tamper: a byte flipped in the attestation document" attestation "$T/t/att.json" --root "$ROOT"
Z=$(printf '0%.0s' $(seq 96))
vfail "tamper: wrong expected PCRs" pcrs "${V[@]:0:5}" --pcr0 "$Z" --pcr1 "$Z" --pcr2 "$Z"
vfail "tamper: the wrong root (the AWS root for a mock-NSM bundle)" attestation "$T/a/cleanroom-bundle.json"
printf 'changed\n' >>"$T/src/msg.txt"
(cd "$T/src" && git -c user.name=t -c user.email=t@t commit -qam two)
vfail "tamper: the wrong git commit" source "${V[@]}" --git-commit HEAD --repo "$T/src"
vfail "tamper: the wrong source directory" source "${V[@]}" --source "$T/src"
vfail "tamper: a bundle from another build paired with these artifacts" "artifact $T/a/sub/lib.a" \
	"$T/b/cleanroom-bundle.json" "$T/a/bin/hello" "$T/a/sub/lib.a" --root "$ROOT" --eif "$T/agent.eif"
vfail "tamper: a replayed bundle (another build's nonce expected)" nonce "${V[@]:0:7}" --nonce "$NONCE_B"
printf '{"mediaType": "x"}' >"$T/t/junk.json"
vfail "a file that is not a bundle" bundle "$T/t/junk.json"

# --- usage errors: exit 2 with one line
u() { # NAME PATTERN ARGS...
	local name=$1 pat=$2 rc
	shift 2
	$CLEANROOM verify "$@" >/dev/null 2>"$T/u.err"
	rc=$?
	if [ "$rc" = 2 ] && grep -Eq -- "$pat" "$T/u.err"; then ok "$name"; else not_ok "$name" "exit $rc: $(cat "$T/u.err")"; fi
}
u "verify: no bundle is a usage error" "missing BUNDLE"
u "verify: --pcr0 alone is refused" "all of --pcr0, --pcr1 and --pcr2" "$T/a/cleanroom-bundle.json" --pcr0 "$Z"
u "verify: a short PCR is refused naming the option" "--pcr1: expected 96 hex" "$T/a/cleanroom-bundle.json" --pcr1 abcd
u "verify: --eif with --pcrN is refused" "not both" "$T/a/cleanroom-bundle.json" --eif "$T/agent.eif" --pcr0 "$Z"
u "verify: a missing bundle file names it" "nosuch.json" "$T/nosuch.json"
u "verify: an unknown commit names it" "'nope' is not a commit" "$T/a/cleanroom-bundle.json" --git-commit nope --repo "$T/src"

# --- cleanroom build refuses an unverifiable report and writes nothing
build c --eif "$T/agent.eif" --output bin/hello "$T/src" -- sh build.sh C
if [ "$RC" = 6 ] && echo "$ERR" | grep -q "report: attestation:.*pass --root" && [ ! -e "$T/c" ]; then
	ok "build --vsock without the run's root: exit 6, the failing check named, nothing written"
else not_ok "build --vsock without the run's root: exit 6, the failing check named, nothing written" "exit $RC: $(echo "$ERR" | tail -1)"; fi
build d --root "$ROOT" --pcr0 "$Z" --pcr1 "$Z" --pcr2 "$Z" --output bin/hello "$T/src" -- sh build.sh D
if [ "$RC" = 6 ] && echo "$ERR" | grep -q "report: pcrs: pcr 0: mismatch" && [ ! -e "$T/d" ]; then
	ok "build pinned to another image: exit 6 (pcrs), nothing written"
else not_ok "build pinned to another image: exit 6 (pcrs), nothing written" "exit $RC: $(echo "$ERR" | tail -1)"; fi

kill -TERM $RUN 2>/dev/null
wait $RUN
grep -q "Kernel panic" "$T/console.log" && not_ok "no kernel panic" "$(grep -m1 -A2 'Kernel panic' "$T/console.log")" || ok "no kernel panic on the console"

# --- an enclave without an NSM (no nsm.ko: no /dev/nsm) cannot sign: each
# build is refused with the reason (exit 6, nothing written) and the agent
# keeps serving. (NSM Error and garbage answers: tests/unit/test_report.)
$CLEANROOM eif --kernel "$KDIR/bzImage" --init "$INIT" --rootfs "$T/root" -o "$T/nonsm.eif" >/dev/null
mkdir "$T/v2"
$CLEANROOM run "$T/nonsm.eif" --vsock-dir "$T/v2" --json --console "$T/console2.log" --memory 256 >"$T/run2.json" 2>"$T/run2.err" &
RUN=$!
for _ in $(seq 1 300); do [ -n "$(json_event "$T/run2.json" ready vsock)" ] && break; kill -0 $RUN 2>/dev/null || break; sleep 0.1; done
VS=$(json_event "$T/run2.json" ready vsock)
for i in 1 2; do
	build n$i --output bin/hello "$T/src" -- sh build.sh N
	if [ "$RC" = 6 ] && echo "$ERR" | grep -q "report: the enclave sent no signed report (built, but the signed report could not be made: report: .*/dev/nsm" && [ ! -e "$T/n$i" ]; then
		ok "no NSM in the enclave, build $i on the same agent: exit 6 naming /dev/nsm, nothing written"
	else not_ok "no NSM in the enclave, build $i on the same agent: exit 6 naming /dev/nsm, nothing written" "exit $RC: $(echo "$ERR" | tail -1)"; fi
done
kill -TERM $RUN 2>/dev/null
wait $RUN
t_done
