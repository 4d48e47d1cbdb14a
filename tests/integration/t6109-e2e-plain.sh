#!/bin/sh
# Plain incrementals (engine/streamprops.h) on two namespace nodes with
# zfs-fuse: a run that changes nothing but data sends `zfs send -i`, not
# pvesr's stream package (-R -p -I); a property set on the source, a
# snapshot taken there between runs, or one removed there, sends a
# package again, so the target ends up exactly as with pvesr's packages:
# the property received, the snapshot copied, the removed one pruned.
# A zfs in front of the real one logs the source's sends.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require_engine

CT=local-zfs:subvol-210-disk-0
DS=rpool/data/subvol-210-disk-0

e2e_up 'two nodes with zfs-fuse and sshd come up' a b

mkdir -p "$TRASH/bin"
cat >"$TRASH/bin/zfs" <<EOS
#!/bin/sh
[ "\$1" != send ] || echo "\$*" >>"$TRASH/send.log"
exec /usr/sbin/zfs "\$@"
EOS
chmod +x "$TRASH/bin/zfs"

# run: volrep run --id 210-0 on a, its zfs sends logged; prints them
run() {
	: >"$TRASH/send.log" &&
	_e2e_next_second &&
	{ node_exec a env PATH="$TRASH/bin:$TOP/build:/usr/sbin:/usr/bin:/sbin:/bin" volrep run --id 210-0 ||
		{ _e2e_ran 1; vr a log 210-0; return 1; }; } &&
	_e2e_ran 0 &&
	cat "$TRASH/send.log"
}

digest() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["210"]["local/b"].get("props_digest",""))' \
		"$TB/nodes/a/state/replication-state.json"
}

test_expect_success 'a full sync records the properties it sent' '
	guest_create a 210 lxc &&
	guest_add_disk a 210 rootfs $CT 64 &&
	vol_write a $CT 1 &&
	vr a create-local-job 210-0 b >/dev/null &&
	run >sends &&
	expect_grep "^send -Rp -- $DS@__replicate_210-0_" sends &&
	digest >d1 &&
	grep -Eq "^[0-9a-f]{64}$" d1
'

test_expect_success 'an incremental with only new data: a plain send -i' '
	vol_write a $CT 1 &&
	run >sends &&
	expect_grep "^send -i $DS@__replicate_210-0_" sends &&
	! grep -q -- "-R" sends &&
	test "$(vol_sum b $CT)" = "$(vol_sum a $CT)" &&
	digest >d2 &&
	test_cmp d1 d2
'

test_expect_success 'a property set on the source: a package, the target has it' '
	node_exec a zfs set volrep:test=one $DS &&
	run >sends &&
	expect_grep "^send -Rp -I " sends &&
	test "$(node_exec b zfs get -H -o value volrep:test $DS)" = one &&
	digest >d3 &&
	! test_cmp d2 d3 >/dev/null &&
	run >sends &&
	expect_grep "^send -i " sends
'

test_expect_success 'a snapshot taken between runs: a package copies it' '
	node_exec a zfs snapshot $DS@user1 &&
	run >sends &&
	expect_grep "^send -Rp -I " sends &&
	vol_snaps b $CT >snaps &&
	expect_grep "^user1$" snaps &&
	run >sends &&
	expect_grep "^send -i " sends
'

test_expect_success 'a snapshot removed on the source: a package prunes it on the target' '
	node_exec a zfs destroy $DS@user1 &&
	run >sends &&
	expect_grep "^send -Rp -I " sends &&
	vol_snaps b $CT >snaps &&
	! grep -q "^user1$" snaps &&
	test "$(vol_sum b $CT)" = "$(vol_sum a $CT)"
'

test_expect_success 'a failed run keeps the recorded properties; the next one still sends a package for a change' '
	digest >before &&
	node_exec a zfs set volrep:test=two $DS &&
	node_sshd_stop b &&
	{ ! run >sends 2>/dev/null; } &&
	digest >after &&
	test_cmp before after &&
	node_sshd_start b &&
	run >sends &&
	expect_grep "^send -Rp -I " sends &&
	test "$(node_exec b zfs get -H -o value volrep:test $DS)" = two
'

test_done
