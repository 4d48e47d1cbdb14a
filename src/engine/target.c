#include "engine/target.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/validate.h"
#include "config/guest.h"
#include "engine/storemap.h"

int target_check_volid(const struct cluster_config *cc, const char *node, uint32_t vmid, const char *volid,
		       char *sid, const char **volname, struct strbuf *err)
{
	const struct storage *st;
	uint32_t owner = 0;
	int is_image = 0, r;

	r = volid_parse(volid, sid, volname, err);
	if (r < 0)
		return r;
	r = storage_check_replicatable(&cc->storages, sid, node, &st, err);
	if (r < 0)
		return -EINVAL;
	if (volname_parse(st->stype, *volname, &owner, &is_image) < 0 || !is_image) {
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

/* The storages to look at, sorted: the scan list's (those disabled or
 * not on this node are ignored, as pvesr ignores them) and those of the
 * wanted volumes, each volume checked as pvesr's check_wanted_volid. */
static int wanted_storages(const struct cluster_config *cc, const char *node, const struct target_prepare_args *a,
			   uint32_t vmid, struct strvec *sids, struct strbuf *err)
{
	char sid[STOREID_MAX + 1];
	const char *volname;
	int r;

	for (size_t i = 0; a->scan && i < a->scan->nr; i++) {
		const struct storage *st;
		const char *s = a->scan->v[i];

		r = storage_check_replicatable(&cc->storages, s, node, &st, err);
		if (r == -ENODEV) { /* disabled or not on this node: ignored */
			strbuf_reset(err);
			continue;
		}
		if (r < 0)
			return -EINVAL;
		strvec_push(sids, s);
	}
	for (size_t i = 0; a->volids && i < a->volids->nr; i++) {
		r = target_check_volid(cc, node, vmid, a->volids->v[i], sid, &volname, err);
		if (r < 0)
			return r;
		strvec_push(sids, sid);
	}
	strvec_sort_uniq(sids);
	return 0;
}

/* Every volume of guest vmid on those storages, as sorted volids: the
 * wanted ones and any the source no longer has. */
static int guest_volumes_on(struct storemap *sm, const struct strvec *sids, uint32_t vmid, struct strvec *all,
			    struct strbuf *err)
{
	struct strvec names = STRVEC_INIT;
	char vmidbuf[16];
	int r = 0;

	snprintf(vmidbuf, sizeof(vmidbuf), "%" PRIu32, vmid);
	for (size_t i = 0; i < sids->nr; i++) {
		struct backend *b;

		r = storemap_get(sm, sids->v[i], &b, err);
		if (r < 0)
			break;
		strvec_clear(&names);
		r = backend_list_volumes(b, vmidbuf, &names);
		if (r < 0) {
			strbuf_addstr(err, backend_errmsg(b));
			break;
		}
		for (size_t k = 0; k < names.nr; k++)
			strvec_pushf(all, "%s:%s", sids->v[i], names.v[k]);
	}
	strvec_sort_uniq(all);
	strvec_clear(&names);
	return r < 0 ? r : 0;
}

/* Volumes the source no longer has that are (or were, until the
 * prepare just now) replicas of this job: pvesr's vdisk_free of stale
 * volumes. They leave snaps too. */
static int delete_stale_volumes(struct storemap *sm, const struct target_prepare_args *a, const struct strvec *all,
				const struct strvec *cleaned, struct snap_map *snaps, const struct elog *log,
				struct strbuf *err)
{
	char sid[STOREID_MAX + 1];

	for (size_t i = 0; i < all->nr; i++) {
		const char *volid = all->v[i], *volname;
		struct vol_snaps *vs = snap_map_find(snaps, volid);
		struct backend *b;
		int r;

		if (in_list(a->volids, volid))
			continue;
		if (!in_list(cleaned, volid) && !(a->last_sync != 0 && vs && has_job_snapshot(vs, a->jobid)))
			continue;
		elog_printf(log, "%s: delete stale volume '%s'", a->jobid, volid);
		if (volid_parse(volid, sid, &volname, err) < 0 || storemap_get(sm, sid, &b, err) < 0)
			return -EINVAL;
		r = backend_destroy_volume(b, volname);
		if (r < 0) {
			strbuf_addstr(err, backend_errmsg(b));
			return r;
		}
		snap_map_remove(snaps, volid);
	}
	return 0;
}

/* Add the snapshots in from to out (the caller's map may hold some). */
static void snap_map_add_all(struct snap_map *out, const struct snap_map *from)
{
	for (size_t i = 0; i < from->nr; i++) {
		const struct backend_snapshot_list *l = &from->v[i].snaps;
		struct vol_snaps *vs = snap_map_get(out, from->v[i].volid);

		for (size_t k = 0; k < l->nr; k++)
			backend_snapshot_list_add(&vs->snaps, l->v[k].name, l->v[k].id, l->v[k].creation);
	}
}

int target_prepare(const struct cluster_config *cc, const char *node, const struct target_prepare_args *a,
		   const struct elog *log, struct snap_map *out, struct strbuf *err)
{
	struct storemap sm = STOREMAP_INIT(&cc->storages, node);
	struct strvec sids = STRVEC_INIT, all = STRVEC_INIT, cleaned = STRVEC_INIT;
	struct snap_map tmp = SNAP_MAP_INIT;
	uint32_t vmid;
	int r;

	if (!a->force && (!a->volids || !a->volids->nr)) {
		strbuf_addstr(err, "no volumes specified");
		return -EINVAL;
	}
	r = check_job(cc, node, a->jobid, &vmid, err);
	if (r < 0)
		return r;
	r = wanted_storages(cc, node, a, vmid, &sids, err);
	if (r == 0)
		r = guest_volumes_on(&sm, &sids, vmid, &all, err);
	/* the job's snapshots cleaned up on all of them, stale ones too */
	if (r == 0)
		r = prepare_volumes(&sm, &all, a->jobid, a->last_sync, a->parent, a->keep, log, &tmp, &cleaned, err);
	if (r == 0)
		r = delete_stale_volumes(&sm, a, &all, &cleaned, &tmp, log, err);
	if (r == 0)
		snap_map_add_all(out, &tmp);
	storemap_release(&sm);
	snap_map_release(&tmp);
	strvec_clear(&sids);
	strvec_clear(&all);
	strvec_clear(&cleaned);
	return r;
}

int target_finalize(const struct cluster_config *cc, const char *node, const char *jobid,
		    const struct strvec *volids, int64_t last_sync, unsigned keep, const struct elog *log,
		    struct strbuf *err)
{
	struct storemap sm = STOREMAP_INIT(&cc->storages, node);
	struct strvec sorted = STRVEC_INIT;
	char sid[STOREID_MAX + 1];
	const char *volname;
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
		r = target_check_volid(cc, node, vmid, volids->v[i], sid, &volname, err);
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
