/* One replication run of a job (pvesr run_replication / replicate,
 * docs/pvesr-compat.md §4.1, §4.2, §6): the same code for `volrep run --id`,
 * `volrep run` and the daemon.
 *
 *   struct run_opts o = RUN_OPTS_INIT;
 *   o.iteration = o.start_time = volrep_now();
 *   r = run_replication(ctx, &cc, job, &o, &err);
 *
 * What a run does, in order (all messages go to the job log
 * <log_dir>/<jobid>, truncated at the start):
 *   guest lock <state_dir>/lock/guest-<vmid>.lck (flock, o->lock_timeout_ms),
 *   record_job_start, "start replication job", the guest/volumes lines,
 *   local prepare, remote prepare (prepare-local-job over the transport),
 *   base choice, one snapshot call per storage, a transfer slot of the
 *   target (engine/xferslot.h), one export -> rate limit -> `volrep import`
 *   stream per volume, the slot released, record_sync_end, removal of the
 *   previous snapshot, finalize-local-job, "end replication job",
 *   record_job_end. A job with remove_job set is removed instead (§6).
 * On any failure this run's snapshots are removed again (the base stays),
 * the error is recorded and fail_count grows.
 *
 * With o->notify, the end of the run also decides (under the state lock)
 * whether a notification is due (notify/notify.h) and, after the guest
 * lock is released, sends it; its outcome goes to the job log only.
 * Before the log is opened, the logs of earlier runs are rotated
 * (volrep.cfg log-keep, engine/joblog.h).
 *
 * Each transferred volume is logged as
 *   transferred 10.5 MB in 3.2s (3.3 MB/s)
 * and the run's total goes to the state entry's "bytes" (state/state.h).
 *
 * Signals: once the command called interrupt_install()
 * (engine/interrupt.h), SIGTERM/SIGINT/SIGHUP abort the run at the next
 * step, or at once during a transfer (the export and the target's import
 * are killed, process group and all): this run's snapshots are removed,
 * the run fails with "interrupted by SIGTERM" (state, log) and -EINTR is
 * returned. Once last_sync is recorded the run completes instead. */
#ifndef VOLREP_ENGINE_REPLICATE_H
#define VOLREP_ENGINE_REPLICATE_H

#include <stdint.h>
#include <stdio.h>

#include "base/strbuf.h"
#include "config/cluster.h"
#include "config/context.h"
#include "exec/relay.h"

/* How long `volrep run --id` waits for a busy guest (pvesr: 10 s for
 * migration, which is what an admin's run competes with). */
#define RUN_LOCK_TIMEOUT_MS 10000L

/* Exit status of a scheduled run (`volrep run --id X --scheduled`, the
 * daemon's worker) that found the guest lock busy (a migration, a manual
 * run) and did nothing (run_replication returned -EBUSY): the daemon
 * lets the job wait for its next due time instead of retrying it in a
 * loop (pvesr retried every 2 s). The value is sysexits' EX_TEMPFAIL.
 * Any other non-zero status is a failed run (recorded in the state). */
#define RUN_EXIT_BUSY 75

struct run_opts {
	int64_t iteration;     /* stamp of the scheduler run (last_iteration) */
	int64_t start_time;    /* epoch of this run: snapshot name, last_try, last_sync */
	long lock_timeout_ms;  /* guest lock wait; 0 = try once (scheduled runs) */
	FILE *echo;            /* also print the log lines here (--verbose), may be NULL */
	int progress;          /* print a progress line on stderr while streaming */
	/* the caller already holds the guest lock (guest_lock_path; migration
	 * holds it across the whole move): run without taking it again */
	int guest_locked;
	/* the final sync of a migration: datacenter.cfg's migration network,
	 * not the replication one (engine/pvenet.h) */
	int migration_traffic;
	/* when non-NULL, the bytes streamed to the target are added here */
	uint64_t *bytes_sent;
	/* transfer slots of the target (engine/xferslot.h) the streams wait
	 * for; 0 = volrep.cfg's max-per-target (the daemon passes its own) */
	unsigned transfer_slots;
	/* send failure/recovery notifications to volrep.cfg's targets
	 * (notify/notify.h): the daemon's workers and `volrep run --mail` */
	int notify;
	/* the schedule event this run serves (the daemon's runs), recorded
	 * as "scheduled" in the state at the start; 0 = none */
	int64_t scheduled;
};
#define RUN_OPTS_INIT { .iteration = 0, .start_time = 0, .lock_timeout_ms = 0, .echo = NULL, .progress = 0, \
			.guest_locked = 0, .bytes_sent = NULL, .transfer_slots = 0, .notify = 0, .scheduled = 0 }

/* Run (or remove) job, whose guest must live on ctx->node (the caller
 * checks, see jobstatus.h). Returns
 *   0        success (for a removal: the job is gone from replication.cfg),
 *   -EBUSY   the guest lock was busy: nothing was done or written (err
 *            holds "can't lock file '<path>' - got timeout"),
 *   other <0 the run failed: err holds the error, which is also in the log
 *            and the state. */
int run_replication(const struct context *ctx, const struct cluster_config *cc, const struct repl_job *job,
		    const struct run_opts *o, struct strbuf *err);

/* "0 B", "512 B", "10.5 MB", "1.20 GB" (decimal units, as the rates)
 * appended to out. */
void run_format_size(uint64_t bytes, struct strbuf *out);

/* The progress line of a transfer (`volrep run --verbose` on a terminal)
 * appended to out, without "\r" or newline:
 *   "<volid>: 12.0 MB of ~40.1 MB (30%), 8.00 MB/s, ETA 3s"  total known
 *   "<volid>: 12.0 MB, 1.5s, 8.00 MB/s"                       no total
 *   "<volid>: 40.2 MB in 5.0s, 8.04 MB/s"                     done
 * The total is an estimate: past it the percentage holds at 99% and the
 * ETA is "?". */
void run_format_progress(const char *volid, const struct relay_progress *p, struct strbuf *out);

/* Path of the guest lock of vmid into sb. */
void guest_lock_path(struct strbuf *sb, const char *state_dir, uint32_t vmid);

#endif
