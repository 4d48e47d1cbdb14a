/* Calendar events (see calendar.h and docs/calendar.md).
 *
 * Parsing mirrors the reference parser (nom combinators in proxmox-time):
 * the same alternatives are tried in the same order with the same
 * backtracking, so that exactly the same strings are accepted. The parsed
 * event is then flattened: hour/minute/second/month/day into bitmasks,
 * weekdays into a 7-bit set, years into a short item list (years have no
 * natural upper bound).
 *
 * The search for the next event works on "naive seconds" (days from civil
 * times 86400 + second of day, no time zone): find the first matching date
 * at or after a day with bitmask operations, then the first matching time of
 * day. UTC events are exactly that. Local events map the found wall-clock
 * time to a real instant with a few localtime_r() calls, skipping wall-clock
 * times that fall into a spring-forward gap or that were already shown
 * before a fall-back transition. */
#include "config/calendar.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* a parse of at most 128 bytes has at most 64 comma separated items */
#define MAX_ITEMS 64
#define UNBOUNDED INT64_MAX

/* A value set of one field: v matches when start <= v <= end and
 * (v - start) % step == 0. N = {N,N,1}, N..M = {N,M,1}, N/R = {N,UNBOUNDED,R},
 * N..M/R = {N,M,R}, N/0 and N..M/0 = {N,N,1}. */
struct item {
	int64_t start, end, step;
};

struct calendar {
	uint64_t sec, min;   /* bits 0..59 */
	uint32_t hour;       /* bits 0..23 */
	uint32_t mday;       /* bits 0..31; day 0 parses but never matches */
	uint32_t mon;        /* bits 0..12; month 0 parses but never matches */
	uint8_t wday;        /* bit 0 = Monday .. bit 6 = Sunday */
	bool utc;
	unsigned n_years;    /* 0: any year */
	struct item years[MAX_ITEMS];

	/* derived by finish() */
	uint32_t wd_days[7];       /* for weekday w of the 1st: days 1..31 with a matching weekday */
	uint16_t first_in_year[2][7]; /* [leap][weekday of Jan 1]: month << 5 | day of the first match, 0 none */
	bool any_date;             /* some date matches in some year type */
	uint64_t good_years[7];    /* bit y: year y mod 400 has a matching date */
};

/* ---------------------------------------------------------------- civil */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(bool leap, int m)
{
	static const int dim[13] = { 0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap ? 29 : dim[m];
}

/* 0 = Monday .. 6 = Sunday; 1970-01-01 was a Thursday */
static int weekday_of(int64_t days)
{
	return (int)(days - floor_div(days + 3, 7) * 7 + 3);
}

/* ------------------------------------------------------------- matching */

static bool item_has(const struct item *it, int64_t v)
{
	return v >= it->start && v <= it->end && (v - it->start) % it->step == 0;
}

static bool year_ok(const struct calendar *cal, int64_t y)
{
	if (!cal->n_years)
		return true;
	for (unsigned i = 0; i < cal->n_years; i++)
		if (item_has(&cal->years[i], y))
			return true;
	return false;
}

bool calendar_matches(const struct calendar *cal, const struct tm *tm)
{
	int64_t y = (int64_t)tm->tm_year + 1900;
	int m = tm->tm_mon + 1, wd = (tm->tm_wday + 6) % 7;

	return year_ok(cal, y) && (cal->mon >> m & 1) && (cal->mday >> tm->tm_mday & 1) &&
	       (cal->wday >> wd & 1) && (cal->hour >> tm->tm_hour & 1) &&
	       (cal->min >> tm->tm_min & 1) && (cal->sec >> tm->tm_sec & 1);
}

bool calendar_is_utc(const struct calendar *cal)
{
	return cal->utc;
}

static int next_bit64(uint64_t mask, int from)
{
	if (from >= 64)
		return -1;
	mask &= ~0ULL << from;
	return mask ? __builtin_ctzll(mask) : -1;
}

/* The first matching month/day of year y at or after m-d (wd1: weekday of
 * the 1st of month m). Returns month << 5 | day, or 0. */
static unsigned scan_year(const struct calendar *cal, bool leap, int m, int d, int wd1)
{
	for (; m <= 12; m++) {
		int dim = days_in_month(leap, m);

		if (cal->mon >> m & 1) {
			uint32_t cand = cal->mday & cal->wd_days[wd1] & (uint32_t)((2ULL << dim) - 1) &
					(~0U << d);
			if (cand)
				return (unsigned)m << 5 | (unsigned)__builtin_ctz(cand);
		}
		wd1 = (wd1 + dim) % 7;
		d = 1;
	}
	return 0;
}

static unsigned first_of_year(const struct calendar *cal, int64_t y)
{
	return cal->first_in_year[is_leap(y)][weekday_of(days_from_civil(y, 1, 1))];
}

static bool good_year(const struct calendar *cal, int64_t y)
{
	int64_t k = y - floor_div(y, 400) * 400;

	return cal->good_years[k >> 6] >> (k & 63) & 1;
}

static int64_t gcd(int64_t a, int64_t b)
{
	while (b) {
		int64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* The smallest year >= y0 that the year list allows and that has a
 * matching date; false if none. A year's dates depend only on y mod 400, so
 * an arithmetic progression of years with step r repeats itself after
 * 400 / gcd(r, 400) steps. */
static bool next_year(const struct calendar *cal, int64_t y0, int64_t *ret)
{
	if (!cal->any_date)
		return false;
	if (!cal->n_years) {
		for (int64_t y = y0; y < y0 + 400; y++) {
			if (good_year(cal, y)) {
				*ret = y;
				return true;
			}
		}
		return false;
	}
	bool found = false;
	int64_t best = 0;

	for (unsigned i = 0; i < cal->n_years; i++) {
		const struct item *it = &cal->years[i];
		int64_t v = it->start, cycle = 400 / gcd(it->step, 400);

		if (y0 > v)
			v += (y0 - v + it->step - 1) / it->step * it->step;
		for (int64_t k = 0; k < cycle && v <= it->end && (!found || v < best); k++, v += it->step) {
			if (good_year(cal, v)) {
				best = v;
				found = true;
				break;
			}
		}
	}
	*ret = best;
	return found;
}

/* The first matching date at or after day number `days`. */
static bool next_date(const struct calendar *cal, int64_t days, int64_t *ret)
{
	int64_t y, ny;
	int m, d;
	unsigned md;

	civil_from_days(days, &y, &m, &d);
	if (year_ok(cal, y)) {
		md = scan_year(cal, is_leap(y), m, d, weekday_of(days - d + 1));
		if (md) {
			*ret = days_from_civil(y, (int)(md >> 5), (int)(md & 31));
			return true;
		}
	}
	if (!next_year(cal, y + 1, &ny))
		return false;
	md = first_of_year(cal, ny);
	*ret = days_from_civil(ny, (int)(md >> 5), (int)(md & 31));
	return true;
}

/* The first matching second of day at or after sod, or -1. */
static int next_time(const struct calendar *cal, int sod)
{
	int H = sod / 3600, M = sod / 60 % 60, S = sod % 60;
	int h = next_bit64(cal->hour, H), m, s;

	if (h < 0)
		return -1;
	if (h == H) {
		m = next_bit64(cal->min, M);
		if (m == M) {
			s = next_bit64(cal->sec, S);
			if (s >= 0)
				return H * 3600 + M * 60 + s;
			m = next_bit64(cal->min, M + 1);
		}
		if (m >= 0)
			return H * 3600 + m * 60 + __builtin_ctzll(cal->sec);
		h = next_bit64(cal->hour, H + 1);
		if (h < 0)
			return -1;
	}
	return h * 3600 + __builtin_ctzll(cal->min) * 60 + __builtin_ctzll(cal->sec);
}

/* The first matching naive time (days * 86400 + second of day) >= w. */
static bool next_naive(const struct calendar *cal, int64_t w, int64_t *ret)
{
	int64_t days = floor_div(w, 86400), found;
	int sod = (int)(w % 86400 + (w % 86400 < 0 ? 86400 : 0)), tod;

	if (!next_date(cal, days, &found))
		return false;
	tod = found == days ? next_time(cal, sod) : next_time(cal, 0);
	if (tod < 0) {
		if (days == INT64_MAX / 86400 || !next_date(cal, days + 1, &found))
			return false;
		tod = next_time(cal, 0);
	}
	if (found == days)
		return !__builtin_add_overflow(w, tod - sod, ret);
	if (__builtin_mul_overflow(found, 86400, &found) || __builtin_add_overflow(found, tod, ret))
		return false;
	return true;
}

/* ------------------------------------------------------------ local time */

/* UTC offset in effect at t, in seconds east of UTC. */
static bool utc_offset(int64_t t, int64_t *off)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm))
		return false;
	*off = tm.tm_gmtoff;
	return true;
}

/* lo has offset a, hi a different one: the first instant in (lo, hi] whose
 * offset differs from a (the transition, if there is only one), and its
 * offset. */
static bool find_change(int64_t lo, int64_t hi, int64_t a, int64_t *ret, int64_t *ret_off)
{
	int64_t o, o1;

	/* transitions are nearly always on a whole hour UTC: try those first,
	 * as localtime_r is slow past 2037 (computed from the zone's rule) */
	for (int64_t x = floor_div(lo, 3600) * 3600 + 3600, k = 0; x <= hi && k < 2; x += 3600, k++) {
		if (!utc_offset(x, &o) || !utc_offset(x - 1, &o1))
			return false;
		if (o1 == a && o != a) {
			*ret = x;
			*ret_off = o;
			return true;
		}
		if (o1 != a) {
			hi = x - 1;
			break;
		}
		lo = x;
	}
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (!utc_offset(mid, &o))
			return false;
		if (o == a)
			lo = mid;
		else
			hi = mid;
	}
	*ret = hi;
	return utc_offset(hi, ret_off);
}

/* Longest lookback for a transition: larger than any UTC offset change. */
#define LOOK (26 * 3600)

static int next_local(const struct calendar *cal, int64_t after, int64_t *next)
{
	int64_t t = after + 1, o, p, q, hw, w, c, oc, c2, o2, T;

	if (t < INT64_MIN / 2 + LOOK || t > INT64_MAX / 2)
		return 0;
	if (!utc_offset(t, &o) || !utc_offset(t - LOOK, &p))
		return 0;
	hw = t + o;
	/* Within the second pass of a fall-back? Then the wall-clock times up
	 * to the end of the first pass were shown already. */
	if (p > o) {
		if (!utc_offset(t - (p - o), &q))
			return 0;
		if (q != o) {
			/* walls up to T - 1 + off(T - 1) were shown, and
			 * off(T - 1) == q as there is one transition */
			if (!find_change(t - (p - o), t, q, &T, &o2))
				return 0;
			if (T + q > hw)
				hw = T + q;
		}
	}
	for (int iter = 0; iter < 16; iter++) {
		if (!next_naive(cal, hw, &w))
			return 0;
		c = w - o;
		if (!utc_offset(c, &oc))
			return 0;
		if (oc != o) {
			c2 = w - oc;
			if (!utc_offset(c2, &o2))
				return 0;
			if (o2 != oc) {
				/* w does not exist (gap): go on at the end of the gap */
				int64_t lo = c2 < c ? c2 : c, a = c2 < c ? o2 : oc;
				int64_t hi = c2 < c ? c : c2, b = c2 < c ? oc : o2;

				if (lo < t) {
					lo = t;
					a = o;
				}
				if (a == b || !find_change(lo, hi, a, &T, &o))
					return 0;
				t = T;
				hw = T + o > w + 1 ? T + o : w + 1;
				continue;
			}
			c = c2;
			oc = o2;
		}
		/* an earlier occurrence of w, before a fall-back shortly before c? */
		if (!utc_offset(c - LOOK, &p))
			return 0;
		if (p > oc && w - p < c && utc_offset(w - p, &q) && q == p)
			c = w - p;
		if (c <= after) {
			hw = w + 1;
			continue;
		}
		*next = c;
		return 1;
	}
	return 0;
}

int calendar_next(const struct calendar *cal, int64_t after, int64_t *next)
{
	int64_t w;

	if (after == INT64_MAX)
		return 0;
	if (!cal->utc)
		return next_local(cal, after, next);
	if (!next_naive(cal, after + 1, &w))
		return 0;
	*next = w;
	return 1;
}

/* -------------------------------------------------------------- parsing */

struct parser {
	const char *err_pos; /* furthest position of a recorded reason */
	char err[96];
};

static void note(struct parser *p, const char *pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Remember why an alternative failed; the reason at the furthest position
 * is reported if the whole parse fails. */
static void note(struct parser *p, const char *pos, const char *fmt, ...)
{
	va_list ap;

	if (p->err_pos && pos < p->err_pos)
		return;
	p->err_pos = pos;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* 1*DIGIT < max; `what` names it in the reason ("value", "repetition"). */
static bool parse_num(struct parser *p, const char **s, uint32_t max, const char *what, uint32_t *out)
{
	const char *q = *s;
	uint64_t v = 0;
	bool overflow = false;

	if (!is_digit(*q))
		return false;
	for (; is_digit(*q); q++) {
		v = v * 10 + (uint64_t)(*q - '0');
		if (v > UINT32_MAX) {
			overflow = true;
			v = UINT32_MAX;
		}
	}
	if (overflow || v >= max) {
		int n = (int)(q - *s);

		note(p, *s, "%s '%.*s' out of range", what, n > 24 ? 24 : n, *s);
		return false;
	}
	*out = (uint32_t)v;
	*s = q;
	return true;
}

/* N [".." M] ["/" R] */
static bool parse_item(struct parser *p, const char **s, uint32_t max, struct item *it)
{
	const char *q = *s, *r;
	uint32_t v, e, rep;
	bool range = false;

	if (!parse_num(p, &q, max, "value", &v))
		return false;
	e = v;
	if (q[0] == '.' && q[1] == '.') {
		r = q + 2;
		if (parse_num(p, &r, max, "value", &e)) {
			if (v > e) {
				note(p, q, "range start %u is bigger than its end %u", v, e);
				return false;
			}
			q = r;
			range = true;
		}
	}
	/* "/R" repeats up to the range's end, or without one forever; R 0
	 * means the start only */
	if (*q == '/') {
		q++;
		if (!parse_num(p, &q, max, "repetition", &rep))
			return false;
		*it = rep ? (struct item){ v, range ? e : UNBOUNDED, rep } : (struct item){ v, v, 1 };
	} else {
		*it = (struct item){ v, e, 1 };
	}
	*s = q;
	return true;
}

struct list {
	unsigned n; /* 0: "*" */
	struct item items[MAX_ITEMS];
};

/* "*" | "*" "/" R | item {"," item}; `start` is where "*" "/" R begins. */
static bool parse_list(struct parser *p, const char **s, uint32_t start, uint32_t max, struct list *l)
{
	const char *q = *s;
	uint32_t rep;

	l->n = 0;
	if (*q == '*') {
		q++;
		if (*q == '/') {
			const char *r = q + 1;

			if (!parse_num(p, &r, max, "repetition", &rep))
				return false;
			if (rep > 0) {
				l->items[0] = (struct item){ start, UNBOUNDED, rep };
				l->n = 1;
				*s = r;
				return true;
			}
			note(p, q + 1, "repetition '0' is not allowed after '*'");
		}
		*s = q;
		return true;
	}
	if (!parse_item(p, &q, max, &l->items[0]))
		return false;
	l->n = 1;
	while (*q == ',' && l->n < MAX_ITEMS) {
		const char *r = q + 1;

		if (!parse_item(p, &r, max, &l->items[l->n]))
			break;
		l->n++;
		q = r;
	}
	*s = q;
	return true;
}

/* Bits 0..limit-1 of the values in l ("*": all of them). */
static uint64_t list_mask(const struct list *l, uint32_t limit)
{
	uint64_t m = 0;

	if (!l->n)
		return limit >= 64 ? ~0ULL : (1ULL << limit) - 1;
	for (unsigned i = 0; i < l->n; i++) {
		const struct item *it = &l->items[i];

		for (int64_t v = it->start; v <= it->end && v < limit; v += it->step)
			m |= 1ULL << v;
	}
	return m;
}

static const char *const wday_names[7][2] = {
	{ "mon", "monday" }, { "tue", "tuesday" }, { "wed", "wednesday" }, { "thu", "thursday" },
	{ "fri", "friday" }, { "sat", "saturday" }, { "sun", "sunday" },
};

static const char *const keywords[] = {
	"minutely", "hourly", "daily", "weekly", "monthly", "yearly", "annually",
	"quarterly", "semiannually", "semi-annually",
};

static bool word_is(const char *w, size_t n, const char *name)
{
	return strlen(name) == n && !strncasecmp(w, name, n);
}

/* one maximal run of ASCII letters naming a weekday */
static bool parse_wday(struct parser *p, const char **s, int *wd)
{
	const char *q = *s;
	size_t n = 0;

	while (is_alpha(q[n]))
		n++;
	if (!n)
		return false;
	for (int i = 0; i < 7; i++) {
		if (word_is(q, n, wday_names[i][0]) || word_is(q, n, wday_names[i][1])) {
			*wd = i;
			*s = q + n;
			return true;
		}
	}
	for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++) {
		if (strlen(keywords[k]) == n && !strncmp(q, keywords[k], n)) {
			note(p, q, "keyword '%.*s' cannot be combined with anything", (int)n, q);
			return false;
		}
	}
	note(p, q, "invalid weekday '%.*s'", n > 24 ? 24 : (int)n, q);
	return false;
}

/* wday [".." wday], wrapping when the start is after the end */
static bool parse_wdrange(struct parser *p, const char **s, uint8_t *set)
{
	const char *q = *s, *r;
	int a, b;

	if (!parse_wday(p, &q, &a))
		return false;
	b = a;
	if (q[0] == '.' && q[1] == '.') {
		r = q + 2;
		if (parse_wday(p, &r, &b))
			q = r;
	}
	for (int i = a;; i = (i + 1) % 7) {
		*set |= (uint8_t)(1 << i);
		if (i == b)
			break;
	}
	*s = q;
	return true;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

struct parsed {
	struct list year, month, day, hour, minute, second;
	bool has_date, has_year, has_time, has_hour, has_second;
};

static bool parse_date(struct parser *p, const char **s, struct parsed *ev)
{
	const char *q = *s;

	if (parse_list(p, &q, 0, 2200, &ev->year) && *q == '-' && (q++, true) &&
	    parse_list(p, &q, 1, 13, &ev->month) && *q == '-' && (q++, true) &&
	    parse_list(p, &q, 1, 32, &ev->day)) {
		ev->has_year = true;
		*s = q;
		return true;
	}
	q = *s;
	if (parse_list(p, &q, 1, 13, &ev->month) && *q == '-' && (q++, true) &&
	    parse_list(p, &q, 1, 32, &ev->day)) {
		ev->has_year = false;
		*s = q;
		return true;
	}
	return false;
}

static bool parse_time(struct parser *p, const char **s, struct parsed *ev)
{
	const char *q = *s, *r;

	ev->has_hour = parse_list(p, &q, 0, 24, &ev->hour) && *q == ':';
	if (ev->has_hour)
		q++;
	else
		q = *s;
	if (!parse_list(p, &q, 0, 60, &ev->minute))
		return false;
	ev->has_second = false;
	if (*q == ':') {
		r = q + 1;
		if (parse_list(p, &r, 0, 60, &ev->second)) {
			ev->has_second = true;
			q = r;
		}
	}
	*s = q;
	return true;
}

static const struct list zero_list = { 1, { { 0, 0, 1 } } };
static const struct list any_list = { 0, { { 0, 0, 0 } } };

/* Keyword -> fields (hour/minute/second 0 unless noted). */
static bool keyword_event(const char *body, struct calendar *cal)
{
	cal->sec = 1;
	cal->min = 1;
	cal->hour = 1;
	if (!strcmp(body, "minutely")) {
		cal->min = (1ULL << 60) - 1;
		cal->hour = (1U << 24) - 1;
	} else if (!strcmp(body, "hourly")) {
		cal->hour = (1U << 24) - 1;
	} else if (!strcmp(body, "daily")) {
	} else if (!strcmp(body, "weekly")) {
		cal->wday = 1;
	} else if (!strcmp(body, "monthly")) {
		cal->mday = 1U << 1;
	} else if (!strcmp(body, "yearly") || !strcmp(body, "annually")) {
		cal->mday = 1U << 1;
		cal->mon = 1U << 1;
	} else if (!strcmp(body, "quarterly")) {
		cal->mday = 1U << 1;
		cal->mon = 1U << 1 | 1U << 4 | 1U << 7 | 1U << 10;
	} else if (!strcmp(body, "semiannually") || !strcmp(body, "semi-annually")) {
		cal->mday = 1U << 1;
		cal->mon = 1U << 1 | 1U << 7;
	} else {
		return false;
	}
	return true;
}

/* Derived tables for the search. */
static void finish(struct calendar *cal)
{
	for (int w = 0; w < 7; w++) {
		uint32_t m = 0;

		for (int d = 1; d <= 31; d++)
			if (cal->wday >> ((w + d - 1) % 7) & 1)
				m |= 1U << d;
		cal->wd_days[w] = m;
	}
	cal->any_date = false;
	for (int leap = 0; leap < 2; leap++) {
		for (int w = 0; w < 7; w++) {
			unsigned md = scan_year(cal, leap, 1, 1, w);

			cal->first_in_year[leap][w] = (uint16_t)md;
			cal->any_date |= md != 0;
		}
	}
	memset(cal->good_years, 0, sizeof(cal->good_years));
	for (int y = 0, w = weekday_of(days_from_civil(0, 1, 1)); y < 400; y++) {
		bool leap = is_leap(y);

		if (cal->first_in_year[leap][w])
			cal->good_years[y >> 6] |= 1ULL << (y & 63);
		w = (w + (leap ? 366 : 365)) % 7;
	}
}

static bool is_perl_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int fail(char *errbuf, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf && errlen) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* spec without its surrounding blanks and a trailing "UTC" (which sets
 * cal->utc) into body. */
static int spec_body(const char *spec, char body[CALENDAR_SPEC_MAX + 1], struct calendar *cal, char *errbuf,
		     size_t errlen)
{
	size_t len = strlen(spec), b = 0, e;

	if (len > CALENDAR_SPEC_MAX)
		return fail(errbuf, errlen, "event is too long (%zu bytes, at most %d)", len, CALENDAR_SPEC_MAX);
	e = len;
	while (b < e && is_perl_space(spec[b]))
		b++;
	while (e > b && is_perl_space(spec[e - 1]))
		e--;
	if (b == e)
		return fail(errbuf, errlen, "event is empty");
	memcpy(body, spec + b, e - b);
	body[e - b] = '\0';
	len = e - b;
	if (len >= 3 && !strcmp(body + len - 3, "UTC")) {
		cal->utc = true;
		len -= 3;
		while (len && body[len - 1] == ' ')
			len--;
		body[len] = '\0';
	}
	return 0;
}

/* A keyword ("daily", "monthly", ...) leaves unset what it does not name:
 * every weekday, day and month. */
static void keyword_defaults(struct calendar *cal)
{
	if (!cal->wday)
		cal->wday = 0x7f;
	if (!cal->mday)
		cal->mday = ~1U;
	if (!cal->mon)
		cal->mon = 0x1ffe;
}

/* The weekday list "mon..fri,sun": the first range must parse, a bad one
 * after a comma ends the list (and is left for the date). */
static bool parse_wdays(struct parser *p, const char **s, uint8_t *set)
{
	if (!parse_wdrange(p, s, set))
		return false;
	while (**s == ',') {
		const char *r = *s + 1;

		if (!parse_wdrange(p, &r, set))
			break;
		*s = r;
	}
	*s = skip_space(*s);
	return true;
}

/* The optional date and time; what they leave out: a missing time is
 * midnight, missing seconds are 0, a missing hour every hour. */
static void parse_date_time(struct parser *p, const char **s, struct parsed *ev)
{
	if (parse_date(p, s, ev)) {
		ev->has_date = true;
		*s = skip_space(*s);
	}
	if (parse_time(p, s, ev)) {
		ev->has_time = true;
	} else {
		ev->hour = zero_list;
		ev->has_hour = true;
		ev->minute = zero_list;
	}
	if (!ev->has_second)
		ev->second = zero_list;
	if (!ev->has_hour)
		ev->hour = any_list;
}

/* The parsed lists as the calendar's bit masks (no date: every day of
 * every month). */
static void event_masks(struct calendar *cal, const struct parsed *ev, bool has_wday)
{
	if (!has_wday)
		cal->wday = 0x7f;
	cal->sec = list_mask(&ev->second, 60);
	cal->min = list_mask(&ev->minute, 60);
	cal->hour = (uint32_t)list_mask(&ev->hour, 24);
	if (!ev->has_date) {
		cal->mday = ~1U;
		cal->mon = 0x1ffe;
		return;
	}
	cal->mday = (uint32_t)list_mask(&ev->day, 32);
	cal->mon = (uint32_t)list_mask(&ev->month, 13);
	if (!ev->day.n)
		cal->mday &= ~1U;
	if (!ev->month.n)
		cal->mon &= ~1U;
	if (ev->has_year && ev->year.n) {
		cal->n_years = ev->year.n;
		memcpy(cal->years, ev->year.items, ev->year.n * sizeof(ev->year.items[0]));
	}
}

static int calendar_done(struct calendar *cal, struct calendar **ret)
{
	finish(cal);
	*ret = xmalloc(sizeof(*cal));
	**ret = *cal;
	return 0;
}

int calendar_parse(const char *spec, struct calendar **ret, char *errbuf, size_t errlen)
{
	char body[CALENDAR_SPEC_MAX + 1];
	struct parser p = { 0 };
	struct calendar cal = { 0 };
	struct parsed ev;
	const char *s = body;
	bool has_wday = false;
	int r = spec_body(spec, body, &cal, errbuf, errlen);

	if (r < 0)
		return r;
	if (is_alpha(*s) && keyword_event(body, &cal)) {
		keyword_defaults(&cal);
		return calendar_done(&cal, ret);
	}
	if (is_alpha(*s)) {
		uint8_t set = 0;

		if (!parse_wdays(&p, &s, &set))
			return fail(errbuf, errlen, "%s", p.err);
		cal.wday = set;
		has_wday = true;
	}
	memset(&ev, 0, sizeof(ev));
	parse_date_time(&p, &s, &ev);
	if (!has_wday && !ev.has_date && !ev.has_time) {
		if (p.err_pos)
			return fail(errbuf, errlen, "%s", p.err);
		return fail(errbuf, errlen, "no date or time specification");
	}
	if (*s) {
		if (p.err_pos && p.err_pos >= s)
			return fail(errbuf, errlen, "%s", p.err);
		return fail(errbuf, errlen, "unused parts '%.40s'", s);
	}
	event_masks(&cal, &ev, has_wday);
	return calendar_done(&cal, ret);
}

void calendar_free(struct calendar *cal)
{
	free(cal);
}

/* ------------------------------------------------------------ formatting */

/* Values of mask in [lo, hi]: "*" when all of them, else "a..b" for runs
 * of three or more and single values, comma separated. */
static void format_mask(struct strbuf *sb, uint64_t mask, int lo, int hi)
{
	uint64_t all = ((hi >= 63 ? ~0ULL : (2ULL << hi) - 1) >> lo) << lo;
	bool first = true;

	if ((mask & all) == all) {
		strbuf_addch(sb, '*');
		return;
	}
	/* one arithmetic progression of 3 or more values: "a/r" or "a..b/r" */
	if (__builtin_popcountll(mask) >= 3) {
		int a = __builtin_ctzll(mask), b = 63 - __builtin_clzll(mask);
		int r = __builtin_ctzll(mask >> (a + 1)) + 1;
		uint64_t prog = 0;

		for (int v = a; v <= b; v += r)
			prog |= 1ULL << v;
		if (r > 1 && prog == mask) {
			if (b + r > hi)
				strbuf_addf(sb, "%02d/%d", a, r);
			else
				strbuf_addf(sb, "%02d..%02d/%d", a, b, r);
			return;
		}
	}
	for (int v = 0; v <= hi; v++) {
		int w = v;

		if (!(mask >> v & 1))
			continue;
		while (w < hi && mask >> (w + 1) & 1)
			w++;
		if (!first)
			strbuf_addch(sb, ',');
		first = false;
		if (w - v >= 2)
			strbuf_addf(sb, "%02d..%02d", v, w);
		else if (w - v == 1)
			strbuf_addf(sb, "%02d,%02d", v, w);
		else
			strbuf_addf(sb, "%02d", v);
		v = w;
	}
}

void calendar_format(const struct calendar *cal, struct strbuf *sb)
{
	if (cal->wday != 0x7f) {
		bool first = true;

		for (int d = 0; d < 7; d++) {
			int e = d;

			if (!(cal->wday >> d & 1))
				continue;
			while (e < 6 && cal->wday >> (e + 1) & 1)
				e++;
			if (!first)
				strbuf_addch(sb, ',');
			first = false;
			if (e - d >= 2)
				strbuf_addf(sb, "%s..%s", wday_names[d][0], wday_names[e][0]);
			else if (e - d == 1)
				strbuf_addf(sb, "%s,%s", wday_names[d][0], wday_names[e][0]);
			else
				strbuf_addstr(sb, wday_names[d][0]);
			d = e;
		}
		strbuf_addch(sb, ' ');
	}
	if (!cal->n_years)
		strbuf_addch(sb, '*');
	for (unsigned i = 0; i < cal->n_years; i++) {
		const struct item *it = &cal->years[i];

		if (i)
			strbuf_addch(sb, ',');
		strbuf_addf(sb, "%" PRId64, it->start);
		if (it->end != it->start && it->end != UNBOUNDED)
			strbuf_addf(sb, "..%" PRId64, it->end);
		if (it->step != 1 || it->end == UNBOUNDED)
			strbuf_addf(sb, "/%" PRId64, it->step);
	}
	strbuf_addch(sb, '-');
	/* month 0 and day 0 never match but are kept: they make the event empty */
	format_mask(sb, cal->mon, (cal->mon & 1) ? 0 : 1, 12);
	strbuf_addch(sb, '-');
	format_mask(sb, cal->mday, (cal->mday & 1) ? 0 : 1, 31);
	strbuf_addch(sb, ' ');
	format_mask(sb, cal->hour, 0, 23);
	strbuf_addch(sb, ':');
	format_mask(sb, cal->min, 0, 59);
	strbuf_addch(sb, ':');
	format_mask(sb, cal->sec, 0, 59);
	if (cal->utc)
		strbuf_addstr(sb, " UTC");
}
