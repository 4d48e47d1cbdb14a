#!/bin/sh
# btrfs: an import killed with SIGKILL in the middle of `btrfs receive`
# leaves nothing that can be taken for a volume or a snapshot (only a
# locked-then-abandoned staging directory), and the next import or
# prepare removes it; a staging directory still in use is left alone.
. "$(dirname "$0")/../lib/storage.sh"
storage_private_namespace "$0" "$@"
. "$(dirname "$0")/../lib/test-lib.sh"

storage_have_btrfs || test_skip_all "needs root, unshare, losetup and btrfs"
test_when_finished storage_teardown

# mount points under $TRASH: unique, so that the processes of this run
# can be told from those of parallel runs by their command lines
SRC=$TRASH/b1
DST=$TRASH/b2
CT=100/subvol-100-disk-1
SCT=$SRC/images/100/subvol-100-disk-1
TDIR=$DST/images/100
export SRC DST CT SCT TDIR

export_to() { # FILE SNAP [BASE]
	"$VOLREP" export --btrfs-path "$SRC" $CT --snapshot "$2" ${3:+--base "$3"} >"$1"
}
import_from() { # FILE SNAP [BASE]
	"$VOLREP" import --btrfs-path "$DST" "local-btrfs:$CT" --snapshot "$2" ${3:+--base "$3"} <"$1"
}
target_entries() {
	ls -A "$TDIR" 2>/dev/null | LC_ALL=C sort | tr '\n' ' '
}
# wait (up to 10 s) until the command succeeds
wait_for() {
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		[ $_i -lt 500 ] || return 1
		sleep 0.02
	done
}
receive_started() { # SNAP: the partial subvolume is there (wherever)
	for _d in "$TDIR"/.volrep-recv-*/*@$1 "$TDIR"/*@$1; do
		[ -d "$_d" ] && return 0
	done
	return 1
}
no_receive_left() {
	! pgrep -f "receive -q -C -- $TDIR/" >/dev/null
}
# import_killed FILE SNAP [BASE]: start the import on a FIFO, feed it the
# first MiB of the stream, SIGKILL it mid-receive, close its input
import_killed() {
	rm -f fifo && mkfifo fifo &&
		{ "$VOLREP" import --btrfs-path "$DST" "local-btrfs:$CT" --snapshot "$2" ${3:+--base "$3"} \
			<fifo >/dev/null 2>&1 & } &&
		_pid=$! &&
		exec 3>fifo &&
		head -c 1048576 "$1" >&3 &&
		wait_for receive_started $2 &&
		kill -9 $_pid &&
		{ wait $_pid; true; } &&
		exec 3>&- &&
		wait_for no_receive_left
}

test_expect_success 'set up a source and a target btrfs, streams of two snapshots' '
	btrfs_create "$TRASH/b1.img" "$SRC" &&
	btrfs_create "$TRASH/b2.img" "$DST" &&
	mkdir -p "$SRC/images/100" &&
	btrfs subvolume create "$SCT" >/dev/null &&
	dd if=/dev/urandom of="$SCT/big" bs=1M count=8 status=none &&
	btrfs subvolume snapshot -r "$SCT" "$SCT@s1" >/dev/null &&
	dd if=/dev/urandom of="$SCT/big2" bs=1M count=8 status=none &&
	btrfs subvolume snapshot -r "$SCT" "$SCT@s2" >/dev/null &&
	export_to full.s1 s1 && export_to inc.s2 s2 s1 &&
	tree_sums "$SCT@s1" >sums.s1 && tree_sums "$SCT@s2" >sums.s2
'

test_expect_success 'import killed mid-receive: no volume, no snapshot, only staging' '
	import_killed full.s1 s1 &&
	entries=$(target_entries) &&
	case "$entries" in
	".volrep-recv-"*" ") ;;
	*) echo "unexpected entries: $entries"; false ;;
	esac &&
	! ls "$TDIR" | grep -q "@" &&
	test "$(ls -d "$TDIR"/.volrep-recv-* | wc -l)" = 1
'

test_expect_success 'the next import removes the stale staging and succeeds' '
	import_from full.s1 s1 >out &&
	grep -q "successfully imported" out &&
	test "$(target_entries)" = "subvol-100-disk-1 subvol-100-disk-1@s1 " &&
	tree_sums "$TDIR/subvol-100-disk-1" >sums.t1 &&
	test_cmp sums.s1 sums.t1
'

test_expect_success 'an incremental import killed mid-receive: the volume is unchanged' '
	import_killed inc.s2 s2 s1 &&
	tree_sums "$TDIR/subvol-100-disk-1" >sums.t1b &&
	test_cmp sums.s1 sums.t1b &&
	! ls "$TDIR" | grep -q "@s2" &&
	btrfs subvolume show "$TDIR/subvol-100-disk-1@s1" | grep -q "readonly"
'

test_expect_success 'prepare removes the stale staging' '
	mkdir -p cfg &&
	printf "node: pve2\n\taddress 127.0.1.2\n\n" >cfg/nodes.cfg &&
	printf "btrfs: local-btrfs\n\tpath %s\n\tcontent images,rootdir\n\n" "$DST" >cfg/storage.cfg &&
	VOLREP_CONFIG_DIR=$PWD/cfg VOLREP_NODE=pve2 VOLREP_STATE_DIR=$PWD/state VOLREP_LOG_DIR=$PWD/log \
		"$VOLREP" prepare-local-job 100-0 local-btrfs:$CT --last_sync 0 >prep.out 2>prep.err &&
	grep -q "\"s1\"" prep.out &&
	test "$(target_entries)" = "subvol-100-disk-1 subvol-100-disk-1@s1 "
'

test_expect_success 'a staging directory in use is left alone' '
	mkdir -m 700 "$TDIR/.volrep-recv-busy" &&
	btrfs subvolume create "$TDIR/.volrep-recv-busy/x" >/dev/null &&
	flock "$TDIR/.volrep-recv-busy" sh -c "
		\"\$VOLREP\" import --btrfs-path \"\$DST\" local-btrfs:\$CT --snapshot s2 --base s1 <inc.s2 >out &&
		test -d \"\$TDIR/.volrep-recv-busy/x\"" &&
	grep -q "successfully imported" out &&
	tree_sums "$TDIR/subvol-100-disk-1" >sums.t2 &&
	test_cmp sums.s2 sums.t2 &&
	btrfs subvolume delete "$TDIR/.volrep-recv-busy/x" >/dev/null &&
	rmdir "$TDIR/.volrep-recv-busy"
'

test_done
