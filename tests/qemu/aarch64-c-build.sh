#!/bin/bash
# qemu/aarch64-c-build: a small C project built in an aarch64 enclave — our
# init cross-built for arm64 (build/aarch64/init) in build-agent mode, the
# arm64 kernel and nsm.ko, rootfs-arm64-c (gcc 12 from Debian's arm64
# packages) — packed with `cleanroom eif --arch aarch64`, booted by
# `cleanroom run` on QEMU's virt machine (TCG) and driven by `cleanroom
# build`. Checks: the outputs are aarch64 ELF files and run (qemu-user, with
# the tree's own libc); the signed report came back and verifies, also with
# `cleanroom verify` against the image and the git commit, and not against
# another image; `describe` says aarch64; a compile error is reported.
#   tests/qemu/aarch64-c-build.sh CLEANROOM KERNEL_DIR INIT ROOTFS
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
. "$(dirname "$0")/agentlib.sh"
agent_suite_args "$@"
ROOTFS=$ARG4
MEM=${BUILD_C_MEMORY:-1536}
READELF=aarch64-linux-gnu-readelf
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
SUITE0=$(now)
for f in "$KDIR/Image" "$KDIR/nsm.ko" "$INIT" "$ROOTFS/usr/bin/gcc"; do
	[ -e "$f" ] || { not_ok "inputs" "$f is missing"; exit 1; }
done

# --- the project: a static library and a program using it, a Makefile
mkdir -p "$T/src/lib"
cat >"$T/src/lib/sum.h" <<'EOS'
unsigned long sum_to(unsigned long n);
const char *sum_arch(void);
EOS
cat >"$T/src/lib/sum.c" <<'EOS'
#include "sum.h"
unsigned long sum_to(unsigned long n)
{
	unsigned long s = 0;
	for (unsigned long i = 1; i <= n; i++)
		s += i;
	return s;
}
/* What the compiler targeted, from its own predefined macros. */
const char *sum_arch(void)
{
#if defined(__aarch64__)
	return "aarch64";
#elif defined(__x86_64__)
	return "x86_64";
#else
	return "other";
#endif
}
EOS
cat >"$T/src/main.c" <<'EOS'
#include <stdio.h>
#include "lib/sum.h"
int main(void)
{
	printf("sum_to(1000) = %lu on %s\n", sum_to(1000), sum_arch());
	return 0;
}
EOS
printf 'CFLAGS = -O2 -Wall -Werror\nall: hello hello-static\nlibsum.a: lib/sum.o\n\tar rcs $@ $^\nhello: main.o libsum.a\n\t$(CC) -o $@ $^\nhello-static: main.o libsum.a\n\t$(CC) -static -o $@ $^\n' >"$T/src/Makefile"
git_commit=$(cd "$T/src" && git init -q && git add -A &&
	git -c user.name=test -c user.email=test@invalid commit -q -m "sum" && git rev-parse HEAD)
git_tree=$(cd "$T/src" && git rev-parse 'HEAD^{tree}')
[ -n "$git_tree" ] || { not_ok "a git checkout of the sources" "git failed"; exit 1; }

# --- the image
t0=$(now)
if ! $CLEANROOM eif --arch aarch64 --kernel "$KDIR/Image" --init "$INIT" --nsm-ko "$KDIR/nsm.ko" --rootfs "$ROOTFS" \
	-o "$T/agent.eif" >"$T/eif.json" 2>"$T/eif.err"; then
	not_ok "pack the aarch64 agent image with rootfs-arm64-c" "$(cat "$T/eif.err")"
	exit 1
fi
ok "pack the aarch64 agent image with rootfs-arm64-c"
echo "# EIF: $(stat -c %s "$T/agent.eif" | awk '{ printf "%.1f MB", $1 / 1e6 }'), packed in $(secs "$t0" "$(now)") s"
same "describe: Arch aarch64, nitro-cli's aarch64 cmdline" \
	"$($CLEANROOM describe --json "$T/agent.eif" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Arch"], d["Cmdline"])')" \
	"aarch64 reboot=k panic=30 pci=off nomodules console=ttyS0 random.trust_cpu=on root=/dev/ram0"

t0=$(now)
agent_start "$T/agent.eif" "$MEM" 300 || { agent_stop; exit 1; }
same "the aarch64 agent boots on virt and sends the heartbeat" "$(json_event "$T/run.json" ready machine)" "virt"
echo "# boot to heartbeat: $(json_event "$T/run.json" ready boot_to_heartbeat_ms) ms (run start to ready: $(secs "$t0" "$(now)") s)"
cp "$NSM_ROOT" "$T/root.pem"
grep -q '^init: mode: build agent' "$T/console.log" && ok "the init runs as build agent" ||
	not_ok "the init runs as build agent" "$(grep '^init' "$T/console.log" | tail -3 | tr '\n' '|')"

build() { # build OUTDIR [cleanroom build options...] SRC -- CMD...: abuild, and OUT (stdout), SECS
	local b0
	b0=$(now)
	abuild "$@"
	SECS=$(secs "$b0" "$(now)")
	OUT=$(cat "$T/$1.stdout")
}
OUTPUTS=(--output hello --output hello-static --output libsum.a --output main.o)

# --- build 1
build ok1 "${OUTPUTS[@]}" "$T/src" -- make
if [ "$RC" = 0 ]; then ok "the project builds in the aarch64 enclave with its gcc 12"; else
	not_ok "the project builds in the aarch64 enclave" "exit $RC: $(echo "$LOG" | tail -3 | tr '\n' ' ')"; fi
echo "# build 1 (make: 3 compiles, ar, 2 links, gcc under TCG on virt): $SECS s wall"
same "the reported source tree id is git rev-parse HEAD^{tree}" "$(echo "$OUT" | awk '/^source tree/ { print $3 }')" "$git_tree"
L=$T/ok1
elf() { $READELF -h "$1" 2>&1 | awk -F: '/Class:|Type:|Machine:/ { gsub(/^ +/, "", $2); sub(/ \(.*/, "", $2); printf "%s|", $2 }'; }
same "hello is an aarch64 executable" "$(elf "$L/hello")" "ELF64|DYN|AArch64|"
same "hello-static is a static aarch64 executable" "$(elf "$L/hello-static")|$($READELF -l "$L/hello-static" | grep -c INTERP)" "ELF64|EXEC|AArch64||0"
same "main.o is an aarch64 relocatable object" "$(elf "$L/main.o")" "ELF64|REL|AArch64|"
same "libsum.a holds sum.o, an aarch64 object" "$(ar t "$L/libsum.a" 2>&1)|$(cd "$T" && ar x "$L/libsum.a" sum.o && elf sum.o)" "sum.o|ELF64|REL|AArch64|"
want="sum_to(1000) = 500500 on aarch64"
same "hello-static runs (qemu-user) and says it was compiled for aarch64" "$(qemu-aarch64-static "$L/hello-static" 2>&1)" "$want"
same "hello runs with the tree's own arm64 libc (qemu-user -L rootfs)" "$(qemu-aarch64-static -L "$ROOTFS" "$L/hello" 2>&1)" "$want"
if [ -f "$L/cleanroom-bundle.json" ] && echo "$OUT" | grep -q '^report .*verified'; then
	ok "the signed report came with the artifacts and verified"
else not_ok "the signed report came with the artifacts and verified" "$(echo "$OUT" | tail -2)"; fi

# --- verify, as for an x86_64 build: image, commit, artifacts, test root
$CLEANROOM verify "$L/cleanroom-bundle.json" "$L/hello" "$L/hello-static" --eif "$T/agent.eif" \
	--git-commit "$git_commit" --repo "$T/src" --root "$T/root.pem" >"$T/verify.out" 2>&1
same "cleanroom verify: the bundle, both programs, the aarch64 image and the git commit" "$?" "0"
$CLEANROOM eif --arch aarch64 --kernel "$KDIR/Image" --init "$INIT" --nsm-ko "$KDIR/nsm.ko" --rootfs "$T/src" \
	-o "$T/other.eif" >/dev/null 2>&1
$CLEANROOM verify "$L/cleanroom-bundle.json" "$L/hello" --eif "$T/other.eif" --root "$T/root.pem" >"$T/verify2.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -qi 'pcr' "$T/verify2.out" && ok "cleanroom verify refuses the bundle against another aarch64 image (PCRs differ)" ||
	not_ok "cleanroom verify refuses the bundle against another aarch64 image" "status $rc: $(tail -3 "$T/verify2.out" | tr '\n' ' ')"
cp "$L/hello" "$T/hello-tampered"
printf 'x' >>"$T/hello-tampered"
$CLEANROOM verify "$L/cleanroom-bundle.json" "$T/hello-tampered" --eif "$T/agent.eif" --root "$T/root.pem" >"$T/verify3.out" 2>&1
[ $? = 1 ] && ok "cleanroom verify refuses a changed artifact" || not_ok "cleanroom verify refuses a changed artifact" "$(tail -2 "$T/verify3.out" | tr '\n' ' ')"

# --- build 2: a compile error, with gcc's message; nothing comes back
cp -a "$T/src" "$T/broken"
rm -rf "$T/broken/.git"
printf 'int broken(void) { return 1 }\n' >>"$T/broken/main.c"
build fail1 "${OUTPUTS[@]}" "$T/broken" -- make
if [ "$RC" = 1 ] && echo "$LOG" | grep -q "^main.c:[0-9]*:[0-9]*: error: expected ';' before '}' token"; then
	ok "a compile error fails the build (exit 1) with gcc's message"
else not_ok "a compile error fails the build with gcc's message" "exit $RC: $(echo "$LOG" | grep -m2 -e error -e failed | tr '\n' ' ')"; fi
[ -e "$T/fail1" ] && not_ok "the failed build leaves nothing in --out" "$(ls "$T/fail1" | head -3)" || ok "the failed build leaves nothing in --out"

# --- build 3: the same bytes again
build ok2 "${OUTPUTS[@]}" "$T/src" -- make
same "the same agent builds it again, to the same bytes" "$RC|$(cd "$T/ok2" && sha256sum hello hello-static libsum.a main.o 2>&1)" \
	"0|$(cd "$T/ok1" && sha256sum hello hello-static libsum.a main.o 2>&1)"
echo "# build 3: $SECS s"

agent_stop
grep -q "Initramfs unpacking failed" "$T/console.log" && not_ok "the initramfs unpacked whole" "$(grep -m1 'Initramfs unpacking failed' "$T/console.log")" ||
	ok "the initramfs (the ${ROOTFS##*/} tree) unpacked whole"
grep -q "Kernel panic" "$T/console.log" && not_ok "no kernel panic" "$(grep -m1 -A2 'Kernel panic' "$T/console.log")" || ok "no kernel panic on the console"
left=$(pgrep -f "qemu-system-aarch64.*$T" || true)
[ -z "$left" ] && ok "no QEMU process left" || not_ok "no QEMU process left" "pids $left"
echo "# suite: $(secs "$SUITE0" "$(now)") s"
t_done
