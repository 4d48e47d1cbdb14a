#include "config/storage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "config/sectioncfg.h"

/* The Proxmox types volrep recognises but cannot replicate (the ones it
 * replicates are backend/types.h's). */
struct other_type {
	const char *name;
	int shared; /* Proxmox's @SHARED_STORAGE: shared by nature */
};

static const struct other_type other_types[] = {
	{ "dir", 0 },
	{ "lvm", 0 },
	{ "lvmthin", 0 },
	{ "esxi", 0 },
	{ "nfs", 1 },
	{ "cifs", 1 },
	{ "cephfs", 1 },
	{ "rbd", 1 },
	{ "glusterfs", 1 },
	{ "iscsi", 1 },
	{ "iscsidirect", 1 },
	{ "zfs", 1 }, /* ZFS over iSCSI */
	{ "drbd", 1 },
	{ "pbs", 1 },
	{ NULL, 0 },
};

static void skip_warning(struct strvec *w, const struct sc_section *s, const char *fmt, const char *arg)
{
	struct strbuf sb = STRBUF_INIT;

	if (!w)
		return;
	strbuf_addf(&sb, "file storage.cfg line %u (skip section '%s'): ", s->line, s->id);
	strbuf_addf(&sb, fmt, arg);
	strvec_push(w, sb.buf);
	strbuf_release(&sb);
}

static void prop_warning(struct strvec *w, const struct sc_section *s, const char *key, const char *msg)
{
	unsigned line = s->line;

	if (!w)
		return;
	for (size_t i = 0; i < s->nr; i++)
		if (!strcmp(s->props[i].key, key))
			line = s->props[i].line;
	strvec_pushf(w, "file storage.cfg line %u (section '%s') - unable to parse value of '%s': %s",
		     line, s->id, key, msg);
}

/* Proxmox booleans in storage.cfg are 0/1 (a bare key is 1). */
static int get_bool(struct strvec *w, const struct sc_section *s, const char *key)
{
	const char *v = sc_section_get(s, key);

	if (!v)
		return 0;
	if (!strcmp(v, "1"))
		return 1;
	if (strcmp(v, "0"))
		prop_warning(w, s, key, "type check ('boolean') failed");
	return 0;
}

/* The location keys of a replicatable type: present and valid. */
static int check_location(const struct storage_type *t, const struct sc_section *s, struct strvec *w)
{
	for (size_t i = 0; i < BACKEND_LOC_MAX && t->loc[i].key; i++) {
		const char *v = sc_section_get(s, t->loc[i].key);

		if (!v) {
			skip_warning(w, s, "missing value for required option '%s'", t->loc[i].key);
			return -EINVAL;
		}
		if (!t->loc[i].valid(v)) {
			struct strbuf fmt = STRBUF_INIT;

			strbuf_addf(&fmt, "invalid %s '%%s'", t->loc[i].key);
			skip_warning(w, s, fmt.buf, v);
			strbuf_release(&fmt);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_one(struct storage *st, const struct storage_type *t, int shared, const struct sc_section *s,
		     struct strvec *w)
{
	const char *path = sc_section_get(s, "path");
	const char *nodes = sc_section_get(s, "nodes");
	const char *content = sc_section_get(s, "content");

	if (!valid_storage_id(s->id)) {
		skip_warning(w, s, "invalid storage ID '%s'", s->id);
		return -EINVAL;
	}
	if (t && check_location(t, s, w) < 0)
		return -EINVAL;
	if (t)
		warn_unknown_keys(w, "storage.cfg", s, t->cfg_keys);
	memset(st, 0, sizeof(*st));
	strvec_init(&st->nodes);
	strvec_init(&st->content);
	st->id = xstrdup(s->id);
	st->type = xstrdup(s->type);
	st->stype = t;
	for (size_t i = 0; t && i < BACKEND_LOC_MAX && t->loc[i].key; i++)
		st->loc[i] = xstrdup(sc_section_get(s, t->loc[i].key));
	if (path && valid_abs_path(path))
		st->path = xstrdup(path);
	if (nodes) {
		strvec_split(&st->nodes, nodes, ',');
		for (size_t i = 0; i < st->nodes.nr; i++) {
			if (!valid_node_name(st->nodes.v[i])) {
				prop_warning(w, s, "nodes", "value does not look like a valid node name");
				strvec_clear(&st->nodes);
				break;
			}
		}
	}
	if (content)
		strvec_split(&st->content, content, ',');
	st->disable = get_bool(w, s, "disable");
	st->shared = shared || get_bool(w, s, "shared");
	return 0;
}

int storage_cfg_parse(struct storage_cfg *sc, const char *text, size_t len, struct strvec *warnings)
{
	struct sectioncfg cfg = SECTIONCFG_INIT;
	int r;

	r = sectioncfg_parse(&cfg, "storage.cfg", text, len, warnings);
	if (r < 0)
		return r;
	for (size_t i = 0; i < cfg.nr; i++) {
		const struct sc_section *s = &cfg.sections[i];
		const struct storage_type *t = storage_type_find(s->type);
		const struct other_type *ot = other_types;

		while (!t && ot->name && strcmp(ot->name, s->type))
			ot++;
		if (!t && !ot->name) {
			skip_warning(warnings, s, "unknown storage type '%s'", s->type);
			continue;
		}
		if (storage_cfg_find(sc, s->id)) {
			skip_warning(warnings, s, "duplicate storage ID '%s'", s->id);
			continue;
		}
		ALLOC_GROW(sc->v, sc->nr + 1, sc->alloc);
		if (parse_one(&sc->v[sc->nr], t, t ? 0 : ot->shared, s, warnings) == 0)
			sc->nr++;
	}
	sectioncfg_release(&cfg);
	return 0;
}

int storage_cfg_load(struct storage_cfg *sc, const char *config_dir, struct strvec *warnings)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	r = config_read_file(config_dir, "storage.cfg", &sb);
	if (!r)
		r = storage_cfg_parse(sc, sb.buf, sb.len, warnings);
	if (!r && !sb.len)
		sc->missing_path = config_missing_path(config_dir, "storage.cfg");
	strbuf_release(&sb);
	return r;
}

const struct storage *storage_cfg_find(const struct storage_cfg *sc, const char *id)
{
	for (size_t i = 0; i < sc->nr; i++)
		if (!strcmp(sc->v[i].id, id))
			return &sc->v[i];
	return NULL;
}

void storage_cfg_release(struct storage_cfg *sc)
{
	for (size_t i = 0; i < sc->nr; i++) {
		struct storage *st = &sc->v[i];
		free(st->id);
		free(st->type);
		for (size_t k = 0; k < BACKEND_LOC_MAX; k++)
			free(st->loc[k]);
		free(st->path);
		strvec_clear(&st->nodes);
		strvec_clear(&st->content);
	}
	free(sc->v);
	free(sc->missing_path);
	sc->v = NULL;
	sc->missing_path = NULL;
	sc->nr = sc->alloc = 0;
}

int storage_can_replicate(const struct storage *st)
{
	return st->stype != NULL;
}

int storage_available_on(const struct storage *st, const char *node)
{
	if (st->disable)
		return 0;
	return st->nodes.nr == 0 || strvec_find(&st->nodes, node) >= 0;
}
