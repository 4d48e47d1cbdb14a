/* Unit tests of the daemon's small parts: the sd_notify datagrams
 * (src/daemon/notify.c) and the size in its end-of-run line
 * (run_format_size, engine/replicate.h). */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/notify.h"
#include "engine/replicate.h"

static void test_notify_disabled(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_init(), 0);
	assert_int_equal(notify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(notify_init(), -EINVAL);
	assert_null(getenv("NOTIFY_SOCKET"));
	assert_int_equal(notify_send("READY=1"), 0);
}

static void recv_check(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_notify_path_and_abstract(void **state)
{
	char dir[] = "/tmp/volrep-test-notify.XXXXXX";
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char path[200];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	assert_true(strlen(path) < sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(notify_init(), 1);
	/* removed from the environment: workers must not inherit it */
	assert_null(getenv("NOTIFY_SOCKET"));
	assert_int_equal(notify_send("READY=1"), 0);
	recv_check(fd, "READY=1");
	assert_int_equal(notify_send("STATUS=2 job(s) running"), 0);
	recv_check(fd, "STATUS=2 job(s) running");
	close(fd);
	unlink(path);
	rmdir(dir);
	/* nobody listening any more: an error, not a crash */
	assert_true(notify_send("STOPPING=1") < 0);

	/* abstract socket: "@name" */
	char name[64];
	snprintf(name, sizeof(name), "@volrep-test-%d", (int)getpid());
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path + 1, name + 1, strlen(name) - 1);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name))),
			 0);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(notify_init(), 1);
	assert_int_equal(notify_send("READY=1"), 0);
	recv_check(fd, "READY=1");
	close(fd);
	notify_reset();
	assert_int_equal(notify_send("READY=1"), 0);
}

static void test_format_size(void **state)
{
	static const struct {
		uint64_t v;
		const char *s;
	} cases[] = {
		{ 0, "0 B" },		 { 999, "999 B" },	   { 1000, "1.0 kB" },
		{ 10500000, "10.5 MB" }, { 1200000000, "1.20 GB" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf s = STRBUF_INIT;

		run_format_size(cases[i].v, &s);
		assert_string_equal(s.buf, cases[i].s);
		strbuf_release(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_disabled),
		cmocka_unit_test(test_notify_path_and_abstract),
		cmocka_unit_test(test_format_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
