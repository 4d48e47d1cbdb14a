#!/bin/sh
# Received data is data: a replication stream (from a peer, so hostile)
# must not choose where the received file system is mounted, that it is
# shared or that setuid binaries on it work, and must not bring datasets
# below the volume. Streams made with `zfs send -R` of datasets that set
# mountpoint/canmount/setuid/exec, imported with `volrep import`.
. "$(dirname "$0")/../lib/storage.sh"
storage_private_namespace "$0" "$@"
. "$(dirname "$0")/../lib/test-lib.sh"

storage_have_zfs || test_skip_all "needs root, unshare and zfs-fuse"
test_when_finished storage_teardown

TDATA=$TRASH/tpool-data
EVIL=$TRASH/evil
export TDATA EVIL

export_to() { # FILE VOL SNAP [BASE]
	"$VOLREP" export --zfs-pool rpool/data "$2" --snapshot "$3" ${4:+--base "$4"} >"$1"
}
import_from() { # FILE VOL SNAP [BASE]
	"$VOLREP" import --zfs-pool tpool/data "local-zfs:$2" --snapshot "$3" ${4:+--base "$4"} <"$1"
}
prop() { # PROPERTY DATASET: value and source
	zfs get -H -o value,source "$1" "$2" | tr '\t' ' '
}
# nothing of ours is mounted at or below $1 (the kernel's view)
not_mounted_at() {
	! awk '{ print $2 }' /proc/self/mounts | grep -q "^$1"
}

test_expect_success 'set up zfs-fuse; the target pool forbids setuid and exec' '
	zfs_start "$TRASH/zfs" &&
	zfs_pool_create rpool "$TRASH/zfs" /rpool/data &&
	zfs_pool_create tpool "$TRASH/zfs" "$TDATA" &&
	zfs set setuid=off tpool/data && zfs set exec=off tpool/data &&
	mkdir -p "$EVIL"
'

test_expect_success 'hostile stream: mountpoint, canmount, setuid, exec from the sender' '
	zfs create -o mountpoint="$EVIL/ssh" -o canmount=on -o setuid=on -o exec=on \
		rpool/data/subvol-301-disk-0 &&
	echo "ssh-ed25519 AAAA attacker" >"$EVIL/ssh/authorized_keys" &&
	zfs snapshot rpool/data/subvol-301-disk-0@s1 &&
	export_to h301.s1 subvol-301-disk-0 s1 &&
	zfs_retry_busy zfs umount rpool/data/subvol-301-disk-0 &&
	test ! -e "$EVIL/ssh/authorized_keys"
'

test_expect_success 'import: not mounted where the stream says, mounted in the storage layout' '
	{ import_from h301.s1 subvol-301-disk-0 s1 >out 2>err || { cat err; false; }; } &&
	grep -q "successfully imported" out &&
	test ! -e "$EVIL/ssh/authorized_keys" &&
	not_mounted_at "$EVIL" &&
	test "$(prop mountpoint tpool/data/subvol-301-disk-0)" = \
		"$TDATA/subvol-301-disk-0 inherited from tpool/data" &&
	test "$(zfs get -H -o value mounted tpool/data/subvol-301-disk-0)" = yes &&
	test -f "$TDATA/subvol-301-disk-0/authorized_keys"
'

test_expect_success 'import: setuid and exec are the target pool'"'"'s, canmount the default' '
	test "$(prop setuid tpool/data/subvol-301-disk-0)" = "off inherited from tpool/data" &&
	test "$(prop exec tpool/data/subvol-301-disk-0)" = "off inherited from tpool/data" &&
	test "$(zfs get -H -o value canmount tpool/data/subvol-301-disk-0)" = on
'

test_expect_success 'incremental hostile stream: a new mountpoint is not followed either' '
	zfs_retry_busy zfs mount rpool/data/subvol-301-disk-0 &&
	echo more >"$EVIL/ssh/more" &&
	# unmounted first: a new mountpoint then needs no remount, which
	# zfs-fuse may refuse as busy right after the mount on a loaded machine
	zfs_retry_busy zfs umount rpool/data/subvol-301-disk-0 &&
	zfs set mountpoint="$EVIL/hooks" rpool/data/subvol-301-disk-0 &&
	zfs set devices=on rpool/data/subvol-301-disk-0 &&
	zfs snapshot rpool/data/subvol-301-disk-0@s2 &&
	export_to h301.s2 subvol-301-disk-0 s2 s1 &&
	{ test "$(zfs get -H -o value mounted rpool/data/subvol-301-disk-0)" = no ||
		zfs_retry_busy zfs umount rpool/data/subvol-301-disk-0; } &&
	import_from h301.s2 subvol-301-disk-0 s2 s1 >out 2>err &&
	grep -q "successfully imported" out &&
	not_mounted_at "$EVIL" &&
	test "$(prop mountpoint tpool/data/subvol-301-disk-0)" = \
		"$TDATA/subvol-301-disk-0 inherited from tpool/data" &&
	test -f "$TDATA/subvol-301-disk-0/more" &&
	test "$(prop setuid tpool/data/subvol-301-disk-0)" = "off inherited from tpool/data"
'

test_expect_success 'a stream with a dataset below the volume is refused, nothing left' '
	zfs create -o mountpoint="$EVIL/tree" rpool/data/subvol-302-disk-0 &&
	zfs create -o mountpoint="$EVIL/tree-child" -o setuid=on rpool/data/subvol-302-disk-0/child &&
	echo x >"$EVIL/tree-child/f" &&
	zfs snapshot -r rpool/data/subvol-302-disk-0@s1 &&
	export_to h302.s1 subvol-302-disk-0 s1 &&
	zfs_retry_busy zfs umount rpool/data/subvol-302-disk-0/child &&
	zfs_retry_busy zfs umount rpool/data/subvol-302-disk-0 &&
	run_mustfail 1 import_from h302.s1 subvol-302-disk-0 s1 >out 2>err &&
	expect_grep "below the volume" err &&
	! zfs list tpool/data/subvol-302-disk-0 >/dev/null 2>&1 &&
	not_mounted_at "$EVIL"
'

test_expect_success 'incremental stream adding a child: refused, the volume rolled back and safe' '
	zfs create -o mountpoint="$EVIL/late" rpool/data/subvol-301-disk-0/late &&
	zfs snapshot -r rpool/data/subvol-301-disk-0@s3 &&
	export_to h301.s3 subvol-301-disk-0 s3 s2 &&
	zfs_retry_busy zfs umount rpool/data/subvol-301-disk-0/late &&
	run_mustfail 1 import_from h301.s3 subvol-301-disk-0 s3 s2 >out 2>err &&
	expect_grep "below the volume" err &&
	! zfs list tpool/data/subvol-301-disk-0/late >/dev/null 2>&1 &&
	! zfs list tpool/data/subvol-301-disk-0@s3 >/dev/null 2>&1 &&
	not_mounted_at "$EVIL" &&
	test "$(prop mountpoint tpool/data/subvol-301-disk-0)" = \
		"$TDATA/subvol-301-disk-0 inherited from tpool/data"
'

test_expect_success 'interrupted before the reset: the next prepare resets received values' '
	zfs create -o mountpoint="$EVIL/crash" -o setuid=on rpool/data/subvol-303-disk-0 &&
	zfs snapshot rpool/data/subvol-303-disk-0@s1 &&
	export_to h303.s1 subvol-303-disk-0 s1 &&
	zfs_retry_busy zfs umount rpool/data/subvol-303-disk-0 &&
	# what a receive killed right after `zfs recv -u` leaves
	zfs recv -u -F tpool/data/subvol-303-disk-0 <h303.s1 &&
	test "$(prop mountpoint tpool/data/subvol-303-disk-0)" = "$EVIL/crash received" &&
	mkdir -p cfg &&
	printf "node: pve2\n\taddress 127.0.1.2\n\n" >cfg/nodes.cfg &&
	printf "zfspool: local-zfs\n\tpool tpool/data\n\tcontent images,rootdir\n\n" >cfg/storage.cfg &&
	VOLREP_CONFIG_DIR=$PWD/cfg VOLREP_NODE=pve2 VOLREP_STATE_DIR=$PWD/state VOLREP_LOG_DIR=$PWD/log \
		"$VOLREP" prepare-local-job 303-0 local-zfs:subvol-303-disk-0 --last_sync 0 >prep.out &&
	grep -q "\"s1\"" prep.out &&
	test "$(prop mountpoint tpool/data/subvol-303-disk-0)" = \
		"$TDATA/subvol-303-disk-0 inherited from tpool/data" &&
	test "$(prop setuid tpool/data/subvol-303-disk-0)" = "off inherited from tpool/data" &&
	not_mounted_at "$EVIL" &&
	test "$(zfs get -H -o value mounted tpool/data/subvol-303-disk-0)" = yes
'

test_done
