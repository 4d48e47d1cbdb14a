# Fixture for the t7xxx daemon tests: a cluster config in $TRASH/cfg, the
# daemon started with the fake worker (tests/helpers/fake-worker.sh) and
# helpers to analyse the workers' start/end timestamps.
# Source after tests/lib/test-lib.sh.

test_local_node
export VOLREP_DAEMON_WORKER="$TOP/tests/helpers/fake-worker.sh"
export FAKE_EVENTS="$TRASH/events"
DLOG="$TRASH/daemon.log"
DPID=

make_cluster() {
	mkdir -p "$CFG/nodes/pve1/qemu-server" "$CFG/nodes/pve1/lxc" "$CFG/nodes/pve2/qemu-server"
	: >"$CFG/nodes.cfg"
	for n in 1 2 3 4 5 6; do
		printf 'node: pve%s\n\taddress 127.0.1.%s\n\n' $n $n >>"$CFG/nodes.cfg"
	done
	printf 'zfspool: local-zfs\n\tpool rpool/data\n\tcontent images,rootdir\n\n' >"$CFG/storage.cfg"
	: >"$CFG/replication.cfg"
}

# make_guest VMID [NODE]
make_guest() {
	printf 'scsi0: local-zfs:vm-%s-disk-0,size=1G\n' "$1" >"$CFG/nodes/${2:-pve1}/qemu-server/$1.conf"
}

# add_job ID TARGET [OPTION VALUE]...  (appended to replication.cfg
# atomically, as the CLI does, so the daemon never reads half a file)
add_job() {
	_id=$1 _t=$2
	shift 2
	{
		cat "$CFG/replication.cfg"
		printf 'local: %s\n\ttarget %s\n' "$_id" "$_t"
		while [ $# -gt 1 ]; do
			printf '\t%s %s\n' "$1" "$2"
			shift 2
		done
		printf '\n'
	} >"$CFG/replication.cfg.new" && mv "$CFG/replication.cfg.new" "$CFG/replication.cfg"
}

# set_cfg "key value" ... : write volrep.cfg
set_cfg() {
	printf '%s\n' "$@" >"$CFG/volrep.cfg.new" && mv "$CFG/volrep.cfg.new" "$CFG/volrep.cfg"
}

# wait_for (tests/lib/test-lib.sh) shows the daemon's log and the
# workers' events when it times out
wait_for_diag() {
	[ ! -f "$DLOG" ] || sed 's/^/daemon: /' "$DLOG" >&2
	[ ! -f "$FAKE_EVENTS" ] || sed 's/^/event: /' "$FAKE_EVENTS" >&2
	return 0
}

# Test bodies run in subshells: the pid goes to a file, and a script-wide
# cleanup kills every daemon started, even when a test dies.
test_when_finished 'for _p in $(cat "$TRASH/daemon.pids" 2>/dev/null); do kill -9 $_p 2>/dev/null; done
	for _p in $(awk "\$1 == \"start\" { print \$4 }" "$FAKE_EVENTS" 2>/dev/null); do kill -9 -$_p 2>/dev/null; done'

start_daemon() {
	# a daemon left over by a failed test would hold the lock
	for _p in $(cat "$TRASH/daemon.pids" 2>/dev/null); do
		kill -9 $_p 2>/dev/null
		wait $_p 2>/dev/null # reaped, if it was ours
		wait_for 30 "! kill -0 $_p 2>/dev/null" || return 1
	done
	# the old log goes first, here and not in the background list: the
	# redirection below truncates it only once the child runs, and on a
	# loaded machine the wait could match the previous daemon's
	# "daemon started" before that
	rm -f "$DLOG" || return 1
	"$VOLREP" daemon >"$DLOG" 2>&1 &
	DPID=$!
	echo "$DPID" >>"$TRASH/daemon.pids"
	# a test that fails before its stop_daemon must not leave this
	# daemon acting on the next test's configuration
	test_when_finished "kill_daemon_of_test $DPID"
	wait_for 30 'grep -q "daemon started" "$DLOG"'
}

# kill_daemon_of_test PID: the cleanup start_daemon registers; kills the
# daemon (if still there) and the process groups of the workers it started
kill_daemon_of_test() {
	kill -9 "$1" 2>/dev/null
	for _p in $(awk "\$1 == \"start\" { print \$4 }" "$FAKE_EVENTS" 2>/dev/null); do
		kill -9 -$_p 2>/dev/null
	done
	wait_for 30 "! kill -0 $1 2>/dev/null"
}

# wait_daemon: wait for the daemon's exit, at most $STOP_TIMEOUT s
# (default 60; then SIGKILL); $drc = its exit code
wait_daemon() {
	# the watchdog sleeps in short steps: killed, it leaves nothing behind
	{
		_i=0
		while [ $_i -lt $(( ${STOP_TIMEOUT:-60} * 10 )) ] && kill -0 "$DPID"; do
			sleep 0.1
			_i=$((_i + 1))
		done
		kill -KILL "$DPID"
	} </dev/null >/dev/null 2>&1 &
	_wd=$!
	drc=0
	wait "$DPID" || drc=$?
	kill "$_wd" 2>/dev/null
	return 0
}

# stop_daemon [SIGNAL]: signal it (default TERM), then wait_daemon
stop_daemon() {
	kill -"${1:-TERM}" "$DPID"
	wait_daemon
}

# number of runs started / ended so far (all jobs)
nstarted() { grep -c '^start ' "$FAKE_EVENTS" 2>/dev/null || :; }
nended() { grep -c '^end ' "$FAKE_EVENTS" 2>/dev/null || :; }

# count of lines "<kind> <jobid>" in the events
nevents() {
	_c=$(grep -c "^$1 $2 " "$FAKE_EVENTS" 2>/dev/null) || :
	echo "${_c:-0}"
}

# all started runs have ended
all_ended() {
	[ "$(grep -c '^start ' "$FAKE_EVENTS" 2>/dev/null || echo 0)" = "$(grep -c '^end ' "$FAKE_EVENTS" 2>/dev/null || echo 0)" ]
}

# Largest number of runs that overlapped in time, over the runs whose
# "<jobid> <target>" matches the awk regex $1 (default: all). Jobs map to
# targets and guests via $TRASH/jobmap ("jobid guest target" lines).
max_overlap() {
	awk -v pat="${1:-.}" '
		FILENAME ~ /jobmap$/ { key[$1] = $1 " " $3 " g" $2; next }
		($1 == "start" || $1 == "end") && key[$2] ~ pat {
			print $3, ($1 == "start" ? 1 : -1)
		}' "$TRASH/jobmap" "$FAKE_EVENTS" |
		sort -k1,1n -k2,2n | awk '{ c += $2; if (c > m) m = c } END { print m + 0 }'
}

# register a job in $TRASH/jobmap for max_overlap, and create it
job() { # ID GUEST TARGET [OPTION VALUE]...
	echo "$1 $2 $3" >>"$TRASH/jobmap"
	_j=$1 _tg=$3
	shift 3
	add_job "$_j" "$_tg" "$@"
}
