/* The scheduler's decisions, as pure functions: which due jobs start now
 * under the worker limits, when to wake up next, and each worker's share
 * of the node-wide bandwidth cap. No I/O, no clock: the daemon
 * (src/daemon/) feeds in the job list and the time and carries out the
 * result, so everything here is unit-tested with plain arrays.
 *
 * Where volrep differs from pvesr (docs/pvesr-compat.md §10): pvesr runs the due jobs
 * of a node one after another; here up to max_workers run at once, never
 * two of one guest. Among due jobs the pick order is still pvesr's
 * (config/schedule.h), but a job held back by the guest limit does not
 * hold back the jobs after it. max-per-target is not a scheduling limit:
 * it bounds the concurrent transfers to one node, which the runs enforce
 * themselves (engine/xferslot.h), so runs to one target still overlap in
 * everything but their streams. */
#ifndef VOLREP_SCHED_SCHED_H
#define VOLREP_SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One job as the scheduler sees it. Strings are borrowed. */
struct sched_job {
	const char *id;         /* "<vmid>-<jobnum>" */
	uint32_t guest;
	const char *target;     /* target node */
	int64_t next_sync;      /* config/schedule.h: 0 never, else due when now >= next_sync */
	int64_t last_iteration; /* from the state, for the pick order */
	int64_t not_before;     /* the daemon's own deferral (busy guest lock,
				 * a run that recorded nothing), 0 = none */
	bool running;           /* a run of it is in progress: our worker, or a
				 * process found alive through the state's pid */
};

struct sched_limits {
	unsigned max_workers; /* >= 1 */
};

/* Whether j should start at now, limits aside: not running, next_sync
 * set and reached, deferral (if any) over. */
bool sched_job_due(const struct sched_job *j, int64_t now);

/* Choose the jobs to start at now. Running entries of jobs[] (running =
 * true; include runs of jobs no longer configured) occupy workers and
 * their guest. Due jobs are taken in pvesr's order; one that would exceed
 * max_workers ends the choice, one whose guest is busy is passed over.
 * Writes the
 * indexes of the chosen jobs, in start order, to picks (room for n) and
 * returns their count. */
size_t sched_pick(const struct sched_job *jobs, size_t n, const struct sched_limits *lim, int64_t now,
		  size_t *picks);

/* The earliest time after now at which a job that is not running becomes
 * due (max of next_sync and not_before), or 0 when there is none. Jobs
 * already due but held back by a limit are not counted: a worker's end
 * wakes the daemon for those. */
int64_t sched_next_wake(const struct sched_job *jobs, size_t n, int64_t now);

/* The rate cap in MB/s for a worker starting now: the node-wide bwlimit
 * split evenly between the workers that will be running (nrunning, this
 * one included), but never above the job's own rate. bwlimit 0 means no
 * node-wide cap: returns job_rate (0 = unlimited). */
double sched_rate_share(double bwlimit, double job_rate, size_t nrunning);

#endif
