#!/bin/sh
# The web panel in headless Chromium (tests/tools/panel-browser.py): log
# in, add a job, see it at the datacenter, node and guest levels, edit,
# schedule now, read the log, remove. Screenshots are left in
# build/test-artifacts/panel/ (not committed).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/integration/lib-config.sh"

[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] ||
	test_skip_all "needs chromium and chromium-driver"
/usr/bin/python3 -c "import selenium" 2>/dev/null || test_skip_all "needs python3-selenium"

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ART=$TOP/build/test-artifacts/panel
DLOG=$TRASH/daemon.log
DPID=
test_when_finished '[ -n "$DPID" ] && kill $DPID 2>/dev/null; [ -n "$DPID" ] && wait $DPID 2>/dev/null'

test_expect_success 'setup: cluster, a write token, the API on loopback' '
	make_cluster &&
	"$VOLREP" api token add "root@pam!panel" --write >secret &&
	echo "api-listen 127.0.0.1:$PORT" >"$CFG/volrep.cfg" &&
	rm -rf "$ART" && mkdir -p "$ART"
'

: >"$DLOG"
"$VOLREP" daemon >>"$DLOG" 2>&1 &
DPID=$!

test_expect_success 'the panel: login, add, three levels, edit, schedule now, log, remove' '
	wait_for 10 grep -q "api: serving" "$DLOG" &&
	# its own session, so that nothing of the browser outlives the test
	{ setsid timeout 150 /usr/bin/python3 "$TOP/tests/tools/panel-browser.py" "http://127.0.0.1:$PORT/" \
		"root@pam!panel" "$(cat secret)" pve1 "$ART" >pb 2>&1 & echo $! >bpid; } &&
	rc=0 && { wait $(cat bpid) || rc=$?; } &&
	{ pkill -KILL -s $(cat bpid) 2>/dev/null || :; } &&
	cat pb && test "$rc" = 0 && ! grep -q "^FAIL" pb && test $(grep -c "^ok " pb) = 16 &&
	test -s "$ART/03-datacenter.png" && test -s "$ART/09-phone.png"
'

test_done
