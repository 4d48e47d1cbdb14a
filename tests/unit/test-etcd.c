/* The etcd gateway client's parsers: base64, 64-bit numbers as strings,
 * error classes of replies, kvs, and the store's name and URL checks. */
#include "unit.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "cluster/etcd.h"
#include "cluster/store.h"

static void b64_roundtrip(const char *plain, const char *enc)
{
	struct strbuf sb = STRBUF_INIT;

	etcd_b64_encode(plain, strlen(plain), &sb);
	assert_string_equal(sb.buf, enc);
	strbuf_reset(&sb);
	assert_int_equal(etcd_b64_decode(enc, strlen(enc), &sb), 0);
	assert_int_equal(sb.len, strlen(plain));
	assert_memory_equal(sb.buf, plain, sb.len);
	strbuf_release(&sb);
}

static void test_b64_vectors(void **state)
{
	(void)state;
	/* RFC 4648 section 10 */
	b64_roundtrip("", "");
	b64_roundtrip("f", "Zg==");
	b64_roundtrip("fo", "Zm8=");
	b64_roundtrip("foo", "Zm9v");
	b64_roundtrip("foob", "Zm9vYg==");
	b64_roundtrip("fooba", "Zm9vYmE=");
	b64_roundtrip("foobar", "Zm9vYmFy");
	b64_roundtrip("/volrep/nodes.cfg", "L3ZvbHJlcC9ub2Rlcy5jZmc=");
}

static void test_b64_rejects(void **state)
{
	static const char *const bad[] = { "Zg", "Zg=", "Zm9v YmFy", "Zm9vYmF", "Zh==", "Zm9=", "Z===", "====",
					   "Zm9v\nYmFy", "Zm9vYg==Zm9v", "Zm-v", "Zm_v", NULL };
	(void)state;
	for (int i = 0; bad[i]; i++) {
		struct strbuf sb = STRBUF_INIT;

		assert_int_equal(etcd_b64_decode(bad[i], strlen(bad[i]), &sb), -EINVAL);
		strbuf_release(&sb);
	}
	/* embedded NUL */
	struct strbuf sb = STRBUF_INIT;
	assert_int_equal(etcd_b64_decode("Zm\0v", 4, &sb), -EINVAL);
	strbuf_release(&sb);
}

static void test_int64(void **state)
{
	int64_t v;
	json_t *j;

	(void)state;
	assert_int_equal(etcd_int64(NULL, &v), 0);
	assert_int_equal(v, 0);
	j = json_string("9223372036854775807");
	assert_int_equal(etcd_int64(j, &v), 0);
	assert_true(v == INT64_MAX);
	json_decref(j);
	j = json_integer(42);
	assert_int_equal(etcd_int64(j, &v), 0);
	assert_int_equal(v, 42);
	json_decref(j);
	static const char *const bad[] = { "", "12a", " 1", "1 ", "0x10", "99999999999999999999", "+1", "--1", NULL };
	for (int i = 0; bad[i]; i++) {
		j = json_string(bad[i]);
		assert_int_equal(etcd_int64(j, &v), -EINVAL);
		json_decref(j);
	}
	j = json_true();
	assert_int_equal(etcd_int64(j, &v), -EINVAL);
	json_decref(j);
}

static int parse(const char *body, long status, json_t **out, struct strbuf *err)
{
	strbuf_reset(err);
	return etcd_reply_parse(body, strlen(body), status, out, err);
}

static void test_reply_classes(void **state)
{
	struct strbuf err = STRBUF_INIT;
	json_t *j = NULL;

	(void)state;
	assert_int_equal(parse("{\"header\":{\"revision\":\"7\"}}", 200, &j, &err), 0);
	assert_non_null(j);
	json_decref(j);
	assert_int_equal(parse("[1]", 200, &j, &err), -EIO);
	assert_null(j);
	assert_int_equal(parse("not json", 200, &j, &err), -EIO);
	assert_int_equal(parse("{\"error\":\"etcdserver: request timed out\",\"code\":14}", 503, &j, &err), -ENOTCONN);
	assert_non_null(strstr(err.buf, "HTTP 503 etcdserver: request timed out"));
	assert_int_equal(parse("{\"error\":\"context deadline exceeded\",\"code\":2}", 500, &j, &err), -ENOTCONN);
	assert_int_equal(parse("{\"error\":\"etcdserver: requested lease not found\",\"code\":5}", 404, &j, &err),
			 -ENOENT);
	assert_int_equal(parse("{\"error\":\"illegal base64 data\",\"code\":3}", 400, &j, &err), -EINVAL);
	assert_int_equal(parse("", 502, &j, &err), -EIO);
	assert_string_equal(err.buf, "HTTP 502");
	/* the server's words are made printable */
	assert_int_equal(parse("{\"message\":\"a\\u001b[31mb\"}", 500, &j, &err), -EIO);
	assert_null(strchr(err.buf, 0x1b));
	strbuf_release(&err);
}

static void test_kvs(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct etcd_kvs kvs = ETCD_KVS_INIT;
	json_t *j = NULL;

	(void)state;
	assert_int_equal(parse("{\"header\":{\"revision\":\"12\"},\"kvs\":[{\"key\":\"L3YvYQ==\",\"value\":\"aGk=\","
			       "\"mod_revision\":\"11\",\"create_revision\":\"3\"},{\"key\":\"L3YvYg==\"}],\"count\":\"2\"}",
			       200, &j, &err), 0);
	assert_int_equal(etcd_kvs_parse(j, &kvs, &err), 0);
	json_decref(j);
	assert_int_equal(kvs.revision, 12);
	assert_int_equal(kvs.nr, 2);
	assert_string_equal(kvs.v[0].key, "/v/a");
	assert_string_equal(kvs.v[0].value, "hi");
	assert_int_equal(kvs.v[0].mod_rev, 11);
	assert_int_equal(kvs.v[0].create_rev, 3);
	/* zero values are left out by the gateway: an empty value */
	assert_string_equal(kvs.v[1].key, "/v/b");
	assert_int_equal(kvs.v[1].value_len, 0);
	etcd_kvs_release(&kvs);

	/* no kvs: a missing key */
	j = json_loads("{\"header\":{\"revision\":\"5\"}}", 0, NULL);
	assert_int_equal(etcd_kvs_parse(j, &kvs, &err), 0);
	assert_int_equal(kvs.nr, 0);
	json_decref(j);
	etcd_kvs_release(&kvs);

	static const char *const bad[] = {
		"{\"kvs\":{}}",
		"{\"kvs\":[1]}",
		"{\"kvs\":[{\"key\":\"!!!!\"}]}",
		"{\"kvs\":[{\"key\":\"YQ==\",\"value\":5}]}",
		"{\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":\"x\"}]}",
		"{\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":\"-3\"}]}",
		"{\"kvs\":[{\"value\":\"YQ==\"}]}",
		"{\"header\":[],\"kvs\":[]}",
		"{\"header\":{\"revision\":{}}}",
		NULL,
	};
	for (int i = 0; bad[i]; i++) {
		j = json_loads(bad[i], 0, NULL);
		assert_non_null(j);
		strbuf_reset(&err);
		assert_int_equal(etcd_kvs_parse(j, &kvs, &err), -EINVAL);
		assert_true(err.len > 0);
		json_decref(j);
		etcd_kvs_release(&kvs);
	}
	strbuf_release(&err);
}

static void test_prefix_end(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	etcd_prefix_end("/volrep/", 8, &sb);
	assert_string_equal(sb.buf, "/volrep0");
	strbuf_release(&sb);
}

static void test_names_and_urls(void **state)
{
	static const char *const good[] = { "nodes.cfg", "nodes/a/qemu-server/100.conf", "a-b_c.d", NULL };
	static const char *const bad[] = { "", ".locks/x", "nodes/../x", "nodes//x", "nodes/", "/abs", "a/.b",
					   "a b", "a\\b", NULL };
	static const char *const bad_urls[] = { "http://h:1", "etcd://", "etcd://h", "etcd://,h:1", "etcd://h:1,,h:2", "etcd://h:0", "etcd://h:99999",
						"etcd://h:1,", "etcd://h;x:1", "etcd://h:1/../x", "etcd://h:1/a b",
						"etcd://h:1/.x", NULL };
	struct store *st = NULL;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	for (int i = 0; good[i]; i++)
		assert_true(store_valid_name(good[i]));
	for (int i = 0; bad[i]; i++)
		assert_false(store_valid_name(bad[i]));
	for (int i = 0; bad_urls[i]; i++) {
		strbuf_reset(&err);
		assert_int_equal(store_open_url(bad_urls[i], "/nonexistent", &st, &err), -EINVAL);
		assert_non_null(strstr(err.buf, "invalid cluster URL"));
	}
	assert_int_equal(store_open_url("etcd://127.0.0.1:1,[::1]:2/pfx/sub/", "/nonexistent", &st, &err), 0);
	assert_string_equal(st->where, "etcd://127.0.0.1:1,[::1]:2/pfx/sub/");
	assert_int_equal(st->kind, STORE_ETCD);
	/* nothing listens there: no quorum, said as such */
	strbuf_reset(&err);
	assert_int_equal(store_require_quorum(st, &err), -ENOTCONN);
	assert_non_null(strstr(err.buf, "cluster not quorate: 127.0.0.1:1: "));
	store_free(st);
	assert_int_equal(store_open_url("etcd://h:2379", "/x", &st, &err), 0);
	assert_string_equal(st->where, "etcd://h:2379/volrep/");
	store_free(st);
	strbuf_release(&err);
}

static void test_watch_parse(void **state)
{
	struct etcd_watch_msg m;
	struct strbuf err = STRBUF_INIT;
	static const char created[] = "{\"result\":{\"header\":{\"cluster_id\":\"7\",\"revision\":\"12\"},"
				      "\"created\":true}}";
	/* a PUT (no type) and a DELETE of /v/a */
	static const char events[] =
		"{\"result\":{\"header\":{\"revision\":\"14\"},\"events\":["
		"{\"kv\":{\"key\":\"L3YvYQ==\",\"create_revision\":\"13\",\"mod_revision\":\"13\",\"value\":\"eA==\"}},"
		"{\"type\":\"DELETE\",\"kv\":{\"key\":\"L3YvYQ==\",\"mod_revision\":\"14\"}}]}}";
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"{\"result\":[]}",
		"{\"result\":{\"created\":\"yes\"}}",
		"{\"result\":{\"header\":{\"revision\":\"x\"}}}",
		"{\"result\":{\"events\":{}}}",
		"{\"result\":{\"events\":[1]}}",
		"{\"result\":{\"events\":[{\"kv\":{}}]}}",
		"{\"result\":{\"events\":[{\"kv\":{\"key\":\"@@@@\"}}]}}",
		"{\"result\":{\"events\":[{\"type\":\"MOVE\",\"kv\":{\"key\":\"L3YvYQ==\"}}]}}",
		"{\"result\":{\"events\":[{\"kv\":{\"key\":\"L3YvYQ==\",\"mod_revision\":\"-1\"}}]}}",
		"{\"result\":{\"events\":[{\"kv\":{\"key\":\"AA==\"}}]}}",
		"{\"result\":{},\"result\":{}}",
		NULL,
	};

	(void)state;
	assert_int_equal(etcd_watch_parse(created, strlen(created), &m, &err), 0);
	assert_true(m.created);
	assert_false(m.canceled);
	assert_int_equal(m.revision, 12);
	assert_int_equal(m.nr, 0);
	etcd_watch_msg_release(&m);
	assert_int_equal(etcd_watch_parse(events, strlen(events), &m, &err), 0);
	assert_int_equal(m.nr, 2);
	assert_int_equal(m.ev[0].type, ETCD_EVENT_PUT);
	assert_string_equal(m.ev[0].key, "/v/a");
	assert_int_equal(m.ev[0].mod_rev, 13);
	assert_int_equal(m.ev[1].type, ETCD_EVENT_DELETE);
	assert_int_equal(m.ev[1].mod_rev, 14);
	assert_int_equal(m.revision, 14);
	etcd_watch_msg_release(&m);
	static const char canceled[] = "{\"result\":{\"canceled\":true,\"compact_revision\":\"3\"}}";
	assert_int_equal(etcd_watch_parse(canceled, strlen(canceled), &m, &err), 0);
	assert_true(m.canceled);
	assert_int_equal(m.compact_revision, 3);
	etcd_watch_msg_release(&m);
	static const char error[] = "{\"error\":{\"grpc_code\":14,\"message\":\"etcdserver: no leader\"}}";
	assert_int_equal(etcd_watch_parse(error, strlen(error), &m, &err), -EIO);
	assert_non_null(strstr(err.buf, "no leader"));
	for (int i = 0; bad[i]; i++) {
		strbuf_reset(&err);
		assert_int_equal(etcd_watch_parse(bad[i], strlen(bad[i]), &m, &err), -EINVAL);
		assert_true(err.len > 0);
		assert_null(m.ev);
	}
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_vectors),  cmocka_unit_test(test_b64_rejects),
		cmocka_unit_test(test_int64),        cmocka_unit_test(test_reply_classes),
		cmocka_unit_test(test_kvs),          cmocka_unit_test(test_prefix_end),
		cmocka_unit_test(test_names_and_urls), cmocka_unit_test(test_watch_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
