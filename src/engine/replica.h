/* A guest's replicas on other nodes, for failover (docs/migration.md):
 * which replication snapshots each node holds, which node holds the
 * freshest complete copy, and rolling that copy back to it.
 *
 * A replica is complete at snapshot S when every replicated volume of the
 * guest exists there and carries S: one replication run snapshots all
 * volumes of a guest under one name, and a volume receives a snapshot
 * whole or not at all, so such an S is a consistent state of the guest.
 * Replicas are compared by the time in the snapshot name (the start of the
 * run on the source), never by the clocks of the replica nodes.
 *
 * Target-side verbs (whitelisted in volrep serve):
 *   volrep replica-snapshots <vmid> <volid>...       (read only)
 *     one line of JSON on stdout as prepare-local-job's, the volumes that
 *     exist here with their replication snapshots
 *   volrep replica-rollback <vmid> <snap> <volid>...
 *     roll every volume back to snap (a replication snapshot) */
#ifndef VOLREP_ENGINE_REPLICA_H
#define VOLREP_ENGINE_REPLICA_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/cluster.h"
#include "engine/elog.h"
#include "engine/prepare.h"

/* 1 and the time in *t when snap is "__replicate_<jobid>_<t>__" with a
 * valid job id, else 0. */
int repl_snap_time(const char *snap, int64_t *t);

/* The newest replication snapshot present on every volume of volids in m
 * (same name; identities cannot be compared across nodes here): returns 1
 * with *snap (points into m) and *t, 0 when there is none or a volume is
 * missing from m. Of two snapshots with the same time the name that sorts
 * first wins (deterministic). */
int replica_newest_complete(const struct snap_map *m, const struct strvec *volids, const char **snap, int64_t *t);

struct replica_candidate {
	char *node;
	int reachable;          /* the listing succeeded */
	char *error;            /* why not (when !reachable), else NULL */
	struct snap_map snaps;  /* the listing */
	/* set by replica_choose() */
	int complete;
	const char *snap;       /* newest complete snapshot, points into snaps */
	int64_t time;
};

void replica_candidate_release(struct replica_candidate *c);

/* Evaluate every candidate (complete/snap/time) and pick one: with forced,
 * that node (it must be a complete candidate); else the complete one with
 * the newest snapshot, ties going to prefer (may be NULL: this node), then
 * to the node name that sorts first. Returns the index, or -ENOENT with a
 * message in err ("no complete replica of guest '100' on any reachable
 * node", "node 'c' has no complete replica of guest '100'"). */
int replica_choose(struct replica_candidate *c, size_t n, uint32_t vmid, const struct strvec *volids,
		   const char *forced, const char *prefer, struct strbuf *err);

/* After replica_choose picked pick: among the complete candidates exactly
 * as fresh as it, the one that comes first in prefer (HA's preferred
 * nodes, in order); pick itself when none of them is listed. Pure. */
int replica_prefer(const struct replica_candidate *c, size_t n, int pick, const struct strvec *prefer);

/* Target side: the replication snapshots of the volumes volids of guest
 * vmid on node (each checked: a replicatable storage available here, a
 * disk image owned by vmid). Volumes that do not exist are left out of
 * *out. Returns 0, -EINVAL for a refused request, -errno (message in
 * err). */
int replica_list(const struct cluster_config *cc, const char *node, uint32_t vmid, const struct strvec *volids,
		 struct snap_map *out, struct strbuf *err);

/* Target side: roll the volumes back to snap. Refused (-EINVAL, nothing
 * done) when the guest's config lives on node (its volumes are live
 * there), when snap is not a replication snapshot, or when a volume lacks
 * it: the check covers every volume before the first rollback. Logs
 * "rollback '<volid>' to '<snap>'" per volume. */
int replica_rollback(const struct cluster_config *cc, const char *node, uint32_t vmid, const char *snap,
		     const struct strvec *volids, const struct elog *log, struct strbuf *err);

#endif
