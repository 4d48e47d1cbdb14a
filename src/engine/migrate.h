/* Migrating a stopped guest to another node (docs/pvesr-compat.md §5.1,
 * §5.2; docs/migration.md), run on the guest's node:
 *
 *   1. refusals (migrate_check; nothing changed): no such guest, guest not
 *      here, target not a cluster node or this node, online migration,
 *      the job to the target marked for removal, unreplicatable volumes;
 *      a running guest (PVE's run files say so, engine/pveguest.h, or
 *      the type's hook, engine/hook.h);
 *   2. the guest lock (the one replication runs take) for the whole move;
 *      on the pmxcfs store also PVE's migration and config locks, and a
 *      `lock:` property in the config refuses (engine/pvelock.h);
 *   3. a final replication run to the target through the engine's
 *      run_replication(): with the job to the target only the delta since
 *      its last sync; without one (the target holds no replica) a
 *      temporary job copies every volume in full the same way, and its
 *      snapshots are removed on both sides afterwards;
 *   4. the guest's node-local job state goes to the target (`set-state`,
 *      "local/<target>" renamed to "local/<this node>");
 *   5. the config moves to the target and the jobs are rewritten
 *      (handover.h), under the config dir lock;
 *   6. this node forgets the guest's state. The volumes stay here: they are
 *      the replica of the reversed job (and, after a full copy, a common
 *      base should a job back to this node be created).
 * A failure in 3 or 4 leaves the guest where it was. */
#ifndef VOLREP_ENGINE_MIGRATE_H
#define VOLREP_ENGINE_MIGRATE_H

#include <stdint.h>
#include <stdio.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/cluster.h"
#include "config/context.h"

/* how long a migration waits for the guest lock (pvesr: 10 s) */
#define MIGRATE_LOCK_TIMEOUT_MS 10000L

struct migrate_opts {
	uint32_t vmid;
	const char *target;
	int online;   /* 1 is refused: only offline migration exists */
	FILE *echo;   /* the final sync's job log lines, may be NULL */
};

struct migrate_result {
	uint64_t bytes_sent;   /* streamed to the target by the final sync */
	int full;              /* 1: the target held no replica, full copy */
	int synced;            /* 0: the guest has no replicated volumes */
	char sync_job[32];     /* the job of the final sync (not for a full copy) */
	struct strvec volumes; /* the volumes synced */
	struct strvec jobs;    /* "<id> <source> <target>" after the move */
};
#define MIGRATE_RESULT_INIT { .bytes_sent = 0, .full = 0, .synced = 0, .sync_job = "", .volumes = STRVEC_INIT, .jobs = STRVEC_INIT }
void migrate_result_release(struct migrate_result *res);

/* The refusals of step 1 that need no I/O beyond cc: returns 0 and *gp,
 * or -EINVAL with the message in err. */
int migrate_check(const struct cluster_config *cc, const char *node, uint32_t vmid, const char *target,
		  int online, const struct guest **gp, struct strbuf *err);

/* Migrate. Returns 0; -EINVAL refused (nothing changed); -EBUSY the guest
 * is running or its lock is busy (nothing changed); another -errno when
 * a step failed (the message says what state things are in). */
int migrate_guest(const struct context *ctx, const struct migrate_opts *o, struct migrate_result *res,
		  struct strbuf *err);

#endif
