/* Scheduling policy: when a job is due next (next_sync) and in which order
 * due jobs are picked (docs/pvesr-compat.md §3.3, §3.4).
 *
 * Why in config/: next_sync needs the calendar (config/calendar.h) and a
 * few values of the job state. state/ may include only base/, and config/
 * may not include state/, so these functions take the state values as
 * plain numbers; the caller (engine, daemon, `volrep status`) copies them
 * from its struct job_state. That keeps both lower layers independent and
 * these functions pure: no I/O, no clock (the only outside input is TZ,
 * through the calendar). */
#ifndef VOLREP_CONFIG_SCHEDULE_H
#define VOLREP_CONFIG_SCHEDULE_H

#include <stdbool.h>
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

/* What orders jobs for a run. Fill one per job; id is borrowed. */
struct schedule_key {
	int64_t last_iteration; /* from the job state */
	int64_t next_sync;      /* from schedule_next_sync() */
	uint32_t guest;         /* vmid */
	const char *id;         /* job id "<vmid>-<jobnum>" */
};

/* pvesr's pick order: last_iteration ascending (least recently started
 * first), then next_sync ascending, guest ascending (numeric), job id
 * ascending as a string ("100-10" before "100-2"). Returns <0, 0, >0 like
 * strcmp. For qsort over an array of keys use schedule_key_qsort_cmp. */
int schedule_key_cmp(const struct schedule_key *a, const struct schedule_key *b);
int schedule_key_qsort_cmp(const void *a, const void *b);

/* Whether the job is due in the run with stamp iteration at time now:
 * next_sync != 0, now >= next_sync, and it has not started in this run
 * yet (last_iteration < iteration; each job runs at most once per run). */
bool schedule_is_due(const struct schedule_key *k, int64_t iteration, int64_t now);

#endif
