#!/bin/sh
# The etcd cluster store on a real three-member etcd cluster: a config dir
# imported and exported, jobs written on one node seen on the others,
# concurrent writers from three nodes, --digest races, lease locks, the
# liveness keys of daemons, the daemon woken by its etcd watch (and the
# watch moving to another member), the time a node killed with -9 went
# offline, `volrep check` of the store, and quorum loss (two members
# stopped).
#
# The "nodes" a, b, c are volrep processes with their own VOLREP_NODE,
# state and local config dir, all pointing at the same etcd cluster.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/../lib/etcd.sh"
etcd_require
etcd_nodes_start
SRC="$TRASH/src"

test_expect_success 'import a config dir into the empty prefix' '
	mkdir -p "$SRC/nodes/a/qemu-server" "$SRC/nodes/b/qemu-server" "$SRC/nodes/c/lxc" "$SRC/hooks" &&
	printf "node: a\n\taddress 127.0.0.1\n\nnode: b\n\taddress 127.0.0.2\n\nnode: c\n\taddress 127.0.0.3\n\n" >"$SRC/nodes.cfg" &&
	printf "zfspool: local-zfs\n\tpool rpool/data\n\tcontent images,rootdir\n\n" >"$SRC/storage.cfg" &&
	for i in $(seq 1000 1049); do
		case $((i % 3)) in 0) n=a t=qemu-server ;; 1) n=b t=qemu-server ;; 2) n=c t=lxc ;; esac
		if [ $t = lxc ]; then d="rootfs: local-zfs:subvol-$i-disk-0,size=1G"; else d="scsi0: local-zfs:vm-$i-disk-0,size=1G"; fi
		echo "$d" >"$SRC/nodes/$n/$t/$i.conf" || return 1
	done &&
	echo "scsi0: local-zfs:vm-100-disk-0,size=1G" >"$SRC/nodes/a/qemu-server/100.conf" &&
	printf "#!/bin/sh\nexit 0\n" >"$SRC/hooks/qemu" &&
	on a cluster import "$SRC" >out &&
	grep "imported 53 files" out &&
	etcdctl_ get /volrep/nodes.cfg --print-value-only >got &&
	grep -q "^node: c" got &&
	! etcdctl_ get /volrep/ --prefix --keys-only | grep -q hooks
'

test_expect_success 'import refuses a prefix that is not empty' '
	run_mustfail 1 on b cluster import "$SRC" 2>err &&
	grep "is not empty" err
'

test_expect_success 'a job created on a is listed on b and c' '
	on a create-local-job 100-0 b --schedule "*/5" &&
	for n in b c; do
		on $n list >out &&
		grep -q "^100-0 .*local/b .*\*/5" out || return 1
	done &&
	etcdctl_ get /volrep/replication.cfg --print-value-only | grep -q "^local: 100-0"
'

test_expect_success '50 concurrent create-local-job over three nodes leave exactly 50 more jobs' '
	pids="" &&
	for i in $(seq 1000 1049); do
		case $((i % 3)) in 0) n=a ;; 1) n=b ;; 2) n=c ;; esac
		case $n in a) t=b ;; *) t=a ;; esac
		on $n create-local-job $i-0 $t >/dev/null 2>"err.$i" &
		pids="$pids $!"
	done &&
	fails=0 &&
	for p in $pids; do wait $p || fails=$((fails + 1)); done &&
	cat err.* &&
	[ "$fails" = 0 ] &&
	on c list >out &&
	[ "$(grep -c "^10[0-9][0-9]-0 " out)" = 50 ] &&
	[ "$(grep -c "^[0-9]*-0 " out)" = 51 ]
'

test_expect_success 'two updates with the same --digest: one wins, the other is told the config changed' '
	digest=$(on a read 1000-0 | sed -n "s/.*\"digest\": *\"\([0-9a-f]*\)\".*/\1/p") &&
	[ -n "$digest" ] &&
	{ on b update 1000-0 --rate 11 --digest "$digest" >/dev/null 2>err.b & pb=$!; } &&
	{ on c update 1000-0 --rate 22 --digest "$digest" >/dev/null 2>err.c & pc=$!; } &&
	rb=0 && { wait $pb || rb=$?; } &&
	rc=0 && { wait $pc || rc=$?; } &&
	echo "b=$rb c=$rc" &&
	cat err.b err.c &&
	{ [ $rb = 0 ] && [ $rc != 0 ] && grep -q "detected modified configuration - file changed by other user? Try again." err.c && rate=11 ||
	  { [ $rc = 0 ] && [ $rb != 0 ] && grep -q "detected modified configuration - file changed by other user? Try again." err.b && rate=22; }; } &&
	on a read 1000-0 | grep -q "\"rate\": $rate," &&
	on a list >out &&
	[ "$(grep -c "^[0-9]*-0 " out)" = 51 ]
'

test_expect_success 'two updates without --digest both apply' '
	{ on b update 1001-0 --rate 7 & pb=$!; } &&
	{ on c update 1001-0 --comment both & pc=$!; } &&
	wait $pb && wait $pc &&
	on a read 1001-0 >out &&
	grep -q "\"rate\": 7," out &&
	grep -q "\"comment\": \"both\"" out
'

test_expect_success 'export writes the files back; it refuses to overwrite' '
	on a cluster export "$TRASH/exp" &&
	for f in nodes.cfg storage.cfg nodes/a/qemu-server/100.conf nodes/c/lxc/1001.conf; do
		test_cmp "$SRC/$f" "$TRASH/exp/$f" || return 1
	done &&
	grep -q "^local: 1049-0" "$TRASH/exp/replication.cfg" &&
	run_mustfail 1 on a cluster export "$TRASH/exp" 2>err &&
	grep "refusing to overwrite" err
'

test_expect_success 'cluster status: store, endpoints, quorum, nodes' '
	on a cluster status >out &&
	grep "^store: *etcd etcd://" out &&
	[ "$(grep -c ": ok (" out)" = 3 ] &&
	grep "^quorate: *yes" out &&
	on a cluster status --output-format json >j &&
	/usr/bin/python3 -c "
import json,sys
d=json.load(open(\"j\"))
assert d[\"store\"]==\"etcd\" and d[\"quorate\"] is True, d
assert [n[\"name\"] for n in d[\"nodes\"]]==[\"a\",\"b\",\"c\"], d
assert all(n[\"online\"] is False for n in d[\"nodes\"]), d
"
'

test_expect_success 'a lock whose holder was killed with -9 is free again after its TTL' '
	{ on_bg a cluster lock probe --ttl 2 --hold 60 >lock.out 2>&1 & lp=$!; } &&
	wait_for 10 grep -q locked lock.out &&
	grep -q "locked .probe." lock.out &&
	kill -9 $lp && { wait $lp 2>/dev/null || :; } &&
	run_mustfail 1 on b cluster lock probe --timeout 0 2>err &&
	grep "got timeout" err &&
	on b cluster lock probe --timeout 15000 >out &&
	grep -q "locked .probe." out
'

# b_online: node b's liveness key is seen from a (cluster status JSON in j)
b_online() {
	on a cluster status --output-format json >j 2>/dev/null &&
	grep -q "{\"name\": *\"b\", *\"online\": *true" j
}
# c_runs_ended N: c's daemon log shows at least N ended runs
c_runs_ended() {
	[ "$(grep -c ": failed after\|: ended after" daemon.c.log)" -ge "$1" ]
}

test_expect_success 'a daemon keeps its liveness key; it goes at a clean stop' '
	{ on_bg b daemon >daemon.log 2>&1 & dp=$!; } &&
	echo $dp >daemon.pid &&
	wait_for 10 b_online &&
	grep -q "{\"name\": *\"b\", *\"online\": *true" j &&
	on a cluster status | grep -q "^  b  *online " &&
	kill -TERM $dp &&
	wait $dp &&
	on a cluster status --output-format json >j &&
	grep -q "{\"name\": *\"b\", *\"online\": *false" j
'
test_when_finished 'kill $(cat "$TRASH/daemon.pid" 2>/dev/null) 2>/dev/null'

# mod_rev KEY: the key's mod_revision in etcd
mod_rev() {
	etcdctl_ get "$1" -w json | sed -n "s/.*\"mod_revision\":\([0-9]*\).*/\1/p"
}
# woke_for LOG JOB REV: the last line before JOB's start in LOG is the
# etcd watch waking the daemon for revision REV (or later). REV is that of
# the guest's config, which the test writes just before the job: the wake
# for that write may already read the job (the daemon reads the store
# after the wake, and the job's write is one revision later), so the job's
# own revision would be a window, not a rule.
woke_for() {
	_w=$(sed -n "/woken by the etcd watch\|etcd watch open on/h; /$2: started/{x;p;q;}" "$1") &&
	echo "woken by: $_w" &&
	_r=$(echo "$_w" | sed -n "s/^.*woken by the etcd watch: .* revision \([0-9]*\)$/\1/p") &&
	[ -n "$_r" ] && [ "$_r" -ge "$3" ]
}

# The daemon of c watches the store: a job created on b for a guest on c
# is started there at once, woken by the watch (not by a pass on a timer:
# the log says which). (The run itself fails here: there is no storage;
# its start is what counts.)
test_expect_success 'a job created on another node starts on the owner, woken by the etcd watch' '
	{ on_bg c daemon >daemon.c.log 2>&1 & dp=$!; } &&
	echo $dp >daemon.pid &&
	wait_for 30 c_runs_ended 17 &&
	[ "$(grep -c ": failed after\|: ended after" daemon.c.log)" -ge 17 ] &&
	grep "watching etcd://.* for changes" daemon.c.log &&
	grep "etcd watch open on " daemon.c.log &&
	etcdctl_ put /volrep/nodes/c/lxc/2000.conf "rootfs: local-zfs:subvol-2000-disk-0,size=1G" >/dev/null &&
	rev=$(mod_rev /volrep/nodes/c/lxc/2000.conf) &&
	on b create-local-job 2000-0 a &&
	wait_for 10 grep -q "2000-0: started" daemon.c.log &&
	grep "2000-0: started" daemon.c.log &&
	woke_for daemon.c.log 2000-0 "$rev"
'

# watch_opened_after N: c's daemon log shows more than N watches opened
watch_opened_after() {
	[ "$(grep -c "etcd watch open on" daemon.c.log)" -gt "$1" ]
}

# c's watch is open on one member; that member stops: the watch moves to
# another one, reads everything again, and the next change wakes it.
test_expect_success 'the watch moves to another member when its member stops' '
	ep=$(sed -n "s/^.*etcd watch open on \([0-9.]*\):2379 .*/\1/p" daemon.c.log | tail -1) &&
	i=${ep##*.1} && echo "watch on member $i ($ep)" &&
	case $i in 1|2|3) : ;; *) false ;; esac &&
	opens=$(grep -c "etcd watch open on" daemon.c.log) &&
	etcd_stop_member $i &&
	wait_for 20 watch_opened_after "$opens" &&
	grep "etcd watch lost: " daemon.c.log &&
	! tail -1 daemon.c.log | grep -q "open on $ep:" &&
	etcdctl_ put /volrep/nodes/c/lxc/2001.conf "rootfs: local-zfs:subvol-2001-disk-0,size=1G" >/dev/null &&
	rev=$(mod_rev /volrep/nodes/c/lxc/2001.conf) &&
	on b create-local-job 2001-0 a &&
	wait_for 10 grep -q "2001-0: started" daemon.c.log &&
	woke_for daemon.c.log 2001-0 "$rev" &&
	etcd_start_member $i &&
	etcd_wait_healthy
'

# c_saw_b_go: c's daemon recorded that b went offline
c_saw_b_go() {
	grep -q "node .b. went offline (its liveness key expired)" daemon.c.log
}

# A daemon killed with -9 cannot say when it went: c, watching, sees its
# liveness key expire and records the time in .left/b.
test_expect_success 'a node killed with -9 is shown offline since the time its key expired' '
	etcdctl_ del /volrep/.left/b >/dev/null &&
	{ on_bg b daemon >daemon.b.log 2>&1 & bp=$!; } &&
	echo $bp >daemon.b.pid &&
	wait_for 10 b_online &&
	t0=$(date +%s) &&
	kill -9 $bp && { wait $bp 2>/dev/null || :; } &&
	wait_for 20 c_saw_b_go &&
	t1=$(date +%s) &&
	left=$(etcdctl_ get /volrep/.left/b --print-value-only) &&
	echo "killed at $t0, recorded $left, seen by now $t1" &&
	[ "$left" -ge "$t0" ] && [ "$left" -le "$t1" ] &&
	[ "$(grep -c "node .b. went offline" daemon.c.log)" = 1 ] &&
	on a cluster status >out &&
	cat out &&
	grep "^  b  *offline  since $(date -d "@$left" "+%Y-%m-%d %H:%M:%S")" out &&
	on a cluster status --output-format json >j &&
	jq -e ".nodes[] | select(.name == \"b\") | .online == false and .since == $left" j &&
	dp=$(cat daemon.pid) &&
	kill -TERM $dp &&
	wait_for 20 "! kill -0 $dp 2>/dev/null"
'
test_when_finished 'kill -9 $(cat "$TRASH/daemon.b.pid" 2>/dev/null) 2>/dev/null'

# check_level J CHECK LEVEL: the check named CHECK has level LEVEL in the JSON of `check` in J
check_level() {
	jq -e --arg c "$2" --arg l "$3" "[.checks[] | select(.check == \$c and .level == \$l)] | length == 1" "$1" >/dev/null ||
	{ echo "no $2 at $3 in:" >&2; cat "$1" >&2; return 1; }
}

# check reads the cluster files from etcd: a nodes.cfg in the local dir
# without this node, or a storage.cfg there, changes nothing.
test_expect_success 'check in etcd mode: the store, its endpoints and quorum, the files in the store' '
	printf "node: x\n\taddress 127.0.0.9\n\n" >"$TRASH/n/a/cfg/nodes.cfg" &&
	{ on a check --output-format json >j || :; } &&
	jq -e ".store.kind == \"etcd\" and .store.quorate == true and (.store.endpoints | length) == 3" j &&
	jq -e "[.store.endpoints[] | select(.healthy)] | length == 3" j &&
	check_level j store ok &&
	check_level j quorum ok &&
	jq -e ".checks[] | select(.check == \"quorum\") | .message == \"quorate (3 of 3 endpoints healthy)\"" j &&
	check_level j "endpoint $(etcd_addr 2):2379" ok &&
	check_level j nodes.cfg ok &&
	check_level j storage.cfg ok &&
	check_level j replication.cfg ok &&
	jq -e ".checks[] | select(.check == \"nodes.cfg\") | .message | startswith(\"in the store (\")" j &&
	check_level j identity ok &&
	check_level j "job '"'"'100-0'"'"'" ok &&
	{ on a check >out || :; } && cat out &&
	grep "^ok    store: configuration in .etcd://" out &&
	cp "$SRC/storage.cfg" "$TRASH/n/a/cfg/storage.cfg" &&
	etcdctl_ del /volrep/storage.cfg >/dev/null &&
	run_mustfail 1 on a check --output-format json >j &&
	etcdctl_ put /volrep/storage.cfg <"$SRC/storage.cfg" >/dev/null &&
	check_level j storage.cfg error &&
	jq -e ".checks[] | select(.check == \"storage.cfg\") | .message | test(\"not in .etcd://\")" j &&
	rm "$TRASH/n/a/cfg/nodes.cfg" "$TRASH/n/a/cfg/storage.cfg" &&
	{ on a check --output-format json >j || :; } &&
	check_level j storage.cfg ok
'

test_expect_success 'without quorum: writes, migrate and failover are refused, status says so' '
	etcdctl_ get /volrep/replication.cfg -w json | sed -n "s/.*\"mod_revision\":\([0-9]*\).*/\1/p" >rev.before &&
	[ -s rev.before ] &&
	etcd_stop_member 2 && etcd_stop_member 3 &&
	run_mustfail 1 on a create-local-job 1000-1 c 2>err &&
	grep "^volrep: cluster not quorate: " err &&
	run_mustfail 1 on a update 1000-0 --rate 9 2>err &&
	grep "cluster not quorate: " err &&
	run_mustfail 1 on a migrate 100 b 2>err &&
	grep "cluster not quorate: " err &&
	run_mustfail 1 on b failover 100 2>err &&
	grep "cluster not quorate: " err &&
	on a cluster status >out &&
	grep "^quorate: *no (" out &&
	{ on a status >out 2>err || :; } &&
	cat out err &&
	grep "cluster not quorate: using the last configuration read" err &&
	grep -q "^100-0 " out &&
	run_mustfail 1 on a check --output-format json >j &&
	jq -e ".store.quorate == false and (.store.reason | length) > 0" j &&
	jq -e "[.store.endpoints[] | select(.healthy)] | length == 0" j &&
	check_level j quorum error &&
	jq -e ".checks[] | select(.check == \"quorum\") | .message | startswith(\"cluster not quorate: \")" j &&
	check_level j store warn &&
	check_level j "endpoint $(etcd_addr 2):2379" warn
'

test_expect_success 'quorum back: writes work again, nothing was written meanwhile' '
	etcd_start_member 2 && etcd_start_member 3 &&
	etcd_wait_healthy &&
	etcdctl_ get /volrep/replication.cfg -w json | sed -n "s/.*\"mod_revision\":\([0-9]*\).*/\1/p" >rev.after &&
	test_cmp rev.before rev.after &&
	on a create-local-job 1000-1 c &&
	on b list | grep -q "^1000-1 "
'

test_done
