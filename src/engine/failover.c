#include "engine/failover.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/time-util.h"
#include "base/xalloc.h"
#include "cluster/store.h"
#include "config/cluster.h"
#include "engine/handover.h"
#include "engine/hook.h"
#include "engine/pvelock.h"
#include "engine/remote.h"
#include "engine/replica.h"
#include "state/state.h"
#include "transport/ssh.h"

/* how long a failover waits for another one of the same guest */
#define FAILOVER_LOCK_TIMEOUT_MS 120000

struct fo {
	const struct context *ctx;
	const struct failover_opts *o;
	struct cluster_config cc;
	const struct guest *g;
	struct volume_list vols;
	struct strvec volids;
	struct replica_candidate *cand;
	size_t ncand;
	char *leftover_lock; /* pmxcfs: a removable `lock:` of the config */
};

static void out_line(const struct fo *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_line(const struct fo *f, const char *fmt, ...)
{
	va_list ap;

	if (!f->o->out)
		return;
	va_start(ap, fmt);
	vfprintf(f->o->out, fmt, ap);
	va_end(ap);
	fputc('\n', f->o->out);
	fflush(f->o->out);
}

static void fmt_time(char *buf, size_t size, int64_t t)
{
	if (!*format_time(buf, size, t))
		snprintf(buf, size, "%" PRId64, t);
}

static void log_out(void *data, const char *msg)
{
	out_line(data, "  %s", msg);
}

/* Does node answer on ssh (whatever volrep says there)? 1: it does; 0:
 * it is unreachable (no route, refused, timed out), the reason in why;
 * -1: cannot tell (no valid address, a host key mismatch, a refused key,
 * a dropped connection...), the reason in why. A node is taken for dead
 * only on the second answer: anything ambiguous fails closed. */
static int node_answers(struct fo *f, const char *node, struct strbuf *why)
{
	struct transport t = TRANSPORT_INIT;
	struct strvec argv = STRVEC_INIT;
	struct strbuf rerr = STRBUF_INIT;
	int r = remote_open(&t, &f->cc.nodes, node, f->ctx->state_dir, why);

	if (r < 0)
		return -1;
	remote_set_persist(&t, f->ctx->config_dir);
	strvec_push(&argv, remote_bin());
	strvec_push(&argv, "version");
	r = transport_run(&t, (const char *const *)argv.v, NULL, 0, NULL, &rerr, 1u << 16);
	if (r < 0)
		transport_describe(&t, (const char *const *)argv.v, r, rerr.buf, why);
	if (r == -ENOTCONN)
		r = t.ops == &ssh_transport_ops && ssh_unreachable(rerr.buf) ? 0 : -1;
	else
		r = r < 0 && r != -EFBIG ? -1 : 1;
	transport_release(&t);
	strvec_clear(&argv);
	strbuf_release(&rerr);
	return r;
}

/* Run a verb on node, or fail with the message in err. */
static int call_node(struct fo *f, const char *node, const struct strvec *argv, struct strbuf *out,
		     struct strbuf *err)
{
	struct transport t = TRANSPORT_INIT;
	int r = remote_open(&t, &f->cc.nodes, node, f->ctx->state_dir, err);

	if (r == 0) {
		remote_set_persist(&t, f->ctx->config_dir);
		r = remote_call(&t, NULL, argv, out, NULL, err);
		transport_release(&t);
	}
	return r;
}

static void add_candidate(struct fo *f, const char *node)
{
	for (size_t i = 0; i < f->ncand; i++)
		if (!strcmp(f->cand[i].node, node))
			return;
	f->cand = xrealloc(f->cand, (f->ncand + 1) * sizeof(*f->cand));
	f->cand[f->ncand++] = (struct replica_candidate){ .node = xstrdup(node), .snaps = SNAP_MAP_INIT };
}

static void query(struct fo *f, struct replica_candidate *c)
{
	struct strbuf e = STRBUF_INIT, out = STRBUF_INIT;
	int r;

	if (!strcmp(c->node, f->ctx->node)) {
		r = replica_list(&f->cc, c->node, f->g->vmid, &f->volids, &c->snaps, &e);
	} else {
		struct strvec argv = STRVEC_INIT;

		strvec_push(&argv, remote_bin());
		strvec_push(&argv, "replica-snapshots");
		strvec_pushf(&argv, "%" PRIu32, f->g->vmid);
		for (size_t i = 0; i < f->volids.nr; i++)
			strvec_push(&argv, f->volids.v[i]);
		r = call_node(f, c->node, &argv, &out, &e);
		if (r == 0) {
			strbuf_rtrim(&out);
			r = snap_map_from_json(out.buf, out.len, &c->snaps, &e);
		}
		strvec_clear(&argv);
	}
	c->reachable = r == 0;
	if (r < 0)
		c->error = strbuf_detach(&e, NULL);
	strbuf_release(&e);
	strbuf_release(&out);
}

static void print_plan(struct fo *f, int pick, int64_t now)
{
	const struct replica_candidate *p = &f->cand[pick];
	char when[64];

	out_line(f, "replicas of guest %" PRIu32 " (%zu volume%s):", f->g->vmid, f->volids.nr,
		 f->volids.nr == 1 ? "" : "s");
	for (size_t i = 0; i < f->ncand; i++) {
		const struct replica_candidate *c = &f->cand[i];

		if (!c->reachable) {
			out_line(f, "  %-16s unreachable: %s", c->node, c->error);
		} else if (!c->complete) {
			out_line(f, "  %-16s no complete replica (no replication snapshot on every volume)", c->node);
		} else {
			fmt_time(when, sizeof(when), c->time);
			out_line(f, "  %-16s %s  %s%s", c->node, when, c->snap, (int)i == pick ? "  <- chosen" : "");
		}
	}
	fmt_time(when, sizeof(when), p->time);
	out_line(f, "data-loss window: everything written on '%s' after %s (%" PRId64 " s ago) is lost", f->g->node, when,
		 now - p->time);
	out_line(f, "plan: roll back the volumes on '%s' to '%s', move the config from '%s' to '%s', rewrite the jobs, "
		 "start the guest on '%s'", p->node, p->snap, f->g->node, p->node, p->node);
}

static int clear_state_fn(struct state *st, void *data, struct strbuf *err)
{
	(void)err;
	return state_delete_guest(st, *(uint32_t *)data);
}

/* Steps 4: roll back and clear the state on the chosen node. */
static int take_over_volumes(struct fo *f, const struct replica_candidate *p, struct strbuf *err)
{
	char vmidbuf[16];
	int r;

	snprintf(vmidbuf, sizeof(vmidbuf), "%" PRIu32, f->g->vmid);
	if (!strcmp(p->node, f->ctx->node)) {
		struct elog log = { .fn = log_out, .data = f };

		r = replica_rollback(&f->cc, p->node, f->g->vmid, p->snap, &f->volids, &log, err);
		if (r == 0)
			r = state_update(f->ctx->state_dir, clear_state_fn, (void *)&f->g->vmid, err);
	} else {
		struct strvec argv = STRVEC_INIT;

		strvec_push(&argv, remote_bin());
		strvec_push(&argv, "replica-rollback");
		strvec_push(&argv, vmidbuf);
		strvec_push(&argv, p->snap);
		for (size_t i = 0; i < f->volids.nr; i++)
			strvec_push(&argv, f->volids.v[i]);
		r = call_node(f, p->node, &argv, NULL, err);
		if (r == 0) {
			for (size_t i = 0; i < f->volids.nr; i++)
				out_line(f, "  rollback '%s' to '%s'", f->volids.v[i], p->snap);
			strvec_clear(&argv);
			remote_set_state_argv(&argv, vmidbuf, "{}");
			r = call_node(f, p->node, &argv, NULL, err);
		}
		strvec_clear(&argv);
	}
	return r;
}

/* Step 6 */
static int start_guest(struct fo *f, const char *node, struct strbuf *err)
{
	struct strvec argv = STRVEC_INIT;
	int r;

	if (!strcmp(node, f->ctx->node))
		return guest_hook_start(f->ctx->config_dir, node, f->g->type, f->g->vmid, err);
	strvec_push(&argv, remote_bin());
	strvec_push(&argv, "guest-start");
	strvec_pushf(&argv, "%" PRIu32, f->g->vmid);
	r = call_node(f, node, &argv, NULL, err);
	strvec_clear(&argv);
	return r;
}

static int execute(struct fo *f, int pick, struct strbuf *err)
{
	const struct replica_candidate *p = &f->cand[pick];
	struct strvec jobs = STRVEC_INIT;
	struct strbuf e = STRBUF_INIT;
	char *old = xstrdup(f->g->node);
	int r;

	out_line(f, "rolling back the replica on '%s'", p->node);
	r = take_over_volumes(f, p, &e);
	if (r < 0) {
		strbuf_addf(err, "rollback on '%s' failed, the guest stays on '%s': %s", p->node, old, e.buf);
		goto out;
	}
	r = guest_hand_over(f->ctx->config_dir, f->g, old, p->node, &jobs, err);
	if (r < 0)
		goto out;
	out_line(f, "guest %" PRIu32 " now lives on '%s'", f->g->vmid, p->node);
	if (f->leftover_lock) {
		struct strbuf name = STRBUF_INIT;

		strbuf_addf(&name, "nodes/%s/%s/%" PRIu32 ".conf", p->node,
			    f->g->type == GUEST_QEMU ? "qemu-server" : "lxc", f->g->vmid);
		strbuf_reset(&e);
		if (pve_remove_conf_lock(store_get(f->ctx->config_dir), name.buf, &e) < 0)
			out_line(f, "WARNING: could not remove the leftover lock '%s': %s", f->leftover_lock, e.buf);
		else
			out_line(f, "removed leftover lock '%s' from guest %" PRIu32 " to allow its start",
				 f->leftover_lock, f->g->vmid);
		strbuf_release(&name);
	}
	if (f->o->result)
		f->o->result->moved = 1;
	for (size_t i = 0; i < jobs.nr; i++) {
		struct strvec w = STRVEC_INIT;

		strvec_split(&w, jobs.v[i], ' ');
		if (w.nr == 3)
			out_line(f, "job %s: %s -> %s%s", w.v[0], w.v[1], w.v[2],
				 !strcmp(w.v[2], old) ? " (resynced from the new owner when it is back)" : "");
		strvec_clear(&w);
	}
	if (f->o->no_start) {
		out_line(f, "guest %" PRIu32 " left stopped on '%s'", f->g->vmid, p->node);
		goto out;
	}
	r = start_guest(f, p->node, &e);
	if (r < 0) {
		strbuf_addf(err, "guest %" PRIu32 " moved to '%s' but did not start: %s", f->g->vmid, p->node, e.buf);
		goto out;
	}
	out_line(f, "guest %" PRIu32 " started on '%s'", f->g->vmid, p->node);
	if (f->o->result)
		f->o->result->started = 1;
out:
	free(old);
	strvec_clear(&jobs);
	strbuf_release(&e);
	return r;
}

/* etcd: the owner's liveness key says its daemon is alive (or stopped
 * less than the key's TTL ago). 1 alive, 0 not, < 0 error. */
static int owner_alive(struct store *st, const char *node, struct strbuf *err)
{
	struct strvec names = STRVEC_INIT;
	struct store_member *m = NULL;
	int r;

	strvec_push(&names, node);
	r = store_members(st, &names, 1, &m, err);
	if (r == 0)
		r = m[0].online;
	store_members_release(m, r < 0 ? 0 : 1);
	strvec_clear(&names);
	return r;
}

/* HA: a node without its liveness key may be cut off from the cluster
 * and fencing itself; it must not be given a guest to start. Such
 * candidates stay in the list as unreachable, with the reason. */
static void drop_offline(struct fo *f, struct store *st)
{
	struct strvec names = STRVEC_INIT;
	struct store_member *m = NULL;
	struct strbuf e = STRBUF_INIT;
	int r;

	for (size_t i = 0; i < f->ncand; i++)
		strvec_push(&names, f->cand[i].node);
	r = store_members(st, &names, 1, &m, &e);
	for (size_t i = 0; i < f->ncand; i++)
		if (r < 0 || !m[i].online) {
			f->cand[i].reachable = 0;
			f->cand[i].error = r < 0 ? xstrdup(e.buf) : xstrdup("no liveness key (not in the cluster now)");
		}
	store_members_release(m, r < 0 ? 0 : names.nr);
	strvec_clear(&names);
	strbuf_release(&e);
}

/* --snapshot: an older restore point (a job's "keep"). The chosen node
 * when it has the snapshot on every volume, else the first complete
 * candidate that has. Returns the index (its snap/time set to the
 * snapshot) or -ENOENT. */
static int pick_restore_point(struct replica_candidate *c, size_t n, int pick, const struct strvec *volids,
			      const char *snap, uint32_t vmid, struct strbuf *err)
{
	int64_t t;

	if (!repl_snap_time(snap, &t)) {
		strbuf_addf(err, "'%s' is not a replication snapshot", snap);
		return -EINVAL;
	}
	for (size_t k = 0; k <= n; k++) {
		/* the chosen one first, then the others in order */
		size_t i = k == 0 ? (size_t)pick : k - 1;
		int all = c[i].complete && volids->nr;

		if (k > 0 && (int)i == pick)
			continue;
		for (size_t v = 0; v < volids->nr && all; v++) {
			const struct vol_snaps *vs = snap_map_find(&c[i].snaps, volids->v[v]);

			all = vs && backend_snapshot_list_find(&vs->snaps, snap) != NULL;
		}
		if (all) {
			c[i].snap = snap;
			c[i].time = t;
			return (int)i;
		}
	}
	strbuf_addf(err, "no replica of guest '%" PRIu32 "' has snapshot '%s' on every volume", vmid, snap);
	return -ENOENT;
}

/* pmxcfs: a `lock:` in the guest's config. The locks PVE's HA recovery
 * drops after fencing (pvelock.h) are left by the dead node's operations:
 * removed after the move; any other refuses, as PVE's check_lock would
 * refuse to start the guest. */
static int check_conf_lock(struct fo *f, struct strbuf *err)
{
	struct guest_conf gc = GUEST_CONF_INIT;
	const char *lock;
	int r;

	if (!pve_mode())
		return 0;
	r = guest_conf_load(&gc, f->g, NULL);
	if (r < 0) {
		strbuf_addf(err, "unable to read the config of guest '%" PRIu32 "' - %s", f->g->vmid, strerror(-r));
		guest_conf_release(&gc);
		return r;
	}
	lock = guest_conf_get(&gc, "lock");
	if (lock && *lock && pve_lock_removable(lock)) {
		f->leftover_lock = xstrdup(lock);
		out_line(f, "guest %" PRIu32 " has the leftover lock '%s' of node '%s': removed after the move (as "
			 "PVE's HA recovery does)", f->g->vmid, lock, f->g->node);
	} else if (lock && *lock) {
		r = pve_check_conf_lock(&gc, f->g->type, f->g->vmid, err);
		strbuf_addstr(err, " - refusing to fail over");
	}
	guest_conf_release(&gc);
	return r;
}

/* The guest and the target asked for, checked against the cluster's
 * configuration (read fresh: a stale copy is no ground to move a guest). */
static int load_guest(struct fo *f, struct store *st, const char *expect_owner, struct strbuf *err)
{
	const struct failover_opts *o = f->o;
	int r = cluster_config_load(&f->cc, f->ctx->config_dir, 0, err);

	if (r < 0)
		return r;
	if (st->stale) {
		strbuf_addf(err, "cluster not quorate: %s", st->stale_why ? st->stale_why : "");
		return -ENOTCONN;
	}
	f->g = guests_find(&f->cc.guests, o->vmid);
	if (!f->g) {
		strbuf_addf(err, "no such guest '%" PRIu32 "'", o->vmid);
		return -EINVAL;
	}
	if (expect_owner && strcmp(f->g->node, expect_owner)) {
		strbuf_addf(err, "guest %" PRIu32 " was already moved to '%s'", o->vmid, f->g->node);
		return -EALREADY;
	}
	if (o->to && !nodes_cfg_find(&f->cc.nodes, o->to)) {
		strbuf_addf(err, "no such cluster node '%s'", o->to);
		return -EINVAL;
	}
	if (o->to && !strcmp(o->to, f->g->node)) {
		strbuf_addf(err, "guest '%" PRIu32 "' already lives on '%s'", o->vmid, o->to);
		return -EINVAL;
	}
	if (!o->to && !strcmp(f->g->node, f->ctx->node)) {
		strbuf_addf(err, "guest '%" PRIu32 "' lives on this node ('%s') - nothing to fail over", o->vmid,
			    f->ctx->node);
		return -EINVAL;
	}
	return 0;
}

/* The guest's replicated volumes, once its config lock is found harmless. */
static int load_volumes(struct fo *f, struct strbuf *err)
{
	int r = check_conf_lock(f, err);

	if (r < 0)
		return r;
	if (cluster_guest_volumes(&f->cc, f->g, 0, &f->vols, err) < 0)
		return -EINVAL;
	if (!f->vols.nr) {
		strbuf_addf(err, "guest '%" PRIu32 "' has no replicated volumes", f->o->vmid);
		return -EINVAL;
	}
	for (size_t i = 0; i < f->vols.nr; i++)
		strvec_push(&f->volids, f->vols.v[i].volid);
	return 0;
}

/* etcd: an owner whose liveness key exists is alive; only --force
 * --confirm-down <owner> says otherwise. */
static int check_liveness(struct fo *f, struct store *st, struct strbuf *err)
{
	const struct failover_opts *o = f->o;
	int r;

	if (st->kind != STORE_ETCD)
		return 0;
	r = owner_alive(st, f->g->node, err);
	if (r < 0)
		return r;
	if (r > 0 && !(o->force && o->confirm_down && !strcmp(o->confirm_down, f->g->node))) {
		strbuf_addf(err, "node '%s' of guest %" PRIu32 " is alive in the cluster (its liveness key "
			    "exists: its daemon runs, or stopped only seconds ago) - refusing to fail over (use "
			    "migrate; if the node is really down, see docs/cluster.md: --force --confirm-down %s)",
			    f->g->node, o->vmid, f->g->node);
		return -EEXIST;
	}
	if (r > 0)
		out_line(f, "WARNING: node '%s' still holds its liveness key; failing over on your "
			 "confirmation that it is down", f->g->node);
	return 0;
}

/* The owner must not answer on ssh (nor be beyond telling), unless --force. */
static int check_owner_down(struct fo *f, struct strbuf *err)
{
	const struct failover_opts *o = f->o;
	struct strbuf why = STRBUF_INIT;
	int answers = node_answers(f, f->g->node, &why), r = 0;

	if (answers < 0) {
		if (!o->force) {
			strbuf_addf(err, "cannot tell whether node '%s' of guest %" PRIu32 " is down: %s - refusing to "
				    "fail over (fix the ssh access, or --force if it really is dead to its guests)",
				    f->g->node, o->vmid, why.buf);
			r = -EHOSTUNREACH;
		} else {
			out_line(f, "WARNING: cannot tell whether node '%s' is down (%s): if guest %" PRIu32
				 " runs there, it will run twice (split brain)", f->g->node, why.buf, o->vmid);
		}
	} else if (answers) {
		if (!o->force) {
			strbuf_addf(err, "node '%s' of guest %" PRIu32 " still answers on ssh - refusing to fail over "
				    "(use migrate, or --force if it really is dead to its guests)", f->g->node, o->vmid);
			r = -EEXIST;
		} else {
			out_line(f, "WARNING: node '%s' still answers: if guest %" PRIu32 " runs there, it will run "
				 "twice (split brain) and writes on '%s' are lost", f->g->node, o->vmid, f->g->node);
		}
	} else {
		out_line(f, "node '%s' does not answer: %s", f->g->node, why.buf);
	}
	strbuf_release(&why);
	return r;
}

/* The replica to fail over to: the candidates (--to, or the targets of the
 * guest's jobs) asked for their snapshots, the best one picked. Returns
 * its index or -errno. */
static int choose_replica(struct fo *f, struct store *st, struct strbuf *err)
{
	const struct failover_opts *o = f->o;
	int pick;

	if (o->to) {
		add_candidate(f, o->to);
	} else {
		for (size_t i = 0; i < f->cc.jobs.nr; i++)
			if (f->cc.jobs.v[i].guest == o->vmid && strcmp(f->cc.jobs.v[i].target, f->g->node))
				add_candidate(f, f->cc.jobs.v[i].target);
	}
	if (o->online_only && st->kind == STORE_ETCD)
		drop_offline(f, st);
	for (size_t i = 0; i < f->ncand; i++)
		if (!f->cand[i].error)
			query(f, &f->cand[i]);
	pick = replica_choose(f->cand, f->ncand, o->vmid, &f->volids, o->to, f->ctx->node, err);
	if (pick >= 0 && o->prefer && !o->to)
		pick = replica_prefer(f->cand, f->ncand, pick, o->prefer);
	if (pick >= 0 && o->snapshot)
		pick = pick_restore_point(f->cand, f->ncand, pick, &f->volids, o->snapshot, o->vmid, err);
	if (pick < 0)
		for (size_t i = 0; i < f->ncand; i++)
			if (!f->cand[i].reachable)
				strbuf_addf(err, "; '%s' unreachable: %s", f->cand[i].node, f->cand[i].error);
	return pick;
}

static void record_result(struct fo *f, int pick, struct failover_result *res)
{
	res->from = xstrdup(f->g->node);
	res->to = xstrdup(f->cand[pick].node);
	res->snap = xstrdup(f->cand[pick].snap);
	res->snap_time = f->cand[pick].time;
	res->decided = volrep_now();
}

static int failover_run(const struct context *ctx, const struct failover_opts *o, const char *expect_owner,
			struct strbuf *err)
{
	struct fo f = { .ctx = ctx, .o = o, .cc = CLUSTER_CONFIG_INIT, .volids = STRVEC_INIT };
	struct store *st = store_get(ctx->config_dir);
	int r, pick;

	r = load_guest(&f, st, expect_owner, err);
	if (r == 0)
		r = load_volumes(&f, err);
	if (r == 0)
		r = check_liveness(&f, st, err);
	if (r == 0)
		r = check_owner_down(&f, err);
	if (r < 0)
		goto out;
	pick = choose_replica(&f, st, err);
	if (pick < 0) {
		r = pick;
		goto out;
	}
	print_plan(&f, pick, volrep_now());
	if (o->result)
		record_result(&f, pick, o->result);
	r = 0;
	if (o->dry_run)
		out_line(&f, "dry run: nothing changed");
	else
		r = execute(&f, pick, err);
out:
	for (size_t i = 0; i < f.ncand; i++)
		replica_candidate_release(&f.cand[i]);
	free(f.cand);
	free(f.leftover_lock);
	volume_list_release(&f.vols);
	strvec_clear(&f.volids);
	cluster_config_release(&f.cc);
	return r;
}

void failover_result_release(struct failover_result *res)
{
	free(res->from);
	free(res->to);
	free(res->snap);
	memset(res, 0, sizeof(*res));
}

int failover_guest(const struct context *ctx, const struct failover_opts *o, struct strbuf *err)
{
	struct store *st = store_get(ctx->config_dir);
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct store_lock lk = STORE_LOCK_INIT;
	struct strbuf name = STRBUF_INIT;
	const struct guest *g;
	char *owner = NULL;
	int r;

	if (st->kind == STORE_DIR)
		return failover_run(ctx, o, NULL, err);
	/* who owns it before we wait: when that changes while we wait for the
	 * guest's lock, another node failed it over first */
	if ((r = store_require_quorum(st, err)) < 0 || (r = cluster_config_load(&cc, ctx->config_dir, 0, err)) < 0)
		goto out;
	g = guests_find(&cc.guests, o->vmid);
	if (!g) {
		strbuf_addf(err, "no such guest '%" PRIu32 "'", o->vmid);
		r = -EINVAL;
		goto out;
	}
	owner = xstrdup(g->node);
	strbuf_addf(&name, "guest-%" PRIu32, o->vmid);
	r = store_lock(st, name.buf, FAILOVER_LOCK_TIMEOUT_MS, 0, &lk, err);
	if (r < 0)
		goto out;
	r = failover_run(ctx, o, owner, err);
	store_unlock(st, &lk);
out:
	free(owner);
	cluster_config_release(&cc);
	strbuf_release(&name);
	return r;
}
