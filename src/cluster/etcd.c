#include "cluster/etcd.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/dl-curl.h"
#include "base/xalloc.h"

/* A reply is JSON of a few kvs at most, but a prefix range carries every
 * cluster file: 64 MiB is far above any sane cluster and bounds memory. */
#define REPLY_MAX (64u << 20)

/* ---- base64 ---- */

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void etcd_b64_encode(const void *data, size_t len, struct strbuf *out)
{
	const unsigned char *p = data;

	strbuf_grow(out, (len + 2) / 3 * 4);
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (unsigned)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		strbuf_addch(out, b64_alphabet[(v >> 18) & 63]);
		strbuf_addch(out, b64_alphabet[(v >> 12) & 63]);
		strbuf_addch(out, n > 1 ? b64_alphabet[(v >> 6) & 63] : '=');
		strbuf_addch(out, n > 2 ? b64_alphabet[v & 63] : '=');
	}
}

static int b64_value(unsigned char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;

	return p ? (int)(p - b64_alphabet) : -1;
}

int etcd_b64_decode(const char *s, size_t len, struct strbuf *out)
{
	if (len % 4)
		return -EINVAL;
	strbuf_grow(out, len / 4 * 3);
	for (size_t i = 0; i < len; i += 4) {
		int a = b64_value((unsigned char)s[i]), b = b64_value((unsigned char)s[i + 1]);
		int last = i + 4 == len;
		int c, d;

		if (a < 0 || b < 0)
			return -EINVAL;
		if (last && s[i + 2] == '=') {
			/* "xx==": the unused bits of b must be zero */
			if (s[i + 3] != '=' || (b & 15))
				return -EINVAL;
			strbuf_addch(out, (char)((a << 2) | (b >> 4)));
			break;
		}
		c = b64_value((unsigned char)s[i + 2]);
		if (c < 0)
			return -EINVAL;
		if (last && s[i + 3] == '=') {
			if (c & 3)
				return -EINVAL;
			strbuf_addch(out, (char)((a << 2) | (b >> 4)));
			strbuf_addch(out, (char)(((b & 15) << 4) | (c >> 2)));
			break;
		}
		d = b64_value((unsigned char)s[i + 3]);
		if (d < 0)
			return -EINVAL;
		strbuf_addch(out, (char)((a << 2) | (b >> 4)));
		strbuf_addch(out, (char)(((b & 15) << 4) | (c >> 2)));
		strbuf_addch(out, (char)(((c & 3) << 6) | d));
	}
	return 0;
}

json_t *etcd_b64_json(const void *data, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *j;

	etcd_b64_encode(data, len, &sb);
	j = json_stringn(sb.buf, sb.len);
	strbuf_release(&sb);
	return j;
}

void etcd_prefix_end(const char *prefix, size_t len, struct strbuf *out)
{
	strbuf_add(out, prefix, len);
	/* prefixes here are printable ASCII, never 0xff */
	if (out->len)
		out->buf[out->len - 1]++;
}

/* ---- parsers ---- */

int etcd_int64(const json_t *v, int64_t *out)
{
	const char *s;
	char *end;
	long long n;

	*out = 0;
	if (!v)
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	if (!*s || strlen(s) != json_string_length(v) || strlen(s) > 20)
		return -EINVAL;
	for (const char *p = *s == '-' ? s + 1 : s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end || end == s)
		return -EINVAL;
	*out = n;
	return 0;
}

int etcd_header_revision(const json_t *reply, int64_t *rev)
{
	const json_t *h = json_object_get(reply, "header");

	*rev = 0;
	if (h && !json_is_object(h))
		return -EINVAL;
	return etcd_int64(h ? json_object_get(h, "revision") : NULL, rev);
}

static int b64_field(const json_t *kv, const char *name, char **out, size_t *len, struct strbuf *err)
{
	const json_t *v = json_object_get(kv, name);
	struct strbuf sb = STRBUF_INIT;

	if (!v) {
		*out = xstrdup("");
		*len = 0;
		return 0;
	}
	if (!json_is_string(v) || etcd_b64_decode(json_string_value(v), json_string_length(v), &sb) < 0) {
		strbuf_addf(err, "etcd answer: kvs entry with an invalid '%s' (base64 string expected)", name);
		strbuf_release(&sb);
		return -EINVAL;
	}
	*len = sb.len;
	*out = strbuf_detach(&sb, NULL);
	return 0;
}

static void kv_release(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
}

int etcd_kvs_parse(const json_t *reply, struct etcd_kvs *out, struct strbuf *err)
{
	const json_t *kvs, *kv;
	size_t i;

	if (!json_is_object(reply)) {
		strbuf_addstr(err, "etcd answer: not a JSON object");
		return -EINVAL;
	}
	if (etcd_header_revision(reply, &out->revision) < 0) {
		strbuf_addstr(err, "etcd answer: invalid header revision");
		return -EINVAL;
	}
	out->more = json_is_true(json_object_get(reply, "more"));
	if (etcd_int64(json_object_get(reply, "count"), &out->count) < 0 || out->count < 0) {
		strbuf_addstr(err, "etcd answer: invalid count");
		return -EINVAL;
	}
	kvs = json_object_get(reply, "kvs");
	if (!kvs)
		return 0;
	if (!json_is_array(kvs)) {
		strbuf_addstr(err, "etcd answer: 'kvs' is not an array");
		return -EINVAL;
	}
	json_array_foreach(kvs, i, kv) {
		struct etcd_kv e = { 0 };

		if (!json_is_object(kv)) {
			strbuf_addstr(err, "etcd answer: kvs entry is not an object");
			return -EINVAL;
		}
		if (b64_field(kv, "key", &e.key, &e.key_len, err) < 0)
			return -EINVAL;
		if (b64_field(kv, "value", &e.value, &e.value_len, err) < 0) {
			kv_release(&e);
			return -EINVAL;
		}
		if (etcd_int64(json_object_get(kv, "create_revision"), &e.create_rev) < 0 ||
		    etcd_int64(json_object_get(kv, "mod_revision"), &e.mod_rev) < 0 ||
		    etcd_int64(json_object_get(kv, "lease"), &e.lease) < 0 || e.mod_rev < 0 || e.create_rev < 0 ||
		    !e.key_len) {
			strbuf_addstr(err, "etcd answer: kvs entry with an invalid key or revision");
			kv_release(&e);
			return -EINVAL;
		}
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr++] = e;
	}
	return 0;
}

void etcd_kvs_release(struct etcd_kvs *kvs)
{
	for (size_t i = 0; i < kvs->nr; i++)
		kv_release(&kvs->v[i]);
	free(kvs->v);
	memset(kvs, 0, sizeof(*kvs));
}

/* The server's own words, made printable and bounded. */
static void add_message(struct strbuf *err, const char *s)
{
	size_t n = 0;

	for (; *s && n < 200; s++, n++)
		strbuf_addch(err, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static int unavailable_message(const char *m)
{
	static const char *const words[] = { "deadline exceeded", "timed out", "no leader", "unavailable",
					     "leader changed", "not capable", NULL };

	for (int i = 0; words[i]; i++)
		if (strstr(m, words[i]))
			return 1;
	return 0;
}

int etcd_reply_parse(const char *body, size_t len, long status, json_t **out, struct strbuf *err)
{
	json_error_t je;
	json_t *j;
	const char *msg = "";
	int64_t code = 0;

	*out = NULL;
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (status == 200) {
		if (!json_is_object(j)) {
			strbuf_addstr(err, "etcd answer is not a JSON object");
			json_decref(j);
			return -EIO;
		}
		*out = j;
		return 0;
	}
	if (json_is_object(j)) {
		const json_t *m = json_object_get(j, "message");

		if (!json_is_string(m))
			m = json_object_get(j, "error");
		if (json_is_string(m))
			msg = json_string_value(m);
		if (etcd_int64(json_object_get(j, "code"), &code) < 0)
			code = 0;
	}
	strbuf_addf(err, "HTTP %ld", status);
	if (*msg) {
		strbuf_addstr(err, " ");
		add_message(err, msg);
	}
	int r;
	if (status == 503 || code == 14 || code == 4 || unavailable_message(msg))
		r = -ENOTCONN;
	else if (code == 5 || status == 404)
		r = -ENOENT;
	else if (status == 400 || code == 3)
		r = -EINVAL;
	else
		r = -EIO;
	json_decref(j);
	return r;
}

/* ---- transport ---- */

static int valid_host_port(const char *s)
{
	const char *colon;
	size_t n;

	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return 0;
		for (const char *p = s + 1; p < rb; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return 0;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s)
			return 0;
		for (const char *p = s; p < colon; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
				return 0;
	}
	n = strlen(colon + 1);
	if (n < 1 || n > 5)
		return 0;
	for (const char *p = colon + 1; *p; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	return atoi(colon + 1) > 0 && atoi(colon + 1) < 65536;
}

int etcd_client_init(struct etcd_client *c, const char *hosts, int tls, struct strbuf *err)
{
	struct strvec parts = STRVEC_INIT;
	const char *v;

	strvec_split(&parts, hosts, ',');
	if (!*hosts || *hosts == ',' || hosts[strlen(hosts) - 1] == ',' || strstr(hosts, ",,")) {
		strbuf_addstr(err, "empty etcd endpoint in the list");
		strvec_clear(&parts);
		return -EINVAL;
	}
	if (!parts.nr) {
		strbuf_addstr(err, "no etcd endpoint given");
		strvec_clear(&parts);
		return -EINVAL;
	}
	for (size_t i = 0; i < parts.nr; i++) {
		if (!valid_host_port(parts.v[i])) {
			strbuf_addf(err, "invalid etcd endpoint '%s' (HOST:PORT expected)", parts.v[i]);
			strvec_clear(&parts);
			return -EINVAL;
		}
		strvec_pushf(&c->endpoints, "%s://%s", tls ? "https" : "http", parts.v[i]);
	}
	strvec_clear(&parts);
	if ((v = getenv("VOLREP_CLUSTER_CACERT")) && *v)
		c->cacert = xstrdup(v);
	if ((v = getenv("VOLREP_CLUSTER_CERT")) && *v)
		c->cert = xstrdup(v);
	if ((v = getenv("VOLREP_CLUSTER_KEY")) && *v)
		c->key = xstrdup(v);
	return 0;
}

void etcd_client_release(struct etcd_client *c)
{
	if (c->curl)
		sym_curl_easy_cleanup(c->curl);
	strvec_clear(&c->endpoints);
	free(c->cacert);
	free(c->cert);
	free(c->key);
	memset(c, 0, sizeof(*c));
}

struct body {
	struct strbuf sb;
	int too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *data)
{
	struct body *b = data;

	if (b->sb.len + n > REPLY_MAX) {
		b->too_big = 1;
		return 0;
	}
	strbuf_add(&b->sb, p, size * n);
	return size * n;
}

void etcd_curl_options(void *curl, const struct etcd_client *c)
{
	CURL *h = curl;

	sym_curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	sym_curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	sym_curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	sym_curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	sym_curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (c->cacert)
		sym_curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	if (c->cert)
		sym_curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
	if (c->key)
		sym_curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
}

/* A pre-send failure: nothing reached the server, any request may be retried. */
static int not_sent(CURLcode cc)
{
	return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_SSL_CONNECT_ERROR;
}

static int post_one(struct etcd_client *c, const char *url, const char *payload, long *status, struct body *b,
		    CURLcode *cc)
{
	CURL *h;
	struct curl_slist *hdr = NULL;

	if (!c->curl) {
		c->curl = sym_curl_easy_init();
		if (!c->curl)
			return -ENOMEM;
	}
	h = c->curl;
	sym_curl_easy_reset(h);
	hdr = sym_curl_slist_append(hdr, "Content-Type: application/json");
	sym_curl_easy_setopt(h, CURLOPT_URL, url);
	sym_curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	sym_curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
	sym_curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	sym_curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	sym_curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	etcd_curl_options(h, c);
	*cc = sym_curl_easy_perform(h);
	sym_curl_slist_free_all(hdr);
	if (*cc != CURLE_OK)
		return -EIO;
	sym_curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

static const char *endpoint_name(const char *url)
{
	const char *p = strstr(url, "://");
	return p ? p + 3 : url;
}

/* What a transport error most likely means with TLS in the way: said
 * next to curl's words, which name the symptom, not the setting. */
static const char *tls_hint(const struct etcd_client *c, const char *url, CURLcode cc)
{
	int https = !strncmp(url, "https://", 8);

	if (https && (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE))
		return " (the member's certificate is not signed by the CA of VOLREP_CLUSTER_CACERT)";
	if (https && (cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_CIPHER))
		return " (check VOLREP_CLUSTER_CERT and VOLREP_CLUSTER_KEY)";
	if (https && !c->cert && (cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR || cc == CURLE_HTTP2 ||
				    cc == CURLE_SSL_CONNECT_ERROR))
		return " (no client certificate given: VOLREP_CLUSTER_CERT, VOLREP_CLUSTER_KEY)";
	if (!https && cc == CURLE_GOT_NOTHING)
		return " (a member serving https? then etcds://)";
	return "";
}

int etcd_call(struct etcd_client *c, const char *method, json_t *req, int idempotent, json_t **reply,
	      struct strbuf *err)
{
	struct strbuf url = STRBUF_INIT, errs = STRBUF_INIT;
	char *payload = json_dumps(req, JSON_COMPACT);
	int r = -ENOTCONN;

	json_decref(req);
	*reply = NULL;
	if (!payload) {
		strbuf_addstr(err, "cannot encode an etcd request");
		return -ENOMEM;
	}
	/* the first call of the process loads libcurl */
	if (curl_dl_load(err) < 0) {
		free(payload);
		return -EIO;
	}
	for (size_t k = 0; k < c->endpoints.nr; k++) {
		size_t i = (c->cur + k) % c->endpoints.nr;
		struct body b = { .sb = STRBUF_INIT };
		long status = 0;
		CURLcode cc = CURLE_OK;
		struct strbuf e = STRBUF_INIT;

		strbuf_reset(&url);
		strbuf_addf(&url, "%s/v3/%s", c->endpoints.v[i], method);
		r = post_one(c, url.buf, payload, &status, &b, &cc);
		if (r == -ENOMEM) {
			strbuf_release(&b.sb);
			strbuf_addstr(&errs, "out of memory");
			break;
		}
		if (r < 0) {
			strbuf_addf(&errs, "%s%s: %s%s", errs.len ? "; " : "", endpoint_name(c->endpoints.v[i]),
				    b.too_big ? "answer too large" : sym_curl_easy_strerror(cc),
				    b.too_big ? "" : tls_hint(c, c->endpoints.v[i], cc));
			strbuf_release(&b.sb);
			r = b.too_big ? -EIO : -ENOTCONN;
			if (b.too_big || (!idempotent && !not_sent(cc)))
				break;
			continue;
		}
		r = etcd_reply_parse(b.sb.buf, b.sb.len, status, reply, &e);
		strbuf_release(&b.sb);
		if (r == 0) {
			c->cur = i;
			strbuf_release(&e);
			break;
		}
		strbuf_addf(&errs, "%s%s: %s", errs.len ? "; " : "", endpoint_name(c->endpoints.v[i]), e.buf);
		strbuf_release(&e);
		/* another member may be on the majority side */
		if (r != -ENOTCONN || (!idempotent && status != 503))
			break;
	}
	if (r < 0)
		strbuf_add(err, errs.buf, errs.len);
	free(payload);
	strbuf_release(&url);
	strbuf_release(&errs);
	return r;
}

size_t etcd_endpoint_health(struct etcd_client *c, struct strvec *out)
{
	size_t ok = 0;

	for (size_t i = 0; i < c->endpoints.nr; i++) {
		struct etcd_client one = ETCD_CLIENT_INIT;
		struct strbuf err = STRBUF_INIT;
		json_t *reply = NULL, *req = json_object();
		const char *name = endpoint_name(c->endpoints.v[i]);
		int r;

		strvec_push(&one.endpoints, c->endpoints.v[i]);
		one.timeout_ms = 2000;
		one.cacert = c->cacert ? xstrdup(c->cacert) : NULL;
		one.cert = c->cert ? xstrdup(c->cert) : NULL;
		one.key = c->key ? xstrdup(c->key) : NULL;
		/* a linearizable read answers only with a quorum behind the member */
		json_object_set_new(req, "key", etcd_b64_json("health", 6));
		r = etcd_call(&one, "kv/range", req, 1, &reply, &err);
		if (r == 0) {
			json_t *st = NULL;
			struct strbuf e2 = STRBUF_INIT;
			int64_t leader = 0, term = 0, member = 0;

			if (etcd_call(&one, "maintenance/status", json_object(), 1, &st, &e2) == 0) {
				etcd_int64(json_object_get(st, "leader"), &leader);
				etcd_int64(json_object_get(json_object_get(st, "header"), "member_id"), &member);
				etcd_int64(json_object_get(json_object_get(st, "header"), "raft_term"), &term);
			}
			strvec_pushf(out, "%s: ok (%s, raft term %" PRId64 ")", name,
				     leader && leader == member ? "leader" : "follower", term);
			json_decref(st);
			strbuf_release(&e2);
			ok++;
		} else {
			strvec_push(out, err.buf); /* names the endpoint */
		}
		json_decref(reply);
		strbuf_release(&err);
		etcd_client_release(&one);
	}
	return ok;
}

/* ---- watch stream ---- */

void etcd_watch_msg_release(struct etcd_watch_msg *m)
{
	for (size_t i = 0; i < m->nr; i++)
		free(m->ev[i].key);
	free(m->ev);
	free(m->cancel_reason);
	memset(m, 0, sizeof(*m));
}

static int opt_bool(const json_t *o, const char *name, int *out)
{
	const json_t *v = json_object_get(o, name);

	*out = 0;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return -EINVAL;
	*out = json_is_true(v);
	return 0;
}

static int watch_event(const json_t *ev, struct etcd_event *out, struct strbuf *err)
{
	const json_t *type, *kv, *prev;
	struct strbuf key = STRBUF_INIT;
	const json_t *k;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(ev)) {
		strbuf_addstr(err, "etcd watch: event is not an object");
		return -EINVAL;
	}
	type = json_object_get(ev, "type");
	if (type && (!json_is_string(type) ||
		     (strcmp(json_string_value(type), "PUT") && strcmp(json_string_value(type), "DELETE")))) {
		strbuf_addstr(err, "etcd watch: event with an invalid 'type' (PUT or DELETE expected)");
		return -EINVAL;
	}
	kv = json_object_get(ev, "kv");
	prev = json_object_get(ev, "prev_kv");
	if (!json_is_object(kv) || (prev && !json_is_object(prev))) {
		strbuf_addstr(err, "etcd watch: event without a kv object");
		return -EINVAL;
	}
	k = json_object_get(kv, "key");
	if (!json_is_string(k) || !json_string_length(k) ||
	    etcd_b64_decode(json_string_value(k), json_string_length(k), &key) < 0 || !key.len ||
	    memchr(key.buf, '\0', key.len)) {
		strbuf_addstr(err, "etcd watch: event with an invalid key (non-empty base64 string expected)");
		strbuf_release(&key);
		return -EINVAL;
	}
	if (etcd_int64(json_object_get(kv, "mod_revision"), &out->mod_rev) < 0 || out->mod_rev < 0 ||
	    etcd_int64(json_object_get(kv, "create_revision"), &out->create_rev) < 0 || out->create_rev < 0) {
		strbuf_addstr(err, "etcd watch: event with an invalid revision");
		strbuf_release(&key);
		return -EINVAL;
	}
	out->type = type && !strcmp(json_string_value(type), "DELETE") ? ETCD_EVENT_DELETE : ETCD_EVENT_PUT;
	out->key_len = key.len;
	out->key = strbuf_detach(&key, NULL);
	return 0;
}

static int watch_error(const json_t *e, struct strbuf *err)
{
	const json_t *m = json_is_object(e) ? json_object_get(e, "message") : e;

	strbuf_addstr(err, "etcd watch: ");
	if (json_is_string(m))
		add_message(err, json_string_value(m));
	else
		strbuf_addstr(err, "error without a message");
	return -EIO;
}

int etcd_watch_parse(const char *line, size_t len, struct etcd_watch_msg *m, struct strbuf *err)
{
	json_error_t je;
	json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	const json_t *res, *h, *evs, *ev, *reason;
	size_t i;
	int r = -EINVAL;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(j)) {
		strbuf_addstr(err, "etcd watch: answer is not a JSON object");
		goto out;
	}
	res = json_object_get(j, "result");
	if (!res) {
		if (json_object_get(j, "error"))
			r = watch_error(json_object_get(j, "error"), err);
		else
			strbuf_addstr(err, "etcd watch: answer without 'result'");
		goto out;
	}
	h = json_object_get(res, "header");
	if (!json_is_object(res) || (h && !json_is_object(h))) {
		strbuf_addstr(err, "etcd watch: 'result' or its header is not an object");
		goto out;
	}
	if (etcd_int64(h ? json_object_get(h, "revision") : NULL, &m->revision) < 0 || m->revision < 0 ||
	    etcd_int64(json_object_get(res, "compact_revision"), &m->compact_revision) < 0 ||
	    m->compact_revision < 0) {
		strbuf_addstr(err, "etcd watch: invalid revision");
		goto out;
	}
	if (opt_bool(res, "created", &m->created) < 0 || opt_bool(res, "canceled", &m->canceled) < 0) {
		strbuf_addstr(err, "etcd watch: 'created' or 'canceled' is not a boolean");
		goto out;
	}
	reason = json_object_get(res, "cancel_reason");
	if (reason && !json_is_string(reason)) {
		strbuf_addstr(err, "etcd watch: 'cancel_reason' is not a string");
		goto out;
	}
	if (reason) {
		struct strbuf sb = STRBUF_INIT;
		add_message(&sb, json_string_value(reason));
		m->cancel_reason = strbuf_detach(&sb, NULL);
	}
	evs = json_object_get(res, "events");
	if (evs && !json_is_array(evs)) {
		strbuf_addstr(err, "etcd watch: 'events' is not an array");
		goto out;
	}
	json_array_foreach(evs, i, ev) {
		ALLOC_GROW(m->ev, m->nr + 1, m->alloc);
		if (watch_event(ev, &m->ev[m->nr], err) < 0)
			goto out;
		m->nr++;
	}
	r = 0;
out:
	if (r < 0)
		etcd_watch_msg_release(m);
	json_decref(j);
	return r;
}
