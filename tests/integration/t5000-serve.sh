#!/bin/sh
# volrep serve --peer NODE as a forced command, without ssh:
# SSH_ORIGINAL_COMMAND in, the validated verb run (stdio passed through)
# or a one-line refusal naming the peer. This node is pve2, the key's
# peer pve1 (guests 100, 200, ... live on pve1, 101 on pve2).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib-config.sh"

make_cluster
export VOLREP_NODE=pve2
printf 'local: 100-0\n\ttarget pve2\n\nlocal: 101-0\n\ttarget pve1\n' >"$CFG/replication.cfg"

serve() { "$VOLREP" serve --peer pve1 "$@"; }

test_expect_success 'an allowed verb runs, output passed through' '
	SSH_ORIGINAL_COMMAND="'"'"'volrep'"'"' '"'"'version'"'"'" serve >out 2>err &&
	echo "volrep 0.1.0" >expect && test_cmp expect out && test ! -s err
'

test_expect_success 'the verb exit code comes back' '
	SSH_ORIGINAL_COMMAND="volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 --last_sync 5" \
		run_mustfail 1 serve >out 2>err &&
	test ! -s out && test -s err &&
	! grep "refused" err
'

test_expect_success 'no command: interactive login refused' '
	(unset SSH_ORIGINAL_COMMAND; run_mustfail 2 serve 2>err) &&
	expect_grep "^volrep: serve: refused: no command given" err
'

test_expect_success 'serve refuses to start without --peer; --any-peer is the loud compatibility mode' '
	SSH_ORIGINAL_COMMAND="volrep version" run_mustfail 2 "$VOLREP" serve >out 2>err &&
	expect_grep "no --peer NODE given" err && test ! -s out &&
	SSH_ORIGINAL_COMMAND="volrep version" run_mustfail 2 "$VOLREP" serve version 2>err &&
	expect_grep "unexpected argument .version." err &&
	SSH_ORIGINAL_COMMAND="volrep version" run_mustfail 2 "$VOLREP" serve --peer "a;b" 2>err &&
	expect_grep "invalid peer node name" err &&
	SSH_ORIGINAL_COMMAND="volrep version" run_mustfail 2 "$VOLREP" serve --peer pve1 --any-peer 2>err &&
	expect_grep "exclude each other" err &&
	SSH_ORIGINAL_COMMAND="volrep version" "$VOLREP" serve --any-peer >out &&
	echo "volrep 0.1.0" >expect && test_cmp expect out
'

test_expect_success 'forbidden commands: one line each, exit 2, nothing run' '
	for c in "volrep version; touch $TRASH/pwned" "touch $TRASH/pwned" "volrep version && touch x" \
		"volrep \$(touch $TRASH/pwned)" "volrep \`touch $TRASH/pwned\`" "volrep version | sh" \
		"volrep version > $TRASH/pwned" "volrep daemon" "volrep serve" "volrep run --id 100-0" \
		"volrep set-state 100 not-json" "volrep import local-zfs:vm-100-disk-0 --base -x"; do
		SSH_ORIGINAL_COMMAND="$c" run_mustfail 2 serve >out 2>err || return 1
		test "$(wc -l <err)" = 1 || { cat err; return 1; }
		expect_grep "^volrep: serve: refused: .*(peer .pve1.)$" err || return 1
		test ! -s out || return 1
	done &&
	SSH_ORIGINAL_COMMAND="volrep version
touch $TRASH/pwned" run_mustfail 2 serve 2>err &&
	expect_grep "control character" err &&
	test ! -e "$TRASH/pwned" && test ! -e x
'

test_expect_success 'global options never reach the verb: injected --node/--config-dir refused' '
	for o in "--node pve1" "--node=pve1" "--config-dir $TRASH" "--state-dir $TRASH" "--log-dir $TRASH"; do
		SSH_ORIGINAL_COMMAND="volrep import local-zfs:vm-101-disk-0 --snapshot __replicate_101-0_5__ $o" \
			run_mustfail 2 serve </dev/null >out 2>err || return 1
		expect_grep "option not allowed for .import.: .--" err || return 1
	done &&
	SSH_ORIGINAL_COMMAND="volrep --node pve1 import local-zfs:vm-101-disk-0 --snapshot s" \
		run_mustfail 2 serve </dev/null 2>err &&
	expect_grep "verb not allowed: .--node." err
'

test_expect_success 'global options count only before the command name, for every command' '
	run_mustfail 2 "$VOLREP" status --node pve1 2>err &&
	expect_grep "unknown option .--node." err &&
	run_mustfail 2 "$VOLREP" import local-zfs:vm-101-disk-0 --snapshot s --node pve1 </dev/null 2>err &&
	! grep "on local node" err &&
	run_mustfail 2 "$VOLREP" --node pve2 import local-zfs:vm-101-disk-0 --snapshot s </dev/null 2>err &&
	expect_grep "guest .101. is on local node" err
'

test_expect_success 'the peer may not touch this node'"'"'s guests: one line naming the peer, exit 2' '
	state_before=$(cat "$VOLREP_STATE_DIR/replication-state.json" 2>/dev/null || :) &&
	for c in "volrep import local-zfs:vm-101-disk-0 --snapshot __replicate_101-0_9__" \
		"volrep prepare-local-job 101-0 local-zfs:vm-101-disk-0 --last_sync 1 --force" \
		"volrep finalize-local-job 101-0 local-zfs:vm-101-disk-0 --last_sync 1" \
		"volrep set-state 101 '"'"'{}'"'"'" "volrep replica-rollback 101 __replicate_101-0_1__ local-zfs:vm-101-disk-0"; do
		SSH_ORIGINAL_COMMAND="$c" run_mustfail 2 serve </dev/null >out 2>err || return 1
		test "$(wc -l <err)" = 1 || { cat err; return 1; }
		expect_grep "^volrep: serve: refused: .*101.* (peer .pve1.)$" err || return 1
	done &&
	SSH_ORIGINAL_COMMAND="volrep set-state 101 '"'"'{\"local/pve1\":{\"last_sync\":1}}'"'"'" \
		run_mustfail 2 serve 2>err &&
	expect_grep "guest .101. lives on this node (peer .pve1.)" err &&
	test "$(cat "$VOLREP_STATE_DIR/replication-state.json" 2>/dev/null || :)" = "$state_before"
'

test_expect_success 'the peer'"'"'s own guest: set-state runs, error text stored without escapes' '
	SSH_ORIGINAL_COMMAND="volrep set-state 100 '"'"'{\"local/pve2\":{\"last_sync\":1,\"fail_count\":1,\"error\":\"x\\u001b[2Jy\"}}'"'"'" \
		serve &&
	jq -r ".\"100\".\"local/pve2\".error" "$VOLREP_STATE_DIR/replication-state.json" >got &&
	echo "x?[2Jy" >expect && test_cmp expect got &&
	SSH_ORIGINAL_COMMAND="volrep set-state 100 '"'"'{\"local/pve2\":{\"pid\":1}}'"'"'" run_mustfail 2 serve 2>err &&
	expect_grep "field .pid. cannot be set" err
'

test_expect_success 'the child gets serve'"'"'s own identity and no other VOLREP_* variable' '
	mkdir -p "$CFG/hooks" &&
	printf "#!/bin/sh\nenv | grep ^VOLREP_ | sort >\"%s\"\n" "$TRASH/hook.env" >"$CFG/hooks/qemu" &&
	chmod +x "$CFG/hooks/qemu" &&
	SSH_ORIGINAL_COMMAND="volrep guest-start 101" VOLREP_REMOTE_BIN=/bin/sh VOLREP_SSH=evil \
		VOLREP_TRANSPORT=local VOLREP_DEBUG=1 VOLREP_EVIL=1 serve &&
	printf "%s\n" "VOLREP_CONFIG_DIR=$CFG" "VOLREP_LOG_DIR=$VOLREP_LOG_DIR" "VOLREP_NODE=pve2" \
		"VOLREP_STATE_DIR=$VOLREP_STATE_DIR" >expect &&
	test_cmp expect "$TRASH/hook.env"
'

test_expect_success 'serve'"'"'s own Proxmox VE settings (sshd'"'"'s SetEnv) reach the child when plain' '
	SSH_ORIGINAL_COMMAND="volrep guest-start 101" VOLREP_PVE_LOCK_DIR=/run/x VOLREP_GUEST_STATE=pve \
		VOLREP_PVE_RUN_DIR="/a b" VOLREP_PVE_lower=1 serve &&
	printf "%s\n" "VOLREP_CONFIG_DIR=$CFG" "VOLREP_GUEST_STATE=pve" "VOLREP_LOG_DIR=$VOLREP_LOG_DIR" \
		"VOLREP_NODE=pve2" "VOLREP_PVE_LOCK_DIR=/run/x" "VOLREP_STATE_DIR=$VOLREP_STATE_DIR" >expect &&
	test_cmp expect "$TRASH/hook.env"
'

test_done
