#!/bin/sh
# volrep failover on three namespace nodes (zfs-fuse): guest 100 on a is
# replicated to b and (later, so fresher) to c; a's sshd dies and its
# storage freezes. Failover is refused while a answers, plans without
# changing anything (--dry-run), picks the freshest complete replica (c),
# rolls it back to that snapshot, moves the config, rewrites the jobs and
# starts the guest through the hook on c. When a comes back it runs
# nothing for the guest and its stale copy is resynced from c.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require_engine

CT=local-zfs:subvol-100-disk-0

e2e_up 'three nodes with storage come up' a b c

fingerprint() {
	{
		sha256sum "$TB/config/replication.cfg"
		find "$TB/config/nodes" -name "*.conf" | sort
		for n in b c; do
			cat "$TB/nodes/$n/state/replication-state.json" 2>/dev/null
			echo
			vol_snaps $n $CT
			vol_sum $n $CT
		done
	}
}

# the node comes back even when a test failed half-way
test_when_finished 'kill -CONT $(zfs_fuse_pid a 2>/dev/null) 2>/dev/null'

test_expect_success 'guest 100 on a: job to b, then (fresher) job to c; more writes on a' '
	mkdir -p "$TB/config/hooks" &&
	printf "#!/bin/sh\necho \"\$VOLREP_NODE \$*\" >>\"$TB/hook.calls\"\n[ \"\$1\" = status ] && exit 3\nexit 0\n" \
		>"$TB/config/hooks/lxc" &&
	chmod +x "$TB/config/hooks/lxc" &&
	guest_create a 100 lxc &&
	guest_add_disk a 100 rootfs $CT 64 &&
	vol_write a $CT 6 &&
	vr a create-local-job 100-0 b &&
	vr a create-local-job 100-1 c &&
	job_run a 100-0 &&
	vol_write a $CT 2 &&
	job_run a 100-1 &&
	assert_synced a c 100-1 $CT &&
	vol_sum c $CT >"$TB/sum.c" &&
	test "$(vol_sum b $CT)" != "$(cat "$TB/sum.c")" &&
	vol_write a $CT 1 &&
	vol_sum a $CT >"$TB/sum.a"
'

test_expect_success 'refused while the guest'"'"'s node still answers (exit 1, nothing changed)' '
	fingerprint >before &&
	run_mustfail 1 vr b failover 100 2>err &&
	expect_grep "node .a. of guest 100 still answers on ssh - refusing" err &&
	run_mustfail 2 vr b failover 999 2>err && expect_grep "no such guest .999." err &&
	run_mustfail 2 vr b failover 100 --to nosuch 2>err && expect_grep "no such cluster node .nosuch." err &&
	run_mustfail 2 vr b failover 100 --to a 2>err && expect_grep "already lives on .a." err &&
	run_mustfail 2 vr a failover 100 2>err && expect_grep "lives on this node" err &&
	fingerprint >after &&
	test_cmp before after &&
	! test -e "$TB/hook.calls"
'

# proc_state PID: the state letter of a process (T: stopped)
proc_state() { sed "s/^.*) \(.\).*/\1/" "/proc/$1/stat"; }

test_expect_success 'node a dies: sshd gone, storage frozen' '
	node_sshd_stop a &&
	pid=$(zfs_fuse_pid a) &&
	kill -STOP "$pid" &&
	wait_for 30 "[ \"\$(proc_state $pid)\" = T ]" &&
	run_mustfail 255 node_exec b ssh -o ConnectTimeout=2 -o BatchMode=yes "$(node_addr a)" true 2>/dev/null
'

test_expect_success '--dry-run: the plan (freshest replica c, data-loss window), nothing changed' '
	fingerprint >before &&
	vr b failover 100 --dry-run >out &&
	cat out &&
	expect_grep "node .a. does not answer" out &&
	expect_grep "^  b  .*__replicate_100-0_[0-9]*__$" out &&
	expect_grep "^  c  .*__replicate_100-1_[0-9]*__  <- chosen$" out &&
	expect_grep "^data-loss window: everything written on .a. after .* s ago) is lost$" out &&
	expect_grep "^dry run: nothing changed$" out &&
	vr b failover 100 --dry-run --to b >out &&
	expect_grep "^  b  .*<- chosen$" out &&
	fingerprint >after &&
	test_cmp before after &&
	! test -e "$TB/hook.calls"
'

test_expect_success 'failover: c rolled back to its snapshot, config moved, jobs rewritten, started' '
	vol_write c $CT 1 &&
	vr b failover 100 >out &&
	cat out &&
	expect_grep "^  rollback .$CT. to .__replicate_100-1_[0-9]*__.$" out &&
	expect_grep "^guest 100 now lives on .c.$" out &&
	expect_grep "^job 100-0: c -> b$" out &&
	expect_grep "^job 100-1: c -> a (resynced from the new owner when it is back)$" out &&
	expect_grep "^guest 100 started on .c.$" out &&
	test -f "$TB/config/nodes/c/lxc/100.conf" &&
	! test -e "$TB/config/nodes/a/lxc/100.conf" &&
	test "$(job_dir b 100-0)" = "c b" &&
	test "$(job_dir b 100-1)" = "c a" &&
	test "$(vol_sum c $CT)" = "$(cat "$TB/sum.c")" &&
	test "$(cat "$TB/hook.calls")" = "c start 100"
'

# the first run of a job after a failover starts without a state
# (last_sync 0): it deletes no snapshot it cannot prove stale, the next
# one cleans up
test_expect_success 'the new owner replicates to b incrementally' '
	vol_write c $CT 1 &&
	job_run c 100-0 &&
	vr c log 100-0 >log &&
	cat log &&
	expect_grep "incremental sync .$CT." log &&
	! grep "delete previous replication snapshot" log &&
	test "$(vol_sum b $CT)" = "$(vol_sum c $CT)" &&
	job_run c 100-0 &&
	assert_synced c b 100-0 $CT
'

test_expect_success 'node a returns: its run does nothing to the guest, its copy is resynced from c' '
	kill -CONT "$(zfs_fuse_pid a)" &&
	node_sshd_start a &&
	sum=$(vol_sum c $CT) &&
	vr a run >out 2>&1 &&
	cat out &&
	test "$(vol_sum a $CT)" = "$(cat "$TB/sum.a")" &&
	test "$(vol_sum c $CT)" = "$sum" &&
	test "$(jq "has(\"100\")" "$TB/nodes/a/state/replication-state.json")" = false &&
	vr a status >st && ! grep "^100-" st &&
	job_run c 100-1 &&
	vr c log 100-1 >log &&
	cat log &&
	expect_grep "incremental sync .$CT." log &&
	test "$(vol_sum a $CT)" = "$sum" &&
	job_run c 100-1 &&
	assert_synced c a 100-1 $CT &&
	test "$(vol_sum c $CT)" = "$sum"
'

test_done
