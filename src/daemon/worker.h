/* The worker side of the daemon: what `volrep run --id <jobid> --scheduled
 * [--rate-cap MBPS] [--transfer-slots N] [--event EPOCH]` does in the process the daemon
 * spawns. The run itself is the engine's run_replication(), the code path of every run;
 * this only adds what a scheduled run needs:
 *  - the job must still be one of this node's jobs (sched/jobstatus.h:
 *    enabled, or marked for removal, which runs even when disabled); the
 *    daemon decided on a config that may have changed since;
 *  - a busy guest lock (a migration, an admin's run) is not waited for:
 *    the run is skipped and nothing is recorded (docs/pvesr-compat.md §10);
 *  - the daemon's share of the node-wide bandwidth cap lowers the job's
 *    rate for this run (the log's "rate limit:" line shows it);
 *  - the daemon's max-per-target is the number of transfer slots;
 *  - failures and recoveries are notified (notify/notify.h) from here,
 *    never from the daemon's loop;
 *  - stopping: the daemon sends SIGTERM to the worker's process group;
 *    the engine's interruption handling (engine/interrupt.h, installed by
 *    `volrep run`) aborts the run: the transfer's processes are killed,
 *    this run's snapshots removed, "interrupted by SIGTERM" recorded in
 *    the state and the job log, and the worker exits 1. */
#ifndef VOLREP_DAEMON_WORKER_H
#define VOLREP_DAEMON_WORKER_H

#include "base/strbuf.h"
#include "config/context.h"

/* Run job id (canonical) as a scheduled run. rate_cap in MB/s, 0 = none;
 * transfer_slots: the daemon's max-per-target (engine/xferslot.h), 0 =
 * volrep.cfg's; event: the schedule event (epoch) the daemon started the
 * run for, recorded as "scheduled" in the state (0 = none: a job due at
 * once, never synced or scheduled now), the way pvesr stamps a run with
 * its scheduler tick: what the run served, whatever second it started.
 * Returns 0 on success, -EBUSY when the guest lock was busy (nothing done
 * or written), -ENOENT when the job is not (any more) to run on this node
 * (nothing done), or another negative errno when the run failed (the
 * error is also in the job log and the state). err gets the message. */
int worker_run(const struct context *ctx, const char *id, double rate_cap, unsigned transfer_slots,
	       int64_t event, struct strbuf *err);

#endif
