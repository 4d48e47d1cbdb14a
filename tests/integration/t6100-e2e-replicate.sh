#!/bin/sh
# End to end on three namespace nodes with zfs-fuse and btrfs: full then
# incremental replication of a VM disk on btrfs, a container on ZFS, a
# container with volumes on both storages, one guest to two targets; data
# equal after every sync, only the newest replication snapshot left on
# each side; list/status/log as a user reads them; removal in both modes.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require_engine

VM=local-btrfs:100/vm-100-disk-0.raw
CT=local-zfs:subvol-200-disk-0
MIX0=local-zfs:subvol-300-disk-0
MIX1=local-btrfs:300/subvol-300-disk-1

e2e_up --check '
	for n in a b c; do
		node_exec $n zfs list -H -o name rpool/data &&
		node_exec $n btrfs filesystem df /mnt/btrfs >/dev/null || return 1
	done' 'three nodes with zfs-fuse, btrfs and sshd come up' a b c

test_expect_success 'guests: VM 100 on btrfs, CT 200 on ZFS, CT 300 on both' '
	guest_create a 100 qemu &&
	guest_add_disk a 100 scsi0 $VM 64 &&
	vol_write a $VM 6 &&
	vol_write a $VM 2 40 &&
	guest_create a 200 lxc &&
	guest_add_disk a 200 rootfs $CT 64 &&
	vol_write a $CT 3 &&
	vol_write a $CT 1 &&
	guest_create a 300 lxc &&
	guest_add_disk a 300 rootfs $MIX0 64 &&
	guest_add_disk a 300 mp0 $MIX1 64 mp=/srv/data &&
	vol_write a $MIX0 2 &&
	vol_write a $MIX1 2 &&
	! vol_exists b $VM && ! vol_exists b $CT
'

test_expect_success 'create-local-job, list' '
	vr a create-local-job 100-0 b --schedule "*/5" &&
	vr a create-local-job 200-0 b &&
	vr a create-local-job 200-1 c --rate 50 --comment "second copy" &&
	vr a create-local-job 300-0 b &&
	vr a list >out &&
	cat out &&
	expect_grep "^100-0 *local/b *\*/5 *- *yes$" out &&
	expect_grep "^200-1 *local/c *\*/15 *50 *yes$" out &&
	test "$(wc -l <out)" = 5
'

test_expect_success 'status before the first run: never synced, due at once' '
	vr a status --output-format pvesr >out &&
	cat out &&
	expect_grep "^JobID *Enabled *Target *LastSync *NextSync *Duration *FailCount *State" out &&
	expect_grep "^100-0 *Yes *local/b *- *pending *- *0 OK$" out
'

test_expect_success 'VM disk on btrfs: full sync' '
	job_run a 100-0 >out 2>&1 &&
	cat out &&
	vr a log 100-0 >log &&
	cat log &&
	expect_grep "^[0-9-]* [0-9:]* 100-0: start replication job$" log &&
	expect_grep "100-0: guest => VM 100, running => 0$" log &&
	expect_grep "100-0: volumes => $VM$" log &&
	expect_grep "100-0: create snapshot .__replicate_100-0_[0-9]*__. on $VM$" log &&
	expect_grep "100-0: full sync .$VM. (__replicate_100-0_[0-9]*__)$" log &&
	expect_grep "100-0: end replication job$" log &&
	assert_synced a b 100-0 $VM &&
	test "$(job_field a 100-0 fail_count)" = 0
'

test_expect_success 'VM disk on btrfs: incremental sync of new data' '
	old=$(repl_snaps a $VM 100-0) &&
	vol_write a $VM 3 10 &&
	job_run a 100-0 &&
	vr a log 100-0 >log &&
	cat log &&
	new=$(repl_snaps a $VM 100-0) &&
	test "$old" != "$new" &&
	expect_grep "100-0: incremental sync .$VM. ($old => $new)$" log &&
	expect_grep "100-0: delete previous replication snapshot .$old. on $VM$" log &&
	! grep "full sync" log &&
	assert_synced a b 100-0 $VM
'

test_expect_success 'VM disk on btrfs: a run without changes' '
	sum=$(vol_sum b $VM) &&
	job_run a 100-0 &&
	vr a log 100-0 >log &&
	expect_grep "incremental sync" log &&
	assert_synced a b 100-0 $VM &&
	test "$(vol_sum b $VM)" = "$sum"
'

test_expect_success 'container on ZFS: full, then incremental with a deleted file' '
	job_run a 200-0 &&
	vr a log 200-0 >log &&
	expect_grep "200-0: guest => CT 200, running => 0$" log &&
	expect_grep "200-0: full sync .$CT." log &&
	assert_synced a b 200-0 $CT &&
	dir=$(vol_dir a $CT) &&
	node_exec a sh -c "rm \"$dir\"/data-* && echo hello >\"$dir\"/hello && mkdir -p \"$dir\"/etc && echo x >\"$dir\"/etc/conf" &&
	vol_write a $CT 2 &&
	job_run a 200-0 &&
	vr a log 200-0 >log &&
	cat log &&
	expect_grep "200-0: incremental sync .$CT." log &&
	assert_synced a b 200-0 $CT &&
	node_exec b cat "$(vol_dir b $CT)/hello" >out &&
	echo hello >expect && test_cmp expect out
'

test_expect_success 'a guest with volumes on both storages' '
	job_run a 300-0 &&
	vr a log 300-0 >log &&
	cat log &&
	expect_grep "300-0: volumes => $MIX1,$MIX0$" log &&
	expect_grep "full sync .$MIX0." log &&
	expect_grep "full sync .$MIX1." log &&
	assert_synced a b 300-0 $MIX0 $MIX1 &&
	vol_write a $MIX0 1 && vol_write a $MIX1 1 &&
	job_run a 300-0 &&
	vr a log 300-0 >log &&
	expect_grep "incremental sync .$MIX0." log &&
	expect_grep "incremental sync .$MIX1." log &&
	assert_synced a b 300-0 $MIX0 $MIX1
'

# A ZFS incremental stream is "zfs send -R -I base snap", as Proxmox's:
# it carries the snapshots taken in between, those of the other job too.
# A target may thus hold one snapshot of the other job (the next receive,
# with -F, drops it once the source no longer has it); never more.
other_job_snaps() { # TARGET OTHER-JOB
	repl_snaps $1 $CT $2 >other &&
	test "$(wc -l <other)" -le 1
}

test_expect_success 'one guest, two targets: each job keeps its own snapshot' '
	job_run a 200-1 &&
	vr a log 200-1 >log &&
	cat log &&
	expect_grep "200-1: full sync .$CT." log &&
	expect_grep "rate limit: 50 MByte/s" log &&
	assert_synced a c 200-1 $CT &&
	assert_synced a b 200-0 $CT &&
	vol_write a $CT 1 &&
	job_run a 200-0 && job_run a 200-1 &&
	assert_synced a b 200-0 $CT &&
	assert_synced a c 200-1 $CT &&
	repl_snaps a $CT "200-[01]" >snaps && cat snaps &&
	test "$(wc -l <snaps)" = 2 &&
	other_job_snaps b 200-1 && other_job_snaps c 200-0
'

# Each job seen at the second of its last try (VOLREP_NOW): its next sync
# is then a time, whatever the clock says now (at the real time a */5
# event may have passed since, and the job shows "pending").
test_expect_success 'status after the syncs' '
	vr a status --output-format pvesr >out &&
	cat out &&
	for id in 100-0 200-0 200-1 300-0; do
		VOLREP_NOW=$(job_field a $id last_try) vr a status --output-format pvesr >out.$id &&
		expect_grep "^$id *Yes *local/[bc] *[0-9-]*_[0-9:]* *[0-9-]*_[0-9:]* *[0-9.]* *0 OK$" out.$id || return 1
	done &&
	vr a status --guest 200 --output-format json >json &&
	test "$(jq length json)" = 2 &&
	test "$(jq -r ".[0].vmtype" json)" = lxc &&
	jq -e ".[] | select(.id == \"200-1\") | .last_sync > 0 and .fail_count == 0 and .rate == 50" json
'

test_expect_success 'delete (full): marked, then the next run removes target volumes and snapshots' '
	vr a delete 100-0 2>err &&
	cat err &&
	expect_grep "background task" err &&
	vr a list >out && cat out &&
	vr a read 100-0 >json &&
	test "$(jq -r .remove_job json)" = full &&
	job_run a 100-0 &&
	vr a log 100-0 >log &&
	cat log &&
	expect_grep "100-0: start job removal - mode .full.$" log &&
	expect_grep "100-0: job removed$" log &&
	! vol_exists b $VM &&
	vol_exists a $VM &&
	test -z "$(repl_snaps a $VM 100-0)" &&
	vr a list >out &&
	! grep "^100-0 " out &&
	test "$(jq "has(\"100\")" "$TB/nodes/a/state/replication-state.json")" = false
'

test_expect_success 'delete --keep (local): the scheduler removes it, the target keeps its copy' '
	sum=$(vol_sum c $CT) &&
	tsnap=$(repl_snaps c $CT 200-1) &&
	vr a delete 200-1 --keep 2>err &&
	test "$(vr a read 200-1 | jq -r .remove_job)" = local &&
	vr a status >out && cat out &&
	expect_grep "^200-1 .* pending " out &&
	jobs_run_due a &&
	vr a log 200-1 >log &&
	cat log &&
	expect_grep "200-1: start job removal - mode .local.$" log &&
	expect_grep "200-1: job removed$" log &&
	test "$(vol_sum c $CT)" = "$sum" &&
	test "$(repl_snaps c $CT 200-1)" = "$tsnap" &&
	test -z "$(repl_snaps a $CT 200-1)" &&
	test -n "$(repl_snaps a $CT 200-0)" &&
	! vr a read 200-1 2>/dev/null &&
	assert_synced a b 200-0 $CT
'

test_expect_success 'teardown leaves no process, mount or loop device behind' '
	testbed_teardown &&
	e2e_leftovers "$TB_LAST" >left &&
	test_cmp /dev/null left
'

test_done
