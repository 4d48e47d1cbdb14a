#include "config/nodes.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "config/sectioncfg.h"

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
		if (addr && !valid_host_address(addr)) {
			skip_warning(warnings, s, "invalid address");
			continue;
		}
		ALLOC_GROW(nc->v, nc->nr + 1, nc->alloc);
		nc->v[nc->nr].name = xstrdup(s->id);
		nc->v[nc->nr].address = xstrdup(addr ? addr : s->id);
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
	nc->v = NULL;
	nc->nr = nc->alloc = 0;
}
