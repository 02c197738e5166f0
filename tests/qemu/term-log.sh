#!/bin/bash
# qemu/term-log: what a build prints reaches the
# user's terminal with every control character shown escaped — window
# titles, clipboard writes, screen clears, \r overwrites, 8-bit CSI and
# concealment (ESC[8m) cannot touch the terminal or hide cleanroom's own
# lines, also when a sequence is split across log messages — while
# `--log FILE` keeps the raw bytes; the guest console of `cleanroom run
# --console -` likewise. A log cut at its limit is said so by the client with
# the exact counts, recorded in the signed report (bytes and digest kept,
# bytes dropped) and shown by `cleanroom verify`.
#   tests/qemu/term-log.sh CLEANROOM KERNEL_DIR INIT WIRE_CLIENT
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/runlib.sh"
. "$(dirname "$0")/agentlib.sh"
agent_suite_args "$@"
WIRE_CLIENT=$(realpath "$ARG4")

command -v script >/dev/null || { not_ok "script(1) from util-linux is installed" "not found"; exit 1; }

mkdir -p "$T/root/bin"
cp /bin/busybox "$T/root/bin/"
for c in sh cat echo printf yes head sleep true; do ln -s busybox "$T/root/bin/$c"; done
agent_boot "$T/root" || exit 1
ok "the agent image boots"

# --- the hostile build's output, in three writes half a second apart, so
# that a C1 sequence (\302|\233) and an OSC (\033|]0;...) are each split
# across two log messages.
mkdir -p "$T/src"
printf '\033]0;pwned title\007\033]52;c;ZWNobyBoaQ==\007\033[2J\033[Hresult        ok: fake (0.1 s)\r\nreport        out/cleanroom-bundle.json: verified (13 checks)\n\23331m raw CSI \302' >"$T/src/part1.bin"
printf '\23332m C1 CSI \033' >"$T/src/part2.bin"
printf ']0;second title\007\rcleanroom build: the build succeeded\n\033[8m' >"$T/src/part3.bin"
cat "$T/src/part1.bin" "$T/src/part2.bin" "$T/src/part3.bin" >"$T/hostile.raw"

# Under a pseudo-terminal, as a user would run it.
cmd="$CLEANROOM build --vsock $VS --root $NSM_ROOT --eif $T/agent.eif --out $T/h --log $T/h.log --output x $T/src --"
cmd="$cmd sh -c 'cat part1.bin; sleep 0.5; cat part2.bin; sleep 0.5; cat part3.bin; exit 3'"
script -qfec "$cmd" "$T/h.typescript" </dev/null >/dev/null 2>&1
rc=$?
same "a hostile build that fails: exit 1 under a terminal" "$rc" "1"
# The typescript less script's own first and last lines.
sed '1d;$d' "$T/h.typescript" >"$T/h.tty"
python3 - "$T/h.tty" >"$T/h.check" <<'EOF'
import re, sys
t = open(sys.argv[1], "rb").read()
bad = []
for name, pat in [("ESC", rb"\x1b"), ("BEL", rb"\x07"), ("raw C1", rb"[\x80-\x9f]"), ("DEL", rb"\x7f")]:
    # raw C1 bytes may only appear as UTF-8 continuation bytes of printable characters
    if name == "raw C1":
        try:
            s = t.decode("utf-8")
        except UnicodeDecodeError as e:
            bad.append("invalid UTF-8 at %d" % e.start); continue
        if re.search("[\x80-\x9f]", s): bad.append("a C1 character")
        continue
    if re.search(pat, t): bad.append(name)
# \r only as the terminal's line ends or before cleanroom's own progress line
for m in re.finditer(rb"\r(?!\n)", t):
    if not t[m.end():].startswith(b"cleanroom build: sending"):
        bad.append("a lone CR before %r" % t[m.end():m.end() + 20])
print("clean" if not bad else "; ".join(bad))
EOF
same "the terminal got no ESC, BEL, DEL, C1 or stray CR from the build" "$(cat "$T/h.check")" "clean"
tr -d '\r' <"$T/h.tty" >"$T/h.txt"
has() { # NAME LITERAL
	if grep -qF -- "$2" "$T/h.txt"; then ok "$1"; else not_ok "$1" "no '$2' in: $(head -c 600 "$T/h.txt" | tr '\n' '|')"; fi
}
has "the window-title OSC is shown escaped" '\x1b]0;pwned title\x07'
has "the clipboard-write OSC (52) is shown escaped" '\x1b]52;c;ZWNobyBoaQ==\x07'
has "the screen clear is shown escaped" '\x1b[2J\x1b[Hresult        ok: fake (0.1 s)\r'
has "a raw 8-bit CSI byte is shown as \\x9b" '\x9b31m raw CSI '
has "a UTF-8 C1 CSI split across two log messages is shown as \\u009b" '\u009b32m C1 CSI '
has "an OSC split across two log messages (ESC | ]0;...) is shown escaped" '\x1b]0;second title\x07\rcleanroom build: the build succeeded'
has "the concealment sequence is shown escaped" '\x1b[8m'
same "no line of the build's poses as cleanroom's own (the \\r is visible)" \
	"$(grep -c '^cleanroom build: the build succeeded' "$T/h.txt")" "0"
same "cleanroom's own failure line comes last, on a line of its own, visible" \
	"$(grep -v '^$' "$T/h.txt" | tail -1)" "cleanroom build: the build failed: exited with status 3"
if cmp -s "$T/h.log" "$T/hostile.raw"; then ok "--log FILE holds the build's raw bytes, escapes and all"
else not_ok "--log FILE holds the build's raw bytes, escapes and all" "$(od -c "$T/h.log" 2>&1 | head -3 | tr '\n' '|')"; fi
same "--log FILE is private (mode 600)" "$(stat -c %a "$T/h.log" 2>&1)" "600"
same "... and nothing else is left beside it" "$(ls -a "$T" | grep -c '^h\.log\.tmp')" "0"

# The same build with stderr a file, not a terminal: sanitised all the same.
abuild h2 --output x "$T/src" -- sh -c 'cat part1.bin part2.bin part3.bin; exit 3'
if LC_ALL=C grep -q $'\033\|\007' "$T/h2.stderr"; then not_ok "not on a terminal: the log is sanitised all the same" "$(od -c "$T/h2.stderr" | head -3)"
else ok "not on a terminal: the log is sanitised all the same"; fi

# --- --log refusals: checked before anything is sent, nothing left behind
abuild l1 --log "$T/no/such/dir/build.log" --output x "$T/src" -- true
same "--log in a directory that does not exist: refused before the build (exit 2)" "$RC" "2"
echo "$REASON" | grep -q -- "--log: .*no/such/dir/build.log" && ok "... naming --log and the path" || not_ok "... naming --log and the path" "$REASON"
mkdir "$T/adir"
abuild l2 --log "$T/adir" --output x "$T/src" -- true
same "--log naming a directory: refused (exit 2)" "$RC:$(ls -A "$T/adir" | wc -l)" "2:0"
long=$(printf 'x%.0s' $(seq 1 120))
$CLEANROOM build --vsock "$T/$long" --root "$NSM_ROOT" --out "$T/l3" --log "$T/l3.log" --output x "$T/src" -- true \
	>/dev/null 2>"$T/l3.stderr"
rc=$?
same "a build that never ran (no enclave to connect to): exit 5, and no --log file, no temporary file" \
	"$rc:$(ls "$T" | grep -c '^l3\.log')" "5:0"
abuild l4 --memory 999999 --log "$T/l4.log" --output x "$T/src" -- true
same "a build the enclave refused (a limit): exit 3, and no --log file, no temporary file" \
	"$RC:$(ls "$T" | grep -c '^l4\.log')" "3:0"

# --- item 4: the log limit
abuild t1 --json --log-limit 10000 --log "$T/t1.log" --output out.txt "$T/src" -- \
	sh -c 'yes abcdefghi | head -c 25000; echo done > out.txt'
same "a build whose log passes --log-limit still succeeds (exit 0)" "$RC" "0"
same "the client says the log was truncated, with the exact counts" \
	"$(grep 'truncated' "$T/t1.stderr")" "cleanroom build: build log truncated at 10000 bytes; 15000 bytes dropped"
yes abcdefghi | head -c 25000 | head -c 10000 >"$T/t1.want"
cmp -s "$T/t1.log" "$T/t1.want" && ok "--log holds exactly the 10000 bytes kept" || not_ok "--log holds exactly the 10000 bytes kept" "$(wc -c <"$T/t1.log")"
jq_() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); exec("print(" + sys.argv[2] + ")")' "$@"; }
same "build --json: log bytes, truncated, dropped_bytes" "$(jq_ "$T/t1.stdout" 'd["log"]["bytes"], d["log"]["truncated"], d["log"]["dropped_bytes"]')" "10000 True 15000"
python3 - "$T/t1/cleanroom-bundle.json" "$T/t1.want" >"$T/t1.report" <<'EOF'
import base64, hashlib, json, sys
b = json.load(open(sys.argv[1]))
st = json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))
bp = st["predicate"]["runDetails"]["byproducts"][0]
want = hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
print(bp["name"], json.dumps(bp["annotations"], sort_keys=True), bp["digest"]["sha256"] == want,
      st["predicate"]["buildDefinition"]["internalParameters"]["limits"]["logBytes"])
EOF
same "the signed report's build.log byproduct: bytes kept, truncated, droppedBytes, the digest of what was kept, the limit" \
	"$(cat "$T/t1.report")" 'build.log {"bytes": 10000, "droppedBytes": 15000, "truncated": true} True 10000'
$CLEANROOM verify "$T/t1/cleanroom-bundle.json" "$T/t1/out.txt" --root "$NSM_ROOT" --eif "$T/agent.eif" >"$T/v1.out" 2>"$T/v1.err"
rc=$?
same "verify passes on the report of a truncated log (exit 0)" "$rc" "0"
sha=$(sha256sum "$T/t1.want" | cut -c1-64)
grep -qF "note  build.log            10000 bytes kept, sha256 $sha; TRUNCATED at the log limit: 15000 bytes dropped" "$T/v1.out" &&
	ok "verify shows the log was truncated: bytes kept, their digest, bytes dropped" ||
	not_ok "verify shows the log was truncated: bytes kept, their digest, bytes dropped" "$(grep build.log "$T/v1.out")"
$CLEANROOM verify "$T/t1/cleanroom-bundle.json" --root "$NSM_ROOT" --json >"$T/v1.json" 2>/dev/null
same "verify --json: log_bytes, log_truncated, log_dropped_bytes" \
	"$(jq_ "$T/v1.json" 'd["statement"]["log_bytes"], d["statement"]["log_truncated"], d["statement"]["log_dropped_bytes"]')" "10000 True 15000"

abuild t2 --log-limit 1024 --output out.txt "$T/src" -- sh -c 'yes 0123456 | head -c 5000; exit 2'
same "a failed build with a cut log: exit 1, the cut said, cleanroom's failure line last" \
	"$RC|$(grep -c '^cleanroom build: build log truncated at 1024 bytes; 3976 bytes dropped$' "$T/t2.stderr")|$(tail -1 "$T/t2.stderr")" \
	"1|1|cleanroom build: the build failed: exited with status 2"

abuild t3 --json --output out.txt "$T/src" -- sh -c 'yes abc | head -c 3000; echo done > out.txt'
same "a whole log: nothing said, not truncated in --json" \
	"$RC|$(grep -c truncated "$T/t3.stderr")|$(jq_ "$T/t3.stdout" 'd["log"]["bytes"], d["log"]["truncated"], d["log"]["dropped_bytes"]')" "0|0|3000 False 0"
$CLEANROOM verify "$T/t3/cleanroom-bundle.json" --root "$NSM_ROOT" >"$T/v3.out" 2>&1
grep -q "note  build.log            3000 bytes, sha256 [0-9a-f]*, complete" "$T/v3.out" &&
	ok "verify: a whole log's report says complete" || not_ok "verify: a whole log's report says complete" "$(grep build.log "$T/v3.out")"

abuild t4 --log-limit 100 --output out.txt "$T/src" -- true
same "--log-limit below 1024 is a usage error naming it (exit 2)" "$RC|$(echo "$REASON" | grep -c -- '--log-limit 100')" "2|1"
"$WIRE_CLIENT" "$VS" loglimit:100 request drain >"$T/w1.out" 2>&1
grep -q "recv error limit: limits.log_bytes 100 is below the minimum of 1024" "$T/w1.out" &&
	ok "the agent refuses a log limit below its minimum, naming it" || not_ok "the agent refuses a log limit below its minimum, naming it" "$(cat "$T/w1.out")"
"$WIRE_CLIENT" "$VS" loglimit:67108865 request drain >"$T/w2.out" 2>&1
grep -q "recv error limit: limits.log_bytes 67108865 exceeds this enclave's maximum of 67108864" "$T/w2.out" &&
	ok "the agent refuses a log limit above its maximum, naming it" || not_ok "the agent refuses a log limit above its maximum, naming it" "$(cat "$T/w2.out")"

# A host between client and enclave that hides part of the log: the report
# signs the log as sent, so the client notices and accepts nothing.
PROXY=$(dirname "$0")/frame_proxy.py
python3 "$PROXY" "$T/px.sock" "$VS" droplog >"$T/px.out" 2>&1 &
px=$!
for _ in $(seq 1 50); do grep -q ready "$T/px.out" 2>/dev/null && break; sleep 0.1; done
$CLEANROOM build --vsock "$T/px.sock" --root "$NSM_ROOT" --eif "$T/agent.eif" --out "$T/d1" --output out.txt "$T/src" -- \
	sh -c 'echo "warning: something to hide"; sleep 0.5; echo done > out.txt; echo finished' >/dev/null 2>"$T/d1.stderr"
rc=$?
kill $px 2>/dev/null
wait $px 2>/dev/null
same "a log frame dropped on the way: exit 6, nothing written, the mismatch named" \
	"$rc|$([ -e "$T/d1" ] && echo left || echo absent)|$(tail -1 "$T/d1.stderr" | grep -c '^cleanroom build: report: the build log received (9 bytes, sha256 [0-9a-f]*, 0 dropped) is not the one the report signs (36 bytes')" \
	"6|absent|1"

abuild after --output out.txt "$T/src" -- sh -c 'echo still serving > out.txt'
same "the agent still builds after all of the above" "$RC" "0"
agent_stop

# --- cleanroom run --console -: a guest (bootstrap mode) that prints the
# same sequences on the serial console.
mkdir -p "$T/groot/bin"
cp /bin/busybox "$T/groot/bin/"
for c in sh cat; do ln -s busybox "$T/groot/bin/$c"; done
cp "$T/hostile.raw" "$T/groot/hostile.bin"
printf 'sh\n-c\ncat /hostile.bin; echo; echo guest done\n' >"$T/gcmd"
if $CLEANROOM eif --kernel "$KDIR/bzImage" --init "$INIT" --nsm-ko "$KDIR/nsm.ko" --rootfs "$T/groot" --cmd-file "$T/gcmd" \
	-o "$T/guest.eif" >/dev/null 2>"$T/guest.pack"; then
	script -qfec "$CLEANROOM run $T/guest.eif --console - --timeout 90 --memory 256" "$T/g.typescript" </dev/null >/dev/null 2>&1
	rc=$?
	sed '1d;$d' "$T/g.typescript" >"$T/g.tty"
	python3 - "$T/g.tty" >"$T/g.check" <<'EOF'
import re, sys
t = open(sys.argv[1], "rb").read()
bad = [n for n, p in [("ESC", rb"\x1b"), ("BEL", rb"\x07"), ("DEL", rb"\x7f"), ("lone CR", rb"\r(?!\n)")] if re.search(p, t)]
try:
    if re.search("[\x80-\x9f]", t.decode("utf-8")): bad.append("a C1 character")
except UnicodeDecodeError as e:
    bad.append("invalid UTF-8 at %d" % e.start)
print("clean" if not bad else "; ".join(bad))
EOF
	same "run --console -: the guest ran and powered off (exit 0)" "$rc" "0"
	same "run --console - under a terminal: no ESC, BEL, DEL, C1 or lone CR from the guest" "$(cat "$T/g.check")" "clean"
	tr -d '\r' <"$T/g.tty" >"$T/g.txt"
	grep -qF '\x1b]0;pwned title\x07\x1b]52;c;ZWNobyBoaQ==\x07\x1b[2J' "$T/g.txt" && grep -qF '\u009b32m C1 CSI ' "$T/g.txt" &&
		grep -qF '\x1b[8m' "$T/g.txt" && grep -qF '\rcleanroom build: the build succeeded' "$T/g.txt" &&
		ok "run --console -: the guest's sequences are shown escaped" ||
		not_ok "run --console -: the guest's sequences are shown escaped" "$(grep -a 'pwned' "$T/g.txt" | head -2)"
	grep -q '^guest done$' "$T/g.txt" && ok "run --console -: the kernel's \\r\\n line ends stay line ends" ||
		not_ok "run --console -: the kernel's \\r\\n line ends stay line ends" "$(tail -3 "$T/g.txt" | tr '\n' '|')"
	same "run --console -: cleanroom's own last line is intact" "$(grep -v '^$' "$T/g.txt" | tail -1 | sed -E 's/[0-9.]+ s$/N s/')" \
		"cleanroom run: the enclave ended (rebooted or powered off) after N s"
	$CLEANROOM run "$T/guest.eif" --console "$T/g.console" --timeout 90 --memory 256 >/dev/null 2>&1
	python3 -c 'import sys; t = open(sys.argv[1], "rb").read(); r = open(sys.argv[2], "rb").read(); print(r in t.replace(b"\r\n", b"\n"))' \
		"$T/g.console" "$T/hostile.raw" >"$T/g.raw"
	same "run --console FILE keeps the guest's raw bytes" "$(cat "$T/g.raw")" "True"
	# A FIFO nothing reads: refused at once, not a run that hangs opening it.
	mkfifo "$T/g.fifo"
	expect_fail "run --console FIFO that nothing reads: refused, no hang" "g.fifo: a FIFO that nothing reads" \
		timeout 60 $CLEANROOM run "$T/guest.eif" --console "$T/g.fifo" --timeout 90 --memory 256
	# ... and one that is read (as --console >(tee ...) gives) gets the console.
	cat "$T/g.fifo" >"$T/g.fifo.out" &
	$CLEANROOM run "$T/guest.eif" --console "$T/g.fifo" --timeout 90 --memory 256 >/dev/null 2>&1
	wait
	grep -q 'guest done' "$T/g.fifo.out" && ok "run --console FIFO that is read: the console goes through it" ||
		not_ok "run --console FIFO that is read: the console goes through it" "$(tail -2 "$T/g.fifo.out")"
else
	not_ok "pack the console guest" "$(tail -1 "$T/guest.pack")"
fi
t_done
