#!/bin/bash
# The build sandbox, natively: `cleanroom sandbox-exec` with this machine's
# own / as the read-only root (so gcc is there) and with a tiny busybox
# root. A few actions come from tests/cli/sandbox_probe.c, compiled here
# static. Needs root (namespaces, mounts, cgroups).
#   CLEANROOM   the tool under test (the ASan build by default)
. "$(dirname "$0")/lib.sh"
PROBE_SRC=$(realpath "$(dirname "$0")/sandbox_probe.c")
T=$T_TMP
chmod 755 "$T"
[ -x "$CLEANROOM" ] || { not_ok "setup" "$CLEANROOM is not built"; exit 1; }
if [ "$(id -u)" != 0 ]; then
	skip "sandbox suite" "needs root (namespaces, mounts, cgroups)"
	exit 0
fi

W=$T/work
mkdir "$W"
chown 1000:1000 "$W"
if ! gcc -static -O1 -o "$W/probe" "$PROBE_SRC" 2>"$T/cc.err"; then
	not_ok "build the probe (gcc -static)" "$(head -3 "$T/cc.err")"
	exit 1
fi
sx() { "$CLEANROOM" sandbox-exec --root / --work "$W" "$@"; }

# Hostile actions (network, mounts, namespaces, kernel, devices, writes,
# links, set-uid, bombs, signals, clock, other ABIs) are the escape probes:
# tests/cli/escape-probes.sh, and the same probes in an enclave,
# tests/qemu/escape-probes.sh.

# --- what must work
out=$(sx -- /work/probe unix 2>&1)
case $out in *"result: allowed: AF_UNIX"*) ok "AF_UNIX sockets work" ;; *) not_ok "AF_UNIX sockets work" "$out" ;; esac
out=$(sx -- /work/probe lo-up 2>&1) && ok "loopback is up" || not_ok "loopback is up" "$out"
same "only lo in the network namespace" "$(sx -- sh -c "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '" 2>&1)" "lo"
out=$(sx -- sh -c 'echo built >/work/out.txt' 2>&1)
same "the workspace is writable, files owned by the build uid" "$(stat -c '%u:%g %s' "$W/out.txt" 2>&1)" "1000:1000 6"
tok=cleanroom-tmp-$$-$RANDOM
out=$(sx -- sh -c "echo x >/tmp/$tok && cat /tmp/$tok" 2>&1)
if [ "$out" = x ] && [ ! -e "/tmp/$tok" ]; then ok "/tmp is writable and private"; else not_ok "/tmp is writable and private" "$out"; fi
same "the root is readable (this machine's /etc/os-release)" "$(sx -- cat /etc/os-release 2>&1 | head -1)" "$(head -1 /etc/os-release)"

# --- environment and identity
same "the environment is exactly the fixed one" \
	"$(FOO=leak TERM=xterm LANG=de_DE.UTF-8 sx --source-date-epoch 42 -- /usr/bin/env 2>&1 | sort | tr '\n' ' ')" \
	"HOME=/tmp LC_ALL=C PATH=/usr/local/bin:/usr/bin:/bin SOURCE_DATE_EPOCH=42 TZ=UTC "
same "uid, gid, no supplementary groups" "$(sx -- sh -c 'echo $(id -u) $(id -g) $(id -G)' 2>&1)" "1000 1000 1000"
same "--uid/--gid set the identity" "$(chmod 777 "$W"; sx --uid 4321 --gid 5432 -- sh -c 'echo $(id -u) $(id -G)' 2>&1; chmod 755 "$W")" "4321 5432"
same "no capabilities in any set, no_new_privs, seccomp filter mode" \
	"$(sx -- grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status 2>&1 | tr -s '\t' ' ' | tr '\n' ' ')" \
	"CapInh: 0000000000000000 CapPrm: 0000000000000000 CapEff: 0000000000000000 CapBnd: 0000000000000000 CapAmb: 0000000000000000 NoNewPrivs: 1 Seccomp: 2 "
same "host name" "$(sx -- cat /proc/sys/kernel/hostname 2>&1)" "cleanroom"
same "umask 022, working directory /work" "$(sx -- sh -c 'umask; pwd' 2>&1 | tr '\n' ' ')" "0022 /work "
same "/dev holds only what builds need" "$(sx -- ls /dev 2>&1 | tr '\n' ' ')" \
	"fd full null random shm stderr stdin stdout tty urandom zero "
same "the command is pid 2 of its own pid namespace" "$(sx -- sh -c 'echo $$' 2>&1)" "2"
same "rlimits: no core dumps, nofile 4096" "$(sx -- sh -c 'ulimit -c; ulimit -n' 2>&1 | tr '\n' ' ')" "0 4096 "
exec 7>"$T/secret"
same "the caller's open files do not leak in" "$(sx -- ls /proc/self/fd 2>&1 | tr '\n' ' ')" "0 1 2 3 "
exec 7>&-

# --- exit status, log
sx -- sh -c 'exit 7' >/dev/null 2>&1
same "exit status mirrors the command's" "$?" "7"
sx -- sh -c 'kill -TERM $$' >/dev/null 2>&1
same "a command killed by SIGTERM gives 143" "$?" "143"
same "stdout and stderr are combined on stdout" "$(sx -- sh -c 'echo out; echo err >&2' 2>/dev/null | tr '\n' ' ')" "out err "

tok=cleanroom-live-$$-$RANDOM
"$CLEANROOM" sandbox-exec --root / --work "$W" -- sh -c "echo first; /work/probe escape $tok >/dev/null; sleep 30" \
	>"$T/live.out" 2>"$T/live.err" &
live=$!
for _ in $(seq 100); do grep -q first "$T/live.out" && break; sleep 0.05; done
same "the log streams live (first line out while the command still runs)" \
	"$(cat "$T/live.out"; kill -0 $live 2>/dev/null && echo running)" "first
running"
sleep 0.3
kill -TERM $live
wait $live
same "SIGTERM to sandbox-exec stops the build: exit 143" "$?" "143"
sleep 0.2
same "SIGTERM to sandbox-exec: nothing the build started survives" "$(pgrep -f "$tok" | tr '\n' ' ')" ""
for p in $(pgrep -f "$tok"); do kill -KILL "$p"; done # do not leave a failed case running
grep -q 'stopped by signal 15' "$T/live.err" && ok "SIGTERM to sandbox-exec: says so" || not_ok "SIGTERM: says so" "$(cat "$T/live.err")"

# --- timeout kills the whole tree, including a child that left the session
tok=cleanroom-escape-$$-$RANDOM
t0=$(date +%s%N)
sx --timeout 2 --json -- sh -c "/work/probe escape $tok; sleep 1000" >"$T/to.json" 2>"$T/to.err"
rc=$?
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
same "timeout: exit status 124" "$rc" "124"
if [ "$ms" -ge 1900 ] && [ "$ms" -lt 6000 ]; then ok "timeout: ended after ${ms} ms (limit 2000)"; else not_ok "timeout: ended after ${ms} ms (limit 2000)" "outside 1900..6000"; fi
sleep 0.2
survivors=$(pgrep -f "$tok" | tr '\n' ' ')
same "timeout: the detached grandchild (setsid + double fork) did not survive" "$survivors" ""
same "timeout: --json says timed_out, killed by signal 9" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["timed_out"], d["signal"], d["exit_code"])' "$T/to.json" 2>&1)" "True 9 None"
grep -q 'timed out after' "$T/to.err" && ok "timeout: says so on stderr" || not_ok "timeout: says so on stderr" "$(cat "$T/to.err")"

# A log reader that takes nothing (a pipe nobody reads) must not stop the
# supervisor: the build is still killed at its timeout, and the rest of the
# log is dropped after the drain time (5 s), not when the reader goes away.
t0=$(date +%s%N)
{ sx --timeout 2 -- yes 2>"$T/stuck.err"; echo "$? $((($(date +%s%N) - t0) / 1000000))" >"$T/stuck.rc"; } | sleep 20
read -r rc ms <"$T/stuck.rc"
if [ "$rc" = 124 ] && [ "$ms" -lt 12000 ]; then ok "a log reader that stalls does not hold off the timeout (${ms} ms)"
else not_ok "a log reader that stalls does not hold off the timeout" "exit $rc after ${ms} ms (the reader stalled for 20 s)"; fi
same "a slow log reader still gets the whole log" "$(sx -- seq 1 300000 | (sleep 2; md5sum))" "$(seq 1 300000 | md5sum)"

tok=cleanroom-orphan-$$-$RANDOM
sx -- sh -c "/work/probe escape $tok; exit 0" >/dev/null 2>&1
sleep 0.2
same "a background process left behind by a finished build is killed" "$(pgrep -f "$tok" | tr '\n' ' ')" ""

# --- limits (bombs, kill -9 -1, signals to pid 1, a full /tmp, set-uid
# binaries: the escape probes); here the log limit
out=$(sx --log-limit 1000 --json -- sh -c 'head -c 5000 /dev/zero | tr "\\0" x; echo' 2>"$T/log.err")
if [ "$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["log_bytes"], d["log_truncated"])')" != "5001 True" ]; then
	not_ok "the log is cut at --log-limit and the rest counted" "$out"
elif [ "$(python3 -c 'import sys; d=open(sys.argv[1]).read(); print(len(d) - len(d.lstrip("x")))' "$T/log.err")" != 1000 ] || ! grep -q 'output cut at 1000 of 5001 bytes' "$T/log.err"; then
	not_ok "the log is cut at --log-limit and the rest counted" "$(head -c 300 "$T/log.err")"
else
	ok "the log is cut at --log-limit and the rest counted"
fi
left=$(find /sys/fs/cgroup -maxdepth 4 -name 'cleanroom-sandbox-*' 2>/dev/null | tr '\n' ' ')
same "no sandbox cgroup is left behind" "$left" ""

# --- a normal C compile
cat >"$W/hello.c" <<'EOF'
#include <stdio.h>
int main(void) { printf("hello from the sandbox\n"); return 0; }
EOF
chown 1000:1000 "$W/hello.c"
out=$(sx --timeout 120 -- sh -c 'gcc -O2 -Wall -o hello hello.c && ./hello' 2>&1)
same "a C compile works inside (gcc from the read-only root)" "$out" "hello from the sandbox"
same "the compiled binary landed in the workspace" "$(stat -c %u "$W/hello" 2>/dev/null && "$W/hello")" "1000
hello from the sandbox"

# --- a tiny root assembled from busybox-static
if [ -x /bin/busybox ]; then
	R=$T/root
	mkdir -p "$R/bin" "$R/usr"
	cp /bin/busybox "$R/bin/busybox"
	ln -s busybox "$R/bin/sh"
	ln -s bin "$R/sbin"
	echo tiny-root >"$R/VERSION"
	out=$("$CLEANROOM" sandbox-exec --root "$R" --work "$W" -- /bin/sh -c \
		'busybox cat /VERSION; busybox ls /sbin/sh; busybox ls / | busybox tr "\n" " "' 2>&1)
	same "a busybox root: top-level file, symlinks and directories come through" "$out" \
		"tiny-root
/sbin/sh
VERSION bin dev proc run sbin tmp usr work "
else
	skip "a busybox root" "busybox-static is not installed"
fi

mkdir -p "$W/sub/dir" && chown -R 1000:1000 "$W/sub"
same "--cwd sets the working directory inside the workspace" "$(sx --cwd sub/dir -- pwd 2>&1)" "/work/sub/dir"
expect_fail "a missing --cwd is named" "sandbox setup: chdir /work/nope: No such file or directory" \
	"$CLEANROOM" sandbox-exec --root / --work "$W" --cwd nope -- true
same "relative --root/--work are resolved" "$(cd "$T" && "$CLEANROOM" sandbox-exec --root / --work work -- pwd 2>&1)" "/work"

# --- setup failures: exit 1, one precise line
expect_fail "missing rootfs is named" "rootfs /nonexistent: No such file or directory" \
	"$CLEANROOM" sandbox-exec --root /nonexistent --work "$W" -- true
mkdir "$T/rootonly"
expect_fail "a workspace the build uid cannot write is refused" "workspace .*/rootonly is not writable by uid 1000" \
	"$CLEANROOM" sandbox-exec --root / --work "$T/rootonly" -- true
expect_fail "a missing relative workspace is named" "--work nowhere: No such file or directory" \
	"$CLEANROOM" sandbox-exec --root / --work nowhere -- true
expect_fail "a root inside the workspace is refused" "rootfs .* is inside the workspace" \
	"$CLEANROOM" sandbox-exec --root "$W" --work "$T" -- true
expect_fail "a missing command is named" "cannot run nosuchcmd: No such file or directory" \
	"$CLEANROOM" sandbox-exec --root / --work "$W" -- nosuchcmd
if command -v setpriv >/dev/null; then
	expect_fail "non-root callers are told it needs root" "must run as root" \
		setpriv --reuid 1000 --regid 1000 --clear-groups "$CLEANROOM" sandbox-exec --root / --work "$W" -- true
fi
"$CLEANROOM" sandbox-exec --root / --work "$W" --json -- nosuchcmd >"$T/err.json" 2>/dev/null
same "--json carries the setup error" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"])' "$T/err.json" 2>&1)" \
	"sandbox: cannot run nosuchcmd: No such file or directory"

# --- usage
for args in "--work $W -- true" "--root / --work $W" "--root / --work $W --timeout x -- true" \
	"--root / --work $W --memory 12Q -- true" "--root / --work $W --bogus -- true"; do
	# shellcheck disable=SC2086
	"$CLEANROOM" sandbox-exec $args >/dev/null 2>&1
	same "usage error exits 2: $args" "$?" "2"
done
# options the sandbox refuses are usage errors too, one line naming the option
# or the rule, before anything is set up (they were setup failures, exit 1)
while IFS='|' read -r opt want; do
	# shellcheck disable=SC2086
	"$CLEANROOM" sandbox-exec --root / --work "$W" $opt -- true >/dev/null 2>"$T/u.err"
	same "usage error exits 2, named: $opt" "$?:$(wc -l <"$T/u.err"):$(grep -c -- "$want" "$T/u.err")" "2:1:1"
done <<'EOT'
--tmp-size abc|--tmp-size: 'abc' is not a size
--log-limit 1X|--log-limit: '1X' is not a size
--uid x|--uid: 'x' is not a number
--gid -1|--gid: '-1' is not a number
--cwd /etc|working directory '/etc' must be relative
--cwd sub/../..|working directory 'sub/../..' leaves the workspace
--uid 0|uid 0 / gid 1000: must be neither 0
--memory 1|memory limit 1 bytes is below 16 MiB
EOT
"$CLEANROOM" sandbox-exec --help >"$T/help" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q 'exit status' "$T/help" && grep -q -- '--memory' "$T/help"; then ok "--help explains options and exit status"; else not_ok "--help" "exit $rc"; fi

t_done
