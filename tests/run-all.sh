#!/bin/sh
# Run every test of make check and print one summary line:
#   check: N passed, N failed
# Unit tests (cmocka) run twice, plain and under ASan+UBSan; each fuzz
# target replays its corpus under ASan; integration scripts
# (tests/integration/t*.sh) run last. A name filter can be given:
#   tests/run-all.sh calendar
set -u
cd "$(dirname "$0")/.."
filter="${1:-}"
passed=0
failed=0
skipped=0
failures=""
log=$(mktemp /tmp/volrep-check.XXXXXX)
trap 'rm -f "$log"' EXIT

note_fail() { failures="$failures
  $1"; }

# cmocka: "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:"
for t in build/tests/test-* build/asan/tests/test-*; do
	[ -x "$t" ] || continue
	case "$t" in *"$filter"*) ;; *) continue ;; esac
	if "$t" >"$log" 2>&1; then rc=0; else rc=$?; fi
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" != 0 ]; then
		[ -n "$f" ] || failed=$((failed + 1))
		note_fail "$t"
		cat "$log"
	fi
	echo "$t: ${p:-0} passed, ${f:-0} failed"
done

for fz in build/asan/fuzz/fuzz-*; do
	[ -x "$fz" ] || continue
	case "$fz" in *"$filter"*) ;; *) continue ;; esac
	name=$(basename "$fz")
	corpus="fuzz/corpus/${name#fuzz-}"
	if [ -d "$corpus" ] && "$fz" "$corpus" >"$log" 2>&1; then
		passed=$((passed + 1))
		echo "$fz: $(tail -1 "$log")"
	else
		failed=$((failed + 1))
		note_fail "$fz"
		cat "$log"
	fi
done

for s in tests/integration/t*.sh; do
	[ -f "$s" ] || continue
	case "$s" in *"$filter"*) ;; *) continue ;; esac
	start=$(date +%s)
	if sh "$s" >"$log" 2>&1; then rc=0; else rc=$?; fi
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
	echo "$s: ${p:-0} passed, ${f:-0} failed, ${sk:-0} skipped ($(( $(date +%s) - start ))s)"
done

[ -z "$failures" ] || echo "failed:$failures"
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
