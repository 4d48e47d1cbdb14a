#!/bin/sh
# create-local-job: pvesr's checks, messages, order, and the file it writes
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib-config.sh"
make_cluster

test_expect_success 'create writes pvesr layout' '
	run_check "$VOLREP" create-local-job 100-0 pve2 --schedule "*/5" --rate 10 \
		--comment "DB: nightly copy" --disable 1 &&
	run_check "$VOLREP" create-local-job 100-1 pve3 --rate=2.5 --schedule=daily &&
	printf "local: 100-0\n\tcomment DB%%3A nightly copy\n\tdisable\n\ttarget pve2\n\trate 10\n\tschedule */5\n\tsource pve1\n\nlocal: 100-1\n\ttarget pve3\n\trate 2.5\n\tschedule daily\n\tsource pve1\n\n" >expect &&
	test_cmp expect "$CFG/replication.cfg"
'

test_expect_success 'a container job, --source given and matching' '
	run_check "$VOLREP" create-local-job 200-0 pve2 --source pve1 &&
	grep -q "^local: 200-0$" "$CFG/replication.cfg"
'

test_expect_success 'id normalised: 200-02 becomes 200-2' '
	run_check "$VOLREP" create-local-job 200-02 pve3 --schedule hourly &&
	expect_grep "^local: 200-2$" "$CFG/replication.cfg" &&
	expect_bad_input "replication job '\''200-2'\'' already exists" create-local-job 200-002 pve3
'

test_expect_success 'invalid id: reserved guest ids' '
	expect_bad_input "invalid replication job id '\''99-0'\'' (guest IDs < 100 are reserved)" create-local-job 99-0 pve2
'

test_expect_success 'invalid id: shape' '
	expect_bad_input "invalid replication job id '\''abc'\''" create-local-job abc pve2 &&
	expect_bad_input "invalid replication job id '\''0100-0'\''" create-local-job 0100-0 pve2
'

test_expect_success 'guest does not exist' '
	expect_bad_input "Guest '\''105'\'' does not exist." create-local-job 105-0 pve2
'

test_expect_success 'target does not exist' '
	expect_bad_input "Target '\''pve9'\'' does not exist." create-local-job 100-5 pve9
'

test_expect_success 'target with a bad name' '
	expect_bad_input "invalid target '\''-oProxyCommand=x'\'' - value does not look like a valid node name" \
		create-local-job 100-5 -- -oProxyCommand=x
'

test_expect_success 'source does not match' '
	expect_bad_input "Source '\''pve2'\'' does not match current node of guest '\''100'\'' (pve1)" \
		create-local-job 100-5 pve3 --source pve2
'

test_expect_success 'source and target identical' '
	expect_bad_input "Source and target must not be identical" create-local-job 100-5 pve1 &&
	expect_bad_input "Source and target must not be identical" create-local-job 101-0 pve2
'

test_expect_success 'volume errors of pvesr' '
	expect_bad_input "missing replicate feature on volume '\''local:300/vm-300-disk-0.qcow2'\''" create-local-job 300-0 pve2 &&
	expect_bad_input "unable to replicate local file/device '\''/dev/disk/by-id/ata-disk1'\''" create-local-job 400-0 pve2 &&
	expect_bad_input "unable to replicate mountpoint type '\''bind'\''" create-local-job 600-0 pve2 &&
	expect_bad_input "No replicatable volumes found" create-local-job 500-0 pve2
'

test_expect_success 'same id twice' '
	expect_bad_input "replication job '\''100-0'\'' already exists" create-local-job 100-0 pve3
'

test_expect_success 'one job per guest and target' '
	expect_bad_input "replication job for guest '\''100'\'' to target '\''local/pve2'\'' already exists" \
		create-local-job 100-7 pve2
'

test_expect_success 'bad rate' '
	expect_bad_input "invalid rate '\''0.5'\'' - value must have a minimum value of 1" create-local-job 100-5 pve3 --rate 0.5 &&
	expect_bad_input "invalid rate '\''x'\'' - type check ('\''number'\'') failed" create-local-job 100-5 pve3 --rate x
'

test_expect_success 'bad schedule' '
	expect_bad_input "invalid calendar event '\''61'\'' - value '\''61'\'' out of range" create-local-job 100-5 pve3 --schedule 61 &&
	expect_bad_input "invalid calendar event '\''*/61'\'' - repetition '\''61'\'' out of range" \
		create-local-job 100-5 pve3 --schedule "*/61"
'

test_expect_success 'bad disable, unknown and missing options' '
	expect_bad_input "invalid disable '\''2'\'' - type check ('\''boolean'\'') failed" create-local-job 100-5 pve3 --disable=2 &&
	expect_bad_input "unknown option '\''--bogus'\''" create-local-job 100-5 pve3 --bogus 1 &&
	expect_bad_input "option '\''--rate'\'' needs a value" create-local-job 100-5 pve3 --rate &&
	expect_bad_input "missing argument '\''target'\''" create-local-job 100-5 &&
	expect_bad_input "unexpected argument '\''extra'\''" create-local-job 100-5 pve3 extra
'

test_expect_success 'comment too long' '
	long=$(head -c 4097 /dev/zero | tr "\0" x) &&
	expect_bad_input "invalid comment - value may only be 4096 characters long" create-local-job 100-5 pve3 --comment "$long"
'

test_expect_success 'a comment with special characters survives' '
	run_check "$VOLREP" create-local-job 101-1 pve3 --comment "50% off: 100 €" &&
	expect_grep "comment 50%25 off%3A 100 %E2%82%AC" "$CFG/replication.cfg" &&
	run_check "$VOLREP" read 101-1 >out &&
	expect_grep "\"comment\": \"50% off: 100 €\"" out
'

test_done
