#!/bin/bash
# qemu/nitro-enclave: `cleanroom run --machine nitro-enclave` on upstream
# QEMU's nitro-enclave machine (make qemu-nitro), an implementation of EIF
# loading, PCRs and the NSM written independently of ours. QEMU reads the EIF
# itself; the guest's /dev/nsm is the kernel's own driver over virtio-nsm.
#   - PCR0/1/2(/8) read in the guest (tests/qemu/nitro_probe.c: DescribePCR
#     and the attestation document's pcrs) = `cleanroom describe --json`,
#     for an unsigned image, a signed one (PCR8), one without metadata (EIF
#     v3), one with an unusual cmdline and one with a large ramdisk;
#   - the ready event (machine, nsm, a fresh module id per boot = DescribeNSM);
#   - init's failure path (bad cleanroom_mode) ends the VM by itself;
#   - the build agent (its image carries the mock-NSM shim: init notices the
#     kernel's driver and goes on): a build is refused for its unsigned
#     attestation document (exit 6, nothing in --out), and accepted with
#     --allow-unsigned-attestation, its statement's PCRs = describe's;
#     `cleanroom verify` the same way.
#   tests/qemu/nitro-enclave.sh CLEANROOM KERNEL_DIR INIT PROBE QEMU_NITRO
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
CLEANROOM=$(realpath "$1")
KDIR=$(realpath "$2")
INIT=$(realpath "$3")
PROBE=$(realpath "$4")
QEMU_NITRO=$(realpath "$5")
T=$T_TMP
START=$(date +%s.%N)
UNSIGNED_MSG="attestation document is unsigned (alg -1): QEMU's emulated NSM"
CMDLINE="reboot=k panic=30 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd random.trust_cpu=on"

jq_() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); exec("print(" + sys.argv[2] + ")")' "$@"; }
# measured EIF PCR (describe --json), "" when absent
dpcr() { $CLEANROOM describe "$1" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["Measurements"].get(sys.argv[1], ""))' "PCR$2"; }
# the probe's console value: console, "describe pcrN" / "doc pcrN"
ppcr() { sed -n "s/^probe: $2 \([0-9a-f]*\).*/\1/p" "$1" | tr -d '\r' | head -1; }

# --- roots: busybox + the probe
mkdir -p "$T/root/bin"
cp /bin/busybox "$T/root/bin/"
for c in sh echo cat mkdir; do ln -s busybox "$T/root/bin/$c"; done
install -m 0755 "$PROBE" "$T/root/bin/probe"
PROBE_CMD=(--cmd /bin/sh -c 'probe; echo "cmdline: $(cat /proc/cmdline)"')

pack() { # OUT.eif [eif options...]: sets PACK_ERR on failure
	local out=$1
	shift
	$CLEANROOM eif --kernel "$KDIR/bzImage" --init "$INIT" -o "$out" "$@" >/dev/null 2>"$T/pack.err" ||
		{ not_ok "pack $(basename "$out")" "$(tail -1 "$T/pack.err")"; return 1; }
}

nrun() { # NAME EIF [run options...]: $T/NAME.json, .con, .err; RC
	local name=$1 eif=$2
	shift 2
	$CLEANROOM run --machine nitro-enclave "$eif" --json --console "$T/$name.con" --timeout 120 "$@" \
		>"$T/$name.json" 2>"$T/$name.err"
	RC=$?
}

# probe_pcrs NAME EIF: the boot ended cleanly, and the guest's DescribePCR
# and document PCRs are describe's (PCR8 too when signed; zero otherwise).
probe_pcrs() {
	local name=$1 eif=$2 i want zero
	zero=$(printf '0%.0s' $(seq 1 96))
	same "$name: the run ends after the heartbeat (exit 0)" "$RC:$(json_event "$T/$name.json" exit result)" "0:poweroff"
	[ "$RC" = 0 ] || { echo "# $(tail -2 "$T/$name.err" | tr '\n' ' ') console: $(grep -a 'init:\|probe:\|^qemu-system' "$T/$name.con" | tail -4 | tr '\n' ' ')"; }
	for i in 0 1 2 8; do
		want=$(dpcr "$eif" $i)
		[ -z "$want" ] && [ $i = 8 ] && want=$zero
		same "$name: PCR$i by DescribePCR in the guest = describe" "$(ppcr "$T/$name.con" "describe pcr$i")" "$want"
		[ $i = 8 ] && [ "$want" = "$zero" ] && continue # QEMU leaves PCR8 out of an unsigned image's document? checked below
		same "$name: PCR$i in the attestation document = describe" "$(ppcr "$T/$name.con" "doc pcr$i")" "$want"
	done
	same "$name: PCR0..2 locked" "$(grep -a -c '^probe: describe pcr[012] [0-9a-f]* locked=1' "$T/$name.con")" "3"
}

# --- 1. unsigned image, no nsm.ko
pack "$T/plain.eif" --rootfs "$T/root" "${PROBE_CMD[@]}"
nrun plain "$T/plain.eif"
probe_pcrs plain "$T/plain.eif"
same "plain: the document is unsigned as QEMU makes it" "$(grep -a '^probe: doc alg' "$T/plain.con" | tr -d '\r')" \
	"probe: doc alg -1 sig_zero=1 cert_zero=1"
same "plain: ready event: machine and NSM" "$(jq_ <(grep '"ready"' "$T/plain.json") 'd["machine"], d["nsm"], d["nsm_signs"], "nsm_root" in d')" \
	"nitro-enclave qemu-nitro-enclave False False"
ID1=$(json_event "$T/plain.json" ready nsm_module_id)
check "plain: the module id has AWS's form i-<16 hex>-enc<16 hex>" grep -Eqx 'i-[0-9a-f]{16}-enc[0-9a-f]{16}' <(echo "$ID1")
same "plain: DescribeNSM module_id in the guest = the ready event's" "$(sed -n 's/^probe: module_id //p' "$T/plain.con" | tr -d '\r')" "$ID1"
same "plain: no nsm.ko, no driver line" "$(grep -a -c "kernel's own NSM driver" "$T/plain.con")" "0"

# --- 2. signed image (PCR8), with the mock-NSM shim: init goes on with the kernel's driver
openssl ecparam -name secp384r1 -genkey -noout -out "$T/sign.key" 2>/dev/null
openssl req -new -x509 -key "$T/sign.key" -out "$T/sign.crt" -days 30 -subj "/CN=cleanroom nitro test" 2>/dev/null
pack "$T/signed.eif" --rootfs "$T/root" --nsm-ko "$KDIR/nsm.ko" --sign-key "$T/sign.key" --sign-cert "$T/sign.crt" "${PROBE_CMD[@]}"
nrun signed "$T/signed.eif"
probe_pcrs signed "$T/signed.eif"
check "signed: describe has a PCR8" test -n "$(dpcr "$T/signed.eif" 8)"
same "signed: init logs the kernel's own NSM driver once and goes on" \
	"$(grep -a -c "^init: nsm.ko: not loaded: the kernel's own NSM driver is present (/dev/nsm exists); using it" "$T/signed.con")" "1"
ID2=$(json_event "$T/signed.json" ready nsm_module_id)
check "a second boot has another module id" test -n "$ID2" -a "$ID2" != "$ID1"

# --- 3. no metadata section (hand-made from the plain image): as EIF v3
# (nitro-cli's format before metadata) and as v4. QEMU refuses v3 by
# itself; v4 without metadata cleanroom refuses before QEMU sees it (QEMU
# would boot it: it does not require the section).
python3 - "$T/plain.eif" "$T" <<PY
import struct, sys
sys.path.insert(0, "$HERE/../cli")
import eifref
data = open(sys.argv[1], "rb").read()
secs = eifref.parse(data)
keep = [s for s in secs if s[0] != 5]  # 5: metadata
assert len(keep) == len(secs) - 1
open(sys.argv[2] + "/nometa3.eif", "wb").write(eifref.build(data[:4] + struct.pack(">H", 3) + data[6:26], keep))
open(sys.argv[2] + "/nometa4.eif", "wb").write(eifref.build(data[:26], keep))
PY
same "nometa v3: describe reads it, same PCRs as the image with metadata" \
	"$(dpcr "$T/nometa3.eif" 0) $(dpcr "$T/nometa3.eif" 2)" "$(dpcr "$T/plain.eif" 0) $(dpcr "$T/plain.eif" 2)"
nrun nometa3 "$T/nometa3.eif"
same "nometa v3: QEMU refuses it by itself, run says so (exit 1, before the heartbeat)" \
	"$RC:$(grep -c 'Expected EIF version 4 or greater' "$T/nometa3.err"):$(grep -c '^cleanroom run: QEMU exited with status 1 before the heartbeat' "$T/nometa3.err")" "1:1:1"
nrun nometa4 "$T/nometa4.eif"
same "nometa v4: run refuses it before booting (exit 1, the reason)" \
	"$RC:$(cat "$T/nometa4.err")" "1:cleanroom run: $T/nometa4.eif: sections: no metadata section (required from version 4)"

# --- 4. a cmdline with unusual characters (quotes, commas, UTF-8, shell metacharacters)
ODD="$CMDLINE cr.odd=\"a b,c\" u=ü€ m=%#;\$&|<>*? k=,,x,"
pack "$T/odd.eif" --rootfs "$T/root" --cmdline "$ODD" "${PROBE_CMD[@]}"
nrun odd "$T/odd.eif"
probe_pcrs odd "$T/odd.eif"
check "odd: the guest's /proc/cmdline starts with the EIF's cmdline" grep -aqF "cmdline: $ODD" "$T/odd.con"

# --- 5. a large ramdisk: random bytes in the rootfs (bounded time)
BIG_MB=${NITRO_BIG_MB:-200}
mkdir -p "$T/bigroot"
cp -a "$T/root/." "$T/bigroot/"
head -c $((BIG_MB << 20)) /dev/urandom >"$T/bigroot/blob"
t0=$(date +%s)
pack "$T/big.eif" --rootfs "$T/bigroot" "${PROBE_CMD[@]}"
rm -rf "$T/bigroot"
nrun big "$T/big.eif"
t1=$(date +%s)
probe_pcrs big "$T/big.eif"
# the run's own --timeout bounds it; the time is for the reader, not a check
echo "# big: a ${BIG_MB} MiB ramdisk packed and booted in $((t1 - t0)) s"
rm -f "$T/big.eif"

# --- 6. init's failure path: a bad cleanroom_mode ends the VM by itself
pack "$T/badmode.eif" --rootfs "$T/root" --cmdline "$CMDLINE cleanroom_mode=bogus" "${PROBE_CMD[@]}"
t0=$(date +%s)
$CLEANROOM run --machine nitro-enclave "$T/badmode.eif" --json --console "$T/badmode.con" --timeout 60 \
	>"$T/badmode.json" 2>"$T/badmode.err"
RC=$?
t1=$(date +%s)
same "badmode: QEMU exits by itself after init's failure (not the 60 s --timeout)" \
	"$RC:$(json_event "$T/badmode.json" exit result)" "0:poweroff"
check "badmode: init names the step and the reason" grep -aq "^init: mode: cleanroom_mode='bogus' on the kernel cmdline" "$T/badmode.con"
echo "# badmode: ended after $((t1 - t0)) s"

# --- options
usage2() { # NAME STDERR-LINE COMMAND...: exit 2 and exactly that one line
	local name=$1 want=$2
	shift 2
	"$@" >/dev/null 2>"$T/u.err"
	same "$name" "$?:$(cat "$T/u.err")" "2:$want"
}
usage2 "run --machine is validated (exit 2)" "cleanroom run: --machine 'bogus': expected microvm | nitro-enclave | virt" \
	$CLEANROOM run --machine bogus "$T/plain.eif"
usage2 "build --machine is validated (exit 2)" "cleanroom build: --machine 'vm': expected microvm | nitro-enclave | virt" \
	$CLEANROOM build --local "$T/plain.eif" --machine vm --output x "$T" -- true
mkdir -p "$T/lonely"
cp "$CLEANROOM" "$T/lonely/cleanroom"
"$T/lonely/cleanroom" run --machine nitro-enclave "$T/plain.eif" >/dev/null 2>"$T/lonely.err"
same "without qemu-nitro next to the tool: exit 1 naming 'make qemu-nitro'" \
	"$?:$(grep -c "no QEMU with the nitro-enclave machine: looked at .*'make qemu-nitro'" "$T/lonely.err")" "1:1"
"$T/lonely/cleanroom" run --machine nitro-enclave --qemu "$QEMU_NITRO" "$T/plain.eif" --json >"$T/lonely.json" 2>/dev/null
same "... and --qemu PATH finds it" "$?:$(json_event "$T/lonely.json" exit result)" "0:poweroff"
usage2 "--nsm-ca does not go with nitro-enclave (exit 2)" \
	"cleanroom run: --nsm-ca: the nitro-enclave machine has its own NSM (no mock NSM, no test CA)" \
	$CLEANROOM run --machine nitro-enclave --nsm-ca "$T" "$T/plain.eif"

# --- 7. the build agent through the kernel's /dev/nsm
mkdir -p "$T/aroot/bin" "$T/src"
cp /bin/busybox "$T/aroot/bin/"
for c in sh echo cat mkdir; do ln -s busybox "$T/aroot/bin/$c"; done
pack "$T/agent.eif" --rootfs "$T/aroot" --nsm-ko "$KDIR/nsm.ko"
printf 'nitro\n' >"$T/src/msg.txt"
$CLEANROOM build --local "$T/agent.eif" --machine nitro-enclave --out "$T/refused" --output out.txt --json \
	"$T/src" -- sh -c 'cat msg.txt > out.txt' >"$T/refused.json" 2>"$T/refused.err"
RC=$?
same "build: an unsigned attestation document is refused (exit 6)" "$RC" "6"
same "build: ... with the exact reason" \
	"$(grep -c "^cleanroom build: report: attestation: $UNSIGNED_MSG; refused" "$T/refused.err")" "1"
check "build: ... and nothing in --out" test ! -e "$T/refused"
$CLEANROOM build --local "$T/agent.eif" --machine nitro-enclave --allow-unsigned-attestation --out "$T/a" \
	--output out.txt --json "$T/src" -- sh -c 'cat msg.txt > out.txt' >"$T/a.json" 2>"$T/a.err"
RC=$?
same "build --allow-unsigned-attestation: built and verified but for the impossible checks (exit 0)" "$RC" "0"
[ "$RC" = 0 ] || echo "# $(tail -2 "$T/a.err" | tr '\n' ' ')"
same "build: the artifact" "$(cat "$T/a/out.txt" 2>/dev/null)" "nitro"
for i in 0 1 2; do
	same "build: the statement's PCR$i (read by the agent from /dev/nsm) = describe" \
		"$(jq_ "$T/a.json" "d['report']['statement']['pcr$i']" 2>/dev/null)" "$(dpcr "$T/agent.eif" $i)"
done
same "build --json: unsigned, chain and signature not possible, PCRs bound and pinned" \
	"$(jq_ "$T/a.json" 'd["report"]["verified"], d["report"]["unsigned_attestation"], sorted(c["name"] for c in d["report"]["checks"] if c.get("not_possible")), [c["status"] for c in d["report"]["checks"] if c["name"] in ("binding.pcrs", "pcrs")]' 2>/dev/null)" \
	"True True ['attestation-chain', 'attestation-signature'] ['pass', 'pass']"
B="$T/a/cleanroom-bundle.json"
$CLEANROOM verify "$B" "$T/a/out.txt" --eif "$T/agent.eif" >"$T/v1.out" 2>"$T/v1.err"
same "verify: refuses the unsigned document by default (exit 1, the reason)" \
	"$?:$(grep -c "^cleanroom verify: attestation: $UNSIGNED_MSG" "$T/v1.err")" "1:1"
$CLEANROOM verify "$B" "$T/a/out.txt" --eif "$T/agent.eif" --allow-unsigned-attestation >"$T/v2.out" 2>"$T/v2.err"
same "verify --allow-unsigned-attestation: exit 0" "$?" "0"
same "verify: the lines of what was not possible" \
	"$(grep '^skip  attestation-' "$T/v2.out")" \
	"skip  attestation-chain: not possible: unsigned document (QEMU's emulated NSM)
skip  attestation-signature: not possible: unsigned document (QEMU's emulated NSM)"
check "verify: the last line says what was not verified" grep -q "^verified, except what was not possible: attestation-chain, attestation-signature" "$T/v2.out"

echo "# qemu/nitro-enclave wall time: $(python3 -c "import sys; print('%.1f s' % (float(sys.argv[2]) - float(sys.argv[1])))" "$START" "$(date +%s.%N)") (large ramdisk ${BIG_MB} MiB)"
if pgrep -f "^$QEMU_NITRO " >/dev/null; then not_ok "no QEMU left" "$(pgrep -af "^$QEMU_NITRO " | head -2)"; else ok "no QEMU left"; fi
t_done
