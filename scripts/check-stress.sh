#!/bin/sh
# make check-stress: the whole suite three times in a row on a fresh clone
# of the current commit, then once more while two CPU hogs keep both
# cores busy. Prints each run's summary line and duration; fails if any
# run failed. Not part of make check (it takes four times as long).
#
# Environment:
#   STRESS_RUNS=N     runs before the loaded one (default 3)
#   STRESS_HOGS=N     CPU hogs of the loaded run (default 2; 0: no such run)
#   STRESS_FILTER=S   run only tests/run-all.sh S instead of make check
#                     (a partial run, to try the mechanics)
#   STRESS_KEEP=1     keep the clone and the logs (default: removed)
# Uncommitted changes are not in the clone: commit first.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${STRESS_RUNS:-3}
nhogs=${STRESS_HOGS:-2}
filter=${STRESS_FILTER:-}
rev=$(git -C "$top" rev-parse HEAD) || exit 1
dir=$(mktemp -d /tmp/volrep-stress.XXXXXX) || exit 1
hogs=""

stop_hogs() {
	for _p in $hogs; do
		kill "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	hogs=""
}
cleanup() {
	stop_hogs
	if [ "${STRESS_KEEP:-0}" = 1 ]; then echo "stress: kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "stress: fresh clone of $rev in $dir"
git clone -q --no-hardlinks "$top" "$dir/volrep" && git -C "$dir/volrep" checkout -q --detach "$rev" || exit 1
cd "$dir/volrep" || exit 1
if [ -n "$filter" ]; then
	make -j2 --no-print-directory test-bins >"$dir/build.log" 2>&1 || { tail -20 "$dir/build.log"; exit 1; }
fi

summary=""
bad=0
one_run() { # NAME
	_t0=$(date +%s)
	if [ -n "$filter" ]; then
		tests/run-all.sh "$filter" >"$dir/$1.log" 2>&1
	else
		make --no-print-directory check >"$dir/$1.log" 2>&1
	fi
	_rc=$?
	_line=$(grep '^check: ' "$dir/$1.log" | tail -1)
	[ -n "$_line" ] || _line="check: no summary line (exit $_rc)"
	_r="$1: $_line ($(( $(date +%s) - _t0 ))s)"
	echo "stress: $_r"
	summary="$summary
  $_r"
	if [ "$_rc" != 0 ]; then
		bad=$((bad + 1))
		# what failed, with its output: the logs go with the clone
		awk '/^not ok/ { p = 1; print; next } p && /^#/ { print; next } { p = 0 }' "$dir/$1.log" | sed 's/^/    /'
		sed -n '/^failed:/,/^check: /p' "$dir/$1.log" | sed 's/^/    /'
	fi
}

i=1
while [ "$i" -le "$runs" ]; do
	one_run "run $i"
	i=$((i + 1))
done
if [ "$nhogs" -gt 0 ]; then
	i=0
	while [ "$i" -lt "$nhogs" ]; do
		sha256sum /dev/zero &
		hogs="$hogs $!"
		i=$((i + 1))
	done
	one_run "run under $nhogs CPU hogs"
	stop_hogs
fi
echo "stress summary ($rev${filter:+, filter '$filter'}):$summary"
[ "$bad" = 0 ] || { echo "stress: $bad run(s) failed"; exit 1; }
echo "stress: all runs passed"
