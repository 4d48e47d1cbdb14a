#include "exec/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "exec/ratelimit.h"

struct relay_state {
	const struct relay_opts *o;
	int64_t start, last_report;
	uint64_t bytes;
};

void relay_report(const struct relay_opts *o, int64_t start, int64_t *last, uint64_t bytes, int done)
{
	struct relay_progress p;
	int64_t now = mono_ns();

	if (!o->progress)
		return;
	if (!done && (double)(now - *last) < o->interval * 1e9)
		return;
	*last = now;
	p.bytes = bytes;
	p.total = o->total;
	p.elapsed = (double)(now - start) / 1e9;
	p.rate = p.elapsed > 0 ? (double)bytes / p.elapsed : 0;
	p.eta = -1;
	if (p.total && p.rate > 0)
		p.eta = p.total > p.bytes ? (double)(p.total - p.bytes) / p.rate : 0;
	p.done = done;
	o->progress(&p, o->data);
}

static void report(struct relay_state *s, int done)
{
	relay_report(s->o, s->start, &s->last_report, s->bytes, done);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int is_pipe(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* Returns 1 when done (EOF), 0 when splice is not usable here (nothing
 * was moved yet), or -errno. */
static int splice_loop(int in, int out, struct relay_state *s)
{
	for (;;) {
		ssize_t n = splice(in, NULL, out, NULL, 1 << 20, SPLICE_F_MOVE | SPLICE_F_MORE);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EINVAL || errno == ENOSYS) && !s->bytes)
				return 0;
			return -errno;
		}
		if (n == 0)
			return 1;
		s->bytes += (uint64_t)n;
		report(s, 0);
	}
}

/* The pipe's capacity: a whole data frame's payload at once (best
 * effort: the kernel may refuse it, then frames are just smaller). */
#define RELAY_PIPE_SIZE (256 * 1024)

static int relay_pipe_open(struct relay_pipe *p)
{
	int fds[2];

	if (p->rd >= 0)
		return 0;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	fcntl(fds[1], F_SETPIPE_SZ, RELAY_PIPE_SIZE);
	p->rd = fds[0];
	p->wr = fds[1];
	p->fill = 0;
	return 0;
}

void relay_pipe_close(struct relay_pipe *p)
{
	if (p->rd >= 0)
		close(p->rd);
	if (p->wr >= 0)
		close(p->wr);
	p->rd = p->wr = -1;
	p->fill = 0;
}

ssize_t relay_pipe_fill(struct relay_pipe *p, int in, size_t max)
{
	ssize_t n;
	int r = relay_pipe_open(p);

	if (r < 0)
		return r;
	n = splice(in, NULL, p->wr, NULL, max, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	p->fill += (size_t)n;
	p->used |= n > 0;
	return n;
}

ssize_t relay_pipe_drain(struct relay_pipe *p, int out, size_t max)
{
	ssize_t n;

	if (max > p->fill)
		max = p->fill;
	n = splice(p->rd, NULL, out, NULL, max, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	p->fill -= (size_t)n;
	return n;
}

ssize_t relay_pipe_read(struct relay_pipe *p, void *buf, size_t max)
{
	ssize_t n;

	if (max > p->fill)
		max = p->fill;
	n = read(p->rd, buf, max);
	if (n < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	p->fill -= (size_t)n;
	return n;
}

int relay_copy(int in, int out, const struct relay_opts *o, struct relay_stats *stats)
{
	struct relay_state s = { .o = o, .bytes = 0 };
	struct ratelimit rl;
	char *buf = NULL;
	size_t chunk;
	int r = 0, spliced = 0;

	s.start = s.last_report = mono_ns();
	ratelimit_init(&rl, o->rate, RELAY_BUFSIZE);
	if (!o->rate && !o->no_splice && is_pipe(in) && is_pipe(out)) {
		r = splice_loop(in, out, &s);
		if (r != 0) {
			spliced = 1;
			r = r < 0 ? r : 0;
			goto out;
		}
	}
	buf = xmalloc(RELAY_BUFSIZE);
	chunk = ratelimit_chunk(&rl, RELAY_BUFSIZE);
	for (;;) {
		ssize_t n = read(in, buf, chunk);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		r = write_all(out, buf, (size_t)n);
		if (r < 0)
			break;
		s.bytes += (uint64_t)n;
		ratelimit_account(&rl, (uint64_t)n);
		report(&s, 0);
	}
out:
	free(buf);
	if (r == 0)
		report(&s, 1);
	if (stats) {
		stats->bytes = s.bytes;
		stats->elapsed = (double)(mono_ns() - s.start) / 1e9;
		stats->slept = (double)rl.slept_ns / 1e9;
		stats->spliced = spliced;
		stats->wire = s.bytes;
	}
	return r;
}

/* Returns 1 when bytes arrived, 0 when none (EOF too), or -errno. */
static int side_read(struct relay_side *sd, char *buf, size_t size)
{
	ssize_t n = read(sd->fd, buf, size);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		close(sd->fd);
		sd->fd = -1;
		return n < 0 ? -errno : 0;
	}
	if (sd->buf) {
		size_t room = sd->max > sd->buf->len ? sd->max - sd->buf->len : 0;

		if ((size_t)n > room)
			sd->overflow = 1;
		strbuf_add(sd->buf, buf, (size_t)n < room ? (size_t)n : room);
	}
	return 1;
}

/* With o->enc: collect a full chunk of the stream in raw (a chunk per
 * read would compress badly), then encode it into wbuf. */
struct pump_enc {
	uint8_t *raw, *wbuf;
	size_t raw_have;
	size_t pending_raw; /* stream bytes that the frame in wbuf carries */
	int finished;       /* the end frame is in wbuf (or written) */
};

struct pump {
	const struct relay_opts *o;
	struct relay_state s;
	struct ratelimit rl;
	int in, out, in_eof;
	char *buf;           /* the chunk read (with o->enc: collected) */
	const char *wbuf;    /* what goes out: buf, or pe.wbuf */
	struct pump_enc pe;
	size_t chunk, have, off;
	uint64_t wire;
	int64_t last_io, stall_ns;
	struct relay_side *sides;
	size_t nsides;
	/* uncompressed: the chunk goes through sp with splice (have - off
	 * bytes in it) while in and out take it */
	struct relay_pipe sp;
	int splice;
};

/* With o->enc and nothing left to write: a full chunk, or the rest at
 * EOF, then the end frame. */
static void pump_encode(struct pump *p)
{
	const struct relay_opts *o = p->o;
	struct pump_enc *pe = &p->pe;

	if (!o->enc || p->out < 0 || p->have != p->off)
		return;
	if (pe->raw_have == RELAY_BUFSIZE || (p->in_eof && pe->raw_have)) {
		p->have = wire_enc_chunk(o->enc, pe->raw, pe->raw_have, pe->wbuf);
		pe->pending_raw = pe->raw_have;
		pe->raw_have = 0;
		p->off = 0;
	} else if (p->in_eof && !pe->finished) {
		p->have = wire_enc_finish(o->enc, pe->wbuf);
		pe->pending_raw = 0;
		pe->finished = 1;
		p->off = 0;
	}
}

static void pump_close_out(struct pump *p)
{
	close(p->out);
	p->out = -1;
}

/* The next chunk spliced into sp: as read(2), or -2 when in cannot be
 * spliced (nothing was taken: read it). */
static ssize_t pump_splice_in(struct pump *p)
{
	ssize_t n = relay_pipe_fill(&p->sp, p->in, p->chunk);

	if (n == -EINVAL || n == -ENOSYS) {
		relay_pipe_close(&p->sp);
		p->splice = 0;
		return -2;
	}
	if (n < 0) {
		errno = (int)-n;
		return -1;
	}
	return n;
}

/* 0, or -errno of the stream's read (out is closed then). */
static int pump_read(struct pump *p)
{
	ssize_t n = p->splice ? pump_splice_in(p) : -2;

	if (n == -2)
		n = p->o->enc ? read(p->in, p->buf + p->pe.raw_have, RELAY_BUFSIZE - p->pe.raw_have)
			      : read(p->in, p->buf, p->chunk);
	if (n < 0 && errno != EINTR && errno != EAGAIN) {
		int r = -errno;

		pump_close_out(p);
		return r;
	}
	if (n == 0) {
		p->in_eof = 1;
	} else if (n > 0 && p->o->enc) {
		p->pe.raw_have += (size_t)n;
		p->last_io = mono_ns();
	} else if (n > 0) {
		p->have = (size_t)n;
		p->off = 0;
		p->last_io = mono_ns();
	}
	return 0;
}

/* What sp holds goes to buf (out refuses splice). */
static void pump_unsplice(struct pump *p)
{
	size_t got = 0;

	while (p->sp.fill) {
		ssize_t n = relay_pipe_read(&p->sp, p->buf + got, p->sp.fill);

		if (n < 0 && n != -EAGAIN)
			break;
		if (n > 0)
			got += (size_t)n;
	}
	relay_pipe_close(&p->sp);
	p->splice = 0;
	p->have = got;
	p->off = 0;
}

/* The queued bytes to out: as write(2). */
static ssize_t pump_out(struct pump *p)
{
	ssize_t n;

	if (!p->sp.fill)
		return write(p->out, p->wbuf + p->off, p->have - p->off);
	n = relay_pipe_drain(&p->sp, p->out, p->sp.fill);
	if (n == -EINVAL || n == -ENOSYS) {
		pump_unsplice(p);
		return write(p->out, p->wbuf + p->off, p->have - p->off);
	}
	if (n < 0) {
		errno = (int)-n;
		return -1;
	}
	return n;
}

/* 0, or -errno of the write (out is closed then). */
static int pump_write(struct pump *p)
{
	ssize_t n = pump_out(p);

	if (n < 0 && errno != EINTR && errno != EAGAIN) {
		int r = -errno;

		pump_close_out(p);
		return r;
	}
	if (n <= 0)
		return 0;
	p->off += (size_t)n;
	p->wire += (uint64_t)n;
	if (!p->o->enc)
		p->s.bytes += (uint64_t)n;
	p->last_io = mono_ns();
	if (p->off == p->have) {
		/* account per chunk: a sleep here leaves the sides waiting
		 * for at most about 1/16 s */
		ratelimit_account(&p->rl, p->have);
		p->have = p->off = 0;
		p->s.bytes += p->pe.pending_raw;
		p->pe.pending_raw = 0;
	}
	report(&p->s, 0);
	return 0;
}

/* poll's timeout: the abort flag's period, the stall bound; -ETIMEDOUT
 * when neither side moved for that long: the export hangs, or the
 * receiver stopped reading (a stopped import, a hung target behind a
 * live ssh connection). */
static int pump_timeout(const struct pump *p, int *timeout)
{
	*timeout = p->o->abort_flag ? RELAY_ABORT_POLL_MS : -1;
	if (p->stall_ns > 0) {
		int64_t left = p->last_io + p->stall_ns - mono_ns();

		if (left <= 0)
			return -ETIMEDOUT;
		if (*timeout < 0 || left / 1000000 < *timeout)
			*timeout = (int)(left / 1000000) + 1;
	}
	return 0;
}

/* One round: 1 to go on, 0 when done, < 0 to stop at once (abort,
 * stall, poll failure). *r keeps the copy's error. */
static int pump_step(struct pump *p, int *r)
{
	const struct relay_opts *o = p->o;
	struct pollfd pfd[2 + 4];
	int active = 0, timeout, e;

	if (o->abort_flag && *o->abort_flag)
		return -EINTR;
	pump_encode(p);
	pfd[0] = (struct pollfd){ .fd = p->out >= 0 && !p->in_eof && p->have == p->off ? p->in : -1, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = p->out >= 0 && p->have > p->off ? p->out : -1, .events = POLLOUT };
	for (size_t i = 0; i < p->nsides; i++) {
		pfd[2 + i] = (struct pollfd){ .fd = p->sides[i].fd, .events = POLLIN };
		active |= p->sides[i].fd >= 0;
	}
	if (p->out >= 0 && p->in_eof && p->have == p->off && (!o->enc || p->pe.finished)) {
		pump_close_out(p);
		report(&p->s, 1);
	}
	if (p->out < 0 && !active)
		return 0;
	e = pump_timeout(p, &timeout);
	if (e < 0)
		return e;
	if (poll(pfd, 2 + p->nsides, timeout) < 0)
		return errno == EINTR ? 1 : -errno;
	if (pfd[0].fd >= 0 && pfd[0].revents && (e = pump_read(p)) < 0)
		*r = e;
	if (pfd[1].fd >= 0 && pfd[1].revents && (e = pump_write(p)) < 0)
		*r = e;
	for (size_t i = 0; i < p->nsides; i++) {
		char side_buf[4096];

		if (p->sides[i].fd >= 0 && pfd[2 + i].revents &&
		    side_read(&p->sides[i], side_buf, sizeof(side_buf)) > 0)
			p->last_io = mono_ns();
	}
	return 1;
}

int relay_pump(int in, int out, const struct relay_opts *o, struct relay_side *sides,
	       size_t nsides, struct relay_stats *stats)
{
	struct pump p = { .o = o, .s = { .o = o, .bytes = 0 }, .in = in, .out = out, .sides = sides,
			  .nsides = nsides > 4 ? 4 : nsides, .sp = RELAY_PIPE_INIT, .splice = !o->enc && !o->no_splice };
	int r = 0, step;

	p.buf = xmalloc(RELAY_BUFSIZE);
	p.wbuf = p.buf;
	p.last_io = p.s.start = p.s.last_report = mono_ns();
	p.stall_ns = (int64_t)o->stall_timeout_ms * 1000000;
	ratelimit_init(&p.rl, o->rate, RELAY_BUFSIZE);
	p.chunk = ratelimit_chunk(&p.rl, RELAY_BUFSIZE);
	if (o->enc) {
		p.pe.raw = (uint8_t *)p.buf;
		p.pe.wbuf = xmalloc(wire_enc_bound(RELAY_BUFSIZE));
		p.wbuf = (const char *)p.pe.wbuf;
		/* fewer, fuller reads (best effort: not a pipe, or no room) */
		fcntl(in, F_SETPIPE_SZ, 1 << 20);
	}
	fcntl(out, F_SETFL, fcntl(out, F_GETFL) | O_NONBLOCK);
	while ((step = pump_step(&p, &r)) > 0)
		;
	if (step < 0)
		r = step;
	relay_pipe_close(&p.sp);
	free(p.buf);
	free(p.pe.wbuf);
	if (p.out >= 0)
		close(p.out);
	for (size_t i = 0; i < p.nsides; i++)
		if (sides[i].fd >= 0) {
			close(sides[i].fd);
			sides[i].fd = -1;
		}
	if (stats) {
		stats->bytes = p.s.bytes;
		stats->wire = p.wire;
		stats->elapsed = (double)(mono_ns() - p.s.start) / 1e9;
		stats->slept = (double)p.rl.slept_ns / 1e9;
		stats->spliced = p.sp.used;
	}
	return r;
}
