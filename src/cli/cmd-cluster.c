/* volrep cluster status|import|export|lock: the cluster store seen from
 * this node (docs/cluster.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/log.h"
#include "base/parse-util.h"
#include "base/time-util.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/jobs-output.h"
#include "cli/opts.h"
#include "cluster/store.h"
#include "config/cluster.h"

#define FILE_MAX (1024 * 1024)
/* etcd refuses transactions of more than 128 operations by default */
#define IMPORT_BATCH 60

static void fmt_since(char *buf, size_t size, int64_t t)
{
	if (!t)
		snprintf(buf, size, "unknown");
	else
		format_time(buf, size, t);
}

static const char *store_kind_name(const struct store *st)
{
	return st->kind == STORE_ETCD ? "etcd" : st->kind == STORE_PMXCFS ? "pmxcfs" : "dir";
}

/* What `cluster status` shows: the store, its quorum, its endpoints and
 * the nodes with their liveness. */
struct status_view {
	struct store *st;
	const char *self;
	int quorate, have_members;
	struct strbuf why;
	struct strvec health, names;
	struct store_member *m; /* names.nr of them when have_members */
};

static void status_gather(struct status_view *v, const struct context *ctx)
{
	struct strbuf err = STRBUF_INIT;
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	int r;

	v->quorate = store_quorate(v->st, &v->why);
	r = cluster_config_load(&cc, ctx->config_dir, 0, &err);
	/* the store's own state is worth showing even without the node list */
	if (r < 0)
		warning("cannot read the node list: %s", err.buf);
	for (size_t i = 0; r == 0 && i < cc.nodes.nr; i++)
		strvec_push(&v->names, cc.nodes.v[i].name);
	if (v->st->kind != STORE_DIR) {
		store_endpoint_health(v->st, &v->health);
		/* without quorum only a possibly stale (serializable) view exists */
		strbuf_reset(&err);
		v->have_members = store_members(v->st, &v->names, v->quorate, &v->m, &err) == 0;
		if (!v->have_members)
			warning("cannot read the liveness keys: %s", err.buf);
	}
	cluster_config_release(&cc);
	strbuf_release(&err);
}

static void status_print_text(const struct status_view *v)
{
	const struct store *st = v->st;

	printf("store:     %s %s\n", store_kind_name(st), st->where);
	for (size_t i = 0; i < v->health.nr; i++)
		printf("%s %s\n", i ? "          " : "endpoints:", v->health.v[i]);
	if (v->quorate)
		printf("quorate:   yes%s\n", st->kind == STORE_DIR ? " (a local directory needs no quorum)" : "");
	else
		printf("quorate:   no (%s)\n", v->why.buf);
	printf("nodes:\n");
	for (size_t i = 0; i < v->names.nr; i++) {
		const char *name = v->names.v[i];
		char since[64];

		if (st->kind == STORE_DIR) {
			printf("  %-20s %s\n", name,
			       !strcmp(name, v->self) ? "this node" : "membership not tracked in dir mode");
			continue;
		}
		if (!v->have_members) {
			printf("  %-20s unknown\n", name);
			continue;
		}
		fmt_since(since, sizeof(since), v->m[i].since);
		printf("  %-20s %-8s since %s%s\n", name, v->m[i].online ? "online" : "offline", since,
		       !strcmp(name, v->self) ? " (this node)" : "");
	}
}

static json_t *status_json(const struct status_view *v)
{
	const struct store *st = v->st;
	json_t *o = json_object(), *nodes = json_array(), *eps = json_array();

	json_object_set_new(o, "store", json_string(store_kind_name(st)));
	json_object_set_new(o, "where", json_string(st->where));
	json_object_set_new(o, "quorate", json_boolean(v->quorate));
	if (!v->quorate)
		json_object_set_new(o, "reason", json_string(v->why.buf));
	for (size_t i = 0; i < v->health.nr; i++)
		json_array_append_new(eps, json_string(v->health.v[i]));
	if (st->kind == STORE_ETCD)
		json_object_set_new(o, "endpoints", eps);
	else
		json_decref(eps);
	for (size_t i = 0; i < v->names.nr; i++) {
		const char *name = v->names.v[i];
		json_t *n = json_object();
		int online = st->kind == STORE_DIR ? !strcmp(name, v->self) : v->have_members && v->m[i].online;

		json_object_set_new(n, "name", json_string(name));
		json_object_set_new(n, "online", json_boolean(online));
		if (st->kind == STORE_DIR)
			json_object_set_new(n, "tracked", json_false());
		else if (v->have_members && v->m[i].since)
			json_object_set_new(n, "since", json_integer(v->m[i].since));
		json_array_append_new(nodes, n);
	}
	json_object_set_new(o, "nodes", nodes);
	return o;
}

static int cluster_status(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = { { "output-format", OPT_VALUE, NULL }, { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct status_view v = { .st = store_get(ctx->config_dir), .self = ctx->node, .why = STRBUF_INIT,
				 .health = STRVEC_INIT, .names = STRVEC_INIT };
	enum output_format fmt;
	int ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, NULL, 0) < 0 ||
	    output_format_parse(specs[0].value, &fmt) < 0)
		goto out;
	status_gather(&v, ctx);
	if (fmt == OUTPUT_TEXT) {
		status_print_text(&v);
	} else {
		json_t *o = status_json(&v);

		print_json(o, fmt);
		json_decref(o);
	}
	ret = 0;
out:
	store_members_release(v.m, v.names.nr);
	strvec_clear(&pos);
	strvec_clear(&v.health);
	strvec_clear(&v.names);
	strbuf_release(&v.why);
	return ret;
}

static int need_etcd(const char *what)
{
	if (store_cluster() && store_cluster()->kind == STORE_ETCD)
		return 0;
	/* pmxcfs: the files are PVE's tree already, there is nothing to load */
	error("cluster %s needs the etcd store (--cluster URL or VOLREP_CLUSTER)", what);
	return -1;
}

struct import_file {
	char *name;
	struct strbuf data;
};

static int add_file(struct import_file **v, size_t *nr, size_t *alloc, const char *dir, const char *name)
{
	struct strbuf path = STRBUF_INIT;
	struct import_file f = { .name = xstrdup(name), .data = STRBUF_INIT };
	int r;

	strbuf_addf(&path, "%s/%s", dir, name);
	r = strbuf_read_file(&f.data, path.buf, FILE_MAX);
	if (r == -ENOENT) {
		r = 0;
		free(f.name);
		strbuf_release(&f.data);
	} else if (r < 0) {
		error("unable to read '%s' - %s", path.buf, strerror(-r));
		free(f.name);
		strbuf_release(&f.data);
	} else {
		ALLOC_GROW(*v, *nr + 1, *alloc);
		(*v)[(*nr)++] = f;
		r = 0;
	}
	strbuf_release(&path);
	return r;
}

/* The cluster files of a config dir: the four .cfg files and the guest
 * configs; hooks and anything else are node-local and stay. */
static int collect(const char *dir, struct import_file **v, size_t *nr)
{
	static const char *const top[] = { "nodes.cfg", "storage.cfg", "replication.cfg", "volrep.cfg", NULL };
	static const char *const subs[] = { "qemu-server", "lxc", NULL };
	size_t alloc = 0;
	struct strbuf p = STRBUF_INIT;
	DIR *d, *d2;
	struct dirent *de, *de2;

	for (int i = 0; top[i]; i++)
		if (add_file(v, nr, &alloc, dir, top[i]) < 0)
			return -1;
	strbuf_addf(&p, "%s/nodes", dir);
	d = opendir(p.buf);
	while (d && (de = readdir(d))) {
		if (!valid_node_name(de->d_name))
			continue;
		for (int s = 0; subs[s]; s++) {
			strbuf_reset(&p);
			strbuf_addf(&p, "%s/nodes/%s/%s", dir, de->d_name, subs[s]);
			d2 = opendir(p.buf);
			while (d2 && (de2 = readdir(d2))) {
				size_t n = strlen(de2->d_name);
				struct strbuf name = STRBUF_INIT;

				if (n <= 5 || strcmp(de2->d_name + n - 5, ".conf"))
					continue;
				strbuf_add(&name, de2->d_name, n - 5);
				if (!valid_vmid(name.buf)) {
					strbuf_release(&name);
					continue;
				}
				strbuf_reset(&name);
				strbuf_addf(&name, "nodes/%s/%s/%s", de->d_name, subs[s], de2->d_name);
				int r = add_file(v, nr, &alloc, dir, name.buf);
				strbuf_release(&name);
				if (r < 0) {
					closedir(d2);
					closedir(d);
					strbuf_release(&p);
					return -1;
				}
			}
			if (d2)
				closedir(d2);
		}
	}
	if (d)
		closedir(d);
	strbuf_release(&p);
	return 0;
}

static int cluster_import(const char *dir)
{
	struct store *st = store_cluster();
	struct import_file *v = NULL;
	struct strvec names = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t nr = 0;
	int ret = EXIT_FAILED, r;

	if (access(dir, R_OK | X_OK) < 0) {
		error("cannot read config directory '%s': %s", dir, strerror(errno));
		return EXIT_USAGE;
	}
	if (collect(dir, &v, &nr) < 0)
		goto out;
	if ((r = store_require_quorum(st, &err)) < 0 || (r = store_load(st, 0, &err)) < 0) {
		error("%s", err.buf);
		goto out;
	}
	store_list(st, "", &names, &err);
	if (names.nr) {
		error("cluster store '%s' is not empty (holds '%s'): refusing to overwrite", st->where, names.v[0]);
		goto out;
	}
	for (size_t i = 0; i < nr; i += IMPORT_BATCH) {
		size_t n = nr - i < IMPORT_BATCH ? nr - i : IMPORT_BATCH;
		struct store_op *ops = xcalloc(n, sizeof(*ops));

		for (size_t k = 0; k < n; k++)
			ops[k] = (struct store_op){ .kind = STORE_PUT, .name = v[i + k].name, .data = v[i + k].data.buf,
						    .len = v[i + k].data.len, .rev = STORE_REV_ABSENT };
		r = store_commit(st, ops, n, &err);
		free(ops);
		if (r < 0) {
			if (r == -ESTALE) {
				strbuf_reset(&err);
				strbuf_addstr(&err, "another node wrote to the cluster store during the import");
			}
			error("import stopped after %zu of %zu files: %s", i, nr, err.buf);
			goto out;
		}
	}
	printf("imported %zu files from '%s' into %s\n", nr, dir, st->where);
	ret = 0;
out:
	for (size_t i = 0; i < nr; i++) {
		free(v[i].name);
		strbuf_release(&v[i].data);
	}
	free(v);
	strvec_clear(&names);
	strbuf_release(&err);
	return ret;
}

static int cluster_export(const char *dir)
{
	struct store *st = store_cluster();
	struct strvec names = STRVEC_INIT, datas = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	int ret = EXIT_FAILED, r;

	r = store_dump(st, &names, &datas, &err);
	if (r < 0) {
		error("%s", err.buf);
		goto out;
	}
	/* every name is checked, and nothing is overwritten, before the first write */
	for (size_t i = 0; i < names.nr; i++) {
		if (!store_valid_name(names.v[i])) {
			error("refusing to export the key '%s' (not a valid file name)", names.v[i]);
			goto out;
		}
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dir, names.v[i]);
		if (access(path.buf, F_OK) == 0 || errno != ENOENT) {
			error("'%s' exists: refusing to overwrite", path.buf);
			goto out;
		}
	}
	for (size_t i = 0; i < names.nr; i++) {
		char *slash;

		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dir, names.v[i]);
		slash = strrchr(path.buf, '/');
		*slash = '\0';
		r = mkdir_p(path.buf, 0755);
		*slash = '/';
		if (r == 0)
			r = write_file_atomic(path.buf, datas.v[i], strlen(datas.v[i]), 0644);
		if (r < 0) {
			error("unable to write '%s' - %s", path.buf, strerror(-r));
			goto out;
		}
	}
	printf("exported %zu files from %s into '%s'\n", names.nr, st->where, dir);
	ret = 0;
out:
	strvec_clear(&names);
	strvec_clear(&datas);
	strbuf_release(&err);
	strbuf_release(&path);
	return ret;
}

/* Take a cluster lock and hold it: for diagnostics and the tests of lock
 * expiry. */
static int cluster_lock(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = { { "ttl", OPT_VALUE, NULL }, { "timeout", OPT_VALUE, NULL },
				    { "hold", OPT_VALUE, NULL }, { NULL, OPT_VALUE, NULL } };
	static const char *const names[] = { "name" };
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct store_lock lk = STORE_LOCK_INIT;
	struct store *st = store_get(ctx->config_dir);
	uint64_t ttl = 0, timeout = 0, hold = 0;
	int ret = EXIT_USAGE, r;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, names, 1) < 0)
		goto out;
	if ((specs[0].value && (parse_u64(specs[0].value, &ttl) < 0 || ttl < 1 || ttl > 3600)) ||
	    (specs[1].value && (parse_u64(specs[1].value, &timeout) < 0 || timeout > 3600000)) ||
	    (specs[2].value && (parse_u64(specs[2].value, &hold) < 0 || hold > 86400))) {
		error("invalid --ttl/--timeout/--hold (seconds 1..3600, milliseconds, seconds)");
		goto out;
	}
	r = store_lock(st, pos.v[0], (long)timeout, (int)ttl, &lk, &err);
	if (r < 0) {
		error("%s", err.buf);
		ret = exit_code_of(r, ERRK_INVALID);
		goto out;
	}
	printf("locked '%s'\n", pos.v[0]);
	fflush(stdout);
	for (uint64_t i = 0; i < hold; i++)
		sleep(1);
	store_unlock(st, &lk);
	ret = 0;
out:
	strvec_clear(&pos);
	strbuf_release(&err);
	return ret;
}

int cmd_cluster(int argc, char **argv, struct context *ctx)
{
	if (argc < 2) {
		error("missing argument 'subcommand' (status, import DIR, export DIR, lock NAME)");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "status"))
		return cluster_status(argc - 1, argv + 1, ctx);
	if (!strcmp(argv[1], "lock"))
		return cluster_lock(argc - 1, argv + 1, ctx);
	if (!strcmp(argv[1], "import") || !strcmp(argv[1], "export")) {
		if (argc != 3) {
			error("usage: volrep cluster %s DIR", argv[1]);
			return EXIT_USAGE;
		}
		if (need_etcd(argv[1]) < 0)
			return EXIT_USAGE;
		return !strcmp(argv[1], "import") ? cluster_import(argv[2]) : cluster_export(argv[2]);
	}
	error("unknown cluster subcommand '%s' (status, import DIR, export DIR, lock NAME)", argv[1]);
	return EXIT_USAGE;
}
