#include "cli/volume-spec.h"

#include <string.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/log.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "base/validate.h"
#include "backend/types.h"
#include "engine/storemap.h"

/* What the command line gave: the volume argument, the location options
 * of every storage type (backend/types.h), --snapshot and --base. */
struct spec_args {
	struct opts_first pos; /* the volume argument (and a refused second one) */
	const char *loc[BACKEND_NTYPES][BACKEND_LOC_MAX];
	const char *snapshot, *base;
};

/* The options: every type's location options, --snapshot, --base,
 * (export) --compressed and the verb's own (extra), as opts_parse specs
 * ending at name NULL. */
#define SPEC_EXTRA_MAX 8
#define SPEC_OPTS_MAX (BACKEND_NTYPES * BACKEND_LOC_MAX + 4 + SPEC_EXTRA_MAX)

static void spec_options(struct opt_spec *o, int allow_compressed, const struct opt_spec *extra)
{
	size_t n = 0;

	for (const struct storage_type *const *t = storage_types; *t; t++)
		for (size_t k = 0; k < BACKEND_LOC_MAX && (*t)->loc[k].key; k++)
			o[n++] = (struct opt_spec){ (*t)->loc[k].option + 2, OPT_NONEMPTY, NULL };
	o[n++] = (struct opt_spec){ "snapshot", OPT_NONEMPTY, NULL };
	o[n++] = (struct opt_spec){ "base", OPT_NONEMPTY, NULL };
	if (allow_compressed)
		o[n++] = (struct opt_spec){ "compressed", OPT_FLAG, NULL };
	for (size_t i = 0; extra && extra[i].name && i < SPEC_EXTRA_MAX; i++)
		o[n++] = extra[i];
	o[n] = (struct opt_spec){ NULL, OPT_VALUE, NULL };
}

static int parse_args(int argc, char **argv, int allow_compressed, struct opt_spec *extra, struct spec_args *sa,
		      struct volume_spec *spec)
{
	struct opt_spec o[SPEC_OPTS_MAX];
	size_t n = 0;

	spec_options(o, allow_compressed, extra);
	if (opts_parse_each(argc, argv, o, 0, opts_keep_first, &sa->pos) < 0)
		return -1;
	for (const struct storage_type *const *t = storage_types; *t; t++)
		for (size_t k = 0; k < BACKEND_LOC_MAX && (*t)->loc[k].key; k++)
			sa->loc[(*t)->type][k] = o[n++].value;
	sa->snapshot = o[n++].value;
	sa->base = o[n++].value;
	spec->compressed = allow_compressed && o[n].value && !strcmp(o[n].value, "1");
	n += allow_compressed;
	for (size_t i = 0; extra && extra[i].name && i < SPEC_EXTRA_MAX; i++)
		extra[i].value = o[n++].value;
	if (sa->pos.extra) {
		error("unexpected argument '%s'", sa->pos.extra);
		return -1;
	}
	if (!sa->pos.arg) {
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
		error("no storage given for '%s' (use STOREID:VOLNAME%s)", sa->pos.arg, opts.buf);
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

int volume_spec_parse(int argc, char **argv, int allow_compressed, struct opt_spec *extra,
		      struct volume_spec *spec)
{
	struct spec_args sa = { 0 };
	const struct storage_type *t;

	memset(spec, 0, sizeof(*spec));
	if (parse_args(argc, argv, allow_compressed, extra, &sa, spec) < 0 || chosen_type(&sa, &t) < 0 ||
	    parse_volume(sa.pos.arg, spec) < 0 || parse_storage(t, &sa, spec) < 0)
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
	if (volume_spec_parse(argc, argv, allow_compressed, NULL, spec) < 0)
		return EXIT_USAGE;
	return volume_spec_bind(spec, stream_fd, ctx, b);
}

int volume_spec_bind(struct volume_spec *spec, int stream_fd, const struct context *ctx, struct backend *b)
{
	struct storage_cfg sc = { 0 };
	int r;

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
