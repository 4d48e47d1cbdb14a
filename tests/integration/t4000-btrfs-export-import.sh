#!/bin/sh
# btrfs backend on real loop-mounted filesystems: volrep export | volrep
# import from /mnt/btrfs to /mnt/btrfs2, for a VM disk (disk.raw in a
# subvolume) and a container subvolume, and every way an import must fail
# without changing the target.
. "$(dirname "$0")/../lib/storage.sh"
storage_private_namespace "$0" "$@"
. "$(dirname "$0")/../lib/test-lib.sh"

storage_have_btrfs || test_skip_all "needs root, unshare, losetup and btrfs"
test_when_finished storage_teardown

VM=100/vm-100-disk-0.raw
CT=100/subvol-100-disk-1
SVM=/mnt/btrfs/images/100/vm-100-disk-0
TVM=/mnt/btrfs2/images/100/vm-100-disk-0
SCT=/mnt/btrfs/images/100/subvol-100-disk-1
TCT=/mnt/btrfs2/images/100/subvol-100-disk-1
export VM CT SVM TVM SCT TCT

mkdir -p "$TRASH/fakebin"
REAL_BTRFS=$(command -v btrfs)
cat >"$TRASH/fakebin/btrfs" <<EOS
#!/bin/sh
echo "btrfs \$*" >>"$TRASH/btrfs-calls"
exec "$REAL_BTRFS" "\$@"
EOS
chmod +x "$TRASH/fakebin/btrfs"

export_to() { # FILE VOL SNAP [BASE]
	_f=$1 _v=$2 _s=$3
	"$VOLREP" export --btrfs-path /mnt/btrfs "$_v" --snapshot "$_s" ${4:+--base "$4"} >"$_f"
}
import_from() { # FILE VOL SNAP [BASE]
	_f=$1 _v=$2 _s=$3
	"$VOLREP" import --btrfs-path /mnt/btrfs2 "local-btrfs:$_v" --snapshot "$_s" ${4:+--base "$4"} <"$_f"
}
snap() { # SUBVOL NAME
	btrfs subvolume snapshot -r "$1" "$1@$2" >/dev/null
}
# the target's entries for guest 100 (volumes and snapshots)
target_entries() {
	ls -A /mnt/btrfs2/images/100 2>/dev/null | LC_ALL=C sort | tr '\n' ' '
}
both_sums() { # the data of both volumes
	sha256sum <"$1/disk.raw" && tree_sums "$2"
}

test_expect_success 'set up a source and a target btrfs' '
	btrfs_create "$TRASH/b1.img" /mnt/btrfs &&
	btrfs_create "$TRASH/b2.img" /mnt/btrfs2 &&
	mkdir -p /mnt/btrfs/images/100 &&
	btrfs subvolume create $SVM >/dev/null &&
	dd if=/dev/urandom of=$SVM/disk.raw bs=64k count=64 status=none &&
	btrfs subvolume create $SCT >/dev/null &&
	echo one >$SCT/small && mkdir $SCT/etc && echo conf >$SCT/etc/conf &&
	snap $SVM s1 && snap $SCT s1 &&
	both_sums $SVM $SCT >sums.s1
'

test_expect_success 'full export and import of a VM disk and a container volume' '
	export_to vm.s1 $VM s1 && test -s vm.s1 &&
	export_to ct.s1 $CT s1 && test -s ct.s1 &&
	import_from vm.s1 $VM s1 >out &&
	echo "successfully imported '"'"'local-btrfs:$VM'"'"'" >expect &&
	test_cmp expect out &&
	import_from ct.s1 $CT s1 >out &&
	both_sums $TVM $TCT >sums.t1 &&
	test_cmp sums.s1 sums.t1 &&
	test "$(target_entries)" = "subvol-100-disk-1 subvol-100-disk-1@s1 vm-100-disk-0 vm-100-disk-0@s1 "
'

test_expect_success 'the replica snapshot is read-only and carries the source UUID' '
	src=$(btrfs subvolume show $SVM@s1 | sed -n "s/^[[:space:]]*UUID:[[:space:]]*//p") &&
	rcv=$(btrfs subvolume show $TVM@s1 | sed -n "s/^[[:space:]]*Received UUID:[[:space:]]*//p") &&
	test -n "$src" && test "$src" = "$rcv" &&
	btrfs property get -ts $TVM@s1 ro | grep -q "ro=true" &&
	btrfs property get -ts $TVM ro | grep -q "ro=false" &&
	echo scratch >$TVM/writable && rm $TVM/writable
'

test_expect_success 'incremental export and import' '
	dd if=/dev/urandom of=$SVM/disk.raw bs=64k count=8 seek=16 conv=notrunc status=none &&
	echo two >>$SCT/small &&
	snap $SVM s2 && snap $SCT s2 &&
	both_sums $SVM $SCT >sums.s2 &&
	export_to vm.s2 $VM s2 s1 && export_to ct.s2 $CT s2 s1 &&
	test $(wc -c <vm.s2) -lt $(wc -c <vm.s1) &&
	import_from vm.s2 $VM s2 s1 >out && import_from ct.s2 $CT s2 s1 >>out &&
	test $(grep -c "successfully imported" out) = 2 &&
	both_sums $TVM $TCT >sums.t2 &&
	test_cmp sums.s2 sums.t2
'

test_expect_success 'a second incremental' '
	dd if=/dev/urandom of=$SVM/disk.raw bs=64k count=4 seek=40 conv=notrunc status=none &&
	rm $SCT/etc/conf && echo three >$SCT/new &&
	snap $SVM s3 && snap $SCT s3 &&
	both_sums $SVM $SCT >sums.s3 &&
	export_to vm.s3 $VM s3 s2 && export_to ct.s3 $CT s3 s2 &&
	import_from vm.s3 $VM s3 s2 >out && import_from ct.s3 $CT s3 s2 >>out &&
	both_sums $TVM $TCT >sums.t3 &&
	test_cmp sums.s3 sums.t3 &&
	test "$(target_entries)" = "subvol-100-disk-1 subvol-100-disk-1@s1 subvol-100-disk-1@s2 subvol-100-disk-1@s3 vm-100-disk-0 vm-100-disk-0@s1 vm-100-disk-0@s2 vm-100-disk-0@s3 "
'

test_expect_success 'prepare the next increment (s3 -> s4)' '
	dd if=/dev/urandom of=$SVM/disk.raw bs=64k count=32 conv=notrunc status=none &&
	snap $SVM s4 &&
	export_to vm.s4 $VM s4 s3 && test -s vm.s4 &&
	target_entries >entries.before
'

test_expect_success 'import with a base the target does not have fails, nothing changes' '
	run_mustfail 1 import_from vm.s4 $VM s4 nosuch 2>err &&
	expect_grep "base snapshot '"'"'$TVM@nosuch'"'"' doesn'"'"'t exist" err &&
	run_mustfail 1 import_from vm.s4 100/vm-100-disk-7.raw s4 s3 2>err &&
	expect_grep "doesn'"'"'t exist" err &&
	target_entries >entries.now && test_cmp entries.before entries.now
'

test_expect_success 'a full import over an existing volume fails, nothing changes' '
	run_mustfail 1 import_from vm.s1 $VM s1 2>err &&
	expect_grep "volume '"'"'$TVM'"'"' already exists" err &&
	run_mustfail 1 import_from vm.s1 $VM s9 2>err &&
	expect_grep "already exists" err &&
	target_entries >entries.now && test_cmp entries.before entries.now
'

test_expect_success 'a truncated stream fails, the target stays at its snapshot' '
	head -c $(( $(wc -c <vm.s4) / 2 )) vm.s4 >trunc.s4 &&
	run_mustfail 1 import_from trunc.s4 $VM s4 s3 2>err &&
	expect_grep "cannot import" err &&
	target_entries >entries.now && test_cmp entries.before entries.now &&
	both_sums $TVM $TCT >sums.now && test_cmp sums.s3 sums.now
'

test_expect_success 'a corrupted stream fails, the target stays at its snapshot' '
	cp vm.s4 corr.s4 &&
	size=$(wc -c <corr.s4) &&
	for off in 200 $((size / 3)) $((size / 2)); do
		printf "\377\377\377\377\377\377\377\377" |
		dd of=corr.s4 bs=1 seek=$off conv=notrunc status=none || return 1
	done &&
	! cmp -s vm.s4 corr.s4 &&
	run_mustfail 1 import_from corr.s4 $VM s4 s3 2>err &&
	target_entries >entries.now && test_cmp entries.before entries.now &&
	both_sums $TVM $TCT >sums.now && test_cmp sums.s3 sums.now
'

test_expect_success 'a stream of another snapshot than announced is refused' '
	run_mustfail 1 import_from vm.s4 $VM s5 s3 2>err &&
	expect_grep "did not contain snapshot" err &&
	target_entries >entries.now && test_cmp entries.before entries.now
'

test_expect_success 'a truncated full stream leaves nothing behind' '
	mkdir -p /mnt/btrfs/images/101 &&
	btrfs subvolume create /mnt/btrfs/images/101/subvol-101-disk-0 >/dev/null &&
	dd if=/dev/urandom of=/mnt/btrfs/images/101/subvol-101-disk-0/f bs=64k count=16 status=none &&
	snap /mnt/btrfs/images/101/subvol-101-disk-0 a &&
	export_to full.101 101/subvol-101-disk-0 a &&
	head -c $(( $(wc -c <full.101) / 2 )) full.101 >trunc.101 &&
	run_mustfail 1 import_from trunc.101 101/subvol-101-disk-0 a 2>err &&
	test ! -e /mnt/btrfs2/images/101 &&
	! btrfs subvolume list /mnt/btrfs2 | grep -q 101
'

test_expect_success 'after the failures the increment applies' '
	both_sums $SVM $SCT >sums.s4 &&
	import_from vm.s4 $VM s4 s3 >out &&
	both_sums $TVM $TCT >sums.t4 &&
	test_cmp sums.s4 sums.t4 &&
	! ls -A /mnt/btrfs2/images/100 | grep -q volrep
'

test_expect_success 'names with shell metacharacters are rejected before any command runs' '
	rm -f "$TRASH/btrfs-calls" "$TRASH/pwned" &&
	for vol in "100/vm-100-disk-0.raw;touch $TRASH/pwned" "100/vm-100-disk-0\$(touch $TRASH/pwned).raw" \
		"100/vm-100-disk-0\`id\`.raw" "100/vm-100-disk-0 x.raw" "-100/vm-100-disk-0.raw" \
		"../100/vm-100-disk-0.raw" "100/../vm-100-disk-0.raw" "100/vm-100-disk-0@s1.raw" \
		"100/vm-101-disk-0.raw" "100/vm-100-disk-0" "100/subvol-100-disk-1.raw" "/100/vm-100-disk-0.raw" \
		"100/vm-100-disk-0|x.raw" "100//vm-100-disk-0.raw" "100/vm-100-disk-0.raw/x" ""; do
		run_mustfail 2 env PATH="$TRASH/fakebin:$PATH" "$VOLREP" import --btrfs-path /mnt/btrfs2 "$vol" --snapshot s9 --base s4 <vm.s1 || return 1
		run_mustfail 2 env PATH="$TRASH/fakebin:$PATH" "$VOLREP" export --btrfs-path /mnt/btrfs "$vol" --snapshot s4 >/dev/null || return 1
	done 2>err &&
	for snap in "s9;touch $TRASH/pwned" "-s9" "s9 x" "s9\$(id)" "s9/x" "s9@x" ".."; do
		run_mustfail 2 env PATH="$TRASH/fakebin:$PATH" "$VOLREP" import --btrfs-path /mnt/btrfs2 $VM --snapshot "$snap" --base s4 <vm.s1 || return 1
		run_mustfail 2 env PATH="$TRASH/fakebin:$PATH" "$VOLREP" export --btrfs-path /mnt/btrfs $VM --snapshot s4 --base "$snap" >/dev/null || return 1
	done 2>>err &&
	for path in "/mnt/btrfs2;touch $TRASH/pwned" "mnt/btrfs2" "/mnt/../mnt/btrfs2" "/mnt/btrfs2 x" "/mnt/btrfs2\$(id)" "-/mnt"; do
		run_mustfail 2 env PATH="$TRASH/fakebin:$PATH" "$VOLREP" import --btrfs-path "$path" $VM --snapshot s9 --base s4 <vm.s1 || return 1
	done 2>>err &&
	test ! -e "$TRASH/btrfs-calls" &&
	test ! -e "$TRASH/pwned" &&
	expect_grep "invalid volume name" err &&
	expect_grep "invalid snapshot name" err &&
	expect_grep "invalid btrfs path" err
'

test_expect_success 'the fake btrfs used above does log the commands it sees' '
	env PATH="$TRASH/fakebin:$PATH" "$VOLREP" export --btrfs-path /mnt/btrfs $VM --snapshot s4 --base s3 >/dev/null &&
	expect_grep "send" "$TRASH/btrfs-calls"
'

# the C API on the same storage: probing, listing, snapshot identities on
# both sides, all-or-nothing snapshots, send size estimates, export piped
# into import
for t in "$TOP/build/tests/test-backend-live" "$TOP/build/asan/tests/test-backend-live"; do
	[ -x "$t" ] || continue
	test_expect_success "backend API on real storage ($(basename "$(dirname "$(dirname "$t")")"))" '
		for sv in /mnt/btrfs2/images/101/subvol-101-disk-0*; do
			[ ! -e "$sv" ] || btrfs subvolume delete "$sv" >/dev/null || return 1
		done &&
		{ env VOLREP_TEST_TYPE=btrfs VOLREP_TEST_SRC=/mnt/btrfs VOLREP_TEST_DST=/mnt/btrfs2 \
		VOLREP_TEST_VOL=100/vm-100-disk-0.raw VOLREP_TEST_VMID=100 VOLREP_TEST_VOL2=101/subvol-101-disk-0 VOLREP_TEST_VMID2=101 \
		"'"$t"'" >live.out 2>&1 || { cat live.out; false; }; } &&
		grep -q "PASSED  \] 6 test" live.out
	'
done

test_done
