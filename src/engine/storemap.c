#include "engine/storemap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/validate.h"
#include "base/xalloc.h"

int volid_parse(const char *volid, char *sid, const char **volname, struct strbuf *err)
{
	const char *colon = volid ? strchr(volid, ':') : NULL;
	size_t n;

	if (!colon || (n = (size_t)(colon - volid)) == 0 || n > STOREID_MAX)
		goto bad;
	memcpy(sid, volid, n);
	sid[n] = '\0';
	if (!valid_storage_id(sid) || !valid_volname(colon + 1))
		goto bad;
	*volname = colon + 1;
	return 0;
bad:
	if (err)
		strbuf_addf(err, "invalid volume id '%s'", volid ? volid : "");
	return -EINVAL;
}

int storage_to_backend(const struct storage *st, struct backend_storage *out, struct strbuf *err)
{
	memset(out, 0, sizeof(*out));
	out->id = st->id;
	if (!st->stype) {
		if (err)
			strbuf_addf(err, "storage '%s' is not replicatable", st->id);
		return -ENOTSUP;
	}
	out->type = st->stype->type;
	for (size_t i = 0; i < BACKEND_LOC_MAX; i++)
		out->loc[i] = st->loc[i];
	return 0;
}

int storage_check_replicatable(const struct storage_cfg *sc, const char *sid, const char *node,
			       const struct storage **ret, struct strbuf *err)
{
	const struct storage *st = storage_cfg_find(sc, sid);

	if (!st) {
		if (err)
			strbuf_addf(err, "storage '%s' does not exist", sid);
		return -ENOENT;
	}
	if (st->disable) {
		if (err)
			strbuf_addf(err, "storage '%s' is disabled", sid);
		return -ENODEV;
	}
	if (!storage_available_on(st, node)) {
		if (err)
			strbuf_addf(err, "storage '%s' is not available on node '%s'", sid, node);
		return -ENODEV;
	}
	if (!storage_can_replicate(st)) {
		if (err)
			strbuf_addf(err, "storage '%s' is not replicatable", sid);
		return -ENOTSUP;
	}
	*ret = st;
	return 0;
}

int storemap_get(struct storemap *sm, const char *sid, struct backend **ret, struct strbuf *err)
{
	const struct storage *st;
	struct backend_storage bs;
	struct storemap_entry *e;
	int r;

	for (size_t i = 0; i < sm->nr; i++)
		if (!strcmp(sm->v[i]->sid, sid)) {
			*ret = &sm->v[i]->b;
			return 0;
		}
	r = storage_check_replicatable(sm->sc, sid, sm->node, &st, err);
	if (r < 0)
		return r;
	r = storage_to_backend(st, &bs, err);
	if (r < 0)
		return r;
	e = xmalloc(sizeof(*e));
	*e = (struct storemap_entry){ .sid = NULL, .b = BACKEND_INIT };
	r = backend_open(&e->b, &bs);
	if (r < 0) {
		if (err)
			strbuf_addf(err, "storage '%s': %s", sid, backend_errmsg(&e->b));
		backend_close(&e->b);
		free(e);
		return r;
	}
	e->sid = xstrdup(sid);
	ALLOC_GROW(sm->v, sm->nr + 1, sm->alloc);
	sm->v[sm->nr++] = e;
	*ret = &e->b;
	return 0;
}

void storemap_release(struct storemap *sm)
{
	for (size_t i = 0; i < sm->nr; i++) {
		free(sm->v[i]->sid);
		backend_close(&sm->v[i]->b);
		free(sm->v[i]);
	}
	free(sm->v);
	sm->v = NULL;
	sm->nr = sm->alloc = 0;
}
