#!/bin/bash
# cli/rootfs-hostile: rootfs/mkrootfs.sh, intree.py and vendor.py on hostile
# input, offline, with small .debs made here (tests/cli/debtest.py): package
# list words that apt would take as options, trees whose listing could be
# another tree's, a digest of no directory, manifests whose name leaves the
# cache or matches other trees, packages whose links would take later files
# (and the recipe's own links and removals) out of the tree, a rebuilt tree
# that is not the manifest's, malformed or costly data.tars (pax headers, blocks
# that are no header, lookups through long links, deep trees), and Cargo.lock
# or Go paths that leave --deps.
#   (needs root: the tree is owned by root)
. "$(dirname "$0")/lib.sh"
TOP=$(realpath "$(dirname "$0")/../..")
MK=$TOP/rootfs/mkrootfs.sh
INTREE=$TOP/rootfs/intree.py
VENDOR=$TOP/rootfs/vendor.py
DEB=$(dirname "$0")/debtest.py
T=$T_TMP
chmod 755 "$T"
if [ "$(id -u)" != 0 ]; then
	skip "rootfs-hostile suite" "needs root (owner root in the trees)"
	exit 0
fi
Z64=$(printf '0%.0s' {1..64})
RECIPE=$(cat "$MK" "$INTREE" | sha256sum | cut -c1-64)
mkdir -p "$T/cache/debs"
# deb NAME MEMBER...: $T/cache/debs/NAME_1.0_amd64.deb; prints its package line
deb() {
	python3 "$DEB" "$T/cache/debs/$1_1.0_amd64.deb" "$@" &&
		echo "$1 1.0 amd64 $(sha256sum <"$T/cache/debs/$1_1.0_amd64.deb" | cut -c1-64)"
}
# fails NAME PATTERN COMMAND...: the command exits 1 with a stderr line
# matching PATTERN (the tool's and mkrootfs's own line may both be there)
fails() {
	local name=$1 pat=$2 rc
	shift 2
	"$@" >/dev/null 2>"$T/fails.err"
	rc=$?
	if [ $rc = 1 ] && grep -Eq -- "$pat" "$T/fails.err"; then ok "$name"; else not_ok "$name" "exit $rc: $(tr '\n' ' ' <"$T/fails.err")"; fi
}
# manifest FILE NAME TREE PACKAGE-LINE...
manifest() {
	local f=$1 name=$2 tree=$3
	shift 3
	{
		echo "format cleanroom-rootfs-manifest 1"
		echo "name $name"
		echo "roots aaa"
		echo "recipe $RECIPE"
		printf 'package %s\n' "$@"
		echo "tree $tree"
	} >"$f"
}

# --- package lists: every word a Debian package name, never an apt option
printf 'make\n-oAPT::Install-Recommends=1\n' >"$T/opt.packages"
expect_fail "a package list word that apt would take as an option is refused, naming its line" \
	"opt\.packages:2: '-oAPT::Install-Recommends=1' is not a Debian package name" "$MK" resolve "$T/opt.packages"
printf 'make # the tool\ngcc -oDir::State::status=/var/lib/dpkg/status\n' >"$T/opt2.packages"
expect_fail "... also after a name on the same line (build)" "opt2\.packages:2: '-oDir::State::status=/var/lib/dpkg/status' is not" \
	"$MK" build rootfs-x "$T/opt2.packages" "$T/x" "$T/cache"
printf 'make*\n' >"$T/glob.packages"
expect_fail "... and a glob" "glob\.packages:1: 'make\\\\\*' is not a Debian package name" "$MK" resolve "$T/glob.packages"
[ ! -e "$T/x" ] && ok "... and nothing is made" || not_ok "... and nothing is made" "$T/x exists"

# --- the listing: one listing, one tree
mkdir -p "$T/l1" "$T/l2" "$T/l3" "$T/l4" "$T/l5"
ln -s -- '-> y' "$T/l1/x " # "l ./x  -> -> y"
ln -s y "$T/l2/x  ->"      # the same line
expect_fail "a name with '->' is refused (its link line could be another tree's)" 'cannot be listed: bad name with "->": \./x  ->' \
	"$MK" digest "$T/l2"
check "... a name without it, its target with '->', is listed" "$MK" digest "$T/l1"
ln -s "b
l ./c -> d" "$T/l3/a"
ln -s b "$T/l4/a"
ln -s d "$T/l4/c"
expect_fail "a link target with a newline is refused (it would list as two links)" \
	'cannot be listed: bad link target with a newline: \./a' "$MK" digest "$T/l3"
for i in $(seq 1500); do : >"$T/l5/a-long-name-so-that-the-listing-is-larger-than-a-pipe-$i"; done
mkfifo "$T/l5/fifo"
expect_fail "a FIFO in a large tree is refused (no SIGPIPE lets it through)" 'bad special file: \./fifo' "$MK" digest "$T/l5"
rm -rf "$T/l5"
(cd "$T/l1" && expect_fail "the digest of no directory fails (not the current directory's)" "$T/none: not a directory" "$MK" digest "$T/none")

# --- manifests: every field checked, by its line
p1=$(deb aaa d:./ d:./usr/ f:./usr/a=a)
manifest "$T/m.ok" rootfs-t "$Z64 1 1" "$p1"
for bad in 'name ../../outside|2: name .*\.\./\.\./outside' 'name *|2: name .\\\*. is not' 'name rootfs-t
name rootfs-u|3: a second .name. line' 'colour red|[0-9]+: unknown field .colour.' 'tree 0 1|[0-9]+: tree .* is not' \
	'recipe 123|[0-9]+: recipe .123. is not a SHA-256' 'roots -oAPT::Install-Recommends=1|[0-9]+: roots: .* is not a Debian package name'; do
	line=${bad%%|*} pat=${bad#*|}
	awk -v l="$line" -v k="${line%% *}" 'NR > 1 && $1 == k && !done { print l; done = 1; next } { print }' "$T/m.ok" >"$T/m.bad"
	grep -qx -- "$line" "$T/m.bad" || echo "$line" >>"$T/m.bad"
	expect_fail "lock refuses a manifest with '${line//$'\n'/\\n}'" "m\.bad:$pat" "$MK" lock "$T/m.bad" "$T/out" "$T/cache"
done
manifest "$T/m.two" rootfs-t "$Z64 1 1" "$p1" "$(sed 's/^aaa/aab/' <<<"$p1")"
sed -i '/^package aaa/{h;d};/^tree/{x;G}' "$T/m.two"
expect_fail "lock refuses package lines out of order" "m\.two:[0-9]+: package lines not sorted" "$MK" lock "$T/m.two" "$T/out" "$T/cache"
sed "s/^recipe .*/recipe $Z64/" "$T/m.ok" >"$T/m.recipe"
expect_fail "lock refuses another recipe's manifest, with both hashes" "recipe $Z64, but this mkrootfs.sh and intree.py are $RECIPE" \
	"$MK" lock "$T/m.recipe" "$T/out" "$T/cache"
same "... nothing made outside the cache or in it" "$(ls "$T" | grep -c -e '^outside' -e '^out') $(ls "$T/cache" | tr '\n' ' ')" "0 debs "

# --- packages whose links point out of the tree: followed inside it only
mkdir -p "$T/outside/doc"
echo keep >"$T/outside/doc/keep"
rel=$(printf '../%.0s' {1..12})${T#/}/outside
pa=$(deb aaa d:./ d:./usr/ "l:./usr/esc=$T/outside" "l:./usr/rel=$rel" "l:./usr/bin=$T/outside" "l:./usr/share=$T/outside")
pb=$(deb bbb d:./ d:./usr/ f:./usr/esc/owned=pwned f:./usr/rel/owned2=pwned f:./usr/bin/gcc=gcc)
manifest "$T/m.esc" rootfs-t "$Z64 1 1" "$pa" "$pb"
out=$("$MK" lock "$T/m.esc" "$T/t/out" "$T/cache" 2>&1)
rc=$?
got=$(grep -o 'the rebuilt tree is [0-9a-f]\{64\} [0-9]* [0-9]*; the manifest says '"$Z64"' 1 1$' <<<"$out")
[ $rc = 1 ] && [ -n "$got" ] && ok "lock refuses a rebuilt tree that is not the manifest's, with both digests" ||
	not_ok "lock refuses a rebuilt tree that is not the manifest's" "exit $rc: $(tail -2 <<<"$out")"
same "... and leaves no tree, no NAME-KEY.tmp, no manifest" "$(ls "$T/cache/rootfs" | grep -v '\.lock$'; ls "$T/t" 2>/dev/null)" ""
same "links to the host, absolute or by '..': nothing written or removed outside the tree" \
	"$(cd "$T/outside" && find . | sort | tr '\n' ' ')" ". ./doc ./doc/keep "
tree=$(sed 's/^the rebuilt tree is \(.*\); the manifest.*/\1/' <<<"$got")
manifest "$T/m.esc" rootfs-t "$tree" "$pa" "$pb"
check "... the manifest with that digest is rebuilt" "$MK" lock "$T/m.esc" "$T/t/out" "$T/cache"
same "... the files went where the links lead inside the tree, the recipe's links too" \
	"$(cd "$T/t/out/${T#/}/outside" 2>/dev/null && find . | sort | tr '\n' ' ')" ". ./c89 ./c99 ./cc ./gcc ./owned ./owned2 "
same "... still nothing outside" "$(cd "$T/outside" && find . | sort | tr '\n' ' ')" ". ./doc ./doc/keep "
# pruning keeps NAME-KEY exactly: a tree named 'rootfs' leaves rootfs-c-* alone
for k in 1 2 3 4; do
	mkdir "$T/cache/rootfs/rootfs-c-000000000000000$k"
	touch -d "@$k" "$T/cache/rootfs/rootfs-c-000000000000000$k.manifest"
done
pp=$(deb plain d:./ d:./usr/ f:./usr/a=a)
manifest "$T/m.short" rootfs "$Z64 1 1" "$pp"
tree=$("$MK" lock "$T/m.short" "$T/t/short" "$T/cache" 2>&1 | sed -n 's/.*the rebuilt tree is \(.*\); the manifest says.*/\1/p')
manifest "$T/m.short" rootfs "${tree:-$Z64 1 1}" "$pp"
check "a tree named 'rootfs' is made" "$MK" lock "$T/m.short" "$T/t/short" "$T/cache"
same "... and the three-newest pruning leaves the trees of rootfs-c alone" "$(ls -d "$T"/cache/rootfs/rootfs-c-* | wc -l)" "8"

# --- members: refused by name
for m in 'f:./../dotdot=x|an empty, .\.. or .\.\.. component' 'f:/abs=x|an absolute name' 'p:./fifo|a FIFO, device or other special file' \
	'h:./hard=/etc/passwd|an absolute name' 'h:./hard=./nothing|a hard link to .\./nothing., which is no file' \
	"f:./nl
x=x|a newline in the name" 'l:./x=a
b|.*a newline in it'; do
	pc=$(deb ccc d:./ "${m%%|*}")
	manifest "$T/m.mem" rootfs-t "$Z64 1 1" "$pc"
	what=${m%%|*}
	fails "a member ${what//$'\n'/\\n} is refused, naming it" "^intree: .*ccc_1\.0_amd64\.deb: member .*: ${m#*|}" "$MK" lock "$T/m.mem" "$T/t/mem" "$T/cache"
done
same "... and no NAME-KEY.tmp is left" "$(ls -d "$T"/cache/rootfs/*.tmp 2>/dev/null)" ""
# usrmerge-like links stay, resolved in the tree
mkdir "$T/u"
python3 "$DEB" "$T/u1.deb" u1 d:./ d:./usr/ d:./usr/bin/ d:./usr/lib/ l:./bin=usr/bin
python3 "$DEB" "$T/u2.deb" u2 d:./ d:./bin/ f:./bin/prog=p l:./lib64=/usr/lib d:./lib64/ f:./lib64/ld=l
check "a directory over a link to a directory keeps the link" python3 "$INTREE" unpack "$T/u" "$T/u1.deb" "$T/u2.deb"
same "... its files go where it leads, inside the tree" "$(cd "$T/u" && find . | sort | tr '\n' ' ')" \
	". ./bin ./lib64 ./usr ./usr/bin ./usr/bin/prog ./usr/lib ./usr/lib/ld "
python3 "$DEB" "$T/u3.deb" u3 d:./ l:./dangling=nowhere d:./dangling/
fails "... a directory over a link to nothing is refused" "member './dangling/?': a directory where the tree has a link to no directory" \
	python3 "$INTREE" unpack "$T/u" "$T/u3.deb"

# --- malformed archives, costly headers and lookups: refused by name, no traceback
# intree_fails NAME PATTERN MEMBER...: a fresh tree; unpacking a .deb of MEMBERs is refused
mkdir "$T/m"
intree_fails() {
	local name=$1 pat=$2
	shift 2
	rm -rf "$T/m/tree" && mkdir "$T/m/tree" && python3 "$DEB" "$T/m/m.deb" mmm d:./ "$@" &&
		fails "$name" "^intree: .*m\.deb: $pat" python3 "$INTREE" unpack "$T/m/tree" "$T/m/m.deb"
}
intree_fails "a pax sparse map that is no numbers is refused" "data\.tar is malformed.*: a sparse member" \
	'x:./a=GNU.sparse.map=x,y'
intree_fails "... a pax size that is no number too (tarfile's ValueError)" "data\.tar is malformed.*invalid literal.*ValueError" \
	'x:./a=GNU.sparse.realsize=zz'
intree_fails "... and a negative one" "data\.tar is malformed: member .\./a. has a negative size" 'x:./a=size=-1'
intree_fails "a pax header of more than 1 MiB is refused (tarfile reads it whole)" \
	"data\.tar is malformed after member '\.': pax or GNU long name or link headers of more than 1048576 bytes" \
	X:2000000 f:./a=a
intree_fails "a block that is no header is refused (tarfile would end the archive there)" \
	"data\.tar is malformed after member '\./a': (bad checksum|invalid header) at byte" f:./a=a g:garbage f:./b=b
intree_fails "... and more than NUL bytes after the end marker" "data\.tar is malformed: more than NUL bytes after its end marker" \
	f:./a=a z: f:./b=b
intree_fails "a NUL byte in a name is named so" "member 'a\\\\x00b': a NUL byte in the name" 'x:./a=path=a\0b'
intree_fails "an OSError names the member" "member '\./a{300}': File name too long" "f:./$(printf 'a%.0s' {1..300})=x"
L1=$(printf 'd/../%.0s' {1..800})
intree_fails "a lookup of more than 4096 components, links' too, is refused (a CPU sink per member)" \
	"member '\./L0/x': more than 4096 path components on the way" d:./d/ "l:./L0=${L1}L1" "l:./L1=${L1}L2" "l:./L2=${L1}d" f:./L0/x=x
rm -rf "$T/m/tree" && mkdir "$T/m/tree"
python3 "$DEB" "$T/m/walk.deb" walk d:./ d:./d/ "l:./L0=${L1}L1" "l:./L1=${L1}d" f:./L0/x=x f:./L0/y=y f:./L0/z=z
check "... 3203 are not" python3 "$INTREE" unpack "$T/m/tree" "$T/m/walk.deb"
fails "... nor more than MAX_WALK_DEB for one .deb" "walk\.deb: member '\./L0/z': more than 8000 path components looked up for one \.deb" \
	python3 -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import intree; intree.MAX_WALK_DEB = 8000; sys.exit(intree.main(sys.argv[1:]))' \
	"$TOP/rootfs" unpack "$T/m/tree" "$T/m/walk.deb"
rm -rf "$T/m/tree" && mkdir "$T/m/tree"
python3 "$DEB" "$T/m/self.deb" self d:./ f:./a=data h:./a=./a
check "a hard link to itself is no change" python3 "$INTREE" unpack "$T/m/tree" "$T/m/self.deb"
same "... the file stays" "$(cat "$T/m/tree/a" 2>&1)" "data"
deep=$(printf 'a/%.0s' {1..1500})
rm -rf "$T/m/tree" && mkdir "$T/m/tree"
python3 "$DEB" "$T/m/deep.deb" deep d:./ "f:./${deep}f=x"
check "a member 1500 directories deep is unpacked with 64 descriptors" bash -c 'ulimit -n 64 && exec "$@"' - \
	python3 "$INTREE" unpack "$T/m/tree" "$T/m/deep.deb"
same "... it is there" "$(cd "$T/m/tree" && find . -name f | wc -l)" "1"
check "... and removed (no recursion) with 64 descriptors" bash -c 'ulimit -n 64 && exec "$@"' - \
	python3 "$INTREE" remove "$T/m/tree" a
same "... all of it" "$(ls -A "$T/m/tree")" ""

# --- vendor.py: no path leaves --deps, no source is read through a link
mkdir -p "$T/v" "$T/hostreg/hostcrate-1.0.0" "$T/hostsrc/pkg"
echo '[package]' >"$T/hostreg/hostcrate-1.0.0/Cargo.toml"
printf 'package pkg\n' >"$T/hostsrc/pkg/a.go"
deb reg d:./ d:./usr/ d:./usr/share/ f:./usr/share/ok=1 >"$T/v/pins"
lock_with() { printf '[[package]]\nname = "%s"\nversion = "%s"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n' "$1" "$2" >"$T/v/Cargo.lock"; }
lock_with ../../../hostcrate 1.0.0
expect_fail "vendor.py refuses a Cargo.lock crate name with '/' or '..', naming its line" "Cargo\.lock:2: crate name '\.\./\.\./\.\./hostcrate' is not" \
	python3 "$VENDOR" rust "$T/v/pins" "$T/v/Cargo.lock" "$T/v/out" "$T/cache"
lock_with hostcrate 1.0.0/../../x
expect_fail "... and a version that is not semver" "Cargo\.lock:3: crate hostcrate version '1\.0\.0/\.\./\.\./x' is not" \
	python3 "$VENDOR" rust "$T/v/pins" "$T/v/Cargo.lock" "$T/v/out" "$T/cache"
deb reg2 d:./ d:./usr/ d:./usr/share/ d:./usr/share/cargo/ "l:./usr/share/cargo/registry=$T/hostreg" >"$T/v/pins2"
lock_with hostcrate 1.0.0
expect_fail "... and a crate reached through a link a package ships" "registry: a link where a source directory was expected" \
	python3 "$VENDOR" rust "$T/v/pins2" "$T/v/Cargo.lock" "$T/v/out" "$T/cache"
mkdir -p "$T/v/go"
printf 'module example.org/p\n\nrequire x.y v1.0.0\n' >"$T/v/go/go.mod"
printf 'package main\n\nimport "x.y/../../../%s/hostsrc/pkg"\n\nfunc main() {}\n' "${T#/}" >"$T/v/go/main.go"
expect_fail "vendor.py go: an import path with '..' is refused, naming its file" "main\.go: import 'x\.y/\.\./.*' is not a Go import path" \
	python3 "$VENDOR" go "$T/v/pins" "$T/v/go/go.mod" "$T/v/out" "$T/cache"
printf 'module example.org/p\n\nrequire /x.y v1.0.0\n' >"$T/v/go/go.mod"
expect_fail "... a go.mod requirement with a leading '/', naming its line" "go\.mod:3: malformed requirement '/x\.y v1\.0\.0'" \
	python3 "$VENDOR" go "$T/v/pins" "$T/v/go/go.mod" "$T/v/out" "$T/cache"
printf 'module example.org/p\n\nrequire evil.example v1.0.0\n' >"$T/v/go/go.mod"
printf 'package main\n\nimport "evil.example/pkg"\n\nfunc main() {}\n' >"$T/v/go/main.go"
deb gsrc d:./ d:./usr/ d:./usr/share/ d:./usr/share/gocode/ d:./usr/share/gocode/src/ "l:./usr/share/gocode/src/evil.example=$T/hostsrc" >"$T/v/pins3"
expect_fail "... and a package reached through a link a package ships" "evil\.example: a link where a source directory was expected" \
	python3 "$VENDOR" go "$T/v/pins3" "$T/v/go/go.mod" "$T/v/out" "$T/cache"
same "... nothing written outside --deps, no --deps" "$(find / -xdev -maxdepth 1 -name 'hostcrate*' | wc -l) $(ls "$T/v" | tr '\n' ' ')" "0 Cargo.lock go pins pins2 pins3 "
deb badtar d:./ 'x:./a=GNU.sparse.realsize=zz' >"$T/v/pins4"
expect_fail "vendor.py: a malformed data.tar is refused, naming the .deb" "^vendor: .*badtar_1\.0_amd64\.deb: data\.tar is malformed" \
	python3 "$VENDOR" rust "$T/v/pins4" "$T/v/Cargo.lock" "$T/v/out" "$T/cache"
same "... and leaves no out.tmp, no work directory" "$(ls "$T/v" | tr '\n' ' ')" "Cargo.lock go pins pins2 pins3 pins4 "
# a crate 1100 directories deep: os.walk (Python 3.11) recursed past its limit
deep=./usr/share/cargo/registry/deep-1.0.0
mem=(d:./ d:./usr/ d:./usr/share/ d:./usr/share/cargo/ d:./usr/share/cargo/registry/ "d:$deep/" "f:$deep/Cargo.toml=[package]")
for _ in $(seq 1100); do deep=$deep/a && mem+=("d:$deep/"); done
deb deepcrate "${mem[@]}" "f:$deep/f=x" >"$T/v/pins5"
lock_with deep 1.0.0
expect_fail "vendor.py: a crate too deep to copy is refused by name, not with a traceback" "^vendor: a source tree is nested too deep" \
	python3 "$VENDOR" rust "$T/v/pins5" "$T/v/Cargo.lock" "$T/v/out" "$T/cache"
same "... and leaves no out.tmp, no work directory" "$(ls "$T/v" | tr '\n' ' ')" "Cargo.lock go pins pins2 pins3 pins4 pins5 "

# --- the tree's busybox, the one program mkrootfs runs, never runs with this
# machine's rights: a script there ran as root through the host's /bin/sh
mkdir -p "$T/canary" && chmod 1777 "$T/canary"
pe=$(deb eee d:./ d:./bin/ "f:./bin/busybox=#!/bin/sh
id >$T/canary/by-script
echo bin/true")
manifest "$T/m.bb" rootfs-t "$Z64 1 1" "$pe"
"$MK" lock "$T/m.bb" "$T/t/bb" "$T/cache" >/dev/null 2>"$T/bb.err"
same "a bin/busybox that is a script: lock fails at its confined run, nothing written outside the tree" \
	"$?:$(grep -c 'list-full failed (run confined' "$T/bb.err"):$(ls -A "$T/canary")" "1:1:"
t_done
