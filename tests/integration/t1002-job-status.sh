#!/bin/sh
# status (pvesr columns, the default layout with Age/stale/removal, next_sync
# with backoff, JSON fields with bytes and lag) and schedule-now
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib-config.sh"
make_cluster
# 2024-05-01 12:00:00 UTC
export VOLREP_NOW=1714564800

# daemon_lock_held: a process holds the daemon's flock (what status looks for)
daemon_lock_held() {
	_ino=$(stat -c %i "$VOLREP_STATE_DIR/daemon.lck" 2>/dev/null) &&
		grep -q "FLOCK .* WRITE .*:$_ino " /proc/locks
}

test_expect_success 'setup' '
	run_check "$VOLREP" create-local-job 100-0 pve2 --rate 10 &&
	run_check "$VOLREP" create-local-job 100-1 pve3 --schedule "*/5" &&
	run_check "$VOLREP" create-local-job 200-0 pve2 --disable 1 &&
	run_check "$VOLREP" create-local-job 200-1 pve3 &&
	run_check "$VOLREP" create-local-job 101-0 pve1 &&
	run_check "$VOLREP" delete 200-1 2>/dev/null
'

test_expect_success 'status --output-format pvesr without state: every job pending' '
	run_check "$VOLREP" status --output-format pvesr >out &&
	cat >expect <<-\EOT &&
	JobID      Enabled    Target                           LastSync             NextSync   Duration  FailCount State
	100-0      Yes        local/pve2                              -              pending          -          0 OK
	100-1      Yes        local/pve3                              -              pending          -          0 OK
	200-0      No         local/pve2                              -              pending          -          0 OK
	200-1      Yes        local/pve3                              -              pending          -          0 OK
	EOT
	test_cmp expect out
'

test_expect_success 'status with state: last sync, schedule, backoff, error' '
	{ sleep 60 & } &&
	spid=$! &&
	test_atexit "kill $spid 2>/dev/null" &&
	ptime=$(awk "{print \$22}" /proc/$spid/stat) &&
	mkdir -p "$VOLREP_STATE_DIR" &&
	cat >"$VOLREP_STATE_DIR/replication-state.json" <<-EOT &&
	{"100":{"local/pve2":{"last_sync":1714564200,"last_try":1714564200,"fail_count":0,"duration":3.521842,"last_node":"pve1","last_iteration":1714564200,"storeid_list":["local-zfs"]},
	 "local/pve3":{"last_sync":1714560000,"last_try":1714564500,"fail_count":2,"error":"no route to host","duration":1.5}},
	 "200":{"local/pve2":{"last_sync":1714564790,"last_try":1714564790,"fail_count":0,"duration":12.25,"pid":$spid,"ptime":$ptime}}}
	EOT
	run_check "$VOLREP" status --output-format pvesr >out &&
	cat >expect <<-\EOT &&
	JobID      Enabled    Target                           LastSync             NextSync   Duration  FailCount State
	100-0      Yes        local/pve2            2024-05-01_11:50:00  2024-05-01_12:00:00   3.521842          0 OK
	100-1      Yes        local/pve3            2024-05-01_10:40:00  2024-05-01_12:05:00        1.5          2 no route to host
	200-0      No         local/pve2            2024-05-01_11:59:50  2024-05-01_12:00:00      12.25          0 SYNCING
	200-1      Yes        local/pve3                              -              pending          -          0 OK
	EOT
	# at exactly 12:00:00 the jobs due at 12:00:00 are pending
	sed -e "s/2024-05-01_12:00:00/            pending/" expect >expect2 &&
	test_cmp expect2 out &&
	VOLREP_NOW=1714564799 "$VOLREP" status --output-format pvesr >out2 &&
	test_cmp expect out2
'

test_expect_success 'status: the age of the last sync, stale jobs, a pending removal' '
	run_check "$VOLREP" status >out &&
	cat >expect <<-\EOT &&
	JobID      Enabled Target                      LastSync       Age            NextSync   Duration FailCount State
	100-0      Yes     local/pve2       2024-05-01 11:50:00       10m             pending       3.5s         0 OK
	100-1      Yes     local/pve3       2024-05-01 10:40:00     1h20m 2024-05-01 12:05:00       1.5s         2 stale: no route to host
	200-0      No      local/pve2       2024-05-01 11:59:50       10s             pending      12.2s         0 SYNCING
	200-1      Yes     local/pve3                         -         -             pending          -         0 removal pending
	EOT
	test_cmp expect out &&
	# a daemon runs (stale, not overdue)
	{ flock "$VOLREP_STATE_DIR/daemon.lck" sleep 60 & } &&
	fpid=$! &&
	test_when_finished "kill $fpid 2>/dev/null; rm -f \"$VOLREP_STATE_DIR/daemon.lck\"" &&
	wait_for 10 daemon_lock_held &&
	# 100-0 (every 15 minutes) is stale after 30 minutes without a sync
	VOLREP_NOW=$((1714564200 + 1800)) "$VOLREP" status --guest 100 >out &&
	expect_grep "^100-0 .* 30m .* OK$" out &&
	VOLREP_NOW=$((1714564200 + 1801)) "$VOLREP" status --guest 100 >out &&
	expect_grep "^100-0 .* 30m1s .* stale$" out &&
	# max-lag in volrep.cfg overrides twice the interval
	echo "max-lag 3600" >"$CFG/volrep.cfg" &&
	test_when_finished "rm -f \"$CFG/volrep.cfg\"" &&
	VOLREP_NOW=$((1714564200 + 1801)) "$VOLREP" status --guest 100 >out &&
	expect_grep "^100-0 .* OK$" out &&
	expect_grep "^100-1 .* 2 stale: no route to host$" out &&
	"$VOLREP" status --guest 100 --output-format json >json &&
	expect_grep "\"id\":\"100-0\",\"jobnum\":0,\"lag\":600," json &&
	expect_grep "\"lag\":4800,.*\"stale\":1" json
'

test_expect_success 'status without a daemon: overdue jobs and one line saying why' '
	# 100-0 was due at 12:00:00; 61 s later nothing ran it
	VOLREP_NOW=1714564861 "$VOLREP" status --guest 100 >out 2>err &&
	expect_grep "^100-0 .* 11m1s 2024-05-01 12:00:00 .* overdue$" out &&
	expect_grep "^100-1 .* 2024-05-01 12:05:00 .* stale: no route to host$" out &&
	test "$(wc -l <err)" = 1 &&
	expect_grep "^volrep: warning: no volrep daemon is running on this node: 1 job(s) overdue; start it (.systemctl start volrep.) or run the due jobs with .volrep run.$" err &&
	# within the grace minute: only due
	VOLREP_NOW=1714564860 "$VOLREP" status --guest 100 >out 2>err &&
	expect_grep "^100-0 .* pending .* OK$" out &&
	expect_grep "no volrep daemon is running on this node: jobs run only when started" err &&
	VOLREP_NOW=1714564861 "$VOLREP" status --guest 100 --output-format json >json 2>err &&
	expect_grep "\"id\":\"100-0\",.*\"overdue\":1," json &&
	! test -s err &&
	# pvesr layout: unchanged
	VOLREP_NOW=1714564861 "$VOLREP" status --guest 100 --output-format pvesr >out 2>err &&
	expect_grep "^100-0      Yes        local/pve2            2024-05-01_11:50:00              pending   3.521842          0 OK$" out &&
	! test -s err
'

test_expect_success 'status with the daemon'\''s lock held: nothing is overdue' '
	{ flock "$VOLREP_STATE_DIR/daemon.lck" sleep 60 & } &&
	fpid=$! &&
	test_when_finished "kill $fpid 2>/dev/null; rm -f \"$VOLREP_STATE_DIR/daemon.lck\"" &&
	wait_for 10 daemon_lock_held &&
	VOLREP_NOW=1714564861 "$VOLREP" status --guest 100 >out 2>err &&
	expect_grep "^100-0 .* pending .* OK$" out &&
	! test -s err
'

test_expect_success 'a failing removal points to delete --force' '
	cp "$VOLREP_STATE_DIR/replication-state.json" state.saved &&
	test_when_finished "cp state.saved \"$VOLREP_STATE_DIR/replication-state.json\"" &&
	printf "{\"200\":{\"local/pve3\":{\"last_try\":1714564700,\"fail_count\":1,\"error\":\"ssh to pve3 failed\"}}}" \
		>"$VOLREP_STATE_DIR/replication-state.json" &&
	"$VOLREP" status --guest 200 >out 2>/dev/null &&
	expect_grep "^200-1 .* 1 removal pending: ssh to pve3 failed (.volrep delete 200-1 --force. removes the job without cleaning up)$" out
'

test_expect_success 'status --output-format json: pvesr fields' '
	run_check "$VOLREP" status --guest 100 --output-format json >out &&
	expect_grep "^\[{\"bytes\":0,\"duration\":3.521842,\"fail_count\":0,\"guest\":100,\"id\":\"100-0\",\"jobnum\":0,\"lag\":600,\"last_sync\":1714564200,\"last_sync_time\":\"2024-05-01T11:50:00+00:00\",\"last_try\":1714564200,\"next_sync\":1714564800,\"next_sync_time\":\"2024-05-01T12:00:00+00:00\",\"overdue\":0,\"rate\":10,\"source\":\"pve1\",\"stale\":0,\"target\":\"pve2\",\"type\":\"local\",\"vmtype\":\"qemu\"}" out &&
	expect_grep "\"error\":\"no route to host\",\"fail_count\":2" out &&
	expect_grep "\"next_sync\":1714565100" out &&
	! grep -q "\"guest\":200" out &&
	run_check "$VOLREP" status --guest 200 --output-format json-pretty >out &&
	expect_grep "\"pid\": [0-9]" out &&
	expect_grep "\"vmtype\": \"lxc\"" out &&
	expect_grep "\"remove_job\": \"full\"" out &&
	expect_grep "\"next_sync\": 1," out
'

test_expect_success 'backoff 5/10/15/30 minutes from last_try' '
	for fc in 1 2 3 4 7; do
		printf "{\"100\":{\"local/pve2\":{\"last_try\":1714564800,\"fail_count\":$fc,\"error\":\"x\"}}}" \
			>"$VOLREP_STATE_DIR/replication-state.json" &&
		"$VOLREP" status --guest 100 --output-format json >out &&
		sed "s/},{/}\\n{/g" out | grep "\"id\":\"100-0\"" |
			sed -n "s/.*\"next_sync\":\\([0-9]*\\).*/\\1/p" >>nexts || return 1
	done &&
	printf "%s\n" 1714565100 1714565400 1714565700 1714566600 1714566600 >expect &&
	test_cmp expect nexts
'

test_expect_success 'status on another node shows that node'\''s guests' '
	VOLREP_NODE=pve2 "$VOLREP" status --output-format pvesr >out &&
	expect_grep "^101-0      Yes        local/pve1 " out &&
	[ "$(wc -l <out)" = 2 ]
'

test_expect_success 'status: bad arguments' '
	expect_bad_input "invalid guest '\''99'\''" status --guest 99 &&
	expect_bad_input "invalid output-format '\''yaml'\'' - value must be one of text, json, json-pretty, pvesr" status --output-format yaml
'

test_expect_success 'status: a corrupt state file fails with exit 1' '
	echo "{not json" >"$VOLREP_STATE_DIR/replication-state.json" &&
	expect_exit 1 status &&
	expect_grep "replication-state.json" err
'

test_expect_success 'schedule-now sets last_try to 0' '
	printf "{\"100\":{\"local/pve2\":{\"last_sync\":1714564200,\"last_try\":1714564200,\"fail_count\":0}}}" \
		>"$VOLREP_STATE_DIR/replication-state.json" &&
	VOLREP_NOW=1714564300 "$VOLREP" status --guest 100 >out &&
	expect_grep "^100-0 .* 2024-05-01 12:00:00 " out &&
	run_check "$VOLREP" schedule-now 100-0 &&
	expect_grep "\"last_try\":0" "$VOLREP_STATE_DIR/replication-state.json" &&
	expect_grep "\"last_sync\":1714564200" "$VOLREP_STATE_DIR/replication-state.json" &&
	VOLREP_NOW=1714564300 "$VOLREP" status --guest 100 >out &&
	expect_grep "^100-0 .* pending " out
'

test_expect_success 'schedule-now without state entry changes nothing' '
	cp "$VOLREP_STATE_DIR/replication-state.json" before &&
	run_check "$VOLREP" schedule-now 100-1 &&
	test_cmp before "$VOLREP_STATE_DIR/replication-state.json"
'

test_expect_success 'schedule-now errors' '
	expect_bad_input "no such replication job '\''100-9'\''" schedule-now 100-9 &&
	expect_bad_input "invalid replication job id '\''1-0'\'' (guest IDs < 100 are reserved)" schedule-now 1-0
'

test_expect_success 'a missing config directory is an error, not an empty cluster' '
	for cmd in list status run; do
		run_mustfail 1 "$VOLREP" --config-dir "$TRASH/no-such-dir" $cmd 2>err &&
		expect_grep "unable to read '\''$TRASH/no-such-dir/.*'\'' - No such file or directory" err || return 1
	done
'

test_done
