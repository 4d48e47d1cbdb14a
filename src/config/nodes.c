#include "config/nodes.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/parse-util.h"
#include "base/strbuf.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "config/context.h"
#include "config/sectioncfg.h"
#include "transport/ssh.h"

int valid_host_address(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 253 || s[0] == '-')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(".:_-", *s))
			return 0;
	return 1;
}

static void skip_warning(struct strvec *w, const struct sc_section *s, const char *msg)
{
	if (w)
		strvec_pushf(w, "file nodes.cfg line %u (skip section '%s'): %s", s->line, s->id, msg);
}

static const char *const node_keys[] = { "address", "port", "comment", NULL };

int nodes_cfg_parse(struct nodes_cfg *nc, const char *text, size_t len, struct strvec *warnings)
{
	struct sectioncfg sc = SECTIONCFG_INIT;
	int r;

	r = sectioncfg_parse(&sc, "nodes.cfg", text, len, warnings);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sc.nr; i++) {
		const struct sc_section *s = &sc.sections[i];
		const char *addr = sc_section_get(s, "address");
		const char *port_s = sc_section_get(s, "port");
		uint64_t port = 0;

		if (strcmp(s->type, "node")) {
			if (warnings)
				strvec_pushf(warnings, "file nodes.cfg line %u - ignore section of unknown type '%s'",
					     s->line, s->type);
			continue;
		}
		if (!valid_node_name(s->id)) {
			skip_warning(warnings, s, "value does not look like a valid node name");
			continue;
		}
		if (nodes_cfg_find(nc, s->id)) {
			skip_warning(warnings, s, "duplicate node");
			continue;
		}
		if (addr && (!valid_host_address(addr) || !ssh_valid_address(addr))) {
			struct strbuf m = STRBUF_INIT;
			const char *colon = strchr(addr, ':');

			strbuf_addf(&m, "invalid address '%.80s' - expected a host name or an IP address", addr);
			if (colon && !strchr(colon + 1, ':') && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1))
				strbuf_addf(&m, "; give the port on its own line: 'port %s'", colon + 1);
			skip_warning(warnings, s, m.buf);
			strbuf_release(&m);
			continue;
		}
		if (port_s && (parse_uint_range(port_s, 1, 65535, &port) < 0 || port_s[0] == '0')) {
			struct strbuf m = STRBUF_INIT;

			strbuf_addf(&m, "invalid port '%.80s' - expected a number from 1 to 65535", port_s);
			skip_warning(warnings, s, m.buf);
			strbuf_release(&m);
			continue;
		}
		warn_unknown_keys(warnings, "nodes.cfg", s, node_keys);
		ALLOC_GROW(nc->v, nc->nr + 1, nc->alloc);
		nc->v[nc->nr].name = xstrdup(s->id);
		nc->v[nc->nr].address = xstrdup(addr ? addr : s->id);
		nc->v[nc->nr].port = (unsigned)port;
		nc->nr++;
	}
	sectioncfg_release(&sc);
	return 0;
}

int nodes_cfg_load(struct nodes_cfg *nc, const char *config_dir, struct strvec *warnings)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	r = config_read_file(config_dir, "nodes.cfg", &sb);
	if (!r)
		r = nodes_cfg_parse(nc, sb.buf, sb.len, warnings);
	if (!r && !sb.len)
		nc->missing_path = config_missing_path(config_dir, "nodes.cfg");
	strbuf_release(&sb);
	return r;
}

const struct cluster_node *nodes_cfg_find(const struct nodes_cfg *nc, const char *name)
{
	for (size_t i = 0; i < nc->nr; i++)
		if (!strcmp(nc->v[i].name, name))
			return &nc->v[i];
	return NULL;
}

void nodes_cfg_release(struct nodes_cfg *nc)
{
	for (size_t i = 0; i < nc->nr; i++) {
		free(nc->v[i].name);
		free(nc->v[i].address);
	}
	free(nc->v);
	free(nc->missing_path);
	nc->v = NULL;
	nc->missing_path = NULL;
	nc->nr = nc->alloc = 0;
}

int nodes_cfg_check_self(const struct nodes_cfg *nc, const struct context *ctx, struct strbuf *msg)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	const char *from = ctx->node_from ? ctx->node_from : "--node";

	if (nodes_cfg_find(nc, ctx->node))
		return 0;
	strbuf_addf(&path, "%s/nodes.cfg", ctx->config_dir);
	if (stat(path.buf, &st) < 0)
		strbuf_addf(msg, "no nodes.cfg: looked for '%s' (config dir from %s) - create it with a "
			    "'node: %s' section for this node and one for each peer", path.buf,
			    ctx->config_dir_from ? ctx->config_dir_from : "--config-dir", ctx->node);
	else
		strbuf_addf(msg, "this node '%s' (from %s) is not in '%s' - set the name with --node NAME "
			    "or VOLREP_NODE=NAME, or add a 'node: %s' section", ctx->node, from, path.buf,
			    ctx->node);
	strbuf_release(&path);
	return 1;
}
