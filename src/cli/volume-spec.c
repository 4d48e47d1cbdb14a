#include "cli/volume-spec.h"

#include <string.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/log.h"
#include "cli/commands.h"
#include "base/validate.h"
#include "backend/types.h"
#include "engine/storemap.h"

/* "--name VALUE" or "--name=VALUE": 1 and *val set when argv[*i] is the
 * option (advancing *i past a separate value), 0 when it is not, -1 when
 * the value is missing or empty. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) || (a[n] != '\0' && a[n] != '='))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
	} else if (*i + 1 < argc) {
		*val = argv[++*i];
	} else {
		error("option '%s' needs a value", name);
		return -1;
	}
	if (!**val) {
		error("option '%s' needs a non-empty value", name);
		return -1;
	}
	return 1;
}

static int set_once(const char **dst, const char *val, const char *name)
{
	if (*dst) {
		error("option '%s' given twice", name);
		return -1;
	}
	*dst = val;
	return 0;
}

/* What the command line gave: the volume argument, the location options
 * of every storage type (backend/types.h), --snapshot and --base. */
struct spec_args {
	const char *arg;
	const char *loc[BACKEND_NTYPES][BACKEND_LOC_MAX];
	const char *snapshot, *base;
};

/* "--name VALUE" at argv[*i] into *dst: 1 when it was the option, 0 when
 * not, -1 after an error message. */
static int take_value(int argc, char **argv, int *i, const char *name, const char **dst)
{
	const char *val = NULL;
	int r = opt_value(argc, argv, i, name, &val);

	if (r > 0 && set_once(dst, val, name) < 0)
		return -1;
	return r;
}

/* One option at argv[*i]: 1 when it was one of ours, 0 when unknown, -1
 * after an error message. */
static int parse_option(int argc, char **argv, int *i, int allow_compressed, struct spec_args *sa,
			struct volume_spec *spec)
{
	int r;

	for (const struct storage_type *const *t = storage_types; *t; t++)
		for (size_t k = 0; k < BACKEND_LOC_MAX && (*t)->loc[k].key; k++)
			if ((r = take_value(argc, argv, i, (*t)->loc[k].option, &sa->loc[(*t)->type][k])) != 0)
				return r;
	if ((r = take_value(argc, argv, i, "--snapshot", &sa->snapshot)) != 0)
		return r;
	if ((r = take_value(argc, argv, i, "--base", &sa->base)) != 0)
		return r;
	if (allow_compressed && !strcmp(argv[*i], "--compressed")) {
		spec->compressed = 1;
		return 1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, int allow_compressed, struct spec_args *sa, struct volume_spec *spec)
{
	int only_args = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!only_args && !strcmp(a, "--")) {
			only_args = 1;
			continue;
		}
		if (!only_args && a[0] == '-') {
			int r = parse_option(argc, argv, &i, allow_compressed, sa, spec);

			if (r == 0)
				error("unknown option '%s'", a);
			if (r <= 0)
				return -1;
			continue;
		}
		if (sa->arg) {
			error("unexpected argument '%s'", a);
			return -1;
		}
		sa->arg = a;
	}
	if (!sa->arg) {
		error("missing volume argument");
		return -1;
	}
	return 0;
}

/* "[storeid:]volname" */
static int parse_volume(const char *arg, struct volume_spec *spec)
{
	const char *colon = strchr(arg, ':');
	size_t n;

	spec->volname = arg;
	if (!colon)
		return 0;
	n = (size_t)(colon - arg);
	if (n >= sizeof(spec->storeid_buf)) {
		error("invalid storage id in '%s'", arg);
		return -1;
	}
	memcpy(spec->storeid_buf, arg, n);
	spec->storeid_buf[n] = '\0';
	if (!valid_storage_id(spec->storeid_buf)) {
		error("invalid storage id '%s'", spec->storeid_buf);
		return -1;
	}
	spec->storeid = spec->storeid_buf;
	spec->volname = colon + 1;
	return 0;
}

/* The type whose location options were given (*ret NULL: none); two
 * types' options exclude each other. */
static int chosen_type(const struct spec_args *sa, const struct storage_type **ret)
{
	*ret = NULL;
	for (const struct storage_type *const *t = storage_types; *t; t++) {
		const char *first = NULL;

		for (size_t k = 0; k < BACKEND_LOC_MAX && (*t)->loc[k].key && !first; k++)
			first = sa->loc[(*t)->type][k] ? (*t)->loc[k].option : NULL;
		if (!first)
			continue;
		if (*ret) {
			error("options '%s' and '%s' exclude each other", (*ret)->loc[0].option, first);
			return -1;
		}
		*ret = *t;
	}
	return 0;
}

/* The storage from the location options of type t (all of its keys), or
 * from storage.cfg later when none were given. */
static int parse_storage(const struct storage_type *t, const struct spec_args *sa, struct volume_spec *spec)
{
	struct strbuf opts = STRBUF_INIT;

	if (!t && spec->storeid) {
		/* mapped through storage.cfg by volume_spec_resolve() */
		spec->from_config = 1;
		return 0;
	}
	if (!t) {
		for (const struct storage_type *const *p = storage_types; *p; p++)
			strbuf_addf(&opts, "%s%s", p[1] ? ", " : " or ", (*p)->loc[0].option);
		error("no storage given for '%s' (use STOREID:VOLNAME%s)", sa->arg, opts.buf);
		strbuf_release(&opts);
		return -1;
	}
	spec->storage.type = t->type;
	for (size_t k = 0; k < BACKEND_LOC_MAX && t->loc[k].key; k++) {
		const char *v = sa->loc[t->type][k];

		if (!v) {
			error("missing option '%s'", t->loc[k].option);
			return -1;
		}
		if (!t->loc[k].valid(v)) {
			error("invalid %s '%s'", t->loc[k].what, v);
			return -1;
		}
		spec->storage.loc[k] = v;
	}
	return 0;
}

static int parse_snapshots(const struct spec_args *sa, struct volume_spec *spec)
{
	if (!sa->snapshot) {
		error("missing option '--snapshot'");
		return -1;
	}
	if (!backend_valid_snapname(sa->snapshot)) {
		error("invalid snapshot name '%s'", sa->snapshot);
		return -1;
	}
	if (sa->base && !backend_valid_snapname(sa->base)) {
		error("invalid base snapshot name '%s'", sa->base);
		return -1;
	}
	if (sa->base && !strcmp(sa->base, sa->snapshot)) {
		error("base snapshot '%s' is the snapshot itself", sa->base);
		return -1;
	}
	spec->snapshot = sa->snapshot;
	spec->base = sa->base;
	return 0;
}

int volume_spec_parse(int argc, char **argv, int allow_compressed, struct volume_spec *spec)
{
	struct spec_args sa = { 0 };
	const struct storage_type *t;

	memset(spec, 0, sizeof(*spec));
	if (parse_args(argc, argv, allow_compressed, &sa, spec) < 0 || chosen_type(&sa, &t) < 0 ||
	    parse_volume(sa.arg, spec) < 0 || parse_storage(t, &sa, spec) < 0)
		return -1;
	spec->storage.id = spec->storeid;
	if (!spec->from_config && !backend_valid_volname(spec->storage.type, spec->volname, NULL)) {
		error("invalid volume name '%s'", spec->volname);
		return -1;
	}
	return parse_snapshots(&sa, spec);
}

int volume_spec_resolve(struct volume_spec *spec, struct storage_cfg *sc, const struct context *ctx)
{
	struct strbuf err = STRBUF_INIT;
	const struct storage *st;
	int r;

	if (!spec->from_config)
		return 0;
	r = storage_cfg_load(sc, ctx->config_dir, NULL);
	if (r < 0) {
		error("unable to read '%s/storage.cfg' - %s", ctx->config_dir, file_strerror(-r));
		return -2;
	}
	r = storage_check_replicatable(sc, spec->storeid, ctx->node, &st, &err);
	if (r == 0)
		r = storage_to_backend(st, &spec->storage, &err);
	if (r < 0) {
		error("%s", err.buf);
		strbuf_release(&err);
		return -1;
	}
	strbuf_release(&err);
	if (!backend_valid_volname(spec->storage.type, spec->volname, NULL)) {
		error("invalid volume name '%s'", spec->volname);
		return -1;
	}
	return 0;
}

int volume_spec_open(int argc, char **argv, int allow_compressed, int stream_fd,
		     const struct context *ctx, struct volume_spec *spec, struct backend *b)
{
	struct storage_cfg sc = { 0 };
	int r;

	if (volume_spec_parse(argc, argv, allow_compressed, spec) < 0)
		return EXIT_USAGE;
	r = volume_spec_resolve(spec, &sc, ctx);
	if (r < 0) {
		storage_cfg_release(&sc);
		return r == -1 ? EXIT_USAGE : EXIT_FAILED;
	}
	if (isatty(stream_fd)) {
		error(stream_fd == STDIN_FILENO ? "refusing to read a stream from a terminal"
						: "refusing to write a stream to a terminal");
		storage_cfg_release(&sc);
		return EXIT_USAGE;
	}
	r = backend_open(b, &spec->storage);
	storage_cfg_release(&sc); /* backend_open copied what it needs */
	if (r < 0) {
		error("%s", backend_errmsg(b));
		return EXIT_USAGE;
	}
	return 0;
}
