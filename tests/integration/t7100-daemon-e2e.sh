#!/bin/sh
# The daemon with the real engine on two namespace nodes (zfs-fuse, sshd):
# 20 containers due at once are replicated in parallel within the worker
# limits, a job fires at the second its schedule names and syncs
# incrementally, and SIGTERM during a rate-limited transfer ends the run
# cleanly (error recorded, this run's snapshot removed, daemon exits 0).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require_engine
NGUESTS=${NGUESTS:-20}
DLOG="$TRASH/daemon.log"

e2e_up 'two nodes come up' a b
test_when_finished 'for _p in $(cat "$TRASH/daemon.pids" 2>/dev/null); do kill -9 $_p 2>/dev/null; done'

# start_daemon: `volrep daemon` inside node a (its pid: nsenter and env exec)
start_daemon() {
	_h=$(node_pid a) || return 1
	# exec all the way down, so that $! is the daemon itself
	# shellcheck disable=SC2046
	sh -c 'exec "$@"' sh nsenter --mount="/proc/$_h/ns/mnt" -- \
		env $(_tb_env a) VOLREP_SSH="$(_tb_volrep_ssh a)" volrep daemon >"$DLOG" 2>&1 &
	DPID=$!
	echo $DPID >>"$TRASH/daemon.pids"
	wait_for 30 'grep -q "daemon started" "$DLOG"'
}
wait_for_diag() { cat "$DLOG" >&2; }

# stop_daemon: SIGTERM, then its exit within 120 s (else SIGKILL)
stop_daemon() {
	kill -TERM $DPID
	{
		_i=0
		while [ $_i -lt 1200 ] && kill -0 $DPID; do sleep 0.1; _i=$((_i + 1)); done
		kill -KILL $DPID
	} </dev/null >/dev/null 2>&1 &
	_wd=$!
	drc=0
	wait $DPID || drc=$?
	kill $_wd 2>/dev/null
	[ "$drc" = 0 ] || { echo "daemon exited $drc" >&2; cat "$DLOG" >&2; return 1; }
}

# state_of JOBID FIELD: a field of the job's entry in node a's state file
# (fields that `volrep status` does not show, such as "scheduled")
state_of() {
	jq -r --arg v "${1%%-*}" --arg f "$2" '.[$v]["local/b"][$f] // empty' "$TB/nodes/a/state/replication-state.json"
}

# synced_count: jobs of node a with a last_sync
synced_count() {
	vr a status --output-format json | jq "[.[] | select(.last_sync > 0)] | length"
}

test_expect_success "$NGUESTS containers on ZFS with a job each" '
	i=0 &&
	while [ $i -lt $NGUESTS ]; do
		id=$((100 + i)) &&
		guest_create a $id lxc &&
		guest_add_disk a $id rootfs local-zfs:subvol-$id-disk-0 16 &&
		vol_write a local-zfs:subvol-$id-disk-0 1 &&
		printf "local: %s-0\n\ttarget b\n\tsource a\n\n" $id >>"$TB/config/replication.cfg" &&
		i=$((i + 1)) || return 1
	done &&
	printf "%s\n" "max-workers 4" "max-per-target 4" >"$TB/config/volrep.cfg" &&
	[ "$(vr a list | wc -l)" = $((NGUESTS + 1)) ]
'

test_expect_success 'all due at once: replicated in parallel, at most 4 at a time' '
	t0=$(date +%s) &&
	start_daemon &&
	wait_for 240 "[ \"\$(synced_count)\" = $NGUESTS ]" &&
	echo "$NGUESTS guests synced in $(( $(date +%s) - t0 )) s" &&
	# a run records its sync before it exits, the daemon logs its end
	# after: wait for the last ones to be logged
	wait_for 60 "[ \$(grep -c \": finished in \" \"$DLOG\") -ge $NGUESTS ]" &&
	# concurrency from the daemon log: +1 per start, -1 per end
	awk "/: started \\(target/ { c++; if (c > m) m = c } /: (finished|failed) / { c-- } END { print m }" "$DLOG" >max &&
	cat max &&
	[ "$(cat max)" = 4 ] &&
	{ [ "$(grep -c ": finished in " "$DLOG")" = $NGUESTS ] || fail "$(grep -c ": finished in " "$DLOG") runs finished, want $NGUESTS"; } &&
	! grep ": failed " "$DLOG" &&
	i=0 &&
	while [ $i -lt $NGUESTS ]; do
		assert_synced a b $((100 + i))-0 local-zfs:subvol-$((100 + i))-disk-0 &&
		i=$((i + 1)) || return 1
	done
'

# The run is stamped with the event it serves ("scheduled" in the state,
# passed by the daemon as run --event): the test checks that the run
# served the event the schedule names next, and did not start before it;
# how late after it the run started depends on the machine's load.
synced_after() { # JOBID LAST_TRY: a run after LAST_TRY has synced
	_t=$(job_field a "$1" last_try) && [ "$_t" != "$2" ] &&
		[ "$(job_field a "$1" last_sync)" = "$_t" ]
}
test_expect_success 'a job fires at the second its schedule names, incrementally' '
	orig=$(job_field a 100-0 last_try) &&
	vr a update 100-0 --schedule "*:*:0/10" &&
	# the run the new schedule brings (due within 10 s)
	wait_for 120 synced_after 100-0 "$orig" &&
	t1=$(job_field a 100-0 last_try) &&
	vol_write a local-zfs:subvol-100-disk-0 1 &&
	# the next one: the first event strictly after that run started
	ev=$(( (t1 / 10 + 1) * 10 )) &&
	wait_for 120 synced_after 100-0 "$t1" &&
	t2=$(job_field a 100-0 last_try) &&
	sched=$(state_of 100-0 scheduled) &&
	echo "event $ev, run for event $sched started at $t2" &&
	[ "$sched" = "$ev" ] && [ "$t2" -ge "$ev" ] &&
	# the run records its sync before it finalizes on the target, and
	# the schedule fires again every 10 s: stop it, let the run end,
	# then look at the snapshots and the log of the last run
	vr a disable 100-0 &&
	wait_for 60 "[ -z \"\$(job_field a 100-0 pid)\" ]" &&
	assert_synced a b 100-0 local-zfs:subvol-100-disk-0 &&
	vr a log 100-0 >log &&
	base=$(sed -n "s/.*incremental sync .local-zfs:subvol-100-disk-0. (__replicate_100-0_\([0-9]*\)__.*/\1/p" log) &&
	echo "last run incremental from $base" &&
	{ [ -n "$base" ] && [ "$base" -ge "$t1" ] || fail "not incremental from the run of $t1 or later"; } &&
	# status sees the daemon (its lock): no "no daemon" line, nothing overdue
	vr a status >st 2>err &&
	! grep -q "no volrep daemon" err &&
	! grep -q " overdue" st &&
	vr a update 100-0 --delete schedule &&
	vr a enable 100-0
'

test_expect_success 'SIGTERM during a transfer: the run fails cleanly, the daemon exits 0' '
	# a rate-limited job with 8 MB to send takes ~8 s
	vol_write a local-zfs:subvol-101-disk-0 8 &&
	prev=$(job_field a 101-0 last_sync) &&
	printf "%s\n" "shutdown-grace 0" >"$TB/config/volrep.cfg" &&
	# the daemon of the tests above runs on (a test body is a subshell,
	# so it is not our child): stop it, start one we can wait for
	old=$(tail -1 "$TRASH/daemon.pids") &&
	kill -TERM $old &&
	wait_for 120 "! kill -0 $old 2>/dev/null" &&
	expect_grep "stopped" "$DLOG" &&
	vr a update 101-0 --rate 1 &&
	vr a schedule-now 101-0 &&
	start_daemon &&
	wait_for 30 "grep -q \"101-0: started\" \"$DLOG\"" &&
	sleep 2 &&
	stop_daemon &&
	cat "$DLOG" | tail -5 &&
	vr a status >st 2>err &&
	expect_grep "^volrep: warning: no volrep daemon is running on this node" err &&
	expect_grep "101-0: terminating the run" "$DLOG" &&
	expect_grep "101-0: failed after" "$DLOG" &&
	[ "$(job_field a 101-0 fail_count)" = 1 ] &&
	[ -n "$(job_field a 101-0 error)" ] &&
	[ -z "$(job_field a 101-0 pid)" ] &&
	[ "$(job_field a 101-0 error)" = "interrupted by SIGTERM" ] &&
	vr a log 101-0 >log &&
	expect_grep "end replication job with error: interrupted by SIGTERM" log &&
	# the snapshot of this run is gone on the source (the engine lets the
	# export end by itself rather than killing it: zfs-fuse keeps the
	# snapshots of a killed send busy), the base is intact, so the next
	# run is incremental and brings the data over
	[ "$(repl_snaps a local-zfs:subvol-101-disk-0 101-0)" = "__replicate_101-0_${prev}__" ] &&
	! grep -q "delete replication snapshot error" log &&
	expect_grep "__replicate_101-0_${prev}__" log &&
	vr a update 101-0 --delete rate &&
	job_run a 101-0 &&
	vr a log 101-0 >log &&
	expect_grep "incremental sync .local-zfs:subvol-101-disk-0. (__replicate_101-0_${prev}__" log &&
	[ "$(job_field a 101-0 fail_count)" = 0 ] &&
	[ "$(vol_sum a local-zfs:subvol-101-disk-0)" = "$(vol_sum b local-zfs:subvol-101-disk-0)" ]
'

test_done
