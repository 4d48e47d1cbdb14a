#include "sched/joblist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "config/cluster.h"
#include "config/schedule.h"

static int jobinfo_cmp(const void *a, const void *b)
{
	const struct jobinfo *x = a, *y = b;

	return strcmp(x->id, y->id);
}

/* pvesr job_status(get_disabled = 0), steps 1, 2, 5, 6. */
static bool runs_here(const struct cluster_config *cc, const struct repl_job *job, const char *node)
{
	const struct guest *g = guests_find(&cc->guests, job->guest);

	if (!g || strcmp(g->node, node))
		return false;
	if (job->remove_job != REMOVE_NONE)
		return true;
	return !job->disable && strcmp(job->target, node) != 0;
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
	struct state *st = NULL;
	int r;

	r = cluster_config_load(&cc, config_dir, 0, err);
	for (size_t i = 0; i < cc.warnings.nr; i++)
		strvec_push(warnings, cc.warnings.v[i]);
	if (r < 0)
		goto out;
	r = state_load(state_dir, &st, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < cc.jobs.nr; i++) {
		const struct repl_job *job = &cc.jobs.v[i];
		struct jobinfo *j;

		if (!runs_here(&cc, job, node))
			continue;
		if (jl->nr == jl->alloc) {
			jl->alloc = jl->alloc ? 2 * jl->alloc : 16;
			jl->v = xrealloc(jl->v, jl->alloc * sizeof(*jl->v));
		}
		j = &jl->v[jl->nr];
		memset(j, 0, sizeof(*j));
		j->state = (struct job_state)JOB_STATE_INIT;
		if (state_get_job(st, job->guest, job->target, &j->state) < 0)
			continue;
		jl->nr++;
		j->id = xstrdup(job->id);
		j->guest = job->guest;
		j->target = xstrdup(job->target);
		j->schedule = job->schedule ? xstrdup(job->schedule) : NULL;
		j->remove_job = job->remove_job;
		j->rate_mbps = job->rate_mbps;
		j->target_online = nodes_cfg_find(&cc.nodes, job->target) != NULL;
		j->next_sync = jobinfo_next_after(j, j->state.last_try);
	}
	qsort(jl->v, jl->nr, sizeof(*jl->v), jobinfo_cmp);
	r = 0;
out:
	if (r < 0)
		joblist_release(jl);
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
