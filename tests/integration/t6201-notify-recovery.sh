#!/bin/sh
# The "recovered" notice and the status of a real replication on one host
# (zfs-fuse pools rpool = pve1, tpool = pve2, local transport as t6000):
# a run that fails (the target's storage points to a missing pool) sends
# a failure notice, the first good run after it one "recovered" notice,
# the next good run none. status shows the age and bytes of the sync.
. "$(dirname "$0")/../lib/storage.sh"
storage_private_namespace "$0" "$@"
. "$(dirname "$0")/../lib/test-lib.sh"

. "$TOP/tests/lib/local-pair.sh"
local_pair_env

nmails() { ls "$TRASH/mail" | grep -c "\.msg$"; }

# fails1 CMD...: CMD exits 1 (volrep run: a job failed)
fails1() {
	_rc=0
	"$@" || _rc=$?
	[ "$_rc" = 1 ] || { echo "expected exit 1, got $_rc: $*" >&2; return 1; }
}

test_expect_success 'setup: pools, configs, a fake sendmail' '
	zfs_start "$TRASH/zfs" &&
	zfs_pool_create rpool "$TRASH/zfs" /rpool/data &&
	zfs_pool_create tpool "$TRASH/zfs" "$TRASH/tpool-data" &&
	zfs create rpool/data/subvol-100-disk-0 &&
	dd if=/dev/urandom of=/rpool/data/subvol-100-disk-0/f bs=64k count=8 status=none &&
	write_cfg "$VOLREP_CONFIG_DIR" rpool/data &&
	# the target first points to a pool that does not exist: runs fail
	write_cfg "$VOLREP_TARGET_CONFIG_DIR" nopool/data &&
	"$VOLREP" create-local-job 100-0 pve2 --schedule "*/5" &&
	cp "$VOLREP_CONFIG_DIR/replication.cfg" "$VOLREP_TARGET_CONFIG_DIR/" &&
	mkdir -p "$TRASH/mail" &&
	printf "#!/bin/sh\nn=\$(ls \"%s\" | grep -c \"\\\\.msg\$\")\ncat >\"%s/\$n.msg\"\n" "$TRASH/mail" "$TRASH/mail" \
		>"$TRASH/sendmail" &&
	chmod +x "$TRASH/sendmail" &&
	printf "notify-mail root\nnotify-sendmail-command %s\n" "$TRASH/sendmail" >"$VOLREP_CONFIG_DIR/volrep.cfg"
'

test_expect_success 'a failed run sends a failure notice' '
	fails1 "$VOLREP" run --mail 2>err &&
	expect_grep "^100-0: " err &&
	test "$(nmails)" = 1 &&
	expect_grep "^Subject: Replication Job: .100-0. failed$" "$TRASH/mail/0.msg" &&
	expect_grep "\"notified\":1" "$VOLREP_STATE_DIR/replication-state.json"
'

test_expect_success 'the first good run after it sends one recovered notice' '
	write_cfg "$VOLREP_TARGET_CONFIG_DIR" tpool/data &&
	# a job runs at most once per scheduler second (its iteration stamp)
	sleep 1 &&
	"$VOLREP" schedule-now 100-0 &&
	"$VOLREP" run --mail 2>err &&
	{ ! test -s err || { cat err; false; }; } &&
	{ test "$(nmails)" = 2 || { ls "$TRASH/mail"; "$VOLREP" log 100-0; false; }; } &&
	expect_grep "^Subject: Replication Job: .100-0. recovered$" "$TRASH/mail/1.msg" &&
	expect_grep "^Replication job .100-0. is working again after 1 failed run(s).$" "$TRASH/mail/1.msg" &&
	expect_grep "^Last sync:   [0-9-]* [0-9:]* UTC ([0-9]*s ago)$" "$TRASH/mail/1.msg" &&
	! grep -q "\"notified\"" "$VOLREP_STATE_DIR/replication-state.json"
'

test_expect_success 'a further good run sends nothing' '
	before=$("$VOLREP" status --output-format json | jq -r ".[0].last_sync") &&
	sleep 1 &&
	"$VOLREP" schedule-now 100-0 &&
	"$VOLREP" run --mail 2>err &&
	test "$("$VOLREP" status --output-format json | jq -r ".[0].last_sync")" -gt "$before" &&
	test "$(nmails)" = 2
'

test_expect_success 'status: the age of the sync, bytes and lag in JSON, metrics agree' '
	last=$("$VOLREP" status --output-format json | jq -r ".[0].last_sync") &&
	next=$("$VOLREP" status --output-format json | jq -r ".[0].next_sync") &&
	# no daemon runs here: 192 s on, the job is overdue if its next
	# event was more than a minute before (where the quarter hours fall)
	want=OK &&
	{ [ $((last + 192)) -le $((next + 60)) ] || want=overdue; } &&
	VOLREP_NOW=$((last + 192)) "$VOLREP" status >out &&
	expect_grep "^100-0 .* 3m12s .* 0 $want$" out &&
	VOLREP_NOW=$((last + 601)) "$VOLREP" status >out &&
	# stale; and overdue, since no daemon runs here to sync it
	expect_grep "^100-0 .* 10m1s .* 0 overdue, stale$" out &&
	VOLREP_NOW=$((last + 192)) "$VOLREP" status --output-format json >st &&
	test "$(jq -r ".[0].lag" st)" = 192 &&
	bytes=$(jq -r ".[0].bytes" st) &&
	test "$bytes" -gt 0 &&
	"$VOLREP" metrics >m &&
	expect_grep "^volrep_replication_last_bytes{id=\"100-0\"} $bytes$" m &&
	expect_grep "^volrep_replication_last_sync_timestamp_seconds{id=\"100-0\"} $last$" m
'

test_done
