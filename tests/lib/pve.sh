# A fake Proxmox VE /etc/pve for tests: what pmxcfs shows on node pve1 of
# a three-node cluster "lab" (pve1 10.0.0.1, pve2 10.0.0.2, pve3 10.0.0.3).
#
#   pve_tree ROOT      make it: .members (quorate), datacenter.cfg,
#                      storage.cfg (PVE's default dir + lvmthin, a zfspool,
#                      a btrfs), replication.cfg with pvesr job 100-0 (VM
#                      100 -> pve2), priv/lock/, guests
#                        pve1: VM 100 (2 disks, 2 snapshots incl. pvesr's),
#                              CT 200 (rootfs + mp0), VM 102
#                        pve2: VM 101, CT 201
#   pve_members ROOT QUORATE [pve2-online]   rewrite .members
#
# Guest configs are written the way PVE writes them: options, then one
# [snapshot] section per snapshot with parent/snaptime. Sourced after
# test-lib.sh.

pve_members() {
	_on2=${3:-1}
	cat >"$1/.members" <<EOM
{
"nodename": "pve1",
"version": 9,
"cluster": { "name": "lab", "version": 3, "nodes": 3, "quorate": $2 },
"nodelist": {
  "pve1": { "id": 1, "online": 1, "ip": "10.0.0.1"},
  "pve2": { "id": 2, "online": $_on2, "ip": "10.0.0.2"},
  "pve3": { "id": 3, "online": 1, "ip": "10.0.0.3"}
  }
}
EOM
}

pve_tree() {
	_r=$1
	mkdir -p "$_r/priv/lock" "$_r/nodes/pve1/qemu-server" "$_r/nodes/pve1/lxc" \
		"$_r/nodes/pve2/qemu-server" "$_r/nodes/pve2/lxc" "$_r/nodes/pve3/qemu-server" \
		"$_r/nodes/pve3/lxc" || return 1
	pve_members "$_r" 1
	printf 'keyboard: en-us\nmigration: secure,network=10.1.0.0/24\n' >"$_r/datacenter.cfg"
	cat >"$_r/storage.cfg" <<'EOS'
dir: local
	path /var/lib/vz
	content iso,vztmpl,backup

lvmthin: local-lvm
	thinpool data
	vgname pve
	content rootdir,images

zfspool: local-zfs
	pool rpool/data
	sparse
	content images,rootdir

btrfs: local-btrfs
	path /var/lib/pve/local-btrfs
	content images,rootdir

EOS
	cat >"$_r/replication.cfg" <<'EOS'
local: 100-0
	target pve2
	schedule */15
	rate 50

EOS
	cat >"$_r/nodes/pve1/qemu-server/100.conf" <<'EOS'
boot: order=scsi0
cores: 2
memory: 2048
name: web
net0: virtio=BC:24:11:00:00:01,bridge=vmbr0
ostype: l26
parent: before-upgrade
scsi0: local-zfs:vm-100-disk-0,size=32G
scsi1: local-zfs:vm-100-disk-1,size=8G
scsihw: virtio-scsi-pci
smbios1: uuid=6a1f3c2e-0000-4000-8000-000000000100
vmgenid: 1b6c0f6e-0000-4000-8000-000000000100

[__replicate_100-0_1764633600__]
boot: order=scsi0
cores: 2
memory: 2048
name: web
scsi0: local-zfs:vm-100-disk-0,size=32G
scsi1: local-zfs:vm-100-disk-1,size=8G
snaptime: 1764633601

[before-upgrade]
cores: 2
memory: 2048
name: web
parent: __replicate_100-0_1764633600__
scsi0: local-zfs:vm-100-disk-0,size=32G
scsi1: local-zfs:vm-100-disk-1,size=8G
snaptime: 1764640000
EOS
	cat >"$_r/nodes/pve1/lxc/200.conf" <<'EOS'
arch: amd64
cores: 1
hostname: dns
memory: 512
mp0: local-zfs:subvol-200-disk-1,mp=/srv,size=4G
net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:02:00,ip=dhcp,type=veth
ostype: debian
rootfs: local-zfs:subvol-200-disk-0,size=8G
swap: 512
unprivileged: 1
EOS
	cat >"$_r/nodes/pve1/qemu-server/102.conf" <<'EOS'
cores: 1
memory: 1024
name: build
scsi0: local-zfs:vm-102-disk-0,size=16G
EOS
	cat >"$_r/nodes/pve2/qemu-server/101.conf" <<'EOS'
cores: 1
memory: 1024
name: db
scsi0: local-zfs:vm-101-disk-0,size=16G
EOS
	cat >"$_r/nodes/pve2/lxc/201.conf" <<'EOS'
arch: amd64
hostname: mail
rootfs: local-zfs:subvol-201-disk-0,size=8G
EOS
	# the links pmxcfs shows for the local node
	ln -s nodes/pve1 "$_r/local" &&
	ln -s nodes/pve1/qemu-server "$_r/qemu-server" &&
	ln -s nodes/pve1/lxc "$_r/lxc"
}

# pve_fake_vm RUNDIR VMID [SNAPDIR]: a running VM VMID as qemu-server
# leaves it: RUNDIR/VMID.pid naming a qemu-* process started with
# -pidfile that file, and its guest agent on RUNDIR/VMID.qga
# (tests/lib/pve-qga.py; its commands logged to RUNDIR/VMID.qga.log).
# Waits until it is up; stopped at exit (or by pve_fake_vm_stop).
# PVE_VM_LAUNCH is put in front of the command (say "node_exec a" to see
# the node's mounts from the agent).
pve_fake_vm() {
	mkdir -p "$1/bin" &&
	ln -sf /usr/bin/python3 "$1/bin/qemu-system-x86_64" &&
	rm -f "$1/$2.pid" &&
	{ ${PVE_VM_LAUNCH:-} "$1/bin/qemu-system-x86_64" "$TOP/tests/lib/pve-qga.py" -pidfile "$1/$2.pid" -qga "$1/$2.qga" \
		-log "$1/$2.qga.log" ${3:+-snapdir "$3"} </dev/null >/dev/null 2>&1 & } &&
	test_atexit "pve_fake_vm_stop '$1' '$2'" &&
	wait_for 20 test -S "$1/$2.qga" -a -s "$1/$2.pid"
}

pve_fake_vm_stop() {
	[ -s "$1/$2.pid" ] || return 0
	_p=$(cat "$1/$2.pid")
	kill "$_p" 2>/dev/null
	wait_for 20 "! kill -0 $_p 2>/dev/null"
}
