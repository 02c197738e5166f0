#!/bin/bash
# The format suite: each C source of ours (not the kernel module, not the
# demo's sample project) is exactly as clang-format leaves it.
#   tests/layout/format.sh CLANG_FORMAT
set -u
cf=$1
n=0
while read -r f; do
	n=$((n + 1))
	if ! out=$("$cf" --dry-run --Werror "$f" 2>&1); then
		echo "not ok - $f is formatted: $(printf '%s\n' "$out" | head -2 | tr '\n' ' ')(run 'make format')"
	fi
done < <(git ls-files '*.c' '*.h' | grep -v -e '^kernel-config/' -e '^demo/')
echo "ok - $n files checked with $($cf --version | head -1)"
