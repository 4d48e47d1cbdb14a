#include "config/sectioncfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/parse-util.h"
#include "base/xalloc.h"
#include "cluster/store.h"

static int is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\n';
}

/* A line shown in a warning: capped, control characters replaced, so a
 * hostile file cannot write escape sequences to the admin's terminal. */
static void add_shown_line(struct strbuf *sb, const char *p, size_t len)
{
	size_t n = len > 80 ? 80 : len;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		strbuf_addch(sb, (c < 0x20 || c == 0x7f) ? '?' : (char)c);
	}
	if (n < len)
		strbuf_addstr(sb, "...");
}

struct parser {
	const char *filename;
	struct strvec *warnings;
	unsigned lineno;
};

static void warn_line(struct parser *ps, const struct sc_section *s, const char *msg,
		      const char *line, size_t len)
{
	struct strbuf sb = STRBUF_INIT;

	if (!ps->warnings)
		return;
	strbuf_addf(&sb, "file %s line %u", ps->filename, ps->lineno);
	if (s)
		strbuf_addf(&sb, " (section '%s')", s->id);
	strbuf_addf(&sb, " - %s", msg);
	if (line) {
		strbuf_addstr(&sb, ": ");
		add_shown_line(&sb, line, len);
	}
	strvec_push(ps->warnings, sb.buf);
	strbuf_release(&sb);
}

/* "<type>: <id>" with type = \S+ (no ':'), id = \S+, optional blanks after
 * the colon and at the end; nothing may precede the type. */
static int parse_header(const char *p, size_t len, char **type, char **id)
{
	size_t i = 0, t_end, id_start, id_end;

	while (i < len && !is_blank(p[i]) && p[i] != ':')
		i++;
	if (i == 0 || i >= len || p[i] != ':' || i > SECTIONCFG_MAX_TYPE)
		return -1;
	t_end = i++;
	while (i < len && is_blank(p[i]))
		i++;
	id_start = i;
	while (i < len && !is_blank(p[i]))
		i++;
	id_end = i;
	while (i < len && is_blank(p[i]))
		i++;
	if (i != len || id_end == id_start || id_end - id_start > SECTIONCFG_MAX_ID)
		return -1;
	*type = xstrndup(p, t_end);
	*id = xstrndup(p + id_start, id_end - id_start);
	return 0;
}

static void section_add_prop(struct sc_section *s, const char *key, size_t klen, const char *val,
			     size_t vlen, unsigned line)
{
	ALLOC_GROW(s->props, s->nr + 1, s->alloc);
	s->props[s->nr].key = xstrndup(key, klen);
	s->props[s->nr].value = xstrndup(val, vlen);
	s->props[s->nr].line = line;
	s->nr++;
}

/* "\s+(\S+)(\s+(.*\S))?\s*" */
static void parse_prop(struct parser *ps, struct sc_section *s, const char *p, size_t len)
{
	size_t i = 0, k0, k1, v0, v1;

	while (i < len && is_blank(p[i]))
		i++;
	k0 = i;
	while (i < len && !is_blank(p[i]))
		i++;
	k1 = i;
	while (i < len && is_blank(p[i]))
		i++;
	v0 = i;
	v1 = len;
	while (v1 > v0 && is_blank(p[v1 - 1]))
		v1--;
	if (k0 == 0 || k1 == k0) {
		warn_line(ps, s, "ignore config line", p, len);
		return;
	}
	if (k1 - k0 > SECTIONCFG_MAX_KEY) {
		warn_line(ps, s, "ignore config line (key too long)", p, len);
		return;
	}
	if (memchr(p + v0, '\r', v1 - v0)) {
		warn_line(ps, s, "ignore config line (value contains a carriage return)", p, len);
		return;
	}
	if (s->nr >= SECTIONCFG_MAX_PROPS) {
		warn_line(ps, s, "ignore config line (too many properties)", p, len);
		return;
	}
	for (size_t j = 0; j < s->nr; j++) {
		if (strlen(s->props[j].key) == k1 - k0 && !memcmp(s->props[j].key, p + k0, k1 - k0)) {
			struct strbuf msg = STRBUF_INIT;
			strbuf_addstr(&msg, "unable to parse value of '");
			strbuf_add(&msg, p + k0, k1 - k0);
			strbuf_addstr(&msg, "': duplicate attribute");
			warn_line(ps, s, msg.buf, NULL, 0);
			strbuf_release(&msg);
			return;
		}
	}
	if (v1 == v0)
		section_add_prop(s, p + k0, k1 - k0, "1", 1, ps->lineno);
	else
		section_add_prop(s, p + k0, k1 - k0, p + v0, v1 - v0, ps->lineno);
}

int sectioncfg_parse(struct sectioncfg *cfg, const char *filename, const char *text, size_t len,
		     struct strvec *warnings)
{
	struct parser ps = { .filename = filename, .warnings = warnings, .lineno = 0 };
	struct sc_section *cur = NULL;
	size_t pos = 0, llen;
	const char *line;

	if (len > SECTIONCFG_MAX_FILE)
		return -EFBIG;
	while ((line = next_text_line(text, len, &pos, &llen))) {
		size_t i = 0;

		ps.lineno++;
		while (i < llen && is_blank(line[i]))
			i++;
		if (i == llen) { /* blank line ends a section */
			cur = NULL;
			continue;
		}
		if (line[i] == '#')
			continue;
		if (llen > SECTIONCFG_MAX_LINE) {
			warn_line(&ps, cur, "ignore config line (line too long)", line, llen);
			continue;
		}
		if (memchr(line, '\0', llen)) {
			warn_line(&ps, cur, "ignore config line (contains a NUL byte)", line, llen);
			continue;
		}
		char *type = NULL, *id = NULL;
		/* a header right after a section (no blank line between): read
		 * it as the new section it was meant to be, with one warning,
		 * rather than dropping it and folding its keys into the
		 * previous section */
		if (cur && i == 0 && parse_header(line, llen, &type, &id) == 0) {
			struct strbuf msg = STRBUF_INIT;

			strbuf_addf(&msg, "no blank line between section '%s' and '", cur->id);
			add_shown_line(&msg, line, llen);
			strbuf_addstr(&msg, "' (read as a new section; add a blank line)");
			warn_line(&ps, NULL, msg.buf, NULL, 0);
			strbuf_release(&msg);
		} else if (cur) {
			parse_prop(&ps, cur, line, llen);
			continue;
		} else if (parse_header(line, llen, &type, &id) < 0) {
			warn_line(&ps, NULL, "ignore config line", line, llen);
			continue;
		}
		cur = sectioncfg_add(cfg, type, id);
		cur->line = ps.lineno;
		free(type);
		free(id);
	}
	return 0;
}

static int in_list(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

static int cmp_prop_ptr(const void *a, const void *b)
{
	const struct sc_prop *const *pa = a, *const *pb = b;

	return strcmp((*pa)->key, (*pb)->key);
}

static int check_lf(const char *what, const char *s, struct strbuf *err)
{
	if (!strpbrk(s, "\r\n"))
		return 0;
	if (err)
		strbuf_addf(err, "property '%s' contains a line feed", what);
	return -EINVAL;
}

static void write_prop(struct strbuf *out, const struct sc_prop *p)
{
	if (*p->value)
		strbuf_addf(out, "\t%s %s\n", p->key, p->value);
	else
		strbuf_addf(out, "\t%s\n", p->key);
}

static int write_section(const struct sc_section *s, const struct sc_layout *lay, struct strbuf *out,
			 struct strbuf *err)
{
	const struct sc_prop **req = NULL, **opt = NULL;
	size_t nreq = 0, nopt = 0;
	const char *v;
	int r = 0;

	if (check_lf("type", s->type, err) || check_lf("id", s->id, err))
		return -EINVAL;
	for (size_t i = 0; i < s->nr; i++) {
		if (check_lf(s->props[i].key, s->props[i].key, err) ||
		    check_lf(s->props[i].key, s->props[i].value, err))
			return -EINVAL;
	}
	req = xcalloc(s->nr + 1, sizeof(*req));
	opt = xcalloc(s->nr + 1, sizeof(*opt));
	strbuf_addf(out, "%s: %s\n", s->type, s->id);
	if ((v = sc_section_get(s, "comment")) && *v)
		strbuf_addf(out, "\tcomment %s\n", v);
	for (const char *const *b = lay ? lay->booleans : NULL; b && *b; b++) {
		if (!strcmp(*b, "comment"))
			continue;
		if ((v = sc_section_get(s, *b)) && strcmp(v, "0"))
			strbuf_addf(out, "\t%s\n", *b);
	}
	for (size_t i = 0; i < s->nr; i++) {
		const struct sc_prop *p = &s->props[i];

		if (!strcmp(p->key, "comment") || (lay && in_list(lay->booleans, p->key)))
			continue;
		if (lay && in_list(lay->required, p->key))
			req[nreq++] = p;
		else
			opt[nopt++] = p;
	}
	if (nreq > 1)
		qsort(req, nreq, sizeof(*req), cmp_prop_ptr);
	if (nopt > 1)
		qsort(opt, nopt, sizeof(*opt), cmp_prop_ptr);
	for (size_t i = 0; i < nreq; i++)
		write_prop(out, req[i]);
	for (size_t i = 0; i < nopt; i++)
		write_prop(out, opt[i]);
	strbuf_addch(out, '\n');
	free(req);
	free(opt);
	return r;
}

int sectioncfg_write(const struct sectioncfg *cfg, const struct sc_layout *layouts,
		     struct strbuf *out, struct strbuf *err)
{
	for (size_t i = 0; i < cfg->nr; i++) {
		const struct sc_section *s = &cfg->sections[i];
		const struct sc_layout *lay = NULL;
		int r;

		for (const struct sc_layout *l = layouts; l && l->type; l++) {
			if (!strcmp(l->type, s->type)) {
				lay = l;
				break;
			}
		}
		r = write_section(s, lay, out, err);
		if (r < 0)
			return r;
	}
	return 0;
}

struct sc_section *sectioncfg_add(struct sectioncfg *cfg, const char *type, const char *id)
{
	struct sc_section *s;

	ALLOC_GROW(cfg->sections, cfg->nr + 1, cfg->alloc);
	s = &cfg->sections[cfg->nr++];
	memset(s, 0, sizeof(*s));
	s->type = xstrdup(type);
	s->id = xstrdup(id);
	return s;
}

struct sc_section *sectioncfg_find(const struct sectioncfg *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->nr; i++)
		if (!strcmp(cfg->sections[i].id, id))
			return &cfg->sections[i];
	return NULL;
}

const char *sc_section_get(const struct sc_section *s, const char *key)
{
	for (size_t i = 0; i < s->nr; i++)
		if (!strcmp(s->props[i].key, key))
			return s->props[i].value;
	return NULL;
}

void sc_section_set(struct sc_section *s, const char *key, const char *value)
{
	for (size_t i = 0; i < s->nr; i++) {
		if (!strcmp(s->props[i].key, key)) {
			free(s->props[i].value);
			s->props[i].value = xstrdup(value);
			return;
		}
	}
	section_add_prop(s, key, strlen(key), value, strlen(value), 0);
}

int sc_section_del(struct sc_section *s, const char *key)
{
	for (size_t i = 0; i < s->nr; i++) {
		if (!strcmp(s->props[i].key, key)) {
			free(s->props[i].key);
			free(s->props[i].value);
			memmove(&s->props[i], &s->props[i + 1], (s->nr - i - 1) * sizeof(s->props[0]));
			s->nr--;
			return 1;
		}
	}
	return 0;
}

static void section_release(struct sc_section *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		free(s->props[i].key);
		free(s->props[i].value);
	}
	free(s->props);
	free(s->type);
	free(s->id);
}

void sectioncfg_remove(struct sectioncfg *cfg, size_t i)
{
	if (i >= cfg->nr)
		return;
	section_release(&cfg->sections[i]);
	memmove(&cfg->sections[i], &cfg->sections[i + 1], (cfg->nr - i - 1) * sizeof(cfg->sections[0]));
	cfg->nr--;
}

void sectioncfg_release(struct sectioncfg *cfg)
{
	for (size_t i = 0; i < cfg->nr; i++)
		section_release(&cfg->sections[i]);
	free(cfg->sections);
	cfg->sections = NULL;
	cfg->nr = cfg->alloc = 0;
}

int config_read_file(const char *dir, const char *name, struct strbuf *out)
{
	int r = store_read(store_get(dir), name, 0, out, NULL, NULL);

	return r < 0 ? r : 0;
}

void warn_unknown_keys(struct strvec *warnings, const char *filename, const struct sc_section *s,
		       const char *const *known)
{
	for (size_t i = 0; warnings && i < s->nr; i++) {
		struct strbuf sb = STRBUF_INIT;

		if (in_list(known, s->props[i].key))
			continue;
		strbuf_addf(&sb, "file %s line %u (section '%s') - unknown key '", filename,
			    s->props[i].line ? s->props[i].line : s->line, s->id);
		add_shown_line(&sb, s->props[i].key, strlen(s->props[i].key));
		strbuf_addstr(&sb, "' (ignored; known keys:");
		for (const char *const *k = known; *k; k++)
			strbuf_addf(&sb, "%s %s", k == known ? "" : ",", *k);
		strbuf_addch(&sb, ')');
		strvec_push(warnings, sb.buf);
		strbuf_release(&sb);
	}
}

char *config_missing_path(const char *dir, const char *name)
{
	struct strbuf path = STRBUF_INIT;

	strbuf_addf(&path, "%s/%s", dir, name);
	if (access(path.buf, F_OK) == 0 || errno != ENOENT) {
		strbuf_release(&path);
		return NULL;
	}
	return strbuf_detach(&path, NULL);
}
