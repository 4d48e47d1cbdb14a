/* Unit tests of the scheduler's decisions (src/sched/schedule.c): due
 * computation, pick order under the worker and guest limits, the
 * next wake-up and the bandwidth share; one pass over a job view
 * (src/sched/pass.c) as `volrep run` and the daemon drive it. */
#include "unit.h"

#include <string.h>

#include "sched/pass.h"
#include "sched/schedule.h"

#define NOW 1714564800

static const struct sched_limits lim4 = { 4 };

/* A due job (never ran, next_sync in the past). */
static struct sched_job J(const char *id, uint32_t guest, const char *target)
{
	return (struct sched_job){ .id = id, .guest = guest, .target = target, .next_sync = NOW - 60 };
}

/* Append " word" (or "word" to an empty buf) within size. */
static void add_word(char *buf, size_t size, const char *word)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s%s", n ? " " : "", word);
}

/* The ids of the picks, space-separated, into buf. */
static const char *pick_ids(const struct sched_job *jobs, size_t n, const struct sched_limits *lim, char *buf,
			    size_t size)
{
	size_t picks[64], np = sched_pick(jobs, n, lim, NOW, picks);

	buf[0] = '\0';
	for (size_t i = 0; i < np; i++)
		add_word(buf, size, jobs[picks[i]].id);
	return buf;
}

static void test_due(void **state)
{
	struct sched_job j = J("100-0", 100, "pve2");

	(void)state;
	assert_true(sched_job_due(&j, NOW));
	j.next_sync = NOW;
	assert_true(sched_job_due(&j, NOW)); /* due at exactly next_sync */
	j.next_sync = NOW + 1;
	assert_false(sched_job_due(&j, NOW));
	j.next_sync = 0; /* never */
	assert_false(sched_job_due(&j, NOW));
	j.next_sync = 1; /* removal: at once */
	assert_true(sched_job_due(&j, NOW));
	j.not_before = NOW + 30; /* deferred (busy guest lock) */
	assert_false(sched_job_due(&j, NOW));
	assert_true(sched_job_due(&j, NOW + 30));
	j.not_before = 0;
	j.running = true;
	assert_false(sched_job_due(&j, NOW));
}

static void test_pick_order(void **state)
{
	char buf[256];
	struct sched_job jobs[] = {
		J("200-0", 200, "a"), J("100-10", 100, "b"), J("100-2", 101, "c"), J("150-0", 150, "d"),
		J("300-0", 300, "e"),
	};

	(void)state;
	/* same last_iteration and next_sync: guest, then id as a string */
	jobs[2].guest = 100;
	jobs[1].guest = 100;
	struct sched_limits one = { 1 };
	assert_string_equal(pick_ids(jobs, 5, &one, buf, sizeof(buf)), "100-10");
	/* least recently started first, then the earlier next_sync */
	jobs[1].last_iteration = NOW - 100;
	jobs[2].last_iteration = NOW - 100;
	jobs[3].next_sync = NOW - 3600;
	struct sched_limits five = { 5 };
	assert_string_equal(pick_ids(jobs, 5, &five, buf, sizeof(buf)), "150-0 200-0 300-0 100-10");
}

static void test_max_workers(void **state)
{
	char buf[256];
	struct sched_job jobs[] = {
		J("100-0", 100, "a"), J("101-0", 101, "b"), J("102-0", 102, "c"),
		J("103-0", 103, "d"), J("104-0", 104, "e"), J("105-0", 105, "f"),
	};

	(void)state;
	assert_string_equal(pick_ids(jobs, 6, &lim4, buf, sizeof(buf)), "100-0 101-0 102-0 103-0");
	/* running jobs occupy workers */
	jobs[0].running = true;
	jobs[4].running = true;
	assert_string_equal(pick_ids(jobs, 6, &lim4, buf, sizeof(buf)), "101-0 102-0");
	jobs[1].running = jobs[2].running = true;
	assert_string_equal(pick_ids(jobs, 6, &lim4, buf, sizeof(buf)), "");
}

static void test_one_run_per_guest(void **state)
{
	char buf[256];
	/* guest 100 has three jobs to three targets */
	struct sched_job jobs[] = {
		J("100-0", 100, "a"), J("100-1", 100, "b"), J("100-2", 100, "c"), J("101-0", 101, "a"),
	};

	(void)state;
	assert_string_equal(pick_ids(jobs, 4, &lim4, buf, sizeof(buf)), "100-0 101-0");
	/* a running job of the guest blocks the others, not other guests */
	jobs[1].running = true;
	assert_string_equal(pick_ids(jobs, 4, &lim4, buf, sizeof(buf)), "101-0");
}

static void test_targets_not_limited(void **state)
{
	char buf[256];
	struct sched_job jobs[] = {
		J("100-0", 100, "pve2"), J("101-0", 101, "pve2"), J("102-0", 102, "pve2"),
		J("103-0", 103, "pve3"), J("104-0", 104, "pve2"),
	};

	(void)state;
	/* max-per-target limits transfers (engine/xferslot.h), not runs:
	 * four runs to pve2 start */
	assert_string_equal(pick_ids(jobs, 5, &lim4, buf, sizeof(buf)), "100-0 101-0 102-0 103-0");
	/* a running run to pve2 (maybe of a job no longer configured) takes
	 * a worker */
	struct sched_job more[6];
	memcpy(more, jobs, sizeof(jobs));
	more[5] = (struct sched_job){ .id = "999-0", .guest = 999, .target = "pve2", .running = true };
	assert_string_equal(pick_ids(more, 6, &lim4, buf, sizeof(buf)), "100-0 101-0 102-0");
	/* ... and its guest */
	more[5].guest = 101;
	assert_string_equal(pick_ids(more, 6, &lim4, buf, sizeof(buf)), "100-0 102-0 103-0");
}

static void test_not_due_not_picked(void **state)
{
	char buf[256];
	struct sched_job jobs[] = { J("100-0", 100, "a"), J("101-0", 101, "a"), J("102-0", 102, "a") };

	(void)state;
	jobs[0].next_sync = NOW + 1;
	jobs[1].not_before = NOW + 10;
	assert_string_equal(pick_ids(jobs, 3, &lim4, buf, sizeof(buf)), "102-0");
	/* a job that is not due does not take a target slot */
	jobs[2].next_sync = 0;
	assert_string_equal(pick_ids(jobs, 3, &lim4, buf, sizeof(buf)), "");
	assert_string_equal(pick_ids(jobs, 0, &lim4, buf, sizeof(buf)), "");
}

static void test_next_wake(void **state)
{
	struct sched_job jobs[] = { J("100-0", 100, "a"), J("101-0", 101, "a"), J("102-0", 102, "a") };

	(void)state;
	/* all due now: nothing in the future (a worker's end wakes us) */
	assert_int_equal(sched_next_wake(jobs, 3, NOW), 0);
	jobs[0].next_sync = NOW + 300;
	jobs[1].next_sync = NOW + 120;
	assert_int_equal(sched_next_wake(jobs, 3, NOW), NOW + 120);
	/* a deferral pushes a due job out */
	jobs[2].not_before = NOW + 60;
	assert_int_equal(sched_next_wake(jobs, 3, NOW), NOW + 60);
	/* ... but not before its next_sync */
	jobs[1].not_before = NOW + 500;
	jobs[2].next_sync = NOW + 90;
	assert_int_equal(sched_next_wake(jobs, 3, NOW), NOW + 90);
	/* running and never-due jobs do not count */
	jobs[2].running = true;
	jobs[0].next_sync = 0;
	assert_int_equal(sched_next_wake(jobs, 3, NOW), NOW + 500);
}

static void test_rate_share(void **state)
{
	(void)state;
	/* no node-wide cap: the job's own rate (0 = unlimited) */
	assert_true(sched_rate_share(0, 0, 3) == 0);
	assert_true(sched_rate_share(0, 10, 3) == 10);
	/* the cap split between the running workers */
	assert_true(sched_rate_share(100, 0, 4) == 25);
	assert_true(sched_rate_share(100, 0, 1) == 100);
	assert_true(sched_rate_share(100, 0, 0) == 100);
	/* never above the job's rate */
	assert_true(sched_rate_share(100, 10, 4) == 10);
	assert_true(sched_rate_share(100, 50, 4) == 25);
}

/* --- one pass over a job view --- */

static struct repl_job pass_jobs[] = {
	{ .id = (char *)"100-0", .guest = 100, .target = (char *)"pve2", .rate_mbps = 0 },
	{ .id = (char *)"100-1", .guest = 100, .target = (char *)"pve3", .rate_mbps = 0 },
	{ .id = (char *)"101-0", .guest = 101, .target = (char *)"pve2", .rate_mbps = 10 },
	{ .id = (char *)"102-0", .guest = 102, .target = (char *)"pve2", .rate_mbps = 0 },
};
#define NPASS (sizeof(pass_jobs) / sizeof(pass_jobs[0]))

struct pass_log {
	char started[256];
	double caps[8];
	size_t n;
	int ret;            /* what start returns */
	const char *defer;  /* job id deferred to INT64_MAX */
};

static int64_t log_not_before(const struct job_entry *e, void *data)
{
	struct pass_log *pl = data;

	return pl->defer && !strcmp(pl->defer, e->job->id) ? INT64_MAX : 0;
}

static int log_start(const struct job_entry *e, double cap, void *data)
{
	struct pass_log *pl = data;

	add_word(pl->started, sizeof(pl->started), e->job->id);
	pl->caps[pl->n++] = cap;
	return pl->ret;
}

static void fill_view(struct job_view *v, struct job_entry *entries)
{
	for (size_t i = 0; i < NPASS; i++)
		entries[i] = (struct job_entry){ .job = &pass_jobs[i], .state = JOB_STATE_INIT,
						 .next_sync = NOW - 60, .target_online = true };
	v->js.v = entries;
	v->js.nr = NPASS;
}

static void test_pass(void **state)
{
	struct job_entry entries[NPASS];
	struct job_view v = JOB_VIEW_INIT;
	struct pass_log pl = { .ret = 0 };
	struct sched_pass p = { .max_workers = 2, .bwlimit = 100, .not_before = log_not_before,
				.start = log_start, .data = &pl };
	int64_t wake = -1;

	(void)state;
	fill_view(&v, entries);
	entries[3].next_sync = NOW + 300;
	/* the daemon: up to max-workers, one per guest, the cap shared */
	assert_int_equal(sched_pass_run(&v, &p, NOW, &wake), 2);
	assert_string_equal(pl.started, "100-0 101-0");
	assert_true(pl.caps[0] == 50 && pl.caps[1] == 10);
	assert_int_equal(wake, NOW + 300);

	/* a run of the caller holds a worker and its guest, also when its
	 * job is no longer in the view */
	struct sched_run runs[] = { { .id = "999-0", .guest = 100, .target = "pve2" } };
	pl = (struct pass_log){ .ret = 0 };
	p.runs = runs;
	p.nruns = 1;
	assert_int_equal(sched_pass_run(&v, &p, NOW, NULL), 1);
	assert_string_equal(pl.started, "101-0");

	/* `volrep run`: no worker limit, the pass ends after the first start,
	 * a job already tried is deferred for the rest of the call */
	pl = (struct pass_log){ .ret = 1, .defer = "100-0" };
	p = (struct sched_pass){ .not_before = log_not_before, .start = log_start, .data = &pl };
	assert_int_equal(sched_pass_run(&v, &p, NOW, NULL), 1);
	assert_string_equal(pl.started, "100-1");
	/* a start that fails is not counted */
	pl = (struct pass_log){ .ret = -1 };
	assert_int_equal(sched_pass_run(&v, &p, NOW, NULL), 0);
	assert_string_equal(pl.started, "100-0 101-0");
	/* no start function (the daemon while stopping): only the wake-up */
	p.start = NULL;
	wake = -1;
	assert_int_equal(sched_pass_run(&v, &p, NOW - 120, &wake), 0);
	assert_int_equal(wake, NOW - 60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_pick_order),
		cmocka_unit_test(test_max_workers),
		cmocka_unit_test(test_one_run_per_guest),
		cmocka_unit_test(test_targets_not_limited),
		cmocka_unit_test(test_not_due_not_picked),
		cmocka_unit_test(test_next_wake),
		cmocka_unit_test(test_rate_share),
		cmocka_unit_test(test_pass),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
