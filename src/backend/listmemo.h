/* Snapshot listings remembered for the length of one session.
 *
 * A run's target-side steps go through one session server (volrep
 * serve, transport/session.h), one command after the other: prepare lists
 * every volume's snapshots, an import checks right after that its base is
 * there and its new snapshot is not, and lists what the receive brought;
 * finalize lists once more before it removes the old snapshots. Each
 * listing is a zfs process, and on a run that changes only data they are
 * a good part of its cost. Here the last listing of a volume is kept, in
 * memory shared by the children that serve forks for its commands, so the
 * next command of the session can use it instead of asking again:
 *
 *   - an entry is written by prepare's listing (backend_clean_stale) and
 *     by an import's listing after its receive, and read only by the
 *     command after it (an import's check of its base, finalize);
 *   - every change of the volume's snapshots through the backend drops it
 *     first (snapshot, delete, rollback, destroy, an import until it
 *     writes its own listing, a resume abort);
 *   - it is used for LISTMEMO_MAX_AGE_MS at most: a change by anybody
 *     else (an admin on the target, in the middle of a run) is never
 *     trusted away for long, and a long transfer of other volumes lists
 *     again.
 *
 * Outside a session (no listmemo_share()) nothing is kept. */
#ifndef VOLREP_BACKEND_LISTMEMO_H
#define VOLREP_BACKEND_LISTMEMO_H

struct backend_snapshot_list;

#define LISTMEMO_MAX_AGE_MS 30000

/* From now on, listings are kept in memory shared with the children this
 * process forks. Returns 0 or -errno. */
int listmemo_share(void);

/* Who made a listing: it is handed on from one command to one other
 * only, prepare's to the import's check, the import's to finalize. A
 * command that ran outside the session (a separate process, which drops
 * nothing here) can then leave behind only an entry nobody after it
 * reads. */
enum listmemo_tag { LISTMEMO_PREPARE = 1, LISTMEMO_IMPORT = 2 };

/* The kept listing of key into out (appended); 1 when there was a fresh
 * one made by tag, else 0. */
int listmemo_get(const char *key, enum listmemo_tag tag, struct backend_snapshot_list *out);
/* Keep l as key's listing, made by tag (a list too large to keep is
 * dropped). */
void listmemo_put(const char *key, enum listmemo_tag tag, const struct backend_snapshot_list *l);
void listmemo_drop(const char *key);
/* A counter that every put advances: whether a put happened meanwhile. */
unsigned long listmemo_seq(const char *key);

#endif
