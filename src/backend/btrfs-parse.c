#include "backend/btrfs-parse.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "base/parse-util.h"

/* A `subvolume show` line is short; anything longer is not btrfs-progs. */
#define BTRFS_LINE_MAX 4096

int btrfs_valid_uuid(const char *s)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };
	const char *p = s;

	for (int g = 0; g < 5; g++) {
		for (int i = 0; i < groups[g]; i++, p++)
			if (!isxdigit((unsigned char)*p))
				return 0;
		if (g < 4 && *p++ != '-')
			return 0;
	}
	return *p == '\0';
}

static int two_digits(const char *s, int *out)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -EINVAL;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

int btrfs_parse_time(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	int y1, y2, mon, day, h, m, sec, oh, om, sign;
	time_t t;

	/* fixed layout: "2026-11-22 01:44:42 +0000" */
	if (strlen(s) != 25 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' ||
	    s[16] != ':' || s[19] != ' ' || (s[20] != '+' && s[20] != '-'))
		return -EINVAL;
	if (two_digits(s, &y1) || two_digits(s + 2, &y2) || two_digits(s + 5, &mon) ||
	    two_digits(s + 8, &day) || two_digits(s + 11, &h) || two_digits(s + 14, &m) ||
	    two_digits(s + 17, &sec) || two_digits(s + 21, &oh) || two_digits(s + 23, &om))
		return -EINVAL;
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || h > 23 || m > 59 || sec > 60 ||
	    oh > 23 || om > 59)
		return -EINVAL;
	sign = s[20] == '-' ? -1 : 1;
	tm.tm_year = y1 * 100 + y2 - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*out = (int64_t)t - sign * (oh * 3600 + om * 60);
	return 0;
}

/* "Key:<tabs/spaces>value" -> value (trimmed), or NULL when key differs */
static const char *field(const char *line, const char *key, char *buf, size_t size)
{
	size_t kl = strlen(key), n;
	const char *v;

	while (*line == ' ' || *line == '\t')
		line++;
	if (strncmp(line, key, kl) || line[kl] != ':')
		return NULL;
	v = line + kl + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	if (n >= size)
		n = size - 1; /* callers validate the value, a cut one fails */
	memcpy(buf, v, n);
	buf[n] = '\0';
	return buf;
}

static int set_uuid(char *dst, const char *v, int *seen, int dash_ok)
{
	if (*seen)
		return -EINVAL;
	*seen = 1;
	if (dash_ok && !strcmp(v, "-")) {
		dst[0] = '\0';
		return 0;
	}
	if (!btrfs_valid_uuid(v))
		return -EINVAL;
	memcpy(dst, v, BTRFS_UUID_STRLEN + 1);
	return 0;
}

int btrfs_parse_subvolume_show(const char *text, struct btrfs_subvol_info *ret)
{
	struct btrfs_subvol_info info = { .creation = -1 };
	int seen_uuid = 0, seen_recv = 0, seen_parent = 0, seen_time = 0, seen_flags = 0, r = 0;
	const char *p = text;

	while (*p && r == 0) {
		size_t len = strcspn(p, "\n");
		char line[BTRFS_LINE_MAX + 1], buf[128];
		const char *v;

		if (len > BTRFS_LINE_MAX)
			return -EINVAL;
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (p[len] == '\n');
		if ((v = field(line, "UUID", buf, sizeof(buf)))) {
			r = set_uuid(info.uuid, v, &seen_uuid, 0);
		} else if ((v = field(line, "Received UUID", buf, sizeof(buf)))) {
			r = set_uuid(info.received_uuid, v, &seen_recv, 1);
		} else if ((v = field(line, "Parent UUID", buf, sizeof(buf)))) {
			r = set_uuid(info.parent_uuid, v, &seen_parent, 1);
		} else if ((v = field(line, "Creation time", buf, sizeof(buf)))) {
			if (seen_time++ || btrfs_parse_time(v, &info.creation) < 0)
				r = -EINVAL;
		} else if ((v = field(line, "Flags", buf, sizeof(buf)))) {
			if (seen_flags++)
				r = -EINVAL;
			/* "readonly", "-", or a list such as "readonly, ..." */
			info.readonly = !strncmp(v, "readonly", 8) && (v[8] == '\0' || v[8] == ',' || v[8] == ' ');
		}
	}
	if (r < 0 || !seen_uuid || !seen_time || !seen_flags)
		return -EINVAL;
	*ret = info;
	return 0;
}

int btrfs_parse_version(const char *text, unsigned *major, unsigned *minor)
{
	const char *p = strstr(text, "btrfs-progs v");
	uint64_t ma = 0, mi = 0;
	int n;

	if (!p)
		return -EINVAL;
	p += strlen("btrfs-progs v");
	for (n = 0; isdigit((unsigned char)*p) && n < 4; n++, p++)
		ma = ma * 10 + (uint64_t)(*p - '0');
	if (!n)
		return -EINVAL;
	if (*p == '.') {
		p++;
		for (n = 0; isdigit((unsigned char)*p) && n < 4; n++, p++)
			mi = mi * 10 + (uint64_t)(*p - '0');
		if (!n)
			return -EINVAL;
	}
	*major = (unsigned)ma;
	*minor = (unsigned)mi;
	return 0;
}
