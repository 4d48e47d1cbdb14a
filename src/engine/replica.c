#include "engine/replica.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse-util.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "engine/pvelock.h"
#include "engine/storemap.h"
#include "engine/target.h"

int repl_snap_time(const char *snap, int64_t *t)
{
	size_t pl = strlen(REPL_SNAP_PREFIX), n = strlen(snap), jl, dl;
	const char *job = snap + pl, *us;
	char num[24], jobid[32];
	int64_t v;

	/* "__replicate_" <jobid: no '_'> "_" <digits> "__" */
	if (strncmp(snap, REPL_SNAP_PREFIX, pl) || n < pl + 4 || strcmp(snap + n - 2, "__") ||
	    !(us = strchr(job, '_')) || us + 1 > snap + n - 2)
		return 0;
	jl = (size_t)(us - job);
	dl = (size_t)(snap + n - 2 - (us + 1));
	if (!jl || jl >= sizeof(jobid) || !dl || dl >= sizeof(num))
		return 0;
	memcpy(jobid, job, jl);
	jobid[jl] = '\0';
	memcpy(num, us + 1, dl);
	num[dl] = '\0';
	if (!valid_job_id(jobid, NULL, NULL) || strspn(num, "0123456789") != dl || parse_i64(num, &v) < 0)
		return 0;
	*t = v;
	return 1;
}

int replica_newest_complete(const struct snap_map *m, const struct strvec *volids, const char **snap, int64_t *t)
{
	const struct vol_snaps *first;
	const char *best = NULL;
	int64_t best_t = 0;

	if (!volids->nr || !(first = snap_map_find(m, volids->v[0])))
		return 0;
	for (size_t i = 1; i < volids->nr; i++)
		if (!snap_map_find(m, volids->v[i]))
			return 0;
	for (size_t k = 0; k < first->snaps.nr; k++) {
		const char *name = first->snaps.v[k].name;
		int64_t st;
		int everywhere = 1;

		if (!repl_snap_time(name, &st))
			continue;
		for (size_t i = 1; i < volids->nr && everywhere; i++)
			everywhere = backend_snapshot_list_find(&snap_map_find(m, volids->v[i])->snaps, name) != NULL;
		if (!everywhere)
			continue;
		if (!best || st > best_t || (st == best_t && strcmp(name, best) < 0)) {
			best = name;
			best_t = st;
		}
	}
	if (!best)
		return 0;
	*snap = best;
	*t = best_t;
	return 1;
}

void replica_candidate_release(struct replica_candidate *c)
{
	free(c->node);
	free(c->error);
	snap_map_release(&c->snaps);
	c->node = c->error = NULL;
	c->snap = NULL;
}

int replica_choose(struct replica_candidate *c, size_t n, uint32_t vmid, const struct strvec *volids,
		   const char *forced, const char *prefer, struct strbuf *err)
{
	long pick = -1;

	for (size_t i = 0; i < n; i++) {
		c[i].complete = c[i].reachable && replica_newest_complete(&c[i].snaps, volids, &c[i].snap, &c[i].time);
		if (!c[i].complete) {
			c[i].snap = NULL;
			c[i].time = 0;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct replica_candidate *p;

		if (!c[i].complete || (forced && strcmp(c[i].node, forced)))
			continue;
		if (pick < 0) {
			pick = (long)i;
			continue;
		}
		p = &c[pick];
		if (c[i].time > p->time ||
		    (c[i].time == p->time && prefer && !strcmp(c[i].node, prefer) && strcmp(p->node, prefer)) ||
		    (c[i].time == p->time && !(prefer && !strcmp(p->node, prefer)) && strcmp(c[i].node, p->node) < 0))
			pick = (long)i;
	}
	if (pick < 0) {
		if (forced)
			strbuf_addf(err, "node '%s' has no complete replica of guest '%" PRIu32 "'", forced, vmid);
		else
			strbuf_addf(err, "no complete replica of guest '%" PRIu32 "' on any reachable node", vmid);
		return -ENOENT;
	}
	return (int)pick;
}

static size_t prefer_rank(const struct strvec *prefer, const char *node)
{
	for (size_t i = 0; i < prefer->nr; i++)
		if (!strcmp(prefer->v[i], node))
			return i;
	return prefer->nr;
}

int replica_prefer(const struct replica_candidate *c, size_t n, int pick, const struct strvec *prefer)
{
	int best = pick;

	if (pick < 0 || (size_t)pick >= n || !prefer)
		return pick;
	for (size_t i = 0; i < n; i++)
		if (c[i].complete && c[i].time == c[pick].time &&
		    prefer_rank(prefer, c[i].node) < prefer_rank(prefer, c[best].node))
			best = (int)i;
	return best;
}

int replica_list(const struct cluster_config *cc, const char *node, uint32_t vmid, const struct strvec *volids,
		 struct snap_map *out, struct strbuf *err)
{
	struct storemap sm = STOREMAP_INIT(&cc->storages, node);
	struct backend_snapshot_list l = BACKEND_SNAPSHOT_LIST_INIT;
	char sid[STOREID_MAX + 1];
	int r = 0;

	if (!volids || !volids->nr) {
		strbuf_addstr(err, "no volumes specified");
		return -EINVAL;
	}
	for (size_t i = 0; i < volids->nr && r == 0; i++) {
		const char *volname;

		r = target_check_volid(cc, node, vmid, volids->v[i], sid, &volname, err);
	}
	for (size_t i = 0; i < volids->nr && r == 0; i++) {
		const char *volname;
		struct backend *b;
		struct vol_snaps *vs;

		target_check_volid(cc, node, vmid, volids->v[i], sid, &volname, err);
		r = storemap_get(&sm, sid, &b, err);
		if (r < 0)
			break;
		backend_snapshot_list_clear(&l);
		r = backend_list_snapshots(b, volname, &l);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		if (r < 0) {
			strbuf_addstr(err, backend_errmsg(b));
			break;
		}
		vs = snap_map_get(out, volids->v[i]);
		for (size_t k = 0; k < l.nr; k++)
			if (repl_snap_any(l.v[k].name))
				backend_snapshot_list_add(&vs->snaps, l.v[k].name, l.v[k].id, l.v[k].creation);
	}
	backend_snapshot_list_clear(&l);
	storemap_release(&sm);
	return r;
}

int replica_rollback(const struct cluster_config *cc, const char *node, uint32_t vmid, const char *snap,
		     const struct strvec *volids, const struct elog *log, struct strbuf *err)
{
	struct snap_map m = SNAP_MAP_INIT;
	struct storemap sm = STOREMAP_INIT(&cc->storages, node);
	const struct guest *g = guests_find(&cc->guests, vmid);
	struct lock pvelk = LOCK_INIT;
	char sid[STOREID_MAX + 1];
	int64_t t;
	int r;

	if (g && !strcmp(g->node, node)) {
		strbuf_addf(err, "guest '%" PRIu32 "' is on local node", vmid);
		return -EINVAL;
	}
	if (!repl_snap_time(snap, &t)) {
		strbuf_addf(err, "'%s' is not a replication snapshot", snap);
		return -EINVAL;
	}
	/* pmxcfs: PVE rolls back under the guest's migration lock too
	 * (engine/pvelock.h) */
	r = pve_guest_lock(&pvelk, vmid, PVE_LOCK_TIMEOUT_MS, err);
	if (r == 0)
		r = replica_list(cc, node, vmid, volids, &m, err);
	for (size_t i = 0; i < volids->nr && r == 0; i++) {
		const struct vol_snaps *vs = snap_map_find(&m, volids->v[i]);

		if (!vs) {
			strbuf_addf(err, "volume '%s' does not exist", volids->v[i]);
			r = -EINVAL;
		} else if (!backend_snapshot_list_find(&vs->snaps, snap)) {
			strbuf_addf(err, "volume '%s' has no snapshot '%s'", volids->v[i], snap);
			r = -EINVAL;
		}
	}
	for (size_t i = 0; i < volids->nr && r == 0; i++) {
		const char *volname;
		struct backend *b;

		target_check_volid(cc, node, vmid, volids->v[i], sid, &volname, err);
		r = storemap_get(&sm, sid, &b, err);
		if (r < 0)
			break;
		elog_printf(log, "rollback '%s' to '%s'", volids->v[i], snap);
		r = backend_rollback(b, volname, snap);
		if (r < 0)
			strbuf_addstr(err, backend_errmsg(b));
	}
	lock_release(&pvelk);
	storemap_release(&sm);
	snap_map_release(&m);
	return r;
}
