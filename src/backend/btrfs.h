/* btrfs backend internals, exposed for unit tests (the engine uses
 * backend.h only).
 *
 * Layout (Proxmox's btrfs storage): every disk is a subvolume below
 * <path>/images/<vmid>/:
 *   100/vm-100-disk-0.raw    -> <path>/images/100/vm-100-disk-0/disk.raw
 *   100/subvol-100-disk-0    -> <path>/images/100/subvol-100-disk-0
 * and a snapshot is a read-only sibling subvolume <subvol>@<snap>. */
#ifndef VOLREP_BACKEND_BTRFS_H
#define VOLREP_BACKEND_BTRFS_H

#include "backend/backend.h"
#include "base/strbuf.h"
#include "base/strvec.h"

/* Split a valid btrfs volname into the guest directory
 * (<path>/images/<vmid>) and the subvolume name (vm-100-disk-0 /
 * subvol-100-disk-0). */
void btrfs_volume_dir(const char *path, const char *volname, struct strbuf *dir, struct strbuf *subvol);

/* btrfs subvolume snapshot -r -- <sv> <sv>@<snap> */
void btrfs_argv_snapshot(struct strvec *argv, const char *tool, const char *sv, const char *snap);
/* btrfs subvolume delete -- <path> */
void btrfs_argv_delete(struct strvec *argv, const char *tool, const char *path);
/* btrfs send -q [--compressed-data] [-p <sv>@<base>] -- <sv>@<snap> */
void btrfs_argv_send(struct strvec *argv, const char *tool, const struct backend_caps *caps,
		     const char *sv, const char *snap, const char *base, unsigned flags);
/* btrfs receive -q [-C] -- <dir> */
void btrfs_argv_receive(struct strvec *argv, const char *tool, const struct backend_caps *caps,
			const char *dir);
/* btrfs subvolume show -- <path> */
void btrfs_argv_show(struct strvec *argv, const char *tool, const char *path);

/* The size estimate of a full send walks the snapshot: VM disks are one
 * file (disk.raw), containers a whole tree. Past these bounds the walk
 * would cost more than the progress line is worth: no estimate. */
#define BTRFS_ESTIMATE_MAX_ENTRIES 100000
#define BTRFS_ESTIMATE_MAX_DEPTH 64

/* The space allocated to the files below the directory path (st_blocks *
 * 512, summed), without following symlinks or entering other file systems
 * or nested subvolumes (another st_dev). Returns 0, -E2BIG past
 * max_entries entries or BTRFS_ESTIMATE_MAX_DEPTH levels, or -errno. */
int btrfs_allocated_size(const char *path, size_t max_entries, uint64_t *bytes);

#endif
