#!/bin/bash
# qemu/install: an installed cleanroom is complete.
# `make install DESTDIR=… PREFIX=/usr/local` (a sub-make of this checkout),
# then, from a directory outside the checkout with only the installed tool on
# PATH, the README's tour: `cleanroom eif` with the installed kernel and init
# as defaults (the same bytes as with --kernel/--init given), --nsm-ko local,
# describe, pcr, the man pages, and one `cleanroom run` boot to the heartbeat.
# Also: a relocated copy of the install finds its own files, a missing
# installed file is a one-line error naming where it looked, and the build
# tree's tools (build/cleanroom, build/asan/cleanroom) find build/kernel and
# build/init.
#   tests/qemu/install.sh CLEANROOM ASAN_CLEANROOM KERNEL_DIR INIT
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_TOOL=$(realpath "$1")
ASAN_TOOL=$(realpath "$2")
KDIR=$(realpath "$3")
INIT=$(realpath "$4")
T=$T_TMP
D=$T/dest
P=/usr/local
I=$D$P
LIB=$I/lib/cleanroom/x86_64
# Run with only the installed tool (and the system: qemu, man) on PATH.
inst() { env -i HOME="$T" PATH="$I/bin:/usr/bin:/bin" "$@"; }

# --- 1. make install into a staging directory
if ! make -s -C "$ROOT" install DESTDIR="$D" PREFIX="$P" >"$T/install.log" 2>&1; then
	not_ok "make install DESTDIR=… PREFIX=$P" "$(tail -3 "$T/install.log" | tr '\n' ' ')"
	exit 1
fi
ok "make install DESTDIR=… PREFIX=$P"
want=$( {
	printf '%s\n' bin/cleanroom lib/cleanroom/x86_64/bzImage lib/cleanroom/x86_64/bzImage.config \
		lib/cleanroom/x86_64/init lib/cleanroom/x86_64/nsm.ko
	for s in "$ROOT"/docs/man/*.scd; do
		p=$(basename "$s" .scd)
		echo "share/man/man${p##*.}/$p"
	done
} | LC_ALL=C sort)
same "installed: the tool, the x86_64 kernel, its config, init, nsm.ko and every man page, nothing else" \
	"$(cd "$I" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | tr '\n' ' ')" "$(echo "$want" | tr '\n' ' ')"
for f in bzImage:bzImage config:bzImage.config nsm.ko:nsm.ko; do
	check "installed ${f#*:} is the build's $(basename "$KDIR")/${f%%:*}" cmp "$KDIR/${f%%:*}" "$LIB/${f#*:}"
done
check "installed init is the build's init" cmp "$INIT" "$LIB/init"
same "modes: bin/cleanroom and init 0755, the rest 0644" \
	"$(stat -c '%a' "$I/bin/cleanroom" "$LIB/init" "$LIB/bzImage" "$LIB/bzImage.config" "$LIB/nsm.ko" | tr '\n' ' ')" \
	"755 755 644 644 644 "

# --- 2. the tour, outside the checkout, with the installed tool only
W=$T/work
mkdir -p "$W/root/bin"
cp /bin/busybox "$W/root/bin/"
ln -s busybox "$W/root/bin/sh"
cd "$W" || exit 1
same "the installed tool is the one on PATH" "$(inst sh -c 'command -v cleanroom')" "$I/bin/cleanroom"

if inst cleanroom eif --rootfs root -o x.eif --cmd /bin/sh -c 'echo hello from the installed kernel' \
	>x.json 2>x.err; then
	ok "eif without --kernel/--init packs with the installed defaults"
else not_ok "eif without --kernel/--init packs with the installed defaults" "$(cat x.err)"; fi
"$BUILD_TOOL" eif --kernel "$KDIR/bzImage" --init "$INIT" --rootfs root -o y.eif \
	--cmd /bin/sh -c 'echo hello from the installed kernel' >y.json 2>y.err ||
	not_ok "eif with explicit --kernel/--init" "$(cat y.err)"
same "the defaults' PCRs equal those of --kernel build/kernel/bzImage --init build/init" \
	"$(cat x.json)" "$(cat y.json)"
check "the defaults' EIF is byte-identical to the explicit one" cmp x.eif y.eif
python3 "$ROOT/tests/cli/eifref.py" extract x.eif 0 x.kernel >/dev/null 2>&1
check "the EIF's kernel section is the installed bzImage" cmp x.kernel "$LIB/bzImage"

inst cleanroom describe x.eif --json >x.desc 2>x.derr
same "describe: its PCR0 is the one eif printed" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Measurements"]["PCR0"])' x.desc 2>&1)" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Measurements"]["PCR0"])' x.json 2>&1)"
same "describe: KernelVersion read from the installed kernel" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Metadata"]["KernelVersion"])' x.desc 2>&1)" \
	"$(strings -n 6 "$LIB/bzImage" | sed -nE 's/^([0-9]+\.[0-9]+\.[0-9][^ ]*) \(.*/\1/p' | head -1)"
same "pcr --input the installed bzImage: SHA384(zeros || SHA384(file))" \
	"$(inst cleanroom pcr --input "$LIB/bzImage" 2>&1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["PCR"])' 2>&1)" \
	"$(python3 -c 'import hashlib,sys; print(hashlib.sha384(bytes(48)+hashlib.sha384(open(sys.argv[1],"rb").read()).digest()).hexdigest())' "$LIB/bzImage")"

# --nsm-ko local: the installed shim (an agent image, no command).
if inst cleanroom eif --nsm-ko local --rootfs root -o agent.eif >agent.json 2>agent.err; then
	ok "eif --nsm-ko local with the installed shim"
else not_ok "eif --nsm-ko local with the installed shim" "$(cat agent.err)"; fi
"$BUILD_TOOL" eif --kernel "$KDIR/bzImage" --init "$INIT" --nsm-ko "$KDIR/nsm.ko" --rootfs root -o agent2.eif \
	>agent2.json 2>&1
same "--nsm-ko local's PCRs equal those of --nsm-ko build/kernel/nsm.ko" "$(cat agent.json)" "$(cat agent2.json)"
mkdir r0 && python3 "$ROOT/tests/cli/eifref.py" extract agent.eif 3 r0.cpio >/dev/null 2>&1 &&
	(cd r0 && cpio -i --quiet <../r0.cpio) 2>/dev/null
check "ramdisk 0 holds the installed nsm.ko" cmp r0/nsm.ko "$LIB/nsm.ko"
check "ramdisk 0 holds the installed init" cmp r0/init "$LIB/init"

# The man pages, from the installed tree only.
if command -v man >/dev/null; then
	page=$(inst env MANPAGER=cat MANWIDTH=100 man -M "$I/share/man" cleanroom-eif 2>&1)
	if echo "$page" | grep -q '^cleanroom-eif(1) ' && echo "$page" | grep -q '^FILES$' &&
		echo "$page" | grep -q 'PREFIX/lib/cleanroom/ARCH/bzImage'; then
		ok "man -M PREFIX/share/man cleanroom-eif renders (with the defaults' section)"
	else not_ok "man -M PREFIX/share/man cleanroom-eif renders" "$(echo "$page" | head -3 | tr '\n' ' ')"; fi
	page=$(inst env MANPAGER=cat man -M "$I/share/man" 5 cleanroom-bundle 2>&1)
	if echo "$page" | grep -q '^cleanroom-bundle(5) '; then ok "man -M PREFIX/share/man 5 cleanroom-bundle renders"
	else not_ok "man -M PREFIX/share/man 5 cleanroom-bundle renders" "$(echo "$page" | head -3 | tr '\n' ' ')"; fi
else
	not_ok "man pages render" "man is not installed"
fi

# One boot of the default image to the heartbeat, with the installed tool.
inst cleanroom run x.eif --json --console x.console --timeout 90 --memory 256 >x.run 2>x.rerr
tr -d '\r' <x.console >x.con
same "run: the installed kernel boots the installed init to the heartbeat" \
	"$(json_event x.run exit heartbeat | tr A-Z a-z) $(json_event x.run exit result)" "true poweroff"
if grep -q '^hello from the installed kernel$' x.con; then ok "run: the command's output is on the console"
else not_ok "run: the command's output is on the console" "$(tail -3 x.con | tr '\n' '|') $(tail -1 x.rerr)"; fi
same "run: no QEMU left behind" "$(pgrep -f "x.console" | wc -l)" 0

# --- 3. a moved install finds its own files (relative to the binary)
mkdir -p "$T/moved"
cp -a "$I" "$T/moved/opt"
env -i PATH="$T/moved/opt/bin:/usr/bin:/bin" cleanroom eif --rootfs root -o moved.eif \
	--cmd /bin/sh -c 'echo hello from the installed kernel' >moved.json 2>moved.err
same "a relocated install packs the same image with its own defaults" "$(cat moved.json moved.err)" "$(cat y.json)"

# --- 4. a missing installed file: one line naming where it looked and the fix
q() { printf '%s' "$1" | sed 's/[][\.*^$(){}+?|]/\\&/g'; }
M=$T/missing
cp -a "$I" "$M"
rm "$M/lib/cleanroom/x86_64/bzImage"
expect_fail "no installed kernel: the error names where it looked and --kernel" \
	"^cleanroom eif: --kernel not given and the default bzImage for x86_64 not found: looked at $(q "$M/lib/cleanroom/x86_64/bzImage") \(installed by 'make install'\), $(q "$M/bin/kernel/bzImage") and $(q "$M/kernel/bzImage") \(a build tree: 'make kernel'\); give --kernel FILE$" \
	env -i PATH="$M/bin:/usr/bin:/bin" cleanroom eif --rootfs root -o none.eif --cmd true
same "no installed kernel: no output left" "$(ls none.eif* 2>/dev/null)" ""
if env -i PATH="$M/bin:/usr/bin:/bin" cleanroom eif --kernel "$LIB/bzImage" --rootfs root -o given.eif \
	--cmd /bin/sh -c 'echo hello from the installed kernel' >given.json 2>given.err &&
	[ "$(cat given.json)" = "$(cat x.json)" ]; then
	ok "no installed kernel: --kernel given still packs (the init still defaults)"
else not_ok "no installed kernel: --kernel given still packs" "$(cat given.err)"; fi
rm "$M/lib/cleanroom/x86_64/init" "$M/lib/cleanroom/x86_64/nsm.ko"
expect_fail "no installed init: the error names where it looked and --init" \
	"^cleanroom eif: --init not given and the default init for x86_64 not found: looked at $(q "$M/lib/cleanroom/x86_64/init") .*, $(q "$M/bin/init") and $(q "$M/init") \(a build tree: 'make'\); give --init FILE$" \
	env -i PATH="$M/bin:/usr/bin:/bin" cleanroom eif --kernel "$LIB/bzImage" --rootfs root -o none.eif --cmd true
expect_fail "no installed nsm.ko: --nsm-ko local names where it looked" \
	"^cleanroom eif: --nsm-ko local: nsm.ko for x86_64 not found: looked at $(q "$M/lib/cleanroom/x86_64/nsm.ko") \(installed by 'make install'\), .*\(a build tree: 'make kernel'\)$" \
	env -i PATH="$M/bin:/usr/bin:/bin" cleanroom eif --kernel "$LIB/bzImage" --init "$LIB/init" --nsm-ko local \
	--rootfs root -o none.eif
expect_fail "--arch aarch64: its own defaults (lib/cleanroom/aarch64/Image), never the x86_64 kernel" \
	"^cleanroom eif: --kernel not given and the default Image for aarch64 not found: looked at $(q "$I/lib/cleanroom/aarch64/Image") .*'make kernel-aarch64'\); give --kernel FILE$" \
	inst cleanroom eif --arch aarch64 --rootfs root -o none.eif --cmd true
expect_fail "--arch aarch64 --nsm-ko local: not the x86_64 shim" \
	"^cleanroom eif: --nsm-ko local: nsm.ko for aarch64 not found: looked at $(q "$I/lib/cleanroom/aarch64/nsm.ko") " \
	inst cleanroom eif --arch aarch64 --kernel "$LIB/bzImage" --init "$LIB/init" --nsm-ko local --rootfs root -o none.eif
same "no output left by the failures" "$(ls none.eif* 2>/dev/null)" ""

# --- 5. the build tree's tools still find build/kernel and build/init
for tool in "$BUILD_TOOL" "$ASAN_TOOL"; do
	name=${tool#"$ROOT"/}
	"$tool" eif --nsm-ko local --rootfs root -o bt.eif >bt.json 2>bt.err
	same "$name: defaults from the build tree (kernel/, init, nsm.ko) give the explicit image" \
		"$(cat bt.json) $(cat bt.err)" "$(cat agent2.json) "
done
t_done
