# Multi-node test bed on one machine (docs/ARCHITECTURE.md §5): each "node" is a
# private mount namespace with its own sshd on $TB_NET.<k>:22 (loopback
# only), whose SetEnv gives the node its identity.
#
# TB_NET is the loopback /24 the nodes live in: 127.0.1 when set so (the
# demo does), otherwise a free one claimed for this script
# (tests/lib/netclaim.sh), so that test beds of test runs going on at the same
# time do not collide. Tests name
# a node's address with node_addr NAME, never literally.
#
# Source after test-lib.sh (needs root, unshare, nsenter, sshd):
#
#   . "$TOP/tests/lib/testbed.sh"
#   testbed_init                 # keys, client config; teardown on EXIT
#   testbed_add_node a 1         # node "a" on $TB_NET.1
#   testbed_add_node b 2
#   testbed_write_nodes_cfg      # $TB/config/nodes.cfg
#   node_exec a volrep remote-exec --address "$(node_addr b)" b volrep version
#   testbed_teardown             # also runs at exit
#
# Layout ($TB is short, /tmp/vrtb.XXXXXX, because ssh control socket paths
# must fit in 108 bytes):
#   $TB/config/              shared VOLREP_CONFIG_DIR (nodes.cfg, ...)
#   $TB/nodes/<n>/state|log  node-local VOLREP_STATE_DIR, VOLREP_LOG_DIR
#   $TB/nodes/<n>/sshd_config, ssh_host_ed25519_key, sshd.pid, sshd.log
#   $TB/ssh/config           client config (known_hosts, no agent, batch)
#   $TB/ssh/id_serve_<n>     node n's replication key, restricted to
#                            command="volrep serve --peer <n>" (a key
#                            belongs to a peer: docs/security.md)
#   $TB/ssh/id_serve         a serve key of a peer that is no node
#                            ("outsider"): what a stolen key of another
#                            cluster could do
#   $TB/ssh/id_root          client key with a plain root shell (tests that
#                            need arbitrary remote commands)
#   $TB/cm/                  VOLREP_SSH_CONTROL_DIR (ControlMaster sockets)
#
# testbed_vars DIR: set the variables below for an existing $TB (a test
# body runs in a subshell: testbed_init there, testbed_vars after it).
testbed_vars() {
	TB=$1
	TB_NODES=$(ls "$TB/nodes" | tr '\n' ' ')
	TB_SSH_SERVE="ssh -F $TB/ssh/config -i $TB/ssh/id_serve"
	TB_SSH_ROOT="ssh -F $TB/ssh/config -i $TB/ssh/id_root -o ControlPath=$TB/cm/r%C"
	TB_VOLREP_SSH=
}

# Variables after testbed_init: TB, TB_SSH_SERVE / TB_SSH_ROOT (ssh command
# lines for VOLREP_SSH with the outsider's serve key / the root key),
# TB_VOLREP_SSH (what nodes use as VOLREP_SSH; empty, the default: each
# node its own serve key, tb_serve_ssh NODE; may be changed before
# testbed_add_node or per call: TB_VOLREP_SSH=$TB_SSH_ROOT node_exec ...).
#
# tb_serve_ssh NODE: the ssh command line with NODE's serve key. Its
# control sockets are NODE's own: a master is reused whatever key a later
# call names, and every node of the test bed runs on this one host.
tb_serve_ssh() {
	echo "ssh -F $TB/ssh/config -i $TB/ssh/id_serve_$1 -o ControlPath=$TB/cm/$1-%C"
}

# _tb_volrep_ssh NODE: the VOLREP_SSH of NODE
_tb_volrep_ssh() {
	if [ -n "$TB_VOLREP_SSH" ]; then echo "$TB_VOLREP_SSH"; else tb_serve_ssh "$1"; fi
}
#
# Storage hooks: testbed_add_node calls testbed_node_setup_hook <name>
# after the namespace exists and before sshd starts, and testbed_teardown
# calls testbed_node_teardown_hook <name> before killing a node. Both are
# no-ops here; tests/lib/storage.sh redefines them (zfs-fuse, btrfs) and
# uses node_exec to act inside the namespace (mounts made there stay
# private to the node, daemons started there are killed at teardown).

TB=""
TB_NODES=""
TB_SSHD=/usr/sbin/sshd

testbed_node_setup_hook() { :; }
testbed_node_teardown_hook() { :; }

# testbed_require: skip the whole script unless the test bed can run here.
testbed_require() {
	[ "$(id -u)" = 0 ] || test_skip_all "needs root"
	for _c in unshare nsenter setsid ssh ssh-keygen "$TB_SSHD"; do
		command -v "$_c" >/dev/null 2>&1 || test_skip_all "needs $_c"
	done
}

# _tb_starttime PID: the process's start time (field 22 of its stat: a
# pid used again has another one); empty when there is no such process
_tb_starttime() {
	[ -r "/proc/$1/stat" ] || return 0
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }'
}

# testbed_reap_stale: tear down the test beds whose script died without
# its cleanups (SIGKILL, the OOM killer, a bench stopped with kill -9):
# each bed names its owner in $TB/owner, and the next testbed_init
# removes the beds whose owner is gone, their zfs-fuse, sshd, namespaces
# and loop devices with them. A bed is taken for reaping with an atomic
# mkdir, so that two scripts starting at once do not both tear it down.
# Beds without an owner file are left alone: whose they are is unknown.
testbed_reap_stale() {
	for _rd in /tmp/vrtb.*; do
		[ -f "$_rd/owner" ] || continue
		read -r _rpid _rstart <"$_rd/owner" 2>/dev/null || continue
		[ -n "$_rpid" ] && [ "$(_tb_starttime "$_rpid")" != "$_rstart" ] || continue
		mkdir "$_rd/.reaping" 2>/dev/null || continue
		echo "testbed: tearing down $_rd, left behind by process $_rpid, which is gone" >&2
		# in a subshell: the caller's TB, TB_NODES and hooks stay its own
		(
			testbed_vars "$_rd" &&
			if ls -d "$_rd"/nodes/*/storage >/dev/null 2>&1; then
				. "$TOP/tests/lib/storage.sh" && storage_testbed_hooks
			fi &&
			testbed_teardown
		) || echo "testbed: $_rd could not be torn down completely" >&2
	done
	return 0
}

# testbed_init: create $TB with keys and the client side config, and
# register testbed_teardown to run when the script exits (test_atexit:
# also when testbed_init runs in a test body).
testbed_init() {
	testbed_reap_stale
	TB=$(mktemp -d /tmp/vrtb.XXXXXX) || return 1
	chmod 755 "$TB"
	# whose bed this is: the script's shell (a body's subshell shares its
	# $$), by pid and start time, so that a later bed can tell it is gone
	echo "$$ $(_tb_starttime $$)" >"$TB/owner"
	mkdir -p "$TB/config" "$TB/nodes" "$TB/ssh" "$TB/cm" || return 1
	chmod 700 "$TB/ssh" "$TB/cm"
	ssh-keygen -q -t ed25519 -N '' -C volrep-testbed-serve -f "$TB/ssh/id_serve" || return 1
	ssh-keygen -q -t ed25519 -N '' -C volrep-testbed-root -f "$TB/ssh/id_root" || return 1
	{
		printf 'restrict,command="volrep serve --peer outsider" %s\n' "$(cat "$TB/ssh/id_serve.pub")"
		cat "$TB/ssh/id_root.pub"
	} >"$TB/ssh/authorized_keys"
	: >"$TB/ssh/known_hosts"
	cat >"$TB/ssh/config" <<-EOC
	Host *
	  UserKnownHostsFile $TB/ssh/known_hosts
	  GlobalKnownHostsFile /dev/null
	  StrictHostKeyChecking yes
	  CheckHostIP no
	  IdentitiesOnly yes
	  IdentityAgent none
	  LogLevel ERROR
	EOC
	TB_SSH_SERVE="ssh -F $TB/ssh/config -i $TB/ssh/id_serve"
	# the root key gets its own control sockets: a call reuses a master
	# whatever key it names, and the default ones belong to the serve key
	TB_SSH_ROOT="ssh -F $TB/ssh/config -i $TB/ssh/id_root -o ControlPath=$TB/cm/r%C"
	TB_VOLREP_SSH=
	# sshd insists on its privilege separation directory; the package
	# creates it at boot on a real system
	[ -d /run/sshd ] || mkdir -m 755 /run/sshd
	# at exit, also when called in a test body (a subshell)
	test_atexit "[ ! -d '$TB' ] || { testbed_vars '$TB' && testbed_teardown; }"
}

_tb_env() { # print the node's environment as NAME=VALUE lines
	printf '%s\n' "VOLREP_NODE=$1" "VOLREP_STATE_DIR=$TB/nodes/$1/state" \
		"VOLREP_LOG_DIR=$TB/nodes/$1/log" "VOLREP_CONFIG_DIR=$TB/config" \
		"VOLREP_SSH_CONTROL_DIR=$TB/cm" "PATH=$TOP/build:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	# TB_CLUSTER (set before the nodes are added): the etcd cluster store URL
	[ -z "${TB_CLUSTER:-}" ] || echo "VOLREP_CLUSTER=$TB_CLUSTER"
	# TB_SECOND_ADDR: the node's two addresses are its own (a migration
	# network, engine/pvenet.h)
	[ ! -s "$TB/nodes/$1/address2" ] ||
		echo "VOLREP_PVE_LOCAL_ADDRS=$(cat "$TB/nodes/$1/address"),$(cat "$TB/nodes/$1/address2")"
}

# node_pid NAME: pid of the process holding the node's namespace
node_pid() { cat "$TB/nodes/$1/holder.pid"; }
# node_addr NAME: the node's address
node_addr() { cat "$TB/nodes/$1/address"; }
# node_addr2 NAME: its second address (TB_SECOND_ADDR)
node_addr2() { cat "$TB/nodes/$1/address2"; }

# node_exec NAME cmd [args...]: run cmd inside the node's mount namespace
# with the node's environment (VOLREP_* and PATH with the build dir), and
# VOLREP_SSH=$TB_VOLREP_SSH for calls to other nodes.
node_exec() {
	_n=$1; shift
	_h=$(node_pid "$_n") || return 1
	# shellcheck disable=SC2046
	nsenter --mount="/proc/$_h/ns/mnt" -- env $(_tb_env "$_n") VOLREP_SSH="$(_tb_volrep_ssh "$_n")" "$@"
}

. "$TOP/tests/lib/netclaim.sh"
[ -n "${TB_NET:-}" ] || claim_loopback_net TB_NET || exit 1

# node_addr NAME: the node's ssh address
node_addr() {
	cat "$TB/nodes/$1/address"
}

# testbed_add_node NAME K: start node NAME on $TB_NET.K: a namespace
# holder (setsid, own process group), the setup hook, then sshd.
testbed_add_node() {
	_n=$1; _k=$2; _d="$TB/nodes/$1"; _a="$TB_NET.$2"
	mkdir -p "$_d/state" "$_d/log" || return 1
	echo "$_a" >"$_d/address"
	# TB_SECOND_ADDR=N (set before the nodes are added): each node also
	# listens on $TB_NET.<k+N> (node_addr2 NAME), like a second network
	[ -z "${TB_SECOND_ADDR:-}" ] || echo "$TB_NET.$((_k + TB_SECOND_ADDR))" >"$_d/address2"
	ssh-keygen -q -t ed25519 -N '' -C "volrep-testbed-$_n" -f "$_d/ssh_host_ed25519_key" || return 1
	# the node's replication key: this peer's jobs, nothing else
	ssh-keygen -q -t ed25519 -N '' -C "volrep-testbed-serve-$_n" -f "$TB/ssh/id_serve_$_n" || return 1
	printf 'restrict,command="volrep serve --peer %s" %s\n' "$_n" "$(cat "$TB/ssh/id_serve_$_n.pub")" \
		>>"$TB/ssh/authorized_keys" || return 1
	echo "$_n,$_a $(cut -d' ' -f1,2 "$_d/ssh_host_ed25519_key.pub")" >>"$TB/ssh/known_hosts"
	{
		echo "ListenAddress $_a"
		[ ! -s "$_d/address2" ] || echo "ListenAddress $(cat "$_d/address2")"
		echo "Port 22"
		echo "HostKey $_d/ssh_host_ed25519_key"
		echo "PidFile $_d/sshd.pid"
		echo "AuthorizedKeysFile $TB/ssh/authorized_keys"
		echo "PermitRootLogin prohibit-password"
		echo "PubkeyAuthentication yes"
		echo "PasswordAuthentication no"
		echo "KbdInteractiveAuthentication no"
		echo "StrictModes no"
		echo "UsePAM no"
		echo "PrintMotd no"
		echo "PrintLastLog no"
		echo "MaxStartups 100"
		echo "MaxSessions 64"
		echo "LogLevel VERBOSE"
		printf 'SetEnv'
		_tb_env "$_n" | while read -r _kv; do printf ' "%s"' "$_kv"; done
		printf ' "VOLREP_SSH=%s"\n' "$(_tb_volrep_ssh "$_n")"
	} >"$_d/sshd_config"
	"$TB_SSHD" -t -f "$_d/sshd_config" || return 1
	# The holder: a new session (so it and anything started there can be
	# killed by process group) in a private mount namespace. setsid does
	# not fork here (we are not a group leader), so $! is the holder.
	setsid unshare --mount --propagation private -- sleep 2147483647 </dev/null >/dev/null 2>&1 &
	echo $! >"$_d/holder.pid"
	_i=0
	while [ "$(readlink "/proc/$!/ns/mnt" 2>/dev/null)" = "$(readlink /proc/$$/ns/mnt)" ]; do
		_i=$((_i + 1)); [ $_i -lt 100 ] || { echo "testbed: namespace of '$_n' did not appear" >&2; return 1; }
		sleep 0.05
	done
	readlink "/proc/$!/ns/mnt" >"$_d/ns"
	TB_NODES="$TB_NODES $_n"
	testbed_node_setup_hook "$_n" || { echo "testbed: setup hook failed for '$_n'" >&2; return 1; }
	node_exec "$_n" "$TB_SSHD" -D -f "$_d/sshd_config" -E "$_d/sshd.log" </dev/null >/dev/null 2>&1 &
	_i=0
	while ! [ -s "$_d/sshd.pid" ]; do
		_i=$((_i + 1)); [ $_i -lt 100 ] || { echo "testbed: sshd of '$_n' did not start:" >&2; cat "$_d/sshd.log" >&2; return 1; }
		sleep 0.05
	done
}

# testbed_write_nodes_cfg: nodes.cfg for every node added so far.
testbed_write_nodes_cfg() {
	_first=1
	for _n in $TB_NODES; do
		[ $_first = 1 ] || echo
		_first=0
		printf 'node: %s\n\taddress %s\n' "$_n" "$(node_addr "$_n")"
	done >"$TB/config/nodes.cfg"
}

# testbed_adopt: after the test that ran testbed_init and wrote $TB to
# $TRASH/tb (test bodies run in subshells), pick the test bed up at the
# script's top level and register its teardown; the script stops there
# (test_done) when that test did not get so far.
testbed_adopt() {
	# the lint runs no body, so there is no test bed: lint the rest
	[ -z "${VOLREP_TEST_LINT_ONLY:-}" ] || return 0
	[ -s "$TRASH/tb" ] || { test_done; exit 1; }
	testbed_vars "$(cat "$TRASH/tb")"
	test_when_finished testbed_teardown
}

_tb_ns_pids() { # pids of live processes in the mount namespace $1 (an ns id)
	for _p in /proc/[0-9]*; do
		[ "$(readlink "$_p/ns/mnt" 2>/dev/null)" = "$1" ] || continue
		# a zombie has exited; this machine's init reaps orphans late
		[ "$(sed 's/^.*) \(.\).*/\1/' "$_p/stat" 2>/dev/null)" != Z ] || continue
		echo "${_p#/proc/}"
	done
}

# _tb_node_ns NAME: the node's mount namespace id, printed only while the
# node's holder still lives in it. The kernel gives a namespace id (an
# nsfs inode number) to the next new namespace as soon as the old one is
# gone, so the stored id of a dead node may name a node of another test
# bed running on this machine: never signal by a stale id.
_tb_node_ns() {
	_ns=$(cat "$TB/nodes/$1/ns" 2>/dev/null) && [ -n "$_ns" ] || return 1
	[ "$(readlink "/proc/$(cat "$TB/nodes/$1/holder.pid" 2>/dev/null)/ns/mnt" 2>/dev/null)" = "$_ns" ] || return 1
	echo "$_ns"
}

# _tb_node_pids NAME: the node's live processes except its holder (empty
# once the holder is gone).
_tb_node_pids() {
	_ns=$(_tb_node_ns "$1") || return 0
	_tb_ns_pids "$_ns" | grep -vx "$(cat "$TB/nodes/$1/holder.pid")"
	return 0
}

# transfer_procs NODE...: the exports, imports and runs still going in the
# nodes (their namespaces: pgrep would see other test beds of the
# machine), one "NODE PID: COMMAND LINE" a line.
transfer_procs() {
	for _n in "$@"; do
		for _p in $(_tb_node_pids "$_n"); do
			_c=$(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null) || continue
			case "$_c" in
			*"zfs send"* | *"zfs recv"* | *"volrep run"* | *"volrep import"*) echo "$_n $_p: $_c" ;;
			esac
		done
	done
	return 0
}

# testbed_node_kill NAME [SIG]: kill every process of the node (a node
# that died: its sshd, connections, daemons, the namespace holder last).
# With SIG=STOP the node hangs instead (testbed_node_kill NAME CONT).
testbed_node_kill() {
	_sig=${2:-KILL}
	_ps=$(_tb_node_pids "$1")
	# shellcheck disable=SC2086
	[ -z "$_ps" ] || kill "-$_sig" $_ps 2>/dev/null
	if [ "$_sig" = KILL ]; then
		_tb_node_ns "$1" >/dev/null && kill -KILL "$(cat "$TB/nodes/$1/holder.pid")" 2>/dev/null
		rm -f "$TB/nodes/$1/sshd.pid"
	fi
	return 0
}

# testbed_leftovers [--no-holders]: print what the test bed would leave
# behind (processes in its namespaces or mentioning $TB, mounts under
# $TB); empty = clean. --no-holders: leave out the namespace holders.
testbed_leftovers() {
	for _f in "$TB"/nodes/*/ns; do
		[ -f "$_f" ] || continue
		_n=${_f%/ns}; _n=${_n##*/}
		if [ "${1:-}" = --no-holders ]; then
			_tb_node_pids "$_n"
		else
			_ns=$(_tb_node_ns "$_n") && _tb_ns_pids "$_ns"
		fi | sed 's/^/namespace process /'
	done
	for _p in /proc/[0-9]*; do
		[ "${_p#/proc/}" != $$ ] || continue
		# read once: the process may exit between two reads
		_cmd=$(tr '\0' ' ' 2>/dev/null <"$_p/cmdline") || continue
		case "$_cmd" in *"$TB/"*) echo "process ${_p#/proc/}: $_cmd" ;; esac
	done
	grep -F -- "$TB/" /proc/self/mountinfo | sed 's/^/mount /'
	return 0
}

# testbed_teardown: stop ssh control masters, run the teardown hooks, kill
# every process of every node and anything else still using $TB, the
# namespace holders last, remove $TB. Safe to call twice.
testbed_teardown() {
	[ -n "$TB" ] && [ -d "$TB" ] || return 0
	for _s in "$TB"/cm/*; do
		[ -S "$_s" ] && ssh -o ControlPath="$_s" -O exit dummy >/dev/null 2>&1
	done
	for _n in $TB_NODES; do
		testbed_node_teardown_hook "$_n" || echo "testbed: teardown hook failed for '$_n'" >&2
	done
	for _sig in TERM KILL; do
		for _f in "$TB"/nodes/*/ns; do
			[ -f "$_f" ] || continue
			_n=${_f%/ns}; _n=${_n##*/}
			_ps=$(_tb_node_pids "$_n")
			# shellcheck disable=SC2086
			[ -z "$_ps" ] || kill "-$_sig" $_ps 2>/dev/null
		done
		for _p in /proc/[0-9]*; do
			_pid=${_p#/proc/}
			[ "$_pid" != $$ ] || continue
			tr '\0' ' ' 2>/dev/null <"$_p/cmdline" | grep -q -- "$TB/" && kill "-$_sig" "$_pid" 2>/dev/null
		done
		# give the signal time to land: a FUSE daemon unmounting can take
		# a few seconds to exit
		_i=0
		while [ -n "$(testbed_leftovers --no-holders)" ] && [ $_i -lt 20 ]; do
			sleep 0.25
			_i=$((_i + 1))
		done
		[ -n "$(testbed_leftovers --no-holders)" ] || break
	done
	# the holders last: while one lives, its namespace id is ours
	for _f in "$TB"/nodes/*/ns; do
		[ -f "$_f" ] || continue
		_n=${_f%/ns}; _n=${_n##*/}
		_tb_node_ns "$_n" >/dev/null && kill -KILL "$(cat "$TB/nodes/$_n/holder.pid")" 2>/dev/null
	done
	_i=0
	while [ -n "$(testbed_leftovers)" ] && [ $_i -lt 20 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	_left=$(testbed_leftovers)
	[ -z "$_left" ] || { echo "testbed: left behind:" >&2; echo "$_left" >&2; }
	wait 2>/dev/null
	rm -rf "$TB"
	TB_LAST=$TB
	TB=""
	TB_NODES=""
	[ -z "$_left" ]
}
