#!/bin/sh
# The daemon's worker pool (docs/pvesr-compat.md §10, docs/ARCHITECTURE.md §6 "100 guests due at once")
# on the two-node namespace test bed (tests/lib/e2e.sh): N guests (default
# 100) with one small ZFS volume each, all due at once, replicated by
# `volrep daemon` to the other node. Each round writes BENCH_DELTA_MB
# (default 1) into every volume, marks every job due and times the daemon
# from start until every job has synced (incremental runs, the same work
# in every round):
#   max-workers 1                     (pvesr's one-after-another)
#   defaults (max-workers 4, max-per-target 2)
#   max-workers 4, max-per-target 4   (all four workers on the one target)
# printed as ratios to max-workers 1; goal <= 0.4x for the best of the
# parallel settings. Needs root, zfs-fuse, btrfs-progs, sshd. Exits 1 when
# the goal is missed.
#
# Why 0.4x is out of reach on a 2-core machine (two runs, 2026-11, 100
# guests, 1 MB each; "machine cpu" is all CPUs' busy time from /proc/stat
# during the round, so it includes both nodes' zfs-fuse, ssh and sshd, and
# any other load on the machine, which also makes the figures vary by
# +-20% between runs):
#   max-workers 1   15.4-16.6 s wall, 18.4-20.2 s cpu = 60-61% of 2 cores
#   defaults         9.1-12.2 s wall, 17.6-24.1 s cpu = 96-99%
#   4 per target     9.6-13.1 s wall, 18.3-26.2 s cpu = 96-100%
# A run is a chain of short processes on both nodes (zfs and ssh calls,
# `volrep` on the target for prepare, import, finalize) costing ~0.18-0.20
# CPU-s; one at a time it already keeps 1.2 cores busy, because export,
# ssh, sshd, the target's import and both zfs-fuse daemons (one process
# per pool, serialising its calls) work as a pipeline. Parallel runs
# saturate both cores (96-100%), and a job's CPU does not shrink under
# contention (it grows, up to 0.26 s). So the parallel round cannot go
# below cpu / 2 cores = ~9 s, a ratio of ~0.59 for the sequential 15.4 s;
# 0.4x would need 6.2 s, i.e. the whole job - both nodes' share, as the
# test bed runs source and target on the same two cores - under 0.125
# CPU-s, or more cores. Cutting per-job CPU speeds up both rounds alike
# and barely moves the ratio (dropping a zfs call per volrep process took
# max-workers 1 from 20.5 s to 15.4-16.6 s).
#
# With one ssh session per run (docs/protocol.md), 2026-12, 40 guests, on
# a machine that other test suites kept 100% busy (so every round ran at
# a fraction of the CPU, and the ratios mostly measure that load):
#   sessions:      max-workers 1 51.1 s, defaults 25.7 s (0.50x), 4/target 21.4 s (0.42x)
#   one per step:  max-workers 1 71.1 s, defaults 20.0 s (0.28x), 4/target 28.8 s (0.40x)
#   (VOLREP_SESSION=0)
# One 100-guest run with sessions wedged node b's zfs-fuse: two
# concurrent imports each stuck in the `zfs inherit` of the property reset
# after the receive, its `umount` waiting for the FUSE daemon forever
# (request_wait_answer), every later zfs call on b hanging; the runs
# failed with the stall timeout. The 40-guest runs above (both modes) did
# not show it.
#
# 2026-12-02, 100 guests, nothing else running: max-workers 1 17.9 s
# (54% of 2 cores), defaults 10.0 s (0.56x, 93%), 4/target 10.8 s (0.61x).
# The ratio is close to its floor of 0.54 / 0.93: parallel runs cannot
# use more than the two cores, so only work shared between jobs (not a
# cheaper job) could take it to 0.4x. An earlier 100-guest run failed
# one import that had succeeded: its exit came before the export's end
# of file, which the session took for a cut input (fixed, see
# docs/protocol.md).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
VOLREP="$TOP/build/volrep"
export TOP VOLREP TZ=UTC
N=${BENCH_GUESTS:-100}
DELTA=${BENCH_DELTA_MB:-1}
ROUND_LIMIT=${BENCH_ROUND_LIMIT:-900}

if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (namespaces, zfs-fuse, loop devices)"
	exit 0
fi

# what tests/lib/*.sh expect from the test harness
. "$TOP/bench/lib.sh"

. "$TOP/tests/lib/testbed.sh"
. "$TOP/tests/lib/storage.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require
e2e_have_engine || { echo "skipped: volrep run is not built yet"; exit 0; }

now() { date +%s.%N; }
# busy_s: CPU seconds all CPUs spent busy since boot (user, nice, system,
# irq, softirq, steal of /proc/stat): whole-machine load, zfs-fuse and
# the target's sshd included
busy_s() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz; exit }' /proc/stat
}
NCPU=$(nproc)

E2E_ZFS_SIZE=$((N * 3 * DELTA + 512))M
E2E_BTRFS_SIZE=128M
e2e_start a b || exit 1
DLOG="$TRASH/daemon.log"
STATE="$TB/nodes/a/state/replication-state.json"
DPID=
test_when_finished '[ -n "$DPID" ] && kill -9 $DPID 2>/dev/null'

start_daemon() {
	_h=$(node_pid a) || return 1
	# shellcheck disable=SC2046
	sh -c 'exec "$@"' sh nsenter --mount="/proc/$_h/ns/mnt" -- \
		env $(_tb_env a) VOLREP_SSH="$(_tb_volrep_ssh a)" volrep daemon >"$DLOG" 2>&1 &
	DPID=$!
}

stop_daemon() {
	kill -TERM "$DPID" && wait "$DPID" || { echo "daemon failed:"; cat "$DLOG"; exit 1; }
	DPID=
}

# synced_since T: jobs whose last sync started at or after T
synced_since() {
	vr a status --output-format json | jq --argjson t "$1" '[.[] | select(.last_sync >= $t)] | length'
}

# round SETTINGS...: write the delta, make every job due, time the daemon
round() {
	printf '%s\n' "$@" >"$TB/config/volrep.cfg"
	i=0
	while [ $i -lt "$N" ]; do
		vol_write a local-zfs:subvol-$((1000 + i))-disk-0 "$DELTA" || exit 1
		i=$((i + 1))
	done
	# every job due at once (schedule-now for all, in one state write)
	if [ -s "$STATE" ]; then
		jq -c 'map_values(map_values(.last_try = 0))' "$STATE" >"$STATE.new" && mv "$STATE.new" "$STATE"
	fi
	# runs must start after the last sync's second
	sleep 1
	t0s=$(date +%s)
	t0=$(now)
	b0=$(busy_s)
	start_daemon
	# bounded: a failed run is retried only minutes later (the error
	# state's back-off), so the round stops at the first failure, and
	# at BENCH_ROUND_LIMIT seconds (default 900) in any case
	while [ "$(synced_since "$t0s")" != "$N" ]; do
		sleep 0.1
		kill -0 "$DPID" 2>/dev/null || { echo "daemon died:"; cat "$DLOG"; exit 1; }
		if grep -q ": failed " "$DLOG"; then
			stop_daemon
			echo "some runs failed:"
			grep ": failed " "$DLOG" | head -5
			exit 1
		fi
		if [ "$(date +%s)" -gt $((t0s + ROUND_LIMIT)) ]; then
			stop_daemon
			echo "round took more than $ROUND_LIMIT s; daemon log:"
			tail -20 "$DLOG"
			exit 1
		fi
	done
	t=$(echo "$(now) $t0" | awk '{ printf "%.2f", $1 - $2 }')
	busy=$(echo "$(busy_s) $b0" | awk '{ printf "%.1f", $1 - $2 }')
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$DPID/stat")
	stop_daemon
	if grep -q ": failed " "$DLOG"; then
		echo "some runs failed:"
		grep ": failed " "$DLOG" | head -5
		exit 1
	fi
	max=$(awk '/: started \(target/ { c++; if (c > m) m = c } /: (finished|failed) / { c-- } END { print m }' "$DLOG")
	util=$(echo "$busy $t $NCPU" | awk '{ printf "%.0f", 100 * $1 / ($2 * $3) }')
	echo "$t $max $cpu $busy $util"
}

# run_round SETTINGS...: round's figures into "$@" of the caller (through
# ROUND_OUT); a failed round stops the bench with its message
run_round() {
	ROUND_OUT=$(round "$@") || { printf '%s\n' "$ROUND_OUT"; exit 1; }
}

echo
echo "daemon: $N guests (one ZFS volume each) due at once, a -> b"
t0=$(now)
i=0
while [ $i -lt "$N" ]; do
	id=$((1000 + i))
	guest_create a $id lxc && guest_add_disk a $id rootfs local-zfs:subvol-$id-disk-0 16 || exit 1
	printf 'local: %s-0\n\ttarget b\n\tsource a\n\n' $id >>"$TB/config/replication.cfg"
	i=$((i + 1))
done
printf '   (creating %d guests took %.1f s)\n' "$N" "$(echo "$(now) $t0" | awk '{ print $1 - $2 }')"

run_round "max-workers 4" "max-per-target 4"
set -- $ROUND_OUT
printf '   first (full) syncs, 4 workers    %7.2f s  (max %s at once, daemon cpu %s s, machine cpu %s s = %s%%)\n' "$1" "$2" "$3" "$4" "$5"
run_round "max-workers 1"
set -- $ROUND_OUT
t1=$1
printf '   max-workers 1                    %7.2f s  (max %s at once, daemon cpu %s s, machine cpu %s s = %s%%)\n' "$1" "$2" "$3" "$4" "$5"
run_round
set -- $ROUND_OUT
td=$1
rd=$(echo "$td $t1" | awk '{ printf "%.2f", $1 / $2 }')
printf '   defaults (4 workers, 2/target)   %7.2f s  (max %s at once, daemon cpu %s s, machine cpu %s s = %s%%)  %sx\n' "$1" "$2" "$3" "$4" "$5" "$rd"
run_round "max-workers 4" "max-per-target 4"
set -- $ROUND_OUT
t4=$1
r4=$(echo "$t4 $t1" | awk '{ printf "%.2f", $1 / $2 }')
printf '   max-workers 4, max-per-target 4  %7.2f s  (max %s at once, daemon cpu %s s, machine cpu %s s = %s%%)  %sx\n' "$1" "$2" "$3" "$4" "$5" "$r4"
best=$(printf '%s\n%s\n' "$rd" "$r4" | sort -g | head -1)
if awk "BEGIN { exit !($best <= 0.4) }"; then v=OK; rc=0; else v=MISSED; rc=1; fi
printf '   best ratio to max-workers 1      %7sx  (goal <= 0.4x) %s\n' "$best" "$v"
echo
exit "$rc"
