#!/bin/sh
# Failure notifications without storage (a job whose volumes do not exist
# fails at once): a fake sendmail (notify-sendmail-command) records its
# argv and message, a webhook receiver on loopback records the POSTs.
# Driven through 55 failures with VOLREP_NOW ticks: exactly fail counts
# 1, 2, 3 and 48 notify, with the job's fields; run --mail rules;
# notify-test; a refused header file, a failing and a hanging webhook are
# logged and change nothing; log-keep keeps the earlier runs' logs.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/integration/lib-config.sh"

T0=1714564800 # 2024-05-01 12:00:00 UTC
RCV=$TRASH/rcv

# the webhook receiver, for the whole script
mkdir -p "$RCV"
/usr/bin/python3 "$TOP/tests/tools/http-receiver.py" "$RCV" &
RPID=$!
test_when_finished "kill $RPID 2>/dev/null; wait $RPID 2>/dev/null"
i=0
while [ ! -s "$RCV/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat "$RCV/port" 2>/dev/null)

# fails1 CMD...: CMD exits 1 (volrep run: a job failed)
fails1() {
	_rc=0
	"$@" || _rc=$?
	[ "$_rc" = 1 ] || { echo "expected exit 1, got $_rc: $*" >&2; return 1; }
}
# mail_field N LABEL: the value of "LABEL:" in the body of mail N
mail_field() {
	sed -n "s/^$2: *//p" "$TRASH/mail/$1.msg"
}
# the JSON bodies of the webhook requests, one a line
bodies() {
	/usr/bin/python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.loads(l)["body"])' "$RCV/requests"
}

test_expect_success 'setup: a failing job, fake sendmail, webhook receiver' '
	make_cluster &&
	printf "local: 100-0\n\ttarget pve2\n\tsource pve1\n\n" >"$CFG/replication.cfg" &&
	test -n "$PORT" &&
	mkdir -p "$TRASH/mail" &&
	cat >"$TRASH/sendmail" <<-EOT &&
	#!/bin/sh
	n=\$(ls "$TRASH/mail" | grep -c "\\.msg\$")
	printf "%s\\n" "\$@" >"$TRASH/mail/\$n.argv"
	cat >"$TRASH/mail/\$n.msg"
	EOT
	chmod +x "$TRASH/sendmail" &&
	printf "Authorization: Bearer test-token\n# a comment\nX-Extra: 1\n" >"$TRASH/hdr" &&
	chmod 600 "$TRASH/hdr" &&
	cat >"$CFG/volrep.cfg" <<-EOT
	notify-mail root,ops@example.com
	notify-sendmail-command $TRASH/sendmail
	notify-webhook http://127.0.0.1:$PORT/hook header-file=$TRASH/hdr
	notify-timeout 3
	log-keep 3
	EOT
'

test_expect_success 'run --id with --mail is refused (pvesr), a run without --mail sends nothing' '
	expect_exit 2 run --id 100-0 --mail &&
	expect_grep "Mail and id are mutually exclusive!" err &&
	fails1 env VOLREP_NOW=$T0 "$VOLREP" run 2>err &&
	expect_grep "^100-0: " err &&
	"$VOLREP" status --output-format json >st &&
	expect_grep "\"fail_count\":1" st &&
	test -z "$(ls "$TRASH/mail")" &&
	! test -e "$RCV/requests" &&
	rm "$VOLREP_STATE_DIR/replication-state.json"
'

test_expect_success '55 failures with run --mail: notices at fail counts 1, 2, 3 and 48 only' '
	t=$T0 && i=0 &&
	while [ $i -lt 55 ]; do
		fails1 env VOLREP_NOW=$t "$VOLREP" run --mail 2>/dev/null || return 1
		t=$((t + 3600)) && i=$((i + 1))
	done &&
	"$VOLREP" status --output-format json >st &&
	expect_grep "\"fail_count\":55" st &&
	for n in 0 1 2 3; do mail_field $n "Fail count" || return 1; done >counts &&
	printf "1\n2\n3\n48\n" >expect &&
	test_cmp expect counts &&
	! test -e "$TRASH/mail/4.msg" &&
	bodies >b &&
	jq -r ".\"failure-count\"" b >counts &&
	test_cmp expect counts
'

test_expect_success 'the mail: sendmail -t -oi, recipients, pvesr subject, the fields' '
	printf "%s\n" -t -oi >expect &&
	test_cmp expect "$TRASH/mail/0.argv" &&
	expect_grep "^To: root, ops@example.com$" "$TRASH/mail/0.msg" &&
	expect_grep "^Subject: Replication Job: .100-0. failed$" "$TRASH/mail/0.msg" &&
	test "$(mail_field 0 Job)" = 100-0 &&
	test "$(mail_field 0 Guest)" = "100 (qemu)" &&
	test "$(mail_field 0 Source)" = pve1 &&
	test "$(mail_field 0 Target)" = pve2 &&
	test "$(mail_field 0 Schedule)" = "*/15" &&
	test "$(mail_field 0 "Last sync")" = never &&
	# the retry of failure 1 is 5 minutes after the try, of failure 48 30 minutes
	test "$(mail_field 0 "Next try")" = "2024-05-01 12:05:00 UTC (in 5m)" &&
	test "$(mail_field 3 "Next try")" = "$(date -u -d @$((T0 + 47 * 3600 + 1800)) "+%Y-%m-%d %H:%M:%S UTC") (in 30m)" &&
	test "$(mail_field 0 Host)" = "$(hostname)" &&
	expect_grep "^    volume .* does not exist$" "$TRASH/mail/0.msg" &&
	expect_grep "^Note: further failures are reported only at failure counts 48" "$TRASH/mail/2.msg" &&
	! grep -q "^Note:" "$TRASH/mail/1.msg"
'

test_expect_success 'the webhook: JSON fields, bearer token from the header file' '
	head -n 1 b >b0 &&
	test "$(jq -r ".\"job-id\"" b0)" = 100-0 &&
	test "$(jq -r ".event" b0)" = failed &&
	test "$(jq -r ".guest" b0)" = 100 &&
	test "$(jq -r ".vmtype" b0)" = qemu &&
	test "$(jq -r ".\"job-source\"" b0)" = pve1 &&
	test "$(jq -r ".\"job-target\"" b0)" = pve2 &&
	test "$(jq -r ".\"job-schedule\"" b0)" = "*/15" &&
	test "$(jq -r ".\"last-sync\"" b0)" = 0 &&
	test "$(jq -r ".\"last-sync-age\"" b0)" = null &&
	test "$(jq -r ".\"next-sync\"" b0)" = $((T0 + 300)) &&
	test "$(jq -r ".hostname" b0)" = "$(hostname)" &&
	jq -e ".error | test(\"does not exist\")" b0 &&
	test "$(jq -r ".title" b0)" = "Replication Job: '\''100-0'\'' failed" &&
	head -n 1 "$RCV/requests" | jq -r ".headers.Authorization, .path" >h &&
	printf "Bearer test-token\n/hook\n" >expect &&
	test_cmp expect h
'

test_expect_success 'log-keep 3: the current log and three earlier runs' '
	"$VOLREP" log 100-0 --list >list &&
	test "$(wc -l <list)" = 5 &&
	expect_grep "^0 .* error: volume .* does not exist$" list &&
	expect_grep "^3 " list &&
	"$VOLREP" log 100-0 --run 3 >l3 &&
	expect_grep "100-0: end replication job with error" l3 &&
	expect_exit 1 log 100-0 --run 4 &&
	expect_grep "no log of run 4 for job .100-0." err &&
	expect_exit 2 log 100-0 --run x &&
	# the notification outcome is in the log of the run that sent it
	"$VOLREP" log 100-0 >l0 &&
	! grep -q notification l0
'

test_expect_success 'a header file readable by others is refused; the mail still goes out, the state is as without' '
	chmod 644 "$TRASH/hdr" &&
	rm "$VOLREP_STATE_DIR/replication-state.json" "$RCV/requests" "$TRASH"/mail/* &&
	fails1 env VOLREP_NOW=$T0 "$VOLREP" run --mail 2>err &&
	"$VOLREP" log 100-0 >l &&
	expect_grep "notification webhook .http://127.0.0.1:$PORT/hook. failed: header file .* is accessible by group or others (mode 0644)" l &&
	expect_grep "notification mail sent to .root,ops@example.com." l &&
	! test -e "$RCV/requests" &&
	test -e "$TRASH/mail/0.msg" &&
	"$VOLREP" status --output-format json >st &&
	expect_grep "\"fail_count\":1," st &&
	chmod 600 "$TRASH/hdr"
'

test_expect_success 'a failing and a hanging webhook: logged, bounded by notify-timeout, the run result unchanged' '
	echo fail >"$RCV/mode" &&
	fails1 env VOLREP_NOW=$((T0 + 3600)) "$VOLREP" run --mail 2>err &&
	"$VOLREP" log 100-0 >l &&
	expect_grep "notification webhook .* failed: server answered HTTP 500" l &&
	echo hang >"$RCV/mode" &&
	# the receiver would hang for an hour; timeout(1) only bounds the test
	fails1 env VOLREP_NOW=$((T0 + 7200)) timeout 120 "$VOLREP" run --mail 2>err &&
	"$VOLREP" log 100-0 >l &&
	# notify-timeout 3 ended it
	expect_grep "notification webhook .* failed: .*timed out after 3[0-9][0-9][0-9] milliseconds" l &&
	"$VOLREP" status --output-format json >st &&
	expect_grep "\"fail_count\":3," st &&
	echo ok >"$RCV/mode"
'

test_expect_success 'ntfy and Gotify presets: ntfy gets the topic in the body at the server root' '
	rm -f "$RCV/requests" &&
	cat >"$CFG/volrep.cfg" <<-EOT &&
	notify-webhook http://127.0.0.1:$PORT/volrep-alerts format=ntfy
	notify-webhook http://127.0.0.1:$PORT/message?token=secret format=gotify header-file=$TRASH/hdr
	EOT
	run_check "$VOLREP" notify-test >out &&
	expect_grep "^notification webhook .http://127.0.0.1:$PORT/volrep-alerts. delivered$" out &&
	# the query (a token) is not shown
	expect_grep "^notification webhook .http://127.0.0.1:$PORT/message?.... delivered$" out &&
	! grep -q secret out &&
	jq -r ".path" "$RCV/requests" >paths &&
	printf "/
/message?token=secret
" >expect &&
	test_cmp expect paths &&
	bodies >b &&
	test "$(head -n 1 b | jq -r ".topic")" = volrep-alerts &&
	head -n 1 b | jq -r ".title" | grep -q "^volrep notification test from " &&
	test "$(tail -n 1 b | jq -r ".priority")" = 4 &&
	test "$(tail -n 1 "$RCV/requests" | jq -r ".headers.Authorization")" = "Bearer test-token" &&
	cat >"$CFG/volrep.cfg" <<-EOT
	notify-mail root,ops@example.com
	notify-sendmail-command $TRASH/sendmail
	notify-webhook http://127.0.0.1:$PORT/hook header-file=$TRASH/hdr
	notify-timeout 3
	log-keep 3
	EOT
'

test_expect_success 'without targets nothing is remembered (no recovery notice later for it)' '
	printf "log-keep 3
" >"$CFG/volrep.cfg.new" && cp "$CFG/volrep.cfg" cfg.saved &&
	mv "$CFG/volrep.cfg.new" "$CFG/volrep.cfg" &&
	rm "$VOLREP_STATE_DIR/replication-state.json" &&
	fails1 env VOLREP_NOW=$T0 "$VOLREP" run --mail 2>err &&
	expect_grep "\"fail_count\":1," "$VOLREP_STATE_DIR/replication-state.json" &&
	! grep -q notified "$VOLREP_STATE_DIR/replication-state.json" &&
	cp cfg.saved "$CFG/volrep.cfg"
'

test_expect_success 'a webhook that is down: connection refused is logged' '
	kill $RPID && wait $RPID 2>/dev/null;
	rm "$VOLREP_STATE_DIR/replication-state.json" &&
	fails1 env VOLREP_NOW=$T0 "$VOLREP" run --mail 2>err &&
	"$VOLREP" log 100-0 >l &&
	! grep -q "notification webhook .* delivered" l &&
	expect_grep "notification webhook .http://127.0.0.1:$PORT/hook. failed: " l
'

test_expect_success 'notify-test: one message to every target, exit 1 when one fails' '
	rm -f "$TRASH"/mail/* &&
	expect_exit 1 notify-test &&
	expect_grep "^notification mail sent to .root,ops@example.com.$" out &&
	expect_grep "notification webhook .* failed" err &&
	expect_grep "^Subject: volrep notification test from $(hostname)$" "$TRASH/mail/0.msg" &&
	printf "notify-mail root\nnotify-sendmail-command %s\n" "$TRASH/sendmail" >"$CFG/volrep.cfg" &&
	expect_exit 0 notify-test &&
	: >"$CFG/volrep.cfg" &&
	expect_exit 1 notify-test &&
	expect_grep "no notification targets in .*volrep.cfg" err
'

test_expect_success 'sendmail failing or missing: logged, the run goes on' '
	printf "#!/bin/sh\necho relay down >&2\nexit 75\n" >"$TRASH/badmail" && chmod +x "$TRASH/badmail" &&
	printf "notify-mail root\nnotify-sendmail-command %s\n" "$TRASH/badmail" >"$CFG/volrep.cfg" &&
	rm "$VOLREP_STATE_DIR/replication-state.json" &&
	fails1 env VOLREP_NOW=$T0 "$VOLREP" run --mail 2>err &&
	"$VOLREP" log 100-0 >l &&
	expect_grep "notification mail to .root. failed: .*badmail. failed with exit code 75: relay down" l &&
	printf "notify-mail root\nnotify-sendmail-command %s\n" "$TRASH/nosuch" >"$CFG/volrep.cfg" &&
	fails1 env VOLREP_NOW=$((T0 + 3600)) "$VOLREP" run --mail 2>err &&
	"$VOLREP" log 100-0 >l &&
	expect_grep "notification mail to .root. failed: cannot run .*nosuch." l &&
	"$VOLREP" status --output-format json >st &&
	expect_grep "\"fail_count\":2," st
'

test_done
