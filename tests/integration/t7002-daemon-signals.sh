#!/bin/sh
# Stopping and crashing: SIGTERM lets running jobs finish within the grace
# period, then terminates them (the run is recorded as failed, the daemon
# exits 0); kill -9 of the daemon and a restart find consistent state; a
# worker killed under the daemon is recorded as interrupted.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib-daemon.sh"
command -v jq >/dev/null && command -v flock >/dev/null || test_skip_all "needs jq and flock"
make_cluster
make_guest 100 && make_guest 101
add_job 100-0 pve2
STATE="$VOLREP_STATE_DIR/replication-state.json"

reset() {
	rm -f "$FAKE_EVENTS" "$STATE" "$TRASH/gate"
}
# The runs that must still be running when the test acts wait at a gate
# file (tests/helpers/fake-worker.sh) instead of sleeping a guessed time.
export FAKE_GATE_100_0="$TRASH/gate"

# the fake worker's pid from the events
worker_pid() {
	awk -v id="$1" '$1 == "start" && $2 == id { p = $4 } END { print p }' "$FAKE_EVENTS"
}

test_expect_success 'SIGTERM: running job finishes within the grace period, no new job starts' '
	reset &&
	set_cfg "shutdown-grace 120" &&
	start_daemon &&
	wait_for 30 "[ \$(nevents start 100-0) = 1 ]" &&
	kill -TERM $DPID &&
	wait_for 30 "grep -q \"stopping; waiting up to 120s for 1 running job\" \"$DLOG\"" &&
	# a job that becomes due during the grace period is not started
	add_job 101-0 pve2 &&
	sleep 1 &&
	: >"$TRASH/gate" &&
	wait_daemon &&
	[ "$drc" = 0 ] &&
	[ "$(nevents end 100-0)" = 1 ] &&
	grep -q "^end 100-0 .* ok" "$FAKE_EVENTS" &&
	expect_grep "100-0: finished in" "$DLOG" &&
	[ "$(nevents start 101-0)" = 0 ] &&
	sed -i "/local: 101-0/,\$d" "$CFG/replication.cfg"
'

test_expect_success 'SIGTERM: after the grace period the worker is terminated and the run recorded as failed' '
	reset &&
	set_cfg "shutdown-grace 1" &&
	start_daemon &&
	wait_for 30 "[ \$(nevents start 100-0) = 1 ]" &&
	pid=$(worker_pid 100-0) &&
	t0=$(date +%s.%N) &&
	stop_daemon TERM &&
	[ "$drc" = 0 ] &&
	# the run (held at the gate, it cannot end by itself) was terminated,
	# and not before the grace period was over
	grep -q "^end 100-0 .* term" "$FAKE_EVENTS" &&
	t1=$(awk "\$1 == \"end\" && \$2 == \"100-0\" { print \$3 }" "$FAKE_EVENTS") &&
	{ awk "BEGIN { exit !($t1 - $t0 >= 1) }" || fail "terminated $t0 -> $t1, before the 1 s grace"; } &&
	! kill -0 $pid 2>/dev/null &&
	expect_grep "100-0: terminating the run (shutdown grace period over)" "$DLOG" &&
	expect_grep "100-0: failed after [0-9.]*s: interrupted by SIGTERM; next try" "$DLOG" &&
	"$VOLREP" status --output-format json >st &&
	expect_grep "\"error\":\"interrupted by SIGTERM\",\"fail_count\":1" st &&
	! grep -q "\"pid\"" st
'

test_expect_success 'a second SIGTERM ends the grace period at once' '
	reset &&
	set_cfg "shutdown-grace 600" &&
	start_daemon &&
	wait_for 30 "[ \$(nevents start 100-0) = 1 ]" &&
	kill -TERM $DPID &&
	wait_for 30 "grep -q \"waiting up to 600s\" \"$DLOG\"" &&
	kill -INT $DPID &&
	wait_daemon &&
	[ "$drc" = 0 ] &&
	expect_grep "ending the grace period" "$DLOG" &&
	grep -q "^end 100-0 .* term" "$FAKE_EVENTS"
'

test_expect_success 'a worker killed under the daemon is recorded as interrupted' '
	reset &&
	start_daemon &&
	wait_for 30 "[ \$(nevents start 100-0) = 1 ]" &&
	kill -9 -$(worker_pid 100-0) &&
	wait_for 30 "grep -q \"100-0: failed after [0-9.]*s: interrupted: replication worker killed by signal 9; next try\" \"$DLOG\"" &&
	"$VOLREP" status --output-format json >st &&
	expect_grep "\"error\":\"interrupted: replication worker killed by signal 9\",\"fail_count\":1" st &&
	! grep -q "\"pid\"" st &&
	stop_daemon && [ "$drc" = 0 ]
'

test_expect_success 'kill -9 of the daemon: the orphaned run finishes, a new daemon does not start it twice' '
	reset &&
	start_daemon &&
	wait_for 30 "[ \$(nevents start 100-0) = 1 ]" &&
	stop_daemon KILL &&
	[ "$drc" = 137 ] &&
	pid=$(worker_pid 100-0) &&
	kill -0 $pid &&
	"$VOLREP" status >st &&
	expect_grep "SYNCING" st &&
	start_daemon &&
	# the new daemon leaves the running one alone, and does not start
	# it again once it ended
	sleep 1 &&
	: >"$TRASH/gate" &&
	wait_for 30 "[ \$(nevents end 100-0) = 1 ]" &&
	sleep 1 &&
	{ [ "$(nevents start 100-0)" = 1 ] || fail "started twice"; } &&
	"$VOLREP" status >st &&
	expect_grep "100-0 .* OK$" st &&
	! grep -q "interrupted" "$DLOG" &&
	stop_daemon && [ "$drc" = 0 ]
'

test_expect_success 'kill -9 of daemon and worker: the restart records the dead run, status is consistent' '
	reset &&
	start_daemon &&
	wait_for 30 "[ \$(nevents start 100-0) = 1 ]" &&
	pid=$(worker_pid 100-0) &&
	stop_daemon KILL &&
	kill -9 -$pid &&
	wait_for 30 "! kill -0 $pid 2>/dev/null" &&
	# the stale pid in the state is not taken for a running job
	"$VOLREP" status >st &&
	! grep -q SYNCING st &&
	start_daemon &&
	wait_for 30 "grep -q \"100-0: previous run (pid $pid) was interrupted; recorded as failed\" \"$DLOG\"" &&
	"$VOLREP" status --output-format json >st &&
	expect_grep "\"error\":\"interrupted: replication worker $pid ended without recording a result\",\"fail_count\":1" st &&
	! grep -q "\"pid\"" st &&
	# backs off: not started again
	sleep 1 &&
	[ "$(nevents start 100-0)" = 1 ] &&
	stop_daemon && [ "$drc" = 0 ]
'

test_done
