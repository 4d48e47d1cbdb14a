#include "base/time-util.h"

#include <stdlib.h>
#include <time.h>

#include "base/parse-util.h"
#include "base/strbuf.h"

int64_t volrep_now(void)
{
	const char *s = getenv("VOLREP_NOW");
	int64_t v;

	if (s && *s && parse_i64(s, &v) == 0)
		return v;
	return (int64_t)time(NULL);
}

int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t mono_ms(void)
{
	return mono_ns() / 1000000;
}

double mono_now(void)
{
	return (double)mono_ns() / 1e9;
}

char *format_localtime(char *buf, size_t size, const char *fmt, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || !strftime(buf, size, fmt, &tm))
		buf[0] = '\0';
	return buf;
}

void format_age(int64_t secs, struct strbuf *out)
{
	static const struct {
		int64_t len;
		char unit;
	} u[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };

	if (secs < 60) {
		strbuf_addf(out, "%llds", (long long)(secs < 0 ? 0 : secs));
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		if (secs >= u[i].len) {
			int64_t rest = (secs % u[i].len) / u[i + 1].len;

			strbuf_addf(out, "%lld%c", (long long)(secs / u[i].len), u[i].unit);
			if (rest)
				strbuf_addf(out, "%lld%c", (long long)rest, u[i + 1].unit);
			return;
		}
	}
}
