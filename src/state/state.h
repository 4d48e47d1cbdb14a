/* Node-local job state: <state_dir>/replication-state.json.
 *
 * Layout as pvesr (docs/pvesr-compat.md §2), keyed by guest and unique target
 * id, not by job id:
 *
 *   {"<vmid>": {"local/<node>": {"last_sync": 0, "last_try": 0,
 *     "last_iteration": 0, "fail_count": 0, "error": "...",
 *     "duration": 3.52, "last_node": "pve1", "storeid_list": ["local-zfs"],
 *     "pid": 1234, "ptime": 5678, "bytes": 1048576}}}
 *
 * "notified" is volrep's own too: which failure notice was sent for the
 * current run of failures (STATE_NOTIFIED_*; absent = none), so that the
 * first good run after it sends one "recovered" notice (notify/notify.h).
 *
 * "bytes" is volrep's own (pvesr ignores it): what the last run streamed
 * to the target, written at the end of every run (a failed one too: the
 * bytes sent before it failed). The daemon shows it in its end-of-job
 * line. It is not carried over by a migration (state_extract_guest).
 *
 * The file is untrusted input: it is read with a 1 MiB cap (as pvesr),
 * must be a JSON object, every vmid key must be a canonical guest id, every
 * target key "local/<valid node name>", and the known fields must have the
 * right types (wrong ones are an error naming the file, never a crash).
 * Unknown fields are kept as they are and written back. Integer fields
 * may also be strings of decimal digits, because pvesr's Perl writes
 * "ptime" (a regex capture) as a string.
 *
 * Writers hold <state_dir>/replication-state.lck (flock) across load,
 * modify and save, and the save is an atomic replace, so concurrent workers
 * (each job runs in its own process) never lose each other's updates and
 * readers never see a half-written file. Readers that do not write need
 * no lock.
 *
 * Typical writer (the engine at job start):
 *
 *   struct state *st = NULL;
 *   r = state_open_locked(ctx->state_dir, STATE_LOCK_TIMEOUT_MS, &st, &err);
 *   if (r < 0) ...;                       // err holds the message
 *   r = state_record_job_start(st, vmid, target, ctx->node, getpid(), start, iter);
 *   if (!r) r = state_commit(st, &err);
 *   st = state_free(st);                 // releases the lock
 *
 * or, with a callback, state_update(). The caller also holds the guest lock
 * of that vmid around a run, as pvesr does; this module knows nothing of it.
 *
 * Conventions: functions return 0 (or a documented non-negative value) on
 * success and a negative errno on failure, and do not print. Where a
 * "struct strbuf *err" is taken it may be NULL; on failure a one-line
 * message (lower case, subject quoted) is appended to it. "target" is always
 * the target node name ("pve2"); the key "local/pve2" is built here.
 * vmid must be 100..999999999, target a valid node name, else -EINVAL. */
#ifndef VOLREP_STATE_STATE_H
#define VOLREP_STATE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/strbuf.h"
#include "base/strvec.h"

#define STATE_FILE_NAME "replication-state.json"
#define STATE_LOCK_NAME "replication-state.lck"
/* pvesr reads at most 1 MiB; a bigger file would be truncated there, so we
 * neither read nor write one. */
#define STATE_FILE_MAX (1024 * 1024)
/* Epoch values beyond this are not plausible (year 36812) and would let
 * "last_try + backoff" overflow further up. */
#define STATE_TIME_MAX ((int64_t)1 << 40)
/* pvesr's state lock timeout */
#define STATE_LOCK_TIMEOUT_MS 10000L
/* Longest error text kept; longer ones are cut, so that a runaway command
 * output cannot push the file over STATE_FILE_MAX. */
#define STATE_ERROR_MAX 4096

/* One job's state with the defaults of pvesr filled in. */
struct job_state {
	int64_t last_sync;      /* start of the last successful sync, 0 = never */
	int64_t last_try;       /* start of the last attempt, 0 = never */
	int64_t last_iteration; /* iteration stamp of the last start, default 0 */
	int64_t scheduled;      /* the schedule event the last run served (a
				 * daemon run), 0 = not a scheduled run */
	int64_t fail_count;     /* consecutive failures, default 0 */
	bool has_duration;      /* false: never finished (status shows '-') */
	double duration;        /* seconds of the last run */
	char *error;            /* last error text, NULL when none */
	char *last_node;        /* node that ran it last, NULL when never */
	struct strvec storeid_list; /* storage ids, empty when unset */
	pid_t pid;              /* worker pid while running, else 0 */
	uint64_t ptime;         /* its /proc/<pid>/stat starttime, else 0 */
	uint64_t bytes;         /* streamed by the last run, 0 when unset */
	int notified;           /* STATE_NOTIFIED_*, 0 when unset */
	char *props_digest;     /* state_set_props_digest, NULL when unset */
};
#define STATE_NOTIFIED_FAILURE 1 /* a failure notice went out */
#define STATE_NOTIFIED_REMOVAL 2 /* a failed-removal notice went out */
#define JOB_STATE_INIT { .storeid_list = STRVEC_INIT }

/* Free the strings of js and reset it to JOB_STATE_INIT. */
void job_state_release(struct job_state *js);

struct state;

/* Read <state_dir>/replication-state.json without locking (a consistent
 * snapshot thanks to the atomic replace). A missing directory or file, or
 * an empty file, is an empty state. Returns 0 and *ret (free with
 * state_free), or -EFBIG (over STATE_FILE_MAX), -EINVAL (malformed JSON,
 * wrong types, bad keys) or another -errno; *ret untouched on failure. A
 * state opened this way cannot be committed. */
int state_load(const char *state_dir, struct state **ret, struct strbuf *err);

/* Create state_dir if needed, take the state lock (waiting up to
 * timeout_ms; STATE_LOCK_TIMEOUT_MS normally) and load the file. The lock
 * is held until state_free(). Returns as state_load, plus -ETIMEDOUT with
 * "can't lock file '<lck>' - got timeout". The lock is a flock on its own
 * descriptor: do not open the state twice in one process, and do not fork
 * while holding it (the child would share the lock). */
int state_open_locked(const char *state_dir, long timeout_ms, struct state **ret, struct strbuf *err);

/* Write the state atomically (temp file, fsync, rename, fsync dir; mode
 * 0644; compact JSON with sorted keys). Needs a state from
 * state_open_locked (else -ENOLCK); keeps the lock, so it may be called
 * more than once. Returns 0, -EFBIG when the JSON would exceed
 * STATE_FILE_MAX, or -errno; the file is untouched on failure. */
int state_commit(struct state *st, struct strbuf *err);

/* Release the lock (without saving) and free. NULL-tolerant; returns NULL. */
struct state *state_free(struct state *st);

/* The read-modify-write helper: state_open_locked (STATE_LOCK_TIMEOUT_MS),
 * fn(st, data), and state_commit when fn returned >= 0, all under the
 * lock. fn may add a message to err. Returns fn's negative value, a load/
 * lock/commit error, or fn's non-negative value on success. */
typedef int state_update_fn(struct state *st, void *data, struct strbuf *err);
int state_update(const char *state_dir, state_update_fn *fn, void *data, struct strbuf *err);

/* Parse a state file image (the code path of state_load, also used by the
 * fuzz target). name is used in messages. */
int state_parse(const void *buf, size_t len, const char *name, struct state **ret, struct strbuf *err);

/* The state as compact JSON with sorted keys (what state_commit writes,
 * without the trailing newline). Caller frees. */
char *state_format(const struct state *st);

/* Fill *ret with the state of job (vmid, target), defaults when there is
 * none. Returns 1 when an entry exists, 0 when defaults were used,
 * -EINVAL on bad arguments (ret untouched). Release with
 * job_state_release(). */
int state_get_job(const struct state *st, uint32_t vmid, const char *target, struct job_state *ret);

/* pvesr record_job_start: pid and ptime (read here from
 * /proc/<pid>/stat), last_node = node, last_try = start_time,
 * last_iteration = iteration, storeid_list defaults to []. Creates the
 * entry when missing. Returns 0, -EINVAL, or -ESRCH when pid's starttime
 * cannot be read. */
int state_record_job_start(struct state *st, uint32_t vmid, const char *target, const char *node,
			   pid_t pid, int64_t start_time, int64_t iteration);

/* "scheduled": the schedule event (epoch) the run now starting serves, as
 * the daemon passed it (volrep run --scheduled --event=EPOCH); 0 removes
 * it (a run started by hand serves no event). Not part of what migration
 * transfers, like pid. Returns 0 or -EINVAL. */
int state_set_scheduled(struct state *st, uint32_t vmid, const char *target, int64_t event);

/* Replace storeid_list by ids (sorted, duplicates dropped; each must be a
 * valid storage id, else -EINVAL and nothing changes). */
int state_set_storeids(struct state *st, uint32_t vmid, const char *target, const struct strvec *ids);

/* Set "bytes" (volrep's own field, see the top of this file). Returns 0
 * or -EINVAL. */
int state_set_bytes(struct state *st, uint32_t vmid, const char *target, uint64_t bytes);

/* "props_digest", volrep's own: the SHA-256 (hex) of the properties the
 * job's volumes had on this node when the last successful run sent them
 * in stream packages (engine/replicate.c): while they stay the same, an
 * incremental needs no package. NULL removes it. Not part of what
 * migration transfers, and refused from set-state (a peer does not
 * decide what this node's streams carry). Returns 0 or -EINVAL. */
int state_set_props_digest(struct state *st, uint32_t vmid, const char *target, const char *digest);
/* 64 lower-case hex digits */
int state_valid_digest(const char *s);

/* Set "notified" (0 removes it). Returns 0 or -EINVAL. */
int state_set_notified(struct state *st, uint32_t vmid, const char *target, int notified);

/* pvesr record_sync_end, right after the data transfer: last_sync =
 * start_time. Returns 0 or -EINVAL. */
int state_record_sync_end(struct state *st, uint32_t vmid, const char *target, int64_t start_time);

/* pvesr record_job_end: duration (rounded to microseconds), pid and ptime
 * removed; then
 *  - errmsg != NULL (failure): fail_count + 1, error = errmsg with one
 *    trailing newline removed, cut to STATE_ERROR_MAX bytes, invalid UTF-8
 *    bytes replaced by '?', "unknown error" if empty;
 *  - success of a removal run (remove_job): the entry is deleted, and the
 *    vmid key when it becomes empty;
 *  - plain success: last_sync = start_time, fail_count = 0, error removed.
 * Returns 0 or -EINVAL. */
int state_record_job_end(struct state *st, uint32_t vmid, const char *target, int64_t start_time,
			 double duration, const char *errmsg, bool remove_job);

/* schedule-now (pvesr §3.5): if an entry exists set last_try = 0. Returns
 * 1 when changed, 0 when there is no entry, -EINVAL. */
int state_schedule_now(struct state *st, uint32_t vmid, const char *target);

/* Remove every job state of the guest (VM create/restore). Returns 1 when
 * something was removed, 0 when there was nothing, -EINVAL. */
int state_delete_guest(struct state *st, uint32_t vmid);

/* Keep only the entries for which keep(vmid, target node, data) returns
 * true (pvesr purge_old_states: configured jobs of guests on this node);
 * vmid keys left empty go too. Returns the number of entries removed. */
typedef bool state_keep_fn(uint32_t vmid, const char *target, void *data);
int state_purge(struct state *st, state_keep_fn *keep, void *data);

/* Migration, source side (pvesr extract_vmid_tranfer_state): the entries
 * of vmid as a compact JSON object, with "local/<old_target>" renamed to
 * "local/<new_target>" (replacing an entry of that name). Only known fields
 * are copied and pid/ptime are dropped: they name a process of this node.
 * *ret is "{}" when the guest has no state. Caller frees *ret. Returns 0
 * or -EINVAL. */
int state_extract_guest(const struct state *st, uint32_t vmid, const char *old_target,
			const char *new_target, char **ret);

/* Migration, target side (`volrep set-state <vmid> <json>`): replace all
 * entries of vmid by json, which is validated strictly: one JSON object of
 * at most STATE_FILE_MAX bytes, keys "local/<valid node>", values objects
 * with known fields only, each of its exact type (integers as JSON
 * integers), no duplicate keys, no pid/ptime (a running job of another
 * node), error texts of at most STATE_ERROR_MAX bytes whose control
 * characters and non-ASCII bytes are stored as '?'. "{}" deletes the
 * guest's state. Returns 0,
 * or -EINVAL with a message in err (state unchanged). */
int state_set_guest_json(struct state *st, uint32_t vmid, const char *json, struct strbuf *err);

/* Starttime (clock ticks since boot, field 22 of /proc/<pid>/stat) of pid.
 * Returns 0, or -ESRCH when there is no such process or the line cannot
 * be parsed. */
int proc_starttime(pid_t pid, uint64_t *ret);

/* True iff pid > 0, /proc/<pid>/stat exists and its starttime equals ptime
 * (a recycled pid has another starttime): the job is SYNCING. */
bool process_running(pid_t pid, uint64_t ptime);

#endif
