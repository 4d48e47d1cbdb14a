#!/bin/sh
# volrep serve --peer NODE speaking the session protocol (docs/protocol.md)
# without ssh: frames in on stdin (SSH_ORIGINAL_COMMAND "volrep session"),
# frames out. Every command inside a session passes the same gate as a
# forced command line; hostile frames end the session with nothing run.
# This node is pve2, the key's peer pve1 (guests 100, 200, ... live on
# pve1, 101 on pve2), as in t5000.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib-config.sh"

make_cluster
export VOLREP_NODE=pve2
printf 'local: 100-0\n\ttarget pve2\n\nlocal: 101-0\n\ttarget pve1\n' >"$CFG/replication.cfg"

FRAMES="$TOP/tests/lib/frames.py"
# Debian's python starts faster than pyenv's shim (stdlib only here)
PY=python3
[ ! -x /usr/bin/python3 ] || PY=/usr/bin/python3
frames() { "$PY" "$FRAMES" encode "$@"; }
decode() { "$PY" "$FRAMES" decode; }
HELLO="H:volrep-session 1"
# session SPEC...: the frames as serve's stdin; its frames, decoded, in
# out; its stderr in err; its exit code in rc
session() {
	frames "$@" >in &&
	rc=0 &&
	{ SSH_ORIGINAL_COMMAND="'volrep' 'session'" "$VOLREP" serve --peer pve1 <in >out.raw 2>err || rc=$?; } &&
	decode <out.raw >out
}

test_expect_success 'hello, then commands one after the other, each with its exit code' '
	session "$HELLO" "C:'"'"'volrep'"'"' '"'"'version'"'"'" E: \
		"C:volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 --last_sync 5" E: \
		"C:volrep version" E: &&
	test "$rc" = 0 &&
	head -3 out >got &&
	printf "%s\n" "H volrep-session 1" "O volrep 0.1.0" "X 0" >expect &&
	test_cmp expect got &&
	sed -n "\$p" out >got && printf "X 0\n" >expect && test_cmp expect got &&
	grep "^X " out >got && printf "X 0\nX 1\nX 0\n" >expect && test_cmp expect got &&
	! grep refused out && test ! -s err
'

test_expect_success 'a session without a peer is refused like any command' '
	frames "$HELLO" >in &&
	SSH_ORIGINAL_COMMAND="volrep session" run_mustfail 2 "$VOLREP" serve <in >out 2>err &&
	expect_grep "no --peer NODE given" err && test ! -s out
'

test_expect_success 'inside a session every command passes the verb table and the peer policy' '
	state_before=$(cat "$VOLREP_STATE_DIR/replication-state.json" 2>/dev/null || :) &&
	for c in "volrep daemon" "volrep session" "volrep serve --any-peer" "volrep run --id 100-0" \
		"touch $TRASH/pwned" "volrep version; touch $TRASH/pwned" \
		"volrep import local-zfs:vm-101-disk-0 --snapshot __replicate_101-0_5__ --node pve1" \
		"volrep --config-dir $TRASH import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_5__" \
		"volrep import local-zfs:vm-101-disk-0 --snapshot __replicate_101-0_9__" \
		"volrep prepare-local-job 101-0 local-zfs:vm-101-disk-0 --last_sync 1 --force" \
		"volrep set-state 101 '"'"'{}'"'"'"; do
		session "$HELLO" "C:$c" E: "C:volrep version" E: || return 1
		test "$rc" = 0 || { cat err; return 1; }
		grep -c "^R " out >n && echo 1 >expect && test_cmp expect n || { cat out; return 1; }
		expect_grep "^R volrep: serve: refused: .*(peer .pve1.)$" out || return 1
		grep "^X " out >got && printf "X 2\nX 0\n" >expect && test_cmp expect got || return 1
		expect_grep "^O volrep 0.1.0$" out || return 1
	done &&
	test ! -e "$TRASH/pwned" &&
	test "$(cat "$VOLREP_STATE_DIR/replication-state.json" 2>/dev/null || :)" = "$state_before"
'

test_expect_success 'a command that does not read its D frames: they are dropped, the session goes on' '
	head -c 600000 /dev/zero >zeros &&
	session "$HELLO" "C:volrep set-state 100 '"'"'{\"local/pve2\":{\"last_sync\":7}}'"'"'" D@zeros E: \
		"C:volrep version" E: &&
	test "$rc" = 0 && grep "^X " out >got && printf "X 0\nX 0\n" >expect && test_cmp expect got &&
	expect_grep "^O volrep 0.1.0$" out &&
	jq -r ".\"100\".\"local/pve2\".last_sync" "$VOLREP_STATE_DIR/replication-state.json" >got &&
	echo 7 >expect && test_cmp expect got
'

test_expect_success 'hostile frames end the session at once, nothing after them runs' '
	big=$(printf "%08x" 262145) &&
	for bad in "raw:5800000000000004000001ff" "raw:4300000000000000" "raw:44000000$big" \
		"raw:43000100000000017a" "raw:5a00000000000000" "raw:4300000000ffffff" \
		"X:abcd" "D:data-outside-a-command" "E:" "H:volrep-session 1"; do
		session "$HELLO" "$bad" "C:volrep set-state 100 '"'"'{}'"'"'" E: || return 1
		test "$rc" = 1 || { echo "rc $rc for $bad"; return 1; }
		expect_grep "^R volrep: session: protocol error: " out || return 1
		! grep "^X " out || return 1
		expect_grep "session: " err || return 1
	done &&
	jq -r ".\"100\".\"local/pve2\".last_sync" "$VOLREP_STATE_DIR/replication-state.json" >got &&
	echo 7 >expect && test_cmp expect got
'

test_expect_success 'no hello first, or another version: refused before any command' '
	session "C:volrep version" E: &&
	test "$rc" = 1 && ! grep "^O " out &&
	expect_grep "expected the hello" out &&
	session "H:volrep-session 2" "C:volrep version" E: &&
	test "$rc" = 1 && ! grep "^O " out
'

test_expect_success 'a length beyond the bounds is refused from the header alone' '
	# only the header: a parser that waited for the payload would see
	# the peer leave mid-frame instead
	session "$HELLO" "raw:44000000ffffffff" &&
	test "$rc" = 1 &&
	expect_grep "frame length out of bounds: type 0x44, length 4294967295" err
'

test_expect_success 'verbs in a session get serve'"'"'s own identity and no other VOLREP_* variable' '
	mkdir -p "$CFG/hooks" &&
	printf "#!/bin/sh\nenv | grep ^VOLREP_ | sort >\"%s\"\n" "$TRASH/hook.env" >"$CFG/hooks/qemu" &&
	chmod +x "$CFG/hooks/qemu" &&
	frames "$HELLO" "C:volrep guest-start 101" E: >in &&
	SSH_ORIGINAL_COMMAND="volrep session" VOLREP_REMOTE_BIN=/bin/sh VOLREP_SSH=evil \
		VOLREP_TRANSPORT=local VOLREP_DEBUG=1 VOLREP_EVIL=1 "$VOLREP" serve --peer pve1 <in >out.raw &&
	decode <out.raw >out && expect_grep "^X 0$" out &&
	printf "%s\n" "VOLREP_CONFIG_DIR=$CFG" "VOLREP_LOG_DIR=$VOLREP_LOG_DIR" "VOLREP_NODE=pve2" \
		"VOLREP_STATE_DIR=$VOLREP_STATE_DIR" >expect &&
	test_cmp expect "$TRASH/hook.env"
'

test_expect_success 'volrep session without serve: the verb table still applies, no arguments' '
	frames "$HELLO" "C:volrep daemon" E: "C:volrep version" E: >in &&
	"$VOLREP" session <in >out.raw 2>err &&
	decode <out.raw >out &&
	expect_grep "^R volrep: serve: refused: verb not allowed: .daemon." out &&
	expect_grep "^O volrep 0.1.0$" out &&
	run_mustfail 2 "$VOLREP" session extra </dev/null 2>err &&
	expect_grep "no arguments expected" err
'

test_done
