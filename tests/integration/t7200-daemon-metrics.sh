#!/bin/sh
# The daemon's GET /metrics (metrics-listen) with the real worker on jobs
# that fail at once (no storage): the exposition passes promtool, its
# values are those of `status --output-format json` and of `volrep
# metrics`; a worker whose failure notice hangs in a webhook delays
# neither the next job nor the endpoint; the daemon's lines carry syslog
# priorities when stderr is the journal (JOURNAL_STREAM).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/integration/lib-config.sh"
unset VOLREP_DAEMON_WORKER

command -v promtool >/dev/null || test_skip_all "needs promtool (Debian package prometheus)"
command -v curl >/dev/null || test_skip_all "needs curl"

RCV=$TRASH/rcv
mkdir -p "$RCV"
echo hang >"$RCV/mode"
/usr/bin/python3 "$TOP/tests/tools/http-receiver.py" "$RCV" &
RPID=$!
DPID=
test_when_finished "kill $RPID 2>/dev/null; wait $RPID 2>/dev/null"
test_when_finished '[ -n "$DPID" ] && kill -9 $DPID 2>/dev/null'
i=0
while [ ! -s "$RCV/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
HPORT=$(cat "$RCV/port" 2>/dev/null)
MPORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DLOG=$TRASH/daemon.log
URL=http://127.0.0.1:$MPORT/metrics

# a wait_for that times out shows the daemon's log
wait_for_diag() { cat "$DLOG" >&2; }
# metric NAME ID: its value for job ID in file m
metric() {
	sed -n "s/^$1{id=\"$2\"} //p" m
}

test_expect_success 'setup: one failing job, metrics on loopback, a hanging webhook' '
	test -n "$HPORT" &&
	make_cluster &&
	printf "local: 100-0\n\ttarget pve2\n\tsource pve1\n\n" >"$CFG/replication.cfg" &&
	cat >"$CFG/volrep.cfg" <<-EOT
	max-workers 2
	metrics-listen 127.0.0.1:$MPORT
	notify-webhook http://127.0.0.1:$HPORT/hook
	notify-timeout 20
	EOT
'

# started here, not in a test: the daemon must outlive the test's subshell
: >"$DLOG"
JOURNAL_STREAM=$(stat -c %d:%i "$DLOG") "$VOLREP" daemon >>"$DLOG" 2>&1 &
DPID=$!

test_expect_success 'the first failure notice hangs in the webhook; the endpoint answers meanwhile' '
	wait_for 10 "test -s \"$RCV/requests\"" &&
	curl -sf --max-time 5 "$URL" >m &&
	expect_grep "^volrep_up 1$" m &&
	expect_grep "^volrep_daemon_workers_running 1$" m &&
	test "$(metric volrep_replication_failed_syncs 100-0)" = 1 &&
	test "$(metric volrep_replication_running 100-0)" = 0 &&
	"$VOLREP" status --output-format json >st &&
	expect_grep "\"fail_count\":1," st
'

test_expect_success 'the next job runs while the first worker still waits for the webhook' '
	"$VOLREP" create-local-job 200-0 pve2 &&
	wait_for 10 "\"$VOLREP\" status --guest 200 --output-format json | grep -q \"\\\"fail_count\\\":1\"" &&
	# 100-0 is still in its notification (notify-timeout 20s)
	! grep -q "100-0: failed after" "$DLOG" &&
	curl -sf --max-time 5 "$URL" >m &&
	expect_grep "^volrep_daemon_jobs_configured 2$" m
'

test_expect_success 'after notify-timeout the worker ends; the failure is an error line for the journal' '
	wait_for 60 "grep -q \"100-0: failed after\" \"$DLOG\"" &&
	expect_grep "^<3>volrep: 100-0: failed after .* volume .* does not exist; next try " "$DLOG" &&
	expect_grep "^<6>volrep: daemon started on node .pve1." "$DLOG" &&
	expect_grep "^<6>volrep: metrics: serving GET /metrics on 127.0.0.1:$MPORT$" "$DLOG" &&
	"$VOLREP" log 100-0 >l &&
	expect_grep "notification webhook .* failed: .*timed out" l &&
	# a warning of the worker is a warning in the journal too
	expect_grep "^<4>volrep: warning: 100-0: notification webhook .* failed: .*timed out" "$DLOG"
'

test_expect_success 'promtool accepts the exposition; HELP and TYPE for every metric' '
	wait_for 20 "curl -sf --max-time 5 \"$URL\" | grep -q \"^volrep_daemon_workers_running 0$\"" &&
	curl -sf --max-time 5 "$URL" >m &&
	promtool check metrics <m &&
	for n in volrep_up volrep_daemon_workers_running volrep_daemon_jobs_configured volrep_replication_info \
		volrep_replication_last_sync_timestamp_seconds volrep_replication_last_try_timestamp_seconds \
		volrep_replication_next_sync_timestamp_seconds volrep_replication_duration_seconds \
		volrep_replication_failed_syncs volrep_replication_last_bytes volrep_replication_running \
		volrep_replication_removal_pending; do
		expect_grep "^# HELP $n " m && expect_grep "^# TYPE $n gauge$" m || return 1
	done &&
	expect_grep "^volrep_replication_info{id=\"100-0\",guest=\"100\",vmtype=\"qemu\",source=\"pve1\",target=\"pve2\",schedule=\"\*/15\"} 1$" m &&
	expect_grep "^volrep_replication_info{id=\"200-0\",guest=\"200\",vmtype=\"lxc\"," m
'

test_expect_success 'the alert rules of docs/monitoring.md are valid, and the rule for a stale replica fires' '
	awk "/^...yaml\$/ { f = 1; n++; next } /^...\$/ { f = 0 } f && n == 1" "$TOP/docs/monitoring.md" >rules.yml &&
	expect_grep "alert: ReplicationStale" rules.yml &&
	promtool check rules rules.yml &&
	cat >rules-test.yml <<-\EOT &&
	rule_files: [rules.yml]
	evaluation_interval: 1m
	tests:
	  - interval: 1m
	    input_series:
	      - series: volrep_replication_last_sync_timestamp_seconds{id="100-0"}
	        values: 0+0x60
	      - series: volrep_replication_interval_seconds{id="100-0"}
	        values: 900+0x60
	      - series: volrep_replication_failed_syncs{id="100-0"}
	        values: 1+0x60
	      - series: volrep_replication_last_sync_timestamp_seconds{id="101-0"}
	        values: 60+0x60
	      - series: volrep_replication_interval_seconds{id="101-0"}
	        values: 900+0x60
	    alert_rule_test:
	      - eval_time: 20m
	        alertname: ReplicationStale
	        exp_alerts: []
	      - eval_time: 40m
	        alertname: ReplicationStale
	        exp_alerts:
	          - exp_labels: {id: "101-0", severity: warning}
	            exp_annotations:
	              summary: "replica of job 101-0 is stale"
	              description: "no successful sync of 101-0 for 39m 0s"
	      - eval_time: 40m
	        alertname: ReplicationNeverSynced
	        exp_alerts:
	          - exp_labels: {id: "100-0", severity: warning}
	            exp_annotations:
	              summary: "job 100-0 has failed every run so far"
	EOT
	promtool test rules rules-test.yml
'

test_expect_success 'the values are those of status --output-format json and of volrep metrics' '
	"$VOLREP" status --output-format json >st &&
	for id in 100-0 200-0; do
		jq -r ".[] | select(.id == \"$id\") | [.last_sync, .last_try, .next_sync, .fail_count, .bytes] | @tsv" st >want &&
		printf "%s\t%s\t%s\t%s\t%s\n" "$(metric volrep_replication_last_sync_timestamp_seconds $id)" \
			"$(metric volrep_replication_last_try_timestamp_seconds $id)" \
			"$(metric volrep_replication_next_sync_timestamp_seconds $id)" \
			"$(metric volrep_replication_failed_syncs $id)" \
			"$(metric volrep_replication_last_bytes $id)" >got &&
		test_cmp want got || return 1
	done &&
	test "$(metric volrep_replication_last_try_timestamp_seconds 100-0)" -gt 0 &&
	"$VOLREP" metrics >m2 &&
	grep -v "^volrep_daemon_workers_running" m >a && grep -v "^volrep_daemon_workers_running" m2 >b &&
	test_cmp a b
'

test_expect_success 'a failing removal: pending in the metrics, one notice; unknown paths 404, other methods 405' '
	echo ok >"$RCV/mode" &&
	"$VOLREP" delete 200-0 2>/dev/null &&
	# it failed before: the removal backs off too, unless scheduled now
	"$VOLREP" schedule-now 200-0 &&
	wait_for 20 "grep -q removal-failed \"$RCV/requests\"" &&
	test "$(grep -c removal-failed "$RCV/requests")" = 1 &&
	curl -sf --max-time 5 "$URL" >m &&
	test "$(metric volrep_replication_removal_pending 200-0)" = 1 &&
	test "$(metric volrep_replication_removal_pending 100-0)" = 0 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 http://127.0.0.1:$MPORT/other)" = 404 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 -X POST "$URL")" = 405
'

test_expect_success 'the daemon stops cleanly, the port is closed' '
	kill -TERM $DPID &&
	wait_for 20 "! kill -0 $DPID 2>/dev/null" &&
	! curl -sf --max-time 2 "$URL" >/dev/null
'

# a port in use at start: reported once, taken at a later pass
/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(600)' "$MPORT" &
BPID=$!
test_when_finished "kill $BPID 2>/dev/null"
sleep 0.5
: >"$DLOG"
"$VOLREP" daemon >>"$DLOG" 2>&1 &
DPID=$!

test_expect_success 'metrics-listen on a port in use: one error, then served once the port is free' '
	wait_for 10 "grep -q \"metrics: cannot listen on .127.0.0.1:$MPORT. - .* (trying again)\" \"$DLOG\"" &&
	kill -HUP $DPID && sleep 0.5 && kill -HUP $DPID &&
	sleep 0.5 &&
	test "$(grep -c "metrics: cannot listen" "$DLOG")" = 1 &&
	kill $BPID && { wait $BPID 2>/dev/null || :; } &&
	sleep 0.2 && kill -HUP $DPID &&
	wait_for 10 "grep -q \"metrics: serving GET /metrics on 127.0.0.1:$MPORT\" \"$DLOG\"" &&
	curl -sf --max-time 5 "$URL" | grep -q "^volrep_up 1$" &&
	kill -TERM $DPID &&
	wait_for 20 "! kill -0 $DPID 2>/dev/null"
'

test_done
