#include "engine/migrate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/time-util.h"
#include "cluster/store.h"
#include "engine/handover.h"
#include "engine/hook.h"
#include "engine/joblog.h"
#include "engine/prepare.h"
#include "engine/pveguest.h"
#include "engine/pvelock.h"
#include "engine/remote.h"
#include "engine/replicate.h"
#include "engine/storemap.h"
#include "state/state.h"

void migrate_result_release(struct migrate_result *res)
{
	strvec_clear(&res->volumes);
	strvec_clear(&res->jobs);
}

int migrate_check(const struct cluster_config *cc, const char *node, uint32_t vmid, const char *target,
		  int online, const struct guest **gp, struct strbuf *err)
{
	const struct guest *g = guests_find(&cc->guests, vmid);
	const struct repl_job *job;

	if (!g) {
		strbuf_addf(err, "no such guest '%" PRIu32 "'", vmid);
		return -EINVAL;
	}
	if (strcmp(g->node, node)) {
		strbuf_addf(err, "guest '%" PRIu32 "' is not on local node '%s' (its config is on '%s')", vmid, node,
			    g->node);
		return -EINVAL;
	}
	if (!nodes_cfg_find(&cc->nodes, target)) {
		strbuf_addf(err, "no such cluster node '%s'", target);
		return -EINVAL;
	}
	if (!strcmp(target, node)) {
		strbuf_addf(err, "target '%s' is the local node", target);
		return -EINVAL;
	}
	if (online) {
		strbuf_addstr(err, "online migration is not supported - stop the guest and migrate it offline");
		return -EINVAL;
	}
	job = jobs_cfg_find_target(&cc->jobs, vmid, target);
	if (job && job->remove_job) {
		strbuf_addstr(err, "refusing to migrate replicated VM whose replication job is marked for removal");
		return -EINVAL;
	}
	*gp = g;
	return 0;
}

/* ---- steps ---- */

/* A job id of the guest that no job uses, for the full copy. */
static void free_job_id(const struct jobs_cfg *jc, uint32_t vmid, struct strbuf *id)
{
	for (uint32_t n = 0;; n++) {
		strbuf_reset(id);
		strbuf_addf(id, "%" PRIu32 "-%" PRIu32, vmid, n);
		if (!jobs_cfg_find(jc, id->buf))
			return;
	}
}

struct drop_data {
	uint32_t vmid;
	const char *target;
};

/* Forget the state of (vmid, target): a record_job_end of a successful
 * removal deletes exactly that entry. */
static int drop_entry_fn(struct state *st, void *data, struct strbuf *err)
{
	struct drop_data *d = data;
	struct job_state js = JOB_STATE_INIT;
	int r = state_get_job(st, d->vmid, d->target, &js);

	job_state_release(&js);
	(void)err;
	if (r <= 0)
		return r;
	return state_record_job_end(st, d->vmid, d->target, 0, 0, NULL, true);
}

static int drop_guest_fn(struct state *st, void *data, struct strbuf *err)
{
	(void)err;
	return state_delete_guest(st, *(uint32_t *)data);
}

/* Wait (at most 2 s) until the clock is past last_sync: snapshot names
 * hold the start second, and a run must start after the last sync. */
static int64_t start_time_after(const struct context *ctx, uint32_t vmid, const char *target)
{
	struct state *st = NULL;
	struct job_state js = JOB_STATE_INIT;
	int64_t last = 0, now = volrep_now();

	if (state_load(ctx->state_dir, &st, NULL) == 0 && state_get_job(st, vmid, target, &js) >= 0)
		last = js.last_sync;
	job_state_release(&js);
	state_free(st);
	for (int i = 0; i < 40 && now <= last; i++) {
		struct timespec ts = { 0, 50000000L };

		nanosleep(&ts, NULL);
		now = volrep_now();
	}
	return now;
}

/* After a full copy: the temporary job's snapshots and log go. */
static void drop_temp_job(const struct context *ctx, const struct cluster_config *cc, struct transport *t,
			  const char *jobid, const struct volume_list *vols, int64_t start)
{
	struct storemap sm = STOREMAP_INIT(&cc->storages, ctx->node);
	struct strbuf snap = STRBUF_INIT, e = STRBUF_INIT, log = STRBUF_INIT;
	struct strvec argv = STRVEC_INIT, volids = STRVEC_INIT;

	repl_snapname(&snap, jobid, start);
	for (size_t i = 0; i < vols->nr; i++) {
		struct backend *b;

		strvec_push(&volids, vols->v[i].volid);
		if (storemap_get(&sm, vols->v[i].storage, &b, NULL) == 0)
			backend_delete_snapshot(b, vols->v[i].volname, snap.buf);
	}
	/* last_sync 1: every snapshot of that job on the target */
	remote_finalize_argv(&argv, jobid, &volids, 1);
	remote_call(t, NULL, &argv, NULL, NULL, &e);
	joblog_run_path(&log, ctx->log_dir, jobid, 0);
	unlink(log.buf);
	storemap_release(&sm);
	strbuf_release(&log);
	strbuf_release(&snap);
	strbuf_release(&e);
	strvec_clear(&argv);
	strvec_clear(&volids);
}

static int transfer_state(const struct context *ctx, struct transport *t, uint32_t vmid, const char *target,
			  struct strbuf *err)
{
	struct state *st = NULL;
	struct strvec argv = STRVEC_INIT;
	struct strbuf e = STRBUF_INIT;
	char *json = NULL, vmidbuf[16];
	int r = state_load(ctx->state_dir, &st, &e);

	if (r == 0)
		r = state_extract_guest(st, vmid, target, ctx->node, &json);
	if (r == 0) {
		snprintf(vmidbuf, sizeof(vmidbuf), "%" PRIu32, vmid);
		remote_set_state_argv(&argv, vmidbuf, json);
		r = remote_call(t, NULL, &argv, NULL, NULL, &e);
	}
	if (r < 0)
		strbuf_addf(err, "transfer replication state failed - %s", e.buf);
	strbuf_release(&e);
	state_free(st);
	free(json);
	strvec_clear(&argv);
	return r;
}

/* Bad input must leave nothing behind, not even a lock file: the checks
 * once before locking (and again under the lock). */
static int precheck(const struct context *ctx, const struct migrate_opts *o, struct strbuf *err)
{
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	const struct guest *g = NULL;
	int r = cluster_config_load(&cc, ctx->config_dir, 0, err);

	if (r == 0)
		r = migrate_check(&cc, ctx->node, o->vmid, o->target, o->online, &g, err);
	cluster_config_release(&cc);
	return r;
}

/* The guest's local lock: -EBUSY when it cannot be had. */
static int lock_guest(const struct context *ctx, uint32_t vmid, struct lock *lk, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	strbuf_addf(&path, "%s/lock", ctx->state_dir);
	r = mkdir_p(path.buf, 0755);
	strbuf_reset(&path);
	guest_lock_path(&path, ctx->state_dir, vmid);
	if (r == 0)
		r = lock_acquire(lk, path.buf, MIGRATE_LOCK_TIMEOUT_MS);
	if (r < 0) {
		strbuf_addf(err, "can't lock file '%s' - %s", path.buf,
			    r == -ETIMEDOUT || r == -EWOULDBLOCK ? "got timeout" : strerror(-r));
		r = -EBUSY;
	}
	strbuf_release(&path);
	return r;
}

/* pmxcfs: PVE's locks, in the order PVE's migration takes them, and no
 * `lock:` in the config (engine/pvelock.h). */
static int pve_locks(const struct guest *g, struct lock *pvelk, struct lock *cfglk, struct guest_conf *gc,
		     struct strbuf *err)
{
	int r;

	if ((r = pve_guest_lock(pvelk, g->vmid, PVE_LOCK_TIMEOUT_MS, err)) < 0 ||
	    (r = pve_config_lock(cfglk, g->type, g->vmid, PVE_LOCK_TIMEOUT_MS, err)) < 0)
		return r;
	if (pve_mode() && (r = guest_conf_load(gc, g, NULL)) < 0) {
		strbuf_addf(err, "unable to read the config of guest '%" PRIu32 "' - %s", g->vmid, strerror(-r));
		return r;
	}
	if (pve_mode() && (r = pve_check_conf_lock(gc, g->type, g->vmid, err)) < 0)
		return r;
	return 0;
}

/* Only a stopped guest moves: on PVE, PVE's run files first
 * (engine/pveguest.h), then the hook. */
static int check_stopped(const struct context *ctx, const struct guest *g, struct strbuf *err)
{
	int r = pve_guest_state_on() && pve_guest_running(g->type, g->vmid);

	if (r == 0)
		r = guest_hook_running(ctx->config_dir, ctx->node, g->type, g->vmid, err);
	if (r > 0) {
		strbuf_addf(err, "guest '%" PRIu32 "' is running - stop it first (online migration is not supported)",
			    g->vmid);
		r = -EBUSY;
	}
	return r;
}

/* The final sync of the guest's volumes to the target: with the guest's
 * job to it, or a temporary one (a full sync) when it has none. */
static int final_sync(const struct context *ctx, struct cluster_config *cc, struct transport *t,
		      const struct guest *g, const struct migrate_opts *o, const struct volume_list *vols,
		      struct migrate_result *res, struct strbuf *err)
{
	const struct repl_job *job = jobs_cfg_find_target(&cc->jobs, g->vmid, o->target);
	struct drop_data dd = { .vmid = g->vmid, .target = o->target };
	struct repl_job tmp = { 0 };
	struct run_opts ro = RUN_OPTS_INIT;
	struct strbuf tmpid = STRBUF_INIT, e = STRBUF_INIT;
	int r;

	if (!job) {
		free_job_id(&cc->jobs, g->vmid, &tmpid);
		tmp.id = tmpid.buf;
		tmp.guest = g->vmid;
		tmp.target = (char *)o->target;
		/* no job to the target: an entry for it is stale */
		r = state_update(ctx->state_dir, drop_entry_fn, &dd, err);
		if (r < 0)
			goto out;
		res->full = 1;
	}
	ro.start_time = ro.iteration = start_time_after(ctx, g->vmid, o->target);
	ro.guest_locked = 1;
	ro.migration_traffic = 1;
	ro.echo = o->echo;
	ro.bytes_sent = &res->bytes_sent;
	r = run_replication(ctx, cc, job ? job : &tmp, &ro, &e);
	if (r < 0) {
		strbuf_addf(err, "final replication to '%s' failed: %s", o->target, e.buf);
		goto out;
	}
	if (!job) {
		drop_temp_job(ctx, cc, t, tmpid.buf, vols, ro.start_time);
		r = state_update(ctx->state_dir, drop_entry_fn, &dd, err);
		if (r < 0)
			goto out;
	}
	res->synced = 1;
	if (job)
		snprintf(res->sync_job, sizeof(res->sync_job), "%s", job->id);
	for (size_t i = 0; i < vols->nr; i++)
		strvec_push(&res->volumes, vols->v[i].volid);
	r = 0;
out:
	strbuf_release(&tmpid);
	strbuf_release(&e);
	return r;
}

/* What a migration holds while it runs, all let go by mig_release. */
struct mig {
	struct cluster_config cc;
	const struct guest *g;
	struct volume_list vols;
	struct transport t;
	int t_open;
	struct lock lk, pvelk, cfglk;
	struct guest_conf gc;
};
#define MIG_INIT                                                                                              \
	{ .cc = CLUSTER_CONFIG_INIT, .t = TRANSPORT_INIT, .lk = LOCK_INIT, .pvelk = LOCK_INIT, .cfglk = LOCK_INIT, \
	  .gc = GUEST_CONF_INIT }

static void mig_release(struct mig *m)
{
	lock_release(&m->cfglk);
	lock_release(&m->pvelk);
	lock_release(&m->lk);
	guest_conf_release(&m->gc);
	if (m->t_open)
		transport_release(&m->t);
	volume_list_release(&m->vols);
	cluster_config_release(&m->cc);
}

/* Under the guest's lock: a quorate cluster (etcd), the move still valid,
 * PVE's locks, the volumes, the guest stopped, the target connected. */
static int prepare(struct mig *m, const struct context *ctx, const struct migrate_opts *o, struct strbuf *err)
{
	int r = store_require_quorum(store_get(ctx->config_dir), err);

	if (r < 0)
		return r;
	r = cluster_config_load(&m->cc, ctx->config_dir, 0, err);
	if (r < 0)
		return r;
	r = migrate_check(&m->cc, ctx->node, o->vmid, o->target, o->online, &m->g, err);
	if (r < 0)
		return r;
	r = pve_locks(m->g, &m->pvelk, &m->cfglk, &m->gc, err);
	if (r < 0)
		return r;
	if (cluster_guest_volumes(&m->cc, m->g, 0, &m->vols, err) < 0)
		return -EINVAL;
	r = check_stopped(ctx, m->g, err);
	if (r < 0)
		return r;
	r = remote_open(&m->t, &m->cc.nodes, o->target, ctx->state_dir, err);
	if (r < 0)
		return r;
	remote_set_persist(&m->t, ctx->config_dir);
	m->t_open = 1;
	return 0;
}

/* The move itself: the final sync, the guest's state and config to the
 * target, the local state cleaned. */
static int move_guest(struct mig *m, const struct context *ctx, const struct migrate_opts *o,
		      struct migrate_result *res, struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT;
	int r;

	if (m->vols.nr && (r = final_sync(ctx, &m->cc, &m->t, m->g, o, &m->vols, res, err)) < 0)
		return r;
	r = transfer_state(ctx, &m->t, m->g->vmid, o->target, err);
	if (r < 0)
		return r;
	r = guest_hand_over(ctx->config_dir, m->g, ctx->node, o->target, &res->jobs, err);
	if (r < 0)
		return r;
	if (state_update(ctx->state_dir, drop_guest_fn, (void *)&m->g->vmid, &e) < 0)
		strbuf_addf(err, "migrated, but the local state could not be cleaned: %s", e.buf);
	strbuf_release(&e);
	return 0;
}

int migrate_guest(const struct context *ctx, const struct migrate_opts *o, struct migrate_result *res,
		  struct strbuf *err)
{
	struct mig m = MIG_INIT;
	int r;

	r = precheck(ctx, o, err);
	if (r < 0)
		return r;
	r = lock_guest(ctx, o->vmid, &m.lk, err);
	if (r < 0)
		return r;
	r = prepare(&m, ctx, o, err);
	if (r == 0)
		r = move_guest(&m, ctx, o, res, err);
	mig_release(&m);
	return r;
}
