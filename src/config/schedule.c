#include "config/schedule.h"

#include <errno.h>
#include <string.h>

#include "config/calendar.h"

int64_t schedule_backoff(int64_t fail_count)
{
	if (fail_count < 1)
		fail_count = 1;
	return 60 * (fail_count <= 3 ? 5 * fail_count : 30);
}

static int64_t add_clamped(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

int schedule_next_sync(const char *schedule, bool remove_job, bool target_online, int64_t fail_count,
		       int64_t last_try, int64_t *ret)
{
	struct calendar *cal = NULL;
	int64_t next;

	if (last_try < 0)
		last_try = 0;
	if (fail_count > 0 && (remove_job || target_online)) {
		*ret = add_clamped(last_try, schedule_backoff(fail_count));
		return 0;
	}
	if (remove_job) {
		*ret = 1;
		return 0;
	}
	if (fail_count > 0) {
		*ret = 0;
		return 0;
	}
	if (calendar_parse(schedule ? schedule : SCHEDULE_DEFAULT, &cal, NULL, 0) < 0)
		return -EINVAL;
	*ret = calendar_next(cal, last_try, &next) == 1 ? next : 0;
	calendar_free(cal);
	return 0;
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

int schedule_key_cmp(const struct schedule_key *a, const struct schedule_key *b)
{
	int c;

	if ((c = cmp_i64(a->last_iteration, b->last_iteration)))
		return c;
	if ((c = cmp_i64(a->next_sync, b->next_sync)))
		return c;
	if ((c = cmp_i64(a->guest, b->guest)))
		return c;
	return strcmp(a->id ? a->id : "", b->id ? b->id : "");
}

int schedule_key_qsort_cmp(const void *a, const void *b)
{
	return schedule_key_cmp(a, b);
}

bool schedule_is_due(const struct schedule_key *k, int64_t iteration, int64_t now)
{
	return k->next_sync != 0 && now >= k->next_sync && k->last_iteration < iteration;
}
