# Fixture for the t1xxx config/job tests: a three-node cluster config in
# $TRASH/cfg (the examples of docs/config.md), and helpers.
# Source after tests/lib/test-lib.sh.

test_local_node

make_cluster() {
	mkdir -p "$CFG/nodes/pve1/qemu-server" "$CFG/nodes/pve1/lxc" \
		"$CFG/nodes/pve2/qemu-server" "$CFG/nodes/pve2/lxc"
	cat >"$CFG/nodes.cfg" <<'EOT'
node: pve1
	address 127.0.1.1

node: pve2
	address 127.0.1.2

node: pve3
	address 127.0.1.3

EOT
	cat >"$CFG/storage.cfg" <<'EOT'
zfspool: local-zfs
	pool rpool/data
	content images,rootdir
	sparse 1

btrfs: local-btrfs
	path /mnt/btrfs
	content images,rootdir

dir: local
	path /var/lib/vz
	content iso,vztmpl,backup,images

rbd: ceph
	pool vms
	content images

nfs: nas
	server 192.0.2.10
	export /export/pve
	path /mnt/pve/nas
	content images

EOT
	# VM 100: a ZFS disk, a btrfs disk, a CD-ROM, a disk on Ceph (shared)
	cat >"$CFG/nodes/pve1/qemu-server/100.conf" <<'EOT'
# database server
boot: order=scsi0
cores: 2
memory: 4096
name: db1
ide2: local:iso/debian-12.iso,media=cdrom
scsi0: local-zfs:vm-100-disk-0,size=32G
scsi1: local-btrfs:100/vm-100-disk-1.raw,size=8G
virtio0: ceph:vm-100-disk-2,size=100G
unused0: local-zfs:vm-100-disk-3

[before-upgrade]
scsi0: local-zfs:vm-100-disk-0,size=32G
scsi2: local-zfs:vm-100-disk-9,size=1G
snaptime: 1714564800
EOT
	# CT 200: rootfs on ZFS, a mount point excluded from replication
	cat >"$CFG/nodes/pve1/lxc/200.conf" <<'EOT'
arch: amd64
hostname: web1
memory: 1024
ostype: debian
rootfs: local-zfs:subvol-200-disk-0,size=8G
mp0: local-zfs:subvol-200-disk-1,mp=/srv/cache,size=20G,replicate=0
mp1: local-btrfs:200/subvol-200-disk-2,mp=/srv/data,size=10G
EOT
	# VM 101 on pve2
	cat >"$CFG/nodes/pve2/qemu-server/101.conf" <<'EOT'
name: app1
scsi0: local-zfs:vm-101-disk-0,size=16G
EOT
	# VM 300: a qcow2 disk on a directory storage
	cat >"$CFG/nodes/pve1/qemu-server/300.conf" <<'EOT'
name: legacy
scsi0: local:300/vm-300-disk-0.qcow2,size=16G
EOT
	# VM 400: a pass-through disk
	cat >"$CFG/nodes/pve1/qemu-server/400.conf" <<'EOT'
name: passthrough
scsi0: local-zfs:vm-400-disk-0,size=16G
scsi1: /dev/disk/by-id/ata-disk1,size=1T
EOT
	# VM 500: only shared storage and a CD-ROM
	cat >"$CFG/nodes/pve1/qemu-server/500.conf" <<'EOT'
name: shared-only
ide2: none,media=cdrom
scsi0: ceph:vm-500-disk-0,size=16G
scsi1: nas:500/vm-500-disk-1.qcow2,size=16G
EOT
	# CT 600: a bind mount
	cat >"$CFG/nodes/pve1/lxc/600.conf" <<'EOT'
hostname: files
rootfs: local-zfs:subvol-600-disk-0,size=8G
mp0: /srv/share,mp=/share
EOT
}

# checksum of every file under the config dir (to prove nothing changed)
cfg_sum() {
	(cd "$CFG" && find . -type f ! -name '.volrep-config.lck' | sort | xargs sha1sum)
}

# run volrep, expect exit code $1, stderr into err, stdout into out
expect_exit() {
	_want=$1; shift
	_rc=0
	"$VOLREP" "$@" >out 2>err || _rc=$?
	if [ "$_rc" != "$_want" ]; then
		echo "expected exit $_want, got $_rc: volrep $*" >&2
		cat out err >&2
		return 1
	fi
}

# bad input: exit 2, exactly one line on stderr matching $1, config unchanged
expect_bad_input() {
	_msg=$1; shift
	cfg_sum >sum.before
	expect_exit 2 "$@" || return 1
	[ "$(wc -l <err)" = 1 ] || { echo "stderr is not one line:" >&2; cat err >&2; return 1; }
	grep -qF -- "$_msg" err || { echo "message '$_msg' not in:" >&2; cat err >&2; return 1; }
	cfg_sum >sum.after
	test_cmp sum.before sum.after
}
