/* Fuzz target: arbitrary bytes as the output of the zfs tool, through
 * every parser of src/backend/zfs-parse.h. The dataset, pool and vmid the
 * parsers are asked about are taken from the first field of the first
 * line (so captured listings match themselves) and also fixed ones.
 * Invariants checked (abort on violation):
 *  - snapshot lists hold only valid snapshot names with decimal ids,
 *    the `list` form sorted by creation, no snapshot twice in `get`;
 *  - volume lists hold only valid volume names of the vmid, sorted and
 *    without duplicates;
 *  - a failed parse leaves the output untouched;
 *  - the listings with a source column split into lines of exactly
 *    the columns their readers take;
 *  - resume tokens: only the token grammar passes;
 *  - sizes: a byte count formatted in decimal parses back to itself, and
 *    "<n>.<f><U>" lies within [<n><U>, <n+1><U>). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/zfs-parse.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "base/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_snaps(const struct backend_snapshot_list *l, int sorted)
{
	for (size_t i = 0; i < l->nr; i++) {
		if (!backend_valid_snapname(l->v[i].name) || !l->v[i].id || !*l->v[i].id)
			abort();
		if (strspn(l->v[i].id, "0123456789") != strlen(l->v[i].id))
			abort();
		if (l->v[i].creation < 0)
			abort();
		if (sorted && i && l->v[i - 1].creation > l->v[i].creation)
			abort();
		for (size_t j = 0; j < i && !sorted; j++)
			if (!strcmp(l->v[i].name, l->v[j].name))
				abort();
	}
}

/* every line of t has exactly n tab-separated fields and ends in '\n' */
static void check_columns(const struct strbuf *t, int n)
{
	int tabs = 0;

	if (strlen(t->buf) != t->len || (t->len && t->buf[t->len - 1] != '\n'))
		abort();
	for (size_t i = 0; i < t->len; i++) {
		if (t->buf[i] == '\t') {
			tabs++;
		} else if (t->buf[i] == '\n') {
			if (tabs != n - 1)
				abort();
			tabs = 0;
		}
	}
}

static void snapshot_parsers(const char *text, const char *dataset)
{
	struct backend_snapshot_list l = BACKEND_SNAPSHOT_LIST_INIT;

	if (zfs_parse_snapshot_list(text, dataset, &l) == 0)
		check_snaps(&l, 1);
	else if (l.nr)
		abort();
	backend_snapshot_list_clear(&l);
	if (zfs_parse_snapshot_get(text, dataset, &l) == 0)
		check_snaps(&l, 0);
	else if (l.nr)
		abort();
	backend_snapshot_list_clear(&l);
	/* the same rows with a source column: prepare's and the import's */
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	if (zfs_parse_volume_state(text, dataset, &a, &l) == 0)
		check_snaps(&l, 0);
	else if (l.nr)
		abort();
	backend_snapshot_list_clear(&l);
	strbuf_reset(&a);
	if (zfs_parse_received(text, dataset, &a, &b) == 0) {
		check_columns(&a, 2);
		check_columns(&b, 3);
	}
	strbuf_release(&a);
	strbuf_release(&b);
}

static void volume_parser(const char *text, const char *pool, const char *vmid)
{
	struct strvec v = STRVEC_INIT;

	if (zfs_parse_volume_list(text, pool, vmid, &v) == 0) {
		for (size_t i = 0; i < v.nr; i++) {
			uint32_t id;

			/* vmid may come with leading zeros here; compare values */
			if (!backend_valid_volname(BACKEND_ZFSPOOL, v.v[i], &id) ||
			    id != strtoull(vmid, NULL, 10))
				abort();
			if (i && strcmp(v.v[i - 1], v.v[i]) >= 0)
				abort();
		}
	} else if (v.nr) {
		abort();
	}
	strvec_clear(&v);
}

static void size_parsers(const char *text)
{
	uint64_t v, v2, lo, hi;
	char buf[64];
	const char *dot;

	zfs_parse_property_size(text, &v);
	zfs_parse_send_estimate(text, &v);
	if (strlen(text) >= sizeof(buf) || zfs_parse_size(text, &v) != 0)
		return;
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	if (zfs_parse_size(buf, &v2) != 0 || v2 != v)
		abort();
	dot = strchr(text, '.');
	if (!dot)
		return;
	/* "<n>.<f>U": between "<n>U" and "<n+1>U" */
	char unit = text[strlen(text) - 1];
	snprintf(buf, sizeof(buf), "%.*s%c", (int)(dot - text), text, unit);
	if (zfs_parse_size(buf, &lo) != 0)
		abort();
	if (lo > v)
		abort();
	uint64_t n = 0;
	for (const char *p = text; p < dot; p++)
		n = n * 10 + (uint64_t)(*p - '0'); /* fits: lo did */
	snprintf(buf, sizeof(buf), "%" PRIu64 "%c", n + 1, unit);
	if (zfs_parse_size(buf, &hi) == 0 && v >= hi)
		abort();
}

/* Resume tokens (from the target: hostile): what passes is a token of
 * the grammar, never an option or a word with blanks or shell bytes. */
static void resume_parsers(const char *text)
{
	struct strbuf t = STRBUF_INIT;
	int r = zfs_parse_resume_property(text, &t);

	if (r == 1 && (!zfs_valid_resume_token(t.buf) || t.buf[0] == '-' ||
		       strspn(t.buf, "0123456789abcdef-") != t.len || t.len > ZFS_RESUME_TOKEN_MAX))
		abort();
	if (r != 1 && t.len)
		abort();
	strbuf_reset(&t);
	if (zfs_parse_resume_toname(text, &t) == 0 && (!t.len || strchr(t.buf, '\n') || strchr(t.buf, ' ')))
		abort();
	if (zfs_valid_resume_token(text) && (text[0] < '0' || text[0] > '9'))
		abort();
	strbuf_release(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf text = STRBUF_INIT, ds = STRBUF_INIT, pool = STRBUF_INIT;
	char vmid[16] = "100";
	const char *base;

	strbuf_add(&text, data, size); /* the parsers take a C string */

	/* dataset: the first line's first field, up to '@' */
	strbuf_add(&ds, text.buf, strcspn(text.buf, "@\t\n"));
	base = strrchr(ds.buf, '/');
	if (base) {
		strbuf_add(&pool, ds.buf, (size_t)(base - ds.buf));
		base++;
		const char *dash = strchr(base, '-');
		if (dash) {
			size_t n = strspn(dash + 1, "0123456789");
			if (n && n < sizeof(vmid)) {
				memcpy(vmid, dash + 1, n);
				vmid[n] = '\0';
			}
		}
	} else {
		strbuf_addstr(&pool, ds.buf);
	}

	snapshot_parsers(text.buf, ds.buf);
	snapshot_parsers(text.buf, "rpool/data/vm-100-disk-0");
	resume_parsers(text.buf);
	volume_parser(text.buf, pool.buf, vmid);
	volume_parser(text.buf, "rpool/data", "100");

	static const char *const subcmds[] = { "snapshot", "send", "receive", "recv", "list",
					       "get", "destroy", "rollback", "", NULL };
	for (size_t i = 0; subcmds[i]; i++)
		zfs_usage_flags(text.buf, subcmds[i]);
	int multi = zfs_usage_multi_snapshot(text.buf);
	if (multi != 0 && multi != 1)
		abort();

	size_parsers(text.buf);

	strbuf_release(&text);
	strbuf_release(&ds);
	strbuf_release(&pool);
	return 0;
}
