#include "config/datacenter.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/parse-util.h"
#include "base/sanitize.h"
#include "cluster/store-pmxcfs.h"
#include "cluster/store.h"

#define NET_FORM "[type=]secure|insecure[,network=<CIDR>]"

int dc_parse_cidr(const char *s, struct dc_net *n)
{
	const char *slash = strchr(s, '/'), *p = slash ? slash + 1 : NULL;
	char canon[80];
	uint64_t prefix;

	/* PVE's form: <address>/<prefix>, the prefix plain decimal as PVE's
	 * (\d+, leading zeros too) and at least 8 */
	if (!slash || slash == s || strlen(s) >= sizeof(n->network) || !*p || strspn(p, "0123456789") != strlen(p) ||
	    strlen(p) > 3 || parse_u64(p, &prefix) < 0 || prefix < 8)
		return -EINVAL;
	/* the network itself as base/cidr.h parses it, with the prefix canonical */
	snprintf(canon, sizeof(canon), "%.*s/%u", (int)(slash - s), s, (unsigned)prefix);
	if (cidr_parse(canon, &n->net) < 0)
		return -EINVAL;
	n->has_network = 1;
	snprintf(n->network, sizeof(n->network), "%s", s);
	return 0;
}

int dc_net_contains(const struct dc_net *n, const char *ip)
{
	return n->has_network && cidr_contains_str(&n->net, ip);
}

/* "[type=]secure|insecure[,network=<CIDR>]", each key once */
static int parse_net(struct dc_net *n, const char *v)
{
	char buf[256];
	int have_type = 0;
	char *save = NULL, *tok;

	if (strlen(v) >= sizeof(buf) || !*v)
		return -EINVAL;
	memset(n, 0, sizeof(*n));
	snprintf(buf, sizeof(buf), "%s", v);
	if (buf[strlen(buf) - 1] == ',' || strstr(buf, ",,") || buf[0] == ',')
		return -EINVAL;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *val = tok;

		if (!strncmp(tok, "network=", 8)) {
			if (n->has_network || dc_parse_cidr(tok + 8, n) < 0)
				return -EINVAL;
			continue;
		}
		if (!strncmp(tok, "type=", 5))
			val = tok + 5;
		else if (strchr(tok, '=') || tok != buf)
			return -EINVAL; /* an unknown key, or a bare value not first */
		if (have_type)
			return -EINVAL;
		have_type = 1;
		if (!strcmp(val, "secure"))
			n->type = DC_SECURE;
		else if (!strcmp(val, "insecure"))
			n->type = DC_INSECURE;
		else
			return -EINVAL;
	}
	n->set = 1;
	return 0;
}

int dc_cfg_parse(struct dc_cfg *dc, const char *name, const char *text, size_t len, struct strbuf *err)
{
	struct dc_cfg out;
	const char *p = text, *end = text + len;
	unsigned line = 0;

	memset(&out, 0, sizeof(out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end, *k, *colon;
		char val[256];
		struct dc_net *n = NULL;
		size_t vl;

		line++;
		/* PVE's parse_config: the line trimmed, "key: value" */
		while (p < le && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		while (le > p && (le[-1] == ' ' || le[-1] == '\t' || le[-1] == '\r'))
			le--;
		k = p;
		colon = memchr(k, ':', (size_t)(le - k));
		if (colon && (size_t)(colon - k) == 9 && !memcmp(k, "migration", 9))
			n = &out.migration;
		else if (colon && (size_t)(colon - k) == 11 && !memcmp(k, "replication", 11))
			n = &out.replication;
		p = nl ? nl + 1 : end;
		if (!n)
			continue; /* PVE's keys, comments, blank lines */
		colon++;
		while (colon < le && (*colon == ' ' || *colon == '\t'))
			colon++;
		vl = (size_t)(le - colon);
		if (n->set) {
			strbuf_addf(err, "%s:%u: '%s' given twice", name, line, n == &out.migration ? "migration" : "replication");
			return -EINVAL;
		}
		if (vl < sizeof(val)) {
			memcpy(val, colon, vl);
			val[vl] = 0;
		}
		if (vl >= sizeof(val) || memchr(colon, 0, vl) || parse_net(n, val) < 0) {
			strbuf_addf(err, "%s:%u: invalid %s value '", name, line, n == &out.migration ? "migration" : "replication");
			strbuf_add_sanitized(err, colon, vl > 64 ? 64 : vl, 0);
			strbuf_addf(err, "%s' - expected %s (an IPv4 CIDR with prefix 8..32 or IPv6 8..128)",
				    vl > 64 ? "..." : "", NET_FORM);
			return -EINVAL;
		}
	}
	*dc = out;
	return 0;
}

int dc_cfg_load(struct dc_cfg *dc, const char *config_dir, struct strbuf *err)
{
	struct store *st = store_get(config_dir);
	struct strbuf text = STRBUF_INIT, e = STRBUF_INIT;
	int r = store_read(st, DATACENTER_CFG_NAME, 0, &text, NULL, &e);

	memset(dc, 0, sizeof(*dc));
	if (r == 1 || r == -ENOENT) {
		r = 0;
	} else if (r < 0) {
		strbuf_addf(err, "unable to read datacenter.cfg - %s", e.len ? e.buf : strerror(-r));
	} else if (text.len > DATACENTER_CFG_MAX) {
		strbuf_addstr(err, "datacenter.cfg is too large");
		r = -EFBIG;
	} else {
		struct strbuf name = STRBUF_INIT;

		if (st->kind == STORE_PMXCFS)
			strbuf_addf(&name, "%s/%s", pmxcfs_store_root(st), DATACENTER_CFG_NAME);
		else if (st->kind == STORE_DIR)
			strbuf_addf(&name, "%s/%s", config_dir, DATACENTER_CFG_NAME);
		else
			strbuf_addstr(&name, DATACENTER_CFG_NAME);
		r = dc_cfg_parse(dc, name.buf, text.buf, text.len, err);
		strbuf_release(&name);
	}
	strbuf_release(&text);
	strbuf_release(&e);
	return r;
}

const struct dc_net *dc_replication_net(const struct dc_cfg *dc)
{
	return dc->replication.set ? &dc->replication : &dc->migration;
}
