# Helpers for the shell halves of tests/qemu suites that boot an EIF with
# `cleanroom run --json` next to a Python host half (hostlib.py). Source it
# after tests/cli/lib.sh.

# Importing hostlib.py must not leave __pycache__ in the source tree.
export PYTHONDONTWRITEBYTECODE=1

# json_event FILE EVENT KEY: KEY of the first {"event": EVENT} line of FILE
# (empty when there is none).
json_event() {
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    l = l.strip()
    if not l: continue
    d = json.loads(l)
    if d.get("event") == sys.argv[2]:
        v = d.get(sys.argv[3], "")
        print("" if v is None else v); break' "$1" "$2" "$3" 2>/dev/null
}

# finish_host_half PID NAME OUTPUT: after the run ended, let the host half
# (process PID, called NAME in messages) finish and print its OUTPUT file.
# It ends with the guest; if the guest died early it would wait until its
# own timeout, so it gets 10 s, then it is stopped and that is a failure.
finish_host_half() {
	for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$1" 2>/dev/null; then
		kill "$1"
		not_ok "the host half ($2) finished with the guest" "stopped 10 s after run ended"
	fi
	wait "$1"
	cat "$3"
}
