#!/bin/sh
# make demo: volrep replicating a container (ZFS) and a VM disk (btrfs)
# between two "nodes" on this machine, explained step by step.
#
# Each node is a private mount namespace with its own zfs-fuse pool, its
# own loop-file btrfs and its own sshd on a loopback address (the test bed
# of the e2e tests, tests/lib/e2e.sh). Everything lives under one
# temporary directory and is torn down at the end, also on Ctrl-C or
# error: no process, mount, loop device or file is left behind.
#
# Needs root on Debian 12 (make demo installs the packages first).
# DEMO_FAST=1 skips the pauses between steps.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
VOLREP="$TOP/build/volrep"
export TOP VOLREP TZ=${TZ:-UTC}

if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (it creates namespaces, a zfs-fuse pool and a loop-mounted btrfs)" >&2
	exit 1
fi
[ -x "$VOLREP" ] || { echo "demo: $VOLREP is missing, run 'make demo'" >&2; exit 1; }

# --- what tests/lib/*.sh expect from the test harness ------------------
TRASH=$(mktemp -d /tmp/volrep-demo.XXXXXX)
export TRASH
_cleanups=""
test_when_finished() { _cleanups="$1
$_cleanups"; }
# the test libraries register their teardown with either (tests/lib/test-lib.sh)
test_atexit() { test_when_finished "$1"; }
test_skip_all() { echo "demo: cannot run here: $1" >&2; exit 1; }

# directories the storage set-up creates on the host (mount points and
# zfs-fuse's state directories) when they are not there yet: removed
# again at the end, if still empty
HOST_DIRS="/rpool/data /rpool /mnt/btrfs /var/run/zfs /var/lock/zfs /var/lib/zfs /etc/zfs /run/sshd"
CREATED=""
for d in $HOST_DIRS; do
	[ -e "$d" ] || CREATED="$CREATED $d"
done

finish() {
	trap '' INT TERM
	if [ -n "${TB:-}" ]; then
		echo
		say "Tearing down: stop sshd, zfs-fuse, unmount btrfs, detach loop devices"
	fi
	eval "$_cleanups"
	for d in $CREATED; do
		rmdir "$d" 2>/dev/null
	done
	rm -rf "$TRASH"
	[ -z "${TB_LAST:-}" ] || {
		left=$(e2e_leftovers "$TB_LAST")
		if [ -z "$left" ]; then
			echo "   nothing left behind."
		else
			echo "demo: left behind:" >&2
			echo "$left" >&2
		fi
	}
}
trap finish EXIT
trap 'echo; echo "demo: interrupted"; exit 130' INT TERM

. "$TOP/tests/lib/testbed.sh"
. "$TOP/tests/lib/storage.sh"
. "$TOP/tests/lib/e2e.sh"

# --- narration -------------------------------------------------------
if [ -t 1 ]; then
	B=$(printf '\033[1m') C=$(printf '\033[36m') N=$(printf '\033[0m')
else
	B="" C="" N=""
fi
STEP=0
say() { printf '%s==> %s%s\n' "$B" "$*" "$N"; }
step() {
	STEP=$((STEP + 1))
	echo
	say "$STEP. $1"
	shift
	for _l in "$@"; do echo "   $_l"; done
	[ "${DEMO_FAST:-0}" = 1 ] || [ ! -t 1 ] || sleep 1
}
# quoted ARGS...: the arguments as one would type them
quoted() {
	_q=""
	for _a in "$@"; do
		case "$_a" in
		*[!A-Za-z0-9_./:=,@+-]* | '') _a="'$_a'" ;;
		esac
		_q="$_q${_q:+ }$_a"
	done
	echo "$_q"
}
# on NODE CMD...: show the command as typed on that node, then run it there
on() {
	_node=$1; shift
	printf '%s[%s]# %s%s\n' "$C" "$_node" "$(quoted "$@")" "$N"
	node_exec "$_node" "$@"
}
# show CMD...: a command run from the demo host
show() {
	printf '%s# %s%s\n' "$C" "$(quoted "$@")" "$N"
	"$@"
}

CT=local-zfs:subvol-200-disk-0
VM=local-btrfs:100/vm-100-disk-0.raw

# --- the demo --------------------------------------------------------
e2e_require() { :; } # the checks below say what is missing instead
for c in zfs-fuse zfs zpool btrfs mkfs.btrfs losetup unshare nsenter setsid ssh sshd jq; do
	command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] ||
		{ echo "demo: '$c' is missing; run scripts/install-deps" >&2; exit 1; }
done

step "Start two nodes, pve1 and pve2" \
	"Each node is a private mount namespace on this machine with its own" \
	"zfs-fuse pool 'rpool' (dataset rpool/data at /rpool/data), its own" \
	"btrfs at /mnt/btrfs (a loop-mounted file) and its own sshd on a" \
	"loopback address. Both see the same paths, as real nodes would."
e2e_start pve1 pve2 || { echo "demo: the nodes did not start" >&2; exit 1; }
for n in pve1 pve2; do
	echo "   $n: ssh on $(node_addr "$n"), files under $TB/nodes/$n"
done

step "The cluster configuration, shared by both nodes" \
	"volrep reads the Proxmox layout: nodes.cfg says how to reach each node," \
	"storage.cfg which storages exist (same ids on every node)."
show cat "$TB/config/nodes.cfg"
show cat "$TB/config/storage.cfg"

step "Create two guests on pve1, with some data" \
	"Container 200: its root file system is a ZFS dataset." \
	"VM 100: its disk is a btrfs subvolume holding disk.raw."
guest_create pve1 200 lxc &&
	guest_add_disk pve1 200 rootfs $CT 64 &&
	guest_create pve1 100 qemu &&
	guest_add_disk pve1 100 scsi0 $VM 64 || exit 1
on pve1 dd if=/dev/urandom of=/rpool/data/subvol-200-disk-0/data1 bs=1M count=8 status=none
on pve1 dd if=/dev/urandom of=/mnt/btrfs/images/100/vm-100-disk-0/disk.raw bs=1M count=8 conv=notrunc status=none
show cat "$TB/config/nodes/pve1/lxc/200.conf"
show cat "$TB/config/nodes/pve1/qemu-server/100.conf"

step "Create the replication jobs: both guests to pve2" \
	"A job id is <guest>-<n>. The schedule says when the daemon runs it" \
	"(here: every 15 minutes); we run them by hand below."
on pve1 volrep create-local-job 200-0 pve2 --schedule '*/15' --comment 'container on ZFS' || exit 1
on pve1 volrep create-local-job 100-0 pve2 --schedule '*/15' --comment 'VM disk on btrfs' || exit 1
on pve1 volrep list

if ! "$VOLREP" help run >/dev/null 2>&1; then
	echo "demo: this volrep has no 'run' command yet; stopping here" >&2
	exit 1
fi

step "First run: a full sync" \
	"volrep snapshots each volume (__replicate_<job>_<time>__), sends the" \
	"whole snapshot over ssh to pve2, where 'volrep import' receives it."
on pve1 volrep run --id 200-0 --verbose || exit 1
sleep 1 # a new run must start in a later second than the last sync
on pve1 volrep run --id 100-0 --verbose || exit 1

step "Both nodes now hold the same data" \
	"sha256 over the container's files and over the VM's disk.raw:"
for n in pve1 pve2; do
	printf '   %-5s %s  %s\n' "$n" "$(vol_sum "$n" $CT)" "$CT"
	printf '   %-5s %s  %s\n' "$n" "$(vol_sum "$n" $VM)" "$VM"
done

step "Write more data on pve1" \
	"A new file in the container, and 4 MB changed in the middle of the VM disk."
on pve1 dd if=/dev/urandom of=/rpool/data/subvol-200-disk-0/data2 bs=1M count=4 status=none
on pve1 dd if=/dev/urandom of=/mnt/btrfs/images/100/vm-100-disk-0/disk.raw bs=1M count=4 seek=20 conv=notrunc status=none

step "Second run: incremental" \
	"Only the difference between the last replicated snapshot and a new one" \
	"travels; afterwards the older snapshot is deleted on both sides."
sleep 1
on pve1 volrep run --id 200-0 --verbose || exit 1
on pve1 volrep run --id 100-0 --verbose || exit 1

step "Job status on pve1" \
	"LastSync is the start of the last good run, NextSync when the schedule" \
	"runs the job again, State OK or the last error."
on pve1 volrep status

step "The last run's log of a job (also in \$VOLREP_LOG_DIR/<job>)"
on pve1 volrep log 200-0

step "Checksums again, and the snapshots left on each side"
for n in pve1 pve2; do
	printf '   %-5s %s  %s\n' "$n" "$(vol_sum "$n" $CT)" "$CT"
	printf '   %-5s %s  %s\n' "$n" "$(vol_sum "$n" $VM)" "$VM"
done
ok=1
[ "$(vol_sum pve1 $CT)" = "$(vol_sum pve2 $CT)" ] && [ "$(vol_sum pve1 $VM)" = "$(vol_sum pve2 $VM)" ] || ok=0
on pve2 zfs list -t snapshot -o name -r rpool/data
on pve2 ls /mnt/btrfs/images/100
if [ $ok = 1 ]; then
	say "The replicas on pve2 match pve1."
else
	echo "demo: the replicas differ!" >&2
	exit 1
fi

step "How far behind is each replica?" \
	"Age is the time since the last good sync; a job whose replica is older" \
	"than twice its schedule's interval shows 'stale'. JSON has it as 'lag'."
on pve1 volrep status
on pve1 volrep status --output-format json-pretty --guest 200

DEMO_METRICS=$TRASH/metrics
step "The same as Prometheus metrics (volrep metrics; the daemon serves GET /metrics)" \
	"Alert when time() - last_sync > 2 * interval: docs/monitoring.md has the rules."
printf '%s[pve1]# volrep metrics | grep -v "^#"%s\n' "$C" "$N"
node_exec pve1 volrep metrics >"$DEMO_METRICS" || exit 1
grep -E '^volrep_(up|replication_(info|last_sync|failed_syncs|last_bytes|interval|stale))' "$DEMO_METRICS"
grep -qE '^volrep_replication_last_sync_timestamp_seconds\{id="100-0"\} [1-9]' "$DEMO_METRICS" || {
	echo "demo: no last sync in the metrics!" >&2
	exit 1
}
