#include "daemon/ha.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/time-util.h"
#include "base/xalloc.h"
#include "config/cluster.h"
#include "config/hacfg.h"
#include "engine/hook.h"
#include "exec/spawn.h"
#include "ha/ha.h"

/* how often the liveness keys are looked at */
#define HA_TICK_MS 1000
/* a recovery that lost the election is tried again after this; one that
 * failed after twice as long each time, up to HA_RETRY_MAX_MS */
#define HA_RETRY_MS 3000
#define HA_RETRY_MAX_MS 60000
/* a failed stop hook is run again after this */
#define HA_STOP_RETRY_MS 1000

struct ha_guest {
	uint32_t vmid;
	enum guest_type type;
	int stopped; /* fence: the stop hook succeeded */
};

struct ha_daemon {
	const struct context *ctx;
	struct store *st;
	const char *prog;
	/* shared with the fence thread, under mu */
	pthread_mutex_t mu;
	pthread_t thread;
	int stop;
	int armed;          /* a renewal succeeded at least once */
	int64_t last_ok_ms; /* when the last successful renewal was sent */
	int64_t fenced_for; /* the outage (its last_ok_ms) the fence went off for */
	struct ha_guest *mine; /* HA guests (started) owned here, as last read */
	size_t nmine;
	struct ha_guest *fence; /* what the fence stops / stopped */
	size_t nfence;
	/* main thread only */
	int64_t next_tick, last_spawn, retry_ms;
	struct ha_watch watch;
	struct child kid;
	int kid_running;
	int kid_resume;     /* the child is a resume of kid_vmid */
	uint32_t kid_vmid;
};

int64_t ha_clock_ms(void)
{
	return mono_ms();
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The fence: the stop hook of every guest not stopped yet (mu held on
 * entry and exit, released around the hooks). */
static void fence_stop(struct ha_daemon *h)
{
	for (size_t i = 0; i < h->nfence; i++) {
		struct ha_guest g = h->fence[i];
		struct strbuf err = STRBUF_INIT;
		int r;

		if (g.stopped)
			continue;
		pthread_mutex_unlock(&h->mu);
		r = guest_hook_stop(h->ctx->config_dir, h->ctx->node, g.type, g.vmid, &err);
		if (r < 0)
			error("ha: fence: stopping guest %" PRIu32 " failed (retrying every second; this node will "
			      "not start it again): %s", g.vmid, err.buf);
		else
			warning("ha: fence: guest %" PRIu32 " stopped (the liveness key of node '%s' was not renewed "
				"for %d ms)", g.vmid, h->ctx->node, HA_FENCE_MS);
		strbuf_release(&err);
		pthread_mutex_lock(&h->mu);
		if (r == 0 && i < h->nfence && h->fence[i].vmid == g.vmid)
			h->fence[i].stopped = 1;
	}
}

static void *fence_thread(void *arg)
{
	struct ha_daemon *h = arg;
	int64_t next_retry = 0;

	pthread_mutex_lock(&h->mu);
	while (!h->stop) {
		int64_t now = ha_clock_ms();

		if (h->armed && h->fenced_for != h->last_ok_ms && now - h->last_ok_ms >= HA_FENCE_MS) {
			h->fenced_for = h->last_ok_ms;
			/* add what we own to what an earlier outage left */
			h->fence = xrealloc(h->fence, (h->nfence + h->nmine + 1) * sizeof(*h->fence));
			for (size_t i = 0; i < h->nmine; i++) {
				size_t k;

				for (k = 0; k < h->nfence && h->fence[k].vmid != h->mine[i].vmid; k++)
					;
				if (k == h->nfence)
					h->fence[h->nfence++] = h->mine[i];
				else
					h->fence[k].stopped = 0;
			}
			warning("ha: fence: liveness key of node '%s' not renewed for %" PRId64 " ms: stopping its %zu HA "
				"guest(s)", h->ctx->node, now - h->last_ok_ms, h->nfence);
			fence_stop(h);
			next_retry = ha_clock_ms() + HA_STOP_RETRY_MS;
		} else if (h->nfence && now >= next_retry) {
			fence_stop(h);
			next_retry = ha_clock_ms() + HA_STOP_RETRY_MS;
		}
		pthread_mutex_unlock(&h->mu);
		sleep_ms(100);
		pthread_mutex_lock(&h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

struct ha_daemon *ha_daemon_start(const struct context *ctx, struct store *st, const char *prog)
{
	struct ha_daemon *h;
	sigset_t all, old;

	if (!st || st->kind != STORE_ETCD)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->ctx = ctx;
	h->st = st;
	h->prog = prog;
	h->kid = (struct child)CHILD_INIT;
	h->retry_ms = HA_RETRY_MS;
	pthread_mutex_init(&h->mu, NULL);
	/* signals stay with the loop's signalfd */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&h->thread, NULL, fence_thread, h) != 0) {
		error("ha: cannot start the fence thread - %s", strerror(errno));
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_mutex_destroy(&h->mu);
		free(h);
		return NULL;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return h;
}

void ha_daemon_heartbeat(struct ha_daemon *h, int ok, int64_t sent_ms)
{
	if (!h || !ok)
		return;
	pthread_mutex_lock(&h->mu);
	h->armed = 1;
	if (sent_ms > h->last_ok_ms)
		h->last_ok_ms = sent_ms;
	pthread_mutex_unlock(&h->mu);
}

static int lease_fresh(struct ha_daemon *h)
{
	int ok;

	pthread_mutex_lock(&h->mu);
	ok = h->armed && ha_clock_ms() - h->last_ok_ms < HA_FENCE_MS;
	pthread_mutex_unlock(&h->mu);
	return ok;
}

static void spawn(struct ha_daemon *h, const char *what, const char *arg, const char *since)
{
	const struct context *ctx = h->ctx;
	int r;

	h->kid = (struct child)CHILD_INIT;
	strvec_pushv(&h->kid.args, (const char *const[]){ h->prog, "--config-dir", ctx->config_dir, "--state-dir",
							  ctx->state_dir, "--log-dir", ctx->log_dir, "--node",
							  ctx->node, NULL });
	if (ctx->cluster) {
		strvec_push(&h->kid.args, "--cluster");
		strvec_push(&h->kid.args, ctx->cluster);
	}
	strvec_pushv(&h->kid.args, (const char *const[]){ "ha", what, arg, NULL });
	if (since) {
		strvec_push(&h->kid.args, "--since");
		strvec_push(&h->kid.args, since);
	}
	h->kid.in = CHILD_NULL;
	h->kid.new_pgrp = 1;
	r = child_start(&h->kid);
	h->last_spawn = ha_clock_ms();
	if (r < 0) {
		error("ha: cannot run '%s ha %s %s' - %s", h->prog, what, arg, strerror(-r));
		child_clear(&h->kid);
		return;
	}
	h->kid_running = 1;
}

static void reap(struct ha_daemon *h)
{
	int code = 0, r;

	if (!h->kid_running)
		return;
	r = child_try_finish(&h->kid, &code);
	if (r == 0)
		return;
	h->kid_running = 0;
	if (!h->kid_resume) {
		if (r > 0 && code == 1)
			h->retry_ms = h->retry_ms * 2 > HA_RETRY_MAX_MS ? HA_RETRY_MAX_MS : h->retry_ms * 2;
		else
			h->retry_ms = HA_RETRY_MS;
		return;
	}
	/* resumed (0) or moved away meanwhile (3): done with that guest */
	if (r > 0 && (code == 0 || code == 3)) {
		pthread_mutex_lock(&h->mu);
		for (size_t i = 0; i < h->nfence; i++)
			if (h->fence[i].vmid == h->kid_vmid) {
				h->fence[i] = h->fence[--h->nfence];
				break;
			}
		pthread_mutex_unlock(&h->mu);
	}
}

/* Fenced and alive again: resume the guests the fence stopped, one child
 * at a time. A guest whose stop hook never succeeded is never resumed:
 * it was never known to be down. Returns 1 when something was started. */
static int resume_next(struct ha_daemon *h)
{
	char id[16];
	int found = 0;

	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; i < h->nfence && !found; i++)
		if (h->fence[i].stopped) {
			h->kid_vmid = h->fence[i].vmid;
			found = 1;
		}
	pthread_mutex_unlock(&h->mu);
	if (!found)
		return 0;
	snprintf(id, sizeof(id), "%" PRIu32, h->kid_vmid);
	info("ha: node '%s' is alive again: resuming guest %s if it is still ours", h->ctx->node, id);
	h->kid_resume = 1;
	spawn(h, "resume", id, NULL);
	return 1;
}

void ha_daemon_tick(struct ha_daemon *h, const struct volrep_cfg *cfg)
{
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct ha_cfg hc = HA_CFG_INIT;
	struct strvec names = STRVEC_INIT;
	struct store_member *m = NULL;
	struct strbuf err = STRBUF_INIT;
	uint32_t *ids = NULL;
	size_t n = 0;
	int64_t now = ha_clock_ms();

	if (!h)
		return;
	reap(h);
	if (now < h->next_tick)
		return;
	h->next_tick = now + HA_TICK_MS;
	/* never act on a view this node may not hold any more */
	if (!lease_fresh(h))
		return;
	if (cluster_config_load(&cc, h->ctx->config_dir, 0, &err) < 0 || h->st->stale ||
	    ha_cfg_load(h->ctx->config_dir, 0, &hc, NULL, NULL, &err) < 0)
		goto out;
	/* what the fence would stop */
	ha_started_of(&hc, &cc.guests, h->ctx->node, &ids, &n);
	pthread_mutex_lock(&h->mu);
	free(h->mine);
	h->mine = xcalloc(n + 1, sizeof(*h->mine));
	for (size_t i = 0; i < n; i++)
		h->mine[i] = (struct ha_guest){ ids[i], guests_find(&cc.guests, ids[i])->type, 0 };
	h->nmine = n;
	pthread_mutex_unlock(&h->mu);
	free(ids);
	ids = NULL;

	if (h->kid_running || now - h->last_spawn < h->retry_ms)
		goto out;
	if (!h->nfence && !hc.nres)
		goto out; /* no HA here: nothing to watch */
	if (resume_next(h))
		goto out;
	for (size_t i = 0; i < cc.nodes.nr; i++)
		if (strcmp(cc.nodes.v[i].name, h->ctx->node))
			strvec_push(&names, cc.nodes.v[i].name);
	if (!names.nr || store_members(h->st, &names, 1, &m, &err) < 0)
		goto out;
	ha_watch_update(&h->watch, m, names.nr, volrep_now());
	for (size_t i = 0; i < names.nr; i++) {
		int64_t since = ha_watch_dead_since(&h->watch, names.v[i], volrep_now(), cfg->ha_grace);
		char sbuf[32];

		if (!since)
			continue;
		ha_guests_of(&hc, &cc.guests, names.v[i], &ids, &n);
		free(ids);
		ids = NULL;
		if (!n)
			continue;
		info("ha: node '%s' has had no liveness key since %" PRId64 " (ha-grace %u s): recovering its %zu HA "
		     "guest(s)", names.v[i], since, cfg->ha_grace, n);
		snprintf(sbuf, sizeof(sbuf), "%" PRId64, since);
		h->kid_resume = 0;
		spawn(h, "recover", names.v[i], sbuf);
		break;
	}
out:
	store_members_release(m, m ? names.nr : 0);
	strvec_clear(&names);
	ha_cfg_release(&hc);
	cluster_config_release(&cc);
	strbuf_release(&err);
}

int64_t ha_daemon_timeout(const struct ha_daemon *h, int64_t timeout)
{
	int64_t t;

	if (!h)
		return timeout;
	t = h->kid_running ? 100 : h->next_tick - ha_clock_ms();
	if (t < 0)
		t = 0;
	return t < timeout ? t : timeout;
}

void ha_daemon_stop(struct ha_daemon *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
	/* without this daemon nothing fences the node, and its liveness key
	 * goes now: its HA guests would be recovered elsewhere while running */
	for (size_t i = 0; i < h->nmine; i++) {
		struct strbuf err = STRBUF_INIT;

		if (guest_hook_stop(h->ctx->config_dir, h->ctx->node, h->mine[i].type, h->mine[i].vmid, &err) < 0)
			error("ha: stopping guest %" PRIu32 " at shutdown failed: %s", h->mine[i].vmid, err.buf);
		else
			info("ha: guest %" PRIu32 " stopped (the daemon stops: nothing would fence this node)",
			     h->mine[i].vmid);
		strbuf_release(&err);
	}
	if (h->kid_running) {
		child_kill(&h->kid, SIGTERM);
		child_finish(&h->kid);
	}
	ha_watch_release(&h->watch);
	free(h->mine);
	free(h->fence);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
