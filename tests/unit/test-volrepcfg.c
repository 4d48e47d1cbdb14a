/* Unit tests of volrep.cfg parsing (src/config/volrepcfg.c): defaults,
 * values, strict errors with file:line, canonical round trip. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/volrepcfg.h"

static int parse(struct volrep_cfg *cfg, const char *text, struct strbuf *err)
{
	return volrep_cfg_parse(cfg, "volrep.cfg", text, strlen(text), err);
}

static void test_defaults(void **state)
{
	struct volrep_cfg cfg;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	memset(&cfg, 0xff, sizeof(cfg));
	assert_int_equal(parse(&cfg, "", &err), 0);
	assert_int_equal(cfg.max_workers, 4);
	assert_int_equal(cfg.max_per_target, 2);
	assert_true(cfg.bwlimit == 0);
	assert_int_equal(cfg.shutdown_grace, 60);
	assert_int_equal(parse(&cfg, "# only a comment\n\n   \n\t# indented comment\n", &err), 0);
	assert_int_equal(cfg.max_workers, 4);
	strbuf_release(&err);
}

static void test_values(void **state)
{
	struct volrep_cfg cfg;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(parse(&cfg,
			       "# settings\nmax-workers 8\n  max-per-target\t3  \nbwlimit 12.5\r\nshutdown-grace 0",
			       &err),
			 0);
	assert_int_equal(cfg.max_workers, 8);
	assert_int_equal(cfg.max_per_target, 3);
	assert_true(cfg.bwlimit == 12.5);
	assert_int_equal(cfg.shutdown_grace, 0);
	assert_int_equal(parse(&cfg, "max-workers 1\nmax-per-target 256\nshutdown-grace 86400\nbwlimit 1\n", &err), 0);
	assert_int_equal(cfg.max_workers, 1);
	assert_int_equal(cfg.max_per_target, 256);
	assert_int_equal(cfg.shutdown_grace, 86400);
	assert_true(cfg.bwlimit == 1);
	assert_int_equal(err.len, 0);
	strbuf_release(&err);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "max-workers 0\n", "volrep.cfg:1: invalid value '0' for 'max-workers'" },
		{ "max-workers 257\n", "volrep.cfg:1: invalid value '257' for 'max-workers'" },
		{ "max-workers -1\n", "volrep.cfg:1: invalid value '-1' for 'max-workers'" },
		{ "max-workers 4x\n", "volrep.cfg:1: invalid value '4x' for 'max-workers'" },
		{ "max-workers 2.5\n", "volrep.cfg:1: invalid value '2.5' for 'max-workers'" },
		{ "\n# c\nmax-workers\n", "volrep.cfg:3: setting 'max-workers' needs a value" },
		{ "max-workers 4 5\n", "volrep.cfg:1: unexpected text '5' after the value of 'max-workers'" },
		{ "max-workers 4\nmax-workers 5\n", "volrep.cfg:2: setting 'max-workers' given twice (first on line 1)" },
		{ "max_workers 4\n", "volrep.cfg:1: unknown setting 'max_workers'" },
		{ "Max-Workers 4\n", "volrep.cfg:1: unknown setting 'Max-Workers'" },
		{ "max-workers: 4\n", "volrep.cfg:1: unknown setting 'max-workers:'" },
		{ "max-workers=4\n", "volrep.cfg:1: unknown setting 'max-workers=4'" },
		{ "bwlimit 0\n", "volrep.cfg:1: invalid value '0' for 'bwlimit'" },
		{ "bwlimit 0.5\n", "volrep.cfg:1: invalid value '0.5' for 'bwlimit'" },
		{ "bwlimit nan\n", "volrep.cfg:1: invalid value 'nan' for 'bwlimit'" },
		{ "bwlimit 1e9\n", "volrep.cfg:1: invalid value '1e9' for 'bwlimit'" },
		{ "shutdown-grace 86401\n", "volrep.cfg:1: invalid value '86401' for 'shutdown-grace'" },
		{ "max-per-target 0\n", "volrep.cfg:1: invalid value '0' for 'max-per-target'" },
		{ "notify-mail root@\n", "volrep.cfg:1: invalid value 'root@' for 'notify-mail'" },
		{ "notify-mail a,,b\n", "volrep.cfg:1: invalid value 'a,,b' for 'notify-mail'" },
		{ "notify-mail -oQ/tmp\n", "volrep.cfg:1: invalid value '-oQ/tmp' for 'notify-mail'" },
		{ "notify-mail a<b>@x\n", "volrep.cfg:1: invalid value 'a<b>@x' for 'notify-mail'" },
		{ "notify-mail a b\n", "volrep.cfg:1: unexpected text 'b' after the value of 'notify-mail'" },
		{ "notify-sendmail-command sendmail\n", "volrep.cfg:1: invalid value 'sendmail' for 'notify-sendmail-command'" },
		{ "notify-webhook ftp://x/\n", "volrep.cfg:1: invalid URL 'ftp://x/' for 'notify-webhook'" },
		{ "notify-webhook https://\n", "volrep.cfg:1: invalid URL 'https://'" },
		{ "notify-webhook https://x/ format=slack\n", "volrep.cfg:1: invalid format 'slack'" },
		{ "notify-webhook https://x/ header-file=rel\n", "volrep.cfg:1: invalid header-file 'rel'" },
		{ "notify-webhook https://x/ token=1\n", "volrep.cfg:1: unknown option 'token=1'" },
		{ "notify-webhook https://x/ header-file=/a header-file=/b\n",
		  "volrep.cfg:1: option 'header-file' given twice for 'notify-webhook'" },
		{ "notify-webhook https://x/ format=ntfy format=json\n", "volrep.cfg:1: option 'format' given twice" },
		{ "notify-webhook\n", "volrep.cfg:1: setting 'notify-webhook' needs a value" },
		{ "notify-webhook http://a/\nnotify-webhook http://a/\nnotify-webhook http://a/\nnotify-webhook http://a/\n"
		  "notify-webhook http://a/\nnotify-webhook http://a/\nnotify-webhook http://a/\nnotify-webhook http://a/\n"
		  "notify-webhook http://a/\n",
		  "volrep.cfg:9: too many 'notify-webhook' settings" },
		{ "notify-timeout 0\n", "volrep.cfg:1: invalid value '0' for 'notify-timeout'" },
		{ "metrics-listen 9108\n", "volrep.cfg:1: invalid value '9108' for 'metrics-listen'" },
		{ "metrics-listen localhost:9108\n", "volrep.cfg:1: invalid value 'localhost:9108'" },
		{ "metrics-listen 127.0.0.1:0\n", "volrep.cfg:1: invalid value '127.0.0.1:0'" },
		{ "metrics-listen [::1:9108\n", "volrep.cfg:1: invalid value '[::1:9108'" },
		{ "api-listen 8006\n", "volrep.cfg:1: invalid value '8006' for 'api-listen'" },
		{ "api-cert cert.pem\n", "volrep.cfg:1: invalid value 'cert.pem' for 'api-cert' - expected an absolute path" },
		{ "api-key /etc/../key\n", "volrep.cfg:1: invalid value '/etc/../key' for 'api-key'" },
		{ "log-keep 1001\n", "volrep.cfg:1: invalid value '1001' for 'log-keep'" },
		{ "max-lag -1\n", "volrep.cfg:1: invalid value '-1' for 'max-lag'" },
		{ "log-keep 1\nlog-keep 2\n", "volrep.cfg:2: setting 'log-keep' given twice (first on line 1)" },
		{ "stall-timeout 0\n", "volrep.cfg:1: invalid value '0' for 'stall-timeout'" },
		{ "stall-timeout 86401\n", "volrep.cfg:1: invalid value '86401' for 'stall-timeout'" },
		{ "stall-timeout 5s\n", "volrep.cfg:1: invalid value '5s' for 'stall-timeout'" },
		{ "compress gzip\n", "volrep.cfg:1: invalid value 'gzip' for 'compress'" },
		{ "compress-level 0\n", "volrep.cfg:1: invalid value '0' for 'compress-level'" },
		{ "compress-level 20\n", "volrep.cfg:1: invalid value '20' for 'compress-level'" },
		{ "ssh-cipher -oProxyCommand=x\n", "volrep.cfg:1: invalid value '-oProxyCommand=x' for 'ssh-cipher'" },
		{ "ssh-cipher AES\n", "volrep.cfg:1: invalid value 'AES' for 'ssh-cipher'" },
		{ "migration-type fast\n", "volrep.cfg:1: invalid value 'fast' for 'migration-type'" },
		{ "migration-network 10.1.0.0/33\n", "volrep.cfg:1: invalid value '10.1.0.0/33' for 'migration-network'" },
		{ "migration-network eth1\n", "volrep.cfg:1: invalid value 'eth1' for 'migration-network'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct volrep_cfg cfg = { .max_workers = 99, .max_per_target = 99, .bwlimit = 99, .shutdown_grace = 99,
					  .stall_timeout = 99 };
		struct strbuf err = STRBUF_INIT;

		if (parse(&cfg, bad[i].text, &err) != -EINVAL)
			fail_msg("case %zu accepted: %s", i, bad[i].text);
		if (strncmp(err.buf, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("case %zu: got '%s', want '%s...'", i, err.buf, bad[i].msg);
		/* nothing applied */
		assert_int_equal(cfg.max_workers, 99);
		assert_int_equal(cfg.shutdown_grace, 99);
		assert_int_equal(cfg.stall_timeout, 99);
		strbuf_release(&err);
	}
	/* a NUL byte in the middle of a line */
	struct volrep_cfg cfg;
	struct strbuf err = STRBUF_INIT;
	assert_int_equal(volrep_cfg_parse(&cfg, "f", "max-workers 4\nmax\0-workers 2\n", 29, &err), -EINVAL);
	assert_string_equal(err.buf, "f:2: line contains a NUL byte");
	strbuf_release(&err);
}

/* ssh-persist: 900 by default, 0..86400; a bad value changes nothing */
static void test_ssh_persist(void **state)
{
	static const char *const bad[] = { "-1", "86401", "15m", "", "0x10", "9999999999999999999999" };
	struct volrep_cfg cfg, before;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;

	(void)state;
	assert_int_equal(parse(&cfg, "", &err), 0);
	assert_int_equal(cfg.ssh_persist, 900);
	assert_int_equal(parse(&cfg, "ssh-persist 0\n", &err), 0);
	assert_int_equal(cfg.ssh_persist, 0);
	assert_int_equal(parse(&cfg, "ssh-persist 86400\n", &err), 0);
	assert_int_equal(cfg.ssh_persist, 86400);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&cfg, "ssh-persist 60\n", &err), 0);
		before = cfg;
		strbuf_reset(&err);
		strbuf_reset(&text);
		strbuf_addf(&text, "ssh-persist %s\n", bad[i]);
		assert_int_equal(parse(&cfg, text.buf, &err), -EINVAL);
		assert_memory_equal(&cfg, &before, sizeof(cfg));
		if (*bad[i]) {
			struct strbuf want = STRBUF_INIT;

			strbuf_addf(&want, "volrep.cfg:1: invalid value '%s' for 'ssh-persist' - expected ", bad[i]);
			assert_non_null(strstr(err.buf, want.buf));
			assert_non_null(strstr(err.buf, "0..86400"));
			/* one line */
			assert_true(!strchr(err.buf, '\n') || !strchr(err.buf, '\n')[1]);
			strbuf_release(&want);
		}
	}
	strbuf_release(&err);
	strbuf_release(&text);
}

static void test_notify_keys(void **state)
{
	struct volrep_cfg cfg;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(parse(&cfg, "", &err), 0);
	assert_string_equal(cfg.notify_mail, "");
	assert_string_equal(cfg.sendmail, "/usr/sbin/sendmail");
	assert_int_equal(cfg.nwebhooks, 0);
	assert_int_equal(cfg.notify_timeout, 10);
	assert_string_equal(cfg.metrics_listen, "");
	assert_int_equal(cfg.log_keep, 10);
	assert_true(cfg.max_lag == 0);
	assert_int_equal(parse(&cfg,
			       "notify-mail root,ops+repl@example.com\n"
			       "notify-sendmail-command /opt/bin/fake-sendmail\n"
			       "notify-webhook https://ntfy.example.com/ format=ntfy header-file=/etc/volrep/ntfy.hdr\n"
			       "notify-webhook   http://127.0.0.1:8080/hook?x=1  \n"
			       "notify-timeout 3\nmetrics-listen [::1]:9108\nmax-lag 3600\nlog-keep 0\n",
			       &err),
			 0);
	assert_string_equal(cfg.notify_mail, "root,ops+repl@example.com");
	assert_string_equal(cfg.sendmail, "/opt/bin/fake-sendmail");
	assert_int_equal(cfg.nwebhooks, 2);
	assert_string_equal(cfg.webhook[0].url, "https://ntfy.example.com/");
	assert_int_equal(cfg.webhook[0].format, WEBHOOK_NTFY);
	assert_string_equal(cfg.webhook[0].header_file, "/etc/volrep/ntfy.hdr");
	assert_string_equal(cfg.webhook[1].url, "http://127.0.0.1:8080/hook?x=1");
	assert_int_equal(cfg.webhook[1].format, WEBHOOK_JSON);
	assert_string_equal(cfg.webhook[1].header_file, "");
	assert_int_equal(cfg.notify_timeout, 3);
	assert_string_equal(cfg.metrics_listen, "[::1]:9108");
	assert_true(cfg.max_lag == 3600);
	assert_int_equal(cfg.log_keep, 0);
	assert_int_equal(volrep_cfg_parse_listen("127.0.0.1:9108", NULL, NULL), 0);
	assert_int_equal(volrep_cfg_parse_listen("0.0.0.0:65535", NULL, NULL), 0);
	assert_int_equal(volrep_cfg_parse_listen("127.0.0.1:65536", NULL, NULL), -EINVAL);
	assert_int_equal(volrep_cfg_parse_listen("[::1]9108", NULL, NULL), -EINVAL);
	assert_int_equal(volrep_cfg_parse_listen(":9108", NULL, NULL), -EINVAL);
	strbuf_release(&err);
}

static void test_round_trip(void **state)
{
	static const char *const inputs[] = {
		"",
		"notify-mail root\nnotify-webhook https://g.example/message format=gotify header-file=/etc/g.hdr\n"
		"notify-webhook http://127.0.0.1:1/\nmetrics-listen 127.0.0.1:9108\nlog-keep 3\nmax-lag 60\n"
		"notify-timeout 30\nnotify-sendmail-command /bin/true\n",
		"bwlimit 33.3\nmax-workers 16\n",
		"shutdown-grace 5\nmax-per-target 1\nmax-workers 2\n",
		"api-listen [::]:8006\napi-cert /etc/volrep/c.pem\napi-key /etc/volrep/k.pem\n",
		"stall-timeout 7\n",
		"compress zstd\ncompress-level 9\n",
		"compress lz4\n",
		"ssh-cipher default\n",
		"ssh-cipher aes256-gcm@openssh.com\n",
		"migration-type insecure\nmigration-network fd00:1::/64\n",
		"migration-type secure\nmigration-network 10.1.2.0/24\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct volrep_cfg a, b;
		struct strbuf err = STRBUF_INIT, t1 = STRBUF_INIT, t2 = STRBUF_INIT;

		assert_int_equal(parse(&a, inputs[i], &err), 0);
		volrep_cfg_format(&a, &t1);
		assert_int_equal(parse(&b, t1.buf, &err), 0);
		volrep_cfg_format(&b, &t2);
		assert_string_equal(t1.buf, t2.buf);
		assert_int_equal(a.max_workers, b.max_workers);
		assert_int_equal(a.max_per_target, b.max_per_target);
		assert_true(a.bwlimit == b.bwlimit);
		assert_int_equal(a.shutdown_grace, b.shutdown_grace);
		assert_memory_equal(&a, &b, sizeof(a));
		strbuf_release(&err);
		strbuf_release(&t1);
		strbuf_release(&t2);
	}
	struct volrep_cfg c;
	struct strbuf err = STRBUF_INIT, t = STRBUF_INIT;
	volrep_cfg_init(&c);
	volrep_cfg_format(&c, &t);
	assert_string_equal(t.buf, "max-workers 4\nmax-per-target 2\nshutdown-grace 60\n");
	/* stall-timeout: default 300, shown when set otherwise */
	assert_int_equal(c.stall_timeout, 300);
	assert_int_equal(parse(&c, "stall-timeout 2\n", &err), 0);
	assert_int_equal(c.stall_timeout, 2);
	strbuf_reset(&t);
	volrep_cfg_format(&c, &t);
	assert_non_null(strstr(t.buf, "\nstall-timeout 2\n"));
	/* compress: none by default (not written), zstd level 3 */
	assert_int_equal(c.compress, 0);
	assert_int_equal(c.compress_level, 3);
	assert_int_equal(parse(&c, "compress lz4\ncompress-level 19\n", &err), 0);
	assert_int_equal(c.compress, 2);
	assert_int_equal(c.compress_level, 19);
	strbuf_reset(&t);
	volrep_cfg_format(&c, &t);
	assert_non_null(strstr(t.buf, "\ncompress lz4\ncompress-level 19\n"));
	/* ssh-cipher: auto by default (not written) */
	assert_string_equal(c.ssh_cipher, "auto");
	/* the direct data path: off by default; the network canonical */
	assert_int_equal(c.migration_insecure, 0);
	assert_string_equal(c.migration_network, "");
	assert_int_equal(parse(&c, "migration-type insecure\nmigration-network 10.1.2.3/24\n", &err), 0);
	assert_int_equal(c.migration_insecure, 1);
	assert_string_equal(c.migration_network, "10.1.2.0/24");
	strbuf_reset(&t);
	volrep_cfg_format(&c, &t);
	assert_non_null(strstr(t.buf, "\nmigration-type insecure\nmigration-network 10.1.2.0/24\n"));
	strbuf_release(&err);
	strbuf_release(&t);
}

static void test_load(void **state)
{
	char dir[] = "/tmp/volrep-test-cfg.XXXXXX";
	struct volrep_cfg cfg;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* missing file: defaults */
	cfg.max_workers = 0;
	assert_int_equal(volrep_cfg_load(&cfg, dir, &err), 0);
	assert_int_equal(cfg.max_workers, 4);
	strbuf_addf(&path, "%s/volrep.cfg", dir);
	f = fopen(path.buf, "w");
	fputs("max-workers 7\nbogus 1\n", f);
	fclose(f);
	assert_int_equal(volrep_cfg_load(&cfg, dir, &err), -EINVAL);
	assert_int_equal(cfg.max_workers, 4);
	struct strbuf want = STRBUF_INIT;
	strbuf_addf(&want, "%s:2: unknown setting 'bogus'", path.buf);
	assert_string_equal(err.buf, want.buf);
	/* too big */
	f = fopen(path.buf, "w");
	for (int i = 0; i < 70000; i++)
		fputc('#', f);
	fclose(f);
	strbuf_reset(&err);
	assert_int_equal(volrep_cfg_load(&cfg, dir, &err), -EFBIG);
	assert_non_null(strstr(err.buf, "larger than 64 KiB"));
	unlink(path.buf);
	rmdir(dir);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&want);
}

static void test_describe(void **state)
{
	struct strbuf s = STRBUF_INIT;

	(void)state;
	volrep_cfg_describe(&s);
	assert_non_null(strstr(s.buf, "max-workers N"));
	assert_non_null(strstr(s.buf, "(default 4)"));
	assert_non_null(strstr(s.buf, "max-per-target N"));
	assert_non_null(strstr(s.buf, "bwlimit MBPS"));
	assert_non_null(strstr(s.buf, "shutdown-grace SECONDS"));
	assert_non_null(strstr(s.buf, "stall-timeout SECONDS"));
	assert_non_null(strstr(s.buf, "(default 300)"));
	strbuf_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),  cmocka_unit_test(test_values), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_round_trip), cmocka_unit_test(test_load),   cmocka_unit_test(test_describe),
		cmocka_unit_test(test_ssh_persist),
		cmocka_unit_test(test_notify_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
