#include "api/router.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/parse-util.h"
#include "base/xalloc.h"

static int valid_key(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > 32 || k[0] < 'a' || k[0] > 'z')
		return 0;
	return strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int api_params_add(struct api_params *p, const char *key, const char *value, struct strbuf *err)
{
	if (!valid_key(key)) {
		strbuf_addf(err, "invalid parameter name '%.40s' - expected lower-case letters, digits, '_' or '-'", key);
		return -EINVAL;
	}
	if (strlen(value) > API_VALUE_MAX) {
		strbuf_addf(err, "value of parameter '%s' too long - at most %d bytes", key, API_VALUE_MAX);
		return -EINVAL;
	}
	if (api_params_get(p, key)) {
		strbuf_addf(err, "parameter '%s' given twice", key);
		return -EINVAL;
	}
	if (p->nr >= API_PARAMS_MAX) {
		strbuf_addf(err, "too many parameters - at most %d", API_PARAMS_MAX);
		return -EINVAL;
	}
	p->key[p->nr] = xstrdup(key);
	p->value[p->nr] = xstrdup(value);
	p->nr++;
	return 0;
}

/* Decode s[0..n) into out; -EINVAL on a bad escape or a NUL byte. */
static int form_decode(const char *s, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -EINVAL;
			hi = hex_digit(s[i + 1]);
			lo = hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0')
			return -EINVAL;
		strbuf_addch(out, c);
	}
	return 0;
}

int api_form_parse(struct api_params *p, const char *s, size_t len, struct strbuf *err)
{
	struct strbuf k = STRBUF_INIT, v = STRBUF_INIT;
	size_t i = 0;
	int r = 0;

	while (i < len && !r) {
		size_t end = i, eq;

		while (end < len && s[end] != '&')
			end++;
		if (end > i) {
			eq = i;
			while (eq < end && s[eq] != '=')
				eq++;
			strbuf_reset(&k);
			strbuf_reset(&v);
			if (form_decode(s + i, eq - i, &k) < 0 ||
			    (eq < end && form_decode(s + eq + 1, end - eq - 1, &v) < 0)) {
				strbuf_addstr(err, "invalid form encoding - expected name=value pairs with %XX escapes");
				r = -EINVAL;
			} else {
				r = api_params_add(p, k.buf, v.buf, err);
			}
		}
		i = end + 1;
	}
	strbuf_release(&k);
	strbuf_release(&v);
	return r;
}

int api_json_parse(struct api_params *p, const char *s, size_t len, struct strbuf *err)
{
	json_error_t je;
	json_t *o = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je), *v;
	const char *k;
	int r = 0;

	if (!o || !json_is_object(o)) {
		strbuf_addstr(err, "invalid JSON body - expected an object of parameters");
		json_decref(o);
		return -EINVAL;
	}
	json_object_foreach(o, k, v)
	{
		char buf[64];
		const char *val = buf;

		if (json_is_string(v)) {
			val = json_string_value(v);
			if (strlen(val) != json_string_length(v)) {
				strbuf_addf(err, "invalid value of parameter '%.40s' - NUL byte", k);
				r = -EINVAL;
				break;
			}
		}
		else if (json_is_integer(v))
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		else if (json_is_boolean(v))
			snprintf(buf, sizeof(buf), "%d", json_is_true(v));
		else {
			strbuf_addf(err, "invalid value of parameter '%.40s' - expected a string, number or boolean", k);
			r = -EINVAL;
			break;
		}
		if ((r = api_params_add(p, k, val, err)) < 0)
			break;
	}
	json_decref(o);
	return r;
}

const char *api_params_get(const struct api_params *p, const char *key)
{
	for (size_t i = 0; i < p->nr; i++)
		if (!strcmp(p->key[i], key))
			return p->value[i];
	return NULL;
}

void api_params_release(struct api_params *p)
{
	for (size_t i = 0; i < p->nr; i++) {
		free(p->key[i]);
		free(p->value[i]);
	}
	p->nr = 0;
}

const char *api_bool(const char *v)
{
	static const char *const yes[] = { "1", "yes", "true", "on", NULL };
	static const char *const no[] = { "0", "no", "false", "off", NULL };

	if (!v)
		return NULL;
	for (const char *const *y = yes; *y; y++)
		if (!strcasecmp(v, *y))
			return "1";
	for (const char *const *n = no; *n; n++)
		if (!strcasecmp(v, *n))
			return "0";
	return NULL;
}

/* ---- paths ---- */

#define SEGS_MAX 6

static int split(const char *path, char segs[SEGS_MAX][API_SEGMENT_MAX + 1], size_t *nr)
{
	const char *p = path;

	*nr = 0;
	if (*p != '/')
		return -ENOENT;
	while (*p == '/') {
		size_t n;

		p++;
		if (!*p)
			break; /* one trailing slash */
		n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
		if (n == 0 || n > API_SEGMENT_MAX || (p[n] && p[n] != '/') || *nr >= SEGS_MAX)
			return -ENOENT;
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return -ENOENT;
		memcpy(segs[*nr], p, n);
		segs[*nr][n] = '\0';
		(*nr)++;
		p += n;
		if (*p == '/' && p[1] == '/')
			return -ENOENT;
	}
	return *p ? -ENOENT : 0;
}

int api_route_match(const char *path, struct api_match *m)
{
	char s[SEGS_MAX][API_SEGMENT_MAX + 1];
	size_t n;

	memset(m, 0, sizeof(*m));
	if (split(path, s, &n) < 0 || n == 0)
		return -ENOENT;
	if (n == 1 && !strcmp(s[0], "version"))
		m->route = API_VERSION;
	else if (n == 1 && !strcmp(s[0], "nodes"))
		m->route = API_NODES;
	else if (n == 2 && !strcmp(s[0], "cluster") && !strcmp(s[1], "status"))
		m->route = API_CLUSTER_STATUS;
	else if (n == 2 && !strcmp(s[0], "access") && !strcmp(s[1], "ticket"))
		m->route = API_TICKET;
	else if (n >= 2 && n <= 3 && !strcmp(s[0], "cluster") && !strcmp(s[1], "replication")) {
		m->route = n == 2 ? API_REPL : API_REPL_ID;
		if (n == 3)
			memcpy(m->id, s[2], sizeof(m->id));
	} else if (n >= 2 && !strcmp(s[0], "nodes")) {
		memcpy(m->node, s[1], sizeof(m->node));
		if (n == 2)
			m->route = API_NODE;
		else if (!strcmp(s[2], "replication")) {
			if (n == 3)
				m->route = API_NODE_REPL;
			else {
				memcpy(m->id, s[3], sizeof(m->id));
				if (n == 4)
					m->route = API_NODE_REPL_ID;
				else if (n == 5 && !strcmp(s[4], "status"))
					m->route = API_NODE_REPL_STATUS;
				else if (n == 5 && !strcmp(s[4], "log"))
					m->route = API_NODE_REPL_LOG;
				else if (n == 5 && !strcmp(s[4], "schedule_now"))
					m->route = API_NODE_REPL_SCHED;
			}
		}
	}
	if (m->route == API_NONE) {
		memset(m, 0, sizeof(*m));
		return -ENOENT;
	}
	return 0;
}

const char *api_route_methods(enum api_route r)
{
	switch (r) {
	case API_TICKET:
		return "GET POST DELETE";
	case API_REPL:
		return "GET POST";
	case API_REPL_ID:
		return "GET PUT DELETE";
	case API_NODE_REPL_SCHED:
		return "POST";
	case API_NONE:
		return "";
	default:
		return "GET";
	}
}

int api_route_allows(enum api_route r, const char *method)
{
	const char *m = api_route_methods(r);
	size_t n = strlen(method);

	while (*m) {
		size_t w = strcspn(m, " ");

		if (w == n && !strncmp(m, method, n))
			return 1;
		m += w;
		m += strspn(m, " ");
	}
	return 0;
}
