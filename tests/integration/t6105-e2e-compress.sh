#!/bin/sh
# Compression on the wire, end to end on two namespace nodes (zfs-fuse,
# btrfs): jobs with compress zstd and lz4 and the node default from
# volrep.cfg replicate full and incremental with equal data, and say
# what the compression gained; a target refuses compressed streams that
# are corrupt, truncated, mislabelled or a decompression bomb, and keeps
# nothing of them.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require_engine
command -v zstd >/dev/null || test_skip_all "needs zstd (the command) for the bomb"

CT=local-zfs:subvol-200-disk-0
VM=local-btrfs:100/vm-100-disk-0.raw
CT3=local-zfs:subvol-300-disk-0
X=local-zfs:subvol-400-disk-0
FRAME="/usr/bin/python3 $TOP/tests/lib/wire-frame.py"

e2e_up 'two nodes with zfs-fuse, btrfs and sshd come up' a b

# text_write NODE VOLID MB: text-like data (numbered lines) into a new
# file of a file-system volume
text_write() {
	_d=$(vol_dir "$1" "$2") &&
	node_exec "$1" sh -c "seq -f 'line %g of a text-like file, compressible' 1 999999999 |
		head -c $(($3 * 1048576)) >\"$_d/text-\$(date +%s%N)\""
}
# ratio LOG: the compression ratio of the last transfer in a job log
ratio() {
	sed -n "s/.*sent .* compressed (ratio \([0-9.]*\),.*/\1/p" "$1" | tail -n 1
}

test_expect_success 'guests: CT 200 and CT 300 on ZFS, VM 100 on btrfs; text-like data' '
	guest_create a 200 lxc &&
	guest_add_disk a 200 rootfs $CT 128 &&
	text_write a $CT 8 &&
	guest_create a 300 lxc &&
	guest_add_disk a 300 rootfs $CT3 64 &&
	text_write a $CT3 4 &&
	guest_create a 100 qemu &&
	guest_add_disk a 100 scsi0 $VM 64 &&
	d=$(vol_dir a $VM) &&
	node_exec a sh -c "seq -f \"block %g\" 1 9999999 | head -c 8388608 |
		dd of=\"$d/disk.raw\" conv=notrunc status=none" &&
	vol_write a $VM 2 20
'

test_expect_success 'create-local-job --compress; bad values refused, nothing written' '
	vr a create-local-job 200-0 b --compress zstd &&
	vr a create-local-job 100-0 b --compress lz4 --rate 50 &&
	vr a create-local-job 300-0 b &&
	cp "$TB/config/replication.cfg" before &&
	run_mustfail 2 vr a update 300-0 --compress gzip 2>err &&
	expect_grep "invalid compress .gzip." err &&
	test_cmp before "$TB/config/replication.cfg" &&
	expect_grep "^	compress zstd$" "$TB/config/replication.cfg" &&
	vr a list --output-format json >out &&
	jq -e ".[] | select(.id == \"100-0\") | .compress == \"lz4\"" out
'

test_expect_success 'zstd, ZFS: full sync, data equal, compressed more than 2x' '
	job_run a 200-0 &&
	vr a log 200-0 >log &&
	cat log &&
	expect_grep "full sync .$CT." log &&
	expect_grep "compressing the stream of .$CT. with zstd" log &&
	r=$(ratio log) &&
	awk -v r="$r" "BEGIN { exit !(r > 2) }" &&
	assert_synced a b 200-0 $CT
'

test_expect_success 'zstd, ZFS: incremental sync' '
	text_write a $CT 2 &&
	job_run a 200-0 &&
	vr a log 200-0 >log &&
	expect_grep "incremental sync .$CT." log &&
	expect_grep "compressing the stream of .$CT. with zstd" log &&
	assert_synced a b 200-0 $CT
'

test_expect_success 'lz4, btrfs, rate limited: full and incremental, data equal' '
	job_run a 100-0 &&
	vr a log 100-0 >log &&
	cat log &&
	expect_grep "compressing the stream of .$VM. with lz4" log &&
	assert_synced a b 100-0 $VM &&
	vol_write a $VM 1 30 &&
	job_run a 100-0 &&
	vr a log 100-0 >log &&
	expect_grep "incremental sync .$VM." log &&
	expect_grep "with lz4" log &&
	assert_synced a b 100-0 $VM
'

test_expect_success 'the node default (volrep.cfg compress lz4) for a job without compress' '
	printf "compress lz4\n" >"$TB/config/volrep.cfg" &&
	job_run a 300-0 &&
	vr a log 300-0 >log &&
	expect_grep "compressing the stream of .$CT3. with lz4" log &&
	assert_synced a b 300-0 $CT3 &&
	vr a update 300-0 --compress none &&
	text_write a $CT3 1 &&
	job_run a 300-0 &&
	vr a log 300-0 >log &&
	! grep "compressing" log &&
	assert_synced a b 300-0 $CT3 &&
	rm "$TB/config/volrep.cfg"
'

test_expect_success 'a hand-made stream for the import tests: guest 400' '
	guest_create a 400 lxc &&
	guest_add_disk a 400 rootfs $X 64 &&
	text_write a $X 1 &&
	vol_snap a $X s1 &&
	vr a export $X --snapshot s1 >plain &&
	test -s plain &&
	head -c 16777216 /dev/zero | zstd -q -c >zeros.zst &&
	test "$(wc -c <zeros.zst)" -lt 4096
'

# try_import FILE CODEC: volrep import of FILE on b, exit code into $rc
try_import() {
	rc=0
	node_exec b volrep import $X --snapshot s1 --compress "$2" <"$1" >out 2>err || rc=$?
	cat err
}

test_expect_success 'import --compress refuses a corrupt, a truncated, a mislabelled stream, a bomb' '
	$FRAME zstd corrupt <plain >corrupt &&
	try_import corrupt zstd && test $rc = 1 && expect_grep "checksum mismatch" err &&
	! vol_exists b $X &&
	$FRAME zstd truncated <plain >truncated &&
	try_import truncated zstd && test $rc = 1 && ! vol_exists b $X &&
	$FRAME lz4 ok <plain >lz4ok &&
	try_import lz4ok zstd && test $rc = 1 && expect_grep "not the one announced" err &&
	! vol_exists b $X &&
	try_import plain zstd && test $rc = 1 && expect_grep "bad magic" err &&
	! vol_exists b $X &&
	$FRAME zstd bomb zeros.zst </dev/null >bomb &&
	try_import bomb zstd && test $rc = 1 && expect_grep "corrupt frame" err &&
	! vol_exists b $X &&
	! grep successfully out
'

test_expect_success 'import --compress: a well-formed stream of raw frames is received' '
	$FRAME lz4 ok <plain >good &&
	try_import good lz4 && test $rc = 0 &&
	expect_grep "successfully imported .$X." out &&
	test "$(vol_sum a $X)" = "$(vol_sum b $X)" &&
	run_mustfail 2 node_exec b volrep import $X --snapshot s1 --compress gzip <good 2>err &&
	expect_grep "invalid --compress .gzip." err
'

test_done
