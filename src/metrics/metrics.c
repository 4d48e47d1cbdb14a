#include "metrics/metrics.h"

#include <stdio.h>
#include <string.h>

#include "base/time-util.h"
#include "config/calendar.h"
#include "config/cluster.h"
#include "config/guest.h"
#include "sched/schedule.h"
#include "config/volrepcfg.h"
#include "sched/jobstatus.h"
#include "state/state.h"

int64_t metrics_interval(const char *schedule, int64_t now)
{
	struct calendar *cal = NULL;
	char errbuf[256];
	int64_t a, b;

	if (calendar_parse(schedule ? schedule : SCHEDULE_DEFAULT, &cal, errbuf, sizeof(errbuf)) < 0)
		return 0;
	if (calendar_next(cal, now, &a) < 0 || calendar_next(cal, a, &b) < 0)
		b = a = 0;
	calendar_free(cal);
	return b > a ? b - a : 0;
}

int64_t metrics_lag_limit(long long max_lag, int64_t interval)
{
	return max_lag > 0 ? (int64_t)max_lag : 2 * interval;
}

bool metrics_is_stale(int64_t last_sync, int64_t limit, int64_t now)
{
	return last_sync > 0 && limit > 0 && now - last_sync > limit;
}

/* A label value with \, " and newline escaped. */
static void add_label(struct strbuf *out, const char *name, const char *value, bool first)
{
	strbuf_addf(out, "%s%s=\"", first ? "" : ",", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			strbuf_addch(out, '\\');
		if (*p == '\n')
			strbuf_addstr(out, "\\n");
		else
			strbuf_addch(out, *p);
	}
	strbuf_addch(out, '"');
}

static void header(struct strbuf *out, const char *name, const char *help)
{
	strbuf_addf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

enum job_metric {
	M_LAST_SYNC,
	M_LAST_TRY,
	M_NEXT_SYNC,
	M_DURATION,
	M_FAILED,
	M_BYTES,
	M_RUNNING,
	M_REMOVAL,
	M_INTERVAL,
	M_STALE,
	M_COUNT
};

static const struct {
	const char *name, *help;
} job_metrics[M_COUNT] = {
	[M_LAST_SYNC] = { "volrep_replication_last_sync_timestamp_seconds",
			  "Start of the last successful sync (epoch seconds); 0 = never synced." },
	[M_LAST_TRY] = { "volrep_replication_last_try_timestamp_seconds",
			 "Start of the last attempt (epoch seconds); 0 = never tried." },
	[M_NEXT_SYNC] = { "volrep_replication_next_sync_timestamp_seconds",
			  "When the job runs next (epoch seconds); 0 = not scheduled, 1 = at once." },
	[M_DURATION] = { "volrep_replication_duration_seconds", "Duration of the last run in seconds." },
	[M_FAILED] = { "volrep_replication_failed_syncs", "Consecutive failed runs (the fail count); 0 after a good run." },
	[M_BYTES] = { "volrep_replication_last_bytes", "Bytes the last run streamed to the target." },
	[M_RUNNING] = { "volrep_replication_running", "1 while a run of the job is in progress." },
	[M_REMOVAL] = { "volrep_replication_removal_pending",
			"1 when the job is marked for removal and its clean-up has not finished." },
	[M_INTERVAL] = { "volrep_replication_interval_seconds",
			 "Seconds between the next two events of the job's schedule; 0 = unknown." },
	[M_STALE] = { "volrep_replication_stale",
		      "1 when the last sync is older than max-lag (volrep.cfg) or twice the interval." },
};

static void add_value(struct strbuf *out, double v)
{
	if (v == (double)(int64_t)v)
		strbuf_addf(out, " %lld\n", (long long)v);
	else
		strbuf_addf(out, " %.17g\n", v);
}

/* Everything a scrape shows is read afresh each time: the cluster's
 * config, this node's state and volrep.cfg (for max-lag only). */
static int load_inputs(const struct context *ctx, struct cluster_config *cc, struct state **st,
		       struct volrep_cfg *cfg, struct job_status *js, struct strbuf *err)
{
	struct strbuf cerr = STRBUF_INIT;
	int r;

	r = cluster_config_load(cc, ctx->config_dir, 0, err);
	if (r == 0)
		r = state_load(ctx->state_dir, st, err);
	if (r < 0)
		return r;
	/* only max-lag matters here: defaults when unreadable */
	if (volrep_cfg_load(cfg, ctx->config_dir, &cerr) < 0)
		volrep_cfg_init(cfg);
	strbuf_release(&cerr);
	job_status_collect(js, cc, *st, ctx->node, JOB_STATUS_DISABLED);
	return 0;
}

/* The daemon's gauges; outside it (volrep metrics) the workers
 * are the runs this node's state says are alive. */
static void render_daemon(struct strbuf *out, const struct metrics_daemon *d, const struct job_status *js)
{
	size_t configured = 0, running = 0;

	for (size_t i = 0; i < js->nr; i++) {
		const struct job_entry *e = &js->v[i];

		configured += !e->job->disable || e->job->remove_job != REMOVE_NONE;
		running += process_running(e->state.pid, e->state.ptime);
	}
	header(out, "volrep_daemon_jobs_configured", "Replication jobs to run on this node (enabled, or marked for removal).");
	strbuf_addf(out, "volrep_daemon_jobs_configured %zu\n", configured);
	header(out, "volrep_daemon_workers_running", "Replication runs in progress on this node.");
	strbuf_addf(out, "volrep_daemon_workers_running %zu\n", d ? (size_t)d->workers_running : running);
}

/* The job's description goes in one info series, so the per-job series
 * need only the id label (join on it in queries). */
static void render_info(struct strbuf *out, const struct context *ctx, const struct job_status *js)
{
	header(out, "volrep_replication_info", "Replication job: its guest, type, source, target and schedule; always 1.");
	for (size_t i = 0; i < js->nr; i++) {
		const struct job_entry *e = &js->v[i];
		char guest[16];

		snprintf(guest, sizeof(guest), "%u", e->job->guest);
		strbuf_addstr(out, "volrep_replication_info{");
		add_label(out, "id", e->job->id, true);
		add_label(out, "guest", guest, false);
		add_label(out, "vmtype", guest_type_name(e->guest->type), false);
		add_label(out, "source", e->job->source ? e->job->source : ctx->node, false);
		add_label(out, "target", e->job->target, false);
		add_label(out, "schedule", e->job->schedule ? e->job->schedule : SCHEDULE_DEFAULT, false);
		strbuf_addstr(out, "} 1\n");
	}
}

static double job_metric_value(enum job_metric m, const struct job_entry *e, const struct volrep_cfg *cfg,
			       int64_t now)
{
	const struct job_state *s = &e->state;
	int64_t interval = metrics_interval(e->job->schedule, now);

	switch (m) {
	case M_LAST_SYNC: return (double)s->last_sync;
	case M_LAST_TRY: return (double)s->last_try;
	case M_NEXT_SYNC: return (double)e->next_sync;
	case M_DURATION: return s->has_duration ? s->duration : 0;
	case M_FAILED: return (double)s->fail_count;
	case M_BYTES: return (double)s->bytes;
	case M_RUNNING: return process_running(s->pid, s->ptime);
	case M_REMOVAL: return e->job->remove_job != REMOVE_NONE;
	case M_INTERVAL: return (double)interval;
	case M_STALE: return metrics_is_stale(s->last_sync, metrics_lag_limit(cfg->max_lag, interval), now);
	case M_COUNT: break;
	}
	return 0;
}

/* Metric by metric, not job by job: the exposition format wants each
 * metric's series together under its HELP/TYPE header. */
static void render_job_metrics(struct strbuf *out, const struct job_status *js, const struct volrep_cfg *cfg,
			       int64_t now)
{
	for (int m = 0; m < M_COUNT; m++) {
		header(out, job_metrics[m].name, job_metrics[m].help);
		for (size_t i = 0; i < js->nr; i++) {
			const struct job_entry *e = &js->v[i];

			strbuf_addf(out, "%s{", job_metrics[m].name);
			add_label(out, "id", e->job->id, true);
			strbuf_addch(out, '}');
			add_value(out, job_metric_value((enum job_metric)m, e, cfg, now));
		}
	}
}

int metrics_render(const struct context *ctx, const struct metrics_daemon *d, struct strbuf *out,
		   struct strbuf *err)
{
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct job_status js = JOB_STATUS_INIT;
	struct volrep_cfg cfg;
	struct state *st = NULL;
	int64_t now = volrep_now();
	int r;

	r = load_inputs(ctx, &cc, &st, &cfg, &js, err);
	/* volrep_up is there even when nothing else can be said */
	header(out, "volrep_up", "1 when volrep could read its configuration and state.");
	strbuf_addf(out, "volrep_up %d\n", r == 0);
	if (r == 0) {
		render_daemon(out, d, &js);
		render_info(out, ctx, &js);
		render_job_metrics(out, &js, &cfg, now);
	}
	job_status_release(&js);
	state_free(st);
	cluster_config_release(&cc);
	return r;
}
