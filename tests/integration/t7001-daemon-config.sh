#!/bin/sh
# The daemon picks up config changes without a restart (new, disabled,
# deleted jobs, guests moving between nodes, volrep.cfg), SIGHUP, strict
# volrep.cfg errors, the single-instance lock, busy guests and failed runs
# that do not make it spin.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib-daemon.sh"
command -v jq >/dev/null && command -v flock >/dev/null || test_skip_all "needs jq and flock"
make_cluster
export FAKE_SLEEP=0.1

test_expect_success 'daemon --help lists the settings' '
	run_check "$VOLREP" daemon --help >out &&
	expect_grep "usage: volrep daemon" out &&
	expect_grep "volrep.cfg" out &&
	for k in max-workers max-per-target bwlimit shutdown-grace; do
		expect_grep "^  $k " out || return 1
	done &&
	run_mustfail 2 "$VOLREP" daemon extra 2>err &&
	expect_grep "unexpected argument" err
'

test_expect_success 'invalid volrep.cfg: exit 2 with file:line, nothing started' '
	set_cfg "max-workers 4" "max-workerz 2" &&
	run_mustfail 2 "$VOLREP" daemon 2>err &&
	expect_grep "volrep.cfg:2: unknown setting .max-workerz." err &&
	set_cfg "max-per-target 0" &&
	run_mustfail 2 "$VOLREP" daemon 2>err &&
	expect_grep "volrep.cfg:1: invalid value .0. for .max-per-target." err &&
	! [ -e "$VOLREP_STATE_DIR/daemon.lck" ] &&
	rm "$CFG/volrep.cfg"
'

test_expect_success 'a second daemon for the same state dir is refused' '
	start_daemon &&
	run_mustfail 1 "$VOLREP" daemon 2>err &&
	expect_grep "another volrep daemon is running for state directory .*(pid $DPID)" err &&
	stop_daemon && [ "$drc" = 0 ] &&
	expect_grep "stopped" "$DLOG"
'

test_expect_success 'new, disabled and deleted jobs are picked up without a restart' '
	start_daemon &&
	make_guest 100 && make_guest 101 &&
	add_job 100-0 pve2 &&
	wait_for 30 "[ \$(nevents end 100-0) = 1 ]" &&
	add_job 101-0 pve2 disable 1 &&
	sleep 1 &&
	[ "$(nevents start 101-0)" = 0 ] &&
	# enable it: edit the file in place, as an editor would
	# (the daemon wrote the file in pvesr layout, adding "source pve1")
	expect_grep "^	source pve1" "$CFG/replication.cfg" &&
	sed -i "/^	disable/d" "$CFG/replication.cfg" &&
	wait_for 30 "[ \$(nevents end 101-0) = 1 ]" &&
	expect_grep "101-0: finished in" "$DLOG" &&
	# delete both; a job due every 2 seconds proves the daemon still runs
	: >"$CFG/replication.cfg" &&
	add_job 100-1 pve3 schedule "*:*:0/2" &&
	wait_for 30 "[ \$(nevents end 100-1) -ge 2 ]" &&
	[ "$(nevents start 100-0)" = 1 ] && [ "$(nevents start 101-0)" = 1 ] &&
	stop_daemon && [ "$drc" = 0 ]
'

test_expect_success 'guests moving to and from this node' '
	rm -f "$FAKE_EVENTS" &&
	start_daemon &&
	wait_for 30 "[ \$(nevents end 100-1) -ge 1 ]" &&
	mv "$CFG/nodes/pve1/qemu-server/100.conf" "$CFG/nodes/pve2/qemu-server/100.conf" &&
	# a job added after the move: once the daemon started it, it has read
	# the config after the move, and every run of 100-1 it started before
	# is in its log
	add_job 101-1 pve3 &&
	wait_for 30 "grep -q \"101-1: started\" \"$DLOG\"" &&
	n=$(grep -c "100-1: started" "$DLOG") &&
	# 100-1 is due every 2 s: 3 s would have brought a run
	sleep 3 &&
	{ [ "$(grep -c "100-1: started" "$DLOG")" = "$n" ] || fail "ran on pve1 after the guest left"; } &&
	mv "$CFG/nodes/pve2/qemu-server/100.conf" "$CFG/nodes/pve1/qemu-server/100.conf" &&
	wait_for 30 "[ \$(nevents start 100-1) -gt $n ]" &&
	stop_daemon && [ "$drc" = 0 ]
'

test_expect_success 'volrep.cfg changes apply at the next pass; SIGHUP reloads; a bad edit keeps the old settings' '
	: >"$CFG/replication.cfg" &&
	start_daemon &&
	set_cfg "max-workers 2" &&
	wait_for 30 "grep -q \"settings changed: max-workers 2, max-per-target 2\" \"$DLOG\"" &&
	set_cfg "max-workers two" &&
	wait_for 30 "grep -q \"volrep.cfg:1: invalid value .two. for .max-workers.*keeping the previous settings\" \"$DLOG\"" &&
	kill -HUP $DPID &&
	wait_for 30 "grep -q \"SIGHUP: reloading\" \"$DLOG\"" &&
	# the problem is reported again after SIGHUP, once
	wait_for 30 "[ \$(grep -c \"invalid value .two.\" \"$DLOG\") = 2 ]" &&
	set_cfg "max-workers 3" &&
	wait_for 30 "grep -q \"settings changed: max-workers 3\" \"$DLOG\"" &&
	stop_daemon && [ "$drc" = 0 ]
'

test_expect_success 'a busy guest lock defers the job instead of spinning' '
	rm -f "$FAKE_EVENTS" && : >"$CFG/replication.cfg" &&
	make_guest 102 &&
	add_job 102-0 pve2 &&
	FAKE_BUSY_102_0=1 &&
	export FAKE_BUSY_102_0 &&
	start_daemon &&
	wait_for 30 "grep -q \"102-0: guest 102 is locked by another operation; skipped until\" \"$DLOG\"" &&
	sleep 2 &&
	{ [ "$(nevents busy 102-0)" = 1 ] || fail "tried $(nevents busy 102-0) times"; } &&
	# nothing was recorded for it
	"$VOLREP" status --guest 102 --output-format json >st &&
	expect_grep "\"fail_count\":0" st &&
	stop_daemon && [ "$drc" = 0 ] &&
	unset FAKE_BUSY_102_0
'

test_expect_success 'a worker that records nothing is not restarted in a loop' '
	rm -f "$FAKE_EVENTS" && : >"$CFG/replication.cfg" &&
	add_job 102-0 pve2 &&
	FAKE_NOSTATE=1 &&
	export FAKE_NOSTATE &&
	start_daemon &&
	wait_for 30 "grep -q \"102-0: ended after .* without recording a run; next try\" \"$DLOG\"" &&
	sleep 2 &&
	[ "$(nevents start 102-0)" = 1 ] &&
	stop_daemon && [ "$drc" = 0 ] &&
	unset FAKE_NOSTATE
'

test_expect_success 'a failed run is logged with its error and next try, and backs off' '
	rm -f "$FAKE_EVENTS" "$VOLREP_STATE_DIR/replication-state.json" &&
	FAKE_FAIL_102_0="no route to host" &&
	export FAKE_FAIL_102_0 &&
	start_daemon &&
	wait_for 30 "grep -q \"102-0: failed after [0-9.]*s: no route to host; next try \" \"$DLOG\"" &&
	sleep 1 &&
	[ "$(nevents start 102-0)" = 1 ] &&
	"$VOLREP" status --guest 102 --output-format json >st &&
	expect_grep "\"error\":\"no route to host\",\"fail_count\":1" st &&
	# the next try is 5 minutes after the start (pvesr backoff)
	try=$(jq ".[0].last_try" st) && next=$(jq ".[0].next_sync" st) &&
	[ $((next - try)) = 300 ] &&
	expect_grep "next try $(date -u -d @$next "+%Y-%m-%d %H:%M:%S")" "$DLOG" &&
	stop_daemon && [ "$drc" = 0 ] &&
	unset FAKE_FAIL_102_0
'

test_expect_success 'schedule-now while the daemon sleeps runs the job at once' '
	rm -f "$FAKE_EVENTS" "$VOLREP_STATE_DIR/replication-state.json" &&
	start_daemon &&
	wait_for 30 "[ \$(nevents end 102-0) = 1 ]" &&
	sleep 1 &&
	[ "$(nevents start 102-0)" = 1 ] &&
	run_check "$VOLREP" schedule-now 102-0 &&
	wait_for 30 "[ \$(nevents end 102-0) = 2 ]" &&
	stop_daemon && [ "$drc" = 0 ]
'

test_done
