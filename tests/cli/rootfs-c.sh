#!/bin/bash
# cli/rootfs-c: the C build environment of `make rootfs-c` — its manifest,
# the tree against the manifest, a second build from the manifest giving the
# same tree (and the cache making a third a no-op), what the recipe promises
# to remove and to make, and compiles with it in the sandbox, natively.
#   CLEANROOM  the tool under test      ROOTFS  $(B)/rootfs-c
#   CACHE      the cache with debs/     (needs root: sandbox, chown)
. "$(dirname "$0")/lib.sh"
MK=$(realpath "$(dirname "$0")/../../rootfs/mkrootfs.sh")
PKGFILE=$(realpath "$(dirname "$0")/../../rootfs/c.packages")
# $(B)/rootfs-c links to the tree in $CACHE/rootfs; the manifest is beside the link.
R=$(realpath "$ROOTFS")
M=$(realpath "${ROOTFS%/}.manifest")
T=$T_TMP
chmod 755 "$T"
[ -f "$M" ] || { not_ok "setup" "$M is missing (make rootfs-c)"; exit 1; }
if [ "$(id -u)" != 0 ]; then
	skip "rootfs-c suite" "needs root (sandbox, owner root in the tree)"
	exit 0
fi

# --- the manifest
same "manifest: format line" "$(sed -n 1p "$M")" "format cleanroom-rootfs-manifest 1"
same "manifest: the roots are rootfs/c.packages" "$(sed -n 's/^roots //p' "$M")" \
	"$(sed -e 's/#.*//' "$PKGFILE" | tr -s ' \t\n' '\n' | grep . | sort | tr '\n' ' ' | sed 's/ $//')"
pk=$(sed -n 's/^package //p' "$M")
bad=$(echo "$pk" | grep -Evc '^[a-z0-9][a-z0-9+.-]+ [0-9][A-Za-z0-9.+~:-]* (amd64|all) [0-9a-f]{64}$')
same "manifest: every package line is name, version, architecture, SHA-256" "$bad" "0"
same "manifest: packages sorted by name, each once" "$(echo "$pk" | cut -d' ' -f1 | tr '\n' ' ')" \
	"$(echo "$pk" | cut -d' ' -f1 | sort -u | tr '\n' ' ')"
missing=""
for p in $(sed -n 's/^roots //p' "$M") gcc-12 cpp-12 binutils-x86-64-linux-gnu libc6 libgcc-12-dev linux-libc-dev libisl23 libmpc3 libmpfr6 libgmp10; do
	echo "$pk" | grep -q "^$p " || missing="$missing $p"
done
same "manifest: the roots and the toolchain's closure are listed" "$missing" ""
same "manifest: recipe is the hash of rootfs/mkrootfs.sh and rootfs/intree.py" "$(sed -n 's/^recipe //p' "$M")" \
	"$(cat "$MK" "$(dirname "$MK")/intree.py" | sha256sum | cut -c1-64)"
# every .deb in the cache is the one the manifest names
nbad=0
while read -r n v a s; do
	f=$CACHE/debs/${n}_${v//:/%3a}_$a.deb
	[ "$(sha256sum <"$f" 2>/dev/null | cut -c1-64)" = "$s" ] || { nbad=$((nbad + 1)); echo "# $f" >&2; }
done <<<"$pk"
same "manifest: the cached .debs have the manifest's SHA-256s" "$nbad" "0"
gccv=$(echo "$pk" | awk '$1 == "gcc-12" { print $2 }')
got=$("$R/usr/bin/gcc-12" --version 2>&1 | head -1)
case "$got" in *"${gccv%%-*}"*) ok "gcc --version of the tree matches the manifest's gcc-12 $gccv" ;;
*) not_ok "gcc --version of the tree matches the manifest's gcc-12 $gccv" "$got" ;; esac

# --- the tree
same "the tree is the one in the cache with this manifest" "$(cat "$R.manifest" 2>&1)" "$(cat "$M")"
same "the tree has the manifest's digest" "$("$MK" digest "$R")" "$(sed -n 's/^tree //p' "$M")"
same "removed: docs, man, info, locale, lintian, var" \
	"$(cd "$R" && ls -d usr/share/doc usr/share/man usr/share/info usr/share/locale usr/share/lintian var 2>/dev/null)" ""
same "made by hand: cc, c89, c99, /lib/cpp, /bin/sh" \
	"$(cd "$R" && readlink usr/bin/cc usr/bin/c89 usr/bin/c99 lib/cpp bin/sh | tr '\n' ' ')" "gcc c89-gcc c99-gcc ../usr/bin/cpp ../bin/busybox "
same "a package's program wins over busybox's applet (ar, make)" \
	"$(cd "$R" && readlink -f usr/bin/ar usr/bin/make | sed "s|^$R||" | tr '\n' ' ')" "/usr/bin/x86_64-linux-gnu-ar /usr/bin/make "
same "every entry owned by root, mtime 0" "$(find "$R" \( ! -user 0 -o ! -group 0 -o -newermt @0 \) -print | head -3)" ""
same "no dpkg database, caches or logs" "$(cd "$R" && find . \( -path ./var -o -name '*.log' -o -name 'ld.so.cache' -o -path '*/dpkg/*' \) -print | head -3)" ""

# --- compiles in the sandbox: the tree as the read-only root
W=$T/work
mkdir -p "$W/lib"
cat >"$W/hello.c" <<'EOF'
#include <math.h>
#include <stdio.h>
#include "lib/sq.h"
int main(int argc, char **argv) { (void)argv; printf("hello %d %.4f\n", sq(argc + 1), sqrt(2.0 * argc)); return 0; }
EOF
printf 'int sq(int x);\n' >"$W/lib/sq.h"
printf '#include "sq.h"\nint sq(int x) { return x * x; }\n' >"$W/lib/sq.c"
cat >"$W/Makefile" <<'EOF'
CFLAGS = -O2 -Wall -Werror
all: hello hello-static libsq.so
lib/libsq.a: lib/sq.o
	$(AR) rcs $@ $^
libsq.so: lib/sq.c
	$(CC) $(CFLAGS) -fPIC -shared -o $@ $<
hello: hello.o lib/libsq.a
	$(CC) -o $@ hello.o -Llib -lsq -lm
hello-static: hello.o lib/libsq.a
	$(CC) -static -o $@ hello.o -Llib -lsq -lm
EOF
chown -R 1000:1000 "$W"
sx() { "$CLEANROOM" sandbox-exec --root "$R" --work "$W" "$@"; }
out=$(sx -- gcc -O2 -o hello1 hello.c lib/sq.c -lm 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -x "$W/hello1" ]; then ok "gcc -O2 compiles and links in the sandbox"; else not_ok "gcc -O2 compiles and links in the sandbox" "exit $rc: $out"; fi
same "... and the program runs in the sandbox with the tree's libc" "$(sx -- ./hello1 2>&1)" "hello 4 1.4142"
same "... and natively" "$("$W/hello1" 2>&1)" "hello 4 1.4142"
out=$(sx -- make -j2 2>&1)
rc=$?
if [ $rc -eq 0 ]; then ok "make builds a project: objects, ar, a static and a dynamic program, a shared library"; else not_ok "make builds a project" "exit $rc: $(echo "$out" | tail -3)"; fi
same "... the dynamic program runs" "$(sx -- ./hello x 2>&1)" "hello 9 2.0000"
same "... the static one too, and natively" "$("$W/hello-static" x 2>&1)" "hello 9 2.0000"
same "... the shared library exports sq" "$(nm -D --defined-only "$W/libsq.so" 2>&1 | awk '$3 == "sq" { print $2, $3 }')" "T sq"
printf 'int main(void) { return undeclared; }\n' >"$W/broken.c"
chown 1000:1000 "$W/broken.c"
out=$(sx -- gcc -c broken.c 2>&1)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q "broken.c:1:.*error: 'undeclared' undeclared"; then ok "a compile error is gcc's own message, exit 1"; else not_ok "a compile error is gcc's own message, exit 1" "exit $rc: $out"; fi
out=$(sx -- sh -c 'cd /tmp && printf "int main(void){return 0;}" > t.c && cc -o t t.c && ./t && echo tmp-ok' 2>&1)
same "gcc's temporary files go to the sandbox's /tmp" "$out" "tmp-ok"

# --- a second build from the manifest (the cache, no resolution) gives the same tree
# The .debs from the cache; the tree into a cache of its own, so it is made anew.
mkdir -p "$T/cache"
ln -s "$(realpath "$CACHE/debs")" "$T/cache/debs"
R2=$T/again/rootfs-c
cp "$M" "$T/lock.manifest"
out=$(nice "$MK" lock "$T/lock.manifest" "$R2" "$T/cache" 2>&1)
rc=$?
same "a rebuild from the manifest succeeds" "$rc" "0"
same "... with the same tree digest" "$(sed -n 's/^tree //p' "$R2.manifest" 2>&1)" "$(sed -n 's/^tree //p' "$M")"
same "... and the same manifest" "$(cat "$R2.manifest" 2>&1)" "$(cat "$M")"
ino=$(stat -c %i "$R2/usr/bin/gcc-12")
out=$("$MK" lock "$T/lock.manifest" "$R2" "$T/cache" 2>&1)
if echo "$out" | grep -q "is up to date" && [ "$(stat -c %i "$R2/usr/bin/gcc-12")" = "$ino" ]; then ok "unchanged inputs: nothing downloaded or unpacked again"; else not_ok "unchanged inputs: nothing downloaded or unpacked again" "$out"; fi
echo '/* tampered */' >>"$R2/usr/include/stdio.h"
out=$(nice "$MK" lock "$T/lock.manifest" "$R2" "$T/cache" 2>&1)
if echo "$out" | grep -q "differs from its manifest" && [ "$("$MK" digest "$R2")" = "$(sed -n 's/^tree //p' "$M")" ]; then
	ok "a tree changed behind the manifest's back is assembled again, to the same digest"
else not_ok "a tree changed behind the manifest's back is assembled again" "$out"; fi
rm -rf "$T/again" "$T/cache"

# --- refusals
# one package (so only it is downloaded), its SHA-256 changed
{ grep -v -e '^package ' -e '^tree ' "$M"; grep '^package make ' "$M" | sed 's/[0-9a-f]\{64\}$/'"$(printf '0%.0s' $(seq 64))"'/'; grep '^tree ' "$M"; } >"$T/bad.manifest"
out=$("$MK" lock "$T/bad.manifest" "$T/bad/rootfs-c" "$T/badcache" 2>&1)
rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "SHA-256 MISMATCH for make_" && [ ! -e "$T/bad/rootfs-c" ] && [ ! -e "$T/bad/rootfs-c.manifest" ] &&
	[ -z "$(ls "$T/badcache/debs" 2>/dev/null | grep '^make_')" ]; then
	ok "a .deb whose SHA-256 is not the manifest's is refused; no tree, no manifest, not cached"
else not_ok "a .deb whose SHA-256 is not the manifest's is refused" "exit $rc: $(echo "$out" | tail -2)"; fi
sed 's/^package make .*/package make/' "$M" >"$T/bad2.manifest"
expect_fail "a malformed manifest line is named" "bad2\.manifest:[0-9]+: malformed package line: make$" "$MK" lock "$T/bad2.manifest" "$T/bad2" "$CACHE"
# the real tree, its manifest's tree line changed: the rebuild is refused, not kept
mkdir -p "$T/cache3"
ln -s "$(realpath "$CACHE/debs")" "$T/cache3/debs"
sed 's/^tree [0-9a-f]*/tree '"$(printf '0%.0s' $(seq 64))"'/' "$M" >"$T/bad3.manifest"
out=$(nice "$MK" lock "$T/bad3.manifest" "$T/bad3/rootfs-c" "$T/cache3" 2>&1)
rc=$?
if [ $rc = 1 ] && echo "$out" | grep -Eq "the rebuilt tree is $(sed -n 's/^tree //p' "$M"); the manifest says 0{64} "; then
	ok "a rebuild that is not the manifest's tree is refused, with both digests"
else not_ok "a rebuild that is not the manifest's tree is refused, with both digests" "exit $rc: $(echo "$out" | tail -2)"; fi
same "... no tree kept, nothing half-made left" "$(ls "$T/cache3/rootfs" | grep -v '\.lock$'; ls "$T/bad3" 2>/dev/null)" ""
t_done
