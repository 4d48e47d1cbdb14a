#include "config/jobs.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse-util.h"
#include "base/log.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "cluster/store.h"
#include "config/calendar.h"
#include "config/sectioncfg.h"

static const char *const job_required[] = { "target", NULL };
static const char *const job_booleans[] = { "disable", NULL };
static const struct sc_layout job_layouts[] = {
	{ "local", job_required, job_booleans },
	{ NULL, NULL, NULL },
};

const char *remove_mode_name(enum remove_mode m)
{
	switch (m) {
	case REMOVE_LOCAL:
		return "local";
	case REMOVE_FULL:
		return "full";
	default:
		return NULL;
	}
}

static int is_literal(unsigned char c)
{
	return (c >= 0x20 && c <= 0x24) || (c >= 0x26 && c <= 0x39) || (c >= 0x3b && c <= 0x7e);
}

void comment_encode(const char *in, struct strbuf *out)
{
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (is_literal(*p))
			strbuf_addch(out, (char)*p);
		else
			strbuf_addf(out, "%%%02X", *p);
	}
}

void comment_decode(const char *in, struct strbuf *out)
{
	for (const char *p = in; *p; p++) {
		int hi, lo;

		if (*p == '%' && (hi = hex_digit(p[1])) >= 0 && (lo = hex_digit(p[2])) >= 0) {
			/* a NUL byte would cut the C string short: keep it encoded */
			if (hi == 0 && lo == 0) {
				strbuf_addstr(out, "%00");
			} else {
				strbuf_addch(out, (char)(hi * 16 + lo));
			}
			p += 2;
		} else {
			strbuf_addch(out, *p);
		}
	}
}

/* Characters, not bytes, as Perl counts them: UTF-8 continuation bytes
 * do not count. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* digits only, at most 9 significant digits; leading zeros allowed */
static int parse_id_part(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	size_t sig = 0;

	if (!len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (v || s[i] != '0')
			sig++;
		if (sig > 9)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = (uint32_t)v;
	return 0;
}

/* The file accepts any "<digits>-<digits>" and normalises it through int(). */
static int parse_file_id(const char *s, uint32_t *guest, uint32_t *jobnum)
{
	const char *dash = strchr(s, '-');

	if (!dash || parse_id_part(s, (size_t)(dash - s), guest) < 0 ||
	    parse_id_part(dash + 1, strlen(dash + 1), jobnum) < 0)
		return -1;
	return 0;
}

int job_id_parse(const char *s, struct strbuf *canon, uint32_t *guest, uint32_t *jobnum,
		 struct strbuf *err)
{
	uint32_t g, j;
	const char *dash = strchr(s, '-');
	size_t glen = dash ? (size_t)(dash - s) : 0;

	if (parse_file_id(s, &g, &j) < 0) {
		strbuf_addf(err, "invalid replication job id '%s' - expected <vmid>-<jobnum>, e.g. '100-0'", s);
		return -EINVAL;
	}
	if (g < 100) {
		strbuf_addf(err, "invalid replication job id '%s' (guest IDs < 100 are reserved)", s);
		return -EINVAL;
	}
	/* the API pattern: no leading zero in the guest id, 3..9 digits */
	if (s[0] == '0' || glen < 3 || glen > 9 || strlen(dash + 1) > 9) {
		strbuf_addf(err, "invalid replication job id '%s' - expected <vmid>-<jobnum>, e.g. '100-0'", s);
		return -EINVAL;
	}
	strbuf_reset(canon);
	strbuf_addf(canon, "%u-%u", g, j);
	if (guest)
		*guest = g;
	if (jobnum)
		*jobnum = j;
	return 0;
}

int job_id_parse_existing(const char *s, struct strbuf *canon, uint32_t *guest, struct strbuf *err)
{
	int r = job_id_parse(s, canon, guest, NULL, err);

	if (r < 0)
		return r;
	/* "100-00" is not a name of 100-0: acting on another job than the
	 * one typed would be a surprise */
	if (strcmp(canon->buf, s)) {
		strbuf_addf(err, "invalid replication job id '%s' - write it as '%s'", s, canon->buf);
		return -EINVAL;
	}
	return 0;
}

static void set_str(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

/* job_set_option's checks, one per property: each validates value
 * with the message the API documents and only then sets the field, so
 * a refused value leaves the job as it was. */

static int set_node(struct repl_job *job, const char *key, const char *value, struct strbuf *err)
{
	if (!valid_node_name(value)) {
		strbuf_addf(err, "invalid %s '%s' - value does not look like a valid node name", key, value);
		return -EINVAL;
	}
	set_str(!strcmp(key, "target") ? &job->target : &job->source, value);
	return 0;
}

/* The spec is parsed only to refuse it now rather than at every run;
 * the job keeps the text. */
static int set_schedule(struct repl_job *job, const char *key, const char *value, struct strbuf *err)
{
	struct calendar *cal = NULL;
	char reason[256] = "";

	(void)key;
	if (strlen(value) > CALENDAR_SPEC_MAX) {
		strbuf_addf(err, "invalid schedule - value may only be %d characters long", CALENDAR_SPEC_MAX);
		return -EINVAL;
	}
	if (calendar_parse(value, &cal, reason, sizeof(reason)) < 0) {
		strbuf_addf(err, "invalid calendar event '%s' - %s", value, reason);
		return -EINVAL;
	}
	calendar_free(cal);
	set_str(&job->schedule, value);
	return 0;
}

/* The text is kept as written (it is written back to the config), the
 * number for the runs. */
static int set_rate(struct repl_job *job, const char *key, const char *value, struct strbuf *err)
{
	double d;

	(void)key;
	if (parse_double(value, &d) < 0 || !isfinite(d)) {
		strbuf_addf(err, "invalid rate '%s' - type check ('number') failed: expected a number of "
			    "megabytes per second (MB/s), at least 1, e.g. 50 or 12.5", value);
		return -EINVAL;
	}
	if (d < 1) {
		strbuf_addf(err, "invalid rate '%s' - value must have a minimum value of 1", value);
		return -EINVAL;
	}
	set_str(&job->rate, value);
	job->rate_mbps = d;
	return 0;
}

/* volrep's own: compression on the wire (exec/wire.h) */
static int set_compress(struct repl_job *job, const char *key, const char *value, struct strbuf *err)
{
	(void)key;
	if (strcmp(value, "none") && strcmp(value, "zstd") && strcmp(value, "lz4")) {
		strbuf_addf(err, "invalid compress '%s' - value '%s' does not have a value in the enumeration 'none, zstd, lz4'",
			    value, value);
		return -EINVAL;
	}
	set_str(&job->compress, value);
	return 0;
}

/* volrep's own: retention on the target (pve-zsync's --dest-maxsnap) */
static int set_keep(struct repl_job *job, const char *key, const char *value, struct strbuf *err)
{
	uint64_t v;

	(void)key;
	if (parse_uint_range(value, 0, JOB_KEEP_MAX, &v) < 0) {
		strbuf_addf(err, "invalid keep '%s' - expected a number of snapshots, 0..%d", value, JOB_KEEP_MAX);
		return -EINVAL;
	}
	job->keep = (unsigned)v;
	return 0;
}

/* The booleans (raw, disable) accept exactly "0" and "1"; hint ends the
 * message the API has always given for the property. */
static int parse_flag(const char *key, const char *value, const char *hint, int *flag,
		      struct strbuf *err)
{
	if (strcmp(value, "0") && strcmp(value, "1")) {
		strbuf_addf(err, "invalid %s '%s' - type check ('boolean') failed%s", key, value, hint);
		return -EINVAL;
	}
	*flag = value[0] == '1';
	return 0;
}

/* volrep's own: zfs send -w even where the data is not encrypted
 * (encrypted datasets are always sent raw) */
static int set_raw(struct repl_job *job, const char *key, const char *value, struct strbuf *err)
{
	return parse_flag(key, value, ": expected 0 or 1", &job->raw, err);
}

static int set_disable(struct repl_job *job, const char *key, const char *value, struct strbuf *err)
{
	return parse_flag(key, value, "", &job->disable, err);
}

/* The limit counts characters, not bytes, as the API documents it. */
static int set_comment(struct repl_job *job, const char *key, const char *value, struct strbuf *err)
{
	(void)key;
	if (utf8_chars(value) > JOB_COMMENT_MAX) {
		strbuf_addf(err, "invalid comment - value may only be %d characters long", JOB_COMMENT_MAX);
		return -EINVAL;
	}
	set_str(&job->comment, value);
	return 0;
}

static int set_remove_job(struct repl_job *job, const char *key, const char *value, struct strbuf *err)
{
	(void)key;
	if (!strcmp(value, "local")) {
		job->remove_job = REMOVE_LOCAL;
	} else if (!strcmp(value, "full")) {
		job->remove_job = REMOVE_FULL;
	} else {
		strbuf_addf(err, "invalid remove_job '%s' - value '%s' does not have a value in the enumeration 'local, full'",
			    value, value);
		return -EINVAL;
	}
	return 0;
}

/* A table rather than a chain of strcmp: the properties job_set_option
 * knows are listed in one place. */
static const struct {
	const char *key;
	int (*set)(struct repl_job *job, const char *key, const char *value, struct strbuf *err);
} job_setters[] = {
	{ "target", set_node },
	{ "source", set_node },
	{ "schedule", set_schedule },
	{ "rate", set_rate },
	{ "compress", set_compress },
	{ "keep", set_keep },
	{ "raw", set_raw },
	{ "comment", set_comment },
	{ "disable", set_disable },
	{ "remove_job", set_remove_job },
};

int job_set_option(struct repl_job *job, const char *key, const char *value, struct strbuf *err)
{
	for (size_t i = 0; i < sizeof(job_setters) / sizeof(job_setters[0]); i++)
		if (!strcmp(key, job_setters[i].key))
			return job_setters[i].set(job, key, value, err);
	strbuf_addf(err, "unexpected property '%s'", key);
	return -ENOENT;
}

int job_delete_option(struct repl_job *job, const char *key, struct strbuf *err)
{
	if (!strcmp(key, "target")) {
		strbuf_addf(err, "unable to delete required option '%s'", key);
		return -EINVAL;
	} else if (!strcmp(key, "schedule")) {
		set_str(&job->schedule, NULL);
	} else if (!strcmp(key, "rate")) {
		set_str(&job->rate, NULL);
		job->rate_mbps = 0;
	} else if (!strcmp(key, "comment")) {
		set_str(&job->comment, NULL);
	} else if (!strcmp(key, "compress")) {
		set_str(&job->compress, NULL);
	} else if (!strcmp(key, "keep")) {
		job->keep = 0;
	} else if (!strcmp(key, "raw")) {
		job->raw = 0;
	} else if (!strcmp(key, "disable")) {
		job->disable = 0;
	} else if (!strcmp(key, "remove_job")) {
		job->remove_job = REMOVE_NONE;
	} else if (!strcmp(key, "source")) {
		set_str(&job->source, NULL);
	} else {
		strbuf_addf(err, "no such option '%s'", key);
		return -ENOENT;
	}
	return 0;
}

static void job_release(struct repl_job *job)
{
	free(job->id);
	free(job->target);
	free(job->schedule);
	free(job->rate);
	free(job->comment);
	free(job->compress);
	free(job->source);
}

struct repl_job *jobs_cfg_find(const struct jobs_cfg *jc, const char *id)
{
	for (size_t i = 0; i < jc->nr; i++)
		if (!strcmp(jc->v[i].id, id))
			return &jc->v[i];
	return NULL;
}

struct repl_job *jobs_cfg_find_target(const struct jobs_cfg *jc, uint32_t guest, const char *target)
{
	for (size_t i = 0; i < jc->nr; i++)
		if (jc->v[i].guest == guest && !strcmp(jc->v[i].target, target))
			return &jc->v[i];
	return NULL;
}

struct repl_job *jobs_cfg_add(struct jobs_cfg *jc, const char *id, const char *target)
{
	struct repl_job *job;
	uint32_t g = 0, j = 0;

	if (parse_file_id(id, &g, &j) < 0)
		BUG("jobs_cfg_add: invalid id '%s'", id);
	ALLOC_GROW(jc->v, jc->nr + 1, jc->alloc);
	job = &jc->v[jc->nr++];
	memset(job, 0, sizeof(*job));
	job->id = xstrdup(id);
	job->guest = g;
	job->jobnum = j;
	job->target = xstrdup(target);
	return job;
}

int jobs_cfg_remove(struct jobs_cfg *jc, const char *id)
{
	for (size_t i = 0; i < jc->nr; i++) {
		if (!strcmp(jc->v[i].id, id)) {
			job_release(&jc->v[i]);
			memmove(&jc->v[i], &jc->v[i + 1], (jc->nr - i - 1) * sizeof(jc->v[0]));
			jc->nr--;
			return 1;
		}
	}
	return 0;
}

static int cmp_job_id(const void *a, const void *b)
{
	const struct repl_job *const *ja = a, *const *jb = b;

	return strcmp((*ja)->id, (*jb)->id);
}

size_t jobs_cfg_of_guest(const struct jobs_cfg *jc, uint32_t guest, struct repl_job ***out)
{
	struct repl_job **v = xcalloc(jc->nr + 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < jc->nr; i++)
		if (jc->v[i].guest == guest)
			v[n++] = &jc->v[i];
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_job_id);
	*out = v;
	return n;
}

static void sha1_hex(const char *text, size_t len, char out[41])
{
	struct sha1_ctx ctx;
	uint8_t d[SHA1_DIGEST_SIZE];

	sha1_init(&ctx);
	sha1_update(&ctx, len, (const uint8_t *)text);
	sha1_digest(&ctx, sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++) {
		out[2 * i] = "0123456789abcdef"[d[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
	}
	out[40] = '\0';
}

static unsigned prop_line(const struct sc_section *s, const char *key)
{
	for (size_t i = 0; i < s->nr; i++)
		if (!strcmp(s->props[i].key, key))
			return s->props[i].line;
	return s->line;
}

/* One section into a job, with pvesr's warnings. Returns 0 or -1 (skip). */
static int job_from_section(struct repl_job *job, const struct sc_section *s, struct strvec *w)
{
	struct strbuf err = STRBUF_INIT, id = STRBUF_INIT, dec = STRBUF_INIT;
	const char *target = sc_section_get(s, "target");
	uint32_t g, j;
	int r = -1;

	memset(job, 0, sizeof(*job));
	if (parse_file_id(s->id, &g, &j) < 0) {
		if (w)
			strvec_pushf(w, "file replication.cfg line %u - ignore config line: %s: %s", s->line,
				     s->type, s->id);
		goto out;
	}
	strbuf_addf(&id, "%u-%u", g, j);
	if (g < 100) {
		if (w)
			strvec_pushf(w, "file replication.cfg line %u (skip section '%s'): invalid replication job id '%s' (guest IDs < 100 are reserved)",
				     s->line, id.buf, id.buf);
		goto out;
	}
	if (!target) {
		if (w)
			strvec_pushf(w, "file replication.cfg line %u (skip section '%s'): missing value for required option 'target'",
				     s->line, id.buf);
		goto out;
	}
	job->id = strbuf_detach(&id, NULL);
	job->guest = g;
	job->jobnum = j;
	job->line = s->line;
	for (size_t i = 0; i < s->nr; i++) {
		const char *k = s->props[i].key, *v = s->props[i].value;

		strbuf_reset(&err);
		if (!strcmp(k, "comment")) {
			strbuf_reset(&dec);
			comment_decode(v, &dec);
			v = dec.buf;
		}
		if (job_set_option(job, k, v, &err) < 0) {
			if (!strcmp(k, "target")) {
				if (w)
					strvec_pushf(w, "file replication.cfg line %u (skip section '%s'): %s",
						     s->line, job->id, err.buf);
				job_release(job);
				memset(job, 0, sizeof(*job));
				goto out;
			}
			if (w)
				strvec_pushf(w, "file replication.cfg line %u (section '%s') - unable to parse value of '%s': %s",
					     prop_line(s, k), job->id, k, err.buf);
		}
	}
	r = 0;
out:
	strbuf_release(&err);
	strbuf_release(&id);
	strbuf_release(&dec);
	return r;
}

int jobs_cfg_parse(struct jobs_cfg *jc, const char *text, size_t len, struct strvec *warnings)
{
	struct sectioncfg sc = SECTIONCFG_INIT;
	struct repl_job **sorted;
	int r;

	r = sectioncfg_parse(&sc, "replication.cfg", text, len, warnings);
	if (r < 0)
		return r;
	sha1_hex(text, len, jc->digest);
	for (size_t i = 0; i < sc.nr; i++) {
		struct sc_section *s = &sc.sections[i];
		struct repl_job job;

		for (char *c = s->type; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (strcmp(s->type, "local")) {
			if (warnings)
				strvec_pushf(warnings, "file replication.cfg line %u - ignore config line: %s: %s",
					     s->line, s->type, s->id);
			continue;
		}
		if (job_from_section(&job, s, warnings) < 0)
			continue;
		if (jobs_cfg_find(jc, job.id)) {
			if (warnings)
				strvec_pushf(warnings, "file replication.cfg line %u (skip section '%s'): duplicate section id",
					     s->line, job.id);
			job_release(&job);
			continue;
		}
		ALLOC_GROW(jc->v, jc->nr + 1, jc->alloc);
		jc->v[jc->nr++] = job;
	}
	sectioncfg_release(&sc);

	/* one job per (guest, target): the later id in string order goes */
	sorted = xcalloc(jc->nr + 1, sizeof(*sorted));
	for (size_t i = 0; i < jc->nr; i++)
		sorted[i] = &jc->v[i];
	if (jc->nr > 1)
		qsort(sorted, jc->nr, sizeof(*sorted), cmp_job_id);
	struct strvec drop = STRVEC_INIT;
	for (size_t i = 0; i < jc->nr; i++) {
		for (size_t k = 0; k < i; k++) {
			if (sorted[k]->guest == sorted[i]->guest && !strcmp(sorted[k]->target, sorted[i]->target) &&
			    strvec_find(&drop, sorted[k]->id) < 0) {
				if (warnings)
					strvec_pushf(warnings, "delete job %s: replication job for guest '%u' to target 'local/%s' already exists",
						     sorted[i]->id, sorted[i]->guest, sorted[i]->target);
				strvec_push(&drop, sorted[i]->id);
				break;
			}
		}
	}
	free(sorted);
	for (size_t i = 0; i < drop.nr; i++)
		jobs_cfg_remove(jc, drop.v[i]);
	strvec_clear(&drop);
	return 0;
}

int jobs_cfg_load(struct jobs_cfg *jc, const char *config_dir, struct strvec *warnings)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	r = config_read_file(config_dir, "replication.cfg", &sb);
	if (!r)
		r = jobs_cfg_parse(jc, sb.buf, sb.len, warnings);
	strbuf_release(&sb);
	return r;
}

int jobs_cfg_format(const struct jobs_cfg *jc, struct strbuf *out, struct strbuf *err)
{
	struct sectioncfg sc = SECTIONCFG_INIT;
	struct strbuf enc = STRBUF_INIT;
	int r = 0;

	for (size_t i = 0; i < jc->nr; i++) {
		const struct repl_job *job = &jc->v[i];
		struct repl_job *other = jobs_cfg_find_target(jc, job->guest, job->target);

		if (other != job) {
			strbuf_addf(err, "replication job for guest '%u' to target 'local/%s' already exists",
				    job->guest, job->target);
			r = -EEXIST;
			goto out;
		}
		struct sc_section *s = sectioncfg_add(&sc, "local", job->id);
		if (job->comment && *job->comment) {
			strbuf_reset(&enc);
			comment_encode(job->comment, &enc);
			sc_section_set(s, "comment", enc.buf);
		}
		if (job->compress)
			sc_section_set(s, "compress", job->compress);
		if (job->disable)
			sc_section_set(s, "disable", "1");
		sc_section_set(s, "target", job->target);
		if (job->keep) {
			char kb[16];

			snprintf(kb, sizeof(kb), "%u", job->keep);
			sc_section_set(s, "keep", kb);
		}
		if (job->raw)
			sc_section_set(s, "raw", "1");
		if (job->rate)
			sc_section_set(s, "rate", job->rate);
		if (job->remove_job)
			sc_section_set(s, "remove_job", remove_mode_name(job->remove_job));
		if (job->schedule)
			sc_section_set(s, "schedule", job->schedule);
		if (job->source)
			sc_section_set(s, "source", job->source);
	}
	r = sectioncfg_write(&sc, job_layouts, out, err);
out:
	sectioncfg_release(&sc);
	strbuf_release(&enc);
	return r;
}

void jobs_cfg_release(struct jobs_cfg *jc)
{
	for (size_t i = 0; i < jc->nr; i++)
		job_release(&jc->v[i]);
	free(jc->v);
	jc->v = NULL;
	jc->nr = jc->alloc = 0;
	jc->digest[0] = '\0';
}

int config_dir_lock(const char *config_dir, struct lock *lk, long timeout_ms, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	strbuf_addf(&path, "%s/.volrep-config.lck", config_dir);
	r = lock_acquire(lk, path.buf, timeout_ms);
	if (r == -ETIMEDOUT)
		strbuf_addf(err, "can't lock file '%s' - got timeout", path.buf);
	else if (r < 0)
		strbuf_addf(err, "can't lock file '%s' - %s", path.buf, strerror(-r));
	strbuf_release(&path);
	return r;
}

/* How often a write that lost a compare-and-swap race is redone on the
 * fresh file before giving up: every round has a winner, so only a storm
 * of writers from many nodes gets this far. */
#define CAS_RETRIES 50

int jobs_cfg_modify_txn(const char *config_dir, jobs_modify_fn fn, void *data, struct jobs_extra *extra,
			struct strvec *warnings, struct strbuf *err)
{
	struct store *st = store_get(config_dir);
	struct store_lock lk = STORE_LOCK_INIT;
	struct jobs_cfg jc = { 0 };
	struct strbuf text = STRBUF_INIT, old = STRBUF_INIT;
	struct strvec w = STRVEC_INIT;
	int r, ret;

	r = store_lock(st, "config", CONFIG_LOCK_TIMEOUT_MS, 0, &lk, err);
	if (r < 0)
		return r;
	for (int attempt = 0;; attempt++) {
		struct store_op ops[6];
		size_t n = 0;
		int64_t rev = 0;

		strvec_clear(&w);
		jobs_cfg_release(&jc);
		strbuf_reset(&text);
		r = store_read(st, "replication.cfg", STORE_FRESH, &old, &rev, err);
		if (r >= 0)
			r = jobs_cfg_parse(&jc, old.buf, old.len, &w);
		if (r < 0) {
			if (st->kind == STORE_DIR || !err->len) {
				strbuf_reset(err);
				strbuf_addf(err, "unable to read '%s/replication.cfg' - %s", config_dir, strerror(-r));
			}
			goto out;
		}
		if (extra)
			extra->n = 0;
		r = ret = fn(&jc, data, err);
		if (r < 0 || (r == 0 && (!extra || !extra->n)))
			goto out;
		for (size_t i = 0; extra && i < extra->n; i++)
			ops[n++] = extra->ops[i];
		if (r > 0) {
			r = jobs_cfg_format(&jc, &text, err);
			if (r < 0)
				goto out;
		}
		/* dir: the lock alone serialises, as it always did; etcd: the
		 * revision we read must still be the current one */
		ops[n++] = (struct store_op){ .kind = ret > 0 ? STORE_PUT : STORE_CHECK, .name = "replication.cfg",
					      .data = text.buf, .len = text.len,
					      .rev = st->kind == STORE_DIR ? STORE_REV_ANY : rev };
		size_t errlen = err->len;
		r = store_commit(st, ops, n, err);
		if (r == -ESTALE && st->kind != STORE_DIR && attempt < CAS_RETRIES) {
			strbuf_setlen(err, errlen);
			continue;
		}
		if (r == 0)
			r = ret;
		break;
	}
out:
	for (size_t i = 0; warnings && i < w.nr; i++)
		strvec_push(warnings, w.v[i]);
	strvec_clear(&w);
	jobs_cfg_release(&jc);
	store_unlock(st, &lk);
	strbuf_release(&text);
	strbuf_release(&old);
	return r;
}

int jobs_cfg_modify(const char *config_dir, jobs_modify_fn fn, void *data, struct strvec *warnings,
		    struct strbuf *err)
{
	return jobs_cfg_modify_txn(config_dir, fn, data, NULL, warnings, err);
}
