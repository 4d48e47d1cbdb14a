/* The target side of a replication (docs/pvesr-compat.md §4.5): what
 * `volrep prepare-local-job` and `volrep finalize-local-job` do on the
 * node that receives the volumes. Messages (pvesr's wording) go to log;
 * the source relays them into its job log. */
#ifndef VOLREP_ENGINE_TARGET_H
#define VOLREP_ENGINE_TARGET_H

#include <stdint.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/cluster.h"
#include "engine/elog.h"
#include "engine/prepare.h"

struct target_prepare_args {
	const char *jobid;            /* canonical job id */
	const struct strvec *scan;    /* storage ids to scan for stale volumes, may be NULL */
	const struct strvec *volids;  /* the volumes the source replicates, may be NULL */
	int64_t last_sync;
	const char *parent;           /* parent snapshot name, may be NULL */
	int force;                    /* allow an empty volume list (job removal) */
	unsigned keep;                /* the job's older snapshots kept as restore points */
};

/* pvesr's check_wanted_volid, for every volume a source names to this
 * side (prepare-local-job, finalize-local-job, the replica verbs): on
 * a storage replicatable on node, of an image type, owned by guest vmid.
 * Its storage id into sid (STOREID_MAX + 1 bytes) and its name into
 * *volname. Returns 0, or -EINVAL (or volid_parse's error) with the
 * message in err. */
int target_check_volid(const struct cluster_config *cc, const char *node, uint32_t vmid, const char *volid,
		       char *sid, const char **volname, struct strbuf *err);

/* prepare-local-job on node: checks ("no volumes specified", "guest
 * '<vmid>' is on local node", scan storages: "storage '<sid>' does not
 * exist" / "storage '<sid>' is not replicatable", unavailable ones are
 * ignored; each volid: storage checks, "volume '<volid>' has wrong
 * vtype", "volume '<volid>' has wrong owner"), then prepare() over every
 * volume of the guest on those storages, then deletes the guest's volumes
 * there that the source no longer replicates and that carry snapshots of
 * this job ("<jobid>: delete stale volume '<volid>'"). *out gets the
 * remaining snapshots of the remaining volumes (a wanted volume that does
 * not exist here is absent: the source then sends it in full).
 * Returns 0, -EINVAL for a refused request (nothing changed), or -errno
 * for a storage failure; the message is in err. */
int target_prepare(const struct cluster_config *cc, const char *node, const struct target_prepare_args *a,
		   const struct elog *log, struct snap_map *out, struct strbuf *err);

/* finalize-local-job on node: the same checks for volids (at least one),
 * then prepare() with the new last_sync: the job's other snapshots go,
 * except the keep newest older ones (retention: restore points). */
int target_finalize(const struct cluster_config *cc, const char *node, const char *jobid,
		    const struct strvec *volids, int64_t last_sync, unsigned keep, const struct elog *log,
		    struct strbuf *err);

#endif
