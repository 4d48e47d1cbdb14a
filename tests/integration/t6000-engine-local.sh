#!/bin/sh
# The replication engine end to end on one host: a zfs-fuse pool per
# "node" (rpool = source pve1, tpool = target pve2, both storage
# local-zfs), the target's verbs run through the local transport
# (VOLREP_TRANSPORT=local) with their own config dir whose storage.cfg
# maps local-zfs onto tpool. Full sync, incremental sync, stale snapshot
# cleanup, failure cleanup and backoff, job removal.
. "$(dirname "$0")/../lib/storage.sh"
storage_private_namespace "$0" "$@"
. "$(dirname "$0")/../lib/test-lib.sh"

. "$TOP/tests/lib/local-pair.sh"
local_pair_env
LOCAL_PAIR_CT100_MORE="mp0: local-zfs:subvol-100-disk-1,mp=/a,size=1G"

zfs_destroy_retry() { # DATASET (zfs-fuse: "dataset is busy" for a moment)
	_i=0
	until zfs destroy -r "$1" 2>/dev/null; do
		_i=$((_i + 1)); [ $_i -lt 50 ] || return 1; sleep 0.1
	done
}

test_expect_success 'set up source and target pools and configs' '
	zfs_start "$TRASH/zfs" &&
	zfs_pool_create rpool "$TRASH/zfs" /rpool/data &&
	zfs_pool_create tpool "$TRASH/zfs" "$TRASH/tpool-data" &&
	zfs create rpool/data/subvol-100-disk-0 &&
	zfs create rpool/data/subvol-100-disk-1 &&
	dd if=/dev/urandom of=$SRC/big bs=64k count=16 status=none &&
	echo one >$SRC/small &&
	write_cfg "$VOLREP_CONFIG_DIR" rpool/data &&
	write_cfg "$VOLREP_TARGET_CONFIG_DIR" tpool/data &&
	"$VOLREP" create-local-job 100-0 pve2 --schedule "*/5" &&
	# the target config knows the job too (a shared config dir in real life)
	cp "$VOLREP_CONFIG_DIR/replication.cfg" "$VOLREP_TARGET_CONFIG_DIR/"
'

test_expect_success 'first run: full sync of both volumes' '
	"$VOLREP" run --id 100-0 >out 2>err &&
	tree_sums $SRC >s1 && tree_sums $TGT >t1 && test_cmp s1 t1 &&
	S=$(snaps rpool subvol-100-disk-0) &&
	case "$S" in __replicate_100-0_*__\ ) ;; *) echo "source snaps: $S"; false ;; esac &&
	test "$(snaps tpool subvol-100-disk-0)" = "$S" &&
	test "$(snaps tpool subvol-100-disk-1)" = "$S" &&
	"$VOLREP" log 100-0 >jl &&
	expect_grep "100-0: start replication job" jl &&
	expect_grep "guest => CT 100, running => 0" jl &&
	expect_grep "volumes => local-zfs:subvol-100-disk-0,local-zfs:subvol-100-disk-1" jl &&
	expect_grep "full sync .local-zfs:subvol-100-disk-0. (__replicate_100-0_" jl &&
	expect_grep "using secure transmission, rate limit: none" jl &&
	expect_grep "successfully imported .local-zfs:subvol-100-disk-1." jl &&
	expect_grep "100-0: end replication job$" jl &&
	test "$(state_field fail_count)" = 0 &&
	test "$(state_field last_sync)" = "$(state_field last_try)"
'

test_expect_success 'second run: incremental, the old snapshot goes on both sides' '
	OLD=$(snaps rpool subvol-100-disk-0) &&
	echo two >>$SRC/small &&
	sleep 1 &&
	"$VOLREP" run --id 100-0 &&
	tree_sums $SRC >s2 && tree_sums $TGT >t2 && test_cmp s2 t2 &&
	NEW=$(snaps rpool subvol-100-disk-0) &&
	test "$NEW" != "$OLD" &&
	test "$(snaps tpool subvol-100-disk-0)" = "$NEW" &&
	"$VOLREP" log 100-0 >jl &&
	expect_grep "incremental sync .local-zfs:subvol-100-disk-0. (${OLD% } => ${NEW% })" jl &&
	expect_grep "delete previous replication snapshot .${OLD% }. on local-zfs:subvol-100-disk-0" jl &&
	expect_grep "on target .[a-z0-9-]*.: delete stale replication snapshot .${OLD% }. on local-zfs:subvol-100-disk-0" jl
'

test_expect_success 'two runs started in the same second both succeed (the second waits a second)' '
	sleep 1 &&
	mkdir -p "$VOLREP_STATE_DIR/lock" &&
	# both runs take their start time now and then queue on the guest
	# lock: the second one starts in the second the first one synced
	{ flock "$VOLREP_STATE_DIR/lock/guest-100.lck" sleep 1 & } &&
	holder=$! &&
	sleep 0.2 &&
	{ "$VOLREP" run --id 100-0 >out1 2>err1 & } &&
	first=$! &&
	"$VOLREP" run --id 100-0 >out2 2>err2 &&
	wait $first && wait $holder &&
	! grep -q "start time before last sync" err1 err2 &&
	test "$(state_field fail_count)" = 0 &&
	"$VOLREP" log 100-0 >jl &&
	expect_grep "100-0: end replication job$" jl
'

test_expect_success 'a failed transfer removes the new snapshot, keeps the base, counts the failure' '
	BASE=$(snaps rpool subvol-100-disk-0) &&
	sleep 1 &&
	VOLREP_REMOTE_BIN=/bin/false run_mustfail 1 "$VOLREP" run --id 100-0 2>err &&
	expect_grep "prepare remote node failed - no result\|failed" err &&
	test "$(snaps rpool subvol-100-disk-0)" = "$BASE" &&
	test "$(state_field fail_count)" = 1 &&
	"$VOLREP" log 100-0 >jl &&
	expect_grep "end replication job with error" jl &&
	"$VOLREP" status >st &&
	expect_grep "100-0 .* 1 " st
'

test_expect_success 'a run after the failure is incremental again and clears the error' '
	BASE=$(snaps rpool subvol-100-disk-0) &&
	sleep 1 &&
	"$VOLREP" run --id 100-0 &&
	"$VOLREP" log 100-0 >jl &&
	expect_grep "incremental sync .local-zfs:subvol-100-disk-0. (${BASE% } =>" jl &&
	test "$(state_field fail_count)" = 0 &&
	! grep -q "\"error\"" "$VOLREP_STATE_DIR/replication-state.json"
'

test_expect_success 'raw 1 on zfs-fuse: refused with one line before any snapshot is made' '
	BASE=$(snaps rpool subvol-100-disk-0) &&
	"$VOLREP" update 100-0 --raw 1 &&
	"$VOLREP" read 100-0 >job &&
	expect_grep "raw" job &&
	sleep 1 &&
	run_mustfail 1 "$VOLREP" run --id 100-0 2>err &&
	expect_grep "job option raw: .local-zfs:subvol-100-disk-0. cannot be sent raw: zfs on .pve1. has no raw sends (zfs send -w)" err &&
	test "$(snaps rpool subvol-100-disk-0)" = "$BASE" &&
	"$VOLREP" update 100-0 --delete raw &&
	! grep -q "raw" "$VOLREP_CONFIG_DIR/replication.cfg" &&
	sleep 1 &&
	"$VOLREP" run --id 100-0 &&
	test "$(state_field fail_count)" = 0
'

test_expect_success 'job 100-1 never touches the snapshots of job 100-10' '
	zfs snapshot rpool/data/subvol-100-disk-0@__replicate_100-10_1000__ &&
	zfs snapshot rpool/data/subvol-100-disk-0@__replicate_100-1_1000__ &&
	sleep 1 &&
	"$VOLREP" run --id 100-0 &&
	snaps rpool subvol-100-disk-0 >s &&
	expect_grep "__replicate_100-10_1000__" s &&
	expect_grep "__replicate_100-1_1000__" s
'

test_expect_success 'a volume on the target without common base is not overwritten' '
	zfs create tpool/data/subvol-100-disk-2 &&
	zfs create rpool/data/subvol-100-disk-2 &&
	echo "mp1: local-zfs:subvol-100-disk-2,mp=/b,size=1G" >>"$VOLREP_CONFIG_DIR/nodes/pve1/lxc/100.conf" &&
	sleep 1 &&
	run_mustfail 1 "$VOLREP" run --id 100-0 2>err &&
	expect_grep "No common base snapshot on volume(s) local-zfs:subvol-100-disk-2" err &&
	zfs_destroy_retry tpool/data/subvol-100-disk-2 &&
	sleep 1 &&
	"$VOLREP" run --id 100-0 &&
	"$VOLREP" log 100-0 >jl &&
	expect_grep "full sync .local-zfs:subvol-100-disk-2." jl
'

test_expect_success 'removing a disk from the guest deletes its replica on the target' '
	grep -v subvol-100-disk-2 "$VOLREP_CONFIG_DIR/nodes/pve1/lxc/100.conf" >c &&
	cp c "$VOLREP_CONFIG_DIR/nodes/pve1/lxc/100.conf" &&
	sleep 1 &&
	"$VOLREP" run --id 100-0 &&
	"$VOLREP" log 100-0 >jl &&
	expect_grep "on target .[a-z0-9-]*.: 100-0: delete stale volume .local-zfs:subvol-100-disk-2." jl &&
	! zfs list tpool/data/subvol-100-disk-2 2>/dev/null
'

test_expect_success 'volrep run (scheduled) runs the due job once and prints nothing' '
	echo "{}" >"$VOLREP_STATE_DIR/replication-state.json" &&
	sleep 1 &&
	"$VOLREP" run >out 2>err &&
	! test -s err &&
	test "$(state_field fail_count)" = 0
'

test_expect_success 'full removal deletes the snapshots here and the volumes there' '
	"$VOLREP" delete 100-0 &&
	cp "$VOLREP_CONFIG_DIR/replication.cfg" "$VOLREP_TARGET_CONFIG_DIR/" &&
	sleep 1 &&
	"$VOLREP" run &&
	! grep -q "100-0" "$VOLREP_CONFIG_DIR/replication.cfg" &&
	test -z "$(snaps rpool subvol-100-disk-0 | tr " " "\n" | grep __replicate_100-0_)" &&
	! zfs list tpool/data/subvol-100-disk-0 2>/dev/null &&
	! zfs list tpool/data/subvol-100-disk-1 2>/dev/null &&
	"$VOLREP" log 100-0 >jl &&
	expect_grep "start job removal - mode .full." jl &&
	expect_grep "job removed" jl &&
	! grep -q "local/pve2" "$VOLREP_STATE_DIR/replication-state.json"
'

test_done
