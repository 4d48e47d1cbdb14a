#include "base/time-util.h"

#include <stdio.h>
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

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int64_t mono_ms(void)
{
	return mono_ns() / 1000000;
}

double mono_now(void)
{
	return (double)mono_ns() / 1e9;
}

int64_t mono_deadline(int64_t timeout_ms)
{
	return mono_ms() + timeout_ms;
}

int64_t mono_left_ms(int64_t deadline)
{
	return deadline - mono_ms();
}

static int64_t wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int64_t wall_ms(void)
{
	return wall_ns() / 1000000;
}

int64_t wall_secs(void)
{
	return wall_ns() / 1000000000;
}

struct timespec wall_deadline(int64_t ms)
{
	int64_t at = wall_ns() + ms * 1000000;

	return (struct timespec){ .tv_sec = (time_t)(at / 1000000000), .tv_nsec = (long)(at % 1000000000) };
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
	time_t tt = (time_t)t;
	long long year;
	long off;
	struct tm tm;
	int n;

	if (!size)
		return buf;
	buf[0] = '\0';
	if (!localtime_r(&tt, &tm))
		return buf;
	/* by hand: strftime's %Y has no fixed width (year 20 is "20") and %z
	 * no colon ("+0100"); ISO 8601 wants "0020" and "+01:00" */
	year = (long long)tm.tm_year + 1900;
	off = tm.tm_gmtoff;
	n = snprintf(buf, size, "%s%04lld-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", year < 0 ? "-" : "",
		     year < 0 ? -year : year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     off < 0 ? '-' : '+', (off < 0 ? -off : off) / 3600, (off < 0 ? -off : off) / 60 % 60);
	if (n < 0 || (size_t)n >= size)
		buf[0] = '\0';
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
