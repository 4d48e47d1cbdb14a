#include "ha/ha.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/time-util.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "config/cluster.h"
#include "config/volrepcfg.h"
#include "engine/failover.h"
#include "engine/hook.h"
#include "notify/notify.h"

#define HA_STATUS_MAX (1024 * 1024)
#define HA_CAS_RETRIES 50
/* how long a resume waits for a failover or recovery of the same guest */
#define HA_RESUME_LOCK_MS 2000

/* --- the watch --- */

static struct ha_watch_node *watch_find(const struct ha_watch *w, const char *node)
{
	for (size_t i = 0; i < w->nr; i++)
		if (!strcmp(w->v[i].node, node))
			return &w->v[i];
	return NULL;
}

void ha_watch_update(struct ha_watch *w, const struct store_member *m, size_t n, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		struct ha_watch_node *x = watch_find(w, m[i].node);

		if (!x) {
			ALLOC_GROW(w->v, w->nr + 1, w->alloc);
			x = &w->v[w->nr++];
			x->node = xstrdup(m[i].node);
			x->offline_since = 0;
		}
		if (m[i].online)
			x->offline_since = 0;
		else if (!x->offline_since)
			x->offline_since = now;
	}
}

int64_t ha_watch_dead_since(const struct ha_watch *w, const char *node, int64_t now, unsigned grace)
{
	const struct ha_watch_node *x = watch_find(w, node);

	if (!x || !x->offline_since || now - x->offline_since < (int64_t)grace)
		return 0;
	return x->offline_since;
}

void ha_watch_release(struct ha_watch *w)
{
	for (size_t i = 0; i < w->nr; i++)
		free(w->v[i].node);
	free(w->v);
	memset(w, 0, sizeof(*w));
}

/* --- which guests, where --- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void guests_where(const struct ha_cfg *hc, const struct guest_list *gl, const char *node, int started_only,
			 uint32_t **out, size_t *n)
{
	*n = 0;
	*out = xcalloc(hc->nres + 1, sizeof(**out));
	for (size_t i = 0; i < hc->nres; i++) {
		const struct ha_resource *r = &hc->res[i];
		const struct guest *g = guests_find(gl, r->vmid);

		if (r->state == HA_IGNORED || (started_only && r->state != HA_STARTED))
			continue;
		/* a guest of the other type with this id is not this resource */
		if (!g || g->type != r->type || strcmp(g->node, node))
			continue;
		(*out)[(*n)++] = r->vmid;
	}
	qsort(*out, *n, sizeof(**out), cmp_u32);
}

void ha_guests_of(const struct ha_cfg *hc, const struct guest_list *gl, const char *node, uint32_t **out, size_t *n)
{
	guests_where(hc, gl, node, 0, out, n);
}

void ha_started_of(const struct ha_cfg *hc, const struct guest_list *gl, const char *node, uint32_t **out,
		   size_t *n)
{
	guests_where(hc, gl, node, 1, out, n);
}

void ha_preferred(const struct ha_cfg *hc, const struct ha_resource *r, const char *dead, struct strvec *out)
{
	const struct ha_group *g = r ? ha_cfg_group(hc, r->group) : NULL;

	for (size_t i = 0; g && i < g->nodes.nr; i++)
		if (!dead || strcmp(g->nodes.v[i], dead))
			strvec_push(out, g->nodes.v[i]);
}

/* --- the record --- */

static char *json_str_dup(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && strlen(s) < 4096 ? xstrdup(s) : NULL;
}

static int64_t json_int(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

int ha_status_parse(struct ha_status *hs, const char *text, size_t len)
{
	json_error_t je;
	json_t *root, *v;
	const char *key;

	if (!len)
		return 0;
	if (len > HA_STATUS_MAX)
		return -EFBIG;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(root)) {
		json_decref(root);
		return -EINVAL;
	}
	json_object_foreach(root, key, v) {
		uint64_t id;
		struct ha_recovery *r;
		char *from, *to;

		if (!json_is_object(v) || !valid_vmid(key) || ha_status_find(hs, (uint32_t)strtoul(key, NULL, 10)))
			continue;
		id = strtoull(key, NULL, 10);
		from = json_str_dup(v, "from");
		to = json_str_dup(v, "to");
		if (!from || !valid_node_name(from) || (to && !valid_node_name(to))) {
			free(from);
			free(to);
			continue;
		}
		ALLOC_GROW(hs->v, hs->nr + 1, hs->alloc);
		r = &hs->v[hs->nr++];
		*r = (struct ha_recovery){ .vmid = (uint32_t)id, .from = from, .to = to };
		r->snapshot = json_str_dup(v, "snapshot");
		r->result = json_str_dup(v, "result");
		r->when = json_int(v, "when");
		r->node_lost = json_int(v, "node_lost");
		r->snapshot_time = json_int(v, "snapshot_time");
		r->window = json_int(v, "data_loss_window");
	}
	json_decref(root);
	return 0;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

void ha_status_format(const struct ha_status *hs, struct strbuf *out)
{
	json_t *root = json_object();
	char *s;

	for (size_t i = 0; i < hs->nr; i++) {
		const struct ha_recovery *r = &hs->v[i];
		char key[16];

		snprintf(key, sizeof(key), "%" PRIu32, r->vmid);
		json_object_set_new(root, key, json_pack("{s:o,s:o,s:I,s:I,s:o,s:I,s:I,s:o}", "from",
							  str_or_null(r->from), "to", str_or_null(r->to), "when",
							  (json_int_t)r->when, "node_lost", (json_int_t)r->node_lost,
							  "snapshot", str_or_null(r->snapshot), "snapshot_time",
							  (json_int_t)r->snapshot_time, "data_loss_window",
							  (json_int_t)r->window, "result", str_or_null(r->result)));
	}
	s = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(1));
	strbuf_addstr(out, s ? s : "{}");
	strbuf_addch(out, '\n');
	free(s);
	json_decref(root);
}

const struct ha_recovery *ha_status_find(const struct ha_status *hs, uint32_t vmid)
{
	for (size_t i = 0; i < hs->nr; i++)
		if (hs->v[i].vmid == vmid)
			return &hs->v[i];
	return NULL;
}

static void recovery_release(struct ha_recovery *r)
{
	free(r->from);
	free(r->to);
	free(r->snapshot);
	free(r->result);
}

void ha_status_release(struct ha_status *hs)
{
	for (size_t i = 0; i < hs->nr; i++)
		recovery_release(&hs->v[i]);
	free(hs->v);
	memset(hs, 0, sizeof(*hs));
}

int ha_status_load(const char *config_dir, unsigned store_flags, struct ha_status *hs, int64_t *rev,
		   struct strbuf *err)
{
	struct store *st = store_get(config_dir);
	struct strbuf text = STRBUF_INIT;
	int r = store_read(st, HA_STATUS_FILE, store_flags, &text, rev, err);

	/* a damaged record is no reason to stop recovering guests */
	if (r >= 0 && ha_status_parse(hs, text.buf, text.len) < 0)
		ha_status_release(hs);
	strbuf_release(&text);
	return r < 0 ? r : 0;
}

int ha_status_record(const char *config_dir, const struct ha_recovery *rec, struct strbuf *err)
{
	struct store *st = store_get(config_dir);
	int r = 0;

	for (int attempt = 0;; attempt++) {
		struct ha_status hs = HA_STATUS_INIT;
		struct strbuf text = STRBUF_INIT;
		int64_t rev = 0;
		size_t i, errlen = err->len;

		r = ha_status_load(config_dir, STORE_FRESH, &hs, &rev, err);
		if (r < 0) {
			ha_status_release(&hs);
			strbuf_release(&text);
			return r;
		}
		for (i = 0; i < hs.nr && hs.v[i].vmid != rec->vmid; i++)
			;
		if (i == hs.nr) {
			ALLOC_GROW(hs.v, hs.nr + 1, hs.alloc);
			hs.nr++;
		} else {
			recovery_release(&hs.v[i]);
		}
		/* borrowed: not released below */
		hs.v[i] = *rec;
		ha_status_format(&hs, &text);
		memset(&hs.v[i], 0, sizeof(hs.v[i]));
		r = store_write(st, HA_STATUS_FILE, text.buf, text.len,
				st->kind == STORE_DIR ? STORE_REV_ANY : (rev ? rev : STORE_REV_ABSENT), err);
		ha_status_release(&hs);
		strbuf_release(&text);
		if (r == -ESTALE && attempt < HA_CAS_RETRIES) {
			strbuf_setlen(err, errlen);
			continue;
		}
		return r;
	}
}

/* --- doing it --- */

static void notify_log(bool ok, const char *msg, void *data)
{
	FILE *out = data;

	if (out)
		fprintf(out, "%s%s\n", ok ? "" : "notify: ", msg);
}

static void notify_recovery(const struct context *ctx, const struct ha_recovery *rec, const char *type,
			    const char *text, FILE *out)
{
	struct volrep_cfg cfg;
	struct strbuf err = STRBUF_INIT;
	char host[256] = "";

	if (volrep_cfg_load(&cfg, ctx->config_dir, &err) < 0 || !notify_configured(&cfg)) {
		strbuf_release(&err);
		return;
	}
	gethostname(host, sizeof(host) - 1);
	struct notify_event ev = {
		.kind = NOTIFY_HA_RECOVERED, .job_id = "", .guest = rec->vmid, .vmtype = type,
		.source = rec->from, .target = rec->to, .last_sync = rec->snapshot_time, .now = rec->when,
		.error = text, .hostname = host,
	};
	notify_send_all(&cfg, &ev, notify_log, out);
	strbuf_release(&err);
}

static void describe(const struct ha_recovery *rec, struct strbuf *sb)
{
	strbuf_addf(sb, "guest %" PRIu32 " of node '%s'", rec->vmid, rec->from);
	if (rec->to)
		strbuf_addf(sb, " recovered on '%s' from '%s' (snapshot time %" PRId64 "): %s; data-loss window: "
			    "%" PRId64 " s (writes after the snapshot, up to the loss of node '%s' at %" PRId64 ")",
			    rec->to, rec->snapshot ? rec->snapshot : "?", rec->snapshot_time, rec->result, rec->window,
			    rec->from, rec->node_lost);
	else
		strbuf_addf(sb, " not recovered: %s", rec->result);
}

static int recover_one(const struct context *ctx, const struct ha_cfg *hc, const struct guest *g, const char *node,
		       int64_t node_lost, FILE *out, struct strbuf *err)
{
	const struct ha_resource *res = ha_cfg_find(hc, g->vmid);
	struct strvec prefer = STRVEC_INIT;
	struct failover_result fr = { 0 };
	struct strbuf e = STRBUF_INIT, line = STRBUF_INIT;
	struct ha_recovery rec = { .vmid = g->vmid };
	int quiet = 0;
	struct failover_opts o = {
		.vmid = g->vmid, .force = 1, .out = out, .prefer = &prefer, .result = &fr,
		.no_start = res->state == HA_STOPPED, .online_only = 1,
	};
	int r;

	ha_preferred(hc, res, node, &prefer);
	if (out)
		fprintf(out, "ha: recovering guest %" PRIu32 " of node '%s'\n", g->vmid, node);
	r = failover_guest(ctx, &o, &e);
	if (r == -EALREADY) {
		if (out)
			fprintf(out, "ha: %s\n", e.buf);
		r = 0;
		goto out;
	}
	rec.from = xstrdup(node);
	rec.when = volrep_now();
	rec.node_lost = node_lost;
	if (fr.to && fr.moved) {
		rec.to = xstrdup(fr.to);
		rec.snapshot = fr.snap ? xstrdup(fr.snap) : NULL;
		rec.snapshot_time = fr.snap_time;
		rec.window = node_lost > fr.snap_time ? node_lost - fr.snap_time : 0;
	}
	{
		struct strbuf res_text = STRBUF_INIT;

		if (r == 0)
			strbuf_addstr(&res_text, o.no_start ? "moved (state stopped: not started)" : "started");
		else
			strbuf_addf(&res_text, "%s%s", fr.moved ? "moved, start failed: " : "failed: ", e.buf);
		rec.result = strbuf_detach(&res_text, NULL);
	}
	describe(&rec, &line);
	if (out)
		fprintf(out, "ha: %s\n", line.buf);
	/* a recovery that fails is retried: notify a failure once, not at
	 * every retry */
	{
		struct ha_status prev = HA_STATUS_INIT;
		struct strbuf pe = STRBUF_INIT;
		const struct ha_recovery *p;

		if (!fr.moved && ha_status_load(ctx->config_dir, 0, &prev, NULL, &pe) == 0 &&
		    (p = ha_status_find(&prev, g->vmid)) && !p->to && p->node_lost == node_lost && p->from &&
		    !strcmp(p->from, node) && p->result && !strcmp(p->result, rec.result))
			quiet = 1;
		ha_status_release(&prev);
		strbuf_release(&pe);
	}
	{
		struct strbuf re = STRBUF_INIT;

		if (ha_status_record(ctx->config_dir, &rec, &re) < 0 && out)
			fprintf(out, "ha: cannot record the recovery of guest %" PRIu32 ": %s\n", g->vmid, re.buf);
		strbuf_release(&re);
	}
	if (!quiet)
		notify_recovery(ctx, &rec, guest_type_name(g->type), line.buf, out);
	if (r < 0) {
		strbuf_addf(err, "%s%s", err->len ? "; " : "", line.buf);
		r = -EIO;
	}
out:
	recovery_release(&rec);
	failover_result_release(&fr);
	strvec_clear(&prefer);
	strbuf_release(&e);
	strbuf_release(&line);
	return r;
}

/* The cluster configuration, read while holding the lock: a stale copy (the
 * store lost its quorum) is no ground to move a guest on. */
static int load_quorate(const struct context *ctx, struct store *st, struct cluster_config *cc, struct strbuf *err)
{
	int r = cluster_config_load(cc, ctx->config_dir, 0, err);

	if (r == 0 && st->stale) {
		strbuf_addf(err, "cluster not quorate: %s", st->stale_why ? st->stale_why : "");
		r = -ENOTCONN;
	}
	return r;
}

int ha_recover_node(const struct context *ctx, const char *node, int64_t node_lost, FILE *out, struct strbuf *err)
{
	struct store *st = store_get(ctx->config_dir);
	struct store_lock lk = STORE_LOCK_INIT;
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct ha_cfg hc = HA_CFG_INIT;
	uint32_t *ids = NULL;
	size_t n = 0;
	int r, failed = 0;

	if (st->kind != STORE_ETCD) {
		strbuf_addstr(err, "high availability needs the etcd cluster store (docs/ha.md)");
		return -ENOTSUP;
	}
	if (!valid_node_name(node)) {
		strbuf_addf(err, "invalid node name '%s'", node);
		return -EINVAL;
	}
	if (!strcmp(node, ctx->node)) {
		strbuf_addf(err, "node '%s' is this node - it cannot recover its own guests", node);
		return -EINVAL;
	}
	r = store_require_quorum(st, err);
	if (r < 0)
		return r;
	r = store_lock(st, HA_MANAGER_LOCK, 0, 0, &lk, err);
	if (r == -ETIMEDOUT) {
		strbuf_reset(err);
		strbuf_addstr(err, "another node is recovering guests");
		return -EBUSY;
	}
	if (r < 0)
		return r;
	r = load_quorate(ctx, st, &cc, err);
	if (r == 0)
		r = ha_cfg_load(ctx->config_dir, STORE_FRESH, &hc, NULL, NULL, err);
	if (r < 0)
		goto out;
	ha_guests_of(&hc, &cc.guests, node, &ids, &n);
	for (size_t i = 0; i < n; i++) {
		const struct guest *g = guests_find(&cc.guests, ids[i]);

		if (g && recover_one(ctx, &hc, g, node, node_lost, out, err) < 0)
			failed = 1;
	}
	r = failed ? -EIO : 0;
out:
	free(ids);
	ha_cfg_release(&hc);
	cluster_config_release(&cc);
	store_unlock(st, &lk);
	return r;
}

int ha_resume_guest(const struct context *ctx, uint32_t vmid, struct strbuf *err)
{
	struct store *st = store_get(ctx->config_dir);
	struct store_lock lk = STORE_LOCK_INIT;
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct strvec names = STRVEC_INIT;
	struct store_member *m = NULL;
	char lname[32];
	const struct guest *g;
	int r;

	if (st->kind != STORE_ETCD) {
		strbuf_addstr(err, "high availability needs the etcd cluster store (docs/ha.md)");
		return -ENOTSUP;
	}
	snprintf(lname, sizeof(lname), "guest-%" PRIu32, vmid);
	r = store_require_quorum(st, err);
	if (r == 0)
		r = store_lock(st, lname, HA_RESUME_LOCK_MS, 0, &lk, err);
	if (r < 0)
		return r;
	r = load_quorate(ctx, st, &cc, err);
	if (r < 0)
		goto out;
	g = guests_find(&cc.guests, vmid);
	if (!g || strcmp(g->node, ctx->node)) {
		strbuf_addf(err, "guest %" PRIu32 " was already moved to '%s'", vmid, g ? g->node : "?");
		r = -EALREADY;
		goto out;
	}
	/* our liveness key must be there: a recovery, once it holds the
	 * guest's lock, refuses while it exists */
	strvec_push(&names, ctx->node);
	r = store_members(st, &names, 1, &m, err);
	if (r == 0 && !m[0].online) {
		strbuf_addf(err, "node '%s' has no liveness key yet", ctx->node);
		r = -ENOTCONN;
	}
	store_members_release(m, m ? 1 : 0);
	if (r == 0)
		r = guest_hook_start(ctx->config_dir, ctx->node, g->type, vmid, err);
out:
	strvec_clear(&names);
	cluster_config_release(&cc);
	store_unlock(st, &lk);
	return r;
}
