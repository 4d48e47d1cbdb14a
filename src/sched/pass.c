#include "sched/pass.h"

#include <limits.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "base/xalloc.h"
#include "sched/schedule.h"
#include "state/state.h"

static bool caller_runs(const struct sched_pass *p, const char *id)
{
	for (size_t i = 0; i < p->nruns; i++)
		if (!strcmp(p->runs[i].id, id))
			return true;
	return false;
}

/* The pick's input: the view's jobs, then the caller's runs of jobs that
 * are no longer in it. Returns the count. */
static size_t fill(struct sched_job *sj, const struct job_view *v, const struct sched_pass *p)
{
	size_t n = 0;

	for (size_t i = 0; i < v->js.nr; i++) {
		const struct job_entry *e = &v->js.v[i];

		sj[n++] = (struct sched_job){
			.id = e->job->id,
			.guest = e->job->guest,
			.target = e->job->target,
			.next_sync = e->next_sync,
			.last_iteration = e->state.last_iteration,
			.not_before = p->not_before ? p->not_before(e, p->data) : 0,
			.running = caller_runs(p, e->job->id) || process_running(e->state.pid, e->state.ptime),
		};
	}
	for (size_t i = 0; i < p->nruns; i++) {
		if (job_status_find(&v->js, p->runs[i].id))
			continue;
		sj[n++] = (struct sched_job){ .id = p->runs[i].id, .guest = p->runs[i].guest,
					      .target = p->runs[i].target, .running = true };
	}
	return n;
}

size_t sched_pass_run(const struct job_view *v, const struct sched_pass *p, int64_t now, int64_t *wake)
{
	struct sched_job *sj = xcalloc(v->js.nr + p->nruns + 1, sizeof(*sj));
	size_t *picks = xcalloc(v->js.nr + p->nruns + 1, sizeof(*picks));
	struct sched_limits lim = { p->max_workers ? p->max_workers : UINT_MAX };
	size_t n = fill(sj, v, p), npicks, nrunning = 0, started = 0;

	for (size_t i = 0; i < n; i++)
		nrunning += sj[i].running;
	npicks = p->start ? sched_pick(sj, n, &lim, now, picks) : 0;
	for (size_t k = 0; k < npicks; k++) {
		/* picks index the view's jobs: the caller's extra runs are running */
		const struct job_entry *e = &v->js.v[picks[k]];
		double cap = sched_rate_share(p->bwlimit, e->job->rate_mbps, nrunning + npicks);
		int r = p->start(e, cap, p->data);

		if (r < 0)
			continue;
		sj[picks[k]].running = true;
		started++;
		if (r > 0)
			break;
	}
	if (wake)
		*wake = sched_next_wake(sj, n, now);
	free(sj);
	free(picks);
	return started;
}
