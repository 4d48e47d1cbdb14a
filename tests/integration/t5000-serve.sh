#!/bin/sh
# volrep serve as a forced command, without ssh: SSH_ORIGINAL_COMMAND in,
# the validated verb run (stdio passed through) or a one-line refusal.
. "$(dirname "$0")/../lib/test-lib.sh"

test_expect_success 'an allowed verb runs, output passed through' '
	SSH_ORIGINAL_COMMAND="'"'"'volrep'"'"' '"'"'version'"'"'" "$VOLREP" serve >out 2>err &&
	echo "volrep 0.1.0" >expect && test_cmp expect out && test ! -s err
'

test_expect_success 'the verb exit code comes back' '
	SSH_ORIGINAL_COMMAND="volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 --last_sync 5" \
		run_mustfail 1 "$VOLREP" serve >out 2>err &&
	test ! -s out && test -s err
'

test_expect_success 'no command: interactive login refused' '
	(unset SSH_ORIGINAL_COMMAND; run_mustfail 2 "$VOLREP" serve 2>err) &&
	expect_grep "^volrep: serve: refused: no command given" err
'

test_expect_success 'serve takes no arguments' '
	SSH_ORIGINAL_COMMAND="volrep version" run_mustfail 2 "$VOLREP" serve version 2>err &&
	expect_grep "takes no arguments" err
'

test_expect_success 'forbidden commands: one line each, exit 2, nothing run' '
	for c in "volrep version; touch $TRASH/pwned" "touch $TRASH/pwned" "volrep version && touch x" \
		"volrep \$(touch $TRASH/pwned)" "volrep \`touch $TRASH/pwned\`" "volrep version | sh" \
		"volrep version > $TRASH/pwned" "volrep daemon" "volrep serve" "volrep run --id 100-0" \
		"volrep set-state 100 not-json" "volrep import local-zfs:vm-100-disk-0 --base -x"; do
		SSH_ORIGINAL_COMMAND="$c" run_mustfail 2 "$VOLREP" serve >out 2>err || return 1
		test "$(wc -l <err)" = 1 || { cat err; return 1; }
		expect_grep "^volrep: serve: refused: " err || return 1
		test ! -s out || return 1
	done &&
	SSH_ORIGINAL_COMMAND="volrep version
touch $TRASH/pwned" run_mustfail 2 "$VOLREP" serve 2>err &&
	expect_grep "control character" err &&
	test ! -e "$TRASH/pwned" && test ! -e x
'

test_done
