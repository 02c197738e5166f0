#!/bin/bash
# cli/quorum: `cleanroom verify --quorum` arguments and hostile inputs, and
# `cleanroom diff` on crafted output directories; no enclave needed (real
# bundles and their agreement: qemu/quorum).
. "$(dirname "$0")/lib.sh"
T=$T_TMP
C=$CLEANROOM
[ -x "$C" ] || { not_ok "setup" "$C is not built"; exit 1; }
Z=$(printf '0%.0s' $(seq 96))
PCRS=(--pcr0 "$Z" --pcr1 "$Z" --pcr2 "$Z")
printf '{"mediaType": "application/vnd.cleanroom.bundle.v1+json"}' >"$T/malformed.json"
printf 'not json at all' >"$T/text"

u() { # NAME PATTERN ARGS...: exit 2, one stderr line matching PATTERN, nothing on stdout
	local name=$1 pat=$2 rc
	shift 2
	$C "$@" >"$T/u.out" 2>"$T/u.err"
	rc=$?
	if [ "$rc" != 2 ]; then not_ok "$name" "exit $rc, want 2: $(head -3 "$T/u.err")"
	elif [ -s "$T/u.out" ]; then not_ok "$name" "stdout: $(head -2 "$T/u.out")"
	elif [ "$(wc -l <"$T/u.err")" != 1 ] || ! grep -Eq -- "$pat" "$T/u.err"; then not_ok "$name" "stderr: $(cat "$T/u.err")"
	else ok "$name"; fi
}

# --- verify --quorum: argument errors
B=$T/malformed.json
u "--quorum 0 is refused" "--quorum '0': want a number from 1 to 64" verify --quorum 0 "$B" "${PCRS[@]}"
u "--quorum 65 is refused" "--quorum '65': want a number from 1 to 64" verify --quorum 65 "$B" "${PCRS[@]}"
u "--quorum x is refused" "--quorum 'x': want a number" verify --quorum x "$B" "${PCRS[@]}"
u "--quorum -1 is refused" "--quorum '-1': want a number" verify --quorum -1 "$B" "${PCRS[@]}"
u "--quorum 2 with one bundle: more than the bundles given" "--quorum 2: more than the 1 bundle given" \
	verify --quorum 2 "$B" "${PCRS[@]}"
u "--quorum without bundles" "missing BUNDLE" verify --quorum 1 "${PCRS[@]}"
u "--quorum without an image" "--quorum needs the allowed image" verify --quorum 1 "$B"
u "--quorum with --nonce" "--nonce goes with one bundle" verify --quorum 1 "$B" "${PCRS[@]}" --nonce 00
u "--quorum: an incomplete PCR set" "give all of --pcr0, --pcr1 and --pcr2 \(or --eif\), each as many times" \
	verify --quorum 1 "$B" "${PCRS[@]}" --pcr0 "$Z" --pcr1 "$Z"
u "--quorum: more than 8 images" "more than 8 --pcr0" verify --quorum 1 "$B" $(for i in $(seq 9); do echo --pcr0 "$Z"; done)
many=()
for i in $(seq 65); do many+=("$B"); done
u "--quorum: more than 64 bundles" "more than 64 bundles" verify --quorum 1 "${many[@]}" "${PCRS[@]}"
u "without --quorum: two PCR sets are refused" "several --eif or --pcr0/1/2 sets go with --quorum" \
	verify "$B" "${PCRS[@]}" "${PCRS[@]}"
u "a short PCR value names the option" "--pcr1: expected 96 hex digits" verify --quorum 1 "$B" --pcr1 abcd

# --- hostile inputs given as bundles or artifacts: precise errors, exit 2
mkfifo "$T/fifo"
mkdir "$T/dir"
truncate -s 100M "$T/huge"
u "a FIFO as a bundle (never opened for reading)" "BUNDLE: $T/fifo is a FIFO, not a regular file" \
	verify --quorum 1 "$T/fifo" "${PCRS[@]}"
u "/dev/zero as a bundle" "BUNDLE: /dev/zero is a character device" verify --quorum 1 /dev/zero "${PCRS[@]}"
u "a directory as a bundle" "BUNDLE: $T/dir is a directory" verify --quorum 1 "$T/dir" "${PCRS[@]}"
u "a huge file as a bundle" "BUNDLE: $T/huge is 104857600 bytes, larger than the limit" verify --quorum 1 "$T/huge" "${PCRS[@]}"
u "a FIFO as an artifact" "ARTIFACT: $T/fifo is a FIFO" verify --quorum 1 "$B" "${PCRS[@]}" -- "$T/fifo"
# without --quorum the same: an artifact that cannot be read is an input error
# (exit 2, naming it), whatever the bundle's checks give
for k in "fifo: is a FIFO, not a regular file" "dir: is a directory, not a regular file" \
	"missing:: No such file or directory"; do
	$C verify "$B" "$T/${k%%:*}" >/dev/null 2>"$T/s.err"
	same "without --quorum: ARTIFACT ${k%%:*} is an input error (exit 2)" "$? $(cat "$T/s.err")" \
		"2 cleanroom verify: ARTIFACT: $T/${k%%:*}${k#*:}"
done

# --- malformed bundles: each a dissenter naming the failed check; no quorum
$C verify --quorum 1 "${PCRS[@]}" "$T/malformed.json" "$T/text" >"$T/m.out" 2>"$T/m.err"
same "malformed bundles only: no builder, exit 1" "$?" 1
if grep -q "^  bundle 1 $T/malformed.json: failed verification: bundle: " "$T/m.out" &&
	grep -q "^  bundle 2 $T/text: failed verification: bundle: " "$T/m.out"; then
	ok "each malformed bundle is named with its failed check (bundle)"
else not_ok "each malformed bundle is named with its failed check (bundle)" "$(cat "$T/m.out")"; fi
same "... and stderr says no builder agrees" "$(cat "$T/m.err")" \
	"cleanroom verify: --quorum 1: only 0 distinct builders agree on the build (of 2 bundles; the same enclave or the same bundle twice counts once)"
$C verify --quorum 1 --json "${PCRS[@]}" "$T/malformed.json" >"$T/m.json" 2>/dev/null
same "--json: ok false, the bundle failed, its checks listed" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); b=d["bundles"][0]; print(d["ok"], d["builders"], b["status"], b["verification"]["checks"][0]["name"], b["verification"]["checks"][0]["status"])' "$T/m.json")" \
	"False 0 failed bundle fail"
printf 'x\033]0;evil\007y' >"$T/esc"
$C verify --quorum 1 "${PCRS[@]}" "$T/malformed.json" -- "$T/esc" >"$T/e.out" 2>&1
if grep -q $'\033' "$T/e.out"; then not_ok "an artifact path with escapes is not printed raw" "ESC in output"
else ok "an artifact path with escapes is not printed raw"; fi

# --- cleanroom diff on crafted output directories
mkdir -p "$T/a/sub" "$T/b/sub"
printf 'same\n' >"$T/a/same" && cp "$T/a/same" "$T/b/same"
printf '0123456789abcdefghij' >"$T/a/sub/bin" && printf '0123456789abcdefXhij' >"$T/b/sub/bin"
printf 'short' >"$T/a/trunc" && printf 'short and longer' >"$T/b/trunc"
printf 'a' >"$T/a/only-a" && printf 'bb' >"$T/b/only-b"
for f in cleanroom-bundle.json cleanroom.intoto.jsonl cleanroom.sigstore.json cleanroom.attestation.cbor; do
	printf 'a %s' $f >"$T/a/$f" && printf 'b %s' $f >"$T/b/$f"
done
$C diff "$T/a" "$T/b" >"$T/d.out" 2>"$T/d.err"
same "diff: differing trees exit 1" "$?" 1
same "diff: the whole report" "$(cat "$T/d.out")" "only in A  only-a (1 bytes)
only in B  only-b (2 bytes)
differ  sub/bin: 20 and 20 bytes, first difference at offset 16 (0x10)
        A @12: 636465666768696a
        B @12: 636465665868696a
differ  trunc: 5 and 16 bytes, first difference at offset 5 (0x5)
        A @1: 686f7274
        B @1: 686f727420616e64206c6f6e676572
DIFFERENT: 3 files compared, 2 differ; 1 only in A, 1 only in B"
$C diff --json "$T/a" "$T/b" >"$T/d.json"
same "diff --json: the fields" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); x=d["differ"][0]; print(d["identical"], d["compared"], x["path"], x["size_a"], x["size_b"], x["first_difference"], x["context_offset"], x["context_a"], x["context_b"], d["only_in_a"], d["only_in_b"])' "$T/d.json")" \
	"False 3 sub/bin 20 20 16 12 636465666768696a 636465665868696a [{'path': 'only-a', 'size': 1}] [{'path': 'only-b', 'size': 2}]"
cp -r "$T/a" "$T/a2"
printf '{"other": "report"}' >"$T/a2/cleanroom-bundle.json"
$C diff "$T/a" "$T/a2" >"$T/i.out"
same "diff: identical trees (bundles aside) exit 0" "$?" 0
same "... saying so" "$(cat "$T/i.out")" "identical: 4 files compared"
mkfifo "$T/a2/fifo"
u "diff: a FIFO inside a tree is an input error naming it" "$T/a2/fifo is a FIFO: diff compares regular files" diff "$T/a" "$T/a2"
$C diff --ignore fifo "$T/a" "$T/a2" >/dev/null
same "diff --ignore leaves it out" "$?" 0
ln -s /etc/passwd "$T/a2/link" && rm "$T/a2/fifo"
u "diff: a symlink inside a tree is not followed" "$T/a2/link is a symlink: diff compares regular files" diff "$T/a" "$T/a2"
rm "$T/a2/link"
mkdir "$T/e1" "$T/e2"
$C diff "$T/e1" "$T/e2" >"$T/e.out" 2>&1
same "diff: two empty directories are identical" "$? $(cat "$T/e.out")" "0 identical: 0 files compared"
u "diff: one directory only" "want two directories" diff "$T/a"
u "diff: a file instead of a directory" "$T/a/same is a regular file, not an output directory" diff "$T/a/same" "$T/a2"
u "diff: a missing directory" "$T/nope: No such file or directory" diff "$T/nope" "$T/a2"
u "diff: an absolute --ignore" "--ignore '/x': want a path relative" diff --ignore /x "$T/a" "$T/a2"
printf 'x' >"$T/a/big" && truncate -s 200M "$T/a/big" && cp --sparse=always "$T/a/big" "$T/a2/big" &&
	printf 'y' | dd of="$T/a2/big" bs=1 seek=150000000 conv=notrunc 2>/dev/null
$C diff "$T/a" "$T/a2" >"$T/big.out"
if grep -q "^differ  big: 209715200 and 209715200 bytes, first difference at offset 150000000 " "$T/big.out"; then
	ok "diff: a large file streamed to its first difference"
else not_ok "diff: a large file streamed to its first difference" "$(cat "$T/big.out")"; fi
mkdir -p "$T/g1/sub" "$T/g2/sub" && printf 1 >"$T/g1/sub/x" && printf 2 >"$T/g2/sub/x" &&
	ln -s x "$T/g2/sub/l" && printf s >"$T/g1/same" && printf s >"$T/g2/same"
$C diff --ignore sub "$T/g1" "$T/g2" >"$T/g.out" 2>&1
same "diff --ignore DIR leaves out the directory with everything in it (a symlink there too)" "$? $(tail -1 "$T/g.out")" \
	"0 identical: 1 files compared"
# --ignore as a shell completes or a user types it: the same directory
for ig in sub/ ./sub sub// ./sub/./; do
	$C diff --ignore "$ig" "$T/g1" "$T/g2" >"$T/g.out" 2>&1
	same "diff --ignore '$ig' is --ignore sub" "$? $(tail -1 "$T/g.out")" "0 identical: 1 files compared"
done
u "diff: --ignore with '..' (it would never match)" "--ignore 'sub/../x': want a path relative to the directories, without '..'" \
	diff --ignore sub/../x "$T/g1" "$T/g2"
u "diff: --ignore '.' (nothing left)" "--ignore '.': want a path relative" diff --ignore . "$T/g1" "$T/g2"
# --json of many differing files: its report passes 1 MiB (it had a cap
# of its own there: exit 2 where the text report worked).
mkdir -p "$T/m1" "$T/m2"
long=$(printf 'n%.0s' $(seq 100))
(cd "$T/m1" && for i in $(seq 4000); do printf 1 >"$long$i"; done)
(cd "$T/m2" && for i in $(seq 4000); do printf 2 >"$long$i"; done)
$C diff --json "$T/m1" "$T/m2" >"$T/m.json" 2>"$T/m.err"
same "diff --json: 4000 differing files, over 1 MiB of JSON, exit 1" \
	"$? $(python3 -c 'import json,os,sys; d=json.load(open(sys.argv[1])); print(len(d["differ"]), os.path.getsize(sys.argv[1]) > 1 << 20)' "$T/m.json" 2>&1)" \
	"1 4000 True"
t_done
