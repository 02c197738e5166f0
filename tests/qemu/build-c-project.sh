#!/bin/bash
# qemu/build-c-project: a real C project this project did not write — cJSON
# 1.7.15, the upstream tarball as Debian ships it (cjson's orig tarball,
# pinned by SHA-256, fetched with apt-get source) — built with its own plain
# Makefile by gcc 12 of rootfs-c (make rootfs-c) inside one locally booted
# enclave (our init in build-agent mode, cleanroom run, TCG), through
# `cleanroom build`. Checks that the libraries and the test program come back
# and work on this host, that the reported source tree id is the git tree of
# the checkout, that a syntax error is reported with gcc's own message and the
# next build still works (and gives the same bytes). Prints its figures as
# '# ' lines.
#   tests/qemu/build-c-project.sh CLEANROOM KERNEL_DIR INIT ROOTFS TARBALL
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
CLEANROOM=$(realpath "$1")
KDIR=$2
INIT=$3
ROOTFS=$4
TARBALL=$5
T=$T_TMP
export CLEANROOM
MEM=${BUILD_C_MEMORY:-1024}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
SUITE0=$(now)

# --- the sources: a git checkout of the unpacked tarball
mkdir "$T/x"
tar -C "$T/x" -xzf "$TARBALL" || { not_ok "unpack $TARBALL" "tar failed"; exit 1; }
mv "$T/x/cJSON-1.7.15" "$T/src" || { not_ok "unpack $TARBALL" "no cJSON-1.7.15/ in it"; exit 1; }
git_tree=$(cd "$T/src" && git init -q && git add -A &&
	git -c user.name=test -c user.email=test@invalid commit -q -m "cJSON 1.7.15" && git rev-parse 'HEAD^{tree}')
[ -n "$git_tree" ] || { not_ok "a git checkout of the sources" "git failed"; exit 1; }

# --- the image: rootfs-c as the toolchain, no /cmd (build-agent mode)
t0=$(now)
if ! $CLEANROOM eif --kernel "$KDIR/bzImage" --init "$INIT" --nsm-ko "$KDIR/nsm.ko" --rootfs "$ROOTFS" \
	-o "$T/agent.eif" >"$T/eif.json" 2>"$T/eif.err"; then
	not_ok "pack the agent image with rootfs-c" "$(cat "$T/eif.err")"
	exit 1
fi
echo "# EIF with rootfs-c: $(stat -c %s "$T/agent.eif" | awk '{ printf "%.1f MB", $1 / 1e6 }'), packed in $(secs "$t0" "$(now)") s"

mkdir "$T/v"
t0=$(now)
$CLEANROOM run "$T/agent.eif" --vsock-dir "$T/v" --json --console "$T/console.log" --memory "$MEM" >"$T/run.json" 2>"$T/run.err" &
RUN=$!
for _ in $(seq 1 1800); do [ -n "$(json_event "$T/run.json" ready vsock)" ] && break; kill -0 $RUN 2>/dev/null || break; sleep 0.1; done
VS=$(json_event "$T/run.json" ready vsock)
[ -n "$VS" ] || { not_ok "the agent image with rootfs-c boots" "$(tail -3 "$T/run.err")"; kill $RUN 2>/dev/null; wait $RUN; exit 1; }
ok "the agent image with rootfs-c boots (--memory $MEM) and sends the heartbeat"
echo "# boot to heartbeat: $(json_event "$T/run.json" ready boot_to_heartbeat_ms) ms (run start to ready: $(secs "$t0" "$(now)") s)"
ROOT=$(json_event "$T/run.json" ready nsm_root)

build() { # build OUTDIR [cleanroom build options...] SRC -- CMD...: sets RC, OUT, ERR, SECS
	local out=$1 b0
	shift
	b0=$(now)
	$CLEANROOM build --vsock "$VS" --root "$ROOT" --eif "$T/agent.eif" --out "$T/$out" "$@" >"$T/$out.stdout" 2>"$T/$out.stderr"
	RC=$?
	SECS=$(secs "$b0" "$(now)")
	OUT=$(cat "$T/$out.stdout")
	ERR=$(cat "$T/$out.stderr")
}
OUTPUTS=(--output libcjson.so.1.7.15 --output libcjson_utils.so.1.7.15 --output libcjson.a --output cJSON_test --output test.out)
# The project's own Makefile and flags (-std=c89 -pedantic -Wall -Werror ...),
# optimised; then its test program ('make test' runs ./cJSON_test).
MAKE_CMD='make CFLAGS=-O2 all && ./cJSON_test > test.out'

# --- build 1: the whole project
build ok1 "${OUTPUTS[@]}" "$T/src" -- sh -c "$MAKE_CMD"
if [ "$RC" = 0 ]; then ok "cJSON builds in the enclave with gcc 12 (make all, then its test program)"; else
	not_ok "cJSON builds in the enclave" "exit $RC: $(echo "$ERR" | tail -3 | tr '\n' ' ')"; fi
echo "# build 1 (make CFLAGS=-O2 all + cJSON_test, gcc under TCG): $SECS s wall, $(echo "$OUT" | sed -n 's/^result .*(\(.*\))$/\1/p') in the sandbox"
same "the reported source tree id is git rev-parse HEAD^{tree} of the checkout" "$(echo "$OUT" | awk '/^source tree/ { print $3 }')" "$git_tree"
echo "$ERR" | grep -q -- "-std=c89 .*-Werror.*-O2 -c cJSON.c\|-O2.*cJSON.c" && ok "the compile commands stream back in the build log" ||
	not_ok "the compile commands stream back in the build log" "$(echo "$ERR" | head -3)"
L=$T/ok1
hdr=$(readelf -h "$L/libcjson.so.1.7.15" 2>&1 | awk -F: '/Type:|Machine:/ { gsub(/^ +/, "", $2); printf "%s|", $2 }')
same "libcjson.so is an x86-64 shared object" "$hdr" "DYN (Shared object file)|Advanced Micro Devices X86-64|"
same "... with its soname" "$(readelf -d "$L/libcjson.so.1.7.15" 2>&1 | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')" "libcjson.so.1"
syms=$(nm -D --defined-only "$L/libcjson.so.1.7.15" 2>&1 | awk '$2 == "T" { print $3 }')
miss=""
for s in cJSON_Parse cJSON_Print cJSON_Delete cJSON_Version cJSON_GetArraySize cJSON_CreateObject; do
	echo "$syms" | grep -qx "$s" || miss="$miss $s"
done
same "... exporting cJSON's API ($(echo "$syms" | wc -l) functions)" "$miss" ""
same "libcjson_utils.so exports cJSONUtils_*" "$(nm -D --defined-only "$L/libcjson_utils.so.1.7.15" 2>&1 | awk '$3 == "cJSONUtils_GeneratePatches" { print $2 }')" "T"
same "libcjson.a holds cJSON.o" "$(ar t "$L/libcjson.a" 2>&1)" "cJSON.o"
# Use the library on this host: link a program against it and run it.
mkdir "$T/use"
ln -s "$L/libcjson.so.1.7.15" "$T/use/libcjson.so.1"
ln -s libcjson.so.1 "$T/use/libcjson.so"
cat >"$T/use/use.c" <<'EOF'
#include <stdio.h>
#include "cJSON.h"
int main(void)
{
	cJSON *j = cJSON_Parse("{\"a\": [1, 2, 3], \"b\": \"x\"}");
	char *s = j ? cJSON_PrintUnformatted(j) : NULL;
	printf("%s %d %s\n", cJSON_Version(), cJSON_GetArraySize(cJSON_GetObjectItem(j, "a")), s ? s : "null");
	cJSON_free(s);
	cJSON_Delete(j);
	return 0;
}
EOF
if gcc -I"$T/src" -o "$T/use/use" "$T/use/use.c" -L"$T/use" -lcjson -Wl,-rpath,"$T/use" 2>"$T/use/cc.err"; then
	same "a host program linked against the returned libcjson.so parses JSON with it" "$("$T/use/use" 2>&1)" '1.7.15 3 {"a":[1,2,3],"b":"x"}'
else
	not_ok "a host program links against the returned libcjson.so" "$(head -3 "$T/use/cc.err")"
fi
same "the returned cJSON_test runs here and prints what it printed in the enclave" "$("$L/cJSON_test" 2>&1 | sha256sum)" "$(sha256sum <"$L/test.out")"
head -1 "$L/test.out" | grep -qx "Version: 1.7.15" && ok "... which is cJSON's own test output (Version: 1.7.15, $(wc -l <"$L/test.out") lines)" ||
	not_ok "... which is cJSON's own test output" "$(head -2 "$L/test.out")"
if [ -f "$L/cleanroom-bundle.json" ] && echo "$OUT" | grep -q '^report .*verified'; then
	ok "the signed report came with the artifacts and verified"
else not_ok "the signed report came with the artifacts and verified" "$(echo "$OUT" | tail -2)"; fi

# --- build 2: a syntax error, reported with gcc's own message; nothing comes back
cp -a "$T/src" "$T/broken"
rm -rf "$T/broken/.git"
line=$(($(wc -l <"$T/broken/cJSON.c") + 1))
printf 'int cleanroom_broken(void) { return 1 }\n' >>"$T/broken/cJSON.c"
build fail1 "${OUTPUTS[@]}" "$T/broken" -- sh -c "$MAKE_CMD"
if [ "$RC" = 1 ] && echo "$ERR" | grep -q "^cJSON.c:$line:[0-9]*: error: expected ';' before '}' token" &&
	echo "$ERR" | grep -q "the build failed: exited with status 2"; then
	ok "a syntax error fails the build (exit 1) with gcc's message (cJSON.c:$line) and make's status 2"
else not_ok "a syntax error fails the build with gcc's message" "exit $RC: $(echo "$ERR" | grep -m2 -e error -e failed | tr '\n' ' ')"; fi
if [ -e "$T/fail1" ]; then not_ok "the failed build leaves nothing in --out" "$(find "$T/fail1" | head -3 | tr '\n' ' ')"; else ok "the failed build leaves nothing in --out"; fi
echo "# build 2 (syntax error): $SECS s"

# --- build 3: the same enclave builds the clean tree again, to the same bytes
build ok2 "${OUTPUTS[@]}" "$T/src" -- sh -c "$MAKE_CMD"
same "after the failure the same agent builds cJSON again" "$RC" "0"
same "... and gets the same bytes (libraries, static archive, test program)" \
	"$(cd "$T/ok2" && sha256sum libcjson.so.1.7.15 libcjson_utils.so.1.7.15 libcjson.a cJSON_test test.out 2>&1)" \
	"$(cd "$T/ok1" && sha256sum libcjson.so.1.7.15 libcjson_utils.so.1.7.15 libcjson.a cJSON_test test.out 2>&1)"
echo "# build 3: $SECS s"

kill -TERM $RUN 2>/dev/null
wait $RUN
# Too little memory for the image truncates the initramfs, and the kernel boots on.
grep -q "Initramfs unpacking failed" "$T/console.log" && not_ok "the initramfs unpacked whole" "$(grep -m1 'Initramfs unpacking failed' "$T/console.log")" ||
	ok "the initramfs (the ${ROOTFS##*/} tree) unpacked whole"
grep -q "Kernel panic" "$T/console.log" && not_ok "no kernel panic" "$(grep -m1 -A2 'Kernel panic' "$T/console.log")" || ok "no kernel panic on the console"
echo "# suite: $(secs "$SUITE0" "$(now)") s"
t_done
