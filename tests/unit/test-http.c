/* Unit tests of the HTTP server module (src/http/server.c) through
 * libcurl on loopback: routing (exact, prefix, 404, 405), request bodies
 * and their cap (413), query arguments, bad listen addresses. */
#include "unit.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/dl-curl.h"
#include "base/strbuf.h"
#include "http/server.h"

static void hello(const struct http_request *req, struct http_response *resp, void *data)
{
	const char *who = http_request_arg(req, "who");

	strbuf_addf(&resp->body, "%s %s %s", (const char *)data, req->path, who ? who : "-");
}

static void echo_body(const struct http_request *req, struct http_response *resp, void *data)
{
	(void)data;
	resp->status = 201;
	resp->content_type = "application/json";
	strbuf_addf(&resp->body, "%zu:%s", req->body_len, req->body);
}

static size_t collect(char *p, size_t size, size_t n, void *data)
{
	strbuf_add(data, p, size * n);
	return size * n;
}

/* One request; returns the status, the body in out. */
static long request(const char *url, const char *post, size_t post_len, struct strbuf *out)
{
	CURL *h = sym_curl_easy_init();
	long status = -1;

	strbuf_reset(out);
	sym_curl_easy_setopt(h, CURLOPT_URL, url);
	sym_curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	sym_curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	sym_curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	if (post) {
		sym_curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
		sym_curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)post_len);
	}
	if (sym_curl_easy_perform(h) == CURLE_OK)
		sym_curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	sym_curl_easy_cleanup(h);
	return status;
}

/* A port that was free a moment ago. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void test_routes(void **state)
{
	static char tag[] = "hi";
	const struct http_route routes[] = {
		{ .method = "GET", .path = "/metrics", .fn = hello, .data = tag },
		{ .method = "GET", .path = "/api2/json/", .prefix = true, .fn = hello, .data = tag },
		{ .method = "POST", .path = "/api2/json/", .prefix = true, .fn = echo_body, .data = NULL },
	};
	struct http_server *srv = NULL, *second = NULL;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, url = STRBUF_INIT, listen = STRBUF_INIT;
	static char big[HTTP_BODY_MAX + 10];
	int port = free_port();

	(void)state;
	strbuf_addf(&listen, "127.0.0.1:%d", port);
	assert_int_equal(http_server_start(&srv, listen.buf, routes, 3, &err), 0);
	strbuf_addf(&url, "http://127.0.0.1:%d", port);
	size_t base = url.len;

	strbuf_addstr(&url, "/metrics?who=me");
	assert_int_equal(request(url.buf, NULL, 0, &out), 200);
	assert_string_equal(out.buf, "hi /metrics me");
	strbuf_setlen(&url, base);
	strbuf_addstr(&url, "/api2/json/cluster/replication");
	assert_int_equal(request(url.buf, NULL, 0, &out), 200);
	assert_string_equal(out.buf, "hi /api2/json/cluster/replication -");
	assert_int_equal(request(url.buf, "id=100-0&target=pve2", 20, &out), 201);
	assert_string_equal(out.buf, "20:id=100-0&target=pve2");
	memset(big, 'x', sizeof(big) - 1);
	assert_int_equal(request(url.buf, big, sizeof(big) - 1, &out), 413);
	strbuf_setlen(&url, base);
	strbuf_addstr(&url, "/metrics");
	assert_int_equal(request(url.buf, "x", 1, &out), 405);
	strbuf_setlen(&url, base);
	strbuf_addstr(&url, "/nothing");
	assert_int_equal(request(url.buf, NULL, 0, &out), 404);
	/* the port is taken */
	assert_true(http_server_start(&second, listen.buf, routes, 3, &err) < 0);
	assert_non_null(strstr(err.buf, "cannot listen on"));
	http_server_stop(srv);
	/* and free again after the stop */
	strbuf_setlen(&url, base);
	strbuf_addstr(&url, "/metrics");
	assert_int_equal(request(url.buf, NULL, 0, &out), -1);
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&url);
	strbuf_release(&listen);
}

static void test_bad_listen(void **state)
{
	const struct http_route routes[] = { { .method = "GET", .path = "/", .fn = hello, .data = NULL } };
	struct http_server *srv = NULL;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(http_server_start(&srv, "localhost:80", routes, 1, &err), -EINVAL);
	assert_string_equal(err.buf, "invalid listen address 'localhost:80' - expected ADDR:PORT");
	assert_null(srv);
	http_server_stop(NULL);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_bad_listen),
	};
	struct strbuf err = STRBUF_INIT;
	int r;

	/* the client side is libcurl, loaded as the webhooks load it */
	if (curl_dl_load(&err) < 0) {
		fprintf(stderr, "%s\n", err.buf);
		strbuf_release(&err);
		return 1;
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	sym_curl_global_cleanup();
	return r;
}
