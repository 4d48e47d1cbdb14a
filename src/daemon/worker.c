#include "daemon/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time-util.h"
#include "base/xalloc.h"
#include "config/cluster.h"
#include "engine/jobstatus.h"
#include "engine/replicate.h"
#include "state/state.h"

int worker_run(const struct context *ctx, const char *id, double rate_cap, unsigned transfer_slots,
	       int64_t event, struct strbuf *err)
{
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct job_status js = JOB_STATUS_INIT;
	struct run_opts o = RUN_OPTS_INIT;
	struct state *st = NULL;
	struct repl_job *job;
	int r;

	r = cluster_config_load(&cc, ctx->config_dir, 0, err);
	if (r < 0)
		goto out;
	{
		struct strbuf ferr = STRBUF_INIT;

		/* as every run: a read-only config must not stop it */
		job_status_fix_sources(&cc, ctx->config_dir, ctx->node, &ferr);
		strbuf_release(&ferr);
	}
	r = state_load(ctx->state_dir, &st, err);
	if (r < 0)
		goto out;
	job_status_collect(&js, &cc, st, ctx->node, 0);
	job = jobs_cfg_find(&cc.jobs, id);
	if (!job_status_find(&js, id) || !job) {
		strbuf_addf(err, "job '%s' is not scheduled on this node", id);
		r = -ENOENT;
		goto out;
	}
	if (rate_cap > 0 && (job->rate_mbps <= 0 || rate_cap < job->rate_mbps)) {
		/* the cap is at least 1 MB/s divided by max-workers, well
		 * inside what ratelimit_parse_mbps accepts */
		char buf[32];

		snprintf(buf, sizeof(buf), "%.6g", rate_cap);
		free(job->rate);
		job->rate = xstrdup(buf);
		job->rate_mbps = rate_cap;
	}
	o.iteration = o.start_time = volrep_now();
	o.lock_timeout_ms = 0;
	o.transfer_slots = transfer_slots;
	/* scheduled runs notify volrep.cfg's targets (notify/notify.h) */
	o.notify = 1;
	o.scheduled = event;
	r = run_replication(ctx, &cc, job, &o, err);
out:
	job_status_release(&js);
	state_free(st);
	cluster_config_release(&cc);
	return r;
}
