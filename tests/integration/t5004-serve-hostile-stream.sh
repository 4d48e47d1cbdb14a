#!/bin/sh
# The attack of finding 2 of the security review, over real ssh with a
# peer's key (command="volrep serve --peer a"): a's own container 100 is
# replicated to b, so b admits a's imports of it. Root on a then sends a
# stream whose dataset says mountpoint=<config dir>/hooks (with a hook
# in it, executable) and canmount=noauto, setuid=on: on b nothing is
# mounted there, the replica sits at its place under b's pool with b's
# pool's properties, and no hook appears. A stream with a dataset below
# the volume is refused.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require_engine

OWN=local-zfs:subvol-100-disk-0
DS=rpool/data/subvol-100-disk-0

e2e_up 'two nodes with storage come up' a b

as_a() { node_exec a sh -c "$1"; }
as_b() { node_exec b sh -c "$1"; }
to_b() { echo "$(tb_serve_ssh a) root@$(node_addr b)"; }
# b's mount table has nothing at or below $1
b_not_mounted_at() {
	! node_exec b awk '{ print $2 }' /proc/self/mounts | grep -q "^$1"
}

test_expect_success 'a'"'"'s container 100 replicated to b' '
	guest_create a 100 lxc &&
	guest_add_disk a 100 rootfs $OWN 64 &&
	vol_write a $OWN 2 &&
	vr a create-local-job 100-0 b &&
	job_run a 100-0 &&
	assert_synced a b 100-0 $OWN &&
	repl_snaps a $OWN 100-0 >"$TB/base" &&
	test "$(wc -l <"$TB/base")" = 1 &&
	as_b "zfs set setuid=off rpool/data"
'

test_expect_success 'root on a sends a stream that says mountpoint=<config>/hooks: not followed on b' '
	base=$(cat "$TB/base") &&
	t=${base#__replicate_100-0_} && t=${t%__} &&
	new=__replicate_100-0_$((t + 60))__ &&
	echo "$new" >"$TB/new" &&
	mp=$(as_a "zfs get -H -o value mountpoint $DS") &&
	as_a "mkdir -p $mp/hooks-payload && printf \"#!/bin/sh\\ntouch $TB/pwned\\n\" >$mp/lxc && chmod 755 $mp/lxc" &&
	as_a "zfs snapshot $DS@$new" &&
	as_a "zfs umount $DS; zfs set canmount=noauto $DS && zfs set setuid=on $DS && zfs set mountpoint=$TB/config/hooks $DS" &&
	rc=0 &&
	{ as_a "zfs send -R -I @$base $DS@$new | $(to_b) \"volrep import $OWN --snapshot $new --base $base\"" \
		>out 2>err || rc=$?; } &&
	cat out err &&
	test "$rc" = 0 &&
	expect_grep "successfully imported" out &&
	b_not_mounted_at "$TB/config/hooks" &&
	test ! -e "$TB/config/hooks/lxc" &&
	test "$(as_b "zfs get -H -o source mountpoint $DS")" = "inherited from rpool/data" &&
	test "$(as_b "zfs get -H -o value,source setuid $DS" | tr "\t" " ")" = "off inherited from rpool/data" &&
	test "$(as_b "zfs get -H -o value mounted $DS")" = yes &&
	bmp=$(as_b "zfs get -H -o value mountpoint $DS") &&
	as_b "test -x $bmp/lxc" &&
	test ! -e "$TB/pwned"
'

test_expect_success 'a stream with a dataset below the volume: refused, nothing of it left on b' '
	new=$(cat "$TB/new") &&
	t=${new#__replicate_100-0_} && t=${t%__} &&
	new2=__replicate_100-0_$((t + 60))__ &&
	as_a "zfs create -o canmount=noauto -o mountpoint=$TB/config/child $DS/child" &&
	as_a "zfs snapshot -r $DS@$new2" &&
	rc=0 &&
	{ as_a "zfs send -R -I @$new $DS@$new2 | $(to_b) \"volrep import $OWN --snapshot $new2 --base $new\"" \
		>out 2>err || rc=$?; } &&
	cat err &&
	test "$rc" = 1 &&
	expect_grep "below the volume" err &&
	! as_b "zfs list $DS/child" >/dev/null 2>&1 &&
	! as_b "zfs list $DS@$new2" >/dev/null 2>&1 &&
	b_not_mounted_at "$TB/config/child"
'

test_done
