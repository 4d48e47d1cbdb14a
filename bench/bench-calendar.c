/* Benchmark of calendar_next: next-event computations per second over every
 * valid spec of the reference vectors (tests/data/calendar_examples.tsv),
 * each evaluated in UTC and in local time (TZ=Europe/Vienna), from start
 * times spread over 2024-2026 including the DST changes, and a few in 2050; plus the slowest
 * spec (average per call) and the slowest (spec, start) pair. Exits 1 when
 * a yardstick is missed: >= 1,000,000 calls/s overall, no spec above 10 us.
 *
 * Usage: bench-calendar [TSV]   (run from the repository root) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/strbuf.h"
#include "config/calendar.h"

#define MAX_SPECS 256
#define N_STARTS 64
#define REPS 200

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

struct spec {
	char text[CALENDAR_SPEC_MAX + 8];
	struct calendar *cal;
	double ns_per_call;
	int64_t calls;
};

static volatile int64_t sink;

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "tests/data/calendar_examples.tsv";
	static struct spec specs[MAX_SPECS];
	struct strbuf sb = STRBUF_INIT;
	int64_t starts[N_STARTS];
	size_t n = 0;
	char err[128];

	setenv("TZ", "Europe/Vienna", 1);
	tzset();
	if (strbuf_read_file(&sb, path, 1 << 20) < 0) {
		fprintf(stderr, "bench-calendar: cannot read '%s'\n", path);
		return 1;
	}
	/* every valid spec twice: as written but local, and in UTC */
	for (char *line = sb.buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *tab = strchr(line, '\t');
		if (line[0] == '#' || !tab)
			continue;
		*tab = '\0';
		for (int utc = 0; utc < 2 && n < MAX_SPECS; utc++) {
			size_t len = strlen(line);
			bool has_utc = len >= 3 && !strcmp(line + len - 3, "UTC");

			if (has_utc && !utc) {
				len -= 3;
				while (len > 0 && line[len - 1] == ' ')
					len--;
			}
			snprintf(specs[n].text, sizeof(specs[n].text), "%.*s%s", (int)len, line,
				 utc && !has_utc ? " UTC" : "");
			if (calendar_parse(specs[n].text, &specs[n].cal, err, sizeof(err)) == 0)
				n++;
		}
	}
	strbuf_release(&sb);

	/* 2024-01-01 .. 2026-12-31, with the 2024 DST changes among them */
	for (int i = 0; i < N_STARTS; i++)
		starts[i] = 1704067200 + (int64_t)i * 1481843 + (i * 7919) % 3600;
	starts[10] = 1711846000; /* just before 2024-03-31 01:00 UTC */
	starts[11] = 1729989000; /* in the 2024-10-27 fall-back overlap */
	/* past 2037 glibc computes local time from the zone's rule: slower */
	starts[60] = 2531955000LL; /* just before 2050-03-27 01:00 UTC */
	starts[61] = 2550099000LL; /* just before 2050-10-30 01:00 UTC */
	starts[62] = 2550101000LL; /* in the 2050-10-30 fall-back overlap */
	starts[63] = 2540000000LL;

	/* parse speed */
	double t0 = now_ns();
	int64_t parses = 0;
	for (int r = 0; r < 2000; r++) {
		for (size_t i = 0; i < n; i++) {
			struct calendar *c;

			if (calendar_parse(specs[i].text, &c, err, sizeof(err)) == 0)
				calendar_free(c);
			parses++;
		}
	}
	double parse_ns = (now_ns() - t0) / (double)parses;

	double worst_pair = 0, total_ns[2] = { 0, 0 };
	int64_t total_calls[2] = { 0, 0 };
	const char *worst_pair_spec = "";
	int64_t worst_pair_start = 0;

	for (size_t i = 0; i < n; i++) {
		int utc = calendar_is_utc(specs[i].cal);
		double spec_ns = 0;

		for (int s = 0; s < N_STARTS; s++) {
			int64_t next = 0;
			double a = now_ns();

			for (int r = 0; r < REPS; r++) {
				calendar_next(specs[i].cal, starts[s] + r, &next);
				sink += next;
			}
			double d = now_ns() - a;

			spec_ns += d;
			if (d / REPS > worst_pair) {
				worst_pair = d / REPS;
				worst_pair_spec = specs[i].text;
				worst_pair_start = starts[s];
			}
		}
		specs[i].calls = (int64_t)N_STARTS * REPS;
		specs[i].ns_per_call = spec_ns / (double)specs[i].calls;
		total_ns[utc] += spec_ns;
		total_calls[utc] += specs[i].calls;
	}
	for (size_t i = 0; i < n; i++)
		calendar_free(specs[i].cal);
	size_t slowest = 0;
	for (size_t i = 1; i < n; i++)
		if (specs[i].ns_per_call > specs[slowest].ns_per_call)
			slowest = i;

	printf("specs: %zu (the reference vectors' valid specs, each in UTC and local time, TZ=Europe/Vienna)\n", n);
	printf("start times: %d over 2024-2026 and 2050 (incl. DST changes), %d calls each\n", N_STARTS, REPS);
	printf("next-event computations/s, UTC:        %12.0f\n", total_calls[1] / (total_ns[1] / 1e9));
	printf("next-event computations/s, local time: %12.0f\n", total_calls[0] / (total_ns[0] / 1e9));
	double all = (total_calls[0] + total_calls[1]) / ((total_ns[0] + total_ns[1]) / 1e9);
	printf("next-event computations/s, all:        %12.0f (yardstick: 1000000)\n", all);
	printf("slowest spec: %.0f ns/call ('%s') (yardstick: 10000)\n", specs[slowest].ns_per_call,
	       specs[slowest].text);
	printf("slowest spec and start: %.0f ns/call ('%s' from %" PRId64 ")\n", worst_pair, worst_pair_spec,
	       worst_pair_start);
	printf("parse: %.0f ns/spec\n", parse_ns);

	/* specs built to make the search work hard (none is in the examples) */
	static const char *const hard[] = {
		"mon 1/4,2/4,3/4,5/8,6/8,7/8,9/16,10/16,11/16,13/16,14/16,15/16,17/32,18/32-02-29",
		"mon 2001/400,2002/400,2003/400,2005/400,2006/400,2007/400,2009/400,2010/400-02-29",
		"mon *-02-29 23:59:59", "sun 2100/100-02-29", "02-30", "2199-12-31 23:59:59",
		"*-*-31 2:30", "*:*:*", "fri *-13 23:59:59 UTC", "sat..sun *-02-29 0:0:0",
	};
	double hard_worst = 0;
	const char *hard_spec = "";
	for (size_t i = 0; i < sizeof(hard) / sizeof(hard[0]); i++) {
		struct calendar *c;

		if (calendar_parse(hard[i], &c, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench-calendar: '%s': %s\n", hard[i], err);
			return 1;
		}
		for (int s = 0; s < N_STARTS; s++) {
			int64_t next = 0;
			double a = now_ns();

			for (int r = 0; r < REPS; r++) {
				calendar_next(c, starts[s] + r, &next);
				sink += next;
			}
			double d = (now_ns() - a) / REPS;
			if (d > hard_worst) {
				hard_worst = d;
				hard_spec = hard[i];
			}
		}
		calendar_free(c);
	}
	printf("hard specs (built to be slow, local time): slowest %.0f ns/call ('%s')\n", hard_worst, hard_spec);
	return all >= 1e6 && specs[slowest].ns_per_call <= 10000 ? 0 : 1;
}
