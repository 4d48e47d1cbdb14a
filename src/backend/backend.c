#include "backend/backend.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend/listmemo.h"
#include "backend/probe-cache.h"
#include "backend/types.h"
#include "base/validate.h"
#include "base/xalloc.h"

/* Output of a metadata command (lists, usage texts) never needs more: a
 * larger answer is a runaway or hostile tool. */
#define BACKEND_CAPTURE_MAX (4u << 20)

void backend_snapshot_list_clear(struct backend_snapshot_list *l)
{
	for (size_t i = 0; i < l->nr; i++) {
		free(l->v[i].name);
		free(l->v[i].id);
	}
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
}

void backend_snapshot_list_add(struct backend_snapshot_list *l, const char *name,
			       const char *id, int64_t creation)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr].name = xstrdup(name);
	l->v[l->nr].id = xstrdup(id ? id : "");
	l->v[l->nr].creation = creation;
	l->nr++;
}

const struct backend_snapshot *backend_snapshot_list_find(const struct backend_snapshot_list *l,
							  const char *name)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

int backend_fail(struct backend *b, int r, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(&b->errmsg);
	va_start(ap, fmt);
	strbuf_vaddf(&b->errmsg, fmt, ap);
	va_end(ap);
	return r;
}

const char *backend_errmsg(const struct backend *b)
{
	return b->errmsg.buf;
}

int backend_open(struct backend *b, const struct backend_storage *st)
{
	const struct storage_type *t = storage_type_of(st->type);

	strbuf_reset(&b->errmsg);
	if (st->id && !valid_storage_id(st->id))
		return backend_fail(b, -EINVAL, "invalid storage id '%s'", st->id);
	if (st->tool && (!*st->tool || st->tool[0] == '-'))
		return backend_fail(b, -EINVAL, "invalid tool '%s'", st->tool);
	if (!t)
		return backend_fail(b, -EINVAL, "unknown storage type %d", (int)st->type);
	for (size_t i = 0; i < BACKEND_LOC_MAX && t->loc[i].key; i++)
		if (!t->loc[i].valid(st->loc[i] ? st->loc[i] : ""))
			return backend_fail(b, -EINVAL, "invalid %s '%s'", t->loc[i].what,
					    st->loc[i] ? st->loc[i] : "");
	b->ops = t->ops;
	b->type = st->type;
	b->id = st->id ? xstrdup(st->id) : NULL;
	for (size_t i = 0; i < BACKEND_LOC_MAX; i++)
		b->loc[i] = t->loc[i].key ? xstrdup(st->loc[i]) : NULL;
	b->tool = xstrdup(st->tool ? st->tool : t->tool);
	b->caps_probed = 0;
	if (b->ops->open) {
		int r = b->ops->open(b);

		if (r < 0) {
			backend_close(b);
			return r;
		}
	}
	return 0;
}

void backend_close(struct backend *b)
{
	if (b->ops && b->ops->close)
		b->ops->close(b);
	free(b->id);
	for (size_t i = 0; i < BACKEND_LOC_MAX; i++) {
		free(b->loc[i]);
		b->loc[i] = NULL;
	}
	free(b->tool);
	b->id = b->tool = NULL;
	b->ops = NULL;
	strbuf_release(&b->errmsg);
}

char *backend_volid(const struct backend *b, const char *volname)
{
	struct strbuf sb = STRBUF_INIT;

	if (b->id)
		strbuf_addf(&sb, "%s:", b->id);
	strbuf_addstr(&sb, volname);
	return strbuf_detach(&sb, NULL);
}

int backend_valid_volname(enum backend_type type, const char *volname, uint32_t *ret_vmid)
{
	const struct storage_type *t = storage_type_of(type);
	uint32_t vmid = 0;

	if (!t || !volname || !valid_volname(volname) || !t->volname_valid(volname, &vmid))
		return 0;
	if (ret_vmid)
		*ret_vmid = vmid;
	return 1;
}

const char *backend_volname_form(enum backend_type type)
{
	const struct storage_type *t = storage_type_of(type);

	return t ? t->volname_form : "";
}

int backend_volname_suggest(enum backend_type type, const char *volname, struct strbuf *out)
{
	const struct storage_type *t = storage_type_of(type);

	strbuf_reset(out);
	if (t && t->volname_suggest(volname, out) && out->len && strcmp(out->buf, volname) &&
	    backend_valid_volname(type, out->buf, NULL))
		return 1;
	strbuf_reset(out);
	return 0;
}

/* Each entry point: validate what the implementation cannot know about,
 * reset the message, dispatch. */
#define CHECK_OPEN(b)                                                   \
	do {                                                            \
		if (!(b)->ops)                                          \
			return -EBADF;                                  \
		strbuf_reset(&(b)->errmsg);                             \
	} while (0)

static int check_volname(struct backend *b, const char *volname)
{
	if (!backend_valid_volname(b->type, volname, NULL))
		return backend_fail(b, -EINVAL, "invalid volume name '%s'", volname ? volname : "");
	return 0;
}

int backend_valid_snapname(const char *snap)
{
	return valid_snapshot_name(snap) && snap[0] != '.';
}

static int check_snap(struct backend *b, const char *what, const char *snap)
{
	if (!backend_valid_snapname(snap))
		return backend_fail(b, -EINVAL, "invalid %s name '%s'", what, snap ? snap : "");
	return 0;
}

/* What an entry point on a volume checks first: an open backend (its
 * message reset) and a valid volume name. Returns 0, -EBADF or -EINVAL. */
static int check_volume(struct backend *b, const char *volname)
{
	if (!b->ops)
		return -EBADF;
	strbuf_reset(&b->errmsg);
	return check_volname(b, volname) < 0 ? -EINVAL : 0;
}

/* check_volume and a valid snapshot name. */
static int check_volume_snap(struct backend *b, const char *volname, const char *snap)
{
	int r = check_volume(b, volname);

	if (r == 0 && check_snap(b, "snapshot", snap) < 0)
		r = -EINVAL;
	return r;
}

/* check_volume_snap for a stream of snap: its base, when given, a valid
 * snapshot name too and not snap itself. */
static int check_stream(struct backend *b, const char *volname, const char *snap, const char *base)
{
	int r = check_volume_snap(b, volname, snap);

	if (r < 0 || !base)
		return r;
	if (check_snap(b, "base snapshot", base) < 0)
		return -EINVAL;
	if (!strcmp(base, snap))
		return backend_fail(b, -EINVAL, "base snapshot '%s' is the snapshot itself", base);
	return 0;
}

/* The process-wide cache of probes (backend_caps_cache_share): one
 * entry per storage type and tool, in a shared mapping so that the
 * children a session server forks for its commands fill it for each
 * other. */
#define CAPS_CACHE_SLOTS 8
struct caps_slot {
	int used;
	const struct backend_ops *ops;
	char tool[256];
	struct backend_caps caps;
};
static struct caps_slot *caps_cache;

int backend_caps_cache_share(void)
{
	void *m;

	if (caps_cache)
		return 0;
	m = mmap(NULL, CAPS_CACHE_SLOTS * sizeof(struct caps_slot), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	caps_cache = m;
	return 0;
}

static struct caps_slot *caps_lookup(const struct backend *b, int add)
{
	if (!caps_cache || strlen(b->tool) >= sizeof(caps_cache[0].tool))
		return NULL;
	for (size_t i = 0; i < CAPS_CACHE_SLOTS; i++) {
		struct caps_slot *sl = &caps_cache[i];

		if (sl->used && sl->ops == b->ops && !strcmp(sl->tool, b->tool))
			return sl;
		if (!sl->used && add) {
			sl->ops = b->ops;
			memcpy(sl->tool, b->tool, strlen(b->tool) + 1); /* fits: checked above */
			return sl;
		}
	}
	return NULL;
}

int backend_probe(struct backend *b, struct backend_caps *caps)
{
	struct caps_slot *sl;
	int r;

	CHECK_OPEN(b);
	if (!b->caps_probed && (sl = caps_lookup(b, 0))) {
		b->caps = sl->caps;
		b->caps_probed = 1;
	}
	if (!b->caps_probed && b->tool && probe_cache_load(b->ops->type_name, b->tool, &b->caps, sizeof(b->caps)))
		b->caps_probed = 1;
	if (!b->caps_probed) {
		memset(&b->caps, 0, sizeof(b->caps));
		r = b->ops->probe(b, &b->caps);
		if (r < 0)
			return r;
		b->caps_probed = 1;
		if (b->tool)
			probe_cache_store(b->ops->type_name, b->tool, &b->caps, sizeof(b->caps));
		if ((sl = caps_lookup(b, 1))) {
			sl->caps = b->caps;
			__atomic_store_n(&sl->used, 1, __ATOMIC_RELEASE);
		}
	}
	if (caps)
		*caps = b->caps;
	return 0;
}

/* The key of volname's listing in the session's memo (backend/listmemo.h) */
static void memo_key(const struct backend *b, const char *volname, struct strbuf *key)
{
	strbuf_addf(key, "%s\t%s\t%s", b->ops->type_name, b->loc[0] ? b->loc[0] : "", volname);
}

static void memo_drop(const struct backend *b, const char *volname)
{
	struct strbuf key = STRBUF_INIT;

	memo_key(b, volname, &key);
	listmemo_drop(key.buf);
	strbuf_release(&key);
}

static unsigned long memo_seq(const struct backend *b, const char *volname)
{
	struct strbuf key = STRBUF_INIT;
	unsigned long seq;

	memo_key(b, volname, &key);
	seq = listmemo_seq(key.buf);
	strbuf_release(&key);
	return seq;
}

void backend_memo_put(const struct backend *b, const char *volname, enum listmemo_tag tag,
		      const struct backend_snapshot_list *l)
{
	struct strbuf key = STRBUF_INIT;

	memo_key(b, volname, &key);
	listmemo_put(key.buf, tag, l);
	strbuf_release(&key);
}

int backend_memo_get(const struct backend *b, const char *volname, enum listmemo_tag tag,
		     struct backend_snapshot_list *l)
{
	struct strbuf key = STRBUF_INIT;
	int r;

	memo_key(b, volname, &key);
	r = listmemo_get(key.buf, tag, l);
	strbuf_release(&key);
	return r;
}

int backend_list_volumes(struct backend *b, const char *vmid, struct strvec *out)
{
	CHECK_OPEN(b);
	if (!valid_vmid(vmid))
		return backend_fail(b, -EINVAL, "invalid guest id '%s'", vmid ? vmid : "");
	return b->ops->list_volumes(b, vmid, out);
}

int backend_volume_path(struct backend *b, const char *volname, struct strbuf *out)
{
	int r = check_volume(b, volname);

	return r < 0 ? r : b->ops->volume_path(b, volname, out);
}

int backend_volume_exists(struct backend *b, const char *volname)
{
	int r = check_volume(b, volname);

	return r < 0 ? r : b->ops->volume_exists(b, volname);
}

int backend_snapshot(struct backend *b, const char *const *volnames, size_t n, const char *snap)
{
	CHECK_OPEN(b);
	if (!n)
		return backend_fail(b, -EINVAL, "no volumes to snapshot");
	for (size_t i = 0; i < n; i++) {
		if (check_volname(b, volnames[i]) < 0)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(volnames[i], volnames[j]))
				return backend_fail(b, -EINVAL, "volume '%s' given twice", volnames[i]);
	}
	if (check_snap(b, "snapshot", snap) < 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		memo_drop(b, volnames[i]);
	return b->ops->snapshot(b, volnames, n, snap);
}

int backend_delete_snapshot(struct backend *b, const char *volname, const char *snap)
{
	int r = check_volume_snap(b, volname, snap);

	if (r < 0)
		return r;
	memo_drop(b, volname);
	return b->ops->delete_snapshot(b, volname, snap);
}

int backend_list_snapshots(struct backend *b, const char *volname, struct backend_snapshot_list *out)
{
	int r = check_volume(b, volname);

	return r < 0 ? r : b->ops->list_snapshots(b, volname, out);
}

int backend_list_snapshots_after_import(struct backend *b, const char *volname, struct backend_snapshot_list *out)
{
	int r = check_volume(b, volname);

	if (r < 0)
		return r;
	if (backend_memo_get(b, volname, LISTMEMO_IMPORT, out))
		return 0;
	return b->ops->list_snapshots(b, volname, out);
}

int backend_export_argv(struct backend *b, const char *volname, const char *snap,
			const char *base, unsigned flags, struct strvec *argv)
{
	int r = check_stream(b, volname, snap, base);

	if (r < 0)
		return r;
	if ((flags & BACKEND_EXPORT_RAW) && !b->ops->encrypted)
		return backend_fail(b, -ENOTSUP, "no raw sends on %s storage", b->ops->type_name);
	return b->ops->export_argv(b, volname, snap, base, flags, argv);
}

static int start_export(struct backend *b, struct child *c)
{
	int r = child_start(c);

	if (r < 0) {
		strvec_clear(&c->args);
		return backend_fail(b, r, "cannot run '%s': %s", b->tool, strerror(-r));
	}
	return 0;
}

int backend_export_start(struct backend *b, const char *volname, const char *snap,
			 const char *base, unsigned flags, struct child *c)
{
	int r = backend_export_argv(b, volname, snap, base, flags, &c->args);

	if (r < 0) {
		strvec_clear(&c->args);
		return r;
	}
	return start_export(b, c);
}

int backend_import(struct backend *b, const char *volname, const char *snap,
		   const char *base, int in_fd)
{
	return backend_import_flags(b, volname, snap, base, 0, in_fd);
}

int backend_import_flags(struct backend *b, const char *volname, const char *snap,
			 const char *base, unsigned flags, int in_fd)
{
	int r = check_stream(b, volname, snap, base);
	unsigned long seq;

	if (r < 0)
		return r;
	if (in_fd < 0)
		return backend_fail(b, -EBADF, "no input stream");
	if ((flags & BACKEND_IMPORT_RESUME) && !b->ops->resume_argv)
		return backend_fail(b, -ENOTSUP, "no resumable receives on %s storage", b->ops->type_name);
	if ((flags & BACKEND_IMPORT_RAW) && !b->ops->encrypted)
		return backend_fail(b, -ENOTSUP, "no raw (encrypted) streams on %s storage", b->ops->type_name);
	/* the import may use the listing before it changes the snapshots,
	 * and leave its own listing after them; else none is kept */
	seq = memo_seq(b, volname);
	r = b->ops->import(b, volname, snap, base, flags, in_fd);
	if (r < 0 || memo_seq(b, volname) == seq)
		memo_drop(b, volname);
	return r;
}

int backend_encrypted(struct backend *b, const char *volname)
{
	int r = check_volume(b, volname);

	if (r < 0 || !b->ops->encrypted)
		return r;
	return b->ops->encrypted(b, volname);
}

int backend_stream_props(struct backend *b, const char *volname, struct strbuf *out)
{
	int r = check_volume(b, volname);

	if (r < 0 || !b->ops->stream_props)
		return r;
	return b->ops->stream_props(b, volname, out);
}

int backend_resume_token(struct backend *b, const char *volname, struct strbuf *token)
{
	int r = check_volume(b, volname);

	if (r < 0 || !b->ops->resume_token)
		return r;
	return b->ops->resume_token(b, volname, token);
}

int backend_resume_abort(struct backend *b, const char *volname)
{
	int r = check_volume(b, volname);

	if (r < 0)
		return r;
	if (!b->ops->resume_abort)
		return backend_fail(b, -ENOTSUP, "no resumable receives on %s storage", b->ops->type_name);
	memo_drop(b, volname);
	return b->ops->resume_abort(b, volname);
}

int backend_export_resume_start(struct backend *b, const char *volname, const char *snap, const char *token,
				struct child *c)
{
	int r = check_volume_snap(b, volname, snap);

	if (r < 0)
		return r;
	if (!b->ops->resume_argv)
		return backend_fail(b, -ENOTSUP, "no resumable receives on %s storage", b->ops->type_name);
	r = b->ops->resume_argv(b, volname, snap, token, &c->args);
	if (r == 0)
		r = start_export(b, c);
	else
		strvec_clear(&c->args);
	return r;
}

int backend_destroy_volume(struct backend *b, const char *volname)
{
	int r = check_volume(b, volname);

	if (r < 0)
		return r;
	memo_drop(b, volname);
	return b->ops->destroy_volume(b, volname);
}

int backend_rollback(struct backend *b, const char *volname, const char *snap)
{
	int r = check_volume_snap(b, volname, snap);

	if (r < 0)
		return r;
	memo_drop(b, volname);
	return b->ops->rollback(b, volname, snap);
}

int backend_estimate_send_size(struct backend *b, const char *volname, const char *snap,
			       const char *base, uint64_t *bytes)
{
	int r = check_stream(b, volname, snap, base);

	if (r < 0)
		return r;
	if (!b->ops->estimate_send_size)
		return backend_fail(b, -ENOTSUP, "no size estimates on %s storage", b->ops->type_name);
	return b->ops->estimate_send_size(b, volname, snap, base, bytes);
}

int backend_clean_stale(struct backend *b, const char *volname, struct backend_snapshot_list *snaps,
			int *listed)
{
	int r = check_volume(b, volname);
	int dummy;

	if (!listed)
		listed = &dummy;
	*listed = 0;
	if (r < 0 || !b->ops->clean_stale)
		return r;
	memo_drop(b, volname);
	r = b->ops->clean_stale(b, volname, snaps, listed);
	if (r != 0 && snaps && *listed) {
		backend_snapshot_list_clear(snaps);
		*listed = 0;
	}
	if (r == 0 && snaps && *listed)
		backend_memo_put(b, volname, LISTMEMO_PREPARE, snaps);
	return r;
}

int backend_free_space(struct backend *b, uint64_t *bytes)
{
	CHECK_OPEN(b);
	return b->ops->free_space(b, bytes);
}

int backend_run_status(struct backend *b, const struct strvec *argv, struct strbuf *out,
		       struct strbuf *err)
{
	int r = run_capture((const char *const *)argv->v, NULL, 0, out, err, BACKEND_CAPTURE_MAX);

	if (r == -ENOENT)
		return backend_fail(b, r, "cannot run '%s': program not found", argv->v[0]);
	if (r < 0)
		return backend_fail(b, r, "cannot run '%s': %s", argv->v[0], strerror(-r));
	return r;
}

/* The first non-empty line of a tool's stderr, for a one-line message. */
static void first_line(struct strbuf *dst, const char *text)
{
	while (*text == '\n' || *text == ' ' || *text == '\t')
		text++;
	size_t n = strcspn(text, "\n");
	if (n > 400)
		n = 400;
	strbuf_add(dst, text, n);
}

int backend_fail_tool(struct backend *b, const struct strvec *argv, int code, const char *err)
{
	char buf[64];

	strbuf_reset(&b->errmsg);
	first_line(&b->errmsg, err ? err : "");
	if (!b->errmsg.len)
		strbuf_addf(&b->errmsg, "command '%s %s' failed: %s", argv->v[0],
			    argv->nr > 1 ? argv->v[1] : "", exit_status_str(code, buf, sizeof(buf)));
	return -EIO;
}

int backend_run(struct backend *b, const struct strvec *argv, struct strbuf *out)
{
	struct strbuf err = STRBUF_INIT;
	int r = backend_run_status(b, argv, out, &err);

	if (r > 0)
		r = backend_fail_tool(b, argv, r, err.buf);
	strbuf_release(&err);
	return r;
}

/* Diagnostics of a receiving tool: enough for a message, bounded so that
 * a chatty or hostile tool cannot grow our memory. */
#define BACKEND_STDERR_MAX (64u << 10)

int backend_run_stdin(struct backend *b, const struct strvec *argv, int in_fd, struct strbuf *err)
{
	struct child c = CHILD_INIT;
	char buf[4096];
	int r;

	strvec_pushv(&c.args, (const char *const *)argv->v);
	c.in = in_fd;
	c.out = CHILD_NULL;
	c.err = CHILD_PIPE;
	r = child_start(&c);
	if (r < 0) {
		child_clear(&c);
		if (r == -ENOENT)
			return backend_fail(b, r, "cannot run '%s': program not found", argv->v[0]);
		return backend_fail(b, r, "cannot run '%s': %s", argv->v[0], strerror(-r));
	}
	for (;;) {
		ssize_t n = read(c.err, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (err && err->len < BACKEND_STDERR_MAX)
			strbuf_add(err, buf, (size_t)n);
	}
	close(c.err);
	return child_finish(&c);
}
