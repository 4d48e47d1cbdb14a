/* Files that matter: atomic replacement and advisory locks.
 *
 * write_file_atomic() gives the guarantee every file that matters needs: after a crash
 * at any instant the file holds either the old or the new content, never a
 * mix. Locks are flock(2) on a separate "<name>.lck" file, so they vanish
 * with the process that held them (kill -9 never leaves a stale lock). */
#ifndef VOLREP_BASE_FILEIO_H
#define VOLREP_BASE_FILEIO_H

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/strbuf.h"

/* A file that must be a regular one is not (a FIFO would block the
 * reader, a device never end, a directory is a mistake): the error code
 * of open_regular() and strbuf_read_file(). */
#define VOLREP_ENOTREG EBADFD

/* strerror() of r or -r, in plain words for the codes of the checks
 * here: VOLREP_ENOTREG "not a regular file", ELOOP (from O_NOFOLLOW)
 * "is a symbolic link". */
const char *file_strerror(int r);

/* open(2) for files that matter: never blocks on a FIFO (O_NONBLOCK,
 * cleared again afterwards), with nofollow a symlink as the last
 * component is refused (-ELOOP), and anything but a regular file is
 * refused (-VOLREP_ENOTREG). O_CLOEXEC always. Returns the fd or
 * -errno. */
int open_regular(const char *path, int flags, mode_t mode, int nofollow);

/* A directory volrep keeps state, locks or logs in must not let others
 * plant files (symlinks, FIFOs) in it: it must be a directory owned by
 * root or the effective user and not writable by group or others.
 * Returns 0, or -EPERM / -ENOTDIR / -errno with one line naming the
 * problem appended to err (what: "state directory", "log directory"). */
int check_private_dir(const char *path, const char *what, struct strbuf *err);

/* Write to "<path>.tmp.<pid>" (O_EXCL), fsync, rename over path, fsync the
 * directory. Returns 0 or -errno; on failure path is untouched. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* write_file_atomic with flags: WFA_NO_META for pmxcfs (as PVE's own
 * file_set_contents): no fchmod (it refuses modes it does not support),
 * no fsync of the directory. */
#define WFA_NO_META 0x1u
int write_file_atomic_flags(const char *path, const void *data, size_t len, mode_t mode, unsigned flags);

/* mkdir -p. Returns 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);

struct lock {
	int fd;
};
#define LOCK_INIT { .fd = -1 }

/* Take an exclusive flock on path (created 0600 if missing; a symlink or
 * a non-regular file there is refused: open_regular), waiting up to
 * timeout_ms (0 = try once, < 0 = forever). Returns 0, -ETIMEDOUT or
 * -errno. */
int lock_acquire(struct lock *lk, const char *path, long timeout_ms);
void lock_release(struct lock *lk);

#endif
