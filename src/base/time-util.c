#include "base/time-util.h"

#include <stdlib.h>
#include <time.h>

#include "base/parse-util.h"

int64_t volrep_now(void)
{
	const char *s = getenv("VOLREP_NOW");
	int64_t v;

	if (s && *s && parse_i64(s, &v) == 0)
		return v;
	return (int64_t)time(NULL);
}

double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *format_localtime(char *buf, size_t size, const char *fmt, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || !strftime(buf, size, fmt, &tm))
		buf[0] = '\0';
	return buf;
}
