#!/bin/sh
# High availability in etcd mode (docs/ha.md) on three namespace nodes and
# a three-member etcd cluster, with ha-grace 5 s: node a holds two HA
# guests, 201 (lxc on zfs, group "pb": b before c) and 202 (qemu on
# btrfs), replicated to b and c with different freshness (201 is fresher
# on b, 202 on c).
#  - short partition, no other daemon running: a stops its guests when
#    it cannot renew its liveness key, and starts them again when it can;
#  - partition: a's only etcd endpoint (member 1) stops while a keeps
#    running: a's daemon stops both guests (stop hook) before b and c
#    start them, each on the node with its freshest replica, once, with
#    that replica's data; ha status shows the recovery; a, alive again,
#    starts nothing; the jobs now replicate from the new owners;
#  - kill: node b dies entirely (namespace, sshd, daemon, etcd member 2):
#    201 is recovered on c (a tie between a and c, c preferred by the
#    group), its start hook runs once;
#  - loop: HA_LOOPS times (default 10) the owner's daemon and sshd are
#    killed and the guest comes back on the other node, once each time.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
. "$TOP/tests/lib/etcd.sh"
e2e_require_engine
etcd_require
LOOPS=${HA_LOOPS:-10}

etcd_testbed_start
e2e_up 'three nodes with storage and an etcd cluster come up' a b c

Z=local-zfs:subvol-201-disk-0
B=local-btrfs:202/vm-202-disk-0.raw
HOOKLOG=$TB/hook.calls

# owners VMID: the node folders holding the guest's config in etcd
owners() {
	etcdctl_ get /volrep/nodes/ --prefix --keys-only | sed -n "s|^/volrep/nodes/\([^/]*\)/[a-z-]*/$1\.conf$|\1|p"
}
owner_is() { test "$(owners $1)" = "$2"; }
# starts VMID: how many times the start hook of VMID ran, cluster-wide
starts() { grep -c " start $1\$" "$HOOKLOG" || true; }
starts_is() { test "$(starts $1)" = "$2"; }
# stops_ge NODE VMID N: NODE ran the stop hook of VMID at least N times
stops_ge() { test "$(grep -c " $1 stop $2\$" "$HOOKLOG")" -ge "$3"; }
line_of() { grep -n " $1 $2\$" "$HOOKLOG" | tail -1 | cut -d: -f1; }

# daemon_bg NODE [CLUSTER-URL]: the node's daemon in the background, its
# pid in $TRASH/daemon.NODE, its log in $TRASH/daemon.NODE.log
daemon_bg() {
	_h=$(node_pid "$1") || return 1
	# shellcheck disable=SC2046
	sh -c 'echo $$ >"$0"; exec "$@"' "$TRASH/daemon.$1" nsenter --mount="/proc/$_h/ns/mnt" -- \
		env $(_tb_env "$1") VOLREP_CLUSTER="${2:-$TB_CLUSTER}" VOLREP_SSH="$(tb_serve_ssh "$1")" \
		volrep daemon >>"$TRASH/daemon.$1.log" 2>&1 &
}
daemon_kill() { kill -9 "$(cat "$TRASH/daemon.$1")" 2>/dev/null; rm -f "$TRASH/daemon.$1"; return 0; }
test_when_finished 'for n in a b c; do kill $(cat "$TRASH/daemon.$n" 2>/dev/null) 2>/dev/null; done; true'

online() {
	vr c cluster status --output-format json | jq -e ".nodes[] | select(.name == \"$1\") | .online == $2" >/dev/null
}

# The jobs are scheduled far away: no scheduled run may change which
# replica is the freshest behind the test's back.
test_expect_success 'HA guests on a (zfs and btrfs), b fresher for 201, c fresher for 202' '
	mkdir -p "$TB/config/hooks" &&
	printf "#!/bin/sh\necho \"\$(date +%%s.%%N) \$VOLREP_NODE \$*\" >>\"$HOOKLOG\"\n[ \"\$1\" = status ] && exit 3\n[ \"\$1\" = stop ] && [ -e \"$TB/fail-stop.\$2\" ] && { echo \"cannot stop \$2\" >&2; exit 1; }\nexit 0\n" \
		>"$TB/config/hooks/lxc" &&
	chmod +x "$TB/config/hooks/lxc" &&
	cp "$TB/config/hooks/lxc" "$TB/config/hooks/qemu" &&
	echo "ha-grace 5" >"$TB/config/volrep.cfg" &&
	guest_create a 201 lxc && guest_add_disk a 201 rootfs $Z 8 &&
	guest_create a 202 qemu && guest_add_disk a 202 scsi0 $B 8 &&
	vol_write a $Z 1 && vol_write a $B 1 &&
	vr a cluster import "$TB/config" &&
	vr a create-local-job 201-0 b --schedule 2099-01-01 >/dev/null && vr a create-local-job 201-1 c --schedule 2099-01-01 >/dev/null &&
	vr a create-local-job 202-0 b --schedule 2099-01-01 >/dev/null && vr a create-local-job 202-1 c --schedule 2099-01-01 >/dev/null &&
	{ jobs_run_due a >run.log 2>&1 || { cat run.log; return 1; }; } &&
	vol_write a $Z 1 && vol_write a $B 1 &&
	job_run a 201-0 && job_run a 202-1 &&
	job_field a 201-0 last_sync >"$TB/ls.201" && job_field a 202-1 last_sync >"$TB/ls.202" &&
	vol_sum a $Z >"$TB/sum.201" && vol_sum a $B >"$TB/sum.202" &&
	test "$(vol_sum b $Z)" = "$(cat "$TB/sum.201")" &&
	test "$(vol_sum c $B)" = "$(cat "$TB/sum.202")" &&
	test "$(vol_sum c $Z)" != "$(cat "$TB/sum.201")" &&
	vol_write a $Z 1 && vol_write a $B 1
'

test_expect_success 'ha add, group, set, list; bad input changes nothing' '
	vr a ha group pb --nodes b,c &&
	vr a ha add 201 --group pb &&
	vr a ha add 202 --state started &&
	etcdctl_ get /volrep/ha.cfg --print-value-only >before &&
	run_mustfail 2 vr a ha add 203 2>err && expect_grep "no such guest .203." err &&
	run_mustfail 2 vr a ha set 201 --state bogus 2>err && expect_grep "invalid state .bogus." err &&
	test "$(wc -l <err)" = 1 &&
	run_mustfail 2 vr a ha set 201 --group nosuch 2>err && expect_grep "no such HA group .nosuch." err &&
	run_mustfail 2 vr a ha add 201 2>err && expect_grep "already managed" err &&
	run_mustfail 2 vr a ha group pb --nodes "b,b" 2>err &&
	etcdctl_ get /volrep/ha.cfg --print-value-only >after &&
	test_cmp before after &&
	vr b ha list --output-format json >list.json &&
	jq -e "length == 2 and .[0].vmid == 201 and .[0].group == \"pb\" and .[1].type == \"vm\"" list.json &&
	vr b ha status --output-format json >st.json &&
	jq -e ".[] | select(.vmid == 202) | .node == \"a\" and .state == \"started\"" st.json
'

test_expect_success 'failover of an HA guest is refused while HA is active (unless --force)' '
	run_mustfail 1 vr b failover 201 --dry-run 2>err &&
	expect_grep "guest 201 is managed by HA" err &&
	owner_is 201 a
'

test_expect_success 'daemons up (a talks to etcd member 1 only)' '
	daemon_bg a "etcd://$(etcd_addr 1):2379/volrep" && daemon_bg b && daemon_bg c &&
	wait_for 20 online a true && wait_for 20 online b true && wait_for 20 online c true
'

# No other daemon runs, so nothing recovers the guests meanwhile: a stops
# them when it cannot renew its key, and starts them again when it can.
# The stop hook of 202 fails at first: it is retried, and 202 is not
# started again before a stop of it succeeded.
test_expect_success 'a short partition: a fences (stop hooks), then, still the owner, starts its guests again' '
	kill -TERM "$(cat "$TRASH/daemon.b")" "$(cat "$TRASH/daemon.c")" &&
	wait_for 20 online b false && wait_for 20 online c false &&
	: >"$TB/fail-stop.202" &&
	etcd_stop_member 1 &&
	wait_for 20 stops_ge a 201 1 &&
	wait_for 20 grep -q "ha: fence: stopping guest 202 failed" "$TRASH/daemon.a.log" &&
	expect_grep "ha: fence: guest 201 stopped" "$TRASH/daemon.a.log" &&
	starts_is 201 0 && starts_is 202 0 &&
	etcd_start_member 1 && etcd_wait_healthy &&
	wait_for 30 starts_is 201 1 &&
	n=$(grep -c " a stop 202\$" "$HOOKLOG") &&
	wait_for 20 stops_ge a 202 $((n + 2)) &&
	starts_is 202 0 &&
	rm "$TB/fail-stop.202" &&
	wait_for 30 starts_is 202 1 &&
	grep -q "^[0-9.]* a start 201\$" "$HOOKLOG" &&
	grep -q "^[0-9.]* a start 202\$" "$HOOKLOG" &&
	owner_is 201 a && owner_is 202 a &&
	daemon_bg b && daemon_bg c &&
	wait_for 20 online b true && wait_for 20 online c true
'

test_expect_success 'partition: a loses etcd, stops its guests before b and c start them' '
	etcd_stop_member 1 &&
	wait_for 60 owner_is 201 b &&
	wait_for 30 owner_is 202 c &&
	wait_for 30 starts_is 201 2 &&
	wait_for 30 starts_is 202 2 &&
	cat "$HOOKLOG" &&
	sa=$(line_of stop 201) && sb=$(line_of start 201) &&
	test -n "$sa" && test "$sa" -lt "$sb" &&
	sa=$(line_of stop 202) && sb=$(line_of start 202) &&
	test -n "$sa" && test "$sa" -lt "$sb" &&
	grep -q "^[0-9.]* a stop 201\$" "$HOOKLOG" &&
	grep -q "^[0-9.]* b start 201\$" "$HOOKLOG" &&
	grep -q "^[0-9.]* c start 202\$" "$HOOKLOG" &&
	test "$(vol_sum b $Z)" = "$(cat "$TB/sum.201")" &&
	test "$(vol_sum c $B)" = "$(cat "$TB/sum.202")"
'

test_expect_success 'ha status: owner, last recovery and its data-loss window' '
	vr b ha status --output-format json >st.json &&
	cat st.json &&
	jq -e ".[] | select(.vmid == 201) | .node == \"b\" and .last_recovery.from == \"a\" and .last_recovery.to == \"b\" and .last_recovery.data_loss_window >= 0 and .last_recovery.result == \"started\"" st.json &&
	jq -e ".[] | select(.vmid == 202) | .node == \"c\" and .last_recovery.to == \"c\"" st.json &&
	for g in 201 202; do
		jq -e --argjson ls "$(cat "$TB/ls.$g")" ".[] | select(.vmid == $g) | .last_recovery |
			.snapshot_time == \$ls and .data_loss_window == .node_lost - \$ls and .when >= .node_lost" st.json || return 1
	done &&
	vr c ha status >st.txt && cat st.txt &&
	grep -q "^ct:201 node b state started  last recovery .* a -> b, data-loss window [0-9]* s: started\$" st.txt
'

test_expect_success 'a comes back: it starts nothing; the new owners resync it incrementally' '
	etcd_start_member 1 && etcd_wait_healthy &&
	wait_for 30 online a true &&
	wait_for 30 grep -q "guest 201 was already moved to .b." "$TRASH/daemon.a.log" &&
	wait_for 30 grep -q "guest 202 was already moved to .c." "$TRASH/daemon.a.log" &&
	test "$(grep -c " a start " "$HOOKLOG")" = 2 &&
	starts_is 201 2 && starts_is 202 2 &&
	vr b list >list.b && cat list.b &&
	grep -q "^201-0 *local/a " list.b && grep -q "^201-1 *local/c " list.b &&
	vr c list >list.c && grep -q "^202-1 *local/a " list.c &&
	for j in b:201-0 b:201-1 c:202-1 c:202-0; do
		{ job_run ${j%%:*} ${j#*:} >run.log 2>&1 || { cat run.log; return 1; }; } || return 1
	done &&
	vr b log 201-0 >log.out && expect_grep "incremental sync .$Z." log.out &&
	vr c log 202-1 >log.out && expect_grep "incremental sync .$B." log.out &&
	test "$(vol_sum a $Z)" = "$(cat "$TB/sum.201")" &&
	test "$(vol_sum c $Z)" = "$(cat "$TB/sum.201")" &&
	test "$(vol_sum a $B)" = "$(cat "$TB/sum.202")"
'

test_expect_success 'kill node b entirely (namespace, sshd, daemon, etcd member): 201 comes back on c, once' '
	testbed_node_kill b && daemon_kill b && etcd_stop_member 2 &&
	wait_for 60 owner_is 201 c &&
	wait_for 30 starts_is 201 3 &&
	grep -q "^[0-9.]* c start 201\$" "$HOOKLOG" &&
	test "$(vol_sum c $Z)" = "$(cat "$TB/sum.201")" &&
	owner_is 202 c && starts_is 202 2
'

test_expect_success "loop: $LOOPS times the owner of 201 dies (daemon, sshd) and 201 comes back on the other node once" '
	for i in $(seq $LOOPS); do
		from=$(owners 201) &&
		if [ "$from" = a ]; then to=c; else to=a; fi &&
		n=$(starts 201) &&
		vol_write $from $Z 1 &&
		job=$(vr $from list | sed -n "s/^\(201-[0-9]*\) *local\/$to .*/\1/p") &&
		{ test -n "$job" || { vr $from list; return 1; }; } &&
		{ job_run $from $job >run.log 2>&1 || { cat run.log; return 1; }; } &&
		vol_sum $from $Z >"$TB/sum.201" &&
		daemon_kill $from && node_sshd_stop $from &&
		wait_for 60 owner_is 201 $to &&
		wait_for 30 starts_is 201 $((n + 1)) &&
		test "$(grep " start 201\$" "$HOOKLOG" | tail -1 | cut -d" " -f2)" = $to &&
		test "$(vol_sum $to $Z)" = "$(cat "$TB/sum.201")" &&
		node_sshd_start $from &&
		if [ $from = a ]; then daemon_bg a "etcd://$(etcd_addr 1):2379/volrep"; else daemon_bg $from; fi &&
		wait_for 20 online $from true &&
		echo "round $i: $from -> $to" || return 1
	done &&
	starts_is 201 $((LOOPS + 3))
'

test_expect_success 'migrate of an HA guest works as always; HA follows the new owner' '
	from=$(owners 202) &&
	if [ "$from" = a ]; then to=c; else to=a; fi &&
	n=$(starts 202) &&
	{ vr $from migrate 202 $to >mig.out 2>&1 || { cat mig.out; return 1; }; } &&
	owner_is 202 $to &&
	vr $to ha status --output-format json >st.json &&
	jq -e ".[] | select(.vmid == 202) | .node == \"$to\"" st.json &&
	starts_is 202 $n
'

test_done
