/* replication.cfg: the replication jobs (pvesr-compatible).
 *
 *     local: 100-0
 *     \tcomment DB%3A nightly copy
 *     \tdisable
 *     \ttarget pve2
 *     \trate 10
 *     \tschedule *\/5
 *     \tsource pve1
 *
 * Parsing follows PVE::ReplicationConfig: the only type is "local" (case
 * insensitive), ids are normalised ("0100-01" -> "100-1"), guest ids below
 * 100 and bad values are dropped with warnings, the comment is
 * percent-decoded, and of two jobs for one (guest, target) the one with the
 * later id (string order) is dropped. The writer produces pvesr's exact
 * layout. digest is the SHA-1 (hex) of the raw file, for update --digest. */
#ifndef VOLREP_CONFIG_JOBS_H
#define VOLREP_CONFIG_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "cluster/store.h"

#define JOB_DEFAULT_SCHEDULE "*/15"
#define JOB_COMMENT_MAX 4096 /* characters, before encoding */

enum remove_mode {
	REMOVE_NONE = 0,
	REMOVE_LOCAL, /* "local": drop local snapshots, keep the target's data */
	REMOVE_FULL,  /* "full": also remove the replicated volumes on the target */
};

#define JOB_KEEP_MAX 100

struct repl_job {
	char *id;          /* canonical "<guest>-<jobnum>" */
	uint32_t guest;
	uint32_t jobnum;
	char *target;      /* node name */
	char *schedule;    /* NULL: JOB_DEFAULT_SCHEDULE */
	char *rate;        /* NULL: unlimited; else the configured number text */
	double rate_mbps;  /* 0 when rate is NULL; megabytes (10^6) per second */
	char *comment;     /* decoded; NULL or "" when none */
	int disable;
	enum remove_mode remove_job;
	char *source;      /* NULL when unset */
	char *compress;    /* "none", "zstd", "lz4"; NULL: the node's default */
	unsigned keep;     /* older replication snapshots kept on the target (0: pvesr's one) */
	int raw;           /* 1: always raw sends (zfs send -w); 0: raw only for encrypted datasets */
	unsigned line;     /* header line in the file, 0 for new jobs */
};

struct jobs_cfg {
	struct repl_job *v; /* file order; new jobs are appended */
	size_t nr, alloc;
	char digest[41];    /* SHA-1 hex of the text parsed, "" if none */
};

/* Parse replication.cfg text; warnings (pvesr's wording) are appended to
 * *warnings (may be NULL). Also computes digest. Returns 0 or -EFBIG. */
int jobs_cfg_parse(struct jobs_cfg *jc, const char *text, size_t len, struct strvec *warnings);
/* Read and parse <config_dir>/replication.cfg; a missing file has no jobs
 * (and the digest of the empty text). Returns 0 or -errno. */
int jobs_cfg_load(struct jobs_cfg *jc, const char *config_dir, struct strvec *warnings);
/* The file text of jc in pvesr's layout, appended to out. Fails with
 * -EEXIST ("replication job for guest '100' to target 'local/pve2' already
 * exists") or -EINVAL (a value with a line feed), message in *err. */
int jobs_cfg_format(const struct jobs_cfg *jc, struct strbuf *out, struct strbuf *err);
void jobs_cfg_release(struct jobs_cfg *jc);

struct repl_job *jobs_cfg_find(const struct jobs_cfg *jc, const char *id);
/* The job of guest to target, or NULL. */
struct repl_job *jobs_cfg_find_target(const struct jobs_cfg *jc, uint32_t guest, const char *target);
/* Append a new job (all options unset). id must be canonical and valid. */
struct repl_job *jobs_cfg_add(struct jobs_cfg *jc, const char *id, const char *target);
/* Remove job id; returns 1 if it existed. */
int jobs_cfg_remove(struct jobs_cfg *jc, const char *id);
/* Jobs of guest, in id order (string compare, as pvesr sorts): fills
 * *out with pointers into jc (caller frees the array). Returns the count. */
size_t jobs_cfg_of_guest(const struct jobs_cfg *jc, uint32_t guest, struct repl_job ***out);

/* Parse a job id as the API accepts it (^[1-9][0-9]{2,8}-[0-9]{1,9}$) and
 * write its canonical form ("100-01" -> "100-1") to *canon. On failure
 * returns -EINVAL with "invalid replication job id '<id>'" (plus " (guest
 * IDs < 100 are reserved)" where that is the reason) in *err. */
int job_id_parse(const char *s, struct strbuf *canon, uint32_t *guest, uint32_t *jobnum,
		 struct strbuf *err);

/* job_id_parse for an id that names an existing job (update, delete,
 * run --id, log, ...): also refuses a non-canonical spelling ("100-00":
 * "invalid replication job id '100-00' - write it as '100-0'"). */
int job_id_parse_existing(const char *s, struct strbuf *canon, uint32_t *guest, struct strbuf *err);

/* Check value for option key (target, source, schedule, rate, comment,
 * disable, remove_job) and store it in job. Returns 0, or -EINVAL with a
 * one-line message naming the option and value in *err, e.g. "invalid
 * calendar event 'x' - <reason>", "invalid rate '0.5' - value must have a
 * minimum value of 1", and job unchanged. Unknown keys: -ENOENT. */
int job_set_option(struct repl_job *job, const char *key, const char *value, struct strbuf *err);
/* Unset an optional option. Returns 0; -ENOENT "no such option '<k>'";
 * -EINVAL "unable to delete required option 'target'". */
int job_delete_option(struct repl_job *job, const char *key, struct strbuf *err);

const char *remove_mode_name(enum remove_mode m); /* NULL, "local", "full" */

/* pvesr's comment encoding (PVE::Tools::encode_text): bytes outside
 * 0x20-0x24, 0x26-0x39, 0x3b-0x7e become %XX (upper-case hex), i.e.
 * control characters, '%', ':' and non-ASCII. */
void comment_encode(const char *in, struct strbuf *out);
/* Inverse (uri_unescape): %XX with two hex digits becomes the byte; any
 * other '%' is kept. */
void comment_decode(const char *in, struct strbuf *out);

/* Serialise writers of the cluster config dir: flock on
 * <config_dir>/.volrep-config.lck, waiting up to timeout_ms. Returns 0,
 * or -ETIMEDOUT / -errno with "can't lock file '<path>' - got timeout" (or
 * the errno text) in *err. */
int config_dir_lock(const char *config_dir, struct lock *lk, long timeout_ms, struct strbuf *err);
#define CONFIG_LOCK_TIMEOUT_MS 10000

/* Read-modify-write replication.cfg under the config dir lock. fn gets
 * the freshly parsed jobs and returns < 0 to abort (its error is returned,
 * its message in *err, nothing written), 0 for "no change" (nothing
 * written) or 1 to write jc back atomically. Parse warnings go to
 * *warnings (may be NULL). Returns fn's result or a negative errno. */
typedef int (*jobs_modify_fn)(struct jobs_cfg *jc, void *data, struct strbuf *err);
int jobs_cfg_modify(const char *config_dir, jobs_modify_fn fn, void *data, struct strvec *warnings,
		    struct strbuf *err);

/* The same, through the store (cluster/store.h) with more changes in the
 * same commit: fn may fill extra (reset before each call) with ops, e.g.
 * the move of a guest config, that are committed together with
 * replication.cfg, all or nothing (dir: the extra ops first, in order).
 * In etcd mode the write compares replication.cfg's revision; when another
 * node wrote first, the whole read-modify-write is repeated on the fresh
 * file (fn checks again, e.g. a --digest), up to a bound, then -ESTALE
 * "detected modified configuration - ...". */
struct jobs_extra {
	struct store_op ops[4];
	size_t n;
};
int jobs_cfg_modify_txn(const char *config_dir, jobs_modify_fn fn, void *data, struct jobs_extra *extra,
			struct strvec *warnings, struct strbuf *err);

#endif
