#!/bin/sh
# Retention on the target (a job's "keep N", pve-zsync's --dest-maxsnap)
# on two namespace nodes with zfs-fuse: after 4 runs with keep 2 the target
# holds the job's newest 3 snapshots (the last sync and 2 restore points)
# and the source 1; they are listed by replica-snapshots and failover
# --snapshot rolls the replica back to an older one, whose data it then
# has. keep 0 (deleting the key) goes back to pvesr's single snapshot.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require_engine

CT=local-zfs:subvol-200-disk-0

e2e_up 'two nodes with zfs-fuse and sshd come up' a b

# count NODE: the job's replication snapshots of $CT on NODE
count() {
	repl_snaps "$1" $CT 200-0 | wc -l
}

test_expect_success 'create-local-job --keep 2; bad values refused' '
	mkdir -p "$TB/config/hooks" &&
	printf "#!/bin/sh\necho \"\$VOLREP_NODE \$*\" >>\"$TB/hook.calls\"\n[ \"\$1\" = status ] && exit 3\nexit 0\n" \
		>"$TB/config/hooks/lxc" &&
	chmod +x "$TB/config/hooks/lxc" &&
	guest_create a 200 lxc &&
	guest_add_disk a 200 rootfs $CT 64 &&
	vol_write a $CT 1 &&
	run_mustfail 2 vr a create-local-job 200-0 b --keep 101 2>err &&
	expect_grep "invalid keep .101." err &&
	run_mustfail 2 vr a create-local-job 200-0 b --keep x 2>err &&
	{ ! test -e "$TB/config/replication.cfg" || ! grep -q 200-0 "$TB/config/replication.cfg"; } &&
	vr a create-local-job 200-0 b --keep 2 >/dev/null
'

test_expect_success '4 runs with keep 2: the target has 3 of the job'"'"'s snapshots, the source 1' '
	expect_grep "^	keep 2$" "$TB/config/replication.cfg" &&
	for i in 1 2 3 4; do
		vol_write a $CT 1 &&
		vol_sum a $CT >"$TB/sum.$i" &&
		{ job_run a 200-0 || { vr a log 200-0; return 1; }; } &&
		test "$(vol_sum b $CT)" = "$(cat "$TB/sum.$i")" || return 1
		repl_snaps a $CT 200-0 >"$TB/snap.$i" || return 1
	done &&
	test "$(count a)" = 1 &&
	test "$(count b)" = 3 &&
	repl_snaps b $CT 200-0 >on-b &&
	cat "$TB/snap.2" "$TB/snap.3" "$TB/snap.4" >want &&
	test_cmp want on-b &&
	vr a log 200-0 >log &&
	expect_grep "incremental sync .$CT. ($(cat "$TB/snap.3") => $(cat "$TB/snap.4"))" log
'

test_expect_success 'replica-snapshots lists the restore points' '
	node_exec b volrep replica-snapshots 200 $CT >out &&
	cat out &&
	for i in 2 3 4; do
		grep -q "$(cat "$TB/snap.$i")" out || return 1
	done
'

test_expect_success 'failover --snapshot: a name that no replica has, or no replication snapshot, refused' '
	run_mustfail 2 vr b failover 200 --force --snapshot nosnap 2>err &&
	expect_grep "invalid snapshot .nosnap." err &&
	run_mustfail 1 vr b failover 200 --force --dry-run --snapshot "$(cat "$TB/snap.1")" 2>err &&
	expect_grep "has snapshot .$(cat "$TB/snap.1"). on every volume" err
'

test_expect_success 'failover --snapshot to an older restore point: its data on b' '
	vr b failover 200 --force --dry-run --snapshot "$(cat "$TB/snap.2")" >out &&
	cat out &&
	expect_grep "$(cat "$TB/snap.2")  <- chosen" out &&
	vr b failover 200 --force --snapshot "$(cat "$TB/snap.2")" >out &&
	cat out &&
	expect_grep "rollback .$CT. to .$(cat "$TB/snap.2").$" out &&
	expect_grep "^guest 200 now lives on .b.$" out &&
	test "$(vol_sum b $CT)" = "$(cat "$TB/sum.2")"
'

test_done
