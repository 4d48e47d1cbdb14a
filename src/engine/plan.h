/* Which snapshot a volume is sent incrementally from (pvesr
 * find_common_replication_snapshot, docs/pvesr-compat.md §4.4). Pure
 * functions over the snapshot lists of both sides, after prepare(). */
#ifndef VOLREP_ENGINE_PLAN_H
#define VOLREP_ENGINE_PLAN_H

#include "backend/backend.h"
#include "base/strbuf.h"
#include "base/strvec.h"

/* The base of one volume:
 *  1. last_sync_snap, when both sides have it with the same identity;
 *  2. else parent (the guest's current snapshot, may be NULL), if common;
 *  3. else the common replication snapshot (of any job) with the newest
 *     local creation time;
 * where "common" means present on both sides under the same name and, when
 * both sides report an identity (zfs guid, btrfs uuid), the same one: a
 * snapshot of the same name but other content is no base.
 * remote NULL means the volume does not exist on the target.
 * Returns 1 with *base (a name in local) for an incremental sync, 0 for a
 * full sync (volume absent on the target), -ENOENT when the volume exists
 * there without a common snapshot (it must not be overwritten). */
int plan_base(const struct backend_snapshot_list *local, const struct backend_snapshot_list *remote,
	      const char *last_sync_snap, const char *parent, const char **base);

/* 1 if a and b are the same snapshot (name and, where both are known,
 * identity). */
int plan_same_snapshot(const struct backend_snapshot *a, const struct backend_snapshot *b);

/* 1 when a plain incremental from base (BACKEND_EXPORT_PLAIN) brings the
 * target what a stream package would, as far as snapshots go: base is
 * the newest of the source's snapshots (local: listed before this run's
 * snapshot; none was taken in the same second or later, which a package
 * would carry along with -I), and every snapshot the target has is one
 * the source has too (a package's `recv -F` would prune the others).
 * Whether the properties changed is the caller's part. 0 otherwise,
 * also without a base. */
int plan_plain(const struct backend_snapshot_list *local, const struct backend_snapshot_list *remote,
	       const char *base);

/* pvesr's error for volumes without a common base, into err:
 * "No common base snapshot on volume(s) <v1>,<v2>\nPlease remove the
 * problematic volume(s) from the replication target or delete and
 * re-create the whole job <jobid>" */
void plan_no_base_error(struct strbuf *err, const struct strvec *volids, const char *jobid);

#endif
