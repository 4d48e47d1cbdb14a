#!/bin/sh
# One session per run (docs/protocol.md) between two test bed nodes over
# real ssh with the replication key restricted to `volrep serve --peer a`:
# every target-side step of a run (prepare, both volumes' streams,
# finalize) goes through one ssh call; a target whose serve does not know
# the session (an older volrep) gets one ssh call per step instead, and
# VOLREP_SESSION=0 asks for that too. Every ssh call the runs make is
# logged by a wrapper around ssh (VOLREP_SSH).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/testbed.sh"
. "$TOP/tests/lib/storage.sh"
storage_testbed_require

CALLS="$TRASH/ssh-calls"
# the wrapper around ssh: the remote command of every call, one per line
cat >"$TRASH/ssh-log" <<EOF
#!/bin/sh
for a; do last=\$a; done
printf '%s\n' "\$last" >>"$CALLS"
exec "\$@"
EOF
# the forced command of an older volrep: serve refuses the session verb
cat >"$TRASH/old-serve" <<'EOF'
#!/bin/sh
case "$SSH_ORIGINAL_COMMAND" in
*session*) echo "volrep: serve: refused: verb not allowed: 'session' (peer 'a')" >&2; exit 2 ;;
esac
exec volrep serve "$@"
EOF
chmod +x "$TRASH/ssh-log" "$TRASH/old-serve"


test_expect_success 'two nodes with storage, a container with a zfs and a btrfs volume on a, job 100-0 to b' '
	storage_testbed_ct100
'
testbed_adopt

# run_a [ENV=VALUE...]: volrep run --id 100-0 on a, its ssh calls logged
# (with SSH_OPTS first: ssh takes the first value of an option)
SSH_OPTS=
run_a() {
	: >"$CALLS" &&
	sleep 1 &&
	TB_VOLREP_SSH="$TRASH/ssh-log ssh $SSH_OPTS $(tb_serve_ssh a | sed "s/^ssh //")" \
		node_exec a env "$@" volrep run --id 100-0
}
same_data() {
	test "$(node_exec b cat /rpool/data/subvol-100-disk-0/f)" = "$(node_exec a cat /rpool/data/subvol-100-disk-0/f)" &&
	test "$(node_exec b cat /mnt/btrfs/images/100/subvol-100-disk-1/g)" = "$(node_exec a cat /mnt/btrfs/images/100/subvol-100-disk-1/g)"
}

test_expect_success 'full sync: one ssh call for the whole run' '
	run_a &&
	same_data &&
	echo "'"'"'volrep'"'"' '"'"'session'"'"'" >expect && test_cmp expect "$CALLS" &&
	node_exec a volrep log 100-0 >jl &&
	expect_grep "full sync .local-zfs:subvol-100-disk-0." jl &&
	expect_grep "full sync .local-btrfs:100/subvol-100-disk-1." jl &&
	! grep "session protocol" jl
'

test_expect_success 'incremental sync, compressed and rate limited: one ssh call' '
	node_exec a sh -c "seq 1 20000 >>/rpool/data/subvol-100-disk-0/f; echo more >>/mnt/btrfs/images/100/subvol-100-disk-1/g" &&
	node_exec a volrep update 100-0 --compress zstd --rate 50 &&
	run_a &&
	same_data &&
	echo "'"'"'volrep'"'"' '"'"'session'"'"'" >expect && test_cmp expect "$CALLS" &&
	node_exec a volrep log 100-0 >jl &&
	expect_grep "incremental sync .local-zfs:subvol-100-disk-0." jl &&
	expect_grep "compressing the stream of .local-zfs:subvol-100-disk-0. with zstd" jl &&
	expect_grep "sent .* compressed (ratio" jl &&
	expect_grep "on target .b.: delete stale replication snapshot" jl &&
	node_exec a volrep update 100-0 --delete compress,rate
'

test_expect_success 'an older target (serve refuses the session verb): one call per step, same result' '
	cp "$TB/ssh/authorized_keys" "$TRASH/authorized_keys.orig" &&
	sed "s|command=\"volrep serve --peer a\"|command=\"$TRASH/old-serve --peer a\"|" "$TRASH/authorized_keys.orig" \
		>"$TB/ssh/authorized_keys" &&
	node_exec a sh -c "echo old >>/rpool/data/subvol-100-disk-0/f" &&
	# a connection of its own: the forced command is chosen when a
	# connection logs in, and the shared one did that with the old line
	SSH_OPTS="-o ControlPath=none" &&
	run_a &&
	SSH_OPTS= &&
	cp "$TRASH/authorized_keys.orig" "$TB/ssh/authorized_keys" &&
	same_data &&
	sed "s/ .*//" "$CALLS" >got &&
	printf "%s\n" "'"'"'volrep'"'"'" "'"'"'volrep'"'"'" "'"'"'volrep'"'"'" "'"'"'volrep'"'"'" "'"'"'volrep'"'"'" >expect &&
	test_cmp expect got &&
	sed -n "1p" "$CALLS" >got && echo "'"'"'volrep'"'"' '"'"'session'"'"'" >expect && test_cmp expect got &&
	expect_grep "^.volrep. .prepare-local-job. .100-0." "$CALLS" &&
	test "$(grep -c "^.volrep. .import. " "$CALLS")" = 2 &&
	expect_grep "^.volrep. .finalize-local-job. .100-0." "$CALLS" &&
	node_exec a volrep log 100-0 >jl &&
	expect_grep "target .b. does not speak the session protocol - one ssh call per step" jl &&
	expect_grep "incremental sync .local-zfs:subvol-100-disk-0." jl
'

test_expect_success 'VOLREP_SESSION=0: one call per step without trying' '
	node_exec a sh -c "echo nosession >>/rpool/data/subvol-100-disk-0/f" &&
	run_a VOLREP_SESSION=0 &&
	same_data &&
	test "$(wc -l <"$CALLS")" = 4 &&
	! grep "session" "$CALLS" &&
	node_exec a volrep log 100-0 >jl &&
	! grep "session protocol" jl
'


test_done
