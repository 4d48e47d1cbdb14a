#include "api/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api/auth.h"
#include "api/router.h"
#include "base/fileio.h"
#include "base/sanitize.h"
#include "base/time-util.h"
#include "base/xalloc.h"
#include "config/nodes.h"
#include "config/volrepcfg.h"
#include "http/server.h"
#include "ops/jobs.h"

#define PEM_MAX (256 * 1024)

struct api_server {
	struct http_server *http;
	const struct context *ctx;
	struct strbuf cert, key;
	int tls;
};

/* One request in the making. */
struct call {
	struct api_server *s;
	const struct http_request *req;
	struct http_response *resp;
	struct api_params params;
	struct api_match m;
	struct strbuf user;
	int write;
};

/* ---- replies ---- */

static void reply_json(struct call *c, int status, json_t *data, json_t *extra)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "data", data ? data : json_null());
	if (extra)
		json_object_update(o, extra);
	json_decref(extra);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
	c->resp->status = status;
	c->resp->content_type = "application/json;charset=UTF-8";
	strbuf_reset(&c->resp->body);
	strbuf_addstr(&c->resp->body, s ? s : "{}");
	strbuf_addch(&c->resp->body, '\n');
	free(s);
	json_decref(o);
}

static void reply_error(struct call *c, int status, const char *param, const char *msg)
{
	json_t *extra = json_object();

	json_object_set_new(extra, "message", json_sprintf("%s\n", msg));
	if (param) {
		json_t *errs = json_object();

		json_object_set_new(errs, param, json_string(msg));
		json_object_set_new(extra, "errors", errs);
	}
	reply_json(c, status, NULL, extra);
}

static void reply_ops(struct call *c, int r, const struct ops_err *e)
{
	reply_error(c, ops_http_status(r, e), e->param, e->msg.buf);
}

static void header(struct call *c, const char *name, const char *value)
{
	strvec_push(&c->resp->headers, name);
	strvec_push(&c->resp->headers, value);
}

/* ---- parameters ---- */

/* Refuse parameters the endpoint does not know (as PVE's schema does). */
static int only(struct call *c, const char *const *allowed)
{
	for (size_t i = 0; i < c->params.nr; i++) {
		const char *const *a = allowed;

		while (*a && strcmp(*a, c->params.key[i]))
			a++;
		if (!*a) {
			reply_error(c, 400, c->params.key[i],
				    "property is not defined in schema and the schema does not allow additional properties");
			return -EINVAL;
		}
	}
	return 0;
}

static const char *param(struct call *c, const char *k)
{
	return api_params_get(&c->params, k);
}

/* A boolean parameter as "0"/"1" (NULL when absent); -EINVAL replied. */
static int bool_param(struct call *c, const char *k, const char **out)
{
	const char *v = param(c, k);

	*out = NULL;
	if (!v)
		return 0;
	*out = api_bool(v);
	if (!*out) {
		struct strbuf m = STRBUF_INIT;

		strbuf_addf(&m, "invalid %s '%s' - type check ('boolean') failed - expected 0 or 1", k, v);
		reply_error(c, 400, k, m.buf);
		strbuf_release(&m);
		return -EINVAL;
	}
	return 0;
}

static int required(struct call *c, const char *k, const char **out)
{
	*out = param(c, k);
	if (!*out) {
		reply_error(c, 400, k, "property is missing and it is not optional");
		return -EINVAL;
	}
	return 0;
}

/* The settable options of create/update as ops_kv (disable normalised). */
static int job_options(struct call *c, struct ops_kv kv[7])
{
	static const char *const keys[] = { "schedule", "rate", "comment", "source", "remove_job", NULL };
	const char *dis;
	size_t n = 0;

	if (bool_param(c, "disable", &dis) < 0)
		return -EINVAL;
	for (const char *const *k = keys; *k; k++)
		kv[n++] = (struct ops_kv){ *k, param(c, *k) };
	kv[n++] = (struct ops_kv){ "disable", dis };
	kv[n] = (struct ops_kv){ NULL, NULL };
	return 0;
}

/* ---- handlers ---- */

static void h_version(struct call *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "version", json_string(VOLREP_VERSION));
	json_object_set_new(o, "release", json_string(VOLREP_VERSION));
	json_object_set_new(o, "repoid", json_string("volrep"));
	reply_json(c, 200, o, NULL);
}

static void h_nodes(struct call *c, int cluster_status)
{
	struct nodes_cfg nc = { 0 };
	json_t *arr = json_array();
	int self_listed = 0;

	nodes_cfg_load(&nc, c->s->ctx->config_dir, NULL);
	if (cluster_status) {
		json_t *cl = json_object();

		json_object_set_new(cl, "type", json_string("cluster"));
		json_object_set_new(cl, "id", json_string("cluster"));
		json_object_set_new(cl, "name", json_string("volrep"));
		json_object_set_new(cl, "nodes", json_integer((json_int_t)nc.nr));
		json_object_set_new(cl, "quorate", json_integer(1));
		json_array_append_new(arr, cl);
	}
	for (size_t i = 0; i <= nc.nr; i++) {
		const char *name = i < nc.nr ? nc.v[i].name : c->s->ctx->node;
		int local = !strcmp(name, c->s->ctx->node);
		json_t *o;

		if (i == nc.nr && self_listed)
			break;
		self_listed |= local;
		o = json_object();
		if (cluster_status) {
			json_object_set_new(o, "type", json_string("node"));
			json_object_set_new(o, "id", json_sprintf("node/%s", name));
			json_object_set_new(o, "name", json_string(name));
			json_object_set_new(o, "local", json_integer(local));
			json_object_set_new(o, "online", json_integer(1));
		} else {
			json_object_set_new(o, "node", json_string(name));
			json_object_set_new(o, "type", json_string("node"));
			json_object_set_new(o, "id", json_sprintf("node/%s", name));
			/* only this node's state is known here */
			json_object_set_new(o, "status", json_string(local ? "online" : "unknown"));
		}
		json_array_append_new(arr, o);
	}
	nodes_cfg_release(&nc);
	reply_json(c, 200, arr, NULL);
}

static void h_repl_list(struct call *c)
{
	struct ops_err e = OPS_ERR_INIT;
	struct jobs_cfg jc = { 0 };
	struct repl_job **sorted = NULL;
	int r = ops_job_list(c->s->ctx, &jc, &sorted, &e);

	if (r < 0) {
		reply_ops(c, r, &e);
	} else {
		json_t *arr = json_array();

		for (size_t i = 0; i < jc.nr; i++)
			json_array_append_new(arr, job_to_json(sorted[i]));
		reply_json(c, 200, arr, NULL);
	}
	free(sorted);
	jobs_cfg_release(&jc);
	ops_err_release(&e);
}

static void h_repl_create(struct call *c)
{
	static const char *const allowed[] = { "id", "type", "target", "schedule", "rate", "comment",
					       "disable", "remove_job", "source", NULL };
	struct ops_err e = OPS_ERR_INIT;
	struct ops_kv kv[8];
	const char *id, *type, *target;
	int r;

	if (only(c, allowed) < 0 || required(c, "id", &id) < 0 || required(c, "type", &type) < 0 ||
	    required(c, "target", &target) < 0 || job_options(c, kv) < 0)
		return;
	if (strcmp(type, "local")) {
		reply_error(c, 400, "type", "invalid type - value must be 'local'");
		return;
	}
	r = ops_job_create(c->s->ctx, id, target, kv, &e);
	if (r < 0)
		reply_ops(c, r, &e);
	else
		reply_json(c, 200, NULL, NULL);
	ops_err_release(&e);
}

static void h_repl_read(struct call *c)
{
	struct ops_err e = OPS_ERR_INIT;
	json_t *o = NULL;
	int r;

	if (only(c, (const char *const[]){ NULL }) < 0)
		return;
	r = ops_job_read(c->s->ctx, c->m.id, &o, &e);
	if (r < 0)
		reply_ops(c, r, &e);
	else
		reply_json(c, 200, o, NULL);
	ops_err_release(&e);
}

static void h_repl_update(struct call *c)
{
	static const char *const allowed[] = { "schedule", "rate", "comment", "disable", "remove_job", "source",
					       "delete", "digest", "target", NULL };
	struct ops_err e = OPS_ERR_INIT;
	struct ops_kv kv[8];
	int r;

	if (only(c, allowed) < 0 || job_options(c, kv) < 0)
		return;
	r = ops_job_update(c->s->ctx, c->m.id, param(c, "target"), param(c, "digest"), param(c, "delete"), kv, &e);
	if (r < 0)
		reply_ops(c, r, &e);
	else
		reply_json(c, 200, NULL, NULL);
	ops_err_release(&e);
}

static void h_repl_delete(struct call *c)
{
	static const char *const allowed[] = { "keep", "force", NULL };
	struct ops_err e = OPS_ERR_INIT;
	const char *keep, *force;
	int r;

	if (only(c, allowed) < 0 || bool_param(c, "keep", &keep) < 0 || bool_param(c, "force", &force) < 0)
		return;
	r = ops_job_delete(c->s->ctx, c->m.id, keep && *keep == '1', force && *force == '1', &e);
	if (r < 0)
		reply_ops(c, r, &e);
	else
		reply_json(c, 200, NULL, NULL);
	ops_err_release(&e);
}

/* /nodes/{node}/...: only this node's state is here. */
static int this_node(struct call *c)
{
	if (strcmp(c->m.node, c->s->ctx->node)) {
		struct strbuf m = STRBUF_INIT;

		strbuf_addf(&m, "node '%s' is not this node ('%s') - ask it directly", c->m.node, c->s->ctx->node);
		reply_error(c, 400, "node", m.buf);
		strbuf_release(&m);
		return -EINVAL;
	}
	return 0;
}

/* status entries of this node: guest filter, or one id */
static void h_node_status(struct call *c, const char *id)
{
	struct ops_err e = OPS_ERR_INIT;
	struct ops_status os;
	struct strbuf canon = STRBUF_INIT;
	uint64_t guest = 0;
	json_t *arr, *one = NULL;
	const char *g = param(c, "guest");
	int r;

	if (only(c, id ? (const char *const[]){ NULL } : (const char *const[]){ "guest", NULL }) < 0)
		goto out_nostatus;
	if (g && ops_parse_guest(g, &guest, &e) < 0) {
		reply_ops(c, -EINVAL, &e);
		goto out_nostatus;
	}
	if (id && (r = job_id_parse_existing(id, &canon, NULL, &e.msg)) < 0) {
		e.param = "id";
		reply_ops(c, r, &e);
		goto out_nostatus;
	}
	r = ops_status_load(&os, c->s->ctx, &e);
	if (r < 0) {
		reply_ops(c, r, &e);
		goto out;
	}
	arr = json_array();
	for (size_t i = 0; i < os.js.nr; i++) {
		const struct job_entry *en = os.sorted[i];

		if (guest && en->job->guest != guest)
			continue;
		if (id && strcmp(en->job->id, canon.buf))
			continue;
		json_t *o = ops_status_entry_json(&os, en);
		if (id)
			one = json_incref(o);
		json_array_append_new(arr, o);
	}
	if (!id) {
		reply_json(c, 200, arr, NULL);
	} else {
		json_decref(arr);
		if (one) {
			reply_json(c, 200, one, NULL);
		} else {
			strbuf_reset(&e.msg);
			strbuf_addf(&e.msg, "no such replication job '%s' on node '%s'", canon.buf, c->s->ctx->node);
			reply_error(c, 404, NULL, e.msg.buf);
		}
	}
out:
	ops_status_release(&os);
out_nostatus:
	strbuf_release(&canon);
	ops_err_release(&e);
}

static void h_node_index(struct call *c)
{
	json_t *arr = json_array();

	if (only(c, (const char *const[]){ NULL }) < 0) {
		json_decref(arr);
		return;
	}
	if (c->m.route == API_NODE) {
		json_array_append_new(arr, json_pack("{s:s}", "name", "replication"));
	} else {
		json_array_append_new(arr, json_pack("{s:s}", "name", "schedule_now"));
		json_array_append_new(arr, json_pack("{s:s}", "name", "log"));
		json_array_append_new(arr, json_pack("{s:s}", "name", "status"));
	}
	reply_json(c, 200, arr, NULL);
}

static int uint_param(struct call *c, const char *k, unsigned long dflt, unsigned long max, unsigned long *out)
{
	const char *v = param(c, k);
	char *end;

	*out = dflt;
	if (!v)
		return 0;
	errno = 0;
	*out = strtoul(v, &end, 10);
	if (!*v || *end || errno || *out > max || v[0] == '-' || v[0] == '+' || v[0] == ' ') {
		struct strbuf m = STRBUF_INIT;

		strbuf_addf(&m, "invalid %s '%s' - expected an integer 0..%lu", k, v, max);
		reply_error(c, 400, k, m.buf);
		strbuf_release(&m);
		return -EINVAL;
	}
	return 0;
}

static void h_node_log(struct call *c)
{
	static const char *const allowed[] = { "start", "limit", NULL };
	struct ops_err e = OPS_ERR_INIT;
	struct strbuf id = STRBUF_INIT, text = STRBUF_INIT;
	unsigned long start, limit, n = 0;
	json_t *arr;
	int r;

	if (only(c, allowed) < 0 || uint_param(c, "start", 0, 100000000, &start) < 0 ||
	    uint_param(c, "limit", 50, 100000, &limit) < 0)
		goto out;
	if ((r = job_id_parse_existing(c->m.id, &id, NULL, &e.msg)) < 0) {
		e.param = "id";
		reply_ops(c, r, &e);
		goto out;
	}
	r = ops_job_log_read(c->s->ctx, id.buf, 0, &text, &e);
	if (r == -ENOENT) {
		r = ops_job_no_log(c->s->ctx, id.buf, &e);
		if (r == -ENODATA)
			r = 0; /* a job that has not run here has an empty log */
	}
	if (r < 0) {
		reply_ops(c, r, &e);
		goto out;
	}
	arr = json_array();
	for (const char *p = text.buf; *p;) {
		size_t len = strcspn(p, "\n");

		if (n >= start && n < start + limit) {
			struct strbuf line = STRBUF_INIT;

			/* valid UTF-8 without controls, or jansson drops the line */
			strbuf_add_sanitized(&line, p, len, 0);
			json_array_append_new(arr, json_pack("{s:I,s:s}", "n", (json_int_t)(n + 1), "t", line.buf));
			strbuf_release(&line);
		}
		n++;
		p += len;
		if (*p)
			p++;
	}
	reply_json(c, 200, arr, json_pack("{s:I}", "total", (json_int_t)n));
out:
	strbuf_release(&id);
	strbuf_release(&text);
	ops_err_release(&e);
}

static void h_node_sched(struct call *c)
{
	struct ops_err e = OPS_ERR_INIT;
	struct strbuf canon = STRBUF_INIT;
	int r;

	if (only(c, (const char *const[]){ NULL }) < 0)
		return;
	r = ops_job_schedule_now(c->s->ctx, c->m.id, &canon, &e);
	if (r < 0)
		reply_ops(c, r, &e);
	else
		reply_json(c, 200, json_string(canon.buf), NULL);
	strbuf_release(&canon);
	ops_err_release(&e);
}

/* ---- auth ---- */

static void h_ticket(struct call *c)
{
	static const char *const allowed[] = { "username", "password", "realm", "new-format", NULL };
	struct strbuf ticket = STRBUF_INIT, csrf = STRBUF_INIT, err = STRBUF_INIT, cookie = STRBUF_INIT;
	const char *user, *pass;
	int write = 0, r;

	if (!strcmp(c->req->method, "GET")) {
		reply_json(c, 200, NULL, NULL); /* PVE: a dummy for the login form */
		return;
	}
	if (!strcmp(c->req->method, "DELETE")) {
		/* log out: the cookie is HttpOnly, so the page cannot drop it itself */
		header(c, "Set-Cookie", "PVEAuthCookie=; Path=/; Max-Age=0; SameSite=Strict; HttpOnly");
		reply_json(c, 200, NULL, NULL);
		return;
	}
	if (only(c, allowed) < 0 || required(c, "username", &user) < 0 || required(c, "password", &pass) < 0)
		return;
	r = api_token_id_valid(user) ? api_token_verify(c->s->ctx->state_dir, user, pass, &write, &err) : -EACCES;
	if (r == 0)
		r = api_ticket_make(c->s->ctx->state_dir, user, write, volrep_now(), &ticket, &csrf, &err);
	if (r == -EACCES) {
		reply_error(c, 401, NULL, "authentication failure");
	} else if (r < 0) {
		reply_error(c, 500, NULL, err.buf);
	} else {
		json_t *o = json_object();

		json_object_set_new(o, "ticket", json_string(ticket.buf));
		json_object_set_new(o, "CSRFPreventionToken", json_string(csrf.buf));
		json_object_set_new(o, "username", json_string(user));
		json_object_set_new(o, "clustername", json_string("volrep"));
		json_object_set_new(o, "cap", json_pack("{s:{s:i}}", "vms", "VM.Replicate", write));
		strbuf_addf(&cookie, "PVEAuthCookie=%s; Path=/; SameSite=Strict; HttpOnly%s", ticket.buf,
			    c->s->tls ? "; Secure" : "");
		header(c, "Set-Cookie", cookie.buf);
		reply_json(c, 200, o, NULL);
	}
	strbuf_release(&ticket);
	strbuf_release(&csrf);
	strbuf_release(&err);
	strbuf_release(&cookie);
}

/* 0 authenticated (c->user, c->write), else replied. */
static int authenticate(struct call *c)
{
	const char *h = http_request_header(c->req, "Authorization");
	const char *cookie = http_request_cookie(c->req, "PVEAuthCookie");
	int is_get = !strcmp(c->req->method, "GET") || !strcmp(c->req->method, "HEAD");
	int64_t now = volrep_now();

	if (h) {
		struct strbuf secret = STRBUF_INIT, err = STRBUF_INIT;
		int r = api_token_header_parse(h, &c->user, &secret);

		if (r == 0)
			r = api_token_verify(c->s->ctx->state_dir, c->user.buf, secret.buf, &c->write, &err);
		strbuf_release(&secret);
		if (r < 0 && r != -EACCES && r != -EINVAL)
			reply_error(c, 500, NULL, err.buf);
		else if (r < 0)
			reply_error(c, 401, NULL, "authentication failure - invalid API token");
		strbuf_release(&err);
		if (r < 0)
			return r;
	} else if (cookie) {
		const char *csrf = http_request_header(c->req, "CSRFPreventionToken");

		if (api_ticket_verify(c->s->ctx->state_dir, cookie, now, &c->user, &c->write) < 0) {
			reply_error(c, 401, NULL, "authentication failure - invalid or expired ticket");
			return -EACCES;
		}
		if (!is_get && (!csrf || api_csrf_verify(c->s->ctx->state_dir, c->user.buf, csrf, now) < 0)) {
			reply_error(c, 401, NULL, "permission denied - invalid CSRF prevention token");
			return -EACCES;
		}
	} else {
		header(c, "WWW-Authenticate", "PVEAPIToken");
		reply_error(c, 401, NULL, "authentication required - send an API token or log in");
		return -EACCES;
	}
	if (!is_get && !c->write) {
		struct strbuf m = STRBUF_INIT;

		strbuf_addf(&m, "permission denied - token '%s' is read-only", c->user.buf);
		reply_error(c, 403, NULL, m.buf);
		strbuf_release(&m);
		return -EACCES;
	}
	return 0;
}

/* ---- dispatch ---- */

static int add_arg(const char *k, const char *v, void *data)
{
	struct call *c = data;
	struct strbuf err = STRBUF_INIT;
	int r = api_params_add(&c->params, k, v, &err);

	if (r < 0)
		reply_error(c, 400, NULL, err.buf);
	strbuf_release(&err);
	return r < 0;
}

static int collect_params(struct call *c)
{
	const char *type = http_request_header(c->req, "Content-Type");
	struct strbuf err = STRBUF_INIT;
	int r = 0;

	if (http_request_each_arg(c->req, add_arg, c))
		return -EINVAL;
	if (c->req->body_len) {
		if (strlen(c->req->body) != c->req->body_len) {
			strbuf_addstr(&err, "invalid request body - NUL byte");
			r = -EINVAL;
		} else if (type && !strncmp(type, "application/json", 16)) {
			r = api_json_parse(&c->params, c->req->body, c->req->body_len, &err);
		} else {
			r = api_form_parse(&c->params, c->req->body, c->req->body_len, &err);
		}
	}
	if (r < 0)
		reply_error(c, 400, NULL, err.buf);
	strbuf_release(&err);
	return r;
}

static void dispatch(struct call *c)
{
	const char *method = c->req->method;

	switch (c->m.route) {
	case API_VERSION:
		h_version(c);
		break;
	case API_NODES:
		h_nodes(c, 0);
		break;
	case API_CLUSTER_STATUS:
		h_nodes(c, 1);
		break;
	case API_REPL:
		if (!strcmp(method, "GET"))
			h_repl_list(c);
		else
			h_repl_create(c);
		break;
	case API_REPL_ID:
		if (!strcmp(method, "GET"))
			h_repl_read(c);
		else if (!strcmp(method, "PUT"))
			h_repl_update(c);
		else
			h_repl_delete(c);
		break;
	case API_NODE:
	case API_NODE_REPL_ID:
		if (this_node(c) == 0)
			h_node_index(c);
		break;
	case API_NODE_REPL:
		if (this_node(c) == 0)
			h_node_status(c, NULL);
		break;
	case API_NODE_REPL_STATUS:
		if (this_node(c) == 0)
			h_node_status(c, c->m.id);
		break;
	case API_NODE_REPL_LOG:
		if (this_node(c) == 0)
			h_node_log(c);
		break;
	case API_NODE_REPL_SCHED:
		if (this_node(c) == 0)
			h_node_sched(c);
		break;
	default:
		reply_error(c, 501, NULL, "no handler for this API path");
	}
}

static void serve_api(const struct http_request *req, struct http_response *resp, void *data)
{
	struct call c = { .s = data, .req = req, .resp = resp, .user = STRBUF_INIT };
	const char *path = req->path + strlen("/api2/json");

	header(&c, "Cache-Control", "no-store");
	if (api_route_match(path, &c.m) < 0) {
		reply_error(&c, 501, NULL, "no such method or path in the API (see docs/api.md)");
		goto out;
	}
	if (!api_route_allows(c.m.route, req->method)) {
		reply_error(&c, 501, NULL, "no such method or path in the API (see docs/api.md)");
		goto out;
	}
	if (collect_params(&c) < 0)
		goto out;
	if (c.m.route != API_TICKET && authenticate(&c) < 0)
		goto out;
	if (c.m.route == API_TICKET)
		h_ticket(&c);
	else
		dispatch(&c);
out:
	api_params_release(&c.params);
	strbuf_release(&c.user);
}

/* The panel: only the embedded files, nothing from disk. */
static void serve_asset(const struct http_request *req, struct http_response *resp, void *data)
{
	const char *path = !strcmp(req->path, "/") ? "/index.html" : req->path;

	(void)data;
	for (size_t i = 0; i < api_assets_nr; i++) {
		if (!strcmp(api_assets[i].path, path)) {
			resp->content_type = api_assets[i].type;
			strbuf_add(&resp->body, api_assets[i].data, api_assets[i].len);
			strvec_push(&resp->headers, "Content-Security-Policy");
			strvec_push(&resp->headers, "default-src 'self'; frame-ancestors 'none'");
			strvec_push(&resp->headers, "X-Content-Type-Options");
			strvec_push(&resp->headers, "nosniff");
			return;
		}
	}
	resp->status = 404;
	strbuf_addstr(&resp->body, "not found\n");
}

static int is_loopback(const char *listen)
{
	struct sockaddr_storage ss;
	unsigned len;

	if (volrep_cfg_parse_listen(listen, &ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	return ss.ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
}

static int read_pem(const char *path, const char *what, struct strbuf *out, struct strbuf *err)
{
	int r = strbuf_read_file(out, path, PEM_MAX);

	if (r < 0) {
		strbuf_addf(err, "cannot read %s '%s' - %s", what, path, file_strerror(-r));
		return r;
	}
	return 0;
}

int api_start(struct api_server **ret, const struct context *ctx, const char *listen, const char *cert,
	      const char *key, struct strbuf *err)
{
	static const struct http_route routes[] = {
		{ "*", "/api2/json/", true, serve_api, NULL },
		{ "GET", "/", false, serve_asset, NULL },
		{ "GET", "/volrep.js", false, serve_asset, NULL },
		{ "GET", "/volrep.css", false, serve_asset, NULL },
	};
	struct http_route rt[4];
	struct api_server *s;
	struct http_tls tls;
	int r;

	if (!!cert[0] != !!key[0]) {
		strbuf_addstr(err, "api-cert and api-key go together - set both for TLS, or neither");
		return -EINVAL;
	}
	if (!cert[0] && !is_loopback(listen)) {
		strbuf_addf(err,
			    "refusing plain HTTP on api-listen '%s' - not a loopback address; set api-cert and api-key",
			    listen);
		return -EINVAL;
	}
	s = xcalloc(1, sizeof(*s));
	s->ctx = ctx;
	strbuf_init(&s->cert, 0);
	strbuf_init(&s->key, 0);
	if (cert[0] && (read_pem(cert, "api-cert", &s->cert, err) < 0 || read_pem(key, "api-key", &s->key, err) < 0)) {
		r = -EINVAL;
		goto fail;
	}
	s->tls = !!cert[0];
	memcpy(rt, routes, sizeof(rt));
	for (size_t i = 0; i < 4; i++)
		rt[i].data = s;
	tls = (struct http_tls){ s->cert.buf, s->key.buf };
	r = http_server_start_tls(&s->http, listen, rt, 4, s->tls ? &tls : NULL, err);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	explicit_bzero(s->key.buf, s->key.len);
	strbuf_release(&s->cert);
	strbuf_release(&s->key);
	free(s);
	return r;
}

void api_stop(struct api_server *s)
{
	if (!s)
		return;
	http_server_stop(s->http);
	explicit_bzero(s->key.buf, s->key.len);
	strbuf_release(&s->cert);
	strbuf_release(&s->key);
	free(s);
}
