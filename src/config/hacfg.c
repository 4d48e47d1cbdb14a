#include "config/hacfg.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse-util.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "cluster/store.h"
#include "config/jobs.h"
#include "config/sectioncfg.h"

/* how often a write that lost a compare-and-swap race is tried again */
#define HA_CAS_RETRIES 50

static const char *const state_names[] = { "started", "stopped", "ignored" };

int ha_state_parse(const char *s, enum ha_state *out)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(*state_names); i++)
		if (!strcmp(s, state_names[i])) {
			*out = (enum ha_state)i;
			return 0;
		}
	return -EINVAL;
}

const char *ha_state_name(enum ha_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(*state_names) ? state_names[s] : "?";
}

const char *ha_type_name(enum guest_type t)
{
	return t == GUEST_LXC ? "ct" : "vm";
}

int ha_valid_group_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 64 || !isalpha((unsigned char)s[0]))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return 0;
	return 1;
}

/* "... (skip section '100'): invalid state 'x' - expected started, ..." */
static void skip(struct strvec *w, const struct sc_section *s, const char *what, const char *v)
{
	const char *dash = strstr(what, " - ");

	if (w)
		strvec_pushf(w, "file ha.cfg line %u (skip section '%s'): %.*s '%.80s'%s", s->line, s->id,
			     dash ? (int)(dash - what) : (int)strlen(what), what, v, dash ? dash : "");
}

/* "b,c": every name a valid node name, no repeats, at least one */
static int parse_nodes(const char *v, struct strvec *out)
{
	struct strvec w = STRVEC_INIT;
	int ok;

	strvec_split(&w, v, ',');
	ok = w.nr > 0 && w.nr <= HA_GROUP_NODES_MAX;
	for (size_t i = 0; ok && i < w.nr; i++) {
		ok = valid_node_name(w.v[i]);
		for (size_t k = 0; ok && k < i; k++)
			ok = strcmp(w.v[i], w.v[k]) != 0;
	}
	if (ok)
		for (size_t i = 0; i < w.nr; i++)
			strvec_push(out, w.v[i]);
	strvec_clear(&w);
	return ok ? 0 : -EINVAL;
}

static const char *const res_keys[] = { "state", "group", "max-relocate", "comment", NULL };
static const char *const group_keys[] = { "nodes", "comment", NULL };

static void parse_group(struct ha_cfg *hc, const struct sc_section *s, struct strvec *w)
{
	const char *nodes = sc_section_get(s, "nodes");
	struct strvec nv = STRVEC_INIT;

	if (!ha_valid_group_name(s->id)) {
		skip(w, s, "invalid group name", s->id);
		return;
	}
	if (ha_cfg_group(hc, s->id)) {
		skip(w, s, "duplicate group", s->id);
		return;
	}
	if (!nodes || parse_nodes(nodes, &nv) < 0) {
		skip(w, s, "invalid nodes - expected a comma-separated list of distinct node names", nodes ? nodes : "");
		strvec_clear(&nv);
		return;
	}
	warn_unknown_keys(w, HA_CFG_FILE, s, group_keys);
	ALLOC_GROW(hc->groups, hc->ngroups + 1, hc->agroups);
	hc->groups[hc->ngroups++] = (struct ha_group){ .name = xstrdup(s->id), .nodes = nv };
}

static void parse_resource(struct ha_cfg *hc, const struct sc_section *s, enum guest_type t, struct strvec *w)
{
	const char *state = sc_section_get(s, "state"), *group = sc_section_get(s, "group");
	const char *mr = sc_section_get(s, "max-relocate");
	enum ha_state st = HA_STARTED;
	uint64_t vmid, relocate = 1;
	struct ha_resource *r;

	if (!valid_vmid(s->id) || parse_u64(s->id, &vmid) < 0) {
		skip(w, s, "invalid guest id", s->id);
		return;
	}
	if (ha_cfg_find(hc, (uint32_t)vmid)) {
		skip(w, s, "duplicate guest", s->id);
		return;
	}
	if (state && ha_state_parse(state, &st) < 0) {
		skip(w, s, "invalid state - expected started, stopped or ignored", state);
		return;
	}
	if (group && !ha_valid_group_name(group)) {
		skip(w, s, "invalid group name", group);
		return;
	}
	if (mr && parse_uint_range(mr, 0, HA_MAX_RELOCATE_LIMIT, &relocate) < 0) {
		skip(w, s, "invalid max-relocate - expected a number from 0 to 10", mr);
		return;
	}
	warn_unknown_keys(w, HA_CFG_FILE, s, res_keys);
	r = ha_cfg_add(hc, (uint32_t)vmid, t);
	r->state = st;
	r->max_relocate = (unsigned)relocate;
	ha_resource_set_group(r, group);
}

int ha_cfg_parse(struct ha_cfg *hc, const char *text, size_t len, struct strvec *warnings)
{
	struct sectioncfg sc = SECTIONCFG_INIT;
	int r = sectioncfg_parse(&sc, HA_CFG_FILE, text, len, warnings);

	if (r < 0)
		return r;
	/* groups first: a resource may name a group defined after it */
	for (size_t i = 0; i < sc.nr; i++)
		if (!strcmp(sc.sections[i].type, "group"))
			parse_group(hc, &sc.sections[i], warnings);
	for (size_t i = 0; i < sc.nr; i++) {
		const struct sc_section *s = &sc.sections[i];

		if (!strcmp(s->type, "vm"))
			parse_resource(hc, s, GUEST_QEMU, warnings);
		else if (!strcmp(s->type, "ct"))
			parse_resource(hc, s, GUEST_LXC, warnings);
		else if (strcmp(s->type, "group") && warnings)
			strvec_pushf(warnings, "file ha.cfg line %u - ignore section of unknown type '%.64s'", s->line,
				     s->type);
	}
	for (size_t i = 0; warnings && i < hc->nres; i++)
		if (hc->res[i].group && !ha_cfg_group(hc, hc->res[i].group))
			strvec_pushf(warnings, "file ha.cfg: guest %" PRIu32 " names group '%s', which is not defined",
				     hc->res[i].vmid, hc->res[i].group);
	sectioncfg_release(&sc);
	return 0;
}

static int cmp_res(const void *a, const void *b)
{
	uint32_t x = ((const struct ha_resource *)a)->vmid, y = ((const struct ha_resource *)b)->vmid;

	return x < y ? -1 : x > y;
}

static int cmp_group(const void *a, const void *b)
{
	return strcmp(((const struct ha_group *)a)->name, ((const struct ha_group *)b)->name);
}

int ha_cfg_format(const struct ha_cfg *hc, struct strbuf *out, struct strbuf *err)
{
	struct ha_resource *res = xcalloc(hc->nres + 1, sizeof(*res));
	struct ha_group *gr = xcalloc(hc->ngroups + 1, sizeof(*gr));

	if (hc->nres)
		memcpy(res, hc->res, hc->nres * sizeof(*res));
	if (hc->ngroups)
		memcpy(gr, hc->groups, hc->ngroups * sizeof(*gr));
	qsort(res, hc->nres, sizeof(*res), cmp_res);
	qsort(gr, hc->ngroups, sizeof(*gr), cmp_group);
	for (size_t i = 0; i < hc->ngroups; i++) {
		if (!ha_valid_group_name(gr[i].name) || !gr[i].nodes.nr) {
			strbuf_addf(err, "invalid group '%s'", gr[i].name);
			free(res);
			free(gr);
			return -EINVAL;
		}
		strbuf_addf(out, "group: %s\n\tnodes ", gr[i].name);
		for (size_t k = 0; k < gr[i].nodes.nr; k++)
			strbuf_addf(out, "%s%s", k ? "," : "", gr[i].nodes.v[k]);
		strbuf_addstr(out, "\n\n");
	}
	for (size_t i = 0; i < hc->nres; i++) {
		strbuf_addf(out, "%s: %" PRIu32 "\n", ha_type_name(res[i].type), res[i].vmid);
		if (res[i].group)
			strbuf_addf(out, "\tgroup %s\n", res[i].group);
		strbuf_addf(out, "\tmax-relocate %u\n\tstate %s\n\n", res[i].max_relocate, ha_state_name(res[i].state));
	}
	free(res);
	free(gr);
	return 0;
}

void ha_cfg_release(struct ha_cfg *hc)
{
	for (size_t i = 0; i < hc->nres; i++)
		free(hc->res[i].group);
	for (size_t i = 0; i < hc->ngroups; i++) {
		free(hc->groups[i].name);
		strvec_clear(&hc->groups[i].nodes);
	}
	free(hc->res);
	free(hc->groups);
	memset(hc, 0, sizeof(*hc));
}

struct ha_resource *ha_cfg_find(const struct ha_cfg *hc, uint32_t vmid)
{
	for (size_t i = 0; i < hc->nres; i++)
		if (hc->res[i].vmid == vmid)
			return &hc->res[i];
	return NULL;
}

struct ha_group *ha_cfg_group(const struct ha_cfg *hc, const char *name)
{
	for (size_t i = 0; name && i < hc->ngroups; i++)
		if (!strcmp(hc->groups[i].name, name))
			return &hc->groups[i];
	return NULL;
}

struct ha_resource *ha_cfg_add(struct ha_cfg *hc, uint32_t vmid, enum guest_type t)
{
	ALLOC_GROW(hc->res, hc->nres + 1, hc->ares);
	hc->res[hc->nres] = (struct ha_resource){ .vmid = vmid, .type = t, .state = HA_STARTED, .max_relocate = 1 };
	return &hc->res[hc->nres++];
}

int ha_cfg_remove(struct ha_cfg *hc, uint32_t vmid)
{
	for (size_t i = 0; i < hc->nres; i++)
		if (hc->res[i].vmid == vmid) {
			free(hc->res[i].group);
			memmove(&hc->res[i], &hc->res[i + 1], (hc->nres - i - 1) * sizeof(*hc->res));
			hc->nres--;
			return 1;
		}
	return 0;
}

void ha_resource_set_group(struct ha_resource *r, const char *group)
{
	free(r->group);
	r->group = group && *group ? xstrdup(group) : NULL;
}

struct ha_group *ha_cfg_set_group(struct ha_cfg *hc, const char *name, const char *nodes)
{
	struct ha_group *g = ha_cfg_group(hc, name);

	if (!g) {
		ALLOC_GROW(hc->groups, hc->ngroups + 1, hc->agroups);
		g = &hc->groups[hc->ngroups++];
		*g = (struct ha_group){ .name = xstrdup(name), .nodes = STRVEC_INIT };
	}
	strvec_clear(&g->nodes);
	if (parse_nodes(nodes, &g->nodes) < 0)
		strvec_clear(&g->nodes);
	return g;
}

int ha_cfg_load(const char *config_dir, unsigned store_flags, struct ha_cfg *hc, int64_t *rev,
		struct strvec *warnings, struct strbuf *err)
{
	struct store *st = store_get(config_dir);
	struct strbuf text = STRBUF_INIT;
	int64_t rv = 0;
	int r = store_read(st, HA_CFG_FILE, store_flags, &text, &rv, err);

	if (r >= 0)
		r = ha_cfg_parse(hc, text.buf, text.len, warnings);
	if (r == -EFBIG)
		strbuf_addf(err, "unable to read '%s' - file larger than 1 MiB", HA_CFG_FILE);
	if (rev)
		*rev = rv;
	strbuf_release(&text);
	return r < 0 ? r : 0;
}

int ha_cfg_modify(const char *config_dir, ha_modify_fn *fn, void *data, struct strbuf *err)
{
	struct store *st = store_get(config_dir);
	struct store_lock lk = STORE_LOCK_INIT;
	struct strbuf text = STRBUF_INIT;
	int r, ret = 0;

	r = store_lock(st, "config", CONFIG_LOCK_TIMEOUT_MS, 0, &lk, err);
	if (r < 0)
		return r;
	for (int attempt = 0;; attempt++) {
		struct ha_cfg hc = HA_CFG_INIT;
		int64_t rev = 0;
		size_t errlen;

		strbuf_reset(&text);
		r = ha_cfg_load(config_dir, STORE_FRESH, &hc, &rev, NULL, err);
		if (r >= 0)
			r = ret = fn(&hc, data, err);
		if (r > 0)
			r = ha_cfg_format(&hc, &text, err);
		ha_cfg_release(&hc);
		if (r < 0 || ret == 0)
			break;
		errlen = err->len;
		r = store_write(st, HA_CFG_FILE, text.buf, text.len,
				st->kind == STORE_DIR ? STORE_REV_ANY : (rev ? rev : STORE_REV_ABSENT), err);
		if (r == -ESTALE && st->kind != STORE_DIR && attempt < HA_CAS_RETRIES) {
			strbuf_setlen(err, errlen);
			continue;
		}
		if (r == 0)
			r = ret;
		break;
	}
	store_unlock(st, &lk);
	strbuf_release(&text);
	return r;
}
