#!/bin/sh
# The test harness itself (tests/lib/test-lib.sh): a green run must mean
# something, so the harness's own rules are tested. Each test writes a
# small script that uses the harness, runs it and checks what it
# reported and what it left: a broken &&-chain or a loop step without
# '|| return 1' stops the script naming the test, a body stops at its
# first failing command, a hung test is killed at its time limit with
# its processes, the cleanups run to their end, also when the script is
# sent TERM twice, and a test bed whose script was killed with -9 is
# torn down by the next one.
. "$(dirname "$0")/../lib/test-lib.sh"

# sample NAME BODY-OF-SCRIPT: $TRASH/tree/tests/integration/NAME.sh, a
# script that sources the harness (which finds its tree from its path)
mkdir -p "$TRASH/tree/tests/integration" && ln -s "$TOP/tests/lib" "$TRASH/tree/tests/lib" &&
	ln -s "$TOP/build" "$TRASH/tree/build" || exit 1
sample() {
	{
		echo '. "$(dirname "$0")/../lib/test-lib.sh"'
		echo "OUT='$TRASH'"
		cat
		echo 'test_done'
	} >"$TRASH/tree/tests/integration/$1.sh"
}
# run_sample NAME: run it, its output in NAME.out, its exit status in NAME.rc
run_sample() {
	_rc=0
	VOLREP_TEST_CHAIN_LINT=1 sh "$TRASH/tree/tests/integration/$1.sh" >"$1.out" 2>&1 || _rc=$?
	echo "$_rc" >"$1.rc"
	cat "$1.out"
}

test_expect_success 'a broken &&-chain stops the script before the body runs, naming the test' '
	sample broken <<-\EOF &&
	test_expect_success "joined badly" "
		touch \"\$OUT/ran\"
		true
	"
	test_expect_success "never reached" "touch \"\$OUT/second\""
	EOF
	run_sample broken &&
	test "$(cat broken.rc)" = 1 &&
	expect_grep "^not ok 1 - joined badly" broken.out &&
	expect_grep "BUG: broken &&-chain in test 1 .joined badly." broken.out &&
	test ! -e ran && test ! -e second
'

test_expect_success 'a loop step without || return 1 is flagged' '
	sample loop <<-\EOF &&
	test_expect_success "loop" "
		for i in 1 2; do
			test \$i = 1
		done
	"
	EOF
	run_sample loop &&
	test "$(cat loop.rc)" = 1 &&
	expect_grep "BUG: loop step without .|| return 1. in test 1 .loop." loop.out
'

# (set -e does not act on the commands of an && list but its last one:
# there, in a group, it does; without it the body would pass)
test_expect_success 'a body stops at its first failing command' '
	sample stops <<-\EOF &&
	test_expect_success "group" "
		true &&
		{ false; touch \"\$OUT/after\"; }
	"
	test_expect_success "fine" "true"
	EOF
	run_sample stops &&
	test "$(cat stops.rc)" = 1 &&
	expect_grep "^not ok 1 - group" stops.out &&
	expect_grep "^ok 2 - fine" stops.out &&
	expect_grep "^# passed 1 failed 1 skipped 0" stops.out &&
	test ! -e after
'

# the hung test's sleep records its pid; the script's exit cleanup runs
test_expect_success 'a hung test is killed at its limit with what it started, and the cleanups run' '
	sample hangs <<-\EOF &&
	test_atexit "touch \"\$OUT/cleaned\""
	test_expect_success "hangs" "
		sh -c \"echo \\\$\\\$ >\\\"\$OUT/sleeper.pid\\\"; exec sleep 300\"
	"
	EOF
	VOLREP_TEST_TIMEOUT=2 run_sample hangs &&
	test "$(cat hangs.rc)" = 1 &&
	expect_grep "^not ok 1 - hangs" hangs.out &&
	expect_grep "TIMEOUT: test 1 .hangs. of .* still running after 2 s" hangs.out &&
	test -e cleaned &&
	pid=$(cat sleeper.pid) &&
	wait_for 10 "! kill -0 $pid 2>/dev/null"
'

# TERM to the script's process group, then once more while its cleanup
# runs (as when run-all.sh and its timeout both forward one): the second
# one ends the cleanup's sleep, and the cleanup still runs to its end
# (its scratch directory, which goes last, is gone; the script exited
# and is waited for once that is so)
test_expect_success 'a second TERM does not cut the cleanups short' '
	rm -f cleaned &&
	sample term <<-\EOF &&
	echo "$TRASH" >"$OUT/term.trash"
	test_atexit "touch \"\$OUT/cleanup.started\"; sleep 60; touch \"\$OUT/cleaned\""
	test_expect_success "waits" "
		touch \"\$OUT/term.body\" &&
		sleep 300
	"
	EOF
	{ setsid sh "$TRASH/tree/tests/integration/term.sh" >term.out 2>&1 & } &&
	pg=$! &&
	wait_for 30 test -e term.body &&
	kill -TERM "-$pg" &&
	wait_for 30 test -e cleanup.started &&
	kill -TERM "-$pg" &&
	trash=$(cat term.trash) &&
	wait_for 60 test ! -d "$trash" &&
	{ wait $pg || :; } &&
	cat term.out &&
	test -e cleaned
'

# A script killed with SIGKILL runs no cleanup: its test bed stays. The
# next testbed_init sees the bed's owner gone and tears it down.
# drop_claims_of PID: the loopback /24 claims (netclaim.sh) of PID go
drop_claims_of() {
	for _c in /tmp/volrep-tbnet.*; do
		[ "$(cat "$_c/pid" 2>/dev/null)" != "$1" ] || rm -rf "$_c"
	done
}
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && [ -x /usr/sbin/sshd ]; then
	test_expect_success 'a test bed left by a script killed with -9 is torn down by the next one' '
		sample killed <<-\EOF &&
		. "$TOP/tests/lib/testbed.sh"
		testbed_init && testbed_add_node a 1 && echo "$TB" >"$OUT/killed.tb" &&
			cat "$TB/nodes/a/holder.pid" >"$OUT/killed.holder" && echo "$TRASH" >"$OUT/killed.trash"
		test_expect_success "waits" "touch \"\$OUT/killed.up\" && sleep 300"
		EOF
		{ setsid sh "$TRASH/tree/tests/integration/killed.sh" >killed.out 2>&1 & } &&
		pg=$! &&
		wait_for 120 test -e killed.up &&
		kill -KILL "-$pg" &&
		{ wait $pg || :; } &&
		tb=$(cat killed.tb) && holder=$(cat killed.holder) &&
		rm -rf "$(cat killed.trash)" &&
		drop_claims_of "$pg" &&
		test -d "$tb" && kill -0 "$holder" &&
		sample next <<-\EOF &&
		. "$TOP/tests/lib/testbed.sh"
		testbed_init
		EOF
		run_sample next &&
		test "$(cat next.rc)" = 0 &&
		expect_grep "testbed: tearing down $tb, left behind by process $pg, which is gone" next.out &&
		test ! -d "$tb" &&
		wait_for 10 "! kill -0 $holder 2>/dev/null"
	'
else
	test_skip 'a test bed left by a script killed with -9 is torn down by the next one' "needs root, unshare, sshd"
fi

test_done
