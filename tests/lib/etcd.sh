# A three-member etcd cluster on loopback for the cluster-store tests.
#
# ETCD_NET is a loopback /24 picked from this shell's pid (as testbed.sh's
# TB_NET, but from another range), so test runs going on at the same time
# do not collide, and never 127.0.0.1, where a packaged etcd would listen.
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

ETCD_NET=${ETCD_NET:-127.0.$(($$ % 200 + 30))}
ETCD_DIR=""
ETCD_URL=""
ETCD_ENDPOINTS=""

etcd_require() {
	for _c in etcd etcdctl; do
		command -v "$_c" >/dev/null 2>&1 || test_skip_all "needs $_c (scripts/install-deps)"
	done
}

etcd_addr() { echo "$ETCD_NET.1$1"; }

_etcd_initial_cluster() {
	echo "n1=http://$(etcd_addr 1):2380,n2=http://$(etcd_addr 2):2380,n3=http://$(etcd_addr 3):2380"
}

# etcd_start_member I [new|existing]
etcd_start_member() {
	_i=$1
	_state=${2:-existing}
	_ip=$(etcd_addr "$_i")
	mkdir -p "$ETCD_DIR/n$_i" || return 1
	# started from a subshell, so that etcd is not a child of the test
	# script: a bare `wait` in a teardown (testbed.sh) must not wait for it
	(
	setsid etcd --name "n$_i" --data-dir "$ETCD_DIR/n$_i/data" \
		--listen-peer-urls "http://$_ip:2380" --initial-advertise-peer-urls "http://$_ip:2380" \
		--listen-client-urls "http://$_ip:2379" --advertise-client-urls "http://$_ip:2379" \
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
	ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" --dial-timeout 2s --command-timeout 5s "$@"
}

etcd_start() {
	ETCD_DIR="$TRASH/etcd"
	mkdir -p "$ETCD_DIR" || return 1
	ETCD_ENDPOINTS="$(etcd_addr 1):2379,$(etcd_addr 2):2379,$(etcd_addr 3):2379"
	ETCD_URL="etcd://$ETCD_ENDPOINTS/volrep"
	export ETCD_DIR ETCD_URL ETCD_ENDPOINTS
	test_when_finished 'etcd_teardown'
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
