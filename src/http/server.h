/* A small HTTP server for volrep's endpoints (GET /metrics; later the
 * PVE-compatible API), on libmicrohttpd with its own thread.
 *
 * Routing is a table given at start: method, path (exact, or a prefix
 * ending in '/' with .prefix set) and a handler filling a response. The
 * handler runs on the server's thread, so it must not touch state the
 * caller's thread changes without synchronisation (read files, or
 * atomics). Unknown paths are 404, a known path with another method 405.
 *
 * Everything arriving is hostile: request bodies are capped at
 * HTTP_BODY_MAX (413 beyond), connections at HTTP_CONN_MAX, and idle
 * connections time out after HTTP_CONN_TIMEOUT seconds.
 *
 *   static const struct http_route routes[] = {
 *       { "GET", "/metrics", false, serve_metrics, &d },
 *   };
 *   r = http_server_start(&srv, "127.0.0.1:9108", routes, 1, &err);
 *   ...
 *   http_server_stop(srv);
 */
#ifndef VOLREP_HTTP_SERVER_H
#define VOLREP_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/strbuf.h"
#include "base/strvec.h"

#define HTTP_BODY_MAX (64 * 1024)
#define HTTP_CONN_MAX 32
#define HTTP_CONN_TIMEOUT 15
#define HTTP_HEADER_MAX (32 * 1024) /* request line + headers, per connection */

struct http_request {
	const char *method;
	const char *path;   /* without the query */
	const char *body;   /* NUL-terminated, "" when none */
	size_t body_len;
	void *conn;         /* for http_request_arg/_header */
};

struct http_response {
	int status;                 /* default 200 */
	const char *content_type;   /* default "text/plain; charset=utf-8" */
	struct strbuf body;
	struct strvec headers;      /* extra response headers: name, value, name, value ... */
};

typedef void http_handler_fn(const struct http_request *req, struct http_response *resp, void *data);

struct http_route {
	const char *method; /* "*": every method */
	const char *path;
	bool prefix;
	http_handler_fn *fn;
	void *data;
};

struct http_server;

/* Listen on "ADDR:PORT" (config/volrepcfg.h volrep_cfg_parse_listen) and
 * serve routes (copied; the strings and data must outlive the server).
 * Returns 0 and *ret, or -errno with the message in err. */
int http_server_start(struct http_server **ret, const char *listen, const struct http_route *routes, size_t n,
		      struct strbuf *err);

/* TLS: the PEM texts of certificate and key (they must outlive the
 * server). */
struct http_tls {
	const char *cert_pem;
	const char *key_pem;
};

/* http_server_start, over TLS when tls is not NULL. */
int http_server_start_tls(struct http_server **ret, const char *listen, const struct http_route *routes, size_t n,
			  const struct http_tls *tls, struct strbuf *err);

/* Stop serving (waits for the thread) and free. NULL-tolerant. */
void http_server_stop(struct http_server *srv);

/* A query argument or a request header of req, NULL when absent. */
const char *http_request_arg(const struct http_request *req, const char *key);
const char *http_request_header(const struct http_request *req, const char *name);
const char *http_request_cookie(const struct http_request *req, const char *name);
/* Call fn for every query argument (decoded) of req, until it returns
 * non-zero; returns that value or 0. */
int http_request_each_arg(const struct http_request *req, int (*fn)(const char *key, const char *value, void *data),
			  void *data);

#endif
