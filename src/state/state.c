#include "state/state.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "base/log.h"
#include "base/parse-util.h"
#include "base/sanitize.h"
#include "base/validate.h"
#include "base/xalloc.h"

struct state {
	char *path;       /* the JSON file; NULL when parsed from memory */
	json_t *root;     /* validated object, see check_root() */
	struct lock lock; /* held when opened with state_open_locked */
};

/* JSON_REAL_PRECISION(15): durations are rounded to microseconds, and a
 * decimal with at most 15 significant digits survives the trip through a
 * double, so "3.521842" is written as such and not as 3.5218420000000001. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15))

/* ---- messages ---------------------------------------------------------- */

static void err_addf(struct strbuf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void err_addf(struct strbuf *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
}

/* Keys come from an untrusted file: quote them printable and short. */
static void add_quoted(struct strbuf *sb, const char *s)
{
	size_t i;

	strbuf_addch(sb, '\'');
	for (i = 0; s[i] && i < 64; i++)
		strbuf_addch(sb, (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?');
	if (s[i])
		strbuf_addstr(sb, "...");
	strbuf_addch(sb, '\'');
}

/* ---- fields ------------------------------------------------------------ */

enum field_type { F_TIME, F_COUNT, F_PID, F_PTIME, F_BYTES, F_DURATION, F_STRING, F_NODE, F_STOREIDS, F_DIGEST };

static const struct field {
	const char *name;
	enum field_type type;
} fields[] = {
	{ "last_sync", F_TIME },	{ "last_try", F_TIME },	    { "last_iteration", F_TIME },
	{ "fail_count", F_COUNT },	{ "duration", F_DURATION }, { "error", F_STRING },
	{ "last_node", F_NODE },	{ "storeid_list", F_STOREIDS }, { "pid", F_PID },
	{ "ptime", F_PTIME },		{ "bytes", F_BYTES },		{ "notified", F_COUNT },
	{ "scheduled", F_TIME },	{ "props_digest", F_DIGEST },
};

static const struct field *find_field(const char *name)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(fields[i].name, name))
			return &fields[i];
	return NULL;
}

static int64_t int_max_of(enum field_type t)
{
	switch (t) {
	case F_TIME:
		return STATE_TIME_MAX;
	case F_COUNT:
	case F_PID:
		return INT32_MAX;
	default:
		return INT64_MAX;
	}
}

/* An integer field: a JSON integer, or (lenient, pvesr's Perl) a string of
 * decimal digits. Returns 0 and *out, or -EINVAL. */
static int json_to_int(const json_t *v, bool lenient, int64_t max, int64_t *out)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < 0 || i > max)
			return -EINVAL;
		*out = (int64_t)i;
		return 0;
	}
	if (lenient && json_is_string(v)) {
		uint64_t u;

		if (parse_u64(json_string_value(v), &u) < 0 || u > (uint64_t)max)
			return -EINVAL;
		*out = (int64_t)u;
		return 0;
	}
	return -EINVAL;
}

/* Check one value against its field type; on failure append why. */
static int check_field(const struct field *f, const json_t *v, bool lenient, struct strbuf *why)
{
	int64_t i;
	size_t idx;
	json_t *e;

	switch (f->type) {
	case F_TIME:
	case F_COUNT:
	case F_PID:
	case F_PTIME:
	case F_BYTES:
		if (json_to_int(v, lenient, int_max_of(f->type), &i) < 0) {
			strbuf_addf(why, "field '%s' must be an integer from 0 to %lld", f->name,
				    (long long)int_max_of(f->type));
			return -EINVAL;
		}
		return 0;
	case F_DURATION:
		if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0) {
			strbuf_addf(why, "field '%s' must be a non-negative number", f->name);
			return -EINVAL;
		}
		return 0;
	case F_STRING:
		if (!json_is_string(v)) {
			strbuf_addf(why, "field '%s' must be a string", f->name);
			return -EINVAL;
		}
		return 0;
	case F_DIGEST:
		if (!json_is_string(v) || !state_valid_digest(json_string_value(v))) {
			strbuf_addf(why, "field '%s' must be 64 lower-case hex digits", f->name);
			return -EINVAL;
		}
		return 0;
	case F_NODE:
		if (!json_is_string(v) || !valid_node_name(json_string_value(v))) {
			strbuf_addf(why, "field '%s' must be a node name", f->name);
			return -EINVAL;
		}
		return 0;
	case F_STOREIDS:
		if (!json_is_array(v)) {
			strbuf_addf(why, "field '%s' must be a list of storage ids", f->name);
			return -EINVAL;
		}
		json_array_foreach(v, idx, e) {
			if (!json_is_string(e) || !valid_storage_id(json_string_value(e))) {
				strbuf_addf(why, "field '%s' must be a list of storage ids", f->name);
				return -EINVAL;
			}
		}
		return 0;
	}
	return -EINVAL;
}

/* One job entry. Lenient (a state file): unknown fields and null values
 * are allowed (null reads as absent). Strict (set-state): neither. */
static int check_entry(const json_t *entry, bool lenient, struct strbuf *why)
{
	const char *key;
	json_t *v;

	if (!json_is_object(entry)) {
		strbuf_addstr(why, "job state is not an object");
		return -EINVAL;
	}
	json_object_foreach((json_t *)entry, key, v) {
		const struct field *f = find_field(key);

		if (!f) {
			if (lenient)
				continue;
			strbuf_addstr(why, "unknown field ");
			add_quoted(why, key);
			return -EINVAL;
		}
		if (json_is_null(v) && lenient)
			continue;
		/* a handed-over state never describes a running job here: a
		 * pid from another node would be taken for one of ours */
		if (!lenient && (f->type == F_PID || f->type == F_PTIME || f->type == F_DIGEST)) {
			strbuf_addstr(why, "field ");
			add_quoted(why, key);
			strbuf_addstr(why, " cannot be set");
			return -EINVAL;
		}
		if (check_field(f, v, lenient, why) < 0)
			return -EINVAL;
		if (!lenient && f->type == F_STRING && json_string_length(v) > STATE_ERROR_MAX) {
			strbuf_addf(why, "field '%s' is longer than %d bytes", f->name, STATE_ERROR_MAX);
			return -EINVAL;
		}
	}
	return 0;
}

/* "local/<node>" with a valid node name; *node points into key. */
static int parse_target_key(const char *key, const char **node)
{
	if (strncmp(key, "local/", 6) || !valid_node_name(key + 6))
		return -EINVAL;
	if (node)
		*node = key + 6;
	return 0;
}

/* The entries of one guest: {"local/<node>": {...}, ...}. */
static int check_guest(const json_t *guest, bool lenient, struct strbuf *why)
{
	const char *key;
	json_t *v;

	if (!json_is_object(guest)) {
		strbuf_addstr(why, "value is not an object");
		return -EINVAL;
	}
	json_object_foreach((json_t *)guest, key, v) {
		if (parse_target_key(key, NULL) < 0) {
			strbuf_addstr(why, "invalid target ");
			add_quoted(why, key);
			return -EINVAL;
		}
		if (check_entry(v, lenient, why) < 0) {
			struct strbuf pre = STRBUF_INIT;

			/* name the entry in front of the reason */
			strbuf_addstr(&pre, "target ");
			add_quoted(&pre, key);
			strbuf_addstr(&pre, ": ");
			strbuf_addstr(&pre, why->buf);
			strbuf_reset(why);
			strbuf_addstr(why, pre.buf);
			strbuf_release(&pre);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_root(const json_t *root, struct strbuf *why)
{
	const char *key;
	json_t *v;

	if (!json_is_object(root)) {
		strbuf_addstr(why, "not a JSON object");
		return -EINVAL;
	}
	json_object_foreach((json_t *)root, key, v) {
		if (!valid_vmid(key)) {
			strbuf_addstr(why, "invalid guest id ");
			add_quoted(why, key);
			return -EINVAL;
		}
		struct strbuf inner = STRBUF_INIT;
		if (check_guest(v, true, &inner) < 0) {
			strbuf_addf(why, "guest '%s': %s", key, inner.buf);
			strbuf_release(&inner);
			return -EINVAL;
		}
		strbuf_release(&inner);
	}
	return 0;
}

/* Parse JSON text; json_loadb needs no terminator and rejects trailing
 * garbage, NUL bytes in strings and nesting deeper than 2048. */
static json_t *parse_json(const void *buf, size_t len, struct strbuf *why)
{
	json_error_t jerr;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!j)
		strbuf_addf(why, "%s at line %d column %d", jerr.text, jerr.line, jerr.column);
	return j;
}

/* ---- load and save ----------------------------------------------------- */

static struct state *state_new(const char *path, json_t *root)
{
	struct state *st = xcalloc(1, sizeof(*st));

	st->path = path ? xstrdup(path) : NULL;
	st->root = root;
	st->lock.fd = -1;
	return st;
}

int state_parse(const void *buf, size_t len, const char *name, struct state **ret, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	json_t *root;
	int r = 0;

	if (len > STATE_FILE_MAX) {
		err_addf(err, "state file '%s' is larger than %d bytes", name, STATE_FILE_MAX);
		return -EFBIG;
	}
	if (len == 0) {
		*ret = state_new(NULL, json_object());
		return 0;
	}
	root = parse_json(buf, len, &why);
	if (!root) {
		err_addf(err, "invalid json data in '%s' - %s", name, why.buf);
		r = -EINVAL;
		goto out;
	}
	if (check_root(root, &why) < 0) {
		err_addf(err, "invalid state in '%s' - %s", name, why.buf);
		json_decref(root);
		r = -EINVAL;
		goto out;
	}
	*ret = state_new(NULL, root);
out:
	strbuf_release(&why);
	return r;
}

static int load_path(const char *path, struct state **ret, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct state *st = NULL;
	int r;

	r = strbuf_read_file(&sb, path, STATE_FILE_MAX);
	if (r == -ENOENT) {
		strbuf_reset(&sb);
		r = 0;
	} else if (r == -EFBIG) {
		err_addf(err, "state file '%s' is larger than %d bytes", path, STATE_FILE_MAX);
		goto out;
	} else if (r < 0) {
		err_addf(err, "cannot read '%s': %s", path, file_strerror(r));
		goto out;
	}
	r = state_parse(sb.buf, sb.len, path, &st, err);
	if (r < 0)
		goto out;
	st->path = xstrdup(path);
	*ret = st;
out:
	strbuf_release(&sb);
	return r;
}

static char *state_file_path(const char *state_dir, const char *name)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s/%s", state_dir, name);
	return strbuf_detach(&sb, NULL);
}

/* The state directory must be private (base/fileio.h); a missing one is
 * fine for readers (nothing recorded yet). */
static int check_state_dir(const char *state_dir, int must_exist, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	int r = check_private_dir(state_dir, "state directory", &why);

	if (r == -ENOENT && !must_exist)
		r = 0;
	else if (r < 0)
		err_addf(err, "%s", why.buf);
	strbuf_release(&why);
	return r;
}

int state_load(const char *state_dir, struct state **ret, struct strbuf *err)
{
	char *path = state_file_path(state_dir, STATE_FILE_NAME);
	int r = check_state_dir(state_dir, 0, err);

	if (r == 0)
		r = load_path(path, ret, err);

	free(path);
	return r;
}

int state_open_locked(const char *state_dir, long timeout_ms, struct state **ret, struct strbuf *err)
{
	char *lck = state_file_path(state_dir, STATE_LOCK_NAME);
	char *path = state_file_path(state_dir, STATE_FILE_NAME);
	struct lock lk = LOCK_INIT;
	struct state *st = NULL;
	int r;

	r = mkdir_p(state_dir, 0755);
	if (r < 0) {
		err_addf(err, "cannot create state directory '%s': %s", state_dir, strerror(-r));
		goto out;
	}
	r = check_state_dir(state_dir, 1, err);
	if (r < 0)
		goto out;
	r = lock_acquire(&lk, lck, timeout_ms);
	if (r == -ETIMEDOUT) {
		err_addf(err, "can't lock file '%s' - got timeout", lck);
		goto out;
	} else if (r < 0) {
		err_addf(err, "can't lock file '%s' - %s", lck, file_strerror(r));
		goto out;
	}
	r = load_path(path, &st, err);
	if (r < 0) {
		lock_release(&lk);
		goto out;
	}
	st->lock = lk;
	*ret = st;
out:
	free(lck);
	free(path);
	return r;
}

char *state_format(const struct state *st)
{
	char *s = json_dumps(st->root, DUMP_FLAGS);

	if (!s)
		BUG("cannot format the state");
	return s;
}

int state_commit(struct state *st, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;
	int r;

	if (!st->path || st->lock.fd < 0) {
		err_addf(err, "state '%s' is not locked for writing", st->path ? st->path : "(memory)");
		return -ENOLCK;
	}
	s = state_format(st);
	strbuf_addstr(&sb, s);
	strbuf_addch(&sb, '\n');
	free(s);
	if (sb.len > STATE_FILE_MAX) {
		err_addf(err, "state file '%s' would be larger than %d bytes", st->path, STATE_FILE_MAX);
		r = -EFBIG;
		goto out;
	}
	r = write_file_atomic(st->path, sb.buf, sb.len, 0644);
	if (r < 0)
		err_addf(err, "cannot write '%s': %s", st->path, strerror(-r));
out:
	strbuf_release(&sb);
	return r;
}

struct state *state_free(struct state *st)
{
	if (!st)
		return NULL;
	lock_release(&st->lock);
	json_decref(st->root);
	free(st->path);
	free(st);
	return NULL;
}

int state_update(const char *state_dir, state_update_fn *fn, void *data, struct strbuf *err)
{
	struct state *st = NULL;
	int r, ret;

	r = state_open_locked(state_dir, STATE_LOCK_TIMEOUT_MS, &st, err);
	if (r < 0)
		return r;
	ret = fn(st, data, err);
	if (ret >= 0) {
		r = state_commit(st, err);
		if (r < 0)
			ret = r;
	}
	state_free(st);
	return ret;
}

/* ---- entries ----------------------------------------------------------- */

static bool valid_vmid_num(uint32_t vmid)
{
	return vmid >= 100 && vmid <= 999999999;
}

static void vmid_key(struct strbuf *sb, uint32_t vmid)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "%u", (unsigned)vmid);
}

static void target_key(struct strbuf *sb, const char *target)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "local/%s", target);
}

/* The entry object of (vmid, target), created when create is set. NULL
 * when absent or the arguments are invalid. */
static json_t *job_entry(const struct state *st, uint32_t vmid, const char *target, bool create)
{
	struct strbuf vk = STRBUF_INIT, tk = STRBUF_INIT;
	json_t *guest, *entry = NULL;

	if (!valid_vmid_num(vmid) || !valid_node_name(target))
		return NULL;
	vmid_key(&vk, vmid);
	target_key(&tk, target);
	guest = json_object_get(st->root, vk.buf);
	if (!guest && create) {
		guest = json_object();
		json_object_set_new(st->root, vk.buf, guest);
	}
	if (guest) {
		entry = json_object_get(guest, tk.buf);
		if (!entry && create) {
			entry = json_object();
			json_object_set_new(guest, tk.buf, entry);
		}
	}
	strbuf_release(&vk);
	strbuf_release(&tk);
	return entry;
}

static bool valid_args(uint32_t vmid, const char *target)
{
	return valid_vmid_num(vmid) && valid_node_name(target);
}

/* Values were checked on load, so a failed conversion cannot happen; 0 is
 * the default of every integer field anyway. */
static int64_t get_int(const json_t *entry, const char *key)
{
	const struct field *f = find_field(key);
	int64_t v = 0;

	if (json_to_int(json_object_get(entry, key), true, int_max_of(f->type), &v) < 0)
		return 0;
	return v;
}

static void set_int(json_t *entry, const char *key, int64_t v)
{
	json_object_set_new(entry, key, json_integer((json_int_t)v));
}

/* Copy s into sb as valid UTF-8 (bad bytes become '?'), at most max
 * bytes, never cutting a character. jansson refuses invalid UTF-8, and
 * error texts carry arbitrary command output. */
static void add_utf8_sanitized(struct strbuf *sb, const char *s, size_t len, size_t max)
{
	struct strbuf tmp = STRBUF_INIT;
	size_t n;

	/* what status shows later: no control characters (C0, DEL, C1),
	 * valid UTF-8 only (base/sanitize.h), cut at a character boundary */
	strbuf_add_sanitized(&tmp, s, len, 0);
	n = tmp.len;
	if (sb->len + n > max) {
		n = max > sb->len ? max - sb->len : 0;
		while (n > 0 && ((unsigned char)tmp.buf[n] & 0xc0) == 0x80)
			n--;
	}
	strbuf_add(sb, tmp.buf, n);
	strbuf_release(&tmp);
}

void job_state_release(struct job_state *js)
{
	free(js->error);
	free(js->last_node);
	free(js->props_digest);
	strvec_clear(&js->storeid_list);
	*js = (struct job_state)JOB_STATE_INIT;
}

static void fill_job_state(const json_t *entry, struct job_state *js)
{
	json_t *v;
	size_t i;

	*js = (struct job_state)JOB_STATE_INIT;
	if (!entry)
		return;
	js->last_sync = get_int(entry, "last_sync");
	js->last_try = get_int(entry, "last_try");
	js->last_iteration = get_int(entry, "last_iteration");
	js->scheduled = get_int(entry, "scheduled");
	js->fail_count = get_int(entry, "fail_count");
	js->pid = (pid_t)get_int(entry, "pid");
	js->ptime = (uint64_t)get_int(entry, "ptime");
	js->bytes = (uint64_t)get_int(entry, "bytes");
	js->notified = (int)get_int(entry, "notified");
	v = json_object_get(entry, "duration");
	if (json_is_number(v)) {
		js->has_duration = true;
		js->duration = json_number_value(v);
	}
	v = json_object_get(entry, "error");
	if (json_is_string(v))
		js->error = xstrdup(json_string_value(v));
	v = json_object_get(entry, "last_node");
	if (json_is_string(v))
		js->last_node = xstrdup(json_string_value(v));
	v = json_object_get(entry, "props_digest");
	if (json_is_string(v) && state_valid_digest(json_string_value(v)))
		js->props_digest = xstrdup(json_string_value(v));
	v = json_object_get(entry, "storeid_list");
	if (json_is_array(v)) {
		json_t *e;

		json_array_foreach(v, i, e)
			if (json_is_string(e))
				strvec_push(&js->storeid_list, json_string_value(e));
	}
}

int state_get_job(const struct state *st, uint32_t vmid, const char *target, struct job_state *ret)
{
	json_t *entry;

	if (!valid_args(vmid, target))
		return -EINVAL;
	entry = job_entry(st, vmid, target, false);
	fill_job_state(entry, ret);
	return entry ? 1 : 0;
}

/* Fields 3.. of /proc/<pid>/stat (after comm), or -ESRCH. */
static int proc_stat_fields(pid_t pid, struct strvec *f)
{
	struct strbuf path = STRBUF_INIT, sb = STRBUF_INIT;
	const char *p;
	int r = -ESRCH;

	if (pid <= 0)
		return -ESRCH;
	strbuf_addf(&path, "/proc/%ld/stat", (long)pid);
	/* one line of ~52 numbers; the cap only guards against surprises */
	if (strbuf_read_file(&sb, path.buf, 4096) < 0)
		goto out;
	/* comm (field 2) may hold spaces and ')': split after the last ')' */
	p = strrchr(sb.buf, ')');
	if (!p)
		goto out;
	strbuf_rtrim(&sb);
	strvec_split(f, p + 1, ' ');
	/* f->v[0] is field 3 (state), starttime (field 22) is f->v[19] */
	r = f->nr < 20 ? -ESRCH : 0;
out:
	strbuf_release(&sb);
	strbuf_release(&path);
	return r;
}

int proc_starttime(pid_t pid, uint64_t *ret)
{
	struct strvec f = STRVEC_INIT;
	uint64_t v;
	int r = proc_stat_fields(pid, &f);

	if (r == 0 && parse_u64(f.v[19], &v) < 0)
		r = -ESRCH;
	if (r == 0)
		*ret = v;
	strvec_clear(&f);
	return r;
}

bool process_running(pid_t pid, uint64_t ptime)
{
	struct strvec f = STRVEC_INIT;
	uint64_t t;
	bool running;

	/* a zombie has exited: only its parent has not reaped it yet (an
	 * orphan's may be late, depending on the init) */
	running = proc_stat_fields(pid, &f) == 0 && strcmp(f.v[0], "Z") &&
		  parse_u64(f.v[19], &t) == 0 && t == ptime;
	strvec_clear(&f);
	return running;
}

int state_record_job_start(struct state *st, uint32_t vmid, const char *target, const char *node,
			   pid_t pid, int64_t start_time, int64_t iteration)
{
	json_t *entry;
	uint64_t ptime;
	int r;

	if (!valid_args(vmid, target) || !valid_node_name(node) || start_time < 0 ||
	    start_time > STATE_TIME_MAX || iteration < 0 || iteration > STATE_TIME_MAX)
		return -EINVAL;
	r = proc_starttime(pid, &ptime);
	if (r < 0)
		return r;
	entry = job_entry(st, vmid, target, true);
	set_int(entry, "pid", pid);
	set_int(entry, "ptime", (int64_t)ptime);
	json_object_set_new(entry, "last_node", json_string(node));
	set_int(entry, "last_try", start_time);
	set_int(entry, "last_iteration", iteration);
	if (!json_is_array(json_object_get(entry, "storeid_list")))
		json_object_set_new(entry, "storeid_list", json_array());
	return 0;
}

int state_set_scheduled(struct state *st, uint32_t vmid, const char *target, int64_t event)
{
	json_t *entry;

	if (!valid_args(vmid, target) || event < 0 || event > STATE_TIME_MAX)
		return -EINVAL;
	entry = job_entry(st, vmid, target, true);
	if (event)
		set_int(entry, "scheduled", event);
	else
		json_object_del(entry, "scheduled");
	return 0;
}

int state_valid_digest(const char *s)
{
	return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

int state_set_props_digest(struct state *st, uint32_t vmid, const char *target, const char *digest)
{
	json_t *entry;

	if (!valid_args(vmid, target) || (digest && !state_valid_digest(digest)))
		return -EINVAL;
	entry = job_entry(st, vmid, target, true);
	if (digest)
		json_object_set_new(entry, "props_digest", json_string(digest));
	else
		json_object_del(entry, "props_digest");
	return 0;
}

int state_set_storeids(struct state *st, uint32_t vmid, const char *target, const struct strvec *ids)
{
	struct strvec sorted = STRVEC_INIT;
	json_t *arr;

	if (!valid_args(vmid, target))
		return -EINVAL;
	for (size_t i = 0; i < ids->nr; i++)
		if (!valid_storage_id(ids->v[i]))
			return -EINVAL;
	strvec_pushv(&sorted, (const char *const *)ids->v);
	strvec_sort_uniq(&sorted);
	arr = json_array();
	for (size_t i = 0; i < sorted.nr; i++)
		json_array_append_new(arr, json_string(sorted.v[i]));
	json_object_set_new(job_entry(st, vmid, target, true), "storeid_list", arr);
	strvec_clear(&sorted);
	return 0;
}

int state_set_bytes(struct state *st, uint32_t vmid, const char *target, uint64_t bytes)
{
	if (!valid_args(vmid, target) || bytes > (uint64_t)INT64_MAX)
		return -EINVAL;
	set_int(job_entry(st, vmid, target, true), "bytes", (int64_t)bytes);
	return 0;
}

int state_set_notified(struct state *st, uint32_t vmid, const char *target, int notified)
{
	json_t *entry;

	if (!valid_args(vmid, target) || notified < 0)
		return -EINVAL;
	entry = job_entry(st, vmid, target, notified != 0);
	if (!entry)
		return 0;
	if (notified)
		set_int(entry, "notified", notified);
	else
		json_object_del(entry, "notified");
	return 0;
}

int state_record_sync_end(struct state *st, uint32_t vmid, const char *target, int64_t start_time)
{
	if (!valid_args(vmid, target) || start_time < 0 || start_time > STATE_TIME_MAX)
		return -EINVAL;
	set_int(job_entry(st, vmid, target, true), "last_sync", start_time);
	return 0;
}

/* Remove (vmid, target) and the vmid key when it becomes empty. */
static int remove_entry(struct state *st, uint32_t vmid, const char *target)
{
	struct strbuf vk = STRBUF_INIT, tk = STRBUF_INIT;
	json_t *guest;
	int removed = 0;

	vmid_key(&vk, vmid);
	target_key(&tk, target);
	guest = json_object_get(st->root, vk.buf);
	if (guest && json_object_del(guest, tk.buf) == 0)
		removed = 1;
	if (guest && json_object_size(guest) == 0)
		json_object_del(st->root, vk.buf);
	strbuf_release(&vk);
	strbuf_release(&tk);
	return removed;
}

int state_record_job_end(struct state *st, uint32_t vmid, const char *target, int64_t start_time,
			 double duration, const char *errmsg, bool remove_job)
{
	json_t *entry;

	if (!valid_args(vmid, target) || start_time < 0 || start_time > STATE_TIME_MAX ||
	    !isfinite(duration))
		return -EINVAL;
	if (!errmsg && remove_job) {
		remove_entry(st, vmid, target);
		return 0;
	}
	entry = job_entry(st, vmid, target, true);
	if (duration < 0)
		duration = 0;
	json_object_set_new(entry, "duration", json_real(round(duration * 1e6) / 1e6));
	json_object_del(entry, "pid");
	json_object_del(entry, "ptime");
	if (errmsg) {
		struct strbuf sb = STRBUF_INIT;
		size_t len = strlen(errmsg);
		int64_t fc = get_int(entry, "fail_count");

		while (len && errmsg[len - 1] == '\n')
			len--;
		add_utf8_sanitized(&sb, errmsg, len, STATE_ERROR_MAX);
		if (!sb.len)
			strbuf_addstr(&sb, "unknown error");
		json_object_set_new(entry, "error", json_string(sb.buf));
		strbuf_release(&sb);
		set_int(entry, "fail_count", fc < INT32_MAX ? fc + 1 : fc);
	} else {
		set_int(entry, "last_sync", start_time);
		set_int(entry, "fail_count", 0);
		json_object_del(entry, "error");
	}
	return 0;
}

int state_schedule_now(struct state *st, uint32_t vmid, const char *target)
{
	json_t *entry;

	if (!valid_args(vmid, target))
		return -EINVAL;
	entry = job_entry(st, vmid, target, false);
	if (!entry)
		return 0;
	set_int(entry, "last_try", 0);
	return 1;
}

int state_delete_guest(struct state *st, uint32_t vmid)
{
	struct strbuf vk = STRBUF_INIT;
	int removed;

	if (!valid_vmid_num(vmid))
		return -EINVAL;
	vmid_key(&vk, vmid);
	removed = json_object_del(st->root, vk.buf) == 0;
	strbuf_release(&vk);
	return removed;
}

int state_purge(struct state *st, state_keep_fn *keep, void *data)
{
	const char *vk, *tk;
	json_t *guest, *entry;
	void *t1, *t2;
	int removed = 0;

	json_object_foreach_safe(st->root, t1, vk, guest) {
		uint64_t vmid;
		const char *node;

		/* keys were validated on load or built here */
		if (parse_u64(vk, &vmid) < 0 || !json_is_object(guest))
			continue;
		json_object_foreach_safe(guest, t2, tk, entry) {
			if (parse_target_key(tk, &node) < 0 || keep((uint32_t)vmid, node, data))
				continue;
			json_object_del(guest, tk);
			removed++;
		}
		if (json_object_size(guest) == 0)
			json_object_del(st->root, vk);
	}
	return removed;
}

/* Known fields only, normalized (integers as integers). pid/ptime are
 * left out: they name a process of this node. */
static json_t *transfer_json(const json_t *entry)
{
	struct job_state js;
	json_t *o = json_object(), *arr = json_array();

	fill_job_state(entry, &js);
	set_int(o, "last_sync", js.last_sync);
	set_int(o, "last_try", js.last_try);
	set_int(o, "last_iteration", js.last_iteration);
	set_int(o, "fail_count", js.fail_count);
	if (js.has_duration)
		json_object_set_new(o, "duration", json_real(js.duration));
	if (js.error)
		json_object_set_new(o, "error", json_string(js.error));
	if (js.last_node)
		json_object_set_new(o, "last_node", json_string(js.last_node));
	for (size_t i = 0; i < js.storeid_list.nr; i++)
		json_array_append_new(arr, json_string(js.storeid_list.v[i]));
	json_object_set_new(o, "storeid_list", arr);
	job_state_release(&js);
	return o;
}

int state_extract_guest(const struct state *st, uint32_t vmid, const char *old_target,
			const char *new_target, char **ret)
{
	struct strbuf vk = STRBUF_INIT, oldk = STRBUF_INIT, newk = STRBUF_INIT;
	json_t *out, *guest, *entry;
	const char *tk;

	if (!valid_args(vmid, old_target) || !valid_node_name(new_target))
		return -EINVAL;
	vmid_key(&vk, vmid);
	target_key(&oldk, old_target);
	target_key(&newk, new_target);
	out = json_object();
	guest = json_object_get(st->root, vk.buf);
	if (json_is_object(guest)) {
		json_object_foreach(guest, tk, entry)
			if (strcmp(tk, oldk.buf))
				json_object_set_new(out, tk, transfer_json(entry));
		/* as pvesr: the renamed entry replaces one of the new name */
		entry = json_object_get(guest, oldk.buf);
		if (entry)
			json_object_set_new(out, newk.buf, transfer_json(entry));
	}
	*ret = json_dumps(out, DUMP_FLAGS);
	if (!*ret)
		BUG("cannot format the state of guest %u", (unsigned)vmid);
	json_decref(out);
	strbuf_release(&vk);
	strbuf_release(&oldk);
	strbuf_release(&newk);
	return 0;
}

/* Text another node sent is shown on terminals later (status, logs):
 * control characters and bytes outside ASCII (C1 controls such as 0x9b
 * are escapes on some terminals) become '?', so that no escape sequence
 * is ever stored. */
static void sanitize_errors(json_t *guest)
{
	const char *tk;
	json_t *entry;

	json_object_foreach(guest, tk, entry) {
		json_t *e = json_object_get(entry, "error");
		struct strbuf sb = STRBUF_INIT;

		if (!json_is_string(e))
			continue;
		for (const unsigned char *p = (const unsigned char *)json_string_value(e); *p; p++)
			strbuf_addch(&sb, *p < 0x20 || *p >= 0x7f ? '?' : (char)*p);
		json_object_set_new(entry, "error", json_string(sb.buf));
		strbuf_release(&sb);
	}
}

int state_set_guest_json(struct state *st, uint32_t vmid, const char *json, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT, vk = STRBUF_INIT;
	size_t len = strlen(json);
	json_t *guest;
	int r = -EINVAL;

	if (!valid_vmid_num(vmid)) {
		err_addf(err, "invalid guest id '%u'", (unsigned)vmid);
		return -EINVAL;
	}
	if (len > STATE_FILE_MAX) {
		err_addf(err, "invalid state for guest '%u' - longer than %d bytes", (unsigned)vmid,
			 STATE_FILE_MAX);
		return -EINVAL;
	}
	guest = parse_json(json, len, &why);
	if (!guest) {
		err_addf(err, "invalid state for guest '%u' - %s", (unsigned)vmid, why.buf);
		goto out;
	}
	if (check_guest(guest, false, &why) < 0) {
		err_addf(err, "invalid state for guest '%u' - %s", (unsigned)vmid, why.buf);
		json_decref(guest);
		goto out;
	}
	sanitize_errors(guest);
	vmid_key(&vk, vmid);
	if (json_object_size(guest))
		json_object_set_new(st->root, vk.buf, guest);
	else {
		json_object_del(st->root, vk.buf);
		json_decref(guest);
	}
	r = 0;
out:
	strbuf_release(&why);
	strbuf_release(&vk);
	return r;
}
