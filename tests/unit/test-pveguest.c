/* The PVE guest integration: lxc's command socket in /proc/net/unix,
 * qemu's pid file and command line, the `agent:` property string, the
 * guest agent's replies (0xFF delimiter, sync id, strict JSON) and one
 * exchange with a guest agent over a unix socket, bounded in time. */
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/interrupt.h"
#include "engine/pveguest.h"
#include "engine/qga.h"

static void test_unix_table(void **state)
{
	static const char t[] =
		"Num       RefCount Protocol Flags    Type St Inode Path\n"
		"0000000000000000: 00000002 00000000 00010000 0001 01 23817 @/var/lib/lxc/2000/command\n"
		"0000000000000000: 00000002 00000000 00010000 0001 01 23818 /var/lib/lxc/201/command\n"
		"0000000000000000: 00000002 00000000 00010000 0001 01 x23819 @/var/lib/lxc/202/command\n"
		"0000000000000000: 00000002 00000000 00010000 0001 01 23820 @/var/lib/lxc/203/command extra\n"
		"0000000000000000: 00000003 00000000 00000000 0001 03 23821\n"
		"0000000000000000: 00000002 00000000 00010000 0001 01 23816 @/var/lib/lxc/200/command";

	(void)state;
	assert_int_equal(pve_unix_table_has_ct(t, sizeof(t) - 1, 200), 1);
	assert_int_equal(pve_unix_table_has_ct(t, sizeof(t) - 1, 2000), 1);
	assert_int_equal(pve_unix_table_has_ct(t, sizeof(t) - 1, 20), 0);
	/* not abstract, a bad inode, a trailing field: not lxc's socket */
	assert_int_equal(pve_unix_table_has_ct(t, sizeof(t) - 1, 201), 0);
	assert_int_equal(pve_unix_table_has_ct(t, sizeof(t) - 1, 202), 0);
	assert_int_equal(pve_unix_table_has_ct(t, sizeof(t) - 1, 203), 0);
	assert_int_equal(pve_unix_table_has_ct("", 0, 200), 0);
}

#define CMD(s) s, sizeof(s) - 1

static void test_qemu_cmdline(void **state)
{
	const char *pf = "/var/run/qemu-server/100.pid";

	(void)state;
	assert_true(pve_qemu_cmdline_matches(
		CMD("/usr/bin/kvm\0-id\0" "100\0-name\0web\0-pidfile\0/var/run/qemu-server/100.pid\0-daemonize\0"), pf));
	assert_true(pve_qemu_cmdline_matches(CMD("qemu-system-x86_64\0--pidfile\0/var/run/qemu-server/100.pid\0"),
						 pf));
	/* another VM's pid file, another program, the path as an option's
	 * value of something else, a value-less -pidfile */
	assert_false(pve_qemu_cmdline_matches(CMD("/usr/bin/kvm\0-pidfile\0/var/run/qemu-server/101.pid\0"), pf));
	assert_false(pve_qemu_cmdline_matches(CMD("/bin/sleep\0-pidfile\0/var/run/qemu-server/100.pid\0"), pf));
	assert_false(pve_qemu_cmdline_matches(CMD("/usr/bin/qemu-\0-pidfile\0/var/run/qemu-server/100.pid\0"), pf));
	assert_false(pve_qemu_cmdline_matches(CMD("/usr/bin/kvm\0-name\0/var/run/qemu-server/100.pid\0"), pf));
	assert_false(pve_qemu_cmdline_matches(CMD("/usr/bin/kvm\0-pidfile\0-daemonize\0"), pf));
	assert_false(pve_qemu_cmdline_matches(CMD("/usr/bin/kvm\0-pidfile\0/var/run/qemu-server/100.pidx\0"), pf));
	assert_false(pve_qemu_cmdline_matches("", 0, pf));
}

/* without the pmxcfs store only VOLREP_GUEST_STATE=pve asks PVE */
static void test_state_on(void **state)
{
	(void)state;
	unsetenv("VOLREP_GUEST_STATE");
	assert_false(pve_guest_state_on());
	setenv("VOLREP_GUEST_STATE", "hook", 1);
	assert_false(pve_guest_state_on());
	setenv("VOLREP_GUEST_STATE", "pve", 1);
	assert_true(pve_guest_state_on());
	unsetenv("VOLREP_GUEST_STATE");
	/* nothing there: not running */
	setenv("VOLREP_PVE_RUN_DIR", "/nonexistent", 1);
	setenv("VOLREP_PVE_PROC_NET_UNIX", "/nonexistent", 1);
	assert_false(pve_guest_running(GUEST_QEMU, 100));
	assert_false(pve_guest_running(GUEST_LXC, 100));
	unsetenv("VOLREP_PVE_RUN_DIR");
	unsetenv("VOLREP_PVE_PROC_NET_UNIX");
}

static void test_agent_property(void **state)
{
	(void)state;
	assert_int_equal(pve_agent_freeze_wanted(NULL), 0);
	assert_int_equal(pve_agent_freeze_wanted("1"), 1);
	assert_int_equal(pve_agent_freeze_wanted("enabled=1"), 1);
	assert_int_equal(pve_agent_freeze_wanted("yes,type=virtio"), 1);
	assert_int_equal(pve_agent_freeze_wanted("0"), 0);
	assert_int_equal(pve_agent_freeze_wanted("0,freeze-fs=1"), 0);
	assert_int_equal(pve_agent_freeze_wanted("1,freeze-fs-on-backup=0"), 0);
	assert_int_equal(pve_agent_freeze_wanted("1,freeze-fs=0"), 0);
	assert_int_equal(pve_agent_freeze_wanted("enabled=1,freeze-fs-on-backup=1,fstrim_cloned_disks=1"), 1);
	assert_int_equal(pve_agent_freeze_wanted("1,guest-fsfreeze=off"), 0);
	/* PVE takes an agent option it cannot parse as disabled */
	assert_int_equal(pve_agent_freeze_wanted("1,bogus=1"), -EINVAL);
	assert_int_equal(pve_agent_freeze_wanted("maybe"), -EINVAL);
	assert_int_equal(pve_agent_freeze_wanted("1,freeze-fs=0,freeze-fs=1"), -EINVAL);
	assert_int_equal(pve_agent_freeze_wanted("1,"), -EINVAL);
	assert_int_equal(pve_agent_freeze_wanted("1,1"), -EINVAL);
	assert_int_equal(pve_agent_freeze_wanted("1,type=usb"), -EINVAL);
}

static int parse(const char *s, int64_t id, struct qga_reply *rep, struct strbuf *err)
{
	strbuf_reset(err);
	return qga_parse_reply(s, strlen(s), id, rep, err);
}

static void test_qga_parse(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct qga_reply rep;

	(void)state;
	assert_int_equal(parse("", 7, &rep, &err), 0);
	assert_int_equal(parse("junk from before\xff{\"return\": 7}\n", 7, &rep, &err), 0);
	assert_int_equal(parse("junk\xff{\"return\": 7}\n{\"return\": 2}\n", 7, &rep, &err), 1);
	assert_int_equal(rep.kind, QGA_RETURN);
	assert_true(rep.has_int);
	assert_int_equal(rep.ival, 2);
	assert_int_equal(parse("\xff{\"return\": 7}\r\n{\"return\": \"frozen\"}\r\n", 7, &rep, &err), 1);
	assert_string_equal(rep.word, "frozen");
	assert_int_equal(parse("\xff{\"return\": 7}\n{\"return\": \"\\u001b[2J\"}\n", 7, &rep, &err), 1);
	assert_string_equal(rep.word, "");
	/* a late answer to an earlier client is skipped */
	assert_int_equal(parse("\xff{\"return\": 6}\n{\"return\": 0}\n\xff{\"return\": 7}\n{\"return\": {}}\n", 7,
			       &rep, &err), 1);
	assert_int_equal(rep.kind, QGA_RETURN);
	assert_false(rep.has_int);
	assert_int_equal(parse("\xff{\"return\": 7}\n{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\\nway\\u001b\"}}\n",
			       7, &rep, &err), 1);
	assert_int_equal(rep.kind, QGA_ERROR);
	assert_string_equal(rep.desc, "no?way?");
	/* hostile or broken */
	assert_int_equal(parse("\xff{\"return\": 8}\n{\"return\": 0}\n", 7, &rep, &err), -EPROTO);
	assert_non_null(strstr(err.buf, "wrong sync id 8 (expected 7)"));
	assert_int_equal(parse("\xff{\"return\": \"7\"}\n{\"return\": 0}\n", 7, &rep, &err), -EPROTO);
	assert_int_equal(parse("\xff{\"return\": 7, \"x\": 1}\n{\"return\": 0}\n", 7, &rep, &err), -EPROTO);
	assert_int_equal(parse("\xff{\"return\": 7}\n{\"return\": 0, \"return\": 1}\n", 7, &rep, &err), -EPROTO);
	assert_int_equal(parse("\xff{\"return\": 7}\n{\"return\": 0} x\n", 7, &rep, &err), -EPROTO);
	assert_int_equal(parse("\xff{\"return\": 7}\n[0]\n", 7, &rep, &err), -EPROTO);
	assert_int_equal(parse("\xff{\"return\": 7}\n{\"return\": 0, \"error\": {}}\n", 7, &rep, &err), -EPROTO);
	assert_int_equal(parse("\xff{\"return\": 7}\n{}\n", 7, &rep, &err), -EPROTO);
	assert_int_equal(parse("\xff" "nope\n{}\n", 7, &rep, &err), -EPROTO);
	{
		/* no end in sight: bounded */
		char *big = malloc(QGA_REPLY_MAX + 1);

		memset(big, 'x', QGA_REPLY_MAX);
		big[QGA_REPLY_MAX] = 0;
		assert_int_equal(parse(big, 7, &rep, &err), -EPROTO);
		free(big);
	}
	strbuf_release(&err);
}

/* A guest agent in a child: accepts one client, reads its two lines,
 * answers when answer is not NULL (with the client's sync id). */
static pid_t agent_start(const char *path, const char *answer)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[4096], out[4200];
		size_t len = 0;
		long long id = 0;
		int c = accept(l, NULL, NULL);
		ssize_t n;

		while (c >= 0 && len < sizeof(buf) - 1 && (n = read(c, buf + len, sizeof(buf) - 1 - len)) > 0) {
			len += (size_t)n;
			buf[len] = 0;
			if (strchr(buf, '\n') && strchr(strchr(buf, '\n') + 1, '\n'))
				break;
		}
		if (c >= 0 && answer && sscanf(buf, "{\"execute\": \"guest-sync-delimited\", \"arguments\": {\"id\": %lld}}",
					       &id) == 1) {
			n = snprintf(out, sizeof(out), "\xff{\"return\": %lld}\n%s\n", id, answer);
			if (write(c, out, (size_t)n) != n)
				_exit(1);
		}
		pause();
		_exit(0);
	}
	close(l);
	return pid;
}

static void agent_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_qga_command(void **state)
{
	char dir[] = "/tmp/volrep-qga-XXXXXX", path[128];
	struct strbuf err = STRBUF_INIT;
	struct qga_reply rep;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/100.qga", dir);
	pid = agent_start(path, "{\"return\": 3}");
	assert_int_equal(qga_command(path, "guest-fsfreeze-freeze", 5000, &rep, &err), 0);
	assert_int_equal(rep.kind, QGA_RETURN);
	assert_int_equal(rep.ival, 3);
	agent_stop(pid);
	/* an agent that never answers: the wait ends */
	pid = agent_start(path, NULL);
	strbuf_reset(&err);
	assert_int_equal(qga_command(path, "guest-ping", 200, &rep, &err), -ETIMEDOUT);
	assert_non_null(strstr(err.buf, "guest agent command 'guest-ping' got timeout after 200 ms"));
	agent_stop(pid);
	/* an interrupted run stops waiting - but still thaws */
	interrupt_raise_flag(SIGTERM);
	pid = agent_start(path, NULL);
	strbuf_reset(&err);
	assert_int_equal(qga_command(path, "guest-fsfreeze-freeze", 600000, &rep, &err), -EINTR);
	agent_stop(pid);
	pid = agent_start(path, "{\"return\": 1}");
	assert_int_equal(qga_command(path, "guest-fsfreeze-thaw", 5000, &rep, &err), 0);
	assert_int_equal(rep.ival, 1);
	agent_stop(pid);
	interrupt_reset();
	unlink(path);
	strbuf_reset(&err);
	assert_int_equal(qga_command(path, "guest-ping", 200, &rep, &err), -ENOENT);
	assert_non_null(strstr(err.buf, "unable to connect to the guest agent socket"));
	rmdir(dir);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unix_table),
		cmocka_unit_test(test_qemu_cmdline),
		cmocka_unit_test(test_state_on),
		cmocka_unit_test(test_agent_property),
		cmocka_unit_test(test_qga_parse),
		cmocka_unit_test(test_qga_command),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
