# What the test libraries (tests/lib/*.sh) expect from the test harness
# (tests/lib/test-lib.sh), for the bench scripts, which use those
# libraries without being tests: a scratch directory $TRASH removed at
# exit, test_when_finished / test_atexit (cleanups run at exit, last
# registered first) and test_skip_all (prints "skipped: REASON", exits 0).
#
# Source it after setting TOP:
#   . "$TOP/bench/lib.sh"

TRASH=$(mktemp -d /tmp/volrep-bench.XXXXXX)
export TRASH
_cleanups=""
# (the test libraries register their teardown with test_atexit as well)
test_atexit() { test_when_finished "$1"; }
test_when_finished() { _cleanups="$1
$_cleanups"; }
test_skip_all() { echo "skipped: $1"; exit 0; }
trap 'trap "" INT TERM; eval "$_cleanups"; rm -rf "$TRASH"' EXIT
trap 'exit 130' INT TERM
