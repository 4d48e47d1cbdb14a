/* pvesr's prepare() (docs/pvesr-compat.md §4.4): remove stale replication
 * snapshots of a job, and report which snapshots every volume has left.
 * Used on the source before a run, on the target by prepare-local-job and
 * finalize-local-job, and by job removal (last_sync 1).
 *
 * Replication snapshots are named __replicate_<jobid>_<epoch>__. A job's
 * snapshots are those with the exact prefix "__replicate_<jobid>_", so job
 * 100-1 never touches a snapshot of job 100-10 (pvesr's
 * is_replication_snapshot matches without the '_'; we do better).
 *
 * Deletion only when it is provably safe: the snapshot of last_sync is
 * present on the volume (else the run that made it may not have finished
 * and the others may be the only common base); last_sync 0 (new job,
 * stolen guest) never deletes; last_sync 1 deletes all of the job's. */
#ifndef VOLREP_ENGINE_PREPARE_H
#define VOLREP_ENGINE_PREPARE_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "engine/elog.h"
#include "engine/storemap.h"

#define REPL_SNAP_PREFIX "__replicate_"

/* "__replicate_<jobid>_<t>__" into sb (appended). */
void repl_snapname(struct strbuf *sb, const char *jobid, int64_t t);
/* 1 if snap belongs to job jobid (exact prefix "__replicate_<jobid>_"). */
int repl_snap_of_job(const char *snap, const char *jobid);
/* 1 if snap is a replication snapshot of any job. */
int repl_snap_any(const char *snap);

/* The snapshots of a set of volumes: {volid -> [{name, id, creation}]}. */
struct vol_snaps {
	char *volid;
	struct backend_snapshot_list snaps;
};

struct snap_map {
	struct vol_snaps *v; /* in insertion order; volids unique */
	size_t nr, alloc;
};
#define SNAP_MAP_INIT { .v = NULL, .nr = 0, .alloc = 0 }

void snap_map_release(struct snap_map *m);
/* The entry of volid, or NULL. */
struct vol_snaps *snap_map_find(const struct snap_map *m, const char *volid);
/* The entry of volid, created empty when missing. */
struct vol_snaps *snap_map_get(struct snap_map *m, const char *volid);
/* Remove volid's entry (if any). */
void snap_map_remove(struct snap_map *m, const char *volid);

/* As pvesr's JSON: {"<volid>":{"<snap>":{"id":"<id>","timestamp":<n>}}},
 * one line, keys sorted. Caller frees. */
char *snap_map_to_json(const struct snap_map *m);
/* Parse that JSON (from the target: untrusted). Every volid, snapshot
 * name and id is validated; ids may be strings or integers. Returns 0,
 * or -EINVAL with a message in err (m then holds what was parsed so far:
 * release it). */
int snap_map_from_json(const char *text, size_t len, struct snap_map *m, struct strbuf *err);

/* The decision for one volume (pure): the job's stale snapshots (prefix
 * match, not the last_sync snapshot, not parent) are appended to stale.
 * Returns 1 when they may be deleted, 0 when not. *warn is set when the
 * last_sync snapshot is missing although last_sync > 1 and stale
 * snapshots exist (pvesr logs "expected snapshot ... not present").
 * keep (retention on the target, the job's "keep"): the keep newest of
 * the job's snapshots older than last_sync are not stale either; newer
 * ones (a failed run's) still are. */
int prepare_select(const struct backend_snapshot_list *snaps, const char *jobid, int64_t last_sync,
		   const char *parent, unsigned keep, struct strvec *stale, int *warn);

/* prepare() over volids (all must exist): for each volume list the
 * snapshots, delete the stale ones where allowed (logging pvesr's
 * "delete stale replication snapshot '<snap>' on <volid>"; a failed
 * delete is logged and not fatal) and put the remaining snapshots into
 * *out (every volume gets an entry, but one that was only the partial
 * state of an interrupted full receive, discarded by backend_clean_stale()). Volumes where a stale snapshot was
 * deleted are appended to cleaned (may be NULL). Returns 0, or -errno
 * with the message in err when a storage or snapshot list failed. */
int prepare_volumes(struct storemap *sm, const struct strvec *volids, const char *jobid,
		    int64_t last_sync, const char *parent, unsigned keep, const struct elog *log,
		    struct snap_map *out, struct strvec *cleaned, struct strbuf *err);

/* The target's finalize after a run's imports: prepare_volumes() with
 * last_sync the new snapshot, without the stale-import cleanup (this
 * run's imports just finished, each with its own reset; one that died
 * failed the run, and the next prepare cleans up after it): one zfs call
 * less per volume. */
int finalize_volumes(struct storemap *sm, const struct strvec *volids, const char *jobid,
		     int64_t last_sync, unsigned keep, const struct elog *log, struct strbuf *err);

#endif
