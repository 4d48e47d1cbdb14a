/* storage.cfg: the storages volumes live on (Proxmox format).
 *
 *     zfspool: local-zfs
 *     \tpool rpool/data
 *     \tcontent images,rootdir
 *
 *     btrfs: local-btrfs
 *     \tpath /mnt/btrfs
 *
 * Common options: nodes (comma list; empty = every node), disable, shared,
 * content. Only the types of backend/types.h (zfspool, btrfs) can
 * replicate; their required keys and known keys come from there. The other
 * Proxmox types (dir, lvm, lvmthin, rbd, nfs, ...) are recognised so that
 * their volumes get pvesr's errors, and the network types count as shared
 * as in Proxmox. Unknown types are skipped with a warning. */
#ifndef VOLREP_CONFIG_STORAGE_H
#define VOLREP_CONFIG_STORAGE_H

#include <stddef.h>

#include "backend/types.h"
#include "base/strvec.h"

struct storage {
	char *id;
	char *type;         /* as written: "zfspool", "btrfs", "dir", ... */
	const struct storage_type *stype; /* NULL: a Proxmox type volrep cannot replicate */
	union {
		char *loc[BACKEND_LOC_MAX]; /* the values of stype's location keys */
		char *pool;         /* zfspool: the parent dataset */
	};
	char *path;         /* btrfs, dir, ...: the mount point, else NULL */
	struct strvec nodes;   /* empty: available on every node */
	struct strvec content; /* as configured, may be empty */
	int disable;
	int shared;         /* "shared 1", or implied by a network type */
};

struct storage_cfg {
	struct storage *v; /* in file order */
	size_t nr, alloc;
	char *missing_path; /* storage_cfg_load: the path looked for when the file is absent, else NULL */
};

/* Parse storage.cfg text. Returns 0 or -EFBIG. */
int storage_cfg_parse(struct storage_cfg *sc, const char *text, size_t len, struct strvec *warnings);
/* Read <config_dir>/storage.cfg; a missing file means no storages. */
int storage_cfg_load(struct storage_cfg *sc, const char *config_dir, struct strvec *warnings);
const struct storage *storage_cfg_find(const struct storage_cfg *sc, const char *id);
void storage_cfg_release(struct storage_cfg *sc);

/* 1 if volumes on st can be replicated by volrep (zfspool, btrfs). */
int storage_can_replicate(const struct storage *st);
/* 1 if st is enabled and configured for node. */
int storage_available_on(const struct storage *st, const char *node);

#endif
