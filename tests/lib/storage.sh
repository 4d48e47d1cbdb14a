# Real storage for tests on one machine: a private zfs-fuse daemon with
# file-backed pools, and loop-mounted btrfs filesystems. POSIX sh.
#
# Everything happens inside a private mount namespace, so the mounts (the
# bind mounts over zfs-fuse's state directories, the zfs datasets, the
# btrfs filesystems) are invisible to the rest of the machine and vanish
# with the namespace. Processes and loop devices are not namespaced: the
# teardown stops the daemon and detaches the loop devices explicitly, and
# must run from an EXIT trap.
#
# Usage in a test script (before sourcing test-lib.sh, which creates the
# scratch directory):
#
#   . "$(dirname "$0")/../lib/storage.sh"
#   storage_private_namespace "$0" "$@"   # re-executes the script inside
#                                         # `unshare --mount --propagation private`
#   . "$(dirname "$0")/../lib/test-lib.sh"
#   storage_have_zfs || test_skip_all "needs root, unshare and zfs-fuse"
#   test_when_finished storage_teardown
#   zfs_start "$TRASH/zfs"                           # daemon + private state dirs
#   zfs_pool_create rpool "$TRASH/zfs" /rpool/data   # pool rpool, dataset rpool/data
#   btrfs_create "$TRASH/b1.img" /mnt/btrfs          # loop-mounted btrfs
#
# The multi-node testbed calls the same functions once per node namespace.
#
# zfs-fuse notes (measured with 0.7.0 on Debian 12): the daemon answers
# `zpool list` ~0.2 s after start; after SIGTERM it takes ~4 s to exit,
# also with no pool imported. See docs/storage.md for what it lacks.

# What the functions below set up is recorded in files under
# $STORAGE_STATE (default: $TRASH/.storage), not in shell variables, so
# that setup may run in a subshell (a test body) and the teardown still
# finds everything: zfs-fuse.pid, zfs-pools, btrfs-mounts, btrfs-images.
storage_state() {
	STORAGE_STATE=${STORAGE_STATE:-${TRASH:?}/.storage}
	export STORAGE_STATE
	mkdir -p "$STORAGE_STATE"
}

# 1 when we can build private storage at all: root, unshare, losetup.
storage_can_run() {
	[ "$(id -u)" = 0 ] || return 1
	command -v unshare >/dev/null 2>&1 || return 1
	return 0
}

storage_have_zfs() {
	storage_can_run && [ -n "${VOLREP_PRIVATE_NS:-}" ] &&
		command -v zfs-fuse >/dev/null 2>&1 && command -v zfs >/dev/null 2>&1 &&
		command -v zpool >/dev/null 2>&1 && [ -c /dev/fuse ]
}

storage_have_btrfs() {
	storage_can_run && [ -n "${VOLREP_PRIVATE_NS:-}" ] &&
		command -v btrfs >/dev/null 2>&1 && command -v mkfs.btrfs >/dev/null 2>&1 &&
		command -v losetup >/dev/null 2>&1 && grep -qw btrfs /proc/filesystems
}

# storage_private_namespace SCRIPT ARGS...: unless already inside one,
# re-execute SCRIPT in a new private mount namespace (when possible: as
# non-root the script runs unchanged and its storage tests skip).
storage_private_namespace() {
	[ -z "${VOLREP_PRIVATE_NS:-}" ] || return 0
	storage_can_run || return 0
	unshare --mount --propagation private true 2>/dev/null || return 0
	VOLREP_PRIVATE_NS=1
	export VOLREP_PRIVATE_NS
	exec unshare --mount --propagation private sh "$@"
}

# zfs_start DIR: start a private zfs-fuse whose state (socket, lock,
# zpool.cache, config) lives under DIR; wait until it answers.
zfs_start() {
	_d=$1
	[ -n "${VOLREP_PRIVATE_NS:-}" ] || { echo "zfs_start: not in a private mount namespace" >&2; return 1; }
	storage_state
	mkdir -p "$_d/run" "$_d/lock" "$_d/lib" "$_d/etc" || return 1
	# the mount points must exist (empty directories, as the package makes them)
	mkdir -p /var/run/zfs /var/lock/zfs /var/lib/zfs /etc/zfs || return 1
	# our own zfsrc: Debian's sets 3600 s FUSE attribute/entry timeouts,
	# and the kernel would then serve stale data after a receive
	printf 'fuse-attr-timeout = 0\nfuse-entry-timeout = 0\nmax-arc-size = 64\n' >"$_d/etc/zfsrc"
	mount --bind "$_d/run" /var/run/zfs &&
		mount --bind "$_d/lock" /var/lock/zfs &&
		mount --bind "$_d/lib" /var/lib/zfs &&
		mount --bind "$_d/etc" /etc/zfs || return 1
	# --disable-page-cache: zfs-fuse does not invalidate the kernel's page
	# cache when a receive or rollback changes a file underneath
	zfs-fuse --no-kstat-mount --disable-page-cache -p "$_d/zfs-fuse.pid" || return 1
	echo "$_d/zfs-fuse.pid" >"$STORAGE_STATE/zfs-fuse.pidfile"
	_i=0
	while [ $_i -lt 250 ]; do
		zpool list >/dev/null 2>&1 && return 0
		sleep 0.02
		_i=$((_i + 1))
	done
	echo "zfs_start: zfs-fuse did not answer within 5 s" >&2
	return 1
}

# zfs_pool_create POOL DIR MOUNTPOINT [SIZE]: pool POOL on the file
# DIR/POOL.vdev (sparse, default 256M), with dataset POOL/data mounted at
# MOUNTPOINT (created first).
zfs_pool_create() {
	_pool=$1 _dir=$2 _mp=$3 _size=${4:-256M}
	truncate -s "$_size" "$_dir/$_pool.vdev" || return 1
	zpool create -m none "$_pool" "$_dir/$_pool.vdev" >/dev/null 2>&1 || {
		echo "zfs_pool_create: zpool create $_pool failed" >&2
		return 1
	}
	storage_state
	echo "$_pool" >>"$STORAGE_STATE/zfs-pools"
	mkdir -p "$_mp" || return 1
	zfs create -o mountpoint="$_mp" "$_pool/data"
}

# zfs_retry_busy CMD...: run a zfs/zpool command, retrying for up to 20 s
# while it fails (zfs-fuse reports a just-received filesystem as "dataset
# is busy" for a moment, longer on a loaded machine).
zfs_retry_busy() {
	# per storage state: several test-bed nodes may retry at once
	_ef=${STORAGE_STATE:-${TRASH:-/tmp}}/.zfs-retry.err
	_i=0
	while ! "$@" 2>"$_ef"; do
		_i=$((_i + 1))
		if [ $_i -ge 100 ] || ! grep -q busy "$_ef"; then
			cat "$_ef" >&2
			rm -f "$_ef"
			return 1
		fi
		sleep 0.2
	done
	rm -f "$_ef"
}

# zfs_stop: destroy our pools, stop the daemon and wait for it to exit
# (SIGKILL after 20 s). With STORAGE_FAST_STOP=1 the daemon gets SIGKILL
# at once once the pools are gone (it has nothing left to write) and the
# caller waits for it to go (the multi-node test bed kills and waits for
# everything in a node's namespace anyway): zfs-fuse takes ~4 s to exit
# on SIGTERM, which adds up over many nodes.
zfs_stop() {
	storage_state
	# zfs-fuse's "zpool destroy" unmounts the datasets but then may still
	# find the pool busy: unmount first, and try again briefly
	[ ! -s "$STORAGE_STATE/zfs-pools" ] || zfs umount -a >/dev/null 2>&1
	for _p in $(cat "$STORAGE_STATE/zfs-pools" 2>/dev/null); do
		zfs_retry_busy zpool destroy -f "$_p" >/dev/null 2>&1 || echo "zfs_stop: cannot destroy pool $_p" >&2
	done
	rm -f "$STORAGE_STATE/zfs-pools"
	[ -f "$STORAGE_STATE/zfs-fuse.pidfile" ] || return 0
	_pid=$(cat "$(cat "$STORAGE_STATE/zfs-fuse.pidfile")" 2>/dev/null)
	rm -f "$STORAGE_STATE/zfs-fuse.pidfile"
	case "$_pid" in '' | *[!0-9]*) return 0 ;; esac
	if [ "${STORAGE_FAST_STOP:-0}" = 1 ]; then
		kill -s KILL "$_pid" 2>/dev/null
		return 0
	fi
	kill "$_pid" 2>/dev/null || return 0
	_i=0
	# the daemon's parent is init, which may reap it late: a zombie has
	# exited (and kill -0 would still succeed on it)
	while kill -0 "$_pid" 2>/dev/null &&
		[ "$(sed 's/^.*) \(.\).*/\1/' "/proc/$_pid/stat" 2>/dev/null)" != Z ]; do
		if [ $_i = 1000 ]; then
			echo "zfs_stop: zfs-fuse $_pid ignored SIGTERM, killing it" >&2
			kill -9 "$_pid" 2>/dev/null
		fi
		# a process stuck in the kernel (a hung FUSE request) may not die
		# even so: do not wait for it forever
		if [ $_i -ge 2500 ]; then
			echo "zfs_stop: zfs-fuse $_pid still there 30 s after SIGKILL, giving up" >&2
			return 1
		fi
		sleep 0.02
		_i=$((_i + 1))
	done
	return 0
}

# btrfs_create IMAGE MOUNTPOINT [SIZE]: a btrfs on the loop-attached file
# IMAGE (sparse, default 256M) mounted at MOUNTPOINT (created first).
btrfs_create() {
	_img=$1 _mp=$2 _size=${3:-256M}
	truncate -s "$_size" "$_img" && mkfs.btrfs -q -f "$_img" >/dev/null 2>&1 || {
		echo "btrfs_create: mkfs.btrfs $_img failed" >&2
		return 1
	}
	mkdir -p "$_mp" || return 1
	storage_state
	echo "$_img" >>"$STORAGE_STATE/btrfs-images"
	# -o loop attaches with autoclear: should the teardown never run, the
	# loop device still goes when the namespace (the last user) ends
	mount -o loop "$_img" "$_mp" || return 1
	echo "$_mp" >>"$STORAGE_STATE/btrfs-mounts"
}

# btrfs_destroy_all: unmount our btrfs filesystems and detach their loop
# devices.
btrfs_destroy_all() {
	storage_state
	for _mp in $(cat "$STORAGE_STATE/btrfs-mounts" 2>/dev/null); do
		umount "$_mp" 2>/dev/null || umount -l "$_mp" 2>/dev/null ||
			echo "btrfs_destroy_all: cannot unmount $_mp" >&2
	done
	rm -f "$STORAGE_STATE/btrfs-mounts"
	for _img in $(cat "$STORAGE_STATE/btrfs-images" 2>/dev/null); do
		for _dev in $(losetup -j "$_img" -l -O NAME -n 2>/dev/null); do
			losetup -d "$_dev" 2>/dev/null
		done
		rm -f "$_img"
	done
	rm -f "$STORAGE_STATE/btrfs-images"
}

# storage_teardown: everything the functions above set up.
storage_teardown() {
	btrfs_destroy_all
	zfs_stop
}

# tree_sums DIR: "sha256  ./relative/path" of every file below DIR, sorted
# (the data, independent of where the tree is mounted).
tree_sums() {
	(cd "$1" && find . -type f ! -path './.zfs/*' | LC_ALL=C sort | while IFS= read -r _f; do
		sha256sum "$_f"
	done)
}

# --- Multi-node test bed (tests/lib/testbed.sh) -------------------------
# Each node is a namespace; its storage is made inside it with node_exec,
# state under $TB/nodes/<name>/storage, identical paths on every node:
# pool rpool with rpool/data at /rpool/data, and a btrfs at /mnt/btrfs.

# storage_node_setup NAME [ZFS_SIZE [BTRFS_SIZE]]: start node NAME's
# zfs-fuse and pool, mount its btrfs (sizes as zfs_pool_create and
# btrfs_create take them; default 256M each). Files under
# $TB/nodes/<name>/storage: zfs/ (daemon state, rpool.vdev), btrfs.img,
# state/ (what storage_node_teardown needs).
storage_node_setup() {
	_sd="$TB/nodes/$1/storage"
	mkdir -p "$_sd" || return 1
	node_exec "$1" env VOLREP_PRIVATE_NS=1 STORAGE_STATE="$_sd/state" sh -c '
		. "$1" && zfs_start "$2/zfs" && zfs_pool_create rpool "$2/zfs" /rpool/data "$3" &&
		btrfs_create "$2/btrfs.img" /mnt/btrfs "$4"' sh "$TOP/tests/lib/storage.sh" "$_sd" \
		"${2:-256M}" "${3:-256M}"
}

# storage_node_teardown NAME: the reverse, inside the node (passes
# STORAGE_FAST_STOP on to zfs_stop). A node whose namespace is already
# gone (killed) has lost its mounts with it; only the loop device of its
# btrfs image can remain, and is detached.
storage_node_teardown() {
	_sd="$TB/nodes/$1/storage"
	[ -d "$_sd/state" ] || return 0
	if _tb_node_ns "$1" >/dev/null; then
		node_exec "$1" env VOLREP_PRIVATE_NS=1 STORAGE_STATE="$_sd/state" \
			STORAGE_FAST_STOP="${STORAGE_FAST_STOP:-0}" sh -c '
			. "$1" && storage_teardown' sh "$TOP/tests/lib/storage.sh" </dev/null
	fi
	for _dev in $(losetup -j "$_sd/btrfs.img" -l -O NAME -n 2>/dev/null); do
		losetup -d "$_dev" 2>/dev/null
	done
	return 0
}

# storage_testbed_hooks: after sourcing testbed.sh, make testbed_add_node
# and testbed_teardown set up and tear down every node's storage.
storage_testbed_hooks() {
	testbed_node_setup_hook() { storage_node_setup "$1"; }
	testbed_node_teardown_hook() { storage_node_teardown "$1"; }
}

# storage_testbed_require: after sourcing testbed.sh, skip the script
# unless test bed nodes with zfs-fuse and btrfs can run here, and hook
# their storage into testbed_add_node and testbed_teardown.
storage_testbed_require() {
	testbed_require
	command -v zfs-fuse >/dev/null 2>&1 || test_skip_all "needs zfs-fuse"
	command -v mkfs.btrfs >/dev/null 2>&1 || test_skip_all "needs btrfs-progs"
	storage_testbed_hooks
}

# storage_testbed_ct100: (a test body's first steps) test bed nodes a and
# b with storage, $TB in $TRASH/tb (testbed_adopt), nodes.cfg, a
# storage.cfg with local-zfs and local-btrfs, container 100 on a with a
# zfs volume holding f ("hello") and a btrfs volume holding g ("data"),
# and job 100-0 to b.
storage_testbed_ct100() {
	testbed_init &&
	testbed_add_node a 1 &&
	testbed_add_node b 2 &&
	echo "$TB" >"$TRASH/tb" &&
	testbed_write_nodes_cfg &&
	printf "zfspool: local-zfs\n\tpool rpool/data\n\nbtrfs: local-btrfs\n\tpath /mnt/btrfs\n" >"$TB/config/storage.cfg" &&
	mkdir -p "$TB/config/nodes/a/lxc" "$TB/config/nodes/b" &&
	printf "rootfs: local-zfs:subvol-100-disk-0,size=1G\nmp0: local-btrfs:100/subvol-100-disk-1,mp=/d,size=1G\n" \
		>"$TB/config/nodes/a/lxc/100.conf" &&
	node_exec a zfs create rpool/data/subvol-100-disk-0 &&
	node_exec a sh -c "echo hello >/rpool/data/subvol-100-disk-0/f" &&
	node_exec a sh -c "mkdir -p /mnt/btrfs/images/100 && btrfs subvolume create /mnt/btrfs/images/100/subvol-100-disk-1 >/dev/null && echo data >/mnt/btrfs/images/100/subvol-100-disk-1/g" &&
	node_exec a volrep create-local-job 100-0 b
}
