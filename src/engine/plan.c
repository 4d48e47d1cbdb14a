#include "engine/plan.h"

#include <errno.h>
#include <string.h>

#include "engine/prepare.h"

int plan_same_snapshot(const struct backend_snapshot *a, const struct backend_snapshot *b)
{
	if (strcmp(a->name, b->name))
		return 0;
	if (a->id && *a->id && b->id && *b->id)
		return !strcmp(a->id, b->id);
	return 1;
}

static const struct backend_snapshot *common(const struct backend_snapshot_list *local,
					     const struct backend_snapshot_list *remote, const char *name)
{
	const struct backend_snapshot *l, *r;

	if (!name)
		return NULL;
	l = backend_snapshot_list_find(local, name);
	r = backend_snapshot_list_find(remote, name);
	return l && r && plan_same_snapshot(l, r) ? l : NULL;
}

int plan_base(const struct backend_snapshot_list *local, const struct backend_snapshot_list *remote,
	      const char *last_sync_snap, const char *parent, const char **base)
{
	const struct backend_snapshot *best = NULL, *s;

	if (!remote)
		return 0;
	if ((s = common(local, remote, last_sync_snap)) || (s = common(local, remote, parent))) {
		*base = s->name;
		return 1;
	}
	for (size_t i = 0; i < local->nr; i++) {
		const struct backend_snapshot *l = &local->v[i];

		if (!repl_snap_any(l->name) || !common(local, remote, l->name))
			continue;
		/* ">=": of equal times the later listed (lists are oldest first) */
		if (!best || l->creation >= best->creation)
			best = l;
	}
	if (!best)
		return -ENOENT;
	*base = best->name;
	return 1;
}

void plan_no_base_error(struct strbuf *err, const struct strvec *volids, const char *jobid)
{
	strbuf_addstr(err, "No common base snapshot on volume(s) ");
	for (size_t i = 0; i < volids->nr; i++)
		strbuf_addf(err, "%s%s", i ? "," : "", volids->v[i]);
	strbuf_addf(err, "\nPlease remove the problematic volume(s) from the replication target or delete "
			 "and re-create the whole job %s", jobid);
}

int plan_plain(const struct backend_snapshot_list *local, const struct backend_snapshot_list *remote,
	       const char *base)
{
	const struct backend_snapshot *b = base && local ? backend_snapshot_list_find(local, base) : NULL;

	if (!b || !remote)
		return 0;
	for (size_t i = 0; i < local->nr; i++)
		if (&local->v[i] != b && local->v[i].creation >= b->creation)
			return 0;
	for (size_t i = 0; i < remote->nr; i++)
		if (!backend_snapshot_list_find(local, remote->v[i].name))
			return 0;
	return 1;
}
