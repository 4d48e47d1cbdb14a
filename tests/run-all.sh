#!/bin/sh
# Run every test of make check and print one summary line:
#   check: N passed, N failed
# Unit tests (cmocka) run twice, plain and under ASan+UBSan; each fuzz
# target replays its corpus under ASan; integration scripts
# (tests/integration/t*.sh) run last. A name filter can be given:
#   tests/run-all.sh calendar
# Each line names what ran, its counts and how long it took; the slowest
# ones are listed at the end. Every program runs under a time limit: a
# unit test or fuzz replay VOLREP_UNIT_TIMEOUT s (default 600), an
# integration script its own limits (tests/lib/test-lib.sh:
# VOLREP_SCRIPT_TIMEOUT, default 900 s, plus its cleanups), with
# `timeout` as a backstop should the script's own watchdog fail.
# The last line is for CI, keep its format:
#   check: N passed, N failed, N skipped
set -u
# --unit: the unit tests only (make unit)
cd "$(dirname "$0")/.."
only_unit=0
[ "${1:-}" != --unit ] || { only_unit=1; shift; }
filter="${1:-}"
passed=0
failed=0
skipped=0
failures=""
log=$(mktemp /tmp/volrep-check.XXXXXX)
times=$(mktemp /tmp/volrep-check-times.XXXXXX)
trap 'rm -f "$log" "$times"' EXIT
# stopped (^C, TERM): through the EXIT trap, once the script running has
# finished its cleanups (timeout passes the signal on to it)
trap 'exit 130' INT TERM
unit_limit=${VOLREP_UNIT_TIMEOUT:-600}
script_limit=$(( ${VOLREP_SCRIPT_TIMEOUT:-900} + ${VOLREP_CLEANUP_TIMEOUT:-180} + 60 ))

now() { date +%s.%N; }
# took START NAME: print the seconds since START, note them for the summary
took() {
	_d=$(echo "$(now) $1" | awk '{ printf "%.1f", $1 - $2 }')
	echo "$_d $2" >>"$times"
	echo "${_d}s"
}
# run_limited SECONDS cmd...: the command, sent SIGTERM past the limit
# or when we are sent one (then SIGKILL once a script's cleanups have had
# their own time limit, plus 30 s); exit 124 on the limit. --foreground:
# it stays in our process group, so that ^C reaches it (a test script's
# own watchdog kills what it started). The grace must outlast the
# cleanups: a KILL in the middle of a test bed's teardown leaves its
# zfs-fuse, namespaces and loop devices behind.
kill_after=$(( ${VOLREP_CLEANUP_TIMEOUT:-180} + 30 ))
run_limited() {
	_l=$1; shift
	timeout --foreground -k "$kill_after" "$_l" "$@"
}

note_fail() { failures="$failures
  $1"; }

# cmocka: "[  PASSED  ] N test(s).", "[  FAILED  ] N test(s), listed below:",
# "[  SKIPPED ] N test(s), listed below:"
for t in build/tests/test-* build/asan/tests/test-*; do
	[ -x "$t" ] || continue
	case "$t" in *"$filter"*) ;; *) continue ;; esac
	start=$(now)
	if run_limited "$unit_limit" "$t" >"$log" 2>&1; then rc=0; else rc=$?; fi
	[ "$rc" != 124 ] || echo "TIMEOUT: $t still running after $unit_limit s (VOLREP_UNIT_TIMEOUT): killed" >>"$log"
	# (a cmocka run with skips prints "[  PASSED  ]" after other text)
	p=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	sk=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test(s).*/\1/p' "$log" | tail -1)
	skipped=$((skipped + ${sk:-0}))
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" != 0 ]; then
		[ -n "$f" ] || failed=$((failed + 1))
		note_fail "$t"
		cat "$log"
	fi
	echo "$t: ${p:-0} passed, ${f:-0} failed, ${sk:-0} skipped ($(took "$start" "$t"))"
done

for fz in build/asan/fuzz/fuzz-*; do
	[ "$only_unit" = 0 ] || break
	[ -x "$fz" ] || continue
	case "$fz" in *"$filter"*) ;; *) continue ;; esac
	name=$(basename "$fz")
	corpus="fuzz/corpus/${name#fuzz-}"
	start=$(now)
	if [ -d "$corpus" ] && run_limited "$unit_limit" "$fz" "$corpus" >"$log" 2>&1; then
		passed=$((passed + 1))
		echo "$fz: $(tail -1 "$log") ($(took "$start" "$fz"))"
	else
		failed=$((failed + 1))
		note_fail "$fz"
		cat "$log"
	fi
done

for s in tests/integration/t*.sh; do
	[ "$only_unit" = 0 ] || break
	[ -f "$s" ] || continue
	case "$s" in *"$filter"*) ;; *) continue ;; esac
	start=$(now)
	if run_limited "$script_limit" sh "$s" >"$log" 2>&1; then rc=0; else rc=$?; fi
	[ "$rc" != 124 ] || echo "TIMEOUT: $s still running after $script_limit s, its own time limits did not stop it: killed" >>"$log"
	line=$(grep '^# passed ' "$log" | tail -1)
	p=$(echo "$line" | awk '{print $3}')
	f=$(echo "$line" | awk '{print $5}')
	sk=$(echo "$line" | awk '{print $7}')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${sk:-0}))
	if [ "$rc" != 0 ] || [ -z "$line" ]; then
		[ "${f:-0}" != 0 ] || failed=$((failed + 1))
		note_fail "$s"
		cat "$log"
	fi
	echo "$s: ${p:-0} passed, ${f:-0} failed, ${sk:-0} skipped ($(took "$start" "$s"))"
done

if [ -s "$times" ]; then
	echo "slowest:"
	sort -rn "$times" | head -"${VOLREP_SLOWEST:-8}" | awk '{ printf "  %7.1fs  %s\n", $1, $2 }'
	awk '{ t += $1 } END { printf "total: %.0fs\n", t }' "$times"
fi

[ -z "$failures" ] || echo "failed:$failures"
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
