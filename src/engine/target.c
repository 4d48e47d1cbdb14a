#include "engine/target.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/validate.h"
#include "config/guest.h"
#include "engine/storemap.h"

/* pvesr's check_wanted_volid: the storage id of volid, or -EINVAL */
static int check_wanted(const struct cluster_config *cc, const char *node, uint32_t vmid, const char *volid,
			char *sid, struct strbuf *err)
{
	const struct storage *st;
	const char *volname;
	uint32_t owner = 0;
	int is_image = 0, r;

	r = volid_parse(volid, sid, &volname, err);
	if (r < 0)
		return r;
	r = storage_check_replicatable(&cc->storages, sid, node, &st, err);
	if (r < 0)
		return -EINVAL;
	if (volname_parse(st->stype, volname, &owner, &is_image) < 0 || !is_image) {
		strbuf_addf(err, "volume '%s' has wrong vtype", volid);
		return -EINVAL;
	}
	if (owner != vmid) {
		strbuf_addf(err, "volume '%s' has wrong owner", volid);
		return -EINVAL;
	}
	return 0;
}

/* The guest of jobid, refusing when it lives here. */
static int check_job(const struct cluster_config *cc, const char *node, const char *jobid, uint32_t *vmid,
		     struct strbuf *err)
{
	const struct guest *g;

	if (!valid_job_id(jobid, vmid, NULL)) {
		strbuf_addf(err, "invalid replication job id '%s'", jobid);
		return -EINVAL;
	}
	g = guests_find(&cc->guests, *vmid);
	if (g && !strcmp(g->node, node)) {
		strbuf_addf(err, "guest '%" PRIu32 "' is on local node", *vmid);
		return -EINVAL;
	}
	return 0;
}

static int in_list(const struct strvec *l, const char *s)
{
	for (size_t i = 0; l && i < l->nr; i++)
		if (!strcmp(l->v[i], s))
			return 1;
	return 0;
}

static int has_job_snapshot(const struct vol_snaps *vs, const char *jobid)
{
	for (size_t i = 0; i < vs->snaps.nr; i++)
		if (repl_snap_of_job(vs->snaps.v[i].name, jobid))
			return 1;
	return 0;
}

int target_prepare(const struct cluster_config *cc, const char *node, const struct target_prepare_args *a,
		   const struct elog *log, struct snap_map *out, struct strbuf *err)
{
	struct storemap sm = STOREMAP_INIT(&cc->storages, node);
	struct strvec sids = STRVEC_INIT, all = STRVEC_INIT, cleaned = STRVEC_INIT, names = STRVEC_INIT;
	struct snap_map tmp = SNAP_MAP_INIT;
	char vmidbuf[16], sid[STOREID_MAX + 1];
	uint32_t vmid;
	int r;

	if (!a->force && (!a->volids || !a->volids->nr)) {
		strbuf_addstr(err, "no volumes specified");
		return -EINVAL;
	}
	r = check_job(cc, node, a->jobid, &vmid, err);
	if (r < 0)
		return r;
	for (size_t i = 0; a->scan && i < a->scan->nr; i++) {
		const struct storage *st;
		const char *s = a->scan->v[i];

		r = storage_check_replicatable(&cc->storages, s, node, &st, err);
		if (r == -ENODEV) { /* disabled or not on this node: ignored */
			strbuf_reset(err);
			continue;
		}
		if (r < 0) {
			r = -EINVAL;
			goto out;
		}
		strvec_push(&sids, s);
	}
	for (size_t i = 0; a->volids && i < a->volids->nr; i++) {
		r = check_wanted(cc, node, vmid, a->volids->v[i], sid, err);
		if (r < 0)
			goto out;
		strvec_push(&sids, sid);
	}
	strvec_sort_uniq(&sids);

	snprintf(vmidbuf, sizeof(vmidbuf), "%" PRIu32, vmid);
	for (size_t i = 0; i < sids.nr; i++) {
		struct backend *b;

		r = storemap_get(&sm, sids.v[i], &b, err);
		if (r < 0)
			goto out;
		strvec_clear(&names);
		r = backend_list_volumes(b, vmidbuf, &names);
		if (r < 0) {
			strbuf_addstr(err, backend_errmsg(b));
			goto out;
		}
		for (size_t k = 0; k < names.nr; k++)
			strvec_pushf(&all, "%s:%s", sids.v[i], names.v[k]);
	}
	strvec_sort_uniq(&all);
	r = prepare_volumes(&sm, &all, a->jobid, a->last_sync, a->parent, a->keep, log, &tmp, &cleaned, err);
	if (r < 0)
		goto out;
	/* volumes the source no longer has that are (or were, until just
	 * now) replicas of this job: pvesr's vdisk_free of stale volumes */
	for (size_t i = 0; i < all.nr; i++) {
		const char *volid = all.v[i], *volname;
		struct vol_snaps *vs = snap_map_find(&tmp, volid);
		struct backend *b;

		if (in_list(a->volids, volid))
			continue;
		if (!in_list(&cleaned, volid) && !(a->last_sync != 0 && vs && has_job_snapshot(vs, a->jobid)))
			continue;
		elog_printf(log, "%s: delete stale volume '%s'", a->jobid, volid);
		if (volid_parse(volid, sid, &volname, err) < 0 || storemap_get(&sm, sid, &b, err) < 0) {
			r = -EINVAL;
			goto out;
		}
		r = backend_destroy_volume(b, volname);
		if (r < 0) {
			strbuf_addstr(err, backend_errmsg(b));
			goto out;
		}
		snap_map_remove(&tmp, volid);
	}
	for (size_t i = 0; i < tmp.nr; i++) {
		struct vol_snaps *vs = snap_map_get(out, tmp.v[i].volid);

		for (size_t k = 0; k < tmp.v[i].snaps.nr; k++)
			backend_snapshot_list_add(&vs->snaps, tmp.v[i].snaps.v[k].name, tmp.v[i].snaps.v[k].id,
						  tmp.v[i].snaps.v[k].creation);
	}
	r = 0;
out:
	storemap_release(&sm);
	snap_map_release(&tmp);
	strvec_clear(&sids);
	strvec_clear(&all);
	strvec_clear(&cleaned);
	strvec_clear(&names);
	return r;
}

int target_finalize(const struct cluster_config *cc, const char *node, const char *jobid,
		    const struct strvec *volids, int64_t last_sync, unsigned keep, const struct elog *log,
		    struct strbuf *err)
{
	struct storemap sm = STOREMAP_INIT(&cc->storages, node);
	struct strvec sorted = STRVEC_INIT;
	char sid[STOREID_MAX + 1];
	uint32_t vmid;
	int r;

	r = check_job(cc, node, jobid, &vmid, err);
	if (r < 0)
		return r;
	if (!volids || !volids->nr) {
		strbuf_addstr(err, "no volumes specified");
		return -EINVAL;
	}
	for (size_t i = 0; i < volids->nr; i++) {
		r = check_wanted(cc, node, vmid, volids->v[i], sid, err);
		if (r < 0)
			goto out;
		strvec_push(&sorted, volids->v[i]);
	}
	strvec_sort_uniq(&sorted);
	r = finalize_volumes(&sm, &sorted, jobid, last_sync, keep, log, err);
out:
	storemap_release(&sm);
	strvec_clear(&sorted);
	return r;
}
