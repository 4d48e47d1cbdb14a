/* One scheduling pass: from a job view (sched/jobstatus.h), loaded once,
 * pick the due jobs in pvesr's order under the limits
 * (sched/schedule.h) and start each through the caller. Both drivers of
 * replication use it:
 *  - `volrep run` (engine/runner.c) runs the picked job in-process and
 *    ends the pass after it; its next pass reloads the view, as pvesr's
 *    run_jobs does between jobs;
 *  - the daemon (src/daemon/) starts a worker process per pick, up to
 *    max-workers, and sleeps until the wake-up time the pass returns.
 * Both load the view with JOB_VIEW_PURGE, so both purge stale state. */
#ifndef VOLREP_SCHED_PASS_H
#define VOLREP_SCHED_PASS_H

#include <stddef.h>
#include <stdint.h>

#include "sched/jobstatus.h"

/* A run the caller has going (the daemon's workers). Its job may be gone
 * from the view: it still holds a worker and its guest. */
struct sched_run {
	const char *id;
	uint32_t guest;
	const char *target;
};

struct sched_pass {
	unsigned max_workers; /* 0: no limit */
	double bwlimit;       /* node-wide MB/s split between the runs, 0: none */
	const struct sched_run *runs;
	size_t nruns;
	/* the caller's deferral of e: not before this epoch second (0: none,
	 * INT64_MAX: not in this pass); NULL: no deferrals */
	int64_t (*not_before)(const struct job_entry *e, void *data);
	/* start a run of e with rate_cap MB/s (sched_rate_share; 0: none).
	 * Returns 0 when started, > 0 when started and the pass ends here,
	 * < 0 when it could not start (the job is not counted as running) */
	int (*start)(const struct job_entry *e, double rate_cap, void *data);
	void *data;
};

/* Run one pass over v at now. Returns the number of runs started; *wake
 * (may be NULL) is the epoch second at which the next job not running
 * becomes due, 0 when none (sched_next_wake). */
size_t sched_pass_run(const struct job_view *v, const struct sched_pass *p, int64_t now, int64_t *wake);

#endif
