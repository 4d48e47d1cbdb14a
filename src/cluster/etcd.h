/* A client for etcd's v3 HTTP/JSON gateway (POST /v3/<service>/<method>).
 *
 * No C client for the v3 API exists, and etcdctl must not be run from
 * volrep, so this speaks the gateway's JSON with libcurl (loaded at the
 * first call, base/dl-curl.h) and jansson. Keys and values travel as base64; 64-bit numbers come as JSON strings; fields
 * with zero values are left out (a missing key gives no "kvs").
 *
 * Everything that comes back is hostile until parsed: the parsers below
 * (etcd_reply_parse, etcd_kvs_parse, etcd_b64_decode) check every field
 * and are what fuzz/fuzz-etcd-reply.c feeds.
 *
 *     struct etcd_client c = ETCD_CLIENT_INIT;
 *     etcd_client_init(&c, "h1:2379,h2:2379", 0, &err);
 *     json_t *reply;
 *     r = etcd_call(&c, "kv/range", req, &reply, &err);  // req is stolen
 *     ... etcd_kvs_parse(reply, &kvs, &err) ...
 *     json_decref(reply);
 *     etcd_client_release(&c);
 *
 * Errors: -ENOTCONN when no endpoint gives an answer a quorum stands behind
 * (nothing listens, no leader, 503 "unavailable", "context deadline
 * exceeded"): the cluster is not quorate from here. -ENOENT for gRPC code 5
 * (e.g. an expired lease), -EINVAL for a refused request, -EIO for anything
 * else; the message is in *err. */
#ifndef VOLREP_CLUSTER_ETCD_H
#define VOLREP_CLUSTER_ETCD_H

#include <jansson.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "base/strvec.h"

struct etcd_client {
	struct strvec endpoints; /* base URLs: http://host:port */
	size_t cur;              /* the one that answered last */
	void *curl;              /* CURL *, made on first use */
	long timeout_ms;         /* whole request; connect is bounded to 1 s */
	char *cacert, *cert, *key;
};
#define ETCD_CLIENT_INIT { .endpoints = STRVEC_INIT, .timeout_ms = 3000 }

/* hosts: "HOST:PORT[,HOST:PORT...]" (names of letters, digits, '.', '-',
 * or an [IPv6] literal). tls: use https (cacert/cert/key from the
 * VOLREP_CLUSTER_CACERT/_CERT/_KEY environment). Returns 0 or -EINVAL with
 * the bad part named in *err. */
int etcd_client_init(struct etcd_client *c, const char *hosts, int tls, struct strbuf *err);
void etcd_client_release(struct etcd_client *c);
/* The options every request to a member of c takes (curl is a CURL *):
 * a second to connect, no signals (threads use it), no proxy, http(s)
 * only and no redirects, and c's TLS files. */
void etcd_curl_options(void *curl, const struct etcd_client *c);

/* POST req (reference stolen) to /v3/<method> on the first endpoint that
 * answers, starting with the last good one. idempotent: a request that
 * may have reached an endpoint is retried on the next one only when
 * repeating it is harmless (reads, lease keepalives). */
int etcd_call(struct etcd_client *c, const char *method, json_t *req, int idempotent, json_t **reply,
	      struct strbuf *err);

/* Health of every endpoint: one line "host:port: ok (leader ..., raft term
 * T)" or "host:port: <error>" each, appended to *out. Returns how many are
 * healthy. */
size_t etcd_endpoint_health(struct etcd_client *c, struct strvec *out);

/* ---- parsers (no I/O) ---- */

/* Parse a gateway answer: body of len bytes with HTTP status. A JSON
 * object with status 200 gives 0 and *out; otherwise the error classes
 * above with the server's message. */
int etcd_reply_parse(const char *body, size_t len, long status, json_t **out, struct strbuf *err);

/* A 64-bit number as the gateway writes it: a decimal string or a JSON
 * integer; absent (NULL) is 0. Returns 0 or -EINVAL. */
int etcd_int64(const json_t *v, int64_t *out);

struct etcd_kv {
	char *key, *value; /* decoded, NUL-terminated (may hold NULs: use the lengths) */
	size_t key_len, value_len;
	int64_t create_rev, mod_rev, lease;
};

struct etcd_kvs {
	struct etcd_kv *v;
	size_t nr, alloc;
	int64_t revision; /* header.revision of the answer */
	int64_t count;    /* "count": keys in the range (more than nr with a limit) */
	int more;
};
#define ETCD_KVS_INIT { 0 }

/* The "kvs" of a range answer (or of a txn's response_range) appended to
 * *out, header.revision stored. Returns 0 or -EINVAL (*err says which
 * field is wrong). */
int etcd_kvs_parse(const json_t *reply, struct etcd_kvs *out, struct strbuf *err);
void etcd_kvs_release(struct etcd_kvs *kvs);

/* One line of a watch stream (POST /v3/watch): {"result": {...}} or
 * {"error": {...}}. Known fields must have their type (created and
 * canceled booleans, revisions 64-bit numbers, events an array of objects
 * each with a kv holding a non-empty base64 key); unknown ones are
 * ignored. */
enum etcd_event_type { ETCD_EVENT_PUT, ETCD_EVENT_DELETE };
struct etcd_event {
	enum etcd_event_type type;
	char *key; /* decoded, NUL-terminated */
	size_t key_len;
	int64_t mod_rev, create_rev;
};
struct etcd_watch_msg {
	int created, canceled;
	int64_t revision;         /* header.revision */
	int64_t compact_revision; /* canceled: history before it is gone */
	struct etcd_event *ev;
	size_t nr, alloc;
	char *cancel_reason;
};
#define ETCD_WATCH_MSG_INIT { 0 }
/* Returns 0 with *m filled, -EIO for an error object (its message in
 * *err), -EINVAL for anything malformed (*err says what). */
int etcd_watch_parse(const char *line, size_t len, struct etcd_watch_msg *m, struct strbuf *err);
void etcd_watch_msg_release(struct etcd_watch_msg *m);

/* header.revision of any answer (0 when absent). */
int etcd_header_revision(const json_t *reply, int64_t *rev);

/* Strict standard base64 (padding required, no whitespace). */
void etcd_b64_encode(const void *data, size_t len, struct strbuf *out);
int etcd_b64_decode(const char *s, size_t len, struct strbuf *out);

/* json string of base64(data) */
json_t *etcd_b64_json(const void *data, size_t len);
/* the end of a prefix range: prefix with its last byte incremented */
void etcd_prefix_end(const char *prefix, size_t len, struct strbuf *out);

#endif
