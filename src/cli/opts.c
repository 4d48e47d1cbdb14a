#include "cli/opts.h"

#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/parse-util.h"
#include "base/validate.h"

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

/* Words people write for a boolean that the API does not take: caught so
 * that "--disable yes" names the accepted form instead of complaining
 * about an unexpected argument 'yes'. */
static int is_bool_lookalike(const char *s)
{
	static const char *const words[] = { "yes", "no", "true", "false", "on", "off", NULL };

	for (const char *const *w = words; *w; w++)
		if (!strcasecmp(s, *w))
			return 1;
	return 0;
}

static const char *const global_names[] = { "config-dir", "state-dir", "log-dir", "node", NULL };

/* A global option given after the command (main.c takes them only
 * before it). */
static int is_global(const char *name, size_t len)
{
	for (const char *const *g = global_names; *g; g++)
		if (strlen(*g) == len && !strncmp(*g, name, len))
			return 1;
	return 0;
}

/* An unknown option that looks like a global one was probably meant as
 * one. */
static int looks_global(const char *name, size_t len)
{
	static const char *const hints[] = { "dir", "node", "conf", NULL };

	for (const char *const *h = hints; *h; h++)
		if (memmem(name, len, *h, strlen(*h)))
			return 1;
	return 0;
}

/* "--name" that opts_parse does not know: the message, pointing at the
 * global options when it looks like one of them. */
static void unknown_option(const char *a, const char *eq, const char *cmd)
{
	int n = eq ? (int)(eq - a) : (int)strlen(a);

	if (is_global(a + 2, (size_t)n - 2))
		error("unknown option '%.*s' of '%s': it is a global option, give it before the "
		      "command ('volrep %.*s ... %s ...')", n, a, cmd, n, a, cmd);
	else if (looks_global(a + 2, (size_t)n - 2))
		error("unknown option '%.*s' (see 'volrep help %s'; the global options --config-dir, "
		      "--state-dir, --log-dir and --node go before the command)", n, a, cmd);
	else
		error("unknown option '%.*s' (see 'volrep help %s')", n, a, cmd);
}

/* The value of option s at argv[*i] (eq: its "=", or NULL), advancing *i
 * past a separate value; NULL after the message. */
static const char *take_value(int argc, char **argv, int *i, const struct opt_spec *s, const char *eq)
{
	static const char one[] = "1";
	const char *val;

	if (eq) {
		val = eq + 1;
	} else if (s->kind == OPT_FLAG) {
		val = one;
	} else if (s->kind == OPT_BOOL) {
		val = (*i + 1 < argc && (is_bool_word(argv[*i + 1]) || is_bool_lookalike(argv[*i + 1])))
			      ? argv[++*i] : one;
	} else {
		if (*i + 1 >= argc) {
			error("option '--%s' needs a value", s->name);
			return NULL;
		}
		val = argv[++*i];
	}
	if ((s->kind == OPT_BOOL || s->kind == OPT_FLAG) && !is_bool_word(val)) {
		error("invalid %s '%s' - type check ('boolean') failed: expected 0 or 1 "
		      "(a bare '--%s' means 1)", s->name, val, s->name);
		return NULL;
	}
	if (s->kind == OPT_NONEMPTY && !*val) {
		error("option '--%s' needs a non-empty value", s->name);
		return NULL;
	}
	return val;
}

int opts_parse_each(int argc, char **argv, struct opt_spec *specs, unsigned flags, opts_positional_fn *fn,
		    void *data)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq;
		struct opt_spec *s;

		if (!strcmp(a, "--")) {
			for (i++; i < argc; i++)
				fn(data, argv[i]);
			break;
		}
		if (strncmp(a, "--", 2) || !a[2]) {
			if (a[0] == '-' && a[1] && !(flags & OPTS_DASH_ARGS)) {
				error("unknown option '%s'", a);
				return -1;
			}
			fn(data, a);
			continue;
		}
		eq = strchr(a + 2, '=');
		s = find_spec(specs, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		if (!s) {
			unknown_option(a, eq, argv[0]);
			return -1;
		}
		if (s->value) {
			error("option '--%s' given more than once", s->name);
			return -1;
		}
		if (!(s->value = take_value(argc, argv, &i, s, eq)))
			return -1;
	}
	return 0;
}

static void push_positional(void *data, const char *arg)
{
	strvec_push(data, arg);
}

void opts_keep_first(void *data, const char *arg)
{
	struct opts_first *f = data;

	if (!f->arg)
		f->arg = arg;
	else if (!f->extra)
		f->extra = arg;
}

int opts_parse(int argc, char **argv, struct opt_spec *specs, struct strvec *pos)
{
	return opts_parse_each(argc, argv, specs, 0, push_positional, pos);
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

int opts_vmid_arg(const char *s, const char *hint, uint32_t *vmid)
{
	uint64_t v;

	if (!valid_vmid(s) || parse_u64(s, &v) < 0) {
		error("invalid guest id '%s'%s", s, hint);
		return -1;
	}
	*vmid = (uint32_t)v;
	return 0;
}
