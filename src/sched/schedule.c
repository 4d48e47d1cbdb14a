#include "sched/schedule.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "config/calendar.h"

int64_t schedule_backoff(int64_t fail_count)
{
	if (fail_count < 1)
		fail_count = 1;
	return 60 * (fail_count <= 3 ? 5 * fail_count : 30);
}

static int64_t add_clamped(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

int schedule_next_sync(const char *schedule, bool remove_job, bool target_online, int64_t fail_count,
		       int64_t last_try, int64_t *ret)
{
	struct calendar *cal = NULL;
	int64_t next;

	if (last_try < 0)
		last_try = 0;
	if (fail_count > 0 && (remove_job || target_online)) {
		*ret = add_clamped(last_try, schedule_backoff(fail_count));
		return 0;
	}
	if (remove_job) {
		*ret = 1;
		return 0;
	}
	if (fail_count > 0) {
		*ret = 0;
		return 0;
	}
	if (calendar_parse(schedule ? schedule : SCHEDULE_DEFAULT, &cal, NULL, 0) < 0)
		return -EINVAL;
	*ret = calendar_next(cal, last_try, &next) == 1 ? next : 0;
	calendar_free(cal);
	return 0;
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

int sched_job_cmp(const struct sched_job *a, const struct sched_job *b)
{
	int c;

	if ((c = cmp_i64(a->last_iteration, b->last_iteration)))
		return c;
	if ((c = cmp_i64(a->next_sync, b->next_sync)))
		return c;
	if ((c = cmp_i64(a->guest, b->guest)))
		return c;
	return strcmp(a->id ? a->id : "", b->id ? b->id : "");
}

int sched_job_qsort_cmp(const void *a, const void *b)
{
	return sched_job_cmp(a, b);
}

bool sched_job_due(const struct sched_job *j, int64_t now)
{
	return !j->running && j->next_sync != 0 && now >= j->next_sync && now >= j->not_before;
}

struct order {
	const struct sched_job *job;
	size_t index;
};

static int order_cmp(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	int c = sched_job_cmp(x->job, y->job);

	/* equal keys only for duplicate ids; keep the input order */
	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

size_t sched_pick(const struct sched_job *jobs, size_t n, const struct sched_limits *lim, int64_t now,
		  size_t *picks)
{
	struct order *due = xcalloc(n ? n : 1, sizeof(*due));
	/* the guest of every run, running or picked */
	uint32_t *guests = xcalloc(n ? n : 1, sizeof(*guests));
	size_t ndue = 0, nbusy = 0, npicked = 0;

	for (size_t i = 0; i < n; i++) {
		if (jobs[i].running) {
			guests[nbusy++] = jobs[i].guest;
		} else if (sched_job_due(&jobs[i], now)) {
			due[ndue].job = &jobs[i];
			due[ndue++].index = i;
		}
	}
	if (ndue > 1)
		qsort(due, ndue, sizeof(*due), order_cmp);
	for (size_t d = 0; d < ndue && nbusy < lim->max_workers; d++) {
		const struct sched_job *j = &jobs[due[d].index];
		bool guest_busy = false;

		for (size_t b = 0; b < nbusy; b++)
			if (guests[b] == j->guest)
				guest_busy = true;
		if (guest_busy)
			continue;
		guests[nbusy++] = j->guest;
		picks[npicked++] = due[d].index;
	}
	free(due);
	free(guests);
	return npicked;
}

int64_t sched_next_wake(const struct sched_job *jobs, size_t n, int64_t now)
{
	int64_t best = 0;

	for (size_t i = 0; i < n; i++) {
		const struct sched_job *j = &jobs[i];
		int64_t t;

		if (j->running || j->next_sync == 0)
			continue;
		t = j->next_sync > j->not_before ? j->next_sync : j->not_before;
		if (t <= now)
			continue;
		if (!best || t < best)
			best = t;
	}
	return best;
}

double sched_rate_share(double bwlimit, double job_rate, size_t nrunning)
{
	double share;

	if (bwlimit <= 0)
		return job_rate;
	share = bwlimit / (double)(nrunning ? nrunning : 1);
	if (job_rate > 0 && job_rate < share)
		return job_rate;
	return share;
}
