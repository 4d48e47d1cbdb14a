/* Unit tests of src/backend/listmemo: a session's snapshot listings,
 * shared with the forked children, dropped on every change. */
#include "unit.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/listmemo.h"

static void test_memo(void **state)
{
	struct backend_snapshot_list l = BACKEND_SNAPSHOT_LIST_INIT, got = BACKEND_SNAPSHOT_LIST_INIT;
	unsigned long seq;
	pid_t pid;
	int status;

	(void)state;
	backend_snapshot_list_add(&l, "__replicate_100-0_5__", "123", 5);
	backend_snapshot_list_add(&l, "user", "", 7);

	/* outside a session nothing is kept */
	listmemo_put("zfspool\trpool\tv", LISTMEMO_PREPARE, &l);
	assert_int_equal(listmemo_get("zfspool\trpool\tv", LISTMEMO_PREPARE, &got), 0);
	assert_int_equal(listmemo_seq("zfspool\trpool\tv"), 0);

	assert_int_equal(listmemo_share(), 0);
	assert_int_equal(listmemo_get("zfspool\trpool\tv", LISTMEMO_PREPARE, &got), 0);
	listmemo_put("zfspool\trpool\tv", LISTMEMO_PREPARE, &l);
	seq = listmemo_seq("zfspool\trpool\tv");
	assert_true(seq > 0);
	assert_int_equal(listmemo_get("zfspool\trpool\tv", LISTMEMO_PREPARE, &got), 1);
	assert_int_equal(got.nr, 2);
	assert_string_equal(got.v[0].name, "__replicate_100-0_5__");
	assert_string_equal(got.v[0].id, "123");
	assert_int_equal(got.v[1].creation, 7);
	backend_snapshot_list_clear(&got);
	/* handed to the one reader it is for: prepare's is not finalize's */
	assert_int_equal(listmemo_get("zfspool\trpool\tv", LISTMEMO_IMPORT, &got), 0);
	assert_int_equal(got.nr, 0);
	/* another volume: another entry */
	assert_int_equal(listmemo_get("zfspool\trpool\tw", LISTMEMO_IMPORT, &got), 0);

	/* a forked child (the next command) sees it, and what it keeps
	 * comes back to the parent */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct backend_snapshot_list c = BACKEND_SNAPSHOT_LIST_INIT;

		if (listmemo_get("zfspool\trpool\tv", LISTMEMO_PREPARE, &c) != 1 || c.nr != 2)
			_exit(1);
		backend_snapshot_list_clear(&c);
		backend_snapshot_list_add(&c, "s9", "9", 9);
		listmemo_put("zfspool\trpool\tw", LISTMEMO_IMPORT, &c);
		backend_snapshot_list_clear(&c);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(listmemo_get("zfspool\trpool\tw", LISTMEMO_IMPORT, &got), 1);
	assert_int_equal(got.nr, 1);
	assert_string_equal(got.v[0].name, "s9");
	backend_snapshot_list_clear(&got);

	/* a put advances the counter; a drop forgets */
	listmemo_put("zfspool\trpool\tv", LISTMEMO_PREPARE, &l);
	assert_true(listmemo_seq("zfspool\trpool\tv") > seq);
	listmemo_drop("zfspool\trpool\tv");
	assert_int_equal(listmemo_get("zfspool\trpool\tv", LISTMEMO_PREPARE, &got), 0);
	assert_int_equal(got.nr, 0);

	/* a listing too large for an entry is not kept (nor an old one) */
	listmemo_put("zfspool\trpool\tv", LISTMEMO_PREPARE, &l);
	for (int i = 0; i < 400; i++) {
		char name[64];

		snprintf(name, sizeof(name), "a-rather-long-user-snapshot-name-%04d", i);
		backend_snapshot_list_add(&l, name, "1234567890123456789", i);
	}
	listmemo_put("zfspool\trpool\tv", LISTMEMO_PREPARE, &l);
	assert_int_equal(listmemo_get("zfspool\trpool\tv", LISTMEMO_PREPARE, &got), 0);
	backend_snapshot_list_clear(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
