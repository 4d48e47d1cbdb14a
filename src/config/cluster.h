/* The whole cluster configuration at once: what the CLI, the engine and
 * the daemon read (docs/ARCHITECTURE.md §2).
 *
 *     struct cluster_config cc = CLUSTER_CONFIG_INIT;
 *     if (cluster_config_load(&cc, ctx->config_dir, CLUSTER_LOAD_VOLUMES, &err) < 0) ...
 *     const struct guest *g = guests_find(&cc.guests, 100);
 *     for (i = 0; i < g->volumes.nr; i++) g->volumes.v[i].storage / .volname
 *     cluster_config_release(&cc);
 *
 * Changes to replication.cfg go through jobs_cfg_modify() (jobs.h), which
 * re-reads the file under the config dir lock. */
#ifndef VOLREP_CONFIG_CLUSTER_H
#define VOLREP_CONFIG_CLUSTER_H

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/guest.h"
#include "config/jobs.h"
#include "config/nodes.h"
#include "config/storage.h"

struct cluster_config {
	struct nodes_cfg nodes;
	struct storage_cfg storages;
	struct jobs_cfg jobs;
	struct guest_list guests;
	struct strvec warnings; /* parse warnings of every file, for the caller to show */
};

#define CLUSTER_CONFIG_INIT { .warnings = STRVEC_INIT }

/* Also read every guest config and fill guest->volumes / ->vol_error. */
#define CLUSTER_LOAD_VOLUMES 1u

/* Load nodes.cfg, storage.cfg, replication.cfg and the guest list from
 * config_dir. Missing files are empty. Returns 0, or -errno with a message
 * in *err (e.g. a file larger than 1 MiB: "unable to read
 * '<dir>/storage.cfg' - File too large"). */
int cluster_config_load(struct cluster_config *cc, const char *config_dir, unsigned flags,
			struct strbuf *err);
void cluster_config_release(struct cluster_config *cc);

/* Compute the replicatable volumes of g (reads its config). flags:
 * GUEST_VOL_CLEANUP. Returns 0 (volumes appended to *out) or -errno with
 * the message in *err. */
int cluster_guest_volumes(const struct cluster_config *cc, const struct guest *g, unsigned flags,
			  struct volume_list *out, struct strbuf *err);
/* The same, with the guest config's parse warnings (lines that are not
 * "key: value", with file and line) appended to *warnings (may be NULL). */
int cluster_guest_volumes_w(const struct cluster_config *cc, const struct guest *g, unsigned flags,
			    struct volume_list *out, struct strbuf *err, struct strvec *warnings);

#endif
