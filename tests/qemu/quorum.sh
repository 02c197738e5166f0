#!/bin/bash
# qemu/quorum: agreement across builders. Four local enclaves (each
# `cleanroom build --local` boot is its own enclave: its own module id and
# signing key), one kept mock-NSM CA so one --root verifies them all:
#   b1 b2 b3  image A (busybox root), the same sources and command
#   b4        image B (image A's root plus one file: other PCRs), the same build
#   b5        image A, other sources
# The build writes out/hello (deterministic) and out/rand (16 random bytes).
# Then `cleanroom verify --quorum` over these bundles: agreement, a missing
# quorum (out/rand), another image (dissenter unless both are allowed), the
# same bundle twice (counted once), K above the builders, other sources, a
# tampered bundle, a file that is not a bundle; and `cleanroom diff` on two
# of the output directories. Five boots; figures in '# ' lines.
#   tests/qemu/quorum.sh CLEANROOM KERNEL_DIR INIT
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
. "$(dirname "$0")/agentlib.sh"
agent_suite_args "$@"
jq_() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); exec("print(" + sys.argv[2] + ")")' "$@"; }

# --- two images: B is A's root with one more file
for img in A B; do
	mkdir -p "$T/root$img/bin" "$T/root$img/etc"
	cp /bin/busybox "$T/root$img/bin/"
	for c in sh cat mkdir head printf; do ln -s busybox "$T/root$img/bin/$c"; done
done
echo "toolchain variant B" >"$T/rootB/etc/variant"
for img in A B; do
	$CLEANROOM eif --kernel "$KDIR/bzImage" --init "$INIT" --nsm-ko "$KDIR/nsm.ko" --rootfs "$T/root$img" \
		-o "$T/$img.eif" >/dev/null 2>"$T/eif.err" || { not_ok "pack image $img" "$(tail -1 "$T/eif.err")"; exit 1; }
done
ok "two images packed (B: one more file in the root)"

# --- the sources: deterministic out/hello, random out/rand
mkdir -p "$T/src" "$T/src2"
printf 'hello from a builder\n' >"$T/src/msg.txt"
printf '#!/bin/sh\nmkdir -p out\ncat msg.txt > out/hello\nhead -c 16 /dev/urandom > out/rand\n' >"$T/src/build.sh"
cp "$T/src/build.sh" "$T/src2/"
printf 'other sources\n' >"$T/src2/msg.txt"

mkdir "$T/ca" # kept: one root for every local enclave
t0=$(date +%s)
lbuild() { # NAME IMAGE SRC: one local enclave, one build into $T/NAME
	$CLEANROOM build --local "$T/$2.eif" --nsm-ca "$T/ca" --out "$T/$1" --output out/hello --output out/rand \
		"$3" -- sh build.sh >"$T/$1.stdout" 2>"$T/$1.stderr"
	local rc=$?
	if [ "$rc" = 0 ] && [ -s "$T/$1/cleanroom-bundle.json" ]; then ok "build $1 on image $2 in its own local enclave"
	else not_ok "build $1 on image $2 in its own local enclave" "exit $rc: $(tail -2 "$T/$1.stderr" | tr '\n' ' ')"; fi
}
lbuild b1 A "$T/src"
lbuild b2 A "$T/src"
lbuild b3 A "$T/src"
lbuild b4 B "$T/src"
lbuild b5 A "$T/src2"
echo "# five local boots and builds: $(($(date +%s) - t0)) s"
ROOT=$T/ca/root.pem
B1=$T/b1/cleanroom-bundle.json B2=$T/b2/cleanroom-bundle.json B3=$T/b3/cleanroom-bundle.json
B4=$T/b4/cleanroom-bundle.json B5=$T/b5/cleanroom-bundle.json

q() { # OUT [verify args...]: sets RC; stdout in $T/OUT, stderr in $T/OUT.err
	local out=$1
	shift
	$CLEANROOM verify --root "$ROOT" "$@" >"$T/v.$out" 2>"$T/v.$out.err"
	RC=$?
}
has() { # NAME FILE REGEX
	if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1" "no /$3/ in: $(head -c 1500 "$2")"; fi
}

# --- all agree on the artifact given as a file
q all --quorum 3 --eif "$T/A.eif" "$B1" "$B2" "$B3" -- "$T/b1/out/hello"
same "three builders agree on out/hello: exit 0" "$RC" 0
has "the table shows 3/3 for out/hello" "$T/v.all" "^$T/b1/out/hello +[0-9a-f]{8} +[0-9a-f]{8} +[0-9a-f]{8} +3/3 quorum$"
has "three builder columns with module id and key fingerprint" "$T/v.all" "^  B3 +$B3"
same "three distinct module ids" "$(grep -o 'module [^,]*' "$T/v.all" | sort -u | wc -l)" 3
same "three distinct key fingerprints" "$(grep -o 'key sha256:[0-9a-f]*' "$T/v.all" | sort -u | wc -l)" 3
has "the verdict line" "$T/v.all" "^quorum: every artifact \(1\) agreed by at least 3 of 3 builders$"
q all.json --quorum 3 --eif "$T/A.eif" --json "$B1" "$B2" "$B3" -- "$T/b1/out/hello"
same "--json: ok, 3 builders, every bundle a builder, out/hello 3 agree" \
	"$(jq_ "$T/v.all.json" 'd["ok"], d["builders"], [b["status"] for b in d["bundles"]], d["artifacts"][0]["agree"], d["artifacts"][0]["quorum"]')" \
	"True 3 ['builder', 'builder', 'builder'] 3 True"
same "--json: every bundle verified in full (its own check list)" \
	"$(jq_ "$T/v.all.json" '[b["verification"]["verified"] for b in d["bundles"]], sorted({c["name"] for c in d["bundles"][0]["verification"]["checks"]} & {"attestation", "signature", "pcrs", "binding.user_data"})')" \
	"[True, True, True] ['attestation', 'binding.user_data', 'pcrs', 'signature']"

# --- the nondeterministic artifact: no quorum
q rand --quorum 2 --eif "$T/A.eif" "$B1" "$B2" "$B3"
same "without files every subject counts: out/rand has no quorum, exit 1" "$RC" 1
has "out/hello still agreed 3/3" "$T/v.rand" "^out/hello +.* 3/3 quorum$"
has "out/rand: no two builders agree, 0/3, NO QUORUM" "$T/v.rand" "^out/rand +[0-9a-f]{8}\\* +[0-9a-f]{8}\\* +[0-9a-f]{8}\\* +0/3 NO QUORUM$"
has "the dissenters on out/rand are named" "$T/v.rand" "^  B2 $B2: artifact out/rand: different digest \\(no two builders agree on it\\)$"
has "stderr says which artifact lacks its quorum" "$T/v.rand.err" "^cleanroom verify: 1 of 2 artifacts without a quorum; out/rand: 0 of 3 builders agree, 2 needed$"
q rand.json --quorum 2 --eif "$T/A.eif" --json "$B1" "$B2" "$B3"
same "--json: out/rand has no quorum, its cells differ" \
	"$(jq_ "$T/v.rand.json" 'd["ok"], [(a["name"], a["quorum"]) for a in d["artifacts"]], [c["status"] for c in d["artifacts"][1]["cells"]]')" \
	"False [('out/hello', True), ('out/rand', False)] ['differ', 'differ', 'differ']"

q one --quorum 1 --eif "$T/A.eif" "$B1" "$B2" "$B3" -- "$T/b2/out/rand"
same "--quorum 1 on B2's out/rand file: B2 alone agrees, exit 0" "$RC" 0
has "... B1 named: different digest from the file" "$T/v.one" "^  B1 $B1: artifact $T/b2/out/rand: different digest from the file$"
has "... the row: 1/3 quorum, B1 and B3 marked" "$T/v.one" "^$T/b2/out/rand +[0-9a-f]{8}\\* +[0-9a-f]{8} +[0-9a-f]{8}\\* +1/3 quorum$"

# --- another image: a dissenter unless both images are allowed
q img --quorum 3 --eif "$T/A.eif" "$B1" "$B2" "$B3" "$B4" -- "$T/b1/out/hello"
same "image B's bundle with only image A allowed: 3 builders still agree, exit 0" "$RC" 0
has "image B's bundle is named as another image" "$T/v.img" "^  bundle 4 $B4: other image: pcrs: pcr 0: mismatch"
q img4 --quorum 4 --eif "$T/A.eif" "$B1" "$B2" "$B3" "$B4" -- "$T/b1/out/hello"
same "--quorum 4 with image B not allowed: exit 1" "$RC" 1
has "... saying only 3 distinct builders agree" "$T/v.img4.err" "^cleanroom verify: --quorum 4: only 3 distinct builders agree on the build \(of 4 bundles"
q both --quorum 4 --eif "$T/A.eif" --eif "$T/B.eif" "$B1" "$B2" "$B3" "$B4" -- "$T/b1/out/hello"
same "both images allowed (--eif twice): four builders agree, exit 0" "$RC" 0
has "... 4/4" "$T/v.both" " 4/4 quorum$"
has "... B4 ran image B" "$T/v.both" "image the EIF $T/B.eif$"
PCRS=$($CLEANROOM describe "$T/B.eif" --json | python3 -c 'import json,sys; m=json.load(sys.stdin)["Measurements"]; print(m["PCR0"], m["PCR1"], m["PCR2"])')
read -r P0 P1 P2 <<<"$PCRS"
q pcrs --quorum 4 --eif "$T/A.eif" --pcr0 "$P0" --pcr1 "$P1" --pcr2 "$P2" "$B1" "$B2" "$B3" "$B4" -- "$T/b1/out/hello"
same "image B allowed as a --pcr0/1/2 set: four builders agree, exit 0" "$RC" 0

# --- the same bundle twice is one builder
q dup --quorum 3 --eif "$T/A.eif" "$B1" "$B1" "$B2" "$B3" -- "$T/b1/out/hello"
same "the same bundle twice among three builders: exit 0" "$RC" 0
has "... named a duplicate builder, counted once" "$T/v.dup" "^  bundle 2 $B1: duplicate builder: the same signed statement as bundle 1 \(same attestation module id\): counted once$"
has "... three columns" "$T/v.dup" "^builders \(3 of 4 bundles\):$"
q dup4 --quorum 4 --eif "$T/A.eif" "$B1" "$B1" "$B2" "$B3" -- "$T/b1/out/hello"
same "K larger than the distinct builders (4 bundles, 3 builders): exit 1" "$RC" 1
has "... with the message" "$T/v.dup4.err" "^cleanroom verify: --quorum 4: only 3 distinct builders agree on the build \(of 4 bundles; the same enclave or the same bundle twice counts once\)$"
q k5 --quorum 5 --eif "$T/A.eif" "$B1" "$B2" "$B3" "$B4"
same "K larger than the bundles given: usage error, exit 2" "$RC" 2
has "... with the message" "$T/v.k5.err" "^cleanroom verify: --quorum 5: more than the 4 bundles given$"

# --- other sources, a tampered bundle, a file that is not a bundle
python3 - "$B2" "$T/tampered.json" <<'EOF'
import base64, json, sys
d = json.load(open(sys.argv[1]))
s = d["dsseEnvelope"]["signatures"][0]
b = bytearray(base64.b64decode(s["sig"])); b[20] ^= 1
s["sig"] = base64.b64encode(bytes(b)).decode()
json.dump(d, open(sys.argv[2], "w"))
EOF
q mixed --quorum 2 --eif "$T/A.eif" "$B1" "$T/tampered.json" "$B3" "$B5" "$T/b1/out/hello" -- "$T/b1/out/hello"
same "two agreeing builders among a tampered bundle, other sources and a non-bundle: exit 0" "$RC" 0
has "the tampered bundle: failed verification, the check named" "$T/v.mixed" "^  bundle 2 $T/tampered.json: failed verification: signature: "
has "other sources: named" "$T/v.mixed" "^  bundle 4 $B5: other source: another source or dependency tree than bundle 1's"
has "a file that is not a bundle: failed verification (bundle)" "$T/v.mixed" "^  bundle 5 $T/b1/out/hello: failed verification: bundle: "
q src --quorum 2 --eif "$T/A.eif" --source "$T/src" "$B1" "$B5" -- "$T/b1/out/hello"
same "--source: the bundle of other sources fails its source check: no quorum of 2, exit 1" "$RC" 1
has "... named as other source (source check)" "$T/v.src" "^  bundle 2 $B5: other source: source: "

# --- cleanroom diff: the nondeterministic artifact found
$CLEANROOM diff "$T/b1" "$T/b2" >"$T/diff" 2>"$T/diff.err"
same "diff of two builders' outputs: they differ, exit 1" "$?" 1
has "... out/rand differs from offset 0, both 16 bytes" "$T/diff" "^differ  out/rand: 16 and 16 bytes, first difference at offset 0"
if grep -q "out/hello" "$T/diff"; then not_ok "... out/hello is not listed" "$(cat "$T/diff")"; else ok "... out/hello is not listed"; fi
$CLEANROOM diff "$T/b1" "$T/b1" >/dev/null 2>&1
same "diff of a directory with itself: exit 0" "$?" 0
t_done
