#!/bin/bash
# cleanroom eif / describe / pcr, end to end, checked against an independent
# reference reader (eifref.py) and against cpio(1).
. "$(dirname "$0")/lib.sh"
REF="python3 $(dirname "$0")/eifref.py"
INIT=${INIT:-build/init}
T=$T_TMP
[ -x "$CLEANROOM" ] || { not_ok "setup" "$CLEANROOM is not built"; exit 1; }

# --- inputs: a stand-in kernel (the packer does not interpret it), the init,
# and a small rootfs with an executable, a symlink, a hard link and a subdir.
make_rootfs() { # DIR
	mkdir -p "$1/bin" "$1/etc/sub" "$1/empty"
	printf 'hello\n' >"$1/etc/greeting"
	printf 'deep\n' >"$1/etc/sub/file"
	printf '#!/bin/sh\necho hi\n' >"$1/bin/tool"
	chmod 755 "$1/bin/tool"
	ln -s ../etc/greeting "$1/bin/greeting-link"
	ln "$1/etc/greeting" "$1/etc/greeting-hardlink"
}
head -c 100000 /dev/urandom >"$T/kernel"
make_rootfs "$T/root"

pack() { # OUT [args...]
	local out=$1
	shift
	$CLEANROOM eif --kernel "$T/kernel" --init "$INIT" --rootfs "$T/root" -o "$out" "$@"
}

# --- basic pack
if pack "$T/a.eif" --cmd /bin/tool arg1 >"$T/a.json" 2>"$T/a.err"; then ok "eif packs an image"; else not_ok "eif packs an image" "$(cat "$T/a.err")"; fi
same "eif prints nitro-cli's HashAlgorithm" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["Measurements"]["HashAlgorithm"])' <"$T/a.json")" "Sha384 { ... }"
ref=$($REF measure "$T/a.eif")
jq_ref() { python3 -c "import json,sys; print(json.loads(sys.argv[1])$1)" "$ref"; }
jq_file() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d$2)" "$1"; }
same "CRC verifies with zlib's crc32 (reference reader)" "$(jq_ref '["crc_ok"]')" "True"
for p in 0 1 2; do
	same "PCR$p printed by eif equals the reference computation" "$(jq_file "$T/a.json" "[\"Measurements\"][\"PCR$p\"]")" "$(jq_ref "[\"pcr$p\"]")"
done
same "sections in nitro-cli order: kernel, cmdline, metadata, ramdisk, ramdisk" "$(jq_ref '["sections"]' | python3 -c 'import sys,ast; print([t for t,_ in ast.literal_eval(sys.stdin.read())])')" "[1, 2, 5, 3, 3]"
$REF extract "$T/a.eif" 0 "$T/k.out"
cmp -s "$T/k.out" "$T/kernel" && ok "the kernel section holds the kernel's bytes" || not_ok "the kernel section holds the kernel's bytes" "differs"
$CLEANROOM describe --json "$T/a.eif" >"$T/d.json" 2>"$T/d.err" && ok "describe reads our image" || not_ok "describe reads our image" "$(cat "$T/d.err")"
for p in 0 1 2; do
	same "describe PCR$p equals eif's" "$(jq_file "$T/d.json" "[\"Measurements\"][\"PCR$p\"]")" "$(jq_file "$T/a.json" "[\"Measurements\"][\"PCR$p\"]")"
done
same "describe: CheckCRC true, IsSigned false, EifVersion 4" "$(jq_file "$T/d.json" '["CheckCRC"],d["IsSigned"],d["EifVersion"]')" "True False 4"
same "describe: metadata BuildTime from SOURCE_DATE_EPOCH (default 0)" "$(jq_file "$T/d.json" '["Metadata"]["BuildTime"]')" "1970-01-01T00:00:00+00:00"
same "describe: default cmdline is nitro-cli's x86_64 one" "$(jq_file "$T/d.json" '["Cmdline"]')" \
	"reboot=k panic=30 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd random.trust_cpu=on"
$CLEANROOM describe "$T/a.eif" | grep -q '^PCR0 *[0-9a-f]\{96\}$' && ok "describe prints text by default" || not_ok "describe prints text by default" "no PCR0 line"

# --- the ramdisks, read by cpio(1)
$REF extract "$T/a.eif" 3 "$T/rd0"
$REF extract "$T/a.eif" 4 "$T/rd1"
same "ramdisk 0 holds dev/ and init" "$(cpio -it --quiet <"$T/rd0" | tr '\n' ' ')" "dev init "
listing=$(cpio -itv --quiet --numeric-uid-gid <"$T/rd1")
same "ramdisk 1 entries are sorted, with rootfs/{dev,proc,run,sys,tmp,var}, cmd and env" \
	"$(echo "$listing" | awk '{print $9}' | tr '\n' ' ')" \
	"cmd env rootfs rootfs/bin rootfs/bin/greeting-link rootfs/bin/tool rootfs/dev rootfs/empty rootfs/etc rootfs/etc/greeting rootfs/etc/greeting-hardlink rootfs/etc/sub rootfs/etc/sub/file rootfs/proc rootfs/run rootfs/sys rootfs/tmp rootfs/var "
same "modes normalised: file 0644, executable 0755, dir 0755, symlink kept" \
	"$(echo "$listing" | awk '$NF=="rootfs/etc/sub/file"||$NF=="rootfs/bin/tool"||$NF=="rootfs/etc"||$(NF-2)=="rootfs/bin/greeting-link"{print $1}' | tr '\n' ' ')" \
	"lrwxrwxrwx -rwxr-xr-x drwxr-xr-x -rw-r--r-- "
same "uid and gid are 0, mtime is the epoch" "$(echo "$listing" | awk '{print $3 $4 $6 $7 $8}' | sort -u)" "00Jan11970"
mkdir "$T/x" && (cd "$T/x" && cpio -id --quiet <"$T/rd1")
same "cmd holds one argument per line" "$(cat "$T/x/cmd")" "$(printf '/bin/tool\narg1')"
same "a hard link is restored as a link" "$(stat -c %i "$T/x/rootfs/etc/greeting")" "$(stat -c %i "$T/x/rootfs/etc/greeting-hardlink")"
same "hard-linked data is stored once" "$(echo "$listing" | awk '$NF ~ /greeting/ && $1 ~ /^-/ {print $5}' | tr '\n' ' ')" "6 0 "
same "symlink target kept" "$(readlink "$T/x/rootfs/bin/greeting-link")" "../etc/greeting"

# --- reproducibility: same content from another directory, created in another
# order, at other times, with another umask and other permission bits.
mkdir -p "$T/other/place"
(
	umask 077
	r="$T/other/place/root"
	mkdir -p "$r/empty" "$r/etc/sub" "$r/bin"
	printf 'deep\n' >"$r/etc/sub/file"
	printf '#!/bin/sh\necho hi\n' >"$r/bin/tool"
	chmod 700 "$r/bin/tool"
	printf 'hello\n' >"$r/etc/greeting"
	chmod 600 "$r/etc/greeting"
	ln "$r/etc/greeting" "$r/etc/greeting-hardlink"
	ln -s ../etc/greeting "$r/bin/greeting-link"
	find "$r" -exec touch -h -d '2001-02-03 04:05:06' {} +
	cp "$T/kernel" "$T/other/place/kernel"
	cp "$INIT" "$T/other/place/init"
	cd "$T/other/place" && $CLEANROOM eif --kernel kernel --init init --rootfs root -o b.eif --cmd /bin/tool arg1 >/dev/null
)
if cmp -s "$T/a.eif" "$T/other/place/b.eif"; then ok "same inputs from another directory, order, time and umask give identical bytes"
else not_ok "same inputs from another directory, order, time and umask give identical bytes" "$(cmp "$T/a.eif" "$T/other/place/b.eif")"; fi
SOURCE_DATE_EPOCH=1700000000 pack "$T/c.eif" --cmd /bin/tool arg1 >/dev/null
SOURCE_DATE_EPOCH=1700000000 pack "$T/c2.eif" --cmd /bin/tool arg1 >/dev/null
cmp -s "$T/c.eif" "$T/c2.eif" && ok "same SOURCE_DATE_EPOCH twice gives identical bytes" || not_ok "same SOURCE_DATE_EPOCH twice gives identical bytes" "differ"
cmp -s "$T/a.eif" "$T/c.eif" && not_ok "SOURCE_DATE_EPOCH changes the image" "identical" || ok "SOURCE_DATE_EPOCH changes the image"
same "SOURCE_DATE_EPOCH sets BuildTime" "$($CLEANROOM describe --json "$T/c.eif" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Metadata"]["BuildTime"])')" "2023-11-14T22:13:20+00:00"

# --- bad input: one precise line, exit 1, nothing written
SOURCE_DATE_EPOCH=yesterday expect_fail "unparsable SOURCE_DATE_EPOCH is refused" "SOURCE_DATE_EPOCH='yesterday'" pack "$T/bad.eif"
SOURCE_DATE_EPOCH=4294967296 expect_fail "SOURCE_DATE_EPOCH past the cpio range is refused" "SOURCE_DATE_EPOCH" pack "$T/bad.eif"
ln -s tmp "$T/root/proc"
expect_fail "a rootfs whose proc is a symlink is refused: the init mounts on it" "root/proc is a symlink; the enclave needs a directory there" pack "$T/bad.eif"
rm "$T/root/proc"
echo x >"$T/root/run"
expect_fail "a rootfs whose run is a file is refused" "root/run is a regular file; the enclave needs a directory there" pack "$T/bad.eif"
rm "$T/root/run"
mkfifo "$T/root/pipe"
expect_fail "a FIFO in the rootfs is refused, naming it" "root/pipe is a FIFO" pack "$T/bad.eif"
rm "$T/root/pipe"
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$T/root/sock"
expect_fail "a socket in the rootfs is refused, naming it" "root/sock is a socket" pack "$T/bad.eif"
rm "$T/root/sock"
if mknod "$T/root/dev0" c 1 3 2>/dev/null; then
	expect_fail "a device node in the rootfs is refused, naming it" "root/dev0 is a character device" pack "$T/bad.eif"
	rm "$T/root/dev0"
else
	skip "a device node in the rootfs is refused, naming it" "mknod not permitted here"
fi
same "nothing is left behind by failed packs" "$(ls "$T" | grep -c 'bad.eif')" "0"
expect_fail "a missing rootfs is refused" "nonexistent" $CLEANROOM eif --kernel "$T/kernel" --init "$INIT" --rootfs "$T/nonexistent" -o "$T/bad.eif"
expect_fail "an output directory that does not exist is reported" "nodir/x.eif" pack "$T/nodir/x.eif"
expect_fail "a newline inside a --cmd argument is refused" "argument 2 contains a newline" pack "$T/bad.eif" --cmd a "$(printf 'b\nc')"
printf 'A=1\nnot-an-assignment\n' >"$T/env"
expect_fail "a bad --env-file line is named" "line 2: expected KEY=VALUE" pack "$T/bad.eif" --env-file "$T/env" --cmd x
printf '{"a":' >"$T/meta.json"
expect_fail "invalid --metadata JSON is refused" "metadata.*JSON" pack "$T/bad.eif" --metadata "$T/meta.json"
expect_fail "a control character in the cmdline is refused" "cmdline: control character" pack "$T/bad.eif" --cmdline "$(printf 'a\tb')"
pack "$T/bad.eif" --cmdline x --cmdline-file /dev/null >/dev/null 2>&1; same "--cmdline with --cmdline-file is a usage error" "$?" "2"
$CLEANROOM eif --kernel "$T/kernel" >/dev/null 2>&1; same "missing required options is a usage error" "$?" "2"
pack "" --cmd x >/dev/null 2>"$T/u.err"
same "-o '' is a usage error, before packing" "$?:$(cat "$T/u.err")" "2:cleanroom eif: -o: an empty path names no file"
pack "$T/bad.eif" --max-unpacked 5 --cmd x >/dev/null 2>"$T/u.err"
same "--max-unpacked without --oci is a usage error" "$?:$(cat "$T/u.err")" \
	"2:cleanroom eif: --agent, --no-image-info and --max-unpacked go with --oci"
mkdir -p "$T/odir"
for o in "$T/odir/" "$T/odir/." "$T/odir/.."; do
	pack "$o" --cmd x >/dev/null 2>"$T/u.err"
	same "-o '${o#"$T"/}' names a directory: a usage error, said, nothing left in it" \
		"$?:$(grep -c 'names a directory, not a file' "$T/u.err"):$(ls -A "$T/odir")" "2:1:"
done

# --- options
printf '/bin/sh\n-c\necho hi' >"$T/cmdfile"
printf 'PATH=/bin\nX=a b\n' >"$T/env"
printf '{"team":"build","n":1}' >"$T/meta.json"
# (a regular file: a pipe such as <(...) is refused like any FIFO, see special-files.sh)
printf '  console=ttyS0 quiet \n' >"$T/cmdline.txt"
pack "$T/o.eif" --cmd-file "$T/cmdfile" --env-file "$T/env" --name demo --version 2.0 --metadata "$T/meta.json" \
	--cmdline-file "$T/cmdline.txt" >/dev/null && ok "cmd-file, env-file, name, version, metadata, cmdline-file" || not_ok "cmd-file, env-file, name, version, metadata, cmdline-file" "failed"
$CLEANROOM describe --json "$T/o.eif" >"$T/o.json"
same "ImageName/ImageVersion from --name/--version" "$(jq_file "$T/o.json" '["ImageName"],d["ImageVersion"]')" "demo 2.0"
same "custom metadata merged into Metadata like nitro-cli" "$(jq_file "$T/o.json" '["Metadata"]["team"]')" "build"
same "cmdline file trimmed like nitro-cli" "$(jq_file "$T/o.json" '["Cmdline"]')" "console=ttyS0 quiet"
$REF extract "$T/o.eif" 4 "$T/rd1o"
mkdir "$T/y" && (cd "$T/y" && cpio -id --quiet <"$T/rd1o")
same "cmd file stored with a final newline" "$(od -An -c "$T/y/cmd" | tr -s ' ' | tail -1)" " h i \n"
same "env file stored as given" "$(cat "$T/y/env")" "$(printf 'PATH=/bin\nX=a b')"
pack "$T/n.eif" >/dev/null
$REF extract "$T/n.eif" 4 "$T/rd1n"
same "without a command there is no cmd or env (build-agent mode)" "$(cpio -it --quiet <"$T/rd1n" | grep -c -E '^(cmd|env)$')" "0"
$CLEANROOM eif --kernel "$T/kernel" --init "$INIT" --rootfs "$T/root" --nsm-ko "$T/kernel" -o "$T/k.eif" >/dev/null
$REF extract "$T/k.eif" 3 "$T/rd0k"
same "--nsm-ko adds nsm.ko to ramdisk 0" "$(cpio -it --quiet <"$T/rd0k" | tr '\n' ' ')" "dev init nsm.ko "
pack "$T/arm.eif" --arch aarch64 >/dev/null
same "--arch aarch64 sets flag bit 0 and the aarch64 cmdline" "$($CLEANROOM describe --json "$T/arm.eif" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Arch"], d["Cmdline"][-14:])')" "aarch64 root=/dev/ram0"
# An arm64 Image (magic "ARM\x64" at 0x38): the release from its "Linux
# version" banner, here straddling the reader's 64 KiB chunks; without a
# banner, "unknown" (as for any file that is not a kernel it knows).
arm_image() { # OUT BANNER_OFFSET [BANNER]
	python3 - "$@" <<'PY'
import sys
b = bytearray(200000)
b[0x38:0x3c] = b"ARM\x64"
if len(sys.argv) > 3:
    t = sys.argv[3].encode()
    o = int(sys.argv[2])
    b[o:o + len(t)] = t
open(sys.argv[1], "wb").write(b)
PY
}
kver() { # IMAGE: the KernelVersion cleanroom eif records for it
	$CLEANROOM eif --arch aarch64 --kernel "$1" --init "$INIT" --rootfs "$T/root" -o "$T/kv.eif" >/dev/null &&
		$CLEANROOM describe --json "$T/kv.eif" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Metadata"]["KernelVersion"])'
}
arm_image "$T/Image" $((65536 - 6)) "Linux version 6.12.99-test (b@h) #1 SMP"
same "arm64 Image: KernelVersion from its Linux version banner (across a chunk boundary)" "$(kver "$T/Image")" "6.12.99-test"
arm_image "$T/Image0" 0
same "arm64 Image without a banner: KernelVersion unknown" "$(kver "$T/Image0")" "unknown"

# --- describe --json: hostile metadata (any writer can put any JSON there)
python3 - "$T/meta-clash.json" "$T/meta-big.json" <<'PY'
import json, sys
m = {"ImageName": "x", "ImageVersion": "1",
     "BuildMetadata": {"BuildTime": "t", "DockerInfo": {"Id": "sha256:FAKE"}, "Extra": 1},
     "DockerInfo": {"Id": "sha256:REAL"},
     "CustomMetadata": {"DockerInfo": "c1", "Custom.DockerInfo": "c2", "BuildTime": "c3",
                        "A" * 400 + "1": 1, "A" * 400 + "2": 2}}
open(sys.argv[1], "w").write(json.dumps(m))
# 1,000,000 DEL bytes: 6 MB once escaped, past the old 4 MiB output cap
m["CustomMetadata"] = {"s": "\x7f" * 1000000}
open(sys.argv[2], "w").write(json.dumps(m, ensure_ascii=False))
PY
$REF set-section "$T/a.eif" "$T/clash.eif" 2 "$T/meta-clash.json"
$REF set-section "$T/a.eif" "$T/big.eif" 2 "$T/meta-big.json"
$CLEANROOM describe --json "$T/clash.eif" >"$T/clash.out" 2>&1
same "describe --json: metadata with clashing keys (exit status)" "$?" "0"
same "describe --json: every key once, none cut, the real DockerInfo, BuildMetadata's five fields only" \
	"$(python3 -c '
import json, sys
pairs = []
json.load(open(sys.argv[1]), object_pairs_hook=lambda p: pairs.append([k for k, _ in p]) or dict(p))
meta = [p for p in pairs if "DockerInfo" in p and "BuildTime" in p][0]  # the Metadata object
print(len(meta) == len(set(meta)), json.load(open(sys.argv[1]))["Metadata"]["DockerInfo"]["Id"], sorted(k[:9] for k in meta))
' "$T/clash.out")" \
	"True sha256:REAL ['AAAAAAAAA', 'AAAAAAAAA', 'BuildTime', 'Custom.Bu', 'Custom.Cu', 'Custom.Do', 'DockerInf']"
$CLEANROOM describe --json "$T/big.eif" >"$T/big.out" 2>"$T/big.err"
same "describe --json: 1 MB of metadata escaped to 6 MB is printed whole" \
	"$? $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["Metadata"]["s"]))' "$T/big.out")" "0 1000000"
$CLEANROOM describe "$T/a.eif" >/dev/full 2>"$T/full.err"
same "describe to a full disk: exit 1, stdout named" "$? $(cat "$T/full.err")" "1 cleanroom describe: stdout: No space left on device"
$CLEANROOM describe --json "$T/a.eif" >/dev/full 2>"$T/full.err"
same "describe --json to a full disk: exit 1" "$? $(cat "$T/full.err")" "1 cleanroom describe: stdout: No space left on device"

# --- describe on other layouts and on malformed files
$REF relayout "$T/a.eif" "$T/metalast.eif" 0,1,3,4,2
if $CLEANROOM describe --json "$T/metalast.eif" >"$T/ml.json" 2>&1; then
	same "describe accepts metadata after the ramdisks, with the same PCRs" "$(jq_file "$T/ml.json" '["Measurements"]["PCR0"]')" "$(jq_file "$T/a.json" '["Measurements"]["PCR0"]')"
else not_ok "describe accepts metadata after the ramdisks, with the same PCRs" "$(cat "$T/ml.json")"; fi
cp "$T/a.eif" "$T/m.eif"; printf 'X' | dd of="$T/m.eif" bs=1 seek=0 conv=notrunc 2>/dev/null
expect_fail "bad magic" "bad magic" $CLEANROOM describe "$T/m.eif"
cp "$T/a.eif" "$T/m.eif"; printf 'X' | dd of="$T/m.eif" bs=1 seek=5000 conv=notrunc 2>/dev/null
expect_fail "a flipped kernel byte fails the CRC" "crc: stored 0x[0-9a-f]{8}, computed" $CLEANROOM describe "$T/m.eif"
head -c 300 "$T/a.eif" >"$T/m.eif"
expect_fail "a file shorter than the header" "shorter than the 548-byte EIF header" $CLEANROOM describe "$T/m.eif"
size=$(stat -c %s "$T/a.eif")
head -c $((size - 100)) "$T/a.eif" >"$T/m.eif"
expect_fail "a truncated file: last section runs past the end" "section 4: .* run past the end of the file" $CLEANROOM describe "$T/m.eif"
cp "$T/a.eif" "$T/m.eif"; printf '\x00\x21' | dd of="$T/m.eif" bs=1 seek=26 conv=notrunc 2>/dev/null
expect_fail "more than 32 sections" "num_sections 33 out of range" $CLEANROOM describe "$T/m.eif"
$REF relayout "$T/a.eif" "$T/m.eif" 0,0,1,2,3,4
expect_fail "two kernel sections" "a second kernel section" $CLEANROOM describe "$T/m.eif"
cp "$T/a.eif" "$T/m.eif"; printf 'trailing' >>"$T/m.eif"
expect_fail "bytes after the last section" "after the last section" $CLEANROOM describe "$T/m.eif"
cp "$T/a.eif" "$T/m.eif"; printf '\x00\x00\x00\x00\x00\x0f\xff\xff' | dd of="$T/m.eif" bs=1 seek=$((284 + 8 * 4)) conv=notrunc 2>/dev/null
expect_fail "a section size past the end of the file" "section 4: size .* differs|past the end" $CLEANROOM describe "$T/m.eif"
$REF relayout "$T/a.eif" "$T/m.eif" 0,1,2,3
python3 - "$T/m.eif" <<'EOF'
import struct, sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read())
d[6:8] = struct.pack(">H", 4)  # a reserved flag bit
open(p, "wb").write(d)
EOF
$REF set-crc "$T/m.eif"
expect_fail "reserved header flags" "reserved flag bits" $CLEANROOM describe "$T/m.eif"
$REF relayout "$T/a.eif" "$T/m.eif" 0,1,2
expect_fail "no ramdisk" "no ramdisk section" $CLEANROOM describe "$T/m.eif"
$REF relayout "$T/a.eif" "$T/m.eif" 0,1,3,4
expect_fail "version 4 without metadata" "no metadata section" $CLEANROOM describe "$T/m.eif"

# Mutation sweep: every header byte, then bytes across the file. describe must
# answer 0 or 1 every time — never crash, hang, or trip the sanitizers.
crashes=0
n=0
for off in $(seq 0 547) $(seq 548 997 "$size"); do
	cp "$T/a.eif" "$T/mut.eif"
	printf "\\x$(printf %02x $(( (off * 37 + 1) % 256 )))" | dd of="$T/mut.eif" bs=1 seek="$off" conv=notrunc 2>/dev/null
	timeout 20 $CLEANROOM describe --json "$T/mut.eif" >/dev/null 2>"$T/mut.err"
	rc=$?
	n=$((n + 1))
	if [ "$rc" -gt 1 ]; then crashes=$((crashes + 1)); echo "# offset $off: exit $rc: $(head -3 "$T/mut.err")"; fi
done
same "describe survives $n byte mutations (exit 0 or 1 only)" "$crashes" "0"
crashes=0
for len in 0 1 4 100 547 548 549 559 560 $((size / 2)) $((size - 1)); do
	head -c "$len" "$T/a.eif" >"$T/trunc.eif"
	timeout 20 $CLEANROOM describe "$T/trunc.eif" >/dev/null 2>&1
	[ $? -eq 1 ] || crashes=$((crashes + 1))
done
same "every truncation is refused with exit 1" "$crashes" "0"

# --- signing (a P-384 key and self-signed certificate made here, never committed)
openssl ecparam -name secp384r1 -genkey -noout -out "$T/sign.key" 2>/dev/null
openssl req -new -x509 -key "$T/sign.key" -out "$T/sign.crt" -days 30 -subj "/CN=cleanroom test signer" 2>/dev/null
openssl ecparam -name secp384r1 -genkey -noout -out "$T/other.key" 2>/dev/null
want8=$(openssl x509 -in "$T/sign.crt" -outform DER | python3 -c 'import hashlib,sys; print(hashlib.sha384(b"\0"*48+hashlib.sha384(sys.stdin.buffer.read()).digest()).hexdigest())')
if pack "$T/s.eif" --sign-key "$T/sign.key" --sign-cert "$T/sign.crt" --cmd /bin/tool arg1 >"$T/s.json" 2>"$T/s.err"; then
	ok "eif signs with --sign-key/--sign-cert"
else
	not_ok "eif signs with --sign-key/--sign-cert" "$(cat "$T/s.err")"
fi
same "signed: PCR8 = H(Z || H(DER of the certificate)) (openssl's DER)" "$(jq_file "$T/s.json" '["Measurements"]["PCR8"]')" "$want8"
same "signed: PCR0 is the unsigned image's PCR0" "$(jq_file "$T/s.json" '["Measurements"]["PCR0"]')" "$(jq_file "$T/a.json" '["Measurements"]["PCR0"]')"
mkdir -p "$T/sig"
same "signature section: [{signing_certificate, signature}] as uint arrays, COSE ES384 over PcrInfo(0, PCR0)" \
	"$($REF signature "$T/s.eif" "$T/sig" 2>&1)" '{"register_index": 0, "register_value_is_pcr0": true, "signature_len": 96}'
cmp -s "$T/sig/cert.pem" "$T/sign.crt" && ok "signature section stores the certificate PEM as given" || not_ok "signature section stores the certificate PEM as given" "differs"
openssl x509 -in "$T/sign.crt" -pubkey -noout >"$T/sig/pub.pem"
check "openssl verifies the COSE signature over the Sig_structure" openssl dgst -sha384 -verify "$T/sig/pub.pem" -signature "$T/sig/sig.der" "$T/sig/tbs"
$CLEANROOM describe --json "$T/s.eif" >"$T/sd.json" 2>"$T/sd.err" || not_ok "describe reads a signed image" "$(cat "$T/sd.err")"
same "describe: IsSigned, SignatureCheck, PCR8" "$(jq_file "$T/sd.json" '["IsSigned"],d["SignatureCheck"],d["Measurements"]["PCR8"]')" "True True $want8"
same "describe: signing certificate subject" "$(jq_file "$T/sd.json" '["SigningCertificate"]["Subject"]')" "CN=cleanroom test signer"
# nitro-cli's SigningCertificate shape: IssuerName a map by OpenSSL long name
# (sorted, a repeated attribute's last value), dates as OpenSSL prints them,
# the signature bytes as AB:CD:.. (checked against openssl's own reading).
openssl req -new -x509 -key "$T/sign.key" -out "$T/sign2.crt" -days 30 \
	-subj "/C=US/O=Evil, Inc/OU=first/OU=second/CN=nitro shape" 2>/dev/null
pack "$T/s3.eif" --sign-key "$T/sign.key" --sign-cert "$T/sign2.crt" --cmd /bin/tool >/dev/null 2>&1
$CLEANROOM describe --json "$T/s3.eif" >"$T/sd3.json" 2>"$T/sd3.err"
same "describe --json: IssuerName is nitro-cli's map (long names, sorted, last OU)" \
	"$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["SigningCertificate"]["IssuerName"]))' "$T/sd3.json")" \
	'{"commonName": "nitro shape", "countryName": "US", "organizationName": "Evil, Inc", "organizationalUnitName": "second"}'
same "describe --json: NotBefore/NotAfter as OpenSSL prints them" \
	"$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["SigningCertificate"]; print(c["NotBefore"], c["NotAfter"])' "$T/sd3.json")" \
	"$(openssl x509 -in "$T/sign2.crt" -noout -startdate -enddate | sed 's/^not[A-Za-z]*=//' | tr '\n' ' ' | sed 's/ $//')"
same "describe --json: Signature is the certificate's signature, AB:CD:.." \
	"$(jq_file "$T/sd3.json" '["SigningCertificate"]["Signature"]')" \
	"$(openssl x509 -in "$T/sign2.crt" -noout -text | sed -n '/Signature Value:/,$p' | tail -n +2 | tr -d ' \n' | tr a-f A-F)"
pack "$T/s2.eif" --sign-key "$T/sign.key" --sign-cert "$T/sign.crt" --cmd /bin/tool arg1 >/dev/null
cmp -s "$T/s.eif" "$T/s2.eif" && ok "signing is deterministic (RFC 6979): the signed image is reproducible" || not_ok "signing is deterministic (RFC 6979): the signed image is reproducible" "differs"
same "pcr --signing-certificate gives the same PCR8" "$($CLEANROOM pcr --signing-certificate "$T/sign.crt" | python3 -c 'import json,sys; print(json.load(sys.stdin)["PCR8"])')" "$want8"
printf -- '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n' >"$T/empty.crt"
printf -- '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' >"$T/junk.crt"
for k in empty junk; do
	$CLEANROOM pcr --signing-certificate "$T/$k.crt" >"$T/p.out" 2>"$T/p.err"
	same "pcr --signing-certificate: a PEM whose body is not a certificate ($k) is refused, nothing printed" \
		"$?:$(grep -c "^cleanroom pcr: --signing-certificate $T/$k.crt: " "$T/p.err"):$(cat "$T/p.out")" "1:1:"
done
$CLEANROOM pcr --input "$T/kernel" stray >/dev/null 2>"$T/p.err"
same "pcr: a stray argument is named (exit 2)" "$?:$(cat "$T/p.err")" "2:cleanroom pcr: unexpected argument 'stray' (see --help)"
expect_fail "a key that does not match the certificate is refused" "does not match the public key" pack "$T/bad.eif" --sign-key "$T/other.key" --sign-cert "$T/sign.crt"
pack "$T/bad.eif" --sign-key "$T/sign.key" >/dev/null 2>&1; same "--sign-key without --sign-cert is a usage error" "$?" "2"
# A signature that no longer matches PCR0: change the kernel, fix the CRC.
cp "$T/s.eif" "$T/m.eif"; printf 'Z' | dd of="$T/m.eif" bs=1 seek=4000 conv=notrunc 2>/dev/null; $REF set-crc "$T/m.eif"
expect_fail "describe refuses a signature that does not match PCR0" "signature: does not verify against PCR0" $CLEANROOM describe "$T/m.eif"
size_s=$(stat -c %s "$T/s.eif")
cp "$T/s.eif" "$T/m.eif"; printf '\x05' | dd of="$T/m.eif" bs=1 seek=$((size_s - 20)) conv=notrunc 2>/dev/null; $REF set-crc "$T/m.eif"
expect_fail "describe refuses a tampered signature" "signature" $CLEANROOM describe "$T/m.eif"

# --- an image of many chunks: the packer streams the image in file order
# through a ring of 32 chunks of 1 MiB, written whole with O_DIRECT where the
# file system takes it, and the last partial chunk buffered. ~41 MB here: the
# ring wraps, sections and the signature straddle chunk boundaries.
mkdir -p "$T/bigroot/d"
head -c 1572871 /dev/urandom >"$T/bigkernel"
head -c 37748737 /dev/urandom >"$T/bigroot/big"
for i in $(seq 1 300); do head -c $((i * 37 % 5000)) /dev/urandom >"$T/bigroot/d/f$i"; done
bigpack() { # OUT [args...]
	local out=$1
	shift
	$CLEANROOM eif --kernel "$T/bigkernel" --init "$INIT" --rootfs "$T/bigroot" -o "$out" "$@"
}
if bigpack "$T/big.eif" --sign-key "$T/sign.key" --sign-cert "$T/sign.crt" --timings >"$T/big.json" 2>"$T/big.err"; then
	ok "a ~41 MB signed image packs"
else
	not_ok "a ~41 MB signed image packs" "$(cat "$T/big.err")"
fi
ref=$($REF measure "$T/big.eif")
same "41 MB: CRC verifies with zlib's crc32 (reference reader)" "$(jq_ref '["crc_ok"]')" "True"
for p in 0 1 2; do
	same "41 MB: PCR$p equals the reference computation" "$(jq_file "$T/big.json" "[\"Measurements\"][\"PCR$p\"]")" "$(jq_ref "[\"pcr$p\"]")"
done
$REF extract "$T/big.eif" 0 "$T/bk.out"
cmp -s "$T/bk.out" "$T/bigkernel" && ok "41 MB: the kernel section holds the kernel's bytes" || not_ok "41 MB: the kernel section holds the kernel's bytes" "differs"
$REF extract "$T/big.eif" 4 "$T/brd1"
mkdir -p "$T/bx" && (cd "$T/bx" && cpio -id --quiet <"$T/brd1") 2>/dev/null
cmp -s "$T/bigroot/big" "$T/bx/rootfs/big" && diff -r "$T/bigroot/d" "$T/bx/rootfs/d" >/dev/null 2>&1 && ok "41 MB: cpio(1) unpacks the tree as it was" || not_ok "41 MB: cpio(1) unpacks the tree as it was" "differs"
mkdir -p "$T/bsig"
same "41 MB: the signature section verifies" "$($REF signature "$T/big.eif" "$T/bsig" 2>&1)" '{"register_index": 0, "register_value_is_pcr0": true, "signature_len": 96}'
check "41 MB: openssl verifies the COSE signature" openssl dgst -sha384 -verify "$T/sig/pub.pem" -signature "$T/bsig/sig.der" "$T/bsig/tbs"
# Whether the test directory's file system takes O_DIRECT decides what
# --timings must say: every whole chunk direct, or none.
whole=$(( $(stat -c %s "$T/big.eif") / 1048576 * 1048576 ))
if python3 -c 'import os,sys; os.close(os.open(sys.argv[1], os.O_WRONLY|os.O_CREAT|os.O_DIRECT, 0o600))' "$T/odirect-probe" 2>/dev/null; then want_direct=$whole; else want_direct=0; fi
same "41 MB: --timings reports the whole chunks written with O_DIRECT where the file system takes it" \
	"$(sed -n 's/.*(\([0-9.]*\) MB with O_DIRECT).*/\1/p' "$T/big.err")" "$(awk -v b="$want_direct" 'BEGIN { printf "%.1f", b / 1e6 }')"
bigpack "$T/big2.eif" --sign-key "$T/sign.key" --sign-cert "$T/sign.crt" >/dev/null 2>&1
cmp -s "$T/big.eif" "$T/big2.eif" && ok "41 MB: packing twice gives the same bytes" || not_ok "41 MB: packing twice gives the same bytes" "differs"
# A disk that fills mid-image (a 20 MiB tmpfs; needs root): a precise error,
# and nothing is left behind, neither the image nor its temporary file.
if [ "$(id -u)" = 0 ] && mkdir -p "$T/small" && mount -t tmpfs -o size=20m cleanroom-test "$T/small" 2>/dev/null; then
	expect_fail "41 MB into a 20 MiB file system: No space left on device" "No space left on device" bigpack "$T/small/out.eif"
	same "... and the file system holds nothing afterwards" "$(ls -A "$T/small")" ""
	umount "$T/small"
else
	skip "41 MB into a full file system" "needs root and a tmpfs mount"
fi
# -o names something that is not a regular file: refused, left as it was
# (as root, a rename over "-o /dev/null" would replace the device).
mkfifo "$T/o-fifo"
ln -s o-target "$T/o-link"
mkdir "$T/o-dir"
for o in o-fifo o-link o-dir; do
	expect_fail "-o naming a $(stat -c %F "$T/$o") is refused" "$o is a .*, not a regular file: not replaced" pack "$T/$o"
done
same "... and each is as it was, nothing written through the symlink" \
	"$(stat -c %F "$T/o-fifo" "$T/o-link" "$T/o-dir" | tr '\n' ,)$(ls "$T/o-dir" | wc -l)$([ -e "$T/o-target" ] && echo written)" \
	"fifo,symbolic link,directory,0"
if [ "$(id -u)" = 0 ] && mknod "$T/o-null" c 1 3 2>/dev/null; then
	expect_fail "-o naming a character device (/dev/null's numbers) is refused" "o-null is a character device" pack "$T/o-null"
	same "... and it is still the device" "$(stat -c %F "$T/o-null")" "character special file"
fi
rm -rf "$T/bigroot" "$T/bx" "$T"/big*.eif "$T/brd1" "$T/bk.out"

# --- pcr
: >"$T/empty"
same "pcr of empty input is the constant H(Z||H(''))" "$($CLEANROOM pcr --input "$T/empty" | python3 -c 'import json,sys; print(json.load(sys.stdin)["PCR"])')" \
	"21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b964fc500a"
same "pcr of a file matches the reference formula" "$($CLEANROOM pcr --input "$T/kernel" | python3 -c 'import json,sys; print(json.load(sys.stdin)["PCR"])')" \
	"$(python3 -c 'import hashlib,sys; print(hashlib.sha384(b"\0"*48+hashlib.sha384(open(sys.argv[1],"rb").read()).digest()).hexdigest())' "$T/kernel")"
expect_fail "pcr of a missing file" "nope: No such file" $CLEANROOM pcr --input "$T/nope"

# --- help
for c in eif describe pcr; do
	$CLEANROOM $c --help | grep -q "^usage: cleanroom $c" && ok "$c --help" || not_ok "$c --help" "no usage line"
done
t_done
