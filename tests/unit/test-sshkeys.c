/* OpenSSH key lines of volrep ssh-setup / ssh-authorize (transport/sshkeys.h). */
#include "unit.h"

#include <errno.h>
#include <string.h>

#include "transport/sshkeys.h"

#define BLOB "AAAAC3NzaC1lZDI1NTE5AAAAIFHv74jl2ONrxXkSVRDbDvBjiG1UCqBgP+CT6iNNdFOm"
#define BLOB2 "AAAAC3NzaC1lZDI1NTE5AAAAIGk2Vd5qJgYJtM4B3e4Xf1l0j3v5o0gYyE2x6y2xvQ3a"

static int parses(const char *s)
{
	struct sshkey k;

	return sshkey_parse_pub(s, strlen(s), &k, NULL) == 0;
}

static void test_parse_pub(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sshkey k;
	const char *line = "ssh-ed25519 " BLOB " volrep@pve1\n";

	(void)state;
	assert_int_equal(sshkey_parse_pub(line, strlen(line), &k, &err), 0);
	assert_string_equal(k.type, "ssh-ed25519");
	assert_string_equal(k.blob, BLOB);
	assert_string_equal(k.comment, "volrep@pve1");
	assert_true(parses("ssh-ed25519 " BLOB));
	assert_true(parses("ssh-rsa " BLOB "  root@host.example  "));
	/* everything that could smuggle options, commands or more lines */
	assert_false(parses("ssh-ed25519 " BLOB " a b"));
	assert_false(parses("ssh-ed25519 " BLOB " a;rm"));
	assert_false(parses("ssh-ed25519 " BLOB " \"x\""));
	assert_false(parses("command=\"sh\" ssh-ed25519 " BLOB));
	assert_false(parses("ssh-ed25519 " BLOB "\nssh-ed25519 " BLOB));
	assert_false(parses("ssh-ed25519 " BLOB "\r"));
	assert_false(parses("ssh-ed25519 AAAA;rm"));
	assert_false(parses("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5A"));  /* not a multiple of 4 */
	assert_false(parses("ssh-ed25519 ===AC3NzaC1lZDI1NTE5"));
	assert_false(parses("ssh-dss " BLOB));
	assert_false(parses(""));
	assert_false(parses("ssh-ed25519"));
	strbuf_reset(&err);
	assert_int_equal(sshkey_parse_pub("ssh-dss x", 9, &k, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "unknown key type 'ssh-dss'"));
	strbuf_release(&err);
}

static void test_parse_hosts(void **state)
{
	struct strvec keys = STRVEC_INIT;
	const char *text = "# 127.0.0.1:22 SSH-2.0-OpenSSH_9.2\n"
			   "127.0.0.1 ssh-ed25519 " BLOB "\n"
			   "@revoked * ssh-rsa " BLOB2 "\n"
			   "[h]:2222 ecdsa-sha2-nistp256 " BLOB2 " comment\r\n"
			   "bad ssh-ed25519 AAAA;x\n"
			   "h ssh-foo " BLOB "\n"
			   "h ssh-ed25519 " BLOB "junk;\n"
			   "lonely";

	(void)state;
	assert_int_equal(sshkey_parse_hosts(text, strlen(text), &keys), 2);
	assert_string_equal(keys.v[0], "ssh-ed25519 " BLOB);
	assert_string_equal(keys.v[1], "ecdsa-sha2-nistp256 " BLOB2);
	strvec_clear(&keys);
}

static void test_lines(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct sshkey k;
	const char *line = "ssh-ed25519 " BLOB " volrep@pve1";

	(void)state;
	assert_int_equal(sshkey_parse_pub(line, strlen(line), &k, NULL), 0);
	sshkey_authorized_line(&out, "pve1", NULL, &k);
	assert_string_equal(out.buf, "command=\"volrep serve --peer pve1\",restrict ssh-ed25519 " BLOB " volrep@pve1\n");
	strbuf_reset(&out);
	sshkey_authorized_line(&out, "pve1", "pmxcfs:///etc/pve", &k);
	assert_string_equal(out.buf, "command=\"volrep --cluster pmxcfs:///etc/pve serve --peer pve1\",restrict ssh-ed25519 " BLOB " volrep@pve1\n");
	assert_true(sshkey_valid_cluster("etcd://10.0.0.1:2379,10.0.0.2:2379/volrep"));
	assert_false(sshkey_valid_cluster("etcd://x\" y"));
	assert_false(sshkey_valid_cluster("etcd://x\\"));
	assert_false(sshkey_valid_cluster("-x"));
	assert_false(sshkey_valid_cluster(""));
	assert_false(sshkey_valid_cluster(NULL));
	strbuf_reset(&out);
	sshkey_known_hosts_line(&out, "pve2", "ssh-ed25519 " BLOB);
	assert_string_equal(out.buf, "pve2 ssh-ed25519 " BLOB "\n");
	strbuf_release(&out);
}

static void test_merge(void **state)
{
	struct strbuf out = STRBUF_INIT, line = STRBUF_INIT;
	struct sshkey k;
	const char *pub = "ssh-ed25519 " BLOB " volrep@pve1";
	const char *other = "ssh-ed25519 " BLOB2 " admin\n";
	struct strbuf old = STRBUF_INIT;

	(void)state;
	assert_int_equal(sshkey_parse_pub(pub, strlen(pub), &k, NULL), 0);
	sshkey_authorized_line(&line, "pve1", NULL, &k);
	/* no file */
	assert_int_equal(sshkey_merge_authorized(NULL, 0, line.buf, &k, &out), SSHKEY_ADDED);
	assert_string_equal(out.buf, line.buf);
	/* appended after the other keys; a missing final newline is added */
	assert_int_equal(sshkey_merge_authorized("ssh-rsa " BLOB2, 8 + strlen(BLOB2), line.buf, &k, &out),
			 SSHKEY_ADDED);
	assert_string_equal(out.buf, "ssh-rsa " BLOB2 "\n" "command=\"volrep serve --peer pve1\",restrict ssh-ed25519 " BLOB " volrep@pve1\n");
	/* the same key with other options: replaced in place, once */
	strbuf_addf(&old, "%scommand=\"echo hi\" ssh-ed25519 %s x\n%sssh-ed25519 %s\n", other, BLOB, other, BLOB);
	assert_int_equal(sshkey_merge_authorized(old.buf, old.len, line.buf, &k, &out), SSHKEY_REPLACED);
	strbuf_reset(&old);
	strbuf_addf(&old, "%s%s%s", other, line.buf, other);
	assert_string_equal(out.buf, old.buf);
	/* already there */
	assert_int_equal(sshkey_merge_authorized(old.buf, old.len, line.buf, &k, &out), SSHKEY_UNCHANGED);
	assert_string_equal(out.buf, old.buf);
	/* a blob that only starts like ours is another key */
	strbuf_reset(&old);
	strbuf_addf(&old, "ssh-ed25519 %sAAAA\n", BLOB);
	assert_int_equal(sshkey_merge_authorized(old.buf, old.len, line.buf, &k, &out), SSHKEY_ADDED);
	strbuf_release(&old);
	strbuf_release(&out);
	strbuf_release(&line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_pub),
		cmocka_unit_test(test_parse_hosts),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
