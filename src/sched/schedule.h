/* The scheduling policy, as pure functions: when one job is due next
 * (next_sync, the retry backoff), the order in which due jobs are picked
 * (docs/pvesr-compat.md §3.3, §3.4), which due jobs start now under the
 * worker limits, when to wake up next, and each worker's share of the
 * node-wide bandwidth cap. No I/O, no clock (the only outside input is
 * TZ, through the calendar): the job view (sched/jobstatus.h) feeds the
 * values in and one pass (sched/pass.h) carries the result out, so
 * everything here is unit-tested with plain arrays.
 *
 * Where volrep differs from pvesr (docs/pvesr-compat.md §10): pvesr runs the due jobs
 * of a node one after another; the daemon runs up to max_workers at once,
 * never two of one guest. Among due jobs the pick order is still pvesr's,
 * but a job held back by the guest limit does not hold back the jobs
 * after it. max-per-target is not a scheduling limit: it bounds the
 * concurrent transfers to one node, which the runs enforce themselves
 * (engine/xferslot.h), so runs to one target still overlap in everything
 * but their streams. */
#ifndef VOLREP_SCHED_SCHEDULE_H
#define VOLREP_SCHED_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The schedule of a job without one (pvesr's default). */
#define SCHEDULE_DEFAULT "*/15"

/* Retry delay in seconds after fail_count consecutive failures (>= 1):
 * 5, 10, 15 minutes, then every 30 minutes. */
int64_t schedule_backoff(int64_t fail_count);

/* next_sync of a job (epoch seconds; 0 = never, 1 = at once):
 *  - remove_job and no failure yet: 1, even when disabled or the target is
 *    offline (removal in `local` mode does not need it);
 *  - fail_count > 0: last_try + schedule_backoff(fail_count), counted from
 *    the start of the failed attempt; 0 when the target is offline (the
 *    job waits until it is back). A failing removal backs off the same way
 *    regardless of the target (docs/pvesr-compat.md §10; pvesr retried it every tick);
 *  - otherwise the first event of schedule (NULL = SCHEDULE_DEFAULT)
 *    strictly after last_try, or 0 when the schedule has none left.
 * Returns 0 and *ret, or -EINVAL when schedule does not parse (*ret
 * untouched; calendar_parse gives the reason). */
int schedule_next_sync(const char *schedule, bool remove_job, bool target_online, int64_t fail_count,
		       int64_t last_try, int64_t *ret);

/* One job as the pick sees it. Strings are borrowed. */
struct sched_job {
	const char *id;         /* "<vmid>-<jobnum>" */
	uint32_t guest;
	const char *target;     /* target node */
	int64_t next_sync;      /* schedule_next_sync(): 0 never, else due when now >= next_sync */
	int64_t last_iteration; /* from the state, for the pick order */
	int64_t not_before;     /* the caller's own deferral (busy guest lock, a
				 * run that recorded nothing, a job already tried
				 * in this `volrep run`), 0 = none */
	bool running;           /* a run of it is in progress: the caller's, or a
				 * process found alive through the state's pid */
};

/* pvesr's pick order: last_iteration ascending (least recently started
 * first), then next_sync ascending, guest ascending (numeric), job id
 * ascending as a string ("100-10" before "100-2"). Returns <0, 0, >0 like
 * strcmp. For qsort over an array of jobs use sched_job_qsort_cmp. */
int sched_job_cmp(const struct sched_job *a, const struct sched_job *b);
int sched_job_qsort_cmp(const void *a, const void *b);

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
 * Writes the indexes of the chosen jobs, in start order, to picks (room
 * for n) and returns their count. */
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
