#include "cli/opts.h"

#include <string.h>

#include "base/log.h"

static struct opt_spec *find_spec(struct opt_spec *specs, const char *name, size_t len)
{
	for (struct opt_spec *s = specs; s->name; s++)
		if (strlen(s->name) == len && !strncmp(s->name, name, len))
			return s;
	return NULL;
}

static int is_bool_word(const char *s)
{
	return !strcmp(s, "0") || !strcmp(s, "1");
}

int opts_parse(int argc, char **argv, struct opt_spec *specs, struct strvec *pos)
{
	static const char one[] = "1";

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *val;
		struct opt_spec *s;

		if (!strcmp(a, "--")) {
			for (i++; i < argc; i++)
				strvec_push(pos, argv[i]);
			break;
		}
		if (strncmp(a, "--", 2) || !a[2]) {
			if (a[0] == '-' && a[1]) {
				error("unknown option '%s'", a);
				return -1;
			}
			strvec_push(pos, a);
			continue;
		}
		eq = strchr(a + 2, '=');
		s = find_spec(specs, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		if (!s) {
			error("unknown option '%.*s'", eq ? (int)(eq - a) : (int)strlen(a), a);
			return -1;
		}
		if (s->value) {
			error("option '--%s' given more than once", s->name);
			return -1;
		}
		if (eq) {
			val = eq + 1;
		} else if (s->kind == OPT_BOOL) {
			val = (i + 1 < argc && is_bool_word(argv[i + 1])) ? argv[++i] : one;
		} else {
			if (i + 1 >= argc) {
				error("option '--%s' needs a value", s->name);
				return -1;
			}
			val = argv[++i];
		}
		if (s->kind == OPT_BOOL && !is_bool_word(val)) {
			error("invalid %s '%s' - type check ('boolean') failed", s->name, val);
			return -1;
		}
		s->value = val;
	}
	return 0;
}

int opts_want_args(const struct strvec *pos, const char *const *names, size_t n)
{
	if (pos->nr < n) {
		error("missing argument '%s'", names[pos->nr]);
		return -1;
	}
	if (pos->nr > n) {
		error("unexpected argument '%s'", pos->v[n]);
		return -1;
	}
	return 0;
}
