#!/bin/bash
# Seed corpora for every fuzz target, into OUT (outside the repository):
#
#   seeds.sh OUT SEEDGEN CLEANROOM [TESTVECTORS_DIR]
#
# SEEDGEN (tests/fuzz/seedgen.c) writes the wire, recv, attest and nsm seeds
# and the test CA OUT/ca; here `cleanroom eif` packs small EIFs (a stand-in
# kernel, a tiny init and rootfs; plain, with metadata, and signed) for the
# eif target. Each EIF seed gets the flag byte of fuzz_eif.c in front.
set -euo pipefail
out=$1 seedgen=$2 cleanroom=$3 vectors=${4:-}
mkdir -p "$out/eif"
"$seedgen" "$out" ${vectors:+"$vectors"}

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
head -c 256 /dev/zero | tr '\0' 'K' >"$t/kernel"
printf '#!/bin/sh\nexec /bin/true\n' >"$t/init"
mkdir -p "$t/root/bin" "$t/root/etc"
printf 'hello\n' >"$t/root/etc/greeting"
ln -s ../etc/greeting "$t/root/bin/link"
openssl ecparam -name secp384r1 -genkey -noout -out "$t/key.pem" 2>/dev/null
openssl req -new -x509 -key "$t/key.pem" -out "$t/cert.pem" -days 3650 -subj "/CN=cleanroom fuzz signer" 2>/dev/null

pack() { # NAME ARGS...
	local name=$1
	shift
	"$cleanroom" eif --kernel "$t/kernel" --init "$t/init" --rootfs "$t/root" -o "$t/$name.eif" "$@" >/dev/null
	# flag byte: 0 text, 1 fix CRC, 2 --json, 3 both
	for f in 0 3; do
		{ printf "\\x0$f"; cat "$t/$name.eif"; } >"$out/eif/$name-$f"
	done
}
pack plain --cmd /bin/true
pack named --name fuzz --version 1.0 --cmdline "console=ttyS0 quiet" --cmd /bin/sh -c 'echo hi'
printf '{"team":"build","n":[1,2,3]}' >"$t/meta.json"
pack metadata --metadata "$t/meta.json" --cmd /bin/true
pack signed --sign-key "$t/key.pem" --sign-cert "$t/cert.pem" --cmd /bin/true
echo "seeds.sh: $(ls "$out/eif" | wc -l) EIF seeds in $out/eif"
