#!/bin/sh
# The etcd store over TLS with client certificates: a three-member etcd
# cluster serving clients over https only and demanding a certificate
# from the test CA (--cert-file, --key-file, --trusted-ca-file,
# --client-cert-auth; certificates made with openssl, tests/lib/etcd.sh
# TLS mode). volrep with etcds:// and VOLREP_CLUSTER_CACERT/_CERT/_KEY
# imports, writes, reads and sees the endpoints healthy; its daemon's
# etcd watch works over TLS; without the client certificate, with
# another CA, or over plain http it is refused and changes nothing.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/../lib/etcd.sh"
etcd_require
command -v openssl >/dev/null 2>&1 || test_skip_all "needs openssl"
ETCD_TLS=1
etcd_nodes_start
SRC="$TRASH/src"

test_expect_success 'the members serve clients over https only, with a client certificate' '
	case $ETCD_URL in etcds://*) : ;; *) false ;; esac &&
	etcdctl_ endpoint health >out 2>&1 &&
	[ "$(grep -c "is healthy" out)" = 3 ] &&
	! curl -s -m 2 -X POST "http://$(etcd_addr 1):2379/v3/kv/range" -d "{\"key\":\"eA==\"}" >/dev/null &&
	! curl -s -m 2 --cacert "$VOLREP_CLUSTER_CACERT" -X POST "https://$(etcd_addr 1):2379/v3/kv/range" \
		-d "{\"key\":\"eA==\"}" >out &&
	curl -sf -m 2 --cacert "$VOLREP_CLUSTER_CACERT" --cert "$VOLREP_CLUSTER_CERT" --key "$VOLREP_CLUSTER_KEY" \
		-X POST "https://$(etcd_addr 1):2379/v3/kv/range" -d "{\"key\":\"eA==\"}" >out &&
	grep -q "\"revision\"" out
'

test_expect_success 'import, create on a, list on b, status: all over TLS' '
	mkdir -p "$SRC/nodes/c/lxc" &&
	printf "node: a\n\taddress 127.0.0.1\n\nnode: b\n\taddress 127.0.0.2\n\nnode: c\n\taddress 127.0.0.3\n\n" >"$SRC/nodes.cfg" &&
	printf "zfspool: local-zfs\n\tpool rpool/data\n\tcontent images,rootdir\n\n" >"$SRC/storage.cfg" &&
	echo "rootfs: local-zfs:subvol-300-disk-0,size=1G" >"$SRC/nodes/c/lxc/300.conf" &&
	on a cluster import "$SRC" >out &&
	grep "imported 3 files" out &&
	on a create-local-job 300-0 b --schedule "*/5" &&
	on b list >out &&
	grep -q "^300-0 .*local/b" out &&
	etcdctl_ get /volrep/replication.cfg --print-value-only | grep -q "^local: 300-0" &&
	on b cluster status >out &&
	cat out &&
	grep "^store: *etcd etcds://" out &&
	[ "$(grep -c ": ok (" out)" = 3 ] &&
	grep "^quorate: *yes" out
'

# nothing_changed: replication.cfg still has only 300-0
nothing_changed() {
	etcdctl_ get /volrep/replication.cfg --print-value-only >cfg.now &&
	[ "$(grep -c "^local: " cfg.now)" = 1 ]
}
# refused STATE ENV-ARGS...: create-local-job 300-1 as node a, under
# `env ENV-ARGS` and with a state dir of its own ($TRASH/n/STATE), exits
# 1; its stderr in err (and shown)
refused() {
	_st=$1
	shift
	rc=0
	env "$@" VOLREP_NODE=a VOLREP_CONFIG_DIR="$TRASH/n/a/cfg" VOLREP_STATE_DIR="$TRASH/n/$_st" \
		"$VOLREP" create-local-job 300-1 a >out 2>err || rc=$?
	cat err >&2
	test "$rc" = 1
}

test_expect_success 'without the client certificate: refused, nothing changed' '
	refused nocert -u VOLREP_CLUSTER_CERT -u VOLREP_CLUSTER_KEY &&
	grep "^volrep: .*$(etcd_addr 1):2379: .*(no client certificate given: VOLREP_CLUSTER_CERT" err &&
	nothing_changed
'

test_expect_success 'a member certificate from another CA is refused' '
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=other CA" -keyout other.key -out other.pem 2>/dev/null &&
	refused othca VOLREP_CLUSTER_CACERT="$TRASH/other.pem" &&
	grep "^volrep: .*$(etcd_addr 1):2379: .*(the member.s certificate is not signed by the CA of VOLREP_CLUSTER_CACERT)" err &&
	nothing_changed
'

test_expect_success 'plain etcd:// against the https members is refused' '
	refused plain VOLREP_CLUSTER="etcd://$ETCD_ENDPOINTS/volrep" &&
	grep "^volrep: .*$(etcd_addr 1):2379: .*(a member serving https? then etcds://)" err &&
	nothing_changed
'

test_expect_success 'the daemon keeps its liveness key and its etcd watch over TLS' '
	{ on_bg c daemon >daemon.c.log 2>&1 & dp=$!; } &&
	echo $dp >daemon.pid &&
	wait_for 20 grep -q "etcd watch open on " daemon.c.log &&
	wait_for 20 grep -q "300-0: failed after\|300-0: ended after" daemon.c.log &&
	on a cluster status --output-format json >j &&
	jq -e ".nodes[] | select(.name == \"c\") | .online" j &&
	echo "rootfs: local-zfs:subvol-301-disk-0,size=1G" | etcdctl_ put /volrep/nodes/c/lxc/301.conf >/dev/null &&
	on b create-local-job 301-0 a &&
	wait_for 10 grep -q "301-0: started" daemon.c.log &&
	sed -n "/woken by the etcd watch\|etcd watch open on/h; /301-0: started/{x;p;q;}" daemon.c.log >woke &&
	cat woke &&
	grep -q "woken by the etcd watch: " woke &&
	kill -TERM $dp && wait $dp
'
test_when_finished 'kill $(cat "$TRASH/daemon.pid" 2>/dev/null) 2>/dev/null'

test_done
