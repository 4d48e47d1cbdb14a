#!/bin/sh
# A partition of the etcd cluster seen by two namespace nodes with
# storage (zfs-fuse): guest 100 on a, replicated to b by job 100-0. Two of
# the three etcd members stop: config writes and migrate are refused with
# `cluster not quorate: ...` and nothing changes in etcd, `status` and
# `cluster status` say so, and a due job of the guest a owns is still
# replicated by a's daemon, on the last configuration it read. The members
# come back: writes work again, and the daemon's etcd watch, open again,
# sees them.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
. "$TOP/tests/lib/etcd.sh"
e2e_require_engine
etcd_require
VOL=local-zfs:subvol-100-disk-0

etcd_testbed_start
e2e_up 'two nodes with storage and an etcd cluster come up' a b

# cfg_rev: the revision of replication.cfg in etcd
cfg_rev() {
	etcdctl_ get /volrep/replication.cfg -w json | sed -n "s/.*\"mod_revision\":\([0-9]*\).*/\1/p"
}

test_expect_success 'guest 100 on a, in etcd, replicated to b' '
	guest_create a 100 lxc &&
	guest_add_disk a 100 rootfs $VOL 4 &&
	vol_write a $VOL 1 &&
	vr a cluster import "$TB/config" &&
	vr a create-local-job 100-0 b --schedule "*/15" &&
	{ job_run a 100-0 >run.log 2>&1 || { cat run.log; return 1; }; } &&
	assert_synced a b 100-0 $VOL
'

# daemon_bg NODE PIDFILE: the node's daemon in the background, its own pid in PIDFILE
daemon_bg() {
	_h=$(node_pid "$1") || return 1
	# shellcheck disable=SC2046
	sh -c 'echo $$ >"$0"; exec "$@"' "$2" nsenter --mount="/proc/$_h/ns/mnt" -- \
		env $(_tb_env "$1") VOLREP_SSH="$(_tb_volrep_ssh "$1")" volrep daemon &
}
test_when_finished 'kill $(cat "$TRASH/daemon.pid" 2>/dev/null) 2>/dev/null'

test_expect_success 'two of three members stop: writes and migrate refused, nothing changes' '
	vr a list >/dev/null &&
	vr b list >/dev/null &&
	cfg_rev >rev.before &&
	[ -s rev.before ] &&
	etcd_stop_member 2 && etcd_stop_member 3 &&
	run_mustfail 1 vr a update 100-0 --rate 5 2>err &&
	expect_grep "^volrep: cluster not quorate: " err &&
	run_mustfail 1 vr b update 100-0 --comment "from b" 2>err &&
	expect_grep "^volrep: cluster not quorate: " err &&
	run_mustfail 1 vr a migrate 100 b 2>err &&
	expect_grep "cluster not quorate: " err &&
	vr a cluster status >out &&
	expect_grep "^quorate: *no (" out &&
	{ vr a status >out 2>err || :; } &&
	expect_grep "cluster not quorate: using the last configuration read" err &&
	expect_grep "^100-0 " out
'

# The job is made due by schedule-now (node-local state, no cluster
# write); the daemon started now reads the configuration from its cache.
a_synced() {
	test "$(vol_sum a $VOL)" = "$(vol_sum b $VOL)"
}
test_expect_success 'without quorum a due job of the guest a owns is replicated by its daemon' '
	vol_write a $VOL 1 &&
	! a_synced &&
	vr a schedule-now 100-0 &&
	daemon_bg a "$TRASH/daemon.pid" >daemon.log 2>&1 &&
	{ wait_for 60 grep -q "100-0: finished" daemon.log || { cat daemon.log; return 1; }; } &&
	cat daemon.log &&
	expect_grep "cluster not quorate: using the last configuration read" daemon.log &&
	a_synced &&
	assert_synced a b 100-0 $VOL
'

# watch_opened_after N: the daemon's log shows more than N watches opened
watch_opened_after() {
	[ "$(grep -c "etcd watch open on" daemon.log)" -gt "$1" ]
}
test_expect_success 'members back: writes work again, the daemon watch opens and sees them' '
	opens=$(grep -c "etcd watch open on" daemon.log || :) &&
	etcd_start_member 2 && etcd_start_member 3 &&
	etcd_wait_healthy &&
	cfg_rev >rev.after &&
	test_cmp rev.before rev.after &&
	test "$(etcdctl_ get /volrep/nodes/ --prefix --keys-only | grep "/100.conf$")" = /volrep/nodes/a/lxc/100.conf &&
	wait_for 30 watch_opened_after "$opens" &&
	vr a update 100-0 --comment "after the partition" &&
	vr b read 100-0 | grep -q "\"comment\": \"after the partition\"" &&
	wait_for 10 grep -q "woken by the etcd watch" daemon.log &&
	vr b cluster status >out &&
	expect_grep "^quorate: *yes" out &&
	kill -TERM "$(cat "$TRASH/daemon.pid")" &&
	wait_for 30 "! kill -0 $(cat "$TRASH/daemon.pid") 2>/dev/null"
'

test_done
