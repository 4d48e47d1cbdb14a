#!/bin/sh
# Stall timeout: a target that stops answering (its prepare never
# replies, its import stops reading the stream while the connection
# stays up) fails the run after volrep.cfg's stall-timeout with "no data
# for N s from ... - transfer stalled", the guest's lock released, and
# the next run succeeds. The "ssh" is a wrapper (VOLREP_SSH) that runs
# the target's verbs on this host with the target's config, or hangs.
# First with one ssh call per step (VOLREP_SESSION=0, what an older
# target gets), then through a session (docs/protocol.md): a target that
# never says hello, and one stopped in the middle of an import.
. "$(dirname "$0")/../lib/storage.sh"
storage_private_namespace "$0" "$@"
. "$(dirname "$0")/../lib/test-lib.sh"

storage_have_btrfs || test_skip_all "needs root, unshare, losetup and btrfs"
test_when_finished storage_teardown

export TZ=UTC
export VOLREP_CONFIG_DIR="$TRASH/cfg" VOLREP_STATE_DIR="$TRASH/state" VOLREP_LOG_DIR="$TRASH/log"
export VOLREP_NODE=pve1 VOLREP_SSH="$TRASH/bin/fake-ssh" VOLREP_SSH_CONTROL_DIR=
unset VOLREP_TRANSPORT
SRC=$TRASH/b1
DST=$TRASH/b2
SCT=$SRC/images/100/subvol-100-disk-0
export SRC DST SCT

mkdir -p "$TRASH/bin"
ln -s "$VOLREP" "$TRASH/bin/volrep"
cat >"$TRASH/bin/fake-ssh" <<EOS
#!/bin/sh
# the remote command is the last argument, quoted for a shell
for last; do :; done
case "\$last" in
*prepare-local-job*)
	if [ -e "$TRASH/hostile-prepare" ]; then
		printf 'evil \233[31m \302\233[1m \033]0;x\007 caf\303\251\n' >&2
		exit 1
	fi
	[ ! -e "$TRASH/stall-prepare" ] || { echo \$\$ >"$TRASH/stalled.pid"; exec sleep 3600; } ;;
*"'import'"*) [ ! -e "$TRASH/stall-import" ] || { echo \$\$ >"$TRASH/stalled.pid"; kill -STOP \$\$; } ;;
*"'session'"*)
	[ ! -e "$TRASH/stall-session" ] || { echo \$\$ >"$TRASH/stalled.pid"; exec sleep 3600; }
	echo \$\$ >"$TRASH/session.pid" ;;
esac
PATH="$TRASH/bin:\$PATH" VOLREP_CONFIG_DIR="$TRASH/tcfg" VOLREP_STATE_DIR="$TRASH/tstate" \
	VOLREP_LOG_DIR="$TRASH/tlog" VOLREP_NODE=pve2 VOLREP_SSH= eval "exec \$last"
EOS
chmod +x "$TRASH/bin/fake-ssh"

write_cfg() { # DIR BTRFS-PATH
	mkdir -p "$1/nodes/pve1/lxc" "$1/nodes/pve2"
	printf 'node: pve1\n\taddress 127.0.1.1\n\nnode: pve2\n\taddress 127.0.1.2\n' >"$1/nodes.cfg"
	printf 'btrfs: local-btrfs\n\tpath %s\n\tcontent images,rootdir\n' "$2" >"$1/storage.cfg"
	printf 'hostname: ct100\nrootfs: local-btrfs:100/subvol-100-disk-0,size=1G\n' >"$1/nodes/pve1/lxc/100.conf"
	printf 'stall-timeout 2\n' >"$1/volrep.cfg"
}
# run the job, bounded: exit code into $rc (124: the stall was not caught)
run_job() {
	rc=0
	timeout 60 "$VOLREP" run --id 100-0 >out 2>err || rc=$?
}
export VOLREP_SESSION=0

test_expect_success 'set up source and target btrfs, configs with stall-timeout 2' '
	btrfs_create "$TRASH/b1.img" "$SRC" &&
	btrfs_create "$TRASH/b2.img" "$DST" &&
	mkdir -p "$SRC/images/100" &&
	btrfs subvolume create "$SCT" >/dev/null &&
	dd if=/dev/urandom of="$SCT/big" bs=1M count=4 status=none &&
	write_cfg "$VOLREP_CONFIG_DIR" "$SRC" &&
	write_cfg "$TRASH/tcfg" "$DST" &&
	"$VOLREP" create-local-job 100-0 pve2 --schedule "*/5" &&
	cp "$VOLREP_CONFIG_DIR/replication.cfg" "$TRASH/tcfg/"
'

test_expect_success 'a prepare that never answers: the run fails with the stall' '
	touch "$TRASH/stall-prepare" &&
	run_job &&
	rm -f "$TRASH/stall-prepare" &&
	test $rc != 0 && test $rc != 124 &&
	"$VOLREP" log 100-0 >jl &&
	expect_grep "no data for 2 s from .prepare-local-job. on .pve2. - transfer stalled" jl &&
	! kill -0 "$(cat "$TRASH/stalled.pid")" 2>/dev/null
'

test_expect_success 'an import stopped with SIGSTOP: the run fails with the stall' '
	touch "$TRASH/stall-import" &&
	run_job &&
	rm -f "$TRASH/stall-import" &&
	test $rc != 0 && test $rc != 124 &&
	"$VOLREP" log 100-0 >jl &&
	expect_grep "no data for 2 s from .import. on .pve2. - transfer stalled" jl &&
	"$VOLREP" status >st &&
	expect_grep "100-0 .* no data for 2 s from .import. on .pve2. - transfer stalled" st &&
	! kill -0 "$(cat "$TRASH/stalled.pid")" 2>/dev/null
'

test_expect_success 'control bytes from the target reach neither the job log nor status' '
	touch "$TRASH/hostile-prepare" &&
	run_job &&
	rm -f "$TRASH/hostile-prepare" &&
	test $rc != 0 &&
	"$VOLREP" log 100-0 >jl &&
	"$VOLREP" status >st &&
	for f in jl st; do
		! LC_ALL=C grep -q "$(printf "\\233")" $f || return 1
		! LC_ALL=C grep -q "$(printf "\\033")" $f || return 1
		! LC_ALL=C grep -q "$(printf "\\007")" $f || return 1
	done &&
	expect_grep "evil ?\[31m ?\[1m ?\]0;x? caf$(printf "\\303\\251")" jl &&
	expect_grep "evil ?\[31m" st
'

test_expect_success 'the lock was released: the next run succeeds' '
	run_job &&
	test $rc = 0 &&
	test -d "$DST/images/100/subvol-100-disk-0" &&
	tree_sums "$SCT" >s1 && tree_sums "$DST/images/100/subvol-100-disk-0" >t1 &&
	test_cmp s1 t1
'

test_expect_success 'in a session: a target that never says hello fails the run with the stall' '
	unset VOLREP_SESSION &&
	touch "$TRASH/stall-session" &&
	run_job &&
	rm -f "$TRASH/stall-session" &&
	test $rc != 0 && test $rc != 124 &&
	"$VOLREP" log 100-0 >jl &&
	expect_grep "no data for 2 s from .session. on .pve2. - transfer stalled" jl &&
	! kill -0 "$(cat "$TRASH/stalled.pid")" 2>/dev/null
'

test_expect_success 'in a session: a target stopped in the middle of an import fails the run with the stall' '
	unset VOLREP_SESSION &&
	dd if=/dev/urandom of="$SCT/big2" bs=1M count=4 status=none &&
	"$VOLREP" update 100-0 --rate 1 &&
	rm -f "$TRASH/session.pid" "$VOLREP_LOG_DIR/100-0" &&
	sleep 1 &&
	{ timeout 60 "$VOLREP" run --id 100-0 >out 2>err & } &&
	rp=$! &&
	wait_for 30 "grep -q \"incremental sync\" \"$VOLREP_LOG_DIR/100-0\" 2>/dev/null" &&
	sp=$(cat "$TRASH/session.pid") &&
	kill -STOP "$sp" &&
	{ rc=0; wait $rp || rc=$?; } &&
	{ kill -CONT "$sp" 2>/dev/null || :; } &&
	test $rc != 0 && test $rc != 124 &&
	"$VOLREP" log 100-0 >jl &&
	expect_grep "no data for 2 s from .import. on .pve2. - transfer stalled" jl &&
	wait_for 20 "! kill -0 $sp 2>/dev/null" &&
	"$VOLREP" update 100-0 --delete rate &&
	sleep 1 &&
	run_job &&
	test $rc = 0 &&
	tree_sums "$SCT" >s1 && tree_sums "$DST/images/100/subvol-100-disk-0" >t1 &&
	test_cmp s1 t1
'

test_done
