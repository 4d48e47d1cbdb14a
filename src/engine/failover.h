/* Failover: start a guest from a replica when its node is gone
 * (docs/pvesr-compat.md §5.3, the docs' "Migrating a guest in case of
 * Error"; docs/migration.md). Run on any surviving node:
 *
 *   1. the guest's node must not answer on ssh (else refused: both nodes
 *      could run the guest, split brain), unless force;
 *   2. every node that a job of the guest targets (or only `to`) is asked
 *      for its replication snapshots (`replica-snapshots`); the freshest
 *      complete replica wins (replica.h), or `to`;
 *   3. the plan is printed: the replicas, the choice, the data-loss window
 *      (now minus the time of the chosen snapshot); with dry_run that is
 *      all;
 *   4. on the chosen node: every volume is rolled back to that snapshot
 *      (`replica-rollback`) and the guest's job state there is cleared
 *      (last_sync 0: no run deletes a snapshot it cannot prove stale);
 *   5. the config moves to the chosen node, the jobs are rewritten
 *      (handover.h: the job to the chosen node now targets the old node,
 *      which is resynced from the new owner when it returns);
 *   6. the start hook runs on the chosen node (`guest-start`).
 * Where the chosen node is this node, steps 4 and 6 run here directly. */
#ifndef VOLREP_ENGINE_FAILOVER_H
#define VOLREP_ENGINE_FAILOVER_H

#include <stdint.h>
#include <stdio.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/context.h"

/* What a failover did, for HA's record (filled as far as it got). */
struct failover_result {
	char *from, *to;     /* the old owner; the chosen node (NULL: none chosen) */
	char *snap;          /* the restore point */
	int64_t snap_time;   /* its time (the start of the run that made it) */
	int64_t decided;     /* when the replica was chosen */
	int moved;           /* the config moved to 'to' */
	int started;         /* and the start hook succeeded there */
};
void failover_result_release(struct failover_result *res);

struct failover_opts {
	uint32_t vmid;
	const char *to;  /* the node to fail over to, NULL: the freshest */
	const char *snapshot; /* restore point (a replication snapshot on every
			       * volume), NULL: the newest complete one */
	int dry_run;
	int force;       /* even when the guest's node still answers */
	const char *confirm_down; /* etcd: with force, the node named here may still hold its liveness key */
	FILE *out;       /* the plan and the steps */
	/* HA recovery (ha/recover.h): preferred nodes when replicas are
	 * equally fresh, in order (NULL: this node); result: filled when not
	 * NULL (release with failover_result_release) */
	const struct strvec *prefer;
	struct failover_result *result;
	int no_start;    /* move it, do not start it (HA state "stopped") */
	int online_only; /* etcd: only nodes holding their liveness key are candidates */
};

/* Returns 0; -EINVAL bad arguments (nothing changed); -EEXIST the guest's
 * node still answers (refused); -ENOENT no complete replica; another
 * -errno when a step failed (the message says which). */
int failover_guest(const struct context *ctx, const struct failover_opts *o, struct strbuf *err);

/* In etcd mode (docs/cluster.md) failover_guest also: refuses without a
 * quorate cluster (-ENOTCONN "cluster not quorate: ..."); refuses while the
 * owner's liveness key exists (-EEXIST) unless force and confirm_down
 * names that node; holds the cluster lock "guest-<vmid>" throughout, and
 * when the guest changed owner while it waited for the lock, changes
 * nothing: -EALREADY "guest <vmid> was already moved to '<node>'". */

#endif
