/* Unit tests of src/exec: spawning with argv arrays (never a shell),
 * capture limits, stall timeouts, stopping children. */
#include "unit.h"

#include <errno.h>
#include <signal.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "exec/spawn.h"

static void test_spawn(void **state)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char buf[64];

	(void)state;
	/* no shell: the argument reaches the program verbatim */
	const char *echo[] = { "printf", "%s", "a;b $(x) `y`", NULL };
	assert_int_equal(run_capture(echo, NULL, 0, &out, &err, 1024), 0);
	assert_string_equal(out.buf, "a;b $(x) `y`");
	strbuf_reset(&out);
	const char *cat[] = { "cat", NULL };
	assert_int_equal(run_capture(cat, "hello", 5, &out, NULL, 1024), 0);
	assert_string_equal(out.buf, "hello");
	const char *f[] = { "false", NULL };
	assert_int_equal(run_capture(f, NULL, 0, NULL, NULL, 1024), 1);
	const char *missing[] = { "/nonexistent/volrep-prog", NULL };
	assert_int_equal(run_capture(missing, NULL, 0, NULL, NULL, 1024), -ENOENT);
	const char *killed[] = { "sh", "-c", "kill -9 $$", NULL };
	int r = run_capture(killed, NULL, 0, NULL, NULL, 1024);
	assert_int_equal(r, 128 + 9);
	assert_string_equal(exit_status_str(r, buf, sizeof(buf)), "killed by signal 9");
	strbuf_reset(&out);
	/* a child that stalls (no output, never ends): killed after the
	 * stall timeout, what it said before kept; one that keeps talking
	 * is not */
	{
		struct child c = CHILD_INIT;

		strvec_pushv(&c.args, (const char *const[]){ "sh", "-c", "echo started; exec sleep 60", NULL });
		c.stall_timeout_ms = 300;
		strbuf_reset(&out);
		assert_int_equal(child_capture(&c, NULL, 0, &out, NULL, 1024), -ETIMEDOUT);
		assert_string_equal(out.buf, "started\n");
		strvec_pushv(&c.args, (const char *const[]){ "sh", "-c", "for i in 1 2 3 4 5 6; do echo $i; sleep 0.1; done",
							      NULL });
		c.stall_timeout_ms = 2000;
		strbuf_reset(&out);
		assert_int_equal(child_capture(&c, NULL, 0, &out, NULL, 1024), 0);
		assert_string_equal(out.buf, "1\n2\n3\n4\n5\n6\n");
		/* a grandchild holding the pipes open does not keep us */
		strvec_pushv(&c.args, (const char *const[]){ "sh", "-c", "sleep 60 & wait", NULL });
		c.new_pgrp = 1;
		c.stall_timeout_ms = 200;
		assert_int_equal(child_capture(&c, NULL, 0, NULL, NULL, 1024), -ETIMEDOUT);
		/* child_stop ends a stopped child too (SIGTERM + SIGCONT) */
		strvec_pushv(&c.args, (const char *const[]){ "sh", "-c", "kill -STOP $$; sleep 60", NULL });
		c.new_pgrp = 0;
		c.in = c.out = c.err = CHILD_NULL; /* child_capture left its closed pipe fds */
		assert_int_equal(child_start(&c), 0);
		assert_int_equal(child_stop(&c, 100), 128 + SIGTERM);
	}
	const char *big[] = { "head", "-c", "100000", "/dev/zero", NULL };
	assert_int_equal(run_capture(big, NULL, 0, &out, NULL, 1000), -EFBIG);
	strbuf_release(&out);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spawn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
