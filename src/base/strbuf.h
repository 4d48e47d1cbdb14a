/* Growable string buffer (after git's strbuf).
 *
 * Invariants: buf is never NULL and always NUL-terminated, so it can be
 * passed to any C string function; len excludes the terminator. Use
 * strbuf_detach() to take ownership of the memory. */
#ifndef VOLREP_BASE_STRBUF_H
#define VOLREP_BASE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { .buf = strbuf_slopbuf, .len = 0, .alloc = 0 }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
static inline void strbuf_reset(struct strbuf *sb) { strbuf_setlen(sb, 0); }

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Remove trailing whitespace (space, tab, CR, LF). */
void strbuf_rtrim(struct strbuf *sb);

/* Append everything readable from fd until EOF. Fails with -EFBIG (and
 * keeps what was read) when more than max bytes arrive, so a hostile or
 * runaway producer cannot exhaust memory. Returns bytes read or -errno. */
ssize_t strbuf_read_fd(struct strbuf *sb, int fd, size_t max);
/* Read a whole file (at most max bytes). Only a regular file is read: a
 * FIFO or device there gives -VOLREP_ENOTREG (base/fileio.h) at once
 * instead of blocking. Returns 0, -ENOENT, -EFBIG, ... */
int strbuf_read_file(struct strbuf *sb, const char *path, size_t max);

#endif
