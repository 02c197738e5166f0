#!/bin/bash
# qemu/std-provenance: the report in the standard forms, and other verifiers
# reaching cleanroom's verdict. One agent enclave (busybox root, mock NSM)
# builds once; `cleanroom verify` passes on all three forms with the same
# checks and exports the attested key; Debian's securesystemslib verifies the
# .intoto.jsonl and the Sigstore JavaScript verifier (@sigstore/verify, npm ci
# from tests/verifiers/package-lock.json) the Sigstore bundle with that key;
# a flipped payload byte, a flipped signature byte and another key are
# refused by all three.
#   tests/qemu/std-provenance.sh CLEANROOM KERNEL_DIR INIT SIGSTORE_JS_DIR
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
. "$(dirname "$0")/agentlib.sh"
agent_suite_args "$@"
VDIR=$(cd "$(dirname "$0")/../verifiers" && pwd)
JSDIR=$(realpath -m "$ARG4")
SSLIB=(/usr/bin/python3 "$VDIR/sslib_verify.py")
SJS=(node "$VDIR/sigstore_verify.js" "$JSDIR")
jq_() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); exec("print(" + sys.argv[2] + ")")' "$@"; }

# --- the verifiers: installed from the pinned lock, or the suite fails
rm -rf "$JSDIR" && mkdir -p "$JSDIR" && cp "$VDIR/package.json" "$VDIR/package-lock.json" "$JSDIR/"
if (cd "$JSDIR" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline >"$T/npm.log" 2>&1) &&
	[ -f "$JSDIR/node_modules/@sigstore/verify/package.json" ]; then
	ok "npm ci installs @sigstore/verify $(jq_ "$JSDIR/node_modules/@sigstore/verify/package.json" 'd["version"]') from the committed lock"
else
	not_ok "npm ci installs @sigstore/verify from the committed lock" "$(tail -3 "$T/npm.log" | tr '\n' ' ')"
	exit 1
fi
if /usr/bin/python3 -c 'import securesystemslib.signer' 2>"$T/py.err"; then
	ok "securesystemslib $(/usr/bin/python3 -c 'import securesystemslib; print(securesystemslib.__version__)') imports"
else
	not_ok "securesystemslib imports (python3-securesystemslib)" "$(tail -1 "$T/py.err")"
	exit 1
fi

# --- one build
mkdir -p "$T/root/bin"
cp /bin/busybox "$T/root/bin/"
for c in sh echo cat mkdir printf; do ln -s busybox "$T/root/bin/$c"; done
agent_boot "$T/root" || exit 1
ROOT=$NSM_ROOT
mkdir -p "$T/src"
printf 'hello from the enclave\n' >"$T/src/msg.txt"
printf '#!/bin/sh\nmkdir -p bin\ncat msg.txt > bin/hello\n' >"$T/src/build.sh"
$CLEANROOM build --vsock "$VS" --out "$T/a" --json --root "$ROOT" --eif "$T/agent.eif" --output bin/hello \
	"$T/src" -- sh build.sh >"$T/a.json" 2>"$T/a.stderr"
RC=$?
same "a build with its report verified (exit 0)" "$RC" "0"
[ "$RC" = 0 ] || { tail -3 "$T/a.stderr" | sed 's/^/# /'; exit 1; }
same "the report's four files land beside the artifact" "$(cd "$T/a" && find . -type f | sort | tr '\n' ' ')" \
	"./bin/hello ./cleanroom-bundle.json ./cleanroom.attestation.cbor ./cleanroom.intoto.jsonl ./cleanroom.sigstore.json "
NONCE=$(jq_ "$T/a.json" 'd["nonce"]')
B=$T/a/cleanroom-bundle.json J=$T/a/cleanroom.intoto.jsonl S=$T/a/cleanroom.sigstore.json
ATT=(--attestation "$T/a/cleanroom.attestation.cbor")
POL=("$T/a/bin/hello" --root "$ROOT" --eif "$T/agent.eif" --nonce "$NONCE")
same "the .intoto.jsonl is one line" "$(wc -l <"$J") $(python3 -c 'import json,sys; print(sorted(json.loads(open(sys.argv[1]).readline())))' "$J")" \
	"1 ['payload', 'payloadType', 'signatures']"
same "the Sigstore bundle: v0.3, a publicKey hint, no tlog entries, nothing else" \
	"$(jq_ "$S" 'd["mediaType"], sorted(d), sorted(d["verificationMaterial"]), d["verificationMaterial"]["tlogEntries"], len(d["verificationMaterial"]["publicKey"]["hint"])')" \
	"application/vnd.dev.sigstore.bundle.v0.3+json ['dsseEnvelope', 'mediaType', 'verificationMaterial'] ['publicKey', 'tlogEntries'] [] 64"

# --- cleanroom verify: every form, the same checks, the same key
checks() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(c["name"] + "=" + c["status"] for c in d["checks"] if c["name"] != "bundle"), d["verified"])' "$1"; }
$CLEANROOM verify "$B" "${POL[@]}" --json --key-out "$T/key-b.pem" >"$T/vb.json" 2>"$T/vb.err"
same "verify cleanroom-bundle.json: verified (exit 0)" "$?" "0"
$CLEANROOM verify "$S" "${POL[@]}" "${ATT[@]}" --json --key-out "$T/key-s.pem" >"$T/vs.json" 2>"$T/vs.err"
same "verify cleanroom.sigstore.json --attestation: verified (exit 0)" "$?" "0"
$CLEANROOM verify "$J" "${POL[@]}" "${ATT[@]}" --json --key-out "$T/key.pem" >"$T/vj.json" 2>"$T/vj.err"
same "verify cleanroom.intoto.jsonl --attestation: verified (exit 0)" "$?" "0"
same "the three forms pass exactly the same checks" "$(checks "$T/vs.json")|$(checks "$T/vj.json")" "$(checks "$T/vb.json")|$(checks "$T/vb.json")"
same "verify --json names each form in its 'bundle' check" \
	"$(for f in vb vs vj; do jq_ "$T/$f.json" '[c["detail"].split(",")[0] for c in d["checks"] if c["name"] == "bundle"][0]'; done | tr '\n' '|')" \
	"application/vnd.cleanroom.bundle.v1+json|application/vnd.dev.sigstore.bundle.v0.3+json|DSSE envelope (.intoto.jsonl)|"
if cmp -s "$T/key-b.pem" "$T/key.pem" && cmp -s "$T/key-s.pem" "$T/key.pem"; then ok "--key-out writes the same key from every form"; else not_ok "--key-out writes the same key from every form" "they differ"; fi
same "verify --json: public_key is P-256, its PEM is --key-out's, its keyid the hint" \
	"$(jq_ "$T/vj.json" 'd["public_key"]["curve"], d["public_key"]["pem"] == open(sys.argv[3]).read(), d["public_key"]["keyid"] == json.load(open(sys.argv[4]))["verificationMaterial"]["publicKey"]["hint"]' "$T/key.pem" "$S")" \
	"P-256 True True"
openssl pkey -pubin -in "$T/key.pem" -noout -text 2>/dev/null | grep -q 'NIST CURVE: P-256' &&
	ok "openssl reads the exported key as a P-256 public key" || not_ok "openssl reads the exported key as a P-256 public key" "$(openssl pkey -pubin -in "$T/key.pem" -noout -text 2>&1 | head -3)"
same "the signature check says ECDSA P-256/SHA-256" "$(jq_ "$T/vj.json" '[c["detail"] for c in d["checks"] if c["name"] == "signature"][0]')" \
	"DSSE ECDSA P-256/SHA-256 by the bound key"

# --- the other verifiers on the untouched files
out=$("${SSLIB[@]}" "$J" "$T/key.pem" 2>&1)
same "securesystemslib verifies cleanroom.intoto.jsonl with the exported key: $out" "$?" "0"
out=$("${SJS[@]}" "$S" "$T/key.pem" 2>&1)
same "sigstore-js verifies cleanroom.sigstore.json with the exported key: $out" "$?" "0"

# --- tampered copies: each refused by all three
mkdir -p "$T/t"
openssl ecparam -name prime256v1 -genkey -noout -out "$T/t/other.key" 2>/dev/null &&
	openssl ec -in "$T/t/other.key" -pubout -out "$T/t/other.pem" 2>/dev/null
tamper() { # WHAT(payload|sig) IN OUT: flip one byte of the envelope, re-encoded (the JSON stays valid)
	python3 - "$@" <<'EOF'
import base64, json, sys
what, src, out = sys.argv[1:4]
text = open(src).read()
d = json.loads(text)
env = d.get("dsseEnvelope", d)
if what == "payload":  # a digit of the build log's digest: the statement still parses
    b = bytearray(base64.b64decode(env["payload"]))
    off = b.index(b'"sha256":"', b.index(b'"byproducts":')) + 10
    while chr(b[off]) not in "0123456789": off += 1
    b[off] ^= 0x01
    env["payload"] = base64.b64encode(bytes(b)).decode()
else:
    b = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
    b[len(b) // 2] ^= 0x01
    env["signatures"][0]["sig"] = base64.b64encode(bytes(b)).decode()
with open(out, "w") as f:
    if "dsseEnvelope" in d: json.dump(d, f, indent=2)
    else: f.write(json.dumps(d, separators=(",", ":")) + "\n")
EOF
}
crv_fail() { # NAME FILE [args]: cleanroom verify exits 1 with FAIL signature
	local name=$1 f=$2 rc
	shift 2
	$CLEANROOM verify "$f" "${POL[@]}" "$@" --key-out "$T/t/never.pem" >"$T/t/v.out" 2>"$T/t/v.err"
	rc=$?
	if [ "$rc" = 1 ] && grep -q '^FAIL  signature ' "$T/t/v.out" && [ ! -e "$T/t/never.pem" ]; then ok "$name"
	else not_ok "$name" "exit $rc: $(head -1 "$T/t/v.err")"; fi
}
refused() { # NAME PATTERN CMD...: exit 1 and PATTERN in the output
	local name=$1 pat=$2 rc out
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && echo "$out" | grep -q -- "$pat"; then ok "$name"; else not_ok "$name" "exit $rc: $out"; fi
}
for what in payload sig; do
	tamper $what "$J" "$T/t/$what.intoto.jsonl"
	tamper $what "$S" "$T/t/$what.sigstore.json"
	refused "securesystemslib refuses the .intoto.jsonl with a $what byte flipped" "no signature verifies" \
		"${SSLIB[@]}" "$T/t/$what.intoto.jsonl" "$T/key.pem"
	refused "sigstore-js refuses the Sigstore bundle with a $what byte flipped" "SIGNATURE_ERROR" \
		"${SJS[@]}" "$T/t/$what.sigstore.json" "$T/key.pem"
	crv_fail "cleanroom verify refuses the .intoto.jsonl with a $what byte flipped ('signature', no key written)" \
		"$T/t/$what.intoto.jsonl" "${ATT[@]}"
	crv_fail "cleanroom verify refuses the Sigstore bundle with a $what byte flipped ('signature', no key written)" \
		"$T/t/$what.sigstore.json" "${ATT[@]}"
done
refused "securesystemslib refuses the envelope with another key" "no signature verifies" "${SSLIB[@]}" "$J" "$T/t/other.pem"
refused "sigstore-js refuses the bundle with another key under the bundle's hint" "SIGNATURE_ERROR" \
	"${SJS[@]}" "$S" "$T/t/other.pem" --under-hint
refused "sigstore-js finds no trusted key for the hint when given another key" "key not found" \
	"${SJS[@]}" "$S" "$T/t/other.pem"
# another key for cleanroom verify: the attestation document is what names
# the key, so pair the envelope with the document of another build's key
$CLEANROOM build --vsock "$VS" --out "$T/b" --json --root "$ROOT" --eif "$T/agent.eif" --output bin/hello \
	"$T/src" -- sh build.sh >"$T/b.json" 2>"$T/b.stderr"
same "a second build (a fresh enclave key)" "$?" "0"
$CLEANROOM verify "$J" --root "$ROOT" --attestation "$T/b/cleanroom.attestation.cbor" >"$T/t/v.out" 2>&1
if [ "$?" = 1 ] && grep -q '^FAIL  signature ' "$T/t/v.out"; then
	ok "cleanroom verify refuses the envelope with another build's key (its attestation document)"
else not_ok "cleanroom verify refuses the envelope with another build's key (its attestation document)" "$(grep FAIL "$T/t/v.out" | head -2 | tr '\n' ' ')"; fi
$CLEANROOM verify "$T/b/cleanroom-bundle.json" --root "$ROOT" --key-out "$T/t/b-key.pem" >/dev/null 2>&1
refused "securesystemslib refuses this build's envelope with the second build's key" "no signature verifies" \
	"${SSLIB[@]}" "$J" "$T/t/b-key.pem"
refused "sigstore-js refuses this build's bundle with the second build's key" "key not found" \
	"${SJS[@]}" "$S" "$T/t/b-key.pem"

# --- what cleanroom verify asks of the forms
$CLEANROOM verify "$S" "${POL[@]}" >"$T/t/v.out" 2>"$T/t/v.err"
if [ "$?" = 1 ] && grep -q '^FAIL  bundle .*no attestation document' "$T/t/v.out"; then
	ok "verify: a Sigstore bundle without --attestation fails 'bundle', saying so"
else not_ok "verify: a Sigstore bundle without --attestation fails 'bundle', saying so" "$(head -1 "$T/t/v.err")"; fi
$CLEANROOM verify "$B" "${POL[@]}" "${ATT[@]}" >"$T/t/v.out" 2>"$T/t/v.err"
if [ "$?" = 1 ] && grep -q '^FAIL  bundle .*carries its own attestation document' "$T/t/v.out"; then
	ok "verify: cleanroom-bundle.json with --attestation fails 'bundle'"
else not_ok "verify: cleanroom-bundle.json with --attestation fails 'bundle'" "$(head -1 "$T/t/v.err")"; fi
$CLEANROOM verify "$J" --attestation "$T/nosuch.cbor" >/dev/null 2>"$T/t/v.err"
if [ "$?" = 2 ] && grep -q -- "--attestation.*nosuch.cbor" "$T/t/v.err"; then ok "verify: a missing --attestation file is a usage error naming it"
else not_ok "verify: a missing --attestation file is a usage error naming it" "$(cat "$T/t/v.err")"; fi
$CLEANROOM verify "$J" "${POL[@]}" --attestation "$B" >"$T/t/v.out" 2>&1
if [ "$?" = 1 ] && grep -q '^FAIL  attestation ' "$T/t/v.out"; then ok "verify: a JSON file given as --attestation fails 'attestation'"
else not_ok "verify: a JSON file given as --attestation fails 'attestation'" "$(grep FAIL "$T/t/v.out" | head -1)"; fi

for n in cleanroom-bundle.json cleanroom.intoto.jsonl cleanroom.sigstore.json cleanroom.attestation.cbor; do
	$CLEANROOM build --vsock "$VS" --out "$T/r" --output "$n" "$T/src" -- sh build.sh >/dev/null 2>"$T/t/r.err"
	if [ "$?" = 2 ] && grep -q -- "--output $n: that name is one of the signed report's files" "$T/t/r.err" && [ ! -e "$T/r" ]; then
		ok "build: --output $n is refused (a report file's name), nothing written"
	else not_ok "build: --output $n is refused (a report file's name), nothing written" "$(cat "$T/t/r.err")"; fi
done

kill -TERM $RUN 2>/dev/null
wait $RUN
t_done
