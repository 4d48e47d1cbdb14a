#include "sched/sched.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "config/schedule.h"

bool sched_job_due(const struct sched_job *j, int64_t now)
{
	return !j->running && j->next_sync != 0 && now >= j->next_sync && now >= j->not_before;
}

struct order {
	struct schedule_key key;
	size_t index;
};

static int order_cmp(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	int c = schedule_key_cmp(&x->key, &y->key);

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
			due[ndue].key = (struct schedule_key){ .last_iteration = jobs[i].last_iteration,
							       .next_sync = jobs[i].next_sync,
							       .guest = jobs[i].guest,
							       .id = jobs[i].id };
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
