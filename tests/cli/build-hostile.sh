#!/bin/bash
# cleanroom build --vsock against a fake agent (tests/cli/fake_agent.c) that
# signs real reports with the mock NSM: an honest run must succeed, and each
# hostile peer must fail with its exit status and leave nothing in --out.
#   FAKE_AGENT   the fake agent (default build/asan/tests/cli/fake_agent)
. "$(dirname "$0")/lib.sh"
: "${FAKE_AGENT:=build/asan/tests/cli/fake_agent}"
FAKE_AGENT=$(realpath "$FAKE_AGENT")
cd "$T_TMP" || exit 1

mkdir src
printf 'int main(void) { return 0; }\n' >src/main.c
printf 'all:\n\tcc -o hello main.c\n' >src/Makefile
CA=$T_TMP/ca
SOCK=$T_TMP/sock

# fake MODE N CLIENT-ARGS...: the agent in MODE on $SOCK, then
# `cleanroom build --vsock $SOCK --root $CA/root.pem CLIENT-ARGS...`;
# sets RC, OUT (stdout) and ERR (stderr), and AGENT_ERR (the agent's).
fake() {
	local mode=$1 n=$2 pid i
	shift 2
	rm -f "$SOCK"
	"$FAKE_AGENT" "$SOCK" "$T_TMP/src" "$CA" "$mode" "$n" 2>"$T_TMP/agent.err" &
	pid=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && break
		sleep 0.1
	done
	OUT=$("$CLEANROOM" build --vsock "$SOCK" --root "$CA/root.pem" "$@" 2>"$T_TMP/client.err")
	RC=$?
	ERR=$(cat "$T_TMP/client.err")
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	AGENT_ERR=$(cat "$T_TMP/agent.err")
}

# want NAME RC PATTERN: the last run exited RC and its last stderr line
# matches the extended regex PATTERN.
want() {
	if [ "$RC" -ne "$2" ]; then
		not_ok "$1" "exit status $RC, want $2 (stderr: $(echo "$ERR" | tail -3 | tr '\n' ' ' | cut -c1-300))"
	elif ! echo "$ERR" | tail -1 | grep -Eq -- "$3"; then
		not_ok "$1" "last stderr line '$(echo "$ERR" | tail -1)' does not match /$3/" | cut -c1-300
	else
		ok "$1"
	fi
}

# empty NAME DIR: DIR is absent or empty.
empty() {
	if [ -z "$(ls -A "$2" 2>/dev/null)" ]; then ok "$1"; else not_ok "$1" "$2 holds: $(ls -A "$2" | tr '\n' ' ')"; fi
}

# The control: an honest agent, the outputs and the four report files land.
rm -rf out
fake ok 0 --out out --output hello --output sub/longer src -- make
want "honest: exit 0" 0 '.*'
same "honest: hello" "$(cat out/hello 2>&1)" "artifact hello"
same "honest: sub/longer" "$(cat out/sub/longer 2>&1)" "artifact sub/longer"
[ -s out/cleanroom-bundle.json ] && ok "honest: the bundle" || not_ok "honest: the bundle" "no out/cleanroom-bundle.json"
# Its sizes are printed against the right paths.
echo "$OUT" | grep -q "artifact      out/sub/longer (20 bytes)" && ok "honest: sizes by output" ||
	not_ok "honest: sizes by output" "$(echo "$OUT" | grep artifact | tr '\n' ' ')"

# verify of the honest bundle: --key-out that cannot be written is exit 2
# in both modes, the JSON saying why beside "verified": true (it said
# nothing, and the text said NOT VERIFIED); a stdout that cannot take the
# report is exit 2, not 1 ("not verified"), nor 0.
cp -r out "$T_TMP/honest"
H=$T_TMP/honest
"$CLEANROOM" verify "$H/cleanroom-bundle.json" "$H/hello" --root "$CA/root.pem" >"$T_TMP/v0.out" 2>"$T_TMP/v0.err"
same "verify honest: exit 0" "$?:$(tail -1 "$T_TMP/v0.out")" "0:verified"
"$CLEANROOM" verify "$H/cleanroom-bundle.json" "$H/hello" --root "$CA/root.pem" --key-out "$T_TMP/nodir/k.pem" \
	>"$T_TMP/v1.out" 2>"$T_TMP/v1.err"
same "verify --key-out unwritable: exit 2, the verdict line, one stderr line naming --key-out" \
	"$?:$(tail -1 "$T_TMP/v1.out"):$(wc -l <"$T_TMP/v1.err"):$(grep -c '^cleanroom verify: --key-out: ' "$T_TMP/v1.err")" "2:verified:1:1"
"$CLEANROOM" verify "$H/cleanroom-bundle.json" "$H/hello" --root "$CA/root.pem" --key-out "$T_TMP/nodir/k.pem" \
	--json >"$T_TMP/v2.json" 2>/dev/null
same "verify --json --key-out unwritable: exit 2, verified true and the error" \
	"$?:$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["verified"], d["error"].startswith("--key-out: "))' "$T_TMP/v2.json" 2>&1)" \
	"2:True True"
"$CLEANROOM" verify "$H/cleanroom-bundle.json" "$H/hello" --root "$CA/root.pem" >/dev/full 2>"$T_TMP/v3.err"
same "verify to a full stdout: exit 2 (1 would say 'not verified')" "$?:$(cat "$T_TMP/v3.err")" \
	"2:cleanroom verify: stdout: No space left on device"
"$CLEANROOM" diff "$H" "$H" >/dev/full 2>"$T_TMP/v4.err"
same "diff to a full stdout: exit 2 (1 would say 'they differ')" "$?:$(cat "$T_TMP/v4.err")" \
	"2:cleanroom diff: stdout: No space left on device"
"$CLEANROOM" verify "$H/cleanroom-bundle.json" "$H/hello" --root "$CA/root.pem" --git-commit HEAD --repo "$T_TMP/norepo" \
	>/dev/null 2>"$T_TMP/v5.err"
same "verify --git-commit, --repo not a repository: exit 2, one line of ours (none of git's)" \
	"$?:$(cat "$T_TMP/v5.err")" "2:cleanroom verify: --repo $T_TMP/norepo: not a git repository (or git cannot read it)"

# ... also when the verdict is 1: a lost report is not a verdict
"$CLEANROOM" verify "$H/cleanroom-bundle.json" "$H/hello" --root "$CA/root.pem" --nonce 00 >/dev/full 2>"$T_TMP/v6.err"
same "verify NOT VERIFIED to a full stdout: exit 2, said" "$?:$(grep -c '^cleanroom verify: stdout: No space left on device' "$T_TMP/v6.err")" "2:1"
mkdir -p "$T_TMP/d1" "$T_TMP/d2" && echo 1 >"$T_TMP/d1/x" && echo 2 >"$T_TMP/d2/x"
"$CLEANROOM" diff "$T_TMP/d1" "$T_TMP/d2" >/dev/full 2>"$T_TMP/v7.err"
same "diff of differing trees to a full stdout: exit 2, said" "$?:$(cat "$T_TMP/v7.err")" "2:cleanroom diff: stdout: No space left on device"
# git exits 128 for a revision it cannot resolve too: the repository is asked alone
git init -q "$T_TMP/repo" && git -C "$T_TMP/repo" -c user.name=t -c user.email=t@t commit -q --allow-empty -m x
"$CLEANROOM" verify "$H/cleanroom-bundle.json" --root "$CA/root.pem" --git-commit 'HEAD@{99}' --repo "$T_TMP/repo" \
	>/dev/null 2>"$T_TMP/v8.err"
same "verify --git-commit of a revision git cannot resolve names the revision, not the repository" "$?:$(cat "$T_TMP/v8.err")" \
	"2:cleanroom verify: --git-commit: 'HEAD@{99}' is not a commit or tree in the repository $T_TMP/repo"
# --json and an input that cannot be read: the JSON says so too
"$CLEANROOM" verify "$T_TMP/nonexist.json" --json >"$T_TMP/v9.json" 2>/dev/null
same "verify --json of a missing bundle: exit 2, JSON with verified false and the error" \
	"$?:$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["verified"], d["error"].startswith("BUNDLE: "))' "$T_TMP/v9.json" 2>&1)" "2:False True"
Z=$(printf '0%.0s' $(seq 96))
"$CLEANROOM" verify --quorum 1 "$H/cleanroom-bundle.json" --root "$CA/root.pem" --pcr0 "$Z" --pcr1 "$Z" --pcr2 "$Z" \
	--json -- "$T_TMP/nonexist" \
	>"$T_TMP/v10.json" 2>/dev/null
same "verify --quorum --json with an input error: exit 2, JSON with the error" \
	"$?:$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["verified"], bool(d["error"]))' "$T_TMP/v10.json" 2>&1)" "2:False True"

# The signed statement names another source tree and command than sent:
# the nonce binds the report to the request, not to what was built.
rm -rf out
fake srcswap 0 --out out --output hello src -- make
want "srcswap: exit 6" 6 "report: the statement's source tree .* is not the one sent"
empty "srcswap: nothing in --out" out
# More log than the limit asked for: the agent passes on at most that much,
# so a peer sending more is hostile; the client stops, keeps nothing (--log
# neither).
fake logflood 4 --log-limit 1024 --log "$T_TMP/log" --out out --output hello src -- make
want "logflood: exit 5" 5 "more than the log limit of 1024 bytes"
empty "logflood: nothing in --out" out
[ -e "$T_TMP/log" ] && not_ok "logflood: no --log" "$T_TMP/log exists" || ok "logflood: no --log"

# --timeout 0 is the enclave's maximum (86400 s): the client waits for that
# plus its margin, not 0 + 30 s. strace shows the timeout set on the socket
# (LeakSanitizer does not run under ptrace).
# sockopt_s NAME: the seconds of the last setsockopt NAME in $T_TMP/strace.
sockopt_s() {
	grep "$1" "$T_TMP/strace" | tail -1 | python3 -c '
import re, struct, sys
m = re.search(r"\"(.*)\"", sys.stdin.read())
if m: print(struct.unpack("<q", m.group(1).encode().decode("unicode_escape").encode("latin1")[:8])[0])'
}
if command -v strace >/dev/null; then
	rm -f "$SOCK" "$T_TMP/strace"
	"$FAKE_AGENT" "$SOCK" "$T_TMP/src" "$CA" ok 0 2>/dev/null &
	pid=$!
	for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
	ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=setsockopt -o "$T_TMP/strace" "$CLEANROOM" build --vsock "$SOCK" \
		--root "$CA/root.pem" --timeout 0 --out out --output hello src -- make >/dev/null 2>&1
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	same "--timeout 0: silence limit" "$(sockopt_s SO_RCVTIMEO)" 86430
	# A peer that never reads must not hold the client in a send for ever.
	same "send timeout" "$(sockopt_s SO_SNDTIMEO)" 120
	rm -rf out
else
	skip "--timeout 0: silence limit" "no strace"
fi

# The connection dropped while the dependencies are on their way: a
# transfer failure (5), as for the sources, not a refusal (3).
mkdir -p deps
head -c 8388608 /dev/zero >deps/big
rm -rf out
fake depsclose 0 --deps deps --out out --output hello src -- make
want "depsclose: exit 5" 5 "closed the connection|Broken pipe|Connection reset"
empty "depsclose: nothing in --out" out

fake srcswap 0 --json --out out --output hello src -- make
same "srcswap --json: status" "$(echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["exit_status"])' 2>&1)" "error 6"
echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert "statement" in d["detail"], d["detail"]' 2>/dev/null &&
	ok "srcswap --json: the detail says why" || not_ok "srcswap --json: the detail says why" "$OUT"
fake ok 0 --json --out out --output hello src -- make
same "honest --json: status" "$(echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["exit_status"])' 2>&1)" "ok 0"
rm -rf out

# The artifacts must come in the order of outputs.
rm -rf out
fake reverse 0 --out out --output hello --output sub/longer src -- make
want "reverse: exit 5" 5 "artifact 'sub/longer' came before 'hello'"
empty "reverse: nothing in --out" out

# Malformed --pcr0/1/2 and --root are refused at once (exit 2), before
# anything is sent to the agent.
bad_input() {
	local name=$1 pat=$2
	shift 2
	rm -rf out
	fake ok 0 --out out --output hello "$@" src -- make
	want "$name: exit 2" 2 "$pat"
	same "$name: one stderr line" "$(echo "$ERR" | wc -l)" 1
	echo "$AGENT_ERR" | grep -q "request received" && not_ok "$name: nothing sent" "the agent got a request" ||
		ok "$name: nothing sent"
}
bad_input "--pcr0 not hex" "pcr0" --pcr0 zz --pcr1 00 --pcr2 00
printf 'not a PEM\n' >bad.pem
bad_input "--root not a PEM" "root|PEM" --root "$T_TMP/bad.pem"

# A log line every 2 s is never silence, but the build may not run past its
# --timeout: the client gives up at --timeout plus its margin (1 + 30 s).
rm -rf out
t0=$(date +%s)
fake slowlog 0 --timeout 1 --out out --output hello src -- make
want "slowlog: exit 5" 5 "still sends the build's log 31 s after it started"
[ $(($(date +%s) - t0)) -lt 60 ] && ok "slowlog: gave up in time" || not_ok "slowlog: gave up in time" "$(($(date +%s) - t0)) s"
empty "slowlog: nothing in --out" out

t_done
