# Both ends of a replication job on this one host: the source node pve1
# and the target node pve2, reached through VOLREP_TRANSPORT=local, each
# with its own config, state and log directories, over the pools of a
# private zfs-fuse (storage.sh). For the engine tests that need no ssh
# (60xx).
#
# Usage (storage.sh first: the script runs in a private mount namespace):
#
#   . "$(dirname "$0")/../lib/storage.sh"
#   storage_private_namespace "$0" "$@"
#   . "$(dirname "$0")/../lib/test-lib.sh"
#   . "$TOP/tests/lib/local-pair.sh"
#   local_pair_env                        # skip without zfs-fuse; env below
#   write_cfg "$VOLREP_CONFIG_DIR" rpool/data        # pve1's config
#   write_cfg "$VOLREP_TARGET_CONFIG_DIR" tpool/data # pve2's, another pool
#   snaps tpool subvol-100-disk-0         # "snap1 snap2 " of a volume

# local_pair_env: skip the script unless zfs-fuse can run, tear the
# storage down at exit, and export the environment of the pair: pve1's
# directories $TRASH/cfg, state, log; pve2's $TRASH/tcfg, tstate, tlog;
# times in UTC. SRC and TGT: where container 100's rootfs is mounted on
# the source pool (rpool) and on the target pool (tpool, mounted at
# $TRASH/tpool-data).
local_pair_env() {
	storage_have_zfs || test_skip_all "needs root, unshare and zfs-fuse"
	test_when_finished storage_teardown
	test_local_node
	export VOLREP_TRANSPORT=local
	export VOLREP_TARGET_CONFIG_DIR="$TRASH/tcfg" VOLREP_TARGET_STATE_DIR="$TRASH/tstate"
	export VOLREP_TARGET_LOG_DIR="$TRASH/tlog"
	SRC=/rpool/data/subvol-100-disk-0
	TGT=$TRASH/tpool-data/subvol-100-disk-0
}

# write_cfg DIR POOL: a cluster config in DIR: nodes pve1 and pve2,
# zfspool local-zfs on POOL, container 100 on pve1 with its rootfs
# local-zfs:subvol-100-disk-0 and the lines of $LOCAL_PAIR_CT100_MORE.
write_cfg() {
	mkdir -p "$1/nodes/pve1/lxc" "$1/nodes/pve2"
	printf 'node: pve1\n\taddress 127.0.1.1\n\nnode: pve2\n\taddress 127.0.1.2\n' >"$1/nodes.cfg"
	printf 'zfspool: local-zfs\n\tpool %s\n\tcontent images,rootdir\n' "$2" >"$1/storage.cfg"
	printf 'hostname: ct100\nrootfs: local-zfs:subvol-100-disk-0,size=1G\n%s' \
		"${LOCAL_PAIR_CT100_MORE:+$LOCAL_PAIR_CT100_MORE$LF}" >"$1/nodes/pve1/lxc/100.conf"
}

# snaps POOL VOL: the snapshots of POOL/data/VOL, sorted, on one line
# (each followed by a space)
snaps() {
	zfs list -H -o name -t snapshot -r "$1/data/$2" 2>/dev/null | sed 's/.*@//' | sort | tr '\n' ' '
}

# state_field FIELD: a field of pve1's replication-state.json
state_field() {
	sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$VOLREP_STATE_DIR/replication-state.json"
}
