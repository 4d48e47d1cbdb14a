/* Arguments shared by the low-level volume verbs (export, import): which
 * storage, which volume, which snapshots. They may arrive over ssh from
 * another node, so every value is validated here, before any command runs.
 *
 *   [storeid:]volname  (--zfs-pool POOL | --btrfs-path PATH)
 *   --snapshot SNAP [--base BASE]
 *
 * The storage is named by its type option for now; a "storeid:volname"
 * argument without one is where the configuration (storage.cfg) will be
 * looked up (volume_spec.storeid is kept for that), and with one it only
 * labels messages ("successfully imported 'local-zfs:vm-100-disk-0'"). */
#ifndef VOLREP_CLI_VOLUME_SPEC_H
#define VOLREP_CLI_VOLUME_SPEC_H

#include "backend/backend.h"

struct volume_spec {
	struct backend_storage storage; /* strings point into argv */
	const char *storeid;            /* from "storeid:volname", or NULL */
	const char *volname;
	const char *snapshot;
	const char *base;               /* NULL: full stream */
	int compressed;                 /* --compressed (export only) */
	char storeid_buf[65];
};

/* Parse argv (argv[0] = the command name). allow_compressed: accept
 * --compressed. On error prints one line naming the offending value and
 * returns -1 (the caller exits 2); nothing has run. */
int volume_spec_parse(int argc, char **argv, int allow_compressed, struct volume_spec *spec);

#endif
