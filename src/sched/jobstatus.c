#include "sched/jobstatus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "sched/schedule.h"

static int cmp_job_ptr(const void *a, const void *b)
{
	const struct repl_job *x = *(const struct repl_job *const *)a, *y = *(const struct repl_job *const *)b;

	return strcmp(x->id, y->id);
}

void job_status_collect(struct job_status *js, const struct cluster_config *cc, const struct state *st,
			const char *node, unsigned flags)
{
	const struct repl_job **order = xcalloc(cc->jobs.nr ? cc->jobs.nr : 1, sizeof(*order));

	for (size_t i = 0; i < cc->jobs.nr; i++)
		order[i] = &cc->jobs.v[i];
	if (cc->jobs.nr > 1)
		qsort(order, cc->jobs.nr, sizeof(*order), cmp_job_ptr);
	for (size_t i = 0; i < cc->jobs.nr; i++) {
		const struct repl_job *job = order[i];
		const struct guest *g = guests_find(&cc->guests, job->guest);
		struct job_entry *e;
		int r;

		if (!g || strcmp(g->node, node))
			continue;
		if (!job->remove_job && !strcmp(job->target, node))
			continue;
		if (!job->remove_job && job->disable && !(flags & JOB_STATUS_DISABLED))
			continue;
		ALLOC_GROW(js->v, js->nr + 1, js->alloc);
		e = &js->v[js->nr++];
		*e = (struct job_entry){ .job = job, .guest = g, .state = JOB_STATE_INIT };
		r = st ? state_get_job(st, job->guest, job->target, &e->state) : 0;
		e->has_state = r > 0;
		e->target_online = nodes_cfg_find(&cc->nodes, job->target) != NULL;
		e->next_sync = job_entry_next_after(e, e->state.last_try);
	}
	free(order);
}

int64_t job_entry_next_after(const struct job_entry *e, int64_t last_try)
{
	int64_t next = 0;

	if (schedule_next_sync(e->job->schedule, e->job->remove_job != REMOVE_NONE, e->target_online,
			       e->state.fail_count, last_try, &next) < 0)
		return 0;
	return next;
}

void job_status_release(struct job_status *js)
{
	for (size_t i = 0; i < js->nr; i++)
		job_state_release(&js->v[i].state);
	free(js->v);
	js->v = NULL;
	js->nr = js->alloc = 0;
}

const struct job_entry *job_status_find(const struct job_status *js, const char *id)
{
	for (size_t i = 0; i < js->nr; i++)
		if (!strcmp(js->v[i].job->id, id))
			return &js->v[i];
	return NULL;
}

int job_status_switch_stolen(struct jobs_cfg *jc, uint32_t guest, const char *old_source, const char *node,
			     struct strbuf *err)
{
	char *old = xstrdup(old_source);
	int n = 0, r = 0;

	for (size_t i = 0; i < jc->nr && r == 0; i++) {
		struct repl_job *job = &jc->v[i];

		if (job->guest != guest)
			continue;
		if (!strcmp(job->target, node))
			r = job_set_option(job, "target", old, err);
		if (r == 0 && (!job->source || strcmp(job->source, node)))
			r = job_set_option(job, "source", node, err);
		n++;
	}
	free(old);
	return r < 0 ? -EINVAL : n;
}

struct fix_data {
	const struct guest_list *guests;
	const char *node;
};

static int fix_fn(struct jobs_cfg *jc, void *data, struct strbuf *err)
{
	struct fix_data *fd = data;
	int changed = 0, r;

	for (size_t i = 0; i < jc->nr; i++) {
		struct repl_job *job = &jc->v[i];
		const struct guest *g = guests_find(fd->guests, job->guest);

		if (!g || strcmp(g->node, fd->node))
			continue;
		if (!job->source) {
			r = job_set_option(job, "source", fd->node, err);
			if (r < 0)
				return r;
			changed++;
		} else if (strcmp(job->source, fd->node)) {
			r = job_status_switch_stolen(jc, job->guest, job->source, fd->node, err);
			if (r < 0)
				return r;
			changed += r;
		}
	}
	return changed ? 1 : 0;
}

static int count_unfixed(const struct cluster_config *cc, const char *node)
{
	int n = 0;

	for (size_t i = 0; i < cc->jobs.nr; i++) {
		const struct repl_job *job = &cc->jobs.v[i];
		const struct guest *g = guests_find(&cc->guests, job->guest);

		if (g && !strcmp(g->node, node) && (!job->source || strcmp(job->source, node)))
			n++;
	}
	return n;
}

int job_status_fix_sources(struct cluster_config *cc, const char *config_dir, const char *node,
			   struct strbuf *err)
{
	struct fix_data fd = { .guests = &cc->guests, .node = node };
	struct jobs_cfg fresh = { 0 };
	int n = count_unfixed(cc, node), r;

	if (!n)
		return 0;
	r = jobs_cfg_modify(config_dir, fix_fn, &fd, NULL, err);
	if (r < 0)
		return r;
	r = jobs_cfg_load(&fresh, config_dir, NULL);
	if (r < 0) {
		strbuf_addf(err, "unable to read '%s/replication.cfg' - %s", config_dir, strerror(-r));
		jobs_cfg_release(&fresh);
		return r;
	}
	jobs_cfg_release(&cc->jobs);
	cc->jobs = fresh;
	return n;
}

/* --- the view of one pass --- */

struct purge_data {
	const struct cluster_config *cc;
	const char *node;
};

static bool keep_state(uint32_t vmid, const char *target, void *data)
{
	struct purge_data *pd = data;
	const struct guest *g = guests_find(&pd->cc->guests, vmid);

	return g && !strcmp(g->node, pd->node) && jobs_cfg_find_target(&pd->cc->jobs, vmid, target);
}

static int purge_fn(struct state *st, void *data, struct strbuf *err)
{
	(void)err;
	return state_purge(st, keep_state, data);
}

/* Purge stale entries; *st is the state as read, reloaded after a purge.
 * The check runs on the copy in memory first: the daemon passes at every
 * change of the state directory, and a write when nothing is stale would
 * wake it again. */
static int purge_stale(struct state **st, const struct cluster_config *cc, const struct context *ctx,
		       struct strbuf *err)
{
	struct purge_data pd = { .cc = cc, .node = ctx->node };
	int r;

	if (state_purge(*st, keep_state, &pd) == 0)
		return 0;
	r = state_update(ctx->state_dir, purge_fn, &pd, err);
	*st = state_free(*st);
	if (r >= 0)
		r = state_load(ctx->state_dir, st, err);
	return r < 0 ? r : 0;
}

int job_view_load(struct job_view *v, const struct context *ctx, unsigned flags, struct strbuf *err)
{
	struct state *st = NULL;
	int r;

	r = cluster_config_load(&v->cc, ctx->config_dir, 0, err);
	for (size_t i = 0; i < v->cc.warnings.nr; i++)
		strvec_push(&v->warnings, v->cc.warnings.v[i]);
	if (r < 0)
		return r;
	{
		struct strbuf ferr = STRBUF_INIT;

		if (job_status_fix_sources(&v->cc, ctx->config_dir, ctx->node, &ferr) < 0)
			strvec_pushf(&v->warnings, "%s", ferr.buf);
		strbuf_release(&ferr);
	}
	r = state_load(ctx->state_dir, &st, err);
	if (r == 0 && (flags & JOB_VIEW_PURGE))
		r = purge_stale(&st, &v->cc, ctx, err);
	if (r == 0)
		job_status_collect(&v->js, &v->cc, st, ctx->node, flags & JOB_STATUS_DISABLED);
	state_free(st);
	return r;
}

void job_view_release(struct job_view *v)
{
	job_status_release(&v->js);
	cluster_config_release(&v->cc);
	strvec_clear(&v->warnings);
}
