/* The storage types volrep replicates: one descriptor each, in one table.
 * Everything that differs between zfspool and btrfs outside the backend's
 * operations is here, and every layer reads it instead of switching on
 * the type:
 *  - config/storage.c: the storage.cfg section type, its required
 *    location keys ("pool", "path") and the keys Proxmox knows for it;
 *  - config/guest.c, transport/serve.c, engine/: which guest owns a
 *    volume name (Proxmox's grammar) and the names volrep replicates
 *    (a subset of it), with the form for error messages;
 *  - engine/storemap.c: a configured storage as a struct backend_storage;
 *  - cli/volume-spec.c, cli/cmd-import.c: the location options of the
 *    low-level verbs (--zfs-pool, --btrfs-path);
 *  - backend/backend.c: the operations (struct backend_ops) and the
 *    default tool;
 *  - cli/cmd-check.c: how to see that a storage's location is there.
 * A new type is its backend file (ops, and its grammar functions) plus
 * one entry in storage_types[] (types.c); docs/ARCHITECTURE.md §4.
 *
 * This header is data and pure functions: config/ may read it although
 * backend/ sits above config/ (nothing here runs a tool). */
#ifndef VOLREP_BACKEND_TYPES_H
#define VOLREP_BACKEND_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "base/strbuf.h"

/* Where a storage's volumes live: one value per key, e.g. zfspool's
 * parent dataset, btrfs's mount path (an LVM-thin storage would have
 * two: the volume group and the thin pool). */
struct storage_location {
	const char *key;    /* storage.cfg key, required: "pool" */
	const char *what;   /* in messages: "invalid zfs pool 'x'" */
	const char *option; /* the low-level verbs' option: "--zfs-pool" */
	int (*valid)(const char *value);
};

struct storage_type {
	const char *name;      /* storage.cfg section type and backend name: "zfspool" */
	enum backend_type type;
	struct storage_location loc[BACKEND_LOC_MAX]; /* key NULL ends the list */
	const char *const *cfg_keys; /* the keys Proxmox knows for the type (others get a warning) */
	const char *tool;      /* the program the backend drives by default */
	const struct backend_ops *ops;
	/* Proxmox's grammar (parse_volname): 0 and the guest that owns
	 * volname, or -EINVAL when it cannot be a volume of the type */
	int (*volname_owner)(const char *volname, uint32_t *owner);
	/* the names volrep replicates, a subset of the above: 1 when valid
	 * (the guest in *vmid, if non-NULL) */
	int (*volname_valid)(const char *volname, uint32_t *vmid);
	/* those names as one line for messages */
	const char *volname_form;
	/* a valid name close to volname, for a "did you mean": 1 when found */
	int (*volname_suggest)(const char *volname, struct strbuf *out);
	/* volrep check (cli/cmd-check.c): is a storage's location there on
	 * this node? argv NULL: loc[0] is a directory; else argv with loc[0]
	 * appended exits 0 (`zfs list -H -o name POOL`). what names it in
	 * the report ("zfs dataset"), missing says how it is absent ("not
	 * found"); features: the optional features the report shows
	 * (STORAGE_FEAT_*, as the backend's probe finds them). */
	struct {
		const char *what, *missing;
		const char *const *argv;
		unsigned features;
	} presence;
};

#define STORAGE_FEAT_RESUME 0x1u /* resumable receives (backend_caps.resume_tokens) */
#define STORAGE_FEAT_RAW 0x2u    /* raw sends (backend_caps.send_raw) */

/* The table, indexed by enum backend_type; NULL-terminated. */
extern const struct storage_type *const storage_types[];

/* By storage.cfg section type; NULL when volrep cannot replicate it. */
const struct storage_type *storage_type_find(const char *name);
/* By backend type; NULL for a value out of range. */
const struct storage_type *storage_type_of(enum backend_type type);

/* The owner of volname under the grammar of any type (the import guard,
 * which may not know the storage yet). Returns 0, or -EINVAL. */
int storage_type_any_owner(const char *volname, uint32_t *owner);

/* "<kind>-<vmid>-<rest>" in s[0..len) with kind one of kinds (NULL-
 * terminated): 0 and the vmid in *owner, else -1. rest is non-empty and
 * has no '/'. Proxmox's naming, shared by the grammars. */
int volname_owned(const char *s, size_t len, const char *const *kinds, uint32_t *owner);

#endif
