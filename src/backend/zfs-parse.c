#include "backend/zfs-parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse-util.h"
#include "base/strbuf.h"
#include "base/validate.h"
#include "base/xalloc.h"

/* Line iterator over a text: sets *line and *len to the next line (without the
 * '\n'). Returns 1 for a line, 0 at the end, -E2BIG for an overlong line. */
static int next_line(const char **pos, const char **line, size_t *len)
{
	const char *p = *pos, *nl;

	if (!*p)
		return 0;
	nl = strchr(p, '\n');
	*line = p;
	*len = nl ? (size_t)(nl - p) : strlen(p);
	*pos = nl ? nl + 1 : p + *len;
	if (*len > ZFS_LINE_MAX)
		return -E2BIG;
	return 1;
}

/* Split a line at tabs into at most max fields (copies, NUL-terminated).
 * Returns the number of fields, or -EINVAL when there are more. */
static int split_tabs(const char *line, size_t len, char **fields, int max)
{
	int n = 0;
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t')
			continue;
		if (n == max) {
			for (int k = 0; k < n; k++)
				free(fields[k]);
			return -EINVAL;
		}
		fields[n++] = xstrndup(line + start, i - start);
		start = i + 1;
	}
	return n;
}

static void free_fields(char **fields, int n)
{
	for (int k = 0; k < n; k++)
		free(fields[k]);
}

/* The next non-empty line of *pos split at tabs into exactly n fields
 * (copies: free_fields(f, n)). Returns 1 with them, 0 at the end,
 * -EINVAL for a line with another number of fields, -E2BIG for an
 * overlong one. */
static int next_fields(const char **pos, char **f, int n)
{
	const char *line;
	size_t len;
	int r, got;

	while ((r = next_line(pos, &line, &len)) > 0) {
		if (!len)
			continue;
		got = split_tabs(line, len, f, n);
		if (got == n)
			return 1;
		if (got > 0)
			free_fields(f, got);
		return -EINVAL;
	}
	return r;
}

/* "<dataset>@<snap>" -> snap (pointer into name), or NULL when name is not
 * a snapshot of exactly this dataset, or one whose name volrep would not
 * accept (a user's snapshot "a b" must not break the listing; it cannot
 * be a replication snapshot). */
static const char *snap_of(const char *name, const char *dataset)
{
	size_t dl = strlen(dataset);

	if (strncmp(name, dataset, dl) || name[dl] != '@')
		return NULL;
	if (!backend_valid_snapname(name + dl + 1))
		return NULL;
	return name + dl + 1;
}

static int valid_guid(const char *s)
{
	uint64_t v;

	return parse_u64(s, &v) == 0;
}

/* Stable insertion sort by creation: listings are short (a volume has a
 * handful of snapshots) and ties must keep the tool's order. */
static void sort_by_creation(struct backend_snapshot_list *l, size_t from)
{
	for (size_t i = from + 1; i < l->nr; i++) {
		struct backend_snapshot tmp = l->v[i];
		size_t j = i;

		while (j > from && l->v[j - 1].creation > tmp.creation) {
			l->v[j] = l->v[j - 1];
			j--;
		}
		l->v[j] = tmp;
	}
}

static void move_all(struct backend_snapshot_list *dst, struct backend_snapshot_list *src)
{
	for (size_t i = 0; i < src->nr; i++)
		backend_snapshot_list_add(dst, src->v[i].name, src->v[i].id, src->v[i].creation);
	backend_snapshot_list_clear(src);
}

/* next_fields(pos, f, 3) of the lines whose first field is a snapshot of
 * dataset (its name in *snap, pointing into f[0]); the others are
 * skipped. */
static int next_snapshot_line(const char **pos, const char *dataset, char **f, const char **snap)
{
	int r;

	while ((r = next_fields(pos, f, 3)) > 0) {
		*snap = snap_of(f[0], dataset);
		if (*snap)
			return 1;
		free_fields(f, 3);
	}
	return r;
}

/* The end of parsing a snapshot listing into tmp: unless r < 0, tmp
 * sorted by creation goes to out; tmp is emptied either way. Returns r
 * (0 on success). */
static int snapshots_done(struct backend_snapshot_list *tmp, int r, struct backend_snapshot_list *out)
{
	if (r < 0) {
		backend_snapshot_list_clear(tmp);
		return r;
	}
	sort_by_creation(tmp, 0);
	move_all(out, tmp);
	return 0;
}

int zfs_parse_snapshot_list(const char *text, const char *dataset, struct backend_snapshot_list *out)
{
	struct backend_snapshot_list tmp = BACKEND_SNAPSHOT_LIST_INIT;
	const char *pos = text, *snap;
	char *f[3];
	int r;

	while ((r = next_snapshot_line(&pos, dataset, f, &snap)) > 0) {
		int64_t creation;

		if (!valid_guid(f[1]) || parse_i64(f[2], &creation) < 0 || creation < 0) {
			free_fields(f, 3);
			r = -EINVAL;
			break;
		}
		backend_snapshot_list_add(&tmp, snap, f[1], creation);
		free_fields(f, 3);
	}
	return snapshots_done(&tmp, r, out);
}

int zfs_parse_snapshot_get(const char *text, const char *dataset, struct backend_snapshot_list *out)
{
	struct backend_snapshot_list tmp = BACKEND_SNAPSHOT_LIST_INIT;
	const char *pos = text, *snap;
	char *f[3];
	int r;

	/* creation -1 / id "" mark a property not seen yet */
	while ((r = next_snapshot_line(&pos, dataset, f, &snap)) > 0) {
		struct backend_snapshot *s = NULL;

		for (size_t i = 0; i < tmp.nr; i++)
			if (!strcmp(tmp.v[i].name, snap))
				s = &tmp.v[i];
		if (!s) {
			backend_snapshot_list_add(&tmp, snap, "", -1);
			s = &tmp.v[tmp.nr - 1];
		}
		if (!strcmp(f[1], "guid")) {
			if (!valid_guid(f[2]) || *s->id) {
				free_fields(f, 3);
				r = -EINVAL;
				break;
			}
			free(s->id);
			s->id = xstrdup(f[2]);
		} else if (!strcmp(f[1], "creation")) {
			int64_t c;

			if (parse_i64(f[2], &c) < 0 || c < 0 || s->creation >= 0) {
				free_fields(f, 3);
				r = -EINVAL;
				break;
			}
			s->creation = c;
		}
		free_fields(f, 3);
	}
	for (size_t i = 0; r == 0 && i < tmp.nr; i++)
		if (!*tmp.v[i].id || tmp.v[i].creation < 0)
			r = -EINVAL;
	return snapshots_done(&tmp, r, out);
}

/* The rows of a `zfs get -H -o name,property,value,source` listing,
 * one at a time: f[0..3]. Returns as next_fields. */
static int next_get_row(const char **pos, char **f)
{
	return next_fields(pos, f, 4);
}

int zfs_parse_volume_state(const char *text, const char *dataset, struct strbuf *sources,
			   struct backend_snapshot_list *out)
{
	struct strbuf snaps = STRBUF_INIT;
	const char *pos = text;
	char *f[4];
	int r;

	while ((r = next_get_row(&pos, f)) > 0) {
		int own = !strcmp(f[0], dataset);

		if (own && strcmp(f[1], "guid") && strcmp(f[1], "creation"))
			strbuf_addf(sources, "%s\n", f[3]);
		else if (!own)
			strbuf_addf(&snaps, "%s\t%s\t%s\n", f[0], f[1], f[2]);
		free_fields(f, 4);
	}
	if (r == 0)
		r = zfs_parse_snapshot_get(snaps.buf, dataset, out);
	strbuf_release(&snaps);
	return r;
}

int zfs_parse_received(const char *text, const char *dataset, struct strbuf *tree, struct strbuf *state)
{
	const char *pos = text;
	char *f[4];
	int r;

	while ((r = next_get_row(&pos, f)) > 0) {
		if (!strcmp(f[1], "type"))
			strbuf_addf(tree, "%s\t%s\n", f[0], f[2]);
		else if (!strcmp(f[0], dataset))
			strbuf_addf(state, "%s\t%s\t%s\n", f[1], f[2], f[3]);
		free_fields(f, 4);
	}
	return r;
}

static int has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

int zfs_parse_volume_list(const char *text, const char *pool, const char *vmid, struct strvec *out)
{
	struct strvec tmp = STRVEC_INIT;
	const char *pos = text;
	size_t pl = strlen(pool);
	char *f[2];
	int r;

	while ((r = next_fields(&pos, f, 2)) > 0) {
		const char *vol;
		uint32_t owner;

		if (!valid_dataset(f[0]) || (strcmp(f[1], "filesystem") && strcmp(f[1], "volume"))) {
			free_fields(f, 2);
			r = -EINVAL;
			break;
		}
		vol = f[0] + pl + 1;
		if (strncmp(f[0], pool, pl) || f[0][pl] != '/' || strchr(vol, '/') ||
		    !backend_valid_volname(BACKEND_ZFSPOOL, vol, &owner) ||
		    (uint64_t)owner != strtoull(vmid, NULL, 10)) {
			free_fields(f, 2);
			continue;
		}
		/* Proxmox: vm-* are zvols, subvol-* filesystems */
		if ((has_prefix(vol, "vm-") && strcmp(f[1], "volume")) ||
		    (has_prefix(vol, "subvol-") && strcmp(f[1], "filesystem"))) {
			free_fields(f, 2);
			continue;
		}
		strvec_push(&tmp, vol);
		free_fields(f, 2);
	}
	if (r < 0) {
		strvec_clear(&tmp);
		return r;
	}
	strvec_sort_uniq(&tmp);
	for (size_t i = 0; i < tmp.nr; i++)
		strvec_push(out, tmp.v[i]);
	strvec_clear(&tmp);
	return 0;
}

/* Usage lines start with a tab and the subcommand ("\tsend [-RDp] ..."),
 * continuation lines with more whitespace. */
static const char *usage_line_of(const char *line, size_t len, const char *subcmd)
{
	size_t sl = strlen(subcmd), i = 0;

	while (i < len && (line[i] == '\t' || line[i] == ' '))
		i++;
	if (i == 0 || len - i < sl || strncmp(line + i, subcmd, sl))
		return NULL;
	if (i + sl < len && line[i + sl] != ' ')
		return NULL;
	return line + i + sl;
}

uint64_t zfs_usage_flags(const char *usage, const char *subcmd)
{
	const char *pos = usage, *line;
	size_t len;
	uint64_t flags = 0;
	int in_cmd = 0;

	while (next_line(&pos, &line, &len) > 0) {
		const char *p = usage_line_of(line, len, subcmd), *end = line + len;

		if (!p) {
			/* a deeper-indented line continues the previous one */
			if (!in_cmd || len < 2 || !isspace((unsigned char)line[0]) ||
			    !isspace((unsigned char)line[1]))
			{
				in_cmd = 0;
				continue;
			}
			p = line;
		}
		in_cmd = 1;
		/* option groups: "-" right after '[', ' ' or '|', then letters */
		for (; p < end; p++) {
			if (*p != '-' || p + 1 >= end || !isalpha((unsigned char)p[1]))
				continue;
			if (p > line && !strchr("[ |", p[-1]))
				continue;
			if (p + 1 < end && p[1] == '-')
				continue;
			for (p++; p < end && isalpha((unsigned char)*p); p++)
				flags |= ZFS_FLAG(*p);
			p--;
		}
	}
	return flags;
}

int zfs_usage_multi_snapshot(const char *usage)
{
	const char *pos = usage, *line;
	size_t len;

	while (next_line(&pos, &line, &len) > 0) {
		if (!usage_line_of(line, len, "snapshot"))
			continue;
		while (len && isspace((unsigned char)line[len - 1]))
			len--;
		if (len >= 3 && !strncmp(line + len - 3, "...", 3))
			return 1;
	}
	return 0;
}

/* zfs prints sizes with at most a few significant digits ("40.1M");
 * more fraction digits than this are not zfs talking */
#define ZFS_SIZE_FRAC_MAX 4

int zfs_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGTPE";
	uint64_t ipart = 0, frac = 0, fdiv = 1, mult = 1, v;
	size_t nd = 0, nf = 0;
	const char *p = s, *u;

	if (!s)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++, nd++) {
		if (__builtin_mul_overflow(ipart, 10, &ipart) ||
		    __builtin_add_overflow(ipart, (uint64_t)(*p - '0'), &ipart))
			return -ERANGE;
	}
	if (!nd)
		return -EINVAL;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, nf++) {
			if (nf == ZFS_SIZE_FRAC_MAX)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*p - '0');
			fdiv *= 10;
		}
		if (!nf)
			return -EINVAL;
	}
	if (!*p) {
		/* a plain byte count has no fraction */
		if (nf)
			return -EINVAL;
		*out = ipart;
		return 0;
	}
	/* "512B": bytes as newer zfs versions print them */
	if (p[0] == 'B' && !p[1]) {
		if (nf)
			return -EINVAL;
		*out = ipart;
		return 0;
	}
	u = strchr(units, *p);
	if (!u || !*u || p[1])
		return -EINVAL;
	for (const char *k = units; k <= u; k++)
		mult <<= 10;
	if (__builtin_mul_overflow(ipart, mult, &v) ||
	    __builtin_add_overflow(v, frac * (mult / fdiv) + frac * (mult % fdiv) / fdiv, &v))
		return -ERANGE;
	*out = v;
	return 0;
}

int zfs_parse_property_size(const char *text, uint64_t *out)
{
	size_t len = strlen(text);
	char *v;
	int r;

	/* one value and its newline, nothing else */
	if (len && text[len - 1] == '\n')
		len--;
	if (!len || len > 64 || memchr(text, '\n', len) || memchr(text, '\t', len))
		return -EINVAL;
	v = xstrndup(text, len);
	r = zfs_parse_size(v, out);
	free(v);
	return r;
}

int zfs_parse_send_estimate(const char *text, uint64_t *out)
{
	const char *pos = text, *line;
	size_t len;
	uint64_t size = 0;
	int r, found = 0;

	while ((r = next_line(&pos, &line, &len)) > 0) {
		char *f[3];
		int n;

		if (len < 5 || strncmp(line, "size\t", 5))
			continue;
		n = split_tabs(line, len, f, 3);
		if (n != 2) {
			free_fields(f, n > 0 ? n : 0);
			return -EINVAL;
		}
		r = parse_u64(f[1], &size);
		free_fields(f, n);
		if (r < 0)
			return -EINVAL;
		found = 1;
	}
	if (r < 0)
		return r;
	if (!found)
		return -EINVAL;
	*out = size;
	return 0;
}

int zfs_valid_resume_token(const char *s)
{
	size_t n = s ? strlen(s) : 0, k;

	if (!n || n > ZFS_RESUME_TOKEN_MAX)
		return 0;
	/* "<version>-<checksum>-<packed length>-<payload>": decimal, then
	 * three lower-case hex fields, the last one whole bytes */
	k = strspn(s, "0123456789");
	if (!k || k > 3 || s[k] != '-')
		return 0;
	s += k + 1;
	for (int field = 0; field < 3; field++) {
		k = strspn(s, "0123456789abcdef");
		if (!k || (field < 2 && (k > 16 || s[k] != '-')))
			return 0;
		if (field == 2 && (s[k] || k % 2))
			return 0;
		s += k + 1;
	}
	return 1;
}

int zfs_parse_resume_property(const char *text, struct strbuf *token)
{
	size_t len = strlen(text);

	/* `zfs get -H -o value receive_resume_token`: the token, or "-" */
	if (len && text[len - 1] == '\n')
		len--;
	if (len == 1 && text[0] == '-')
		return 0;
	if (!len || len > ZFS_RESUME_TOKEN_MAX || memchr(text, '\n', len))
		return -EINVAL;
	{
		char *v = xstrndup(text, len);
		int ok = zfs_valid_resume_token(v);

		if (ok) {
			strbuf_reset(token);
			strbuf_addstr(token, v);
		}
		free(v);
		return ok ? 1 : -EINVAL;
	}
}

int zfs_parse_resume_toname(const char *text, struct strbuf *toname)
{
	const char *pos = text, *line;
	size_t len;
	int r, found = 0;

	/* `zfs send -nvP -t <token>` lists the token's nvlist, one
	 * "\t<name> = <value>" line per pair; toname is the snapshot the
	 * interrupted stream was sending */
	while ((r = next_line(&pos, &line, &len)) > 0) {
		size_t skip = strspn(line, " \t");
		const char *v;
		size_t vlen;

		if (len - skip < 9 || strncmp(line + skip, "toname = ", 9))
			continue;
		v = line + skip + 9;
		vlen = len - skip - 9;
		if (found || !vlen || vlen > 512 || memchr(v, '\t', vlen) || memchr(v, ' ', vlen))
			return -EINVAL;
		strbuf_reset(toname);
		strbuf_add(toname, v, vlen);
		found = 1;
	}
	if (r < 0)
		return r;
	return found ? 0 : -EINVAL;
}
