#!/bin/sh
# Storage on the multi-node test bed: every node namespace gets its own
# zfs-fuse pool rpool (rpool/data at /rpool/data) and btrfs at /mnt/btrfs,
# at the same paths, and a volume moves between two nodes with volrep
# export | volrep import; the teardown leaves no daemon, mount or loop
# device behind.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/testbed.sh"
. "$TOP/tests/lib/storage.sh"
storage_testbed_require

test_expect_success 'two nodes with their own storage' '
	testbed_init &&
	testbed_add_node a 1 &&
	testbed_add_node b 2 &&
	echo "$TB" >"$TRASH/tb" &&
	node_exec a zfs list -H -o name rpool/data &&
	node_exec b zfs list -H -o name rpool/data &&
	node_exec a sh -c "grep -q \" /mnt/btrfs btrfs \" /proc/mounts" &&
	node_exec b sh -c "grep -q \" /mnt/btrfs btrfs \" /proc/mounts" &&
	! grep -q " /rpool/data " /proc/mounts &&
	! grep -q " /mnt/btrfs " /proc/mounts
'
testbed_adopt

test_expect_success 'a zfs volume from node a to node b' '
	node_exec a zfs create rpool/data/subvol-100-disk-0 &&
	node_exec a sh -c "echo hello >/rpool/data/subvol-100-disk-0/f" &&
	node_exec a zfs snapshot rpool/data/subvol-100-disk-0@s1 &&
	! node_exec b test -e /rpool/data/subvol-100-disk-0/f &&
	node_exec a volrep export --zfs-pool rpool/data subvol-100-disk-0 --snapshot s1 |
		node_exec b volrep import --zfs-pool rpool/data subvol-100-disk-0 --snapshot s1 >out &&
	expect_grep "successfully imported" out &&
	test "$(node_exec b cat /rpool/data/subvol-100-disk-0/f)" = hello
'

test_expect_success 'a btrfs volume from node b to node a' '
	node_exec b sh -c "mkdir -p /mnt/btrfs/images/100 &&
		btrfs subvolume create /mnt/btrfs/images/100/vm-100-disk-0 >/dev/null &&
		head -c 65536 /dev/urandom >/mnt/btrfs/images/100/vm-100-disk-0/disk.raw &&
		btrfs subvolume snapshot -r /mnt/btrfs/images/100/vm-100-disk-0 /mnt/btrfs/images/100/vm-100-disk-0@s1 >/dev/null" &&
	node_exec b volrep export --btrfs-path /mnt/btrfs 100/vm-100-disk-0.raw --snapshot s1 |
		node_exec a volrep import --btrfs-path /mnt/btrfs 100/vm-100-disk-0.raw --snapshot s1 >out &&
	expect_grep "successfully imported" out &&
	test "$(node_exec a sha256sum </dev/null /mnt/btrfs/images/100/vm-100-disk-0/disk.raw | cut -d" " -f1)" = \
	     "$(node_exec b sha256sum </dev/null /mnt/btrfs/images/100/vm-100-disk-0/disk.raw | cut -d" " -f1)"
'

test_expect_success 'teardown leaves no zfs-fuse daemon or loop device behind' '
	imgs="$TB/nodes/a/storage/btrfs.img $TB/nodes/b/storage/btrfs.img" &&
	tb=$TB &&
	testbed_teardown &&
	! pgrep -f "zfs-fuse.*$tb" &&
	for i in $imgs; do test -z "$(losetup -j "$i")" || return 1; done
'

test_done
