/* The etcd store: every cluster file is the key <prefix><name> holding the
 * file's bytes. Internal keys start with a dot below the prefix and are
 * never files:
 *   <prefix>.locks/<name>     a cluster lock, bound to its holder's lease
 *   <prefix>.members/<node>   a node's liveness key, bound to its lease;
 *                             value: unix time it came online
 *   <prefix>.left/<node>      unix time of the node's clean shutdown
 *
 * A load is one linearizable range over the prefix; its result is cached
 * in <state_dir>/cluster-cache so that replication can go on with the last
 * good configuration while the cluster is not quorate. */
#include "cluster/store-etcd.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "base/time-util.h"

#include "base/xalloc.h"
#include "cluster/etcd-watch.h"
#include "cluster/etcd.h"

#define CACHE_NAME "cluster-cache"
#define CACHE_MAGIC "volrep-cluster-cache 2"
#define CACHE_MAX (64u << 20)
#define LOCK_TTL_DEFAULT 5
#define MAX_HELD 8

struct held {
	char *key;
	int64_t rev;
};

struct etcd_store {
	struct store base;
	struct etcd_client c;
	char *hosts;
	int tls;
	char *prefix;
	size_t plen;
	char *state_dir;
	struct etcd_kvs snap; /* keys relative to the prefix, sorted, no dot names */
	int have_snap;
	int64_t snap_count, snap_maxrev; /* of the file range when loaded */
	struct held held[MAX_HELD];
	size_t nheld;
	int64_t hb_lease;
	struct etcd_watch *watch;
};

static struct etcd_store *es_of(struct store *st)
{
	return (struct etcd_store *)st;
}

static json_t *key_json(struct etcd_store *e, const char *name)
{
	struct strbuf k = STRBUF_INIT;
	json_t *j;

	strbuf_addf(&k, "%s%s", e->prefix, name);
	j = etcd_b64_json(k.buf, k.len);
	strbuf_release(&k);
	return j;
}

static json_t *range_end_json(struct etcd_store *e, const char *sub)
{
	struct strbuf k = STRBUF_INIT, end = STRBUF_INIT;
	json_t *j;

	strbuf_addf(&k, "%s%s", e->prefix, sub);
	etcd_prefix_end(k.buf, k.len, &end);
	j = etcd_b64_json(end.buf, end.len);
	strbuf_release(&k);
	strbuf_release(&end);
	return j;
}

static json_t *int_json(int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return json_string(buf);
}

/* etcd_call, with "cluster not quorate: " in front of a quorum failure */
static int call(struct etcd_store *e, const char *method, json_t *req, int idempotent, json_t **reply,
		struct strbuf *err)
{
	struct strbuf e2 = STRBUF_INIT;
	int r = etcd_call(&e->c, method, req, idempotent, reply, &e2);

	if (r == -ENOTCONN)
		strbuf_addf(err, "cluster not quorate: %s", e2.buf);
	else if (r < 0)
		strbuf_addf(err, "etcd: %s", e2.buf);
	strbuf_release(&e2);
	return r;
}

/* ---- snapshot and its cache ----
 *
 * Files are the keys from <prefix>0 to the end of the prefix (names start
 * with a letter or digit; the dot keys sort before). The cache holds the
 * last snapshot with the number of keys and the highest mod_revision in
 * that range: a load first asks etcd (linearizably) for just those two,
 * and when they match, nothing was written, deleted or created since, and
 * the cache is exactly what a full range would return. */

static void files_range(struct etcd_store *e, json_t *req)
{
	struct strbuf k = STRBUF_INIT, end = STRBUF_INIT;

	strbuf_addf(&k, "%s0", e->prefix);
	etcd_prefix_end(e->prefix, e->plen, &end);
	json_object_set_new(req, "key", etcd_b64_json(k.buf, k.len));
	json_object_set_new(req, "range_end", etcd_b64_json(end.buf, end.len));
	strbuf_release(&k);
	strbuf_release(&end);
}

static void cache_path(struct etcd_store *e, struct strbuf *out)
{
	strbuf_addf(out, "%s/%s", e->state_dir, CACHE_NAME);
}

static void cache_header(struct etcd_store *e, int64_t count, int64_t maxrev, struct strbuf *out)
{
	strbuf_addf(out, "%s %" PRId64 " %" PRId64 " %s\n", CACHE_MAGIC, count, maxrev, e->prefix);
}

/* Whether the text (NUL-terminated) starts with the header line
 * cache_header writes for this prefix: its count and highest revision then,
 * and the line's end in *eol. */
static int header_parse(struct etcd_store *e, const char *p, int64_t *count, int64_t *maxrev, const char **eol)
{
	const char *nl = strchr(p, '\n');
	size_t ml = strlen(CACHE_MAGIC);
	int used = 0;

	if (!nl || strncmp(p, CACHE_MAGIC, ml) || p[ml] != ' ')
		return 0;
	p += ml + 1;
	if (sscanf(p, "%" SCNd64 " %" SCNd64 "%n", count, maxrev, &used) != 2 || p + used >= nl || p[used] != ' ')
		return 0;
	p += used + 1;
	*eol = nl;
	return (size_t)(nl - p) == e->plen && !memcmp(p, e->prefix, e->plen);
}

/* The cache's header: 0 and its count and highest revision, or -errno. */
static int cache_peek(struct etcd_store *e, int64_t *count, int64_t *maxrev)
{
	struct strbuf path = STRBUF_INIT, head = STRBUF_INIT;
	/* the header line only, never the whole (large) cache */
	size_t want = strlen(CACHE_MAGIC) + e->plen + 64;
	const char *eol;
	ssize_t n;
	int fd, r = -EINVAL;

	cache_path(e, &path);
	fd = open(path.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	strbuf_release(&path);
	if (fd < 0)
		return -errno;
	strbuf_grow(&head, want);
	n = read(fd, head.buf, want);
	close(fd);
	if (n > 0) {
		strbuf_setlen(&head, (size_t)n);
		if (header_parse(e, head.buf, count, maxrev, &eol))
			r = 0;
	}
	strbuf_release(&head);
	return r;
}

/* Rewrite the cache only when the snapshot differs from what it holds. */
static void cache_save(struct etcd_store *e)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	int64_t c, m;

	if (cache_peek(e, &c, &m) == 0 && c == e->snap_count && m == e->snap_maxrev)
		return;
	cache_path(e, &path);
	cache_header(e, e->snap_count, e->snap_maxrev, &text);
	for (size_t i = 0; i < e->snap.nr; i++) {
		const struct etcd_kv *kv = &e->snap.v[i];

		strbuf_addf(&text, "%zu %zu %" PRId64 "\n", kv->key_len, kv->value_len, kv->mod_rev);
		strbuf_add(&text, kv->key, kv->key_len);
		strbuf_add(&text, kv->value, kv->value_len);
		strbuf_addch(&text, '\n');
	}
	if (mkdir_p(e->state_dir, 0755) == 0)
		write_file_atomic(path.buf, text.buf, text.len, 0600);
	strbuf_release(&path);
	strbuf_release(&text);
}

static int cache_load(struct etcd_store *e, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	const char *p, *end, *nl;
	int64_t count = 0, maxrev = 0;
	int r;

	cache_path(e, &path);
	r = strbuf_read_file(&text, path.buf, CACHE_MAX);
	if (r < 0) {
		strbuf_addf(err, "; no cached configuration ('%s': %s)", path.buf, strerror(-r));
		goto out;
	}
	p = text.buf;
	end = text.buf + text.len;
	if (!header_parse(e, p, &count, &maxrev, &nl))
		goto bad;
	p = nl + 1;
	etcd_kvs_release(&e->snap);
	while (p < end) {
		size_t kl, vl;
		int64_t mr;
		int used = 0;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || sscanf(p, "%zu %zu %" SCNd64 "%n", &kl, &vl, &mr, &used) != 3 || p + used != nl)
			goto bad;
		p = nl + 1;
		if (kl == 0 || kl > (size_t)(end - p) || vl >= (size_t)(end - p) - kl || p[kl + vl] != '\n')
			goto bad;
		ALLOC_GROW(e->snap.v, e->snap.nr + 1, e->snap.alloc);
		struct etcd_kv *kv = &e->snap.v[e->snap.nr++];
		memset(kv, 0, sizeof(*kv));
		kv->key = xstrndup(p, kl);
		kv->key_len = kl;
		kv->value = xmalloc(vl + 1);
		memcpy(kv->value, p + kl, vl);
		kv->value[vl] = '\0';
		kv->value_len = vl;
		kv->mod_rev = mr;
		p += kl + vl + 1;
	}
	e->snap_count = count;
	e->snap_maxrev = maxrev;
	e->have_snap = 1;
	r = 0;
	goto out;
bad:
	etcd_kvs_release(&e->snap);
	strbuf_addf(err, "; the cached configuration '%s' is damaged", path.buf);
	r = -EINVAL;
out:
	strbuf_release(&path);
	strbuf_release(&text);
	return r;
}

/* Keys of an answer made relative, internal ones dropped. */
static void take_files(struct etcd_store *e, struct etcd_kvs *in, struct etcd_kvs *out)
{
	out->revision = in->revision;
	for (size_t i = 0; i < in->nr; i++) {
		struct etcd_kv *kv = &in->v[i];

		if (kv->key_len <= e->plen || memcmp(kv->key, e->prefix, e->plen) || kv->key[e->plen] == '.' ||
		    memchr(kv->key, '\0', kv->key_len)) {
			free(kv->key);
			free(kv->value);
			continue;
		}
		memmove(kv->key, kv->key + e->plen, kv->key_len - e->plen + 1);
		kv->key_len -= e->plen;
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr++] = *kv;
	}
	free(in->v);
	memset(in, 0, sizeof(*in));
}

static int range(struct etcd_store *e, const char *sub, int prefix, int serializable, int count_only,
		 struct etcd_kvs *out, struct strbuf *err)
{
	json_t *req = json_object(), *reply = NULL;
	int r;

	json_object_set_new(req, "key", key_json(e, sub));
	if (prefix)
		json_object_set_new(req, "range_end", range_end_json(e, sub));
	if (serializable)
		json_object_set_new(req, "serializable", json_true());
	if (count_only)
		json_object_set_new(req, "count_only", json_true());
	r = call(e, "kv/range", req, 1, &reply, err);
	if (r == 0)
		r = etcd_kvs_parse(reply, out, err);
	json_decref(reply);
	return r;
}

/* Linearizable: how many files, and the highest mod_revision among them. */
static int files_check(struct etcd_store *e, int64_t *count, int64_t *maxrev, int64_t *rev, struct strbuf *err)
{
	json_t *req = json_object(), *reply = NULL;
	struct etcd_kvs kvs = ETCD_KVS_INIT;
	int r;

	files_range(e, req);
	json_object_set_new(req, "limit", json_string("1"));
	json_object_set_new(req, "sort_order", json_string("DESCEND"));
	json_object_set_new(req, "sort_target", json_string("MOD"));
	json_object_set_new(req, "keys_only", json_true());
	r = call(e, "kv/range", req, 1, &reply, err);
	if (r == 0)
		r = etcd_kvs_parse(reply, &kvs, err);
	if (r == 0) {
		*count = kvs.count;
		*maxrev = kvs.nr ? kvs.v[0].mod_rev : 0;
		*rev = kvs.revision;
	}
	etcd_kvs_release(&kvs);
	json_decref(reply);
	return r;
}

static int files_load(struct etcd_store *e, struct strbuf *err)
{
	json_t *req = json_object(), *reply = NULL;
	struct etcd_kvs raw = ETCD_KVS_INIT;
	int r;

	files_range(e, req);
	r = call(e, "kv/range", req, 1, &reply, err);
	if (r == 0)
		r = etcd_kvs_parse(reply, &raw, err);
	json_decref(reply);
	if (r == 0) {
		e->snap_count = (int64_t)raw.nr;
		e->snap_maxrev = 0;
		for (size_t i = 0; i < raw.nr; i++)
			if (raw.v[i].mod_rev > e->snap_maxrev)
				e->snap_maxrev = raw.v[i].mod_rev;
		etcd_kvs_release(&e->snap);
		take_files(e, &raw, &e->snap);
		e->have_snap = 1;
		cache_save(e);
	}
	etcd_kvs_release(&raw);
	return r;
}

static int es_load(struct store *st, unsigned flags, struct strbuf *err)
{
	struct etcd_store *e = es_of(st);
	struct strbuf e2 = STRBUF_INIT;
	int64_t pc, pm, count = 0, maxrev = 0, rev = 0;
	int r;

	if (cache_peek(e, &pc, &pm) == 0) {
		r = files_check(e, &count, &maxrev, &rev, &e2);
		if (r == 0 && count == pc && maxrev == pm && cache_load(e, &e2) == 0) {
			/* unchanged since the cache was written: no need to send it all again */
			e->snap.revision = rev;
			st->stale = 0;
			strbuf_release(&e2);
			return 0;
		}
		if (r == 0)
			strbuf_reset(&e2);
	} else {
		r = 0;
	}
	if (r == 0)
		r = files_load(e, &e2);
	if (r == 0) {
		st->stale = 0;
	} else if (r == -ENOTCONN && (flags & STORE_ALLOW_STALE) && cache_load(e, &e2) == 0) {
		/* replication goes on with what it last knew; writes will not */
		free(st->stale_why);
		st->stale_why = strbuf_detach(&e2, NULL);
		st->stale = 1;
		r = 0;
	} else {
		strbuf_add(err, e2.buf, e2.len);
	}
	strbuf_release(&e2);
	return r;
}

static const struct etcd_kv *snap_find(struct etcd_store *e, const char *name)
{
	size_t lo = 0, hi = e->snap.nr;

	/* etcd returns keys in byte order */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(e->snap.v[mid].key, name);

		if (!c)
			return &e->snap.v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int es_read(struct store *st, const char *name, unsigned flags, struct strbuf *out, int64_t *rev,
		   struct strbuf *err)
{
	struct etcd_store *e = es_of(st);
	struct strbuf dummy = STRBUF_INIT;
	int r = 0;

	strbuf_reset(out);
	if (rev)
		*rev = 0;
	if (flags & STORE_FRESH) {
		struct etcd_kvs kvs = ETCD_KVS_INIT;

		r = range(e, name, 0, 0, 0, &kvs, err ? err : &dummy);
		if (r == 0 && kvs.nr) {
			strbuf_add(out, kvs.v[0].value, kvs.v[0].value_len);
			if (rev)
				*rev = kvs.v[0].mod_rev;
		} else if (r == 0) {
			r = 1;
		}
		etcd_kvs_release(&kvs);
		strbuf_release(&dummy);
		return r;
	}
	if (!e->have_snap && (r = es_load(st, STORE_ALLOW_STALE, err ? err : &dummy)) < 0) {
		strbuf_release(&dummy);
		return r;
	}
	strbuf_release(&dummy);
	const struct etcd_kv *kv = snap_find(e, name);
	if (!kv)
		return 1;
	strbuf_add(out, kv->value, kv->value_len);
	if (rev)
		*rev = kv->mod_rev;
	return 0;
}

static int es_list(struct store *st, const char *folder, struct strvec *names, struct strbuf *err)
{
	struct etcd_store *e = es_of(st);
	struct strbuf pfx = STRBUF_INIT;
	int r;

	if (!e->have_snap && (r = es_load(st, STORE_ALLOW_STALE, err)) < 0)
		return r;
	if (*folder)
		strbuf_addf(&pfx, "%s/", folder);
	for (size_t i = 0; i < e->snap.nr; i++) {
		const char *k = e->snap.v[i].key, *rest, *slash;

		if (strncmp(k, pfx.buf, pfx.len))
			continue;
		rest = k + pfx.len;
		slash = strchr(rest, '/');
		size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
		if (!n || rest[0] == '.')
			continue;
		/* keys are sorted: a repeated folder name comes right after itself */
		if (names->nr && strlen(names->v[names->nr - 1]) == n && !strncmp(names->v[names->nr - 1], rest, n))
			continue;
		char *c = xstrndup(rest, n);
		strvec_push(names, c);
		free(c);
	}
	strvec_sort_uniq(names);
	strbuf_release(&pfx);
	return 0;
}

static void add_compare(json_t *cmp, struct etcd_store *e, const char *name, int64_t rev)
{
	json_t *c = json_object();

	json_object_set_new(c, "key", key_json(e, name));
	json_object_set_new(c, "result", json_string("EQUAL"));
	if (rev == STORE_REV_ABSENT) {
		json_object_set_new(c, "target", json_string("CREATE"));
		json_object_set_new(c, "create_revision", json_string("0"));
	} else {
		json_object_set_new(c, "target", json_string("MOD"));
		json_object_set_new(c, "mod_revision", int_json(rev));
	}
	json_array_append_new(cmp, c);
}

static void add_put(json_t *ops, struct etcd_store *e, const char *name, const char *data, size_t len,
		    int64_t lease)
{
	json_t *p = json_object(), *o = json_object();

	json_object_set_new(p, "key", key_json(e, name));
	json_object_set_new(p, "value", etcd_b64_json(data, len));
	if (lease)
		json_object_set_new(p, "lease", int_json(lease));
	json_object_set_new(o, "request_put", p);
	json_array_append_new(ops, o);
}

static void add_delete(json_t *ops, struct etcd_store *e, const char *name)
{
	json_t *d = json_object(), *o = json_object();

	json_object_set_new(d, "key", key_json(e, name));
	json_object_set_new(o, "request_delete_range", d);
	json_array_append_new(ops, o);
}

/* Run a txn; returns 1 succeeded, 0 a compare failed, < 0 error. */
static int txn(struct etcd_store *e, json_t *cmp, json_t *ok, json_t **reply_out, struct strbuf *err)
{
	json_t *req = json_object(), *reply = NULL;
	int r;

	json_object_set_new(req, "compare", cmp);
	json_object_set_new(req, "success", ok);
	r = call(e, "kv/txn", req, 0, &reply, err);
	if (r < 0)
		return r;
	r = json_is_true(json_object_get(reply, "succeeded"));
	if (reply_out)
		*reply_out = reply;
	else
		json_decref(reply);
	return r;
}

static int es_commit(struct store *st, const struct store_op *ops, size_t n, struct strbuf *err)
{
	struct etcd_store *e = es_of(st);
	json_t *cmp = json_array(), *ok = json_array();
	int r;

	for (size_t i = 0; i < n; i++) {
		const struct store_op *op = &ops[i];

		if (op->rev != STORE_REV_ANY)
			add_compare(cmp, e, op->name, op->rev);
		switch (op->kind) {
		case STORE_CHECK:
			break;
		case STORE_PUT:
			add_put(ok, e, op->name, op->data, op->len, 0);
			break;
		case STORE_DELETE:
			add_delete(ok, e, op->name);
			break;
		case STORE_MOVE:
			add_compare(cmp, e, op->to, STORE_REV_ABSENT);
			add_delete(ok, e, op->name);
			add_put(ok, e, op->to, op->data, op->len, 0);
			break;
		}
	}
	/* a write made under a lock must not land after the lock was lost */
	for (size_t i = 0; i < e->nheld; i++) {
		json_t *c = json_object();

		json_object_set_new(c, "key", etcd_b64_json(e->held[i].key, strlen(e->held[i].key)));
		json_object_set_new(c, "result", json_string("EQUAL"));
		json_object_set_new(c, "target", json_string("MOD"));
		json_object_set_new(c, "mod_revision", int_json(e->held[i].rev));
		json_array_append_new(cmp, c);
	}
	r = txn(e, cmp, ok, NULL, err);
	if (r == 0) {
		strbuf_addstr(err, "detected modified configuration - file changed by other user? Try again.");
		return -ESTALE;
	}
	if (r < 0)
		return r;
	/* the snapshot is older than what we just wrote */
	e->have_snap = 0;
	return 0;
}

/* ---- leases ---- */

static int lease_grant(struct etcd_store *e, int ttl, int64_t *id, struct strbuf *err)
{
	json_t *req = json_object(), *reply = NULL;
	int r;

	json_object_set_new(req, "TTL", int_json(ttl));
	r = call(e, "lease/grant", req, 0, &reply, err);
	if (r == 0 && (etcd_int64(json_object_get(reply, "ID"), id) < 0 || *id <= 0)) {
		strbuf_addstr(err, "etcd: lease grant without a valid ID");
		r = -EIO;
	}
	json_decref(reply);
	return r;
}

static void lease_revoke(struct etcd_client *c, int64_t id)
{
	json_t *req = json_object(), *reply = NULL;
	struct strbuf err = STRBUF_INIT;

	json_object_set_new(req, "ID", int_json(id));
	etcd_call(c, "lease/revoke", req, 1, &reply, &err);
	json_decref(reply);
	strbuf_release(&err);
}

/* 1 alive, 0 expired, < 0 error */
static int lease_keepalive(struct etcd_client *c, int64_t id, struct strbuf *err)
{
	json_t *req = json_object(), *reply = NULL;
	int64_t ttl = 0;
	int r;

	json_object_set_new(req, "ID", int_json(id));
	r = etcd_call(c, "lease/keepalive", req, 1, &reply, err);
	if (r == 0) {
		/* an expired lease still answers 200, without TTL */
		json_t *res = json_object_get(reply, "result");
		r = etcd_int64(json_object_get(res ? res : reply, "TTL"), &ttl) == 0 && ttl > 0;
	}
	json_decref(reply);
	return r;
}

/* A lock's lease is renewed by a thread of its own, so that a holder busy
 * for longer than the TTL (a failover's rollback over ssh) keeps it. */
struct keeper {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	int ttl;
	int64_t lease;
	struct etcd_client c;
};

static void *keeper_main(void *arg)
{
	struct keeper *k = arg;

	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		/* renew at a third of the lease's time to live */
		struct timespec ts = wall_deadline(k->ttl * 1000L / 3);

		pthread_cond_timedwait(&k->cv, &k->mu, &ts);
		if (k->stop)
			break;
		pthread_mutex_unlock(&k->mu);
		struct strbuf err = STRBUF_INIT;
		lease_keepalive(&k->c, k->lease, &err);
		strbuf_release(&err);
		pthread_mutex_lock(&k->mu);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

static struct keeper *keeper_start(struct etcd_store *e, int64_t lease, int ttl)
{
	struct keeper *k = xcalloc(1, sizeof(*k));
	struct strbuf err = STRBUF_INIT;

	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	k->ttl = ttl;
	k->lease = lease;
	k->c = (struct etcd_client)ETCD_CLIENT_INIT;
	etcd_client_init(&k->c, e->hosts, e->tls, &err);
	strbuf_release(&err);
	if (pthread_create(&k->thread, NULL, keeper_main, k) != 0) {
		etcd_client_release(&k->c);
		free(k);
		return NULL;
	}
	return k;
}

static void keeper_stop(struct keeper *k)
{
	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = 1;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	etcd_client_release(&k->c);
	pthread_mutex_destroy(&k->mu);
	pthread_cond_destroy(&k->cv);
	free(k);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int es_lock(struct store *st, const char *name, long timeout_ms, int ttl, struct store_lock *lk,
		   struct strbuf *err)
{
	struct etcd_store *e = es_of(st);
	struct strbuf kname = STRBUF_INIT, who = STRBUF_INIT, key = STRBUF_INIT;
	int64_t deadline = mono_ms() + timeout_ms, lease = 0;
	int r;

	if (e->nheld >= MAX_HELD) {
		strbuf_addf(err, "can't lock '%s' - too many cluster locks held", name);
		return -EBUSY;
	}
	if (ttl <= 0)
		ttl = LOCK_TTL_DEFAULT;
	strbuf_addf(&kname, ".locks/%s", name);
	strbuf_addf(&key, "%s%s", e->prefix, kname.buf);
	strbuf_addf(&who, "pid %ld", (long)getpid());
	r = lease_grant(e, ttl, &lease, err);
	if (r < 0)
		goto out;
	for (;;) {
		json_t *cmp = json_array(), *ok = json_array(), *reply = NULL;

		add_compare(cmp, e, kname.buf, STORE_REV_ABSENT);
		add_put(ok, e, kname.buf, who.buf, who.len, lease);
		r = txn(e, cmp, ok, &reply, err);
		if (r == 1) {
			int64_t rev = 0;
			etcd_header_revision(reply, &rev);
			json_decref(reply);
			lk->name = xstrdup(name);
			lk->lease = lease;
			lk->rev = rev;
			lk->keeper = keeper_start(e, lease, ttl);
			e->held[e->nheld].key = strbuf_detach(&key, NULL);
			e->held[e->nheld].rev = rev;
			e->nheld++;
			r = 0;
			break;
		}
		json_decref(reply);
		if (r < 0)
			break;
		if (timeout_ms >= 0 && mono_ms() >= deadline) {
			strbuf_addf(err, "can't lock '%s' in the cluster - got timeout", name);
			r = -ETIMEDOUT;
			break;
		}
		/* spread the retries of many waiters */
		sleep_ms(10 + rand() % 40);
	}
	if (r < 0)
		lease_revoke(&e->c, lease);
out:
	strbuf_release(&kname);
	strbuf_release(&who);
	strbuf_release(&key);
	return r;
}

static void es_unlock(struct store *st, struct store_lock *lk)
{
	struct etcd_store *e = es_of(st);

	keeper_stop(lk->keeper);
	lk->keeper = NULL;
	for (size_t i = 0; i < e->nheld; i++) {
		if (e->held[i].rev == lk->rev) {
			free(e->held[i].key);
			e->held[i] = e->held[--e->nheld];
			break;
		}
	}
	/* revoking the lease deletes the lock key with it */
	if (lk->lease)
		lease_revoke(&e->c, lk->lease);
	lk->lease = 0;
}

static int es_quorate(struct store *st, struct strbuf *why)
{
	struct etcd_store *e = es_of(st);
	struct etcd_kvs kvs = ETCD_KVS_INIT;
	struct strbuf err = STRBUF_INIT;
	int r;

	/* linearizable: only a member with a quorum behind it answers */
	r = range(e, "", 1, 0, 1, &kvs, &err);
	etcd_kvs_release(&kvs);
	if (r < 0) {
		const char *p = err.buf;
		if (!strncmp(p, "cluster not quorate: ", 21))
			p += 21;
		strbuf_addstr(why, p);
	}
	strbuf_release(&err);
	return r == 0;
}

static void es_release(struct store *st)
{
	struct etcd_store *e = es_of(st);

	etcd_watch_stop(e->watch);
	etcd_client_release(&e->c);
	etcd_kvs_release(&e->snap);
	for (size_t i = 0; i < e->nheld; i++)
		free(e->held[i].key);
	free(e->hosts);
	free(e->prefix);
	free(e->state_dir);
	free(st->where);
	free(st->stale_why);
	free(e);
}

static const struct store_ops etcd_ops = {
	.load = es_load,
	.read = es_read,
	.list = es_list,
	.commit = es_commit,
	.lock = es_lock,
	.unlock = es_unlock,
	.quorate = es_quorate,
	.release = es_release,
};

int etcd_store_open(const char *hosts, int tls, const char *prefix, const char *state_dir, struct store **out,
		    struct strbuf *err)
{
	struct etcd_store *e = xcalloc(1, sizeof(*e));
	struct strbuf where = STRBUF_INIT;
	int r;

	e->c = (struct etcd_client)ETCD_CLIENT_INIT;
	r = etcd_client_init(&e->c, hosts, tls, err);
	if (r < 0) {
		etcd_client_release(&e->c);
		free(e);
		return r;
	}
	e->base.kind = STORE_ETCD;
	e->base.ops = &etcd_ops;
	strbuf_addf(&where, "%s://%s%s", tls ? "etcds" : "etcd", hosts, prefix);
	e->base.where = strbuf_detach(&where, NULL);
	e->hosts = xstrdup(hosts);
	e->tls = tls;
	e->prefix = xstrdup(prefix);
	e->plen = strlen(prefix);
	e->state_dir = xstrdup(state_dir);
	srand((unsigned)getpid() ^ (unsigned)wall_secs());
	*out = &e->base;
	return 0;
}

/* ---- membership ---- */

int etcd_store_heartbeat(struct store *st, const char *node, int ttl, struct strbuf *err)
{
	struct etcd_store *e = es_of(st);
	struct strbuf name = STRBUF_INIT, since = STRBUF_INIT;
	int r;

	if (e->hb_lease) {
		struct strbuf e2 = STRBUF_INIT;
		r = lease_keepalive(&e->c, e->hb_lease, &e2);
		if (r < 0)
			strbuf_addf(err, "%s%s", r == -ENOTCONN ? "cluster not quorate: " : "etcd: ", e2.buf);
		strbuf_release(&e2);
		if (r != 0)
			return r < 0 ? r : 0;
		e->hb_lease = 0; /* expired: we were cut off; come back with a new one */
	}
	r = lease_grant(e, ttl, &e->hb_lease, err);
	if (r < 0) {
		e->hb_lease = 0;
		return r;
	}
	strbuf_addf(&name, ".members/%s", node);
	strbuf_addf(&since, "%lld", (long long)wall_secs());
	json_t *cmp = json_array(), *ok = json_array();
	add_put(ok, e, name.buf, since.buf, since.len, e->hb_lease);
	r = txn(e, cmp, ok, NULL, err);
	if (r <= 0) {
		lease_revoke(&e->c, e->hb_lease);
		e->hb_lease = 0;
		r = r < 0 ? r : -EIO;
	} else {
		r = 0;
	}
	strbuf_release(&name);
	strbuf_release(&since);
	return r;
}

void etcd_store_heartbeat_stop(struct store *st, const char *node)
{
	struct etcd_store *e = es_of(st);
	struct strbuf name = STRBUF_INIT, now = STRBUF_INIT, err = STRBUF_INIT, member = STRBUF_INIT;

	if (!e->hb_lease)
		return;
	/* the record of the clean stop and the end of the liveness key in one
	 * revision: a node watching sees that the delete was no crash */
	strbuf_addf(&name, ".left/%s", node);
	strbuf_addf(&member, ".members/%s", node);
	strbuf_addf(&now, "%lld", (long long)wall_secs());
	json_t *ok = json_array();
	add_put(ok, e, name.buf, now.buf, now.len, 0);
	add_delete(ok, e, member.buf);
	txn(e, json_array(), ok, NULL, &err);
	lease_revoke(&e->c, e->hb_lease);
	e->hb_lease = 0;
	strbuf_release(&name);
	strbuf_release(&member);
	strbuf_release(&now);
	strbuf_release(&err);
}

int etcd_store_note_offline(struct store *st, const char *node, int64_t rev, struct strbuf *err)
{
	struct etcd_store *e = es_of(st);
	struct strbuf left = STRBUF_INIT, member = STRBUF_INIT, now = STRBUF_INIT;
	json_t *cmp = json_array(), *ok = json_array(), *c = json_object();
	int r;

	strbuf_addf(&left, ".left/%s", node);
	strbuf_addf(&member, ".members/%s", node);
	strbuf_addf(&now, "%lld", (long long)wall_secs());
	/* .left older than the delete: neither a clean stop (same revision)
	 * nor another node's record (later) */
	json_object_set_new(c, "key", key_json(e, left.buf));
	json_object_set_new(c, "result", json_string("LESS"));
	json_object_set_new(c, "target", json_string("MOD"));
	json_object_set_new(c, "mod_revision", int_json(rev));
	json_array_append_new(cmp, c);
	/* and the node is not back */
	add_compare(cmp, e, member.buf, STORE_REV_ABSENT);
	add_put(ok, e, left.buf, now.buf, now.len, 0);
	r = txn(e, cmp, ok, NULL, err);
	strbuf_release(&left);
	strbuf_release(&member);
	strbuf_release(&now);
	return r;
}

int etcd_store_watch_start(struct store *st, int *fd, struct strbuf *err)
{
	struct etcd_store *e = es_of(st);
	int r;

	if (!e->watch && (r = etcd_watch_start(&e->watch, e->hosts, e->tls, e->prefix, err)) < 0)
		return r;
	*fd = etcd_watch_fd(e->watch);
	return 0;
}

void etcd_store_watch_news(struct store *st, struct store_watch_news *news)
{
	struct etcd_store *e = es_of(st);

	memset(news, 0, sizeof(*news));
	if (e->watch)
		etcd_watch_drain(e->watch, news);
}

void etcd_store_watch_stop(struct store *st)
{
	struct etcd_store *e = es_of(st);

	etcd_watch_stop(e->watch);
	e->watch = NULL;
}

static int64_t kv_time(const struct etcd_kv *kv)
{
	char *end;
	long long v = strtoll(kv->value, &end, 10);

	return end != kv->value && !*end && v > 0 ? v : 0;
}

static const struct etcd_kv *find_abs(struct etcd_store *e, const struct etcd_kvs *kvs, const char *sub,
				      const char *node)
{
	struct strbuf k = STRBUF_INIT;
	const struct etcd_kv *hit = NULL;

	strbuf_addf(&k, "%s%s%s", e->prefix, sub, node);
	for (size_t i = 0; i < kvs->nr && !hit; i++)
		if (kvs->v[i].key_len == k.len && !memcmp(kvs->v[i].key, k.buf, k.len))
			hit = &kvs->v[i];
	strbuf_release(&k);
	return hit;
}

int etcd_store_members(struct store *st, const struct strvec *nodes, int fresh, struct store_member **out,
		       struct strbuf *err)
{
	struct etcd_store *e = es_of(st);
	struct etcd_kvs on = ETCD_KVS_INIT, left = ETCD_KVS_INIT;
	int r;

	*out = NULL;
	r = range(e, ".members/", 1, !fresh, 0, &on, err);
	if (r == 0)
		r = range(e, ".left/", 1, !fresh, 0, &left, err);
	if (r == 0) {
		*out = xcalloc(nodes->nr + 1, sizeof(**out));
		for (size_t i = 0; i < nodes->nr; i++) {
			const struct etcd_kv *m = find_abs(e, &on, ".members/", nodes->v[i]);
			const struct etcd_kv *l = find_abs(e, &left, ".left/", nodes->v[i]);

			(*out)[i].node = xstrdup(nodes->v[i]);
			(*out)[i].online = m != NULL;
			(*out)[i].since = m ? kv_time(m) : l ? kv_time(l) : 0;
		}
	}
	etcd_kvs_release(&on);
	etcd_kvs_release(&left);
	return r;
}

int etcd_store_revision(struct store *st, int64_t *rev, struct strbuf *err)
{
	struct etcd_kvs kvs = ETCD_KVS_INIT;
	int r = range(es_of(st), "", 1, 1, 1, &kvs, err);

	*rev = kvs.revision;
	etcd_kvs_release(&kvs);
	return r;
}

size_t etcd_store_health(struct store *st, struct strvec *out)
{
	return etcd_endpoint_health(&es_of(st)->c, out);
}

int etcd_store_dump(struct store *st, struct strvec *names, struct strvec *datas, struct strbuf *err)
{
	struct etcd_store *e = es_of(st);
	int r = es_load(st, 0, err);

	for (size_t i = 0; r == 0 && i < e->snap.nr; i++) {
		strvec_push(names, e->snap.v[i].key);
		strvec_push(datas, e->snap.v[i].value);
	}
	return r;
}
