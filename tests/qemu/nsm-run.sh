#!/bin/bash
# The mock NSM end to end in QEMU (microvm, TCG): guest shim nsm.ko ->
# vsock bridge -> host NSM model of `cleanroom run`.
#
#   tests/qemu/nsm-run.sh CLEANROOM BZIMAGE GUEST
#
# Packs an EIF with `cleanroom eif --nsm-ko local` whose /init is GUEST
# (tests/qemu/guest_nsm.c): it loads nsm.ko like AWS's init, sends the
# heartbeat and runs every NSM operation through /dev/nsm, reporting to
# tests/qemu/nsm_host.py over vsock. Then this script checks on the host:
# the heartbeat; PCR0/1/2 from DescribePCR and in the attestation document
# equal `cleanroom describe --json`'s; the documents verify with
# `cleanroom attestation verify --root <the run's test root>` (COSE
# signature, chain, PCRs, nonce, user_data, public_key; nulls when absent)
# and not against the AWS root; NSM errors come back by name; module_id as
# announced; nothing is left behind. Prints the DescribeNSM round trip
# under TCG as a "#" line.
#
# Environment: RUN_NSM_TIMEOUT (s, default 300) bounds the boot. ARCH=aarch64
# packs an aarch64 image (KERNEL an arm64 Image, GUEST an arm64 binary),
# which `cleanroom run` boots on QEMU's virt machine; the image's describe
# output must then say aarch64.
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
CLEANROOM=$(realpath "${1:?usage: nsm-run.sh CLEANROOM BZIMAGE GUEST}")
KERNEL=${2:?}
GUEST=${3:?}
HERE=$(cd "$(dirname "$0")" && pwd)
LIMIT=${RUN_NSM_TIMEOUT:-300}
T=$T_TMP
export TMPDIR=$T/tmp # run's private directory lands here, so leftovers are visible
mkdir -p "$TMPDIR" "$T/out" "$T/vd" "$T/root"

ARCH=${ARCH:-x86_64}
case $ARCH in
x86_64) QEMU=qemu-system-x86_64 ;;
aarch64) QEMU=qemu-system-aarch64 ;;
*) not_ok "inputs" "ARCH=$ARCH: expected x86_64 or aarch64"; exit 1 ;;
esac
for f in "$CLEANROOM" "$KERNEL" "$GUEST"; do
	[ -f "$f" ] || { not_ok "inputs" "$f is missing"; exit 1; }
done
command -v $QEMU >/dev/null || { not_ok "inputs" "$QEMU is not installed"; exit 1; }

hexof() { od -An -v -tx1 | tr -d ' \n'; }
json_field() { # FILE KEY...: a value of the JSON document in FILE
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2:]: d = d[k] if isinstance(d, dict) else d[int(k)]
print("null" if d is None else d)' "$@" 2>/dev/null
}
out() { cat "$T/out/$1" 2>/dev/null; }

# A signed image: the mock NSM must have PCR8 from its certificate, as Nitro.
openssl ecparam -name secp384r1 -genkey -noout -out "$T/sign.key" 2>/dev/null
openssl req -new -x509 -key "$T/sign.key" -out "$T/sign.crt" -days 30 -subj "/CN=cleanroom nsm-run test" 2>/dev/null
"$CLEANROOM" eif --arch "$ARCH" --kernel "$KERNEL" --init "$GUEST" --rootfs "$T/root" --nsm-ko local -o "$T/nsm.eif" \
	--sign-key "$T/sign.key" --sign-cert "$T/sign.crt" \
	>/dev/null 2>"$T/eif.err" || { not_ok "pack a signed EIF with --nsm-ko local" "$(cat "$T/eif.err")"; exit 1; }
ok "pack a signed EIF with --nsm-ko local"
"$CLEANROOM" describe "$T/nsm.eif" --json >"$T/describe.json" || { not_ok "describe the EIF" "failed"; exit 1; }
same "describe: the image's Arch is $ARCH" "$(json_field "$T/describe.json" Arch)" "$ARCH"
if [ "$ARCH" = aarch64 ]; then
	# The machine follows the image: an aarch64 image on an x86_64 machine, or
	# an x86_64 image (stand-in kernel; refused before it would boot) on virt,
	# is refused before QEMU starts, in one line.
	for m in microvm nitro-enclave; do
		expect_fail "run --machine $m refuses an aarch64 image" \
			"^cleanroom run: .*nsm\.eif: an aarch64 image; --machine $m boots x86_64 images \(aarch64 ones boot on virt\)$" \
			"$CLEANROOM" run "$T/nsm.eif" --machine $m
	done
	head -c 4096 /dev/urandom >"$T/x86-kernel"
	"$CLEANROOM" eif --kernel "$T/x86-kernel" --init "$GUEST" --rootfs "$T/root" -o "$T/x86.eif" >/dev/null 2>&1
	expect_fail "run --machine virt refuses an x86_64 image" \
		"^cleanroom run: .*x86\.eif: an x86_64 image; --machine virt boots aarch64 images \(x86_64 ones boot on microvm\)$" \
		"$CLEANROOM" run "$T/x86.eif" --machine virt
fi

python3 "$HERE/nsm_host.py" "$T/vd/vsock" "$T/out" "$T/run.json" "$LIMIT" >"$T/host.out" 2>&1 &
host=$!
"$CLEANROOM" run "$T/nsm.eif" --vsock-dir "$T/vd" --console "$T/console.log" --cpus 1 --json \
	--timeout "$LIMIT" >"$T/run.json" 2>"$T/run.err"
rc=$?
finish_host_half "$host" nsm_host.py "$T/host.out"

[ $rc -eq 0 ] && ok "run exits 0 when the guest powers off" ||
	not_ok "run exits 0 when the guest powers off" "status $rc: $(tail -3 "$T/run.err" | tr '\n' ' '); console: $(tail -5 "$T/console.log" | tr '\r\n' '  ')"
[ -n "$(json_event "$T/run.json" ready boot_to_heartbeat_ms)" ] && grep -q 'guest: heartbeat acknowledged' "$T/console.log" &&
	ok "heartbeat seen (0xB7 on CID 3 port 9000, echoed)" || not_ok "heartbeat seen" "$(cat "$T/run.json")"

# PCRs: describe == DescribePCR == the document's.
for i in 0 1 2; do
	want=$(json_field "$T/describe.json" Measurements "PCR$i")
	same "DescribePCR $i through /dev/nsm = cleanroom describe's PCR$i" "$(out pcr$i)" "$want"
	eval "PCR$i=\$want"
done
same "module_id in DescribeNSM = nsm_module_id of the ready event" "$(out module_id)" "$(out ready_module_id)"
PCR8=$(json_field "$T/describe.json" Measurements PCR8)
same "signed image: the ready event's pcr8 = cleanroom describe's PCR8" "$(json_event "$T/run.json" ready pcr8)" "$PCR8"

doc=$T/out/doc_full.cbor
if [ -s "$doc" ] && [ -s "$T/out/root.pem" ]; then
	ud=$(printf '%s' "cleanroom qemu/nsm user_data" | hexof)
	pk=$(printf '%s' "cleanroom qemu/nsm public_key" | hexof)
	check "the document verifies with cleanroom attestation verify --root <test root>: COSE ES384, chain, PCR0/1/2 = describe's, PCR16, nonce, user_data, public_key" \
		"$CLEANROOM" attestation verify "$doc" --root "$T/out/root.pem" --pcr "0=$PCR0" --pcr "1=$PCR1" \
		--pcr "2=$PCR2" --pcr "8=$PCR8" --pcr "16=$(out pcr16)" --nonce "$(out nonce)" --user-data "$ud" --public-key "$pk"
	"$CLEANROOM" attestation verify "$doc" --root "$T/out/root.pem" --json >"$T/verify.json" 2>"$T/verify.err"
	"$CLEANROOM" attestation show "$doc" --json >"$T/show.json" 2>&1
	n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["pcrs"]))' "$T/show.json" 2>/dev/null)
	same "the document carries the 17 locked PCRs (0..15 and the locked 16)" "$n" "17"
	same "its module_id is DescribeNSM's" "$(json_field "$T/show.json" module_id)" "$(out module_id)"
	expect_fail "the same document does not verify against the AWS root" 'verify: chain: ' \
		"$CLEANROOM" attestation verify "$doc"
	expect_fail "a different nonce does not verify" 'verify: nonce: ' \
		"$CLEANROOM" attestation verify "$doc" --root "$T/out/root.pem" --nonce 00
	cp "$doc" "$T/bad.cbor"
	python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[-1]^=1; open(p,"wb").write(b)' "$T/bad.cbor"
	expect_fail "a flipped signature bit does not verify" 'verify: signature: ' \
		"$CLEANROOM" attestation verify "$T/bad.cbor" --root "$T/out/root.pem"
else
	not_ok "attestation document and test root received" "doc $(ls -l "$doc" 2>&1), root $(ls "$T/out" | tr '\n' ' ')"
fi
doc=$T/out/doc_null.cbor
if [ -s "$doc" ] && [ -s "$T/out/root.pem" ]; then
	check "the document without optional fields verifies (PCR0/1/2)" "$CLEANROOM" attestation verify "$doc" \
		--root "$T/out/root.pem" --pcr "0=$PCR0" --pcr "1=$PCR1" --pcr "2=$PCR2"
	"$CLEANROOM" attestation show "$doc" --json >"$T/show0.json" 2>&1
	same "absent user_data, nonce, public_key are null" \
		"$(json_field "$T/show0.json" user_data) $(json_field "$T/show0.json" nonce) $(json_field "$T/show0.json" public_key)" \
		"null null null"
fi

# NSM errors by name, as the guest received them.
same "DescribePCR 32: InvalidIndex" "$(out err_describe_pcr_32)" InvalidIndex
same "ExtendPCR 0 (locked at boot): ReadOnlyIndex" "$(out err_extend_pcr_0)" ReadOnlyIndex
same "ExtendPCR 32: InvalidIndex" "$(out err_extend_pcr_32)" InvalidIndex
same "ExtendPCR 16 after LockPCR 16: ReadOnlyIndex" "$(out err_extend_locked_16)" ReadOnlyIndex
same "LockPCR 16 twice: ReadOnlyIndex" "$(out err_lock_pcr_16_again)" ReadOnlyIndex
same "LockPCR 32: InvalidIndex" "$(out err_lock_pcr_32)" InvalidIndex
same "LockPCRs 33 (max_pcrs + 1): InvalidIndex" "$(out err_lock_pcrs_33)" InvalidIndex
same "Attestation with a 1025-byte nonce: InputTooLarge" "$(out err_attest_nonce_1025)" InputTooLarge
same "an unknown operation: InvalidOperation" "$(out err_unknown_op)" InvalidOperation
same "DescribePCR with a text index: InvalidArgument" "$(out err_bad_argument)" InvalidArgument

read -r rmin rmed rmax <<<"$(out rtt_us)"
if [ -n "${rmed:-}" ]; then
	ok "DescribeNSM round trips measured in the guest"
	awk -v a="$rmin" -v m="$rmed" -v z="$rmax" 'BEGIN { printf "# DescribeNSM round trip under TCG (guest ioctl -> shim -> vsock -> host model -> back), 50 calls: median %.2f ms, min %.2f ms, max %.2f ms\n", m / 1000, a / 1000, z / 1000 }'
	echo "# Attestation round trip (ES384 signature by the ASan host model): $(out att_us) us; nsm.ko finit_module: $(out load_us) us; boot to heartbeat: $(json_event "$T/run.json" ready boot_to_heartbeat_ms) ms wall"
else
	not_ok "DescribeNSM round trips measured in the guest" "no rtt_us"
fi

# Nothing of the run survives it.
left=$(pgrep -f "$QEMU.*$T" || true)
[ -z "$left" ] && ok "no QEMU process left" || not_ok "no QEMU process left" "pids $left"
left=$(ls -A "$T/vd" "$TMPDIR" 2>/dev/null | grep -v ':$' | grep -v '^$' || true)
[ -z "$left" ] && ok "no socket, test CA or temporary file left" || not_ok "no socket, test CA or temporary file left" "$(echo $left)"
t_done
