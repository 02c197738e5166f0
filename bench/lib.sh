# shellcheck shell=bash
# Shared by the bench scripts (source it).

# raw_bridge_mibs CLEANROOM KDIR GUEST RUNS: the vsock bridge's raw
# throughput (MiB/s), the best of RUNS echo boots of tests/qemu/run-vsock.sh
# (one echo alone varied from 54 to 75 MiB/s between runs); empty if every
# boot failed.
raw_bridge_mibs() {
	local best="" r
	for _ in $(seq "$4"); do
		r=$(tests/qemu/run-vsock.sh vsock "$1" "$2/bzImage" "$3" 2>&1 |
			sed -n 's/^# vsock echo throughput: \([0-9.]*\) MiB\/s (16 MiB each way.*/\1/p' | tail -1)
		[ -n "$r" ] && { [ -z "$best" ] || [ "$(echo "$r > $best" | bc)" = 1 ]; } && best=$r
	done
	echo "$best"
}
