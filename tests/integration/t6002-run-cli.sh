#!/bin/sh
# volrep run / log without storage: the error order of run --id, exit
# codes, a busy guest lock skipped by the scheduled run without touching
# the state, per-job errors of the scheduled run on stderr with exit 1.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/integration/lib-config.sh"

test_expect_success 'setup' '
	make_cluster &&
	printf "local: %s\n\ttarget %s\n\tsource pve1\n\n" 100-0 pve2 101-0 pve1 400-0 pve1 >"$CFG/replication.cfg" &&
	printf "local: 200-0\n\tdisable\n\ttarget pve2\n\nlocal: 700-0\n\ttarget pve2\n\n" >>"$CFG/replication.cfg" &&
	cp "$CFG/replication.cfg" cfg.orig
'

test_expect_success 'run --id: invalid id and unknown job exit 2' '
	expect_exit 2 run --id 100 &&
	expect_grep "invalid replication job id .100." err &&
	expect_exit 2 run --id 100-9 &&
	expect_grep "no such job .100-9." err
'

test_expect_success 'run --id: pvesr error order, exit 1, nothing written' '
	expect_exit 1 run --id 200-0 &&
	expect_grep "job .200-0. is disabled" err &&
	expect_exit 1 run --id 700-0 &&
	expect_grep "no such guest .700." err &&
	expect_exit 1 run --id 101-0 &&
	expect_grep "guest .101. is not on local node" err &&
	expect_exit 1 run --id 400-0 &&
	expect_grep "unable to sync to local node" err &&
	! test -e "$VOLREP_STATE_DIR/replication-state.json" &&
	! test -e "$VOLREP_LOG_DIR/100-0"
'

test_expect_success 'scheduled run skips a guest whose lock is busy, state untouched' '
	mkdir -p "$VOLREP_STATE_DIR/lock" &&
	flock "$VOLREP_STATE_DIR/lock/guest-100.lck" sh -c "\"$VOLREP\" run >out 2>err" &&
	! test -s err &&
	! grep -q "\"100\"" "$VOLREP_STATE_DIR/replication-state.json" 2>/dev/null
'

test_expect_success 'scheduled run: a failing job is reported on stderr, exit 1, error recorded' '
	expect_exit 1 run &&
	expect_grep "^100-0: " err &&
	"$VOLREP" status --guest 100 --output-format json >st &&
	expect_grep "\"fail_count\": *1" st &&
	"$VOLREP" log 100-0 >jl &&
	expect_grep "100-0: start replication job" jl &&
	expect_grep "100-0: end replication job with error: " jl
'

test_expect_success 'the failed job is not due again at once (backoff)' '
	cp "$VOLREP_STATE_DIR/replication-state.json" state.before &&
	sleep 1 &&
	"$VOLREP" run >out 2>err &&
	! test -s err &&
	test_cmp state.before "$VOLREP_STATE_DIR/replication-state.json"
'

test_expect_success 'log: invalid id exits 2, no log exits 1, no such job exits 2' '
	expect_exit 2 log foo &&
	expect_exit 1 log 101-0 &&
	expect_grep "no log for job .101-0." err &&
	expect_exit 2 log 999-0 &&
	expect_grep "no such replication job .999-0." err
'

test_done
