#!/bin/sh
# The API on a namespace node with real storage: python3-proxmoxer creates
# a job through the daemon of node a (which syncs it at once, a new job
# being due), schedules it now, sees a second, incremental sync in its
# status and log, deletes it and waits until the daemon has cleaned
# up the target (tests/tools/proxmoxer-e2e.py).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require
command -v openssl >/dev/null || test_skip_all "needs openssl"
/usr/bin/python3 -c "import proxmoxer, requests" 2>/dev/null || test_skip_all "needs python3-proxmoxer and python3-requests"
export TZ=UTC
DLOG="$TRASH/daemon.log"

e2e_up 'two nodes come up' a b
test_when_finished 'for _p in $(cat "$TRASH/daemon.pids" 2>/dev/null); do kill -9 $_p 2>/dev/null; done'

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDR=$(node_addr a)

test_expect_success 'a container on ZFS, a token, the API with TLS on node a' '
	guest_create a 100 lxc &&
	guest_add_disk a 100 rootfs local-zfs:subvol-100-disk-0 16 &&
	vol_write a local-zfs:subvol-100-disk-0 2 &&
	vr a api token add "root@pam!e2e" --write >secret &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TRASH/key.pem" -out "$TRASH/cert.pem" -days 2 \
		-subj /CN=a 2>/dev/null &&
	printf "%s\n" "api-listen $ADDR:$PORT" "api-cert $TRASH/cert.pem" "api-key $TRASH/key.pem" \
		>"$TB/config/volrep.cfg"
'

: >"$DLOG"
_h=$(node_pid a)
# shellcheck disable=SC2046
sh -c 'exec "$@"' sh nsenter --mount="/proc/$_h/ns/mnt" -- \
	env $(_tb_env a) VOLREP_SSH="$(_tb_volrep_ssh a)" volrep daemon >"$DLOG" 2>&1 &
echo $! >>"$TRASH/daemon.pids"

test_expect_success 'proxmoxer: create, schedule, a real sync, delete and wait for the clean-up' '
	wait_for 10 grep -q "api: serving" "$DLOG" &&
	rc=0 &&
	{ timeout 150 /usr/bin/python3 "$TOP/tests/tools/proxmoxer-e2e.py" "$ADDR" $PORT root@pam e2e \
		"$(cat secret)" a b >pm 2>&1 || rc=$?; } &&
	cat pm &&
	{ { test $rc = 0 && ! grep -q "^FAIL" pm && test $(grep -c "^ok " pm) = 6; } ||
		{ cat "$DLOG"; return 1; }; }
'

test_expect_success 'the target has no replica left' '
	! vol_exists b local-zfs:subvol-100-disk-0
'

test_done
