# A three-member etcd cluster on loopback for the cluster-store tests.
#
# ETCD_NET is a loopback /24 claimed for this script (tests/lib/netclaim.sh,
# as testbed.sh's TB_NET), so test runs going on at the same time do not
# collide, and never 127.0.0.1, where a packaged etcd would listen.
# Members n1..n3 listen on $ETCD_NET.1<i>:2379 (clients) and :2380 (peers),
# each with its own data dir under $TRASH/etcd, with short election
# timeouts so that a leader is there in a few seconds.
#
# Source after test-lib.sh:
#   . "$TOP/tests/lib/etcd.sh"
#   etcd_require              # skip the script without etcd
#   etcd_start                # all three, waits for a leader; teardown at exit
#   $VOLREP --cluster "$ETCD_URL" ...
#   etcd_stop_member 2; etcd_start_member 2
#   etcdctl_ get /volrep/ --prefix   # etcdctl on the cluster (tests only)
#
# Or, for a script whose nodes are volrep processes on this host (no test
# bed): etcd_nodes_start (etcd_start, or the script bails out; TZ=UTC,
# VOLREP_CLUSTER=$ETCD_URL), then `on NODE volrep-args...` and
# `on_bg NODE ... &`. On a test bed (e2e.sh): etcd_testbed_start, then
# e2e_start / e2e_up: the nodes use the cluster (TB_CLUSTER).
#
# TLS mode: ETCD_TLS=1 before etcd_start makes a CA, a certificate for
# the members (their IPs as subject alternative names) and one for
# clients in $ETCD_DIR/pki with openssl; the members then serve clients
# over https only and demand a client certificate from that CA
# (--client-cert-auth), ETCD_URL is etcds://..., and the variables volrep
# reads (VOLREP_CLUSTER_CACERT, _CERT, _KEY) are exported. Peers talk
# plain http on loopback.

. "$TOP/tests/lib/netclaim.sh"
[ -n "${ETCD_NET:-}" ] || claim_loopback_net ETCD_NET || exit 1
ETCD_DIR=""
ETCD_URL=""
ETCD_ENDPOINTS=""
ETCD_TLS=${ETCD_TLS:-}

etcd_require() {
	for _c in etcd etcdctl; do
		command -v "$_c" >/dev/null 2>&1 || test_skip_all "needs $_c (scripts/install-deps)"
	done
}

etcd_addr() { echo "$ETCD_NET.1$1"; }

_etcd_initial_cluster() {
	echo "n1=http://$(etcd_addr 1):2380,n2=http://$(etcd_addr 2):2380,n3=http://$(etcd_addr 3):2380"
}

_etcd_scheme() { if [ -n "$ETCD_TLS" ]; then echo https; else echo http; fi; }

# etcd_make_pki: CA, member and client certificates in $ETCD_DIR/pki
etcd_make_pki() {
	_p="$ETCD_DIR/pki"
	mkdir -p "$_p" || return 1
	_san="subjectAltName=IP:$(etcd_addr 1),IP:$(etcd_addr 2),IP:$(etcd_addr 3)"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=volrep test etcd CA" \
		-keyout "$_p/ca.key" -out "$_p/ca.pem" 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=etcd member" -keyout "$_p/member.key" \
		-out "$_p/member.csr" 2>/dev/null &&
	printf '%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$_san" >"$_p/member.ext" &&
	openssl x509 -req -in "$_p/member.csr" -CA "$_p/ca.pem" -CAkey "$_p/ca.key" -CAcreateserial \
		-days 2 -extfile "$_p/member.ext" -out "$_p/member.pem" 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=volrep node" -keyout "$_p/client.key" \
		-out "$_p/client.csr" 2>/dev/null &&
	printf 'extendedKeyUsage=clientAuth\n' >"$_p/client.ext" &&
	openssl x509 -req -in "$_p/client.csr" -CA "$_p/ca.pem" -CAkey "$_p/ca.key" -CAcreateserial \
		-days 2 -extfile "$_p/client.ext" -out "$_p/client.pem" 2>/dev/null &&
	chmod 600 "$_p"/*.key
}

# etcd_start_member I [new|existing]
etcd_start_member() {
	_i=$1
	_state=${2:-existing}
	_ip=$(etcd_addr "$_i")
	_sch=$(_etcd_scheme)
	set --
	if [ -n "$ETCD_TLS" ]; then
		set -- --cert-file "$ETCD_DIR/pki/member.pem" --key-file "$ETCD_DIR/pki/member.key" \
			--trusted-ca-file "$ETCD_DIR/pki/ca.pem" --client-cert-auth
	fi
	mkdir -p "$ETCD_DIR/n$_i" || return 1
	# started from a subshell, so that etcd is not a child of the test
	# script: a bare `wait` in a teardown (testbed.sh) must not wait for it
	(
	setsid etcd --name "n$_i" --data-dir "$ETCD_DIR/n$_i/data" \
		--listen-peer-urls "http://$_ip:2380" --initial-advertise-peer-urls "http://$_ip:2380" \
		--listen-client-urls "$_sch://$_ip:2379" --advertise-client-urls "$_sch://$_ip:2379" "$@" \
		--initial-cluster-token "vrt-$$" --initial-cluster "$(_etcd_initial_cluster)" \
		--initial-cluster-state "$_state" --heartbeat-interval 50 --election-timeout 500 \
		--log-level warn >>"$ETCD_DIR/n$_i/log" 2>&1 </dev/null &
	echo $! >"$ETCD_DIR/n$_i/pid"
	)
}

etcd_stop_member() {
	_p=$(cat "$ETCD_DIR/n$1/pid" 2>/dev/null) || return 0
	kill "$_p" 2>/dev/null
	# bounded: 10 s
	for _t in $(seq 100); do
		kill -0 "$_p" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$_p" 2>/dev/null
	rm -f "$ETCD_DIR/n$1/pid"
	return 0
}

# etcd_wait_healthy: until a linearizable read through every endpoint works (20 s)
etcd_wait_healthy() {
	for _t in $(seq 200); do
		if etcdctl_ get --consistency=l health >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "etcd cluster did not become healthy" >&2
	for _i in 1 2 3; do tail -5 "$ETCD_DIR/n$_i/log" >&2; done
	return 1
}

etcdctl_() {
	if [ -n "$ETCD_TLS" ]; then
		set -- --cacert "$ETCD_DIR/pki/ca.pem" --cert "$ETCD_DIR/pki/client.pem" \
			--key "$ETCD_DIR/pki/client.key" "$@"
	fi
	ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" --dial-timeout 2s --command-timeout 5s "$@"
}

etcd_start() {
	ETCD_DIR="$TRASH/etcd"
	mkdir -p "$ETCD_DIR" || return 1
	ETCD_ENDPOINTS="$(etcd_addr 1):2379,$(etcd_addr 2):2379,$(etcd_addr 3):2379"
	ETCD_URL="etcd://$ETCD_ENDPOINTS/volrep"
	export ETCD_DIR ETCD_URL ETCD_ENDPOINTS
	test_when_finished 'etcd_teardown'
	if [ -n "$ETCD_TLS" ]; then
		etcd_make_pki || { echo "cannot make the test certificates" >&2; return 1; }
		ETCD_URL="etcds://$ETCD_ENDPOINTS/volrep"
		VOLREP_CLUSTER_CACERT="$ETCD_DIR/pki/ca.pem"
		VOLREP_CLUSTER_CERT="$ETCD_DIR/pki/client.pem"
		VOLREP_CLUSTER_KEY="$ETCD_DIR/pki/client.key"
		export ETCD_URL VOLREP_CLUSTER_CACERT VOLREP_CLUSTER_CERT VOLREP_CLUSTER_KEY
	fi
	for _i in 1 2 3; do
		etcd_start_member "$_i" new || return 1
	done
	etcd_wait_healthy
}

etcd_teardown() {
	[ -n "$ETCD_DIR" ] || return 0
	for _i in 1 2 3; do etcd_stop_member "$_i"; done
	rm -rf "$ETCD_DIR"
}

# etcd_start_or_bail: etcd_start, its output in $TRASH/etcd.log; when the
# cluster does not start, the output is shown and the script bails out.
etcd_start_or_bail() {
	etcd_start >"$TRASH/etcd.log" 2>&1 || {
		cat "$TRASH/etcd.log"
		echo "Bail out! etcd${ETCD_TLS:+ with TLS} did not start"
		exit 1
	}
}

# etcd_testbed_start: etcd_start_or_bail, and the test bed's nodes, brought
# up after it, use the cluster (testbed.sh's TB_CLUSTER).
etcd_testbed_start() {
	etcd_start_or_bail
	TB_CLUSTER=$ETCD_URL
}

# etcd_nodes_start: etcd_start_or_bail; volrep, run through on and on_bg,
# uses the cluster; times in UTC.
etcd_nodes_start() {
	etcd_start_or_bail
	export TZ=UTC
	export VOLREP_CLUSTER="$ETCD_URL"
}

# _etcd_node_dirs NODE: the node's config, state and log directories under
# $TRASH/n/NODE
_etcd_node_dirs() {
	mkdir -p "$TRASH/n/$1/cfg" "$TRASH/n/$1/state" "$TRASH/n/$1/log"
}

# on NODE ARGS...: volrep as node NODE (VOLREP_NODE, its own local config,
# state and log directories), on the cluster of VOLREP_CLUSTER
on() {
	_n=$1
	shift
	_etcd_node_dirs "$_n"
	VOLREP_NODE=$_n VOLREP_CONFIG_DIR="$TRASH/n/$_n/cfg" VOLREP_STATE_DIR="$TRASH/n/$_n/state" \
		VOLREP_LOG_DIR="$TRASH/n/$_n/log" "$VOLREP" "$@"
}

# on_bg NODE ARGS... &: the same, as a background job whose $! is volrep
# itself
on_bg() {
	_n=$1
	shift
	_etcd_node_dirs "$_n"
	VOLREP_NODE=$_n VOLREP_CONFIG_DIR="$TRASH/n/$_n/cfg" VOLREP_STATE_DIR="$TRASH/n/$_n/state" \
		VOLREP_LOG_DIR="$TRASH/n/$_n/log" exec "$VOLREP" "$@"
}
