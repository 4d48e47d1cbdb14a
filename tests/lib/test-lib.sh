# Shell test library for volrep's integration tests (after git's t/test-lib.sh).
#
# A test script sources this file, then calls
#     test_expect_success 'description' 'shell commands'
# and ends with test_done. Each script gets a private scratch directory
# ($TRASH) removed at exit. Output is TAP-like: "ok N - desc" /
# "not ok N - desc"; test_done prints "# passed P failed F skipped S" and
# exits non-zero on any failure.
#
# Helpers: run_check (command must exit 0), run_mustfail CODE cmd... (must
# exit with CODE), test_cmp expected actual, test_skip_all reason,
# test_when_finished 'cmd' (cleanup, run even when the script dies).

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
VOLREP="${VOLREP:-$TOP/build/volrep}"
export TOP VOLREP
TRASH=$(mktemp -d "/tmp/volrep-test.$(basename "$0" .sh).XXXXXX")
export TRASH
test_count=0
test_failed=0
test_skipped=0
_cleanups=""

_test_exit() {
	eval "$_cleanups"
	rm -rf "$TRASH"
}
trap _test_exit EXIT
trap 'exit 130' INT TERM

test_when_finished() {
	_cleanups="$1
$_cleanups"
}

test_expect_success() {
	test_count=$((test_count + 1))
	_out="$TRASH/.out.$test_count"
	if (cd "$TRASH" && set -e && eval "$2") >"$_out" 2>&1; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		sed 's/^/#   /' "$_out" | tail -40
	fi
}

test_skip() {
	test_count=$((test_count + 1))
	test_skipped=$((test_skipped + 1))
	echo "ok $test_count - # SKIP $1 ($2)"
}

test_skip_all() {
	echo "1..0 # SKIP $1"
	echo "# passed 0 failed 0 skipped 1"
	exit 0
}

test_done() {
	echo "# passed $((test_count - test_failed - test_skipped)) failed $test_failed skipped $test_skipped"
	[ "$test_failed" = 0 ]
}

# Print a message and fail (inside a test body).
fail() {
	echo "FAIL: $*" >&2
	return 1
}

run_check() {
	"$@" || { echo "command failed ($?): $*" >&2; return 1; }
}

# run_mustfail CODE cmd... : the command must exit with exactly CODE.
run_mustfail() {
	_want=$1; shift
	_rc=0
	"$@" || _rc=$?
	if [ "$_rc" != "$_want" ]; then
		echo "expected exit $_want, got $_rc: $*" >&2
		return 1
	fi
}

test_cmp() {
	diff -u "$1" "$2" >&2
}

# grep that shows what it searched on failure
expect_grep() {
	_pat=$1; _file=$2
	grep -q -- "$_pat" "$_file" || { echo "pattern '$_pat' not in $_file:" >&2; cat "$_file" >&2; return 1; }
}
