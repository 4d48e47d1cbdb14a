/* Transports (ssh argv, host checks, local runs, result messages) and the
 * serve gate (transport/serve.h). */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cidr.h"
#include "base/quote.h"
#include "exec/relay.h"
#include "transport/direct.h"
#include "transport/local.h"
#include "transport/serve.h"
#include "transport/ssh.h"

static void test_valid_address(void **state)
{
	static const char *const good[] = { "pve2", "node-1.example.com", "127.0.1.2", "10.0.0.1", "::1",
					    "fe80::1", "2001:db8::42", "a", "A1.b2", NULL };
	static const char *const bad[] = { "", "-oProxyCommand=x", "-1", "a b", "a;b", "root@host", "a..b",
					   ".a", "a.", "-a.b", "a-.b", "1.2.3.999", "1.2.3", "1.2.3.4.5",
					   "::g", "[::1]", "host:22", "a/b", "$(id)", "`id`", "a\nb", "\xc3\xa4",
					   NULL };
	char label[80];

	(void)state;
	for (size_t i = 0; good[i]; i++)
		if (!ssh_valid_address(good[i])) {
			fprintf(stderr, "refused '%s'\n", good[i]);
			fail();
		}
	for (size_t i = 0; bad[i]; i++)
		if (ssh_valid_address(bad[i])) {
			fprintf(stderr, "accepted '%s'\n", bad[i]);
			fail();
		}
	assert_false(ssh_valid_address(NULL));
	memset(label, 'a', 64);
	label[64] = '\0';
	assert_false(ssh_valid_address(label)); /* label over 63 */
	label[63] = '\0';
	assert_true(ssh_valid_address(label));
}

static void expect_argv(const struct strvec *got, const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		if (i >= got->nr || strcmp(got->v[i], want[i])) {
			fprintf(stderr, "argv[%zu]: got '%s', want '%s'\n", i, i < got->nr ? got->v[i] : "(end)",
				want[i]);
			fail();
		}
	}
	assert_int_equal(got->nr, i);
}

/* the default cipher follows the CPU's AES instructions */
static void test_ssh_cipher_auto(void **state)
{
	(void)state;
	assert_string_equal(ssh_cipher_auto("processor\t: 0\nflags\t\t: fpu vme sse2 aes avx\n"), SSH_CIPHER_AES);
	assert_string_equal(ssh_cipher_auto("flags\t\t: fpu sse2 aes\n"), SSH_CIPHER_AES);
	/* "aes" only as part of another flag, or on another line */
	assert_string_equal(ssh_cipher_auto("flags\t\t: fpu vaes_x sse2\nmodel name\t: aes chip\n"),
			    SSH_CIPHER_CHACHA);
	assert_string_equal(ssh_cipher_auto("flags : fpu aesni\n"), SSH_CIPHER_CHACHA);
	assert_string_equal(ssh_cipher_auto(""), SSH_CIPHER_CHACHA);
	assert_string_equal(ssh_cipher_auto(NULL), SSH_CIPHER_CHACHA);
	/* arm64 says "Features" and "aes" there: not recognised, the safe choice */
	assert_string_equal(ssh_cipher_auto("Features\t: fp asimd aes pmull\n"), SSH_CIPHER_CHACHA);
	assert_true(ssh_valid_cipher("chacha20-poly1305@openssh.com"));
	assert_false(ssh_valid_cipher("AES128-CTR"));
	assert_false(ssh_valid_cipher(NULL));
}

static void test_ssh_argv(void **state)
{
	struct transport t = TRANSPORT_INIT;
	struct strvec av = STRVEC_INIT;
	char dir[] = "/tmp/vr-ut.XXXXXX";
	const char *cmd[] = { "volrep", "prepare-local-job", "100-0", "it's", NULL };
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	unsetenv("VOLREP_SSH_CONTROL_DIR");
	setenv("VOLREP_SSH", " /usr/bin/ssh  -F /x/cfg\t-i /x/key ", 1);
	assert_int_equal(transport_ssh_init(&t, "pve2", "10.0.0.2", dir), 0);
	assert_int_equal(transport_build_argv(&t, cmd, &av), 0);
	char cpath[64];
	snprintf(cpath, sizeof(cpath), "ControlPath=%s/ssh/%%C", dir);
	const char *want[] = { "/usr/bin/ssh", "-F", "/x/cfg", "-i", "/x/key",
			       "-e", "none", "-T", "-x", "-a",
			       "-o", "BatchMode=yes", "-o", "HostKeyAlias=pve2",
			       "-o", "ConnectTimeout=5", "-o", "ServerAliveInterval=5",
			       "-o", "ServerAliveCountMax=3", "-o", "ControlMaster=auto",
			       "-o", "ControlPersist=900", "-o", cpath, "--", "root@10.0.0.2",
			       "'volrep' 'prepare-local-job' '100-0' 'it'\\''s'", NULL };
	expect_argv(&av, want);
	/* the socket directory was made private */
	snprintf(cpath, sizeof(cpath), "%s/ssh", dir);
	assert_int_equal(stat(cpath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* the remote command splits back to exactly cmd */
	{
		struct strvec back = STRVEC_INIT;

		assert_int_equal(sq_split_strict(av.v[av.nr - 1], strlen(av.v[av.nr - 1]), &back, NULL), 4);
		expect_argv(&back, cmd);
		strvec_clear(&back);
	}
	strvec_clear(&av);

	/* defaults: plain "ssh"; no multiplexing on request */
	unsetenv("VOLREP_SSH");
	setenv("VOLREP_SSH_CONTROL_DIR", "", 1);
	assert_int_equal(transport_ssh_init(&t, "b", "::1", dir), 0);
	const char *v[] = { "volrep", "version", NULL };
	assert_int_equal(transport_build_argv(&t, v, &av), 0);
	const char *want2[] = { "ssh", "-e", "none", "-T", "-x", "-a", "-o", "BatchMode=yes",
				"-o", "HostKeyAlias=b", "-o", "ConnectTimeout=5", "-o", "ServerAliveInterval=5",
				"-o", "ServerAliveCountMax=3", "-o", "ControlMaster=no", "-o", "ControlPath=none",
				"--", "root@::1", "'volrep' 'version'", NULL };
	expect_argv(&av, want2);
	strvec_clear(&av);

	/* nodes.cfg's port: -p after the VOLREP_SSH words, before ours */
	assert_int_equal(transport_ssh_init(&t, "b", "::1", dir), 0);
	assert_int_equal(transport_ssh_set_port(&t, 2222), 0);
	assert_int_equal(transport_build_argv(&t, v, &av), 0);
	assert_string_equal(av.v[0], "ssh");
	assert_string_equal(av.v[1], "-p");
	assert_string_equal(av.v[2], "2222");
	assert_string_equal(av.v[3], "-e");
	strvec_clear(&av);
	assert_int_equal(transport_ssh_set_port(&t, 0), -EINVAL);
	assert_int_equal(transport_ssh_set_port(&t, 65536), -EINVAL);
	transport_release(&t);

	/* volrep.cfg ssh-cipher: -c after the VOLREP_SSH words (so a -c
	 * there wins), before ours; bad names refused, nothing added */
	setenv("VOLREP_SSH", "ssh -c aes256-ctr", 1);
	assert_int_equal(transport_ssh_init(&t, "b", "::1", dir), 0);
	assert_int_equal(transport_ssh_set_cipher(&t, SSH_CIPHER_AES), 0);
	assert_int_equal(transport_ssh_set_cipher(&t, "-oProxyCommand=x"), -EINVAL);
	assert_int_equal(transport_ssh_set_cipher(&t, "aes128 ctr"), -EINVAL);
	assert_int_equal(transport_ssh_set_cipher(&t, ""), -EINVAL);
	assert_int_equal(transport_build_argv(&t, v, &av), 0);
	{
		const char *wantc[] = { "ssh", "-c", "aes256-ctr", "-c", "aes128-gcm@openssh.com", "-e", NULL };

		for (size_t i = 0; wantc[i]; i++)
			assert_string_equal(av.v[i], wantc[i]);
	}
	strvec_clear(&av);
	transport_release(&t);
	unsetenv("VOLREP_SSH");

	/* a long state dir falls back to the short system path */
	unsetenv("VOLREP_SSH_CONTROL_DIR");
	assert_int_equal(transport_ssh_init(&t, "b", "b", "/a/very/long/state/directory/path/that/is/too/long/for/sockets"), 0);
	assert_string_equal(t.control_dir, SSH_CONTROL_DIR_FALLBACK);
	transport_release(&t);

	/* invalid node, address, control dir */
	assert_int_equal(transport_ssh_init(&t, "-b", "b", dir), -EINVAL);
	assert_int_equal(transport_ssh_init(&t, "b", "-oProxyCommand=sh", dir), -EINVAL);
	assert_int_equal(transport_ssh_init(&t, "b", "a b", dir), -EINVAL);
	setenv("VOLREP_SSH_CONTROL_DIR", "relative/dir", 1);
	assert_int_equal(transport_ssh_init(&t, "b", "b", dir), -EINVAL);
	unsetenv("VOLREP_SSH_CONTROL_DIR");
	assert_null(t.ops);
	rmdir(cpath);
	rmdir(dir);
}

static void test_private_dir(void **state)
{
	char dir[] = "/tmp/vr-ut.XXXXXX", sub[64], link[80];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/a/b/ssh", dir);
	assert_int_equal(ssh_private_dir(sub), 0);
	assert_int_equal(ssh_private_dir(sub), 0);
	chmod(sub, 0755);
	assert_int_equal(ssh_private_dir(sub), -EPERM);
	chmod(sub, 0700);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(sub, link), 0);
	assert_int_equal(ssh_private_dir(link), -EPERM);
	assert_int_equal(ssh_private_dir("relative"), -EINVAL);
	unlink(link);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/a", dir);
	rmdir(sub);
	rmdir(dir);
}

static void test_ssh_exit_mapping_and_describe(void **state)
{
	struct transport t = TRANSPORT_INIT;
	struct strbuf msg = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	const char *v[] = { "volrep", "prepare-local-job", "100-0", NULL };
	char dir[] = "/tmp/vr-ut.XXXXXX", fake[80];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* a fake "ssh" that fails the way ssh does: message + exit 255 */
	snprintf(fake, sizeof(fake), "%s/fake-ssh", dir);
	fd = open(fake, O_WRONLY | O_CREAT, 0755);
	assert_true(fd >= 0);
	dprintf(fd, "#!/bin/sh\necho 'ssh: connect to host 127.0.1.9 port 22: Connection refused' >&2\nexit 255\n");
	close(fd);
	setenv("VOLREP_SSH", fake, 1);
	setenv("VOLREP_SSH_CONTROL_DIR", "", 1);
	assert_int_equal(transport_ssh_init(&t, "nodeb", "127.0.1.9", NULL), 0);
	assert_int_equal(transport_run(&t, v, NULL, 0, &out, &err, 4096), -ENOTCONN);
	transport_describe(&t, v, -ENOTCONN, err.buf, &msg);
	assert_string_equal(msg.buf, "ssh to 'nodeb' (127.0.1.9) failed: ssh: connect to host 127.0.1.9 port 22: Connection refused");
	transport_describe(&t, v, 1, "line one\nbad \x1b[31m thing\n\n", &msg);
	assert_string_equal(msg.buf, "command 'prepare-local-job' on 'nodeb' failed (exit code 1): bad ?[31m thing");
	transport_describe(&t, v, -ENOENT, NULL, &msg);
	assert_string_equal(msg.buf, "cannot run 'prepare-local-job' on 'nodeb': No such file or directory");
	transport_describe(&t, v, -ENOTCONN, "", &msg);
	assert_string_equal(msg.buf, "ssh to 'nodeb' (127.0.1.9) failed: connection failed");
	/* no ssh binary at all */
	setenv("VOLREP_SSH", "/nonexistent/ssh", 1);
	assert_int_equal(transport_ssh_init(&t, "nodeb", "127.0.1.9", NULL), 0);
	assert_int_equal(transport_run(&t, v, NULL, 0, NULL, NULL, 4096), -ENOENT);
	unsetenv("VOLREP_SSH");
	unsetenv("VOLREP_SSH_CONTROL_DIR");
	transport_release(&t);
	unlink(fake);
	rmdir(dir);
	strbuf_release(&msg);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void test_local(void **state)
{
	struct transport t = TRANSPORT_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, in = STRBUF_INIT;
	struct strvec av = STRVEC_INIT;
	const char *env_cmd[] = { "sh", "-c", "echo \"$VOLREP_NODE $VOLREP_STATE_DIR\"; echo oops >&2; exit 3", NULL };
	const char *v[] = { "volrep", "version", NULL };
	const char *wc[] = { "wc", "-c", NULL };
	struct relay_opts o = RELAY_OPTS_INIT;
	struct relay_stats st;
	int p[2];

	(void)state;
	assert_int_equal(transport_local_init(&t, "bad name", NULL), -EINVAL);
	assert_int_equal(transport_local_init(&t, "nodeb", "/opt/volrep"), 0);
	assert_int_equal(transport_build_argv(&t, v, &av), 0);
	const char *want[] = { "/opt/volrep", "version", NULL };
	expect_argv(&av, want);
	strvec_clear(&av);
	strvec_push(&t.env, "VOLREP_STATE_DIR=/tmp/st-b");
	assert_int_equal(transport_run(&t, env_cmd, NULL, 0, &out, &err, 4096), 3);
	assert_string_equal(out.buf, "nodeb /tmp/st-b\n");
	assert_string_equal(err.buf, "oops\n");

	/* streaming: 1 MiB through a pipe into "wc -c" on the "target" */
	strbuf_reset(&out);
	strbuf_reset(&err);
	assert_int_equal(pipe(p), 0);
	strbuf_grow(&in, 1 << 20);
	memset(in.buf, 'x', 1 << 20);
	strbuf_setlen(&in, 1 << 20);
	pid_t writer = fork();
	if (writer == 0) {
		close(p[0]);
		ssize_t unused = write(p[1], in.buf, in.len);
		(void)unused;
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(transport_stream(&t, wc, p[0], &o, &out, &err, 4096, &st), 0);
	close(p[0]);
	waitpid(writer, NULL, 0);
	assert_int_equal(st.bytes, 1 << 20);
	assert_int_equal(strtol(out.buf, NULL, 10), 1 << 20);
	transport_release(&t);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&in);
}

/* serve: accepted command lines and their argv */
static void accept_cmd(const char *cmd, const char *const *want, int line)
{
	struct strvec av = STRVEC_INIT;
	struct strbuf why = STRBUF_INIT;

	if (serve_parse(cmd, strlen(cmd), &av, &why) != 0) {
		fprintf(stderr, "line %d: refused (%s): %s\n", line, why.buf, cmd);
		fail();
	}
	if (want)
		expect_argv(&av, want);
	strvec_clear(&av);
	strbuf_release(&why);
}
#define ACCEPT(cmd, ...) accept_cmd((cmd), (const char *const[]){ __VA_ARGS__, NULL }, __LINE__)

static void refuse_cmd(const char *cmd, const char *reason, int line)
{
	struct strvec av = STRVEC_INIT;
	struct strbuf why = STRBUF_INIT;

	if (serve_parse(cmd, strlen(cmd), &av, &why) != -EINVAL) {
		fprintf(stderr, "line %d: accepted: %s\n", line, cmd);
		fail();
	}
	assert_int_equal(av.nr, 0);
	if (reason && !strstr(why.buf, reason)) {
		fprintf(stderr, "line %d: reason '%s' lacks '%s'\n", line, why.buf, reason);
		fail();
	}
	strvec_clear(&av);
	strbuf_release(&why);
}
#define REFUSE(cmd, reason) refuse_cmd((cmd), (reason), __LINE__)

static void test_serve_accepts(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	ACCEPT("'volrep' 'version'", "version");
	ACCEPT("volrep version", "version");
	ACCEPT("'volrep' 'prepare-local-job' '100-0' '--scan' 'local-zfs,tank2' 'local-zfs:vm-100-disk-0' "
	       "'local-zfs:subvol-100-disk-1' '--last_sync' '1714564800' '--parent_snapname' '__migration__' '--force'",
	       "prepare-local-job", "100-0", "local-zfs:vm-100-disk-0", "local-zfs:subvol-100-disk-1", "--scan",
	       "local-zfs,tank2", "--last_sync", "1714564800", "--parent_snapname", "__migration__", "--force");
	/* the child's argv is built in the table's order, whatever the order sent */
	ACCEPT("volrep prepare-local-job 100-0 --force --last_sync 0 local-zfs:vm-100-disk-0", "prepare-local-job",
	       "100-0", "local-zfs:vm-100-disk-0", "--last_sync", "0", "--force");
	ACCEPT("'volrep' 'prepare-local-job' '100-0' '--last_sync' '0' '--force'", "prepare-local-job", "100-0",
	       "--last_sync", "0", "--force");
	ACCEPT("'volrep' 'finalize-local-job' '100-10' 'local-btrfs:100/vm-100-disk-0.raw' '--last_sync' '1714565700'",
	       "finalize-local-job", "100-10", "local-btrfs:100/vm-100-disk-0.raw", "--last_sync", "1714565700");
	ACCEPT("'volrep' 'import' 'local-zfs:vm-100-disk-0' '--base' '__replicate_100-0_1714564800__' "
	       "'--snapshot' '__replicate_100-0_1714565700__'",
	       "import", "local-zfs:vm-100-disk-0", "--snapshot", "__replicate_100-0_1714565700__", "--base",
	       "__replicate_100-0_1714564800__");
	ACCEPT("'volrep' 'set-state' '100' '{\"local/b\":{\"last_sync\":1,\"error\":\"it'\\''s ; $(x)\"}}'",
	       "set-state", "100", "{\"local/b\":{\"last_sync\":1,\"error\":\"it's ; $(x)\"}}");
	/* what the transport builds, serve accepts: round trip */
	const char *argv[] = { "volrep", "set-state", "100", "{\"a\":\"'\\\"'\"}", NULL };
	sq_quote_argv(&sb, argv);
	ACCEPT(sb.buf, "set-state", "100", "{\"a\":\"'\\\"'\"}");
	strbuf_release(&sb);
}

static void test_serve_refuses(void **state)
{
	char *big;

	(void)state;
	/* shell syntax of any kind */
	REFUSE("'volrep' 'version'; id", "metacharacter");
	REFUSE("'volrep' 'version' && id", "metacharacter");
	REFUSE("'volrep' 'version' | sh", "metacharacter");
	REFUSE("'volrep' 'version' > /tmp/x", "metacharacter");
	REFUSE("'volrep' 'version' < /etc/shadow", "metacharacter");
	REFUSE("'volrep' $(id)", "metacharacter");
	REFUSE("'volrep' `id`", "metacharacter");
	REFUSE("'volrep' 'version'\nid", "control");
	REFUSE("'volrep' 'version'\n", "control");
	REFUSE("'volrep' 'version", "unterminated");
	REFUSE("", "empty");
	REFUSE("   ", "empty");
	/* not volrep, unknown verbs, target-side verbs only */
	REFUSE("sh -c id", "not a volrep command");
	REFUSE("/usr/sbin/volrep version", "not a volrep command");
	REFUSE("'volrep'", "no verb");
	REFUSE("'volrep' 'run'", "verb not allowed");
	REFUSE("'volrep' 'delete' '100-0'", "verb not allowed");
	REFUSE("'volrep' 'serve'", "verb not allowed");
	REFUSE("'volrep' 'daemon'", "verb not allowed");
	REFUSE("'volrep' '--config-dir' '/tmp/evil' 'version'", "verb not allowed");
	REFUSE("'volrep' 'version' '--node' 'x'", "option not allowed");
	REFUSE("'volrep' 'version' 'extra'", "too many arguments");
	/* argument grammar */
	/* global options are never a verb's options: who and where is serve's */
	REFUSE("'volrep' 'import' 'local-zfs:vm-100-disk-0' '--snapshot' 's' '--node' 'a'", "option not allowed");
	REFUSE("'volrep' 'import' 'local-zfs:vm-100-disk-0' '--snapshot' 's' '--config-dir' '/tmp'",
	       "option not allowed");
	REFUSE("'volrep' 'prepare-local-job' '100-0' '--last_sync' '1' '--state-dir' '/tmp'", "option not allowed");
	REFUSE("'volrep' 'finalize-local-job' '100-0' 'local-zfs:vm-100-disk-0' '--last_sync' '1' '--log-dir' '/x'",
	       "option not allowed");
	REFUSE("'volrep' 'set-state' '100' '{}' '--node' 'a'", "option not allowed");
	REFUSE("'volrep' 'guest-start' '100' '--node=a'", "option not allowed");
	/* options the engine never sends are gone, even harmless-looking ones */
	REFUSE("'volrep' 'import' 'local-zfs:vm-100-disk-0' '--snapshot' 's' '--with-snapshots' '1'",
	       "option not allowed");
	REFUSE("'volrep' 'import' 'local-zfs:vm-100-disk-0' '--snapshot' 's' '--format' 'zfs'", "option not allowed");
	REFUSE("'volrep' 'import' 'local-zfs:vm-100-disk-0' '--snapshot' 's' '--jobid' '100-0'", "option not allowed");
	REFUSE("'volrep' 'import' 'local-zfs:vm-100-disk-0' '--snapshot' 's' '--dataset-prefix' 'x'",
	       "option not allowed");
	/* what the engine always sends is required */
	REFUSE("'volrep' 'import' 'local-zfs:vm-100-disk-0'", "missing option for 'import': '--snapshot'");
	REFUSE("'volrep' 'prepare-local-job' '100-0' 'local-zfs:vm-100-disk-0'", "missing option");
	REFUSE("'volrep' 'finalize-local-job' '100-0' '--last_sync' '1'", "missing volume id");
	REFUSE("'volrep' 'replica-snapshots' '100'", "missing volume id");
	REFUSE("'volrep' 'prepare-local-job'", "missing job id");
	REFUSE("'volrep' 'prepare-local-job' '100'", "invalid job id");
	REFUSE("'volrep' 'prepare-local-job' '100-00'", "invalid job id");
	REFUSE("'volrep' 'prepare-local-job' '-100-0'", "invalid job id");
	REFUSE("'volrep' 'prepare-local-job' '100-0' 'vm-100-disk-0'", "invalid volume id");
	REFUSE("'volrep' 'prepare-local-job' '100-0' 'local-zfs:../etc'", "invalid volume id");
	REFUSE("'volrep' 'prepare-local-job' '100-0' 'local-zfs:-rf'", "invalid volume id");
	REFUSE("'volrep' 'prepare-local-job' '100-0' 'Local:vm-100-disk-0'", "invalid volume id");
	REFUSE("'volrep' 'prepare-local-job' '100-0' 'local-zfs:vm 100'", "invalid volume id");
	REFUSE("'volrep' 'prepare-local-job' '100-0' '--last_sync'", "needs a value");
	REFUSE("'volrep' 'prepare-local-job' '100-0' '--last_sync' '-1'", "invalid number");
	REFUSE("'volrep' 'prepare-local-job' '100-0' '--last_sync' '01'", "invalid number");
	REFUSE("'volrep' 'prepare-local-job' '100-0' '--last_sync' '1e9'", "invalid number");
	REFUSE("'volrep' 'prepare-local-job' '100-0' '--last_sync' '1' '--last_sync' '2'", "repeated option");
	REFUSE("'volrep' 'prepare-local-job' '100-0' '--last_sync=1'", "option not allowed");
	REFUSE("'volrep' 'prepare-local-job' '100-0' '--scan' 'a,,b'", "invalid storage list");
	REFUSE("'volrep' 'prepare-local-job' '100-0' '--scan' ''", "invalid storage list");
	REFUSE("'volrep' 'prepare-local-job' '100-0' '--parent_snapname' '-x'", "invalid snapshot name");
	REFUSE("'volrep' 'prepare-local-job' '100-0' '--parent_snapname' 'a/b'", "invalid snapshot name");
	REFUSE("'volrep' 'prepare-local-job' '100-0' '--force' '1'", "invalid volume id");
	REFUSE("'volrep' 'prepare-local-job' '100-0' '--exec' 'x'", "option not allowed");
	REFUSE("'volrep' 'finalize-local-job' '100-0' '--scan' 'a'", "option not allowed");
	REFUSE("'volrep' 'import'", "missing volume id");
	REFUSE("'volrep' 'import' 'local-zfs:vm-100-disk-0' 'second'", "too many arguments");
	REFUSE("'volrep' 'import' 'local-zfs:vm-100-disk-0' '--snapshot' 'a b'", "invalid snapshot name");
	REFUSE("'volrep' 'import' 'local-zfs:vm-100-disk-0' '--target' '../../etc'", "option not allowed");
	REFUSE("'volrep' 'import' 'local-zfs:vm-100-disk-0' '--Target' 'a'", "option not allowed");
	REFUSE("'volrep' 'import' 'local-zfs:vm-100-disk-0' '---x' 'a'", "option not allowed");
	/* the volume goes where storage.cfg says, never to a caller's pool or path */
	REFUSE("'volrep' 'import' 'local-zfs:vm-100-disk-0' '--snapshot' 's' '--zfs-pool' 'rpool/data/subvol-200-disk-0'",
	       "option not allowed");
	REFUSE("'volrep' 'import' 'local-btrfs:vm-100-disk-0' '--btrfs-path' '/root'", "option not allowed");
	REFUSE("'volrep' 'import' 'local-zfs:vm-100-disk-0' '--' 'a'", "option not allowed");
	REFUSE("'volrep' 'set-state' '100'", "missing JSON object");
	REFUSE("'volrep' 'set-state' '99' '{}'", "invalid guest id");
	REFUSE("'volrep' 'set-state' '100' '[1]'", "invalid JSON object");
	REFUSE("'volrep' 'set-state' '100' '{'", "invalid JSON object");
	REFUSE("'volrep' 'set-state' '100' '{\"a\":1,\"a\":2}'", "invalid JSON object");
	REFUSE("'volrep' 'set-state' '100' '{}' '{}'", "too many arguments");
	/* offending values are shown shortened and printable */
	big = malloc(2000);
	memset(big, 'v', 1999);
	big[1999] = '\0';
	memcpy(big, "'volrep' '", 10);
	big[1998] = '\'';
	{
		struct strvec av = STRVEC_INIT;
		struct strbuf why = STRBUF_INIT;

		assert_int_equal(serve_parse(big, strlen(big), &av, &why), -EINVAL);
		assert_true(why.len < 120);
		assert_non_null(strstr(why.buf, "...'"));
		strbuf_release(&why);
	}
	free(big);
}

/* failover's test for a dead node: only "unreachable" counts */
static void test_ssh_unreachable(void **state)
{
	(void)state;
	assert_true(ssh_unreachable("ssh: connect to host 10.0.0.1 port 22: Connection refused\n"));
	assert_true(ssh_unreachable("ssh: connect to host 10.0.0.1 port 22: No route to host\r\n"));
	assert_true(ssh_unreachable("ssh: connect to host 10.0.0.1 port 22: Connection timed out\n"));
	assert_true(ssh_unreachable("Connection timed out during banner exchange\n"));
	assert_false(ssh_unreachable(""));
	assert_false(ssh_unreachable(NULL));
	assert_false(ssh_unreachable("Host key verification failed.\n"));
	assert_false(ssh_unreachable("root@10.0.0.1: Permission denied (publickey).\n"));
	assert_false(ssh_unreachable("ssh: Could not resolve hostname pve9: Name or service not known\n"));
	assert_false(ssh_unreachable("Connection closed by 10.0.0.1 port 22\n"));
	assert_false(ssh_unreachable("client_loop: send disconnect: Broken pipe\n"));
	/* a warning next to a timeout is not a dead node */
	assert_false(ssh_unreachable("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\n"
				     "ssh: connect to host 10.0.0.1 port 22: Connection timed out\n"));
}


/* The direct data path on loopback: one connection with the right token
 * gets through; a wrong token, a missing one, a second connection and a
 * silent source are refused within their bounds. */
static int raw_connect(const struct direct_listener *l)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)l->port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, l->addr, &sa.sin_addr), 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void test_direct_path(void **state)
{
	struct direct_listener l = DIRECT_LISTENER_INIT;
	struct strbuf err = STRBUF_INIT, line = STRBUF_INIT;
	char addr[INET6_ADDRSTRLEN], token[DIRECT_TOKEN_HEX + 1], wrong[DIRECT_TOKEN_HEX + 1], buf[16];
	unsigned port = 0;
	int a, b, in;

	(void)state;
	/* the right token: data arrives */
	assert_int_equal(direct_listen(&l, "127.0.0.0/8", "127.0.0.1", &err), 0);
	assert_string_equal(l.addr, "127.0.0.1");
	assert_true(l.port > 0);
	assert_int_equal(strlen(l.token), DIRECT_TOKEN_HEX);
	direct_announce(&l, &line);
	assert_int_equal(direct_parse_announce(line.buf, "127.0.0.0/8", addr, &port, token, &err), 0);
	assert_string_equal(addr, "127.0.0.1");
	assert_int_equal(port, l.port);
	a = direct_connect(addr, port, token, 1000, &err);
	assert_true(a >= 0);
	assert_int_equal(write(a, "data", 4), 4);
	in = direct_accept(&l, 1000, 1000, &err);
	assert_true(in >= 0);
	assert_int_equal(read(in, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "data", 4);
	/* exactly one connection: the port is closed now */
	assert_int_equal(l.fd, -1);
	b = direct_connect(addr, port, token, 1000, &err);
	assert_int_equal(b, -ECONNREFUSED);
	assert_non_null(strstr(err.buf, "Connection refused"));
	close(a);
	close(in);

	/* a wrong token (one digit off): refused, and the port is closed */
	strbuf_reset(&err);
	assert_int_equal(direct_listen(&l, "127.0.0.1", NULL, &err), 0);
	snprintf(wrong, sizeof(wrong), "%s", l.token);
	wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
	a = direct_connect(l.addr, l.port, wrong, 1000, &err);
	assert_true(a >= 0);
	port = l.port;
	assert_int_equal(direct_accept(&l, 1000, 1000, &err), -EACCES);
	assert_non_null(strstr(err.buf, "direct connection from '127.0.0.1' refused: wrong token"));
	assert_int_equal(direct_connect("127.0.0.1", port, wrong, 1000, &err), -ECONNREFUSED);
	close(a);

	/* two connections at once: the first is taken (here with a good
	 * token), the second one never gets in */
	strbuf_reset(&err);
	assert_int_equal(direct_listen(&l, "127.0.0.1/32", NULL, &err), 0);
	a = direct_connect(l.addr, l.port, l.token, 1000, &err);
	b = raw_connect(&l);
	assert_true(a >= 0 && b >= 0);
	in = direct_accept(&l, 1000, 1000, &err);
	assert_true(in >= 0);
	/* reset when the listener closed: it can send nothing to anyone */
	assert_true(send(b, "x", 1, MSG_NOSIGNAL) < 0 || read(b, buf, 1) <= 0);
	close(a);
	close(b);
	close(in);

	/* no token within the bound; no connection within the bound */
	strbuf_reset(&err);
	assert_int_equal(direct_listen(&l, "127.0.0.1/32", NULL, &err), 0);
	a = raw_connect(&l);
	assert_int_equal(direct_accept(&l, 1000, 100, &err), -ETIMEDOUT);
	assert_non_null(strstr(err.buf, "sent no token"));
	close(a);
	strbuf_reset(&err);
	assert_int_equal(direct_listen(&l, "127.0.0.1/32", NULL, &err), 0);
	assert_int_equal(direct_accept(&l, 100, 100, &err), -ETIMEDOUT);
	assert_non_null(strstr(err.buf, "no direct connection to 127.0.0.1"));

	/* a preferred address that is not ours (NAT): an interface's */
	strbuf_reset(&err);
	assert_int_equal(direct_listen(&l, "0.0.0.0/0", "10.99.99.99", &err), 0);
	assert_string_not_equal(l.addr, "10.99.99.99");
	assert_true(l.fd >= 0);
	direct_close(&l);

	/* no address of this node in the network; a bad network */
	strbuf_reset(&err);
	assert_int_equal(direct_listen(&l, "198.18.255.0/24", "198.51.100.1", &err), -EADDRNOTAVAIL);
	assert_string_equal(err.buf, "no address of this node in migration network '198.18.255.0/24'");
	strbuf_reset(&err);
	assert_int_equal(direct_listen(&l, "10.0.0.0/33", NULL, &err), -EINVAL);
	direct_close(&l);
	strbuf_release(&err);
	strbuf_release(&line);
}

/* What the target announces is hostile. */
static void test_direct_announce(void **state)
{
	static const char tok[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	static const char *const bad[] = {
		"direct-listen 10.1.0.5 0 %s", "direct-listen 10.1.0.5 65536 %s", "direct-listen 10.1.0.5 080 %s",
		"direct-listen 10.2.0.5 4000 %s", "direct-listen evil.example 4000 %s", "direct-listen 10.1.0.5 4000 %s x",
		"direct-listen 10.1.0.5 4000 %sa", "direct-listen  10.1.0.5 4000 %s", "direct-listen 10.1.0.5 4000",
		"DIRECT-LISTEN 10.1.0.5 4000 %s", "direct-listen 10.1.0.5 -1 %s", "direct-listen 10.1.0.5 4000 %s\n",
		NULL,
	};
	struct strbuf err = STRBUF_INIT, line = STRBUF_INIT;
	char addr[INET6_ADDRSTRLEN], token[DIRECT_TOKEN_HEX + 1];
	unsigned port = 0;

	(void)state;
	strbuf_addf(&line, "direct-listen 10.1.0.5 4000 %s", tok);
	assert_int_equal(direct_parse_announce(line.buf, "10.1.0.0/24", addr, &port, token, &err), 0);
	assert_int_equal(port, 4000);
	assert_string_equal(token, tok);
	for (int i = 0; bad[i]; i++) {
		strbuf_reset(&line);
		strbuf_addf(&line, bad[i], tok);
		if (direct_parse_announce(line.buf, "10.1.0.0/24", addr, &port, token, &err) != -EPROTO)
			fail_msg("accepted '%s'", line.buf);
	}
	strbuf_reset(&line);
	strbuf_addf(&line, "direct-listen 10.1.0.5 4000 %.63sG", tok);
	assert_int_equal(direct_parse_announce(line.buf, "10.1.0.0/24", addr, &port, token, &err), -EPROTO);
	strbuf_reset(&err);
	strbuf_reset(&line);
	strbuf_addf(&line, "direct-listen 10.2.0.5 4000 %s", tok);
	direct_parse_announce(line.buf, "10.1.0.0/24", addr, &port, token, &err);
	assert_string_equal(err.buf, "target announced address '10.2.0.5' outside migration network '10.1.0.0/24'");
	strbuf_release(&err);
	strbuf_release(&line);
}

static void test_cidr(void **state)
{
	struct cidr c;
	char buf[64];

	(void)state;
	assert_int_equal(cidr_parse("10.1.2.3/24", &c), 0);
	cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "10.1.2.0/24");
	assert_true(cidr_contains_str(&c, "10.1.2.250"));
	assert_false(cidr_contains_str(&c, "10.1.3.1"));
	assert_false(cidr_contains_str(&c, "fd00::1"));
	assert_false(cidr_contains_str(&c, "10.1.2"));
	assert_int_equal(cidr_parse("10.1.2.3", &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(cidr_parse("172.16.0.0/12", &c), 0);
	assert_true(cidr_contains_str(&c, "172.31.255.255"));
	assert_false(cidr_contains_str(&c, "172.32.0.0"));
	assert_int_equal(cidr_parse("fd00:1::/64", &c), 0);
	assert_true(cidr_contains_str(&c, "fd00:1::abcd"));
	assert_false(cidr_contains_str(&c, "fd00:2::1"));
	assert_int_equal(cidr_parse("0.0.0.0/0", &c), 0);
	assert_true(cidr_contains_str(&c, "192.0.2.1"));
	static const char *const bad[] = { "", "10.1.2.0/", "10.1.2.0/33", "10.1.2.0/024", "10.1.2.0/2x", "/24",
					   "10.1.2/24", "host/24", "fd00::/129", "10.1.2.0/24/1", " 10.1.2.0/24",
					   "10.1.2.0/-1", NULL };
	for (int i = 0; bad[i]; i++)
		if (cidr_parse(bad[i], &c) == 0)
			fail_msg("accepted '%s'", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_address),
		cmocka_unit_test(test_ssh_argv),
		cmocka_unit_test(test_ssh_cipher_auto),
		cmocka_unit_test(test_private_dir),
		cmocka_unit_test(test_ssh_exit_mapping_and_describe),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_serve_accepts),
		cmocka_unit_test(test_serve_refuses),
		cmocka_unit_test(test_ssh_unreachable),
		cmocka_unit_test(test_direct_path),
		cmocka_unit_test(test_direct_announce),
		cmocka_unit_test(test_cidr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
