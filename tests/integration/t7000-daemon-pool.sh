#!/bin/sh
# The daemon's worker pool with a fake worker: max-workers, one run per
# guest, max-per-target passed to the runs as transfer slots (not a limit
# on runs), a slow job does not delay others, the bandwidth share;
# assertions from the workers' own start/end timestamps.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib-daemon.sh"
command -v jq >/dev/null && command -v flock >/dev/null || test_skip_all "needs jq and flock"

reset() {
	rm -rf "$CFG" "$VOLREP_STATE_DIR" "$VOLREP_LOG_DIR" "$FAKE_EVENTS" "$TRASH/jobmap"
	make_cluster
}

# Runs are held open at a gate file (FAKE_GATE, tests/helpers/fake-worker.sh)
# rather than by sleeping: the runs that must overlap are all waiting at
# the gate at once, whatever the load of the machine, and the limits are
# checked while they wait and from the timestamps afterwards.
test_expect_success 'max-workers: 8 due jobs to 2 targets, max-per-target passed to the runs' '
	reset &&
	set_cfg "max-workers 3" "max-per-target 2" &&
	for g in 100 101 102 103 104 105 106 107; do
		make_guest $g &&
		if [ $g -lt 104 ]; then t=pve2; else t=pve3; fi &&
		job $g-0 $g $t || return 1
	done &&
	FAKE_SLEEP=0.2 FAKE_GATE="$TRASH/gate" &&
	export FAKE_SLEEP FAKE_GATE &&
	rm -f "$TRASH/gate" &&
	start_daemon &&
	wait_for 30 "[ \$(nstarted) = 3 ]" &&
	# no fourth run while three wait at the gate
	sleep 1 &&
	{ [ "$(nstarted)" = 3 ] || fail "$(nstarted) runs at once, want 3"; } &&
	: >"$TRASH/gate" &&
	wait_for 60 "[ \$(nended) = 8 ]" &&
	for g in 100 101 102 103 104 105 106 107; do
		[ "$(nevents start $g-0)" = 1 ] || fail "$g-0 ran $(nevents start $g-0) times" || return 1
	done &&
	{ [ "$(max_overlap)" = 3 ] || fail "max concurrency $(max_overlap), want 3"; } &&
	expect_grep "100-0: started (target pve2)" "$DLOG" &&
	expect_grep "100-0: finished in [0-9.]*s, 10.5 MB" "$DLOG" &&
	{ [ "$(grep -c "^start .* 1 2 [0-9-]*\$" "$FAKE_EVENTS")" = 8 ] || fail "--scheduled --transfer-slots=2 not passed"; } &&
	stop_daemon && [ "$drc" = 0 ]
'

test_expect_success 'defaults: 4 workers, runs to one target not limited, 2 transfer slots' '
	reset &&
	for g in 200 201 202 203 204 205 206 207 208 209; do
		make_guest $g &&
		job $g-0 $g pve2 || return 1
	done &&
	FAKE_SLEEP=0.2 FAKE_GATE="$TRASH/gate" &&
	export FAKE_SLEEP FAKE_GATE &&
	rm -f "$TRASH/gate" &&
	start_daemon &&
	wait_for 30 "[ \$(nstarted) = 4 ]" &&
	sleep 1 &&
	{ [ "$(nstarted)" = 4 ] || fail "$(nstarted) runs at once, want 4"; } &&
	: >"$TRASH/gate" &&
	wait_for 60 "[ \$(nended) = 10 ]" &&
	# max-per-target limits transfers inside the runs (engine/xferslot.h,
	# tests/unit/test-xferslot.c), not the runs themselves
	{ [ "$(max_overlap " pve2 ")" = 4 ] || fail "pve2 had $(max_overlap " pve2 ") at once, want 4"; } &&
	{ [ "$(awk "\$1 == \"start\" { print \$7 }" "$FAKE_EVENTS" | sort -u)" = 2 ] || fail "transfer slots not 2"; } &&
	stop_daemon && [ "$drc" = 0 ]
'

test_expect_success 'never two runs of one guest (three jobs of guest 300)' '
	reset &&
	set_cfg "max-workers 8" "max-per-target 8" &&
	make_guest 300 && make_guest 301 &&
	job 300-0 300 pve2 && job 300-1 300 pve3 && job 300-2 300 pve4 && job 301-0 301 pve2 &&
	FAKE_SLEEP=0.2 FAKE_GATE="$TRASH/gate" &&
	export FAKE_SLEEP FAKE_GATE &&
	rm -f "$TRASH/gate" &&
	start_daemon &&
	# one run of guest 300 and the one of 301 wait at the gate together
	wait_for 30 "[ \$(nstarted) = 2 ]" &&
	sleep 1 &&
	{ [ "$(nstarted)" = 2 ] || fail "$(nstarted) runs at once, want 2"; } &&
	: >"$TRASH/gate" &&
	wait_for 60 "[ \$(nended) = 4 ]" &&
	{ [ "$(max_overlap " g300\$")" = 1 ] || fail "guest 300 ran $(max_overlap " g300\$") jobs at once"; } &&
	# guest 301 ran beside guest 300
	{ [ "$(max_overlap)" = 2 ] || fail "max concurrency $(max_overlap), want 2"; } &&
	stop_daemon && [ "$drc" = 0 ]
'

test_expect_success 'a slow job does not delay the others' '
	reset &&
	for g in 400 401 402 403 404 405; do make_guest $g && job $g-0 $g pve2 || return 1; done &&
	# 400-0 stays open until the others are done
	FAKE_SLEEP=0.2 FAKE_GATE_400_0="$TRASH/gate400" &&
	export FAKE_SLEEP FAKE_GATE_400_0 &&
	start_daemon &&
	wait_for 60 "[ \$(nended) = 5 ]" &&
	[ "$(nevents end 400-0)" = 0 ] &&
	: >"$TRASH/gate400" &&
	wait_for 30 "[ \$(nended) = 6 ]" &&
	slow_end=$(awk "\$1 == \"end\" && \$2 == \"400-0\" { print \$3 }" "$FAKE_EVENTS") &&
	for g in 401 402 403 404 405; do
		e=$(awk "\$1 == \"end\" && \$2 == \"$g-0\" { print \$3 }" "$FAKE_EVENTS") &&
		awk "BEGIN { exit !($e < $slow_end) }" || fail "$g-0 ended after the slow job" || return 1
	done &&
	stop_daemon && [ "$drc" = 0 ]
'

test_expect_success 'bwlimit split between the running workers, capped by the job rate' '
	reset &&
	set_cfg "bwlimit 100" "max-workers 4" "max-per-target 4" &&
	for g in 500 501 502 503; do make_guest $g || return 1; done &&
	job 500-0 500 pve2 && job 501-0 501 pve2 rate 10 && job 502-0 502 pve2 && job 503-0 503 pve2 &&
	FAKE_SLEEP=1 &&
	export FAKE_SLEEP &&
	start_daemon &&
	wait_for 60 "[ \$(nended) = 4 ]" &&
	awk "\$1 == \"start\" { print \$2, \$5 }" "$FAKE_EVENTS" | sort >caps &&
	printf "%s\n" "500-0 25" "501-0 10" "502-0 25" "503-0 25" >expect &&
	test_cmp expect caps &&
	expect_grep "500-0: started (target pve2, rate cap 25 MB/s)" "$DLOG" &&
	stop_daemon && [ "$drc" = 0 ]
'

test_expect_success 'without bwlimit no rate cap is passed' '
	reset &&
	make_guest 600 && job 600-0 600 pve2 &&
	FAKE_SLEEP=0.1 &&
	export FAKE_SLEEP &&
	start_daemon &&
	wait_for 30 "[ \$(nevents end 600-0) = 1 ]" &&
	[ "$(awk "\$1 == \"start\" { print \$5 }" "$FAKE_EVENTS")" = - ] &&
	stop_daemon && [ "$drc" = 0 ]
'

test_done
