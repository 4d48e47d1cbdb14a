#!/bin/sh
# End to end, when things go wrong: the target is down during runs (error
# state, fail_count and backoff in `volrep status`, the scheduler honours
# the backoff, the recovery run is incremental), the run is killed with
# SIGKILL in the middle of a rate-limited stream (no snapshot lost, the
# next run succeeds), the target's storage is full (ZFS and btrfs).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require_engine

CT=local-zfs:subvol-200-disk-0
FULLZ=local-zfs:subvol-400-disk-0
FULLB=local-btrfs:500/vm-500-disk-0.raw

e2e_up 'two nodes with storage come up' a b

# the State column of a job in `volrep status` text output (pvesr layout)
state_col() {
	VOLREP_NOW=${2:-$(date +%s)} vr a status --output-format pvesr | awk -v id="$1" '$1 == id { for (i = 8; i <= NF; i++) printf "%s%s", $i, (i < NF ? " " : "\n") }'
}
# the NextSync column
next_col() {
	VOLREP_NOW=$2 vr a status --output-format pvesr | awk -v id="$1" '$1 == id { print $5 }'
}
utc() { date -u -d "@$1" +%Y-%m-%d_%H:%M:%S; }

test_expect_success 'CT 200 on ZFS, replicated to b' '
	guest_create a 200 lxc &&
	guest_add_disk a 200 rootfs $CT 64 &&
	vol_write a $CT 4 &&
	vr a create-local-job 200-0 b &&
	job_run a 200-0 &&
	assert_synced a b 200-0 $CT &&
	repl_snaps a $CT 200-0 >"$TRASH/base"
'

test_expect_success 'target down: the run fails, the error is recorded' '
	node_sshd_stop b &&
	vol_write a $CT 1 &&
	run_mustfail 1 job_run a 200-0 2>err &&
	cat err &&
	vr a log 200-0 >log &&
	cat log &&
	expect_grep "200-0: end replication job with error: .*\(127.0.1.[0-9]*\|.b.\).*refused" log &&
	! grep -n "?$" log &&
	test "$(job_field a 200-0 fail_count)" = 1 &&
	test -n "$(job_field a 200-0 error)" &&
	lt=$(job_field a 200-0 last_try) && ls=$(job_field a 200-0 last_sync) &&
	test "$lt" -gt "$ls" &&
	test "$(repl_snaps a $CT 200-0)" = "$(cat "$TRASH/base")" &&
	test "$(repl_snaps b $CT 200-0)" = "$(cat "$TRASH/base")" &&
	state=$(state_col 200-0) &&
	echo "State: $state" &&
	test "$state" = "$(job_field a 200-0 error)"
'

test_expect_success 'backoff: retry 5 minutes after the failed try, shown by status' '
	lt=$(job_field a 200-0 last_try) &&
	VOLREP_NOW=$((lt + 60)) vr a status >out && cat out &&
	test "$(next_col 200-0 $((lt + 60)))" = "$(utc $((lt + 300)))" &&
	test "$(next_col 200-0 $((lt + 300)))" = pending &&
	test "$(VOLREP_NOW=$((lt + 60)) job_field a 200-0 next_sync)" = $((lt + 300))
'

test_expect_success 'the scheduler does not retry before the backoff has passed' '
	lt=$(job_field a 200-0 last_try) &&
	VOLREP_NOW=$((lt + 120)) vr a run &&
	test "$(job_field a 200-0 last_try)" = "$lt" &&
	test "$(job_field a 200-0 fail_count)" = 1
'

test_expect_success 'second failure: fail_count 2, next try 10 minutes later' '
	run_mustfail 1 job_run a 200-0 2>err &&
	test "$(job_field a 200-0 fail_count)" = 2 &&
	lt=$(job_field a 200-0 last_try) &&
	test "$(next_col 200-0 $((lt + 1)))" = "$(utc $((lt + 600)))" &&
	test "$(repl_snaps a $CT 200-0)" = "$(cat "$TRASH/base")"
'

test_expect_success 'target back: the next run is incremental and clears the error' '
	node_sshd_start b &&
	job_run a 200-0 &&
	vr a log 200-0 >log &&
	cat log &&
	expect_grep "200-0: incremental sync .$CT. ($(cat "$TRASH/base") => __replicate_200-0_[0-9]*__)$" log &&
	test "$(job_field a 200-0 fail_count)" = 0 &&
	test -z "$(job_field a 200-0 error)" &&
	test "$(state_col 200-0)" = OK &&
	assert_synced a b 200-0 $CT
'

test_expect_success 'kill -9 of the run in the middle of a rate-limited stream' '
	repl_snaps a $CT 200-0 >"$TRASH/base" &&
	sum_b=$(vol_sum b $CT) &&
	vol_write a $CT 8 &&
	vr a update 200-0 --rate 1 &&
	job_run_bg a "$TRASH/run.pid" 200-0 >"$TRASH/run.out" 2>&1 &&
	wait_for 60 "vr a log 200-0 2>/dev/null | grep -q \"incremental sync\"" &&
	sleep 2 &&
	pid=$(cat "$TRASH/run.pid") &&
	kill -0 $pid &&
	test "$(state_col 200-0)" = SYNCING &&
	test "$(job_field a 200-0 pid)" = $pid &&
	kill -9 $pid &&
	sleep 0.5 &&
	vr a log 200-0 >log && cat log &&
	! grep "end replication job" log &&
	echo "base: $(cat "$TRASH/base")" &&
	vol_snaps a $CT >snaps.a && vol_snaps b $CT >snaps.b &&
	cat snaps.a snaps.b &&
	grep -qx "$(cat "$TRASH/base")" snaps.a &&
	grep -qx "$(cat "$TRASH/base")" snaps.b &&
	test "$(vol_sum b $CT)" = "$sum_b" &&
	test "$(state_col 200-0)" != SYNCING
'

test_expect_success 'after the kill: no sender or receiver left running' '
	{ wait_for 30 "[ -z \"\$(transfer_procs a b)\" ]" || { transfer_procs a b; false; }; }
'

test_expect_success 'after the kill: the next run succeeds, stale snapshot pruned' '
	vr a update 200-0 --delete rate &&
	job_run a 200-0 &&
	vr a log 200-0 >log && cat log &&
	expect_grep "200-0: incremental sync .$CT. ($(cat "$TRASH/base") => " log &&
	test "$(job_field a 200-0 fail_count)" = 0 &&
	assert_synced a b 200-0 $CT
'

test_expect_success 'target ZFS pool full: the run fails and leaves no partial volume' '
	guest_create a 400 lxc &&
	guest_add_disk a 400 rootfs $FULLZ 64 &&
	vol_write a $FULLZ 16 &&
	vr a create-local-job 400-0 b &&
	avail=$(node_exec b df -B1 --output=avail /rpool/data | tail -1) &&
	node_exec b zfs create -o reservation=$(( (avail - 6 * 1048576) / 1024 ))K rpool/filler &&
	node_exec b df -h /rpool/data &&
	run_mustfail 1 job_run a 400-0 &&
	vr a log 400-0 >log && cat log &&
	expect_grep "400-0: end replication job with error: .*out of space" log &&
	test "$(job_field a 400-0 fail_count)" = 1 &&
	! vol_exists b $FULLZ &&
	test -z "$(repl_snaps a $FULLZ 400-0)"
'

test_expect_success 'target ZFS pool with room again: full sync succeeds' '
	node_exec b zfs destroy rpool/filler &&
	job_run a 400-0 &&
	vr a log 400-0 >log &&
	expect_grep "full sync .$FULLZ." log &&
	assert_synced a b 400-0 $FULLZ
'

test_expect_success 'target btrfs full: the run fails, then succeeds with room' '
	guest_create a 500 qemu &&
	guest_add_disk a 500 scsi0 $FULLB 64 &&
	vol_write a $FULLB 24 &&
	vr a create-local-job 500-0 b &&
	avail=$(node_exec b df -B1 --output=avail /mnt/btrfs | tail -1) &&
	node_exec b fallocate -l $((avail - 4 * 1048576)) /mnt/btrfs/filler &&
	node_exec b df -h /mnt/btrfs &&
	run_mustfail 1 job_run a 500-0 &&
	vr a log 500-0 >log && cat log &&
	expect_grep "500-0: end replication job with error: .*No space left on device" log &&
	test "$(job_field a 500-0 fail_count)" = 1 &&
	test -z "$(repl_snaps a $FULLB 500-0)" &&
	! vol_exists b $FULLB &&
	node_exec b rm /mnt/btrfs/filler &&
	node_exec b btrfs filesystem sync /mnt/btrfs &&
	job_run a 500-0 &&
	assert_synced a b 500-0 $FULLB
'

test_expect_success 'teardown leaves no process, mount or loop device behind' '
	testbed_teardown &&
	e2e_leftovers "$TB_LAST" >left &&
	test_cmp /dev/null left
'

test_done
