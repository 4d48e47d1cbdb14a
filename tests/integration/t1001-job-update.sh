#!/bin/sh
# update, enable, disable, delete, read, list
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib-config.sh"
make_cluster

test_expect_success 'setup' '
	run_check "$VOLREP" create-local-job 100-0 pve2 &&
	run_check "$VOLREP" create-local-job 200-0 pve2 --rate 5 --comment old &&
	run_check "$VOLREP" create-local-job 100-1 pve3
'

test_expect_success 'update sets and deletes options' '
	run_check "$VOLREP" update 200-0 --schedule "mon..fri 22:30" --rate=20 --delete comment &&
	printf "local: 200-0\n\ttarget pve2\n\trate 20\n\tschedule mon..fri 22:30\n\tsource pve1\n\n" >expect &&
	sed -n "/^local: 200-0/,/^\$/p" "$CFG/replication.cfg" >actual &&
	test_cmp expect actual &&
	run_check "$VOLREP" update 200-0 --delete "rate;schedule" &&
	! grep -q "rate 20" "$CFG/replication.cfg"
'

test_expect_success 'update: target is fixed' '
	expect_bad_input "can'\''t change value of fixed parameter '\''target'\''" update 100-0 --target pve3 &&
	expect_bad_input "unable to delete required option '\''target'\''" update 100-0 --delete target &&
	expect_bad_input "no such option '\''bogus'\''" update 100-0 --delete schedule,bogus
'

test_expect_success 'update: unknown job, bad values' '
	expect_bad_input "no such job '\''100-9'\''" update 100-9 --rate 5 &&
	expect_bad_input "invalid rate '\''0'\'' - value must have a minimum value of 1" update 100-0 --rate 0 &&
	expect_bad_input "invalid calendar event '\''*/61'\''" update 100-0 --schedule "*/61" &&
	expect_bad_input "invalid replication job id '\''10-0'\'' (guest IDs < 100 are reserved)" update 10-0
'

test_expect_success 'update --digest: current digest works, an old one is refused' '
	"$VOLREP" read 100-0 >read.json &&
	digest=$(sed -n "s/.*\"digest\": \"\\([0-9a-f]*\\)\".*/\\1/p" read.json) &&
	[ ${#digest} = 40 ] &&
	[ "$digest" = "$(sha1sum <"$CFG/replication.cfg" | cut -d" " -f1)" ] &&
	run_check "$VOLREP" update 100-0 --rate 3 --digest "$digest" &&
	expect_bad_input "detected modified configuration - file changed by other user? Try again." \
		update 100-0 --rate 4 --digest "$digest"
'

test_expect_success 'disable and enable' '
	run_check "$VOLREP" disable 100-0 &&
	sed -n "/^local: 100-0/,/^\$/p" "$CFG/replication.cfg" >actual &&
	printf "local: 100-0\n\tdisable\n\ttarget pve2\n\trate 3\n\tsource pve1\n\n" >expect &&
	test_cmp expect actual &&
	run_check "$VOLREP" enable 100-0 &&
	! grep -q disable "$CFG/replication.cfg" &&
	run_check "$VOLREP" update 100-0 --disable &&
	grep -q "^	disable$" "$CFG/replication.cfg" &&
	run_check "$VOLREP" update 100-0 --disable 0 &&
	! grep -q disable "$CFG/replication.cfg" &&
	expect_bad_input "no such job '\''100-9'\''" enable 100-9 &&
	expect_bad_input "no such job '\''100-9'\''" disable 100-9
'

test_expect_success 'read: pretty JSON with digest' '
	run_check "$VOLREP" read 200-0 >out &&
	cat >expect <<-EOT &&
	{
	   "digest": "$(sha1sum <"$CFG/replication.cfg" | cut -d" " -f1)",
	   "guest": 200,
	   "id": "200-0",
	   "jobnum": 0,
	   "source": "pve1",
	   "target": "pve2",
	   "type": "local"
	}
	EOT
	test_cmp expect out &&
	expect_bad_input "no such replication job '\''200-9'\''" read 200-9
'

test_expect_success 'list: pvesr columns, sorted by guest' '
	run_check "$VOLREP" create-local-job 101-0 pve1 --schedule "*/30" --rate 12.5 &&
	run_check "$VOLREP" disable 200-0 &&
	run_check "$VOLREP" list >out &&
	cat >expect <<-\EOT &&
	JobID                Target                 Schedule  Rate  Enabled
	100-0                local/pve2                 */15     3      yes
	100-1                local/pve3                 */15     -      yes
	101-0                local/pve1                 */30  12.5      yes
	200-0                local/pve2                 */15     -       no
	EOT
	test_cmp expect out
'

test_expect_success 'list: json and json-pretty' '
	run_check "$VOLREP" list --output-format json >out &&
	[ "$(wc -l <out)" = 1 ] &&
	expect_grep "^\[{\"guest\":100,\"id\":\"100-0\",\"jobnum\":0,\"rate\":3,\"source\":\"pve1\",\"target\":\"pve2\",\"type\":\"local\"}," out &&
	expect_grep "{\"disable\":1,\"guest\":200,\"id\":\"200-0\"" out &&
	expect_grep "\"rate\":12.5" out &&
	run_check "$VOLREP" list --output-format=json-pretty >out &&
	expect_grep "^   {" out &&
	expect_bad_input "invalid output-format '\''xml'\''" list --output-format xml
'

test_expect_success 'delete marks the job for removal' '
	run_check "$VOLREP" delete 100-1 2>err &&
	expect_grep "^Replication job removal is a background task and will take some time.$" err &&
	sed -n "/^local: 100-1/,/^\$/p" "$CFG/replication.cfg" >actual &&
	printf "local: 100-1\n\ttarget pve3\n\tremove_job full\n\tsource pve1\n\n" >expect &&
	test_cmp expect actual &&
	run_check "$VOLREP" delete 101-0 --keep 2>err &&
	expect_grep "remove_job local" "$CFG/replication.cfg" &&
	run_check "$VOLREP" list >out &&
	expect_grep "^100-1 " out
'

test_expect_success 'delete errors' '
	expect_bad_input "keep: conflicts with parameter '\''force'\''" delete 100-0 --force --keep &&
	expect_bad_input "no such job '\''100-9'\''" delete 100-9 &&
	expect_bad_input "invalid replication job id '\''x'\''" delete x
'

test_expect_success 'delete --force removes the entry at once' '
	run_check "$VOLREP" delete 100-1 --force 2>err &&
	! grep -q "100-1" "$CFG/replication.cfg" &&
	! grep -q "background task" err &&
	run_check "$VOLREP" delete 100-9 --force
'

test_expect_success 'a hand-edited file is read like pvesr reads it' '
	printf "# edited by hand\nlocal: 0100-00\n\ttarget pve2\n\trate 0.1\nlocal: not-a-header\n\nlocal: 100-3\n  target pve2\n" \
		>"$CFG/replication.cfg" &&
	run_check "$VOLREP" list >out 2>err &&
	expect_grep "^100-0 " out &&
	! grep -q "^100-3" out &&
	expect_grep "file replication.cfg line 4 (section '\''100-0'\'') - unable to parse value of '\''rate'\''" err &&
	expect_grep "delete job 100-3: replication job for guest '\''100'\'' to target '\''local/pve2'\'' already exists" err &&
	run_check "$VOLREP" update 100-0 --rate 2 2>err &&
	printf "local: 100-0\n\ttarget pve2\n\trate 2\n\n" >expect &&
	test_cmp expect "$CFG/replication.cfg"
'

test_done
