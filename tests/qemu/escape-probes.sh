#!/bin/bash
# qemu/escape-probes: the escape probes of tests/cli/escape-probes.txt as
# builds. One agent enclave (busybox root with the probe program) is booted
# once; each hostile action is submitted with `cleanroom build --vsock`, must
# fail with its reason (the probe's refusal in the log, or the limit that
# ended it), leave nothing in --out, and the agent must serve the next one.
# Then the source trees a hostile client can send: symlinks that resolve out
# of the tree (refused by the agent's receiver at transfer time) and hard
# links (sent as copies). Last, a normal build succeeds with a verified
# report. Prints the table probe | expected | observed.
#   tests/qemu/escape-probes.sh CLEANROOM KERNEL_DIR INIT PROBE
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/../cli/probelib.sh"
. "$(dirname "$0")/runlib.sh"
. "$(dirname "$0")/agentlib.sh"
agent_suite_args "$@"
PROBE=$ARG4

agent_root "$T/root" "$PROBE"
agent_boot "$T/root" || exit 1
ok "the agent image (busybox and the probe) boots"

mkdir -p "$T/src"
echo "a source file" >"$T/src/input.txt"

# --- every probe, as a build
n=0
t0=$(date +%s%N)
while IFS='|' read -r name args limits expect; do
	n=$((n + 1))
	flags=()
	v=$(limit_of "$limits" pids); [ -n "$v" ] && flags+=(--pids "$v")
	v=$(limit_of "$limits" memory); [ -n "$v" ] && flags+=(--memory "$v")
	v=$(limit_of "$limits" timeout); [ -n "$v" ] && flags+=(--timeout "$v")
	# shellcheck disable=SC2086
	abuild "p$n" "${flags[@]}" --output escaped "$T/src" -- probe $args
	probe_judge "$expect" "$RC" "$LOG" "$REASON" enclave
	good=$?
	why=$OBS
	if [ $good = 0 ] && ! nothing_in "p$n"; then
		good=1 why="--out is not empty: $(find "$T/p$n" | head -3 | tr '\n' ' ')"
	fi
	if [ $good = 0 ] && ! echo "$REASON" | grep -Eq 'the build failed: (exited with status|killed by signal|timed out|hit the memory limit)'; then
		good=1 why="no clear reason from cleanroom build: $REASON"
	fi
	probe_record "$name" "$expect" "$good" "$why"
done < <(probe_rows enclave)
t1=$(date +%s%N)
echo "# $n probe builds in $(((t1 - t0) / 1000000)) ms"

# --- hostile source trees: judged at transfer time by the agent's receiver.
# The last is a chain of symlinks, each harmless on its own text: d/up -> ..
# is the tree's root, d/out -> up/.. climbs above it. The text check passes;
# the kernel's resolution (RESOLVE_BENEATH) at the end of the stream refuses.
tree_case() { # NAME LINK TARGET [LINK TARGET...]: a tree with these symlinks
	local name=$1 dir=$T/tree$((++ntree))
	shift
	mkdir -p "$dir/d"
	echo x >"$dir/a"
	while [ $# -gt 0 ]; do ln -s "$2" "$dir/$1"; shift 2; done
	abuild "o-tree$ntree" --output a "$dir" -- cat d/out/etc/passwd
	OBS="exit $RC; ${REASON#cleanroom build: }"
	[ "$RC" = 3 ] && echo "$REASON" | grep -q "the enclave refused the sources: 'd/out': symlink" && nothing_in "o-tree$ntree"
	probe_record "$name" "refused at transfer" $?
}
ntree=0
tree_case "symlink out (../)" d/out ../../etc
tree_case "symlink out (abs)" d/out /etc
tree_case "symlink chain out" d/up .. d/out up/..

# A hard link to a file outside the source tree: the protocol has no hard
# links, so the enclave gets a copy; what the build does to it stays there.
mkdir -p "$T/hard" "$T/outside"
echo "cleanroom-outside: host file" >"$T/outside/secret"
ln "$T/outside/secret" "$T/hard/linked"
before=$(sha256sum <"$T/outside/secret")
abuild o-hard --output linked "$T/hard" -- sh -c 'echo changed by the build >> linked; ls -li linked; exit 1'
nlink=$(echo "$LOG" | awk '$NF == "linked" { print $3 }')
OBS="exit $RC; in the enclave a file with $nlink link(s); the host file $([ "$(sha256sum <"$T/outside/secret")" = "$before" ] && echo unchanged || echo CHANGED)"
[ "$RC" = 1 ] && [ "$(sha256sum <"$T/outside/secret")" = "$before" ] && [ "$nlink" = 1 ] && nothing_in o-hard
probe_record "hard link out" "contained (sent as a copy)" $?

# --- PID 1 kept serving: a normal build, its report verified
mkdir -p "$T/good"
echo "still serving" >"$T/good/in.txt"
abuild o-good --output out.txt "$T/good" -- sh -c 'cat in.txt > out.txt'
same "after every probe the same agent builds, report verified (exit 0)" "$RC" "0"
same "... and its output is right" "$(cat "$T/o-good/out.txt" 2>&1)" "still serving"

agent_stop
grep -q "Kernel panic" "$T/console.log" && not_ok "no kernel panic" "$(grep -m1 -A2 'Kernel panic' "$T/console.log")" || ok "no kernel panic on the console"
builds=$(grep -o 'init: agent: build [0-9]*:' "$T/console.log" | sort -u | wc -l)
same "the agent logged every build" "$builds" "$((n + ntree + 2))"
probe_table "escape probes in a local enclave (cleanroom build --vsock, busybox root)"
t_done
