#!/bin/sh
# The ssh transport between two namespace nodes with real sshd: remote
# verbs through "volrep serve", the shared control master, a dead and a
# hung node, serve refusing commands, a rate-limited relay, clean teardown.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/testbed.sh"
testbed_require

# seconds.nanoseconds, for durations
now() { date +%s.%N; }
elapsed() { echo "$(now) $1" | awk '{printf "%.3f", $1 - $2}'; }

test_expect_success 'two nodes come up, nodes.cfg written' '
	testbed_init &&
	testbed_add_node a 1 &&
	testbed_add_node b 2 &&
	testbed_write_nodes_cfg &&
	printf "node: a\n\taddress $TB_NET.1\n\nnode: b\n\taddress $TB_NET.2\n" >expect &&
	test_cmp expect "$TB/config/nodes.cfg" &&
	echo "$TB" >"$TRASH/tb" &&
	cat "$TB"/nodes/*/ns >"$TRASH/namespaces" &&
	test "$(sort -u "$TRASH/namespaces" | wc -l)" = 2
'
# the test bodies run in subshells: pick the test bed up out here
testbed_adopt

test_expect_success 'volrep version on node b from node a, through volrep serve' '
	start=$(now) &&
	node_exec a volrep remote-exec --address $TB_NET.2 b volrep version >out 2>err &&
	first=$(elapsed $start) &&
	echo "volrep 0.1.0" >expect &&
	test_cmp expect out &&
	echo "$first" >"$TRASH/first" &&
	fp=$(ssh-keygen -lf "$TB/ssh/id_serve_a.pub" | cut -d" " -f2) &&
	expect_grep "Accepted publickey for root .*$fp" "$TB/nodes/b/sshd.log" &&
	expect_grep "forced-command (key-option) .volrep serve --peer a." "$TB/nodes/b/sshd.log"
'

test_expect_success 'the remote side runs inside node b with its identity' '
	TB_VOLREP_SSH=$TB_SSH_ROOT node_exec a volrep remote-exec --address $TB_NET.2 b \
		sh -c "echo \$VOLREP_NODE \$VOLREP_STATE_DIR; command -v volrep" >out &&
	printf "b %s\n%s\n" "$TB/nodes/b/state" "$TOP/build/volrep" >expect &&
	test_cmp expect out
'

test_expect_success 'one control master is shared by later calls' '
	ls "$TB/cm" >socks && test "$(wc -l <socks)" -ge 1 &&
	for s in "$TB"/cm/*; do [ -S "$s" ] || fail "not a socket: $s" || return 1; done &&
	stat -c %a "$TB/cm" >mode && echo 700 >expect && test_cmp expect mode &&
	sock=$(ls -t "$TB"/cm/* | head -1) &&
	ssh -o ControlPath="$sock" -O check dummy 2>check1 &&
	logins=$(grep -c "Accepted publickey" "$TB/nodes/b/sshd.log") &&
	node_exec a volrep remote-exec --address $TB_NET.2 b volrep version >out &&
	ssh -o ControlPath="$sock" -O check dummy 2>check2 &&
	# the same master (same pid), and no new login on b: the call went
	# through the existing connection
	test_cmp check1 check2 &&
	test "$(grep -c "Accepted publickey" "$TB/nodes/b/sshd.log")" = "$logins"
'

test_expect_success 'serve refuses forbidden commands through real ssh' '
	run_mustfail 2 $TB_SSH_SERVE root@$TB_NET.2 "rm -rf /tmp/x" 2>err &&
	expect_grep "serve: refused: not a volrep command: .rm." err &&
	run_mustfail 2 $TB_SSH_SERVE root@$TB_NET.2 "volrep version; id" 2>err &&
	expect_grep "serve: refused: shell metacharacter" err &&
	run_mustfail 2 $TB_SSH_SERVE root@$TB_NET.2 "volrep run --id 100-0" 2>err &&
	expect_grep "verb not allowed: .run." err &&
	run_mustfail 2 $TB_SSH_SERVE root@$TB_NET.2 2>err </dev/null &&
	expect_grep "interactive login is not allowed" err &&
	run_mustfail 2 node_exec a volrep remote-exec --address $TB_NET.2 b sh -c id 2>err &&
	expect_grep "not a volrep command" err &&
	run_mustfail 2 node_exec a volrep remote-exec --address $TB_NET.2 b volrep prepare-local-job "100-0;id" 2>err &&
	expect_grep "invalid job id" err
'

test_expect_success 'a rate-limited relay over ssh keeps to the limit' '
	head -c 3000000 /dev/zero >data &&
	start=$(now) &&
	TB_VOLREP_SSH=$TB_SSH_ROOT node_exec a volrep remote-exec --stdin --rate 1.5 \
		--address $TB_NET.2 b wc -c <data >out 2>err &&
	took=$(elapsed $start) &&
	echo 3000000 >expect && test_cmp expect out &&
	cat err && echo "3 MB at 1.5 MB/s took $took s" &&
	# the limit holds: never faster (load only makes it slower). The
	# pacing of the rate limiter is unit-tested (test-ratelimit.c);
	# an upper bound here would be a guess at the load of the machine
	awk "BEGIN { exit !($took > 1.9) }"
'

test_expect_success 'a hung node fails within seconds' '
	testbed_node_kill b STOP &&
	for s in "$TB"/cm/*; do ssh -o ControlPath="$s" -O exit dummy 2>/dev/null || :; done &&
	start=$(now) &&
	run_mustfail 1 node_exec a volrep remote-exec --address $TB_NET.2 b volrep version 2>err &&
	took=$(elapsed $start) &&
	testbed_node_kill b CONT &&
	cat err && echo "took $took s" &&
	# ssh gave up by its own timeout (ConnectTimeout, src/transport/ssh.h)
	# rather than hanging (a hang would hit the time limit of the test)
	expect_grep "ssh to .b. ($TB_NET.2) failed: .*[Tt]imed out" err
'

test_expect_success 'a dead node fails at once with a clear error' '
	node_exec a volrep remote-exec --address $TB_NET.2 b volrep version >out &&
	testbed_node_kill b &&
	start=$(now) &&
	run_mustfail 1 node_exec a volrep remote-exec --address $TB_NET.2 b volrep version 2>err &&
	took=$(elapsed $start) &&
	cat err && echo "took $took s" &&
	expect_grep "volrep: ssh to .b. ($TB_NET.2) failed: .*refused" err
'

# ns_procs NS: the live processes in mount namespace NS (a zombie has
# exited: this machine's init may reap orphans late)
ns_procs() {
	for _p in /proc/[0-9]*; do
		[ "$(readlink "$_p/ns/mnt" 2>/dev/null)" = "$1" ] || continue
		[ "$(sed 's/^.*) \(.\).*/\1/' "$_p/stat" 2>/dev/null)" != Z ] || continue
		echo "${_p#/proc/}"
	done
}
# still_in PID NS: the process lives, still in NS
still_in() {
	[ "$(readlink "/proc/$1/ns/mnt" 2>/dev/null)" = "$2" ] &&
		[ "$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# What lived in the nodes' namespaces before the teardown must be gone
# after it (given a moment on a loaded machine). Not "nothing in a
# namespace of that id": once a namespace is gone the kernel gives its id
# to the next new one, maybe a node of another test bed running here.
test_expect_success 'teardown leaves no process, namespace or mount behind' '
	for ns in $(cat "$TRASH/namespaces"); do
		for p in $(ns_procs $ns); do echo "$p $ns" || return 1; done || return 1
	done >before &&
	test -s before &&
	testbed_teardown &&
	test ! -e "$TB_LAST" &&
	while read -r p ns; do
		{ wait_for 10 "! still_in $p $ns" || fail "process $p still in $ns"; } || return 1
	done <before &&
	! grep -F "$TB_LAST" /proc/self/mountinfo &&
	! ps -eo args | grep -v grep | grep -F "$TB_LAST/"
'

test_done
