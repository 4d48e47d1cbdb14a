/* Guests and their volumes.
 *
 * A guest lives on the node whose directory holds its config:
 *     <config_dir>/nodes/<node>/qemu-server/<vmid>.conf   (VM, "qemu")
 *     <config_dir>/nodes/<node>/lxc/<vmid>.conf           (container, "lxc")
 * The config is Proxmox's "key: value" format, followed by snapshot
 * sections "[name]" and pending changes "[PENDING]".
 *
 * Replicatable volumes follow pvesr (docs/pvesr-compat.md §4.3): disks of
 * VMs are scsiN virtioN sataN ideN efidisk0 tpmstate0 unusedN vmstate, in
 * the current state, every snapshot and the pending changes, the
 * references of one volume merged (a cdrom only if every reference is,
 * replicated if any reference is); of containers rootfs mpN (current
 * state and snapshots) and unusedN (current state). media=cdrom is skipped, replicate=0
 * excludes a disk, volumes on shared storages and volumes owned by another
 * guest are skipped; everything else must be on a zfspool or btrfs
 * storage, or it is an error. */
#ifndef VOLREP_CONFIG_GUEST_H
#define VOLREP_CONFIG_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/storage.h"

enum guest_type { GUEST_QEMU, GUEST_LXC };

/* "qemu" / "lxc" (pvesr's vmtype) */
const char *guest_type_name(enum guest_type t);

struct guest_volume {
	char *storage; /* storage id */
	char *volname; /* volume name on that storage */
	char *volid;   /* "<storage>:<volname>" */
};

struct volume_list {
	struct guest_volume *v; /* sorted by volid, no duplicates */
	size_t nr, alloc;
};

void volume_list_release(struct volume_list *vl);

/* The options of a guest config, in file order: the current state and
 * those of the snapshot sections ("[name]") and of pending changes
 * ("[PENDING]"), which a rollback or a pending apply needs (qemu-server's
 * foreach_volid). "[special:...]" sections (cloud-init state) are skipped.
 * sections.v[i] is "" for the current state, the snapshot name, or
 * GUEST_SECTION_PENDING. */
struct guest_conf {
	struct strvec keys;
	struct strvec values;
	struct strvec sections;
};
#define GUEST_CONF_INIT { STRVEC_INIT, STRVEC_INIT, STRVEC_INIT }
#define GUEST_SECTION_PENDING "[PENDING]"

/* Parse guest config text (at most 1 MiB: -EFBIG). Unparsable lines are
 * skipped with a warning naming what (may be NULL). Returns 0 or -EFBIG. */
int guest_conf_parse(struct guest_conf *gc, const char *what, const char *text, size_t len,
		     struct strvec *warnings);
/* Warn (to *warnings, may be NULL) about keys that look like disks of
 * type t but are not disk keys (scsi31, mp256, ...): their volumes would
 * be silently left out. what prefixes the message ("VM 100: file ..."). */
void guest_conf_check_keys(const struct guest_conf *gc, enum guest_type t, const char *what,
			   struct strvec *warnings);
/* Value of key in the current state (the last one when repeated), or NULL. */
const char *guest_conf_get(const struct guest_conf *gc, const char *key);
void guest_conf_release(struct guest_conf *gc);

/* Include replicate=0 volumes and skip problem volumes instead of
 * failing: what a job removal needs to clean up every snapshot. */
#define GUEST_VOL_CLEANUP 1u

/* The replicatable volumes of guest vmid of type t with config gc, on
 * the storages sc. Returns 0 and fills *out (appends), or -EINVAL with
 * pvesr's message in *err ("missing replicate feature on volume
 * 'local:100/vm-100-disk-0.qcow2'", "unable to replicate local file/device
 * '/dev/sdb'", "storage 'x' does not exist", ...). */
int guest_replicatable_volumes(const struct storage_cfg *sc, uint32_t vmid, enum guest_type t,
			       const struct guest_conf *gc, unsigned flags, struct volume_list *out,
			       struct strbuf *err);

/* The vmid that owns volname on a storage of type t (0 if none) and
 * whether it is a disk image; -EINVAL when volname cannot be a volume of
 * that storage. t NULL: a Proxmox type volrep cannot replicate (dir-like
 * and block storages). Proxmox's grammar: the names volrep replicates
 * are a subset (backend_valid_volname). */
int volname_parse(const struct storage_type *t, const char *volname, uint32_t *owner, int *is_image);

struct guest {
	uint32_t vmid;
	enum guest_type type;
	char *node;              /* where its config lives */
	char *conf_path;         /* full path of the config file (etcd: etcd://.../name) */
	char *conf_name;         /* its name in the store: nodes/<node>/<qemu-server|lxc>/<vmid>.conf */
	int64_t conf_rev;        /* its revision when scanned (compare-and-swap of a move) */
	/* filled by cluster_config_load(CLUSTER_LOAD_VOLUMES): */
	struct volume_list volumes;
	char *vol_error;         /* NULL, or why the volumes cannot be replicated */
};

struct guest_list {
	struct guest *v; /* sorted by vmid */
	size_t nr, alloc;
};

/* Find every guest config under <config_dir>/nodes. A vmid found on two
 * nodes keeps the first in node-name order, with a warning. Returns 0 or
 * -errno (a missing nodes directory means no guests). */
int guests_scan(struct guest_list *gl, const char *config_dir, struct strvec *warnings);
const struct guest *guests_find(const struct guest_list *gl, uint32_t vmid);
/* Read and parse the config of g. Returns 0 or -errno. */
int guest_conf_load(struct guest_conf *gc, const struct guest *g, struct strvec *warnings);
void guests_release(struct guest_list *gl);

#endif
