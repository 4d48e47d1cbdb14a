/* The store on a Proxmox VE cluster file system; see store-pmxcfs.h.
 *
 * pmxcfs is a FUSE file system with its own rules, which this file keeps:
 * files can be created, written and renamed but chmod to anything but
 * 0640 (0600 under priv/) fails, so atomic writes here never fchmod; a
 * cluster lock is a directory under priv/lock/ that pmxcfs drops once it
 * is 120 s old; writes without quorum fail with EACCES, so volrep checks
 * .members first and says why. */
#include "cluster/store-pmxcfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/xalloc.h"
#include "cluster/pve-members.h"

#define PMXCFS_FILE_MAX (1024 * 1024)

/* a longer root leaves too little room for the paths under it */
#define PMXCFS_ROOT_MAX (PATH_MAX - 64)

struct pmxcfs_store {
	struct store base;
	struct strbuf root;
};

static struct pmxcfs_store *pm_of(struct store *st)
{
	return (struct pmxcfs_store *)st;
}

const char *pmxcfs_store_root(struct store *st)
{
	return pm_of(st)->root.buf;
}

enum map { MAP_FILE, MAP_READONLY, MAP_NODES };

static enum map map_name(struct store *st, const char *name, struct strbuf *path)
{
	const char *root = pm_of(st)->root.buf;

	if (!strcmp(name, "nodes.cfg"))
		return MAP_NODES;
	if (!strcmp(name, "storage.cfg")) {
		strbuf_addf(path, "%s/storage.cfg", root);
		return MAP_READONLY;
	}
	if (!strcmp(name, "datacenter.cfg")) {
		strbuf_addf(path, "%s/datacenter.cfg", root);
		return MAP_READONLY;
	}
	if (!strcmp(name, PMXCFS_PVESR_CFG)) {
		strbuf_addf(path, "%s/replication.cfg", root);
		return MAP_READONLY;
	}
	if (!strcmp(name, "nodes") || !strncmp(name, "nodes/", 6)) {
		strbuf_addf(path, "%s/%s", root, name);
		return MAP_FILE;
	}
	strbuf_addf(path, "%s/volrep%s%s", root, *name ? "/" : "", name);
	return MAP_FILE;
}

static int load_members(struct store *st, struct pve_members *pm, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	int r;

	strbuf_addf(&path, "%s/.members", pm_of(st)->root.buf);
	r = strbuf_read_file(&text, path.buf, PVE_MEMBERS_MAX_FILE);
	if (r < 0)
		strbuf_addf(err, "unable to read '%s' - %s (is pmxcfs running?)", path.buf, file_strerror(r));
	else
		r = pve_members_parse(pm, text.buf, text.len, err);
	if (r < 0 && r != -EINVAL && r != -ENOENT)
		r = -EIO;
	strbuf_release(&path);
	strbuf_release(&text);
	return r;
}

/* nodes.cfg as volrep knows it: one section per cluster node, its
 * address the one corosync announced */
static int synth_nodes(struct store *st, struct strbuf *out, struct strbuf *err)
{
	struct pve_members pm = PVE_MEMBERS_INIT;
	int r = load_members(st, &pm, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < pm.nr; i++) {
		strbuf_addf(out, "node: %s\n", pm.nodes[i].name);
		if (pm.nodes[i].ip)
			strbuf_addf(out, "\taddress %s\n", pm.nodes[i].ip);
		strbuf_addch(out, '\n');
	}
	pve_members_release(&pm);
	return 0;
}

static int pm_load(struct store *st, unsigned flags, struct strbuf *err)
{
	(void)st;
	(void)flags;
	(void)err;
	return 0;
}

static int pm_read(struct store *st, const char *name, unsigned flags, struct strbuf *out, int64_t *rev,
		   struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, lerr = STRBUF_INIT;
	int r;

	(void)flags;
	strbuf_reset(out);
	if (map_name(st, name, &path) == MAP_NODES) {
		r = synth_nodes(st, out, &lerr);
	} else {
		r = strbuf_read_file(out, path.buf, PMXCFS_FILE_MAX);
		if (r == -ENOENT && access(pm_of(st)->root.buf, X_OK) == 0) {
			strbuf_reset(out);
			r = 1;
		} else if (r < 0) {
			strbuf_addf(&lerr, "unable to read '%s' - %s", path.buf, file_strerror(r));
		} else {
			r = 0;
		}
	}
	if (r < 0 && err)
		strbuf_add(err, lerr.buf, lerr.len);
	if (rev)
		*rev = r == 0 ? 1 : 0;
	strbuf_release(&path);
	strbuf_release(&lerr);
	return r;
}

static int pm_list(struct store *st, const char *folder, struct strvec *names, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;

	(void)err;
	map_name(st, folder, &path);
	/* pmxcfs holds files of other tools too: only names a store may have */
	store_list_dir(path.buf, 1, names);
	strbuf_release(&path);
	return 0;
}

static int pm_quorate(struct store *st, struct strbuf *why)
{
	struct pve_members pm = PVE_MEMBERS_INIT;
	int q;

	if (load_members(st, &pm, why) < 0)
		return 0;
	q = pm.quorate;
	if (!q)
		strbuf_addf(why, "'%s/.members' says cluster '%s' has no quorum", pm_of(st)->root.buf,
			    pm.cluster_name ? pm.cluster_name : "?");
	pve_members_release(&pm);
	return q;
}

/* tmp + rename in the same folder, as PVE's own file_set_contents: no
 * fchmod (pmxcfs refuses modes it does not support) */
static int write_atomic(const char *path, const void *data, size_t len)
{
	return write_file_atomic_flags(path, data, len, 0640, WFA_NO_META);
}

/* a move must not replace a config: RENAME_NOREPLACE where the file
 * system has it, else a check under the caller's cluster lock */
static int move_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (access(to, F_OK) == 0)
		return -EEXIST;
	return rename(from, to) < 0 ? -errno : 0;
}

static int commit_one(struct store *st, const struct store_op *op, struct strbuf *err)
{
	static const struct store_file_io io = { write_atomic, move_noreplace };
	struct strbuf path = STRBUF_INIT, to = STRBUF_INIT;
	enum map m = map_name(st, op->name, &path);
	int r = 0;

	if (m != MAP_FILE || (op->kind == STORE_MOVE && map_name(st, op->to, &to) != MAP_FILE)) {
		if (op->kind == STORE_CHECK)
			goto out;
		strbuf_addf(err, "'%s' belongs to Proxmox VE: volrep does not write it under pmxcfs",
			    m != MAP_FILE ? op->name : op->to);
		r = -EPERM;
		goto out;
	}
	r = store_apply_file(op, path.buf, op->kind == STORE_MOVE ? to.buf : NULL, &io, err);
out:
	strbuf_release(&path);
	strbuf_release(&to);
	return r;
}

static int pm_commit(struct store *st, const struct store_op *ops, size_t n, struct strbuf *err)
{
	int r = store_require_quorum(st, err);

	for (size_t i = 0; r == 0 && i < n; i++)
		r = commit_one(st, &ops[i], err);
	return r;
}

static void lock_path(struct store *st, const char *name, struct strbuf *path)
{
	strbuf_addf(path, "%s/priv/lock/volrep-%s", pm_of(st)->root.buf, name);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* a lock directory pmxcfs would have dropped: older than 120 s */
static int lock_stale(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && time(NULL) - sb.st_mtime > PMXCFS_LOCK_TIMEOUT_S;
}

static int pm_lock(struct store *st, const char *name, long timeout_ms, int ttl, struct store_lock *lk,
		   struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, dir = STRBUF_INIT;
	long waited = 0;
	int r;

	(void)ttl;
	r = store_require_quorum(st, err);
	if (r < 0)
		goto out;
	strbuf_addf(&dir, "%s/priv/lock", pm_of(st)->root.buf);
	if (access(dir.buf, X_OK) < 0) {
		r = -errno;
		strbuf_addf(err, "can't lock '%s' - '%s' is missing (pve cluster filesystem not online?)", name,
			    dir.buf);
		goto out;
	}
	lock_path(st, name, &path);
	for (;;) {
		if (mkdir(path.buf, 0700) == 0)
			break;
		if (errno != EEXIST) {
			r = -errno;
			strbuf_addf(err, "can't lock '%s' - %s", path.buf, strerror(errno));
			goto out;
		}
		if (lock_stale(path.buf) && rmdir(path.buf) == 0)
			continue;
		if (timeout_ms >= 0 && waited >= timeout_ms) {
			strbuf_addf(err, "can't lock '%s' - got timeout", path.buf);
			r = -ETIMEDOUT;
			goto out;
		}
		sleep_ms(100);
		waited += 100;
	}
	lk->name = xstrdup(name);
out:
	strbuf_release(&path);
	strbuf_release(&dir);
	return r;
}

static void pm_unlock(struct store *st, struct store_lock *lk)
{
	struct strbuf path = STRBUF_INIT;

	if (lk->name) {
		lock_path(st, lk->name, &path);
		rmdir(path.buf);
	}
	strbuf_release(&path);
}

static void pm_release(struct store *st)
{
	strbuf_release(&pm_of(st)->root);
	free(st->where);
	free(st);
}

static const struct store_ops pmxcfs_ops = {
	.load = pm_load,
	.read = pm_read,
	.list = pm_list,
	.commit = pm_commit,
	.lock = pm_lock,
	.unlock = pm_unlock,
	.quorate = pm_quorate,
	.release = pm_release,
};

int pmxcfs_store_open(const char *root, struct store **out, struct strbuf *err)
{
	struct pmxcfs_store *p;
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (root[0] != '/' || n >= PMXCFS_ROOT_MAX || strstr(root, "/../") || strstr(root, "/./")) {
		strbuf_addstr(err, "the path must be absolute, without '.' or '..'");
		return -EINVAL;
	}
	p = xcalloc(1, sizeof(*p));
	strbuf_init(&p->root, 0);
	strbuf_add(&p->root, root, n);
	p->base.kind = STORE_PMXCFS;
	p->base.ops = &pmxcfs_ops;
	{
		struct strbuf w = STRBUF_INIT;

		strbuf_addf(&w, "pmxcfs://%s", p->root.buf);
		p->base.where = strbuf_detach(&w, NULL);
	}
	*out = &p->base;
	return 0;
}

int pmxcfs_store_members(struct store *st, const struct strvec *nodes, struct store_member **out,
			 struct strbuf *err)
{
	struct pve_members pm = PVE_MEMBERS_INIT;
	int r = load_members(st, &pm, err);

	if (r < 0)
		return r;
	*out = xcalloc(nodes->nr + 1, sizeof(**out));
	for (size_t i = 0; i < nodes->nr; i++) {
		const struct pve_member *m = pve_members_find(&pm, nodes->v[i]);

		(*out)[i].node = xstrdup(nodes->v[i]);
		(*out)[i].online = m && m->online;
	}
	pve_members_release(&pm);
	return 0;
}

static void fold(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 1099511628211ULL;
}

static void fold_stat(uint64_t *h, const char *path)
{
	struct stat sb;
	int64_t v[4] = { 0 };

	if (stat(path, &sb) == 0) {
		v[0] = (int64_t)sb.st_ino;
		v[1] = (int64_t)sb.st_size;
		v[2] = (int64_t)sb.st_mtim.tv_sec;
		v[3] = (int64_t)sb.st_mtim.tv_nsec;
	}
	fold(h, path, strlen(path));
	fold(h, v, sizeof(v));
}

/* pmxcfs has no revision of the whole tree (and no inotify for changes
 * made on other nodes): fold what the files the scheduler depends on
 * look like. A new, removed or moved guest config changes its folder's
 * mtime. */
int pmxcfs_store_revision(struct store *st, int64_t *rev, struct strbuf *err)
{
	static const char *const files[] = { "volrep/replication.cfg", "volrep/volrep.cfg", "replication.cfg",
					     "storage.cfg", ".members", "nodes", NULL };
	const char *root = pm_of(st)->root.buf;
	struct strbuf path = STRBUF_INIT;
	struct strvec nodes = STRVEC_INIT;
	uint64_t h = 14695981039346656037ULL;

	for (const char *const *f = files; *f; f++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", root, *f);
		fold_stat(&h, path.buf);
	}
	pm_list(st, "nodes", &nodes, err);
	for (size_t i = 0; i < nodes.nr; i++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/nodes/%s/qemu-server", root, nodes.v[i]);
		fold_stat(&h, path.buf);
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/nodes/%s/lxc", root, nodes.v[i]);
		fold_stat(&h, path.buf);
	}
	strvec_clear(&nodes);
	strbuf_release(&path);
	*rev = (int64_t)(h >> 1) | 1;
	return 0;
}
