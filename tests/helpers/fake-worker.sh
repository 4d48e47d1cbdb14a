#!/bin/sh
# Stand-in for `volrep run --id <jobid>` in the daemon tests
# (VOLREP_DAEMON_WORKER). Called with the daemon's worker arguments
# ("--config-dir D --state-dir S --log-dir L --node N run --id <jobid>
# --scheduled --transfer-slots=N [--event=EPOCH] [--rate-cap=MBPS]").
# It behaves like the engine as far as the scheduler can see: records the
# start and the end of the run in the state (pid/ptime, last_try,
# last_iteration, scheduled (the --event); last_sync or error/fail_count)
# under the state lock,
# writes a job log with a "transferred" line and "bytes": 10500000 to
# the state, and on SIGTERM records a failure and exits 1. Timestamps go to $FAKE_EVENTS:
#   start <jobid> <epoch.ns> <pid> <rate cap or -> <1 if --scheduled, or -> <transfer slots or -> <event or ->
#   end <jobid> <epoch.ns> ok|fail|term
# Per-job behaviour from the environment (jobid with '-' as '_'):
#   FAKE_SLEEP_<id>=SECONDS (default FAKE_SLEEP, else 1)
#   FAKE_FAIL_<id>=MESSAGE   the run fails with MESSAGE
#   FAKE_BUSY_<id>=1         guest lock busy: exit 75, record nothing
#   FAKE_NOSTATE=1           record nothing at all (a worker that dies early)
#   FAKE_GATE_<id>=FILE (default FAKE_GATE): after recording its start the
#       run waits until FILE exists (at most 120 s), then sleeps as above:
#       tests hold runs open this way instead of guessing durations
set -u
cfg= state= log= node= id= cap=- sched=- slots=- event=-
while [ $# -gt 0 ]; do
	case "$1" in
	--config-dir) cfg=$2; shift ;;
	--state-dir) state=$2; shift ;;
	--log-dir) log=$2; shift ;;
	--node) node=$2; shift ;;
	--id) id=$2; shift ;;
	--rate-cap=*) cap=${1#--rate-cap=} ;;
	--transfer-slots=*) slots=${1#--transfer-slots=} ;;
	--scheduled) sched=1 ;;
	--event=*) event=${1#--event=} ;;
	esac
	shift
done
[ -n "$id" ] || { echo "fake-worker: no --id" >&2; exit 2; }
key=$(echo "$id" | tr - _)
eval "sleep_s=\${FAKE_SLEEP_$key:-\${FAKE_SLEEP:-1}}"
eval "fail_msg=\${FAKE_FAIL_$key:-}"
eval "busy=\${FAKE_BUSY_$key:-}"
eval "gate=\${FAKE_GATE_$key:-\${FAKE_GATE:-}}"
vmid=${id%%-*}
target=$(awk -v id="$id" '/^[a-z]+:/ { cur = $2 } cur == id && $1 == "target" { print $2 }' "$cfg/replication.cfg")
events=${FAKE_EVENTS:-/dev/null}
now() { date +%s.%N; }

if [ -n "$busy" ]; then
	echo "busy $id $(now)" >>"$events"
	echo "can't lock file '$state/lock/guest-$vmid.lck' - got timeout" >&2
	exit 75
fi

# jq filter applied to the job's state entry under the state lock
update() {
	[ -n "${FAKE_NOSTATE:-}" ] && return 0
	mkdir -p "$state"
	(
		flock -w 10 9 || exit 1
		f="$state/replication-state.json"
		[ -s "$f" ] || echo '{}' >"$f"
		jq -c --arg v "$vmid" --arg t "local/$target" "$@" \
			'.[$v][$t] = ((.[$v][$t] // {}) | '"$FILTER"')' "$f" >"$f.tmp.$$" &&
			mv "$f.tmp.$$" "$f"
	) 9>>"$state/replication-state.lck"
}

finish() { # ok|fail|term, message
	dur=$(( $(date +%s) - start ))
	if [ "$1" = ok ]; then
		echo "$(date '+%Y-%m-%d %H:%M:%S') $id: transferred 10.5 MB in ${dur}.0s (10.5 MB/s)" >>"$log/$id"
		FILTER='del(.pid, .ptime, .error) | .last_sync = $s | .fail_count = 0 | .duration = $d | .bytes = 10500000' \
			update --argjson s "$start" --argjson d "$dur.0"
	else
		FILTER='del(.pid, .ptime) | .fail_count = ((.fail_count // 0) + 1) | .error = $e | .duration = $d' \
			update --arg e "$2" --argjson d "$dur.0"
	fi
	echo "end $id $(now) $1" >>"$events"
}

start=$(date +%s)
ptime=$(awk '{print $22}' /proc/$$/stat)
# as the engine (interrupt_install() comes first in volrep run): a TERM
# from the first moment on is recorded as an interrupted run
trap 'finish term "interrupted by SIGTERM"; exit 1' TERM
FILTER='.pid = $pid | .ptime = $ptime | .last_try = $s | .last_iteration = $s | .last_node = $n |
	if $e == "-" then del(.scheduled) else .scheduled = ($e | tonumber) end' \
	update --argjson pid $$ --argjson ptime "$ptime" --argjson s "$start" --arg n "$node" --arg e "$event"
# the start event once the state names the run: a test that saw it may
# rely on the state (SYNCING, the pid)
echo "start $id $(now) $$ $cap $sched $slots $event" >>"$events"
mkdir -p "$log"
echo "$(date '+%Y-%m-%d %H:%M:%S') $id: start replication job" >"$log/$id"

# sleep in the background so that the TERM trap runs at once
if [ -n "$gate" ]; then
	i=0
	while [ ! -e "$gate" ] && [ $i -lt 2400 ]; do
		sleep 0.05 &
		wait $!
		i=$((i + 1))
	done
fi
sleep "$sleep_s" &
wait $!
if [ -n "$fail_msg" ]; then
	finish fail "$fail_msg"
	echo "$fail_msg" >&2
	exit 1
fi
finish ok
