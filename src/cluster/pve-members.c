#include "cluster/pve-members.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/validate.h"
#include "base/xalloc.h"
#include "config/nodes.h"
#include "transport/ssh.h"

static int bad(struct strbuf *err, const char *what, const char *detail)
{
	strbuf_addf(err, "invalid .members: %s%s%s", what, *detail ? " " : "", detail);
	return -EINVAL;
}

/* an integer in range; pmxcfs writes plain JSON integers */
static int get_int(json_t *o, const char *key, int need, int64_t lo, int64_t hi, int64_t *out, struct strbuf *err,
		   const char *where)
{
	json_t *v = json_object_get(o, key);
	struct strbuf what = STRBUF_INIT;
	int r = 0;

	strbuf_addf(&what, "%s%s'%s'", where, *where ? " " : "", key);
	if (!v) {
		if (need)
			r = bad(err, what.buf, "is missing");
	} else if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		strbuf_addf(&what, " is not an integer from %lld to %lld", (long long)lo, (long long)hi);
		r = bad(err, what.buf, "");
	} else {
		*out = json_integer_value(v);
	}
	strbuf_release(&what);
	return r;
}

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct pve_member *)a)->name, ((const struct pve_member *)b)->name);
}

static int parse_node(struct pve_members *pm, const char *name, json_t *o, struct strbuf *err)
{
	struct pve_member *m;
	struct strbuf where = STRBUF_INIT;
	int64_t online = 0, id = 0;
	json_t *ip;
	int r;

	strbuf_addf(&where, "node '%.64s'", name);
	if (!valid_node_name(name)) {
		r = bad(err, where.buf, "is not a valid node name");
		goto out;
	}
	if (!json_is_object(o)) {
		r = bad(err, where.buf, "is not an object");
		goto out;
	}
	if ((r = get_int(o, "id", 0, 0, INT32_MAX, &id, err, where.buf)) < 0 ||
	    (r = get_int(o, "online", 1, 0, 1, &online, err, where.buf)) < 0)
		goto out;
	ip = json_object_get(o, "ip");
	/* a node pmxcfs has not heard from yet may come without an address */
	if (json_is_string(ip) && !*json_string_value(ip))
		ip = NULL;
	if (ip && (!json_is_string(ip) || !valid_host_address(json_string_value(ip)) ||
		   !ssh_valid_address(json_string_value(ip)))) {
		strbuf_addstr(&where, " 'ip'");
		r = bad(err, where.buf, "is not a host address");
		goto out;
	}
	m = &pm->nodes[pm->nr++];
	m->name = xstrdup(name);
	m->id = id;
	m->online = (int)online;
	m->ip = ip ? xstrdup(json_string_value(ip)) : NULL;
out:
	strbuf_release(&where);
	return r;
}

static int parse_cluster(struct pve_members *pm, json_t *c, struct strbuf *err)
{
	json_t *name = json_object_get(c, "name");
	int64_t q = 0;
	int r;

	if (!json_is_object(c))
		return bad(err, "'cluster'", "is not an object");
	if (!json_is_string(name) || !*json_string_value(name) || strlen(json_string_value(name)) > 64)
		return bad(err, "'cluster' 'name'", "is missing or not a short string");
	pm->clustered = 1;
	pm->cluster_name = xstrdup(json_string_value(name));
	if ((r = get_int(c, "version", 0, 0, INT64_MAX, &pm->cluster_version, err, "'cluster'")) < 0 ||
	    (r = get_int(c, "nodes", 0, 0, PVE_MEMBERS_MAX_NODES, &pm->expected_nodes, err, "'cluster'")) < 0 ||
	    (r = get_int(c, "quorate", 1, 0, 1, &q, err, "'cluster'")) < 0)
		return r;
	pm->quorate = (int)q;
	return 0;
}

static int parse_root(struct pve_members *pm, json_t *root, struct strbuf *err)
{
	json_t *v, *list;
	const char *key;
	int r;

	if (!json_is_object(root))
		return bad(err, "the top level", "is not an object");
	v = json_object_get(root, "nodename");
	if (!json_is_string(v) || !valid_node_name(json_string_value(v)))
		return bad(err, "'nodename'", "is missing or not a valid node name");
	pm->nodename = xstrdup(json_string_value(v));
	if ((r = get_int(root, "version", 0, 0, INT64_MAX, &pm->version, err, "")) < 0)
		return r;
	v = json_object_get(root, "cluster");
	list = json_object_get(root, "nodelist");
	if (!v) {
		/* standalone: no corosync, the node alone decides */
		if (list)
			return bad(err, "'nodelist'", "without 'cluster'");
		pm->quorate = 1;
		pm->nodes = xcalloc(1, sizeof(*pm->nodes));
		pm->nodes[0].name = xstrdup(pm->nodename);
		pm->nodes[0].online = 1;
		pm->nr = 1;
		return 0;
	}
	if ((r = parse_cluster(pm, v, err)) < 0)
		return r;
	if (!json_is_object(list))
		return bad(err, "'nodelist'", "is missing or not an object");
	if (json_object_size(list) > PVE_MEMBERS_MAX_NODES)
		return bad(err, "'nodelist'", "has too many nodes");
	pm->nodes = xcalloc(json_object_size(list) + 1, sizeof(*pm->nodes));
	json_object_foreach(list, key, v) {
		if ((r = parse_node(pm, key, v, err)) < 0)
			return r;
	}
	if (pm->nr > 1)
		qsort(pm->nodes, pm->nr, sizeof(*pm->nodes), cmp_member);
	return 0;
}

int pve_members_parse(struct pve_members *pm, const char *text, size_t len, struct strbuf *err)
{
	json_error_t je;
	json_t *root;
	int r;

	memset(pm, 0, sizeof(*pm));
	if (len > PVE_MEMBERS_MAX_FILE)
		return bad(err, "file", "is too large");
	/* JSON_REJECT_DUPLICATES: two entries for one node would make the
	 * answer depend on which one jansson kept */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		strbuf_addf(err, "invalid .members: %s (line %d)", je.text, je.line);
		return -EINVAL;
	}
	r = parse_root(pm, root, err);
	json_decref(root);
	if (r < 0)
		pve_members_release(pm);
	return r;
}

const struct pve_member *pve_members_find(const struct pve_members *pm, const char *name)
{
	for (size_t i = 0; i < pm->nr; i++)
		if (!strcmp(pm->nodes[i].name, name))
			return &pm->nodes[i];
	return NULL;
}

void pve_members_release(struct pve_members *pm)
{
	for (size_t i = 0; i < pm->nr; i++) {
		free(pm->nodes[i].name);
		free(pm->nodes[i].ip);
	}
	free(pm->nodes);
	free(pm->nodename);
	free(pm->cluster_name);
	memset(pm, 0, sizeof(*pm));
}
