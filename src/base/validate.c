#include "base/validate.h"

#include <ctype.h>
#include <string.h>

#include "base/parse-util.h"

static int all_in(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return 0;
	return 1;
}

int valid_node_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return 0;
	return all_in(s, "-");
}

int valid_storage_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 2 || n > 64 || !islower((unsigned char)s[0]))
		return 0;
	if (!islower((unsigned char)s[n - 1]) && !isdigit((unsigned char)s[n - 1]))
		return 0;
	for (const char *p = s; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && !strchr("-_.", *p))
			return 0;
	return 1;
}

static int canonical_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!len || len > 10 || (len > 1 && s[0] == '0'))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return 0;
	*out = v;
	return 1;
}

int valid_vmid(const char *s)
{
	uint64_t v;

	return s && canonical_uint(s, strlen(s), 999999999, &v) && v >= 100;
}

int valid_job_id(const char *s, uint32_t *vmid, uint32_t *jobnum)
{
	const char *dash = s ? strchr(s, '-') : NULL;
	uint64_t g, j;

	if (!dash)
		return 0;
	if (!canonical_uint(s, (size_t)(dash - s), 999999999, &g) || g < 100)
		return 0;
	if (!canonical_uint(dash + 1, strlen(dash + 1), 999999999, &j))
		return 0;
	if (vmid)
		*vmid = (uint32_t)g;
	if (jobnum)
		*jobnum = (uint32_t)j;
	return 1;
}

static int no_dot_components(const char *s)
{
	const char *p = s;

	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/')
			p++;
		else
			break;
	}
	return s[strlen(s) - 1] != '/';
}

int valid_volname(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 255 || s[0] == '-' || s[0] == '/' || s[0] == '.')
		return 0;
	return all_in(s, "._-/") && no_dot_components(s);
}

int valid_snapshot_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 200 || s[0] == '-')
		return 0;
	return all_in(s, "_.:-");
}

int valid_dataset(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 255 || s[0] == '-' || s[0] == '/')
		return 0;
	return all_in(s, "_.:-/") && no_dot_components(s);
}

int valid_abs_path(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > 4000 || s[0] != '/')
		return 0;
	if (n == 1)
		return 1;
	return all_in(s, "._-/+@:") && no_dot_components(s + 1);
}
