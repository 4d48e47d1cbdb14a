#include "base/time-util.h"

#include <stdlib.h>
#include <string.h>
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

char *format_time(char *buf, size_t size, int64_t t)
{
	return format_localtime(buf, size, TIME_FORMAT, t);
}

char *format_iso8601(char *buf, size_t size, int64_t t)
{
	size_t n;

	/* strftime's %z has no colon ("+0100"); ISO 8601's extended form does */
	format_localtime(buf, size, "%Y-%m-%dT%H:%M:%S%z", t);
	n = strlen(buf);
	if (n >= 5 && n + 2 <= size && (buf[n - 5] == '+' || buf[n - 5] == '-')) {
		memmove(buf + n - 1, buf + n - 2, 3);
		buf[n - 2] = ':';
	}
	return buf;
}

void format_duration(double secs, struct strbuf *out)
{
	if (!(secs >= 0))
		secs = 0;
	/* 59.96 would print as "60.0s" */
	if (secs < 59.95)
		strbuf_addf(out, "%.1fs", secs);
	else
		format_age((int64_t)(secs + 0.5), out);
}
