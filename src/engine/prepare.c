#include "engine/prepare.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "engine/replica.h"

/* an identity (zfs guid, btrfs uuid) from the other side: short, printable */
#define SNAP_ID_MAX 64

void repl_snapname(struct strbuf *sb, const char *jobid, int64_t t)
{
	strbuf_addf(sb, REPL_SNAP_PREFIX "%s_%" PRId64 "__", jobid, t);
}

int repl_snap_of_job(const char *snap, const char *jobid)
{
	size_t pl = strlen(REPL_SNAP_PREFIX), jl = strlen(jobid);

	return !strncmp(snap, REPL_SNAP_PREFIX, pl) && !strncmp(snap + pl, jobid, jl) && snap[pl + jl] == '_';
}

int repl_snap_any(const char *snap)
{
	return !strncmp(snap, REPL_SNAP_PREFIX, strlen(REPL_SNAP_PREFIX));
}

void snap_map_release(struct snap_map *m)
{
	for (size_t i = 0; i < m->nr; i++) {
		free(m->v[i].volid);
		backend_snapshot_list_clear(&m->v[i].snaps);
	}
	free(m->v);
	m->v = NULL;
	m->nr = m->alloc = 0;
}

struct vol_snaps *snap_map_find(const struct snap_map *m, const char *volid)
{
	for (size_t i = 0; i < m->nr; i++)
		if (!strcmp(m->v[i].volid, volid))
			return &m->v[i];
	return NULL;
}

struct vol_snaps *snap_map_get(struct snap_map *m, const char *volid)
{
	struct vol_snaps *vs = snap_map_find(m, volid);

	if (vs)
		return vs;
	ALLOC_GROW(m->v, m->nr + 1, m->alloc);
	vs = &m->v[m->nr++];
	vs->volid = xstrdup(volid);
	vs->snaps = (struct backend_snapshot_list)BACKEND_SNAPSHOT_LIST_INIT;
	return vs;
}

void snap_map_remove(struct snap_map *m, const char *volid)
{
	struct vol_snaps *vs = snap_map_find(m, volid);
	size_t i;

	if (!vs)
		return;
	i = (size_t)(vs - m->v);
	free(vs->volid);
	backend_snapshot_list_clear(&vs->snaps);
	memmove(&m->v[i], &m->v[i + 1], (m->nr - i - 1) * sizeof(*m->v));
	m->nr--;
}

char *snap_map_to_json(const struct snap_map *m)
{
	json_t *root = json_object();
	char *s;

	for (size_t i = 0; i < m->nr; i++) {
		json_t *vol = json_object();

		for (size_t k = 0; k < m->v[i].snaps.nr; k++) {
			const struct backend_snapshot *sn = &m->v[i].snaps.v[k];
			json_t *o = json_object();

			json_object_set_new(o, "id", json_string(sn->id ? sn->id : ""));
			json_object_set_new(o, "timestamp", json_integer(sn->creation));
			json_object_set_new(vol, sn->name, o);
		}
		json_object_set_new(root, m->v[i].volid, vol);
	}
	s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	if (!s)
		BUG("cannot encode the snapshot map");
	return s;
}

static int valid_snap_id(const char *s)
{
	size_t n = strlen(s);

	if (n > SNAP_ID_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '-'))
			return 0;
	return 1;
}

int snap_map_from_json(const char *text, size_t len, struct snap_map *m, struct strbuf *err)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	const char *volid, *snap;
	json_t *vol, *o;
	int r = -EINVAL;

	if (!root || !json_is_object(root)) {
		strbuf_addf(err, "invalid snapshot list from the target: %s", root ? "not an object" : je.text);
		goto out;
	}
	json_object_foreach(root, volid, vol) {
		char sid[STOREID_MAX + 1];
		const char *volname;
		struct vol_snaps *vs;

		if (volid_parse(volid, sid, &volname, err) < 0)
			goto out;
		if (!json_is_object(vol)) {
			strbuf_addf(err, "invalid snapshot list of '%s' from the target", volid);
			goto out;
		}
		vs = snap_map_get(m, volid);
		json_object_foreach(vol, snap, o) {
			json_t *id, *ts;
			char idbuf[32];
			const char *ids;

			if (!json_is_object(o)) {
				strbuf_addf(err, "invalid snapshot '%.64s' on '%s' from the target", snap, volid);
				goto out;
			}
			id = json_object_get(o, "id");
			ts = json_object_get(o, "timestamp");
			if (!valid_snapshot_name(snap)) {
				strbuf_addf(err, "invalid snapshot name '%.64s' on '%s' from the target", snap, volid);
				goto out;
			}
			if (json_is_string(id)) {
				ids = json_string_value(id);
			} else if (json_is_integer(id)) {
				snprintf(idbuf, sizeof(idbuf), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
				ids = idbuf;
			} else if (!id || json_is_null(id)) {
				ids = "";
			} else {
				ids = NULL;
			}
			if (!ids || !valid_snap_id(ids) || (ts && !json_is_integer(ts))) {
				strbuf_addf(err, "invalid snapshot '%s' on '%s' from the target", snap, volid);
				goto out;
			}
			backend_snapshot_list_add(&vs->snaps, snap, ids, ts ? json_integer_value(ts) : 0);
		}
	}
	r = 0;
out:
	json_decref(root);
	return r;
}

/* Is n one of the keep newest snapshots of the job older than last_sync? */
static int kept(const struct backend_snapshot_list *snaps, const char *jobid, int64_t last_sync, unsigned keep,
		const char *n)
{
	int64_t t, u;
	unsigned newer = 0;

	if (!keep || !repl_snap_time(n, &t) || t >= last_sync)
		return 0;
	for (size_t i = 0; i < snaps->nr; i++) {
		const char *o = snaps->v[i].name;

		if (repl_snap_of_job(o, jobid) && repl_snap_time(o, &u) && u < last_sync &&
		    (u > t || (u == t && strcmp(o, n) > 0)))
			newer++;
	}
	return newer < keep;
}

int prepare_select(const struct backend_snapshot_list *snaps, const char *jobid, int64_t last_sync,
		   const char *parent, unsigned keep, struct strvec *stale, int *warn)
{
	struct strbuf last = STRBUF_INIT;
	int removal_ok;

	repl_snapname(&last, jobid, last_sync);
	removal_ok = backend_snapshot_list_find(snaps, last.buf) != NULL;
	if (last_sync == 0)
		removal_ok = 0; /* new job or stolen guest: never delete data */
	if (last_sync == 1)
		removal_ok = 1; /* "remove everything" */
	*warn = 0;
	for (size_t i = 0; i < snaps->nr; i++) {
		const char *n = snaps->v[i].name;

		if (!strcmp(n, last.buf) || (parent && !strcmp(n, parent)) || !repl_snap_of_job(n, jobid))
			continue;
		/* retention: older restore points kept (on the target) */
		if (kept(snaps, jobid, last_sync, keep, n))
			continue;
		strvec_push(stale, n);
	}
	if (!removal_ok && last_sync > 1 && stale->nr)
		*warn = 1;
	strbuf_release(&last);
	return removal_ok;
}

/* prepare_volumes(); clean: backend_clean_stale() first */
static int select_volumes(struct storemap *sm, const struct strvec *volids, const char *jobid,
			  int64_t last_sync, const char *parent, unsigned keep, const struct elog *log,
			  struct snap_map *out, struct strvec *cleaned, int clean, struct strbuf *err)
{
	struct strbuf last = STRBUF_INIT;
	int r = 0;

	repl_snapname(&last, jobid, last_sync);
	for (size_t i = 0; i < volids->nr && r == 0; i++) {
		const char *volid = volids->v[i], *volname;
		struct backend_snapshot_list snaps = BACKEND_SNAPSHOT_LIST_INIT;
		struct strvec stale = STRVEC_INIT;
		char sid[STOREID_MAX + 1];
		struct vol_snaps *vs;
		struct backend *b;
		int ok, warn, deleted = 0, listed = 0;

		r = volid_parse(volid, sid, &volname, err);
		if (r == 0)
			r = storemap_get(sm, sid, &b, err);
		/* what a killed import left (btrfs staging) goes first: the
		 * run that follows must find a clean volume */
		if (r == 0 && clean) {
			int c = backend_clean_stale(b, volname, &snaps, &listed);

			if (c < 0)
				elog_printf(log, "cleanup of interrupted imports failed: %s", backend_errmsg(b));
			/* the volume was a partial receive, gone now: absent */
			if (c > 0) {
				elog_printf(log, "discarded the partial receive of an interrupted full sync of %s", volid);
				continue;
			}
		}
		/* finalize: what this session's import just listed, if it can */
		if (r == 0 && !listed) {
			r = clean ? backend_list_snapshots(b, volname, &snaps)
				  : backend_list_snapshots_after_import(b, volname, &snaps);
			if (r < 0)
				strbuf_addstr(err, backend_errmsg(b));
		}
		if (r < 0) {
			backend_snapshot_list_clear(&snaps);
			break;
		}
		ok = prepare_select(&snaps, jobid, last_sync, parent, keep, &stale, &warn);
		if (warn)
			elog_printf(log, "expected snapshot %s not present for %s, not removing others", last.buf, volid);
		vs = snap_map_get(out, volid);
		for (size_t k = 0; k < snaps.nr; k++) {
			const struct backend_snapshot *sn = &snaps.v[k];
			int is_stale = 0;

			for (size_t j = 0; j < stale.nr; j++)
				if (!strcmp(stale.v[j], sn->name))
					is_stale = 1;
			if (is_stale && ok) {
				elog_printf(log, "delete stale replication snapshot '%s' on %s", sn->name, volid);
				if (backend_delete_snapshot(b, volname, sn->name) < 0)
					elog_printf(log, "delete stale replication snapshot error: %s", backend_errmsg(b));
				else
					deleted = 1;
				continue;
			}
			backend_snapshot_list_add(&vs->snaps, sn->name, sn->id, sn->creation);
		}
		if (deleted && cleaned)
			strvec_push(cleaned, volid);
		backend_snapshot_list_clear(&snaps);
		strvec_clear(&stale);
	}
	strbuf_release(&last);
	return r;
}

int prepare_volumes(struct storemap *sm, const struct strvec *volids, const char *jobid,
		    int64_t last_sync, const char *parent, unsigned keep, const struct elog *log,
		    struct snap_map *out, struct strvec *cleaned, struct strbuf *err)
{
	return select_volumes(sm, volids, jobid, last_sync, parent, keep, log, out, cleaned, 1, err);
}

int finalize_volumes(struct storemap *sm, const struct strvec *volids, const char *jobid,
		     int64_t last_sync, unsigned keep, const struct elog *log, struct strbuf *err)
{
	struct snap_map tmp = SNAP_MAP_INIT;
	int r = select_volumes(sm, volids, jobid, last_sync, NULL, keep, log, &tmp, NULL, 0, err);

	snap_map_release(&tmp);
	return r;
}
