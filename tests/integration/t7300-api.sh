#!/bin/sh
# The daemon's replication API (api-listen): PVE's paths and envelope over
# TLS with curl, token and ticket auth and their failures, the CLI's
# messages for bad input, the limits, the embedded panel; then
# python3-proxmoxer against it.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/integration/lib-config.sh"

command -v curl >/dev/null || test_skip_all "needs curl"
command -v openssl >/dev/null || test_skip_all "needs openssl"

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
B=https://127.0.0.1:$PORT/api2/json
DLOG=$TRASH/daemon.log
DPID=
test_when_finished '[ -n "$DPID" ] && kill $DPID 2>/dev/null; [ -n "$DPID" ] && wait $DPID 2>/dev/null'

# a wait_for that times out shows the daemon's log
wait_for_diag() { cat "$DLOG" >&2; }
# api METHOD PATH [curl args...]: body to ./out, status code to stdout
api() {
	_m=$1 _p=$2
	shift 2
	curl -sk --max-time 10 -o out -w '%{http_code}' -X "$_m" "$@" "$B$_p"
}
W_AUTH() { echo "Authorization: PVEAPIToken=root@pam!w=$(cat wsecret)"; }
R_AUTH() { echo "Authorization: PVEAPIToken=root@pam!r=$(cat rsecret)"; }

test_expect_success 'setup: cluster, tokens (secret once on stdout, file 0600), a certificate' '
	make_cluster &&
	"$VOLREP" api token add "root@pam!w" --write >wsecret 2>err &&
	expect_grep "write access" err &&
	"$VOLREP" api token add "root@pam!r" >rsecret &&
	grep -Eq "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$" wsecret &&
	test "$(stat -c %a "$VOLREP_STATE_DIR/api-tokens")" = 600 &&
	! grep -q "$(cat wsecret)" "$VOLREP_STATE_DIR/api-tokens" &&
	"$VOLREP" api token list >list &&
	printf "root@pam!w write\nroot@pam!r read-only\n" >expect && test_cmp expect list &&
	run_mustfail 2 "$VOLREP" api token add "root@pam!w" 2>err &&
	expect_grep "token .root@pam!w. already exists" err &&
	run_mustfail 2 "$VOLREP" api token add "root!x" 2>err &&
	expect_grep "invalid token id .root!x. - expected USER@REALM!TOKENID" err &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TRASH/key.pem" -out "$TRASH/cert.pem" -days 2 \
		-subj /CN=localhost 2>/dev/null &&
	chmod 600 "$TRASH/key.pem"
'

test_expect_success 'plain HTTP on a non-loopback address is refused with one line' '
	echo "api-listen 0.0.0.0:$PORT" >"$CFG/volrep.cfg" &&
	: >"$DLOG" &&
	{ "$VOLREP" daemon >>"$DLOG" 2>&1 & echo $! >dpid; } &&
	wait_for 10 "grep -q \"api: refusing\" \"$DLOG\"" &&
	kill $(cat dpid) && { wait $(cat dpid) || :; } &&
	expect_grep "api: refusing plain HTTP on api-listen .0.0.0.0:$PORT. - not a loopback address; set api-cert and api-key" "$DLOG"
'

cat >"$CFG/volrep.cfg" <<EOT
api-listen 127.0.0.1:$PORT
api-cert $TRASH/cert.pem
api-key $TRASH/key.pem
EOT
: >"$DLOG"
"$VOLREP" daemon >>"$DLOG" 2>&1 &
DPID=$!

test_expect_success 'the daemon serves https; unauthenticated requests get 401' '
	wait_for 10 "grep -q \"api: serving\" \"$DLOG\"" &&
	expect_grep "serving the replication API and panel on https://127.0.0.1:$PORT/" "$DLOG" &&
	for p in /version /nodes /cluster/status /cluster/replication /cluster/replication/100-0 \
		/nodes/pve1/replication /nodes/pve1/replication/100-0/status /nodes/pve1/replication/100-0/log; do
		test "$(api GET $p)" = 401 || { echo "$p"; cat out; return 1; }
	done &&
	expect_grep "authentication required" out &&
	test "$(api POST /cluster/replication -d id=100-0)" = 401 &&
	test "$(api GET /version -H "Authorization: PVEAPIToken=root@pam!w=wrong")" = 401 &&
	test "$(api GET /version -H "Authorization: PVEAPIToken=root@pam!nosuch=$(cat wsecret)")" = 401 &&
	test "$(api GET /version -H "Authorization: Basic cm9vdDpwdw==")" = 401 &&
	test "$(api GET /version -H "$(W_AUTH)")" = 200 &&
	expect_grep "\"version\":\"" out
'

test_expect_success 'POST /cluster/replication creates; GET lists and reads (with digest)' '
	test "$(api POST /cluster/replication -H "$(W_AUTH)" -d id=100-0 -d type=local -d target=pve2 \
		--data-urlencode "schedule=*/5" --data-urlencode "comment=db: nightly")" = 200 &&
	test "$(cat out)" = "{\"data\":null}" &&
	"$VOLREP" read 100-0 >cli &&
	expect_grep "\"comment\": \"db: nightly\"" cli &&
	test "$(api GET /cluster/replication -H "$(R_AUTH)")" = 200 &&
	expect_grep "^{\"data\":\[{\"comment\":\"db: nightly\",\"guest\":100,\"id\":\"100-0\",\"jobnum\":0,\"schedule\":\"\*/5\",\"source\":\"pve1\",\"target\":\"pve2\",\"type\":\"local\"}\]}$" out &&
	test "$(api GET /cluster/replication/100-0 -H "$(R_AUTH)")" = 200 &&
	expect_grep "\"digest\":\"[0-9a-f]\{40\}\"" out
'

test_expect_success 'bad input: 400 with errors{param} and the CLI message' '
	test "$(api POST /cluster/replication -H "$(W_AUTH)" -d id=100-1 -d type=local -d target=pve2 \
		-d schedule=bogus)" = 400 &&
	run_mustfail 2 "$VOLREP" create-local-job 100-1 pve2 --schedule bogus 2>cli &&
	msg=$(sed -n "s/^.*\"errors\":{\"schedule\":\"\([^\"]*\)\"}.*$/\1/p" out) &&
	test -n "$msg" && expect_grep "$msg" cli &&
	test "$(api POST /cluster/replication -H "$(W_AUTH)" -d id=100-1 -d type=local -d target=pve9)" = 400 &&
	expect_grep "\"errors\":{\"target\":\"Target .pve9. does not exist.\"}" out &&
	test "$(api POST /cluster/replication -H "$(W_AUTH)" -d id=99-0 -d type=local -d target=pve2)" = 400 &&
	expect_grep "\"errors\":{\"id\":\"invalid replication job id .99-0. (guest IDs < 100 are reserved)\"}" out &&
	test "$(api POST /cluster/replication -H "$(W_AUTH)" -d id=100-1 -d type=local)" = 400 &&
	expect_grep "\"errors\":{\"target\":\"property is missing and it is not optional\"}" out &&
	test "$(api POST /cluster/replication -H "$(W_AUTH)" -d id=100-1 -d type=local -d target=pve2 -d bogus=1)" = 400 &&
	expect_grep "\"errors\":{\"bogus\":\"property is not defined in schema" out &&
	test "$(api POST /cluster/replication -H "$(W_AUTH)" -d id=100-1 -d type=local -d target=pve2 -d disable=maybe)" = 400 &&
	expect_grep "\"errors\":{\"disable\":" out &&
	test "$(api POST /cluster/replication -H "$(W_AUTH)" -d "id=100-1&id=100-2" -d type=local -d target=pve2)" = 400 &&
	expect_grep "parameter .id. given twice" out &&
	test "$(api POST /cluster/replication -H "$(W_AUTH)" -d "id=%zz" -d type=local -d target=pve2)" = 400 &&
	test "$(api POST /cluster/replication -H "$(W_AUTH)" -d id=100-0 -d type=local -d target=pve2)" = 409 &&
	expect_grep "replication job .100-0. already exists" out &&
	"$VOLREP" list >l && test $(grep -c "^100-" l) = 1
'

test_expect_success 'PUT updates (digest checked, target fixed, delete); a JSON body works too' '
	test "$(api GET /cluster/replication/100-0 -H "$(W_AUTH)")" = 200 &&
	d=$(sed -n "s/.*\"digest\":\"\([0-9a-f]*\)\".*/\1/p" out) &&
	test "$(api PUT /cluster/replication/100-0 -H "$(W_AUTH)" -d rate=10 -d disable=1 -d digest=$d)" = 200 &&
	"$VOLREP" read 100-0 >cli && expect_grep "\"rate\": 10" cli && expect_grep "\"disable\": 1" cli &&
	test "$(api PUT /cluster/replication/100-0 -H "$(W_AUTH)" -d rate=20 -d digest=$d)" = 409 &&
	expect_grep "detected modified configuration" out &&
	test "$(api PUT /cluster/replication/100-0 -H "$(W_AUTH)" -d target=pve3)" = 400 &&
	expect_grep "can.t change value of fixed parameter .target." out &&
	test "$(api PUT /cluster/replication/100-0 -H "$(W_AUTH)" -d delete=rate,comment -d disable=0)" = 200 &&
	"$VOLREP" read 100-0 >cli && ! grep -q "\"rate\"" cli && ! grep -q "\"comment\"" cli &&
	! grep -q "\"disable\"" cli &&
	test "$(api PUT /cluster/replication/100-0 -H "$(W_AUTH)" -H "Content-Type: application/json" \
		-d "{\"rate\": 30, \"comment\": \"json\"}")" = 200 &&
	"$VOLREP" read 100-0 >cli && expect_grep "\"rate\": 30" cli &&
	test "$(api PUT /cluster/replication/100-9 -H "$(W_AUTH)" -d rate=1)" = 404
'

test_expect_success 'a read-only token reads but may not write (403)' '
	test "$(api GET /cluster/replication/100-0 -H "$(R_AUTH)")" = 200 &&
	test "$(api PUT /cluster/replication/100-0 -H "$(R_AUTH)" -d rate=5)" = 403 &&
	expect_grep "permission denied - token .root@pam!r. is read-only" out &&
	test "$(api POST /nodes/pve1/replication/100-0/schedule_now -H "$(R_AUTH)")" = 403 &&
	test "$(api DELETE /cluster/replication/100-0 -H "$(R_AUTH)")" = 403 &&
	"$VOLREP" read 100-0 >cli && expect_grep "\"rate\": 30" cli
'

test_expect_success 'node endpoints: list (guest filter), index, status, schedule_now, log' '
	test "$(api GET /nodes/pve1/replication -H "$(R_AUTH)")" = 200 &&
	expect_grep "\"id\":\"100-0\"" out && expect_grep "\"vmtype\":\"qemu\"" out &&
	expect_grep "\"next_sync\":" out && expect_grep "\"fail_count\":" out &&
	test "$(api GET "/nodes/pve1/replication?guest=200" -H "$(R_AUTH)")" = 200 &&
	test "$(cat out)" = "{\"data\":[]}" &&
	test "$(api GET "/nodes/pve1/replication?guest=abc" -H "$(R_AUTH)")" = 400 &&
	expect_grep "invalid guest .abc. - value does not look like a valid VM ID" out &&
	test "$(api GET /nodes/pve1/replication/100-0 -H "$(R_AUTH)")" = 200 &&
	test "$(cat out)" = "{\"data\":[{\"name\":\"schedule_now\"},{\"name\":\"log\"},{\"name\":\"status\"}]}" &&
	test "$(api GET /nodes/pve1/replication/100-0/status -H "$(R_AUTH)")" = 200 &&
	expect_grep "^{\"data\":{.*\"id\":\"100-0\"" out &&
	test "$(api POST /nodes/pve1/replication/100-0/schedule_now -H "$(W_AUTH)")" = 200 &&
	test "$(cat out)" = "{\"data\":\"100-0\"}" &&
	# the daemon runs it (it fails: there is no storage) and the log appears
	wait_for 30 "\"$VOLREP\" log 100-0 >/dev/null 2>&1" &&
	wait_for 30 "\"$VOLREP\" log 100-0 | grep -q \"end replication job\"" &&
	"$VOLREP" log 100-0 >cli &&
	test "$(api GET "/nodes/pve1/replication/100-0/log?start=1&limit=2" -H "$(R_AUTH)")" = 200 &&
	expect_grep "^{\"data\":\[{\"n\":2,\"t\":\"$(sed -n 2p cli | cut -c1-20)" out &&
	expect_grep "\"total\":$(wc -l <cli)}$" out &&
	test "$(api GET /nodes/pve1/replication/100-0/log?limit=x -H "$(R_AUTH)")" = 400 &&
	test "$(api GET /nodes/pve1/replication/100-7/status -H "$(R_AUTH)")" = 404 &&
	test "$(api POST /nodes/pve1/replication/100-7/schedule_now -H "$(W_AUTH)")" = 404 &&
	test "$(api GET /nodes/pve2/replication -H "$(R_AUTH)")" = 400 &&
	expect_grep "node .pve2. is not this node (.pve1.) - ask it directly" out
'

test_expect_success 'discovery: /nodes and /cluster/status' '
	test "$(api GET /nodes -H "$(R_AUTH)")" = 200 &&
	expect_grep "{\"id\":\"node/pve1\",\"node\":\"pve1\",\"status\":\"online\",\"type\":\"node\"}" out &&
	test "$(api GET /cluster/status -H "$(R_AUTH)")" = 200 &&
	expect_grep "\"local\":1,\"name\":\"pve1\"" out
'

test_expect_success 'ticket login: cookie for reads, CSRF token required for writes' '
	test "$(api POST /access/ticket -d "username=root@pam!w" -d password=wrong)" = 401 &&
	test "$(api POST /access/ticket -c jar -d "username=root@pam!w" --data-urlencode "password=$(cat wsecret)")" = 200 &&
	expect_grep "\"clustername\":\"volrep\"" out && expect_grep "\"username\":\"root@pam!w\"" out &&
	csrf=$(sed -n "s/.*\"CSRFPreventionToken\":\"\([^\"]*\)\".*/\1/p" out) &&
	grep -q "PVEAuthCookie" jar &&
	test "$(api GET /cluster/replication -b jar)" = 200 &&
	test "$(api PUT /cluster/replication/100-0 -b jar -d rate=40)" = 401 &&
	expect_grep "invalid CSRF prevention token" out &&
	test "$(api PUT /cluster/replication/100-0 -b jar -H "CSRFPreventionToken: 00000000:abc" -d rate=40)" = 401 &&
	test "$(api PUT /cluster/replication/100-0 -b jar -H "CSRFPreventionToken: $csrf" -d rate=40)" = 200 &&
	"$VOLREP" read 100-0 >cli && expect_grep "\"rate\": 40" cli &&
	test "$(api DELETE /access/ticket -b jar -c jar)" = 200 &&
	test "$(api GET /cluster/replication -b jar)" = 401 &&
	test "$(api GET /cluster/replication -b "PVEAuthCookie=VOLREP:root@pam!w:00000000:w::$(printf %064d 0)")" = 401 &&
	test "$(api POST /access/ticket -c jar2 -d "username=root@pam!r" --data-urlencode "password=$(cat rsecret)")" = 200 &&
	csrf=$(sed -n "s/.*\"CSRFPreventionToken\":\"\([^\"]*\)\".*/\1/p" out) &&
	test "$(api PUT /cluster/replication/100-0 -b jar2 -H "CSRFPreventionToken: $csrf" -d rate=41)" = 403
'

test_expect_success 'DELETE: keep/force conflict, marks for removal, force drops the entry' '
	"$VOLREP" create-local-job 200-0 pve2 2>/dev/null &&
	test "$(api DELETE "/cluster/replication/200-0?keep=1&force=1" -H "$(W_AUTH)")" = 400 &&
	expect_grep "keep: conflicts with parameter .force." out &&
	test "$(api DELETE /cluster/replication/200-0 -H "$(W_AUTH)")" = 200 &&
	"$VOLREP" read 200-0 >cli && expect_grep "\"remove_job\": \"full\"" cli &&
	test "$(api DELETE /cluster/replication/200-0 -H "$(W_AUTH)" -d force=1)" = 200 &&
	run_mustfail 2 "$VOLREP" read 200-0 2>/dev/null &&
	test "$(api DELETE /cluster/replication/200-0 -H "$(W_AUTH)")" = 404
'

test_expect_success 'limits: unknown paths and methods, a big body, the panel only from memory' '
	test "$(api GET /cluster/replication/../../etc -H "$(R_AUTH)" --path-as-is)" = 501 &&
	test "$(api GET /storage -H "$(R_AUTH)")" = 501 &&
	test "$(api PATCH /cluster/replication -H "$(W_AUTH)")" = 501 &&
	head -c 70000 /dev/zero | tr "\0" a >big &&
	test "$(api POST /cluster/replication -H "$(W_AUTH)" --data-binary @big)" = 413 &&
	# request line and headers share a 32 KiB buffer
	test "$(api GET /version -H "$(R_AUTH)" -H "X-Big: $(head -c 40000 /dev/zero | tr "\0" a)")" = 431 &&
	test "$(api GET "/version?$(head -c 40000 /dev/zero | tr "\0" a)=1" -H "$(R_AUTH)")" = 414 &&
	curl -sk --max-time 5 -o page -w "%{http_code}" https://127.0.0.1:$PORT/ >code &&
	test "$(cat code)" = 200 && expect_grep "<title>volrep replication</title>" page &&
	curl -sk --max-time 5 -D hdr -o js https://127.0.0.1:$PORT/volrep.js >/dev/null &&
	expect_grep "^Content-Security-Policy: default-src .self." hdr &&
	test "$(curl -sk --max-time 5 -o /dev/null -w "%{http_code}" https://127.0.0.1:$PORT/index.html/../../etc/passwd --path-as-is)" = 404 &&
	test "$(curl -sk --max-time 5 -o /dev/null -w "%{http_code}" https://127.0.0.1:$PORT/web/index.html)" = 404 &&
	# plain HTTP to the TLS port is not served
	! curl -s --max-time 5 -o /dev/null http://127.0.0.1:$PORT/api2/json/version
'

test_expect_success 'connections are bounded, idle ones time out, and the API still answers' '
	/usr/bin/python3 - $PORT <<-\EOT &&
	import socket, sys, time
	port = int(sys.argv[1])
	held = []
	for i in range(40):
	    s = socket.create_connection(("127.0.0.1", port), timeout=5)
	    held.append(s)
	time.sleep(0.5)
	# beyond the limit the server closes a connection at once
	closed = 0
	for s in held:
	    s.settimeout(0.2)
	    try:
	        if s.recv(1) == b"":
	            closed += 1
	    except socket.timeout:
	        pass
	print("closed at once:", closed)
	assert closed >= 40 - 32, closed
	for s in held:
	    s.close()
	# an idle connection is dropped after the timeout (15 s)
	s = socket.create_connection(("127.0.0.1", port), timeout=30)
	t0 = time.monotonic()
	while s.recv(64):  # (a TLS alert may come before the close)
	    pass
	print("idle connection closed after %.0f s" % (time.monotonic() - t0))
	assert time.monotonic() - t0 < 25
	EOT
	test "$(api GET /version -H "$(R_AUTH)")" = 200
'

test_expect_success 'a token file others can read is refused' '
	chmod 644 "$VOLREP_STATE_DIR/api-tokens" &&
	test "$(api GET /version -H "$(R_AUTH)")" = 500 &&
	expect_grep "refusing .*api-tokens. - it must be a regular file of uid [0-9]* with mode 0600" out &&
	run_mustfail 1 "$VOLREP" api token list 2>err &&
	expect_grep "refusing" err &&
	chmod 600 "$VOLREP_STATE_DIR/api-tokens" &&
	test "$(api GET /version -H "$(R_AUTH)")" = 200
'

test_expect_success 'token remove: the token stops working' '
	"$VOLREP" api token add "root@pam!tmp" >tsecret &&
	test "$(api GET /version -H "Authorization: PVEAPIToken=root@pam!tmp=$(cat tsecret)")" = 200 &&
	"$VOLREP" api token remove "root@pam!tmp" &&
	test "$(api GET /version -H "Authorization: PVEAPIToken=root@pam!tmp=$(cat tsecret)")" = 401 &&
	run_mustfail 2 "$VOLREP" api token remove "root@pam!tmp" 2>err &&
	expect_grep "no such token" err
'

test_expect_success 'python3-proxmoxer: token auth and ticket login, every job operation' '
	"$VOLREP" delete 100-0 --force 2>/dev/null &&
	{ /usr/bin/python3 -c "import proxmoxer" 2>/dev/null || { echo "python3-proxmoxer missing"; return 1; }; } &&
	rc=0 &&
	{ /usr/bin/python3 "$TOP/tests/tools/proxmoxer-check.py" 127.0.0.1 $PORT root@pam w "$(cat wsecret)" pve1 >pm 2>&1 || rc=$?; } &&
	cat pm && test $rc = 0 && ! grep -q "^FAIL" pm && test $(grep -c "^ok " pm) = 19
'

test_done
