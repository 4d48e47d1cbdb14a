/* Volume ids and storages, the way the engine needs them.
 *
 * A volid is "<storeid>:<volname>" (Proxmox's form). The storage id is
 * looked up in storage.cfg and mapped onto a struct backend_storage (the
 * backend layer never reads the config). A storemap keeps one opened
 * backend per storage id for the duration of a run, so that every
 * operation on a storage goes through the same probed backend.
 *
 *   struct storemap sm = STOREMAP_INIT(&cc.storages, ctx->node);
 *   struct backend *b;
 *   if (storemap_get(&sm, "local-zfs", &b, &err) < 0) ...;
 *   storemap_release(&sm);
 */
#ifndef VOLREP_ENGINE_STOREMAP_H
#define VOLREP_ENGINE_STOREMAP_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "base/strbuf.h"
#include "config/storage.h"

/* Longest storage id (pve-storage-id) */
#define STOREID_MAX 64

/* Split volid into storage id and volume name, both validated
 * (valid_storage_id, valid_volname). sid must hold STOREID_MAX + 1 bytes;
 * *volname points into volid. Returns 0, or -EINVAL with "invalid volume
 * id '<volid>'" in err (may be NULL). */
int volid_parse(const char *volid, char *sid, const char **volname, struct strbuf *err);

/* Fill *out from a configured storage (strings borrowed from st).
 * Returns 0, or -ENOTSUP with "storage '<sid>' is not replicatable". */
int storage_to_backend(const struct storage *st, struct backend_storage *out, struct strbuf *err);

/* pvesr's storage_check_enabled + replicatable check for storage sid on
 * node: "storage '<sid>' does not exist" (-ENOENT), "storage '<sid>' is
 * disabled" / "storage '<sid>' is not available on node '<node>'"
 * (-ENODEV), "storage '<sid>' is not replicatable" (-ENOTSUP). Returns 0
 * and *ret, or the error with the message in err. */
int storage_check_replicatable(const struct storage_cfg *sc, const char *sid, const char *node,
			       const struct storage **ret, struct strbuf *err);

struct storemap_entry {
	char *sid;
	struct backend b;
};

struct storemap {
	const struct storage_cfg *sc; /* borrowed */
	const char *node;             /* borrowed; checked with storage_check_replicatable */
	struct storemap_entry **v; /* each allocated: pointers stay valid */
	size_t nr, alloc;
};
#define STOREMAP_INIT(sc_, node_) { .sc = (sc_), .node = (node_), .v = NULL, .nr = 0, .alloc = 0 }

/* The opened backend of storage sid (opened on first use after
 * storage_check_replicatable). *ret stays valid until storemap_release.
 * Returns 0 or -errno with the message in err. */
int storemap_get(struct storemap *sm, const char *sid, struct backend **ret, struct strbuf *err);
void storemap_release(struct storemap *sm);

#endif
