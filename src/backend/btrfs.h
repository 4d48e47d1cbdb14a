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

#endif
