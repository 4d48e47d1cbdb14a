#!/bin/sh
# volrep migrate on three namespace nodes (zfs-fuse): every refusal leaves
# everything as it was; a delta migration to the replica sends only what
# changed since the last sync and reverses the job; a migration to a node
# without a replica copies in full and the jobs continue incrementally; with
# jobs to two nodes, migrating to one of them gives new-owner -> old owner
# and new-owner -> third node, both incremental.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require_engine

CT=local-zfs:subvol-100-disk-0

e2e_up 'three nodes with storage come up' a b c

# migrate NODE ARGS...: volrep migrate on NODE, in a second of its own
# (as job_run: snapshot names hold the start second)
migrate() {
	_mn=$1; shift
	_last=$(cat "$TB/last-run" 2>/dev/null || echo 0)
	while [ "$(date +%s)" -le "$_last" ]; do sleep 0.05; done
	_mrc=0
	vr "$_mn" migrate "$@" || _mrc=$?
	# the second it ended: on a loaded machine it may have started later
	# than it was called
	date +%s >"$TB/last-run"
	return $_mrc
}

# fingerprint: what a refused migration must leave alone
fingerprint() {
	{
		sha256sum "$TB/config/replication.cfg"
		find "$TB/config/nodes" -name "*.conf" | sort
		for n in a b c; do
			cat "$TB/nodes/$n/state/replication-state.json" 2>/dev/null
			echo
			vol_snaps $n $CT 2>/dev/null
		done
	}
}

test_expect_success 'guest 100 (container on ZFS) on a, replicated to b' '
	guest_create a 100 lxc &&
	guest_add_disk a 100 rootfs $CT 64 &&
	vol_write a $CT 8 &&
	guest_create a 101 lxc &&
	guest_add_disk a 101 rootfs local-zfs:subvol-101-disk-0 16 &&
	vr a create-local-job 100-0 b &&
	vr a create-local-job 101-0 b &&
	vr a delete 101-0 2>/dev/null &&
	job_run a 100-0 &&
	assert_synced a b 100-0 $CT
'

test_expect_success 'refusals: exit 2 and one line naming the problem' '
	fingerprint >before &&
	run_mustfail 2 vr a migrate 100 a 2>err && expect_grep "target .a. is the local node" err &&
	run_mustfail 2 vr a migrate 100 nosuch 2>err && expect_grep "no such cluster node .nosuch." err &&
	run_mustfail 2 vr b migrate 100 c 2>err && expect_grep "guest .100. is not on local node .b." err &&
	run_mustfail 2 vr a migrate 999 b 2>err && expect_grep "no such guest .999." err &&
	run_mustfail 2 vr a migrate 100 b --online 1 2>err && expect_grep "online migration is not supported" err &&
	run_mustfail 2 vr a migrate 10x b 2>err && expect_grep "invalid guest id .10x." err &&
	run_mustfail 2 vr a migrate 100 "b;x" 2>err && expect_grep "invalid node name" err &&
	run_mustfail 2 vr a migrate 100 2>err && expect_grep "missing argument .target." err &&
	run_mustfail 2 vr a migrate 101 b 2>err &&
	expect_grep "refusing to migrate replicated VM whose replication job is marked for removal" err &&
	fingerprint >after &&
	test_cmp before after
'

test_expect_success 'refusal: a running guest (the hook says so) is not moved' '
	mkdir -p "$TB/config/hooks" &&
	printf "#!/bin/sh\necho \"\$@\" >>\"$TB/hook.calls\"\n[ \"\$1\" = status ] && exit 0\nexit 0\n" \
		>"$TB/config/hooks/lxc" &&
	chmod +x "$TB/config/hooks/lxc" &&
	fingerprint >before &&
	run_mustfail 1 vr a migrate 100 b 2>err &&
	expect_grep "guest .100. is running - stop it first" err &&
	expect_grep "^status 100$" "$TB/hook.calls" &&
	printf "#!/bin/sh\nexit 7\n" >"$TB/config/hooks/lxc" &&
	run_mustfail 1 vr a migrate 100 b 2>err &&
	expect_grep "hook .*/hooks/lxc. status 100 failed (exit code 7)" err &&
	rm -f "$TB/config/hooks/lxc" &&
	fingerprint >after &&
	test_cmp before after
'

test_expect_success 'delta migration a -> b: only the change is sent, the job is reversed' '
	vol_write a $CT 1 &&
	sum=$(vol_sum a $CT) &&
	migrate a 100 b >out 2>&1 &&
	cat out &&
	expect_grep "^migrated guest 100 from .a. to .b.$" out &&
	expect_grep "^final sync: job 100-0, 1 volume, " out &&
	expect_grep "^job 100-0: now b -> a$" out &&
	bytes=$(sed -n "s/.* \([0-9]*\) bytes .*/\1/p" out) &&
	echo "sent $bytes bytes" &&
	test "$bytes" -gt 1000000 && test "$bytes" -lt 3000000 &&
	test -f "$TB/config/nodes/b/lxc/100.conf" &&
	! test -e "$TB/config/nodes/a/lxc/100.conf" &&
	test "$(job_dir a 100-0)" = "b a" &&
	test "$(vol_sum b $CT)" = "$sum" &&
	test "$(vol_sum a $CT)" = "$sum" &&
	test "$(jq "has(\"100\")" "$TB/nodes/a/state/replication-state.json")" = false &&
	jq -e ".\"100\".\"local/a\".last_sync > 0" "$TB/nodes/b/state/replication-state.json"
'

test_expect_success 'the reversed job b -> a runs incrementally' '
	vol_write b $CT 1 &&
	job_run b 100-0 &&
	vr b log 100-0 >log &&
	cat log &&
	expect_grep "incremental sync .$CT." log &&
	! grep "full sync" log &&
	assert_synced b a 100-0 $CT
'

test_expect_success 'migration to a node without a replica (b -> c): full copy, jobs continue' '
	sum=$(vol_sum b $CT) &&
	migrate b 100 c >out 2>&1 &&
	cat out &&
	expect_grep "^final sync: full copy of 1 volume" out &&
	expect_grep "^job 100-0: now c -> a$" out &&
	bytes=$(sed -n "s/.* \([0-9]*\) bytes .*/\1/p" out) &&
	test "$bytes" -gt 9000000 &&
	test -f "$TB/config/nodes/c/lxc/100.conf" &&
	test "$(vol_sum c $CT)" = "$sum" &&
	test "$(job_dir a 100-0)" = "c a" &&
	vr a list >list && ! grep -v "^100-0 \|^101-0 \|^JobID" list &&
	test -z "$(vol_snaps c $CT | grep -v "^__replicate_100-0_")" &&
	test -z "$(vol_snaps b $CT | grep -v "^__replicate_100-0_")" &&
	vol_write c $CT 1 &&
	job_run c 100-0 &&
	vr c log 100-0 >log &&
	cat log &&
	expect_grep "incremental sync .$CT." log &&
	assert_synced c a 100-0 $CT
'

test_expect_success 'a stale copy with a diverged history is not overwritten' '
	vr c create-local-job 100-1 b &&
	sum=$(vol_sum b $CT) &&
	snaps=$(vol_snaps b $CT) &&
	run_mustfail 1 job_run c 100-1 2>err &&
	expect_grep "No common base snapshot on volume(s) $CT" err &&
	test "$(vol_sum b $CT)" = "$sum" &&
	test "$(vol_snaps b $CT)" = "$snaps"
'

test_expect_success 'three nodes: jobs c -> a and c -> b, migrate to a: a -> c and a -> b, incremental' '
	zfs_destroy b rpool/data/subvol-100-disk-0 &&
	job_run c 100-1 &&
	vr c log 100-1 >log && cat log &&
	assert_synced c b 100-1 $CT &&
	vol_write c $CT 1 &&
	sum=$(vol_sum c $CT) &&
	migrate c 100 a >out 2>&1 &&
	cat out &&
	expect_grep "^final sync: job 100-0, " out &&
	expect_grep "^job 100-0: now a -> c$" out &&
	expect_grep "^job 100-1: now a -> b$" out &&
	test "$(job_dir a 100-0)" = "a c" &&
	test "$(job_dir a 100-1)" = "a b" &&
	test "$(vol_sum a $CT)" = "$sum" &&
	vol_write a $CT 1 &&
	job_run a 100-0 && job_run a 100-1 &&
	vr a log 100-0 >log0 && vr a log 100-1 >log1 &&
	cat log0 log1 &&
	expect_grep "incremental sync" log0 &&
	expect_grep "incremental sync" log1 &&
	! grep "full sync" log0 log1 &&
	assert_synced a c 100-0 $CT &&
	assert_synced a b 100-1 $CT
'

test_done
