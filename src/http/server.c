#include "http/server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/dl-mhd.h"
#include "base/strvec.h"
#include "base/xalloc.h"
#include "config/volrepcfg.h"

struct http_server {
	struct MHD_Daemon *mhd;
	struct http_route *routes;
	size_t nroutes;
};

/* Per connection: the request body as it arrives. */
struct upload {
	struct strbuf body;
	bool too_big;
};

static const struct http_route *find_route(const struct http_server *srv, const char *method, const char *path,
					   bool *path_known)
{
	*path_known = false;
	for (size_t i = 0; i < srv->nroutes; i++) {
		const struct http_route *rt = &srv->routes[i];
		bool match = rt->prefix ? !strncmp(path, rt->path, strlen(rt->path)) : !strcmp(path, rt->path);

		if (!match)
			continue;
		*path_known = true;
		if (!strcmp(rt->method, "*") || !strcmp(method, rt->method))
			return rt;
	}
	return NULL;
}

static enum MHD_Result respond_h(struct MHD_Connection *conn, int status, const char *type, const char *body,
				 size_t len, const struct strvec *headers)
{
	struct MHD_Response *resp = sym_MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	sym_MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	for (size_t i = 0; headers && i + 1 < headers->nr; i += 2)
		sym_MHD_add_response_header(resp, headers->v[i], headers->v[i + 1]);
	ret = sym_MHD_queue_response(conn, (unsigned)status, resp);
	sym_MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result respond(struct MHD_Connection *conn, int status, const char *type, const char *body,
			       size_t len)
{
	return respond_h(conn, status, type, body, len, NULL);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct upload *up = *con_cls;
	const struct http_route *rt;
	struct http_response resp;
	struct http_request req;
	bool known;
	enum MHD_Result ret;

	(void)version;
	if (!up) {
		/* first call: headers only */
		up = xcalloc(1, sizeof(*up));
		strbuf_init(&up->body, 0);
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_size) {
		if (up->body.len + *upload_size > HTTP_BODY_MAX)
			up->too_big = true;
		else
			strbuf_add(&up->body, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (up->too_big) {
		static const char msg[] = "request body too large\n";
		return respond(conn, 413, "text/plain; charset=utf-8", msg, sizeof(msg) - 1);
	}
	rt = find_route(srv, method, url, &known);
	if (!rt) {
		static const char nf[] = "not found\n", na[] = "method not allowed\n";
		return known ? respond(conn, 405, "text/plain; charset=utf-8", na, sizeof(na) - 1)
			     : respond(conn, 404, "text/plain; charset=utf-8", nf, sizeof(nf) - 1);
	}
	req = (struct http_request){ .method = method, .path = url, .body = up->body.buf, .body_len = up->body.len,
				     .conn = conn };
	resp = (struct http_response){ .status = 200, .content_type = "text/plain; charset=utf-8" };
	strbuf_init(&resp.body, 0);
	strvec_init(&resp.headers);
	rt->fn(&req, &resp, rt->data);
	ret = respond_h(conn, resp.status, resp.content_type, resp.body.buf, resp.body.len, &resp.headers);
	strbuf_release(&resp.body);
	strvec_clear(&resp.headers);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct upload *up = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (up) {
		strbuf_release(&up->body);
		free(up);
	}
	*con_cls = NULL;
}

/* libmicrohttpd's own messages are dropped: a hostile client must not
 * be able to write into the daemon's log */
static void quiet(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

int http_server_start(struct http_server **ret, const char *listen, const struct http_route *routes, size_t n,
		      struct strbuf *err)
{
	return http_server_start_tls(ret, listen, routes, n, NULL, err);
}

int http_server_start_tls(struct http_server **ret, const char *listen, const struct http_route *routes, size_t n,
			  const struct http_tls *tls, struct strbuf *err)
{
	struct sockaddr_storage ss;
	unsigned len;
	struct http_server *srv;
	int r;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	if (volrep_cfg_parse_listen(listen, &ss, &len) < 0) {
		strbuf_addf(err, "invalid listen address '%s' - expected ADDR:PORT", listen);
		return -EINVAL;
	}
	/* the first server of the process loads the library */
	r = mhd_dl_load(err);
	if (r < 0)
		return r;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv = xcalloc(1, sizeof(*srv));
	srv->routes = xcalloc(n ? n : 1, sizeof(*srv->routes));
	memcpy(srv->routes, routes, n * sizeof(*routes));
	srv->nroutes = n;
	/* the connection's memory pool bounds the request line and headers;
	 * errno is cleared as the dlopen above may have left one */
	errno = 0;
	if (tls)
		srv->mhd = sym_MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, handle, srv,
						MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
						MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONN_MAX,
						MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONN_TIMEOUT,
						MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_CONN_MAX,
						MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_HEADER_MAX,
						MHD_OPTION_HTTPS_MEM_CERT, tls->cert_pem,
						MHD_OPTION_HTTPS_MEM_KEY, tls->key_pem,
						MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
						MHD_OPTION_EXTERNAL_LOGGER, quiet, NULL, MHD_OPTION_END);
	else
		srv->mhd = sym_MHD_start_daemon(flags, 0, NULL, NULL, handle, srv,
						MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
						MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONN_MAX,
						MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONN_TIMEOUT,
						MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_HEADER_MAX,
						MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
						MHD_OPTION_EXTERNAL_LOGGER, quiet, NULL, MHD_OPTION_END);
	if (!srv->mhd) {
		int e = errno ? errno : EADDRINUSE;

		strbuf_addf(err, "cannot listen on '%s' - %s", listen, strerror(e));
		free(srv->routes);
		free(srv);
		return -e;
	}
	*ret = srv;
	return 0;
}

void http_server_stop(struct http_server *srv)
{
	if (!srv)
		return;
	sym_MHD_stop_daemon(srv->mhd);
	free(srv->routes);
	free(srv);
}

const char *http_request_arg(const struct http_request *req, const char *key)
{
	return sym_MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	return sym_MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_request_cookie(const struct http_request *req, const char *name)
{
	return sym_MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

struct each_arg {
	int (*fn)(const char *key, const char *value, void *data);
	void *data;
	int ret;
};

static enum MHD_Result each_arg_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct each_arg *ea = cls;

	(void)kind;
	ea->ret = ea->fn(key, value ? value : "", ea->data);
	return ea->ret ? MHD_NO : MHD_YES;
}

int http_request_each_arg(const struct http_request *req, int (*fn)(const char *key, const char *value, void *data),
			  void *data)
{
	struct each_arg ea = { fn, data, 0 };

	sym_MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, each_arg_cb, &ea);
	return ea.ret;
}
