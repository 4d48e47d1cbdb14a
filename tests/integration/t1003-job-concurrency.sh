#!/bin/sh
# Writers of replication.cfg are serialised: 50 parallel create-local-job
# calls for 50 guests leave 50 jobs, and a held lock makes writers wait.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib-config.sh"
make_cluster

test_expect_success 'setup 50 guests' '
	for i in $(seq 1000 1049); do
		printf "scsi0: local-zfs:vm-$i-disk-0,size=1G\n" >"$CFG/nodes/pve1/qemu-server/$i.conf" || return 1
	done
'

test_expect_success '50 concurrent create-local-job: all 50 jobs present' '
	pids="" &&
	for i in $(seq 1000 1049); do
		"$VOLREP" create-local-job $i-0 pve2 --comment "job $i" >/dev/null 2>"err.$i" &
		pids="$pids $!"
	done &&
	fails=0 &&
	for p in $pids; do wait $p || fails=$((fails + 1)); done &&
	cat err.* &&
	[ "$fails" = 0 ] &&
	[ "$(grep -c "^local: " "$CFG/replication.cfg")" = 50 ] &&
	for i in $(seq 1000 1049); do
		grep -q "^local: $i-0$" "$CFG/replication.cfg" || { echo "job $i-0 missing"; return 1; }
	done &&
	"$VOLREP" list >out &&
	[ "$(wc -l <out)" = 51 ]
'

test_expect_success 'concurrent updates of different jobs are all kept' '
	pids="" &&
	for i in $(seq 1000 1019); do
		"$VOLREP" update $i-0 --rate $((i - 990)) 2>/dev/null &
		pids="$pids $!"
	done &&
	for p in $pids; do wait $p || return 1; done &&
	for i in $(seq 1000 1019); do
		"$VOLREP" read $i-0 | grep -q "\"rate\": $((i - 990))," || { echo "rate of $i-0 lost"; return 1; }
	done
'

# The lock is held until the test says so (no timing assumption): the
# writer must still be waiting a second later, with the file unchanged,
# and finish once the lock is released.
test_expect_success 'a writer waits for the lock and no temp files are left' '
	cp "$CFG/replication.cfg" before &&
	{ flock "$CFG/.volrep-config.lck" sh -c ": >held; i=0
		while [ ! -e release ] && [ \$i -lt 600 ]; do sleep 0.05; i=\$((i + 1)); done" & } &&
	lockpid=$! &&
	wait_for 10 test -e held &&
	{ "$VOLREP" disable 1000-0 & } &&
	writer=$! &&
	sleep 1 &&
	kill -0 $writer &&
	test_cmp before "$CFG/replication.cfg" &&
	: >release &&
	wait $writer &&
	wait $lockpid &&
	grep -A2 "^local: 1000-0$" "$CFG/replication.cfg" | grep -q "^	disable$" &&
	! ls "$CFG" | grep -q "\.tmp\."
'

test_done
