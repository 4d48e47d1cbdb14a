#include "base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "base/time-util.h"

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_parent_dir(const char *path)
{
	struct strbuf dir = STRBUF_INIT;
	const char *slash = strrchr(path, '/');
	int fd, r = 0;

	if (slash == path)
		strbuf_addstr(&dir, "/");
	else if (slash)
		strbuf_add(&dir, path, (size_t)(slash - path));
	else
		strbuf_addstr(&dir, ".");
	fd = open(dir.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		r = -errno;
	else if (fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	strbuf_release(&dir);
	return r;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_file_atomic_flags(path, data, len, mode, 0);
}

int write_file_atomic_flags(const char *path, const void *data, size_t len, mode_t mode, unsigned flags)
{
	struct strbuf tmp = STRBUF_INIT;
	int fd, r;

	strbuf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	/* a leftover from a crashed process with our pid: it is ours to drop */
	unlink(tmp.buf);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = write_all(fd, data, len);
	if (!r && !(flags & WFA_NO_META) && fchmod(fd, mode) < 0)
		r = -errno;
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp.buf, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp.buf);
	else if (!(flags & WFA_NO_META))
		r = fsync_parent_dir(path);
out:
	strbuf_release(&tmp);
	return r;
}

int mkdir_p(const char *path, mode_t mode)
{
	struct strbuf sb = STRBUF_INIT;
	int r = 0;

	strbuf_addstr(&sb, path);
	for (size_t i = 1; i <= sb.len; i++) {
		if (sb.buf[i] != '/' && sb.buf[i] != '\0')
			continue;
		char c = sb.buf[i];
		sb.buf[i] = '\0';
		if (mkdir(sb.buf, mode) < 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
		sb.buf[i] = c;
	}
	strbuf_release(&sb);
	return r;
}

const char *file_strerror(int r)
{
	int e = r < 0 ? -r : r;

	if (e == VOLREP_ENOTREG)
		return "not a regular file";
	if (e == ELOOP)
		return "is a symbolic link";
	return strerror(e);
}

int open_regular(const char *path, int flags, mode_t mode, int nofollow)
{
	struct stat st;
	int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0), mode);

	if (fd < 0)
		/* ENXIO: a FIFO without a reader, opened for writing */
		return errno == ENXIO ? -VOLREP_ENOTREG : -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -VOLREP_ENOTREG;
	}
	if (!(flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int check_private_dir(const char *path, const char *what, struct strbuf *err)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		int r = -errno;

		strbuf_addf(err, "cannot use %s '%s': %s", what, path, strerror(-r));
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		strbuf_addf(err, "%s '%s' is not a directory", what, path);
		return -ENOTDIR;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		strbuf_addf(err, "%s '%s' is owned by uid %u - must be root's or the current user's", what, path,
			    (unsigned)st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		strbuf_addf(err, "%s '%s' is writable by group or others (mode %04o) - must not be", what, path,
			    (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int lock_acquire(struct lock *lk, const char *path, long timeout_ms)
{
	int64_t start;
	int fd;

	/* the lock file is in a directory of ours: a symlink or a FIFO
	 * there was planted, and following it would create or lock a file
	 * elsewhere */
	fd = open_regular(path, O_RDWR | O_CREAT, 0600, 1);
	if (fd < 0)
		return fd;
	start = mono_ms();
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int r = -errno;
			close(fd);
			return r;
		}
		if (timeout_ms >= 0 && mono_ms() - start >= timeout_ms) {
			close(fd);
			return -ETIMEDOUT;
		}
		/* polling at 10ms keeps waiters fair enough without a wakeup fd */
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	lk->fd = fd;
	return 0;
}

void lock_release(struct lock *lk)
{
	if (lk->fd >= 0) {
		flock(lk->fd, LOCK_UN);
		close(lk->fd);
	}
	lk->fd = -1;
}
