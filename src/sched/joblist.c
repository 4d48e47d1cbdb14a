#include "sched/joblist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "config/cluster.h"
#include "config/schedule.h"
#include "engine/jobstatus.h"

static int jobinfo_cmp(const void *a, const void *b)
{
	const struct jobinfo *x = a, *y = b;

	return strcmp(x->id, y->id);
}

int64_t jobinfo_next_after(const struct jobinfo *j, int64_t last_try)
{
	int64_t next = 0;

	if (schedule_next_sync(j->schedule, j->remove_job != REMOVE_NONE, j->target_online,
			       j->state.fail_count, last_try, &next) < 0)
		return 0;
	return next;
}

int joblist_load(struct joblist *jl, const char *config_dir, const char *state_dir, const char *node,
		 struct strvec *warnings, struct strbuf *err)
{
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct job_status js = JOB_STATUS_INIT;
	struct state *st = NULL;
	int r;

	r = cluster_config_load(&cc, config_dir, 0, err);
	for (size_t i = 0; i < cc.warnings.nr; i++)
		strvec_push(warnings, cc.warnings.v[i]);
	if (r < 0)
		goto out;
	{
		/* pvesr does this at every tick: set missing sources, switch
		 * the jobs of a stolen guest. A read-only config must not
		 * stop replication: a failure is only a warning. */
		struct strbuf ferr = STRBUF_INIT;

		if (job_status_fix_sources(&cc, config_dir, node, &ferr) < 0)
			strvec_pushf(warnings, "%s", ferr.buf);
		strbuf_release(&ferr);
	}
	r = state_load(state_dir, &st, err);
	if (r < 0)
		goto out;
	job_status_collect(&js, &cc, st, node, 0);
	jl->v = xcalloc(js.nr ? js.nr : 1, sizeof(*jl->v));
	jl->alloc = js.nr;
	for (size_t i = 0; i < js.nr; i++) {
		const struct job_entry *e = &js.v[i];
		struct jobinfo *j = &jl->v[jl->nr++];

		j->id = xstrdup(e->job->id);
		j->guest = e->job->guest;
		j->target = xstrdup(e->job->target);
		j->schedule = e->job->schedule ? xstrdup(e->job->schedule) : NULL;
		j->remove_job = e->job->remove_job;
		j->rate_mbps = e->job->rate_mbps;
		j->target_online = nodes_cfg_find(&cc.nodes, e->job->target) != NULL;
		/* the state is moved over: js is released below */
		j->state = e->state;
		js.v[i].state = (struct job_state)JOB_STATE_INIT;
		j->next_sync = e->next_sync;
	}
	if (jl->nr > 1)
		qsort(jl->v, jl->nr, sizeof(*jl->v), jobinfo_cmp);
	r = 0;
out:
	if (r < 0)
		joblist_release(jl);
	job_status_release(&js);
	state_free(st);
	cluster_config_release(&cc);
	return r;
}

const struct jobinfo *joblist_find(const struct joblist *jl, const char *id)
{
	for (size_t i = 0; i < jl->nr; i++)
		if (!strcmp(jl->v[i].id, id))
			return &jl->v[i];
	return NULL;
}

void joblist_release(struct joblist *jl)
{
	for (size_t i = 0; i < jl->nr; i++) {
		free(jl->v[i].id);
		free(jl->v[i].target);
		free(jl->v[i].schedule);
		job_state_release(&jl->v[i].state);
	}
	free(jl->v);
	jl->v = NULL;
	jl->nr = jl->alloc = 0;
}
