/* datacenter.cfg's migration and replication network (strict where
 * volrep acts on it, PVE's other keys skipped), CIDR membership, and the
 * migration-ip exchange: the target's pick among its addresses and the
 * source's check of the answer. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config/datacenter.h"
#include "engine/pvenet.h"

static int parse(struct dc_cfg *dc, const char *text, struct strbuf *err)
{
	strbuf_reset(err);
	return dc_cfg_parse(dc, "datacenter.cfg", text, strlen(text), err);
}

static void test_parse(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct dc_cfg dc;

	(void)state;
	assert_int_equal(parse(&dc, "", &err), 0);
	assert_false(dc.migration.set);
	assert_false(dc_replication_net(&dc)->set);
	assert_int_equal(parse(&dc, "keyboard: en-us\n# a comment\n\n  migration:   secure,network=10.1.0.0/24  \n"
				    "ha: shutdown_policy=migrate\nnot a key value line\n", &err), 0);
	assert_true(dc.migration.set);
	assert_int_equal(dc.migration.type, DC_SECURE);
	assert_string_equal(dc.migration.network, "10.1.0.0/24");
	assert_int_equal(dc.migration.net.family, AF_INET);
	/* replication falls back to migration */
	assert_ptr_equal(dc_replication_net(&dc), &dc.migration);
	assert_int_equal(parse(&dc, "migration: type=insecure\nreplication: network=fd00:1::/64,type=secure\n", &err), 0);
	assert_int_equal(dc.migration.type, DC_INSECURE);
	assert_false(dc.migration.has_network);
	assert_ptr_equal(dc_replication_net(&dc), &dc.replication);
	assert_int_equal(dc.replication.net.family, AF_INET6);
	assert_int_equal(dc.replication.net.prefix, 64);
	assert_int_equal(parse(&dc, "migration: insecure\n", &err), 0);
	assert_int_equal(dc.migration.type, DC_INSECURE);

	/* strict on the two keys volrep acts on */
	assert_int_equal(parse(&dc, "keyboard: de\nmigration: secure,network=10.1.0.0/33\n", &err), -EINVAL);
	assert_string_equal(err.buf, "datacenter.cfg:2: invalid migration value 'secure,network=10.1.0.0/33' - expected "
				     "[type=]secure|insecure[,network=<CIDR>] (an IPv4 CIDR with prefix 8..32 or IPv6 8..128)");
	assert_int_equal(parse(&dc, "migration: secure,network=10.0.0.0/7\n", &err), -EINVAL);
	assert_int_equal(parse(&dc, "migration: secure,network=10.1.0.0\n", &err), -EINVAL);
	assert_int_equal(parse(&dc, "migration: secure,network=10.1.0.0/+8\n", &err), -EINVAL);
	assert_int_equal(parse(&dc, "migration: secure,network=host.example/24\n", &err), -EINVAL);
	assert_int_equal(parse(&dc, "migration: fast\n", &err), -EINVAL);
	assert_int_equal(parse(&dc, "migration: network=10.1.0.0/24,secure\n", &err), -EINVAL);
	assert_int_equal(parse(&dc, "migration: secure,type=insecure\n", &err), -EINVAL);
	assert_int_equal(parse(&dc, "migration: secure,network=10.1.0.0/24,network=10.2.0.0/24\n", &err), -EINVAL);
	assert_int_equal(parse(&dc, "migration: secure,bwlimit=10\n", &err), -EINVAL);
	assert_int_equal(parse(&dc, "migration: secure,\n", &err), -EINVAL);
	assert_int_equal(parse(&dc, "migration:\n", &err), -EINVAL);
	assert_int_equal(parse(&dc, "migration: secure\nmigration: insecure\n", &err), -EINVAL);
	assert_string_equal(err.buf, "datacenter.cfg:2: 'migration' given twice");
	assert_int_equal(parse(&dc, "replication: \x1b[2Jsecure\n", &err), -EINVAL);
	assert_non_null(strstr(err.buf, "'?[2Jsecure'"));
	strbuf_release(&err);
}

static void test_contains(void **state)
{
	struct dc_net n;

	(void)state;
	assert_int_equal(dc_parse_cidr("10.1.0.0/24", &n), 0);
	assert_true(dc_net_contains(&n, "10.1.0.7"));
	assert_false(dc_net_contains(&n, "10.1.1.7"));
	assert_false(dc_net_contains(&n, "fd00::1"));
	assert_false(dc_net_contains(&n, "10.1.0.7 "));
	assert_false(dc_net_contains(&n, "host"));
	assert_int_equal(dc_parse_cidr("10.1.0.128/25", &n), 0);
	assert_true(dc_net_contains(&n, "10.1.0.200"));
	assert_false(dc_net_contains(&n, "10.1.0.100"));
	assert_int_equal(dc_parse_cidr("fd00:1::/64", &n), 0);
	assert_true(dc_net_contains(&n, "fd00:1::5"));
	assert_false(dc_net_contains(&n, "fd00:2::5"));
	assert_false(dc_net_contains(&n, "10.1.0.7"));
	/* PVE's form: host bits as written, the prefix plain decimal, 8 at least */
	assert_int_equal(dc_parse_cidr("10.1.0.7/24", &n), 0);
	assert_string_equal(n.network, "10.1.0.7/24");
	assert_true(dc_net_contains(&n, "10.1.0.9"));
	assert_int_equal(dc_parse_cidr("10.1.0.0/024", &n), 0);
	assert_true(dc_net_contains(&n, "10.1.0.9"));
	assert_int_equal(dc_parse_cidr("10.1.0.0", &n), -EINVAL);
	assert_int_equal(dc_parse_cidr("10.0.0.0/7", &n), -EINVAL);
	assert_int_equal(dc_parse_cidr("fd00::/129", &n), -EINVAL);
	assert_int_equal(dc_parse_cidr("/24", &n), -EINVAL);
	assert_int_equal(dc_parse_cidr("10.1.0.0/", &n), -EINVAL);
}

static void test_local_ip(void **state)
{
	struct strbuf ip = STRBUF_INIT, err = STRBUF_INIT;
	struct dc_net n;

	(void)state;
	assert_int_equal(dc_parse_cidr("10.1.0.0/24", &n), 0);
	setenv("VOLREP_PVE_LOCAL_ADDRS", "192.0.2.1,10.1.0.5,10.1.0.5", 1);
	assert_int_equal(pvenet_local_ip(&n, &ip, &err), 0);
	assert_string_equal(ip.buf, "10.1.0.5");
	setenv("VOLREP_PVE_LOCAL_ADDRS", "10.1.0.4,10.1.0.5", 1);
	strbuf_reset(&ip);
	assert_int_equal(pvenet_local_ip(&n, &ip, &err), -EEXIST);
	assert_string_equal(err.buf, "could not get migration ip: multiple, different, IP address configured for network "
				     "'10.1.0.0/24'");
	setenv("VOLREP_PVE_LOCAL_ADDRS", "192.0.2.1", 1);
	strbuf_reset(&err);
	assert_int_equal(pvenet_local_ip(&n, &ip, &err), -ENOENT);
	assert_string_equal(err.buf, "could not get migration ip: no IP address configured on local node for network "
				     "'10.1.0.0/24'");
	unsetenv("VOLREP_PVE_LOCAL_ADDRS");
	strbuf_release(&ip);
	strbuf_release(&err);
}

static void test_answer(void **state)
{
	struct strbuf ip = STRBUF_INIT, err = STRBUF_INIT;
	struct dc_net n;

	(void)state;
	assert_int_equal(dc_parse_cidr("10.1.0.0/24", &n), 0);
	assert_int_equal(pvenet_parse_answer("ip: '10.1.0.5'\n", &n, &ip, &err), 0);
	assert_string_equal(ip.buf, "10.1.0.5");
	/* the target's word is checked: inside the network, an address */
	static const char *const bad[] = { "ip: '10.2.0.5'\n", "ip: '-oProxyCommand=x'\n", "ip: '10.1.0.5 -p 2'\n",
					   "no ip\n", "ip: '10.1.0.5'\nip: '10.1.0.6'\n", "ip: 10.1.0.5\n", "", "ip: ''\n",
					   "ip: 'host.example'\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strbuf_reset(&ip);
		strbuf_reset(&err);
		assert_int_equal(pvenet_parse_answer(bad[i], &n, &ip, &err), -EPROTO);
		assert_int_equal(ip.len, 0);
		assert_true(err.len > 0);
	}
	strbuf_release(&ip);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_local_ip),
		cmocka_unit_test(test_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
