/* Job operations: the business rules of creating, changing, removing,
 * listing, reading, scheduling and inspecting replication jobs, shared by
 * the command line (src/cli) and the HTTP API (src/api). Callers parse
 * their input (argv, form fields) into plain strings; these functions
 * check it completely before anything is written, do the work and return
 * 0 or a negative errno with a one-line message in err->msg.
 *
 * Error classes (exit_code_of(r, ERRK_OPS) of base/exit-code.h, ops_http_status):
 *   -EINVAL  bad input, nothing changed        exit 2, HTTP 400
 *   -ENOENT  no such job / guest / target      exit 2, HTTP 404 (400 when
 *                                               err->param names the field)
 *   -EEXIST, -ESTALE  conflict, digest mismatch exit 2, HTTP 409
 *   anything else: the operation failed        exit 1, HTTP 500
 * err->param names the input field at fault when there is one (the API
 * reports it as "errors": {"<param>": "<msg>"}). Warnings (unreadable
 * config lines and the like) are collected in err->warnings in the order
 * they arise, to be shown before the error. */
#ifndef VOLREP_OPS_JOBS_H
#define VOLREP_OPS_JOBS_H

#include <jansson.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/cluster.h"
#include "config/context.h"
#include "config/jobs.h"
#include "config/volrepcfg.h"
#include "sched/jobstatus.h"
#include "state/state.h"

struct ops_err {
	struct strbuf msg;
	const char *param; /* static string or NULL */
	struct strvec warnings;
};
#define OPS_ERR_INIT { .msg = STRBUF_INIT, .param = NULL, .warnings = STRVEC_INIT }
void ops_err_release(struct ops_err *e);

int ops_http_status(int r, const struct ops_err *e);

/* The options a job can have set: key/value pairs, value NULL = not
 * given. Keys: schedule rate comment disable source remove_job. */
struct ops_kv {
	const char *key;
	const char *value;
};

/* create-local-job / POST /cluster/replication. opts ends at key NULL. */
int ops_job_create(const struct context *ctx, const char *id, const char *target, const struct ops_kv *opts,
		   struct ops_err *e);

/* update / PUT /cluster/replication/{id}. target: a value given for the
 * fixed parameter (refused); digest, delete (a list separated by , ; or
 * white space) may be NULL. */
int ops_job_update(const struct context *ctx, const char *id, const char *target, const char *digest,
		   const char *delete_list, const struct ops_kv *opts, struct ops_err *e);

/* delete / DELETE /cluster/replication/{id}: mark for removal (keep:
 * local only) or, with force, drop the entry. */
int ops_job_delete(const struct context *ctx, const char *id, int keep, int force, struct ops_err *e);

/* All jobs, in pvesr's order (*sorted points into jc; free(*sorted),
 * jobs_cfg_release(jc)). */
int ops_job_list(const struct context *ctx, struct jobs_cfg *jc, struct repl_job ***sorted, struct ops_err *e);

/* One job as pvesr's read returns it (with digest). New reference. */
int ops_job_read(const struct context *ctx, const char *id, json_t **out, struct ops_err *e);

/* schedule-now: run the job at the next scheduler tick. canon (may be
 * NULL) gets the canonical id. */
int ops_job_schedule_now(const struct context *ctx, const char *id, struct strbuf *canon, struct ops_err *e);

/* The jobs of this node with their state (status). */
struct ops_status {
	struct cluster_config cc;
	struct state *st;
	struct job_status js;
	const struct job_entry **sorted; /* by guest, then id */
	struct volrep_cfg vcfg;
	int64_t now;
};
/* Check a --guest / ?guest filter: "invalid guest '<s>' - value does not
 * look like a valid VM ID". */
int ops_parse_guest(const char *s, uint64_t *guest, struct ops_err *e);
int ops_status_load(struct ops_status *os, const struct context *ctx, struct ops_err *e);
void ops_status_release(struct ops_status *os);
/* The entry as pvesr's status JSON (plus bytes, lag, stale). */
json_t *ops_status_entry_json(const struct ops_status *os, const struct job_entry *e);
/* Is the entry's last sync older than its lag limit? */
int ops_status_stale(const struct ops_status *os, const struct job_entry *e);
/* Printable copy of an error text (of the state file, which a migration's
 * peer may have handed over): sanitized as base/sanitize.h says, so that
 * status never prints a terminal escape. */
void ops_printable(struct strbuf *sb, const char *s);

/* The log of run k (0 = last) of job id (canonical) on this node.
 * -ENOENT (no message) when there is no such file; other errors -EIO with
 * "unable to read '<path>' - <reason>". */
int ops_job_log_read(const struct context *ctx, const char *id, unsigned k, struct strbuf *text, struct ops_err *e);
/* Why job id has no log: -ENOENT "no such replication job '<id>' (see
 * 'volrep list')" or -ENODATA "no log for job '<id>' (it has not run on
 * this node)". */
int ops_job_no_log(const struct context *ctx, const char *id, struct ops_err *e);

/* pvesr's JSON view of a job: id guest jobnum type target and the options
 * that are set. New reference. */
json_t *job_to_json(const struct repl_job *job);
/* The jobs ordered as pvesr prints them: by guest (numeric), then id.
 * Caller frees the array (not the jobs). */
struct repl_job **jobs_sorted(const struct jobs_cfg *jc);

#endif
