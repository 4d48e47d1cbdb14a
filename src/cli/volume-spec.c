#include "cli/volume-spec.h"

#include <string.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/log.h"
#include "cli/commands.h"
#include "base/validate.h"
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

int volume_spec_parse(int argc, char **argv, int allow_compressed, struct volume_spec *spec)
{
	static const char *const names[] = { "--zfs-pool", "--btrfs-path", "--snapshot", "--base", NULL };
	const char *vals[4] = { NULL, NULL, NULL, NULL }, *arg = NULL;
	int only_args = 0;
	uint32_t vmid;

	memset(spec, 0, sizeof(*spec));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		int matched = 0;

		if (!only_args && !strcmp(a, "--")) {
			only_args = 1;
			continue;
		}
		if (!only_args && a[0] == '-') {
			for (int k = 0; names[k] && !matched; k++) {
				int r = opt_value(argc, argv, &i, names[k], &val);

				if (r < 0)
					return -1;
				if (r > 0) {
					if (set_once(&vals[k], val, names[k]) < 0)
						return -1;
					matched = 1;
				}
			}
			if (!matched && allow_compressed && !strcmp(a, "--compressed")) {
				spec->compressed = 1;
				matched = 1;
			}
			if (!matched) {
				error("unknown option '%s'", a);
				return -1;
			}
			continue;
		}
		if (arg) {
			error("unexpected argument '%s'", a);
			return -1;
		}
		arg = a;
	}
	if (!arg) {
		error("missing volume argument");
		return -1;
	}
	if (vals[0] && vals[1]) {
		error("options '--zfs-pool' and '--btrfs-path' exclude each other");
		return -1;
	}
	spec->volname = arg;
	const char *colon = strchr(arg, ':');
	if (colon) {
		char *storeid = spec->storeid_buf;
		size_t n = (size_t)(colon - arg);

		if (n >= sizeof(spec->storeid_buf)) {
			error("invalid storage id in '%s'", arg);
			return -1;
		}
		memcpy(storeid, arg, n);
		storeid[n] = '\0';
		if (!valid_storage_id(storeid)) {
			error("invalid storage id '%s'", storeid);
			return -1;
		}
		spec->storeid = storeid;
		spec->volname = colon + 1;
	}
	if (vals[0]) {
		spec->storage.type = BACKEND_ZFSPOOL;
		spec->storage.pool = vals[0];
		if (!valid_dataset(vals[0]) || strchr(vals[0], '@')) {
			error("invalid zfs pool '%s'", vals[0]);
			return -1;
		}
	} else if (vals[1]) {
		spec->storage.type = BACKEND_BTRFS;
		spec->storage.path = vals[1];
		if (!valid_abs_path(vals[1]) || strchr(vals[1], '@')) {
			error("invalid btrfs path '%s'", vals[1]);
			return -1;
		}
	} else if (spec->storeid) {
		/* mapped through storage.cfg by volume_spec_resolve() */
		spec->from_config = 1;
	} else {
		error("no storage given for '%s' (use STOREID:VOLNAME, --zfs-pool or --btrfs-path)", arg);
		return -1;
	}
	spec->storage.id = spec->storeid;
	if (!spec->from_config && !backend_valid_volname(spec->storage.type, spec->volname, &vmid)) {
		error("invalid volume name '%s'", spec->volname);
		return -1;
	}
	if (!vals[2]) {
		error("missing option '--snapshot'");
		return -1;
	}
	if (!backend_valid_snapname(vals[2])) {
		error("invalid snapshot name '%s'", vals[2]);
		return -1;
	}
	if (vals[3] && !backend_valid_snapname(vals[3])) {
		error("invalid base snapshot name '%s'", vals[3]);
		return -1;
	}
	if (vals[3] && !strcmp(vals[3], vals[2])) {
		error("base snapshot '%s' is the snapshot itself", vals[3]);
		return -1;
	}
	spec->snapshot = vals[2];
	spec->base = vals[3];
	return 0;
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
