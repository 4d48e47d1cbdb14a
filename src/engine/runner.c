#include "engine/runner.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/strvec.h"
#include "base/time-util.h"
#include "base/xalloc.h"
#include "config/cluster.h"
#include "engine/interrupt.h"
#include "engine/replicate.h"
#include "sched/jobstatus.h"
#include "sched/pass.h"
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

/* `volrep run`: one job per pass, in-process. */
struct run_all {
	const struct context *ctx;
	struct cluster_config *cc;
	int64_t iteration, now;
	FILE *echo;
	int progress, notify;
	run_error_fn *fn;
	void *data;
	struct strvec tried;
	int failed;
};

/* Each job at most once per call: tried already, or started in this
 * iteration by another run. */
static int64_t run_not_before(const struct job_entry *e, void *data)
{
	struct run_all *ra = data;

	if (e->state.last_iteration >= ra->iteration)
		return INT64_MAX;
	for (size_t k = 0; k < ra->tried.nr; k++)
		if (!strcmp(ra->tried.v[k], e->job->id))
			return INT64_MAX;
	return 0;
}

static int run_start(const struct job_entry *e, double rate_cap, void *data)
{
	struct run_all *ra = data;
	struct run_opts o = RUN_OPTS_INIT;
	struct strbuf jerr = STRBUF_INIT;
	int r;

	(void)rate_cap; /* volrep.cfg's bwlimit is the daemon's */
	strvec_push(&ra->tried, e->job->id);
	o.iteration = ra->iteration;
	o.start_time = ra->now ? ra->now : volrep_now();
	o.echo = ra->echo;
	o.progress = ra->progress;
	o.notify = ra->notify;
	o.lock_timeout_ms = 0;
	r = run_replication(ra->ctx, ra->cc, e->job, &o, &jerr);
	/* a busy guest waits for the next tick, silently */
	if (r < 0 && r != -EBUSY) {
		ra->failed++;
		if (ra->fn)
			ra->fn(e->job->id, jerr.buf, ra->data);
	}
	strbuf_release(&jerr);
	/* the next job is picked from a fresh view */
	return 1;
}

int run_jobs(const struct context *ctx, int64_t now, FILE *echo, int progress, int notify, run_error_fn *fn,
	     void *data, struct strbuf *err)
{
	struct run_all ra = { .ctx = ctx, .iteration = now ? now : volrep_now(), .now = now, .echo = echo,
			      .progress = progress, .notify = notify, .fn = fn, .data = data,
			      .tried = STRVEC_INIT };
	struct sched_pass p = { .not_before = run_not_before, .start = run_start, .data = &ra };
	/* pvesr purges stale state once per run_jobs, before the first job */
	unsigned flags = JOB_VIEW_PURGE;
	int r = 0;

	for (;;) {
		struct job_view v = JOB_VIEW_INIT;
		size_t started;

		r = job_view_load(&v, ctx, flags, err);
		flags = 0;
		if (r < 0) {
			job_view_release(&v);
			break;
		}
		ra.cc = &v.cc;
		started = sched_pass_run(&v, &p, now ? now : volrep_now(), NULL);
		job_view_release(&v);
		if (!started)
			break;
		if (interrupt_signal()) {
			interrupt_describe(interrupt_signal(), err);
			strbuf_addstr(err, " - the remaining jobs wait for the next run");
			r = -EINTR;
			break;
		}
	}
	strvec_clear(&ra.tried);
	return r < 0 ? r : ra.failed;
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
