#!/bin/sh
# zfspool backend on a real (zfs-fuse) pool: volrep export | volrep import
# between two pools, full and incremental, and every way an import must
# fail without changing the target.
. "$(dirname "$0")/../lib/storage.sh"
storage_private_namespace "$0" "$@"
. "$(dirname "$0")/../lib/test-lib.sh"

storage_have_zfs || test_skip_all "needs root, unshare and zfs-fuse"
test_when_finished storage_teardown

SRC=/rpool/data/subvol-100-disk-0
TGT=$TRASH/tpool-data/subvol-100-disk-0
V=subvol-100-disk-0
export SRC TGT V

# a fake zfs in front of PATH: logs its argv and runs the real one
mkdir -p "$TRASH/fakebin"
REAL_ZFS=$(command -v zfs)
cat >"$TRASH/fakebin/zfs" <<EOS
#!/bin/sh
echo "zfs \$*" >>"$TRASH/zfs-calls"
exec "$REAL_ZFS" "\$@"
EOS
chmod +x "$TRASH/fakebin/zfs"

export_to() { # FILE VOL SNAP [BASE]
	_f=$1 _v=$2 _s=$3
	"$VOLREP" export --zfs-pool rpool/data "$_v" --snapshot "$_s" ${4:+--base "$4"} >"$_f"
}
import_from() { # FILE VOL SNAP [BASE]
	_f=$1 _v=$2 _s=$3
	"$VOLREP" import --zfs-pool tpool/data "local-zfs:$_v" --snapshot "$_s" ${4:+--base "$4"} <"$_f"
}
target_snaps() {
	zfs list -H -o name -t snapshot -r tpool/data | sed 's/.*@//' | sort | tr '\n' ' '
}

test_expect_success 'set up zfs-fuse with a source and a target pool' '
	zfs_start "$TRASH/zfs" &&
	zfs_pool_create rpool "$TRASH/zfs" /rpool/data &&
	zfs_pool_create tpool "$TRASH/zfs" "$TRASH/tpool-data" &&
	zfs create rpool/data/$V &&
	dd if=/dev/urandom of=$SRC/big bs=64k count=32 status=none &&
	echo one >$SRC/small &&
	mkdir $SRC/dir && echo nested >$SRC/dir/file &&
	zfs snapshot rpool/data/$V@s1 &&
	tree_sums $SRC >sums.s1
'

test_expect_success 'full export and import' '
	export_to full.s1 $V s1 &&
	test -s full.s1 &&
	import_from full.s1 $V s1 >out 2>err &&
	echo "successfully imported '"'"'local-zfs:$V'"'"'" >expect &&
	test_cmp expect out &&
	tree_sums $TGT >sums.t1 &&
	test_cmp sums.s1 sums.t1 &&
	test "$(target_snaps)" = "s1 "
'

test_expect_success 'the received snapshot has the same guid on both sides' '
	a=$(zfs get -H -o value guid rpool/data/$V@s1) &&
	b=$(zfs get -H -o value guid tpool/data/$V@s1) &&
	test -n "$a" && test "$a" = "$b"
'

test_expect_success 'incremental export and import' '
	dd if=/dev/urandom of=$SRC/big bs=64k count=4 seek=8 conv=notrunc status=none &&
	echo two >>$SRC/small &&
	zfs snapshot rpool/data/$V@s2 &&
	tree_sums $SRC >sums.s2 &&
	export_to inc.s2 $V s2 s1 &&
	import_from inc.s2 $V s2 s1 >out &&
	grep -q "successfully imported" out &&
	tree_sums $TGT >sums.t2 &&
	test_cmp sums.s2 sums.t2 &&
	test "$(target_snaps)" = "s1 s2 "
'

test_expect_success 'a second incremental' '
	rm $SRC/dir/file && echo three >$SRC/new &&
	zfs snapshot rpool/data/$V@s3 &&
	tree_sums $SRC >sums.s3 &&
	export_to inc.s3 $V s3 s2 &&
	import_from inc.s3 $V s3 s2 >out &&
	tree_sums $TGT >sums.t3 &&
	test_cmp sums.s3 sums.t3 &&
	test "$(target_snaps)" = "s1 s2 s3 "
'

test_expect_success 'prepare the next increment (s3 -> s4)' '
	dd if=/dev/urandom of=$SRC/big bs=64k count=16 conv=notrunc status=none &&
	zfs snapshot rpool/data/$V@s4 &&
	tree_sums $SRC >sums.s4 &&
	export_to inc.s4 $V s4 s3 &&
	test -s inc.s4
'

test_expect_success 'import with a base the target does not have fails, nothing changes' '
	run_mustfail 1 import_from inc.s4 $V s4 nosuch 2>err &&
	expect_grep "base snapshot '"'"'tpool/data/$V@nosuch'"'"' doesn'"'"'t exist" err &&
	test "$(target_snaps)" = "s1 s2 s3 " &&
	run_mustfail 1 import_from inc.s4 subvol-101-disk-0 s4 s3 2>err &&
	expect_grep "base snapshot '"'"'tpool/data/subvol-101-disk-0@s3'"'"' doesn'"'"'t exist" err &&
	! zfs list tpool/data/subvol-101-disk-0 2>/dev/null
'

test_expect_success 'a full import over an existing volume fails, nothing changes' '
	run_mustfail 1 import_from full.s1 $V s1 2>err &&
	expect_grep "volume '"'"'tpool/data/$V'"'"' already exists" err &&
	test "$(target_snaps)" = "s1 s2 s3 " &&
	tree_sums $TGT >sums.now && test_cmp sums.s3 sums.now
'

test_expect_success 'a truncated stream fails, the target stays at its snapshot' '
	size=$(wc -c <inc.s4) &&
	head -c $((size / 2)) inc.s4 >trunc.s4 &&
	run_mustfail 1 import_from trunc.s4 $V s4 s3 2>err &&
	expect_grep "cannot import" err &&
	test "$(target_snaps)" = "s1 s2 s3 " &&
	tree_sums $TGT >sums.now && test_cmp sums.s3 sums.now
'

test_expect_success 'a corrupted stream fails, the target stays at its snapshot' '
	cp inc.s4 corr.s4 &&
	size=$(wc -c <corr.s4) &&
	for off in $((size / 4)) $((size / 3)) $((size / 2)) $((size * 3 / 4)); do
		printf "\377\377\377\377\377\377\377\377" |
		dd of=corr.s4 bs=1 seek=$off conv=notrunc status=none || return 1
	done &&
	! cmp -s inc.s4 corr.s4 &&
	run_mustfail 1 import_from corr.s4 $V s4 s3 2>err &&
	test "$(target_snaps)" = "s1 s2 s3 " &&
	tree_sums $TGT >sums.now && test_cmp sums.s3 sums.now
'

test_expect_success 'a corrupted multi-snapshot stream is rolled back to the base' '
	export_to inc.s1s4 $V s4 s1 &&
	zfs rollback -r tpool/data/$V@s1 &&
	test "$(target_snaps)" = "s1 " &&
	cp inc.s1s4 corr.s1s4 &&
	size=$(wc -c <corr.s1s4) &&
	printf "\377\377\377\377\377\377\377\377\377\377\377\377" |
		dd of=corr.s1s4 bs=1 seek=$((size * 9 / 10)) conv=notrunc status=none &&
	run_mustfail 1 import_from corr.s1s4 $V s4 s1 2>err &&
	test "$(target_snaps)" = "s1 " &&
	tree_sums $TGT >sums.now && test_cmp sums.s1 sums.now &&
	import_from inc.s1s4 $V s4 s1 >out &&
	test "$(target_snaps)" = "s1 s2 s3 s4 "
'

test_expect_success 'after the failures a good increment still applies' '
	tree_sums $TGT >sums.t4 &&
	test_cmp sums.s4 sums.t4
'

test_expect_success 'a truncated full stream leaves no volume behind' '
	zfs create rpool/data/subvol-102-disk-0 &&
	dd if=/dev/urandom of=/rpool/data/subvol-102-disk-0/f bs=64k count=16 status=none &&
	zfs snapshot rpool/data/subvol-102-disk-0@a &&
	export_to full.102 subvol-102-disk-0 a &&
	head -c $(( $(wc -c <full.102) / 2 )) full.102 >trunc.102 &&
	run_mustfail 1 import_from trunc.102 subvol-102-disk-0 a 2>err &&
	! zfs list tpool/data/subvol-102-disk-0 2>/dev/null
'

test_expect_success 'exporting a snapshot that does not exist fails' '
	run_mustfail 1 export_to none.s $V nosuch 2>err &&
	run_mustfail 1 export_to none.s subvol-103-disk-0 s1 2>err &&
	expect_grep "does not exist" err
'

test_expect_success 'names with shell metacharacters are rejected before any command runs' '
	rm -f "$TRASH/zfs-calls" "$TRASH/pwned" &&
	for vol in "subvol-100-disk-0;touch $TRASH/pwned" "subvol-100-disk-0\$(touch $TRASH/pwned)" \
		"subvol-100-disk-0\`touch $TRASH/pwned\`" "subvol-100-disk-0 x" "-subvol-100-disk-0" \
		"../subvol-100-disk-0" "subvol-100-disk-0/../x" "subvol-100-disk-0@s1" \
		"subvol-100-disk-0|x" "subvol-100-disk-0&" "subvol-100-disk-0>x" "vm-100-disk-0\n" \
		"subvol-99-disk-0" "rpool/data/subvol-100-disk-0" ""; do
		run_mustfail 2 env PATH="$TRASH/fakebin:$PATH" "$VOLREP" import --zfs-pool tpool/data "$vol" --snapshot s9 --base s4 <full.s1 || return 1
		run_mustfail 2 env PATH="$TRASH/fakebin:$PATH" "$VOLREP" export --zfs-pool rpool/data "$vol" --snapshot s4 >/dev/null || return 1
	done 2>err &&
	for snap in "s9;touch $TRASH/pwned" "-s9" "s9 x" "s9\$(id)" "s9/x" "s9@x" ""; do
		run_mustfail 2 env PATH="$TRASH/fakebin:$PATH" "$VOLREP" import --zfs-pool tpool/data $V --snapshot "$snap" --base s4 <full.s1 || return 1
		run_mustfail 2 env PATH="$TRASH/fakebin:$PATH" "$VOLREP" import --zfs-pool tpool/data $V --snapshot s9 --base "$snap" <full.s1 || return 1
	done 2>>err &&
	for pool in "tpool/data;touch $TRASH/pwned" "-tpool" "tpool/../x" "tpool data" "/tpool/data" "tpool@x"; do
		run_mustfail 2 env PATH="$TRASH/fakebin:$PATH" "$VOLREP" import --zfs-pool "$pool" $V --snapshot s9 --base s4 <full.s1 || return 1
	done 2>>err &&
	test ! -e "$TRASH/zfs-calls" &&
	test ! -e "$TRASH/pwned" &&
	expect_grep "invalid volume name" err &&
	expect_grep "invalid snapshot name" err &&
	expect_grep "invalid zfs pool" err &&
	test "$(target_snaps)" = "s1 s2 s3 s4 "
'

test_expect_success 'the fake zfs used above does log the commands it sees' '
	env PATH="$TRASH/fakebin:$PATH" "$VOLREP" export --zfs-pool rpool/data $V --snapshot s4 --base s3 >/dev/null &&
	expect_grep "send" "$TRASH/zfs-calls"
'

test_expect_success 'zfs-fuse has no resume tokens or encryption: resume and raw are refused, nothing else changes' '
	rm -f "$TRASH/zfs-calls" &&
	env PATH="$TRASH/fakebin:$PATH" "$VOLREP" import --zfs-pool tpool/data $V --snapshot s5 --base s4 \
		--resume-token </dev/null >out &&
	echo "resume-token -" >expect &&
	test_cmp expect out &&
	{ env PATH="$TRASH/fakebin:$PATH" "$VOLREP" import --zfs-pool tpool/data $V --snapshot s5 --base s4 \
		--resume <inc.s4 2>err || rc=$?; } && test "$rc" = 1 &&
	expect_grep "no resumable receives" err &&
	{ "$VOLREP" import --zfs-pool tpool/data $V --snapshot s5 --base s4 --abort-resume </dev/null 2>err ||
		rc=$?; } && test "$rc" = 1 &&
	run_mustfail 2 "$VOLREP" import --zfs-pool tpool/data $V --snapshot s5 --resume --abort-resume </dev/null &&
	{ "$VOLREP" import --zfs-pool tpool/data $V --snapshot s5 --base s4 --raw <inc.s4 2>err || rc=$?; } &&
	test "$rc" = 1 &&
	expect_grep "cannot receive a raw (encrypted) stream: zfs here has no encryption support" err &&
	! grep -e "receive_resume_token" -e "recv -A" -e "recv.* -s " "$TRASH/zfs-calls" &&
	test "$(target_snaps)" = "s1 s2 s3 s4 "
'

test_expect_success 'bad arguments of the verbs' '
	run_mustfail 2 "$VOLREP" import $V --snapshot s1 <full.s1 2>err &&
	expect_grep "no storage given" err &&
	run_mustfail 2 "$VOLREP" import --zfs-pool tpool/data --btrfs-path /mnt $V --snapshot s1 <full.s1 &&
	run_mustfail 2 "$VOLREP" import --zfs-pool tpool/data $V <full.s1 2>err &&
	expect_grep "missing option" err &&
	run_mustfail 2 "$VOLREP" import --zfs-pool tpool/data $V --snapshot s1 --base s1 <full.s1 &&
	run_mustfail 2 "$VOLREP" import --zfs-pool tpool/data $V $V --snapshot s1 <full.s1 &&
	run_mustfail 2 "$VOLREP" import --zfs-pool tpool/data "Bad_Id:$V" --snapshot s1 <full.s1 &&
	run_mustfail 2 "$VOLREP" import --zfs-pool tpool/data $V --snapshot s1 --frobnicate <full.s1 &&
	test "$(target_snaps)" = "s1 s2 s3 s4 "
'

# the C API on the same storage: probing, listing, snapshot identities on
# both sides, all-or-nothing snapshots, send size estimates, export piped
# into import
for t in "$TOP/build/tests/test-backend-live" "$TOP/build/asan/tests/test-backend-live"; do
	[ -x "$t" ] || continue
	test_expect_success "backend API on real storage ($(basename "$(dirname "$(dirname "$t")")"))" '
		{ ! zfs list tpool/data/subvol-102-disk-0 >/dev/null 2>&1 ||
			zfs_retry_busy zfs destroy -r -f tpool/data/subvol-102-disk-0; } &&
		{ env VOLREP_TEST_TYPE=zfspool VOLREP_TEST_SRC=rpool/data VOLREP_TEST_DST=tpool/data \
		VOLREP_TEST_VOL=subvol-100-disk-0 VOLREP_TEST_VMID=100 VOLREP_TEST_VOL2=subvol-102-disk-0 VOLREP_TEST_VMID2=102 \
		"'"$t"'" >live.out 2>&1 || { cat live.out; false; }; } &&
		grep -q "PASSED  \] 6 test" live.out
	'
done

test_done
