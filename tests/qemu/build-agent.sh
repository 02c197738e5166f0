#!/bin/bash
# qemu/build-agent: builds through `cleanroom build` against our init in
# build-agent mode, in one locally booted enclave (busybox root, so it is
# quick under TCG): results, exit statuses, refusals, limits, and that the
# agent serves the next build after each failure.
#   tests/qemu/build-agent.sh CLEANROOM KERNEL_DIR INIT
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
. "$(dirname "$0")/agentlib.sh"
agent_suite_args "$@"

# --- the image: busybox as the toolchain, no /cmd (build-agent mode)
mkdir -p "$T/root/bin"
cp /bin/busybox "$T/root/bin/"
for c in sh echo cat ls true false sleep head mkdir cp wc dd seq printf env id yes; do ln -s busybox "$T/root/bin/$c"; done
agent_boot "$T/root" || exit 1
ok "the agent image boots and sends the heartbeat"
# Every build's signed report is verified by `cleanroom build` against the
# run's mock-NSM root and this image's PCRs.
ROOT=$NSM_ROOT

build() { # build OUTDIR [cleanroom build options...] SRC -- CMD...: sets RC, OUT, ERR
	local out=$1
	shift
	$CLEANROOM build --vsock "$VS" --root "$ROOT" --eif "$T/agent.eif" --out "$T/$out" "$@" >"$T/$out.stdout" 2>"$T/$out.stderr"
	RC=$?
	OUT=$(cat "$T/$out.stdout")
	ERR=$(cat "$T/$out.stderr")
}
expect_rc() { # NAME WANT [PATTERN on stderr]
	if [ "$RC" != "$2" ]; then not_ok "$1" "exit $RC, want $2; stderr: $(echo "$ERR" | tail -2 | tr '\n' ' ')"
	elif [ -n "${3:-}" ] && ! echo "$ERR" | grep -Eq -- "$3"; then not_ok "$1" "stderr lacks /$3/: $(echo "$ERR" | tail -2 | tr '\n' ' ')"
	else ok "$1"; fi
}
nothing_left() { # NAME OUTDIR
	if [ -e "$T/$2" ]; then not_ok "$1" "$(find "$T/$2" | head -5 | tr '\n' ' ')"; else ok "$1"; fi
}

# --- a source tree with the shapes git knows: exec bit, symlink, nesting, an empty dir
mkdir -p "$T/src/lib/deep" "$T/src/empty"
printf 'int x;\n' >"$T/src/lib/deep/x.c"
printf '#!/bin/sh\necho generated\n' >"$T/src/gen.sh"
chmod 755 "$T/src/gen.sh"
ln -s lib/deep/x.c "$T/src/link.c"
printf 'input\n' >"$T/src/input.txt"

build ok1 --output out/result.txt --output gen.out "$T/src" -- sh -c \
	'echo log line on stdout; echo log line on stderr >&2; mkdir -p out; cat input.txt lib/deep/x.c > out/result.txt; ./gen.sh > gen.out'
expect_rc "a build succeeds (exit 0)" 0
same "the declared outputs come back" "$(cat "$T/ok1/out/result.txt" "$T/ok1/gen.out" 2>&1 | tr '\n' '|')" "input|int x;|generated|"
echo "$ERR" | grep -q "log line on stdout" && echo "$ERR" | grep -q "log line on stderr" && ok "the build log (stdout and stderr) streams to the client" || not_ok "the build log (stdout and stderr) streams to the client" "$ERR"
git_tree=$(cd "$T/src" && git init -q && git add -A && git write-tree && rm -rf .git)
same "the reported source tree id equals git write-tree of the same files" "$(echo "$OUT" | awk '/^source tree/ {print $3}')" "$git_tree"
same "nothing but the outputs and the signed report in --out (no staging left)" "$(cd "$T/ok1" && find . -mindepth 1 | sort | tr '\n' ' ')" "./cleanroom-bundle.json ./cleanroom.attestation.cbor ./cleanroom.intoto.jsonl ./cleanroom.sigstore.json ./gen.out ./out ./out/result.txt "

build env1 --source-date-epoch 1700000000 --output env.txt "$T/src" -- sh -c 'env | sort > env.txt; id >> env.txt; pwd >> env.txt'
same "fixed environment, unprivileged uid, workdir /work/src" "$(cat "$T/env1/env.txt" 2>&1 | grep -v -e '^PWD=' -e '^SHLVL=' | tr '\n' '|')" \
	"HOME=/tmp|LC_ALL=C|PATH=/usr/local/bin:/usr/bin:/bin|SOURCE_DATE_EPOCH=1700000000|TZ=UTC|uid=1000 gid=1000|/work/src|"

# --- failures: each with its exit status and message, nothing left, and the next build works
build fail1 --output x "$T/src" -- sh -c 'echo compiling; exit 7'
expect_rc "a failing build exits 1 and says how the command ended" 1 "the build failed: exited with status 7"
nothing_left "a failed build leaves nothing in --out" fail1
build miss1 --output not/made "$T/src" -- true
expect_rc "an output the build did not make is named" 1 "output 'not/made' was not produced"
build nf1 --output x "$T/src" -- no-such-compiler
expect_rc "a command missing from the image is a failed build" 1 "cannot run no-such-compiler"
build to1 --timeout 2 --output x "$T/src" -- sh -c 'sleep 100 & sleep 100'
expect_rc "a build that never ends is stopped at its timeout (exit 4)" 4 "timed out after"
build mem1 --memory 24 --output x "$T/src" -- sh -c 'x=$(yes | head -c 200000000); echo ${#x}'
expect_rc "a memory bomb hits the memory limit (exit 4)" 4 "memory"
mkdir -p "$T/evil"
echo x >"$T/evil/a"
ln -s ../../etc/passwd "$T/evil/escape"
build ref1 --output a "$T/evil" -- true
expect_rc "a symlink leaving the tree is refused by the enclave, naming it (exit 3)" 3 "'escape': symlink target '../../etc/passwd' leaves the tree"
rm "$T/evil/escape"
ln -s /etc/passwd "$T/evil/abs"
build ref2 --output a "$T/evil" -- true
expect_rc "an absolute symlink is refused (exit 3)" 3 "'abs': symlink target '/etc/passwd' leaves the tree"
rm "$T/evil/abs"
mkfifo "$T/evil/fifo"
build ref3 --output a "$T/evil" -- true
expect_rc "a FIFO in the sources is refused before anything is sent (exit 3)" 3 "fifo is a FIFO"
rm "$T/evil/fifo"
build lim1 --memory 999999 --output a "$T/evil" -- true
expect_rc "a limit above the enclave's maximum is refused, naming it" 3 "limits.memory_mb 999999 exceeds this enclave's maximum"
nothing_left "refused builds leave nothing in --out" ref1

# --- deps: a separate stream, read-only in the sandbox, with its own tree id
mkdir -p "$T/deps/vendor"
printf 'dep\n' >"$T/deps/vendor/lib.txt"
build deps1 --json --deps "$T/deps" --output d.txt "$T/src" -- sh -c 'cat /work/deps/vendor/lib.txt > d.txt; echo tamper > /work/deps/vendor/lib.txt || true'
same "deps are readable in /work/deps" "$(cat "$T/deps1/d.txt" 2>&1)" "dep"
deps_git=$(cd "$T/deps" && git init -q --object-format=sha256 2>/dev/null && git add -A && git write-tree; rm -rf .git)
same "the deps tree id equals git's (sha256 object format)" "$(echo "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["deps_tree_sha256"])')" "$deps_git"
echo "$ERR" | grep -q "Permission denied" && ok "deps are read-only to the build" || not_ok "deps are read-only to the build" "$ERR"

# --- a client speaking garbage is answered and dropped; the agent keeps serving
python3 - "$VS" >"$T/garbage.out" 2>&1 <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"CONNECT 5000\n")
line = b""
while not line.endswith(b"\n"): line += s.recv(1)
s.sendall(struct.pack(">I", 5) + b"\xa1\x61\x74\x61\x78")  # {"t": "x"}: no version
data = b""
while True:
    b = s.recv(4096)
    if not b: break
    data += b
print("closed" if data else "silent", b"version" in data or b"field 'v'" in data)
EOF
same "a malformed request gets a protocol error naming the field, then the connection closes" "$(cat "$T/garbage.out")" "closed True"
python3 - "$VS" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"CONNECT 5000\n")
line = b""
while not line.endswith(b"\n"): line += s.recv(1)
s.sendall(b"\x00\x00")  # half a frame header, then gone
s.close()
EOF
build after1 --output out.txt "$T/src" -- sh -c 'echo still serving > out.txt'
expect_rc "after all of the above the same agent still builds" 0
same "... and its output is right" "$(cat "$T/after1/out.txt" 2>&1)" "still serving"

kill -TERM $RUN 2>/dev/null
wait $RUN
grep -q "Kernel panic" "$T/console.log" && not_ok "no kernel panic" "$(grep -m1 -A2 'Kernel panic' "$T/console.log")" || ok "no kernel panic on the console"
# 14 connections: 15 client runs less the FIFO one, refused before connecting
# (since the host-inputs change).
same "the agent logged every build" "$(grep -o 'init: agent: build [0-9]*:' "$T/console.log" | sort -u | wc -l)" "14"
t_done
