# End-to-end test bed: testbed.sh's namespace nodes, each with its own
# storage (docs/ARCHITECTURE.md §5), a shared cluster config, and helpers to create
# guests, write data into their volumes and compare volumes across nodes.
#
# Source after test-lib.sh (needs root, zfs-fuse, btrfs, sshd); it sources
# testbed.sh and storage.sh, unless they are loaded already:
#
#   . "$TOP/tests/lib/e2e.sh"
#   e2e_require                       # skip unless all of it can run here
#                                     # (e2e_require_engine: and volrep run)
#   e2e_start a b                     # nodes a (127.0.1.1), b (127.0.1.2) in
#                                     # parallel, storage, cluster config;
#                                     # teardown registered for exit
#   e2e_up 'two nodes come up' a b    # the same as the script's first test
#   guest_create a 100 qemu
#   guest_add_disk a 100 scsi0 local-btrfs:100/vm-100-disk-0.raw 64
#   vol_write a local-btrfs:100/vm-100-disk-0.raw 8
#   vol_sum b local-btrfs:100/vm-100-disk-0.raw
#
# Every node gets (inside its private mount namespace, so all nodes see the
# same paths, as on a real cluster):
#   zfs-fuse with pool rpool on $TB/nodes/<n>/storage/zfs/rpool.vdev,
#   dataset rpool/data at /rpool/data   (size $E2E_ZFS_SIZE, default 256M)
#   btrfs on $TB/nodes/<n>/storage/btrfs.img at /mnt/btrfs
#                                  (size $E2E_BTRFS_SIZE, default 256M)
# Per-node sizes: E2E_ZFS_SIZE_<node>, E2E_BTRFS_SIZE_<node>.
# The cluster config ($TB/config) holds nodes.cfg, storage.cfg (zfspool
# local-zfs on rpool/data, btrfs local-btrfs on /mnt/btrfs) and
# nodes/<n>/{qemu-server,lxc}/.
#
# Volume ids are the ones of guest configs (docs/config.md):
#   local-zfs:subvol-<vmid>-disk-<n>           ZFS file system (containers)
#   local-btrfs:<vmid>/vm-<vmid>-disk-<n>.raw  btrfs subvolume with disk.raw (VMs)
#   local-btrfs:<vmid>/subvol-<vmid>-disk-<n>  btrfs subvolume (containers)
# (zfs-fuse has no zvols, so VM disks on ZFS cannot be created here.)

command -v testbed_init >/dev/null 2>&1 || . "$TOP/tests/lib/testbed.sh"
command -v storage_node_setup >/dev/null 2>&1 || . "$TOP/tests/lib/storage.sh"

E2E_ZFS_SIZE=${E2E_ZFS_SIZE:-256M}
E2E_BTRFS_SIZE=${E2E_BTRFS_SIZE:-256M}

# e2e_require: skip the whole script unless nodes with storage can run here.
e2e_require() {
	testbed_require
	for _c in zfs-fuse zfs zpool btrfs mkfs.btrfs losetup sha256sum; do
		command -v "$_c" >/dev/null 2>&1 || test_skip_all "needs $_c"
	done
	[ -c /dev/fuse ] || test_skip_all "needs /dev/fuse"
	grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null ||
		test_skip_all "needs btrfs in the kernel"
	grep -qw btrfs /proc/filesystems || test_skip_all "needs btrfs in the kernel"
}

# e2e_require_engine: e2e_require, and skip unless this volrep can run
# jobs; the script's times are in UTC.
e2e_require_engine() {
	e2e_require
	e2e_have_engine || test_skip_all "volrep run is not built yet"
	export TZ=UTC
}

_e2e_size() { # VAR NODE: the node's size override or the default
	eval "echo \${$1_$2:-\$$1}"
}

# _e2e_storage NODE CMDS...: run shell commands inside the node with
# storage.sh loaded (tree_sums, ...).
_e2e_storage() {
	_sn=$1; shift
	node_exec "$_sn" env VOLREP_PRIVATE_NS=1 STORAGE_STATE="$TB/nodes/$_sn/storage/state" \
		sh -c ". \"\$TOP/tests/lib/storage.sh\"; $*"
}

# Hooks of testbed.sh (storage.sh's storage_node_setup/teardown): storage
# up before sshd starts, down before the node's processes are killed.
# A node also gets an empty home directory for root (a bind mount over
# /root inside its namespace), as a fresh node has: the host's dotfiles
# would otherwise run in every ssh session (bash reads ~/.bashrc for ssh
# commands; a heavy one, such as "pyenv init", costs ~80 ms per remote
# command and skews the benchmarks).
testbed_node_setup_hook() {
	mkdir -p "$TB/nodes/$1/home" && chmod 700 "$TB/nodes/$1/home" &&
		node_exec "$1" mount --bind "$TB/nodes/$1/home" /root || return 1
	storage_node_setup "$1" "$(_e2e_size E2E_ZFS_SIZE "$1")" "$(_e2e_size E2E_BTRFS_SIZE "$1")" \
		</dev/null >"$TB/nodes/$1/storage.log" 2>&1 || {
		cat "$TB/nodes/$1/storage.log" >&2
		return 1
	}
}

# Called for each node in turn; the first call takes every node's storage
# down in parallel, with zfs-fuse killed at once (see zfs_stop), then
# kills every process of the nodes but their namespace holders and waits
# up to 10 s for them to go (processes that were waiting on a FUSE mount
# can be slow to die on a loaded machine).
testbed_node_teardown_hook() {
	[ ! -e "$TB/storage-down" ] || return 0
	: >"$TB/storage-down"
	_pids=""
	for _n in $TB_NODES; do
		STORAGE_FAST_STOP=1 storage_node_teardown "$_n" &
		_pids="$_pids $!"
	done
	for _p in $_pids; do
		wait "$_p"
	done
	_i=0
	while :; do
		_left=""
		for _n in $TB_NODES; do
			_left="$_left $(_tb_node_pids "$_n")"
		done
		[ -n "$(echo $_left)" ] || break
		# shellcheck disable=SC2086
		kill -9 $_left 2>/dev/null
		_i=$((_i + 1))
		[ $_i -lt 100 ] || break
		sleep 0.1
	done
	return 0
}

# _e2e_free_k K: the first K' >= K with nothing listening on 127.0.1.K':22
# (other test beds may run on the same machine at the same time).
_e2e_free_k() {
	_fk=$1
	_busy=$(ss -Hltn 2>/dev/null | awk '{print $4}')
	while echo "$_busy" | grep -qx "127.0.1.$_fk:22"; do
		_fk=$((_fk + 1))
	done
	echo "$_fk"
}

# _e2e_stop_bringup: when interrupted during e2e_start, stop the node
# bring-ups still running (background jobs ignore SIGINT) before the
# teardown, and make sure the teardown knows every node started so far.
_e2e_stop_bringup() {
	[ -n "${TB:-}" ] && [ -f "$TB/bringup.pids" ] || return 0
	for _p in $(cat "$TB/bringup.pids"); do
		kill -9 "$_p" 2>/dev/null
	done
	for _p in $(cat "$TB/bringup.pids"); do
		wait "$_p" 2>/dev/null
	done
	rm -f "$TB/bringup.pids"
	TB_NODES=""
	for _f in "$TB"/nodes/*/ns; do
		[ -f "$_f" ] || continue
		_f=${_f%/ns}
		TB_NODES="$TB_NODES ${_f##*/}"
	done
}

# e2e_start NODE...: testbed_init, the nodes brought up in parallel, then
# the cluster config. Addresses are 127.0.1.K from K = $E2E_ADDR_BASE
# (default 100) on, skipping ones in use. Prints how long the bring-up
# took. Returns non-zero if any node failed.
e2e_start() {
	_t0=$(date +%s.%N)
	testbed_init || return 1
	# runs before testbed_teardown (cleanups run last registered first)
	test_when_finished _e2e_stop_bringup
	_k=$((${E2E_ADDR_BASE:-100} - 1))
	_pids=""
	for _n in "$@"; do
		_k=$(_e2e_free_k $((_k + 1)))
		testbed_add_node "$_n" "$_k" >"$TB/add-$_n.log" 2>&1 &
		_pids="$_pids $!"
		echo $! >>"$TB/bringup.pids"
	done
	_rc=0
	for _p in $_pids; do
		wait "$_p" || _rc=1
	done
	rm -f "$TB/bringup.pids"
	# the subshells kept their own TB_NODES: collect them here
	TB_NODES=""
	for _n in "$@"; do
		[ -f "$TB/nodes/$_n/ns" ] && TB_NODES="$TB_NODES $_n"
	done
	[ $_rc = 0 ] || { cat "$TB"/add-*.log >&2; return 1; }
	e2e_cluster_config
	echo "testbed: $# nodes with storage up in $(echo "$(date +%s.%N) $_t0" | awk '{printf "%.2f", $1 - $2}') s"
}

# e2e_up [--check BODY] TITLE NODE...: e2e_start NODE... as the script's
# first test, TITLE, which shows the bring-up's output and, with --check,
# also runs the &&-chain BODY; the script stops there (test_done) when a
# node did not come up.
e2e_up() {
	_eu_check=""
	[ "$1" != --check ] || { _eu_check=" &&$LF$2"; shift 2; }
	_eu_title=$1; shift
	e2e_start "$@" >"$TRASH/start.log" 2>&1
	echo $? >"$TRASH/start.rc"
	test_expect_success "$_eu_title" '
	cat "$TRASH/start.log" &&
	test "$(cat "$TRASH/start.rc")" = 0'"$_eu_check"'
'
	[ "$(cat "$TRASH/start.rc")" = 0 ] || { test_done; exit 1; }
}

# e2e_cluster_config: nodes.cfg, storage.cfg and the guest directories.
e2e_cluster_config() {
	testbed_write_nodes_cfg
	printf '%s\n' "zfspool: local-zfs" "	pool rpool/data" "	content images,rootdir" "	sparse 1" "" \
		"btrfs: local-btrfs" "	path /mnt/btrfs" "	content images,rootdir" "" >"$TB/config/storage.cfg"
	for _n in $TB_NODES; do
		mkdir -p "$TB/config/nodes/$_n/qemu-server" "$TB/config/nodes/$_n/lxc"
	done
}

# _vol_parse VOLID: set _vstore (zfs|btrfs), _vpath (dataset or subvolume
# directory), _vraw (1 for a btrfs VM disk: the data is disk.raw) and
# _vvmid. Fails on anything else.
_vol_parse() {
	_vraw=0
	case "$1" in
	local-zfs:subvol-[0-9]*-disk-[0-9]*)
		_vstore=zfs; _vpath="rpool/data/${1#local-zfs:}"
		_vvmid=${1#local-zfs:subvol-}; _vvmid=${_vvmid%%-*} ;;
	local-btrfs:[0-9]*/vm-[0-9]*-disk-[0-9]*.raw)
		_vstore=btrfs; _v=${1#local-btrfs:}; _vvmid=${_v%%/*}
		_v=${_v#*/}; _vpath="/mnt/btrfs/images/$_vvmid/${_v%.raw}"; _vraw=1 ;;
	local-btrfs:[0-9]*/subvol-[0-9]*-disk-[0-9]*)
		_vstore=btrfs; _v=${1#local-btrfs:}; _vvmid=${_v%%/*}
		_vpath="/mnt/btrfs/images/$_vvmid/${_v#*/}" ;;
	*) echo "e2e: unsupported volume id '$1'" >&2; return 1 ;;
	esac
}

# vol_create NODE VOLID SIZE_MB: create an empty volume on NODE (a btrfs
# VM disk gets a sparse disk.raw of SIZE_MB).
vol_create() {
	_vol_parse "$2" || return 1
	case "$_vstore" in
	zfs) node_exec "$1" zfs create "$_vpath" ;;
	btrfs)
		node_exec "$1" mkdir -p "${_vpath%/*}" &&
			node_exec "$1" btrfs -q subvolume create "$_vpath" >/dev/null || return 1
		[ "$_vraw" = 0 ] || node_exec "$1" truncate -s "${3}M" "$_vpath/disk.raw"
		;;
	esac
}

# vol_dir NODE VOLID: where the volume's files are on NODE (the mounted
# dataset or the subvolume).
vol_dir() {
	_vol_parse "$2" || return 1
	case "$_vstore" in
	zfs) node_exec "$1" zfs get -H -o value mountpoint "$_vpath" ;;
	btrfs) echo "$_vpath" ;;
	esac
}

# vol_write NODE VOLID MB [NAME|OFFSET_MB]: write MB of random data: into
# file NAME of a file-system volume (default: a new file), or at
# OFFSET_MB (default 0) of a VM disk, in place.
vol_write() {
	_vol_parse "$2" || return 1
	_dir=$(vol_dir "$1" "$2") || return 1
	if [ "$_vraw" = 1 ]; then
		node_exec "$1" dd if=/dev/urandom of="$_dir/disk.raw" bs=1M count="$3" \
			seek="${4:-0}" conv=notrunc status=none
	else
		node_exec "$1" dd if=/dev/urandom of="$_dir/${4:-data-$(date +%s%N)}" bs=1M \
			count="$3" status=none
	fi
}

# vol_sum NODE VOLID: one sha256 over the volume's data (the file tree of
# a file-system volume, disk.raw of a VM disk). Fails if it is missing.
vol_sum() {
	_vol_parse "$2" || return 1
	_dir=$(vol_dir "$1" "$2" 2>/dev/null) && [ -n "$_dir" ] || {
		echo "e2e: no volume '$2' on node '$1'" >&2
		return 1
	}
	if [ "$_vraw" = 1 ]; then
		node_exec "$1" sha256sum "$_dir/disk.raw" | cut -d' ' -f1
	else
		_e2e_storage "$1" "test -d '$_dir' && tree_sums '$_dir'" | sha256sum | cut -d' ' -f1
	fi
}

# vol_exists NODE VOLID
vol_exists() {
	_vol_parse "$2" || return 1
	case "$_vstore" in
	zfs) node_exec "$1" zfs list -H -o name "$_vpath" >/dev/null 2>&1 ;;
	btrfs) node_exec "$1" test -d "$_vpath" ;;
	esac
}

# vol_snaps NODE VOLID: the volume's snapshot names, sorted, one a line.
vol_snaps() {
	_vol_parse "$2" || return 1
	case "$_vstore" in
	zfs) node_exec "$1" zfs list -H -o name -t snapshot -r "$_vpath" 2>/dev/null |
		sed -n "s|^$_vpath@||p" | LC_ALL=C sort ;;
	btrfs) node_exec "$1" ls -1 "${_vpath%/*}" | sed -n "s|^${_vpath##*/}@||p" | LC_ALL=C sort ;;
	esac
}

# vol_snap NODE VOLID SNAP: take a snapshot by hand (a user's own, or
# to prepare a failure).
vol_snap() {
	_vol_parse "$2" || return 1
	case "$_vstore" in
	zfs) node_exec "$1" zfs snapshot "$_vpath@$3" ;;
	btrfs) node_exec "$1" btrfs -q subvolume snapshot -r "$_vpath" "$_vpath@$3" >/dev/null ;;
	esac
}

# guest_conf NODE VMID: path of the guest's config file (it must exist).
guest_conf() {
	for _c in "$TB/config/nodes/$1/qemu-server/$2.conf" "$TB/config/nodes/$1/lxc/$2.conf"; do
		[ -f "$_c" ] && { echo "$_c"; return 0; }
	done
	echo "e2e: no guest $2 on node $1" >&2
	return 1
}

# guest_create NODE VMID qemu|lxc: a guest config without disks.
guest_create() {
	case "$3" in
	qemu) printf 'boot: order=scsi0\ncores: 1\nmemory: 512\nname: vm%s\n' "$2" \
		>"$TB/config/nodes/$1/qemu-server/$2.conf" ;;
	lxc) printf 'arch: amd64\nhostname: ct%s\nmemory: 512\nostype: debian\n' "$2" \
		>"$TB/config/nodes/$1/lxc/$2.conf" ;;
	*) echo "e2e: guest type must be qemu or lxc, not '$3'" >&2; return 1 ;;
	esac
}

# guest_add_disk NODE VMID KEY VOLID SIZE_MB [OPTIONS]: create the volume
# on NODE and add "KEY: VOLID,size=<SIZE_MB>M[,OPTIONS]" to the config.
guest_add_disk() {
	_conf=$(guest_conf "$1" "$2") || return 1
	vol_create "$1" "$4" "$5" || return 1
	echo "$3: $4,size=${5}M${6:+,$6}" >>"$_conf"
}

# e2e_leftovers DIR: what a torn-down test bed at DIR left behind
# (processes, mounts, loop devices on its files); empty = clean.
e2e_leftovers() {
	for _p in /proc/[0-9]*; do
		[ "${_p#/proc/}" != $$ ] || continue
		{ tr '\0' ' ' <"$_p/cmdline"; } 2>/dev/null | grep -q -- "$1/" &&
			echo "process ${_p#/proc/}: $({ tr '\0' ' ' <"$_p/cmdline"; } 2>/dev/null)"
	done
	grep -F -- "$1/" /proc/self/mountinfo | sed 's/^/mount /'
	losetup -l -n -O NAME,BACK-FILE 2>/dev/null | grep -F -- "$1/" | sed 's/^/loop device /'
	[ ! -e "$1" ] || echo "directory $1"
	return 0
}

# vr NODE ARGS...: volrep on NODE (its identity, the shared config).
vr() {
	_vn=$1; shift
	node_exec "$_vn" volrep "$@"
}

# --- replication jobs -------------------------------------------------

# e2e_have_engine: 0 when this volrep can run jobs (volrep run exists).
e2e_have_engine() {
	"$VOLREP" help run >/dev/null 2>&1
}

# _e2e_next_second: wait until the second after the last run's start.
# Successive runs start in different seconds (a snapshot name holds the
# start second, and a run must start after the last sync). Where the
# start second of a run is not known, the second it ended is recorded
# ($TB/last-run, _e2e_ran): on a loaded machine a run may start a second
# or more after it was called.
_e2e_next_second() {
	_last=$(cat "$TB/last-run" 2>/dev/null || echo 0)
	while [ "$(date +%s)" -le "$_last" ]; do sleep 0.05; done
	date +%s >"$TB/last-run"
}
# _e2e_ran RC: note the second a run ended; returns RC
_e2e_ran() {
	date +%s >"$TB/last-run"
	return "$1"
}

# job_run NODE ID [ARGS...]: volrep run --id ID on NODE.
job_run() {
	_jn=$1 _jid=$2; shift 2
	_e2e_next_second
	_jrc=0
	vr "$_jn" run --id "$_jid" "$@" || _jrc=$?
	_e2e_ran $_jrc
}

# jobs_run_due NODE [ARGS...]: volrep run on NODE (the due jobs, as the
# scheduler runs them).
jobs_run_due() {
	_jn=$1; shift
	_e2e_next_second
	_jrc=0
	vr "$_jn" run "$@" || _jrc=$?
	_e2e_ran $_jrc
}

# job_run_bg NODE PIDFILE ID [ARGS...]: job_run in the background; the pid
# of the volrep process itself goes to PIDFILE (sh, nsenter and env exec
# one another, so the pid stays the same).
job_run_bg() {
	_jn=$1 _pf=$2 _jid=$3; shift 3
	_e2e_next_second
	_h=$(node_pid "$_jn") || return 1
	# shellcheck disable=SC2046
	sh -c 'echo $$ >"$0"; exec "$@"' "$_pf" nsenter --mount="/proc/$_h/ns/mnt" -- \
		env $(_tb_env "$_jn") VOLREP_SSH="$(_tb_volrep_ssh "$_jn")" volrep run --id "$_jid" "$@" &
}

# job_field NODE ID FIELD: a field of the job in `volrep status` JSON on
# NODE (empty when absent).
job_field() {
	vr "$1" status --output-format json | jq -r --arg id "$2" --arg f "$3" \
		'.[] | select(.id == $id) | .[$f] // empty'
}

# job_dir NODE ID: "<source> <target>" of job ID in replication.cfg, as
# NODE reads it.
job_dir() {
	vr "$1" read "$2" | jq -r '"\(.source) \(.target)"'
}

# repl_snaps NODE VOLID JOBID: the job's replication snapshots of a volume.
repl_snaps() {
	vol_snaps "$1" "$2" | grep "^__replicate_$3_" || true
}

# assert_synced SRC TGT JOBID VOLID...: each volume has the same data on
# both nodes, and exactly one replication snapshot of the job on each
# side: the one of the last sync (`__replicate_<id>_<last_sync>__`).
assert_synced() {
	_src=$1 _tgt=$2 _id=$3; shift 3
	_ls=$(job_field "$_src" "$_id" last_sync)
	[ -n "$_ls" ] && [ "$_ls" != 0 ] || { echo "job $_id: no last_sync on $_src" >&2; return 1; }
	_want="__replicate_${_id}_${_ls}__"
	for _v in "$@"; do
		_a=$(vol_sum "$_src" "$_v") && _b=$(vol_sum "$_tgt" "$_v") || return 1
		[ "$_a" = "$_b" ] || { echo "$_v: data differs: $_src $_a, $_tgt $_b" >&2; return 1; }
		for _n in "$_src" "$_tgt"; do
			_s=$(repl_snaps "$_n" "$_v" "$_id")
			[ "$_s" = "$_want" ] || {
				echo "$_v on $_n: replication snapshots of $_id: '$(echo $_s)', expected '$_want'" >&2
				return 1
			}
		done
	done
}

# node_sshd_stop NODE: the node stops answering ssh (its sshd and every
# session it serves are killed, so control masters to it die too); its
# storage and state stay.
node_sshd_stop() {
	for _p in $(_tb_node_pids "$1"); do
		[ "$(cat "/proc/$_p/comm" 2>/dev/null)" = sshd ] && kill -9 "$_p" 2>/dev/null
	done
	rm -f "$TB/nodes/$1/sshd.pid"
	for _s in "$TB"/cm/*; do
		[ -S "$_s" ] && ssh -o ControlPath="$_s" -O exit dummy >/dev/null 2>&1
	done
	return 0
}

# node_sshd_start NODE: start the node's sshd again (after node_sshd_stop).
node_sshd_start() {
	_d="$TB/nodes/$1"
	node_exec "$1" "$TB_SSHD" -D -f "$_d/sshd_config" -E "$_d/sshd.log" </dev/null >/dev/null 2>&1 &
	_i=0
	while ! [ -s "$_d/sshd.pid" ]; do
		_i=$((_i + 1)); [ $_i -lt 100 ] || { echo "e2e: sshd of '$1' did not start" >&2; return 1; }
		sleep 0.05
	done
}

# zfs_fuse_pid NODE: the node's zfs-fuse daemon (kill -STOP freezes the
# node's storage)
zfs_fuse_pid() {
	for _p in $(_tb_ns_pids "$(cat "$TB/nodes/$1/ns")"); do
		[ "$(cat "/proc/$_p/comm" 2>/dev/null)" = zfs-fuse ] && { echo "$_p"; return 0; }
	done
	echo "no zfs-fuse on $1" >&2
	return 1
}

# zfs_destroy NODE DATASET: zfs destroy -r, retried while zfs-fuse still
# finds the just-received or just-unmounted dataset busy.
zfs_destroy() {
	_zi=0
	until node_exec "$1" zfs destroy -r -f "$2" 2>"$TB/zfs-destroy.err"; do
		_zi=$((_zi + 1))
		[ $_zi -lt 30 ] || { cat "$TB/zfs-destroy.err" >&2; return 1; }
		node_exec "$1" zfs umount -f "$2" 2>/dev/null
		sleep 0.1
	done
}
