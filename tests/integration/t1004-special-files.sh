#!/bin/sh
# Symlinks and special files where volrep keeps its files: a FIFO at a
# config path fails at once (no hang), a symlink planted as a job log or
# a lock file is not followed (its target untouched), and state or log
# directories others can write to are refused.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib-config.sh"
make_cluster
export VOLREP_TRANSPORT=local

# bounded run: exit code into $rc (124 would be a hang)
bounded() {
	rc=0
	timeout 20 "$VOLREP" "$@" >out 2>err || rc=$?
	test $rc != 124 || { echo "volrep $* hung" >&2; return 1; }
}

test_expect_success 'setup' '
	run_check "$VOLREP" create-local-job 100-0 pve2 &&
	mkdir -p "$VOLREP_STATE_DIR" "$VOLREP_LOG_DIR"
'

test_expect_success 'a FIFO as replication.cfg: status fails at once, one line' '
	mv "$CFG/replication.cfg" "$TRASH/replication.cfg.saved" &&
	mkfifo "$CFG/replication.cfg" &&
	bounded status &&
	rm -f "$CFG/replication.cfg" &&
	mv "$TRASH/replication.cfg.saved" "$CFG/replication.cfg" &&
	test $rc != 0 &&
	test "$(wc -l <err)" = 1 &&
	expect_grep "replication.cfg. - not a regular file" err
'

test_expect_success 'a FIFO as storage.cfg: run fails at once' '
	mv "$CFG/storage.cfg" "$TRASH/storage.cfg.saved" &&
	mkfifo "$CFG/storage.cfg" &&
	bounded run --id 100-0 &&
	rm -f "$CFG/storage.cfg" &&
	mv "$TRASH/storage.cfg.saved" "$CFG/storage.cfg" &&
	test $rc != 0 &&
	expect_grep "storage.cfg. - not a regular file" err
'

test_expect_success 'a FIFO as volrep.cfg: the run does not hang' '
	mkfifo "$CFG/volrep.cfg" &&
	bounded run --id 100-0 &&
	rm -f "$CFG/volrep.cfg"
'

test_expect_success 'a symlink as the job log (no rotation): not followed, its target intact' '
	echo precious >"$TRASH/victim" &&
	printf "log-keep 0\n" >"$CFG/volrep.cfg" &&
	rm -f "$VOLREP_LOG_DIR/100-0" && ln -s "$TRASH/victim" "$VOLREP_LOG_DIR/100-0" &&
	bounded run --id 100-0 &&
	rm "$CFG/volrep.cfg" &&
	test $rc != 0 &&
	expect_grep "unable to open replication log .* - is a symbolic link" err &&
	test "$(cat "$TRASH/victim")" = precious &&
	rm "$VOLREP_LOG_DIR/100-0"
'

test_expect_success 'a symlink as the job log (rotated away): its target intact, a new log' '
	rm -f "$VOLREP_LOG_DIR"/100-0* && ln -s "$TRASH/victim" "$VOLREP_LOG_DIR/100-0" &&
	bounded run --id 100-0 &&
	test "$(cat "$TRASH/victim")" = precious &&
	test -f "$VOLREP_LOG_DIR/100-0" && ! test -L "$VOLREP_LOG_DIR/100-0" &&
	expect_grep "start replication job" "$VOLREP_LOG_DIR/100-0" &&
	rm -f "$VOLREP_LOG_DIR"/100-0*
'

test_expect_success 'a symlink as the guest lock file: not followed, nothing created' '
	mkdir -p "$VOLREP_STATE_DIR/lock" &&
	rm -f "$VOLREP_STATE_DIR/lock/guest-100.lck" && ln -s "$TRASH/planted" "$VOLREP_STATE_DIR/lock/guest-100.lck" &&
	bounded run --id 100-0 &&
	test $rc != 0 &&
	expect_grep "guest-100.lck. - is a symbolic link" err &&
	test ! -e "$TRASH/planted" &&
	rm "$VOLREP_STATE_DIR/lock/guest-100.lck"
'

test_expect_success 'a symlink as the state lock file: not followed' '
	rm -f "$VOLREP_STATE_DIR/replication-state.lck" && ln -s "$TRASH/planted2" "$VOLREP_STATE_DIR/replication-state.lck" &&
	bounded schedule-now 100-0 &&
	test $rc != 0 &&
	expect_grep "is a symbolic link" err &&
	test ! -e "$TRASH/planted2" &&
	rm "$VOLREP_STATE_DIR/replication-state.lck"
'

test_expect_success 'a world-writable state directory is refused' '
	chmod 0777 "$VOLREP_STATE_DIR" &&
	bounded status &&
	rc_status=$rc &&
	cp err err.status &&
	bounded run --id 100-0 &&
	chmod 0755 "$VOLREP_STATE_DIR" &&
	test $rc_status != 0 && test $rc != 0 &&
	expect_grep "state directory .* is writable by group or others (mode 0777)" err.status &&
	expect_grep "state directory .* is writable by group or others" err
'

test_expect_success 'a state directory owned by another user is refused' '
	chown 12345 "$VOLREP_STATE_DIR" &&
	bounded status &&
	chown 0 "$VOLREP_STATE_DIR" &&
	test $rc != 0 &&
	expect_grep "is owned by uid 12345" err
'

test_expect_success 'a group-writable log directory is refused' '
	rm -f "$VOLREP_LOG_DIR/100-0" && chmod 0775 "$VOLREP_LOG_DIR" &&
	bounded run --id 100-0 &&
	chmod 0755 "$VOLREP_LOG_DIR" &&
	test $rc != 0 &&
	expect_grep "log directory .* is writable by group or others (mode 0775)" err &&
	test ! -e "$VOLREP_LOG_DIR/100-0"
'

test_done
