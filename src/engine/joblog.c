#include "engine/joblog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/sanitize.h"
#include "base/strbuf.h"
#include "base/time-util.h"

void joblog_run_path(struct strbuf *sb, const char *log_dir, const char *jobid, unsigned k)
{
	strbuf_addf(sb, "%s/%s", log_dir, jobid);
	if (k)
		strbuf_addf(sb, ".%u", k);
}

/* One name of the rotation into sb, replacing what it held. */
static void set_run_path(struct strbuf *sb, const char *log_dir, const char *jobid, unsigned k)
{
	strbuf_reset(sb);
	joblog_run_path(sb, log_dir, jobid, k);
}

void joblog_rotate(const char *log_dir, const char *jobid, unsigned keep)
{
	struct strbuf from = STRBUF_INIT, to = STRBUF_INIT;

	/* a lowered log-keep: drop what is beyond it */
	for (unsigned k = keep + 1; k <= 1000; k++) {
		set_run_path(&from, log_dir, jobid, k);
		if (unlink(from.buf) < 0)
			break;
	}
	for (unsigned k = keep; k > 0; k--) {
		set_run_path(&from, log_dir, jobid, k - 1);
		set_run_path(&to, log_dir, jobid, k);
		/* rename replaces the oldest; a missing one is no error */
		rename(from.buf, to.buf);
	}
	strbuf_release(&from);
	strbuf_release(&to);
}

/* The log file at path, opened for writing and truncated. */
static int open_log_file(const char *path, FILE **f)
{
	/* a symlink planted as the log would truncate its target, a FIFO
	 * hang the run: a regular file only, truncated once it is open */
	int r, fd = open_regular(path, O_WRONLY | O_CREAT, 0644, 1);

	if (fd < 0)
		return fd;
	if (ftruncate(fd, 0) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*f = fdopen(fd, "w");
	if (!*f) {
		r = -errno;
		close(fd);
		return r;
	}
	return 0;
}

int joblog_open(struct joblog *jl, const char *log_dir, const char *jobid, FILE *echo)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	memset(jl, 0, sizeof(*jl));
	snprintf(jl->jobid, sizeof(jl->jobid), "%s", jobid);
	jl->echo = echo;
	r = mkdir_p(log_dir, 0755);
	if (r < 0)
		return r;
	joblog_run_path(&path, log_dir, jobid, 0);
	r = open_log_file(path.buf, &jl->f);
	strbuf_release(&path);
	return r;
}

/* Messages carry remote and file text (a target's stderr, names from
 * a stream): sanitized here, the one way into a job log. */
static void emit_line(struct joblog *jl, const char *stamp, const char *line, size_t len)
{
	struct strbuf clean = STRBUF_INIT;

	strbuf_add_sanitized(&clean, line, len, 0);
	if (jl->f) {
		fprintf(jl->f, "%s %s: %s\n", stamp, jl->jobid, clean.buf);
		fflush(jl->f);
	}
	if (jl->echo) {
		fprintf(jl->echo, "%s %s: %s\n", stamp, jl->jobid, clean.buf);
		fflush(jl->echo);
	}
	strbuf_release(&clean);
}

void joblog_printf(struct joblog *jl, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	char stamp[32];
	const char *p;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strbuf_rtrim(&sb);
	/* the real clock: log lines tell when things happened, even when a
	 * test moves the scheduler's "now" with VOLREP_NOW */
	format_time(stamp, sizeof(stamp), (int64_t)time(NULL));
	p = sb.buf;
	do {
		size_t n = strcspn(p, "\n");

		emit_line(jl, stamp, p, n);
		p += n;
		if (*p == '\n')
			p++;
	} while (*p);
	strbuf_release(&sb);
}

void joblog_close(struct joblog *jl)
{
	if (jl->f)
		fclose(jl->f);
	jl->f = NULL;
}
