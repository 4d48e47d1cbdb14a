/* Running jobs: pvesr's run_jobs (every due job of this node, one after
 * another, in pick order) and run_single_job (`volrep run --id`),
 * docs/pvesr-compat.md §3.2, §3.4, §3.6. */
#ifndef VOLREP_ENGINE_RUNNER_H
#define VOLREP_ENGINE_RUNNER_H

#include <stdint.h>
#include <stdio.h>

#include "base/strbuf.h"
#include "config/context.h"

/* Called for every job that failed in run_jobs (jobid, one-line or
 * multi-line error). */
typedef void run_error_fn(const char *jobid, const char *msg, void *data);

/* pvesr's run_jobs through the scheduler's pass (sched/pass.h), one job
 * per pass: load the job view (the first time with purge_old_states:
 * keep only states of configured jobs whose guest is here), pick the
 * first due job in pvesr's order (each job at most once per call:
 * iteration = now) and run it in-process, until none is due. A job whose
 * guest lock is busy, or that runs in another process, is skipped until
 * the next call. now: 0 = the clock (volrep_now()). echo: --verbose.
 * notify: send notifications (`volrep run --mail`, engine/replicate.h).
 * Returns the number of jobs that failed (reported through fn), or -errno
 * with err set when something global failed (config or state
 * unreadable), or -EINTR after a run that a signal interrupted
 * (engine/interrupt.h; no further job is started). */
int run_jobs(const struct context *ctx, int64_t now, FILE *echo, int progress, int notify, run_error_fn *fn,
	     void *data, struct strbuf *err);

/* Run job id now, ignoring schedule and backoff. Errors in pvesr's order:
 * "no such job '<id>'" (-ENOENT), "job '<id>' is disabled", "no such guest
 * '<vmid>'", "guest '<vmid>' is not on local node", "unable to sync to
 * local node" (-EINVAL for these four: nothing ran), else the run's
 * error (-EIO, -EBUSY for a guest lock timeout). id must be canonical. */
int run_single_job(const struct context *ctx, const char *id, FILE *echo, int progress, struct strbuf *err);

#endif
