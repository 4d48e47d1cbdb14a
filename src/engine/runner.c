#include "engine/runner.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/strvec.h"
#include "base/time-util.h"
#include "base/xalloc.h"
#include "config/cluster.h"
#include "config/schedule.h"
#include "engine/interrupt.h"
#include "engine/jobstatus.h"
#include "engine/replicate.h"
#include "state/state.h"

static int load(struct cluster_config *cc, const struct context *ctx, struct strbuf *err)
{
	int r = cluster_config_load(cc, ctx->config_dir, 0, err);

	if (r == 0) {
		struct strbuf ferr = STRBUF_INIT;

		/* a read-only config must not stop replication: the fix is
		 * retried at the next run */
		job_status_fix_sources(cc, ctx->config_dir, ctx->node, &ferr);
		strbuf_release(&ferr);
	}
	return r;
}

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

/* The next due job not yet tried in this call; NULL when none. */
static const struct job_entry *next_job(const struct job_status *js, int64_t iteration, int64_t now,
					const struct strvec *skipped)
{
	struct schedule_key *keys = xcalloc(js->nr ? js->nr : 1, sizeof(*keys));
	const struct job_entry *pick = NULL;

	for (size_t i = 0; i < js->nr; i++)
		keys[i] = (struct schedule_key){ .last_iteration = js->v[i].state.last_iteration,
						 .next_sync = js->v[i].next_sync,
						 .guest = js->v[i].job->guest,
						 .id = js->v[i].job->id };
	if (js->nr > 1)
		qsort(keys, js->nr, sizeof(*keys), schedule_key_qsort_cmp);
	for (size_t i = 0; i < js->nr && !pick; i++) {
		int seen = 0;

		for (size_t k = 0; k < skipped->nr; k++)
			if (!strcmp(skipped->v[k], keys[i].id))
				seen = 1;
		if (!seen && schedule_is_due(&keys[i], iteration, now))
			pick = job_status_find(js, keys[i].id);
	}
	free(keys);
	return pick;
}

int run_jobs(const struct context *ctx, int64_t now, FILE *echo, int progress, int notify, run_error_fn *fn,
	     void *data, struct strbuf *err)
{
	const int64_t iteration = now ? now : volrep_now();
	struct strvec skipped = STRVEC_INIT;
	int failed = 0, r;

	{
		struct cluster_config cc = CLUSTER_CONFIG_INIT;
		struct purge_data pd = { .cc = &cc, .node = ctx->node };

		r = load(&cc, ctx, err);
		if (r == 0)
			r = state_update(ctx->state_dir, purge_fn, &pd, err);
		cluster_config_release(&cc);
		if (r < 0)
			goto out;
	}
	for (;;) {
		struct cluster_config cc = CLUSTER_CONFIG_INIT;
		struct job_status js = JOB_STATUS_INIT;
		struct state *st = NULL;
		struct run_opts o = RUN_OPTS_INIT;
		struct strbuf jerr = STRBUF_INIT;
		const struct job_entry *e;

		r = load(&cc, ctx, err);
		if (r == 0)
			r = state_load(ctx->state_dir, &st, err);
		if (r < 0) {
			cluster_config_release(&cc);
			break;
		}
		job_status_collect(&js, &cc, st, ctx->node, 0);
		st = state_free(st);
		o.iteration = iteration;
		o.start_time = now ? now : volrep_now();
		o.echo = echo;
		o.progress = progress;
		o.notify = notify;
		o.lock_timeout_ms = 0;
		e = next_job(&js, iteration, o.start_time, &skipped);
		if (e) {
			strvec_push(&skipped, e->job->id);
			r = run_replication(ctx, &cc, e->job, &o, &jerr);
			/* a busy guest waits for the next tick, silently */
			if (r < 0 && r != -EBUSY) {
				failed++;
				if (fn)
					fn(e->job->id, jerr.buf, data);
			}
			r = 0;
		}
		job_status_release(&js);
		cluster_config_release(&cc);
		strbuf_release(&jerr);
		if (!e)
			break;
		if (interrupt_signal()) {
			interrupt_describe(interrupt_signal(), err);
			strbuf_addstr(err, " - the remaining jobs wait for the next run");
			r = -EINTR;
			break;
		}
	}
out:
	strvec_clear(&skipped);
	return r < 0 ? r : failed;
}

int run_single_job(const struct context *ctx, const char *id, FILE *echo, int progress, struct strbuf *err)
{
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct run_opts o = RUN_OPTS_INIT;
	const struct repl_job *job;
	const struct guest *g;
	int r;

	r = load(&cc, ctx, err);
	if (r < 0)
		goto out;
	job = jobs_cfg_find(&cc.jobs, id);
	r = -EINVAL;
	if (!job) {
		strbuf_addf(err, "no such job '%s'", id);
		r = -ENOENT;
		goto out;
	}
	g = guests_find(&cc.guests, job->guest);
	if (job->disable) {
		strbuf_addf(err, "job '%s' is disabled", id);
	} else if (!g) {
		strbuf_addf(err, "no such guest '%" PRIu32 "'", job->guest);
	} else if (strcmp(g->node, ctx->node)) {
		strbuf_addf(err, "guest '%" PRIu32 "' is not on local node", job->guest);
	} else if (!strcmp(job->target, ctx->node)) {
		strbuf_addstr(err, "unable to sync to local node");
	} else {
		o.iteration = o.start_time = volrep_now();
		o.echo = echo;
		o.progress = progress;
		o.lock_timeout_ms = RUN_LOCK_TIMEOUT_MS;
		r = run_replication(ctx, &cc, job, &o, err);
		if (r < 0 && r != -EBUSY)
			r = -EIO;
	}
out:
	cluster_config_release(&cc);
	return r;
}
