/* Files that matter: atomic replacement and advisory locks.
 *
 * write_file_atomic() gives the guarantee DESIGN.md asks for: after a crash
 * at any instant the file holds either the old or the new content, never a
 * mix. Locks are flock(2) on a separate "<name>.lck" file, so they vanish
 * with the process that held them (kill -9 never leaves a stale lock). */
#ifndef VOLREP_BASE_FILEIO_H
#define VOLREP_BASE_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write to "<path>.tmp.<pid>" (O_EXCL), fsync, rename over path, fsync the
 * directory. Returns 0 or -errno; on failure path is untouched. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* mkdir -p. Returns 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);

struct lock {
	int fd;
};
#define LOCK_INIT { .fd = -1 }

/* Take an exclusive flock on path (created 0600 if missing), waiting up to
 * timeout_ms (0 = try once, < 0 = forever). Returns 0, -ETIMEDOUT or
 * -errno. */
int lock_acquire(struct lock *lk, const char *path, long timeout_ms);
void lock_release(struct lock *lk);

#endif
