#!/bin/sh
# The attacks of a peer holding only its replication key
# (command="volrep serve --peer a"), over real ssh between two namespace
# nodes with zfs-fuse: node b's own container 300 is replicated to a, so
# a holds a replica and a common base snapshot. From a, as root with a's
# key: an import into b's live volume (with --node/--config-dir
# injection), a prepare that would delete b's snapshots, a set-state
# that would make b's next run delete them; each is refused and b's
# volume, snapshots, state and config stay byte for byte the same.
# Failover does not take a node for dead on a host key mismatch, a
# refused key or an invalid address, only when it does not answer.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require_engine

CT=local-zfs:subvol-300-disk-0
DS=rpool/data/subvol-300-disk-0
OWN=local-zfs:subvol-100-disk-0

e2e_up 'two nodes with storage come up' a b

# as_a CMD: a shell command line run as root on node a
as_a() { node_exec a sh -c "$1"; }
# to_b REMOTE: ssh from node a to node b with a's replication key
to_b() { echo "$(tb_serve_ssh a) root@$(node_addr b)"; }

# fingerprint: everything of b's guest 300 that an attack could change
fingerprint() {
	vol_sum b $CT &&
	vol_snaps b $CT &&
	cat "$TB/nodes/b/state/replication-state.json" &&
	sha256sum "$TB/config/replication.cfg" "$TB/config/nodes/b/lxc/300.conf"
}

test_expect_success 'b'"'"'s container 300 replicated to a; a'"'"'s container 100 replicated to b' '
	guest_create b 300 lxc &&
	guest_add_disk b 300 rootfs $CT 64 &&
	vol_write b $CT 4 &&
	vr b create-local-job 300-0 a &&
	job_run b 300-0 &&
	assert_synced b a 300-0 $CT &&
	vol_write b $CT 1 &&
	guest_create a 100 lxc &&
	guest_add_disk a 100 rootfs $OWN 64 &&
	vol_write a $OWN 2 &&
	vr a create-local-job 100-0 b &&
	job_run a 100-0 &&
	assert_synced a b 100-0 $OWN &&
	repl_snaps a $CT 300-0 >"$TB/base" &&
	test "$(wc -l <"$TB/base")" = 1 &&
	fingerprint >"$TB/fp.before"
'

test_expect_success 'import into b'"'"'s live volume, with --node/--config-dir injected: refused, b unchanged' '
	base=$(cat "$TB/base") &&
	as_a "zfs snapshot $DS@evil" &&
	for inj in "--node a" "--node=a" "--config-dir $TB/config" "--state-dir /tmp" ""; do
		rc=0 &&
		{ as_a "zfs send -i @$base $DS@evil | $(to_b) \"volrep import $CT --snapshot evil --base $base $inj\"" \
			>out 2>err || rc=$?; } &&
		cat err &&
		test "$rc" = 2 &&
		expect_grep "serve: refused: .*(peer .a.)" err || return 1
	done &&
	rc=0 &&
	{ as_a "zfs send -i @$base $DS@evil | $(to_b) \"volrep import $CT --snapshot __replicate_300-0_9999999999__ --base $base\"" \
		2>err || rc=$?; } &&
	test "$rc" = 2 && expect_grep "guest .300. lives on .b., not on peer .a." err &&
	rc=0 &&
	{ as_a "zfs send -i @$base $DS@evil | $(to_b) \"volrep --node a import $CT --snapshot evil --base $base\"" \
		2>err || rc=$?; } &&
	test "$rc" = 2 && expect_grep "verb not allowed: .--node." err &&
	fingerprint >"$TB/fp.after" &&
	test_cmp "$TB/fp.before" "$TB/fp.after"
'

test_expect_success 'prepare/finalize/set-state/rollback of b'"'"'s guest: refused, b unchanged' '
	for c in "volrep prepare-local-job 300-0 $CT --last_sync 1 --force" \
		"volrep prepare-local-job 300-0 --scan local-zfs --last_sync 1 --force" \
		"volrep finalize-local-job 300-0 $CT --last_sync 1" \
		"volrep set-state 300 '"'"'{\\\"local/a\\\":{\\\"last_sync\\\":1}}'"'"'" \
		"volrep set-state 300 '"'"'{}'"'"'" \
		"volrep replica-rollback 300 $(cat "$TB/base") $CT" \
		"volrep guest-start 300"; do
		rc=0 &&
		{ as_a "$(to_b) \"$c\" </dev/null" >out 2>err || rc=$?; } &&
		test "$rc" = 2 || { cat err; return 1; }
		test "$(wc -l <err)" = 1 || { cat err; return 1; }
		expect_grep "serve: refused: .*300.* (peer .a.)$" err || return 1
	done &&
	fingerprint >"$TB/fp.after" &&
	test_cmp "$TB/fp.before" "$TB/fp.after" &&
	job_run b 300-0 &&
	vr b log 300-0 >log &&
	cat log &&
	expect_grep "incremental sync .$CT." log &&
	assert_synced b a 300-0 $CT
'

test_expect_success 'set-state of the peer'"'"'s own guest: stored, escapes filtered, pid refused' '
	as_a "$(to_b) \"volrep set-state 100 '"'"'{\\\"local/b\\\":{\\\"last_sync\\\":1,\\\"error\\\":\\\"x\\\\u001b[2Jy\\\"}}'"'"'\"" &&
	jq -r ".\"100\".\"local/b\".error" "$TB/nodes/b/state/replication-state.json" >got &&
	echo "x?[2Jy" >expect && test_cmp expect got &&
	rc=0 &&
	{ as_a "$(to_b) \"volrep set-state 100 '"'"'{\\\"local/b\\\":{\\\"pid\\\":1}}'"'"'\"" 2>err || rc=$?; } &&
	test "$rc" = 2 && expect_grep "field .pid. cannot be set" err &&
	rc=0 &&
	{ $TB_SSH_SERVE root@$(node_addr b) "volrep set-state 100 '"'"'{}'"'"'" 2>err || rc=$?; } &&
	test "$rc" = 2 && expect_grep "peer .outsider. is not a node" err
'

# close_masters: no ssh connection left to reuse (a test of what ssh says
# on connect must connect)
close_masters() {
	for _s in "$TB"/cm/*; do
		[ -S "$_s" ] && ssh -o ControlPath="$_s" -O exit dummy >/dev/null 2>&1
	done
	return 0
}

test_expect_success 'failover --dry-run on b refuses when a'"'"'s ssh fails for another reason than "down"' '
	cp "$TB/ssh/known_hosts" "$TB/known_hosts.good" &&
	cp "$TB/config/nodes.cfg" "$TB/nodes.cfg.good" &&
	ssh-keygen -q -t ed25519 -N "" -f "$TB/other_host_key" &&
	sed "s|^\(a,[^ ]*\) .*|\1 $(cut -d" " -f1,2 "$TB/other_host_key.pub")|" "$TB/known_hosts.good" \
		>"$TB/ssh/known_hosts" &&
	close_masters &&
	run_mustfail 1 vr b failover 100 --dry-run >out 2>err &&
	cat err &&
	expect_grep "cannot tell whether node .a. of guest 100 is down: .*Host key verification failed" err &&
	! grep "plan:" out &&
	cp "$TB/known_hosts.good" "$TB/ssh/known_hosts" &&
	ssh-keygen -q -t ed25519 -N "" -f "$TB/stranger_key" &&
	close_masters &&
	TB_VOLREP_SSH="ssh -F $TB/ssh/config -i $TB/stranger_key -o ControlPath=none" \
		run_mustfail 1 vr b failover 100 --dry-run >out 2>err &&
	expect_grep "cannot tell whether node .a.* is down: .*Permission denied" err &&
	! grep "plan:" out &&
	sed "/^node: a\$/{n;/address/d}" "$TB/nodes.cfg.good" >"$TB/config/nodes.cfg" &&
	! grep -A1 "^node: a" "$TB/config/nodes.cfg" | grep address &&
	run_mustfail 1 vr b failover 100 --dry-run >out 2>err &&
	cp "$TB/nodes.cfg.good" "$TB/config/nodes.cfg" &&
	expect_grep "cannot tell whether node .a.* is down: .*resolve" err &&
	! grep "plan:" out &&
	test -f "$TB/config/nodes/a/lxc/100.conf"
'

test_expect_success 'a node that does not answer (connection refused) is taken for dead: the plan' '
	cp "$TB/known_hosts.good" "$TB/ssh/known_hosts" &&
	cp "$TB/nodes.cfg.good" "$TB/config/nodes.cfg" &&
	node_sshd_stop a &&
	vr b failover 100 --dry-run >out 2>err &&
	cat out &&
	expect_grep "node .a. does not answer: .*Connection refused" out &&
	expect_grep "^dry run: nothing changed$" out &&
	node_sshd_start a
'

test_done
