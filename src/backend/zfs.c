/* zfspool backend: volumes are datasets directly below the storage's pool
 * dataset (vm-* zvols, subvol-* filesystems), driven through the zfs tool.
 *
 * Works with OpenZFS and with zfs-fuse 0.7 (pool version 23), which lacks
 * `zfs list -p`, several snapshots per `zfs snapshot` call, `send -U/-c/-w/-v`,
 * `recv -x/-s`, bookmarks and zvols: backend_probe() reads the tool's usage
 * text once and the commands below use only what is there (see
 * docs/storage.md). */
#include "backend/zfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/zfs-parse.h"
#include "base/parse-util.h"
#include "base/strbuf.h"

void zfs_argv_snapshot(struct strvec *argv, const char *tool, const char *const *datasets,
		       size_t n, const char *snap)
{
	strvec_push(argv, tool);
	strvec_push(argv, "snapshot");
	for (size_t i = 0; i < n; i++)
		strvec_pushf(argv, "%s@%s", datasets[i], snap);
}

static void argv_send(struct strvec *argv, const char *tool, const struct backend_caps *caps,
		      const char *ds, const char *snap, const char *base, unsigned flags, int dry_run)
{
	/* raw: the blocks as they are on disk (encrypted, compressed);
	 * -U and -c have no say in such a stream */
	int raw = !!(flags & BACKEND_EXPORT_RAW), noenc = caps->send_no_encrypt && !raw;
	int plain = base && (flags & (BACKEND_EXPORT_KEEP_TARGET | BACKEND_EXPORT_PLAIN));

	strvec_push(argv, tool);
	strvec_push(argv, "send");
	if (dry_run)
		strvec_push(argv, "-nP");

	if (plain) {
		/* a plain incremental: -R and -p (zfs-fuse) make a stream
		 * package, and recv -F prunes the target to the package's
		 * snapshots; keep: the properties came with the full stream,
		 * PLAIN: the caller knows none changed since a package */
		if (noenc)
			strvec_push(argv, "-U");
	} else {
		strvec_push(argv, noenc ? "-RpU" : "-Rp");
	}
	if (raw)
		strvec_push(argv, "-w");
	else if ((flags & BACKEND_EXPORT_COMPRESSED) && caps->send_compressed)
		strvec_push(argv, "-c");
	if (base) {
		/* -I makes a stream package as well; keep: the source has
		 * no snapshot of the job between base and snap, so -i
		 * carries the same */
		strvec_push(argv, plain ? "-i" : "-I");
		strvec_pushf(argv, "%s@%s", ds, base);
	}
	strvec_push(argv, "--");
	strvec_pushf(argv, "%s@%s", ds, snap);
}

void zfs_argv_send(struct strvec *argv, const char *tool, const struct backend_caps *caps,
		   const char *ds, const char *snap, const char *base, unsigned flags)
{
	argv_send(argv, tool, caps, ds, snap, base, flags, 0);
}

void zfs_argv_send_estimate(struct strvec *argv, const char *tool, const struct backend_caps *caps,
			    const char *ds, const char *snap, const char *base)
{
	argv_send(argv, tool, caps, ds, snap, base, 0, 1);
}

void zfs_argv_get_size(struct strvec *argv, const char *tool, const struct backend_caps *caps,
		       const char *property, const char *name)
{
	strvec_push(argv, tool);
	strvec_push(argv, "get");
	strvec_push(argv, caps->get_parsable ? "-Hp" : "-H");
	strvec_pushv(argv, (const char *const[]){ "-o", "value", property, "--", name, NULL });
}

/* Received data is data: a stream (from a peer, i.e. hostile) must not
 * decide where the file system appears (mountpoint: on top of
 * /root/.ssh, into the config directory's hooks), that it is shared, or
 * that setuid binaries or device nodes on it work. canmount is not
 * inheritable and is set explicitly after the receive. No user property
 * is read by volrep, so none needs excluding. */
const char *const zfs_unsafe_props[] = { "sharenfs", "sharesmb", "exec", "setuid", "devices",
					 "zoned", "mountpoint", NULL };

/* The property list of a get that reads them, into the empty sb:
 * "<first>,<the unsafe properties>,<last>" (first may be "") */
static void unsafe_prop_list(struct strbuf *sb, const char *first, const char *last)
{
	strbuf_addstr(sb, first);
	for (size_t i = 0; zfs_unsafe_props[i]; i++)
		strbuf_addf(sb, "%s%s", sb->len ? "," : "", zfs_unsafe_props[i]);
	strbuf_addf(sb, ",%s", last);
}

void zfs_argv_recv(struct strvec *argv, const char *tool, const struct backend_caps *caps,
		   const char *ds, int filesystem, int raw)
{
	strvec_push(argv, tool);
	strvec_push(argv, "recv");
	strvec_push(argv, "-F");
	/* never mount on receive (zfs-fuse takes -u though its usage text
	 * does not list it): the properties are reset first */
	strvec_push(argv, "-u");
	/* resumable: an interrupted receive keeps what it got, and the
	 * sender continues from the token (zfs_argv_send_resume) */
	if (caps->resume_tokens)
		strvec_push(argv, "-s");
	if (filesystem && caps->recv_exclude_props) {
		for (size_t i = 0; zfs_unsafe_props[i]; i++) {
			strvec_push(argv, "-x");
			strvec_push(argv, zfs_unsafe_props[i]);
		}
	}
	/* a plain stream inherits the target's encryption; a raw one
	 * brings its own, and zfs refuses to exclude it */
	if (caps->recv_exclude && !raw) {
		strvec_push(argv, "-x");
		strvec_push(argv, "encryption");
	}
	strvec_push(argv, "--");
	strvec_push(argv, ds);
}

void zfs_argv_send_resume(struct strvec *argv, const char *tool, const char *token, int dry_run)
{
	/* the stream's options (-c, -w, ...) are in the token; -t takes no
	 * others. The token is validated: it never starts with '-' */
	strvec_pushv(argv, (const char *const[]){ tool, "send", NULL });
	if (dry_run)
		strvec_push(argv, "-nvP");
	strvec_push(argv, "-t");
	strvec_push(argv, token);
}

void zfs_argv_get_resume_token(struct strvec *argv, const char *tool, const char *ds)
{
	strvec_pushv(argv, (const char *const[]){ tool, "get", "-H", "-o", "value", "receive_resume_token", "--",
						  ds, NULL });
}

void zfs_argv_recv_abort(struct strvec *argv, const char *tool, const char *ds)
{
	strvec_pushv(argv, (const char *const[]){ tool, "recv", "-A", "--", ds, NULL });
}

void zfs_argv_inherit(struct strvec *argv, const char *tool, const char *prop, const char *ds)
{
	/* no "--": zfs-fuse's inherit, set and mount take none (ds is a
	 * validated name under the pool, never an option) */
	strvec_pushv(argv, (const char *const[]){ tool, "inherit", prop, ds, NULL });
}

void zfs_argv_set(struct strvec *argv, const char *tool, const char *prop, const char *value,
		  const char *ds)
{
	strvec_pushv(argv, (const char *const[]){ tool, "set", NULL });
	strvec_pushf(argv, "%s=%s", prop, value);
	strvec_push(argv, ds);
}

void zfs_argv_list_tree(struct strvec *argv, const char *tool, const char *ds)
{
	strvec_pushv(argv, (const char *const[]){ tool, "list", "-H", "-o", "name,type", "-t",
						  "filesystem,volume,snapshot", "-r", "--", ds, NULL });
}

void zfs_argv_get_mounted(struct strvec *argv, const char *tool, const char *ds)
{
	strvec_pushv(argv, (const char *const[]){ tool, "get", "-H", "-o", "value", "mounted,mountpoint",
						  "--", ds, NULL });
}

void zfs_argv_get_secure_state(struct strvec *argv, const char *tool, const char *ds)
{
	struct strbuf props = STRBUF_INIT;

	unsafe_prop_list(&props, "", "canmount,mounted");
	strvec_pushv(argv, (const char *const[]){ tool, "get", "-H", "-o", "property,value,source", props.buf,
						  "--", ds, NULL });
	strbuf_release(&props);
}

/* A value the reset would leave as it is: the default, or inherited */
static int zfs_source_reset(const char *source)
{
	return !strcmp(source, "default") || !strncmp(source, "inherited from ", 15);
}

int zfs_parse_secure_state(const char *text, struct zfs_secure_state *st)
{
	unsigned seen = 0;
	int canmount = 0, mounted = 0;

	st->reset = 0;
	st->canmount_on = 0;
	st->mounted = 0;
	strbuf_reset(&st->mountpoint);
	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		char buf[4096], *value, *source;

		if (len >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, line, len);
		buf[len] = '\0';
		line += len + (line[len] == '\n');
		value = strchr(buf, '\t');
		source = value ? strchr(value + 1, '\t') : NULL;
		if (!source || strchr(source + 1, '\t'))
			return -EINVAL;
		*value++ = '\0';
		*source++ = '\0';
		if (!strcmp(buf, "canmount")) {
			canmount = 1;
			st->canmount_on = !strcmp(value, "on");
		} else if (!strcmp(buf, "mounted")) {
			mounted = 1;
			st->mounted = !strcmp(value, "yes");
		}
		for (size_t i = 0; zfs_unsafe_props[i]; i++) {
			if (strcmp(buf, zfs_unsafe_props[i]))
				continue;
			seen |= 1u << i;
			if (zfs_source_reset(source))
				st->reset &= ~(1u << i);
			else
				st->reset |= 1u << i;
			if (!strcmp(buf, "mountpoint")) {
				strbuf_reset(&st->mountpoint);
				strbuf_addstr(&st->mountpoint, value);
			}
		}
	}
	/* a property not in the text: reset, as if it were set */
	for (size_t i = 0; zfs_unsafe_props[i]; i++)
		if (!(seen & (1u << i)))
			st->reset |= 1u << i;
	return canmount && mounted ? 0 : -EINVAL;
}

void zfs_argv_mount(struct strvec *argv, const char *tool, const char *ds)
{
	strvec_pushv(argv, (const char *const[]){ tool, "mount", ds, NULL });
}

void zfs_argv_list_snapshots(struct strvec *argv, const char *tool, const struct backend_caps *caps,
			     const char *ds)
{
	strvec_push(argv, tool);
	if (caps->list_parsable) {
		strvec_pushv(argv, (const char *const[]){ "list", "-Hp", "-t", "snapshot", "-o",
							  "name,guid,creation", "-r", "--", NULL });
	} else {
		strvec_pushv(argv, (const char *const[]){ "get", "-Hp", "-r", "-o", "name,property,value",
							  "guid,creation", "--", NULL });
	}
	strvec_push(argv, ds);
}

void zfs_argv_list_volumes(struct strvec *argv, const char *tool, const char *pool)
{
	strvec_push(argv, tool);
	strvec_pushv(argv, (const char *const[]){ "list", "-H", "-o", "name,type", "-t",
						  "filesystem,volume", "-d", "1", "--", NULL });
	strvec_push(argv, pool);
}

void zfs_argv_destroy_snapshot(struct strvec *argv, const char *tool, const char *ds, const char *snap)
{
	strvec_push(argv, tool);
	strvec_push(argv, "destroy");
	strvec_push(argv, "--");
	strvec_pushf(argv, "%s@%s", ds, snap);
}

void zfs_argv_rollback(struct strvec *argv, const char *tool, const char *ds, const char *snap)
{
	strvec_push(argv, tool);
	strvec_push(argv, "rollback");
	strvec_push(argv, "-r");
	strvec_push(argv, "--");
	strvec_pushf(argv, "%s@%s", ds, snap);
}

void zfs_argv_destroy_volume(struct strvec *argv, const char *tool, const char *ds)
{
	strvec_push(argv, tool);
	strvec_push(argv, "destroy");
	/* -f: unmount even if busy (zfs-fuse reports a freshly received
	 * filesystem as busy for a moment) */
	strvec_push(argv, "-r");
	strvec_push(argv, "-f");
	strvec_push(argv, "--");
	strvec_push(argv, ds);
}

void zfs_caps_from_usage(struct backend_caps *caps, const char *usage, int bookmark_list_ok)
{
	uint64_t send = zfs_usage_flags(usage, "send");
	uint64_t recv = zfs_usage_flags(usage, "receive");
	uint64_t list = zfs_usage_flags(usage, "list");
	uint64_t get = zfs_usage_flags(usage, "get");

	caps->list_parsable = !!(list & ZFS_FLAG('p'));
	caps->multi_snapshot = zfs_usage_multi_snapshot(usage);
	caps->send_replicate = !!(send & ZFS_FLAG('R'));
	caps->send_props = !!(send & ZFS_FLAG('p'));
	caps->send_no_encrypt = !!(send & ZFS_FLAG('U'));
	caps->send_compressed = !!(send & ZFS_FLAG('c'));
	caps->send_raw = !!(send & ZFS_FLAG('w'));
	/* `-x encryption` needs a zfs that knows the property: one that can
	 * send raw (encrypted) streams */
	caps->recv_exclude_props = !!(recv & ZFS_FLAG('x'));
	caps->recv_exclude = caps->recv_exclude_props && caps->send_raw;
	caps->resume_tokens = !!(recv & ZFS_FLAG('s')) && !!(send & ZFS_FLAG('t'));
	caps->bookmarks = !!bookmark_list_ok;
	caps->send_estimate = (send & (ZFS_FLAG('n') | ZFS_FLAG('P'))) == (ZFS_FLAG('n') | ZFS_FLAG('P'));
	caps->get_parsable = !!(get & ZFS_FLAG('p'));
	/* no cheap probe for zvols short of creating one: every zfs with
	 * zvols (ZoL/OpenZFS) has `list -p`, zfs-fuse has neither */
	caps->zvols = caps->list_parsable;
}

static int zfs_probe(struct backend *b, struct backend_caps *caps)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	/* `zfs help` prints every subcommand's usage (zfs-fuse: after
	 * "unrecognized command", exit 2) */
	strvec_pushv(&argv, (const char *const[]){ b->tool, "help", NULL });
	r = backend_run_status(b, &argv, &out, &err);
	if (r < 0)
		goto out;
	strbuf_addstr(&out, err.buf);
	if (!zfs_usage_flags(out.buf, "send")) {
		r = backend_fail_tool(b, &argv, r ? r : 1, err.buf);
		goto out;
	}
	/* bookmarks: whether the tool has `zfs bookmark`, read from the
	 * usage too. A `zfs list -t bookmark` probe of the pool would be
	 * exact, but costs a zfs call (a round trip to zfs-fuse) in every
	 * volrep process that touches the storage, i.e. several per run,
	 * for a capability nothing uses yet. */
	zfs_caps_from_usage(caps, out.buf, strstr(out.buf, "\tbookmark <") != NULL);
	r = 0;
out:
	strvec_clear(&argv);
	strbuf_release(&out);
	strbuf_release(&err);
	return r;
}

/* zfs-fuse reports a filesystem it has just received (and is still
 * mounting) as "dataset is busy" for a moment: retry such failures for up
 * to 5 s. A snapshot whose `zfs send` was just killed stays busy longer
 * (the send inside zfs-fuse runs on until it notices the closed pipe):
 * up to 15 s for snapshot removal, which is what an interrupted run's
 * cleanup does. */
#define ZFS_BUSY_TRIES 25
#define ZFS_SNAP_BUSY_TRIES 75
#define ZFS_BUSY_WAIT_NS 200000000L

static int run_retry_busy_n(struct backend *b, const struct strvec *argv, int tries)
{
	struct strbuf err = STRBUF_INIT;
	int r = 0;

	for (int i = 0; i < tries; i++) {
		struct timespec ts = { 0, ZFS_BUSY_WAIT_NS };

		strbuf_reset(&err);
		r = backend_run_status(b, argv, NULL, &err);
		if (r <= 0 || !strstr(err.buf, "busy"))
			break;
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	if (r > 0)
		r = backend_fail_tool(b, argv, r, err.buf);
	strbuf_release(&err);
	return r;
}

static int run_retry_busy(struct backend *b, const struct strvec *argv)
{
	return run_retry_busy_n(b, argv, ZFS_BUSY_TRIES);
}

static void dataset_of(struct backend *b, const char *volname, struct strbuf *sb)
{
	strbuf_addf(sb, "%s/%s", b->pool, volname);
}

static int zfs_volume_path(struct backend *b, const char *volname, struct strbuf *out)
{
	dataset_of(b, volname, out);
	return 0;
}

static int not_found_text(const char *err)
{
	return strstr(err, "does not exist") || strstr(err, "could not find");
}

/* 1 exists, 0 does not, -errno on other failures. name: dataset or
 * dataset@snap. */
static int zfs_exists(struct backend *b, const char *name)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	int r;

	strvec_pushv(&argv, (const char *const[]){ b->tool, "list", "-H", "-o", "name", "-t", "all", "--", NULL });
	strvec_push(&argv, name);
	r = backend_run_status(b, &argv, NULL, &err);
	if (r == 0)
		r = 1;
	else if (r > 0 && not_found_text(err.buf))
		r = 0;
	else if (r > 0)
		r = backend_fail_tool(b, &argv, r, err.buf);
	strvec_clear(&argv);
	strbuf_release(&err);
	return r;
}

/* zfs_exists() of two names in one call (zfs list takes several: the
 * missing ones on stderr, the others listed): bit i of *found for
 * names[i]. Returns 0 or -errno. */
static int zfs_exists2(struct backend *b, const char *const names[2], unsigned *found)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	strvec_pushv(&argv, (const char *const[]){ b->tool, "list", "-H", "-o", "name", "-t", "all", "--",
						   names[0], names[1], NULL });
	r = backend_run_status(b, &argv, &out, &err);
	/* a failure other than a missing name: every stderr line says so */
	for (const char *line = err.buf; r > 0 && *line; line += strcspn(line, "\n"), line += *line == '\n') {
		struct strbuf one = STRBUF_INIT;

		strbuf_add(&one, line, strcspn(line, "\n"));
		if (one.len && !not_found_text(one.buf))
			r = backend_fail_tool(b, &argv, r, one.buf);
		strbuf_release(&one);
	}
	*found = 0;
	for (const char *line = out.buf; r >= 0 && *line; line += strcspn(line, "\n"), line += *line == '\n')
		for (unsigned i = 0; i < 2; i++)
			if (!strncmp(line, names[i], strlen(names[i])) &&
			    (line[strlen(names[i])] == '\n' || !line[strlen(names[i])]))
				*found |= 1u << i;
	strvec_clear(&argv);
	strbuf_release(&out);
	strbuf_release(&err);
	return r < 0 ? r : 0;
}

static int zfs_volume_exists(struct backend *b, const char *volname)
{
	struct strbuf ds = STRBUF_INIT;
	int r;

	dataset_of(b, volname, &ds);
	r = zfs_exists(b, ds.buf);
	strbuf_release(&ds);
	return r;
}

static int zfs_list_volumes(struct backend *b, const char *vmid, struct strvec *out)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf text = STRBUF_INIT;
	int r;

	zfs_argv_list_volumes(&argv, b->tool, b->pool);
	r = backend_run(b, &argv, &text);
	if (r == 0) {
		r = zfs_parse_volume_list(text.buf, b->pool, vmid, out);
		if (r < 0)
			backend_fail(b, r, "cannot parse the volume list of '%s'", b->pool);
	}
	strvec_clear(&argv);
	strbuf_release(&text);
	return r;
}

static int zfs_snapshot(struct backend *b, const char *const *volnames, size_t n, const char *snap)
{
	struct strvec ds = STRVEC_INIT, argv = STRVEC_INIT;
	size_t done = 0;
	int r;

	r = backend_probe(b, NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		strvec_pushf(&ds, "%s/%s", b->pool, volnames[i]);
	if (b->caps.multi_snapshot || n == 1) {
		/* one call: atomic, all volumes show the same instant */
		zfs_argv_snapshot(&argv, b->tool, (const char *const *)ds.v, n, snap);
		r = backend_run(b, &argv, NULL);
		strvec_clear(&argv);
		goto out;
	}
	/* zfs-fuse takes one snapshot per call: not atomic across volumes,
	 * but all or nothing */
	for (done = 0; done < n; done++) {
		zfs_argv_snapshot(&argv, b->tool, (const char *const *)&ds.v[done], 1, snap);
		r = backend_run(b, &argv, NULL);
		strvec_clear(&argv);
		if (r < 0)
			break;
	}
	if (r < 0) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addstr(&msg, b->errmsg.buf);
		while (done-- > 0) {
			zfs_argv_destroy_snapshot(&argv, b->tool, ds.v[done], snap);
			backend_run(b, &argv, NULL);
			strvec_clear(&argv);
		}
		backend_fail(b, r, "%s", msg.buf);
		strbuf_release(&msg);
	}
out:
	strvec_clear(&ds);
	return r;
}

static int zfs_delete_snapshot(struct backend *b, const char *volname, const char *snap)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf ds = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	dataset_of(b, volname, &ds);
	zfs_argv_destroy_snapshot(&argv, b->tool, ds.buf, snap);
	r = backend_run_status(b, &argv, NULL, &err);
	if (r > 0 && strstr(err.buf, "busy")) {
		/* the retry sets the message of a final failure itself */
		r = run_retry_busy_n(b, &argv, ZFS_SNAP_BUSY_TRIES);
		goto out;
	}
	if (r > 0 && not_found_text(err.buf))
		r = backend_fail(b, -ENOENT, "snapshot '%s@%s' does not exist", ds.buf, snap);
	else if (r > 0)
		r = backend_fail_tool(b, &argv, r, err.buf);
out:
	strvec_clear(&argv);
	strbuf_release(&ds);
	strbuf_release(&err);
	return r;
}

static int zfs_list_snapshots(struct backend *b, const char *volname, struct backend_snapshot_list *out)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf ds = STRBUF_INIT, text = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	r = backend_probe(b, NULL);
	if (r < 0)
		return r;
	dataset_of(b, volname, &ds);
	zfs_argv_list_snapshots(&argv, b->tool, &b->caps, ds.buf);
	r = backend_run_status(b, &argv, &text, &err);
	if (r > 0 && not_found_text(err.buf))
		r = backend_fail(b, -ENOENT, "volume '%s' does not exist", ds.buf);
	else if (r > 0)
		r = backend_fail_tool(b, &argv, r, err.buf);
	if (r == 0) {
		r = b->caps.list_parsable ? zfs_parse_snapshot_list(text.buf, ds.buf, out)
					  : zfs_parse_snapshot_get(text.buf, ds.buf, out);
		if (r < 0)
			backend_fail(b, r, "cannot parse the snapshot list of '%s'", ds.buf);
	}
	strvec_clear(&argv);
	strbuf_release(&ds);
	strbuf_release(&text);
	strbuf_release(&err);
	return r;
}

static int zfs_export_argv(struct backend *b, const char *volname, const char *snap,
			   const char *base, unsigned flags, struct strvec *argv)
{
	struct strbuf ds = STRBUF_INIT;
	int r = backend_probe(b, NULL);

	if (r < 0)
		return r;
	if ((flags & BACKEND_EXPORT_RAW) && !b->caps.send_raw)
		return backend_fail(b, -ENOTSUP, "zfs here has no raw sends (send -w)");
	dataset_of(b, volname, &ds);
	zfs_argv_send(argv, b->tool, &b->caps, ds.buf, snap, base, flags);
	strbuf_release(&ds);
	return 0;
}

/* After a failed receive: back to where we were. Returns 0 or -EIO, and
 * appends to msg what went wrong. */
static int zfs_undo_import(struct backend *b, const char *ds, const char *base, int created,
			   struct strbuf *msg)
{
	struct strvec argv = STRVEC_INIT;
	int r = 0;

	if (base) {
		zfs_argv_rollback(&argv, b->tool, ds, base);
	} else if (created) {
		int e = zfs_exists(b, ds);

		if (e <= 0)
			return e;
		zfs_argv_destroy_volume(&argv, b->tool, ds);
	} else {
		return 0;
	}
	r = run_retry_busy(b, &argv);
	if (r < 0)
		strbuf_addf(msg, "; cleanup failed: %s", b->errmsg.buf);
	strvec_clear(&argv);
	return r;
}

/* Whether the listing of zfs_argv_list_tree has the line "name\t<type>" */
static int tree_has(const char *tree, const char *name, const char *type)
{
	size_t n = strlen(name), t = strlen(type);

	for (const char *line = tree; *line; line += strcspn(line, "\n"), line += *line == '\n')
		if (!strncmp(line, name, n) && line[n] == '\t' && !strncmp(line + n + 1, type, t) &&
		    (line[n + 1 + t] == '\n' || !line[n + 1 + t]))
			return 1;
	return 0;
}

/* A replicated volume has no datasets below it, but `zfs send -R` of a
 * tree brings them along (each with its own properties): destroy any
 * that are there (not mounted: the receive ran with -u) and refuse the
 * stream. tree: the listing of zfs_argv_list_tree if the caller has it
 * (NULL: listed here). Stores in *filesystem whether ds is a file system.
 * Returns 0, or -EIO with the reason appended to msg. */
static int zfs_check_tree(struct backend *b, const char *ds, const char *tree, int *filesystem,
			  struct strbuf *msg)
{
	struct strvec argv = STRVEC_INIT, extra = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT;
	size_t dslen = strlen(ds);
	int r = 0, found = 0;

	*filesystem = 0;
	if (tree) {
		strbuf_addstr(&out, tree);
	} else {
		zfs_argv_list_tree(&argv, b->tool, ds);
		r = backend_run(b, &argv, &out);
		strvec_clear(&argv);
	}
	if (r < 0) {
		strbuf_addstr(msg, b->errmsg.buf);
		goto out;
	}
	for (char *line = out.buf, *next; *line; line = next) {
		char *tab;

		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		/* the snapshots (the listing has them for the import's check) */
		if (!strcmp(tab + 1, "snapshot"))
			continue;
		if (!strcmp(line, ds)) {
			found = 1;
			*filesystem = !strcmp(tab + 1, "filesystem");
		} else if (!strncmp(line, ds, dslen) && line[dslen] == '/') {
			strvec_push(&extra, line);
		}
	}
	if (!found) {
		strbuf_addf(msg, "volume '%s' missing after the receive", ds);
		r = -EIO;
		goto out;
	}
	if (!extra.nr)
		goto out;
	/* the listing puts a parent before its children: skip those its
	 * destroy -r took with it */
	for (size_t i = 0, last = 0; i < extra.nr; i++) {
		size_t n = strlen(extra.v[last]);

		if (i && !strncmp(extra.v[i], extra.v[last], n) && extra.v[i][n] == '/')
			continue;
		last = i;
		strvec_clear(&argv);
		zfs_argv_destroy_volume(&argv, b->tool, extra.v[i]);
		if (run_retry_busy(b, &argv) < 0 && zfs_exists(b, extra.v[i]) != 0)
			strbuf_addf(msg, "cannot destroy '%s': %s; ", extra.v[i], b->errmsg.buf);
	}
	strbuf_addf(msg, "stream contained dataset '%s' below the volume (a replicated volume has none)",
		    extra.v[0]);
	r = -EIO;
out:
	strvec_clear(&argv);
	strvec_clear(&extra);
	strbuf_release(&out);
	return r;
}

/* One property's value (zfs get -H -o value) into out, trimmed: 1, or 0
 * when this zfs has no such property, or -errno (message set). */
static int zfs_get_value(struct backend *b, const char *prop, const char *ds, struct strbuf *out)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	int r;

	strvec_pushv(&argv, (const char *const[]){ b->tool, "get", "-H", "-o", "value", prop, "--", ds, NULL });
	r = backend_run_status(b, &argv, out, &err);
	if (r > 0 && not_found_text(err.buf))
		r = backend_fail(b, -ENOENT, "volume '%s' does not exist", ds);
	else if (r > 0 && (strstr(err.buf, "invalid property") || strstr(err.buf, "bad property")))
		r = 0;
	else if (r > 0)
		r = backend_fail_tool(b, &argv, r, err.buf);
	else if (r == 0)
		r = 1;
	strbuf_rtrim(out);
	strvec_clear(&argv);
	strbuf_release(&err);
	return r;
}

/* An encrypted file system whose key is not loaded here (a raw replica):
 * it cannot be mounted. */
static int zfs_keyless(struct backend *b, const char *ds)
{
	struct strbuf v = STRBUF_INIT;
	int r = b->caps.send_raw && zfs_get_value(b, "keystatus", ds, &v) > 0 && !strcmp(v.buf, "unavailable");

	strbuf_release(&v);
	return r;
}

/* `zfs get -H -p -s local,received -o property,value all`: the values
 * send -p puts in a package, sorted (zfs's order is its own) */
static int zfs_stream_props(struct backend *b, const char *volname, struct strbuf *out)
{
	struct strvec argv = STRVEC_INIT, lines = STRVEC_INIT;
	struct strbuf ds = STRBUF_INIT, text = STRBUF_INIT;
	int r = backend_probe(b, NULL);

	if (r < 0)
		return r;
	dataset_of(b, volname, &ds);
	strvec_pushv(&argv, (const char *const[]){ b->tool, "get", b->caps.get_parsable ? "-Hp" : "-H", "-s",
						   "local,received", "-o", "property,value", "all", "--", ds.buf,
						   NULL });
	r = backend_run(b, &argv, &text);
	for (const char *line = text.buf; r == 0 && *line;) {
		size_t n = strcspn(line, "\n");

		if (n)
			strvec_pushf(&lines, "%.*s", (int)n, line);
		line += n + (line[n] == '\n');
	}
	strvec_sort_uniq(&lines);
	for (size_t i = 0; i < lines.nr; i++)
		strbuf_addf(out, "%s\n", lines.v[i]);
	strvec_clear(&argv);
	strvec_clear(&lines);
	strbuf_release(&ds);
	strbuf_release(&text);
	return r;
}

static int zfs_encrypted(struct backend *b, const char *volname)
{
	struct strbuf ds = STRBUF_INIT, v = STRBUF_INIT;
	int r = backend_probe(b, NULL);

	if (r < 0)
		return r;
	/* no raw sends, no native encryption: nothing to ask */
	if (!b->caps.send_raw)
		return 0;
	dataset_of(b, volname, &ds);
	r = zfs_get_value(b, "encryption", ds.buf, &v);
	if (r > 0)
		r = strcmp(v.buf, "off") && strcmp(v.buf, "-") && v.len;
	strbuf_release(&ds);
	strbuf_release(&v);
	return r;
}

/* Where the file system is mounted (zfs get mounted,mountpoint) after a
 * reset changed it: into st. Returns 0 or -errno (message set). */
static int zfs_mount_state(struct backend *b, const char *ds, struct zfs_secure_state *st)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT;
	char *mp;
	int r;

	zfs_argv_get_mounted(&argv, b->tool, ds);
	r = backend_run(b, &argv, &out);
	mp = r == 0 ? strchr(out.buf, '\n') : NULL;
	if (r == 0 && !mp)
		r = backend_fail(b, -EIO, "cannot parse the mount state of '%s'", ds);
	if (r == 0) {
		*mp++ = '\0';
		mp[strcspn(mp, "\n")] = '\0';
		st->mounted = !strcmp(out.buf, "yes");
		strbuf_reset(&st->mountpoint);
		strbuf_addstr(&st->mountpoint, mp);
	}
	strvec_clear(&argv);
	strbuf_release(&out);
	return r;
}

/* Run argv, retried while zfs-fuse says busy; a failure whose message
 * has ok in it counts as done. 0 or -errno (message set). */
static int run_allowing(struct backend *b, const struct strvec *argv, const char *ok)
{
	struct strbuf err = STRBUF_INIT;
	int r = backend_run_status(b, argv, NULL, &err);

	if (r > 0 && strstr(err.buf, "busy"))
		r = run_retry_busy(b, argv);
	else if (r > 0 && strstr(err.buf, ok))
		r = 0;
	else if (r > 0)
		r = backend_fail_tool(b, argv, r, err.buf);
	strbuf_release(&err);
	return r;
}

/* The reset of one unsafe property (inherit): 0 or -errno. A property
 * this zfs does not have, a stream cannot set. */
static int zfs_reset_prop(struct backend *b, const char *prop, const char *ds)
{
	struct strvec argv = STRVEC_INIT;
	int r;

	zfs_argv_inherit(&argv, b->tool, prop, ds);
	r = run_allowing(b, &argv, "invalid property");
	strvec_clear(&argv);
	return r;
}

/* Reset what a received file system must not keep from the stream, then
 * mount it where the storage's layout says (mount: not for a raw replica,
 * which has no key here): at the mountpoint inherited from the pool
 * dataset, if that has one. One `zfs get` tells what is to do: only the
 * properties not at their inherited or default value are reset (a no-change
 * incremental has none: one call, not nine; zfs-fuse serialises each).
 * Where that get fails (a zfs without one of them), every one is reset.
 * state: that get's answer where the caller has it (the import's one
 * listing after the receive), NULL to ask here. Returns 0, or -EIO with
 * the reason appended to msg. */
static int zfs_secure_filesystem(struct backend *b, const char *ds, int mount, const char *state,
				 struct strbuf *msg)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct zfs_secure_state st = ZFS_SECURE_STATE_INIT;
	int r = 0, changed = 0;

	if (state) {
		strbuf_addstr(&out, state);
	} else {
		zfs_argv_get_secure_state(&argv, b->tool, ds);
		r = backend_run_status(b, &argv, &out, &err);
		strvec_clear(&argv);
	}
	if (r < 0)
		goto fail;
	if (r > 0 || zfs_parse_secure_state(out.buf, &st) < 0) {
		st.reset = ~0u;
		st.canmount_on = 0;
	}
	r = 0;
	for (size_t i = 0; zfs_unsafe_props[i] && r == 0; i++) {
		if (!strcmp(zfs_unsafe_props[i], "mountpoint") && !st.canmount_on) {
			/* canmount is not inheritable: the default, explicitly */
			zfs_argv_set(&argv, b->tool, "canmount", "on", ds);
			r = run_retry_busy(b, &argv);
			strvec_clear(&argv);
			changed = 1;
			if (r < 0)
				break;
		}
		if (st.reset & (1u << i)) {
			r = zfs_reset_prop(b, zfs_unsafe_props[i], ds);
			changed = 1;
		}
	}
	if (r == 0 && mount && changed)
		r = zfs_mount_state(b, ds, &st);
	if (r < 0)
		goto fail;
	if (mount && !st.mounted && st.mountpoint.buf[0] == '/') {
		zfs_argv_mount(&argv, b->tool, ds);
		r = run_allowing(b, &argv, "already mounted");
		if (r < 0)
			goto fail;
	}
	goto out;
fail:
	strbuf_addstr(msg, b->errmsg.buf);
	r = -EIO;
out:
	strvec_clear(&argv);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&st.mountpoint);
	return r;
}

/* Append why to msg ("; " between reasons), empty why. Returns 1. */
static int add_reason(struct strbuf *msg, struct strbuf *why)
{
	if (msg->len)
		strbuf_addstr(msg, "; ");
	strbuf_addstr(msg, why->buf);
	strbuf_reset(why);
	return 1;
}

/* The partial state of an interrupted receive into ds: 1 with its token,
 * 0 none (or no resume tokens here), -errno. */
static int zfs_partial_token(struct backend *b, const char *ds, struct strbuf *token)
{
	struct strbuf out = STRBUF_INIT;
	int r;

	if (!b->caps.resume_tokens)
		return 0;
	/* no volume (yet): no partial receive either */
	r = zfs_get_value(b, "receive_resume_token", ds, &out);
	if (r == -ENOENT)
		r = 0;
	else if (r > 0 && (r = zfs_parse_resume_property(out.buf, token)) < 0)
		r = backend_fail(b, -EIO, "cannot parse the resume token of '%s'", ds);
	strbuf_release(&out);
	return r;
}

static int zfs_recv_abort(struct backend *b, const char *ds)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	int r;

	zfs_argv_recv_abort(&argv, b->tool, ds);
	r = backend_run_status(b, &argv, NULL, &err);
	/* nothing to discard is what the caller wants */
	if (r > 0 && (strstr(err.buf, "resumable receive state") || not_found_text(err.buf)))
		r = 0;
	else if (r > 0)
		r = backend_fail_tool(b, &argv, r, err.buf);
	strvec_clear(&argv);
	strbuf_release(&err);
	return r;
}

/* Whether ds@base (bit 1) and ds@snap (bit 2) exist, into *found: from
 * the session's listing of the volume when its prepare just made one
 * (backend/listmemo.h), else one `zfs list` of both names. */
static int base_and_snap(struct backend *b, const char *volname, const char *const names[2], const char *base,
			 const char *snap, unsigned *found)
{
	struct backend_snapshot_list known = BACKEND_SNAPSHOT_LIST_INIT;

	if (!backend_memo_get(b, volname, LISTMEMO_PREPARE, &known))
		return zfs_exists2(b, names, found);
	*found = (backend_snapshot_list_find(&known, base) ? 1u : 0u) |
		 (backend_snapshot_list_find(&known, snap) ? 2u : 0u);
	backend_snapshot_list_clear(&known);
	return 0;
}

/* What must hold before a receive into ds: with base, base is there and
 * snap is not (a failed receive rolls back to base, which would take a
 * newer snap with it); without, the volume does not exist, unless the
 * stream resumes a partial receive of it (partial: one is there). */
static int zfs_import_check(struct backend *b, const char *volname, const char *ds, const char *snap,
			    const char *base, int resume, int partial)
{
	struct strbuf name = STRBUF_INIT;
	int r = 0;

	if (resume && !partial)
		r = backend_fail(b, -ENOENT, "no interrupted receive of '%s' to resume", ds);
	if (r == 0 && base) {
		/* both in one call */
		struct strbuf sn = STRBUF_INIT;
		unsigned found;

		strbuf_addf(&name, "%s@%s", ds, base);
		strbuf_addf(&sn, "%s@%s", ds, snap);
		r = base_and_snap(b, volname, (const char *const[]){ name.buf, sn.buf }, base, snap, &found);
		if (r == 0 && !(found & 1))
			r = backend_fail(b, -ENOENT, "base snapshot '%s' doesn't exist", name.buf);
		else if (r == 0 && (found & 2))
			r = backend_fail(b, -EEXIST, "snapshot '%s' already exists", sn.buf);
		strbuf_release(&sn);
	} else if (r >= 0 && resume) {
		strbuf_reset(&name);
		strbuf_addf(&name, "%s@%s", ds, snap);
		r = zfs_exists(b, name.buf);
		if (r > 0)
			r = backend_fail(b, -EEXIST, "snapshot '%s' already exists", name.buf);
	} else if (r >= 0) {
		r = zfs_exists(b, ds);
		if (r > 0)
			r = backend_fail(b, -EEXIST, "volume '%s' already exists", ds);
	}
	strbuf_release(&name);
	return r < 0 ? r : 0;
}

/* Whether this zfs takes the stream that flags describe. */
static int zfs_import_supported(struct backend *b, unsigned flags)
{
	int r = backend_probe(b, NULL);

	if (r < 0)
		return r;
	if ((flags & BACKEND_IMPORT_RESUME) && !b->caps.resume_tokens)
		return backend_fail(b, -ENOTSUP, "zfs has no resumable receives (recv -s)");
	/* a zfs that can send raw streams is one with native encryption */
	if ((flags & BACKEND_IMPORT_RAW) && !b->caps.send_raw)
		return backend_fail(b, -ENOTSUP, "cannot receive a raw (encrypted) stream: zfs here has no encryption support");
	return 0;
}

/* Before a receive into ds: the partial state of an earlier one given up
 * unless resumed, then zfs_import_check. Returns 0 or -errno. */
static int zfs_import_ready(struct backend *b, const char *volname, const char *ds, const char *snap,
			    const char *base, int resume)
{
	struct strbuf token = STRBUF_INIT;
	int r, partial;

	partial = r = zfs_partial_token(b, ds, &token);
	/* a fresh stream cannot go where an earlier receive left a partial
	 * state ("destination contains partially-complete state"): that
	 * one's resume has been given up */
	if (r > 0 && !resume)
		partial = r = zfs_recv_abort(b, ds);
	if (r >= 0)
		r = zfs_import_check(b, volname, ds, snap, base, resume, partial);
	strbuf_release(&token);
	return r;
}

/* What a receive left, in one call: the tree (from the type rows, as
 * zfs_argv_list_tree lists it) into tree, and ds's unsafe properties,
 * canmount and mounted (what zfs_secure_filesystem reads) into state,
 * the snapshots into snaps. Where this zfs lacks one of the properties,
 * the tree comes from a listing of its own and state and snaps stay
 * empty. 0 or -errno (message set). */
static int zfs_received_state(struct backend *b, const char *ds, struct strbuf *tree, struct strbuf *state,
			      struct backend_snapshot_list *snaps)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf props = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	unsafe_prop_list(&props, "type,guid,creation", "canmount,mounted");
	strvec_pushv(&argv, (const char *const[]){ b->tool, "get", "-Hp", "-r", "-o", "name,property,value,source",
						   props.buf, "--", ds, NULL });
	r = backend_run_status(b, &argv, &out, &err);
	if (r > 0 && strstr(err.buf, "invalid property")) {
		strvec_clear(&argv);
		zfs_argv_list_tree(&argv, b->tool, ds);
		r = backend_run(b, &argv, tree);
	} else if (r > 0) {
		r = backend_fail_tool(b, &argv, r, err.buf);
	} else if (r == 0 && zfs_parse_received(out.buf, ds, tree, state) < 0) {
		strbuf_reset(tree);
		strbuf_reset(state);
		r = backend_fail(b, -EIO, "cannot parse the properties of '%s' after the receive", ds);
	} else if (r == 0) {
		/* the snapshots too, for the session's next command (finalize);
		 * a listing without them is simply not kept */
		struct strbuf ignored = STRBUF_INIT;

		if (zfs_parse_volume_state(out.buf, ds, &ignored, snaps) < 0)
			backend_snapshot_list_clear(snaps);
		strbuf_release(&ignored);
	}
	strvec_clear(&argv);
	strbuf_release(&props);
	strbuf_release(&out);
	strbuf_release(&err);
	return r;
}

/* The stream is untrusted: it must have brought exactly ds@snap (one
 * listing, into tree and state (zfs_received_state), for that, the tree
 * check and the reset after it; both stay empty when the listing
 * failed). 0, or 1 with the reason in msg. */
static int zfs_received_snapshot(struct backend *b, const char *ds, const char *snap, struct strbuf *tree,
				 struct strbuf *state, struct backend_snapshot_list *snaps, struct strbuf *msg)
{
	struct strbuf name = STRBUF_INIT;
	int r, failed;

	strbuf_addf(&name, "%s@%s", ds, snap);
	r = zfs_received_state(b, ds, tree, state, snaps);
	failed = r < 0 || !tree_has(tree->buf, name.buf, "snapshot");
	if (r < 0) {
		strbuf_addstr(msg, b->errmsg.buf);
		strbuf_reset(tree);
		strbuf_reset(state);
	} else if (failed) {
		strbuf_addf(msg, "stream did not contain snapshot '%s'", name.buf);
	}
	strbuf_release(&name);
	return failed;
}

/* `zfs recv` into ds, then zfs_received_snapshot. 0 when it brought
 * ds@snap, 1 when it failed (why in msg), -errno when it could not run. */
static int zfs_receive(struct backend *b, const char *volname, const char *ds, const char *snap, int raw,
		       int in_fd, struct strbuf *tree, struct strbuf *state, struct backend_snapshot_list *snaps,
		       struct strbuf *msg)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	int r;

	/* -x of file system properties only where the name says it is one
	 * (a zvol would refuse them); the reset after it covers every case */
	zfs_argv_recv(&argv, b->tool, &b->caps, ds, !strncmp(volname, "subvol-", 7), raw);
	r = backend_run_stdin(b, &argv, in_fd, &err);
	if (r > 0) {
		backend_fail_tool(b, &argv, r, err.buf);
		strbuf_addstr(msg, b->errmsg.buf);
		r = 1;
	} else if (r == 0) {
		r = zfs_received_snapshot(b, ds, snap, tree, state, snaps, msg);
	}
	strvec_clear(&argv);
	strbuf_release(&err);
	return r;
}

/* No datasets below ds, nothing the stream chose (tree: its listing, or
 * empty). 0, or 1 with the reasons added to msg. */
static int zfs_secure_received(struct backend *b, const char *ds, const struct strbuf *tree,
			       const struct strbuf *state, int raw, struct strbuf *msg)
{
	struct strbuf why = STRBUF_INIT;
	int filesystem = 0, failed = 0;

	if (zfs_check_tree(b, ds, tree->len ? tree->buf : NULL, &filesystem, &why) < 0)
		failed = add_reason(msg, &why);
	/* the state was read before any child's destroy: still ds's own */
	if (filesystem && zfs_secure_filesystem(b, ds, !raw, state->len ? state->buf : NULL, &why) < 0)
		failed = add_reason(msg, &why);
	strbuf_release(&why);
	return failed;
}

/* A failed receive: an interrupted one whose partial state zfs kept is
 * left for the sender to resume (the volume, or base, is unchanged);
 * anything else is undone. Returns -EIO. */
static int zfs_import_failed(struct backend *b, const char *ds, const char *base, struct strbuf *msg)
{
	struct strbuf token = STRBUF_INIT;

	if (zfs_partial_token(b, ds, &token) > 0)
		strbuf_addstr(msg, "; partial receive kept for resuming");
	else
		zfs_undo_import(b, ds, base, 1, msg);
	strbuf_release(&token);
	return backend_fail(b, -EIO, "cannot import '%s': %s", ds, msg->buf);
}

static int zfs_import(struct backend *b, const char *volname, const char *snap,
		      const char *base, unsigned flags, int in_fd)
{
	struct strbuf ds = STRBUF_INIT, msg = STRBUF_INIT, tree = STRBUF_INIT, state = STRBUF_INIT;
	struct backend_snapshot_list snaps = BACKEND_SNAPSHOT_LIST_INIT;
	int raw = !!(flags & BACKEND_IMPORT_RAW);
	int r, failed = 0;

	r = zfs_import_supported(b, flags);
	if (r < 0)
		return r;
	dataset_of(b, volname, &ds);
	r = zfs_import_ready(b, volname, ds.buf, snap, base, !!(flags & BACKEND_IMPORT_RESUME));
	if (r >= 0)
		r = failed = zfs_receive(b, volname, ds.buf, snap, raw, in_fd, &tree, &state, &snaps, &msg);
	if (r < 0)
		goto out;
	/* whatever the receive did to an existing volume (a failed one may
	 * have applied the stream's properties too), and after every
	 * complete one */
	if ((!failed || base) && zfs_secure_received(b, ds.buf, &tree, &state, raw, &msg))
		failed = 1;
	r = failed ? zfs_import_failed(b, ds.buf, base, &msg) : 0;
	/* what the volume now holds, for finalize; a child's destroy or a
	 * reset does not change its snapshots */
	if (r == 0 && snaps.nr)
		backend_memo_put(b, volname, LISTMEMO_IMPORT, &snaps);
out:
	strbuf_release(&ds);
	strbuf_release(&msg);
	strbuf_release(&tree);
	backend_snapshot_list_clear(&snaps);
	strbuf_release(&state);
	return r;
}

static int zfs_resume_token(struct backend *b, const char *volname, struct strbuf *token)
{
	struct strbuf ds = STRBUF_INIT;
	int r = backend_probe(b, NULL);

	if (r < 0)
		return r;
	dataset_of(b, volname, &ds);
	r = zfs_partial_token(b, ds.buf, token);
	strbuf_release(&ds);
	return r;
}

static int zfs_resume_abort(struct backend *b, const char *volname)
{
	struct strbuf ds = STRBUF_INIT;
	int r = backend_probe(b, NULL);

	if (r < 0)
		return r;
	if (!b->caps.resume_tokens)
		return backend_fail(b, -ENOTSUP, "zfs has no resumable receives (recv -s)");
	dataset_of(b, volname, &ds);
	r = zfs_recv_abort(b, ds.buf);
	strbuf_release(&ds);
	return r;
}

/* The sender's side of a resume: the token must be one this zfs takes,
 * for exactly volname@snap (a dry run lists its contents). */
static int zfs_resume_argv(struct backend *b, const char *volname, const char *snap, const char *token,
			   struct strvec *argv)
{
	struct strvec dry = STRVEC_INIT;
	struct strbuf ds = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT, toname = STRBUF_INIT;
	int r;

	if (!zfs_valid_resume_token(token))
		return backend_fail(b, -EINVAL, "invalid resume token '%.40s%s'", token ? token : "",
				    token && strlen(token) > 40 ? "..." : "");
	r = backend_probe(b, NULL);
	if (r < 0)
		return r;
	if (!b->caps.resume_tokens)
		return backend_fail(b, -ENOTSUP, "zfs has no resumable sends (send -t)");
	dataset_of(b, volname, &ds);
	strbuf_addf(&ds, "@%s", snap);
	zfs_argv_send_resume(&dry, b->tool, token, 1);
	r = backend_run_status(b, &dry, &out, &err);
	if (r > 0) {
		backend_fail_tool(b, &dry, r, err.buf);
		strbuf_reset(&out);
		strbuf_add(&out, b->errmsg.buf, b->errmsg.len);
		r = backend_fail(b, -ESTALE, "resume token refused: %s", out.buf);
	} else if (r == 0) {
		/* some versions print the contents on stderr */
		strbuf_addstr(&out, err.buf);
		if (zfs_parse_resume_toname(out.buf, &toname) < 0)
			r = backend_fail(b, -ESTALE, "resume token refused: no snapshot name in its contents");
		else if (strcmp(toname.buf, ds.buf))
			r = backend_fail(b, -ESTALE, "resume token is for '%.300s', not '%s'", toname.buf, ds.buf);
	}
	if (r == 0)
		zfs_argv_send_resume(argv, b->tool, token, 0);
	strvec_clear(&dry);
	strbuf_release(&ds);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&toname);
	return r;
}

/* A partial receive of a full stream: the volume exists, holds a resume
 * token and no snapshot. It is no replica (a later run sends the full
 * stream again): discarded. 1 when it was one and is gone, 0, -errno. */
static int zfs_partial_full(struct backend *b, const char *ds)
{
	struct backend_snapshot_list snaps = BACKEND_SNAPSHOT_LIST_INIT;
	struct strvec argv = STRVEC_INIT;
	struct strbuf token = STRBUF_INIT, text = STRBUF_INIT;
	int r = backend_probe(b, NULL);

	if (r == 0)
		r = zfs_partial_token(b, ds, &token);
	if (r > 0) {
		zfs_argv_list_snapshots(&argv, b->tool, &b->caps, ds);
		r = backend_run(b, &argv, &text);
		if (r == 0 && (b->caps.list_parsable ? zfs_parse_snapshot_list(text.buf, ds, &snaps)
						     : zfs_parse_snapshot_get(text.buf, ds, &snaps)) < 0)
			r = backend_fail(b, -EIO, "cannot parse the snapshot list of '%s'", ds);
		if (r == 0 && !snaps.nr && (r = zfs_recv_abort(b, ds)) == 0)
			r = zfs_exists(b, ds) == 0 ? 1 : 0;
	}
	backend_snapshot_list_clear(&snaps);
	strvec_clear(&argv);
	strbuf_release(&token);
	strbuf_release(&text);
	return r;
}

/* The sources of ds's unsafe properties and canmount, one a line, into
 * out; nothing when there is no volume (yet) or zfs lacks one of them. */
static int zfs_unsafe_sources(struct backend *b, const char *ds, struct strbuf *out)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf props = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	unsafe_prop_list(&props, "", "canmount");
	strvec_pushv(&argv, (const char *const[]){ b->tool, "get", "-H", "-o", "source", props.buf, "--", ds, NULL });
	r = backend_run_status(b, &argv, out, &err);
	if (r > 0 && (not_found_text(err.buf) || strstr(err.buf, "invalid property"))) {
		strbuf_reset(out);
		r = 0;
	} else if (r > 0) {
		r = backend_fail_tool(b, &argv, r, err.buf);
	}
	strvec_clear(&argv);
	strbuf_release(&props);
	strbuf_release(&err);
	return r;
}

/* prepare's look at a volume, in one call: the sources of its unsafe
 * properties and canmount into sources, and its snapshots into snaps
 * (*listed = 1), which would otherwise be two zfs calls per volume and
 * run. A volume that is not there, or a zfs without one of the
 * properties, leaves *listed 0 and sources empty (the caller lists on
 * its own, and gets the usual error). 0 or -errno. */
static int zfs_volume_state(struct backend *b, const char *ds, struct strbuf *sources,
			    struct backend_snapshot_list *snaps, int *listed)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf props = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	unsafe_prop_list(&props, "guid,creation", "canmount");
	strvec_pushv(&argv, (const char *const[]){ b->tool, "get", "-Hp", "-r", "-o", "name,property,value,source",
						   props.buf, "--", ds, NULL });
	r = backend_run_status(b, &argv, &out, &err);
	if (r > 0 && (not_found_text(err.buf) || strstr(err.buf, "invalid property")))
		r = 0;
	else if (r > 0)
		r = backend_fail_tool(b, &argv, r, err.buf);
	else if (r == 0 && zfs_parse_volume_state(out.buf, ds, sources, snaps) < 0)
		r = backend_fail(b, -EIO, "cannot parse the snapshot list of '%s'", ds);
	else if (r == 0)
		*listed = 1;
	strvec_clear(&argv);
	strbuf_release(&props);
	strbuf_release(&out);
	strbuf_release(&err);
	return r;
}

/* After a crash between a receive and its property reset (zfs-fuse has
 * no recv -x), a volume may still carry values the stream set: their
 * source is "received" (no one else makes such values). prepare calls
 * this before every run: one `zfs get` per volume, which lists the
 * snapshots too when snaps is given; the reset only when needed. */
static int zfs_clean_stale(struct backend *b, const char *volname, struct backend_snapshot_list *snaps,
			   int *listed)
{
	struct strbuf ds = STRBUF_INIT, sources = STRBUF_INIT, msg = STRBUF_INIT;
	int r;

	dataset_of(b, volname, &ds);
	r = zfs_partial_full(b, ds.buf);
	if (r == 0 && snaps)
		r = zfs_volume_state(b, ds.buf, &sources, snaps, listed);
	else if (r == 0)
		r = zfs_unsafe_sources(b, ds.buf, &sources);
	if (r == 0 && strstr(sources.buf, "received") &&
	    (r = zfs_secure_filesystem(b, ds.buf, !zfs_keyless(b, ds.buf), NULL, &msg)) < 0)
		r = backend_fail(b, -EIO, "cannot reset the received properties of '%s': %s", ds.buf, msg.buf);
	strbuf_release(&ds);
	strbuf_release(&sources);
	strbuf_release(&msg);
	return r;
}

static int zfs_destroy_volume(struct backend *b, const char *volname)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf ds = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	dataset_of(b, volname, &ds);
	zfs_argv_destroy_volume(&argv, b->tool, ds.buf);
	r = backend_run_status(b, &argv, NULL, &err);
	if (r > 0 && strstr(err.buf, "busy"))
		r = run_retry_busy(b, &argv) < 0 ? 1 : 0;
	if (r > 0 && not_found_text(err.buf))
		r = backend_fail(b, -ENOENT, "volume '%s' does not exist", ds.buf);
	else if (r > 0)
		r = backend_fail_tool(b, &argv, r, err.buf);
	strvec_clear(&argv);
	strbuf_release(&ds);
	strbuf_release(&err);
	return r;
}

static int zfs_rollback(struct backend *b, const char *volname, const char *snap)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf ds = STRBUF_INIT, name = STRBUF_INIT;
	int r;

	dataset_of(b, volname, &ds);
	strbuf_addf(&name, "%s@%s", ds.buf, snap);
	r = zfs_exists(b, name.buf);
	if (r == 0)
		r = backend_fail(b, -ENOENT, "snapshot '%s' does not exist", name.buf);
	if (r > 0) {
		zfs_argv_rollback(&argv, b->tool, ds.buf, snap);
		r = run_retry_busy(b, &argv);
	}
	strvec_clear(&argv);
	strbuf_release(&ds);
	strbuf_release(&name);
	return r;
}

static int zfs_free_space(struct backend *b, uint64_t *bytes)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT;
	uint64_t v;
	int r;

	strvec_pushv(&argv, (const char *const[]){ b->tool, "get", "-Hp", "-o", "value", "available", "--", NULL });
	strvec_push(&argv, b->pool);
	r = backend_run(b, &argv, &out);
	if (r == 0) {
		strbuf_rtrim(&out);
		if (parse_u64(out.buf, &v) < 0)
			r = backend_fail(b, -EINVAL, "cannot parse the free space of '%s': '%.40s'", b->pool, out.buf);
		else
			*bytes = v;
	}
	strvec_clear(&argv);
	strbuf_release(&out);
	return r;
}

static int zfs_estimate_send_size(struct backend *b, const char *volname, const char *snap,
				  const char *base, uint64_t *bytes)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf ds = STRBUF_INIT, name = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	uint64_t v = 0;
	int r = backend_probe(b, NULL);

	if (r < 0)
		return r;
	dataset_of(b, volname, &ds);
	if (b->caps.send_estimate) {
		/* the export's own options: the estimate of exactly that
		 * stream (some versions print it on stderr) */
		zfs_argv_send_estimate(&argv, b->tool, &b->caps, ds.buf, snap, base);
		r = backend_run_status(b, &argv, &out, &err);
		if (r > 0) {
			r = not_found_text(err.buf) ? -ENOENT : -EIO;
			backend_fail_tool(b, &argv, 1, err.buf);
		} else if (r == 0) {
			strbuf_addstr(&out, err.buf);
			if (zfs_parse_send_estimate(out.buf, &v) < 0)
				r = backend_fail(b, -EIO, "cannot parse the size estimate of '%s@%s'", ds.buf, snap);
		}
	} else if (base) {
		/* without a dry run an incremental stream has no cheap size:
		 * `written@<base>` is missing where `send -nP` is (zfs-fuse) */
		r = backend_fail(b, -ENOTSUP, "no size estimate for an incremental stream of '%s'", ds.buf);
	} else {
		strbuf_addf(&name, "%s@%s", ds.buf, snap);
		zfs_argv_get_size(&argv, b->tool, &b->caps, "referenced", name.buf);
		r = backend_run_status(b, &argv, &out, &err);
		if (r > 0) {
			r = not_found_text(err.buf) ? -ENOENT : -EIO;
			backend_fail_tool(b, &argv, 1, err.buf);
		} else if (r == 0 && zfs_parse_property_size(out.buf, &v) < 0) {
			r = backend_fail(b, -EIO, "cannot parse the size of '%s': '%.40s'", name.buf, out.buf);
		}
	}
	if (r == 0)
		*bytes = v;
	strvec_clear(&argv);
	strbuf_release(&ds);
	strbuf_release(&name);
	strbuf_release(&out);
	strbuf_release(&err);
	return r;
}

const struct backend_ops backend_zfs_ops = {
	.type_name = "zfspool",
	.probe = zfs_probe,
	.list_volumes = zfs_list_volumes,
	.volume_path = zfs_volume_path,
	.volume_exists = zfs_volume_exists,
	.snapshot = zfs_snapshot,
	.delete_snapshot = zfs_delete_snapshot,
	.list_snapshots = zfs_list_snapshots,
	.export_argv = zfs_export_argv,
	.import = zfs_import,
	.free_space = zfs_free_space,
	.destroy_volume = zfs_destroy_volume,
	.rollback = zfs_rollback,
	.estimate_send_size = zfs_estimate_send_size,
	.clean_stale = zfs_clean_stale,
	.encrypted = zfs_encrypted,
	.stream_props = zfs_stream_props,
	.resume_token = zfs_resume_token,
	.resume_abort = zfs_resume_abort,
	.resume_argv = zfs_resume_argv,
};
