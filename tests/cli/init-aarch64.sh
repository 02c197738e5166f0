#!/bin/bash
# The cross-built aarch64 init (build/aarch64/init): a static, stripped arm64
# ELF with no interpreter and no dynamic section, and it runs: under
# qemu-user it prints its version and the SHA-384 of its own bytes, and
# refuses to run as anything but PID 1. The x86_64 init is the control:
# the same ELF checks must reject it.
. "$(dirname "$0")/lib.sh"
ARM_INIT=${ARM_INIT:-build/aarch64/init}
X86_INIT=${INIT:-build/init}
READELF=aarch64-linux-gnu-readelf
QEMU_USER=qemu-aarch64-static
[ -f "$ARM_INIT" ] || { not_ok "setup" "$ARM_INIT is not built ('make init-aarch64')"; exit 1; }

# elf_problems FILE: prints what keeps FILE from being a static aarch64 executable.
elf_problems() {
	local h l
	h=$($READELF -h "$1" 2>&1) || { echo "not an ELF file: $h"; return; }
	l=$($READELF -lW "$1" 2>&1)
	grep -Eq 'Class:[[:space:]]+ELF64$' <<<"$h" || echo "not ELF64"
	grep -Eq 'Machine:[[:space:]]+AArch64$' <<<"$h" || echo "machine is $(grep Machine: <<<"$h" | sed 's/.*: *//')"
	grep -Eq 'Type:[[:space:]]+EXEC ' <<<"$h" || echo "type is $(grep Type: <<<"$h" | sed 's/.*: *//')"
	grep -q 'INTERP' <<<"$l" && echo "has a program interpreter"
	grep -q 'DYNAMIC' <<<"$l" && echo "has a dynamic section"
	$READELF -SW "$1" | grep -q '\.symtab' && echo "not stripped"
}

p=$(elf_problems "$ARM_INIT")
if [ -z "$p" ]; then ok "aarch64 init: static, stripped ELF64 AArch64 executable"; else not_ok "aarch64 init: static, stripped ELF64 AArch64 executable" "$(echo $p)"; fi
if [ -f "$X86_INIT" ]; then
	p=$(elf_problems "$X86_INIT")
	if grep -q 'machine is' <<<"$p"; then ok "control: the x86_64 init fails the same check ($(echo $p))"; else not_ok "control: the x86_64 init fails the same check" "accepted: '$p'"; fi
fi
size=$(stat -c %s "$ARM_INIT")
# A floor and a ceiling: a link that dropped everything (a few KiB) or
# pulled in glibc or debug info (megabytes) is wrong.
if [ "$size" -gt 100000 ] && [ "$size" -lt 1500000 ]; then ok "aarch64 init size plausible ($size bytes)"; else not_ok "aarch64 init size plausible" "$size bytes"; fi

out=$($QEMU_USER "$ARM_INIT" --version 2>&1)
rc=$?
want=$(sha384sum <"$ARM_INIT" | cut -d' ' -f1)
if [ $rc -eq 0 ] && grep -qx "sha384 $want" <<<"$out" && grep -q '^cleanroom init ' <<<"$out"; then
	ok "aarch64 init --version under qemu-user: version and the SHA-384 of its own bytes"
else
	not_ok "aarch64 init --version under qemu-user" "rc $rc, output '$out', want sha384 $want"
fi
out=$($QEMU_USER "$ARM_INIT" 2>&1)
rc=$?
if [ $rc -eq 2 ] && grep -q "only runs as such" <<<"$out"; then
	ok "aarch64 init refuses to run as anything but PID 1 (status 2)"
else
	not_ok "aarch64 init refuses to run as anything but PID 1" "rc $rc, output '$out'"
fi
exit $((T_FAILS > 0))
