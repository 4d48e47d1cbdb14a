/* Unit tests of the scheduling policy (src/sched/schedule.c):
 * next_sync (docs/pvesr-compat.md §3.3) and the pick order (§3.4). */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/schedule.h"

static int64_t next_sync(const char *schedule, bool remove_job, bool online, int64_t fail_count,
			 int64_t last_try, int line)
{
	int64_t n = -12345;
	int r = schedule_next_sync(schedule, remove_job, online, fail_count, last_try, &n);

	if (r != 0)
		fail_msg("line %d: schedule_next_sync returned %d", line, r);
	return n;
}
#define NEXT(...) next_sync(__VA_ARGS__, __LINE__)

static void test_calendar_schedule(void **state)
{
	(void)state;
	/* the default schedule, every 15 minutes, strictly after last_try */
	assert_int_equal(NEXT(NULL, false, true, 0, 0), 900);
	assert_int_equal(NEXT(NULL, false, true, 0, 899), 900);
	assert_int_equal(NEXT(NULL, false, true, 0, 900), 1800);
	assert_int_equal(NEXT(NULL, false, true, 0, 1714564800), 1714564800 + 900);
	assert_int_equal(NEXT("*/5", false, true, 0, 1000), 1200);
	assert_int_equal(NEXT("*/5 UTC", false, false, 0, 1000), 1200); /* online only matters on failure */
	/* schedule-now: last_try 0 gives a next_sync in 1970, i.e. due */
	assert_int_equal(NEXT("daily UTC", false, true, 0, 0), 86400);
	/* schedules that have ended give 0 = never */
	assert_int_equal(NEXT("2020-01-01 00:00 UTC", false, true, 0, 1714564800), 0);
	assert_int_equal(NEXT("2020-01-01 00:00 UTC", false, true, 0, 1500000000), 1577836800);
	assert_int_equal(NEXT("02-30", false, true, 0, 0), 0);
	/* invalid schedule */
	int64_t n = 77;
	assert_int_equal(schedule_next_sync("61", false, true, 0, 0, &n), -EINVAL);
	assert_int_equal(schedule_next_sync("", false, true, 0, 0, &n), -EINVAL);
	assert_int_equal(n, 77);
}

static void test_backoff(void **state)
{
	static const int64_t expect_min[] = { 0, 5, 10, 15, 30, 30, 30 };
	const int64_t t0 = 1714564800;

	(void)state;
	for (int fc = 1; fc <= 6; fc++) {
		assert_int_equal(schedule_backoff(fc), 60 * expect_min[fc]);
		/* counted from last_try, whatever the schedule says */
		assert_int_equal(NEXT("*/5", false, true, fc, t0), t0 + 60 * expect_min[fc]);
		assert_int_equal(NEXT(NULL, false, true, fc, t0 + 7), t0 + 7 + 60 * expect_min[fc]);
		/* target offline: never, until it is back */
		assert_int_equal(NEXT(NULL, false, false, fc, t0), 0);
	}
	assert_int_equal(NEXT(NULL, false, true, 1000, t0), t0 + 1800);
	/* the pvesr timeline of a permanent failure: t0+5m, +15m, +30m, +60m, +90m */
	int64_t t = t0;
	static const int64_t timeline_min[] = { 5, 15, 30, 60, 90 };
	for (int fc = 1; fc <= 5; fc++) {
		t = NEXT(NULL, false, true, fc, t);
		assert_int_equal(t, t0 + 60 * timeline_min[fc - 1]);
	}
}

static void test_remove_job(void **state)
{
	(void)state;
	assert_int_equal(NEXT(NULL, true, true, 0, 0), 1);
	assert_int_equal(NEXT("*/5", true, false, 0, 1714564800), 1);
	assert_int_equal(NEXT("02-30", true, true, 0, 5), 1);
	/* a failing removal backs off (docs/pvesr-compat.md §10), also with the target down */
	assert_int_equal(NEXT(NULL, true, true, 1, 1000), 1300);
	assert_int_equal(NEXT(NULL, true, false, 4, 1000), 2800);
}

#define K(li, ns, g, i) { .last_iteration = li, .next_sync = ns, .guest = g, .id = i }

static void test_order(void **state)
{
	struct sched_job keys[] = {
		K(50, 100, 100, "100-2"),
		K(50, 100, 100, "100-10"),
		K(50, 100, 99999, "99999-0"),
		K(50, 100, 200, "200-0"),
		K(50, 1, 300, "300-0"),
		K(40, 9999, 900, "900-1"),
		K(50, 0, 100, "100-3"),
		K(60, 1, 100, "100-0"),
	};
	static const char *const expect[] = {
		"900-1", /* least recently started first */
		"100-3", /* then next_sync: 0 sorts first (never due, skipped by the due test) */
		"300-0",
		"100-10", /* then guest numerically, then id as a string */
		"100-2", "200-0", "99999-0",
		"100-0",
	};
	size_t n = sizeof(keys) / sizeof(keys[0]);

	(void)state;
	qsort(keys, n, sizeof(keys[0]), sched_job_qsort_cmp);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(keys[i].id, expect[i]);
	assert_true(sched_job_cmp(&keys[0], &keys[0]) == 0);
	assert_true(sched_job_cmp(&keys[3], &keys[4]) < 0);
	assert_true(sched_job_cmp(&keys[4], &keys[3]) > 0);
	/* guest is compared as a number: 99999 > 200 although "99999" > "200" too;
	 * and 1000 > 200 although "1000" < "200" */
	struct sched_job a = K(0, 0, 1000, "1000-0"), b = K(0, 0, 200, "200-0");
	assert_true(sched_job_cmp(&a, &b) > 0);
}

static void test_due(void **state)
{
	struct sched_job k = K(10, 500, 100, "100-0");

	(void)state;
	assert_false(sched_job_due(&k, 499));
	assert_true(sched_job_due(&k, 500));
	assert_true(sched_job_due(&k, 501));
	/* already started in this `volrep run`: the runner defers it for
	 * the rest of the call (engine/runner.c) */
	k.not_before = INT64_MAX;
	assert_false(sched_job_due(&k, 501));
	k.not_before = 0;
	/* never */
	k.next_sync = 0;
	assert_false(sched_job_due(&k, INT64_MAX));
	/* removal */
	k.next_sync = 1;
	assert_true(sched_job_due(&k, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calendar_schedule),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_remove_job),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_due),
	};

	/* local-time schedules are evaluated in UTC here */
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
