#!/bin/bash
# cleanroom attestation show / verify, end to end on the real documents of
# $SHARED/testvectors/nitro-attestation: exit codes, one-line failures that
# name the check, --json, --at, --pcr, --nonce and --root.
. "$(dirname "$0")/lib.sh"
T=$T_TMP
[ -x "$CLEANROOM" ] || { not_ok "setup" "$CLEANROOM is not built"; exit 1; }

# status NAME WANT COMMAND...: the command exits with status WANT.
status() {
	local name=$1 want=$2 rc
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$name"; else not_ok "$name" "exit $rc, want $want: $(head -2 "$T/err")"; fi
}

# --- usage, without any document
status "--help exits 0" 0 $CLEANROOM attestation --help
grep -q 'Exit status' "$T/out" && grep -q -- '--root PEM' "$T/out" && grep -q 'examples:' "$T/out" &&
	ok "--help explains options, exit codes and examples" || not_ok "--help content" "$(head -3 "$T/out")"
status "verify --help exits 0" 0 $CLEANROOM attestation verify --help
status "no subcommand is a usage error" 2 $CLEANROOM attestation
status "an unknown subcommand is a usage error" 2 $CLEANROOM attestation check x
status "verify without a document is a usage error" 2 $CLEANROOM attestation verify
status "show takes no --pcr" 2 $CLEANROOM attestation show x --pcr 0=00
status "--pcr without = is a usage error" 2 $CLEANROOM attestation verify x --pcr 0
status "--pcr 32 is a usage error" 2 $CLEANROOM attestation verify x --pcr "32=$(printf '%096d' 0)"
status "--pcr with 47 bytes is a usage error" 2 $CLEANROOM attestation verify x --pcr "0=$(printf '%094d' 0)"
status "--pcr twice for one index is a usage error" 2 $CLEANROOM attestation verify x \
	--pcr "1=$(printf '%096d' 0)" --pcr "1=$(printf '%096d' 0)"
status "--at in another format is a usage error" 2 $CLEANROOM attestation verify x --at yesterday
status "--nonce with odd hex is a usage error" 2 $CLEANROOM attestation verify x --nonce abc
expect_fail "a missing document fails in one line" "missing\.cbor: No such file" \
	$CLEANROOM attestation verify "$T/missing.cbor"
printf 'not cbor at all' >"$T/junk"
expect_fail "a non-CBOR file fails at cose" "verify: cose: " $CLEANROOM attestation verify "$T/junk"
expect_fail "show of a non-CBOR file fails" "show: .*junk: cose: " $CLEANROOM attestation show "$T/junk"

V=${SHARED:+$SHARED/testvectors/nitro-attestation}
if [ -z "$V" ] || [ ! -f "$V/MANIFEST.json" ]; then
	skip "real attestation documents" "SHARED is not set"
	t_done
	exit
fi

# One line per document: file timestamp_ms pcr0
python3 - "$V/MANIFEST.json" >"$T/docs" <<'EOF'
import json, sys
for d in json.load(open(sys.argv[1])):
    print(d["file"], d["timestamp_ms"], d["pcr0"])
EOF
while read -r f ts pcr0; do
	doc=$V/$f
	s=$((ts / 1000))
	status "$f: show exits 0" 0 $CLEANROOM attestation show "$doc"
	grep -q "^pcrs         16" "$T/out" && grep -q "^cabundle\[3\]" "$T/out" &&
		ok "$f: show lists 16 PCRs and 4 cabundle certificates" || not_ok "$f: show output" "$(head -5 "$T/out")"
	status "$f: show --json exits 0" 0 $CLEANROOM attestation show "$doc" --json
	got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["pcrs"]), d["pcrs"]["0"], d["timestamp"], len(d["cabundle"]), d["cabundle"][0]["subject"])' "$T/out" 2>&1)
	same "$f: show --json has the PCRs, timestamp and certificates" "$got" "16 $pcr0 $ts 4 C=US, O=Amazon, OU=AWS, CN=aws.nitro-enclaves"
	status "$f: verify exits 0" 0 $CLEANROOM attestation verify "$doc"
	grep -q "^attestation  OK" "$T/out" && ok "$f: verify says OK" || not_ok "$f: verify output" "$(head -2 "$T/out")"
	status "$f: verify with its PCR0 exits 0" 0 $CLEANROOM attestation verify "$doc" --pcr "0=$pcr0"
	expect_fail "$f: one day later the leaf has expired" "^cleanroom attestation verify: chain: leaf \(CN=.*\) expired at " \
		$CLEANROOM attestation verify "$doc" --at $((s + 86400))
	expect_fail "$f: one day earlier it is not yet valid" "chain: leaf \(CN=.*\) is not valid before " \
		$CLEANROOM attestation verify "$doc" --at $((s - 86400))
	expect_fail "$f: another PCR0 fails naming pcr 0" "verify: pcr 0: mismatch \(document $pcr0, expected " \
		$CLEANROOM attestation verify "$doc" --pcr "0=$(printf '%096d' 7)"
	expect_fail "$f: another nonce fails" "verify: nonce: mismatch" \
		$CLEANROOM attestation verify "$doc" --nonce 00ff
done <"$T/docs"

svr2=$V/svr2_valid_bytes.cbor
status "--at accepts RFC 3339" 0 $CLEANROOM attestation verify "$svr2" --at 2023-05-17T22:27:43Z
status "--at accepts Unix seconds" 0 $CLEANROOM attestation verify "$svr2" --at 1684362463
status "--root with the AWS root PEM verifies" 0 $CLEANROOM attestation verify "$svr2" --root "$V/aws_nitro_enclaves_root_g1.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$T/k.pem" -subj /CN=other \
	-days 1 -out "$T/other.pem" 2>/dev/null
expect_fail "--root with another root fails at the chain" "chain: cabundle\[0\] is not the trusted root" \
	$CLEANROOM attestation verify "$svr2" --root "$T/other.pem"
expect_fail "--root with a file that is not PEM fails" "verify: --root: .*: PEM: no object" \
	$CLEANROOM attestation verify "$svr2" --root "$T/junk"

python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[160]^=1; open(sys.argv[2],"wb").write(b)' "$svr2" "$T/flip.cbor"
expect_fail "svr2 with bit 0 of byte 160 flipped fails the signature" \
	"verify: signature: ECDSA P-384 signature over the Sig_structure does not verify" \
	$CLEANROOM attestation verify "$T/flip.cbor"
head -c 4000 "$svr2" >"$T/short.cbor"
expect_fail "a truncated document fails at cose" "verify: cose: COSE_Sign1: truncated" \
	$CLEANROOM attestation verify "$T/short.cbor"

status "verify --json exits 0" 0 $CLEANROOM attestation verify "$svr2" --json
got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["ok"], d["verified_at"], d["document"]["module_id"])' "$T/out" 2>&1)
same "verify --json reports ok, the time and the document" "$got" "True 2023-05-17T21:21:51Z i-09b153b9b6859a1de-enc01882b95cd0e8a90"
status "a failing verify --json exits 1" 1 $CLEANROOM attestation verify "$svr2" --json --at 1
got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["ok"], d["check"], d["error"][:13])' "$T/out" 2>&1)
same "... and reports the failed check in JSON" "$got" "False chain chain: leaf ("
[ "$(wc -l <"$T/err")" -eq 1 ] && ok "... and one line on stderr" || not_ok "failing --json stderr" "$(cat "$T/err")"
status "verify --json --at 0 exits 1" 1 $CLEANROOM attestation verify "$svr2" --json --at 0
same "... and names the time it used, 1970 (0 is a time)" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("verified_at"))' "$T/out" 2>&1)" "1970-01-01T00:00:00Z"
nl_root="$T/root
line.pem"
cp "$V/aws_nitro_enclaves_root_g1.pem" "$nl_root"
status "--root whose path has a newline verifies" 0 $CLEANROOM attestation verify "$svr2" --root "$nl_root"
same "... and its 'trusted root' line stays one line, the newline escaped" \
	"$(grep -c '^trusted root .*root\\nline.pem)$' "$T/out"):$(grep -c '^line.pem' "$T/out")" "1:0"
t_done
