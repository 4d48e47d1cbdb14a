/* src/api: the router, the parameter parser, token hashing, tickets and
 * CSRF tokens. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/router.h"

static void test_routes(void **state)
{
	struct api_match m;

	(void)state;
	assert_int_equal(api_route_match("/cluster/replication", &m), 0);
	assert_int_equal(m.route, API_REPL);
	assert_int_equal(api_route_match("/cluster/replication/", &m), 0);
	assert_int_equal(m.route, API_REPL);
	assert_int_equal(api_route_match("/cluster/replication/100-0", &m), 0);
	assert_int_equal(m.route, API_REPL_ID);
	assert_string_equal(m.id, "100-0");
	assert_int_equal(api_route_match("/nodes/pve1/replication/100-0/schedule_now", &m), 0);
	assert_int_equal(m.route, API_NODE_REPL_SCHED);
	assert_string_equal(m.node, "pve1");
	assert_string_equal(m.id, "100-0");
	assert_int_equal(api_route_match("/nodes/pve1/replication/100-0/log", &m), 0);
	assert_int_equal(m.route, API_NODE_REPL_LOG);
	assert_int_equal(api_route_match("/nodes/pve1/replication/100-0/status", &m), 0);
	assert_int_equal(m.route, API_NODE_REPL_STATUS);
	assert_int_equal(api_route_match("/nodes/pve1/replication/100-0", &m), 0);
	assert_int_equal(m.route, API_NODE_REPL_ID);
	assert_int_equal(api_route_match("/nodes/pve1/replication", &m), 0);
	assert_int_equal(m.route, API_NODE_REPL);
	assert_int_equal(api_route_match("/nodes", &m), 0);
	assert_int_equal(m.route, API_NODES);
	assert_int_equal(api_route_match("/version", &m), 0);
	assert_int_equal(m.route, API_VERSION);
	assert_int_equal(api_route_match("/access/ticket", &m), 0);
	assert_int_equal(m.route, API_TICKET);
	/* no match: traversal, empty segments, odd bytes, unknown leaves, too long */
	assert_int_equal(api_route_match("/nodes/../replication", &m), -ENOENT);
	assert_int_equal(m.route, API_NONE);
	assert_int_equal(api_route_match("/nodes/./replication", &m), -ENOENT);
	assert_int_equal(api_route_match("/cluster//replication", &m), -ENOENT);
	assert_int_equal(api_route_match("/cluster/replication//", &m), -ENOENT);
	assert_int_equal(api_route_match("/nodes/pve%2f1/replication", &m), -ENOENT);
	assert_int_equal(api_route_match("/nodes/pve1/replication/100-0/other", &m), -ENOENT);
	assert_int_equal(api_route_match("cluster/replication", &m), -ENOENT);
	assert_int_equal(api_route_match("", &m), -ENOENT);
	assert_int_equal(api_route_match("/", &m), -ENOENT);
	char longp[200] = "/nodes/";
	memset(longp + 7, 'a', 65);
	assert_int_equal(api_route_match(longp, &m), -ENOENT);
	/* methods */
	assert_true(api_route_allows(API_REPL, "POST"));
	assert_true(api_route_allows(API_REPL, "GET"));
	assert_false(api_route_allows(API_REPL, "PUT"));
	assert_true(api_route_allows(API_REPL_ID, "DELETE"));
	assert_false(api_route_allows(API_REPL_ID, "DEL"));
	assert_false(api_route_allows(API_NODE_REPL_SCHED, "GET"));
	assert_false(api_route_allows(API_NODE_REPL_STATUS, "POST"));
}

static void test_form(void **state)
{
	struct api_params p = { 0 };
	struct strbuf err = STRBUF_INIT;

	(void)state;
	const char *f = "id=100-0&schedule=*%2F5&comment=db%3A+nightly&disable";
	assert_int_equal(api_form_parse(&p, f, strlen(f), &err), 0);
	assert_int_equal(p.nr, 4);
	assert_string_equal(api_params_get(&p, "schedule"), "*/5");
	assert_string_equal(api_params_get(&p, "comment"), "db: nightly");
	assert_string_equal(api_params_get(&p, "disable"), "");
	assert_null(api_params_get(&p, "rate"));
	api_params_release(&p);
	/* empty pairs are skipped */
	assert_int_equal(api_form_parse(&p, "&&a=1&&", 7, &err), 0);
	assert_int_equal(p.nr, 1);
	api_params_release(&p);
	/* bad escapes, NUL, duplicates, bad names */
	assert_int_equal(api_form_parse(&p, "a=%zz", 5, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "invalid form encoding"));
	api_params_release(&p);
	assert_int_equal(api_form_parse(&p, "a=%4", 4, &err), -EINVAL);
	api_params_release(&p);
	assert_int_equal(api_form_parse(&p, "a=%00", 5, &err), -EINVAL);
	api_params_release(&p);
	strbuf_reset(&err);
	assert_int_equal(api_form_parse(&p, "id=1&id=2", 9, &err), -EINVAL);
	assert_string_equal(err.buf, "parameter 'id' given twice");
	api_params_release(&p);
	assert_int_equal(api_form_parse(&p, "A=1", 3, &err), -EINVAL);
	api_params_release(&p);
	assert_int_equal(api_form_parse(&p, "=1", 2, &err), -EINVAL);
	api_params_release(&p);
	/* a length-limited buffer: nothing read past len */
	assert_int_equal(api_form_parse(&p, "a=1&b=2", 3, &err), 0);
	assert_int_equal(p.nr, 1);
	api_params_release(&p);
	/* too many */
	struct strbuf many = STRBUF_INIT;
	for (int i = 0; i <= API_PARAMS_MAX; i++)
		strbuf_addf(&many, "k%d=1&", i);
	assert_int_equal(api_form_parse(&p, many.buf, many.len, &err), -EINVAL);
	assert_int_equal(p.nr, API_PARAMS_MAX);
	api_params_release(&p);
	strbuf_release(&many);
	strbuf_release(&err);
}

static void test_json_and_bool(void **state)
{
	struct api_params p = { 0 };
	struct strbuf err = STRBUF_INIT;
	const char *j = "{\"rate\": 30, \"comment\": \"x\", \"disable\": true, \"r\": 1.5}";

	(void)state;
	assert_int_equal(api_json_parse(&p, j, strlen(j), &err), 0);
	assert_string_equal(api_params_get(&p, "rate"), "30");
	assert_string_equal(api_params_get(&p, "disable"), "1");
	assert_string_equal(api_params_get(&p, "r"), "1.5");
	api_params_release(&p);
	assert_int_equal(api_json_parse(&p, "[1]", 3, &err), -EINVAL);
	assert_int_equal(api_json_parse(&p, "{\"a\": {}}", 9, &err), -EINVAL);
	assert_int_equal(api_json_parse(&p, "{\"a\": \"x\\u0000y\"}", 17, &err), -EINVAL);
	assert_int_equal(api_json_parse(&p, "{\"a\": 1, \"a\": 2}", 16, &err), -EINVAL);
	api_params_release(&p);
	assert_string_equal(api_bool("1"), "1");
	assert_string_equal(api_bool("Yes"), "1");
	assert_string_equal(api_bool("off"), "0");
	assert_string_equal(api_bool("false"), "0");
	assert_null(api_bool("2"));
	assert_null(api_bool(""));
	assert_null(api_bool(NULL));
	strbuf_release(&err);
}

static void test_token_ids_and_header(void **state)
{
	struct strbuf id = STRBUF_INIT, secret = STRBUF_INIT;

	(void)state;
	assert_true(api_token_id_valid("root@pam!monitor"));
	assert_true(api_token_id_valid("ops.user@pve!tf-1"));
	assert_false(api_token_id_valid("root@pam"));
	assert_false(api_token_id_valid("root!x@pam"));
	assert_false(api_token_id_valid("root@pam!1x"));
	assert_false(api_token_id_valid("root@pam!x y"));
	assert_false(api_token_id_valid("-root@pam!x"));
	assert_false(api_token_id_valid("@pam!x"));
	assert_int_equal(api_token_header_parse("PVEAPIToken=root@pam!w=abc-def", &id, &secret), 0);
	assert_string_equal(id.buf, "root@pam!w");
	assert_string_equal(secret.buf, "abc-def");
	assert_int_equal(api_token_header_parse("PVEAPIToken root@pam!w=s", &id, &secret), 0);
	assert_int_equal(api_token_header_parse("PVEAPIToken=root@pam!w=", &id, &secret), -EINVAL);
	assert_int_equal(api_token_header_parse("PVEAPIToken=root@pam!w", &id, &secret), -EINVAL);
	assert_int_equal(api_token_header_parse("Bearer x", &id, &secret), -EINVAL);
	assert_int_equal(api_token_header_parse("PVEAPITokenX=root@pam!w=s", &id, &secret), -EINVAL);
	strbuf_release(&id);
	strbuf_release(&secret);
}

static void test_token_hash(void **state)
{
	uint8_t salt[16] = { 1, 2, 3 }, salt2[16] = { 1, 2, 4 };
	char a[65], b[65], c[65];

	(void)state;
	api_token_hash(salt, "secret", a);
	api_token_hash(salt, "secret", b);
	api_token_hash(salt2, "secret", c);
	assert_int_equal(strlen(a), 64);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c); /* the salt matters */
	api_token_hash(salt, "secreT", c);
	assert_string_not_equal(a, c);
}

static void test_ticket(void **state)
{
	uint8_t key[32] = { 7 }, other[32] = { 8 };
	struct strbuf t = STRBUF_INIT, csrf = STRBUF_INIT, id = STRBUF_INIT;
	int write = -1;
	const int64_t now = 1700000000;

	(void)state;
	api_ticket_sign(key, "root@pam!w", 1, now, &t, &csrf);
	assert_int_equal(strncmp(t.buf, "VOLREP:root@pam!w:", 18), 0);
	assert_int_equal(api_ticket_check(key, t.buf, now + 10, &id, &write), 0);
	assert_string_equal(id.buf, "root@pam!w");
	assert_int_equal(write, 1);
	assert_int_equal(api_csrf_check(key, "root@pam!w", csrf.buf, now + 10), 0);
	/* expiry after API_TICKET_LIFETIME, none from the future */
	assert_int_equal(api_ticket_check(key, t.buf, now + API_TICKET_LIFETIME - 1, &id, &write), 0);
	assert_int_equal(api_ticket_check(key, t.buf, now + API_TICKET_LIFETIME, &id, &write), -EACCES);
	assert_int_equal(api_ticket_check(key, t.buf, now - 3600, &id, &write), -EACCES);
	assert_int_equal(api_csrf_check(key, "root@pam!w", csrf.buf, now + API_TICKET_LIFETIME), -EACCES);
	/* another key, another user, a changed byte */
	assert_int_equal(api_ticket_check(other, t.buf, now, &id, &write), -EACCES);
	assert_int_equal(api_csrf_check(key, "root@pam!r", csrf.buf, now), -EACCES);
	char *p = strstr(t.buf, ":w::");
	assert_non_null(p);
	p[1] = 'r'; /* a read ticket made a write one, or back */
	assert_int_equal(api_ticket_check(key, t.buf, now, &id, &write), -EACCES);
	p[1] = 'w';
	t.buf[t.len - 1] ^= 1;
	assert_int_equal(api_ticket_check(key, t.buf, now, &id, &write), -EACCES);
	assert_int_equal(api_ticket_check(key, "VOLREP:x", now, &id, &write), -EACCES);
	assert_int_equal(api_csrf_check(key, "root@pam!w", "", now), -EACCES);
	/* a read-only ticket says so */
	api_ticket_sign(key, "root@pam!r", 0, now, &t, NULL);
	assert_int_equal(api_ticket_check(key, t.buf, now, &id, &write), 0);
	assert_int_equal(write, 0);
	strbuf_release(&t);
	strbuf_release(&csrf);
	strbuf_release(&id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_form),
		cmocka_unit_test(test_json_and_bool),
		cmocka_unit_test(test_token_ids_and_header),
		cmocka_unit_test(test_token_hash),
		cmocka_unit_test(test_ticket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
