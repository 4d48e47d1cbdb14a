/* Fuzz target: calendar events (src/config/calendar.c).
 *
 * Parses the input as a spec. If it parses: the canonical form must parse
 * again to the same canonical form, and from several start times (ordinary,
 * around DST changes, negative, extreme) a chain of next events must be
 * strictly increasing, each event must match the spec, and in UTC mode no
 * second shortly before an event may match. Local-time specs run in
 * Europe/Vienna so that the DST code is exercised. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/strbuf.h"
#include "config/calendar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int64_t starts[] = {
	0, -1, -86400 * 400LL, 1741168830, 1711846000, 1729989000, 1730613000,
	2550099000LL, 7258118399LL, 253402300799LL, INT64_MAX - 1, INT64_MIN,
};

static bool matches_at(const struct calendar *cal, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (calendar_is_utc(cal) ? !gmtime_r(&tt, &tm) : !localtime_r(&tt, &tm))
		return false;
	return calendar_matches(cal, &tm);
}

static void check_chain(const struct calendar *cal, int64_t after)
{
	int64_t next;

	for (int i = 0; i < 3; i++) {
		if (!calendar_next(cal, after, &next))
			return;
		if (next <= after)
			abort();
		/* years beyond the range of struct tm cannot be checked */
		if (next < (int64_t)1 << 55 && next > -((int64_t)1 << 55)) {
			if (!matches_at(cal, next))
				abort();
			if (calendar_is_utc(cal)) {
				for (int64_t t = next - 1; t > after && t >= next - 120; t--)
					if (matches_at(cal, t))
						abort();
			}
		}
		after = next;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct calendar *cal = NULL, *again = NULL;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	char err[128];
	char *spec;

	if (!init) {
		setenv("TZ", "Europe/Vienna", 1);
		tzset();
		init = true;
	}
	if (size > 1024)
		return 0;
	spec = malloc(size + 1);
	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (calendar_parse(spec, &cal, err, sizeof(err)) < 0) {
		if (!err[0] || strlen(err) >= sizeof(err))
			abort();
		free(spec);
		return 0;
	}
	calendar_format(cal, &a);
	if (a.len <= CALENDAR_SPEC_MAX) {
		if (calendar_parse(a.buf, &again, err, sizeof(err)) < 0)
			abort();
		calendar_format(again, &b);
		if (strcmp(a.buf, b.buf))
			abort();
		calendar_free(again);
	}
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
		check_chain(cal, starts[i]);
	strbuf_release(&a);
	strbuf_release(&b);
	calendar_free(cal);
	free(spec);
	return 0;
}
