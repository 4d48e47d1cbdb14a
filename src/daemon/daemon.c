#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "base/time-util.h"
#include "base/xalloc.h"
#include "cluster/store.h"
#include "config/volrepcfg.h"
#include "daemon/ha.h"
#include "daemon/notify.h"
#include "engine/replicate.h"
#include "exec/spawn.h"
#include "api/api.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "sched/jobstatus.h"
#include "sched/pass.h"
#include "state/state.h"

/* The safety net: a pass at least this often, whatever inotify says. */
#define SAFETY_WAKE_MS 60000
/* etcd mode: the liveness key lives this long without renewal, renewed
 * every second; an etcd watch wakes the daemon when a cluster file
 * changes, so that a job created on another node starts here at once
 * (docs/cluster.md). Stores without a watch (pmxcfs) have their revision
 * polled twice a second. */
#define MEMBER_TTL_S 5
#define HEARTBEAT_MS 1000
#define REVISION_POLL_MS 500
/* Kept of a worker's stderr for the failure message; longer lines are cut. */
#define LAST_LINE_MAX 1024

struct worker {
	struct child c;
	char *id;
	uint32_t guest;
	char *target;
	int64_t start;     /* wall clock at spawn, epoch seconds */
	double mono_start;
	int errfd;         /* read end of its stdout+stderr, -1 when closed */
	struct strbuf partial;
	struct strbuf last_line;
	/* after the end */
	bool ended;
	int code;
	double duration;
	pid_t pid;
};

struct deferral {
	char *id;
	int64_t until;
};

/* What the HTTP server's thread reads: the context (constant) and the
 * number of running workers (updated by the main loop). */
struct http_view {
	const struct context *ctx;
	atomic_uint workers_running;
};

struct daemon {
	const struct context *ctx;
	/* GET /metrics (volrep.cfg metrics-listen); NULL when off */
	struct http_server *http;
	char http_listen[sizeof(((struct volrep_cfg *)0)->metrics_listen)];
	struct strbuf last_http_error;
	struct http_view view;
	/* the API and web panel (volrep.cfg api-listen, api-cert, api-key); NULL when off */
	struct api_server *api;
	struct strbuf api_setting; /* "listen\ncert\nkey" the API runs with */
	struct strbuf last_api_error;
	struct volrep_cfg cfg;
	const char *worker_prog;
	struct worker **w;
	size_t nw, walloc;
	struct deferral *defer;
	size_t ndefer, dalloc;
	int sigfd, inofd;
	bool need_pass;
	/* the next due job (epoch seconds, 0: none), the last pass (ms) */
	int64_t wake, last_pass;
	/* the last problems reported, so a pass a minute does not repeat them */
	struct strbuf last_warnings, last_error, last_cfg_error;
	/* shutdown */
	bool stopping, termed, killed;
	double grace_end, kill_end; /* mono seconds */
	/* etcd mode */
	struct store *cluster;
	int64_t last_heartbeat, last_poll, revision;
	bool member_ok;
	int watchfd; /* the store's watch; -1: polled */
	bool watch_up;
	struct ha_daemon *ha; /* high availability (daemon/ha.h), NULL when off */
};

static void cfg_summary(const struct volrep_cfg *cfg, struct strbuf *out)
{
	strbuf_addf(out, "max-workers %u, max-per-target %u, ", cfg->max_workers, cfg->max_per_target);
	if (cfg->bwlimit > 0)
		strbuf_addf(out, "bwlimit %g MB/s", cfg->bwlimit);
	else
		strbuf_addstr(out, "bwlimit none");
	strbuf_addf(out, ", shutdown-grace %us", cfg->shutdown_grace);
}

/* --- deferrals: jobs held back in memory until their next due time --- */

static int64_t deferral_get(const struct daemon *d, const char *id)
{
	for (size_t i = 0; i < d->ndefer; i++)
		if (!strcmp(d->defer[i].id, id))
			return d->defer[i].until;
	return 0;
}

static void deferral_set(struct daemon *d, const char *id, int64_t until)
{
	for (size_t i = 0; i < d->ndefer; i++) {
		if (!strcmp(d->defer[i].id, id)) {
			d->defer[i].until = until;
			return;
		}
	}
	if (d->ndefer == d->dalloc) {
		d->dalloc = d->dalloc ? 2 * d->dalloc : 16;
		d->defer = xrealloc(d->defer, d->dalloc * sizeof(*d->defer));
	}
	d->defer[d->ndefer].id = xstrdup(id);
	d->defer[d->ndefer++].until = until;
}

/* Drop deferrals that are over or whose job is gone. */
static void deferral_prune(struct daemon *d, const struct job_status *jl, int64_t now)
{
	size_t out = 0;

	for (size_t i = 0; i < d->ndefer; i++) {
		if (d->defer[i].until > now && job_status_find(jl, d->defer[i].id)) {
			d->defer[out++] = d->defer[i];
			continue;
		}
		free(d->defer[i].id);
	}
	d->ndefer = out;
}

/* --- workers --- */

static struct worker *worker_find(const struct daemon *d, const char *id)
{
	for (size_t i = 0; i < d->nw; i++)
		if (!strcmp(d->w[i]->id, id) && !d->w[i]->ended)
			return d->w[i];
	return NULL;
}

static void worker_free(struct worker *w)
{
	if (!w)
		return;
	if (w->errfd >= 0)
		close(w->errfd);
	child_clear(&w->c);
	strbuf_release(&w->partial);
	strbuf_release(&w->last_line);
	free(w->id);
	free(w->target);
	free(w);
}

/* Log the complete lines of the worker's output as "<jobid>: <line>" and
 * remember the last one. */
static void worker_lines(struct worker *w, bool flush)
{
	char *start = w->partial.buf, *nl;

	while ((nl = strchr(start, '\n')) || (flush && *start)) {
		if (nl)
			*nl = '\0';
		if (*start) {
			static const char warn[] = "volrep: warning: ";

			/* the worker's warnings stay warnings in the journal */
			if (!strncmp(start, warn, sizeof(warn) - 1)) {
				const char *rest = start + sizeof(warn) - 1;
				size_t n = strlen(w->id);

				/* "<id>: " once is enough */
				if (!strncmp(rest, w->id, n) && !strncmp(rest + n, ": ", 2))
					rest += n + 2;
				warning("%s: %s", w->id, rest);
			} else
				info("%s: %s", w->id, start);
			strbuf_reset(&w->last_line);
			strbuf_add(&w->last_line, start,
				   strlen(start) > LAST_LINE_MAX ? LAST_LINE_MAX : strlen(start));
		}
		start = nl ? nl + 1 : start + strlen(start);
	}
	size_t rest = strlen(start);
	memmove(w->partial.buf, start, rest);
	strbuf_setlen(&w->partial, rest);
	/* a worker printing an endless line must not grow us without bound */
	if (w->partial.len > 4 * LAST_LINE_MAX) {
		strbuf_addch(&w->partial, '\n');
		worker_lines(w, false);
	}
}

/* Read what the worker wrote; closes the pipe at EOF. Non-blocking. */
static void worker_read(struct worker *w)
{
	char buf[4096];

	while (w->errfd >= 0) {
		ssize_t n = read(w->errfd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			close(w->errfd);
			w->errfd = -1;
			break;
		}
		strbuf_add(&w->partial, buf, (size_t)n);
		worker_lines(w, false);
	}
}

static int spawn_worker(struct daemon *d, const struct job_entry *j, double rate_cap)
{
	const struct context *ctx = d->ctx;
	struct worker *w = xcalloc(1, sizeof(*w));
	int p[2] = { -1, -1 }, r;

	w->c = (struct child)CHILD_INIT;
	strbuf_init(&w->partial, 0);
	strbuf_init(&w->last_line, 0);
	w->errfd = -1;
	w->id = xstrdup(j->job->id);
	w->guest = j->job->guest;
	w->target = xstrdup(j->job->target);
	strvec_pushv(&w->c.args, (const char *const[]){ d->worker_prog, "--config-dir", ctx->config_dir,
							 "--state-dir", ctx->state_dir, "--log-dir",
							 ctx->log_dir, "--node", ctx->node, NULL });
	/* global options go before the command name */
	if (ctx->cluster) {
		strvec_push(&w->c.args, "--cluster");
		strvec_push(&w->c.args, ctx->cluster);
	}
	strvec_pushv(&w->c.args, (const char *const[]){ "run", "--id", j->job->id, "--scheduled", NULL });
	strvec_pushf(&w->c.args, "--transfer-slots=%u", d->cfg.max_per_target);
	/* the event served (next_sync 1: due at once, no event) */
	if (j->next_sync > 1)
		strvec_pushf(&w->c.args, "--event=%lld", (long long)j->next_sync);
	if (rate_cap > 0 && d->cfg.bwlimit > 0)
		strvec_pushf(&w->c.args, "--rate-cap=%.6g", rate_cap);
	if (pipe2(p, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	w->c.in = CHILD_NULL;
	w->c.out = p[1];
	w->c.err = p[1];
	/* its own process group: a terminal's ^C reaches only the daemon,
	 * and termination at shutdown reaches the worker's ssh and zfs too */
	w->c.new_pgrp = 1;
	w->start = (int64_t)time(NULL);
	w->mono_start = mono_now();
	r = child_start(&w->c);
	close(p[1]);
	if (r < 0) {
		close(p[0]);
		goto fail;
	}
	w->pid = w->c.pid;
	w->errfd = p[0];
	fcntl(w->errfd, F_SETFL, fcntl(w->errfd, F_GETFL) | O_NONBLOCK);
	if (d->nw == d->walloc) {
		d->walloc = d->walloc ? 2 * d->walloc : 8;
		d->w = xrealloc(d->w, d->walloc * sizeof(*d->w));
	}
	d->w[d->nw++] = w;
	if (rate_cap > 0 && d->cfg.bwlimit > 0)
		info("%s: started (target %s, rate cap %.3g MB/s)", j->job->id, j->job->target, rate_cap);
	else
		info("%s: started (target %s)", j->job->id, j->job->target);
	return 0;
fail:
	error("%s: cannot start worker '%s' - %s", j->job->id, d->worker_prog, strerror(-r));
	worker_free(w);
	return r;
}

/* Reap every worker that has ended (marks it; the next pass reports it). */
static void reap_workers(struct daemon *d)
{
	for (size_t i = 0; i < d->nw; i++) {
		struct worker *w = d->w[i];
		int code, r;

		if (w->ended)
			continue;
		r = child_try_finish(&w->c, &code);
		if (r == 0)
			continue;
		w->ended = true;
		w->code = r < 0 ? 128 + SIGKILL : code;
		w->duration = mono_now() - w->mono_start;
		/* what it wrote before exiting; children it left behind may
		 * keep the pipe open, so no waiting for EOF */
		worker_read(w);
		if (w->errfd >= 0) {
			close(w->errfd);
			w->errfd = -1;
		}
		worker_lines(w, true);
		d->need_pass = true;
	}
}

static size_t workers_running(const struct daemon *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->nw; i++)
		n += !d->w[i]->ended;
	return n;
}

/* --- state repair: runs that ended without recording their end --- */

struct interrupted {
	uint32_t guest;
	const char *target;
	pid_t pid;
	uint64_t ptime; /* 0: any */
	double duration;
	const char *msg;
};

static int mark_interrupted_fn(struct state *st, void *data, struct strbuf *err)
{
	struct interrupted *in = data;
	struct job_state js = JOB_STATE_INIT;
	int r = state_get_job(st, in->guest, in->target, &js);

	(void)err;
	/* still the same dead run? (checked again under the lock) */
	if (r == 1 && js.pid == in->pid && (!in->ptime || js.ptime == in->ptime) &&
	    !process_running(js.pid, js.ptime))
		r = state_record_job_end(st, in->guest, in->target, js.last_try, in->duration, in->msg, false);
	else
		r = 0;
	job_state_release(&js);
	return r;
}

static void mark_interrupted(struct daemon *d, struct interrupted *in, const char *id)
{
	struct strbuf err = STRBUF_INIT;

	if (state_update(d->ctx->state_dir, mark_interrupted_fn, in, &err) < 0)
		error("%s: cannot record the interrupted run - %s", id, err.buf);
	strbuf_release(&err);
}

/* A run of a job that is not ours, found in the state with its process
 * gone (a daemon or worker killed with -9, a crash): recorded as a
 * failure, so that status shows it and the job backs off and retries,
 * instead of looking fine with a run that never finished. */
static bool repair_stale(struct daemon *d, const struct job_status *jl)
{
	bool changed = false;

	for (size_t i = 0; i < jl->nr; i++) {
		const struct job_entry *j = &jl->v[i];
		char msg[128];

		if (!j->state.pid || worker_find(d, j->job->id) || process_running(j->state.pid, j->state.ptime))
			continue;
		snprintf(msg, sizeof(msg), "interrupted: replication worker %d ended without recording a result",
			 (int)j->state.pid);
		struct interrupted in = { .guest = j->job->guest, .target = j->job->target, .pid = j->state.pid,
					  .ptime = j->state.ptime, .duration = 0, .msg = msg };
		warning("%s: previous run (pid %d) was interrupted; recorded as failed", j->job->id,
			(int)j->state.pid);
		mark_interrupted(d, &in, j->job->id);
		changed = true;
	}
	return changed;
}

/* Our worker ended but the state still names it as running: it crashed or
 * was killed before recording the end of its run. */
static bool repair_ended(struct daemon *d, const struct job_status *jl)
{
	bool changed = false;

	for (size_t i = 0; i < d->nw; i++) {
		struct worker *w = d->w[i];
		const struct job_entry *j;
		char msg[128], st[64];

		if (!w->ended || !(j = job_status_find(jl, w->id)) || j->state.pid != w->pid)
			continue;
		snprintf(msg, sizeof(msg), "interrupted: replication worker %s",
			 exit_status_str(w->code, st, sizeof(st)));
		struct interrupted in = { .guest = w->guest, .target = w->target, .pid = w->pid,
					  .duration = w->duration, .msg = msg };
		mark_interrupted(d, &in, w->id);
		changed = true;
	}
	return changed;
}

/* --- reporting the end of a run --- */

static void report_end(struct daemon *d, struct worker *w, const struct job_status *jl, int64_t now)
{
	const struct job_entry *j = job_status_find(jl, w->id);
	bool recorded = j && j->state.last_try >= w->start && j->state.pid != w->pid;
	char when[64], st[64];
	int64_t next;

	if (!j) {
		info("%s: ended after %.1fs (%s); the job is no longer scheduled on this node", w->id, w->duration,
		     exit_status_str(w->code, st, sizeof(st)));
		return;
	}
	if (!recorded) {
		/* nothing in the state moved: without a deferral the job would
		 * be due again at once and we would spin on it */
		next = job_entry_next_after(j, w->start);
		if (next <= now)
			next = now + 60;
		deferral_set(d, w->id, next);
		format_time(when, sizeof(when), next);
		if (w->code == RUN_EXIT_BUSY)
			info("%s: guest %u is locked by another operation; skipped until %s", w->id, w->guest, when);
		else if (w->code == 0)
			info("%s: ended after %.1fs without recording a run; next try %s", w->id, w->duration, when);
		else
			error("%s: failed after %.1fs: %s; next try %s", w->id, w->duration,
			     w->last_line.len ? w->last_line.buf : exit_status_str(w->code, st, sizeof(st)), when);
		return;
	}
	if (w->code == 0 && j->state.fail_count == 0 && !j->state.error) {
		struct strbuf size = STRBUF_INIT;

		/* the run's total from its state entry (0: not recorded, e.g.
		 * by an older volrep) */
		if (j->state.bytes)
			run_format_size(j->state.bytes, &size);
		info("%s: finished in %.1fs%s%s", w->id, w->duration, size.len ? ", " : "", size.buf);
		strbuf_release(&size);
		return;
	}
	next = j->next_sync;
	if (next == 0)
		snprintf(when, sizeof(when), j->target_online ? "never (schedule ended)" : "when target is back");
	else
		format_time(when, sizeof(when), next);
	/* an error for the journal: `journalctl -p err` lists failed runs */
	error("%s: failed after %.1fs: %s; next try %s", w->id, w->duration,
	     j->state.error ? j->state.error
			    : w->last_line.len ? w->last_line.buf : exit_status_str(w->code, st, sizeof(st)),
	     when);
}

/* --- one scheduler pass --- */

static void report_problems(struct daemon *d, const struct strvec *warnings, const char *errmsg)
{
	struct strbuf all = STRBUF_INIT;

	for (size_t i = 0; i < warnings->nr; i++)
		strbuf_addf(&all, "%s\n", warnings->v[i]);
	if (strcmp(all.buf, d->last_warnings.buf)) {
		for (size_t i = 0; i < warnings->nr; i++)
			warning("%s", warnings->v[i]);
		strbuf_reset(&d->last_warnings);
		strbuf_addstr(&d->last_warnings, all.buf);
	}
	if (strcmp(errmsg, d->last_error.buf)) {
		if (*errmsg)
			error("%s", errmsg);
		strbuf_reset(&d->last_error);
		strbuf_addstr(&d->last_error, errmsg);
	}
	strbuf_release(&all);
}

/* --- GET /metrics --- */

static void serve_metrics(const struct http_request *req, struct http_response *resp, void *data)
{
	struct http_view *v = data;
	struct metrics_daemon md = { .workers_running = atomic_load(&v->workers_running) };
	struct strbuf err = STRBUF_INIT;

	(void)req;
	/* a failed read still answers, with volrep_up 0 */
	metrics_render(v->ctx, &md, &resp->body, &err);
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	strbuf_release(&err);
}

/* Start, move or stop the server as metrics-listen says. */
static void apply_http(struct daemon *d)
{
	static const struct http_route routes[] = {
		{ .method = "GET", .path = "/metrics", .fn = serve_metrics, .data = NULL },
	};
	struct http_route rt[1];
	struct strbuf err = STRBUF_INIT;

	if (!strcmp(d->http_listen, d->cfg.metrics_listen) && (d->http || !d->http_listen[0]))
		return;
	if (d->http) {
		http_server_stop(d->http);
		d->http = NULL;
		info("metrics: stopped listening on %s", d->http_listen);
	}
	if (strcmp(d->http_listen, d->cfg.metrics_listen))
		strbuf_reset(&d->last_http_error);
	snprintf(d->http_listen, sizeof(d->http_listen), "%s", d->cfg.metrics_listen);
	if (!d->http_listen[0])
		return;
	memcpy(rt, routes, sizeof(rt));
	rt[0].data = &d->view;
	/* a port in use is tried again at every pass, reported once */
	if (http_server_start(&d->http, d->http_listen, rt, 1, &err) < 0) {
		if (strcmp(err.buf, d->last_http_error.buf))
			error("metrics: %s (trying again)", err.buf);
		strbuf_reset(&d->last_http_error);
		strbuf_addstr(&d->last_http_error, err.buf);
	} else {
		info("metrics: serving GET /metrics on %s", d->http_listen);
		strbuf_reset(&d->last_http_error);
	}
	strbuf_release(&err);
}

/* Start, move or stop the API as api-listen, api-cert and api-key say
 * (a changed certificate file is read at the next change of a setting or
 * restart). */
static void apply_api(struct daemon *d)
{
	struct strbuf setting = STRBUF_INIT, err = STRBUF_INIT;

	strbuf_addf(&setting, "%s\n%s\n%s", d->cfg.api_listen, d->cfg.api_cert, d->cfg.api_key);
	if (!strcmp(setting.buf, d->api_setting.buf) && (d->api || !d->cfg.api_listen[0]))
		goto out;
	if (d->api) {
		api_stop(d->api);
		d->api = NULL;
		info("api: stopped listening");
	}
	if (strcmp(setting.buf, d->api_setting.buf))
		strbuf_reset(&d->last_api_error);
	strbuf_reset(&d->api_setting);
	strbuf_addstr(&d->api_setting, setting.buf);
	if (!d->cfg.api_listen[0])
		goto out;
	if (api_start(&d->api, d->ctx, d->cfg.api_listen, d->cfg.api_cert, d->cfg.api_key, &err) < 0) {
		if (strcmp(err.buf, d->last_api_error.buf))
			error("api: %s (trying again)", err.buf);
		strbuf_reset(&d->last_api_error);
		strbuf_addstr(&d->last_api_error, err.buf);
	} else {
		info("api: serving the replication API and panel on %s://%s/", d->cfg.api_cert[0] ? "https" : "http",
		     d->cfg.api_listen);
		strbuf_reset(&d->last_api_error);
	}
out:
	strbuf_release(&setting);
	strbuf_release(&err);
}

static void reload_settings(struct daemon *d)
{
	struct volrep_cfg cfg;
	struct strbuf err = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;

	if (volrep_cfg_load(&cfg, d->ctx->config_dir, &err) < 0) {
		if (strcmp(err.buf, d->last_cfg_error.buf))
			error("%s (keeping the previous settings)", err.buf);
		strbuf_reset(&d->last_cfg_error);
		strbuf_addstr(&d->last_cfg_error, err.buf);
		goto out;
	}
	strbuf_reset(&d->last_cfg_error);
	cfg_summary(&d->cfg, &a);
	cfg_summary(&cfg, &b);
	if (strcmp(a.buf, b.buf))
		info("settings changed: %s", b.buf);
	d->cfg = cfg;
	apply_http(d);
	apply_api(d);
out:
	strbuf_release(&err);
	strbuf_release(&a);
	strbuf_release(&b);
}

static void watch_dirs(struct daemon *d)
{
	const uint32_t cfg_mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE;
	struct strbuf p = STRBUF_INIT;

	if (d->inofd < 0)
		return;
	/* errors (a directory that does not exist yet) are fine: the
	 * watch is added at a later pass, and the minute pass covers us */
	inotify_add_watch(d->inofd, d->ctx->config_dir, cfg_mask);
	inotify_add_watch(d->inofd, d->ctx->state_dir, IN_MOVED_TO | IN_CLOSE_WRITE);
	strbuf_addf(&p, "%s/nodes", d->ctx->config_dir);
	inotify_add_watch(d->inofd, p.buf, IN_CREATE | IN_MOVED_TO);
	strbuf_addf(&p, "/%s", d->ctx->node);
	inotify_add_watch(d->inofd, p.buf, cfg_mask);
	size_t base = p.len;
	strbuf_addstr(&p, "/qemu-server");
	inotify_add_watch(d->inofd, p.buf, cfg_mask);
	strbuf_setlen(&p, base);
	strbuf_addstr(&p, "/lxc");
	inotify_add_watch(d->inofd, p.buf, cfg_mask);
	strbuf_release(&p);
}

/* Whether a file event matters: not lock files, temporary files of an
 * atomic write (their rename is reported), or the daemon's own lock. */
static bool event_relevant(const struct inotify_event *ev)
{
	size_t n;

	if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED))
		return true;
	if (!ev->len)
		return true;
	n = strlen(ev->name);
	if (n >= 4 && !strcmp(ev->name + n - 4, ".lck"))
		return false;
	if (strstr(ev->name, ".tmp."))
		return false;
	return true;
}

static void drain_inotify(struct daemon *d)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(d->inofd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (event_relevant(ev))
				d->need_pass = true;
			p += sizeof(*ev) + ev->len;
		}
	}
}

/* The pass's calls back into the daemon (sched/pass.h). */
struct pass_data {
	struct daemon *d;
	int64_t now;
};

static int64_t pass_not_before(const struct job_entry *e, void *data)
{
	return deferral_get(((struct pass_data *)data)->d, e->job->id);
}

static int pass_start(const struct job_entry *e, double rate_cap, void *data)
{
	struct pass_data *pd = data;

	if (spawn_worker(pd->d, e, rate_cap) < 0) {
		deferral_set(pd->d, e->job->id, pd->now + 60);
		return -1;
	}
	return 0;
}

/* Load the job view, report ended runs, start due jobs. Returns the epoch
 * second of the next due job (0: none known). */
static int64_t pass(struct daemon *d)
{
	struct job_view v = JOB_VIEW_INIT;
	struct strbuf err = STRBUF_INIT;
	struct sched_run *runs = NULL;
	struct pass_data pd = { .d = d };
	int64_t now, wake = 0;
	int r;

	reload_settings(d);
	watch_dirs(d);
	r = job_view_load(&v, d->ctx, JOB_VIEW_PURGE, &err);
	if (r >= 0 && (repair_ended(d, &v.js) | repair_stale(d, &v.js))) {
		job_view_release(&v);
		v = (struct job_view)JOB_VIEW_INIT;
		strbuf_reset(&err);
		r = job_view_load(&v, d->ctx, JOB_VIEW_PURGE, &err);
	}
	report_problems(d, &v.warnings, r < 0 ? err.buf : "");
	now = (int64_t)time(NULL);
	/* ended workers: report them (this needs the fresh state), forget them */
	for (size_t i = 0; i < d->nw;) {
		struct worker *w = d->w[i];

		if (!w->ended) {
			i++;
			continue;
		}
		if (r >= 0)
			report_end(d, w, &v.js, now);
		else
			info("%s: ended after %.1fs", w->id, w->duration);
		worker_free(w);
		d->w[i] = d->w[--d->nw];
	}
	if (r < 0)
		goto out;
	deferral_prune(d, &v.js, now);

	/* our workers, also of jobs that are no longer configured here
	 * (they still hold a worker and a guest) */
	runs = xcalloc(d->nw + 1, sizeof(*runs));
	for (size_t i = 0; i < d->nw; i++)
		runs[i] = (struct sched_run){ .id = d->w[i]->id, .guest = d->w[i]->guest, .target = d->w[i]->target };
	pd.now = now;
	{
		struct sched_pass p = { .max_workers = d->cfg.max_workers, .bwlimit = d->cfg.bwlimit,
					.runs = runs, .nruns = d->nw, .not_before = pass_not_before,
					.start = d->stopping ? NULL : pass_start, .data = &pd };

		sched_pass_run(&v, &p, now, &wake);
	}
	atomic_store(&d->view.workers_running, (unsigned)workers_running(d));
	{
		char status[128];

		snprintf(status, sizeof(status), "STATUS=%zu job(s) running, %zu configured on this node",
			 workers_running(d), v.js.nr);
		notify_send(status);
	}
out:
	free(runs);
	job_view_release(&v);
	strbuf_release(&err);
	return wake;
}

/* --- shutdown --- */

static void begin_stop(struct daemon *d, int sig)
{
	size_t n = workers_running(d);

	if (d->stopping) {
		if (!d->termed && n) {
			info("%s again: ending the grace period", strsignal(sig));
			d->grace_end = mono_now();
		}
		return;
	}
	d->stopping = true;
	d->grace_end = mono_now() + d->cfg.shutdown_grace;
	notify_send("STOPPING=1");
	if (n)
		info("%s: stopping; waiting up to %us for %zu running job(s)", strsignal(sig), d->cfg.shutdown_grace,
		     n);
	else
		info("%s: stopping", strsignal(sig));
}

static void stop_progress(struct daemon *d)
{
	double t = mono_now();

	if (!d->termed && t >= d->grace_end) {
		d->termed = true;
		d->kill_end = t + DAEMON_KILL_TIMEOUT;
		for (size_t i = 0; i < d->nw; i++) {
			if (d->w[i]->ended)
				continue;
			info("%s: terminating the run (shutdown grace period over)", d->w[i]->id);
			child_kill(&d->w[i]->c, SIGTERM);
		}
	}
	if (d->termed && !d->killed && t >= d->kill_end) {
		d->killed = true;
		for (size_t i = 0; i < d->nw; i++) {
			if (d->w[i]->ended)
				continue;
			warning("%s: worker did not stop within %ds; killing it", d->w[i]->id, DAEMON_KILL_TIMEOUT);
			child_kill(&d->w[i]->c, SIGKILL);
		}
	}
}

/* --- setup and the loop --- */

static int setup_signals(struct daemon *d, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, old) < 0)
		return -errno;
	d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return d->sigfd < 0 ? -errno : 0;
}

static void handle_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap_workers(d);
			break;
		case SIGHUP:
			info("SIGHUP: reloading the configuration");
			/* report current problems again, once */
			strbuf_reset(&d->last_warnings);
			strbuf_reset(&d->last_error);
			strbuf_reset(&d->last_cfg_error);
			d->need_pass = true;
			break;
		case SIGTERM:
		case SIGINT:
			begin_stop(d, (int)si.ssi_signo);
			d->need_pass = true;
			break;
		}
	}
}

static int take_lock(const struct context *ctx, struct lock *lk)
{
	struct strbuf path = STRBUF_INIT, pid = STRBUF_INIT;
	int r;

	r = mkdir_p(ctx->state_dir, 0755);
	if (r < 0) {
		error("cannot create state directory '%s' - %s", ctx->state_dir, strerror(-r));
		goto out;
	}
	strbuf_addf(&path, "%s/%s", ctx->state_dir, DAEMON_LOCK_NAME);
	r = lock_acquire(lk, path.buf, 0);
	if (r == -ETIMEDOUT) {
		struct strbuf other = STRBUF_INIT;

		strbuf_read_file(&other, path.buf, 64);
		strbuf_rtrim(&other);
		error("another volrep daemon is running for state directory '%s'%s%s%s", ctx->state_dir,
		      other.len ? " (pid " : "", other.buf, other.len ? ")" : "");
		strbuf_release(&other);
		goto out;
	}
	if (r < 0) {
		error("cannot lock '%s' - %s", path.buf, strerror(-r));
		goto out;
	}
	strbuf_addf(&pid, "%d\n", (int)getpid());
	if (ftruncate(lk->fd, 0) < 0 || pwrite(lk->fd, pid.buf, pid.len, 0) != (ssize_t)pid.len)
		warning("cannot write the pid to '%s' - %s", path.buf, strerror(errno));
out:
	strbuf_release(&path);
	strbuf_release(&pid);
	return r;
}

/* etcd mode: renew this node's liveness key, and start a pass when the
 * store changed (instead of inotify on a config directory). */
static void cluster_tick(struct daemon *d)
{
	int64_t now = wall_ms(), rev = 0;
	struct strbuf err = STRBUF_INIT;

	if (!d->cluster)
		return;
	if (now - d->last_heartbeat >= HEARTBEAT_MS) {
		int64_t sent = ha_clock_ms();
		int r = store_heartbeat(d->cluster, d->ctx->node, MEMBER_TTL_S, &err);

		ha_daemon_heartbeat(d->ha, r == 0, sent);
		d->last_heartbeat = now;
		if (r < 0 && d->member_ok)
			warning("cannot renew the liveness key of node '%s': %s", d->ctx->node, err.buf);
		else if (r == 0 && !d->member_ok)
			info("liveness key of node '%s' in %s", d->ctx->node, d->cluster->where);
		d->member_ok = r == 0;
		strbuf_reset(&err);
	}
	if (d->watchfd < 0 && now - d->last_poll >= REVISION_POLL_MS) {
		d->last_poll = now;
		if (store_revision(d->cluster, &rev, &err) == 0 && rev != d->revision) {
			if (d->revision)
				d->need_pass = true;
			d->revision = rev;
		}
	}
	strbuf_release(&err);
}

static int64_t cluster_timeout(const struct daemon *d, int64_t timeout)
{
	int64_t t;

	if (!d->cluster)
		return timeout;
	if (d->watchfd >= 0)
		t = d->last_heartbeat + HEARTBEAT_MS - wall_ms();
	else
		t = d->last_poll + REVISION_POLL_MS - wall_ms();
	if (t < 0)
		t = 0;
	return t < timeout ? t : timeout;
}

/* etcd mode: what the watch saw. A file change or a new watch (after a
 * reconnect changes may have been missed) means a pass, which reads the
 * whole configuration again. */
static void cluster_watch(struct daemon *d)
{
	struct store_watch_news n;
	struct strbuf err = STRBUF_INIT;

	store_watch_news(d->cluster, &n);
	if (n.lost && d->watch_up)
		warning("etcd watch lost: %s; reconnecting", n.error);
	if (n.resync)
		info("etcd watch open on %s (revision %lld): reading the whole configuration again", n.endpoint,
		     (long long)n.revision);
	else if (n.files)
		info("woken by the etcd watch: %u change(s) of cluster files, revision %lld", n.files,
		     (long long)n.revision);
	if (n.resync || n.files)
		d->need_pass = true;
	d->watch_up = n.connected;
	/* a liveness key that expired: its node died without a clean stop */
	for (size_t i = 0; i < n.ngone; i++) {
		strbuf_reset(&err);
		if (store_note_offline(d->cluster, n.gone[i].node, n.gone[i].rev, &err) == 1)
			info("node '%s' went offline (its liveness key expired)", n.gone[i].node);
	}
	strbuf_release(&err);
}

static void daemon_init(struct daemon *d)
{
	strbuf_init(&d->api_setting, 0);
	strbuf_init(&d->last_warnings, 0);
	strbuf_init(&d->last_error, 0);
	strbuf_init(&d->last_cfg_error, 0);
	strbuf_init(&d->last_http_error, 0);
	strbuf_init(&d->last_api_error, 0);
	d->view.ctx = d->ctx;
	atomic_init(&d->view.workers_running, 0);
	/* under systemd, stderr lines carry their syslog priority */
	log_priority_prefix_auto();
}

/* Settings, lock, signals, inotify and the servers. Returns 0, or the
 * exit code of a daemon that cannot start (2: unusable settings). */
static int daemon_setup(struct daemon *d, struct lock *lk, sigset_t *oldmask)
{
	struct strbuf err = STRBUF_INIT;
	int r;

	if (volrep_cfg_load(&d->cfg, d->ctx->config_dir, &err) < 0) {
		error("%s", err.buf);
		strbuf_release(&err);
		return 2;
	}
	strbuf_release(&err);
	d->worker_prog = getenv("VOLREP_DAEMON_WORKER");
	if (!d->worker_prog || !*d->worker_prog)
		d->worker_prog = "/proc/self/exe";
	if (take_lock(d->ctx, lk) < 0)
		return EXIT_FAILURE;
	if (notify_init() < 0)
		warning("ignoring unusable NOTIFY_SOCKET");
	r = setup_signals(d, oldmask);
	if (r < 0) {
		error("cannot set up signal handling - %s", strerror(-r));
		return EXIT_FAILURE;
	}
	d->inofd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (d->inofd < 0)
		warning("inotify unavailable (%s); checking for changes once a minute", strerror(errno));
	/* after the signal mask: the server's thread inherits it, so
	 * signals still reach only the signalfd */
	apply_http(d);
	apply_api(d);
	return 0;
}

/* Say we started, join the cluster (etcd mode) and HA, ask for a pass. */
static void daemon_announce(struct daemon *d)
{
	struct strbuf err = STRBUF_INIT, summary = STRBUF_INIT;

	cfg_summary(&d->cfg, &summary);
	info("daemon started on node '%s' (pid %d): %s", d->ctx->node, (int)getpid(), summary.buf);
	d->cluster = store_cluster();
	if (d->cluster && store_watch_start(d->cluster, &d->watchfd, &err) == 0)
		info("watching %s for changes", d->cluster->where);
	else if (d->cluster && err.len)
		warning("%s; polling the store instead", err.buf);
	d->ha = ha_daemon_start(d->ctx, d->cluster, d->worker_prog);
	cluster_tick(d);
	d->need_pass = true;
	notify_send("READY=1");
	strbuf_release(&err);
	strbuf_release(&summary);
}

static void maybe_pass(struct daemon *d)
{
	if (!d->need_pass)
		return;
	d->need_pass = false;
	d->wake = pass(d);
	d->last_pass = wall_ms();
}

/* How long to sleep: until the next due job (a few ms late, so that the
 * clock has surely reached it), a minute at most; less during shutdown,
 * in etcd mode and for HA. */
static int64_t loop_timeout(const struct daemon *d)
{
	int64_t timeout = SAFETY_WAKE_MS;

	if (d->wake) {
		int64_t t = d->wake * 1000 + 5 - wall_ms();

		if (t < timeout)
			timeout = t < 0 ? 0 : t;
	}
	if (d->stopping) {
		double until = d->termed ? d->kill_end : d->grace_end;
		int64_t t = (int64_t)((until - mono_now()) * 1000) + 1;

		if (!d->killed && t < timeout)
			timeout = t < 0 ? 0 : t;
	}
	timeout = cluster_timeout(d, timeout);
	return ha_daemon_timeout(d->ha, timeout);
}

/* Sleep in poll() on the signals, inotify, the workers' output and the
 * store's watch; read what the workers wrote. Fails only when poll does. */
static int wait_events(struct daemon *d, int64_t timeout)
{
	struct pollfd *pfd = xcalloc(d->nw + 3, sizeof(*pfd));
	size_t npfd = 0;
	int r;

	pfd[npfd++] = (struct pollfd){ .fd = d->sigfd, .events = POLLIN };
	pfd[npfd++] = (struct pollfd){ .fd = d->inofd, .events = POLLIN };
	for (size_t i = 0; i < d->nw; i++)
		pfd[npfd++] = (struct pollfd){ .fd = d->w[i]->errfd, .events = POLLIN };
	if (d->watchfd >= 0)
		pfd[npfd++] = (struct pollfd){ .fd = d->watchfd, .events = POLLIN };
	r = poll(pfd, npfd, (int)timeout);
	if (r < 0 && errno != EINTR) {
		error("poll failed - %s", strerror(errno));
		free(pfd);
		return -1;
	}
	if (r == 0 && !d->cluster)
		d->need_pass = true;
	for (size_t i = 2; i < npfd; i++)
		if (pfd[i].revents && pfd[i].fd >= 0)
			for (size_t k = 0; k < d->nw; k++)
				if (d->w[k]->errfd == pfd[i].fd)
					worker_read(d->w[k]);
	free(pfd);
	return 0;
}

/* What woke us: file changes, signals (reload, stop, ended workers), the
 * cluster store, HA, a due job. */
static void handle_events(struct daemon *d)
{
	if (d->inofd >= 0)
		drain_inotify(d);
	handle_signals(d);
	/* a SIGCHLD may have been merged with one we already read */
	reap_workers(d);
	if (d->watchfd >= 0)
		cluster_watch(d);
	cluster_tick(d);
	ha_daemon_tick(d->ha, &d->cfg);
	/* the wake-up of a due job (etcd mode polls more often) */
	if (d->cluster && ((d->wake && wall_ms() >= d->wake * 1000 + 5) || wall_ms() - d->last_pass >= SAFETY_WAKE_MS))
		d->need_pass = true;
}

/* A clean stop: the last report, leave HA and the cluster. */
static void daemon_shutdown(struct daemon *d)
{
	/* report the workers that ended since the last pass */
	for (size_t i = 0; i < d->nw; i++)
		if (d->w[i]->ended) {
			pass(d);
			break;
		}
	ha_daemon_stop(d->ha);
	d->ha = NULL;
	if (d->cluster) {
		store_watch_stop(d->cluster);
		store_heartbeat_stop(d->cluster, d->ctx->node);
	}
	info("stopped");
}

/* Whatever setup got to, stopped and freed (also after a failed start). */
static void daemon_cleanup(struct daemon *d, struct lock *lk, const sigset_t *oldmask)
{
	ha_daemon_stop(d->ha);
	http_server_stop(d->http);
	api_stop(d->api);
	for (size_t i = 0; i < d->nw; i++)
		worker_free(d->w[i]);
	free(d->w);
	for (size_t i = 0; i < d->ndefer; i++)
		free(d->defer[i].id);
	free(d->defer);
	if (d->sigfd >= 0) {
		close(d->sigfd);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
	}
	if (d->inofd >= 0)
		close(d->inofd);
	lock_release(lk);
	strbuf_release(&d->api_setting);
	strbuf_release(&d->last_warnings);
	strbuf_release(&d->last_error);
	strbuf_release(&d->last_cfg_error);
	strbuf_release(&d->last_http_error);
	strbuf_release(&d->last_api_error);
}

int daemon_run(const struct context *ctx)
{
	struct daemon d = { .ctx = ctx, .sigfd = -1, .inofd = -1, .watchfd = -1 };
	struct lock lk = LOCK_INIT;
	sigset_t oldmask;
	int ret;

	daemon_init(&d);
	ret = daemon_setup(&d, &lk, &oldmask);
	if (ret)
		goto out;
	daemon_announce(&d);
	for (;;) {
		maybe_pass(&d);
		if (d.stopping) {
			if (!workers_running(&d))
				break;
			stop_progress(&d);
		}
		if (wait_events(&d, loop_timeout(&d)) < 0) {
			ret = EXIT_FAILURE;
			goto out;
		}
		handle_events(&d);
	}
	daemon_shutdown(&d);
out:
	daemon_cleanup(&d, &lk, &oldmask);
	return ret;
}
