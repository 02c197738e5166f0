#!/bin/bash
# fuzz/valgrind (make check): the verify path of the plain host build (gcc
# -O2, no sanitizers: valgrind and ASan do not mix) under valgrind memcheck
# with --leak-check=full. Each case must exit as expected with no memory
# error and no leak ("ERROR SUMMARY: 0 errors").
#
#   valgrind.sh CLEANROOM SEEDS_DIR
#
# Documents: the real ones of $SHARED/testvectors/nitro-attestation (skipped
# with a message when absent), a document signed by the fuzz test CA
# (SEEDS_DIR/attest, verified with --root SEEDS_DIR/ca/root.pem), and a
# tampered copy that must fail; `cleanroom verify` of the report bundle made
# by seedgen (report_make through the host NSM model, test CA) with its
# artifact, and a tampered bundle; plus `describe` of the EIF seeds.
. "$(dirname "$0")/../cli/lib.sh"
cr=$1 seeds=$2
vectors=${SHARED:+$SHARED/testvectors/nitro-attestation}
if ! command -v valgrind >/dev/null; then
	not_ok "valgrind" "valgrind is not installed (make deps installs it)"
	exit 1
fi
[ -x "$cr" ] || { not_ok "setup" "$cr is not built"; exit 1; }

# vg NAME WANT_STATUS ARGS...: run cleanroom ARGS under valgrind.
vg() {
	local name=$1 want=$2 rc
	shift 2
	valgrind -q --error-exitcode=1 --leak-check=full --log-file="$T_TMP/vg.log" "$cr" "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	if grep -q . "$T_TMP/vg.log"; then
		not_ok "$name" "valgrind: $(grep -m3 -E '==[0-9]+== [A-Z]' "$T_TMP/vg.log" | tr '\n' ' ')"
		sed 's/^/    /' "$T_TMP/vg.log" | head -30
	elif [ "$rc" -ne "$want" ]; then
		not_ok "$name" "exit status $rc, want $want: $(head -2 "$T_TMP/err" | tr '\n' ' ')"
	else
		ok "$name"
	fi
}

n=0
if [ -n "$vectors" ] && [ -d "$vectors" ]; then
	for doc in "$vectors"/*.cbor "$vectors"/*.bin; do
		[ -f "$doc" ] || continue
		b=$(basename "$doc")
		vg "valgrind: attestation verify $b" 0 attestation verify "$doc"
		vg "valgrind: attestation verify --json $b" 0 attestation verify "$doc" --json
		n=$((n + 1))
	done
	if [ "$n" -gt 0 ]; then
		# A tampered document (last byte of the signature) fails cleanly.
		cp "$doc" "$T_TMP/bad.cbor"
		printf '\x00' | dd of="$T_TMP/bad.cbor" bs=1 seek=$(($(stat -c %s "$doc") - 1)) conv=notrunc status=none
		vg "valgrind: attestation verify of a tampered document fails" 1 attestation verify "$T_TMP/bad.cbor"
		vg "valgrind: attestation show --json $b" 0 attestation show "$doc" --json
	fi
fi
[ "$n" -gt 0 ] || skip "valgrind: real attestation documents" "none at ${vectors:-\$SHARED/testvectors/nitro-attestation}"

if [ -f "$seeds/attest/model-attestation" ] && [ -f "$seeds/ca/root.pem" ]; then
	tail -c +2 "$seeds/attest/model-attestation" >"$T_TMP/model.cbor" # drop the harness's flag byte
	vg "valgrind: attestation verify --root (test CA document)" 0 attestation verify "$T_TMP/model.cbor" \
		--root "$seeds/ca/root.pem" --nonce 30313233343536373839616263646566 --json
	vg "valgrind: attestation verify against the AWS root refuses a test-CA document" 1 \
		attestation verify "$T_TMP/model.cbor"
else
	not_ok "valgrind: test CA document" "no seeds in $seeds (make fuzz-build)"
fi

if [ -f "$seeds/report/bundle-test-root" ] && [ -f "$seeds/files/out/app" ]; then
	tail -c +2 "$seeds/report/bundle-test-root" >"$T_TMP/bundle.json"
	nonce=30313233343536373839616263646566 # seedgen's nonce, "0123456789abcdef"
	vg "valgrind: verify (bundle, artifact, --root, --nonce)" 0 verify "$T_TMP/bundle.json" "$seeds/files/out/app" \
		--root "$seeds/ca/root.pem" --nonce "$nonce"
	vg "valgrind: verify --json" 0 verify "$T_TMP/bundle.json" "$seeds/files/out/app" --root "$seeds/ca/root.pem" --json
	# The statement says out/app; another file's digests do not match.
	mkdir -p "$T_TMP/other/out" && printf 'other\n' >"$T_TMP/other/out/app"
	vg "valgrind: verify refuses an artifact that is not the built one" 1 verify "$T_TMP/bundle.json" "$T_TMP/other/out/app" \
		--root "$seeds/ca/root.pem"
	vg "valgrind: verify against the AWS root refuses a test-CA bundle" 1 verify "$T_TMP/bundle.json"
	# One bit of the signature's last byte flipped (still valid DER).
	python3 -c 'import base64, json, sys
b = json.load(open(sys.argv[1])); s = b["dsseEnvelope"]["signatures"][0]
d = bytearray(base64.b64decode(s["sig"])); d[-1] ^= 1; s["sig"] = base64.b64encode(bytes(d)).decode()
json.dump(b, open(sys.argv[2], "w"), indent=2)' "$T_TMP/bundle.json" "$T_TMP/tampered.json"
	vg "valgrind: verify refuses a tampered signature" 1 verify "$T_TMP/tampered.json" --root "$seeds/ca/root.pem"
else
	not_ok "valgrind: verify" "no report seed in $seeds (make fuzz-build)"
fi

for s in "$seeds"/eif/*-0; do
	[ -f "$s" ] || continue
	tail -c +2 "$s" >"$T_TMP/image.eif"
	vg "valgrind: describe --json $(basename "$s" -0).eif" 0 describe "$T_TMP/image.eif" --json
done
t_done
