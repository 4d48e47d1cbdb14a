#!/bin/sh
# A node driven by the daemon purges stale job state like `volrep run`
# (pvesr's purge_old_states, at every pass): entries of jobs that are gone
# or whose guest lives on another node are dropped, the entries of the
# jobs that run here are kept.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib-daemon.sh"
command -v jq >/dev/null && command -v flock >/dev/null || test_skip_all "needs jq and flock"
make_cluster
ST="$VOLREP_STATE_DIR/replication-state.json"

# write_state JSON: replace the state file atomically, as volrep does
write_state() {
	mkdir -p "$VOLREP_STATE_DIR" &&
	printf '%s\n' "$1" >"$ST.new" && mv "$ST.new" "$ST"
}

has_entry() { # VMID TARGET
	jq -e --arg g "$1" --arg t "local/$2" '.[$g][$t] != null' "$ST" >/dev/null
}

test_expect_success 'the daemon drops the state of deleted jobs and of guests elsewhere' '
	make_guest 100 &&
	make_guest 400 pve2 &&
	# disabled: kept in the state, but never run by the fake worker
	job 100-0 100 pve2 disable 1 &&
	job 400-0 400 pve3 &&
	write_state "{\"100\":{\"local/pve2\":{\"last_sync\":1714564200,\"last_try\":1714564200,\"fail_count\":0},
		\"local/pve3\":{\"last_sync\":1714564200,\"last_try\":1714564200,\"fail_count\":0}},
		\"300\":{\"local/pve2\":{\"last_sync\":1714564200,\"last_try\":1714564200,\"fail_count\":0}},
		\"400\":{\"local/pve3\":{\"last_sync\":1714564200,\"last_try\":1714564200,\"fail_count\":0}}}" &&
	has_entry 300 pve2 &&
	start_daemon &&
	wait_for 30 "! has_entry 300 pve2 && ! has_entry 100 pve3 && ! has_entry 400 pve3" &&
	has_entry 100 pve2 &&
	{ [ "$(jq -r ".\"100\".\"local/pve2\".last_sync" "$ST")" = 1714564200 ] || fail "entry of 100-0 changed"; } &&
	{ ! [ -s "$FAKE_EVENTS" ] || fail "runs started: $(cat "$FAKE_EVENTS")"; } &&
	stop_daemon && [ "$drc" = 0 ]
'

test_expect_success 'later passes purge again: a job deleted while the daemon runs' '
	write_state "{\"100\":{\"local/pve2\":{\"last_sync\":1714564200,\"last_try\":1714564200,\"fail_count\":0}},
		\"500\":{\"local/pve2\":{\"last_sync\":1714564200,\"last_try\":1714564200,\"fail_count\":0}}}" &&
	start_daemon &&
	wait_for 30 "! has_entry 500 pve2" &&
	has_entry 100 pve2 &&
	: >"$CFG/replication.cfg" &&
	wait_for 30 "! has_entry 100 pve2" &&
	stop_daemon && [ "$drc" = 0 ]
'

test_done
