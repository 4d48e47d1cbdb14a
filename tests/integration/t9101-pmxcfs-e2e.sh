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
. "$TOP/tests/lib/e2e.sh"
. "$TOP/tests/lib/pve.sh"
e2e_require
export TZ=UTC

PVE="$TRASH/etc-pve"
CT=local-zfs:subvol-200-disk-0
PVESNAP=__replicate_200-1_1764633600__
export TB_CLUSTER="pmxcfs://$PVE"
# each node also on $TB_NET.<k+100>: datacenter.cfg's migration network
# is $TB_NET.128/25 (the first addresses are below .128)
export TB_SECOND_ADDR=100
export VOLREP_PVE_LOCK_DIR="$TRASH/lock-pve-manager" VOLREP_PVE_RUN_DIR="$TRASH/run-qemu-server"
export VOLREP_PVE_QEMU_LOCK_DIR="$TRASH/lock-qemu-server" VOLREP_PVE_LXC_LOCK_DIR="$TRASH/lock-lxc"

e2e_up 'two nodes with zfs-fuse come up' a b

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

# datacenter.cfg's replication traffic network (replication:, else
# migration:): the target (b) answers its address in it, the run goes
# there; its sshd saw the connection on that address.
test_expect_success 'datacenter.cfg migration network: the run goes to the target'"'"'s address in it' '
	printf "keyboard: en-us\nmigration: secure,network=%s.128/25\n" "$TB_NET" >"$PVE/datacenter.cfg" &&
	vol_write a $CT 1 &&
	job_run a 200-0 --verbose >out 2>&1 &&
	expect_grep "use dedicated network address for sending replication traffic ($(node_addr2 b))" out &&
	assert_synced a b 200-0 $CT &&
	grep -q "Connection from .* on $(node_addr2 b) port 22" "$TB/nodes/b/sshd.log" &&
	printf "replication: insecure,network=%s.0/25\nmigration: secure,network=%s.128/25\n" "$TB_NET" "$TB_NET" \
		>"$PVE/datacenter.cfg" &&
	vol_write a $CT 1 &&
	job_run a 200-0 --verbose >out 2>&1 &&
	expect_grep "use dedicated network address for sending replication traffic ($(node_addr b))" out &&
	assert_synced a b 200-0 $CT
'

test_expect_success 'a network the target has no address in, a broken datacenter.cfg: the run fails, says why' '
	printf "migration: secure,network=10.99.0.0/24\n" >"$PVE/datacenter.cfg" &&
	run_mustfail 1 job_run a 200-0 2>err &&
	expect_grep "failed to get ip for node .b. in network .10.99.0.0/24. - .*could not get migration ip: no IP address configured on local node for network .10.99.0.0/24." err &&
	printf "keyboard: de\nmigration: secure,network=10.99.0.0/99\n" >"$PVE/datacenter.cfg" &&
	run_mustfail 1 job_run a 200-0 2>err &&
	expect_grep "$PVE/datacenter.cfg:2: invalid migration value .secure,network=10.99.0.0/99." err &&
	rm "$PVE/datacenter.cfg"
'

# A running VM (tests/lib/pve.sh: pid file and guest agent as qemu-server
# leaves them) with agent: 1: frozen right before the replication
# snapshot, thawed right after it. The agent lists the disk's snapshots
# at each: none at the freeze, this run's at the thaw.
VM=local-btrfs:400/vm-400-disk-0.raw
test_expect_success 'a running VM with agent: 1 is frozen for the snapshot and thawed after it' '
	guest_create a 400 qemu &&
	guest_add_disk a 400 scsi0 $VM 64 &&
	echo "agent: 1" >>"$(guest_conf a 400)" &&
	vol_write a $VM 2 &&
	PVE_VM_LAUNCH="node_exec a" pve_fake_vm "$VOLREP_PVE_RUN_DIR" 400 /mnt/btrfs/images/400 &&
	vr a create-local-job 400-0 b &&
	job_run a 400-0 --verbose >out 2>&1 &&
	assert_synced a b 400-0 $VM &&
	expect_grep "guest => VM 400, running => 1" out &&
	sed -n "s/^.*400-0: //p" out | grep -x "freeze guest filesystem\|create snapshot.*\|thaw guest filesystem" |
		tr -d "\047" >order &&
	printf "%s\n" "freeze guest filesystem" "create snapshot __replicate_400-0_$(job_field a 400-0 last_sync)__ on $VM" \
		"thaw guest filesystem" >order.expect &&
	test_cmp order.expect order &&
	printf "%s\n" guest-ping guest-fsfreeze-status guest-fsfreeze-freeze "freeze snapshots: -" guest-fsfreeze-thaw \
		"thaw snapshots: vm-400-disk-0@__replicate_400-0_$(job_field a 400-0 last_sync)__" >agent.expect &&
	test_cmp agent.expect "$VOLREP_PVE_RUN_DIR/400.qga.log"
'

test_expect_success 'freeze-fs=0 (or a stopped VM): no freeze, the agent is not asked' '
	sed -i "s/^agent: 1\$/agent: 1,freeze-fs=0/" "$(guest_conf a 400)" &&
	: >"$VOLREP_PVE_RUN_DIR/400.qga.log" &&
	vol_write a $VM 1 &&
	job_run a 400-0 --verbose >out 2>&1 &&
	expect_grep "skipping guest filesystem freeze - disabled in VM options" out &&
	! grep -q "freeze guest filesystem" out &&
	test ! -s "$VOLREP_PVE_RUN_DIR/400.qga.log" &&
	sed -i "s/^agent: .*/agent: 1/" "$(guest_conf a 400)" &&
	pve_fake_vm_stop "$VOLREP_PVE_RUN_DIR" 400 &&
	vol_write a $VM 1 &&
	job_run a 400-0 --verbose >out 2>&1 &&
	expect_grep "guest => VM 400, running => 0" out &&
	! grep -q "freeze" out &&
	test ! -s "$VOLREP_PVE_RUN_DIR/400.qga.log" &&
	assert_synced a b 400-0 $VM
'

# failover (forced: node a still answers here): the rollback on b takes
# PVE's migration lock there; a lock: PVE's HA recovery removes after
# fencing is removed from the moved config.
test_expect_success 'failover: PVE'"'"'s migration lock on the new owner held - refused, nothing moved' '
	mkdir -p "$VOLREP_PVE_LOCK_DIR" &&
	rc=0 &&
	{ ( flock 9 && vr b failover 400 --force >out 2>err ) 9>"$VOLREP_PVE_LOCK_DIR/pve-migrate-400" || rc=$?; } &&
	test "$rc" = 1 &&
	expect_grep "rollback on .b. failed, the guest stays on .a.: can.t lock file .$VOLREP_PVE_LOCK_DIR/pve-migrate-400. - got timeout" err &&
	test -f "$(guest_conf a 400)"
'

test_expect_success 'failover: a leftover lock: backup of the dead node is removed after the move' '
	sed -i "1i lock: backup" "$(guest_conf a 400)" &&
	vr b failover 400 --force >out &&
	expect_grep "has the leftover lock .backup. of node .a.: removed after the move" out &&
	expect_grep "guest 400 now lives on .b." out &&
	expect_grep "removed leftover lock .backup. from guest 400" out &&
	test -f "$PVE/nodes/b/qemu-server/400.conf" &&
	! grep -q "^lock:" "$PVE/nodes/b/qemu-server/400.conf" &&
	expect_grep "^agent: 1" "$PVE/nodes/b/qemu-server/400.conf"
'

test_done
