#!/bin/sh
# Run every benchmark binary (build/bench/*, built by "make bench") and
# every bench/bench-*.sh script, each under a heading. Exits non-zero when
# one of them reports a missed yardstick.
set -u
cd "$(dirname "$0")/.."
rc=0
for b in build/bench/* bench/bench-*.sh; do
	[ -f "$b" ] || continue
	case "$b" in *.sh) cmd="sh $b" ;; *) [ -x "$b" ] || continue; cmd="$b" ;; esac
	echo "== $(basename "$b")"
	$cmd || { echo "$(basename "$b"): exit $?"; rc=1; }
	echo
done
exit "$rc"
