# Shell test library for volrep's integration tests (after git's t/test-lib.sh).
#
# A test script sources this file, then calls
#     test_expect_success 'description' 'shell commands'
# and ends with test_done. Each script gets a private scratch directory
# ($TRASH) removed at exit. Output is TAP-like: "ok N - desc" /
# "not ok N - desc"; test_done prints "# passed P failed F skipped S" and
# exits non-zero on any failure.
#
# A body runs in a subshell in $TRASH with `set -e` (it stops at its first
# failing command) and stdin from /dev/null. Before it runs, its &&-chain
# is linted as git's test-lib does: a body must join its commands with
# &&, and loops in it end each step with `|| return 1`; a broken chain
# stops the script with a "BUG: broken &&-chain" naming the test.
# Every test runs under a time limit, and so does the whole script
# (VOLREP_TEST_TIMEOUT, VOLREP_SCRIPT_TIMEOUT, in seconds; default 300
# and 900): past it the test's processes are killed, the test is
# reported as "not ok ... TIMEOUT" and the script exits through its
# cleanups (which are bounded by VOLREP_CLEANUP_TIMEOUT, default 180).
#
# Helpers: run_check (command must exit 0), run_mustfail CODE cmd... (must
# exit with CODE), test_cmp expected actual, test_skip_all reason,
# test_when_finished 'cmd' (at top level: cleanup at exit, also when the
# script dies or times out; in a body: run after that test), test_atexit
# 'cmd' (cleanup at exit, also from a body), wait_for
# SECONDS cmd (bounded wait), expect_grep, test_local_node (pve1's
# directories in $TRASH). Environment: VOLREP_TEST_TRACE=1
# (set -x in bodies), VOLREP_TEST_CHAIN_LINT=0 (no lint),
# VOLREP_TEST_LINT_ONLY=1 (lint every body, run none).

set -u
# Time limits in seconds (see tests/README.md): per test (its chain lint,
# body and cleanups), per script (everything, top-level set-up included),
# and for the cleanups at exit once a limit has struck.
VOLREP_TEST_TIMEOUT=${VOLREP_TEST_TIMEOUT:-300}
VOLREP_SCRIPT_TIMEOUT=${VOLREP_SCRIPT_TIMEOUT:-900}
VOLREP_CLEANUP_TIMEOUT=${VOLREP_CLEANUP_TIMEOUT:-180}
for _v in "$VOLREP_TEST_TIMEOUT" "$VOLREP_SCRIPT_TIMEOUT" "$VOLREP_CLEANUP_TIMEOUT"; do
	case "$_v" in '' | *[!0-9]* | 0)
		echo "test-lib: invalid time limit '$_v' (expected whole seconds > 0)" >&2
		exit 2 ;;
	esac
done
TOP=$(cd "$(dirname "$0")/../.." && pwd)
VOLREP="${VOLREP:-$TOP/build/volrep}"
export TOP VOLREP
TRASH=$(mktemp -d "/tmp/volrep-test.$(basename "$0" .sh).XXXXXX")
export TRASH
LF='
'
test_count=0
test_failed=0
test_skipped=0
_cleanups=""
_tl_title=""    # the test running now, "" between tests
_tl_in_body=""  # set inside a test body (its subshell)
_tl_script=${0#"$TOP/"}

_tl_script_deadline=$(( $(date +%s) + VOLREP_SCRIPT_TIMEOUT ))

_test_exit() {
	# a second TERM or ^C (the group's and then timeout's, say) must not
	# cut the cleanups short: `exit 130` in their middle would leave a
	# test bed's zfs-fuse, namespaces and loop devices behind. They have
	# their own time limit instead. (Caught, not ignored: what the
	# cleanups start must not inherit an ignored TERM.)
	trap '' USR1
	trap : INT TERM
	# the cleanups get their own time limit: a timed-out script still
	# tears down what it started
	_tl_arm "$VOLREP_CLEANUP_TIMEOUT" cleanup
	[ ! -f "$TRASH/.atexit" ] || eval "$(cat "$TRASH/.atexit")"
	eval "$_cleanups"
	_tl_watchdog_stop
	rm -rf "$TRASH"
}
trap _test_exit EXIT
trap 'exit 130' INT TERM

# _tl_descendants PID: every process below PID, parents first.
_tl_descendants() {
	ps -e -o pid= -o ppid= 2>/dev/null | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END {
			q[1] = root; h = 1; t = 1
			while (h <= t) {
				n = split(kids[q[h++]], c, " ")
				for (i = 1; i <= n; i++) { q[++t] = c[i]; print c[i] }
			}
		}'
}

# The watchdog: a process of its own (not a child of the script, so that
# a plain `wait` in a test does not wait for it) that checks every second
# whether the deadline in $TRASH/.deadline ("EPOCH KIND", KIND test,
# script or cleanup) or the script's has passed. Then it notes the kind
# in $TRASH/.timedout, signals the script (USR1: _tl_on_timeout reports
# and exits, so the EXIT trap tears everything down) and kills every
# process below the script (TERM, KILL after 5 s), which ends whatever
# the script waits for. Past the cleanup deadline it kills the script.
_tl_arm() { # SECONDS KIND
	echo "$(( $(date +%s) + $1 )) $2" >"$TRASH/.deadline"
}
_tl_disarm() {
	echo "$_tl_script_deadline script" >"$TRASH/.deadline"
}
_tl_watchdog() {
	_main=$1
	while kill -0 "$_main" 2>/dev/null && [ -d "$TRASH" ]; do
		sleep 1
		read -r _dl _kind <"$TRASH/.deadline" 2>/dev/null || continue
		if [ "$_kind" != cleanup ] && [ "$_dl" -gt "$_tl_script_deadline" ]; then
			_dl=$_tl_script_deadline _kind=script
		fi
		[ "$(date +%s)" -ge "$_dl" ] || continue
		_ps=$(_tl_descendants "$_main")
		if [ "$_kind" = cleanup ]; then
			echo "# TIMEOUT: the cleanups of $_tl_script still running after $VOLREP_CLEANUP_TIMEOUT s (VOLREP_CLEANUP_TIMEOUT): killed" >&2
			# shellcheck disable=SC2086
			kill -KILL "$_main" $_ps 2>/dev/null
			rm -rf "$TRASH"
			exit 0
		fi
		echo "$_kind" >"$TRASH/.timedout"
		echo "$(( $(date +%s) + VOLREP_CLEANUP_TIMEOUT )) cleanup" >"$TRASH/.deadline"
		kill -USR1 "$_main" 2>/dev/null
		# shellcheck disable=SC2086
		[ -z "$_ps" ] || kill -TERM $_ps 2>/dev/null
		sleep 5
		# only the ones seen before: the cleanups start new ones
		# shellcheck disable=SC2086
		[ -z "$_ps" ] || kill -KILL $_ps 2>/dev/null
	done
}
_tl_watchdog_start() {
	_tl_disarm
	# a subshell that forks the watchdog and exits: the watchdog is
	# nobody's child in this script; it records its own pid
	( (
		trap - INT TERM EXIT
		read -r _self _rest </proc/self/stat
		echo "$_self" >"$TRASH/.watchdog.pid"
		_tl_watchdog "$$"
	) </dev/null >/dev/null & )
}
_tl_watchdog_stop() {
	_w=$(cat "$TRASH/.watchdog.pid" 2>/dev/null) && kill "$_w" 2>/dev/null
	return 0
}

# USR1 from the watchdog: report the test (or the set-up between tests)
# that ran out of time, and exit; the EXIT trap runs the cleanups.
_tl_on_timeout() {
	trap '' USR1
	_k=$(cat "$TRASH/.timedout" 2>/dev/null)
	if [ "$_k" = test ]; then
		_lim="$VOLREP_TEST_TIMEOUT s (VOLREP_TEST_TIMEOUT)"
	else
		_lim="$VOLREP_SCRIPT_TIMEOUT s (VOLREP_SCRIPT_TIMEOUT, the whole script)"
	fi
	test_failed=$((test_failed + 1))
	if [ -n "$_tl_title" ]; then
		echo "not ok $test_count - $_tl_title"
		echo "# TIMEOUT: test $test_count '$_tl_title' of $_tl_script still running after $_lim: killed, script stopped"
		[ ! -f "$TRASH/.out.$test_count" ] || sed 's/^/#   /' "$TRASH/.out.$test_count" | tail -40
	else
		test_count=$((test_count + 1))
		echo "not ok $test_count - set-up after test $((test_count - 1))"
		echo "# TIMEOUT: $_tl_script still running after $_lim, in its top-level code after test $((test_count - 1)): killed, script stopped"
	fi
	echo "# passed $((test_count - test_failed - test_skipped)) failed $test_failed skipped $test_skipped"
	exit 1
}
trap _tl_on_timeout USR1
_tl_watchdog_start

# _tl_eval BODY: a function, so that a body may `return 1` (in loops).
_tl_eval() {
	eval "$1"
}

test_when_finished() {
	if [ -n "$_tl_in_body" ]; then
		# inside a test: run after this test (last registered first),
		# and the test fails if a cleanup fails
		{
			printf '{ %s\n} || _tl_crc=1\n' "$1"
			cat "$TRASH/.when_finished" 2>/dev/null || :
		} >"$TRASH/.when_finished.new" &&
			mv "$TRASH/.when_finished.new" "$TRASH/.when_finished"
		return 0
	fi
	_cleanups="$1
$_cleanups"
}

# test_atexit 'cmd': run cmd when the script exits (also when it dies or
# times out), wherever it is called; in a body, cmd runs in the script's
# shell, so expand in it what the body knows: test_atexit "f '$x'".
test_atexit() {
	if [ -n "$_tl_in_body" ]; then
		{
			printf '%s\n' "$1"
			cat "$TRASH/.atexit" 2>/dev/null || :
		} >"$TRASH/.atexit.new" && mv "$TRASH/.atexit.new" "$TRASH/.atexit"
		return 0
	fi
	_cleanups="$1
$_cleanups"
}

# _tl_chain_lint TITLE BODY: git's &&-chain lint. With "(exit 117) &&"
# in front, a body whose commands are all joined by && runs nothing and
# ends with status 117; a broken link lets the rest run. The trace names
# the first command that ran past the break.
_tl_chain_lint() {
	_lint=$( (cd "$TRASH" && _tl_in_body=1 && set -x &&
		_tl_eval "(exit 117) && $2${LF}${LF}echo OK-\$?") 2>"$TRASH/.lint" </dev/null)
	_loops=$(printf '%s\n' "$2" | awk -f "$TOP/tests/lib/looplint.awk")
	[ "$_lint" != OK-117 ] || [ -n "$_loops" ] || return 0
	echo "not ok $test_count - $1"
	if [ "$_lint" = OK-117 ]; then
		echo "# BUG: loop step without '|| return 1' in test $test_count '$1' of $_tl_script:"
		echo "#   a failing step would not stop the loop (nor the body); end each step with '|| return 1'."
		echo "#   Line(s) of the body (line 1: the one with the opening quote):"
		printf '%s\n' "$_loops" | sed 's/^/#     /'
		return 1
	fi
	echo "# BUG: broken &&-chain in test $test_count '$1' of $_tl_script:"
	echo "#   \"(exit 117) && body\" must run nothing and end with 117; it printed '$(echo $_lint)', not OK-117."
	_first=$(sed -e '1,/^+ exit 117$/d' -e '/^+ echo OK-/d' "$TRASH/.lint" | grep '^+' | head -3)
	if [ -n "$_first" ]; then
		echo "#   First commands run past the break (join the line before with &&):"
		printf '%s\n' "$_first" | sed 's/^/#     /'
	else
		grep -v '^+' "$TRASH/.lint" | tail -3 | sed 's/^/#   /'
	fi
	[ -z "$_loops" ] || { echo "#   Also, loop steps without '|| return 1' at body line(s):"; printf '%s\n' "$_loops" | sed 's/^/#     /'; }
	echo "#   (loops in a body end each step with '|| return 1'; disable with VOLREP_TEST_CHAIN_LINT=0)"
	return 1
}

test_expect_success() {
	if [ $# != 2 ]; then
		echo "# BUG: test_expect_success takes a title and a body, got $# arguments: $*" >&2
		exit 1
	fi
	test_count=$((test_count + 1))
	_tl_title=$1
	_out="$TRASH/.out.$test_count"
	_tl_arm "$VOLREP_TEST_TIMEOUT" test
	if [ "${VOLREP_TEST_CHAIN_LINT:-1}" != 0 ] && ! _tl_chain_lint "$1" "$2"; then
		test_failed=$((test_failed + 1))
		_tl_title=""
		_tl_disarm
		[ -z "${VOLREP_TEST_LINT_ONLY:-}" ] || return 0
		echo "# passed $((test_count - test_failed - test_skipped)) failed $test_failed skipped $test_skipped"
		exit 1
	fi
	if [ -n "${VOLREP_TEST_LINT_ONLY:-}" ]; then
		echo "ok $test_count - $1 # chain lint only"
		_tl_title=""
		return 0
	fi
	# Not in an if: there `set -e` would have no effect on the body.
	# The body stops at its first failing command outside && chains.
	( cd "$TRASH" && _tl_in_body=1 && if [ -n "${VOLREP_TEST_TRACE:-}" ]; then set -x; fi &&
		set -e && _tl_eval "$2" ) >"$_out" 2>&1 </dev/null
	_rc=$?
	if [ -f "$TRASH/.when_finished" ]; then
		mv "$TRASH/.when_finished" "$TRASH/.when_finished.run"
		( cd "$TRASH" && _tl_crc=0 && eval "$(cat "$TRASH/.when_finished.run")"; exit $_tl_crc ) \
			>>"$_out" 2>&1 </dev/null || {
			echo "test_when_finished: a cleanup of this test failed" >>"$_out"
			[ "$_rc" != 0 ] || _rc=1
		}
		rm -f "$TRASH/.when_finished.run"
	fi
	_tl_disarm
	if [ "$_rc" = 0 ]; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		sed 's/^/#   /' "$_out" | tail -40
		echo "#   (body exited $_rc; VOLREP_TEST_TRACE=1 shows each command)"
	fi
	_tl_title=""
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
	_tl_disarm
	echo "# passed $((test_count - test_failed - test_skipped)) failed $test_failed skipped $test_skipped"
	[ "$test_failed" = 0 ]
}

# wait_for SECONDS COMMAND [ARGS...]: run COMMAND (a single argument is
# evaluated as shell code, e.g. 'test -s "$f"') every 0.1 s until it
# succeeds; fail after SECONDS with a message naming it. Every wait of a
# test goes through here (or has a bound of its own): a wait that can
# last forever turns a failure into a hang. wait_for_diag, a hook that
# does nothing here, is called on timeout (lib-daemon.sh prints the
# daemon's log there).
wait_for() {
	_wf_s=$1; shift
	_wf_end=$(( $(date +%s) + _wf_s ))
	while :; do
		if [ $# = 1 ]; then eval "$1"; else "$@"; fi && return 0
		[ "$(date +%s)" -lt "$_wf_end" ] || break
		sleep 0.1
	done
	echo "timed out after $_wf_s s waiting for: $*" >&2
	wait_for_diag
	return 1
}
wait_for_diag() { :; }

# test_local_node: this host as node pve1, with its config, state and log
# directories in $TRASH (cfg, state, log; CFG is the config directory);
# times in UTC. For the tests that run volrep without a test bed.
test_local_node() {
	CFG="$TRASH/cfg"
	export VOLREP_CONFIG_DIR="$CFG"
	export VOLREP_STATE_DIR="$TRASH/state"
	export VOLREP_LOG_DIR="$TRASH/log"
	export VOLREP_NODE=pve1
	export TZ=UTC
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
