/* Fuzz target: the API's request router and parameter parser
 * (src/api/router.h). The input is split at the first newline: the first
 * part is a path (below /api2/json), the rest a request body, parsed as a
 * form and as JSON; the token header and ticket parsers get the path too.
 * Invariants checked (abort on violation):
 *  - a matched route has a known kind, and node/id segments that hold only
 *    [A-Za-z0-9._-] and are never "." or "..";
 *  - every parsed parameter has a valid name and a value without NUL of at
 *    most API_VALUE_MAX bytes, names are unique, at most API_PARAMS_MAX;
 *  - a form that parses re-encodes to one that parses to the same pairs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/router.h"
#include "base/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void seg_ok(const char *s)
{
	if (strlen(s) != strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"))
		abort();
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		abort();
}

static void params_ok(const struct api_params *p)
{
	if (p->nr > API_PARAMS_MAX)
		abort();
	for (size_t i = 0; i < p->nr; i++) {
		if (strlen(p->value[i]) > API_VALUE_MAX || !p->key[i][0] || strlen(p->key[i]) > 32)
			abort();
		for (size_t j = 0; j < i; j++)
			if (!strcmp(p->key[i], p->key[j]))
				abort();
	}
}

static void encode(const char *s, struct strbuf *out)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-')
			strbuf_addch(out, (char)*c);
		else
			strbuf_addf(out, "%%%02X", *c);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t plen = nl ? (size_t)(nl - (const char *)data) : size;
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT, re = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	struct api_params p = { 0 }, q = { 0 };
	struct api_match m;
	const char *body = nl ? nl + 1 : "";
	size_t blen = nl ? size - plen - 1 : 0;

	strbuf_add(&path, data, plen);
	if (api_route_match(path.buf, &m) == 0) {
		if (m.route == API_NONE || m.route > API_NODE_REPL_SCHED)
			abort();
		if (m.node[0])
			seg_ok(m.node);
		if (m.id[0])
			seg_ok(m.id);
		if (!api_route_methods(m.route)[0])
			abort();
	} else if (m.route != API_NONE) {
		abort();
	}
	(void)api_token_header_parse(path.buf, &a, &b);
	(void)api_token_id_valid(path.buf);
	(void)api_bool(path.buf);

	if (api_form_parse(&p, body, blen, &err) == 0) {
		params_ok(&p);
		for (size_t i = 0; i < p.nr; i++) {
			if (i)
				strbuf_addch(&re, '&');
			encode(p.key[i], &re);
			strbuf_addch(&re, '=');
			encode(p.value[i], &re);
		}
		if (api_form_parse(&q, re.buf, re.len, &err) < 0 || q.nr != p.nr)
			abort();
		for (size_t i = 0; i < p.nr; i++)
			if (strcmp(p.key[i], q.key[i]) || strcmp(p.value[i], q.value[i]))
				abort();
	} else {
		params_ok(&p);
	}
	api_params_release(&p);
	api_params_release(&q);
	(void)api_json_parse(&p, body, blen, &err);
	params_ok(&p);
	api_params_release(&p);
	strbuf_release(&path);
	strbuf_release(&err);
	strbuf_release(&re);
	strbuf_release(&a);
	strbuf_release(&b);
	return 0;
}
