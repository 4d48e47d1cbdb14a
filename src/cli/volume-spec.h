/* Arguments shared by the low-level volume verbs (export, import): which
 * storage, which volume, which snapshots. They may arrive over ssh from
 * another node, so every value is validated here, before any command runs.
 *
 *   [storeid:]volname  (--zfs-pool POOL | --btrfs-path PATH)
 *   --snapshot SNAP [--base BASE]
 *
 * A "storeid:volname" argument without a storage option is looked up in
 * storage.cfg (volume_spec_resolve); with one, the storage id only labels
 * messages ("successfully imported 'local-zfs:vm-100-disk-0'"). */
#ifndef VOLREP_CLI_VOLUME_SPEC_H
#define VOLREP_CLI_VOLUME_SPEC_H

#include "backend/backend.h"
#include "config/context.h"
#include "cli/opts.h"
#include "config/storage.h"

struct volume_spec {
	struct backend_storage storage; /* strings point into argv */
	const char *storeid;            /* from "storeid:volname", or NULL */
	const char *volname;
	const char *snapshot;
	const char *base;               /* NULL: full stream */
	int compressed;                 /* --compressed (export only) */
	int from_config;                /* "storeid:volname" without a storage option */
	char storeid_buf[65];
};

/* Parse argv (argv[0] = the command name). allow_compressed: accept
 * --compressed. extra (NULL, or ending at name NULL, at most 8): the
 * verb's own options, parsed with these (cli/opts.h; their values set).
 * On error prints one line naming the offending value and returns -1
 * (the caller exits 2); nothing has run. */
int volume_spec_parse(int argc, char **argv, int allow_compressed, struct opt_spec *extra,
		      struct volume_spec *spec);

/* For from_config specs: look the storage id up in the storage.cfg of
 * ctx's config dir (loaded into *sc, which the caller releases after the
 * last use of spec) and check it as prepare-local-job does (exists,
 * enabled, available on ctx->node, replicatable), then the volume name.
 * Returns 0 (also for specs with an explicit storage), -1 bad input
 * (message printed, exit 2) or -2 the config could not be read (exit 1). */
int volume_spec_resolve(struct volume_spec *spec, struct storage_cfg *sc, const struct context *ctx);

/* parse + resolve + backend_open in one step, for the verbs: stream_fd
 * (the stream's end: stdout for export, stdin for import) must not be a
 * terminal. Returns 0 with *b open (the caller closes it), or the exit
 * code to return (EXIT_USAGE / EXIT_FAILED; message printed). */
int volume_spec_open(int argc, char **argv, int allow_compressed, int stream_fd,
		     const struct context *ctx, struct volume_spec *spec, struct backend *b);
/* The same after volume_spec_parse: resolve, the terminal check, open. */
int volume_spec_bind(struct volume_spec *spec, int stream_fd, const struct context *ctx, struct backend *b);

#endif
