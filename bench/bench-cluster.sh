#!/bin/sh
# The etcd cluster store's cost (docs/cluster.md): `volrep status` on a
# node owning 1,000 guests with one job each, in dir mode and in etcd mode
# (a private three-member etcd cluster on loopback, tests/lib/etcd.sh),
# BENCH_RUNS (default 20) runs each, printed as the etcd/dir ratio of the
# mean time per run; goal <= 2x. A load in etcd mode is one small
# linearizable request when nothing changed since this node's last load
# (the local cache is then exact), else one range request over the whole
# prefix; the second figure is that worst case, every run after a change.
# Needs etcd; exits 1 when the goal is missed.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
VOLREP="$TOP/build/volrep"
export TOP VOLREP TZ=UTC
N=${BENCH_JOBS:-1000}
RUNS=${BENCH_RUNS:-20}

# what tests/lib/*.sh expect from the test harness
. "$TOP/bench/lib.sh"

. "$TOP/tests/lib/etcd.sh"
etcd_require

CFG="$TRASH/cfg"
mkdir -p "$CFG/nodes/a/qemu-server" "$CFG/nodes/b/qemu-server" "$TRASH/state-dir" "$TRASH/state-etcd" "$TRASH/local"
printf 'node: a\n\taddress 127.0.0.1\n\nnode: b\n\taddress 127.0.0.2\n\n' >"$CFG/nodes.cfg"
printf 'zfspool: local-zfs\n\tpool rpool/data\n\tcontent images,rootdir\n\n' >"$CFG/storage.cfg"
i=0
while [ $i -lt "$N" ]; do
	id=$((1000 + i))
	echo "scsi0: local-zfs:vm-$id-disk-0,size=1G" >"$CFG/nodes/a/qemu-server/$id.conf"
	printf 'local: %s-0\n\ttarget b\n\tschedule */15\n\tsource a\n\n' "$id"
	i=$((i + 1))
done >"$CFG/replication.cfg"

now() { date +%s.%N; }
# mean seconds per `volrep status` run
timed() {
	"$@" status >/dev/null || { echo "status failed: $*" >&2; return 1; }
	t0=$(now)
	r=0
	while [ $r -lt "$RUNS" ]; do
		"$@" status >/dev/null || return 1
		r=$((r + 1))
	done
	t1=$(now)
	echo "$t0 $t1 $RUNS" | awk '{ printf "%.4f", ($2 - $1) / $3 }'
}

dir_t=$(timed env VOLREP_NODE=a VOLREP_CONFIG_DIR="$CFG" VOLREP_STATE_DIR="$TRASH/state-dir" "$VOLREP") || exit 1
etcd_start >/dev/null || { echo "etcd did not start"; exit 1; }
VOLREP_NODE=a VOLREP_CONFIG_DIR="$TRASH/local" VOLREP_STATE_DIR="$TRASH/state-etcd" \
	"$VOLREP" --cluster "$ETCD_URL" cluster import "$CFG" >/dev/null || exit 1
etcd_t=$(timed env VOLREP_NODE=a VOLREP_CONFIG_DIR="$TRASH/local" VOLREP_STATE_DIR="$TRASH/state-etcd" \
	VOLREP_CLUSTER="$ETCD_URL" "$VOLREP") || exit 1
# the same after every change: the cache is of no use, each run is one full range
cold() {
	rm -f "$TRASH/state-etcd/cluster-cache"
	"$@"
}
cold_t=$(timed cold env VOLREP_NODE=a VOLREP_CONFIG_DIR="$TRASH/local" VOLREP_STATE_DIR="$TRASH/state-etcd" \
	VOLREP_CLUSTER="$ETCD_URL" "$VOLREP") || exit 1
ratio=$(echo "$etcd_t $dir_t" | awk '{ printf "%.2f", $1 / $2 }')
cold_ratio=$(echo "$cold_t $dir_t" | awk '{ printf "%.2f", $1 / $2 }')
printf '   volrep status, %s jobs, dir mode   %8.4f s per run (%s runs)\n' "$N" "$dir_t" "$RUNS"
printf '   volrep status, %s jobs, etcd mode  %8.4f s per run\n' "$N" "$etcd_t"
printf '   the same, each after a change      %8.4f s per run (%sx: one full range each, no cache)\n' "$cold_t" "$cold_ratio"
if awk "BEGIN { exit !($ratio <= 2) }"; then v=OK; rc=0; else v=MISSED; rc=1; fi
printf '   etcd / dir                         %8sx  (goal <= 2x) %s\n' "$ratio" "$v"
exit "$rc"
