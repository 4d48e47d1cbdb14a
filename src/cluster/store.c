/* The store interface, and its dir implementation: the config directory
 * exactly as volrep used it before there was a choice. */
#include "cluster/store.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "cluster/store-etcd.h"
#include "cluster/store-pmxcfs.h"

/* what config_read_file always allowed (SECTIONCFG_MAX_FILE) */
#define DIR_FILE_MAX (1024 * 1024)

int store_valid_name(const char *name)
{
	const char *p = name;

	if (!*name || strlen(name) > 512)
		return 0;
	while (*p) {
		const char *s = p;

		/* a name starts with a letter or digit: dot names are the store's
		 * own keys, and a file range starts at <prefix>0 */
		if (!isalnum((unsigned char)*p))
			return 0;
		while (*p && *p != '/') {
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
				return 0;
			p++;
		}
		if (p == s)
			return 0;
		if (*p == '/' && !*++p)
			return 0;
	}
	return 1;
}

/* ---- dir ---- */

struct dir_store {
	struct store base;
	struct strbuf path;
};

static struct dir_store *dir_of(struct store *st)
{
	return (struct dir_store *)st;
}

static void dir_path(struct store *st, const char *name, struct strbuf *out)
{
	strbuf_addf(out, "%s/%s", dir_of(st)->path.buf, name);
}

static int dir_load(struct store *st, unsigned flags, struct strbuf *err)
{
	(void)st;
	(void)flags;
	(void)err;
	return 0;
}

static int dir_read(struct store *st, const char *name, unsigned flags, struct strbuf *out, int64_t *rev,
		    struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	(void)flags;
	strbuf_reset(out);
	dir_path(st, name, &path);
	r = strbuf_read_file(out, path.buf, DIR_FILE_MAX);
	/* a missing file is an empty one (a new cluster); a missing
	 * directory is a mistyped --config-dir or a node not set up yet */
	if (r == -ENOENT && access(dir_of(st)->path.buf, X_OK) == 0) {
		strbuf_reset(out);
		r = 1;
	} else if (r < 0 && err) {
		strbuf_addf(err, "unable to read '%s' - %s", path.buf, strerror(-r));
	} else if (r >= 0) {
		r = 0;
	}
	if (rev)
		*rev = r == 0 ? 1 : 0;
	strbuf_release(&path);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_list_dir(const char *path, int valid_only, struct strvec *names)
{
	DIR *d = opendir(path);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && (!valid_only || store_valid_name(de->d_name)))
			strvec_push(names, de->d_name);
	if (d)
		closedir(d);
	if (names->nr > 1)
		qsort(names->v, names->nr, sizeof(char *), cmp_str);
	return 0;
}

static int dir_list(struct store *st, const char *folder, struct strvec *names, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;

	(void)err;
	dir_path(st, folder, &path);
	store_list_dir(path.buf, 0, names);
	strbuf_release(&path);
	return 0;
}

int store_mkdir_parent(const char *path)
{
	char *copy = xstrdup(path), *slash = strrchr(copy, '/');
	int r = 0;

	if (slash) {
		*slash = '\0';
		r = mkdir_p(copy, 0755);
	}
	free(copy);
	return r;
}

int store_apply_file(const struct store_op *op, const char *path, const char *to, const struct store_file_io *io,
		     struct strbuf *err)
{
	int r = 0;

	if (op->rev == STORE_REV_ABSENT && op->kind != STORE_MOVE && access(path, F_OK) == 0) {
		strbuf_addf(err, "'%s' already exists", path);
		return -ESTALE;
	}
	switch (op->kind) {
	case STORE_CHECK:
		break;
	case STORE_PUT:
		r = store_mkdir_parent(path);
		if (r == 0)
			r = io->write_fn(path, op->data, op->len);
		if (r < 0)
			strbuf_addf(err, "unable to write '%s' - %s", path, strerror(-r));
		break;
	case STORE_DELETE:
		if (unlink(path) < 0 && errno != ENOENT) {
			r = -errno;
			strbuf_addf(err, "unable to remove '%s' - %s", path, strerror(errno));
		}
		break;
	case STORE_MOVE:
		r = store_mkdir_parent(to);
		if (r < 0) {
			strbuf_addf(err, "cannot create the folder of '%s': %s", to, strerror(-r));
			break;
		}
		r = io->move_fn(path, to);
		if (r < 0)
			strbuf_addf(err, "cannot move '%s' to '%s': %s", path, to, strerror(-r));
		break;
	}
	return r;
}

static int dir_write(const char *path, const void *data, size_t len)
{
	return write_file_atomic(path, data, len, 0644);
}

/* a move never replaces a file */
static int dir_move(const char *from, const char *to)
{
	return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) < 0 ? -errno : 0;
}

static int dir_commit_one(struct store *st, const struct store_op *op, struct strbuf *err)
{
	static const struct store_file_io io = { dir_write, dir_move };
	struct strbuf path = STRBUF_INIT, to = STRBUF_INIT;
	int r;

	dir_path(st, op->name, &path);
	if (op->kind == STORE_MOVE)
		dir_path(st, op->to, &to);
	r = store_apply_file(op, path.buf, op->kind == STORE_MOVE ? to.buf : NULL, &io, err);
	strbuf_release(&path);
	strbuf_release(&to);
	return r;
}

/* The directory gives no transaction: ops run in order under the caller's
 * lock, as volrep always did (a move first, then the rewrite). */
static int dir_commit(struct store *st, const struct store_op *ops, size_t n, struct strbuf *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = dir_commit_one(st, &ops[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int dir_lock(struct store *st, const char *name, long timeout_ms, int ttl, struct store_lock *lk,
		    struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	(void)ttl;
	/* the config lock keeps the file name it always had */
	if (!strcmp(name, "config"))
		strbuf_addf(&path, "%s/.volrep-config.lck", dir_of(st)->path.buf);
	else
		strbuf_addf(&path, "%s/.volrep-lock-%s.lck", dir_of(st)->path.buf, name);
	r = lock_acquire(&lk->flk, path.buf, timeout_ms);
	if (r == -ETIMEDOUT)
		strbuf_addf(err, "can't lock file '%s' - got timeout", path.buf);
	else if (r < 0)
		strbuf_addf(err, "can't lock file '%s' - %s", path.buf, strerror(-r));
	else
		lk->name = xstrdup(name);
	strbuf_release(&path);
	return r;
}

static void dir_unlock(struct store *st, struct store_lock *lk)
{
	(void)st;
	lock_release(&lk->flk);
}

static int dir_quorate(struct store *st, struct strbuf *why)
{
	(void)st;
	(void)why;
	return 1;
}

static void dir_release(struct store *st)
{
	(void)st;
}

static const struct store_ops dir_ops = {
	.load = dir_load,
	.read = dir_read,
	.list = dir_list,
	.commit = dir_commit,
	.lock = dir_lock,
	.unlock = dir_unlock,
	.quorate = dir_quorate,
	.release = dir_release,
};

/* ---- selection ---- */

static struct store *cluster_store;
/* dir stores are handed out per path and live as long as the process */
#define DIR_STORES 8
static struct dir_store dir_stores[DIR_STORES];
static size_t dir_next;

void store_set_cluster(struct store *st)
{
	if (cluster_store && cluster_store != st)
		store_free(cluster_store);
	cluster_store = st;
}

struct store *store_cluster(void)
{
	return cluster_store;
}

struct store *store_get(const char *config_dir)
{
	struct dir_store *d;

	if (cluster_store)
		return cluster_store;
	for (size_t i = 0; i < DIR_STORES; i++)
		if (dir_stores[i].base.ops && !strcmp(dir_stores[i].path.buf, config_dir))
			return &dir_stores[i].base;
	d = &dir_stores[dir_next++ % DIR_STORES];
	if (d->base.ops)
		strbuf_release(&d->path);
	memset(d, 0, sizeof(*d));
	d->base.kind = STORE_DIR;
	d->base.ops = &dir_ops;
	strbuf_init(&d->path, 0);
	strbuf_addstr(&d->path, config_dir);
	d->base.where = d->path.buf;
	return &d->base;
}

void store_free(struct store *st)
{
	if (!st || st->kind == STORE_DIR)
		return;
	st->ops->release(st);
}

int store_open_url(const char *url, const char *state_dir, struct store **out, struct strbuf *err)
{
	const char *rest, *slash;
	struct strbuf hosts = STRBUF_INIT, prefix = STRBUF_INIT;
	int tls = 0, r = -EINVAL;

	if (!strncmp(url, "pmxcfs://", 9)) {
		r = pmxcfs_store_open(url + 9, out, &prefix);
		if (r < 0)
			strbuf_addf(err, "invalid cluster URL '%s' (pmxcfs:///etc/pve expected: %s)", url, prefix.buf);
		goto out;
	}
	if (!strncmp(url, "etcd://", 7)) {
		rest = url + 7;
	} else if (!strncmp(url, "etcds://", 8)) {
		rest = url + 8;
		tls = 1;
	} else {
		strbuf_addf(err, "invalid cluster URL '%s' (etcd://HOST:PORT[,HOST:PORT...][/PREFIX] or "
			    "pmxcfs:///etc/pve expected)", url);
		return -EINVAL;
	}
	slash = strchr(rest, '/');
	strbuf_add(&hosts, rest, slash ? (size_t)(slash - rest) : strlen(rest));
	strbuf_addch(&prefix, '/');
	if (slash && slash[1]) {
		const char *p = slash + 1;
		size_t n = strlen(p);

		while (n && p[n - 1] == '/')
			n--;
		struct strbuf name = STRBUF_INIT;
		strbuf_add(&name, p, n);
		if (!n || !store_valid_name(name.buf)) {
			strbuf_addf(err, "invalid cluster URL '%s' (the prefix may hold letters, digits, '.', '_', "
				    "'-' and '/')", url);
			strbuf_release(&name);
			goto out;
		}
		strbuf_addf(&prefix, "%s/", name.buf);
		strbuf_release(&name);
	} else {
		strbuf_addstr(&prefix, "volrep/");
	}
	r = etcd_store_open(hosts.buf, tls, prefix.buf, state_dir, out, err);
	if (r < 0) {
		struct strbuf why = STRBUF_INIT;
		strbuf_add(&why, err->buf, err->len);
		strbuf_reset(err);
		strbuf_addf(err, "invalid cluster URL '%s' (%s)", url, why.buf);
		strbuf_release(&why);
	}
out:
	strbuf_release(&hosts);
	strbuf_release(&prefix);
	return r;
}

/* ---- dispatch ---- */

int store_load(struct store *st, unsigned flags, struct strbuf *err)
{
	return st->ops->load(st, flags, err);
}

int store_read(struct store *st, const char *name, unsigned flags, struct strbuf *out, int64_t *rev,
	       struct strbuf *err)
{
	return st->ops->read(st, name, flags, out, rev, err);
}

int store_list(struct store *st, const char *folder, struct strvec *names, struct strbuf *err)
{
	return st->ops->list(st, folder, names, err);
}

int store_commit(struct store *st, const struct store_op *ops, size_t n, struct strbuf *err)
{
	return st->ops->commit(st, ops, n, err);
}

int store_write(struct store *st, const char *name, const void *data, size_t len, int64_t rev,
		struct strbuf *err)
{
	struct store_op op = { .kind = STORE_PUT, .name = name, .data = data, .len = len, .rev = rev };

	return store_commit(st, &op, 1, err);
}

int store_move(struct store *st, const char *from, const void *data, size_t len, int64_t rev, const char *to,
	       struct strbuf *err)
{
	struct store_op op = { .kind = STORE_MOVE, .name = from, .to = to, .data = data, .len = len, .rev = rev };

	return store_commit(st, &op, 1, err);
}

int store_lock(struct store *st, const char *name, long timeout_ms, int ttl, struct store_lock *lk,
	       struct strbuf *err)
{
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.') {
			strbuf_addf(err, "invalid lock name '%s' (letters, digits, '-', '_', '.')", name);
			return -EINVAL;
		}
	if (!*name || *name == '.') {
		strbuf_addf(err, "invalid lock name '%s' (letters, digits, '-', '_', '.')", name);
		return -EINVAL;
	}
	return st->ops->lock(st, name, timeout_ms, ttl, lk, err);
}

void store_unlock(struct store *st, struct store_lock *lk)
{
	if (lk->name || lk->flk.fd >= 0)
		st->ops->unlock(st, lk);
	free(lk->name);
	lk->name = NULL;
}

int store_quorate(struct store *st, struct strbuf *why)
{
	return st->ops->quorate(st, why);
}

int store_require_quorum(struct store *st, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	int r = 0;

	if (!store_quorate(st, &why)) {
		strbuf_addf(err, "cluster not quorate: %s", why.buf);
		r = -ENOTCONN;
	}
	strbuf_release(&why);
	return r;
}

int store_heartbeat(struct store *st, const char *node, int ttl, struct strbuf *err)
{
	if (st->kind != STORE_ETCD)
		return -ENOTSUP;
	return etcd_store_heartbeat(st, node, ttl, err);
}

void store_heartbeat_stop(struct store *st, const char *node)
{
	if (st->kind == STORE_ETCD)
		etcd_store_heartbeat_stop(st, node);
}

int store_members(struct store *st, const struct strvec *nodes, int fresh, struct store_member **out,
		  struct strbuf *err)
{
	if (st->kind == STORE_PMXCFS)
		return pmxcfs_store_members(st, nodes, out, err);
	if (st->kind != STORE_ETCD)
		return -ENOTSUP;
	return etcd_store_members(st, nodes, fresh, out, err);
}

void store_members_release(struct store_member *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++)
		free(m[i].node);
	free(m);
}

int store_revision(struct store *st, int64_t *rev, struct strbuf *err)
{
	if (st->kind == STORE_PMXCFS)
		return pmxcfs_store_revision(st, rev, err);
	if (st->kind != STORE_ETCD)
		return -ENOTSUP;
	return etcd_store_revision(st, rev, err);
}

int store_watch_start(struct store *st, int *fd, struct strbuf *err)
{
	if (st->kind != STORE_ETCD)
		return -ENOTSUP;
	return etcd_store_watch_start(st, fd, err);
}

void store_watch_news(struct store *st, struct store_watch_news *news)
{
	if (st->kind == STORE_ETCD)
		etcd_store_watch_news(st, news);
	else
		memset(news, 0, sizeof(*news));
}

void store_watch_stop(struct store *st)
{
	if (st->kind == STORE_ETCD)
		etcd_store_watch_stop(st);
}

int store_note_offline(struct store *st, const char *node, int64_t rev, struct strbuf *err)
{
	if (st->kind != STORE_ETCD)
		return -ENOTSUP;
	return etcd_store_note_offline(st, node, rev, err);
}

size_t store_endpoint_health(struct store *st, struct strvec *out)
{
	if (st->kind != STORE_ETCD)
		return 0;
	return etcd_store_health(st, out);
}

int store_dump(struct store *st, struct strvec *names, struct strvec *datas, struct strbuf *err)
{
	if (st->kind != STORE_ETCD)
		return -ENOTSUP;
	return etcd_store_dump(st, names, datas, err);
}
