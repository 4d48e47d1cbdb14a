#include "daemon/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time-util.h"
#include "base/xalloc.h"
#include "sched/jobstatus.h"
#include "engine/replicate.h"

int worker_run(const struct context *ctx, const char *id, double rate_cap, unsigned transfer_slots,
	       int64_t event, struct strbuf *err)
{
	struct job_view v = JOB_VIEW_INIT;
	struct run_opts o = RUN_OPTS_INIT;
	struct repl_job *job;
	int r;

	/* as every run: fixes sources, a read-only config does not stop it */
	r = job_view_load(&v, ctx, 0, err);
	if (r < 0)
		goto out;
	job = jobs_cfg_find(&v.cc.jobs, id);
	if (!job_status_find(&v.js, id) || !job) {
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
	r = run_replication(ctx, &v.cc, job, &o, err);
out:
	job_view_release(&v);
	return r;
}
