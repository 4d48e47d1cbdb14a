/* btrfs backend: disks are subvolumes under <path>/images/<vmid>/,
 * snapshots read-only siblings <subvol>@<snap> (btrfs.h), moved with
 * `btrfs send` / `btrfs receive`.
 *
 * Import: `btrfs receive` creates the read-only subvolume <subvol>@<snap>
 * (the stream names it after the sender's snapshot, which has the same
 * layout) in a private staging directory next to the volume, from where
 * it is moved into place once complete; it keeps its received UUID,
 * which is what the next incremental receive looks for. The volume
 * itself then becomes a writable snapshot of it, swapped in with
 * RENAME_EXCHANGE so that the previous volume stays in place until the
 * new one is complete. A failed receive deletes whatever it created and
 * leaves the rest untouched; a killed one leaves only a staging
 * directory, which the next import or prepare removes. */
#include "backend/btrfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/btrfs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "backend/btrfs-parse.h"
#include "base/fileio.h"

/* the inode number of every btrfs subvolume's root directory
 * (BTRFS_FIRST_FREE_OBJECTID): how btrfs-progs tells a subvolume */
#define BTRFS_SUBVOL_INO 256

/* prefix of the writable snapshot being prepared next to the volume by
 * a rollback (and by an import of earlier versions); a leading dot keeps
 * it out of volume listings */
#define IMPORT_TMP_PREFIX ".volrep-new-"
/* prefix of an import's private staging directory (btrfs_import) */
#define STAGING_PREFIX ".volrep-recv-"

void btrfs_volume_dir(const char *path, const char *volname, struct strbuf *dir, struct strbuf *subvol)
{
	const char *slash = strchr(volname, '/');
	size_t n = strlen(slash + 1);

	strbuf_addf(dir, "%s%simages/%.*s", path, path[strlen(path) - 1] == '/' ? "" : "/",
		    (int)(slash - volname), volname);
	if (n > 4 && !strcmp(slash + 1 + n - 4, ".raw"))
		n -= 4;
	strbuf_add(subvol, slash + 1, n);
}

void btrfs_argv_snapshot(struct strvec *argv, const char *tool, const char *sv, const char *snap)
{
	strvec_pushv(argv, (const char *const[]){ tool, "subvolume", "snapshot", "-r", "--", sv, NULL });
	strvec_pushf(argv, "%s@%s", sv, snap);
}

void btrfs_argv_delete(struct strvec *argv, const char *tool, const char *path)
{
	strvec_pushv(argv, (const char *const[]){ tool, "subvolume", "delete", "--", path, NULL });
}

void btrfs_argv_send(struct strvec *argv, const char *tool, const struct backend_caps *caps,
		     const char *sv, const char *snap, const char *base, unsigned flags)
{
	strvec_pushv(argv, (const char *const[]){ tool, "send", "-q", NULL });
	if ((flags & BACKEND_EXPORT_COMPRESSED) && caps->send_compressed)
		strvec_push(argv, "--compressed-data");
	if (base) {
		strvec_push(argv, "-p");
		strvec_pushf(argv, "%s@%s", sv, base);
	}
	strvec_push(argv, "--");
	strvec_pushf(argv, "%s@%s", sv, snap);
}

void btrfs_argv_receive(struct strvec *argv, const char *tool, const struct backend_caps *caps,
			const char *dir)
{
	strvec_pushv(argv, (const char *const[]){ tool, "receive", "-q", NULL });
	/* the stream names the paths it writes: confine them to dir */
	if (caps->recv_chroot)
		strvec_push(argv, "-C");
	strvec_push(argv, "--");
	strvec_push(argv, dir);
}

void btrfs_argv_show(struct strvec *argv, const char *tool, const char *path)
{
	strvec_pushv(argv, (const char *const[]){ tool, "subvolume", "show", "--", path, NULL });
}

/* 1 if path is a subvolume root, 0 if absent, -errno otherwise (also
 * -ENOTDIR/-EEXIST-like conditions for something else in the way) */
static int is_subvolume(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode) || st.st_ino != BTRFS_SUBVOL_INO)
		return -ENOTDIR;
	return 1;
}

/* 0 when path is a subvolume; else -ENOENT ("<what> '<path>' does not
 * exist") or the error of what is in the way, with the message set. */
static int require_subvolume(struct backend *b, const char *path, const char *what)
{
	int r = is_subvolume(path);

	if (r == 0)
		return backend_fail(b, -ENOENT, "%s '%s' does not exist", what, path);
	if (r < 0)
		return backend_fail(b, r, "'%s' is not a btrfs subvolume", path);
	return 0;
}

static int btrfs_probe(struct backend *b, struct backend_caps *caps)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT;
	unsigned major = 0, minor = 0;
	int r;

	strvec_pushv(&argv, (const char *const[]){ b->tool, "--version", NULL });
	r = backend_run(b, &argv, &out);
	if (r == 0 && btrfs_parse_version(out.buf, &major, &minor) < 0)
		r = backend_fail(b, -EINVAL, "cannot parse the version of '%s'", b->tool);
	if (r == 0) {
		/* receive -C exists since btrfs-progs 3.12; send
		 * --compressed-data since 5.18 */
		caps->recv_chroot = major >= 4;
		caps->send_compressed = major > 5 || (major == 5 && minor >= 18);
	}
	strvec_clear(&argv);
	strbuf_release(&out);
	return r;
}

static int btrfs_volume_path(struct backend *b, const char *volname, struct strbuf *out)
{
	struct strbuf sv = STRBUF_INIT;

	btrfs_volume_dir(b->path, volname, out, &sv);
	strbuf_addf(out, "/%s", sv.buf);
	strbuf_release(&sv);
	return 0;
}

static int btrfs_volume_exists(struct backend *b, const char *volname)
{
	struct strbuf p = STRBUF_INIT;
	int r;

	btrfs_volume_path(b, volname, &p);
	r = is_subvolume(p.buf);
	if (r < 0)
		backend_fail(b, r, "'%s' is not a btrfs subvolume", p.buf);
	strbuf_release(&p);
	return r;
}

static int btrfs_list_volumes(struct backend *b, const char *vmid, struct strvec *out)
{
	struct strbuf dir = STRBUF_INIT, p = STRBUF_INIT, vol = STRBUF_INIT;
	struct strvec tmp = STRVEC_INIT;
	struct dirent *de;
	DIR *d;
	int r = 0;

	strbuf_addf(&dir, "%s/images/%s", b->path, vmid);
	d = opendir(dir.buf);
	if (!d) {
		r = errno == ENOENT ? 0 : backend_fail(b, -errno, "cannot open '%s': %s", dir.buf, strerror(errno));
		goto out;
	}
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		int raw = !strncmp(name, "vm-", 3) || !strncmp(name, "base-", 5);

		if (strchr(name, '@') || name[0] == '.')
			continue;
		strbuf_reset(&vol);
		strbuf_addf(&vol, "%s/%s%s", vmid, name, raw ? ".raw" : "");
		if (!backend_valid_volname(BACKEND_BTRFS, vol.buf, NULL))
			continue;
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir.buf, name);
		if (is_subvolume(p.buf) != 1)
			continue;
		strvec_push(&tmp, vol.buf);
	}
	closedir(d);
	strvec_sort_uniq(&tmp);
	for (size_t i = 0; i < tmp.nr; i++)
		strvec_push(out, tmp.v[i]);
out:
	strvec_clear(&tmp);
	strbuf_release(&dir);
	strbuf_release(&p);
	strbuf_release(&vol);
	return r;
}

static int delete_subvolume(struct backend *b, const char *path)
{
	struct strvec argv = STRVEC_INIT;
	int r;

	btrfs_argv_delete(&argv, b->tool, path);
	r = backend_run(b, &argv, NULL);
	strvec_clear(&argv);
	return r;
}

static int btrfs_snapshot(struct backend *b, const char *const *volnames, size_t n, const char *snap)
{
	struct strvec made = STRVEC_INIT, argv = STRVEC_INIT;
	struct strbuf sv = STRBUF_INIT;
	int r = 0;

	/* btrfs has no multi-subvolume snapshot: one by one, all or nothing */
	for (size_t i = 0; i < n && r == 0; i++) {
		strbuf_reset(&sv);
		btrfs_volume_path(b, volnames[i], &sv);
		r = require_subvolume(b, sv.buf, "volume");
		if (r < 0)
			break;
		btrfs_argv_snapshot(&argv, b->tool, sv.buf, snap);
		r = backend_run(b, &argv, NULL);
		if (r == 0)
			strvec_push(&made, argv.v[argv.nr - 1]);
		strvec_clear(&argv);
	}
	if (r < 0) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addstr(&msg, b->errmsg.buf);
		for (size_t i = 0; i < made.nr; i++)
			delete_subvolume(b, made.v[i]);
		backend_fail(b, r, "%s", msg.buf);
		strbuf_release(&msg);
	}
	strvec_clear(&made);
	strbuf_release(&sv);
	return r;
}

static int btrfs_delete_snapshot(struct backend *b, const char *volname, const char *snap)
{
	struct strbuf p = STRBUF_INIT;
	int r;

	btrfs_volume_path(b, volname, &p);
	strbuf_addf(&p, "@%s", snap);
	r = require_subvolume(b, p.buf, "snapshot");
	if (r == 0)
		r = delete_subvolume(b, p.buf);
	strbuf_release(&p);
	return r;
}

/* Snapshot info of one sibling subvolume. */
static int show(struct backend *b, const char *path, struct btrfs_subvol_info *info)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT;
	int r;

	btrfs_argv_show(&argv, b->tool, path);
	r = backend_run(b, &argv, &out);
	if (r == 0 && btrfs_parse_subvolume_show(out.buf, info) < 0)
		r = backend_fail(b, -EINVAL, "cannot parse 'btrfs subvolume show' of '%s'", path);
	strvec_clear(&argv);
	strbuf_release(&out);
	return r;
}

static int btrfs_list_snapshots(struct backend *b, const char *volname, struct backend_snapshot_list *out)
{
	struct backend_snapshot_list tmp = BACKEND_SNAPSHOT_LIST_INIT;
	struct strbuf dir = STRBUF_INIT, sv = STRBUF_INIT, p = STRBUF_INIT;
	struct strvec names = STRVEC_INIT;
	struct dirent *de;
	DIR *d;
	int r;

	btrfs_volume_dir(b->path, volname, &dir, &sv);
	strbuf_addf(&p, "%s/%s", dir.buf, sv.buf);
	r = is_subvolume(p.buf);
	if (r == 0)
		r = backend_fail(b, -ENOENT, "volume '%s' does not exist", p.buf);
	if (r < 0)
		goto out;
	d = opendir(dir.buf);
	if (!d) {
		r = backend_fail(b, -errno, "cannot open '%s': %s", dir.buf, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, sv.buf, sv.len) && de->d_name[sv.len] == '@' &&
		    backend_valid_snapname(de->d_name + sv.len + 1))
			strvec_push(&names, de->d_name + sv.len + 1);
	closedir(d);
	strvec_sort_uniq(&names);
	r = 0;
	for (size_t i = 0; i < names.nr && r == 0; i++) {
		struct btrfs_subvol_info info;

		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s@%s", dir.buf, sv.buf, names.v[i]);
		if (is_subvolume(p.buf) != 1)
			continue;
		r = show(b, p.buf, &info);
		/* a writable sibling is not a snapshot we made or received */
		if (r == 0 && info.readonly)
			backend_snapshot_list_add(&tmp, names.v[i],
						  *info.received_uuid ? info.received_uuid : info.uuid,
						  info.creation);
	}
	if (r == 0) {
		/* oldest first; names break ties so the order is stable */
		for (size_t i = 1; i < tmp.nr; i++)
			for (size_t j = i; j > 0 && tmp.v[j - 1].creation > tmp.v[j].creation; j--) {
				struct backend_snapshot t = tmp.v[j];

				tmp.v[j] = tmp.v[j - 1];
				tmp.v[j - 1] = t;
			}
		for (size_t i = 0; i < tmp.nr; i++)
			backend_snapshot_list_add(out, tmp.v[i].name, tmp.v[i].id, tmp.v[i].creation);
	}
out:
	backend_snapshot_list_clear(&tmp);
	strvec_clear(&names);
	strbuf_release(&dir);
	strbuf_release(&sv);
	strbuf_release(&p);
	return r;
}

static int btrfs_export_argv(struct backend *b, const char *volname, const char *snap,
			     const char *base, unsigned flags, struct strvec *argv)
{
	struct strbuf p = STRBUF_INIT;
	int r = backend_probe(b, NULL);

	if (r < 0)
		return r;
	btrfs_volume_path(b, volname, &p);
	btrfs_argv_send(argv, b->tool, &b->caps, p.buf, snap, base, flags);
	strbuf_release(&p);
	return 0;
}

/* Names in dir (NULL-terminated list in out). */
static int list_dir(const char *dir, struct strvec *out)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strvec_push(out, de->d_name);
	closedir(d);
	strvec_sort_uniq(out);
	return 0;
}

/* Read-only flag of the subvolume at path, changed in place: unlike
 * `btrfs property set ro false`, the ioctl keeps the received UUID (the
 * next incremental receive finds its parent by it). */
static int set_readonly(const char *path, int ro)
{
	uint64_t flags;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, BTRFS_IOC_SUBVOL_GETFLAGS, &flags) < 0) {
		r = -errno;
	} else {
		flags = ro ? flags | BTRFS_SUBVOL_RDONLY : flags & ~(uint64_t)BTRFS_SUBVOL_RDONLY;
		if (ioctl(fd, BTRFS_IOC_SUBVOL_SETFLAGS, &flags) < 0)
			r = -errno;
	}
	close(fd);
	return r;
}

/* Remove a staging directory and what is in it (subvolumes a receive
 * made, complete or not). Returns 0 or -errno (message set). */
static int staging_remove(struct backend *b, const char *staging)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf p = STRBUF_INIT;
	int r = list_dir(staging, &names);

	for (size_t i = 0; i < names.nr && r == 0; i++) {
		struct stat st;

		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", staging, names.v[i]);
		if (lstat(p.buf, &st) < 0)
			continue;
		/* nothing but subvolumes is made here: anything else is
		 * left in place (and the rmdir below reports it) */
		if (S_ISDIR(st.st_mode))
			r = delete_subvolume(b, p.buf);
	}
	if (r == 0 && rmdir(staging) < 0 && errno != ENOENT)
		r = backend_fail(b, -errno, "cannot remove '%s': %s", staging, strerror(errno));
	strvec_clear(&names);
	strbuf_release(&p);
	return r;
}

/* Remove what killed imports left in dir (a guest's images directory):
 * staging directories nobody holds the lock of, and with old_copies the
 * writable copy an import of an earlier version (or a rollback) prepared
 * next to the volume: only an import, which owns the volume, removes
 * those (they carry no lock). A staging directory in use (flock held by
 * its import, or by the receive still running after its import was
 * killed) is left alone. */
static int clean_stale(struct backend *b, const char *dir, int old_copies)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf p = STRBUF_INIT;
	int r = list_dir(dir, &names);

	if (r < 0) {
		strvec_clear(&names);
		return r == -ENOENT ? 0 : backend_fail(b, r, "cannot read '%s': %s", dir, strerror(-r));
	}
	for (size_t i = 0; i < names.nr && r == 0; i++) {
		int fd;

		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir, names.v[i]);
		if (!strncmp(names.v[i], IMPORT_TMP_PREFIX, strlen(IMPORT_TMP_PREFIX))) {
			if (old_copies && is_subvolume(p.buf) == 1)
				r = delete_subvolume(b, p.buf);
			continue;
		}
		if (strncmp(names.v[i], STAGING_PREFIX, strlen(STAGING_PREFIX)))
			continue;
		fd = open(p.buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			r = staging_remove(b, p.buf);
		close(fd);
	}
	strvec_clear(&names);
	strbuf_release(&p);
	return r;
}

/* Make a private staging directory <dir>/.volrep-recv-XXXXXX (mode 0700)
 * and lock it (flock on the directory, fd in *lockfd). A cleanup by a
 * concurrent import may take it between mkdtemp and flock: then it is
 * gone or not the one we made, and we try again. */
static int staging_create(struct backend *b, const char *dir, struct strbuf *path, int *lockfd)
{
	for (int tries = 0; tries < 5; tries++) {
		struct stat a, c;
		int fd;

		strbuf_reset(path);
		strbuf_addf(path, "%s/" STAGING_PREFIX "XXXXXX", dir);
		if (!mkdtemp(path->buf))
			return backend_fail(b, -errno, "cannot create '%s': %s", path->buf, strerror(errno));
		fd = open(path->buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &a) == 0 &&
		    lstat(path->buf, &c) == 0 && a.st_ino == c.st_ino && a.st_dev == c.st_dev) {
			*lockfd = fd;
			return 0;
		}
		close(fd);
	}
	return backend_fail(b, -EAGAIN, "cannot lock a staging directory in '%s'", dir);
}

static int clean_stale_of(struct backend *b, const char *volname, struct backend_snapshot_list *snaps,
			  int *listed)
{
	struct strbuf dir = STRBUF_INIT, sv = STRBUF_INIT;
	int r;

	/* the snapshots take a listing of their own here */
	(void)snaps;
	(void)listed;
	btrfs_volume_dir(b->path, volname, &dir, &sv);
	r = clean_stale(b, dir.buf, 0);
	strbuf_release(&dir);
	strbuf_release(&sv);
	return r;
}

/* One import's paths and what it did so far (what a failure undoes). */
struct import {
	struct strbuf dir;     /* the guest's images directory */
	struct strbuf sv;      /* the subvolume's name in it */
	struct strbuf vol;     /* <dir>/<sv> */
	struct strbuf target;  /* <vol>@<snap>, where the snapshot goes */
	struct strbuf staging; /* the private staging directory */
	struct strbuf got;     /* <staging>/<sv>@<snap>, what the receive made */
	struct strbuf tmp;     /* <staging>/new, the volume's next version */
	struct strbuf msg;     /* why it failed; empty: b->errmsg says it */
	int vol_exists, made_dir, lockfd, moved;
};

static void import_init(struct backend *b, struct import *im, const char *volname, const char *snap)
{
	struct strbuf *const sb[] = { &im->dir, &im->sv, &im->vol, &im->target,
				      &im->staging, &im->got, &im->tmp, &im->msg };

	for (size_t i = 0; i < sizeof(sb) / sizeof(sb[0]); i++)
		strbuf_init(sb[i], 0);
	im->vol_exists = im->made_dir = im->moved = 0;
	im->lockfd = -1;
	btrfs_volume_dir(b->path, volname, &im->dir, &im->sv);
	strbuf_addf(&im->vol, "%s/%s", im->dir.buf, im->sv.buf);
	strbuf_addf(&im->target, "%s@%s", im->vol.buf, snap);
}

static void import_release(struct import *im)
{
	struct strbuf *const sb[] = { &im->dir, &im->sv, &im->vol, &im->target,
				      &im->staging, &im->got, &im->tmp, &im->msg };

	if (im->lockfd >= 0)
		close(im->lockfd);
	for (size_t i = 0; i < sizeof(sb) / sizeof(sb[0]); i++)
		strbuf_release(sb[i]);
}

/* A full stream needs no volume yet, an incremental one its base; the
 * snapshot must be new. */
static int import_check(struct backend *b, struct import *im, const char *base)
{
	struct strbuf p = STRBUF_INIT;
	int r = 0;

	im->vol_exists = is_subvolume(im->vol.buf);
	if (im->vol_exists < 0)
		r = backend_fail(b, im->vol_exists, "'%s' is not a btrfs subvolume", im->vol.buf);
	else if (base) {
		strbuf_addf(&p, "%s@%s", im->vol.buf, base);
		if (is_subvolume(p.buf) != 1)
			r = backend_fail(b, -ENOENT, "base snapshot '%s' doesn't exist", p.buf);
	} else if (im->vol_exists)
		r = backend_fail(b, -EEXIST, "volume '%s' already exists", im->vol.buf);
	if (r == 0 && access(im->target.buf, F_OK) == 0)
		r = backend_fail(b, -EEXIST, "snapshot '%s' already exists", im->target.buf);
	strbuf_release(&p);
	return r;
}

/* The images directory (made if need be), cleaned of what killed imports
 * left, and a locked staging directory in it. */
static int import_prepare(struct backend *b, struct import *im, const char *snap)
{
	int r;

	if (access(im->dir.buf, F_OK) < 0) {
		r = mkdir_p(im->dir.buf, 0755);
		if (r < 0)
			return backend_fail(b, r, "cannot create '%s': %s", im->dir.buf, strerror(-r));
		im->made_dir = 1;
	}
	r = clean_stale(b, im->dir.buf, 1);
	if (r == 0)
		r = staging_create(b, im->dir.buf, &im->staging, &im->lockfd);
	if (r < 0)
		return r;
	strbuf_addf(&im->got, "%s/%s@%s", im->staging.buf, im->sv.buf, snap);
	strbuf_addf(&im->tmp, "%s/new", im->staging.buf);
	return 0;
}

/* `btrfs receive` into the staging directory. */
static int import_receive(struct backend *b, struct import *im, int in_fd)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	int r;

	btrfs_argv_receive(&argv, b->tool, &b->caps, im->staging.buf);
	/* the receive holds the staging lock too: it may outlive a killed
	 * import for as long as its input stays open */
	fcntl(im->lockfd, F_SETFD, 0);
	r = backend_run_stdin(b, &argv, in_fd, &err);
	fcntl(im->lockfd, F_SETFD, FD_CLOEXEC);
	if (r > 0) {
		const char *e = err.buf;

		/* drop btrfs-progs' "ERROR: " and the chroot notice */
		if (!strncmp(e, "Chroot to ", 10) && strchr(e, '\n'))
			e = strchr(e, '\n') + 1;
		if (!strncmp(e, "ERROR: ", 7))
			e += 7;
		backend_fail_tool(b, &argv, r, e);
		strbuf_addstr(&im->msg, b->errmsg.buf);
		r = -EIO;
	}
	strvec_clear(&argv);
	strbuf_release(&err);
	return r;
}

/* The stream is untrusted: exactly <subvol>@<snap>, read-only and
 * received, must have appeared. */
static int import_verify(struct backend *b, struct import *im)
{
	struct strvec now = STRVEC_INIT;
	struct btrfs_subvol_info info;
	int r = list_dir(im->staging.buf, &now);

	if (r == 0 && (now.nr != 1 || is_subvolume(im->got.buf) != 1 || show(b, im->got.buf, &info) < 0 ||
		       !info.readonly || !*info.received_uuid))
		r = -EIO;
	if (r < 0) {
		strbuf_addf(&im->msg, "stream did not contain snapshot '%s'", im->target.buf);
		r = -EIO;
	}
	strvec_clear(&now);
	return r;
}

/* The received snapshot moves next to the volume, read-only again. */
static int import_place_snapshot(struct import *im)
{
	/* a read-only subvolume cannot change its parent directory (its
	 * ".." is not writable): writable for the move only */
	int r = set_readonly(im->got.buf, 0);

	if (r == 0) {
		if (renameat2(AT_FDCWD, im->got.buf, AT_FDCWD, im->target.buf, RENAME_NOREPLACE) < 0)
			r = -errno;
		else
			im->moved = 1;
	}
	if (r == 0)
		r = set_readonly(im->target.buf, 1);
	if (r < 0)
		strbuf_addf(&im->msg, "cannot move '%s' to '%s': %s", im->got.buf, im->target.buf, strerror(-r));
	return r;
}

/* The volume becomes a writable copy of the received snapshot, swapped
 * in so that it is never missing; the previous one lands in staging. */
static int import_swap_volume(struct backend *b, struct import *im)
{
	struct strvec argv = STRVEC_INIT;
	int r;

	strvec_pushv(&argv, (const char *const[]){ b->tool, "subvolume", "snapshot", "--",
						   im->target.buf, im->tmp.buf, NULL });
	r = backend_run(b, &argv, NULL);
	strvec_clear(&argv);
	if (r < 0) {
		strbuf_addstr(&im->msg, b->errmsg.buf);
		return r;
	}
	r = renameat2(AT_FDCWD, im->tmp.buf, AT_FDCWD, im->vol.buf,
		      im->vol_exists ? RENAME_EXCHANGE : RENAME_NOREPLACE);
	if (r < 0) {
		r = -errno;
		strbuf_addf(&im->msg, "cannot move '%s' to '%s': %s", im->tmp.buf, im->vol.buf, strerror(-r));
	}
	return r;
}

/* A failed import removes what it made; returns r. */
static int import_undo(struct backend *b, struct import *im, int r)
{
	if (im->moved)
		delete_subvolume(b, im->target.buf);
	if (im->staging.len)
		staging_remove(b, im->staging.buf);
	if (im->made_dir)
		rmdir(im->dir.buf);
	return backend_fail(b, r, "cannot import '%s': %s", im->vol.buf, im->msg.len ? im->msg.buf : b->errmsg.buf);
}

/* Receive into a private staging directory, so that a killed receive
 * leaves nothing that looks like a volume or a snapshot (a partial
 * receive is a writable subvolume with the snapshot's name): exactly
 * <subvol>@<snap>, complete (read-only, received UUID), is moved into
 * place; the writable volume copy is prepared in the staging directory
 * too and exchanged with the volume. */
static int btrfs_import(struct backend *b, const char *volname, const char *snap,
			const char *base, unsigned flags, int in_fd)
{
	struct import im;
	int r;

	(void)flags; /* no resumable receives: backend.c refuses RESUME */

	r = backend_probe(b, NULL);
	if (r < 0)
		return r;
	import_init(b, &im, volname, snap);
	r = import_check(b, &im, base);
	if (r == 0)
		r = import_prepare(b, &im, snap);
	if (r < 0)
		goto out;
	r = import_receive(b, &im, in_fd);
	if (r == 0)
		r = import_verify(b, &im);
	if (r == 0)
		r = import_place_snapshot(&im);
	if (r == 0)
		r = import_swap_volume(b, &im);
	if (r < 0) {
		import_undo(b, &im, r);
		goto out;
	}
	/* the staging directory now holds the previous volume (or nothing) */
	if (staging_remove(b, im.staging.buf) < 0)
		r = backend_fail(b, -EIO, "imported '%s' but could not remove '%s': %s", im.target.buf,
				 im.staging.buf, b->errmsg.buf);
out:
	import_release(&im);
	return r;
}

/* The snapshots (<subvol>@*) first, read-only or not, then the volume. */
static int btrfs_destroy_volume(struct backend *b, const char *volname)
{
	struct strbuf dir = STRBUF_INIT, sv = STRBUF_INIT, p = STRBUF_INIT;
	struct strvec names = STRVEC_INIT;
	int r;

	btrfs_volume_dir(b->path, volname, &dir, &sv);
	strbuf_addf(&p, "%s/%s", dir.buf, sv.buf);
	r = require_subvolume(b, p.buf, "volume");
	if (r < 0)
		goto out;
	r = list_dir(dir.buf, &names);
	if (r < 0) {
		backend_fail(b, r, "cannot open '%s': %s", dir.buf, strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < names.nr && r == 0; i++) {
		if (strncmp(names.v[i], sv.buf, sv.len) || names.v[i][sv.len] != '@')
			continue;
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir.buf, names.v[i]);
		if (is_subvolume(p.buf) == 1)
			r = delete_subvolume(b, p.buf);
	}
	if (r == 0) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir.buf, sv.buf);
		r = delete_subvolume(b, p.buf);
	}
out:
	strvec_clear(&names);
	strbuf_release(&dir);
	strbuf_release(&sv);
	strbuf_release(&p);
	return r;
}

/* A writable snapshot of <subvol>@<snap> is prepared next to the volume
 * and exchanged with it, as an import does, so the volume is never
 * missing; then the previous data goes. */
static int btrfs_rollback(struct backend *b, const char *volname, const char *snap)
{
	struct strbuf dir = STRBUF_INIT, sv = STRBUF_INIT, vol = STRBUF_INIT, src = STRBUF_INIT, tmp = STRBUF_INIT;
	struct strvec argv = STRVEC_INIT;
	int r;

	btrfs_volume_dir(b->path, volname, &dir, &sv);
	strbuf_addf(&vol, "%s/%s", dir.buf, sv.buf);
	strbuf_addf(&src, "%s@%s", vol.buf, snap);
	strbuf_addf(&tmp, "%s/" IMPORT_TMP_PREFIX "%s", dir.buf, sv.buf);
	r = require_subvolume(b, vol.buf, "volume");
	if (r < 0)
		goto out;
	r = require_subvolume(b, src.buf, "snapshot");
	if (r < 0)
		goto out;
	if (is_subvolume(tmp.buf) == 1 && (r = delete_subvolume(b, tmp.buf)) < 0)
		goto out;
	strvec_pushv(&argv, (const char *const[]){ b->tool, "subvolume", "snapshot", "--", src.buf, tmp.buf, NULL });
	r = backend_run(b, &argv, NULL);
	if (r < 0)
		goto out;
	if (renameat2(AT_FDCWD, tmp.buf, AT_FDCWD, vol.buf, RENAME_EXCHANGE) < 0) {
		r = backend_fail(b, -errno, "cannot move '%s' to '%s': %s", tmp.buf, vol.buf, strerror(errno));
		delete_subvolume(b, tmp.buf);
		goto out;
	}
	r = delete_subvolume(b, tmp.buf);
	if (r < 0)
		r = backend_fail(b, -EIO, "rolled back '%s' but could not delete the previous copy '%s': %s", vol.buf,
				 tmp.buf, b->errmsg.buf);
out:
	strvec_clear(&argv);
	strbuf_release(&dir);
	strbuf_release(&sv);
	strbuf_release(&vol);
	strbuf_release(&src);
	strbuf_release(&tmp);
	return r;
}

/* Sum st_blocks below the directory dirfd (which is closed), staying on
 * dev; *left counts down the entries still allowed. */
static int allocated_below(int dfd, dev_t dev, int depth, size_t *left, uint64_t *sum)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		r = -errno;
		close(dfd);
		return r;
	}
	while (r == 0 && (errno = 0, de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!*left) {
			r = -E2BIG;
			break;
		}
		(*left)--;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		/* a nested subvolume (its own st_dev) is not part of the
		 * snapshot's stream */
		if (st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int fd;

			if (!depth) {
				r = -E2BIG;
				break;
			}
			fd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				r = -errno;
				break;
			}
			r = allocated_below(fd, dev, depth - 1, left, sum);
		} else {
			*sum += (uint64_t)st.st_blocks * 512;
		}
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	return r;
}

int btrfs_allocated_size(const char *path, size_t max_entries, uint64_t *bytes)
{
	struct stat st;
	uint64_t sum = 0;
	size_t left = max_entries;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = allocated_below(fd, st.st_dev, BTRFS_ESTIMATE_MAX_DEPTH, &left, &sum);
	if (r == 0)
		*bytes = sum;
	return r;
}

static int btrfs_estimate_send_size(struct backend *b, const char *volname, const char *snap,
				    const char *base, uint64_t *bytes)
{
	struct strbuf p = STRBUF_INIT;
	int r;

	btrfs_volume_path(b, volname, &p);
	if (base) {
		/* what changed since base is known only to the send itself */
		r = backend_fail(b, -ENOTSUP, "no size estimate for an incremental stream of '%s'", p.buf);
		goto out;
	}
	strbuf_addf(&p, "@%s", snap);
	r = require_subvolume(b, p.buf, "snapshot");
	if (r < 0)
		goto out;
	r = btrfs_allocated_size(p.buf, BTRFS_ESTIMATE_MAX_ENTRIES, bytes);
	if (r == -E2BIG)
		r = backend_fail(b, -ENOTSUP, "'%s' has too many entries for a size estimate", p.buf);
	else if (r < 0)
		backend_fail(b, r, "cannot read '%s': %s", p.buf, strerror(-r));
out:
	strbuf_release(&p);
	return r;
}

static int btrfs_free_space(struct backend *b, uint64_t *bytes)
{
	struct statvfs sv;

	if (statvfs(b->path, &sv) < 0)
		return backend_fail(b, -errno, "cannot stat '%s': %s", b->path, strerror(errno));
	*bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return 0;
}

const struct backend_ops backend_btrfs_ops = {
	.type_name = "btrfs",
	.probe = btrfs_probe,
	.list_volumes = btrfs_list_volumes,
	.volume_path = btrfs_volume_path,
	.volume_exists = btrfs_volume_exists,
	.snapshot = btrfs_snapshot,
	.delete_snapshot = btrfs_delete_snapshot,
	.list_snapshots = btrfs_list_snapshots,
	.export_argv = btrfs_export_argv,
	.import = btrfs_import,
	.free_space = btrfs_free_space,
	.destroy_volume = btrfs_destroy_volume,
	.rollback = btrfs_rollback,
	.estimate_send_size = btrfs_estimate_send_size,
	.clean_stale = clean_stale_of,
};
