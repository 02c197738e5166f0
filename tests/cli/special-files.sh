#!/bin/bash
# Every file a host command reads by name, given something that is not a
# regular file: a FIFO (an open would block forever), a symlink to /dev/zero
# (a read would never end), a directory and a dangling symlink. Each must be
# refused at once — exit non-zero well within a second, one message naming
# the option and what the path is — and leave no output behind. Directory
# trees (eif --rootfs, build SRC_DIR/--deps, verify --source) must refuse a
# FIFO, a device link and a socket inside them the same way.
. "$(dirname "$0")/lib.sh"
INIT=${INIT:-build/init}
T=$T_TMP
[ -x "$CLEANROOM" ] || { not_ok "setup" "$CLEANROOM is not built"; exit 1; }
C=$CLEANROOM

# --- the specimens
mkfifo "$T/fifo"
ln -s /dev/zero "$T/zero"
mkdir "$T/dir"
ln -s "$T/does-not-exist" "$T/dangling"
KINDS="fifo zero dir dangling"
declare -A WANT=(
	[fifo]="is a FIFO, not a regular file"
	[zero]="is a character device, not a regular file"
	[dir]="is a directory, not a regular file"
	[dangling]="No such file or directory"
)
mksock() { python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1"; }

# --- valid inputs, so that only the option under test is wrong
head -c 50000 /dev/urandom >"$T/kernel"
mkdir -p "$T/root/bin" && printf 'x\n' >"$T/root/bin/file"
printf '/bin/sh\n' >"$T/cmd"
printf 'A=1\n' >"$T/env"
printf '{"a":1}\n' >"$T/meta.json"
printf 'console=ttyS0\n' >"$T/cmdline"
openssl ecparam -name secp384r1 -genkey -noout -out "$T/sign.key" 2>/dev/null
openssl req -new -x509 -key "$T/sign.key" -out "$T/sign.crt" -days 30 -subj "/CN=t" 2>/dev/null
cp "$T/sign.crt" "$T/root.pem"
$C eif --kernel "$T/kernel" --init "$INIT" --rootfs "$T/root" -o "$T/good.eif" --cmd /bin/sh >/dev/null 2>"$T/err" ||
	{ not_ok "setup: pack an image" "$(cat "$T/err")"; exit 1; }
mkdir -p "$T/src" && printf 'int main(void){return 0;}\n' >"$T/src/main.c"
# A bundle whose statement names the subject bin/hello: verify hashes an
# artifact only when a subject matches it. Its attestation and signature are
# junk (those checks fail); the artifact check runs regardless.
python3 - "$T/bundle.json" <<'EOF'
import base64, json, sys
h = lambda n: "00" * n
st = {"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://slsa.dev/provenance/v1",
      "subject": [{"name": "bin/hello", "digest": {"sha256": h(32), "sha384": h(48)}}],
      "predicate": {"buildDefinition": {"buildType": "urn:cleanroom:build-type:nitro-enclave:v1",
          "externalParameters": {"command": ["make"], "deps": {"files": 0, "gitTreeSha256": h(32)},
              "source": {"files": 0, "gitTree": h(20), "gitTreeSha256": h(32)}, "sourceDateEpoch": 0},
          "internalParameters": {"limits": {"files": 1, "memoryMiB": 1, "outputMiB": 1, "pids": 1,
              "sourceMiB": 1, "timeoutSeconds": 1}},
          "resolvedDependencies": [{"name": "pcr%d" % i, "digest": {"sha384": h(48)}} for i in range(3)]},
        "runDetails": {"builder": {"id": "urn:cleanroom:builder:nitro-enclave:v1", "version": {"cleanroom-init": "t"}},
          "byproducts": [{"name": "build.log", "annotations": {"bytes": 0}, "digest": {"sha256": h(32)}}],
          "metadata": {"startedOn": "2024-01-01T00:00:00.000Z", "finishedOn": "2024-01-01T00:00:01.000Z",
              "invocationId": "00"}}}}
payload = json.dumps(st, separators=(",", ":"), sort_keys=True).encode()
b = {"attestation": "AAAA", "dsseEnvelope": {"payload": base64.b64encode(payload).decode(),
     "payloadType": "application/vnd.in-toto+json", "signatures": [{"keyid": "", "sig": "AAAA"}]},
     "mediaType": "application/vnd.cleanroom.bundle.v1+json"}
open(sys.argv[1], "w").write(json.dumps(b))
EOF
mkdir -p "$T/art/bin"

# refused NAME PATTERN LEFTOVER CMD...: CMD exits non-zero within a second
# (run under `timeout 5`: a hang is reported as such), prints PATTERN (an
# extended regex) on stderr or stdout, and LEFTOVER (a path, or "") does not
# exist afterwards.
refused() {
	local name=$1 pat=$2 left=$3 t0 ms rc
	shift 3
	t0=$(date +%s%N)
	timeout 5 "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$rc" -eq 124 ]; then
		not_ok "$name" "hung: killed by timeout after 5 s"
	elif [ "$rc" -eq 0 ]; then
		not_ok "$name" "exit status 0"
	elif [ "$rc" -gt 128 ]; then
		not_ok "$name" "died of signal $((rc - 128)): $(tail -2 "$T/err" | tr '\n' ' ')"
	elif [ "$ms" -ge 1000 ]; then
		not_ok "$name" "took $ms ms"
	elif ! cat "$T/err" "$T/out" | grep -Eq -- "$pat"; then
		not_ok "$name" "no /$pat/ in: $(cat "$T/err" | head -3 | tr '\n' ' ')"
	elif [ -n "$left" ] && [ -e "$left" ]; then
		not_ok "$name" "left $left behind"
	else
		ok "$name ($rc, $ms ms)"
	fi
}

# re: a literal string as an extended regex
re() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }

EIF=(eif --kernel "$T/kernel" --init "$INIT" --rootfs "$T/root" -o "$T/new.eif")
for k in $KINDS; do
	p=$T/$k
	w="$(re "$p") $(re "${WANT[$k]}")"
	[ "$k" = dangling ] && w=$(re "$p: ${WANT[$k]}")
	# cleanroom verify
	refused "verify BUNDLE $k" "BUNDLE: $w" "" $C verify "$p"
	refused "verify --eif $k" "\-\-eif: $w" "" $C verify "$T/bundle.json" --eif "$p"
	refused "verify --root $k" "\-\-root: $w" "" $C verify "$T/bundle.json" --root "$p"
	ln -sfn "$p" "$T/art/bin/hello"
	refused "verify ARTIFACT $k" "artifact $(re "$T/art/bin/hello") +$(re "$T/art/bin/hello")( is|: )" "" \
		$C verify "$T/bundle.json" "$T/art/bin/hello"
	# cleanroom attestation, describe, pcr, run
	refused "attestation show DOC $k" "DOC: $w" "" $C attestation show "$p"
	refused "attestation verify DOC $k" "DOC: $w" "" $C attestation verify "$p"
	refused "attestation verify --root $k" "\-\-root: $w" "" $C attestation verify "$T/bundle.json" --root "$p"
	refused "describe EIF $k" "$w" "" $C describe "$p"
	refused "pcr --input $k" "\-\-input: $w" "" $C pcr --input "$p"
	refused "pcr --signing-certificate $k" "\-\-signing-certificate: $w" "" $C pcr --signing-certificate "$p"
	refused "run EIF $k" "$w" "" $C run "$p"
	# cleanroom eif: every file option; the image must not appear
	refused "eif --kernel $k" "\-\-kernel: $w" "$T/new.eif" $C eif --kernel "$p" --init "$INIT" --rootfs "$T/root" -o "$T/new.eif"
	refused "eif --init $k" "\-\-init: $w" "$T/new.eif" $C eif --kernel "$T/kernel" --init "$p" --rootfs "$T/root" -o "$T/new.eif"
	refused "eif --nsm-ko $k" "\-\-nsm-ko: $w" "$T/new.eif" $C "${EIF[@]}" --nsm-ko "$p"
	refused "eif --cmdline-file $k" "\-\-cmdline-file: $w" "$T/new.eif" $C "${EIF[@]}" --cmdline-file "$p"
	refused "eif --cmd-file $k" "\-\-cmd-file: $w" "$T/new.eif" $C "${EIF[@]}" --cmd-file "$p"
	refused "eif --env-file $k" "\-\-env-file: $w" "$T/new.eif" $C "${EIF[@]}" --env-file "$p" --cmd-file "$T/cmd"
	refused "eif --metadata $k" "\-\-metadata: $w" "$T/new.eif" $C "${EIF[@]}" --metadata "$p"
	refused "eif --sign-key $k" "\-\-sign-key: $w" "$T/new.eif" $C "${EIF[@]}" --sign-key "$p" --sign-cert "$T/sign.crt"
	refused "eif --sign-cert $k" "\-\-sign-cert: $w" "$T/new.eif" $C "${EIF[@]}" --sign-key "$T/sign.key" --sign-cert "$p"
	# cleanroom build: checked before any connection and before --out is made
	B=(build --vsock "$T/no-such-enclave" --output a --out "$T/bout")
	refused "build --local $k" "\-\-local: $w" "$T/bout" $C build --local "$p" --output a --out "$T/bout" "$T/src" -- true
	refused "build --eif $k" "\-\-eif: $w" "$T/bout" $C "${B[@]}" --eif "$p" "$T/src" -- true
	refused "build --root $k" "\-\-root: $w" "$T/bout" $C "${B[@]}" --root "$p" "$T/src" -- true
done

# --- tree roots that are not directories
for k in fifo zero; do
	p=$T/$k
	kind=${WANT[$k]%%, *}
	refused "eif --rootfs $k" "\-\-rootfs: $(re "$p") $kind, not a directory" "$T/new.eif" \
		$C eif --kernel "$T/kernel" --init "$INIT" --rootfs "$p" -o "$T/new.eif"
	refused "build SRC_DIR $k" "SRC_DIR: $(re "$p") $kind, not a directory" "$T/bout" $C "${B[@]}" "$p" -- true
	refused "build --deps $k" "\-\-deps: $(re "$p") $kind, not a directory" "$T/bout" $C "${B[@]}" --deps "$p" "$T/src" -- true
	refused "verify --source $k" "\-\-source: $(re "$p") $kind, not a directory" "" $C verify "$T/bundle.json" --source "$p"
done

# --- special files inside walked trees: refused by name, never opened
for k in fifo zero sock; do
	rm -rf "$T/tree" && mkdir -p "$T/tree/sub" && printf 'x\n' >"$T/tree/a"
	case $k in
	fifo) mkfifo "$T/tree/sub/special"; want="is a FIFO" ;;
	zero) ln -s /dev/zero "$T/tree/sub/link"; mknod "$T/tree/sub/special" c 1 5 2>/dev/null ||
		{ skip "trees: a character device ($k)" "mknod needs root"; continue; }; want="is a character device" ;;
	sock) mksock "$T/tree/sub/special"; want="is a socket" ;;
	esac
	pat="$(re "$T/tree/sub/special") $want"
	refused "eif --rootfs holding a $k" "\-\-rootfs: $pat" "$T/new.eif" \
		$C eif --kernel "$T/kernel" --init "$INIT" --rootfs "$T/tree" -o "$T/new.eif"
	refused "build SRC_DIR holding a $k" "SRC_DIR: $pat" "$T/bout" $C "${B[@]}" "$T/tree" -- true
	refused "build --deps holding a $k" "\-\-deps: $pat" "$T/bout" $C "${B[@]}" --deps "$T/tree" "$T/src" -- true
	refused "verify --source holding a $k" "\-\-source: $pat" "" $C verify "$T/bundle.json" --source "$T/tree"
done

# --- run --nsm-ca: a FIFO among the CA's files (the image itself is fine)
mkdir -p "$T/ca" && for f in intermediate.pem leaf.pem leaf.key; do printf 'x\n' >"$T/ca/$f"; done
mkfifo "$T/ca/root.pem"
refused "run --nsm-ca with root.pem a FIFO" "$(re "$T/ca/root.pem") is a FIFO, not a regular file" "" \
	$C run "$T/good.eif" --nsm-ca "$T/ca" --timeout 5

# --- control: the same commands succeed on regular files
check "control: verify --root with a regular PEM gets past the input checks" \
	bash -c "$C verify '$T/bundle.json' --root '$T/root.pem' >/dev/null; [ \$? -eq 1 ]"
check "control: eif with every file option given regular files packs" \
	$C "${EIF[@]}" --nsm-ko "$T/kernel" --cmdline-file "$T/cmdline" --cmd-file "$T/cmd" --env-file "$T/env" \
	--metadata "$T/meta.json" --sign-key "$T/sign.key" --sign-cert "$T/sign.crt"
rm -f "$T/new.eif"
ln -s "$T/kernel" "$T/kernel-link"
check "control: a symlink to a regular file is followed (--kernel)" \
	$C eif --kernel "$T/kernel-link" --init "$INIT" --rootfs "$T/root" -o "$T/new.eif"
check "control: pcr --input reads a regular file" $C pcr --input "$T/kernel"
t_done
