#!/bin/sh
# The pmxcfs store end to end, on two namespace nodes with zfs-fuse: both
# read one fake /etc/pve (as pmxcfs shows every node the same tree), the
# target's address comes from .members, a CT is replicated full then
# incremental, and a pvesr job that appears later for the same guest
# gets a warning while its snapshot on the very same dataset survives
# every volrep run untouched (same guid), as do pvesr's files; a guest
# taken over from pvesr (job deleted without cleanup, same id in volrep)
# goes on incrementally.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/testbed.sh"
. "$TOP/tests/lib/storage.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require
export TZ=UTC

PVE="$TRASH/etc-pve"
CT=local-zfs:subvol-200-disk-0
PVESNAP=__replicate_200-1_1764633600__
export TB_CLUSTER="pmxcfs://$PVE"
export VOLREP_PVE_LOCK_DIR="$TRASH/lock-pve-manager"

e2e_start a b >"$TRASH/start.log" 2>&1
echo $? >"$TRASH/start.rc"
test_expect_success 'two nodes with zfs-fuse come up' '
	cat "$TRASH/start.log" &&
	test "$(cat "$TRASH/start.rc")" = 0
'
[ "$(cat "$TRASH/start.rc")" = 0 ] || { test_done; exit 1; }

test_expect_success 'a fake /etc/pve: .members with the nodes'"'"' addresses, storage.cfg, a CT' '
	mkdir -p "$PVE/priv/lock" &&
	ln -s "$TB/config/nodes" "$PVE/nodes" &&
	cp "$TB/config/storage.cfg" "$PVE/storage.cfg" &&
	rm "$TB/config/nodes.cfg" &&
	printf "{\"nodename\": \"a\", \"version\": 4, \"cluster\": {\"name\": \"tb\", \"version\": 2, \"nodes\": 2, \"quorate\": 1}, \"nodelist\": {\"a\": {\"id\": 1, \"online\": 1, \"ip\": \"%s\"}, \"b\": {\"id\": 2, \"online\": 1, \"ip\": \"%s\"}}}\n" \
		"$(node_addr a)" "$(node_addr b)" >"$PVE/.members" &&
	: >"$PVE/replication.cfg" &&
	guest_create a 200 lxc &&
	guest_add_disk a 200 rootfs $CT 64 &&
	vol_write a $CT 3 &&
	vr a cluster status >out &&
	expect_grep "^store: *pmxcfs" out &&
	expect_grep "b *online" out
'

test_expect_success 'create-local-job, a full then an incremental sync' '
	vr a create-local-job 200-0 b &&
	expect_grep "^local: 200-0" "$PVE/volrep/replication.cfg" &&
	job_run a 200-0 &&
	assert_synced a b 200-0 $CT &&
	vol_write a $CT 1 &&
	job_run a 200-0 --verbose >out 2>&1 &&
	expect_grep "incremental sync .$CT." out &&
	assert_synced a b 200-0 $CT
'

test_expect_success 'a pvesr job appears for the same guest: warned, its snapshot never touched' '
	printf "local: 200-1\n\ttarget b\n\tschedule */15\n\n" >"$PVE/replication.cfg" &&
	vol_snap a $CT $PVESNAP &&
	_vol_parse $CT &&
	node_exec a zfs get -H -o value guid "$_vpath@$PVESNAP" >guid.before &&
	(cd "$PVE" && sha256sum replication.cfg storage.cfg .members) >sums.before &&
	vr a status 2>err &&
	expect_grep "guest .200. has volrep job .200-0. and pvesr job .200-1." err &&
	vol_write a $CT 1 &&
	job_run a 200-0 &&
	assert_synced a b 200-0 $CT &&
	job_run a 200-0 &&
	node_exec a zfs get -H -o value guid "$_vpath@$PVESNAP" >guid.after &&
	test_cmp guid.before guid.after &&
	vol_snaps a $CT >snaps &&
	expect_grep "^$PVESNAP\$" snaps &&
	(cd "$PVE" && sha256sum replication.cfg storage.cfg .members) >sums.after &&
	test_cmp sums.before sums.after
'

# pvesr's job here is played by volrep's own snapshots: the same names,
# left behind by a job deleted without cleanup (as pvesr delete --force
# leaves them)
CT3=local-zfs:subvol-300-disk-0
test_expect_success 'taking a guest over from pvesr: refused first, then incremental' '
	guest_create a 300 lxc &&
	guest_add_disk a 300 rootfs $CT3 64 &&
	vol_write a $CT3 2 &&
	vr a create-local-job 300-0 b &&
	job_run a 300-0 &&
	assert_synced a b 300-0 $CT3 &&
	vr a delete 300-0 --force &&
	repl_snaps a $CT3 300-0 >left &&
	test "$(wc -l <left)" = 1 &&
	printf "local: 300-0\n\ttarget b\n\tschedule */15\n\n" >>"$PVE/replication.cfg" &&
	run_mustfail 2 vr a create-local-job 300-0 b 2>err &&
	expect_grep "guest .300. is replicated by pvesr job .300-0." err &&
	sed -i "/^local: 300-0/,/^\$/d" "$PVE/replication.cfg" &&
	vr a create-local-job 300-0 b &&
	vol_write a $CT3 1 &&
	job_run a 300-0 --verbose >out 2>&1 &&
	expect_grep "incremental sync .$CT3. (__replicate_300-0_[0-9]*__ =>" out &&
	! grep -q "full sync" out &&
	assert_synced a b 300-0 $CT3
'

test_done
