/* The dir implementation of the cluster store: reads, lists, commits,
 * moves that never replace, named locks. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/store.h"
#include "exec/spawn.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/volrep-test-store.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return run_capture((const char *const[]){ "rm", "-rf", "--", dir, NULL }, NULL, 0, NULL, NULL, 1024) == 0
		       ? 0
		       : -1;
}

static void test_dir_read_write_list(void **state)
{
	struct store *st = store_get(dir);
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct strvec names = STRVEC_INIT;
	int64_t rev = -5;

	(void)state;
	assert_int_equal(st->kind, STORE_DIR);
	assert_ptr_equal(store_get(dir), st);
	assert_int_equal(store_read(st, "nodes.cfg", 0, &out, &rev, &err), 1);
	assert_int_equal(rev, 0);
	assert_int_equal(store_write(st, "nodes/a/lxc/200.conf", "x: 1\n", 5, STORE_REV_ABSENT, &err), 0);
	assert_int_equal(store_read(st, "nodes/a/lxc/200.conf", STORE_FRESH, &out, &rev, &err), 0);
	assert_string_equal(out.buf, "x: 1\n");
	assert_int_equal(rev, 1);
	/* "must be absent" refuses an existing file */
	assert_int_equal(store_write(st, "nodes/a/lxc/200.conf", "y", 1, STORE_REV_ABSENT, &err), -ESTALE);
	assert_int_equal(store_write(st, "nodes/b/qemu-server/300.conf", "y", 1, STORE_REV_ANY, &err), 0);
	assert_int_equal(store_list(st, "nodes", &names, &err), 0);
	assert_int_equal(names.nr, 2);
	assert_string_equal(names.v[0], "a");
	assert_string_equal(names.v[1], "b");
	assert_int_equal(store_quorate(st, &err), 1);
	assert_int_equal(store_require_quorum(st, &err), 0);
	strvec_clear(&names);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void test_dir_move(void **state)
{
	struct store *st = store_get(dir);
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	char p[160];

	(void)state;
	assert_int_equal(store_write(st, "nodes/a/lxc/201.conf", "a\n", 2, STORE_REV_ANY, &err), 0);
	assert_int_equal(store_write(st, "nodes/c/lxc/201.conf", "c\n", 2, STORE_REV_ANY, &err), 0);
	/* never replaces the target */
	assert_true(store_move(st, "nodes/a/lxc/201.conf", "a\n", 2, STORE_REV_ANY, "nodes/c/lxc/201.conf", &err) < 0);
	assert_non_null(strstr(err.buf, "cannot move"));
	assert_int_equal(store_read(st, "nodes/c/lxc/201.conf", 0, &out, NULL, NULL), 0);
	assert_string_equal(out.buf, "c\n");
	strbuf_reset(&err);
	/* a new node folder is made */
	assert_int_equal(store_move(st, "nodes/a/lxc/201.conf", "a\n", 2, STORE_REV_ANY, "nodes/d/lxc/201.conf", &err), 0);
	snprintf(p, sizeof(p), "%s/nodes/a/lxc/201.conf", dir);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(store_read(st, "nodes/d/lxc/201.conf", 0, &out, NULL, NULL), 0);
	assert_string_equal(out.buf, "a\n");
	strbuf_release(&err);
	strbuf_release(&out);
}

static void test_dir_locks(void **state)
{
	struct store *st = store_get(dir);
	struct store_lock a = STORE_LOCK_INIT, b = STORE_LOCK_INIT;
	struct strbuf err = STRBUF_INIT;
	char p[160];

	(void)state;
	assert_int_equal(store_lock(st, "config", 0, 0, &a, &err), 0);
	snprintf(p, sizeof(p), "%s/.volrep-config.lck", dir);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(store_lock(st, "guest-100", 0, 0, &b, &err), 0);
	store_unlock(st, &b);
	store_unlock(st, &a);
	assert_int_equal(store_lock(st, "../x", 0, 0, &b, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "invalid lock name '../x'"));
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir_read_write_list),
		cmocka_unit_test(test_dir_move),
		cmocka_unit_test(test_dir_locks),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
