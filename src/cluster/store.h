/* The cluster configuration store: where nodes.cfg, storage.cfg,
 * replication.cfg, volrep.cfg and the guest configs
 * (nodes/<node>/{qemu-server,lxc}/<vmid>.conf) live, and the cluster locks
 * that guard changes to them. Everything that reads or writes those files
 * goes through this interface; names are relative ("replication.cfg",
 * "nodes/a/lxc/200.conf").
 *
 * Two implementations (docs/cluster.md):
 *   dir   the config directory, as volrep always had it: files replaced
 *         atomically, flock(2) locks, rename(2) moves. The default.
 *   etcd  one key per file under a prefix of an etcd v3 cluster: writes
 *         are transactions comparing mod_revision, a move is one
 *         transaction, locks are lease-backed keys, the whole prefix is
 *         read with one range request per load.
 *   pmxcfs  a Proxmox VE /etc/pve (store-pmxcfs.h, docs/proxmox.md):
 *         PVE's guest configs and storage.cfg, nodes and quorum from
 *         .members, volrep's own files under volrep/, pmxcfs lock dirs.
 *
 * Which one a process uses is decided once, in main: --cluster URL or
 * VOLREP_CLUSTER selects etcd (store_set_cluster), otherwise store_get()
 * hands out a dir store for the config directory it is given.
 *
 *     struct store *st = store_get(ctx->config_dir);
 *     store_load(st, STORE_ALLOW_STALE, &err);            // one snapshot
 *     store_read(st, "nodes.cfg", 0, &text, &rev, &err);  // from it
 *     struct store_op op = { STORE_PUT, "replication.cfg", NULL, buf, len, rev };
 *     store_commit(st, &op, 1, &err);                     // -ESTALE: lost a race
 *
 * Errors: -ENOTCONN "cluster not quorate: ..." when the store cannot give
 * an answer a quorum stands behind; -ESTALE when an expected revision did
 * not match (someone else wrote first); others -errno. */
#ifndef VOLREP_CLUSTER_STORE_H
#define VOLREP_CLUSTER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/strvec.h"

enum store_kind { STORE_DIR, STORE_ETCD, STORE_PMXCFS };

/* expected revisions of store_op.rev */
#define STORE_REV_ANY (-1)
#define STORE_REV_ABSENT 0

enum store_op_kind {
	STORE_PUT,    /* write data to name */
	STORE_DELETE, /* remove name */
	STORE_MOVE,   /* name (holding data) becomes to; to must not exist */
	STORE_CHECK,  /* only compare name's revision */
};

struct store_op {
	enum store_op_kind kind;
	const char *name;
	const char *to;
	const char *data;
	size_t len;
	int64_t rev; /* expected revision of name: STORE_REV_ANY, ABSENT, or > 0 */
};

/* store_load / store_read flags */
#define STORE_ALLOW_STALE 1u /* without quorum, fall back to the cached last good snapshot */
#define STORE_FRESH 2u       /* read: ask the store now, with quorum, not the snapshot */

struct store_lock {
	char *name;
	int64_t lease, rev;
	struct lock flk;
	void *keeper; /* etcd: the thread renewing the lease */
};
#define STORE_LOCK_INIT { .flk = LOCK_INIT }

struct store_member {
	char *node;
	int online;
	int64_t since; /* unix time the liveness key was made, 0 unknown */
};

struct store;
struct store_ops {
	int (*load)(struct store *st, unsigned flags, struct strbuf *err);
	int (*read)(struct store *st, const char *name, unsigned flags, struct strbuf *out, int64_t *rev,
		    struct strbuf *err);
	int (*list)(struct store *st, const char *folder, struct strvec *names, struct strbuf *err);
	int (*commit)(struct store *st, const struct store_op *ops, size_t n, struct strbuf *err);
	int (*lock)(struct store *st, const char *name, long timeout_ms, int ttl, struct store_lock *lk,
		    struct strbuf *err);
	void (*unlock)(struct store *st, struct store_lock *lk);
	int (*quorate)(struct store *st, struct strbuf *why);
	void (*release)(struct store *st);
};

struct store {
	enum store_kind kind;
	const struct store_ops *ops;
	char *where; /* for messages: the directory, or etcd://HOSTS/PREFIX */
	int stale;   /* the last load fell back to the cache */
	char *stale_why;
};

/* Parse URL ("etcd://HOST:PORT[,HOST:PORT...][/PREFIX]", or etcds:// for
 * TLS, or "pmxcfs:///etc/pve") and make the etcd (pmxcfs) store; state_dir holds its cache of the last good
 * snapshot. No connection is made yet. Returns 0 or -EINVAL with "invalid
 * cluster URL '...' (...)" in *err. */
int store_open_url(const char *url, const char *state_dir, struct store **out, struct strbuf *err);

/* The process-wide cluster store (takes ownership; NULL closes it), and
 * the one to use: the cluster store, or a dir store for config_dir. */
void store_set_cluster(struct store *st);
struct store *store_cluster(void);
struct store *store_get(const char *config_dir);
void store_free(struct store *st);

/* Load a consistent snapshot that later reads and lists are served from
 * (dir: nothing to do). */
int store_load(struct store *st, unsigned flags, struct strbuf *err);
/* Returns 0 (content in *out, revision in *rev if not NULL), 1 when name
 * does not exist (*out empty, *rev 0), or -errno. */
int store_read(struct store *st, const char *name, unsigned flags, struct strbuf *out, int64_t *rev,
	       struct strbuf *err);
/* Sorted direct children (files and folders, no dot names) of folder. */
int store_list(struct store *st, const char *folder, struct strvec *names, struct strbuf *err);
/* All ops or none (etcd: one transaction; dir: in order, under the
 * caller's lock). -ESTALE when a revision did not match. */
int store_commit(struct store *st, const struct store_op *ops, size_t n, struct strbuf *err);
int store_write(struct store *st, const char *name, const void *data, size_t len, int64_t rev,
		struct strbuf *err);
int store_move(struct store *st, const char *from, const void *data, size_t len, int64_t rev, const char *to,
	       struct strbuf *err);
/* Take the cluster lock name (letters, digits, '-', '_', '.'), waiting up
 * to timeout_ms. ttl: seconds an etcd lock outlives a crashed holder (0:
 * the default, 5; renewed by a thread while held). While held, every commit of this process also checks
 * the lock is still ours. -ETIMEDOUT "can't lock ... - got timeout". */
int store_lock(struct store *st, const char *name, long timeout_ms, int ttl, struct store_lock *lk,
	       struct strbuf *err);
void store_unlock(struct store *st, struct store_lock *lk);
/* 1 quorate, 0 not (reason in *why). dir: always 1. */
int store_quorate(struct store *st, struct strbuf *why);
/* 0 when quorate, else -ENOTCONN with "cluster not quorate: <why>". */
int store_require_quorum(struct store *st, struct strbuf *err);

/* ---- etcd only (the dir store has no membership; pmxcfs: members) ---- */

/* Keep node's lease-bound liveness key alive; call at least every second.
 * Returns 0 or -errno. */
int store_heartbeat(struct store *st, const char *node, int ttl, struct strbuf *err);
/* Drop node's liveness key (clean shutdown) and note when it went. */
void store_heartbeat_stop(struct store *st, const char *node);
/* Online state of nodes (the liveness keys), with linearizable reads when
 * fresh. Returns 0 or -errno. */
int store_members(struct store *st, const struct strvec *nodes, int fresh, struct store_member **out,
		  struct strbuf *err);
void store_members_release(struct store_member *m, size_t n);
/* Revision of the whole store, cheaply (serializable): changes when any
 * file changes. pmxcfs: from the files' stat. dir: -ENOTSUP. */
int store_revision(struct store *st, int64_t *rev, struct strbuf *err);
/* Endpoint health lines; returns how many are healthy. */
size_t store_endpoint_health(struct store *st, struct strvec *out);
/* Every file (name/data pairs, sorted) of the snapshot, for export. */
int store_dump(struct store *st, struct strvec *names, struct strvec *datas, struct strbuf *err);

/* ---- watching the store (etcd; the daemon) ----
 *
 * A thread keeps an etcd watch on the whole prefix open (docs/cluster.md),
 * failing over between the endpoints; *fd (non-blocking, close-on-exec)
 * turns readable when there is news. dir and pmxcfs: -ENOTSUP. */
#define STORE_WATCH_GONE_MAX 16
struct store_watch_news {
	unsigned files;    /* events on cluster files since the last look */
	int resync;        /* the watch was (re)made: what happened before may be
			    * unseen, read everything again */
	int connected;     /* the watch is open now */
	unsigned lost;     /* times it broke since the last look */
	int64_t revision;  /* newest store revision seen */
	char endpoint[128]; /* host:port it is open on */
	char error[256];   /* why it broke last */
	/* liveness keys that disappeared: node, and the revision of the delete */
	struct {
		char node[64];
		int64_t rev;
	} gone[STORE_WATCH_GONE_MAX];
	size_t ngone;
};
int store_watch_start(struct store *st, int *fd, struct strbuf *err);
/* What happened since the last call (drains *fd). */
void store_watch_news(struct store *st, struct store_watch_news *news);
void store_watch_stop(struct store *st);
/* The liveness key of node went at revision rev without a clean stop
 * (its lease expired): record now as the time it went offline, unless
 * the node recorded a clean stop at rev, another node recorded it already,
 * or the node is back. Returns 1 recorded, 0 not needed, or -errno. */
int store_note_offline(struct store *st, const char *node, int64_t rev, struct strbuf *err);

/* valid relative file name: components of [A-Za-z0-9._-], no "." or "..",
 * no leading dot */
int store_valid_name(const char *name);

/* For the stores kept in files, dir and pmxcfs: the entries of the
 * folder at path, sorted, without dot files (with valid_only, also
 * without names store_valid_name refuses); a missing folder is empty.
 * store_mkdir_parent creates the folders above path. */
int store_list_dir(const char *path, int valid_only, struct strvec *names);
int store_mkdir_parent(const char *path);

/* For the stores kept in files: op on the file at path (to: where a move
 * goes, else NULL), the file written with write_fn and moved with move_fn
 * (both 0 or -errno). -ESTALE when the file is there and op expects it
 * absent; a message for every error in err. */
struct store_file_io {
	int (*write_fn)(const char *path, const void *data, size_t len);
	int (*move_fn)(const char *from, const char *to);
};
int store_apply_file(const struct store_op *op, const char *path, const char *to, const struct store_file_io *io,
		     struct strbuf *err);

#endif
