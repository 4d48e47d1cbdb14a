#!/bin/sh
# The direct data path (volrep.cfg migration-type insecure), end to end
# on two namespace nodes: control over ssh, each volume's stream over a
# direct TCP connection to the target's address in migration-network,
# authenticated with a one-time token. Full and incremental syncs arrive
# intact; a target's listener takes exactly one connection, and refuses
# a wrong token, a second connection and a silent source, leaving the
# replica as it was.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require_engine
command -v ss >/dev/null || test_skip_all "needs ss (iproute2)"

CT=local-zfs:subvol-200-disk-0
NET=$TB_NET.0/24

e2e_up 'two nodes with zfs-fuse and sshd come up' a b

# import_direct SNAP BASE OUT ERR: volrep import --direct on node b in
# the background (as serve runs it under sshd: SSH_CONNECTION names the
# address the source reached b at); its pid in $ipid
import_direct() {
	node_exec b env SSH_CONNECTION="$(node_addr a) 40000 $(node_addr b) 22" \
		volrep import $CT --snapshot "$1" --base "$2" --direct "$NET" >"$3" 2>"$4" &
	ipid=$!
}
# announced OUT: wait for the listener's line, set addr, port and tok
announced() {
	wait_for 20 "grep -q '^direct-listen ' '$1'" &&
	read -r _w addr port tok <"$1" &&
	test "$_w" = direct-listen && test -n "$port" && test ${#tok} = 64
}
# hold_connection ADDR PORT TOKEN: connect and say so (c1.connected),
# wait (at most 20 s) for c1.go, then send the token and the stream
hold_connection() {
	bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
		: >c1.connected
		i=0
		while [ ! -e c1.go ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
		printf "%s\n" "$2" >&3 && cat stream >&3' "$@"
}
listening() { # PORT
	test -n "$(ss -Hltn "sport = :$1")"
}

test_expect_success 'CT 200 on ZFS with data; migration-type insecure on the test bed network' '
	guest_create a 200 lxc &&
	guest_add_disk a 200 rootfs $CT 128 &&
	vol_write a $CT 12 &&
	vr a create-local-job 200-0 b &&
	printf "migration-type insecure\nmigration-network 198.18.255.0/24\n" >"$TB/config/volrep.cfg" &&
	{ vr b check >out || rc=$?; } && test "$rc" = 1 &&
	expect_grep "^error migration: no address of this node in migration network .198.18.255.0/24.: this node cannot be a target" out &&
	printf "migration-type insecure\nmigration-network %s\n" "$NET" >"$TB/config/volrep.cfg" &&
	vr b check >out &&
	expect_grep "^ok    migration: insecure: streams unencrypted over direct TCP on $NET" out
'

test_expect_success 'full sync over the direct path: intact, and the log says where it went' '
	job_run a 200-0 &&
	vr a log 200-0 >log &&
	cat log &&
	expect_grep "using insecure transmission" log &&
	expect_grep "streams over direct TCP connections on network $NET" log &&
	expect_grep "direct data path: $(node_addr b) port [0-9]*$" log &&
	! grep -q "direct-listen" log &&
	assert_synced a b 200-0 $CT
'

test_expect_success 'incremental sync over the direct path; no listener is left' '
	vol_write a $CT 3 &&
	job_run a 200-0 &&
	vr a log 200-0 >log &&
	expect_grep "incremental sync .$CT." log &&
	expect_grep "direct data path: " log &&
	assert_synced a b 200-0 $CT &&
	port=$(sed -n "s/.*direct data path: .* port \([0-9]*\)$/\1/p" log) &&
	! listening "$port"
'

test_expect_success 'a stream for the manual tests: a snapshot after the last sync' '
	L=$(repl_snaps a $CT 200-0) &&
	test -n "$L" &&
	echo "$L" >last &&
	vol_snap a $CT m1 &&
	vr a export $CT --snapshot m1 --base "$L" >stream &&
	test -s stream &&
	vol_snaps b $CT >snaps.before
'

test_expect_success 'a wrong token is refused; the replica is unchanged' '
	import_direct m1 "$(cat last)" ann ierr &&
	announced ann &&
	test "$addr" = "$(node_addr b)" &&
	bash -c "exec 3<>/dev/tcp/\$0/\$1 && printf \"%064d\\n\" 0 >&3 && cat \"\$2\" >&3" "$addr" "$port" stream &&
	{ wait $ipid || rc=$?; } && test "$rc" = 1 &&
	cat ierr &&
	expect_grep "refused: wrong token" ierr &&
	! listening "$port" &&
	vol_snaps b $CT >snaps.after &&
	test_cmp snaps.before snaps.after
'

test_expect_success 'one connection only: a second one is refused, the first gets through' '
	rm -f c1.go &&
	{ import_direct m1 "$(cat last)" ann2 ierr2; } &&
	announced ann2 &&
	{ hold_connection "$addr" "$port" "$tok" & c1=$!; } &&
	wait_for 20 test -e c1.connected &&
	wait_for 20 "! listening $port" &&
	{ bash -c "exec 4<>/dev/tcp/\$0/\$1" "$addr" "$port" 2>c2.err || rc=$?; } && test "$rc" = 1 &&
	expect_grep "refused" c2.err &&
	: >c1.go &&
	wait $c1 &&
	wait $ipid &&
	expect_grep "successfully imported" ann2 &&
	vol_snaps b $CT >snaps.after &&
	expect_grep "^m1$" snaps.after &&
	test "$(vol_sum a $CT)" = "$(vol_sum b $CT)"
'

test_expect_success 'a source that never connects: the listener gives up within its bound' '
	node_exec b zfs destroy "rpool/data/subvol-200-disk-0@m1" &&
	import_direct m1 "$(cat last)" ann3 ierr3 &&
	announced ann3 &&
	{ wait $ipid || rc=$?; } && test "$rc" = 1 &&
	expect_grep "no direct connection to $(node_addr b) port $port within 30 s" ierr3 &&
	! listening "$port"
'

test_expect_success 'the job still replicates afterwards; secure again without the setting' '
	vol_write a $CT 1 &&
	job_run a 200-0 &&
	assert_synced a b 200-0 $CT &&
	rm "$TB/config/volrep.cfg" &&
	vol_write a $CT 1 &&
	job_run a 200-0 &&
	vr a log 200-0 >log &&
	expect_grep "using secure transmission" log &&
	! grep -q "direct data path" log &&
	assert_synced a b 200-0 $CT
'

test_done
