#!/bin/sh
# The pmxcfs store on a faithful fake /etc/pve (tests/lib/pve.sh): nodes
# and quorum from .members, the cluster's guests from nodes/*/, volrep's
# jobs in volrep/replication.cfg beside pvesr's replication.cfg, guests
# pvesr replicates refused (and warned about when the job appears later),
# no writes without quorum, pmxcfs lock directories (a stale one taken
# over), PVE's guest migration lock respected by runs, and pvesr's files
# byte for byte untouched throughout.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/pve.sh"

PVE="$TRASH/etc-pve"
export TZ=UTC VOLREP_NODE=pve1 VOLREP_CLUSTER="pmxcfs://$PVE"
export VOLREP_CONFIG_DIR="$TRASH/cfg" VOLREP_STATE_DIR="$TRASH/state" VOLREP_LOG_DIR="$TRASH/log"
export VOLREP_PVE_LOCK_DIR="$TRASH/lock-pve-manager"
export VOLREP_PVE_QEMU_LOCK_DIR="$TRASH/lock-qemu-server" VOLREP_PVE_LXC_LOCK_DIR="$TRASH/lock-lxc"
export VOLREP_PVE_RUN_DIR="$TRASH/run-qemu-server" VOLREP_PVE_PROC_NET_UNIX="$TRASH/proc-net-unix"

vr() {
	_rc=0
	"$VOLREP" "$@" >out 2>err || _rc=$?
	return $_rc
}

# everything pvesr owns: its job file, its state file, the guest configs
# (with their snapshot sections). check exits 1 here whatever else: the
# storages of the fake cluster do not exist on this machine.
pvesr_sums() {
	(cd "$PVE" && sha256sum replication.cfg storage.cfg datacenter.cfg nodes/*/*/*.conf) &&
		sha256sum "$TRASH/pve-manager/pve-replication-state.json" | sed "s|$TRASH/||"
}

# create_unix_table VMID: a /proc/net/unix with lxc's command socket of
# CT VMID (and other sockets)
create_unix_table() {
	printf "%s\n" "Num       RefCount Protocol Flags    Type St Inode Path" \
		"0000000000000000: 00000002 00000000 00010000 0001 01 23816 @/var/lib/lxc/$1/command" \
		"0000000000000000: 00000003 00000000 00000000 0001 03 23817 /run/systemd/journal/stdout" \
		>"$VOLREP_PVE_PROC_NET_UNIX"
}

test_expect_success 'setup: a fake /etc/pve of node pve1' '
	pve_tree "$PVE" &&
	mkdir -p "$VOLREP_CONFIG_DIR" "$TRASH/pve-manager" &&
	printf "{\"100\":{\"100-0\":{\"last_sync\":1764633600,\"fail_count\":0}}}\n" \
		>"$TRASH/pve-manager/pve-replication-state.json" &&
	pvesr_sums >"$TRASH/sums.before"
'

test_expect_success 'cluster status: the pmxcfs store, nodes and online state from .members' '
	vr cluster status &&
	expect_grep "^store: *pmxcfs pmxcfs://$PVE" out &&
	expect_grep "^quorate: *yes" out &&
	expect_grep "pve1 *online" out &&
	expect_grep "pve2 *online" out &&
	pve_members "$PVE" 1 0 &&
	vr cluster status --output-format json &&
	expect_grep "\"store\": *\"pmxcfs\"" out &&
	expect_grep "{\"name\": *\"pve2\", *\"online\": *false" out &&
	pve_members "$PVE" 1
'

test_expect_success 'cluster import/export are etcd'"'"'s; lock takes a pmxcfs lock directory' '
	run_mustfail 2 vr cluster export "$TRASH/exp" &&
	expect_grep "cluster export needs the etcd store" err &&
	! test -e "$TRASH/exp" &&
	vr cluster lock config --hold 0 &&
	expect_grep "locked .config." out &&
	! test -e "$PVE/priv/lock/volrep-config" &&
	mkdir "$PVE/priv/lock/volrep-config" &&
	run_mustfail 1 vr cluster lock config --timeout 200 &&
	expect_grep "can.t lock .$PVE/priv/lock/volrep-config. - got timeout" err &&
	rmdir "$PVE/priv/lock/volrep-config"
'

test_expect_success 'the guests of this node and of the cluster, volumes from PVE configs' '
	vr create-local-job 200-0 pve2 --schedule "*/5" &&
	vr create-local-job 102-0 pve3 &&
	{ vr check || :; } &&
	expect_grep "ok    store: configuration in .pmxcfs://$PVE." out &&
	expect_grep "job .200-0.: 2 volume(s) to .pve2." out &&
	expect_grep "job .102-0.: 1 volume(s) to .pve3." out &&
	run_mustfail 2 vr create-local-job 101-0 pve2 &&
	expect_grep "Source and target must not be identical" err &&
	vr create-local-job 201-0 pve1 &&
	vr read 201-0 &&
	expect_grep "\"source\": *\"pve2\"" out &&
	run_mustfail 2 vr create-local-job 999-0 pve2 &&
	expect_grep "Guest .999. does not exist" err
'

test_expect_success 'volrep jobs go to volrep/replication.cfg, not pvesr'"'"'s file' '
	expect_grep "^local: 200-0" "$PVE/volrep/replication.cfg" &&
	expect_grep "^local: 102-0" "$PVE/volrep/replication.cfg" &&
	! grep -q "200-0\|102-0" "$PVE/replication.cfg" &&
	vr list &&
	expect_grep "^200-0 " out &&
	! grep -q "^100-0" out &&
	! ls "$PVE/volrep" | grep -q tmp
'

test_expect_success 'a guest pvesr replicates is refused, naming the pvesr job' '
	cp "$PVE/volrep/replication.cfg" jobs.before &&
	run_mustfail 2 vr create-local-job 100-1 pve3 &&
	expect_grep "guest .100. is replicated by pvesr job .100-0. ($PVE/replication.cfg)" err &&
	expect_grep "pvesr delete 100-0 --force" err &&
	test_cmp jobs.before "$PVE/volrep/replication.cfg"
'

test_expect_success 'status and check warn when a pvesr job appears later' '
	cp "$PVE/replication.cfg" pvesr.orig &&
	printf "local: 102-0\n\ttarget pve2\n\n" >>"$PVE/replication.cfg" &&
	vr status &&
	expect_grep "guest .102. has volrep job .102-0. and pvesr job .102-0." err &&
	{ vr check || :; } &&
	expect_grep "^warn  config: guest .102. has volrep job" out &&
	cp pvesr.orig "$PVE/replication.cfg" &&
	vr status &&
	! grep -q "pvesr job" err
'

test_expect_success 'without quorum: no writes, reads go on' '
	pve_members "$PVE" 0 &&
	cp "$PVE/volrep/replication.cfg" jobs.before &&
	run_mustfail 1 vr create-local-job 200-1 pve3 &&
	expect_grep "cluster not quorate: .$PVE/.members. says cluster .lab. has no quorum" err &&
	run_mustfail 1 vr update 200-0 --rate 10 &&
	expect_grep "cluster not quorate" err &&
	run_mustfail 1 vr disable 200-0 &&
	test_cmp jobs.before "$PVE/volrep/replication.cfg" &&
	vr list &&
	expect_grep "^200-0 " out &&
	vr cluster status &&
	expect_grep "^quorate: *no (.*has no quorum)" out &&
	pve_members "$PVE" 1
'

test_expect_success 'a broken or missing .members means no quorum' '
	printf "{\"nodename\": \"pve1\", \"cluster\": {\"name\": \"lab\", \"quorate\": \"yes\"}, \"nodelist\": {}}" \
		>"$PVE/.members" &&
	run_mustfail 1 vr update 200-0 --rate 10 &&
	expect_grep "cluster not quorate: invalid .members: .cluster. .quorate. is not an integer from 0 to 1" err &&
	rm "$PVE/.members" &&
	run_mustfail 1 vr update 200-0 --rate 10 &&
	expect_grep "cluster not quorate: unable to read .$PVE/.members. .* (is pmxcfs running?)" err &&
	pve_members "$PVE" 1
'

test_expect_success 'pmxcfs lock directories: the config lock, a stale one taken over' '
	mkdir "$PVE/priv/lock/volrep-config" &&
	touch -d "-3 minutes" "$PVE/priv/lock/volrep-config" &&
	vr update 200-0 --rate 10 &&
	expect_grep "rate 10" "$PVE/volrep/replication.cfg" &&
	! test -e "$PVE/priv/lock/volrep-config"
'

test_expect_success 'a run waits for PVE'"'"'s guest migration lock; scheduled runs skip it' '
	mkdir -p "$VOLREP_PVE_LOCK_DIR" &&
	flock "$VOLREP_PVE_LOCK_DIR/pve-migrate-200" sh -c "\"$VOLREP\" run --id 200-0 >out 2>err; echo \$? >rc" &&
	test "$(cat rc)" = 1 &&
	expect_grep "can.t lock file .$VOLREP_PVE_LOCK_DIR/pve-migrate-200. - got timeout" err &&
	! grep -q "\"200\"" "$VOLREP_STATE_DIR/replication-state.json" 2>/dev/null &&
	flock "$VOLREP_PVE_LOCK_DIR/pve-migrate-200" sh -c "\"$VOLREP\" run >out 2>err; echo \$? >rc" &&
	! grep -q "^200-0" err &&
	! grep -q "\"200\"" "$VOLREP_STATE_DIR/replication-state.json" 2>/dev/null
'

test_expect_success 'without the PVE lock the run gets past it (and fails on the missing storage)' '
	run_mustfail 1 vr run --id 200-0 &&
	! grep -q "pve-migrate" err &&
	grep -q "\"200\"" "$VOLREP_STATE_DIR/replication-state.json"
'

# migrate takes PVE's migration lock, then the guest's config lock (10 s
# each, as PVE's own migration), and refuses a `lock:` in the config;
# held, nothing moves. Nothing else of the migration can run here (the
# other nodes are not reachable): the refusals come first.
test_expect_success 'migrate: PVE'"'"'s migration lock held - refused, nothing moved' '
	mkdir -p "$VOLREP_PVE_LOCK_DIR" &&
	flock "$VOLREP_PVE_LOCK_DIR/pve-migrate-200" sh -c "\"$VOLREP\" migrate 200 pve2 >out 2>err; echo \$? >rc" &&
	test "$(cat rc)" = 1 &&
	expect_grep "can.t lock file .$VOLREP_PVE_LOCK_DIR/pve-migrate-200. - got timeout" err &&
	test -f "$PVE/nodes/pve1/lxc/200.conf"
'

test_expect_success 'migrate: the CT'"'"'s config lock held - refused; a VM'"'"'s is lock-<vmid>.conf' '
	mkdir -p "$VOLREP_PVE_LXC_LOCK_DIR" "$VOLREP_PVE_QEMU_LOCK_DIR" &&
	flock "$VOLREP_PVE_LXC_LOCK_DIR/pve-config-200.lock" sh -c "\"$VOLREP\" migrate 200 pve2 >out 2>err; echo \$? >rc" &&
	test "$(cat rc)" = 1 &&
	expect_grep "can.t lock file .$VOLREP_PVE_LXC_LOCK_DIR/pve-config-200.lock. - got timeout" err &&
	test -f "$PVE/nodes/pve1/lxc/200.conf" &&
	flock "$VOLREP_PVE_QEMU_LOCK_DIR/lock-102.conf" sh -c "\"$VOLREP\" migrate 102 pve2 >out 2>err; echo \$? >rc" &&
	test "$(cat rc)" = 1 &&
	expect_grep "can.t lock file .$VOLREP_PVE_QEMU_LOCK_DIR/lock-102.conf. - got timeout" err &&
	test -f "$PVE/nodes/pve1/qemu-server/102.conf"
'

test_expect_success 'migrate: a lock: property in the config (a PVE backup) - refused' '
	cp "$PVE/nodes/pve1/lxc/200.conf" ct200.orig &&
	sed -i "1i lock: backup" "$PVE/nodes/pve1/lxc/200.conf" &&
	run_mustfail 1 vr migrate 200 pve2 &&
	expect_grep "CT 200 is locked (backup) - a Proxmox VE operation is in progress (.pct unlock 200. if" err &&
	test -f "$PVE/nodes/pve1/lxc/200.conf" &&
	cp ct200.orig "$PVE/nodes/pve1/lxc/200.conf"
'

test_expect_success 'failover: a lock: PVE'"'"'s HA recovery would not remove refuses' '
	cp "$PVE/nodes/pve2/qemu-server/101.conf" vm101.orig &&
	sed -i "1i lock: create" "$PVE/nodes/pve2/qemu-server/101.conf" &&
	run_mustfail 1 vr failover 101 &&
	expect_grep "VM 101 is locked (create) .* - refusing to fail over" err &&
	test -f "$PVE/nodes/pve2/qemu-server/101.conf" &&
	cp vm101.orig "$PVE/nodes/pve2/qemu-server/101.conf"
'

# running => from PVE's run files: a VM runs when its pid file names a
# live qemu process started with -pidfile that file (a dead one, or a
# process that is not that QEMU, does not count); a CT when lxc's command
# socket is in /proc/net/unix. A running guest is not migrated.
test_expect_success 'running => from PVE'"'"'s run files: a live VM, then a dead one' '
	create_unix_table 201 &&
	pve_fake_vm "$VOLREP_PVE_RUN_DIR" 102 &&
	run_mustfail 1 vr run --id 102-0 &&
	expect_grep "guest => VM 102, running => 1" "$VOLREP_LOG_DIR/102-0" &&
	run_mustfail 1 vr migrate 102 pve2 &&
	expect_grep "guest .102. is running - stop it first" err &&
	test -f "$PVE/nodes/pve1/qemu-server/102.conf" &&
	pve_fake_vm_stop "$VOLREP_PVE_RUN_DIR" 102 &&
	test -s "$VOLREP_PVE_RUN_DIR/102.pid" &&
	run_mustfail 1 vr run --id 102-0 &&
	expect_grep "guest => VM 102, running => 0" "$VOLREP_LOG_DIR/102-0"
'

test_expect_success 'a pid file naming a process that is not the VM'"'"'s QEMU: not running' '
	{ sleep 300 & echo $! >"$VOLREP_PVE_RUN_DIR/102.pid"; } &&
	test_when_finished "kill \$(cat \"$VOLREP_PVE_RUN_DIR/102.pid\") 2>/dev/null; :" &&
	run_mustfail 1 vr run --id 102-0 &&
	expect_grep "guest => VM 102, running => 0" "$VOLREP_LOG_DIR/102-0"
'

test_expect_success 'running => of a CT: lxc'"'"'s command socket in /proc/net/unix' '
	run_mustfail 1 vr run --id 200-0 &&
	expect_grep "guest => CT 200, running => 0" "$VOLREP_LOG_DIR/200-0" &&
	create_unix_table 200 &&
	run_mustfail 1 vr run --id 200-0 &&
	expect_grep "guest => CT 200, running => 1" "$VOLREP_LOG_DIR/200-0" &&
	run_mustfail 1 vr migrate 200 pve2 &&
	expect_grep "guest .200. is running - stop it first" err &&
	create_unix_table 201
'

test_expect_success 'check: datacenter.cfg'"'"'s migration network, and a broken one' '
	{ vr check || :; } &&
	expect_grep "^ok    datacenter.cfg: replication traffic over network .10.1.0.0/24., migration over network .10.1.0.0/24.$" out &&
	cp "$PVE/datacenter.cfg" dc.orig &&
	printf "keyboard: en-us\nmigration: secure,network=10.1.0.0/24\nreplication: fast\n" >"$PVE/datacenter.cfg" &&
	{ vr check || :; } &&
	expect_grep "^error datacenter.cfg: $PVE/datacenter.cfg:3: invalid replication value .fast. - expected" out &&
	cp dc.orig "$PVE/datacenter.cfg"
'

test_expect_success 'the daemon notices a job written into /etc/pve (no inotify there): polled' '
	{ "$VOLREP" daemon >daemon.out 2>&1 & echo $! >daemon.pid; } &&
	test_when_finished "kill \$(cat \"$TRASH/daemon.pid\") 2>/dev/null; :" &&
	wait_for 10 grep -q "daemon started" daemon.out &&
	expect_grep "daemon started" daemon.out &&
	vr create-local-job 102-1 pve2 --schedule "*:*:0/1" &&
	wait_for 10 grep -q "102-1: started" daemon.out &&
	expect_grep "102-1: started (target pve2)" daemon.out &&
	kill "$(cat daemon.pid)" &&
	wait_for 10 "! kill -0 \"\$(cat daemon.pid)\" 2>/dev/null"
'

test_expect_success 'pvesr'"'"'s job file, state file and guest configs are untouched' '
	pvesr_sums >"$TRASH/sums.after" &&
	test_cmp "$TRASH/sums.before" "$TRASH/sums.after"
'

test_done
